"""Measure split + parse throughput of the dash template on a generated file.

Usage: .venv/bin/python bench/template_parse.py [MB]   (default 100)
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import tempfile
import time

from logview.boundaries import RecordSplitter
from logview.formats.template import TemplateFormat
from logview.record import parse_raw_record

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/handlers.py", line 88, in handle\n'
    "    result = compute(payload)\n"
    "ZeroDivisionError: division by zero\n"
)


def generate(path: str, megabytes: int) -> int:
    rng = random.Random(7)
    loggers = ["app", "app.db", "app.http.server", "urllib3.connectionpool", "celery.worker"]
    levels = ["DEBUG", "INFO", "INFO", "INFO", "WARNING"]
    words = [
        "user",
        "request",
        "cache",
        "miss",
        "hit",
        "db",
        "query",
        "took",
        "ms",
        "-",
        ":",
        "[ok]",
        "{id}",
        "retry",
    ]
    target = megabytes * 1_000_000
    count = 0
    with open(path, "w") as out:
        size = 0
        while size < target:
            lines = []
            for _ in range(1000):
                count += 1
                sec = count // 50
                ts = f"2024-01-02 {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d},{count % 1000:03d}"
                if count % 100 == 0:
                    lines.append(f"{ts} - app.worker - ERROR - job {count} failed\n{TRACEBACK}")
                else:
                    msg = " ".join(rng.choices(words, k=rng.randint(4, 14)))
                    lines.append(f"{ts} - {rng.choice(loggers)} - {rng.choice(levels)} - {msg}\n")
            chunk = "".join(lines)
            out.write(chunk)
            size += len(chunk)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("megabytes", nargs="?", type=int, default=100,
                        help="size of the generated file (100)")
    megabytes = parser.parse_args().megabytes
    fmt = TemplateFormat(DASH)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dash.log")
        generate(path, megabytes)
        with open(path, "rb") as f:
            data = f.read()
    gc.disable()  # a million RawRecords kept alive would otherwise time the collector
    t0 = time.perf_counter()
    splitter = RecordSplitter(fmt)
    raws = []
    for i in range(0, len(data), 1 << 20):
        raws.extend(splitter.feed(data[i : i + (1 << 20)]))
    raws.extend(splitter.flush())
    t1 = time.perf_counter()
    # Records are looked at and dropped, as the viewer and the printer do (keeping 3 M
    # records alive would measure the garbage collector instead).
    errors = 0
    for raw in raws:
        record = parse_raw_record(fmt, raw)
        if record.exc and record.levelno == 40:
            errors += 1
    t2 = time.perf_counter()
    n = len(raws)
    print(f"{len(data) / 1e6:.0f} MB, {n} records ({errors} errors with tracebacks)")
    print(f"split {t1 - t0:.2f} s ({n / (t1 - t0):,.0f} rec/s)")
    print(f"parse {t2 - t1:.2f} s ({n / (t2 - t1):,.0f} rec/s)")
    print(f"split+parse {t2 - t0:.2f} s ({n / (t2 - t0):,.0f} rec/s)")
    # Bulk record starts over raw bytes with start_pattern, as a bytes index would find them.
    t3 = time.perf_counter()
    starts = re.compile(rb"(?m)^(?:" + fmt.start_pattern.pattern + rb")", fmt.start_pattern.flags)
    found = sum(1 for _ in starts.finditer(data))
    t4 = time.perf_counter()
    print(f"start_pattern scan {t4 - t3:.2f} s ({found} starts, {found / (t4 - t3):,.0f} rec/s)")


if __name__ == "__main__":
    main()
