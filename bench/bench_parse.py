"""Records/s parsed through the real pipeline (index + store.parse) for text and JSON logs.

Usage: .venv/bin/python bench/bench_parse.py [MB]   (default 100)

Generates a dash-template file and a python-json-logger file of about MB megabytes each with
the real logging module (1% ERROR records with tracebacks), then times: the record index,
parsing every record, and ``logview FILE --print -o jsonl > /dev/null`` end to end.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from logview.sources.base import StaticFileSource
from logview.store import open_store

DATA = ROOT / "bench" / "data"
LOGGERS = ["app", "app.db", "app.db.pool", "app.web", "app.web.request", "worker", "urllib3"]


def user_field(rng: random.Random) -> dict[str, object]:
    """The extra field of every generated record."""
    return {"user": rng.randint(1, 500)}


def generate(path: Path, formatter: logging.Formatter, size: int,
             extra: Callable[[random.Random], dict[str, object]] = user_field) -> None:
    """Write about ``size`` bytes of realistic records through a real FileHandler (``extra``:
    each record's extra fields)."""
    if path.exists() and path.stat().st_size >= size:
        return
    rng = random.Random(7)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(formatter)
    loggers = []
    for name in LOGGERS:
        log = logging.Logger(name)  # noqa: LOG001 - private, not in the global registry
        log.addHandler(handler)
        loggers.append(log)
    created = 1_700_000_000.0
    while handler.stream.tell() < size:
        for _ in range(1000):
            log = rng.choice(loggers)
            created += rng.random() / 50
            level = rng.choices([10, 20, 30, 40], [30, 55, 14, 1])[0]
            record = log.makeRecord(log.name, level, "x.py", 1, "request %d handled in %d ms",
                                    (rng.randint(1, 99999), rng.randint(1, 999)), None,
                                    extra=extra(rng))
            record.created = created
            record.msecs = (created % 1) * 1000
            if level == 40:
                try:
                    raise ValueError("bad value")
                except ValueError:
                    record.exc_info = sys.exc_info()
            log.handle(record)
    handler.close()


def measure(path: Path) -> tuple[int, float, float, float]:
    """(records, index s, parse-all s, --print -o jsonl s)."""
    store = open_store(StaticFileSource(str(path)))
    start = time.perf_counter()
    store.update(final=True)
    index_s = time.perf_counter() - start
    gc.disable()
    start = time.perf_counter()
    for i in range(len(store)):
        store.parse(i)
    parse_s = time.perf_counter() - start
    gc.enable()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-o", "jsonl"],
                   stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
    print_s = time.perf_counter() - start
    return len(store), index_s, parse_s, print_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("megabytes", nargs="?", type=int, default=100,
                        help="size of each generated file (100)")
    size = parser.parse_args().megabytes * 1_000_000
    DATA.mkdir(parents=True, exist_ok=True)
    text = DATA / f"parse-dash-{size // 1_000_000}M.log"
    generate(text, logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"),
             size)
    try:
        from pythonjsonlogger.json import JsonFormatter
    except ImportError:
        from logview.demo import DemoJsonFormatter as JsonFormatter
    js = DATA / f"parse-json-{size // 1_000_000}M.jsonl"
    generate(js, JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"), size)
    print(f"`python bench/bench_parse.py {size // 1_000_000}` ({os.cpu_count()} cores)\n")
    print("| file | records | index s | parse all: s / records/s | --print -o jsonl: s / records/s |")
    print("|---|---|---|---|---|")
    for label, path in (("dash template", text), ("python-json-logger", js)):
        count, index_s, parse_s, print_s = measure(path)
        mb = path.stat().st_size / 1e6
        print(f"| {label}, {mb:.0f} MB | {count:,} | {index_s:.2f} | {parse_s:.2f} / "
              f"{count / parse_s:,.0f} | {print_s:.2f} / {count / print_s:,.0f} |")


if __name__ == "__main__":
    main()
