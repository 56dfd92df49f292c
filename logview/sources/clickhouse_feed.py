"""Rows of a ClickHouse log table, fetched in keyset pages and followed without loss or
repeats: the SQL and the bookkeeping, over any client that runs a query with bound parameters
(``Client``: clickhouse-connect's, over HTTP or in-process chDB).

Order is (time, row key): the row key is a hash of the row's columns (``TableShape.key``), so
pages never overlap nor skip rows that share a nanosecond. Following polls with an overlap
window: a row that arrives late (ingestion delay) with a time up to ``overlap`` before the
newest row already read is still fetched, once: the keys of the rows read in the window are
kept, and a poll compares the number of distinct rows in the window with them before it asks
for the keys. A failed poll changes nothing: the next one resumes from the same key. Rows that
are equal in every column and nanosecond are one row to logview.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from logview.sources.clickhouse_pushdown import SqlPushDown
from logview.sources.clickhouse_table import TableShape, row_from_result

#: Rows asked for per page.
PAGE_ROWS = 10_000
#: Nanoseconds a poll looks back for late rows, by default.
OVERLAP_NS = 30 * 1_000_000_000

Key = tuple[int, int]


class QueryResult(Protocol):
    column_names: tuple[str, ...]
    result_rows: list[tuple]


class Client(Protocol):
    """What the feed needs of a client: a query with server-side bound parameters."""

    def query(self, query: str, parameters: dict[str, Any]) -> QueryResult: ...


@dataclass(slots=True)
class FeedState:
    """Where the feed is: the last key read in order, the keys read in the window, the
    time before which rows are left out on purpose (the viewer's window starts there), and
    the oldest row read by paging back (``older``)."""

    cursor: Key | None = None
    seen: set[Key] = field(default_factory=set)
    floor: Key | None = None
    back: Key | None = None


class RowFeed:
    """Rows of ``database.table`` that ``pushdown`` admits, as logview JSON objects."""

    def __init__(self, client: Client, shape: TableShape, database: str, table: str, *,
                 pushdown: SqlPushDown | None = None, page: int = PAGE_ROWS,
                 overlap: int = OVERLAP_NS) -> None:
        self.client = client
        self.shape = shape
        self.page = page
        self.overlap = overlap
        self.state = FeedState()
        #: Whether the server filters the rows (a push-down with conditions).
        self.pushed = pushdown is not None and bool(pushdown.arguments)
        where = pushdown.where() if pushdown is not None else "1"
        self._params: dict[str, Any] = {**shape.params, "lv_db": database, "lv_table": table,
                                        **(pushdown.params if pushdown is not None else {})}
        self._from = f"FROM {{lv_db:Identifier}}.{{lv_table:Identifier}} WHERE ({where})"
        self._ns = f"toUnixTimestamp64Nano(toDateTime64({shape.time}, 9))"

    # -- queries ---------------------------------------------------------------------------

    def _run(self, sql: str, extra: dict[str, Any] | None = None) -> QueryResult:
        return self.client.query(sql, parameters={**self._params, **(extra or {})})

    def _rows(self, tail: str, extra: dict[str, Any]) -> list[tuple[Key, dict[str, Any]]]:
        shape = self.shape
        result = self._run(f"{shape.with_clause()}SELECT {shape.select()} {self._from} {tail}",
                           extra)
        if not result.result_rows:  # (an empty result may come without its column names)
            return []
        names = result.column_names
        at_ns, at_k = names.index("lv_ns"), names.index("lv_k")
        return [((int(row[at_ns]), int(row[at_k])), row_from_result(names, row))
                for row in result.result_rows]

    def _after(self, cursor: Key | None) -> tuple[str, dict[str, Any]]:
        """The keyset condition "after ``cursor``" (the time bound first, for the index)."""
        if cursor is None:
            return "", {}
        time = self.shape.time
        condition = (f" AND {time} >= fromUnixTimestamp64Nano({{lv_cur_ns:Int64}}) AND "
                     f"({time} > fromUnixTimestamp64Nano({{lv_cur_ns:Int64}}) OR "
                     f"{self.shape.key} > {{lv_cur_k:UInt64}})")
        return condition, {"lv_cur_ns": cursor[0], "lv_cur_k": cursor[1]}

    # -- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        """How many rows the push-down admits in the whole table."""
        shape = self.shape  # (the WITH clause: a push-down may name the exception text)
        return int(self._run(f"{shape.with_clause()}SELECT count() {self._from}")
                   .result_rows[0][0])

    def _edge(self, condition: str, extra: dict[str, Any], order: str,
              offset: int) -> int | None:
        """The time (epoch ns) of the row ``offset`` rows in, in ``order`` of time, among the
        rows the push-down and ``condition`` admit; None when there are not that many. Only
        the time column is sorted: the rows of a page are then fetched by a time range, so
        the row key is computed for them alone, not for every row after the cursor."""
        shape = self.shape
        found = self._run(f"{shape.with_clause()}SELECT {self._ns} {self._from}{condition} "
                          f"ORDER BY {shape.time} {order} LIMIT 1 OFFSET {{lv_offset:UInt64}}",
                          {**extra, "lv_offset": offset}).result_rows
        return int(found[0][0]) if found else None

    def _bounded(self, condition: str, extra: dict[str, Any], order: str,
                 limit: int) -> list[tuple[Key, dict[str, Any]]]:
        """The ``limit`` rows first in ``order`` (and those sharing the last one's time), in
        (time, key) order."""
        edge = self._edge(condition, extra, order, limit - 1)
        if edge is not None:
            sign = "<=" if order == "ASC" else ">="
            condition += (f" AND {self.shape.time} {sign} "
                          "fromUnixTimestamp64Nano({lv_edge:Int64})")
            extra = {**extra, "lv_edge": edge}
        return self._rows(f"{condition} ORDER BY lv_ns, lv_k", extra)

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of about ``page`` rows after the cursor, in order, to the newest (the cursor
        and the window follow each page as it is handed out)."""
        while True:
            condition, extra = self._after(self.state.cursor)
            rows = self._bounded(condition, extra, "ASC", self.page)
            fresh = self._take(rows)
            if fresh:
                yield fresh
            if len(rows) < self.page:
                return

    def newest(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` rows (and those sharing the oldest one's time), oldest first;
        the cursor moves to the newest."""
        rows = self._bounded("", {}, "DESC", limit)
        if rows:
            self.state.floor = self.state.back = rows[0][0]
        return self._take(rows)

    def older(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` rows (and those sharing the oldest one's time) before the oldest one
        read by ``newest``/``older`` (paging back from the viewer's window), oldest first;
        empty when there are none."""
        floor = self.state.back  # (not ``floor``: late rows are looked for after the window's
        if floor is None:       # start, never among those paged back)
            return []
        time = self.shape.time
        not_after = f" AND {time} <= fromUnixTimestamp64Nano({{lv_floor_ns:Int64}})"
        condition = (f"{not_after} AND ({time} < fromUnixTimestamp64Nano({{lv_floor_ns:Int64}})"
                     f" OR {self.shape.key} < {{lv_floor_k:UInt64}})")
        extra = {"lv_floor_ns": floor[0], "lv_floor_k": floor[1]}
        # The page's edge by time alone: the keyset condition would compute the row hash of
        # every older row (3.4-4.2 s for 10,000 rows of 2,000,000, 0.11 s without it). The
        # oldest row read is among them (one more, ``limit``, not ``limit - 1``); others read
        # at its very time would make the page a few rows shorter.
        edge = self._edge(not_after, extra, "DESC", limit)
        if edge is None:  # fewer older rows than a page: all of them
            rows = self._rows(f"{condition} ORDER BY lv_ns, lv_k", extra)
        elif edge < floor[0]:
            rows = self._rows(f"{condition} AND {time} >= fromUnixTimestamp64Nano("
                              "{lv_edge:Int64}) ORDER BY lv_ns, lv_k", {**extra, "lv_edge": edge})
        else:  # a page's worth of rows at that very time: the keyset decides
            rows = self._bounded(condition, extra, "DESC", limit)
        if rows:
            self.state.back = rows[0][0]
        return [obj for _key, obj in rows]

    def aggregate(self, select: str, tail: str = "",
                  extra: dict[str, Any] | None = None) -> list[tuple]:
        """``SELECT select`` over the rows the push-down admits (``tail``: more conditions,
        ``GROUP BY``...), for counts computed by the server (``clickhouse_counts``)."""
        shape = self.shape
        return self._run(f"{shape.with_clause()}SELECT {select} {self._from} {tail}",
                         extra).result_rows

    def late(self) -> list[dict[str, Any]]:
        """Rows in the overlap window before the cursor that were not read yet, in order."""
        cursor = self.state.cursor
        if cursor is None:
            return []
        low = cursor[0] - self.overlap
        if self.state.floor is not None:  # older rows were left out, not late
            low = max(low, self.state.floor[0] + 1)
        window = (f" AND {self.shape.time} >= fromUnixTimestamp64Nano({{lv_low:Int64}}) AND "
                  f"{self.shape.time} <= fromUnixTimestamp64Nano({{lv_high:Int64}})")
        extra = {"lv_low": low, "lv_high": cursor[0]}
        shape = self.shape
        known = sum(1 for key in self.state.seen if low <= key[0] <= cursor[0])
        counted = self._run(f"{shape.with_clause()}SELECT uniqExact({self._ns}, {shape.key}) "
                            f"{self._from}{window}", extra).result_rows[0][0]
        if int(counted) <= known:
            return []
        keys = self._run(f"{shape.with_clause()}SELECT {self._ns}, {shape.key} "
                         f"{self._from}{window}", extra).result_rows
        missing = sorted({int(k) for ns, k in keys if (int(ns), int(k)) not in self.state.seen})
        if not missing:
            return []
        rows = self._rows(f"{window} AND lv_k IN {{lv_keys:Array(UInt64)}} "
                          "ORDER BY lv_ns, lv_k", {**extra, "lv_keys": missing})
        return self._take(rows, late=True)

    def _take(self, rows: list[tuple[Key, dict[str, Any]]], *,
              late: bool = False) -> list[dict[str, Any]]:
        """Rows not read before; the cursor moves past them (unless they are late ones) and
        the window drops keys older than the overlap."""
        state = self.state
        out = []
        for key, obj in rows:
            if key in state.seen:
                continue
            state.seen.add(key)
            out.append(obj)
            if not late and (state.cursor is None or key > state.cursor):
                state.cursor = key
        if state.cursor is not None:
            floor = state.cursor[0] - self.overlap
            if any(key[0] < floor for key in state.seen):
                state.seen = {key for key in state.seen if key[0] >= floor}
        return out
