"""The typed tokens of a log line's head, and the datefmt each timestamp form is written with.

Template inference (``formats.infer``) aligns these tokens across lines; a forced template
without a datefmt (``--format '%(asctime)s ...'``) takes its time shape from ``time_pieces``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from logview.formats.base import FormatError
from logview.record import LEVEL_ALIASES

#: Characters and tokens of each line's head the tokenizer looks at.
HEAD_CHARS = 240
MAX_TOKENS = 40
#: Sample lines ``time_pieces`` looks at.
MAX_LINES = 400

#: Level names a header may hold: every spelling ``level_from_name`` knows, and the custom
#: names common libraries add (loguru's SUCCESS, java.util.logging's SEVERE/FINE/CONFIG).
_EXTRA_LEVELS = ("SUCCESS", "EXCEPTION", "SEVERE", "FINEST", "FINER", "FINE", "CONFIG")
_LEVEL_WORDS = "|".join(
    sorted({*LEVEL_ALIASES, *_EXTRA_LEVELS}, key=len, reverse=True)) + r"|Level \d+"

#: Time forms Python programs write, most specific first: (name, regex). The datefmt is
#: worked out from the matched text by ``time_piece``. A fraction may be a literal ``%f``:
#: ``time.strftime`` (what logging uses) writes a datefmt's ``%f`` as it is.
#: A zone glued to a time: ``Z`` (not a word's first letter) or a numeric offset. A
#: template that writes ``%(asctime)sZ`` or ``%(asctime)s.%(msecs)03dZ`` glues a literal
#: ``Z`` to whatever time form its datefmt makes; read as the time's zone (``%z``), the
#: literal neither splits the head nor hides the field after it.
_ZONE = r"(?:Z(?![A-Za-z])|[+-]\d{2}:?\d{2}(?![\d:]))?"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_TIME_FORMS: tuple[tuple[str, str], ...] = (
    ("iso-zone", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,](?:\d{1,9}|%f))? [+-]\d{4}(?!\d)"),
    # (also apt's two spaces before the time, and Airflow's "2024-01-02, 03:04:05 UTC")
    # (and MariaDB's hour padded with a space: "2026-12-02  2:06:29")
    # (and loguru's README example, "{time:YYYY-MM-DD at HH:mm:ss}": "2026-12-02 at 02:55:50")
    ("iso", (r"\d{4}-\d{2}-\d{2}(?:(?:[T ]| {2}(?=\d)|, (?=\d)| at (?=\d))\d{2}"
             r"| {2}\d(?=:)):\d{2}(?::\d{2})?+"
             r"(?:[.,](?:\d{1,9}|%f))?+(?:Z|[+-]\d{2}:?\d{2}| (?:UTC|GMT)(?![\w.-]))?(?!\d)")),
    ("slash-ymd", (r"\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,](?:\d{1,9}|%f))?+"
                   + _ZONE + r"(?!\d)")),
    ("clf", r"\d{2}/[A-Z][a-z]{2}/\d{4}[: ]\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?(?!\d)"),
    ("dmy", (r"\d{2}[/.-]\d{2}[/.-]\d{2}(?:\d{2})? \d{2}:\d{2}:\d{2}(?:[.,](?:\d{1,9}|%f))?+"
             rf"(?: [AaPp][Mm])?{_ZONE}(?!\d)")),
    ("md", rf"\d{{2}}[/.-]\d{{2}} \d{{2}}:\d{{2}}(?::\d{{2}})?+(?:[.,](?:\d{{1,9}}|%f))?+{_ZONE}(?!\d)"),
    ("ctime", (r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"
               r"(?:[.,](?:\d{1,9}|%f))? \d{4}(?!\d)")),
    # A day, a month's name, a year: "02-Dec-26 10:00:00" (%d-%b-%y, a common datefmt),
    # Redis's "02 Dec 2026 10:00:00.123", an email's "Wed, 02 Dec 2026 10:00:00 +0000"
    # (a two-digit year only after dashes or slashes: "12 Nov 14 22:13:20" is more likely a
    # line number before syslog's "%b %d" than a date)
    ("dmy-name", (rf"(?:{_WEEKDAY}, )?\d{{2}}(?:(?:-{_MONTH}-|/{_MONTH}/)(?:\d{{4}}|\d{{2}})"
                  rf"| {_MONTH} \d{{4}}) "
                  r"\d{2}:\d{2}:\d{2}(?:[.,](?:\d{1,9}|%f))?+(?: [+-]\d{4})?(?!\d)")),
    # "Dec 02, 2026 10:00:00" (%b %d, %Y), with "PM" after a 12-hour time (java.util.logging)
    ("mdy-name", (rf"{_MONTH} \d{{2}}, \d{{4}} \d{{1,2}}:\d{{2}}:\d{{2}}"
                  r"(?:[.,](?:\d{1,9}|%f))?+(?: [AaPp][Mm](?!\w))?(?!\d)")),
    ("bsd", r"[A-Z][a-z]{2} [ \d]\d(?: \d{4})? \d{2}:\d{2}:\d{2}(?:[.,](?:\d{1,9}|%f))?+(?!\d)"),
    ("tornado", rf"\d{{6}} \d{{2}}:\d{{2}}:\d{{2}}(?:[.,](?:\d{{1,9}}|%f))?+{_ZONE}(?!\d)"),
    ("compact", rf"\d{{8}}[ T]\d{{6}}(?:[.,](?:\d{{1,9}}|%f))?+{_ZONE}(?!\d)"),
    # "20171223-22:15:29:606": a compact date, a dash, the time, milliseconds after a colon
    ("compact-dash", r"\d{8}-\d{2}:\d{2}:\d{2}(?::\d{3})?(?![\d:])"),
    ("compact-short", r"\d{6} \d{6}(?!\d)"),
    ("clock", rf"\d{{2}}:\d{{2}}:\d{{2}}(?:[.,](?:\d{{1,9}}|%f))?+{_ZONE}(?!\d)"),
    ("epoch", r"1[4-9]\d{8}(?:\.\d{1,9})?+(?![\d:])"),
)

_LEXER = re.compile(
    "|".join(f"(?P<t_{name.replace('-', '_')}>{rx})" for name, rx in _TIME_FORMS)
    # (not the first part of a dotted name: "config.option = 1", "error.log" are no levels)
    + rf"|(?P<level>(?:{_LEVEL_WORDS})(?![\w]|\.\w))"
    + r"|(?P<path>(?<!\w)(?:/|\./|~/)[\w.~/+-]*[\w])"
    # (a UUID, a request's id, is one word, though it may open with digits)
    + r"|(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-]))"
    + r"|(?P<number>\d+(?![\w.]))"
    # (a word ends before "#level": twisted's "[namespace#info]" is a logger and a level)
    + rf"|(?P<word><[\w.-]+>|(?!#(?:{_LEVEL_WORDS})(?!\w))[\w.$@#*~+']"
    # (and a Rust or C++ path, "myapp::db", is one word: a logger, as env_logger writes it)
    # (and so is a dotted name with bracketed parts, as logback abbreviates Tomcat's loggers:
    # "o.a.c.c.C.[Tomcat].[localhost].[/]", "o.a.c.c.C.[.[.[/].[dispatcherServlet]")
    + rf"(?:(?!#(?:{_LEVEL_WORDS})(?!\w))[\w.$<>@#*~+'-]|::(?=\w)"
    + r"|(?<=\.)\[[^\s\]]*\](?=\.|\s|$))*"
    + r"(?<=[\w$>*'\]])(?:\(\))?)"
    + r"|(?P<open>[\[({])|(?P<close>[\])}])"
    + r"|(?P<ws>[ \t]+)"
    + r"|(?P<punct>[^\w\s\[\](){}])",
    re.IGNORECASE,
)

@dataclass(slots=True)
class Token:
    kind: str  # "time", "level", "number", "word", "path", "open", "close", "ws", "punct"
    text: str
    form: str = ""  # the time form's name


def tokenize_head(line: str) -> list[Token]:
    """The typed tokens of a line's head (its first ``HEAD_CHARS`` characters)."""
    out: list[Token] = []
    head = line[:HEAD_CHARS]
    pos = 0
    match = _LEXER.match
    while pos < len(head) and len(out) < MAX_TOKENS:
        m = match(head, pos)
        if m is None:  # pragma: no cover - punct takes any single character
            break
        kind = m.lastgroup or "punct"
        form = ""
        if kind.startswith("t_"):
            form, kind = kind[2:].replace("_", "-"), "time"
        elif kind == "uuid":
            kind = "word"
        out.append(Token(kind, m.group(), form))
        pos = m.end()
    return out


def _with_zone(time_text: str, form: str, zone: str, *, spell_default: bool
               ) -> tuple[str, str | None]:
    """The template text and datefmt of ``time_text`` followed by a zone written as ``zone``
    (``%z``, `` %Z``). The zone follows the fraction, so one datefmt reads both; logging's
    default shape (no datefmt) is spelled out when ``spell_default``, else left as it is."""
    template, datefmt = time_piece([time_text], form)
    if datefmt is None:
        if not spell_default:
            return template, datefmt
        template, datefmt = "%(asctime)s,%(msecs)03d", "%Y-%m-%d %H:%M:%S"
    if "%(msecs)" in template:
        frac = re.search(r"([.,])(\d{1,9})$", time_text)
        template, datefmt = "%(asctime)s", datefmt + (f"{frac[1]}%f" if frac else "")
    return template, datefmt + zone


def time_piece(values: list[str], form: str) -> tuple[str, str | None]:
    """The template text and datefmt that write times like ``values``."""
    sample = values[0]
    zone = _GLUED_ZONE.search(sample) if form in _ZONED_FORMS else None
    if zone is not None:  # the form's own datefmt, then the zone (%z reads Z and offsets)
        return _with_zone(sample[:zone.start()], form, "%z", spell_default=False)
    if form == "iso" and any(_SPACE_PADDED_HOUR.match(value) for value in values):
        # MariaDB's "2026-12-02  2:06:29": the hour padded with a space (%k), not a zero
        padded = next(v for v in values if _SPACE_PADDED_HOUR.match(v))
        template, datefmt = time_piece([padded[:11] + "0" + padded[12:]], form)
        if datefmt is None:  # logging's default shape, but for the hour
            template, datefmt = "%(asctime)s,%(msecs)03d", "%Y-%m-%d %H:%M:%S"
        return template, datefmt.replace("%H", "%k", 1)
    if form == "iso" and sample[10:14] == " at ":  # loguru's README: "2026-12-02 at 02:55:50"
        template, datefmt = time_piece([sample[:10] + " " + sample[14:]], form)
        if datefmt is None:  # logging's default shape, but for the word
            template, datefmt = "%(asctime)s,%(msecs)03d", "%Y-%m-%d %H:%M:%S"
        return template, datefmt.replace("%d ", "%d at ", 1)
    if form == "iso" and sample[10:12] in ("  ", ", "):  # apt's "2025-06-24  14:36:25",
        # Airflow's "2025-06-24, 14:36:25 UTC": the ISO shape with a mark before the time
        template, datefmt = time_piece([sample[:10] + sample[11:]], form)
        if datefmt is None:  # logging's default shape, but for the mark
            template, datefmt = "%(asctime)s,%(msecs)03d", "%Y-%m-%d %H:%M:%S"
        return template, datefmt.replace("%d ", "%d" + sample[10:12], 1)
    named = re.search(r" (UTC|GMT)$", sample) if form == "iso" else None
    if named is not None:  # a zone's name (%Z): UTC and GMT are read as UTC
        return _with_zone(sample[:named.start()], form, " %Z", spell_default=True)
    frac = re.search(r"[.,](\d{1,9}|%f)(?=$|Z|[ +-])", sample[10:] if form != "clock" else sample)
    digits = (6 if frac.group(1) == "%f" else len(frac.group(1))) if frac else 0
    sep = frac.group(0)[0] if frac else ""
    if form in ("iso", "iso-zone"):
        t = "T" if sample[10] == "T" else " "
        has_seconds = sample[16:17] == ":"
        zone = re.search(r"(Z|[+-]\d{2}:?\d{2})$", sample)
        date = f"%Y-%m-%d{t}%H:%M" + (":%S" if has_seconds else "")
        if not zone and sep == "," and digits == 3 and t == " " and has_seconds:
            return "%(asctime)s", None  # logging's default
        if not zone and digits == 3:
            return f"%(asctime)s{sep}%(msecs)03d", date
        datefmt = date + (f"{sep}%f" if digits else "")
        if zone:
            datefmt += (" " if form == "iso-zone" else "") + "%z"
        return "%(asctime)s", datefmt
    if form == "slash-ymd":
        t = sample[10]
        return with_fraction(f"%Y/%m/%d{t}%H:%M:%S", sep, digits)
    if form == "clf":
        return "%(asctime)s", f"%d/%b/%Y{sample[11]}%H:%M:%S" + (" %z" if len(sample) > 20 else "")
    if form == "dmy":
        return dmy_piece(values, sep, digits)
    if form == "ctime":
        return "%(asctime)s", f"%a %b %e %H:%M:%S{sep + '%f' if digits else ''} %Y"
    if form == "dmy-name":
        m = re.match(r"((?:\w{3}, )?)\d{2}(.)\w{3}.(\d+)", sample)
        assert m is not None
        weekday, mark, year = m.group(1), m.group(2), m.group(3)
        datefmt = (f"{'%a, ' if weekday else ''}%d{mark}%b{mark}"
                   f"{'%Y' if len(year) == 4 else '%y'} %H:%M:%S")
        if re.search(r" [+-]\d{4}$", sample):
            return "%(asctime)s", datefmt + (f"{sep}%f" if digits else "") + " %z"
        return with_fraction(datefmt, sep, digits)
    if form == "mdy-name":
        twelve = re.search(r" [AaPp][Mm]$", sample)
        datefmt = f"%b %d, %Y {'%I' if twelve else '%H'}:%M:%S"
        if twelve:
            return "%(asctime)s", datefmt + (f"{sep}%f" if digits else "") + " %p"
        return with_fraction(datefmt, sep, digits)
    if form == "bsd":
        year = " %Y" if re.match(r"[A-Z][a-z]{2} [ \d]\d \d{4} ", sample) else ""
        return with_fraction(f"%b %e{year} %H:%M:%S", sep, digits)
    if form == "tornado":
        return with_fraction("%y%m%d %H:%M:%S", sep, digits)
    if form == "compact":
        return with_fraction(f"%Y%m%d{sample[8]}%H%M%S", sep, digits)
    if form == "compact-dash":
        return ("%(asctime)s:%(msecs)03d" if len(sample) > 17 else "%(asctime)s",
                "%Y%m%d-%H:%M:%S")
    if form == "compact-short":  # log4j's "yyMMdd HHmmss" (HDFS)
        return "%(asctime)s", "%y%m%d %H%M%S"
    if form == "md":
        seconds = ":%S" if sample[6:].count(":") >= 2 else ""
        return with_fraction(f"%m{sample[2]}%d %H:%M{seconds}", sep, digits)
    if form == "clock":
        return with_fraction("%H:%M:%S", sep, digits)
    if form == "epoch":
        return (f"%(created).{digits}f", None) if digits else ("%(created)d", None)
    raise FormatError(f"unknown time form {form!r}")  # pragma: no cover


#: The forms whose regex reads a glued zone (``_ZONE``); iso reads its own.
_SPACE_PADDED_HOUR = re.compile(r"\d{4}-\d\d-\d\d  \d:")
_ZONED_FORMS = frozenset({"slash-ymd", "dmy", "md", "tornado", "compact", "clock"})
_GLUED_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def with_fraction(datefmt: str, sep: str, digits: int) -> tuple[str, str | None]:
    if digits == 3:
        return f"%(asctime)s{sep}%(msecs)03d", datefmt
    if digits:
        return "%(asctime)s", f"{datefmt}{sep}%f"
    return "%(asctime)s", datefmt


def _year_first(values: list[str], day_first: bool) -> bool:
    """Whether short dates like ``17/06/09`` are year first (log4j's ``yy/MM/dd``, Spark's
    and Hadoop's tools) rather than the day or month first ``dmy_piece`` would read: when
    read so every date is valid and none is in the future, and the latest is later than
    the other reading's latest or that one's is in the future (logs are read soon after
    they are written; 09/06/17 stays a date of 2017, not 2009)."""
    def latest(order: tuple[int, int, int]) -> date | None:
        found = None
        for value in values:
            parts = [value[0:2], value[3:5], value[6:8]]
            if not all(p.isdigit() for p in parts):
                continue
            y, m, d = (int(parts[k]) for k in order)
            try:
                day = date(2000 + y, m, d)
            except ValueError:
                return None
            found = day if found is None or day > found else found
        return found

    today = date.today()
    year_first = latest((0, 1, 2))
    if year_first is None or year_first > today:
        return False
    other = latest((2, 1, 0) if day_first else (2, 0, 1))
    return other is None or other > today or year_first > other


def dmy_piece(values: list[str], sep: str, digits: int) -> tuple[str, str | None]:
    first = values[0]
    mark = first[2]
    long_year = len(first.split(" ")[0]) == 10
    year = "%Y" if long_year else "%y"
    a = [int(v[0:2]) for v in values if v[0:2].isdigit()]
    b = [int(v[3:5]) for v in values if v[3:5].isdigit()]
    day_first = (max(a, default=0) > 12 or mark == ".") and max(b, default=0) <= 12
    date = f"%d{mark}%m{mark}{year}" if day_first else f"%m{mark}%d{mark}{year}"
    if not long_year and _year_first(values, day_first):
        date = f"%y{mark}%m{mark}%d"
    ampm = first.rstrip()[-2:].upper() in ("AM", "PM")
    clock = "%I:%M:%S" if ampm else "%H:%M:%S"
    template, datefmt = with_fraction(f"{date} {clock}", sep, digits)
    if ampm and datefmt is not None:
        if "%(msecs)" in template:  # the fraction sits between the seconds and AM/PM
            return "%(asctime)s", f"{date} {clock}{sep}%f %p"
        datefmt += " %p"
    return template, datefmt


def time_pieces(lines: list[str]) -> list[tuple[str, str | None]]:
    """The ways the sample's lines write their first timestamp, most common first, each as
    (template text, datefmt): ``("%(asctime)s.%(msecs)03d", "%Y-%m-%d %H:%M:%S")``.

    ``lines`` are record-start lines. A template given without a datefmt (``--format '%(asctime)s ...'``) takes its time
    shape from here, so any common timestamp works for ``asctime``.
    """
    found: dict[str, list[str]] = {}
    for line in lines[:MAX_LINES]:
        for token in tokenize_head(line):
            if token.kind == "time":
                found.setdefault(token.form, []).append(token.text)
                break
    ranked = sorted(found.items(), key=lambda item: len(item[1]), reverse=True)
    return [time_piece(values, form) for form, values in ranked]
