"""The histogram follows a filter the record columns answer (levels, loggers, times), drawing
the matching records' times; under any other filter it shows every record and says so."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.histogram import ERR, REST, WARN, TimeHistogram
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import LEVELS, until

COUNT = 400
ERRORS = sum(1 for i in range(COUNT) if LEVELS[i % len(LEVELS)] in ("ERROR", "CRITICAL"))


def axis(hist: TimeHistogram) -> str:
    return hist.render().plain.splitlines()[-1]


async def test_the_histogram_follows_a_level_filter(make_store):
    app = LogviewApp(make_store(COUNT))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        hist = screen.query_one(TimeHistogram)
        bar = screen.query_one(QueryBar)
        await until(pilot, lambda: records.length == COUNT and hist.bins.total == COUNT)
        _, _, everything = hist.buckets()
        assert everything[REST].sum() > 0

        bar.submit("level>=ERROR")
        await until(pilot, lambda: hist.filtered_bins is not None
                    and hist.bins.total == ERRORS and records.row_count == ERRORS)
        _, _, counts = hist.buckets()
        assert counts[REST].sum() == counts[WARN].sum() == 0
        assert counts[ERR].sum() == ERRORS
        assert f"{ERRORS} records matching" in axis(hist)

        bar.submit("took")  # a word: the columns cannot answer it
        await until(pilot, lambda: hist.filtered_bins is None and hist.unfiltered)
        assert hist.bins.total == COUNT
        assert f"all {COUNT} records, not filtered" in axis(hist)

        bar.submit("")
        await until(pilot, lambda: not hist.unfiltered and records.positions is None)
        assert hist.bins.total == COUNT and "matching" not in axis(hist)


async def test_a_time_range_is_drawn_over_the_filters_histogram(make_store):
    app = LogviewApp(make_store(COUNT))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        hist = screen.query_one(TimeHistogram)
        bar = screen.query_one(QueryBar)
        await until(pilot, lambda: records.length == COUNT and hist.bins.total == COUNT)
        # The first 100 records (1.5 s apart from 12:00:00), errors only.
        bar.submit("level>=ERROR until:2024-05-01T12:02:30")
        inside = sum(1 for i in range(100) if LEVELS[i % len(LEVELS)] in ("ERROR", "CRITICAL"))
        await until(pilot, lambda: hist.filtered_bins is not None
                    and records.row_count == inside and hist.bins.total == ERRORS)
        assert hist.kept[1] is not None  # the range is drawn over every error, not zoomed
