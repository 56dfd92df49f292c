"""Measure the query language: µs per ``matches`` and byte-prefilter scan speed.

Run: .venv/bin/python bench/bench_query.py [MB]
"""

from __future__ import annotations

import argparse
import random
import time
import timeit
from datetime import UTC, datetime

from logview.query import parse_query
from logview.record import Record

QUERIES = [
    "level>=warning",
    "timeout",
    "logger:app.db",
    '"connection reset"',
    r"/conn\w+ reset/i",
    "status>=500",
    'level>=warning logger:app.web timeout or status>=500 -"health check"',
    "since:-1h user=alice",
]


def bench_matches() -> None:
    record = Record(
        "GET /api/users/42 answered in 12 ms after a retry",
        level="WARNING",
        levelno=30,
        logger="app.web.request",
        fields={"status": 503, "user": "alice", "http": {"path": "/api"}},
        time=datetime.now(UTC),
    )
    for text in QUERIES:
        query = parse_query(text)
        runs = 100_000
        seconds = min(timeit.repeat(lambda q=query: q.matches(record), number=runs, repeat=3))
        print(f"matches {text!r:72} {seconds / runs * 1e6:6.2f} us")


def bench_prefilter(megabytes: int) -> None:
    rng = random.Random(1)
    loggers = ["app.web", "app.db", "app.db.pool", "app.dbx", "worker"]
    lines = []
    for i in range(20000):
        level = "ERROR" if rng.random() < 0.01 else rng.choice(["INFO", "DEBUG", "WARNING"])
        words = " ".join(rng.choice(["user", "request", "ok", "cache", "miss", "done"]) for _ in range(8))
        lines.append(f"2024-01-02 03:04:05,{i % 1000:03d} - {rng.choice(loggers)} - {level} - {words} id={i}\n")
    block = "".join(lines).encode()
    data = block * max(1, megabytes * 1_000_000 // len(block))
    print(f"prefilter scan over {len(data) / 1e6:.0f} MB of dash-template lines")
    for text in ["level>=error", "timeout", "logger:app.db", "level>=error logger:app.db", "miss"]:
        pf = parse_query(text).prefilter(level_text=True, json_escaped=False)
        assert pf is not None
        start = time.perf_counter()
        hits = sum(1 for _ in pf.groups[0].finditer(data))
        seconds = time.perf_counter() - start
        print(f"  {text!r:32} first group {len(pf.groups[0].pattern):4d} B  "
              f"{hits:9d} hits  {seconds:6.3f} s  {len(data) / 1e6 / seconds:7.0f} MB/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("megabytes", nargs="?", type=int, default=200,
                        help="size of the text the prefilter scans (200)")
    megabytes = parser.parse_args().megabytes
    bench_matches()
    bench_prefilter(megabytes)
