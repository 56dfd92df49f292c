"""The one record model every source and parser produces, and level normalisation.

Levels normalise to Python's numbers (TRACE 5 ... CRITICAL 50). Names we do not know keep
their name (loguru's SUCCESS) with the number the source gave, or 0 when it gave none.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from logview.timeparse import to_timestamp

if TYPE_CHECKING:
    from logview.formats.base import LogFormat

TRACE = 5
DEBUG = 10
INFO = 20
NOTICE = 25
WARNING = 30
ERROR = 40
CRITICAL = 50

#: Canonical level names and their numbers.
LEVELS: dict[str, int] = {
    "TRACE": TRACE,
    "DEBUG": DEBUG,
    "INFO": INFO,
    "NOTICE": NOTICE,
    "WARNING": WARNING,
    "ERROR": ERROR,
    "CRITICAL": CRITICAL,
}

#: Every spelling we accept, upper-cased, mapped to (canonical name, number).
_ALIASES: dict[str, tuple[str, int]] = {name: (name, no) for name, no in LEVELS.items()}
_ALIASES.update(
    {
        "TRC": ("TRACE", TRACE),
        # supervisord's own: BLAT (blather, below trace), TRAC, DEBG
        "BLAT": ("TRACE", TRACE),
        "TRAC": ("TRACE", TRACE),
        "DEBG": ("DEBUG", DEBUG),
        "VERBOSE": ("DEBUG", DEBUG),
        "DBG": ("DEBUG", DEBUG),
        "DEBU": ("DEBUG", DEBUG),
        "INF": ("INFO", INFO),
        "INFORMATION": ("INFO", INFO),
        "INFORMATIONAL": ("INFO", INFO),
        "NOTE": ("NOTICE", NOTICE),
        "WARN": ("WARNING", WARNING),
        "WRN": ("WARNING", WARNING),
        "WARNI": ("WARNING", WARNING),
        "ERR": ("ERROR", ERROR),
        "ERRO": ("ERROR", ERROR),
        "EROR": ("ERROR", ERROR),
        "CRIT": ("CRITICAL", CRITICAL),
        "CRITI": ("CRITICAL", CRITICAL),
        "FATAL": ("CRITICAL", CRITICAL),
        "FTL": ("CRITICAL", CRITICAL),
        "ALERT": ("CRITICAL", CRITICAL),
        "EMERG": ("CRITICAL", CRITICAL),
        "EMERGENCY": ("CRITICAL", CRITICAL),
        "PANIC": ("CRITICAL", CRITICAL),
    }
)

#: Every level spelling ``level_from_name`` knows (upper-case) -> (canonical name, number).
LEVEL_ALIASES = _ALIASES
#: The same names written UPPER, lower and Title: how level names appear in log text.
LEVEL_SPELLINGS = frozenset(
    spelling for alias in _ALIASES for spelling in (alias, alias.lower(), alias.title())
)

#: The comparisons a level term may ask a format that writes levels its own way
#: (``LogFormat.level_pattern``): ``levelno OP number``.
LEVEL_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "=": operator.eq}

#: Syslog severities 0..7 (RFC 5424) to Python levels.
SYSLOG_SEVERITY: dict[int, tuple[str, int]] = {
    0: ("CRITICAL", CRITICAL),  # emerg
    1: ("CRITICAL", CRITICAL),  # alert
    2: ("CRITICAL", CRITICAL),  # crit
    3: ("ERROR", ERROR),
    4: ("WARNING", WARNING),
    5: ("NOTICE", NOTICE),
    6: ("INFO", INFO),
    7: ("DEBUG", DEBUG),
}

#: pino / bunyan numeric levels.
_PINO: dict[int, tuple[str, int]] = {
    10: ("TRACE", TRACE),
    20: ("DEBUG", DEBUG),
    30: ("INFO", INFO),
    40: ("WARNING", WARNING),
    50: ("ERROR", ERROR),
    60: ("CRITICAL", CRITICAL),
}


def level_from_name(name: str) -> tuple[str | None, int]:
    """Normalise a level name: ``'warn'`` -> ``('WARNING', 30)``; unknown names keep their name."""
    text = name.strip()
    if not text:
        return None, 0
    upper = text.upper()
    hit = _ALIASES.get(upper)
    if hit is not None:
        return hit
    digits = upper[1:] if upper[:1] == "-" else upper
    if digits.isascii() and digits.isdigit():  # a number: negative or huge is no level
        number = decimal(digits)
        if number is None or upper[:1] == "-":
            return None, 0
        return level_from_python_number(number)
    if upper.startswith("LEVEL "):  # logging's "Level 15"
        number = decimal(upper[6:])
        if number is not None:
            return level_from_python_number(number)
    return upper, 0


#: The largest level number a record keeps: ``logging``'s are small; a bigger one is no level
#: anyone set (a hostile line's 10**30 would break every 64-bit integer after it: JSON output).
MAX_LEVELNO = (1 << 31) - 1


def level_from_python_number(number: int) -> tuple[str | None, int]:
    """A Python ``levelno`` (custom numbers keep their value, named after the level below)."""
    for name, no in LEVELS.items():
        if no == number:
            return name, no
    if not 0 < number <= MAX_LEVELNO:
        return None, 0
    return f"LEVEL {number}", number


def decimal(text: str, max_digits: int = 18) -> int | None:
    """The value of ``text`` when it is ASCII digits only (at most ``max_digits``), else None.

    ``str.isdigit`` is also true of ``"²"``, which ``int`` refuses, and ``int`` refuses more
    than 4300 digits: parsers read numbers out of hostile text through this, never raising.
    """
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def level_from_pino(number: int) -> tuple[str | None, int]:
    """pino/bunyan numeric levels (10..60); other numbers are read as Python numbers."""
    hit = _PINO.get(number)
    return hit if hit is not None else level_from_python_number(number)


def level_from_syslog(severity: int) -> tuple[str, int]:
    """Syslog severity 0..7 to a Python level."""
    return SYSLOG_SEVERITY.get(severity, ("INFO", INFO))


def parse_level_value(value: Any, *, numeric: str = "python") -> tuple[str | None, int]:
    """Normalise a level as found in JSON: a name, a number string or a number.

    ``numeric`` says how to read bare numbers: ``"python"`` (10..50), ``"pino"`` (10..60) or
    ``"syslog"`` (0..7).
    """
    if isinstance(value, bool) or value is None:
        return None, 0
    if isinstance(value, (int, float)):
        number = int(value)
        if numeric == "pino":
            return level_from_pino(number)
        if numeric == "syslog":
            return level_from_syslog(number)
        return level_from_python_number(number)
    if isinstance(value, str):
        return level_from_name(value)
    return None, 0


@dataclass(slots=True)
class Record:
    """One log record, whatever it came from.

    ``message`` and the other parsed fields have ANSI escape codes stripped; ``raw`` keeps the
    record's original text (all its lines) for copying and display, ``data`` its bytes exactly
    as read (None for records that were not read from bytes, e.g. received ones). ``line`` is
    the 1-based line where the record starts and ``offset`` its byte offset.
    """

    message: str
    time: datetime | None = None
    time_text: str | None = None
    level: str | None = None
    levelno: int = 0
    logger: str = ""
    exc: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    line: int | None = None
    offset: int | None = None
    raw: str = ""
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def timestamp(self) -> float | None:
        """Seconds since the epoch (naive times are taken as local time), or None."""
        return None if self.time is None else to_timestamp(self.time)

    @property
    def extra_lines(self) -> int:
        """How many lines the record has beyond its first (message lines plus traceback)."""
        count = self.message.count("\n")
        if self.exc:
            count += self.exc.count("\n") + 1
        return count


# ---------------------------------------------------------------------------------------------
# Text hygiene shared by every parser and renderer.

#: CSI / OSC / other escape sequences (ECMA-48), including 8-bit C1 introducers.
ANSI_RE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI ... final
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)"  # OSC ... BEL/ST
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c)"  # DCS/SOS/PM/APC ... ST
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x1b",  # a lone ESC
    re.DOTALL,
)

#: Control characters that must never reach a terminal (everything below 0x20 but tab and
#: newline, DEL and the C1 range).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


#: The characters that start what ``ANSI_RE`` removes: ESC and the 8-bit C1 introducers.
ESCAPE_INTRODUCERS = "\x1b\x90\x98\x9b\x9d\x9e\x9f"
_C1_INTRO_RE = re.compile("[" + ESCAPE_INTRODUCERS[1:] + "]")
#: The introducers as they appear in raw bytes (UTF-8).
ESCAPE_BYTES = tuple(char.encode() for char in ESCAPE_INTRODUCERS)
ESCAPE_BYTES_RE = re.compile(b"|".join(re.escape(mark) for mark in ESCAPE_BYTES))


def holds_escape(raw: bytes) -> bool:
    """Whether ``raw`` holds one of ``ESCAPE_BYTES`` (at C speed when it has no ESC and no
    ``\xc2`` byte, the lead byte of every UTF-8 C1 introducer)."""
    return b"\x1b" in raw or (b"\xc2" in raw and ESCAPE_BYTES_RE.search(raw) is not None)


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor moves, titles) from text."""
    if "\x1b" not in text and (text.isascii() or _C1_INTRO_RE.search(text) is None):
        return text  # the common case, decided at C speed
    return ANSI_RE.sub("", text)


#: A box's top-left corner drawn before a record's first line (and the space after it):
#: TraceRite, which draws Sanic's logged exceptions and those of any program that loads
#: it, frames a record as ``╭ <the line the handler formatted>``, then ``│ `` before each
#: line of the traceback and ``╰ `` before the last. The framed line is the record's head.
CORNERS = frozenset("\u250c\u250d\u250e\u250f\u2552\u2553\u2554\u256d")
#: A corner in UTF-8, where a line starts (``starts_at`` and ``next_start`` look for it).
CORNER_BYTES = rb"\xe2(?:\x94[\x8c-\x8f]|\x95[\x92-\x94\xad])"
CORNER_BYTES_RE = re.compile(CORNER_BYTES)
#: A line that opens with a corner, in a buffer of lines.
_CORNER_LINE_RE = re.compile(b"(?:^|\n)" + CORNER_BYTES)


def undecorated(line: str) -> str:
    """``line`` (ANSI stripped) without a box's top-left corner and the space after it."""
    if line[:1] in CORNERS:
        return line[2:] if line[1:2] == " " else line[1:]
    return line


def holds_corner_line(buf: bytes) -> bool:
    """Whether a line of ``buf`` opens with a box's top-left corner (``undecorated``)."""
    return b"\xe2" in buf and _CORNER_LINE_RE.search(buf) is not None


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 control pictures: NUL -> ␀, ESC -> ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"


def printable(text: str) -> str:
    """Make text safe for a terminal: escapes and control characters become visible symbols.

    Tabs and newlines are kept; every other control character (ESC included, so no escape
    sequence survives) is replaced by a visible Unicode control picture.
    """
    return _CONTROL_RE.sub(_control_picture, text)


#: A line that opens a traceback: ``Traceback``, ``stack_info``'s ``Stack``, an exception
#: group's header (``  + Exception Group Traceback``), at any indentation (some formatters
#: indent the whole exception text, others strip it).
_EXC_LINE_RE = re.compile(
    r"^[ \t]*(?:\+ )?(?:Traceback|Stack|Exception Group Traceback) \(most recent call last\):"
    # A JVM stack trace: the exception's class (a package-qualified name), optionally after
    # 'Exception in thread "..." ', then its first "at" frame on the next line.
    r"|^(?:Exception in thread \"[^\"\n]*\" )?(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?::[^\n]*)?"
    r"\n[ \t]+at [\w$.]",
    re.MULTILINE,
)


def split_exception(text: str) -> tuple[str, str | None]:
    """Split a record's text after its first line into (message, traceback or None).

    The traceback starts at the first line that opens one (``Traceback (most recent call
    last):``, ``Stack (most recent call last):`` for ``stack_info``, exception groups; indented
    or not); everything from there on is exception text (chained exceptions included), the
    lines before it stay in the message.
    """
    nl = text.find("\n")
    if nl < 0:
        return text, None
    match = _EXC_LINE_RE.search(text, nl + 1)
    if match is None:
        return text, None
    return text[: match.start()].rstrip("\n"), text[match.start() :].rstrip("\n")


#: The level buckets counted per level (level bar, statistics), lowest first: (name, minimum levelno).
LEVEL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("DEBUG", 1),
    ("INFO", INFO),
    ("WARNING", WARNING),
    ("ERROR", ERROR),
    ("CRITICAL", CRITICAL),
)


def level_bucket(levelno: int) -> int:
    """Index into ``LEVEL_BUCKETS`` for a level number, or -1 for records without a level."""
    if levelno <= 0:
        return -1
    index = 0
    for i, (_, floor) in enumerate(LEVEL_BUCKETS):
        if levelno >= floor:
            index = i
    return index


# -- raw records: bytes as read, before parsing

#: A record longer than this is cut into several records (nothing is dropped).
MAX_RECORD_BYTES = 64 * 1024 * 1024


class FieldsOnly:
    """A record's fields alone, for a query that reads nothing else (``Query.fields_only``):
    making the record costs more than the rest of its test (2.4 µs against 0.3 µs)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict) -> None:
        self.fields = fields


@dataclass(slots=True, frozen=True)
class RawRecord:
    """A record's bytes and where it starts (byte offset, 1-based line number)."""

    offset: int
    line: int
    data: bytes

    def text(self) -> str:
        """The record's text: UTF-8 with replacement characters, CRLF as LF, no final newline."""
        return decode_record(self.data)


def decode_record(data: bytes) -> str:
    """Decode a record's bytes for parsing and display; never raises."""
    text = data.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text.rstrip("\n")


def parse_raw_record(fmt: LogFormat, raw: RawRecord, source: str = "") -> Record:
    """Parse a raw record with ``fmt`` and stamp where it came from.

    A record that names its own source (logview's JSON lines: the listener's spool, a
    ``-o jsonl`` export) keeps it, so a client's identity survives the spool.
    """
    record = fmt.parse_raw(raw.text())
    record.data = raw.data
    record.source = record.source or source
    record.line = raw.line
    record.offset = raw.offset
    return record
