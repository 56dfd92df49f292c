"""JSON lines and text lines in one log, each line read as what it is.

Real logs mix them: a web server's text access lines between structlog's JSON events, a
traceback Python printed between JSON records, a library that logs through a plain
``logging.Formatter``. ``MixedFormat`` sends a record whose first line is a JSON object to the
JSON format and every other record to a text format (so a text line that fits a logging
template still gets its level, logger and time).

Record starts: a line is a JSON record start when it is a whole object on one line (``{`` in
the first column, ``}`` at its end); any other line starts a record when the text format says
so. ``start_pattern`` is the same test over bytes (both patterns in one alternation), so the
index and ``is_start`` agree. Lines that start nothing (tracebacks, indented lines) stay with
the record before, JSON or text, as they do in ``logview.formats.linewise``. An indented
object line is a continuation, not a record: it is usually a payload printed under a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import orjson

from logview.formats.base import LogFormat, PlainFormat
from logview.formats.jsonl import JsonFormat
from logview.formats.linewise import is_continuation
from logview.record import Record

__all__ = ["MIN_SHARE", "MixedFormat", "is_json_object_line", "mixed_candidate",
           "mixed_text_lines"]

#: A sample is mixed when at least this share of its start lines are JSON objects and at
#: least this share are not (below it, the one format that reads the rest keeps them as
#: plain records well enough).
MIN_SHARE = 0.1

#: A whole JSON object on one line; ``\r`` may end it (the index sees CRLF lines whole).
_OBJECT_LINE = r"\{.*\}[ \t\r]*\Z"
_OBJECT_LINE_RE = re.compile(_OBJECT_LINE)
_OBJECT_LINE_BYTES = _OBJECT_LINE.encode("ascii")
#: A leading global-flags group, ``(?i)``: it must stay at the very start of the alternation.
_GLOBAL_FLAGS = re.compile(rb"\A\(\?([aiLmsux]+)\)")


def _loads_object(text: str) -> bool:
    """Whether ``text`` is one JSON object (never raises on hostile input)."""
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses and the stdlib reads (NaN, Infinity)
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def is_json_object_line(line: str) -> bool:
    """A line that is a whole JSON object (``{`` first, ``}`` last, and it parses)."""
    stripped = line.strip().lstrip("\ufeff")
    return stripped[:1] == "{" and stripped[-1:] == "}" and _loads_object(stripped)


def _combined_pattern(text_pattern: re.Pattern[bytes]) -> re.Pattern[bytes]:
    """``object line | text start`` as one bytes pattern with the text pattern's flags."""
    source = text_pattern.pattern
    flags = text_pattern.flags
    lead = _GLOBAL_FLAGS.match(source)
    if lead is not None:  # (?i)... cannot sit inside a group: make it the whole pattern's
        flags |= re.compile(lead.group(0)).flags
        source = source[lead.end() :]
    return re.compile(b"(?:" + _OBJECT_LINE_BYTES + b")|(?:" + source + b")", flags)


class MixedFormat(LogFormat):
    """JSON object lines through ``json_format``, all other lines through ``text_format``."""

    #: JSON records may give levels as numbers: the query prefilter must not look for names.
    level_text = False
    #: JSON strings in the raw bytes are escaped: needles with quotes or non-ASCII are unsafe.
    json_escaped = True
    prints_raw = False  # its JSON records are shown from their fields

    def __init__(self, json_format: LogFormat, text_format: LogFormat) -> None:
        self.json = json_format
        self.text = text_format
        self.made_loggers = json_format.made_loggers | text_format.made_loggers
        self.name = f"jsonl+{text_format.name}"
        #: The text side's template, for ``--explain`` and the status line.
        self.template: str | None = getattr(text_format, "template", None)
        self.datefmt: str | None = getattr(text_format, "datefmt", None)
        text_pattern = text_format.start_pattern
        self._text_start: Callable[[str], bool] | None
        if text_pattern is None:  # the text format starts a record on every line
            self.start_pattern = None
            self._text_start = None
        else:
            self.start_pattern = _combined_pattern(text_pattern)
            self._text_start = text_format.is_start

    def __repr__(self) -> str:
        return f"MixedFormat({self.json!r}, {self.text!r})"

    def is_start(self, line: str) -> bool:
        if self._text_start is None:
            return True
        if line[:1] == "{" and _OBJECT_LINE_RE.match(line) is not None:
            return True
        return self._text_start(line)

    def parse(self, text: str) -> Record:
        first = text.partition("\n")[0]
        if is_json_object_line(first):
            return self.json.parse(text)  # keeps the lines after it (a traceback) as exc
        return self.text.parse(text)

    def score(self, lines: list[str]) -> float:
        """Share of lines read: JSON objects, plus the text format's share of the rest."""
        if not lines:
            return 0.0
        rest = [line for line in lines if not is_json_object_line(line)]
        read = len(lines) - len(rest)
        if rest:
            read += self.text.score(rest) * len(rest)
        return read / len(lines)


def mixed_text_lines(lines: list[str]) -> list[str] | None:
    """The start lines that are not JSON objects, when a sample is mixed; else None.

    Mixed: at least ``MIN_SHARE`` of the start lines (continuation lines left out) are JSON
    objects and at least ``MIN_SHARE`` are not. Detection reads the returned lines to find the
    text format (only then: it is the costly part).
    """
    starts = [line for line in lines if not is_continuation(line)]
    if not starts:
        return None
    text = [line for line in starts if not is_json_object_line(line)]
    objects = len(starts) - len(text)
    if objects < MIN_SHARE * len(starts) or len(text) < MIN_SHARE * len(starts):
        return None
    return text


def mixed_candidate(lines: list[str], text_format: LogFormat | None) -> LogFormat | None:
    """A ``MixedFormat`` for a sample that mixes JSON object lines with text lines, or None.

    ``lines`` are the sample's lines (ANSI stripped); ``text_format`` reads its text lines
    (None: plain lines). None when the sample is not mixed (see ``mixed_text_lines``).
    """
    if mixed_text_lines(lines) is None:
        return None
    if text_format is None or isinstance(text_format, (JsonFormat, MixedFormat)):
        text_format = PlainFormat()  # JSON's own rules for other lines are plain lines
    return MixedFormat(JsonFormat(), text_format)
