"""Turn the many ways logs write time into datetimes, quickly and without raising."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone

#: English month abbreviations (lower-case) -> month number.
MONTH_NUMBERS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MONTHS = MONTH_NUMBERS

_BSD_RE = re.compile(  # syslog: "Jan  2 03:04:05" (optionally with a year or fraction)
    r"([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{4})\s+)?(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?$"
)
_CLF_RE = re.compile(  # common log format "02/Jan/2024:03:04:05 +0000"; Django's has a space
    r"(\d{2})/([A-Za-z]{3})/(\d{4})[: ](\d{2}):(\d{2}):(\d{2})(?:\s*([+-]\d{4}))?$"
)
#: ctime, also with a fraction as Apache 2.4 writes it: "Wed Oct 11 14:32:52.123456 2000".
_CTIME_RE = re.compile(
    r"[A-Za-z]{3} +([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? (\d{4})$"
)
_COMPACT_RE = re.compile(  # tornado's "240102 03:04:05" (%y%m%d), also with a 4-digit year
    r"(\d{2}|\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$"
)
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$")
_UTC_SUFFIXES = (" UTC", " GMT", " Z")
_SLASH_RE = re.compile(r"(\d{4})/(\d{2})/(\d{2})[ T](\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)(.*)$")
_BRACKETS = "[]() "


def parse_time(text: str) -> datetime | None:
    """Parse a timestamp as logs write it; None when it is not one.

    Handles ISO 8601 (``T`` or space, ``,`` or ``.`` fractions, ``Z``/offsets), Python's
    ``asctime``, epoch seconds or milliseconds, syslog's ``Jan  2 03:04:05`` (the last such day, not ahead of now), the
    common log format ``02/Jan/2024:03:04:05 +0000`` (and Django's ``02/Jan/2024 03:04:05``),
    nginx's ``2024/01/02 03:04:05``, Apache's ``Wed Oct 11 14:32:52.123456 2000`` and
    tornado's ``240102 03:04:05``. A time of day alone is ``parse_time_of_day``'s.
    """
    s = text.strip(_BRACKETS)
    if not s:
        return None
    first = s[0]
    if first.isdigit():
        if len(s) >= 10 and s[4] == "-":
            try:
                return datetime.fromisoformat(s)
            except ValueError:
                pass
            if len(s) > 19 and s[19] == ",":  # "2024-01-02 03:04:05,123 +0000" style leftovers
                try:
                    return datetime.fromisoformat(s.replace(" +", "+").replace(" -", "-"))
                except ValueError:
                    pass
            if s.endswith(_UTC_SUFFIXES):  # "2024-01-02 03:04:05.123 UTC" (%Z in UTC)
                try:
                    return datetime.fromisoformat(s[: s.rindex(" ")]).replace(tzinfo=UTC)
                except ValueError:
                    pass
        m = _SLASH_RE.match(s)
        if m:
            try:
                return datetime.fromisoformat(
                    f"{m[1]}-{m[2]}-{m[3]} {m[4]}".replace(",", ".") + m[5].strip()
                )
            except ValueError:
                pass
        m = _CLF_RE.match(s)
        if m:
            month = _MONTHS.get(m[2].lower())
            if month:
                try:
                    tz = None
                    if m[7]:
                        sign = 1 if m[7][0] == "+" else -1
                        tz = timezone(
                            sign * timedelta(hours=int(m[7][1:3]), minutes=int(m[7][3:5]))
                        )
                    return datetime(
                        int(m[3]), month, int(m[1]), int(m[4]), int(m[5]), int(m[6]), tzinfo=tz
                    )
                except ValueError:
                    return None
        m = _COMPACT_RE.match(s)
        if m:
            year = int(m[1]) + (2000 if len(m[1]) == 2 else 0)
            try:
                return datetime(year, int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]),
                                _micros(m[7]))
            except ValueError:
                return None
        return parse_epoch(s)
    if first.isalpha():
        m = _BSD_RE.match(s)
        if m:
            month = _MONTHS.get(m[1].lower())
            if month:
                now = datetime.now()
                year = int(m[3]) if m[3] else now.year
                frac = int((m[7] or "0").ljust(6, "0")[:6])
                try:
                    value = datetime(
                        year, month, int(m[2]), int(m[4]), int(m[5]), int(m[6]), frac
                    )
                    if not m[3] and value > now + timedelta(days=1):
                        value = value.replace(year=year - 1)  # a year-less stamp is never ahead
                    return value
                except ValueError:
                    return None
        m = _CTIME_RE.match(s)
        if m:
            month = _MONTHS.get(m[1].lower())
            if month:
                try:
                    return datetime(int(m[7]), month, int(m[2]), int(m[3]), int(m[4]), int(m[5]),
                                    _micros(m[6]))
                except ValueError:
                    return None
        try:  # ctime with other spacing ("Tue\tJan 2  03:04:05 2024"), as strptime reads it
            return datetime.strptime(" ".join(s.split()), "%a %b %d %H:%M:%S %Y")
        except ValueError:
            return None
    return None


def _micros(fraction: str | None) -> int:
    """Microseconds of a fraction of a second as written (``"123"`` -> 123000); digits past
    the sixth are cut."""
    return int(fraction[:6].ljust(6, "0")) if fraction else 0


def parse_time_of_day(text: str, day: date | None = None) -> datetime | None:
    """A time of day without a date (``03:04:05.123``), on ``day`` (default: today, local).

    Kept apart from ``parse_time``: the date is an assumption the caller makes, not something
    the text says (``parse_time`` also reads query values, where that would surprise).
    """
    m = _CLOCK_RE.match(text.strip(_BRACKETS))
    if m is None:
        return None
    try:
        clock = time(int(m[1]), int(m[2]), int(m[3]), _micros(m[4]))
    except ValueError:
        return None
    return datetime.combine(day if day is not None else date.today(), clock)


def parse_epoch(value: str | float) -> datetime | None:
    """Epoch seconds, milliseconds, microseconds or nanoseconds to an aware UTC datetime."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or number <= 0:  # not a plausible time
        return None
    # Pick the unit that lands between 1973 and 2286.
    for divisor in (1, 1e3, 1e6, 1e9):
        seconds = number / divisor
        if seconds < 1e10:
            if seconds < 1e8:
                return None
            try:
                return datetime.fromtimestamp(seconds, tz=UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def to_timestamp(value: datetime) -> float | None:
    """Seconds since the epoch; naive datetimes are local time."""
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
