"""JSON lines: one JSON object per line, whatever library wrote it.

The field names of python-json-logger, structlog, loguru (``serialize=True``), ECS, GELF,
pino, bunyan, Logstash, Google Cloud, zap-like generic loggers, systemd's journal
(``journalctl -o json``) and logview's own ``--output jsonl`` schema are mapped onto ``Record``;
every other key is kept in ``Record.fields`` as it was (nested objects included). A line that is
not a JSON object is a plain record of its own. Lines may open with the record separator 0x1E
of JSON text sequences (RFC 7464, ``journalctl -o json-seq``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from logview.formats.base import LogFormat
from logview.formats.journald import is_journal_entry, record_from_journal
from logview.formats.json_columns import JsonColumnWalker, JsonReading
from logview.formats.json_levels import LETTER_LEVELS, SCHEMA_KEYS, level_scans
from logview.formats.json_plain import plain_reader
from logview.formats.json_roles import (
    _EXC,
    _LEVEL,
    _LEVELNO,
    _LOGGER,
    _MSG,
    _NESTED_KEYS,
    _ROLES,
    _STACK,
    _TIME,
    KEY_ROLES,
    Plain,
    _layout_of,
    role_table,
)
from logview.formats.linewise import (
    ANSI_HINT_RE,
    PLAIN_START,
    attach_continuation,
    is_continuation,
    plain_record,
)
from logview.formats.structlog_traceback import render_structlog_traceback
from logview.record import (
    MAX_LEVELNO,
    Record,
    level_from_name,
    level_from_pino,
    level_from_python_number,
    level_from_syslog,
    split_exception,
    strip_ansi,
)
from logview.timeparse import parse_epoch, parse_time

#: Every key of logview's own ``--output jsonl`` schema (see ``logview.printer``).
_OWN_KEYS = frozenset(("time", "level", "levelno", "logger", "message", "exc", "fields",
                       "source", "line"))

_LEVEL_CACHE: dict[str, tuple[str | None, int]] = {}
_LEVEL_CACHE_MAX = 512
#: A longer "level" is some other text: the record gets no level (the value stays in raw).
_LEVEL_MAX_CHARS = 40

#: What may come before a JSON object on its line: blanks, a byte order mark, and the record
#: separator (RS, 0x1E) that starts each text of a JSON text sequence (RFC 7464).
_LEAD = " \t\ufeff\x1e"


def _level_name(text: str) -> tuple[str | None, int]:
    hit = _LEVEL_CACHE.get(text)
    if hit is None:
        hit = level_from_name(_clean(text)) if len(text) <= _LEVEL_MAX_CHARS else (None, 0)
        if hit[1] == 0 and len(text) <= 2:
            hit = LETTER_LEVELS.get(text, hit)
        if len(_LEVEL_CACHE) < _LEVEL_CACHE_MAX:
            _LEVEL_CACHE[text] = hit
    return hit


def _clean(text: str) -> str:
    """Strip ANSI codes that were JSON-escaped inside a value (parse only saw ``\\u001b``)."""
    if text.isascii() and "\x1b" not in text:  # no C1 introducer either: nothing to strip
        return text
    return strip_ansi(text) if ANSI_HINT_RE.search(text) else text


def _compact(value: Any) -> str:
    """A non-string message as compact text (numbers, objects, lists, true/false/null)."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, ValueError):
        return repr(value)


def _time_of(value: Any) -> tuple[Any, str | None]:
    """(datetime or None, time text) for a time value: text, epoch number, MongoDB Extended
    JSON's ``{"$date": text or number}``, or neither."""
    if type(value) is dict and len(value) == 1 and "$date" in value:
        value = value["$date"]
        if type(value) is dict and len(value) == 1 and "$numberLong" in value:  # (ms, text)
            return parse_epoch(str(value["$numberLong"])), None
    if isinstance(value, str):
        return parse_time(value), value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_epoch(value), None
    return None, None


def _load(line: str) -> Any:
    """The JSON value of a line, or None when it is not valid JSON (never raises)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses some things the stdlib reads (NaN, Infinity, lone surrogates); the stdlib
    # in turn may hit the recursion or integer-digit limits on hostile input.
    try:
        value = json.loads(line)
        orjson.dumps(value)  # lone surrogates (from "\\ud800") would break every writer later
    except (ValueError, RecursionError):
        return None
    except TypeError:
        try:
            return json.loads(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
                              .decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return None
    return value


class JsonFormat(LogFormat):
    """One JSON object per line; other lines are plain records of their own.

    ``keys`` maps roles (``time``, ``level``, ``message``, ``logger``, ``exc``) to the keys an
    application's objects hold them in: those are read first, the usual synonyms after, and
    every other key stays a field. Such a format only claims lines whose objects have one of
    its own keys (see ``score``), so it is not picked for every JSON file.
    """

    name = "jsonl"
    #: Levels may be numbers: the query prefilter must not look for level names in the bytes.
    level_text = False
    #: Strings in the raw bytes are JSON-escaped (``\\"``, ``\\n``, ``\\u00e9``).
    json_escaped = True
    #: Fields are the objects' keys (journald's, loguru's ``record`` and ``extra``, GELF's
    #: without their ``_``), but for what the parser names itself when a user's key mapping
    #: puts a role elsewhere: a stack that is no text (``stack_info``), a level number
    #: (``levelno``).
    fields_named = frozenset({"stack_info", "levelno"})
    #: Fields are the objects' keys, each written ``"key": value``.
    json_fields = True
    prints_raw = False  # records are JSON objects: shown from their fields
    #: Records whose message the raw bytes do not show as text: journald writes a message that
    #: is not clean UTF-8 (colour codes, binary) as an array of byte values.
    opaque_text: tuple[bytes, ...] = (b'"MESSAGE":[',)
    # A line that closes a pretty-printed object (``}``, ``],``) continues it; an RS (0x1E)
    # opens each object of a JSON text sequence.
    #: An object line starts a record; an indented one only when it is a whole object on its
    #: line (a traceback's quoted source line ``    {}["missing"]`` stays in the traceback).
    start_pattern = re.compile(rb"\x1e?\{|\x1e[ \t]*\{|[ \t]+\{.*\}[ \t\r]*\Z|(?![}\]])"
                               + PLAIN_START.pattern)
    #: A line that begins with ``{`` is an object line (the pattern's first branch).
    sure_start_bytes = b"{"

    def __init__(self, keys: Mapping[str, str] | None = None, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self.keys: dict[str, str] = dict(keys or {})
        self._roles = role_table(self.keys) if self.keys else None
        # The mapped keys that change something (not already a synonym of the same role):
        # an object with one of them is this format's; all mapped keys when none do.
        marks = [k for r, k in self.keys.items() if _ROLES.get(k, (None,))[0] != KEY_ROLES[r]]
        self._marks = frozenset(marks or self.keys.values())
        self._walker: JsonColumnWalker | bool | None = False
        keys = [k for k, (role, _) in (self._roles or _ROLES).items()
                if role in (_LEVEL, _LEVELNO)]
        #: Every key a level may come from (``json_levels``): the roles', and the schemas'.
        self._level_keys = tuple(keys) + (SCHEMA_KEYS if self._roles is None else ())

    def level_pattern(self, op: str, number: int) -> tuple[bytes, ...] | None:
        """The regexes of the records whose level satisfies ``levelno OP number``, under any
        key a level may come from (``json_levels.level_scans``)."""
        return level_scans(self._level_keys, op, number)

    def column_walker(self) -> JsonColumnWalker | None:
        """Reads level, logger and time of many records at once, as ``record_from_object``
        does (``json_columns``); the records it cannot read so are parsed."""
        if self._walker is False:
            roles = self._roles or _ROLES
            reading = JsonReading(roles, _TIME, _LEVEL, _LEVELNO, _MSG, _LOGGER,
                                  schemas=self._roles is None,
                                  name_rule=roles["name"] == _ROLES["name"],
                                  level_name=_level_name, numeric_level=_numeric_level,
                                  levelno_of=_levelno, clean=_clean)
            walker = JsonColumnWalker(reading)
            self._walker = walker if walker.usable else None
        return self._walker or None

    def object_reader(self):
        """``LogFormat.object_reader``: the bytes of a one-line record that opens with ``{``
        and closes with ``}`` (no escape sequence, no carriage return: the caller checks)
        decoded by orjson and mapped by ``record_from_object``, as ``parse_raw`` does with
        their text; None for what orjson refuses (invalid UTF-8, NaN, lone surrogates) or
        what is no object: those are parsed. None for a subclass that parses its own way."""
        cls = type(self)
        if cls.parse is not JsonFormat.parse or cls.parse_raw is not JsonFormat.parse_raw:
            return None
        return self._reader(record_from_object)

    def plain_reader(self):
        """For the bytes ``object_reader`` reads: ``plain_values`` of their object, or None
        when its record must be made (``object_reader``); None for a subclass."""
        if self.object_reader() is None:
            return None
        roles = self._roles
        return plain_reader(roles, lambda obj: plain_values(obj, roles), _level_name, _clean)

    def _reader(self, make):
        """A reader of one object's bytes: ``make(obj, roles)``, or None for what orjson
        refuses or what is no object."""
        roles, loads, error = self._roles, orjson.loads, orjson.JSONDecodeError

        def read(data: bytes):
            try:
                obj = loads(data)
            except error:
                return None
            return make(obj, roles) if type(obj) is dict else None

        return read

    def is_start(self, line: str) -> bool:
        head = line[:1]
        if head == "{" or (head == "\x1e" and line.lstrip(_LEAD)[:1] == "{"):
            return True
        if line.lstrip(_LEAD)[:1] == "{":  # indented: only a whole object on its line
            return line.rstrip(" \t\r")[-1:] == "}"
        return head != "}" and head != "]" and not is_continuation(line)

    def score(self, lines: list[str]) -> float:
        """Fraction of the sample's lines that are JSON objects (text lines count against);
        with a key mapping, objects that hold one of its own keys."""
        if not lines:
            return 0.0
        hits = 0
        marks = self._marks
        for line in lines:
            stripped = line.strip().lstrip("\ufeff")  # str.strip drops RS (0x1E) too
            if stripped[:1] == "{" and stripped[-1:] == "}":
                obj = _load(stripped)
                if isinstance(obj, dict) and (not marks or not marks.isdisjoint(obj)):
                    hits += 1
        return hits / len(lines)

    def parse_raw(self, raw: str) -> Record:
        """As ``LogFormat.parse_raw``; a JSON text sequence's RS is framing, not record text."""
        return super().parse_raw(raw.lstrip("\x1e") if raw[:1] == "\x1e" else raw)

    def parse(self, text: str) -> Record:
        if text[:1] == "\x1e":  # RFC 7464: the separator is framing, not part of the record
            text = text.lstrip("\x1e")
        first, nl, rest = text.partition("\n")
        stripped = first.strip().lstrip("\ufeff")  # a UTF-8 byte order mark opens some files
        obj = _load(stripped) if stripped[:1] == "{" else None
        if obj is None and nl and stripped[:1] == "{":
            obj = _load(text)  # a pretty-printed object spread over several lines
            if isinstance(obj, dict):
                return record_from_object(obj, self._roles)
        if not isinstance(obj, dict):
            return plain_record(text)
        record = record_from_object(obj, self._roles)
        return attach_continuation(record, rest) if nl else record


def _own_schema(obj: dict[str, Any]) -> Callable[[dict[str, Any]], Record] | None:
    """What maps an object of a schema read as a whole (loguru's, logview's own, journald's)."""
    if "record" in obj and "text" in obj and isinstance(obj["record"], dict):
        return _from_loguru
    if "levelno" in obj and "fields" in obj and "exc" in obj and "message" in obj:
        return _from_own
    if ("MESSAGE" in obj or "__CURSOR" in obj or "__REALTIME_TIMESTAMP" in obj) and (
        is_journal_entry(obj)
    ):
        return record_from_journal
    return None


PlainValues = tuple[str, str | None, int, str, str, dict[str, Any]]


def _plain_values(obj: dict[str, Any], plain: Plain, field_keys: tuple[str, ...]
                  ) -> PlainValues | None:
    if plain is None:
        return None
    time_value, level_value, msg, logger_value = plain(obj)
    if (type(msg) is str and type(logger_value) is str and type(time_value) is str
            and type(level_value) is str and "\n" not in msg):
        level, levelno = _level_name(level_value)
        return (time_value, level, levelno, _clean(msg), _clean(logger_value),
                {key: obj[key] for key in field_keys})
    return None


def plain_values(obj: dict[str, Any], roles: dict[str, tuple[int, int]] | None = None
                 ) -> PlainValues | None:
    """For an object ``record_from_object`` maps the short way (text time, level and logger,
    a one-line message, nothing else it reads): (time text, level, level number, message,
    logger, fields) of its record, whose time is ``parse_time`` of the text; else None."""
    if roles is None:
        if _own_schema(obj) is not None:
            return None
        roles = _ROLES
    _, field_keys, plain = _layout_of(obj, roles)
    return _plain_values(obj, plain, field_keys)


def record_of_plain(values: PlainValues, source: str = "", line: int | None = None,
                    offset: int | None = None, raw: str = "", data: bytes | None = None
                    ) -> Record:
    """The record ``record_from_object`` makes of an object whose ``plain_values`` these are
    (stamped with ``source``, ``line``, ``offset``, ``raw`` and ``data`` at once)."""
    time_text, level, levelno, message, logger, fields = values
    # (Positional: Record's fields in order, a third cheaper than by keyword.)
    return Record(message, parse_time(time_text), time_text, level, levelno, logger, None,
                  fields, source, line, offset, raw, data)


def record_from_object(obj: dict[str, Any],
                       roles: dict[str, tuple[int, int]] | None = None) -> Record:
    """Map one decoded JSON log object onto a Record (any of the known schemas).

    ``roles`` is a table from ``role_table``: a user's key mapping, which is then the whole
    truth (the object is not taken for loguru's, journald's or logview's own schema).
    """
    if roles is None:
        schema = _own_schema(obj)
        if schema is not None:
            return schema(obj)
        roles = _ROLES

    keys, field_keys, plain = _layout_of(obj, roles)
    short = _plain_values(obj, plain, field_keys)
    if short is not None:  # what the steps below make of it
        return record_of_plain(short)
    fields: dict[str, Any] = {key: obj[key] for key in field_keys}  # type: ignore[no-redef]
    values = [None if key is None else obj[key] for key in keys]

    # Message ------------------------------------------------------------------------------
    exc: str | None = None
    msg = values[_MSG]
    if msg is None and keys[_MSG] is None:
        message = ""
    elif isinstance(msg, str):
        message = _clean(msg)
        if "\n" in message:
            message, exc = split_exception(message)
    else:
        message = _compact(msg)

    # Logger: structlog binds user data as keys, so there "name" is a field, not the logger.
    logger_value = values[_LOGGER]
    logger = ""
    if logger_value is not None:
        if isinstance(logger_value, str) and not (keys[_LOGGER] == "name" and
                                                  keys[_MSG] == "event" and
                                                  roles["name"] == _ROLES["name"]):
            logger = _clean(logger_value)
        else:
            fields[keys[_LOGGER]] = logger_value  # type: ignore[index]

    # Time ---------------------------------------------------------------------------------
    time = time_text = None
    if keys[_TIME] is not None:
        time, time_text = _time_of(values[_TIME])
        if time is None and time_text is None:
            fields[keys[_TIME]] = values[_TIME]  # type: ignore[index]

    # Exception text -----------------------------------------------------------------------
    if keys[_EXC] is not None:
        exc = _join(exc, _exception_text(values[_EXC], keys[_EXC], fields))  # type: ignore[arg-type]
    if keys[_STACK] is not None:
        stack = values[_STACK]
        if isinstance(stack, str) and stack:
            exc = _join(exc, _clean(stack))
        elif stack is not None:
            fields["stack_info"] = stack

    # Nested objects of ECS (log, error), pino/bunyan (err), GELF extras ------------------------
    level_value = values[_LEVEL]
    level_key = keys[_LEVEL]
    if fields and not _NESTED_KEYS.isdisjoint(fields):
        log = fields.get("log")
        if isinstance(log, dict) and ("level" in log or "logger" in log):
            log = dict(log)
            if level_key is None and "level" in log:
                level_value, level_key = log.pop("level"), "log.level"
            if not logger and isinstance(log.get("logger"), str):
                logger = _clean(log.pop("logger"))
            if log:
                fields["log"] = log
            else:
                del fields["log"]
        for err_key, stack_key in (("error", "stack_trace"), ("err", "stack")):
            err = fields.get(err_key)
            if isinstance(err, dict):
                trace = err.get(stack_key)
                if isinstance(trace, str) and trace:
                    kind = err.get("type")
                    if isinstance(kind, str) and kind and kind not in trace:
                        # (ecs-logging writes Python's frames alone: the line that says
                        # what was raised is its type and message)
                        trace = trace.rstrip("\n") + "\n" + _error_line(kind, err.get("message"))
                    exc = _join(exc, _clean(trace))
                    rest = {k: v for k, v in err.items() if k != stack_key}
                    if rest:
                        fields[err_key] = rest
                    else:
                        del fields[err_key]
                elif exc is None and isinstance(err.get("type"), str):
                    exc = _error_line(err.get("type"), err.get("message"))
        if exc is None and isinstance(fields.get("error.type"), str):
            exc = _error_line(fields["error.type"], fields.get("error.message"))
    if keys[_MSG] == "short_message":
        exc = _gelf(fields, message, exc)

    # Level --------------------------------------------------------------------------------
    level: str | None = None
    levelno = 0
    if level_key is not None:
        if isinstance(level_value, str):
            level, levelno = _level_name(level_value)
        elif isinstance(level_value, int) and not isinstance(level_value, bool) or (
            isinstance(level_value, float) and math.isfinite(level_value)
        ):
            level, levelno = _numeric_level(int(level_value), obj)
        else:
            fields[level_key] = level_value
    number = values[_LEVELNO]
    if isinstance(number, int) and not isinstance(number, bool):
        if level is None:
            level, levelno = level_from_python_number(number)
        elif levelno == 0:
            levelno = _levelno(number)
    elif keys[_LEVELNO] is not None:
        fields["levelno"] = number

    return Record(message=message, time=time, time_text=time_text, level=level, levelno=levelno,
                  logger=logger, exc=exc, fields=fields)


def _levelno(value: Any) -> int:
    """A level number as given (0 when it is no whole number in ``1..MAX_LEVELNO``)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_LEVELNO:
        return value
    return 0


def _join(first: str | None, second: str | None) -> str | None:
    if not first:
        return second
    if not second:
        return first
    return f"{first}\n{second}"


def _error_line(exc_type: Any, exc_message: Any) -> str:
    return f"{exc_type}: {exc_message}" if exc_message else str(exc_type)


def _exception_text(value: Any, key: str, fields: dict[str, Any]) -> str | None:
    """Exception text from a string, or structlog's ``dict_tracebacks`` list of stacks."""
    if isinstance(value, str):
        return _clean(value) if value else None
    if isinstance(value, list) and value and all(isinstance(s, dict) for s in value):
        text = render_structlog_traceback(value)
        if text:
            return _clean(text)
    if value is not None and value is not False:
        fields[key] = value
    return None


def _numeric_level(number: int, obj: dict[str, Any]) -> tuple[str | None, int]:
    """Read a numeric level the way the object's writer meant it."""
    if "short_message" in obj or ("host" in obj and "version" in obj and 0 <= number <= 7):
        return level_from_syslog(number)
    if "msg" in obj or "v" in obj or ("hostname" in obj and "pid" in obj):
        return level_from_pino(number)
    return level_from_python_number(number)


def _gelf(fields: dict[str, Any], message: str, exc: str | None) -> str | None:
    """GELF: ``_``-prefixed additional fields lose the underscore; ``full_message`` is detail."""
    for key in [k for k in fields if k[:1] == "_" and len(k) > 1]:
        value = fields.pop(key)
        fields.setdefault(key[1:], value)
    full = fields.get("full_message")
    if isinstance(full, str):
        del fields["full_message"]
        full = _clean(full).rstrip("\n")
        if full.startswith(message):
            full = full[len(message):].strip("\n")
        if full:
            exc = _join(exc, full)
    return exc


def _from_own(obj: dict[str, Any]) -> Record:
    """logview's own ``--output jsonl`` schema: reads back to the record that was written."""
    time, time_text = _time_of(obj.get("time"))
    level = obj.get("level")
    levelno = obj.get("levelno")
    fields = obj.get("fields")
    message = obj.get("message")
    exc = obj.get("exc")
    logger = obj.get("logger")
    source = obj.get("source")
    line = obj.get("line")
    fields = dict(fields) if isinstance(fields, dict) else {"fields": fields}
    for key, value in obj.items():  # keys someone added to the schema stay queryable
        if key not in _OWN_KEYS:
            fields.setdefault(key, value)
    return Record(
        message=_clean(message) if isinstance(message, str) else _compact(message),
        time=time,
        time_text=time_text,
        level=level if isinstance(level, str) else None,
        levelno=_levelno(levelno),
        logger=_clean(logger) if isinstance(logger, str) else "",
        exc=_clean(exc) if isinstance(exc, str) else None,
        fields=fields,
        source=source if isinstance(source, str) else "",
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
    )


def _from_loguru(obj: dict[str, Any]) -> Record:
    """loguru ``serialize=True``: ``{"text": formatted, "record": {...}}``."""
    rec: dict[str, Any] = obj["record"]
    fields: dict[str, Any] = {}
    extra = rec.get("extra")
    if isinstance(extra, dict):
        fields.update(extra)
    for key, value in rec.items():
        if key not in ("extra", "message", "level", "time", "name", "exception"):
            fields.setdefault(key, value)

    message = rec.get("message")
    message = _clean(message) if isinstance(message, str) else _compact(message)
    exc = None
    if "\n" in message:
        message, exc = split_exception(message)

    level: str | None = None
    levelno = 0
    lv = rec.get("level")
    if isinstance(lv, dict):
        name, no = lv.get("name"), lv.get("no")
        if isinstance(name, str):
            level, levelno = _level_name(name)
        if isinstance(no, int) and not isinstance(no, bool) and (levelno == 0 or level is None):
            if level is None:
                level, levelno = level_from_python_number(no)
            else:
                levelno = _levelno(no)
    elif isinstance(lv, str):
        level, levelno = _level_name(lv)

    time = time_text = None
    tv = rec.get("time")
    if isinstance(tv, dict):
        time, time_text = _time_of(tv.get("repr"))
        if time is None:
            time, _ = _time_of(tv.get("timestamp"))
    else:
        time, time_text = _time_of(tv)

    error = rec.get("exception")
    if error:
        # loguru puts the formatted traceback only in "text", after the formatted message.
        text = obj.get("text")
        trace = None
        if isinstance(text, str):
            _, trace = split_exception(_clean(text).rstrip("\n"))
            if trace is None and "\n" in text.strip("\n"):
                trace = _clean(text).strip("\n").split("\n", 1)[1]
        if trace is None and isinstance(error, dict):
            trace = _error_line(error.get("type"), error.get("value"))
        exc = _join(exc, trace)

    name = rec.get("name")
    return Record(message=message, time=time, time_text=time_text, level=level,
                  levelno=levelno, logger=_clean(name) if isinstance(name, str) else "",
                  exc=exc, fields=fields)
