"""Redis's server log (its ``logfile``, or standard output in the foreground), the broker and
cache next to many Python services (celery, rq, django-redis).

Since Redis 3 a line is ``pid:role DD Mon YYYY HH:MM:SS.mmm MARK message``: the role is the
process's (``M`` master, ``S`` replica, ``C`` a child such as the RDB writer, ``X``
sentinel) and the mark the level (``.`` debug, ``-`` verbose, ``*`` notice, ``#``
warning: read as DEBUG, INFO, NOTICE and WARNING, as lnav reads them). Redis 2 wrote
``[pid] DD Mon HH:MM:SS.mmm MARK message`` (no year, no role). Read as a template, the mark
stayed in the message and no record had a level.

A configuration error is a block of lines without that head, opened by ``*** FATAL CONFIG
FILE ERROR (Redis 7.0.15) ***``: that line starts a CRITICAL record and the block's lines
stay with it. Other lines without a head (the start-up logo) continue the record before.
"""

from __future__ import annotations

import re
from datetime import datetime

from logview.formats.base import HeadFormat
from logview.record import Record, level_from_name
from logview.timeparse import MONTH_NUMBERS, parse_time

__all__ = ["RedisFormat"]

_MONTH = "|".join(name.title() for name in MONTH_NUMBERS)
_HEAD = (rf"(?:(?P<pid>\d{{1,10}}):(?P<role>[MSCX]) (?P<day>\d\d) (?P<month>{_MONTH}) "
         rf"(?P<year>\d{{4}})|\[(?P<old_pid>\d{{1,10}})\] (?P<old_day>\d\d) "
         rf"(?P<old_month>{_MONTH})) (?P<clock>\d\d:\d\d:\d\d(?:\.\d{{1,6}})?) "
         r"(?P<mark>[.\-*#]) ")
_HEAD_RE = re.compile(_HEAD)
_FATAL = r"\*\*\* FATAL CONFIG FILE ERROR \(Redis [^)\n]{1,40}\) \*\*\*"
_START_RE = re.compile(rf"{_HEAD}|{_FATAL}")
_FATAL_RE = re.compile(_FATAL)
_MARKS = {".": "DEBUG", "-": "INFO", "*": "NOTICE", "#": "WARNING"}
_ROLES = {"M": "master", "S": "replica", "C": "child", "X": "sentinel"}


class RedisFormat(HeadFormat):
    """Redis server log lines (``pid:role time mark message``, Redis 2's ``[pid] ...``)."""

    name = "redis"
    start_pattern = re.compile(_START_RE.pattern.encode("ascii"))
    level_text = False  # the level is a mark, not a name
    made_loggers = frozenset({"redis"})
    has_time = True
    _start = _head = _START_RE

    def parse(self, text: str) -> Record:
        head = _HEAD_RE.match(text)
        if head is None:
            if _FATAL_RE.match(text) is None:
                return Record(message=text)
            record = Record(message=text.strip())
            record.level, record.levelno = "CRITICAL", 50
            record.logger = "redis"
            return record
        record = Record(message=text[head.end():])
        record.level, record.levelno = level_from_name(_MARKS[head["mark"]])
        record.logger = "redis"
        pid = head["pid"] or head["old_pid"]
        record.fields = {"pid": int(pid)}
        if head["role"]:
            record.fields["role"] = _ROLES[head["role"]]
        record.time_text = text[head.start("day") if head["day"] else head.start("old_day"):
                                head.end("clock")]
        record.time = _time(head)
        return record


def _time(head: re.Match[str]) -> datetime | None:
    clock = head["clock"]
    if head["year"]:
        try:
            seconds, _, fraction = clock.partition(".")
            hour, minute, second = (int(part) for part in seconds.split(":"))
            month = MONTH_NUMBERS[head["month"].lower()]
            return datetime(int(head["year"]), month, int(head["day"]), hour,
                            minute, second, int(fraction.ljust(6, "0")) if fraction else 0)
        except ValueError:
            return None
    # Redis 2: no year; read as syslog's "Mon DD HH:MM:SS" is (the last such day)
    return parse_time(f"{head['old_month']} {head['old_day']} {clock}")
