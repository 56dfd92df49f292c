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
it says of each line alone, so one match finds a whole record (``_record_spans``): the
admitted names and the start pattern at the line's start, then the lines that do not start a
record. It is tried only at the line starts that open with an admitted head's first byte,
found with numpy (a newline mask into an array each thread reuses, its offsets, their next
bytes looked up in a table), and the start pattern's alternation of 87 names is read as
their prefix tree (``_with_name_trie``). The search it replaced, one regex for the whole
range (a newline, the byte class, the rest from a lookbehind), stops at every newline and
calls ``re``'s matcher there; the numpy search costs 3-7 % less CPU in all
(``bench/bench_scan_range.py``, basicConfig ``level>=ERROR``, 1 GB in 4 MB ranges: 1.42-1.52
against 1.52-1.59 s, three alternating pairs). With a fresh mask each range it cost more
than the regex: malloc maps and unmaps 4 MB arrays, and their page faults took 1.5 s of
system time a GB in the forked workers.

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

The search for line openings is a pass over every byte (about the cost of
``bytes.count(b"\n")``, 0.6-0.9 s of CPU a GB here, for the regex and numpy alike); a
search for the admitted heads as literals (``bytes.find``, one pass per spelling: 40 for
``level>=ERROR``) was 15 times slower. Even the spellings one file uses are no faster as
literals: on a 4 MB range ``bytes.count`` of ``\nERROR:`` and of ``\nCRITICAL:`` took 2.95
and 2.06 ms against 3.84 ms for the byte-class search of every spelling (``bytes.find`` of
a longer literal reads every byte here too; only one byte, by ``memchr``, goes ten times
faster), and ``bytes.translate`` to a two-byte pattern costs more than the mask.
"""

from __future__ import annotations

import itertools
import re
import re._constants as _sre
import re._parser as _sre_parse
import threading
from collections.abc import Iterable

import numpy as np

from logview.boundaries import MAX_RECORD_BYTES, NeedIndex, StartDetector
from logview.formats.signature import VocabularyHead
from logview.record import holds_corner_line

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
        #: The bytes a head line may open with, as a table (``_record_spans``).
        self._opening = np.zeros(256, dtype=bool)
        self._opening[list(opening)] = True
        self._mask = threading.local()  # each thread's newline mask (``_record_spans``)
        #: When the start pattern can never read a newline, a whole record whose head names
        #: an admitted level, matched at its line's start: the admitted names and the start
        #: pattern (lookaheads), then the lines up to the newline before the next start.
        #: The pattern asked within the buffer then says what it says of each line alone.
        #: None: ``_opens`` and ``_next`` line by line.
        self._record: re.Pattern[bytes] | None = None
        if not _may_read_newline(pattern):
            source = _with_name_trie(source, head.names)
            start = b"(?=" + _heads(head, head.names) + b")(?:" + source + b")"
            head_line = (b"(?=" + _heads(head, names, capture=True) + b")(?=" + source + b")")
            rest = b"[^\n]*+(?:\n(?!" + start + b")[^\n]*+)*+"
            self._record = re.compile(head_line + rest, flags)
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
        ``buf`` holds escape bytes or a line opening with a box's corner (the generic path
        decides those)."""
        named = self.named_spans(buf)
        return None if named is None else [(s, e) for s, e, _ in named]

    def named_spans(self, buf: bytes) -> list[tuple[int, int, bytes]] | None:
        """``spans`` with the name each record's head opens with (``levelnos``)."""
        if b"\x1b" in buf or b"\xc2" in buf or holds_corner_line(buf):
            return None
        if self._record is not None:
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
        """``named_spans`` by ``_record``: one match per record, tried at the line starts
        that open with an admitted head's first byte, found with numpy (a newline mask and
        its offsets cost about a quarter of a regex search that stops at every newline and
        calls its matcher there). A match ends at the newline before the next start (not
        taken): the next record starts after it."""
        match = self._record.match
        size = len(buf)
        data = np.frombuffer(buf, np.uint8)
        newlines = getattr(self._mask, "array", None)
        if newlines is None or len(newlines) < size:
            # (one array a thread, reused: a fresh 4 MB array each range is mapped and
            # unmapped by malloc, and its page faults took as much system time as the rest)
            newlines = self._mask.array = np.empty(max(size, 1 << 22), dtype=bool)
        newlines = newlines[:max(size - 1, 0)]
        np.equal(data[:-1], 10, out=newlines)
        lines = np.flatnonzero(newlines)
        lines += 1
        heads = lines[self._opening[data[lines]]].tolist()
        out = []
        done = 0
        for s in itertools.chain((0,), heads) if size and buf[0] in self._opens_at_0 else heads:
            if s < done:
                continue
            m = match(buf, s)
            if m is not None:
                done = m.end() + 1
                out.append((s, done, m.group(1)))
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
