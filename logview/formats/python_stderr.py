"""What the Python interpreter itself writes to standard error, between a program's log records.

A service's stderr (a container's output, a systemd unit's journal, ``2>&1 | tee app.log``)
holds the logging handler's records and also lines no handler wrote:

- ``warnings``' lines (``path.py:12: DeprecationWarning: message``, then the source line
  indented), unless ``logging.captureWarnings`` routes them through logging;
- an exception in a thread (``Exception in thread Thread-1 (worker):`` then the traceback),
  and one that could not be raised (``Exception ignored in: <function ...>``);
- a crash (``Fatal Python error: Segmentation fault``, then faulthandler's dump of each
  thread's stack).

Read by the log's own format, each of these is a continuation line glued to the record before
it: a crash hidden inside an INFO record, which ``level>=ERROR`` then cannot find. As the
second format of the log's (``formats.union``: detection adds it when the sample holds such a
line, ``detect_union.with_second``; it is never a log's main format) each starts a record of its own: warnings at WARNING under the logger
``py.warnings`` (the name ``logging.captureWarnings`` gives them), exceptions at ERROR, a
crash at CRITICAL, with the traceback or the stack dump as the record's exception.

These records write no level name: each holds its kind's mark (``level_marks``), which a
level query looks for beside the names (``level_text`` holds in that sense), so a scan that
admits records by their level's name in the bytes finds them too.
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat
from logview.record import CRITICAL, ERROR, WARNING, Record, split_exception

__all__ = ["PythonStderrFormat"]

#: The first line of each kind (one alternative a kind, each opening with a literal or a
#: class; an indented line continues a record, as pytest's warnings summary's do); bytes and
#: text versions are compiled from this one source.
_SOURCE = (
    r"(?P<file>(?:[A-Za-z]:)?[^\s:][^\n:]*?):(?P<lineno>\d+): (?P<category>[A-Za-z_]\w*Warning): "
    r"|Fatal Python error: "
    r"|Exception in thread (?P<thread>[^\n]*):[ \t\r]*$"
    r"|Exception ignored\b"
)
_LINE = re.compile(_SOURCE)
_WARNING = "py.warnings"


class PythonStderrFormat(LogFormat):
    """The interpreter's own lines on standard error (warnings, thread exceptions, crashes)."""

    name = "python-stderr"
    start_pattern = re.compile(_SOURCE.encode("ascii"))
    # (each kind's first line holds one; "Exception i": "Exception in thread" and "Exception
    # ignored" in one literal)
    start_marks = (b"Warning: ", b"Fatal Python error: ", b"Exception i")
    time_from_previous = True  # (no time of their own: the record before's)
    certain_lines = True  # (no time, but no other writer's line has these shapes)
    level_text = True  # (every record holds its level's mark: see the module)
    level_marks = ((WARNING, "Warning: "), (ERROR, "Exception i"), (CRITICAL, "Fatal Python error: "))
    made_loggers = frozenset({_WARNING})

    @property
    def level_case(self) -> str | None:
        """logging's spelling: these records write no level name at all (their marks stand
        for them), so the main format's spelling rule holds of the two (``UnionFormat``)."""
        return "python"

    def is_start(self, line: str) -> bool:
        return _LINE.match(line) is not None

    def parse(self, text: str) -> Record:
        first, _, rest = text.partition("\n")
        m = _LINE.match(first)
        if m is None:
            message, exc = split_exception(text)
            return Record(message=message, exc=exc)
        if m["category"] is not None:
            record = Record(message=text, level="WARNING", levelno=WARNING, logger=_WARNING)
            record.fields.update(category=m["category"], filename=m["file"],
                                 lineno=int(m["lineno"]))
            return record
        if first.startswith("Fatal"):
            # faulthandler's dump ("Current thread 0x... (most recent call first):" and
            # its frames) is the crash's traceback
            dump = rest.strip("\n")
            return Record(message=first, level="CRITICAL", levelno=CRITICAL,
                          exc=dump or None)
        message, exc = split_exception(text)
        record = Record(message=message, level="ERROR", levelno=ERROR, exc=exc)
        if m["thread"] is not None:
            record.fields["thread"] = m["thread"]
        return record
