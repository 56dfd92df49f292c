"""What a ClickHouse log table holds, as SQL: the OpenTelemetry ``otel_logs`` table (what the
collector's ClickHouse exporter creates), or a table of the user's own named in the config file
(``time``, ``level``, ``logger``, ``message``, ``fields`` columns).

A ``TableShape`` gives each role of a record a SQL expression: the time (for ordering, keyset
pages and ``since:``), the severity number and text, the logger, the message, the exception
text, the attribute maps and a tie-breaker (the row key). Every name that comes from the user
(database, table, the columns of a mapped table) is a bound ``Identifier`` parameter, never SQL
text. ``select_rows`` and ``row_from_result`` fetch rows as objects of logview's own JSON schema
(``otel.row_object``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from logview.sources.otel import row_object

#: The columns an ``otel_logs`` table must have to be read as one.
OTEL_COLUMNS = frozenset({"Timestamp", "SeverityText", "SeverityNumber", "ScopeName", "Body",
                          "LogAttributes", "ResourceAttributes"})
#: The roles of a mapped table and whether each must be given.
MAPPED_ROLES = {"time": True, "message": True, "level": False, "logger": False, "fields": False}

EMPTY = "''"
#: The name the exception text's expression goes by in conditions (``with_clause``).
EXC_ALIAS = "ExceptionText"
_EXC = ("multiIf(LogAttributes['exception.stacktrace'] != '', "
        "LogAttributes['exception.stacktrace'], LogAttributes['exception.type'] != '', "
        "concat(LogAttributes['exception.type'], if(LogAttributes['exception.message'] != '', "
        "concat(': ', LogAttributes['exception.message']), '')), "
        "LogAttributes['exception.message'])")


class TableError(ValueError):
    """The table is not one logview can read (what is missing, in a line)."""


@dataclass(frozen=True, slots=True)
class TableShape:
    """SQL expressions of a record's parts in one table (see the module)."""

    time: str
    #: A ``DateTime`` column of the primary key that follows ``time`` to the second
    #: (``TimestampTime``): time ranges name it too, so that the primary key prunes parts.
    time_seconds: str | None
    number: str | None
    text: str | None
    logger: str
    message: str
    exc: str | None
    maps: tuple[str, ...]
    #: Plain columns that are fields of the record (column expression, field name).
    columns: tuple[tuple[str, str], ...]
    #: A ``String`` holding a JSON object of fields (a mapped table's ``fields`` column).
    json_fields: str | None
    key: str
    params: dict[str, str] = field(default_factory=dict)
    otel: bool = True

    def with_clause(self) -> str:
        """``WITH`` the exception text's expression as ``ExceptionText`` (empty: none)."""
        return f"WITH {_EXC} AS {EXC_ALIAS} " if self.exc else ""

    def select(self) -> str:
        """The select list (``lv_ns``: the time in epoch nanoseconds, ``lv_k``: the row key)."""
        parts = [f"toUnixTimestamp64Nano(toDateTime64({self.time}, 9)) AS lv_ns",
                 f"{self.key} AS lv_k"]
        for expr, name in ((self.number or "0", "SeverityNumber"),
                           (self.text or EMPTY, "SeverityText"), (self.logger, "ScopeName"),
                           (self.message, "Body")):
            parts.append(expr if expr == name else f"{expr} AS {name}")
        if self.otel:
            parts += ["LogAttributes", "ResourceAttributes"]
            parts += [column for column, _name in self.columns]
        else:
            parts.append(f"{self.maps[0]} AS LogAttributes" if self.maps else
                         "map() AS LogAttributes")
            parts.append(f"{self.json_fields} AS JsonFields" if self.json_fields else
                         "'' AS JsonFields")
        return ", ".join(parts)


def otel_shape(columns: Mapping[str, str]) -> TableShape:
    """The shape of an ``otel_logs`` table with these columns (name -> type)."""
    missing = sorted(OTEL_COLUMNS - set(columns))
    if missing:
        raise TableError("not an OpenTelemetry otel_logs table (it lacks "
                         + ", ".join(missing) + "): map its columns in clickhouse.toml")
    trace = [("TraceId", "trace_id"), ("SpanId", "span_id")]
    return TableShape(
        time="Timestamp",
        time_seconds="TimestampTime" if columns.get("TimestampTime", "").startswith("DateTime")
        else None,
        number="SeverityNumber", text="SeverityText", logger="ScopeName", message="Body",
        exc=EXC_ALIAS, maps=("LogAttributes", "ResourceAttributes"),
        columns=tuple(c for c in trace if c[0] in columns),
        json_fields=None,
        key="cityHash64(TraceId, SpanId, SeverityNumber, SeverityText, ScopeName, Body, "
            "LogAttributes, ResourceAttributes)",
    )


def mapped_shape(mapping: Mapping[str, str], columns: Mapping[str, str]) -> TableShape:
    """The shape of a table whose columns a config file maps (role -> column name)."""
    unknown = sorted(set(mapping) - set(MAPPED_ROLES))
    if unknown:
        raise TableError(f"unknown roles {', '.join(unknown)} in the column mapping (use "
                         f"{', '.join(MAPPED_ROLES)})")
    for role, needed in MAPPED_ROLES.items():
        if needed and not mapping.get(role):
            raise TableError(f"the column mapping names no {role} column")
    params: dict[str, str] = {}
    exprs: dict[str, str] = {}
    for role, column in mapping.items():
        if column not in columns:
            raise TableError(f"the table has no column {column!r} (mapped as {role})")
        params[f"c_{role}"] = column
        exprs[role] = f"{{c_{role}:Identifier}}"
    time_type = columns[mapping["time"]]
    if not time_type.removeprefix("Nullable(").startswith("DateTime"):
        raise TableError(f"the time column {mapping['time']!r} is {time_type}, not a DateTime")
    level = exprs.get("level")
    fields_type = columns.get(mapping.get("fields", ""), "")
    is_map = fields_type.removeprefix("Nullable(").startswith("Map(")
    if "fields" in mapping and not (is_map or "String" in fields_type):
        raise TableError(f"the fields column is {fields_type}: give a Map or a JSON String")
    maps = (f"CAST({exprs['fields']}, 'Map(String, String)')",) if is_map else ()
    keyed = [f"toString({exprs[r]})" for r in ("level", "logger", "message", "fields")
             if r in exprs]
    return TableShape(
        time=exprs["time"], time_seconds=None, number=None,
        text=f"toString({level})" if level else None,
        logger=f"toString({exprs['logger']})" if "logger" in exprs else "''",
        message=f"toString({exprs['message']})", exc=None, maps=maps, columns=(),
        json_fields=f"toString({exprs['fields']})" if "fields" in exprs and not is_map else None,
        key=f"cityHash64({', '.join(keyed)})", params=params, otel=False,
    )


def row_from_result(names: tuple[str, ...] | list[str], values: tuple | list) -> dict[str, Any]:
    """A fetched row (the ``select`` list) as an object of logview's own JSON schema."""
    row = dict(zip(names, values, strict=True))
    row["ns"] = row.pop("lv_ns", None)
    extra = row.pop("JsonFields", None)
    obj = row_object(row)
    if extra:
        try:
            parsed = orjson.loads(extra)
        except orjson.JSONDecodeError:
            parsed = {"fields": extra}
        if not isinstance(parsed, dict):
            parsed = {"fields": parsed}
        for key, value in parsed.items():
            obj["fields"].setdefault(str(key), value)
    return obj
