"""What the record list's time column shows (``T`` cycles it, as in lnav): the record's
clock time, the time since the previous record shown, or the time relative to an anchor
record (the cursor's when that mode was entered). Pure: no widget, no app."""

from __future__ import annotations

#: The time column's modes, in the order ``T`` goes through them.
CLOCK = "clock"
SINCE_PREVIOUS = "previous"
SINCE_ANCHOR = "anchor"
TIME_MODES = (CLOCK, SINCE_PREVIOUS, SINCE_ANCHOR)

#: What the status line says of each mode (nothing for the normal clock).
MODE_LABELS = {CLOCK: "", SINCE_PREVIOUS: "time: since previous",
               SINCE_ANCHOR: "time: from anchor"}


def next_time_mode(mode: str) -> str:
    """The mode after ``mode`` (the last one goes back to the clock)."""
    return TIME_MODES[(TIME_MODES.index(mode) + 1) % len(TIME_MODES)]


def format_elapsed(seconds: float) -> str:
    """A signed duration at most 11 characters wide (12 columns hold it): ``+0.250s``, ``-12.000s``,
    ``+3m02.250s``, ``+5h03m02s``, ``+2d05h03m``."""
    sign = "-" if seconds < 0 else "+"
    millis = round(abs(seconds) * 1000)
    if millis < 60_000:
        return f"{sign}{millis // 1000}.{millis % 1000:03d}s"
    if millis < 3_600_000:
        minutes, rest = divmod(millis, 60_000)
        return f"{sign}{minutes}m{rest // 1000:02d}.{rest % 1000:03d}s"
    whole = millis // 1000
    if whole < 86_400:
        hours, rest = divmod(whole, 3600)
        return f"{sign}{hours}h{rest // 60:02d}m{rest % 60:02d}s"
    days, rest = divmod(whole, 86_400)
    if days > 99_999:
        return f"{sign}>99999d"
    if days >= 100:
        return f"{sign}{days}d{rest // 3600:02d}h"
    return f"{sign}{days}d{rest // 3600:02d}h{rest % 3600 // 60:02d}m"
