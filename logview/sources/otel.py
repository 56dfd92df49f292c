"""OpenTelemetry log records as logview records: severities both ways, and one row of the
ClickHouse ``otel_logs`` table (what the OpenTelemetry collector's ClickHouse exporter writes)
as an object of logview's own JSON-lines schema (``--output jsonl``, read back by
``formats/jsonl.py``), so a spool of them is read like any other input.

The mapping follows the OTel Python SDK's ``LoggingHandler``: the logger name is the
instrumentation scope (``ScopeName``), ``levelname``/``levelno`` become ``SeverityText`` (WARN,
FATAL for WARNING, CRITICAL) and ``SeverityNumber`` (1-24), the formatted message is ``Body``,
``extra=`` keys, ``code.*`` and ``exception.type``/``exception.message``/``exception.stacktrace``
are ``LogAttributes``, and ``service.name``/``host.name`` are ``ResourceAttributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from logview.record import MAX_LEVELNO, level_from_name

#: OTel severity bands: (first number, short name, Python level of the first number). Each band
#: holds four numbers (``DEBUG``, ``DEBUG2``... ``DEBUG4``); 0 is unspecified.
BANDS = ((1, "TRACE", 5), (5, "DEBUG", 10), (9, "INFO", 20), (13, "WARN", 30),
         (17, "ERROR", 40), (21, "FATAL", 50))
MAX_SEVERITY = 24

#: The attribute keys of an exception (OTel semantic conventions).
EXC_TYPE = "exception.type"
EXC_MESSAGE = "exception.message"
EXC_STACKTRACE = "exception.stacktrace"
#: Resource attributes that name where a record came from (the record's source).
SERVICE = "service.name"
HOST = "host.name"
#: Fields made of the trace context columns (when the row has one).
TRACE_FIELD = "trace_id"
SPAN_FIELD = "span_id"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def severity_level(number: int) -> int:
    """The Python level of an OTel severity number (``DEBUG2`` is 11, ``ERROR`` 40, ``FATAL4``
    53); 0 for unspecified or out-of-range numbers. The inverse of the SDK's ``std_to_otel``
    for the levels it maps one to one."""
    if not 1 <= number <= MAX_SEVERITY:
        return 0
    band = (number - 1) // 4
    return BANDS[band][2] + (number - 1) % 4


def level_severity(levelno: int) -> int:
    """The OTel severity number of a Python level, as the SDK's ``LoggingHandler`` maps it
    (``std_to_otel``: 10-13 are DEBUG..DEBUG4, 14-19 DEBUG4, ... 53 and above FATAL4), and
    logview's TRACE (5-9) onto TRACE..TRACE4 where the SDK gives 0."""
    if levelno < 5:
        return 0
    if levelno < 10:
        return min(4, levelno - 4)
    band = min(5, levelno // 10)
    first, _name, base = BANDS[band]
    return first + min(3, levelno - base)


def severity_name(number: int) -> str | None:
    """OTel's short name of a severity number (``WARN3``), None when unspecified."""
    if not 1 <= number <= MAX_SEVERITY:
        return None
    first, name, _base = BANDS[(number - 1) // 4]
    return name if number == first else f"{name}{number - first + 1}"


def record_level(text: str, number: int) -> tuple[str | None, int]:
    """(level name, Python level) of a row. A severity number of 1-24 decides the level; the
    text refines it when it names a level of that very severity (``Level 25`` is INFO4: 25
    comes back, not 23; ``WARN`` is WARNING). With an unspecified number, the text alone (as
    any log's level name)."""
    name, from_text = level_from_name(text) if text else (None, 0)
    levelno = severity_level(number)
    if not levelno:
        return name, from_text
    if from_text and level_severity(from_text) == number:
        return name, from_text
    return text.strip() or severity_name(number), levelno


def level_span(number: int) -> tuple[int, int]:
    """The lowest and highest Python level a row of severity ``number`` (1-24) can have:
    its own, or one its text names that maps to it (``record_level``)."""
    levels = [severity_level(number)]
    levels += [levelno for levelno in range(1, 60) if level_severity(levelno) == number]
    high = MAX_LEVELNO if number == MAX_SEVERITY else max(levels)
    return min(levels), high


def exception_text(attributes: Mapping[str, str]) -> str | None:
    """The record's traceback: ``exception.stacktrace``, else ``type: message`` (what the row
    says of its exception), None when it names none. ``clickhouse_pushdown.exc_sql`` is the
    same in SQL."""
    stack = attributes.get(EXC_STACKTRACE) or ""
    if stack:
        return stack
    kind = attributes.get(EXC_TYPE) or ""
    message = attributes.get(EXC_MESSAGE) or ""
    if kind:
        return f"{kind}: {message}" if message else kind
    return message or None


def record_source(resource: Mapping[str, str]) -> str:
    """``service@host`` (or whichever of them the resource names; empty: the input's name)."""
    service = resource.get(SERVICE) or ""
    host = resource.get(HOST) or ""
    if service and host:
        return f"{service}@{host}"
    return service or host


def time_text(nanoseconds: int) -> str | None:
    """An ISO time in UTC, to the microsecond (what the record holds), of epoch nanoseconds."""
    try:
        moment = _EPOCH + timedelta(microseconds=nanoseconds // 1000)
    except OverflowError:
        return None
    return moment.isoformat()


def row_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """One ``otel_logs`` row as an object of logview's own JSON schema.

    ``row`` holds ``ns`` (the Timestamp in epoch nanoseconds), ``SeverityText``,
    ``SeverityNumber``, ``ScopeName``, ``Body``, ``LogAttributes``, ``ResourceAttributes``,
    ``TraceId`` and ``SpanId`` (missing ones count as empty).
    """
    attributes: Mapping[str, str] = row.get("LogAttributes") or {}
    resource: Mapping[str, str] = row.get("ResourceAttributes") or {}
    level, levelno = record_level(str(row.get("SeverityText") or ""),
                                  int(row.get("SeverityNumber") or 0))
    fields: dict[str, Any] = {key: value for key, value in attributes.items()
                              if key != EXC_STACKTRACE}
    for key, value in resource.items():
        fields.setdefault(key, value)
    for key, column in ((TRACE_FIELD, "TraceId"), (SPAN_FIELD, "SpanId")):
        if row.get(column):
            fields.setdefault(key, row[column])
    body = row.get("Body")
    return {
        "time": time_text(int(row["ns"])) if row.get("ns") is not None else None,
        "level": level,
        "levelno": levelno,
        "logger": str(row.get("ScopeName") or ""),
        "message": body if isinstance(body, str) else str(body or ""),
        "exc": exception_text(attributes),
        "fields": fields,
        "source": record_source(resource),
        "line": None,
    }

