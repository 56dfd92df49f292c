"""Android's logcat lines (``adb logcat``, a device's saved logs, Android apps' crash reports).

The default ``threadtime`` lines are ``MM-DD hh:mm:ss.mmm  PID  TID L TAG: msg`` (``-v year``
puts the year in front), ``-v time`` writes ``MM-DD hh:mm:ss.mmm L/TAG(  PID): msg``. The
level is one letter (``V`` verbose, ``D`` debug, ``I`` info, ``W`` warning, ``E`` error,
``F`` fatal, ``A`` assert): a template inferred from such lines found no level at all. The
tag is the logger, the process and thread ids are fields; ``--------- beginning of main``
(the start of a buffer) is a record of its own. Without a year the time is placed like
syslog's (never after now).
"""

from __future__ import annotations

import re

from logview.formats.base import HeadFormat
from logview.record import Record, level_from_name
from logview.timeparse import parse_time

__all__ = ["LogcatFormat"]

_WHEN = r"(?:(?P<year>\d{4})-)?(?P<month>\d\d)-(?P<day>\d\d) (?P<time>\d\d:\d\d:\d\d\.\d{3,6})"
_THREADTIME = (_WHEN + r" +(?P<pid>\d+) +(?P<tid>\d+) (?P<level>[VDIWEFA]) "
               r"(?P<tag>[^\n]*?) *: ")
_TIME = (_WHEN.replace("(?P<", "(?P<t_") + r" (?P<t_level>[VDIWEFA])/(?P<t_tag>[^\n(]*?)"
         r"\( *(?P<t_pid>\d+)\): ")
_BUFFER = r"-{9} beginning of \w+$"
_HEAD_RE = re.compile(rf"{_THREADTIME}|{_TIME}", re.ASCII)
_START_RE = re.compile(rf"{_THREADTIME}|{_TIME}|{_BUFFER}", re.ASCII | re.MULTILINE)
_LEVELS = {"V": "DEBUG", "D": "DEBUG", "I": "INFO", "W": "WARNING", "E": "ERROR",
           "F": "CRITICAL", "A": "CRITICAL"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LogcatFormat(HeadFormat):
    """logcat lines (``03-17 16:13:38.811  1702  2395 D WindowManager: msg``)."""

    name = "logcat"
    start_pattern = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _START_RE.pattern).encode("ascii"),
                               re.MULTILINE)
    level_text = False  # one letter, not a level's name
    has_time = True
    _start, _head = _START_RE, _HEAD_RE

    def parse(self, text: str) -> Record:
        head = _HEAD_RE.match(text)
        if head is None:
            return Record(message=text)
        got = {key.removeprefix("t_"): value for key, value in head.groupdict().items()
               if value is not None}
        record = Record(message=text[head.end():])
        record.level, record.levelno = level_from_name(_LEVELS[got["level"]])
        record.logger = got["tag"]
        record.fields = {"pid": int(got["pid"])}
        if "tid" in got:
            record.fields["tid"] = int(got["tid"])
        month = int(got["month"])
        if 1 <= month <= 12:
            record.time_text = text[:head.end("time") if "tid" in got else head.end("t_time")]
            year = got.get("year")
            clock = f"{_MONTHS[month - 1]} {got['day']} {got['time']}"
            record.time = parse_time(f"{year}-{got['month']}-{got['day']} {got['time']}"
                                     if year else clock)
        return record
