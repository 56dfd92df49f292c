"""logfmt: ``key=value key="quoted \\"value\\""`` lines (Go, Heroku, structlog's renderers).

Well-known keys map onto the record (time, level, message, logger, error); every other pair is
kept in ``fields`` as text (a bare key, as structlog writes ``True``, becomes ``True``). A line
that is not logfmt is a plain record of its own. ``at=`` is the level only when its value is a
level name (Heroku and logfmter write ``at=info``; elsewhere ``at`` may be a place or a time).
``heroku logs`` puts ``TIME SOURCE[DYNO]:`` in front of the pairs: those become time and logger.
"""

from __future__ import annotations

import re
from typing import Any

from logview.formats.base import LogFormat
from logview.formats.linewise import (
    ANSI_HINT_RE,
    PLAIN_START,
    attach_continuation,
    is_continuation,
    plain_record,
)
from logview.record import LEVELS, Record, level_from_name, split_exception, strip_ansi
from logview.timeparse import parse_time

# One token: a key, optionally ``=`` and a quoted or bare value. Possessive quantifiers keep
# hostile lines (an unclosed quote, megabytes of backslashes) linear.
# structlog's KeyValueRenderer writes Python reprs, so single quotes are values' quotes too.
_TOKEN_RE = re.compile(
    r'\s*([^\s="\']++)(?:(=)(?:"((?:[^"\\]++|\\.)*+)"|\'((?:[^\'\\]++|\\.)*+)\''
    r'|([^\s"]*+)))?(?=\s|$)',
    re.DOTALL,
)
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "/": "/",
            "b": "\b", "f": "\f", "0": "\0"}

_TIME, _LEVEL, _MSG, _LOGGER, _EXC = range(5)
_ROLES: dict[str, tuple[int, int]] = {}
for _role, _keys in (
    (_TIME, ("time", "ts", "t", "timestamp", "@timestamp", "asctime")),
    (_LEVEL, ("level", "lvl", "severity", "levelname", "loglevel")),
    (_MSG, ("msg", "message", "event")),
    (_LOGGER, ("logger", "name", "caller", "logger_name")),
    (_EXC, ("err", "error", "exception", "exc_info", "stacktrace", "stack")),
):
    for _rank, _key in enumerate(_keys):
        _ROLES[_key] = (_role, _rank)

#: Keys that are the level only when their value is a level name, with their rank (after the
#: unconditional level keys): Heroku's router and the logfmter library write ``at=info``.
_LEVEL_IF_NAMED = {"at": 99}
#: The longest level name ``at=`` may hold (``informational``).
_LEVEL_NAME_MAX = 13

#: ``heroku logs``: ``2024-01-02T03:04:05.123456+00:00 heroku[router]: at=info ...``.
_SOURCE_RE = re.compile(r"[\w.-]+\[[\w.-]*\]:")

#: A line this long is never checked for pairs by ``is_start`` (it is a record either way).
_MAX_SCAN = 64 * 1024


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:
        number = int(code[1:], 16)
        return "\ufffd" if 0xD800 <= number <= 0xDFFF else chr(number)  # no lone surrogates
    return _ESCAPES.get(code, "\\" + code)


def _unquote(text: str) -> str:
    return _ESCAPE_RE.sub(_unescape_one, text) if "\\" in text else text


def tokenize(line: str) -> list[tuple[str, str | bool]] | None:
    """The (key, value) pairs of a logfmt line, or None when the line is not made of pairs.

    Bare keys get ``True``; an empty value (``key=``) is ``""``.
    """
    pairs: list[tuple[str, str | bool]] = []
    pos = 1 if line[:1] == "\ufeff" else 0  # a byte order mark opening the file
    end = len(line.rstrip())
    match = _TOKEN_RE.match
    while pos < end:
        m = match(line, pos)
        if m is None:
            return None
        key, eq, quoted, single, bare = m.groups()
        if not eq:
            pairs.append((key, True))
        elif quoted is not None:
            pairs.append((key, _unquote(quoted)))
        elif single is not None:
            pairs.append((key, _unquote(single)))
        else:
            pairs.append((key, bare or ""))
        pos = m.end()
    return pairs


def looks_like_logfmt(pairs: list[tuple[str, str | bool]] | None) -> bool:
    """Pairs that make a logfmt line: two ``k=v`` (or one well-known key), few bare words."""
    if not pairs:
        return False
    with_value = 0
    known = False
    for key, value in pairs:
        if value is not True:
            with_value += 1
            if key in _ROLES:
                known = True
    return (with_value >= 2 or known) and len(pairs) - with_value <= with_value


class LogfmtFormat(LogFormat):
    """``key=value`` lines; other lines are plain records of their own."""

    name = "logfmt"
    start_pattern = PLAIN_START
    #: Level names may be abbreviated or absent: the query prefilter must not rely on them.
    level_text = False
    #: Quoted values escape ``"`` and ``\\`` (and newlines) in the raw bytes, as JSON does.
    json_escaped = True

    def is_start(self, line: str) -> bool:
        return not is_continuation(line)

    def is_logfmt(self, line: str) -> bool:
        """True when the line is a logfmt record (not a text line among them)."""
        if len(line) > _MAX_SCAN or "=" not in line:
            return False
        return looks_like_logfmt(tokenize(line))

    def score(self, lines: list[str]) -> float:
        """Fraction of the sample's lines that are logfmt."""
        if not lines:
            return 0.0
        return sum(1 for line in lines if self.is_logfmt(line)) / len(lines)

    def parse(self, text: str) -> Record:
        first, nl, rest = text.partition("\n")
        pairs = tokenize(first) if "=" in first else None
        if not looks_like_logfmt(pairs):
            return plain_record(text)
        record = record_from_pairs(pairs)  # type: ignore[arg-type]
        return attach_continuation(record, rest) if nl else record


def _clean(text: str) -> str:
    return strip_ansi(text) if ANSI_HINT_RE.search(text) else text


def _is_level_name(value: str | bool) -> bool:
    """A value that names a level (``info``, ``WARN``), not a number or other text."""
    if value is True or not 0 < len(value) <= _LEVEL_NAME_MAX or not value.isalpha():
        return False
    level, levelno = level_from_name(value)
    return levelno > 0 and level in LEVELS


def _prefix(pairs: list[tuple[str, str | bool]]) -> tuple[str | None, str | None, int]:
    """The time and ``source[dyno]:`` logger that ``heroku logs`` writes before the pairs,
    and how many leading pairs they take."""
    time_text = logger = None
    used = 0
    first = pairs[0][0] if pairs and pairs[0][1] is True else ""
    if first[:1].isdigit() and parse_time(first) is not None:
        time_text = first
        used = 1
    if len(pairs) > used and pairs[used][1] is True and _SOURCE_RE.fullmatch(pairs[used][0]):
        logger = pairs[used][0][:-1]
        used += 1
    return time_text, logger, used


def record_from_pairs(pairs: list[tuple[str, str | bool]]) -> Record:
    """Map logfmt pairs onto a Record; the first of several synonyms wins by rank."""
    fields: dict[str, Any] = {}
    ranks = [1 << 20] * 5
    keys: list[str | None] = [None] * 5
    values: list[Any] = [None] * 5
    prefix_time, prefix_logger, skip = (
        _prefix(pairs) if pairs and pairs[0][1] is True else (None, None, 0)
    )
    for key, value in pairs[skip:] if skip else pairs:
        hit = _ROLES.get(key)
        if hit is None and key in _LEVEL_IF_NAMED and _is_level_name(value):
            hit = (_LEVEL, _LEVEL_IF_NAMED[key])
        if hit is None or value is True:
            fields[key] = value
            continue
        role, rank = hit
        if rank < ranks[role]:
            if keys[role] is not None:
                fields[keys[role]] = values[role]  # type: ignore[index]
            ranks[role], keys[role], values[role] = rank, key, value
        else:
            fields[key] = value

    message = _clean(values[_MSG]) if values[_MSG] is not None else ""
    exc = None
    if "\n" in message:
        message, exc = split_exception(message)
    if values[_EXC]:
        error = _clean(values[_EXC])
        exc = f"{exc}\n{error}" if exc else error
    elif keys[_EXC] is not None:
        fields[keys[_EXC]] = values[_EXC]  # type: ignore[index]

    level: str | None = None
    levelno = 0
    if values[_LEVEL]:
        level, levelno = level_from_name(_clean(values[_LEVEL])[:40])
    elif keys[_LEVEL] is not None:
        fields[keys[_LEVEL]] = values[_LEVEL]  # type: ignore[index]

    time = time_text = None
    if values[_TIME]:
        time_text = values[_TIME]
        time = parse_time(time_text)
    elif keys[_TIME] is not None:
        fields[keys[_TIME]] = values[_TIME]  # type: ignore[index]
    if prefix_time is not None:
        if time is None:
            time_text, time = prefix_time, parse_time(prefix_time)
        else:
            fields[prefix_time] = True  # a second time: kept as the bare word it was

    logger = _clean(values[_LOGGER]) if values[_LOGGER] else ""
    if prefix_logger is not None:
        if logger:
            fields[prefix_logger + ":"] = True
        else:
            logger = _clean(prefix_logger)
    return Record(message=message, time=time, time_text=time_text, level=level, levelno=levelno,
                  logger=logger, exc=exc, fields=fields)


def cuts_messages(pairs: LogFormat, inferred: LogFormat, starts: list[str]) -> bool:
    """Whether logfmt cuts most messages short where the inferred template reads them whole:
    a template that writes its values unquoted (``level=%(levelname)s msg=%(message)s``)
    leaves the words after the first as bare keys, which no logfmt writer writes."""
    cut = total = 0
    for line in starts[:64]:
        a, b = pairs.parse(line), inferred.parse(line)
        total += 1
        if (a.level == b.level and len(b.message) > len(a.message)
                and any(value is True for value in a.fields.values())):
            cut += 1
    return cut * 2 > total
