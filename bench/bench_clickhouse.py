"""Benchmark of ``clickhouse://`` inputs on an ``otel_logs`` table (not a test).

Fills the OpenTelemetry collector exporter's ``otel_logs`` table (the tests' DDL) with N rows
(default 10,000,000: 5 loggers, levels DEBUG..ERROR, ~1 row per 10 ms ending now) in chDB,
ClickHouse in-process, and times what logview does against the same SQL run directly, the
floor, through the same client (clickhouse-connect over chDB: no network in either):

  first screen   the viewer's start: count() and the newest 50,000 rows, spooled
  counts         level and logger counts and a 60-bucket histogram, grouped by the server
  query change   the same counts and the newest window for a new query (level>=ERROR)
  viewer change  the viewer's query change as it runs it: the source narrowed to level>=ERROR
                 (the newest 50,000 matching rows spooled and indexed by the store) and the
                 server's counts and histogram (``ClickHouseSource.counts``/``histogram_over``)
  page back      the viewer at its first row: the 10,000 rows before the window fetched and
                 put in front of the 50,000 loaded (a new spool), all 60,000 indexed again
  print          ``--print -q 'level>=ERROR logger:app.db since:-1h'``: the source, the store
                 and the printer into /dev/null, against fetching the same rows raw

    .venv/bin/python bench/bench_clickhouse.py [--rows 10000000] [--runs 3] [--only viewer]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from clickhouse_helpers import OTEL_DDL, engine

from logview import headless
from logview.query import parse_query
from logview.sources.clickhouse import ClickHouseOptions, ClickHouseSource
from logview.sources.clickhouse_counts import histogram, level_and_logger_counts
from logview.sources.clickhouse_feed import RowFeed
from logview.sources.clickhouse_pushdown import clickhouse_pushdown
from logview.store import build_store

DB = "lv_bench"
PRINT_QUERY = "level>=ERROR logger:app.db since:-1h"


def fill(rows: int) -> float:
    client = engine()
    client.command(f"DROP DATABASE IF EXISTS {DB}")
    client.command(f"CREATE DATABASE {DB}")
    client.command(OTEL_DDL.format(db=DB))
    start = time.perf_counter()
    client.command(
        f"INSERT INTO {DB}.otel_logs (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, "
        "ServiceName, Body, ResourceAttributes, ScopeName, LogAttributes) "
        "SELECT now64(9) - toIntervalMillisecond(({n:UInt64} - number) * 10), "
        "hex(cityHash64(number, 1)), hex(cityHash64(number, 2)), "
        "['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'][cityHash64(number) % 6 + 1] AS t, "
        "[5, 9, 9, 9, 13, 17][cityHash64(number) % 6 + 1], 'shop', "
        "concat('request ', toString(number), ' took ', toString(number % 997), ' ms'), "
        "map('service.name', 'shop', 'host.name', concat('web', toString(number % 3))), "
        "['app', 'app.db', 'app.db.pool', 'app.web', 'worker'][number % 5 + 1], "
        "map('user_id', toString(number % 1000), 'code.function.name', 'handle') "
        "FROM numbers({n:UInt64})", parameters={"n": rows})
    return time.perf_counter() - start


def timed(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def source(query: str | None) -> ClickHouseSource:
    return ClickHouseSource(f"clickhouse://localhost/{DB}", follow=False,
                            options=ClickHouseOptions(
                                query=None if query is None else parse_query(query),
                                client=lambda _t: engine(), environ={}, fatal_errors=False))


def first_screen() -> None:
    opened = source(None)
    while not opened.finished:
        opened.wait(0.05)
        opened.update()
    opened.close()


def first_screen_floor() -> None:
    client = engine()
    client.query(f"SELECT count() FROM {DB}.otel_logs")
    client.query(f"SELECT * FROM {DB}.otel_logs ORDER BY Timestamp DESC LIMIT 50000")


def counts(query: str) -> None:
    feed = feed_for(query)
    level_and_logger_counts(feed)
    histogram(feed, 60)


def feed_for(query: str) -> RowFeed:
    shape = _shape()
    return RowFeed(engine(), shape, DB, "otel_logs",
                   pushdown=clickhouse_pushdown(parse_query(query), shape))


_SHAPE = []


def _shape():
    if not _SHAPE:
        from logview.sources.clickhouse import table_shape
        from logview.sources.clickhouse_url import Target

        _SHAPE.append(table_shape(engine(), Target(host="localhost", port=0, database=DB,
                                                   table="otel_logs")))
    return _SHAPE[0]


def counts_floor(where: str) -> None:
    client = engine()
    client.query(f"SELECT ScopeName, SeverityNumber, count() FROM {DB}.otel_logs WHERE {where} "
                 "GROUP BY ScopeName, SeverityNumber")
    client.query(f"SELECT toStartOfMinute(Timestamp) AS m, SeverityNumber, count() FROM "
                 f"{DB}.otel_logs WHERE {where} GROUP BY m, SeverityNumber")


def query_change() -> None:
    counts("level>=ERROR")
    feed_for("level>=ERROR").newest(50_000)


def query_change_floor() -> None:
    counts_floor("SeverityNumber >= 17")
    engine().query(f"SELECT * FROM {DB}.otel_logs WHERE SeverityNumber >= 17 "
                   "ORDER BY Timestamp DESC LIMIT 50000")


def viewer_change() -> float:
    """Seconds from the viewer's query change to its new rows indexed and its counts in (the
    viewer's start is not timed)."""
    opened = source(None)
    store = build_store([opened], None)
    while not store.finished:
        opened.wait(0.05)
        store.update()
    query = parse_query("level>=ERROR")
    start = time.perf_counter()
    opened.narrow(query)
    opened.counts(query)
    opened.histogram_over(query)
    store.update()
    while not store.finished:
        opened.wait(0.05)
        store.update()
    took = time.perf_counter() - start
    store.close()
    return took


def page_back() -> float:
    """Seconds from paging back (10,000 rows) to all 60,000 rows indexed (the viewer's start
    is not timed)."""
    opened = source(None)
    store = build_store([opened], None)
    while not store.finished:
        opened.wait(0.05)
        store.update()
    start = time.perf_counter()
    added = opened.page_back(10_000)
    store.update()
    while not store.finished or len(store) < 50_000 + added:
        opened.wait(0.05)
        store.update()
    took = time.perf_counter() - start
    store.close()
    return took


def page_back_floor() -> None:
    engine().query(f"SELECT * FROM {DB}.otel_logs WHERE Timestamp < (SELECT min(Timestamp) "
                   f"FROM (SELECT Timestamp FROM {DB}.otel_logs ORDER BY Timestamp DESC "
                   "LIMIT 50000)) ORDER BY Timestamp DESC LIMIT 10000")


def print_query() -> int:
    query = parse_query(PRINT_QUERY)
    store = build_store([source(PRINT_QUERY)], None)
    with open(os.devnull, "wb") as out:
        headless.run_print(store, query, out, output="text", color=False, follow=False,
                           original=True)
    store.close()
    return 0


def print_floor() -> None:
    engine().query(f"SELECT * FROM {DB}.otel_logs WHERE SeverityNumber >= 17 AND "
                   "(ScopeName = 'app.db' OR startsWith(ScopeName, 'app.db.')) AND "
                   "Timestamp >= now64(9) - INTERVAL 1 HOUR ORDER BY Timestamp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["viewer"], help="the viewer's query change (and "
                        "the query change of the core) only")
    args = parser.parse_args()
    print(f"filling {args.rows:,} rows: {fill(args.rows):.1f} s", flush=True)
    matching = engine().query(
        f"SELECT count() FROM {DB}.otel_logs WHERE SeverityNumber >= 17 AND "
        "startsWith(ScopeName, 'app.db') AND Timestamp >= now64(9) - INTERVAL 1 HOUR"
    ).result_rows[0][0]
    rows = [("first screen (newest 50,000)", first_screen, first_screen_floor),
            ("level + logger counts, histogram", lambda: counts(""),
             lambda: counts_floor("1")),
            ("query change (level>=ERROR)", query_change, query_change_floor),
            (f"--print -q '{PRINT_QUERY}' ({matching:,} rows)", print_query, print_floor)]
    viewer = ("viewer: query change (level>=ERROR), rows indexed and counts in",
              lambda: None, query_change_floor)
    paging = ("viewer: page back 10,000 rows, all 60,000 indexed", lambda: None,
              page_back_floor)
    rows[3:3] = [viewer, paging]
    if args.only == "viewer":
        rows = [rows[2], viewer, paging]
    print(f"| task ({args.rows:,} rows) | logview s | direct SQL s | overhead |")
    print("|---|---|---|---|")
    for name, ours, floor in rows:
        if name.startswith("viewer:"):
            work = page_back if "page back" in name else viewer_change
            mine = statistics.median(work() for _ in range(args.runs))
        else:
            mine = timed(args.runs, ours)
        base = timed(args.runs, floor)
        print(f"| {name} | {mine:.2f} | {base:.2f} | {mine / base:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
