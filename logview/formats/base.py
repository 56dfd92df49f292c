"""The contract every log format implements, and the plain-line fallback.

A format answers two questions: does this line start a new record (``is_start``), and what
record does this text make (``parse``). The splitter joins continuation lines to the record
before; the index may use ``start_pattern`` to find record starts in bulk over raw bytes.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType

from logview.formats.signature import StartSignature, VocabularyHead
from logview.record import CORNERS, Record, split_exception, strip_ansi, undecorated


class FormatError(ValueError):
    """A format description (e.g. a ``--format`` template) that cannot be used."""


class LogFormat(ABC):
    """How one kind of log line is recognised and parsed."""

    #: Short name shown to users (``--format`` accepts it too), e.g. ``"jsonl"``.
    name: str = "?"

    #: A bytes regex that matches at the start of a line that starts a record, for bulk
    #: scanning (used with ``match`` at line starts). ``None`` means "every line starts one".
    start_pattern: re.Pattern[bytes] | None = None
    #: First bytes that alone make a line start a record: ``start_pattern`` matches every
    #: line that begins with one of them, so the bulk start test skips its regex for those
    #: lines (a JSON object line: ``{``). Empty: no such shortcut.
    sure_start_bytes: bytes = b""

    # -- facts the scanner relies on (``logview.scan``) to skip records by their bytes --------

    #: Every record with a level has its level's name in its raw text, so a level query may
    #: look for the names in the bytes (False: levels are numbers, codes or absent).
    level_text: bool = False
    #: The record's text is JSON-escaped in the bytes (``"`` as ``\"``, non-ASCII as
    #: ``\uXXXX``): needles are escaped alike.
    json_escaped: bool = False
    #: A record it reads without a time takes the time of the nearest record before it that
    #: has one (lnav's rule for lines without a stamp; ``boundaries.time_before``): the
    #: interpreter's lines between a log's records (``formats.python_stderr``), so a time
    #: window (``since:-1h``) keeps a crash that came in it.
    time_from_previous: bool = False
    #: Literals one of which every line this format starts holds: as a union's second format
    #: (``formats.union``) its lines are found by them, and the first format's own start test
    #: keeps its speed (``boundaries.StartDetector``). Empty: no such literals.
    start_marks: tuple[bytes, ...] = ()
    #: (level number, text) pairs: a record at that level whose bytes hold no level name
    #: holds the text instead (the interpreter's ``Fatal Python error: `` for CRITICAL,
    #: ``formats.python_stderr``): a level query looks for it beside the names.
    level_marks: tuple[tuple[int, str], ...] = ()
    #: Byte markers of records whose text the bytes do not show as such (journald's message
    #: as an array of byte values): a record holding one is always a candidate.
    opaque_text: tuple[bytes, ...] = ()
    #: Every field a record has is named in its raw bytes (JSON keys), but for these names,
    #: which the parser makes itself: a field term (``status>=500``) may look for its key in
    #: the bytes. None: fields come from elsewhere too (a template's positions).
    fields_named: frozenset[str] | None = None
    #: Logger names the parser gives records whose bytes do not hold them (uvicorn's
    #: ``uvicorn.access``, PostgreSQL's ``postgres``): a logger or text term that such a name
    #: may satisfy is not looked for in the bytes (``query.prefilter.loggers_safe``).
    made_loggers: frozenset[str] = frozenset()
    #: Any line but a traceback's starts a record (plain text; uvicorn's console output):
    #: ``is_start`` then says nothing of whether a line is this format's own.
    starts_any_line: bool = False
    #: A line this format starts is one record for certain, whatever is around it (a shape
    #: that leaves no doubt): it may be another format's second without a time
    #: (``union.second_format``).
    certain_lines: bool = False
    #: Fields are the keys of JSON objects, written ``"key": value``: a field comparison
    #: (``status>=500``) may look for its key and the values it accepts
    #: (``query.value_needles``).
    json_fields: bool = False
    #: A record prints as its own lines (``--print`` text); False: its text is made from its
    #: fields (JSON objects are shown as ``time level logger message key=value``).
    prints_raw: bool = True
    #: Level names of the format's own (``{"notice": 25}``), spelled as it writes them.
    custom_levels: Mapping[str, int] = MappingProxyType({})

    @property
    def level_case(self) -> str | None:
        """How level names are written: ``"python"`` when exactly as ``logging`` writes them
        (``ERROR``, never ``error`` or ``FATAL``, or ``Level 45``); None: any spelling."""
        return None

    def level_pattern(self, op: str, number: int) -> tuple[bytes, ...] | None:
        """Bytes regexes, one of which every record whose level number satisfies
        ``levelno OP number`` contains, for formats that do not write levels as names
        (``level_text`` False) but know where and how they write them (the keys of JSON
        lines); None: no such regexes."""
        return None

    def start_signature(self) -> StartSignature | None:
        """The bytes a record-start line begins with, one allowed set per position, if the
        format knows them better than its ``start_pattern`` says (None: derive them)."""
        return None

    @abstractmethod
    def is_start(self, line: str) -> bool:
        """True when ``line`` (one line, no newline, ANSI stripped) starts a new record."""

    @abstractmethod
    def parse(self, text: str) -> Record:
        """Parse a whole record's text (lines joined by ``\\n``, ANSI stripped).

        Never raises for bad content: text that does not fit becomes a record whose message
        is the text and whose level is unknown.
        """

    def start_vocabulary(self) -> VocabularyHead | None:
        """The shape of a record start that opens with a level name, when ``start_pattern``
        is exactly that shape (the index then decides most lines in bulk); None: no such
        shape."""
        return None

    def column_walker(self):
        """What reads level, logger and time of many records at once without parsing them
        (``template_columns.ColumnWalker``), or None: the records are parsed."""
        return

    def object_reader(self):
        """What reads a record that is one JSON object on one line straight from its bytes
        (``bytes -> Record | None``: the record ``parse_raw`` makes of them, or None when the
        parser must read them), or None: this format's records are parsed."""
        return

    def parse_raw(self, raw: str) -> Record:
        """Parse a record's original text: strips ANSI (and a box's corner before a head,
        ``record.undecorated``), parses, keeps ``raw``."""
        record = self.parse(head_undecorated(self, strip_ansi(raw)))
        record.raw = raw
        return record

    def score(self, lines: list[str]) -> float:
        """Fraction of sample lines (ANSI stripped) this format recognises as record starts.

        Detection picks the format with the best score; formats may override it to weigh
        evidence differently (e.g. JSON requires an object per line).
        """
        if not lines:
            return 0.0
        return sum(1 for line in lines if self.is_start(line)) / len(lines)


def head_undecorated(fmt: LogFormat, text: str) -> str:
    """A record's ``text`` (ANSI stripped) without the box's corner before its first line
    (``record.undecorated``) when ``fmt`` reads that line as a record's start only without
    it; else ``text`` as it is."""
    if text[:1] not in CORNERS:
        return text
    head, nl, rest = text.partition("\n")
    bare = undecorated(head)
    return bare + nl + rest if fmt.is_start(bare) and not fmt.is_start(head) else text


class HeadFormat(LogFormat):
    """A format whose records open with a head a regex says (``_start``: any line that starts
    a record; ``_head``: the heads the format reads, what detection counts)."""

    _start: re.Pattern[str]
    _head: re.Pattern[str]

    def is_start(self, line: str) -> bool:
        return self._start.match(line) is not None

    def score(self, lines: list[str]) -> float:
        if not lines:
            return 0.0
        match = self._head.match
        return sum(1 for line in lines if match(line) is not None) / len(lines)


#: Lines that continue the record before them whatever the format, as one regex source that
#: is compiled twice: for text (``PlainFormat._continuation``, ``is_start``) and for bytes
#: (``PlainFormat.start_pattern``, the index), so the two cannot disagree. ASCII-only classes
#: (the text pattern is compiled with ``re.ASCII``) and ``\r*$`` for "end of line" (the index
#: sees a CRLF line's ``\r``, the splitter strips it) keep them equal line for line.
#:
#: What a Python traceback prints, also with its indentation stripped by a formatter: the
#: headers (``Traceback``, ``stack_info``'s ``Stack``, exception groups), frames and source
#: lines (indented, or an unindented ``File "...", line N``), caret lines, the separators of
#: chained exceptions and the blank lines around them, exception-group bars (``| ``, ``+-``),
#: and the last line: a class name ending in Error/Exception/Exit/Interrupt/Warning/Group/
#: Iteration, bare ``Exception``, or a dotted ``module.ClassName`` whose last part is
#: capitalised as class names are (``django.core.exceptions.ImproperlyConfigured: ...``,
#: ``psycopg2.errors.UniqueViolation: ...``; not ``example.com: ...``) followed by ``:`` or
#: the end of the line. A last line naming an undotted class with another ending (``Http404``
#: raised in ``__main__``), exception notes and the second line of a multi-line exception
#: message look like any text and start a plain record of their own: a line-by-line rule
#: cannot tell them from a program's output without the line before.
CONTINUATION_PATTERN = (  # each branch opens with a literal or a class: re skips it in one step
    r"[ \t]"
    r"|Traceback \(most recent call last\):|Stack \(most recent call last\):"
    r"|During handling of the above exception|The above exception was the direct cause"
    r"|File \"[^\"\r\n]*\", line \d"
    r"|[~\x5e][~\x5e]*[ \t\r]*$"  # carets ("^" spelled \x5e: a bare ^ reads as an anchor)
    r"|\|(?:[ \t]|\r*$)|\+(?:-| Exception Group Traceback \(most recent call last\):)"
    r"|Exception(?::|\r*$| Group Traceback \(most recent call last\):)"
    r"|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Group|Iteration)\b"
    r"|[A-Za-z_]\w*\.(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::(?:[ \t]|\r*$)|\r*$)"
    r"|\r*$"
)


class PlainFormat(LogFormat):
    """Lines that fit no known format: each line is a record, level unknown.

    A Python traceback that follows a line is kept with it (``CONTINUATION_PATTERN``), so
    even unknown formats show exceptions as one record.
    """

    name = "plain"
    start_pattern = re.compile(b"(?!" + CONTINUATION_PATTERN.encode("ascii") + b")")
    starts_any_line = True

    _continuation = re.compile(CONTINUATION_PATTERN, re.ASCII)

    def is_start(self, line: str) -> bool:
        return self._continuation.match(line) is None

    def parse(self, text: str) -> Record:
        if text.startswith("[pid: "):  # uWSGI's request lines, between an app's own
            from logview.formats.access import uwsgi_request

            record = uwsgi_request(text)
            if record is not None:
                return record
        message, exc = split_exception(text)
        return Record(message=message, exc=exc)

    def score(self, lines: list[str]) -> float:
        return 0.01  # the fallback: chosen only when nothing else fits


#: ``CONTINUATION_PATTERN`` without its first branch: a traceback's own lines, whatever their
#: indentation (``File "..."``, its header, the exception), and blank lines.
TRACEBACK_LINE_PATTERN = CONTINUATION_PATTERN.removeprefix(r"[ \t]|")
assert TRACEBACK_LINE_PATTERN != CONTINUATION_PATTERN


class IndentedPlainFormat(PlainFormat):
    """Plain lines that all open with whitespace (a right-aligned first field,
    ``%(relativeCreated)6d``): the indentation says nothing, so a line starts a record unless
    it is, once unindented, a traceback's line. (Read as plain, the whole file was one
    record.) A traceback's code lines start records of their own: a line alone cannot tell
    them from the program's."""

    name = "plain"
    start_pattern = re.compile(b"[ \t]*+(?!" + TRACEBACK_LINE_PATTERN.encode("ascii") + b")")
    _traceback_line = re.compile(TRACEBACK_LINE_PATTERN, re.ASCII)

    def is_start(self, line: str) -> bool:
        return self._traceback_line.match(line.lstrip(" \t")) is None


def plain_for(lines: list[str]) -> PlainFormat:
    """The plain format for sample ``lines``: ``IndentedPlainFormat`` when four lines of five
    (of two or more) open with whitespace and are, unindented, no traceback's lines."""
    text = [line for line in lines if line.strip()]
    traceback_line = IndentedPlainFormat._traceback_line.match
    indented = sum(1 for line in text if line[:1] in (" ", "\t")
                   and traceback_line(line.lstrip(" \t")) is None)
    return IndentedPlainFormat() if len(text) >= 2 and 5 * indented >= 4 * len(text) else PlainFormat()
