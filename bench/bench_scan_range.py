"""CPU of one direct range scan (``scan_ranges.scan_range``) in this process, without the
range workers: what a query costs per byte of a file, apart from the machine's other load.

    python bench/bench_scan_range.py bench/data/compare-json-1G.jsonl 'status>=500' --mb 200
    python bench/bench_scan_range.py bench/data/compare-json-100M.jsonl 'logger:app.db' \
        --mb 64 --repeat 5 --each
    python bench/bench_scan_range.py bench/data/compare-basicConfig-1G.log 'level>=ERROR' \
        --mb 200 --range-mb 4 --repeat 3

Prints the query, the records it printed and the process time of the scan (the store's format
detection and the job's set-up are left out), the best of ``--repeat``, with ``--print``'s
printer into a pipe (``RecordPrinter(original=True)``) and its renderers. ``--each`` also
times the same job with every candidate record made and rendered one by one (no
``RecordChunks.matching``), alternating with the first, and checks both print the same
bytes. ``--range-mb`` cuts the bytes into ranges of that size, scanned one after the other
as ``run_job``'s workers do (``scan_ranges.HEADS_RANGE_BYTES`` is 4 MB: a range longer than
a record may be is not searched by its record heads). Run it with ``PYTHONPATH`` set to each
tree to compare two versions (alternate the runs).
"""

from __future__ import annotations

import argparse
import io
import time

from logview import headless
from logview.printer import RecordPrinter, known_original_bytes
from logview.query import parse_query
from logview.scan_ranges import make_job, scan_range
from logview.sources.file import FileSource
from logview.store import build_store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("query")
    parser.add_argument("--mb", type=int, default=200, help="megabytes from the start")
    parser.add_argument("--repeat", type=int, default=1, help="runs (the best is printed)")
    parser.add_argument("--range-mb", type=int, default=0,
                        help="ranges of this many megabytes (0: the whole as one range)")
    parser.add_argument("--each", action="store_true",
                        help="also without RecordChunks.matching (each record by itself)")
    args = parser.parse_args()
    store = build_store([FileSource(args.path, follow=False)])
    printer = RecordPrinter(io.BytesIO(), original=True)
    options = {"need_lines": False, "every": headless._chunk_renderer(printer),
               "as_read": known_original_bytes}
    match = getattr(headless, "_match_renderer", None)  # (an older tree has none)
    jobs = {"chunks": make_job(store, parse_query(args.query), printer.render, **options,
                               **({"matching": match(printer)} if match else {}))}
    if args.each:
        jobs["each record"] = make_job(store, parse_query(args.query), printer.render,
                                       **options)
    if None in jobs.values():
        raise SystemExit("no direct scan for this query and file")
    best = dict.fromkeys(jobs, float("inf"))
    outputs = {}
    for _ in range(args.repeat):
        for name, job in jobs.items():
            size = min(job.size, args.mb << 20)
            step = (args.range_mb << 20) or size
            started = time.process_time()
            parts = [scan_range(job, a, min(a + step, size), 1) for a in range(0, size, step)]
            best[name] = min(best[name], time.process_time() - started)
            outputs[name] = (b"".join(p[0] for p in parts), sum(p[1] for p in parts))
    if len(set(outputs.values())) != 1:
        raise SystemExit("the two ways printed different bytes")
    for name in jobs:
        print(f"{args.query}: {outputs[name][1]} records, {best[name]:.3f} s of CPU ({name}, "
              f"best of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
