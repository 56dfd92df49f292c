"""The fallback for logs that no single template fits (lnav's "generic" format is the model).

A line that begins with a timestamp (ISO 8601, nginx's ``2024/01/02 03:04:05``, Apache's
``[Wed Oct 11 14:32:52.123456 2000]``, syslog's ``Jan  2 03:04:05``, the common log format,
a time of day, epoch seconds; bracketed or not) or with a level (``ERROR``, ``[error]``,
``WARNING:root:``, ``error:``, tornado's ``[I 240102 03:04:05 web:2250]``) starts a record;
every other line continues the one before. From the head of a record's first line the time,
level and logger are read where they stand, and the message is the rest after them.

Why a line-start test and not a template: a program that mixes ``print()`` output, two
formatters and third-party libraries has no template, but its records still begin with a
time or a level, and its tracebacks never do.
"""

from __future__ import annotations

import re

from logview.formats.base import CONTINUATION_PATTERN, HeadFormat
from logview.formats.signature import StartSignature
from logview.record import (
    LEVEL_ALIASES,
    LEVEL_SPELLINGS,
    Record,
    level_from_name,
    split_exception,
)
from logview.timeparse import parse_time, parse_time_of_day

# ---------------------------------------------------------------------------------------------
# Record starts: one regex source, compiled for bytes (the index) and for text (``is_start``).
# Only ASCII classes and ``(?![^...])`` / ``\r*$`` at line ends, so that both compilations
# answer alike on every line (see ``CONTINUATION_PATTERN``).

_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_HMS = r"\d\d:\d\d:\d\d"


def _alternation(words: set[str]) -> str:
    """A regex for any of ``words`` with shared prefixes folded (``E(?:MERG|RR(?:OR?)?)``):
    Python's ``re`` tries alternatives one by one, so a trie rejects a line in a few steps."""
    branches: dict[str, set[str]] = {}
    for word in words:
        if word:
            branches.setdefault(word[0], set()).add(word[1:])
    parts = [re.escape(head) + _alternation(tails) for head, tails in sorted(branches.items())]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{body})?" if "" in words else body


#: Every name ``level_from_name`` knows, written UPPER, lower or Title: the spellings the
#: query prefilter looks for, so ``level_text`` holds for every level read from text.
_LEVEL_SPELLINGS = LEVEL_SPELLINGS
_UPPER_LEVEL = _alternation(set(LEVEL_ALIASES))
_ANY_LEVEL = _alternation(set(_LEVEL_SPELLINGS))

#: The start of each timestamp form (what follows is the parser's business). Every branch
#: opens with a literal or a class, so ``re`` rejects it at the first byte that differs.
_DIGIT_TIME_START = (
    r"\d\d(?:\d\d(?:-\d\d-|/\d\d/)\d\d[T ]\d\d:\d\d"  # ISO 8601, nginx
    rf"|/{_MONTH}/\d\d\d\d[: ]{_HMS}"  # common log format, Django's runserver
    r"|:\d\d:\d\d(?:[.,]\d+)?(?![\d:]))"  # a time of day
    r"|1\d{9}(?:\d{3}){0,2}(?:\.\d+)?(?![^\s\]|,;])"  # epoch seconds (or ms, us), 2001-2033
)
_NAMED_TIME_START = (
    rf"{_WEEKDAY} {_MONTH} (?: ?\d|\d\d) {_HMS}"  # ctime, Apache
    rf"|{_MONTH} (?: ?\d|\d\d) {_HMS}"  # syslog, journalctl
)
#: What may follow ``[`` at a record start: a time, tornado's ``[%(levelname)1.1s
#: %(asctime)s ...]`` (the only place a one-letter level counts), or a level in any case
#: (``[error]``, Apache's ``[core:error]``).
_BRACKETED_START = (
    rf"\[(?:{_DIGIT_TIME_START}|{_NAMED_TIME_START}|[DIWEC] \d{{6}} {_HMS}"
    rf"| *(?:[\w.-]+:)?{_ANY_LEVEL} *\])"
)
#: A bare level at the line start: upper-case (``ERROR``, ``WARNING:root:``, logrus's
#: ``INFO[0000]``), or any case with a colon (``error: ...``). A bare ``Info``/``error`` word
#: is too often prose to start a record.
_LEVEL_START = rf"{_UPPER_LEVEL}(?![^\s:\]|/\[])|{_ANY_LEVEL}:"
#: What ``GenericFormat.start_pattern`` (bytes) and ``is_start`` (text) match: a time or a
#: level, on a line that is not a continuation by the rule every format shares. No
#: continuation line begins with a digit or ``[``, so only the branches that begin with a
#: letter pay for the lookahead (a test holds the two rules to that).
START_PATTERN = (
    rf"{_BRACKETED_START}|{_DIGIT_TIME_START}"
    rf"|(?!{CONTINUATION_PATTERN})(?:{_NAMED_TIME_START}|{_LEVEL_START})"
)

# ---------------------------------------------------------------------------------------------
# The header of a record's first line, read item by item. Each item is told apart by its first
# character and then by a dict lookup or one small regex: this runs for every record a query
# has to parse.

_FRACTION = r"(?:[.,]\d+)?"
_ZONE = r"(?:(?:Z|\ ?(?:[+-]\d\d(?::?\d\d)?|UTC|GMT))(?![\w:]))"
_ISO = re.compile(rf"\d{{4}}(?:-\d\d-|/\d\d/)\d\d[T ]\d\d:\d\d(?::\d\d{_FRACTION})?{_ZONE}?",
                  re.ASCII)
_CLF = re.compile(rf"\d\d/{_MONTH}/\d{{4}}[: ]{_HMS}(?: [+-]\d{{4}})?", re.ASCII)
_CTIME = re.compile(
    rf"(?P<weekday>{_WEEKDAY} )?{_MONTH} (?: ?\d|\d\d) {_HMS}{_FRACTION}"
    r"(?(weekday)(?: \d{4}(?![\w:]))?)",
    re.ASCII,
)
_CLOCK = re.compile(rf"{_HMS}{_FRACTION}(?![\d:])", re.ASCII)
_EPOCH = re.compile(r"1\d{9}(?:\d{3}){0,2}(?:\.\d+)?(?![^\s\]|,;])", re.ASCII)
#: First letters of month and weekday names: only these can begin a ctime/syslog time.
_TIME_LETTERS = frozenset("ADFJMNOSTW")
_DIGITS = frozenset("0123456789")
_TIME_FIRST = _TIME_LETTERS | _DIGITS | {"["}

#: tornado's head, also as a cheap test of a sample line (``GenericFormat.for_sample``).
_TORNADO = re.compile(
    rf"\[(?P<level>[DIWEC]) (?P<time>\d{{6}} {_HMS}){_FRACTION}"
    r"(?: (?P<module>[^\s\]:]+)(?::(?P<lineno>\d+))?)?\]",
    re.ASCII,
)
_ONE_LETTER = {"D": "DEBUG", "I": "INFO", "W": "WARNING", "E": "ERROR", "C": "CRITICAL"}

_NAME = r"[A-Za-z_][\w$-]*"
#: A bare word of the header; levels are looked up, loggers checked with the regexes below.
_WORD_ITEM = re.compile(r"[A-Za-z_][\w$.-]*", re.ASCII)
_DOTTED = re.compile(rf"{_NAME}(?:\.{_NAME})+", re.ASCII)
_SIMPLE_MODULE = re.compile(r"[\w.-]+", re.ASCII)
_FLASK = re.compile(rf"in ({_NAME}):", re.ASCII)  # Flask's "ERROR in views: ..."
#: After an upper-case level: celery's ``INFO/MainProcess]``.
_PROCESS = re.compile(r"/([\w.-]+)\]?", re.ASCII)
#: Characters that may follow a bare upper-case level (``ERROR ``, ``WARNING:``, ``INFO[``).
_UPPER_END = frozenset(" \t\r\n\f\v:]|/[")

_BRACKET = re.compile(r"\[[^\[\]]{0,200}\]|\{[^{}]{0,200}\}|<[^<>\s]{1,40}>")
_BRACKET_LOGGER = re.compile(rf"({_NAME}(?:\.{_NAME})*)(?::(\d+))?", re.ASCII)
#: Header fields servers write after the level: Apache's ``[pid 1:tid 2]``, ``[client a:p]``,
#: nginx's ``pid#tid: *connection``.
_APACHE_FIELD = re.compile(r"pid (\d+)(?::tid (\d+))?|(client|remote) (\S+)", re.ASCII)
_NGINX_FIELD = re.compile(r"(\d+)#(\d+):(?: \*(\d+))?(?=\s|$)", re.ASCII)
#: syslog's ``host app[pid]:`` after the time (journalctl's short output).
_SYSLOG_TAG = re.compile(
    r"(?P<host>[^\s\[\]:]+) (?P<app>[^\s\[\]:]+)(?:\[(?P<pid>\d+)\])?:(?=\s|$)", re.ASCII
)
_WORD = re.compile(r"\S+")
#: What may stand between header items (and between the header and the message).
_SEPARATOR = re.compile(r"[ \t]*(?:(?:-|\||:|>|=>)(?=[ \t]|$)[ \t]*|:)?")
_SEPARATOR_CHARS = frozenset(" \t-|:>=")
#: The header is read in this much of the first line, over at most this many items; a level
#: is still looked for past this many words that are not header (they stay in the message).
_HEAD_CHARS = 1024
_HEAD_ITEMS = 8
_PLAIN_WORDS = 3


class GenericFormat(HeadFormat):
    """Records start at lines that begin with a time or a level; see the module docstring."""

    name = "generic"
    start_pattern = re.compile(START_PATTERN.encode("ascii"))
    #: Cheap first test for the index: a start begins with a digit, a letter or ``[``.
    _signature = StartSignature(
        (frozenset(b"0123456789[ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),),
        exact=False,
    )
    #: Whether every record with a level has its name in the raw text (the query prefilter
    #: then looks for level names in the bytes): true unless tornado's one-letter levels are
    #: read (``[E ...]`` names no level). Set per instance, see ``__init__``.
    level_text = True
    #: Records that start with a level carry no time.
    has_time = False

    #: (``HeadFormat``: a line that opens with a time or a level starts a record, and is
    #: what detection counts)
    _start = _head = re.compile(START_PATTERN, re.ASCII)

    def __init__(self, *, one_letter_levels: bool = True) -> None:
        """``one_letter_levels``: read tornado's ``[E 240102 ...]`` letter as the level. Off,
        such lines still start records (with time and logger) but carry no level, and level
        queries may skip records by their bytes (``level_text``): detection turns it on only
        for samples that have such heads (``for_sample``)."""
        self.one_letter_levels = one_letter_levels
        self.level_text = not one_letter_levels

    def start_signature(self) -> StartSignature | None:
        return self._signature

    @classmethod
    def for_sample(cls, lines: list[str]) -> GenericFormat:
        """The generic format for a source whose first lines are ``lines``: one-letter levels
        only if one of them has a tornado head, so that other sources keep fast level queries."""
        return cls(one_letter_levels=any(_TORNADO.match(line) for line in lines))

    def parse(self, text: str) -> Record:
        first, nl, rest = text.partition("\n")
        record = Record(message="")
        head = first[:_HEAD_CHARS]
        tornado = _TORNADO.match(head) if head[2:3] == " " else None
        if tornado is not None:
            end = _read_tornado(tornado, record, self.one_letter_levels)
        else:
            end = _HeaderReader(head, record).read()
        record.message, record.exc = split_exception(first[end:] + nl + rest)
        return record


def _read_tornado(m: re.Match[str], record: Record, with_level: bool) -> int:
    """``[I 240102 03:04:05 web:2250] msg``: level, time, module as the logger, line number."""
    if with_level:
        record.level, record.levelno = level_from_name(_ONE_LETTER[m["level"]])
    record.time_text = m["time"]
    record.time = parse_time(m["time"])
    if m["module"]:
        record.logger = m["module"]
    if m["lineno"]:
        record.fields["lineno"] = int(m["lineno"])
    return _SEPARATOR.match(m.string, m.end()).end()  # type: ignore[union-attr]


def _match_time(head: str, pos: int) -> tuple[re.Match[str], bool] | None:
    """The timestamp at ``pos`` (optionally in ``[``) and whether it is a time of day."""
    start = pos + 1 if head[pos] == "[" else pos
    c = head[start : start + 1]
    if c in _DIGITS:
        if head[start + 4 : start + 5] in ("-", "/"):
            m = _ISO.match(head, start)
        elif head[start + 2 : start + 3] == "/":
            m = _CLF.match(head, start)
        elif head[start + 2 : start + 3] == ":":
            m = _CLOCK.match(head, start)
            return (m, True) if m is not None else None
        else:
            m = _EPOCH.match(head, start) if c == "1" else None
    elif c in _TIME_LETTERS:
        m = _CTIME.match(head, start)
    else:
        return None
    return (m, False) if m is not None else None


class _HeaderReader:
    """Reads time, level, logger and server fields off the head of a line, in any order.

    Items that only belong to the header if a level or logger follows them (a bracketed
    thread name, a logger before the level) are held back; the message starts after the last
    item taken, so text that is not clearly header stays in the message.
    """

    __slots__ = (
        "end", "head", "held", "held_lineno", "held_logger", "plain", "record",
    )  # fmt: skip

    def __init__(self, head: str, record: Record) -> None:
        self.head = head
        self.record = record
        self.end = 0  # where the message starts
        self.held: list[str] = []  # bracketed items waiting for a level or logger
        self.held_logger: str | None = None
        self.held_lineno: str | None = None
        self.plain = 0  # words skipped that are not header: the header ended before them

    def read(self) -> int:
        head, record = self.head, self.record
        size = len(head)
        pos = 0
        time_ok = True  # a time stands first, or right after a level that stands first
        after_time = False
        for _ in range(_HEAD_ITEMS):
            if pos >= size:
                break
            c = head[pos]
            if time_ok and record.time_text is None and c in _TIME_FIRST:
                found = _match_time(head, pos)
                if found is not None:
                    pos = self._time(*found)
                    after_time = True
                    continue
            if c in "[{<":
                pos = self._bracket(pos)
            elif c in _DIGITS:
                pos = self._number(pos)
            else:
                pos = self._word(pos, after_time)
            if pos < 0:
                break
            after_time = False
            time_ok = (record.level is not None and not record.logger and not self.held
                       and not self.plain)
        return self.end

    # -- items ----------------------------------------------------------------------------

    def _time(self, m: re.Match[str], clock: bool) -> int:
        record, head = self.record, self.head
        text = m.group()
        record.time_text = text
        record.time = parse_time_of_day(text) if clock else parse_time(text)
        end = m.end()
        if head[end : end + 1] == "]" and m.start() > 0 and head[m.start() - 1] == "[":
            end += 1
        pos = self._take(end)
        named = text[:1] not in _DIGITS  # syslog's "Jan  2 03:04:05", ctime
        if named or text[4:5] in ("-", "/"):  # or ISO (rsyslog)
            pos = self._syslog_tag(pos, bsd=named)
        return pos

    def _syslog_tag(self, pos: int, *, bsd: bool) -> int:
        """``host app[pid]:`` right after a time: syslog's header. After an ISO time the pid
        must be there too (``2024-... server started: ok`` is a message)."""
        m = _SYSLOG_TAG.match(self.head, pos)
        if m is None or (m["pid"] is None and not bsd) or m["host"] in _LEVEL_SPELLINGS:
            return pos
        record = self.record
        record.fields["host"] = m["host"]
        record.logger = m["app"]
        if m["pid"]:
            record.fields["pid"] = int(m["pid"])
        return self._take(m.end())

    def _level(self, word: str) -> None:
        record = self.record
        record.level, record.levelno = level_from_name(word)

    def _bracket(self, pos: int) -> int:
        head, record = self.head, self.record
        m = _BRACKET.match(head, pos)
        if m is None:
            return self._plain_word(pos)
        inner = m.group()[1:-1].strip()
        if record.level is None:
            module, _, word = inner.rpartition(":")
            if word[:5] == "trace" and word[5:].isdigit():
                word = "trace"  # Apache's trace1..trace8
            if word in _LEVEL_SPELLINGS and (not module or _SIMPLE_MODULE.fullmatch(module)):
                self._level(word)
                if self.plain:
                    return -1  # the level stays in the message with the words before it
                if module:
                    record.logger = record.logger or module
                self._commit_held()
                return self._take(m.end())
        if self.plain:
            return self._plain_word(pos)
        if record.level is not None:
            field = _APACHE_FIELD.fullmatch(inner)
            if field is not None:
                fields = record.fields
                if field[1]:
                    fields["pid"] = int(field[1])
                if field[2]:
                    fields["tid"] = int(field[2])
                if field[3]:
                    fields[field[3]] = field[4]
                return self._take(m.end())
        name = _BRACKET_LOGGER.fullmatch(inner) if m.group()[0] == "[" else None
        if name is not None and ("." in name[1] or name[2]) and not record.logger:
            if record.level is not None:
                record.logger = name[1]
                if name[2]:
                    record.fields["lineno"] = int(name[2])
                self._commit_held()
                return self._take(m.end())
            if self.held_logger is None:
                self.held_logger, self.held_lineno = name[1], name[2]
                return _SEPARATOR.match(head, m.end()).end()  # type: ignore[union-attr]
        self.held.append(inner)
        return _SEPARATOR.match(head, m.end()).end()  # type: ignore[union-attr]

    def _number(self, pos: int) -> int:
        if self.record.level is not None and not self.plain:
            m = _NGINX_FIELD.match(self.head, pos)
            if m is not None:
                fields = self.record.fields
                fields["pid"], fields["tid"] = int(m[1]), int(m[2])
                if m[3]:
                    fields["connection"] = int(m[3])
                return self._take(m.end())
        return self._plain_word(pos)

    def _word(self, pos: int, after_time: bool) -> int:
        head, record = self.head, self.record
        m = _WORD_ITEM.match(head, pos)
        if m is None:
            return self._plain_word(pos)
        word, end = m.group(), m.end()
        after = head[end : end + 1]
        if record.level is None and word in _LEVEL_SPELLINGS and (
            (word.isupper() and (not after or after in _UPPER_END))
            or after == ":"
            or (after_time and after.isspace())
        ):
            self._level(word)
            if self.plain:
                return -1  # the level stays in the message with the words before it
            if after == "/":
                process = _PROCESS.match(head, end)
                if process is not None:
                    record.fields["processName"] = process[1]
                    end = process.end()
            self._commit_held()
            return self._take(end)
        if not self.plain and not record.logger:
            if record.level is not None:
                logger = self._logger_after_level(word, pos, end)
                if logger is not None:
                    record.logger, end = logger
                    self._commit_held()
                    return self._take(end)
            elif self.held_logger is None and (
                (after in ("", " ", "\t", ":") and _DOTTED.fullmatch(word))
                or (head.startswith(" - ", end) and "." not in word)
            ):
                self.held_logger = word
                return _SEPARATOR.match(head, end).end()  # type: ignore[union-attr]
        return self._plain_word(pos)

    def _logger_after_level(self, word: str, pos: int, end: int) -> tuple[str, int] | None:
        """The logger named at ``pos`` after the level, and where it ends: a dotted name,
        ``name - ``, Flask's ``in module:``, basicConfig's ``LEVEL:name:``, or a lower-case
        ``name: `` as ``%(levelname)s %(name)s: %(message)s`` writes it (logger names are
        module names; ``ERROR Failed: x`` and gcc's ``error: file: x`` are messages)."""
        head = self.head
        after = head[end : end + 1]
        if after in ("", " ", "\t", ":", "]") and _DOTTED.fullmatch(word):
            return word, end
        if "." in word:
            return None
        if head.startswith(" - ", end):
            return word, end
        if word == "in":
            m = _FLASK.match(head, pos)
            return (m[1], m.end() - 1) if m is not None else None
        if after != ":":
            return None
        if head[pos - 1 : pos] == ":":  # glued to the level's colon: "WARNING:root:"
            return (word, end) if pos >= 2 and not head[pos - 2].isspace() else None
        if (word[0].islower() or word[0] == "_") and head[end + 1 : end + 2] in ("", " "):
            return (word, end) if head[:pos].rstrip()[-1:] != ":" else None
        return None

    def _commit_held(self) -> None:
        """Held items belong to the header now that a level or logger follows them."""
        record = self.record
        if self.held_logger is not None and not record.logger:
            record.logger = self.held_logger
            if self.held_lineno:
                record.fields["lineno"] = int(self.held_lineno)
        if self.held:
            record.fields["context"] = " ".join(self.held)
        self.held_logger = self.held_lineno = None
        self.held = []

    # -- positions --------------------------------------------------------------------------

    def _take(self, end: int) -> int:
        """Take the header up to ``end`` (and the separator after it); returns the new position."""
        head = self.head
        if head[end : end + 1] == " " and head[end + 1 : end + 2] not in _SEPARATOR_CHARS:
            after = end + 1  # the common case, without a regex
        else:
            after = _SEPARATOR.match(head, end).end()  # type: ignore[union-attr]
        if not self.plain:
            self.end = after
        return after

    def _plain_word(self, pos: int) -> int:
        """Pass over a word that is not header (the message will keep it); -1 to stop."""
        if self.record.level is not None or self.plain >= _PLAIN_WORDS:
            return -1
        m = _WORD.match(self.head, pos)
        if m is None:
            return -1
        self.plain += 1
        return _SEPARATOR.match(self.head, m.end()).end()  # type: ignore[union-attr]
