"""The viewer on a big file, driven by Textual's test pilot: how long until every record is
indexed and counted, then how long a filter takes to show its records and its histogram.

Usage: python bench/bench_view_filter.py FILE [QUERY ...]

Opens FILE in the viewer (160 x 45, no terminal), waits until the level bar, tree and
histogram have counted every record, then applies each QUERY (default: ``level>=ERROR``,
``logger:app.db level>=WARNING``, then the empty query) and prints the seconds until the
list shows the matches and until the histogram has all of them (when the record columns
answer the filter), and the peak RSS of the process: once counted (against the budget of
issue 10, 64 MB + 16 B a record) and at the end. Pass ``''`` alone as the query to measure
the viewer opened, indexed and counted only. Runs on older trees too (with
PYTHONPATH set to them): there the histogram does not follow filters.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from logview.sources.base import StaticFileSource
from logview.store import open_store
from logview.tui.app import LogviewApp
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList


async def run(path: str, queries: list[str]) -> None:
    store = open_store(StaticFileSource(path))
    app = LogviewApp(store)
    started = time.monotonic()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        hist = screen.query_one(TimeHistogram)
        records = screen.query_one(RecordList)

        def counted() -> bool:
            tally = screen._tally
            return bool(screen._finished and tally is not None and screen._known
                        and tally.counted >= screen._known)

        while not counted():
            await pilot.pause(0.1)
        spilled = getattr(store.columns, "spilled", None)
        print(f"{Path(path).name}: {len(store):,} records indexed and counted in "
              f"{time.monotonic() - started:.1f} s (columns spilled: {spilled}); peak RSS "
              f"so far {peak_mb():.0f} MB, budget 64 MB + 16 B x records = "
              f"{64 + 16 * len(store) / (1 << 20):.0f} MB")
        for text in queries:
            start = time.monotonic()
            screen.query_one(QueryBar).submit(text)
            await pilot.pause(0.05)
            listed = None
            while True:
                shown = (records.positions is None if not text else
                         screen._filter_progress is None and records.positions is not None)
                found = getattr(screen, "_filtered_times", None)
                drawn = (not text or found is None or not getattr(found, "answerable", True)
                         or (found.caught_up() and not found.pending))
                if shown and listed is None:
                    listed = time.monotonic() - start
                if shown and drawn:
                    break
                await pilot.pause(0.02)
            count = "all" if records.positions is None else f"{len(records.positions):,}"
            print(f"`{text}`: list {listed:.2f} s, list and histogram "
                  f"{time.monotonic() - start:.2f} s; {count} records shown, the histogram "
                  f"counts {hist.bins.total:,}")
    print(f"peak RSS {peak_mb():.0f} MB")


def peak_mb() -> float:
    """Peak resident set of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    queries = sys.argv[2:] or ["level>=ERROR", "logger:app.db level>=WARNING", ""]
    asyncio.run(run(sys.argv[1], queries))


if __name__ == "__main__":
    main()
