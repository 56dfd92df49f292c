"""Records of a template that opens with a level name, found by their heads (the direct scan).

A template without a time (``%(levelname)s:%(name)s:%(message)s``) writes its level at the
very start of each record (``VocabularyHead``). For a query about levels, looking at every
``ERROR`` in the bytes and walking lines around it with the start test (the generic needle
path of ``scan_ranges``) costs three passes over the bytes and a dozen Python calls a hit.
Here one regex pass finds the lines that start a record with an admitted level name: a
newline, a prefix tree of the admitted names (a line is turned away at its first bytes), then
the format's own start pattern (the index's test for a line without escape bytes). A match
that stays within its line is what the pattern says of the line alone; one that read past
the line's end is asked again on the line. The record runs to the next line that starts one
(the same pattern behind a prefix tree of every name). A pattern that reads a line's ends
(``^``, ``$``, ``\\A``, ``\\Z``) is not used this way.

A line that opens with an admitted name but is no record start (``ERROR: x y`` inside a
message) is skipped: it belongs to a record whose own head line, if that record can match,
is found by the same pass. Bytes holding an escape introducer (ESC, or 0xC2 that leads UTF-8
C1 controls) are judged on their decoded, stripped text by the start test: such a range is
left to the generic path (``LevelHeads.spans`` says None). The records found are exactly the
index's (the range starts and ends at record starts; a record longer than
``MAX_RECORD_BYTES`` hands the range to the index), and only candidates: which of them match
is for the query's columns to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def _heads(head: VocabularyHead, names: Iterable[bytes]) -> bytes:
    """A line's head: the head literal, one of ``names`` (or a numbered level), ``after``."""
    return (re.escape(head.head) + b"(?:" + _name_trie(list(names)) + b"|" + _NUMBERED + b")"
            + re.escape(head.after))


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
        #: Lines that open with an admitted name and start a record (``_first``: offset 0).
        self._hits = re.compile(b"\n(?=" + _heads(head, names) + b")(?:" + source + b")", flags)
        self._first = re.compile(b"(?=" + _heads(head, names) + b")(?:" + source + b")", flags)
        #: The next record start: every start opens with a name of the vocabulary.
        self._next = re.compile(b"\n(?=" + _heads(head, head.names) + b")(?:" + source + b")",
                                flags)

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
        if b"\x1b" in buf or b"\xc2" in buf:
            return None
        search, starts_at = self._next.search, self._starts
        size = len(buf)
        heads = [(m.start() + 1, m.end()) for m in self._hits.finditer(buf)]
        first = self._first.match(buf)
        if first is not None:
            heads.insert(0, (0, first.end()))
        out: list[tuple[int, int]] = []
        done = 0
        for s, end in heads:
            if s < done:
                continue
            if not _within_line(buf, s, end) and not starts_at(buf, s, _line_end(buf, s)):
                continue  # the pattern read past the line: the line alone is no start
            e = s
            while True:  # the record's end: the next line that starts one
                m = search(buf, e)
                if m is None:
                    e = size
                    break
                e = m.start() + 1
                if _within_line(buf, e, m.end()) or starts_at(buf, e, _line_end(buf, e)):
                    break
            if e - s > MAX_RECORD_BYTES:
                raise NeedIndex(f"a record longer than {MAX_RECORD_BYTES} bytes")
            out.append((s, e))
            done = e
        return out


def _line_end(buf: bytes, s: int) -> int:
    end = buf.find(b"\n", s)
    return len(buf) if end < 0 else end


def _within_line(buf: bytes, s: int, end: int) -> bool:
    """The match ``buf[s:end]`` lies in the line starting at ``s`` (it read no newline)."""
    return buf.find(b"\n", s, end) < 0
