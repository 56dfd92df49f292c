"""Syslog lines as found in files and on the wire.

RFC 3164 (``<PRI>Jan  2 03:04:05 host app[123]: msg``, also without PRI as in
/var/log/syslog and journalctl's short output), rsyslog's ISO timestamps, RFC 5424
(``<PRI>1 2024-01-02T03:04:05Z host app procid msgid [sd] msg``) and Python's
``SysLogHandler`` (``<PRI>`` + formatted text, NUL-terminated). PRI gives the level (severity)
and the facility; host, app and pid become fields and the app name the logger.

The message is often a program's own formatted line (``SysLogHandler`` with a Formatter such
as ``%(levelname)s %(name)s: %(message)s``). Detection then gives the format an ``inner``
format for the messages: its logger (the Python logger's name) replaces the app as the logger
(the app stays a field), and its level is the record's when the line has no PRI (rsyslog's
files). PRI wins when both are there: ``SysLogHandler.mapPriority`` wrote it from the record's
own level, while a level word is only text.
"""

from __future__ import annotations

import re
from typing import Any

from logview.formats.base import CONTINUATION_PATTERN, LogFormat
from logview.record import (
    LEVEL_ALIASES,
    Record,
    decimal,
    level_from_syslog,
    split_exception,
    strip_ansi,
)
from logview.timeparse import parse_time

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip

_PRI = r"<(?P<pri>\d{1,3})>"
_BSD_TIME = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
_ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
#: RFC 3164 TAG: app name, optional [pid], then ":".
_TAG = r"(?P<app>[^\s\[\]:]{1,128})(?:\[(?P<pid>[^\]\s]{1,32})\])?:(?: |$)"

_RFC5424 = re.compile(
    _PRI + r"1 (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+)"
    r" (?P<sd>-|(?:\[(?:[^\]\"\\]|\"(?:[^\"\\]|\\.)*\"|\\.)*\])+)(?: (?P<msg>.*))?",
    re.DOTALL,
)
_RFC3164 = re.compile(
    rf"(?:{_PRI})?(?P<time>{_BSD_TIME}(?: \d{{4}})?|{_ISO_TIME}) (?P<host>\S+) (?:{_TAG})?"
    r"(?P<msg>.*)",
    re.DOTALL,
)
#: SysLogHandler: ``ident[pid]: `` is read as the app; a bare ``word: `` could as well be the
#: message itself ("crashed: now"), so it stays in the message.
_PYTHON = re.compile(
    _PRI + r"(?:(?P<app>[^\s\[\]:]{1,128})\[(?P<pid>\d{1,10})\]: )?(?P<msg>.*)", re.DOTALL
)
_SD_ELEMENT = re.compile(
    r"\[(?P<id>[^\s\]=\"]+)(?P<params>(?: [^\s=\]\"]+=\"(?:[^\"\\]|\\.)*\")*) ?\]"
)
_SD_PARAM = re.compile(r" ([^\s=\]\"]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")
_START = re.compile(rf"<\d{{1,3}}>|{_BSD_TIME} \S|{_ISO_TIME} \S")
#: A line without PRI whose "host" is a level name (``2024-01-02T03:04:05Z INFO started``)
#: or a zone's name (``2024-01-02T03:04:05 UTC INFO ...``, a ``%Z`` datefmt): a program's
#: time and level, not syslog's host.
_LEVEL_HOST = re.compile(
    rf"(?:{_BSD_TIME}(?: \d{{4}})?|{_ISO_TIME}) (?:"
    + "|".join(sorted((*LEVEL_ALIASES, "utc", "gmt"), key=len, reverse=True))
    + r")(?=[\s:\]]|$)",
    re.IGNORECASE)


def _continued_line(apps: list[str] | None) -> str:
    """A line (RFC 3164) whose message continues a record: a traceback's line, which journald
    and rsyslog keep as a message of its own, under its own header (the program wrote it
    after its record's line). Only of ``apps`` (None: any app). Possessive: a header read
    shorter would leave ``app[pid]: `` in the message, no traceback line."""
    app = r"[^\s\[\]:]{1,128}+" if apps is None else "(?:" + "|".join(map(re.escape, apps)) + ")"
    return (rf"(?:{_PRI})?+(?:{_BSD_TIME}(?: \d{{4}})?+|{_ISO_TIME}) \S++ "
            rf"{app}(?:\[[^\]\s]{{1,32}}\])?+:(?: |$)(?:{CONTINUATION_PATTERN})")


def _pri_fields(pri: str | None, record: Record) -> bool:
    """Set level and facility from PRI; False when PRI is out of range."""
    if pri is None:
        return True
    value = int(pri)
    if value > 191:
        return False
    record.level, record.levelno = level_from_syslog(value & 7)
    record.fields["facility"] = FACILITIES[value >> 3]
    return True


def _pid(text: str) -> int | str:
    """A process id as a number; anything else (``²``, 5000 digits) stays text."""
    number = decimal(text)
    return text if number is None else number


def _structured_data(sd: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in _SD_ELEMENT.finditer(sd):
        sd_id = element["id"]
        for name, value in _SD_PARAM.findall(element["params"]):
            key = name if name not in out else f"{sd_id}.{name}"
            out[key] = _SD_UNESCAPE.sub(r"\1", value)
    return out


def _message(text: str) -> tuple[str, str | None]:
    """Message and traceback; rsyslog writes newlines inside a message as ``#012``."""
    if "#012" in text and "\n" not in text:
        text = text.replace("#012", "\n").replace("#011", "\t")
    return split_exception(text)


class SyslogFormat(LogFormat):
    """RFC 3164 / RFC 5424 / Python SysLogHandler lines."""

    name = "syslog"
    start_pattern = re.compile(_START.pattern.encode("ascii"))
    level_text = False  # severities are numbers in PRI, not names in the text
    has_time = True

    def __init__(self, inner: LogFormat | None = None,
                 by_app: dict[str, LogFormat] | None = None,
                 apps: frozenset[str] | None = None) -> None:
        """``inner``: the format of the messages (None: they are plain text); ``by_app``:
        the format of the messages of each of these apps (a system's log mixes programs,
        each writing its own way; the others' messages are read by ``inner``); ``apps``:
        the apps whose messages ``inner`` was seen to read (None: any), whose traceback
        lines continue their record (another's line opening with spaces, the kernel's,
        stays a record)."""
        self.inner = inner
        self.by_app = by_app or None
        self.apps = apps
        self.made_loggers = frozenset().union(
            *(f.made_loggers for f in (inner, *(by_app or {}).values()) if f is not None))
        #: Messages a program formatted (``inner``, ``by_app``): a line whose message is a
        #: traceback's line continues the record before (see ``_continued_line``).
        self._continued = None
        if inner is not None or by_app:
            joined = apps if inner is not None else frozenset(by_app or {})
            source = _continued_line(None if joined is None else sorted(joined))
            self._continued = re.compile(source, re.ASCII).match
            self.start_pattern = re.compile(
                b"(?!" + source.encode("ascii") + b")(?:" + _START.pattern.encode("ascii") + b")")

    def __repr__(self) -> str:
        return (f"SyslogFormat({self.inner!r}, apps={self.apps!r})" if self.by_app is None
                else f"SyslogFormat({self.inner!r}, by_app={self.by_app!r})")

    def is_start(self, line: str) -> bool:
        return _START.match(line) is not None and (
            self._continued is None or self._continued(line) is None)

    def score(self, lines: list[str]) -> float:
        """Start lines, but for those whose "host" is a level name (no syslog wrote them)."""
        if not lines:
            return 0.0
        return sum(1 for line in lines
                   if _START.match(line) is not None and _LEVEL_HOST.match(line) is None
                   ) / len(lines)

    def parse(self, text: str) -> Record:
        if "\n" in text:
            text = _message_lines(text)
        record = self._header(text.rstrip("\x00"))
        if record is None:
            message, exc = split_exception(text.rstrip("\x00"))
            return Record(message=message, exc=exc)
        inner = self.inner
        if self.by_app is not None:
            inner = self.by_app.get(record.fields.get("app"), inner)  # type: ignore[arg-type]
        return record if inner is None else with_message_format(record, inner)

    def _header(self, text: str) -> Record | None:
        """The record a syslog header makes of ``text``, or None when none fits."""
        if text.startswith("<"):
            m = _RFC5424.match(text)
            if m is not None:
                record = self._rfc5424(m)
                if record is not None:
                    return record
        m = _RFC3164.match(text)
        if m is not None and (m["pri"] is not None or _LEVEL_HOST.match(text) is None):
            record = self._rfc3164(m)
            if record is not None:
                return record
        m = _PYTHON.match(text)
        if m is not None:
            return self._python(m)
        return None

    def tagged(self, lines: list[str]) -> int:
        """How many of ``lines`` are syslog lines with an app's tag (``app[pid]:``)."""
        count = 0
        for line in lines:
            m = _RFC3164.match(line)
            count += m is not None and bool(m["app"]) and _LEVEL_HOST.match(line) is None
        return count

    def messages(self, lines: list[str]) -> list[str]:
        """The first message lines of the syslog lines among ``lines`` (what ``inner`` is
        detected from)."""
        return [message for _, message in self._messages(lines)]

    def messages_by_app(self, lines: list[str]) -> dict[str, list[str]]:
        """``messages`` grouped by the app that wrote them (what ``by_app`` is detected
        from); messages without an app are left out."""
        out: dict[str, list[str]] = {}
        for app, message in self._messages(lines):
            if app:
                out.setdefault(app, []).append(message)
        return out

    def _messages(self, lines: list[str]) -> list[tuple[str | None, str]]:
        out = []
        for line in lines:
            if _START.match(line) is None:
                continue
            record = self._header(line.rstrip("\x00"))
            if record is not None and record.message:
                out.append((record.fields.get("app"), record.message.partition("\n")[0]))
        return out

    @staticmethod
    def _rfc5424(m: re.Match[str]) -> Record | None:
        message, exc = _message((m["msg"] or "").removeprefix("\ufeff"))
        record = Record(message=message, exc=exc)
        if not _pri_fields(m["pri"], record):
            return None
        fields = record.fields
        if m["time"] != "-":
            record.time_text = m["time"]
            record.time = parse_time(m["time"])
        for key in ("host", "app", "pid", "msgid"):
            value = m[key]
            if value != "-":
                number = decimal(value) if key == "pid" else None
                fields[key] = value if number is None else number
        if m["app"] != "-":
            record.logger = m["app"]
        if m["sd"] != "-":
            for key, value in _structured_data(m["sd"]).items():
                fields.setdefault(key, value)
        return record

    @staticmethod
    def _rfc3164(m: re.Match[str]) -> Record | None:
        message, exc = _message(m["msg"])
        record = Record(message=message, exc=exc)
        if not _pri_fields(m["pri"], record):
            return None
        record.time_text = m["time"]
        record.time = parse_time(m["time"])
        fields = record.fields
        fields["host"] = m["host"]
        if m["app"]:
            fields["app"] = record.logger = m["app"]
        if m["pid"]:
            fields["pid"] = _pid(m["pid"])
        return record

    @staticmethod
    def _python(m: re.Match[str]) -> Record | None:
        message, exc = _message(m["msg"])
        record = Record(message=message, exc=exc)
        if not _pri_fields(m["pri"], record):
            return None
        if m["app"]:
            record.fields["app"] = record.logger = m["app"]
        if m["pid"]:
            record.fields["pid"] = _pid(m["pid"])
        return record


def _message_lines(text: str) -> str:
    """A record's lines after its first as its message's: a syslog header taken off (a
    traceback's lines, each a message of its own), and the indentation by which journalctl
    aligns a multi-line message's lines under its first taken off too."""
    first, *rest = text.split("\n")
    head = _RFC3164.match(first)
    pad = " " * head.start("msg") if head is not None and head["app"] else None
    lines = [first]
    for line in rest:
        m = _RFC3164.match(line) if _START.match(line) else None
        if m is not None:
            line = m["msg"]
        elif pad and line.startswith(pad):
            line = line[len(pad):]
        lines.append(line)
    return "\n".join(lines)


def with_message_format(record: Record, inner: LogFormat) -> Record:
    """The message read by ``inner``: its logger, message, traceback and fields, and its
    level when PRI gave none."""
    if not inner.is_start(record.message.partition("\n")[0]):
        return record  # a line the program did not format (a library's, a banner)
    text = record.message if record.exc is None else f"{record.message}\n{record.exc}"
    got = inner.parse(text)
    if record.level is None and got.level is not None:
        record.level, record.levelno = got.level, got.levelno
    if got.logger:
        record.logger = got.logger  # the app stays in the fields
    record.message, record.exc = got.message, got.exc
    if record.time is None and got.time is not None:
        record.time, record.time_text = got.time, got.time_text
    for key, value in got.fields.items():
        record.fields.setdefault(key, value)
    return record


_FORMAT = SyslogFormat()


def parse_syslog_message(data: bytes | str) -> Record:
    """One syslog message as received by a listener (UDP datagram or framed TCP message).

    Strips a trailing NUL (Python's SysLogHandler appends one) and newlines; never raises.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    text = text.removeprefix("\ufeff").rstrip("\x00\r\n")
    record = _FORMAT.parse(strip_ansi(text))
    record.raw = text
    return record
