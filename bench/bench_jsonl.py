"""Parse throughput of JsonFormat on python-json-logger output.

Usage: python bench/bench_jsonl.py [PATH] [MB]  (generates PATH with the real JsonFormatter
when it does not exist, then times ``JsonFormat.parse`` over every line on one core).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time

from logview.formats.jsonl import JsonFormat


def generate(path: str, megabytes: int) -> None:
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("bench.jsonl")
    logger.propagate = False
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    rng = random.Random(1)
    names = ["GET /api/users", "cache miss", "request done", "retrying connection"]
    target = megabytes * 1024 * 1024
    while handler.stream.tell() < target:
        for _ in range(1000):
            n = rng.random()
            if n < 0.01:
                try:
                    raise ValueError(f"bad value {rng.random()}")
                except ValueError:
                    logger.exception("failed to handle request")
            else:
                level = logging.WARNING if n < 0.1 else logging.INFO
                logger.log(level, "%s took %d ms", rng.choice(names), rng.randrange(1000),
                           extra={"user_id": rng.randrange(10**6), "path": "/api/v1/items"})
    handler.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="/tmp/logview-bench.jsonl",
                        help="the file to time (written first when it does not exist)")
    parser.add_argument("megabytes", nargs="?", type=int, default=100,
                        help="size of the file written (100)")
    args = parser.parse_args()
    path, megabytes = args.path, args.megabytes
    if not os.path.exists(path):
        generate(path, megabytes)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    parse = JsonFormat().parse
    start = time.perf_counter()
    for line in lines:
        parse(line)
    elapsed = time.perf_counter() - start
    size = os.path.getsize(path) / 1e6
    print(f"{len(lines)} records, {size:.0f} MB in {elapsed:.2f} s: "
          f"{len(lines) / elapsed / 1e3:.0f} k records/s, {size / elapsed:.0f} MB/s")


if __name__ == "__main__":
    main()
