"""strftime patterns (a ``--datefmt``) compiled to a regex that reads the time back.

``logging.Formatter`` writes ``asctime`` with ``time.strftime(datefmt)``; to read such a time we
turn each directive into a regex group and build the datetime from the groups directly, which
is both stricter and much faster than ``strptime`` per record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from logview.formats.base import FormatError
from logview.timeparse import MONTH_NUMBERS

_MONTHS = MONTH_NUMBERS
_NAME = r"[^\W\d_][^\s\d,:;/]*?\.?"  # a (possibly localised) day or month name

#: Directive -> (regex, component name or None). C/POSIX locale shapes.
_DIRECTIVES: dict[str, tuple[str, str | None]] = {
    "Y": (r"\d{4}", "Y"),
    "G": (r"\d{4}", None),
    "y": (r"\d{2}", "y"),
    "C": (r"\d{2}", None),
    "m": (r"\d{2}", "m"),
    "d": (r"\d{2}", "d"),
    "e": (r"[ \d]\d", "d"),
    "H": (r"\d{2}", "H"),
    "k": (r"[ \d]\d", "H"),
    "I": (r"\d{2}", "I"),
    "l": (r"[ \d]\d", "I"),
    "M": (r"\d{2}", "M"),
    "S": (r"\d{2}", "S"),
    # time.strftime (what logging uses) leaves %f as it is; datetime.strftime writes micros.
    # Custom formatTime()s often cut it to milliseconds, so any length of digits is read.
    "f": (r"\d{1,9}|%f", "f"),
    "j": (r"\d{3}", "j"),
    "p": (r"[AaPp]\.?[Mm]\.?", "p"),
    "P": (r"[ap]m", "p"),
    "z": (r"(?:[+-]\d{2}:?\d{2}(?::?\d{2})?|Z)?", "z"),
    "Z": (r"(?:[A-Za-z][\w/+-]*)?", "Z"),
    "a": (_NAME, None),
    "A": (_NAME, None),
    "b": (_NAME, "b"),
    "h": (_NAME, "b"),
    "B": (_NAME, "b"),
    "U": (r"\d{2}", None),
    "W": (r"\d{2}", None),
    "V": (r"\d{2}", None),
    "u": (r"\d", None),
    "w": (r"\d", None),
    "s": (r"\d+", "s"),
    "n": (r"\n", None),
    "t": (r"\t", None),
}
#: Composite directives, expanded before compiling (C locale).
_COMPOSITE = {
    "c": "%a %b %e %H:%M:%S %Y",
    "x": "%m/%d/%y",
    "X": "%H:%M:%S",
    "D": "%m/%d/%y",
    "T": "%H:%M:%S",
    "F": "%Y-%m-%d",
    "R": "%H:%M",
    "r": "%I:%M:%S %p",
}
_DIRECTIVE_RE = re.compile(r"%([-_0^#]?)(.)", re.DOTALL)


@dataclass(slots=True)
class TimeShape:
    """A compiled datefmt: its regex and how to turn a match into a datetime."""

    datefmt: str
    regex: str
    prefix: str
    components: dict[str, str] = field(default_factory=dict)  # component -> group name

    @property
    def has_fraction(self) -> bool:
        return "f" in self.components

    def to_datetime(self, m: re.Match[str]) -> datetime | None:
        """The datetime a match of ``regex`` describes; None when it makes no date."""
        return datetime_from_parts({comp: m[group] for comp, group in self.components.items()})


def datetime_from_parts(g: dict[str, str | None],
                        reference: datetime | None = None) -> datetime | None:
    """Build a datetime from strftime components (``{"Y": "2024", "b": "Jan", ...}``).

    A stamp without a year or without a date is placed by ``reference`` (the file's
    modification time; now when None): the year that puts it at or before the reference,
    or, for a time of day alone, the reference's day (the day before when the time is
    later than the reference's).
    """
    if "Y" not in g and "y" not in g and "s" not in g and g.get("H") is not None:
        if "m" not in g and "b" not in g and "d" not in g and "j" not in g:
            return _time_of_day(g, reference)
        if "j" not in g:
            return _without_year(g, reference)
    try:
        if g.get("s"):
            return datetime.fromtimestamp(int(g["s"]), tz=UTC)
        if "Y" in g:
            year = int(g["Y"])
        elif "y" in g:
            y = int(g["y"])
            year = 1900 + y if y >= 69 else 2000 + y
        else:
            year = None
        if "m" in g:
            month = int(g["m"])
        elif "b" in g:
            month = _MONTHS.get(g["b"][:3].lower())
            if month is None:
                return None
        else:
            month = None
        day = int(g["d"].strip()) if "d" in g else None
        if month is None and day is None and "j" not in g:
            return None  # a time of day alone does not place a record in time
        if year is None:
            year = datetime.now().year
        if "j" in g and month is None:
            base = datetime(year, 1, 1) + timedelta(days=int(g["j"]) - 1)
            month, day = base.month, base.day
        hour = int(g["H"].strip()) if "H" in g else 0
        if "I" in g:
            hour = int(g["I"].strip()) % 12
            if g.get("p", "").lower().startswith("p"):
                hour += 12
        value = datetime(
            year,
            month or 1,
            day or 1,
            hour,
            int(g.get("M") or 0),
            min(int(g.get("S") or 0), 59),
            int(frac[:6].ljust(6, "0")) if (frac := g.get("f")) and frac.isdigit() else 0,
        )
    except (ValueError, OverflowError, OSError):
        return None
    tz = _zone(g.get("z"), g.get("Z"))
    return value.replace(tzinfo=tz) if tz is not None else value


def _time_of_day(g: dict[str, str | None], reference: datetime | None) -> datetime | None:
    ref = reference or datetime.now()
    day = ref.strftime("%Y-%m-%d").split("-")
    value = datetime_from_parts({**g, "Y": day[0], "m": day[1], "d": day[2]})
    if value is not None and value.replace(tzinfo=None) > ref.replace(tzinfo=None) + _SLACK:
        value -= timedelta(days=1)
    return value


def _without_year(g: dict[str, str | None], reference: datetime | None) -> datetime | None:
    ref = reference or datetime.now()
    value = datetime_from_parts({**g, "Y": str(ref.year)})
    if value is not None and value.replace(tzinfo=None) > ref.replace(tzinfo=None) + _DAY:
        value = datetime_from_parts({**g, "Y": str(ref.year - 1)})
    return value


#: A stamp may be this much later than its reference (clock skew, a file written since).
_SLACK = timedelta(hours=1)
_DAY = timedelta(days=1)


def _zone(offset: str | None, name: str | None) -> timezone | None:
    if offset:
        if offset == "Z":
            return UTC
        digits = offset[1:].replace(":", "")
        try:
            delta = timedelta(
                hours=int(digits[:2]), minutes=int(digits[2:4]), seconds=int(digits[4:6] or 0)
            )
            return timezone(delta if offset[0] == "+" else -delta)
        except ValueError:
            return None
    if name and name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    return None


def _expand(datefmt: str) -> str:
    for _ in range(3):  # composites nest at most once (%c contains %e ...)
        expanded = _DIRECTIVE_RE.sub(
            lambda m: _COMPOSITE.get(m[2], m[0]) if not m[1] else m[0], datefmt
        )
        if expanded == datefmt:
            break
        datefmt = expanded
    return datefmt


def compile_datefmt(datefmt: str, prefix: str = "t_") -> TimeShape:
    """Compile a strftime pattern; ``prefix`` keeps group names unique in a larger regex."""
    text = _expand(datefmt)
    parts: list[str] = []
    components: dict[str, str] = {}
    pos = 0
    for m in _DIRECTIVE_RE.finditer(text):
        parts.append(re.escape(text[pos : m.start()]))
        pos = m.end()
        flag, code = m[1], m[2]
        if code == "%":
            parts.append("%")
            continue
        known = _DIRECTIVES.get(code)
        if known is None:
            raise FormatError(
                f"datefmt {datefmt!r}: unknown strftime directive '%{code}' "
                "(use e.g. %Y-%m-%d %H:%M:%S)"
            )
        regex, comp = known
        if flag in ("-", "_") and regex.startswith(r"\d{"):
            width = int(regex[3])
            regex = rf"\d{{1,{width}}}" if flag == "-" else rf" {{0,{width - 1}}}\d{{1,{width}}}"
        if comp is not None and comp not in components:
            group = f"{prefix}{comp}"
            components[comp] = group
            parts.append(f"(?P<{group}>{regex})")
        else:
            parts.append(f"(?:{regex})")
    tail = text[pos:]
    if "%" in tail:
        raise FormatError(f"datefmt {datefmt!r}: a lone '%' at the end (write '%%')")
    parts.append(re.escape(tail))
    return TimeShape(datefmt, "".join(parts), prefix, components)
