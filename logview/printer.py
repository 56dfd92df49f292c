"""Headless output of records: plain or coloured text, or JSON lines with a fixed schema."""

from __future__ import annotations

from typing import IO, Any

import orjson

from logview.record import CRITICAL, ERROR, INFO, WARNING, Record, printable

#: The keys of ``--output jsonl``, in order. Also the spool format of streamed input.
JSONL_KEYS = ("time", "level", "levelno", "logger", "message", "exc", "fields", "source", "line")


def record_to_json(record: Record) -> dict[str, Any]:
    """The ``--output jsonl`` object for a record (exactly ``JSONL_KEYS``)."""
    return {
        "time": record.time.isoformat() if record.time is not None else None,
        "level": record.level,
        "levelno": record.levelno,
        "logger": record.logger,
        "message": record.message,
        "exc": record.exc,
        "fields": record.fields,
        "source": record.source,
        "line": record.line,
    }


def dumps_record(record: Record) -> bytes:
    """One JSON line (with the trailing newline) for a record; never raises on odd fields."""
    obj = record_to_json(record)
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        obj["fields"] = {str(k): repr(v) for k, v in record.fields.items()}
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)


_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_LEVEL_SGR = ((CRITICAL, "\x1b[1;97;41m"), (ERROR, "\x1b[1;31m"), (WARNING, "\x1b[33m"),
              (INFO, "\x1b[32m"), (1, "\x1b[2;36m"))


def _level_sgr(levelno: int) -> str:
    for threshold, sgr in _LEVEL_SGR:
        if levelno >= threshold:
            return sgr
    return ""


def format_text(record: Record, *, color: bool = False) -> str:
    """A record as text: its original lines, made safe for a terminal, optionally coloured.

    Whatever the log contains, control characters are shown as visible symbols, so log text
    never sends escape sequences to the terminal.
    """
    text = printable(_synthesise(record) if structured(record) else record.raw)
    if not color:
        return text
    sgr = _level_sgr(record.levelno)
    if not sgr:
        return text
    first, sep, rest = text.partition("\n")
    out = f"{sgr}{first}{_RESET}"
    if sep:
        out += f"\n{_DIM}{rest}{_RESET}" if record.levelno < ERROR else f"\n{sgr}{rest}{_RESET}"
    return out


def structured(record: Record) -> bool:
    """The record is a JSON object (or has no text): its text is made from its fields."""
    raw = record.raw
    return not raw or ((raw[:1] == "{" or raw.lstrip().startswith("{"))
                       and bool(record.level or record.logger or record.time))


def field_pairs(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key, value text)`` of the fields one-line text shows after the message, in order:
    what ``synthesise`` writes as ``key=value``."""
    out: list[tuple[str, str]] = []
    for k, v in fields.items():
        if shown_field(k):
            if type(v) is dict and v:
                out += _nested_pairs(k, v)
            else:
                out.append((k, _field_text(v)))
    return out


def original_bytes(record: Record) -> bytes:
    """What ``--print`` writes into a pipe or a file: the record's bytes exactly as read (its
    text for a JSON record), ending with a newline; nothing is escaped or re-encoded."""
    if structured(record):
        return (_synthesise(record) + "\n").encode("utf-8", "replace")
    data = record.data if record.data is not None else record.raw.encode("utf-8", "replace")
    return data if data.endswith(b"\n") else data + b"\n"


def known_original_bytes(data: bytes) -> bytes | None:
    """``original_bytes`` of a record read from ``data`` by a format that ``prints_raw``, when
    it is known without parsing: some text and no ``{`` (so not a JSON record); else None."""
    if b"{" in data or not data.strip():
        return None
    return data if data.endswith(b"\n") else data + b"\n"


#: LogRecord attributes that every record of a logging client carries: kept in ``-o jsonl``
#: and the detail view, left out of one-line text so the extras a program added stand out.
#: (Also every field whose name starts with "_": the journal's trusted and address fields,
#: ``_PID``, ``__CURSOR``, ``_BOOT_ID``..., on every entry; -o jsonl keeps them all.)
#: OpenTelemetry's standard attributes, on every record its SDK writes, are quiet too.
_QUIET_PREFIXES = ("_", "code.", "telemetry.sdk.", "service.instance.", "otel.", "log.origin.")
_QUIET_FIELDS = frozenset({
    "pathname", "filename", "module", "lineno", "funcName", "process", "processName",
    "thread", "threadName", "taskName", "msecs", "relativeCreated", "created",
    "service.name", "host.name",  # (OpenTelemetry: they make the record's source)
    "pid", "hostname",  # (pino's and bunyan's, on every record of a process)
    # The journal's fields that give the record's level and logger, or that every entry of
    # a program carries (``formats/journald``; python-systemd's ``JournalHandler``'s too).
    "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP",
    "SYSLOG_RAW", "LOGGER", "THREAD_NAME", "PROCESS_NAME", "CODE_FILE", "CODE_LINE",
    "CODE_FUNC", "TID", "INVOCATION_ID", "USER_INVOCATION_ID",
    # ECS (ecs-logging): the schema's version and where the call was, on every record; the
    # message as the program passed it.
    "ecs.version", "log.origin", "log.original",
    # loguru's ``serialize=True`` record: the time since start and the source file, as the
    # nested objects it writes them (a program's own ``file`` or ``elapsed`` text is shown).
    "elapsed.repr", "elapsed.seconds", "file.name", "file.path",
    # A container runtime's wrapper (docker's json-file, CRI, ``kubectl logs
    # --timestamps``): the stream and the time it took the line, on every line; ``docker
    # logs`` and ``kubectl logs`` show neither.
    "stream", "stamp",
})


def _synthesise(record: Record) -> str:
    time = record.time
    return synthesise(record.time_text or (time.isoformat(sep=" ") if time else ""),
                      record.level, record.logger, record.message, record.fields, record.exc)


def synthesise(time_text: str, level: str | None, logger: str, message: str,
               fields: dict[str, Any], exc: str | None) -> str:
    """The text of a record made from its fields (a JSON object's): time, level, logger,
    message, the fields a program added as ``key=value``, the traceback on the next lines."""
    if time_text and level and logger:  # (the usual record: one format, no list)
        text = f"{time_text} {level} {logger} {message}"
    else:
        head = " ".join([part for part in (time_text, level, logger) if part])
        text = f"{head} {message}" if head else message
    shown = _SHOWN
    for k, v in fields.items():
        is_shown = shown.get(k)
        if is_shown or (is_shown is None and _shown(k)):
            # (``_field_text`` of the usual values written here: one call fewer a field)
            if type(v) is int or (type(v) is str and v and " " not in v and '"' not in v):
                text += f" {k}={v}"
            elif type(v) is dict and v:
                for path, value in _nested_pairs(k, v):
                    text += f" {path}={value}"
            else:
                text += f" {k}={_field_text(v)}"
    if exc:
        text += "\n" + exc
    return text


#: Field name -> whether one-line text shows it (``_shown``), for the names met so far.
_SHOWN: dict[str, bool] = {}


def shown_field(key: str) -> bool:
    """Whether one-line text shows the field ``key`` (a program's extra, not one of the
    attributes every record carries)."""
    is_shown = _SHOWN.get(key)
    return _shown(key) if is_shown is None else is_shown


def _shown(key: str) -> bool:
    value = key not in _QUIET_FIELDS and not key.startswith(_QUIET_PREFIXES)
    if len(_SHOWN) >= 4096:  # ever new names stay bounded
        _SHOWN.clear()
    _SHOWN[key] = value
    return value


#: Nested objects deeper than this are written as JSON in one-line text.
_MAX_DEPTH = 8


def _nested_pairs(path: str, value: dict[Any, Any], depth: int = 1) -> list[tuple[str, str]]:
    """A nested object's values as ``(dotted path, value text)``, the paths a query names
    them by (``http.request.method=GET``); its quiet parts left out by their paths (ECS's
    ``log.origin``)."""
    out: list[tuple[str, str]] = []
    for key, item in value.items():
        inner = f"{path}.{key}"
        if not shown_field(inner):
            continue
        if type(item) is dict and item and depth < _MAX_DEPTH:
            out += _nested_pairs(inner, item, depth + 1)
        else:
            out.append((inner, _field_text(item)))
    return out


def _field_text(value: Any) -> str:
    if type(value) is int:  # what orjson writes for it, or repr past 64 bits: the digits
        return str(value)
    if isinstance(value, str):
        return value if value and " " not in value and '"' not in value else f'"{value}"'
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return repr(value)


class RecordPrinter:
    """Writes records to a stream as text or JSON lines."""

    def __init__(self, out: IO[bytes], *, output: str = "text", color: bool = False,
                 flush_each: bool = False, original: bool = False) -> None:
        """``original``: text records are written as their original bytes (for a pipe or a
        file); otherwise made safe for a terminal (control characters shown as symbols) and
        coloured with ``color``."""
        self._out = out
        self._jsonl = output == "jsonl"
        self._color = color
        self.original = original and not self._jsonl and not color
        self._flush_each = flush_each
        self.count = 0

    @property
    def jsonl(self) -> bool:
        """Whether records are written as JSON lines (they then carry line numbers)."""
        return self._jsonl

    def render(self, record: Record) -> bytes:
        """The bytes ``write`` would write for a record."""
        if self._jsonl:
            return dumps_record(record)
        if self.original:
            return original_bytes(record)
        return (format_text(record, color=self._color) + "\n").encode("utf-8", "replace")

    def write(self, record: Record) -> None:
        self._out.write(self.render(record))
        self.count += 1
        if self._flush_each:
            self._out.flush()

    def write_rendered(self, data: bytes, count: int) -> None:
        """Write ``count`` records rendered by ``render`` at once (one write for many)."""
        if data:
            self._out.write(data)
        self.count += count
        if self._flush_each and data:
            self._out.flush()
