"""Where ``:`` goes: a record number, a time of day, a relative time or a date-time, read from
what the user typed, and the first row at or after a time found by bisecting the rows.

The text is read here without the records (``parse_goto``); the times it names are fixed
against the first and last records' times in a worker (``resolve``), and
``first_row_at_or_after`` bisects the rows when they are in time order (``None`` otherwise:
the caller then scans them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise

from logview.query.values import parse_time_value

#: ``10:32``, ``10:32:05``, ``10:32:05.250``.
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?")
#: Rows read past a record without a time to find one with a time.
PROBE = 64
#: Rows sampled across the view to see whether it is in time order.
SAMPLES = 33

#: What ``:`` takes, said when it cannot read the text.
GOTO_HELP = "a record number (1234), a time (10:32, 10:32:05), -5m, -2h or 2024-05-01T10:32"


class GotoError(ValueError):
    """Text ``:`` cannot read; the message says what it takes."""


@dataclass(frozen=True, slots=True)
class GotoTarget:
    """A row (0-based, of the rows shown), a time of day, or a time in query syntax (``text``,
    read with the last record's time as "now": ``-5m`` is five minutes before it)."""

    kind: str  # "row", "clock" or "time"
    row: int = 0
    clock: time | None = None
    text: str = ""


def parse_goto(text: str) -> GotoTarget:
    """What ``text`` asks to go to; raises ``GotoError``."""
    value = text.strip()
    if not value:
        raise GotoError(f"Type {GOTO_HELP}")
    if value.isdigit():
        number = int(value)
        if number < 1:
            raise GotoError("Records are numbered from 1")
        return GotoTarget("row", row=number - 1)
    match = _CLOCK_RE.fullmatch(value)
    if match is not None:
        hour, minute, second, fraction = match.groups()
        try:
            clock = time(int(hour), int(minute), int(second or 0),
                         int((fraction or "0").ljust(6, "0")))
        except ValueError as exc:
            raise GotoError(f"No such time of day: {value}") from exc
        return GotoTarget("clock", clock=clock)
    if parse_time_value(value, datetime(2000, 1, 1)) is None:
        raise GotoError(f"Cannot read '{value}': type {GOTO_HELP}")
    return GotoTarget("time", text=value)


def resolve(target: GotoTarget, first: float, last: float) -> float | None:
    """The epoch time ``target`` names, given the first and last records' times.

    A time of day is taken on the latest day that puts it between the first and the last
    record (the most recent 10:32 of the log); before the first record it is the first day's,
    after the last record the last day's.
    """
    last_moment = datetime.fromtimestamp(last)
    if target.kind == "time":
        return parse_time_value(target.text, last_moment)
    assert target.clock is not None
    first_day = datetime.fromtimestamp(first).date()
    day = last_moment.date()
    while day >= first_day:
        moment = datetime.combine(day, target.clock).timestamp()
        if first <= moment <= last:
            return moment
        day -= timedelta(days=1)
    on_first = datetime.combine(first_day, target.clock).timestamp()
    return on_first if on_first < first else datetime.combine(
        last_moment.date(), target.clock).timestamp()


def timed_row(time_at: Callable[[int], float | None], row: int, count: int,
              step: int = 1) -> tuple[int, float] | None:
    """The first row from ``row`` on (``step`` -1: backwards) with a time, within ``PROBE``
    rows: (row, epoch seconds), or None."""
    for _ in range(PROBE):
        if not 0 <= row < count:
            return None
        stamp = time_at(row)
        if stamp is not None:
            return row, stamp
        row += step
    return None


def in_time_order(time_at: Callable[[int], float | None], count: int) -> bool:
    """Whether rows sampled evenly across the view have times that never go back."""
    stamps = [stamp for row in sorted({(count - 1) * k // (SAMPLES - 1) for k in range(SAMPLES)})
              if (stamp := time_at(row)) is not None]
    return all(a <= b for a, b in pairwise(stamps))


def first_row_at_or_after(time_at: Callable[[int], float | None], count: int,
                          target: float) -> tuple[bool, int | None]:
    """(whether bisecting could be trusted, the first row whose time is at or after ``target``
    or None when none is) over rows ``0..count-1``; ``time_at(row)`` reads a row's time.

    Rows without a time are skipped. The answer is checked against the timed row before it;
    (False, None) when the rows are not in time order (the caller scans them).
    """
    if count <= 0:
        return True, None
    if not in_time_order(time_at, count):
        return False, None
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi) // 2
        found = timed_row(time_at, mid, count)
        if found is None or found[1] >= target:
            hi = mid
        else:
            lo = found[0] + 1
    found = timed_row(time_at, lo, count)
    if found is None or found[1] < target:
        return True, None
    before = timed_row(time_at, found[0] - 1, count, step=-1)
    if before is not None and before[1] >= target:
        return False, None
    return True, found[0]
