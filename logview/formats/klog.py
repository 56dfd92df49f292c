"""klog and glog lines: Kubernetes components and other Go (and C++) programs.

``Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg``: the level is one letter glued to the month
and day (``I`` info, ``W`` warning, ``E`` error, ``F`` fatal), so a template inferred from
such lines takes ``I1201`` for a word and finds no level; this format reads it. The time has
no year: it is placed like syslog's (never after now). The source file is the logger (what a
component calls itself in klog lines), the line number and thread id are fields; lines after
a record's first (a fatal record's goroutine dump) stay with it.
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat
from logview.record import Record, level_from_name, split_exception
from logview.timeparse import parse_time

__all__ = ["KlogFormat"]

_HEAD = (r"(?P<level>[IWEF])(?P<month>\d\d)(?P<day>\d\d) (?P<time>\d\d:\d\d:\d\d\.\d{6}) +"
         r"(?P<thread>\d+) (?P<file>[^\s:\]]+):(?P<line>\d+)\] ")
_HEAD_RE = re.compile(_HEAD, re.ASCII)
_LEVELS = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "CRITICAL"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class KlogFormat(LogFormat):
    """klog/glog lines (``I1201 10:00:00.123456       1 main.go:42] msg``)."""

    name = "klog"
    start_pattern = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _HEAD).encode("ascii"))
    level_text = False  # one letter, not a level's name
    has_time = True

    def is_start(self, line: str) -> bool:
        return _HEAD_RE.match(line) is not None

    def parse(self, text: str) -> Record:
        head = _HEAD_RE.match(text)
        message, exc = split_exception(text if head is None else text[head.end():])
        record = Record(message=message, exc=exc)
        if head is None:
            return record
        record.level, record.levelno = level_from_name(_LEVELS[head["level"]])
        month = int(head["month"])
        if 1 <= month <= 12:
            record.time_text = f"{head['month']}{head['day']} {head['time']}"
            record.time = parse_time(f"{_MONTHS[month - 1]} {head['day']} {head['time']}")
        record.logger = head["file"]
        record.fields = {"line": int(head["line"]), "thread": int(head["thread"])}
        return record
