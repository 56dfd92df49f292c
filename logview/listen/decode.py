"""Received values -> ``Record``: LogRecord dicts, JSON objects, syslog messages, warnings.

A ``logging.LogRecord.__dict__`` (what SocketHandler, DatagramHandler and HTTPHandler send)
maps as follows: ``msg`` (merged with ``args`` when those are plain values) -> message,
``exc_text`` plus ``stack_info`` -> exc, ``created`` -> time, ``levelname``/``levelno`` ->
level, ``name`` -> logger. The location and process attributes (``pathname``, ``lineno``,
``funcName``, ``process``, ``processName``, ``thread``, ``threadName``, ``taskName``) and
every ``extra=`` key go to ``fields``; attributes that repeat other ones (``filename``,
``module``, ``msecs``, ``relativeCreated``, ``asctime``, a pre-formatted ``message``) are
dropped. Values are made JSON-safe with a node budget, so shared or cyclic references in a
hostile pickle cannot blow up into gigabytes of output.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

import orjson

from logview.formats.jsonl import record_from_object
from logview.formats.syslog import parse_syslog_message
from logview.listen.safe_pickle import Placeholder
from logview.record import (
    WARNING,
    Record,
    level_from_name,
    level_from_python_number,
    level_from_syslog,
    strip_ansi,
)

#: LogRecord attributes turned into Record attributes or dropped (not copied to ``fields``).
_CONSUMED = frozenset((
    "msg", "args", "levelname", "levelno", "name", "created", "exc_info", "exc_text",
    "stack_info", "filename", "module", "msecs", "relativeCreated", "asctime", "message",
))
#: Standard attributes kept in ``fields`` only when they carry a value.
_OPTIONAL = frozenset(("taskName", "processName", "threadName", "funcName"))

MAX_NODES = 20_000
MAX_DEPTH = 64
MAX_TEXT = 1 << 20
#: A %-format spec with a width/precision above this (or a ``*``) is not applied.
_SPEC_RE = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_MAX_WIDTH = 1000

LISTENER_LOGGER = "logview.listen"


def now() -> _dt.datetime:
    """Arrival time, local and aware."""
    return _dt.datetime.now().astimezone()


class _Budget:
    __slots__ = ("left",)

    def __init__(self, nodes: int) -> None:
        self.left = nodes


def to_plain(value: Any, *, max_nodes: int = MAX_NODES) -> Any:
    """A JSON-safe copy of a decoded value, bounded in nodes and depth (never raises)."""
    return _plain(value, _Budget(max_nodes), 0, set())


def _plain(value: Any, budget: _Budget, depth: int, path: set[int]) -> Any:
    budget.left -= 1
    if budget.left < 0:
        return "<truncated>"
    if value is None or isinstance(value, (bool, float, str)):
        return value
    if isinstance(value, int):
        return value if -(1 << 63) <= value < (1 << 64) else str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:MAX_TEXT]).decode("utf-8", "replace")
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if depth >= MAX_DEPTH:
        return "<too deep>"
    ident = id(value)
    if ident in path:
        return "<cycle>"
    path.add(ident)
    try:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if budget.left < 0:
                    break
                name = key if isinstance(key, str) else str(_plain(key, budget, depth + 1, path))
                out[name] = _plain(item, budget, depth + 1, path)
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            items = []
            for item in value:
                if budget.left < 0:
                    items.append("<truncated>")
                    break
                items.append(_plain(item, budget, depth + 1, path))
            return items
        if isinstance(value, Placeholder):
            out = {"__class__": value.full_name}
            if value.args:
                out["args"] = _plain(value.args, budget, depth + 1, path)
            if value.kwargs:
                out["kwargs"] = _plain(value.kwargs, budget, depth + 1, path)
            if value.state is not None:
                out["state"] = _plain(value.state, budget, depth + 1, path)
            if value.items:
                out["items"] = _plain(value.items, budget, depth + 1, path)
            return out
        if isinstance(value, type) and issubclass(value, Placeholder):
            return f"<{value.module}.{value.qualname}>"
        return f"<{type(value).__name__}>"
    finally:
        path.discard(ident)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    plain = to_plain(value, max_nodes=1000)
    if isinstance(plain, str):
        return plain
    try:
        return orjson.dumps(plain).decode()
    except (TypeError, ValueError):
        return repr(plain)


def _plain_arg(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def merge_args(msg: str, args: Any) -> str:
    """``msg % args`` like ``LogRecord.getMessage``, but only for plain values and sane specs.

    Anything else (objects, huge widths such as ``%0999999999d``, a bad format) leaves the
    message as it was: better an unmerged message than running code or filling memory.
    """
    if not args or "%" not in msg:
        return msg
    if isinstance(args, dict):
        if not all(_plain_arg(v) for v in args.values()):
            return msg
    elif isinstance(args, (tuple, list)):
        if not all(_plain_arg(v) for v in args):
            return msg
        args = tuple(args)
        if len(args) == 1 and isinstance(args[0], dict):  # pragma: no cover - not plain
            args = args[0]
    else:
        return msg
    for spec in _SPEC_RE.finditer(msg):
        for part in (spec.group(1), spec.group(2)):
            if part is not None and (part == "*" or int(part) > _MAX_WIDTH):
                return msg
    try:
        return msg % args
    except (TypeError, ValueError, KeyError, OverflowError, IndexError):
        return msg


def record_from_logrecord(data: dict[Any, Any], source: str) -> Record:
    """A Record from a LogRecord ``__dict__`` (values already safe-decoded or strings)."""
    get = data.get
    message = merge_args(_text(get("msg", "")), get("args"))
    levelname = get("levelname")
    levelno = get("levelno")
    level: str | None
    if isinstance(levelname, str) and levelname:
        level, number = level_from_name(levelname)
    elif isinstance(levelno, int) and not isinstance(levelno, bool):
        level, number = level_from_python_number(levelno)
    else:
        level, number = None, 0
    if isinstance(levelno, int) and not isinstance(levelno, bool) and 0 < levelno < 1000:
        number = levelno
    created = get("created")
    when = None
    if isinstance(created, (int, float)) and not isinstance(created, bool):
        try:
            when = _dt.datetime.fromtimestamp(created).astimezone()
        except (OverflowError, OSError, ValueError):
            when = None
    exc_parts = [_text(part).rstrip("\n") for part in (get("exc_text"), get("stack_info")) if part]
    fields: dict[str, Any] = {}
    budget = _Budget(MAX_NODES)
    path: set[int] = set()
    for key, value in data.items():
        if key in _CONSUMED:
            continue
        if value is None and key in _OPTIONAL:
            continue
        name = key if type(key) is str else str(_plain(key, budget, 1, path))
        kind = type(value)
        if kind is str or kind is float or kind is bool or value is None or (
                kind is int and -(1 << 63) <= value < (1 << 64)):
            fields[name] = value  # the common case, no walk needed
            budget.left -= 1
        else:
            fields[name] = _plain(value, budget, 1, path)
    logger = get("name")
    return Record(
        message=strip_ansi(message),
        time=when or now(),
        level=level,
        levelno=number,
        logger=strip_ansi(_text(logger)) if logger is not None else "",
        exc=strip_ansi("\n".join(exc_parts)) if exc_parts else None,
        fields=fields,
        source=source,
    )


def record_from_json(obj: dict[str, Any], source: str,
                     roles: dict[str, tuple[int, int]] | None = None) -> Record:
    """A Record from a decoded JSON log object (any schema ``JsonFormat`` knows; ``roles``:
    a key mapping's table, ``json_roles.role_table``)."""
    record = record_from_object(obj, roles)
    record.source = source
    if record.time is None:
        record.time = now()
    return record


def json_object(data: bytes) -> dict[str, Any] | None:
    """The object a JSON text holds, or None (not JSON, or not an object)."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def record_from_json_bytes(data: bytes, source: str) -> Record:
    """One JSON text (a line or a frame); anything but an object becomes a plain record."""
    obj = json_object(data)
    if obj is not None:
        return record_from_json(obj, source)
    return plain_record(data, source)


def plain_record(data: bytes | str, source: str) -> Record:
    """A record whose message is the received text as it is."""
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    return Record(message=strip_ansi(text.rstrip("\r\n")), time=now(), source=source)


_PRI_RE = re.compile(rb"<(\d{1,3})>")


def record_from_syslog(data: bytes, source: str,
                       read: Callable[[Record], Record] | None = None) -> Record:
    """One syslog message (``<PRI>`` RFC 3164/5424 or Python's SysLogHandler form);
    ``read``: what reads its message by the client's format (``SyslogMessages``), before
    a record without a time gets the time it arrived."""
    data = data.rstrip(b"\x00\r\n")
    try:
        record = parse_syslog_message(data)
    except ValueError:
        record = _minimal_syslog(data)
    if read is not None:
        record = read(record)
    record.source = source
    if record.time is None:
        record.time = now()
    return record


def _minimal_syslog(data: bytes) -> Record:
    """PRI -> level and facility, the rest is the message (until syslog.py lands)."""
    fields: dict[str, Any] = {}
    level, number = None, 0
    match = _PRI_RE.match(data)
    if match and int(match.group(1)) <= 191:
        pri = int(match.group(1))
        level, number = level_from_syslog(pri & 7)
        fields["facility"] = pri >> 3
        data = data[match.end():]
    text = data.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    return Record(message=strip_ansi(text), level=level, levelno=number, fields=fields)


def process_name(record: Record) -> str | None:
    """Who wrote ``record``, from what it carries: the program (a syslog app name, a
    ``processName`` other than multiprocessing's default) with its process id, or the process
    id alone (``pid 4242``); None when it says neither.

    A client is named after the process that sent each record, never after a logger: one
    process logs through many loggers, and a QueueListener forwards records of many processes
    on one connection.
    """
    fields = record.fields
    if not fields:
        return None
    name = fields.get("app")
    if not isinstance(name, str) or not name:
        name = fields.get("processName")
        if not isinstance(name, str) or name == "MainProcess":
            name = None
    pid = fields.get("process", fields.get("pid"))
    pid_text = str(pid) if type(pid) is int and 0 <= pid < 1 << 32 else None
    if name:
        name = strip_ansi(name[:80]).replace("(", "[").replace(")", "]")
        return f"{name}[{pid_text}]" if pid_text else name
    return f"pid {pid_text}" if pid_text else None


def client_source(base: str, record: Record) -> str:
    """The source of a record a client sent: the client (``tcp:127.0.0.1:53422``) and, in
    parentheses, the process that wrote it (see ``process_name``)."""
    name = process_name(record)
    return f"{base} ({name})" if name else base


def listener_warning(source: str, text: str) -> Record:
    """A record about the listener itself (bad input, refused connections)."""
    return Record(message=text, time=now(), level="WARNING", levelno=WARNING,
                  logger=LISTENER_LOGGER, source=source)
