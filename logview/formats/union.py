"""Two text formats in one log, each record read by the one its first line fits.

Servers often write two kinds of line to one stream: gunicorn's error log and its access log
(``--access-logfile - --error-logfile -``, the usual container setup), werkzeug's request
lines between Flask's ``[time] ERROR in app:`` records, an access log with a framework's own
records between its lines. Detection picks the format that starts most lines; without more,
the other kind's lines start nothing and are glued to the record before as continuation lines
(a day of access lines inside one startup message).

``UnionFormat`` starts a record where either format says so and parses a record with the
first format that takes its first line (the main one first). ``start_pattern`` is both
patterns in one alternation, so the index and ``is_start`` agree. Detection builds one only
when the lines the main format leaves are records of their own by strong evidence: another
format starts them and reads a time from them (``second_format``), which a traceback, an
indented payload or the second line of a message never gives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from logview.formats.base import LogFormat
from logview.formats.linewise import is_continuation
from logview.needles import marked
from logview.record import Record

__all__ = ["MIN_LINES", "UnionFormat", "second_format", "union_pattern"]

#: The fewest sample start lines a second format must start (and read a time from) to be
#: trusted; a named format (a known library's own template) is trusted on one line.
MIN_LINES = 2
#: A leading global-flags group, ``(?a)``: it cannot sit inside an alternation.
_GLOBAL_FLAGS = re.compile(rb"\A\(\?([aiLmsux]+)\)")


def union_pattern(first: re.Pattern[bytes], second: re.Pattern[bytes]) -> re.Pattern[bytes] | None:
    """``first | second`` as one bytes pattern, or None when they cannot be joined (different
    global flags, group names both use)."""
    sources = []
    flags = None
    for pattern in (first, second):
        source = pattern.pattern
        own = pattern.flags & ~re.ASCII  # what bytes patterns do anyway
        lead = _GLOBAL_FLAGS.match(source)
        if lead is not None:
            own |= re.compile(lead.group(0)).flags
            source = source[lead.end():]
        if flags is not None and own != flags:
            return None
        flags = own
        sources.append(source)
    try:
        return re.compile(b"(?:" + sources[0] + b")|(?:" + sources[1] + b")", flags or 0)
    except re.error:
        return None


class UnionFormat(LogFormat):
    """Records whose first line ``first`` starts read by it, the others' by ``second``."""

    def __init__(self, first: LogFormat, second: LogFormat, pattern: re.Pattern[bytes]) -> None:
        self.first = first
        self.second = second
        self.name = f"{first.name}+{second.name}"
        self.start_pattern = pattern
        #: The main format's template, for ``--explain`` and the status line.
        self.template: str | None = getattr(first, "template", None)
        self.datefmt: str | None = getattr(first, "datefmt", None)
        # What the scanner may rely on holds only where it holds for both.
        self.level_text = first.level_text and second.level_text
        self.opaque_text = first.opaque_text + second.opaque_text
        self.level_marks = first.level_marks + second.level_marks
        # (a log whose own records have no time has none to give)
        self.time_from_previous = first.time_from_previous or (
            second.time_from_previous and bool(getattr(first, "has_time", False)))
        self.made_loggers = first.made_loggers | second.made_loggers
        self.has_time = bool(getattr(first, "has_time", False)
                             and getattr(second, "has_time", False))
        self.prints_raw = first.prints_raw and second.prints_raw
        self._walker: _MarkedWalker | None | bool = False  # (built on first use)
        levels = {**second.custom_levels, **first.custom_levels}
        self.custom_levels: Mapping[str, int] = levels  # (a dict: the format is pickled)

    def __repr__(self) -> str:
        return f"UnionFormat({self.first!r}, {self.second!r})"

    @property
    def level_case(self) -> str | None:
        case = self.first.level_case
        return case if case is not None and case == self.second.level_case else None

    def is_start(self, line: str) -> bool:
        return self.first.is_start(line) or self.second.is_start(line)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_walker": False}  # (built again where it is unpickled)

    def column_walker(self):
        """The first format's walker, when the second's lines are found by their marks
        (``start_marks``): the records those open are parsed, the others walked."""
        if self._walker is False:
            marks, pattern = self.second.start_marks, self.second.start_pattern
            walker = self.first.column_walker() if marks and pattern is not None else None
            self._walker = None if walker is None else _MarkedWalker(walker, marks, pattern)
        return self._walker

    def parse(self, text: str) -> Record:
        first_line = text.partition("\n")[0]
        if not self.first.is_start(first_line) and self.second.is_start(first_line):
            return self.second.parse(text)
        return self.first.parse(text)

    def score(self, lines: list[str]) -> float:
        if not lines:
            return 0.0
        return sum(1 for line in lines if self.is_start(line)) / len(lines)


class _MarkedWalker:
    """A column walker whose records opened by the second format's lines are left to the
    parser: its marks are looked for, and each record a mark is in whose first line the second
    format starts is not ok (``HeaderColumns.ok``)."""

    def __init__(self, walker, marks: tuple[bytes, ...], pattern: re.Pattern[bytes]) -> None:
        self._walker = walker
        self._marks = marks
        self._match = pattern.match

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._walker, name)  # (``walk_bytes`` and the like)

    def read(self, buf: bytes, starts):
        got = self._walker.read(buf, starts)
        for j in marked(buf, self._marks, starts).tolist():
            s = int(starts[j])
            e = buf.find(b"\n", s)
            if got.ok[j] and self._match(buf, s, len(buf) if e < 0 else e) is not None:
                got.ok[j] = False
        return got


def second_format(first: LogFormat, starts: list[str], named: bool,
                  candidate: LogFormat | None) -> LogFormat | None:
    """``candidate`` as the second format of ``first`` for a sample, or None.

    ``starts`` are the sample's start lines; ``candidate`` is what detection found for the
    ones ``first`` does not start (``named``: a known or user format, not an inferred one).
    It qualifies when it starts at least ``MIN_LINES`` of them (one for a named format) and
    reads a time from every one it starts (or its lines are records for certain,
    ``certain_lines``), and it starts none of ``first``'s lines (then the two are one format
    read twice).
    """
    if candidate is None or candidate.start_pattern is None or first.start_pattern is None:
        return None
    # (a line of a shape that leaves no doubt needs no time to be a record of its own)
    certain = candidate.certain_lines
    if not getattr(candidate, "has_time", False) and not certain:
        return None
    rest = [line for line in starts if not first.is_start(line) and not is_continuation(line)]
    taken = [line for line in rest if candidate.is_start(line)]
    if len(taken) < (1 if named else MIN_LINES):
        return None
    if not certain and any(candidate.parse(line).time is None for line in taken):
        return None
    if any(candidate.is_start(line) for line in starts if first.is_start(line)):
        return None
    return candidate
