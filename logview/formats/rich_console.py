"""Lines written by rich's ``RichHandler`` (``logging.basicConfig(handlers=[RichHandler()])``).

``RichHandler`` lays a record out in columns: the time in brackets (``[%x %X]`` by default:
``[12/02/26 10:00:00]``), the level padded to 8, the message, and the ``file.py:12`` it was
logged from at the right edge. A time equal to the line above is left blank (spaces as wide
as the time), a long message wraps onto lines indented to the message column, and a
traceback follows indented the same way. Read as a template, the blank-time lines are
indented lines that continue the record before, and a whole log became one record.

A record starts at a line that has the time, or the time's width of spaces, then one of
logging's level names padded to exactly 8 columns and a space (a wrapped line or a traceback
line does not have that shape). A line without a time takes the time of the record before
(``LogFormat.time_from_previous``: the time repeated); a time of day alone
(``datefmt="[%X]"``, rich's documented setup) is today's. A boxed traceback
(``rich_tracebacks=True``) is the record's exception, as a plain one is. The path at the right
of the first line becomes the ``filename`` and ``lineno`` fields when at least two spaces
set it apart; the continuation lines lose the message column's indentation.
"""

from __future__ import annotations

import re
from datetime import datetime

from logview.formats.base import LogFormat
from logview.formats.linewise import plain_record
from logview.record import Record, level_from_name, split_exception
from logview.timeparse import parse_time, parse_time_of_day

#: logging's level names as ``RichHandler`` writes them: padded to 8 (the longest fills it).
_LEVELS = ("DEBUG   ", "INFO    ", "WARNING ", "ERROR   ", "CRITICAL", "NOTSET  ")
#: (the time holds a clock, ``12:00``: ``[1234] WARNING  app ...`` is a template's pid)
_HEAD = (r"(?:\[(?P<time>(?=[^\]\n]*\d:\d)[^\]\n]{4,40})\]| {4,42}) (?P<level>"
         + "|".join(re.escape(name) for name in _LEVELS) + r") ")
_START = re.compile(_HEAD)
#: ``file.py:12`` at the right of the first line, two spaces or more after the message.
_PATH = re.compile(r" {2,}(?P<filename>[^\s:]+):(?P<lineno>\d+) *$")
#: Times of rich's default ``[%x %X]`` in the C locale.
_TIME_FORMATS = ("%m/%d/%y %H:%M:%S", "%x %X")


def _time(text: str) -> datetime | None:
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    # rich's documented setup (basicConfig(datefmt="[%X]")) writes the time of day alone:
    # today's, as a template with a time alone reads it
    return parse_time(text) or parse_time_of_day(text)


class RichConsoleFormat(LogFormat):
    """``RichHandler``'s columns: time (blank when repeated), level, message, path."""

    name = "rich"
    level_text = True
    time_from_previous = True  # (a time left blank is the record before's: it repeated)
    start_pattern = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _HEAD).encode("ascii"))

    def is_start(self, line: str) -> bool:
        return _START.match(line) is not None

    def score(self, lines: list[str]) -> float:
        """The share of lines that start a record, among the timed ones (detection scores
        the unindented lines: a line with a blank time is indented)."""
        timed = [line for line in lines if line[:1] == "["]
        if not timed:
            return 0.0
        return sum(1 for line in timed if _START.match(line)) / len(lines)

    def parse(self, text: str) -> Record:
        m = _START.match(text)
        if m is None:
            return plain_record(text)
        nl = text.find("\n")
        first = text[m.end():] if nl < 0 else text[m.end():nl]
        fields: dict[str, object] = {}
        path = _PATH.search(first)
        if path is not None:
            first = first[:path.start()]
            fields = {"filename": path["filename"], "lineno": int(path["lineno"])}
        indent = " " * m.end()
        rest = [] if nl < 0 else [line.removeprefix(indent).rstrip()
                                  for line in text[nl + 1:].split("\n")]
        panel = next((k for k, line in enumerate(rest)
                      if line.startswith("\u256d") and "Traceback" in line), None)
        if panel is not None:  # rich_tracebacks=True: the boxed traceback is the exception
            message = "\n".join([first.rstrip(), *rest[:panel]]).rstrip("\n")
            exc: str | None = "\n".join(rest[panel:]).rstrip("\n")
        else:
            message, exc = split_exception("\n".join([first.rstrip(), *rest]).rstrip("\n"))
        level, levelno = level_from_name(m["level"].strip())
        time_text = m["time"]
        return Record(message=message, time=_time(time_text) if time_text else None,
                      time_text=time_text, level=level, levelno=levelno, exc=exc,
                      fields=fields)
