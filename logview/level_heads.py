"""Records of a template that opens with a level name, found by their heads (the direct scan).

A template without a time (``%(levelname)s:%(name)s:%(message)s``) writes its level at the
very start of each record (``VocabularyHead``). For a query about levels, looking at every
``ERROR`` in the bytes and walking lines around it with the start test (the generic needle
path of ``scan_ranges``) costs three passes over the bytes and a dozen Python calls a hit.
Here one search finds the lines that open with a byte an admitted head may open with (a
newline and a byte class: trying a prefix tree of the names at every line was most of the
time of this pass), and at each of them one regex asks for the prefix tree of the admitted
names, then the format's own start pattern (the index's test for a line without
escape bytes). A match that stays within its line is what the pattern says of the line
alone; one that read past the line's end is asked again on the line. The record runs to the next line that starts one
(the same pattern behind a prefix tree of every name). A pattern that reads a line's ends
(``^``, ``$``, ``\\A``, ``\\Z``) is not used this way.

When the start pattern can never match a newline (``_may_read_newline``: no class, literal or
lookaround of it holds one; basicConfig's does not), what it says within the buffer is what
it says of each line alone, so one search finds whole records (``_record_spans``): the
newline before a head, the head's first byte (one step for most lines), the admitted names
and the start pattern, then the lines that do not start a record; a match per record, no
Python step and regex call per line or head (basicConfig ``level>=ERROR``: 9 % less CPU).
The head's first byte is consumed and the names and the pattern are asked from a lookbehind
of that one byte (a lookahead right after the newline cost every line a step more), and the
start pattern's alternation of 87 names is read as their prefix tree (``_with_name_trie``):
12 % fewer instructions a 4 MB range than the lookahead and the alternation (callgrind).
The search stops at every newline (``re`` calls its matcher there, some 200 instructions
a line): the search for the byte class alone costs 75 % of the whole.

A line that opens with an admitted name but is no record start (``ERROR: x y`` inside a
message) is skipped: it belongs to a record whose own head line, if that record can match,
is found by the same pass. Bytes holding an escape introducer (ESC, or 0xC2 that leads UTF-8
C1 controls) are judged on their decoded, stripped text by the start test: such a range is
left to the generic path (``LevelHeads.spans`` says None). The records found are exactly the
index's (the range starts and ends at record starts; a record longer than
``MAX_RECORD_BYTES`` hands the range to the index), and only candidates: which of them match
is for the query's columns to say. Each comes with the name its head opens with, and
``levelnos`` gives the level number the parser reads from that name, so a query about
levels alone is decided without reading the records' columns (``scan_ranges``).

The search for line openings is a pass over every byte (``re``'s loop stops at each
newline; about the cost of ``bytes.count(b"\n")``, 1.3 s of CPU a GB here); a search for
the admitted heads as literals (``bytes.find``, one pass per spelling: 40 for
``level>=ERROR``) was 15 times slower, and numpy's masks cost as much once the newlines
are turned into offsets. Even the spellings one file uses are no faster as literals: on a
4 MB range ``bytes.count`` of ``\\nERROR:`` and of ``\\nCRITICAL:`` took 2.95 and 2.06 ms
against 3.84 ms for the byte-class search of every spelling (``bytes.find`` of a longer
literal reads every byte here too; only one byte, by ``memchr``, goes ten times faster);
numpy's newline offsets (``flatnonzero``, 2.8 ms) and a walk of records' ends by the
index's bulk test were slower than the regex as a whole.
"""

from __future__ import annotations

import itertools
import re
import re._constants as _sre
import re._parser as _sre_parse
from collections.abc import Iterable

import numpy as np

from logview.boundaries import MAX_RECORD_BYTES, NeedIndex, StartDetector
from logview.formats.signature import VocabularyHead

#: logging's name for a level without one (``Level 15``): always a candidate.
_NUMBERED = rb"Level \d+"


def _name_trie(words: list[bytes]) -> bytes:
    """A regex for exactly one of ``words`` (none empty), sharing common prefixes so that a
    line is turned away at its first byte (an alternation of 87 names would try each)."""
    branches: dict[bytes, list[bytes]] = {}
    for word in sorted(set(words)):
        branches.setdefault(word[:1], []).append(word[1:])
    parts = []
    for head, rests in branches.items():
        longer = [r for r in rests if r]
        tail = _name_trie(longer) if longer else b""
        if longer and b"" in rests:
            tail = b"(?:" + tail + b")?"
        parts.append(re.escape(head) + tail)
    return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"


#: The level names' alternation in a template's start pattern (``(?:INFO|...|Level \d+)``).
_NAMES = re.compile(rb"\(\?:((?:(?:[A-Za-z0-9_]|\\.)+\|)+)Level \\d\+\)")


def _with_name_trie(source: bytes, names: tuple[bytes, ...]) -> bytes:
    """``source`` with its alternation of exactly ``names`` written as their prefix tree:
    the same strings, so the pattern says the same of every line, but a line is turned
    away at its first byte, not after a try of each of the 87 names in turn (a third of the
    search's time on the lines that start records). Unchanged unless the alternation is
    found once and holds those names alone."""
    found = list(_NAMES.finditer(source))
    if len(found) != 1:
        return source
    spelled = found[0].group(1)[:-1].split(b"|")
    if len(spelled) != len(names) or set(spelled) != {re.escape(n) for n in names}:
        return source
    a, b = found[0].span()
    return source[:a] + b"(?:" + _name_trie(list(names)) + b"|" + _NUMBERED + b")" + source[b:]


def _heads(head: VocabularyHead, names: Iterable[bytes], capture: bool = False) -> bytes:
    """A line's head: the head literal, one of ``names`` (or a numbered level), ``after``
    (the spaces of a padded name around it); ``capture``: the name is the first group."""
    return (re.escape(head.head) + (b"\\ *" if head.pad_left else b"")
            + (b"(" if capture else b"(?:") + _name_trie(list(names)) + b"|" + _NUMBERED + b")"
            + (b"\\ *" if head.pad_right else b"") + re.escape(head.after))


class LevelHeads:
    """Finds the records of a range whose head names one of a query's level spellings."""

    def __init__(self, detector: StartDetector, head: VocabularyHead,
                 names: tuple[bytes, ...]) -> None:
        pattern = detector.pattern
        assert pattern is not None
        match = pattern.match
        #: The start test of a line ``buf[s:e]`` without escape bytes (``starts_at``'s).
        self._starts = lambda buf, s, e: match(buf[s:e]) is not None
        #: The start pattern after a newline, behind a quick test of the line's first bytes:
        #: where it matches within the line, the line starts a record (the pattern matched
        #: on the bytes of the line alone would match too).
        source, flags = pattern.pattern, pattern.flags
        self._flags = flags
        #: A line that opens with an admitted name and starts a record (at a line start).
        #: Its first group is the name the line opens with.
        self._first_source = (b"(?=" + _heads(head, names, capture=True) + b")(?:" + source
                              + b")")
        #: The next record start: every start opens with a name of the vocabulary.
        start = b"(?=" + _heads(head, head.names) + b")(?:" + source + b")"
        self._next_source = b"\n" + start
        #: A byte an admitted head line may open with: the other lines are turned away by
        #: one cheap test each, and the pattern is tried at the rest.
        opening = set(head.head[:1]) if head.head else {n[0] for n in names} | {ord("L")}
        if head.pad_left and not head.head:
            opening.add(ord(" "))
        opens = b"[" + b"".join(re.escape(bytes([b])) for b in sorted(opening)) + b"]"
        self._opens_source = b"\n" + opens
        self._opens_at_0 = frozenset(opening)
        #: When the start pattern can never read a newline, a whole record whose head names
        #: an admitted level, found by one search: the newline before its head, the head's
        #: first byte (one step for most lines), then, looking back from after that byte,
        #: the admitted names and the start pattern at the line start (lookaheads in a
        #: lookbehind of one byte: a lookahead right after the newline costs every line a
        #: step more), then the lines up to the newline before the next start. The pattern
        #: asked within the buffer then says what it says of each line alone.
        #: None: ``_opens`` and ``_next`` line by line.
        self._records = None
        if not _may_read_newline(pattern):
            source = _with_name_trie(source, head.names)
            start = b"(?=" + _heads(head, head.names) + b")(?:" + source + b")"
            opens = b"(?-i:" + opens + b")"
            head_line = (b"(?=" + _heads(head, names, capture=True) + b")(?=" + source + b")")
            rest = b"[^\n]*+(?:\n(?!" + start + b")[^\n]*+)*+"
            self._records = (re.compile(head_line + rest, flags),
                             re.compile(b"\n" + opens + b"(?<=" + head_line + opens + b")"
                                        + rest, flags))
        self._format = detector.format
        self._sample_tail = head.after + (b"" if head.word_end is None
                                          else b"x" + head.word_end) + b"m"
        self._head = head.head
        #: A head name -> the level number the parser reads from it (None: it reads none).
        self._levelnos: dict[bytes, int | None] = {}
        self._next: re.Pattern[bytes] | None = None
        self._first: re.Pattern[bytes] | None = None
        self._opens: re.Pattern[bytes] | None = None

    @classmethod
    def for_query(cls, detector: StartDetector, min_level: int) -> LevelHeads | None:
        """The finder for a query that admits no record below ``min_level`` (the query
        plan's floor), or None: not a format with a level-vocabulary head, or every name of
        it may match. A name's level is the parser's, read from a record of that name."""
        fmt = detector.format
        head = fmt.start_vocabulary() if detector.pattern is fmt.start_pattern else None
        if head is None or min_level <= 0:
            return None
        text = detector.pattern.pattern.replace(b"[^", b"[")
        if any(mark in text for mark in (b"^", b"\\A", b"$", b"\\Z")):
            return None  # the pattern reads a line's ends: it is asked line by line only
        word = b"" if head.word_end is None else b"x" + head.word_end
        names = []
        for name in head.names:
            sample = (head.head + name + head.after + word + b"m").decode("ascii")
            record = fmt.parse(sample)
            if not record.level or record.levelno >= min_level:
                names.append(name)  # (a name the parser does not read stays a candidate)
        if len(names) == len(head.names):
            return None
        return cls(detector, head, tuple(names))

    def spans(self, buf: bytes) -> list[tuple[int, int]] | None:
        """``(start, end)`` of the records of ``buf`` (which starts a record and ends where
        one starts or where the file ends) whose head names an admitted level; None when
        ``buf`` holds escape bytes (the generic path decides those)."""
        named = self.named_spans(buf)
        return None if named is None else [(s, e) for s, e, _ in named]

    def named_spans(self, buf: bytes) -> list[tuple[int, int, bytes]] | None:
        """``spans`` with the name each record's head opens with (``levelnos``)."""
        if b"\x1b" in buf or b"\xc2" in buf:
            return None
        if self._records is not None:
            return self._record_spans(buf)
        if self._next is None:  # (compiled on first use: the record search needs none)
            self._next = re.compile(self._next_source, self._flags)
            self._first = re.compile(self._first_source, self._flags)
            self._opens = re.compile(self._opens_source)
        search, starts_at, match, find = self._next.search, self._starts, self._first.match, buf.find
        size = len(buf)
        out: list[tuple[int, int, bytes]] = []
        append = out.append
        done = 0
        if buf[:1] and buf[0] in self._opens_at_0:
            lines: Iterable[int] = itertools.chain((0,), (hit.start() + 1 for hit in
                                                          self._opens.finditer(buf)))
        else:
            lines = (hit.start() + 1 for hit in self._opens.finditer(buf))
        for s in lines:
            if s < done:
                continue
            m = match(buf, s)
            if m is None:
                continue
            # (a match that read past the line: the line alone is asked)
            if find(b"\n", s, m.end()) >= 0 and not starts_at(buf, s, _line_end(buf, s)):
                continue
            name = m.group(1)
            e = s
            while True:  # the record's end: the next line that starts one
                n = search(buf, e)
                if n is None:
                    e = size
                    break
                e = n.start() + 1
                if find(b"\n", e, n.end()) < 0 or starts_at(buf, e, _line_end(buf, e)):
                    break
            if e - s > MAX_RECORD_BYTES:
                raise NeedIndex(f"a record longer than {MAX_RECORD_BYTES} bytes")
            append((s, e, name))
            done = e
        return out

    def _record_spans(self, buf: bytes) -> list[tuple[int, int, bytes]]:
        """``named_spans`` by ``_records``: one match per record (its end, the newline
        before the next start, is not consumed, so the search for the next head starts
        there)."""
        at_first, after = self._records
        size = len(buf)
        first = at_first.match(buf)
        found = [] if first is None else [first]
        found.extend(after.finditer(buf, 0 if first is None else first.end()))
        # (each record takes the newline that ends it: the next one starts after it)
        out = [(m.start() + (m is not first), m.end() + 1, m.group(1)) for m in found]
        if out and out[-1][1] > size:
            out[-1] = (out[-1][0], size, out[-1][2])
        if any(e - s > MAX_RECORD_BYTES for s, e, _ in out):
            raise NeedIndex(f"a record longer than {MAX_RECORD_BYTES} bytes")
        return out

    def levelnos(self, names: list[bytes]) -> np.ndarray | None:
        """The level number the parser reads from a record whose head opens with each of
        ``names`` (``named_spans``), or None when it reads none from one of them."""
        known = self._levelnos
        out = np.empty(len(names), dtype=np.int64)
        for k, name in enumerate(names):
            levelno = known.get(name, -1)
            if levelno == -1:
                levelno = self._levelno_of(name)
            if levelno is None:
                return None
            out[k] = levelno
        return out

    def _levelno_of(self, name: bytes) -> int | None:
        record = self._format.parse((self._head + name + self._sample_tail).decode("ascii"))
        levelno = record.levelno if record.level else None
        if len(self._levelnos) < 4096:  # (numbered levels: ever new names stay bounded)
            self._levelnos[name] = levelno
        return levelno


#: Character classes that hold a newline.
_NEWLINE_CATEGORIES = frozenset((
    _sre.CATEGORY_SPACE, _sre.CATEGORY_NOT_DIGIT, _sre.CATEGORY_NOT_WORD,
    _sre.CATEGORY_LINEBREAK, _sre.CATEGORY_UNI_SPACE, _sre.CATEGORY_UNI_NOT_DIGIT,
    _sre.CATEGORY_UNI_NOT_WORD, _sre.CATEGORY_UNI_LINEBREAK, _sre.CATEGORY_LOC_NOT_WORD))
#: Zero-width tests that read no newline (word boundaries: a newline is no word byte, as
#: the end of a line is none).
_SAFE_AT = frozenset((_sre.AT_BOUNDARY, _sre.AT_NON_BOUNDARY, _sre.AT_LOC_BOUNDARY,
                      _sre.AT_LOC_NON_BOUNDARY, _sre.AT_UNI_BOUNDARY, _sre.AT_UNI_NON_BOUNDARY))


def _may_read_newline(pattern: re.Pattern[bytes]) -> bool:
    """Whether ``pattern`` might match a newline anywhere (in a lookaround too) or read a
    line's ends: if not, what it says at a line start within a buffer is what it says of
    the line alone. Anything not understood counts as reading one."""
    try:
        return _reads(_sre_parse.parse(pattern.pattern, pattern.flags).data, pattern.flags)
    except Exception:  # noqa: BLE001 - a parser of another Python: take the careful way
        return True


def _reads(items, flags: int) -> bool:
    for op, av in items:
        if op is _sre.LITERAL:
            if av == 10:
                return True
        elif op is _sre.NOT_LITERAL:
            if av != 10:
                return True
        elif op is _sre.ANY:
            if flags & re.DOTALL:
                return True
        elif op is _sre.IN:
            if _class_holds_newline(av):
                return True
        elif op is _sre.BRANCH:
            if any(_reads(branch.data, flags) for branch in av[1]):
                return True
        elif op is _sre.SUBPATTERN:
            if _reads(av[3].data, (flags | av[1]) & ~av[2]):
                return True
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            if _reads(av[2].data, flags):
                return True
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if _reads(av[1].data, flags):
                return True
        elif op is _sre.ATOMIC_GROUP:
            if _reads(av.data, flags):
                return True
        elif op is _sre.AT:
            if av not in _SAFE_AT:
                return True
        elif op is not _sre.GROUPREF:  # (a group's text: read by the group's own items)
            return True
    return False


def _class_holds_newline(items) -> bool:
    negate, holds = False, False
    for op, av in items:
        if op is _sre.NEGATE:
            negate = True
        elif op is _sre.LITERAL:
            holds |= av == 10
        elif op is _sre.RANGE:
            holds |= av[0] <= 10 <= av[1]
        elif op is _sre.CATEGORY:
            holds |= av in _NEWLINE_CATEGORIES
        else:
            return True
    return holds != negate


def _line_end(buf: bytes, s: int) -> int:
    end = buf.find(b"\n", s)
    return len(buf) if end < 0 else end
