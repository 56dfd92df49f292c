"""CPU of one direct range scan (``scan_ranges.scan_range``) in this process, without the
range workers: what a query costs per byte of a file, apart from the machine's other load.

    python bench/bench_scan_range.py bench/data/compare-json-1G.jsonl 'status>=500' --mb 200

Prints the query, the records it printed and the process time of the scan (the store's format
detection and the job's set-up are left out). Run it with ``PYTHONPATH`` set to each tree to
compare two versions (alternate the runs).
"""

from __future__ import annotations

import argparse
import io
import time

from logview.printer import RecordPrinter
from logview.query import parse_query
from logview.scan_ranges import make_job, scan_range
from logview.sources.file import FileSource
from logview.store import build_store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("query")
    parser.add_argument("--mb", type=int, default=200, help="megabytes from the start")
    args = parser.parse_args()
    store = build_store([FileSource(args.path, follow=False)])
    printer = RecordPrinter(io.BytesIO())
    job = make_job(store, parse_query(args.query), printer.render, need_lines=False)
    if job is None:
        raise SystemExit("no direct scan for this query and file")
    started = time.process_time()
    _out, count = scan_range(job, 0, min(job.size, args.mb << 20), 1)
    print(f"{args.query}: {count} records, {time.process_time() - started:.2f} s of CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
