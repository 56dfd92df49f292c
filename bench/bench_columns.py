"""The record columns of a file: bytes per record (index + columns), peak RSS, and queries
answered from the columns (levels, loggers, times) with the records they had to parse.

Usage: python bench/bench_columns.py FILE [--spill-mb MB]

Indexes FILE, counts every record as the viewer does (``RecordCounter``), then times
``column_positions`` (the filter's answer once counted) and ``FilteredTimes`` (the filtered
histogram) for a few queries, the time bounds taken from the file's own times with a
millisecond fraction, as the histogram's range writes them. ``--spill-mb`` sets the size
past which the columns move to an unlinked temporary file (default: the module's 64 MB).
The counting part runs on older trees too (``PYTHONPATH=OLD_TREE``), for before/after.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: an older tree given there is measured

from logview import columns
from logview.columns import RecordCounter
from logview.query.plan import parse_query
from logview.scan import column_positions
from logview.sources.base import StaticFileSource
from logview.store import open_store


def peak_rss() -> str:
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"


def local(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).isoformat(timespec="milliseconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--spill-mb", type=float)
    args = parser.parse_args()
    try:
        from logview import column_store
        from logview.stats import FilteredTimes
    except ImportError:  # a tree before the time column: counting only
        column_store = FilteredTimes = None
    if args.spill_mb is not None and column_store is not None:
        column_store.SPILL_BYTES = int(args.spill_mb * (1 << 20))
    store = open_store(StaticFileSource(args.file))
    start = time.perf_counter()
    store.update(final=True)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in RecordCounter(store).batches(len(store)):
        pass
    count_s = time.perf_counter() - start
    n = len(store)
    cols = store.columns
    view = cols.view()
    print(f"{Path(args.file).name}: {n:,} records, index {index_s:.2f} s, counted {count_s:.2f} s"
          f"; peak RSS so far {peak_rss()}")
    print(f"bytes per record: index {store.index.nbytes / n:.2f} + columns {cols.nbytes / n:.2f}"
          f" = {(store.index.nbytes + cols.nbytes) / n:.2f}")
    if FilteredTimes is None:
        return
    print(f"levels {view.levels.dtype}, loggers {view.loggers.dtype}, times {view.times.dtype}"
          f" in units of 1e{view.time_unit} s; spilled to a temporary file: {cols.spilled}")
    stamps = [store.record(i).timestamp for i in (*range(10), *range(n - 10, n))]
    known = [stamp for stamp in stamps if stamp is not None] or [0.0]
    first, last = min(known), max(known)
    a, b = first + (last - first) * 0.4 + 0.0004, first + (last - first) * 0.6 + 0.0004
    parsed = 0
    real = columns.exact_times

    def counting(part, positions):
        nonlocal parsed
        parsed += len(positions)
        return real(part, positions)

    columns.exact_times = counting
    import logview.scan as scan_module
    import logview.stats as stats_module

    scan_module.exact_times = stats_module.exact_times = counting
    print("| query | column answer s | matches | records parsed | filtered histogram s |")
    print("|---|---|---|---|---|")
    for text in ("level>=ERROR", "logger:app.db", f"since:{local(a)}",
                 f"since:{local(a)} until:{local(b)}", f"level>=ERROR since:{local(a)}"):
        query = parse_query(text)
        parsed = 0
        start = time.perf_counter()
        answered = column_positions(store, query, 0, n)
        answer_s = time.perf_counter() - start
        assert answered is not None, text
        found = FilteredTimes(store, query)
        start = time.perf_counter()
        while found.advance():  # a slice at a time, taken as the viewer's UI takes them
            found.take()
        found.take()
        hist_s = time.perf_counter() - start
        print(f"| `{text}` | {answer_s:.3f} | {len(answered[0]):,} | {parsed} | {hist_s:.3f} |")
    print(f"peak RSS with the queries' arrays (whole-file masks and positions): {peak_rss()}")
    store.close()


if __name__ == "__main__":
    main()
