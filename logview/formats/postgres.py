"""PostgreSQL's server log (``log_destination = stderr``, what ``/var/log/postgresql/`` holds).

Each line is the ``log_line_prefix`` (Debian's ``%m [%p] %q%u@%d ``: the time with its zone,
the pid in brackets, ``user@database`` for a session; others write ``user=%u,db=%d`` and the
like), then a severity and a colon and two spaces, then the text::

    2024-01-02 03:04:05.678 UTC [1483] app@shop ERROR:  division by zero
    2024-01-02 03:04:05.678 UTC [1483] app@shop STATEMENT:  select 1/0;

The two spaces after the severity (exactly two: uvicorn pads ``INFO:`` with more) are
PostgreSQL's own, so the severity is found after any prefix. An inferred template took the zone for a logger and left the level in the message.
A report's other parts (``DETAIL``, ``HINT``, ``CONTEXT``, ``STATEMENT``, ``QUERY``,
``LOCATION``) are lines of their own with the same prefix: they stay with the report's
record (and are its fields too: ``statement~'orders'``), as do the lines of a multi-line
statement. ``LOG`` is PostgreSQL's informational severity (INFO here), ``DEBUG1``-``DEBUG5``
are DEBUG.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from logview.formats.base import LogFormat
from logview.record import LEVEL_COMPARE, Record, level_from_name
from logview.timeparse import parse_time

__all__ = ["PostgresFormat"]

#: Severities that open a report (a record).
_SEVERITIES = r"DEBUG[1-5]|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC"
#: The other parts of a report, each on a line of its own after the first.
_PARTS = r"DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION"
#: A prefix of at most this many characters before the severity.
_MAX_PREFIX = 200
_LINE = (rf"(?P<prefix>(?:[^\n]{{0,{_MAX_PREFIX}}}? )?)(?P<severity>{_SEVERITIES}|{_PARTS}):  "
         r"(?! )(?P<text>[^\n]*)")
_LINE_RE = re.compile(_LINE)
_START_RE = re.compile(rf"(?:[^\n]{{0,{_MAX_PREFIX}}}? )?(?:{_SEVERITIES}):  (?! )")
_PART_NAMES = frozenset(_PARTS.split("|"))
#: ``%m``/``%t`` (``2024-01-02 03:04:05.678 UTC``, or a numeric zone), ``%n`` (epoch).
_TIME_RE = re.compile(r"(?P<time>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)"
                      r"(?: (?P<zone>[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?))?"
                      r"|(?P<epoch>1\d{9}\.\d{3})")
_PID_RE = re.compile(r"\[(\d+)\]")
_SESSION_RE = re.compile(r"(?:^|\s)([\w.$-]*)@([\w.$-]*)(?=\s|$)")
_PAIR_RE = re.compile(r"(?:^|[\s,])(user|db|app|client|host)=([^\s,]*)")
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UCT"})
#: Each severity's level number as ``parse`` reads it.
_LEVELNOS = {**{f"DEBUG{n}": 10 for n in range(1, 6)}, "INFO": 20, "LOG": 20, "NOTICE": 25,
             "WARNING": 30, "ERROR": 40, "FATAL": 50, "PANIC": 50}


class PostgresFormat(LogFormat):
    """PostgreSQL server log lines (any ``log_line_prefix``; the severity and two spaces)."""

    name = "postgresql"
    start_pattern = re.compile(_START_RE.pattern.encode("ascii"))
    level_text = False  # LOG and DEBUG1 are no level names the needles know
    made_loggers = frozenset({"postgres"})
    has_time = True

    def is_start(self, line: str) -> bool:
        return _START_RE.match(line) is not None

    def level_pattern(self, op: str, number: int) -> tuple[bytes, ...] | None:
        """The severities a level comparison accepts, as written (``ERROR:  ``): one scan
        each, so ``level>=ERROR`` reads only the reports that name one (``LOG`` names no
        level the needles of level names know); None for an operator without a bound."""
        compare = LEVEL_COMPARE.get(op)
        if compare is None:
            return None
        names = [name for name, levelno in _LEVELNOS.items() if compare(levelno, number)]
        return tuple(name.encode("ascii") + b":  " for name in names) or None

    def score(self, lines: list[str]) -> float:
        """The share of lines that are PostgreSQL's (a report's first line or another part)."""
        if not lines:
            return 0.0
        return sum(1 for line in lines if _LINE_RE.match(line) is not None) / len(lines)

    def parse(self, text: str) -> Record:
        lines = text.split("\n")
        head = _LINE_RE.match(lines[0])
        if head is None or head["severity"] in _PART_NAMES:
            return Record(message=text)
        severity = head["severity"]
        record = Record(message="")
        record.level, record.levelno = level_from_name(
            "INFO" if severity == "LOG" else "DEBUG" if severity.startswith("DEBUG") else severity)
        # Lists joined once (a 64 MB record of short lines must not be copied per line).
        parts: dict[str, list[str]] = {}
        message = [head["text"]]
        part: list[str] | None = None
        for line in lines[1:]:
            other = _LINE_RE.match(line)
            if other is not None and other["severity"] in _PART_NAMES:
                part = parts.setdefault(other["severity"].lower(), [])
                part.append(other["text"])
                message.append(f"{other['severity']}:  {other['text']}")
                continue
            if part is not None:  # a multi-line statement or context goes on
                part.append(line)
            message.append(line)
        record.message = "\n".join(message)
        fields: dict[str, object] = {name: "\n".join(got) for name, got in parts.items()}
        self._read_prefix(head["prefix"], record, fields)
        record.logger = "postgres"
        record.fields = fields
        return record

    @staticmethod
    def _read_prefix(prefix: str, record: Record, fields: dict[str, object]) -> None:
        """The time, pid, user and database the prefix holds."""
        stamp = _TIME_RE.search(prefix)
        if stamp is not None:
            record.time_text = stamp.group()
            record.time = _time(stamp)
        pid = _PID_RE.search(prefix)
        if pid is not None:
            fields["pid"] = int(pid.group(1))
        session = _SESSION_RE.search(prefix)
        if session is not None:
            if session.group(1):
                fields["user"] = session.group(1)
            if session.group(2):
                fields["db"] = session.group(2)
        for key, value in _PAIR_RE.findall(prefix):
            if value and value != "[unknown]":
                fields.setdefault(key, value)


def _time(stamp: re.Match[str]) -> datetime | None:
    """The prefix's time: aware when its zone is UTC or a number, else as written (a zone
    abbreviation such as CET names no single offset)."""
    if stamp["epoch"]:
        return datetime.fromtimestamp(float(stamp["epoch"]), tz=UTC)
    when = parse_time(stamp["time"])
    zone = stamp["zone"]
    if when is None or not zone:
        return when
    if zone.upper() in _UTC_NAMES:
        return when.replace(tzinfo=UTC)
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        offset = timedelta(hours=hours, minutes=minutes)
        return when.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))
    return when
