"""What line-structured formats (JSON lines, logfmt) share about record boundaries.

In these formats one line is one record, but real logs mix in other lines: a crash traceback
printed to stderr, a banner, a line from a library that logs as text. Such lines must never be
joined to a structured record nor lost, so a line starts a record unless it clearly continues
one (indented, or part of a Python traceback); continuation lines after a structured line are
kept with it as exception text.
"""

from __future__ import annotations

import re

from logview.formats.base import PlainFormat
from logview.record import Record, split_exception

#: Lines that continue the record before them (indented, traceback headers and last lines).
_CONTINUATION_RE = PlainFormat._continuation

#: Bytes regex matching at the start of a line that starts a record (any non-continuation).
PLAIN_START = PlainFormat.start_pattern

#: ESC and the C1 introducers: a decoded value needs ANSI stripping only if it has one.
ANSI_HINT_RE = re.compile("[\x1b\x90-\x9f]")


def is_continuation(line: str) -> bool:
    """True when ``line`` continues the record before it rather than starting one."""
    return _CONTINUATION_RE.match(line) is not None


def plain_record(text: str) -> Record:
    """A record for text that is not structured: the text is the message, level unknown."""
    message, exc = split_exception(text)
    return Record(message=message, exc=exc)


def attach_continuation(record: Record, rest: str) -> Record:
    """Keep the lines that followed a structured line (e.g. a traceback) as exception text."""
    rest = rest.strip("\n")
    if rest:
        record.exc = f"{record.exc}\n{rest}" if record.exc else rest
    return record
