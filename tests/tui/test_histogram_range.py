"""Histogram range selection: space marks one end, space again the other (or a mouse drag),
and the query keeps that time range with since:/until: terms (listed, and toggled, in the
filter list); Escape drops a range begun; the range is drawn highlighted."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from textual.app import App, ComposeResult

from logview.tui.app import LogviewApp
from logview.tui.query_edit import time_range_of, with_time_range
from logview.tui.widgets.filter_list import FilterList
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import START, until

T0 = 1_714_564_800.0


class RangeApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.ranges: list[tuple[float, float]] = []
        self.buckets: list[tuple[float, float]] = []

    def compose(self) -> ComposeResult:
        yield TimeHistogram()

    def on_time_histogram_range_selected(self, event: TimeHistogram.RangeSelected) -> None:
        self.ranges.append((event.start, event.end))

    def on_time_histogram_bucket_selected(self, event: TimeHistogram.BucketSelected) -> None:
        self.buckets.append((event.start, event.end))


def _range_cells(hist: TimeHistogram) -> list[int]:
    """Columns of the bar row drawn in the range style."""
    range_bg = hist.get_component_rich_style("histogram--range").bgcolor
    line = hist.render().split("\n")[0]
    cells: list[int] = []
    for span in line.spans:
        if span.style.bgcolor == range_bg:
            cells.extend(range(span.start, span.end))
    return cells


async def test_space_marks_both_ends_and_escape_drops_a_range():
    app = RangeApp()
    async with app.run_test(size=(80, 4)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_data(T0 + np.arange(0, 400, 1.0), np.full(400, 20))
        hist.focus()
        await pilot.pause()
        starts, ends, _ = hist.buckets()
        await pilot.press("home", "right", "right", "space", "right", "right", "right")
        await pilot.pause()
        assert hist.anchor == 2 and _range_cells(hist) == [2, 3, 4]  # 5: the cursor's
        assert "(space: keep)" in str(hist.render())
        await pilot.press("space")
        await until(pilot, lambda: app.ranges)
        assert app.ranges == [(float(starts[2]), float(ends[5]))]
        await pilot.press("space", "left", "left", "escape")
        await pilot.pause()
        assert hist.anchor == -1 and _range_cells(hist) == []
        await pilot.press("space", "end", "space")  # backwards works too: ends are sorted
        await until(pilot, lambda: len(app.ranges) == 2)
        assert app.ranges[1] == (float(starts[3]), float(ends[-1]))
        assert app.buckets == []


async def test_a_mouse_drag_selects_a_range_and_a_click_still_jumps():
    app = RangeApp()
    async with app.run_test(size=(40, 4)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_data(T0 + np.arange(0, 400, 1.0), np.full(400, 20))
        await pilot.pause()
        starts, ends, _ = hist.buckets()
        await pilot.mouse_down(TimeHistogram, offset=(10, 0))
        await pilot.hover(TimeHistogram, offset=(14, 0))
        await pilot.mouse_up(TimeHistogram, offset=(14, 0))
        await until(pilot, lambda: app.ranges)
        assert app.ranges == [(float(starts[10]), float(ends[14]))]
        await pilot.pause()
        assert app.buckets == []  # the end of a drag is no click
        await pilot.click(TimeHistogram, offset=(20, 0))
        await until(pilot, lambda: app.buckets)
        assert app.buckets == [(float(starts[20]), float(ends[20]))]
        assert len(app.ranges) == 1


async def test_the_kept_range_is_drawn():
    app = RangeApp()
    async with app.run_test(size=(40, 4)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_data(T0 + np.arange(0, 400, 1.0), np.full(400, 20))
        await pilot.pause()
        starts, ends, _ = hist.buckets()
        hist.set_range(float(starts[30]), float(ends[33]))
        assert _range_cells(hist) == [30, 31, 32, 33]
        hist.set_range(float(starts[30]), None)  # since: only
        assert _range_cells(hist) == list(range(30, len(starts)))
        hist.set_range(None, None)
        assert _range_cells(hist) == []


def test_range_terms_replace_each_other_and_read_back():
    start = datetime(2024, 5, 1, 10, 32, 5).timestamp()
    text = with_time_range("level>=ERROR since:-1h", start, start + 60.0004)
    assert text == "level>=ERROR since:2024-05-01T10:32:05 until:2024-05-01T10:33:05.001"
    assert with_time_range(text, start, start + 1) == (
        "level>=ERROR since:2024-05-01T10:32:05 until:2024-05-01T10:32:06")
    since, until_ = time_range_of(text)
    assert since == start and until_ is not None and start + 60.0004 <= until_ < start + 60.002


async def test_a_range_in_the_app_filters_and_lists_its_terms(make_store):
    app = LogviewApp(make_store(400))  # a record every 1.5 s from 12:00:00 to 12:09:58.5
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        bar = screen.query_one(QueryBar)
        hist = screen.query_one(TimeHistogram)
        await until(pilot, lambda: records.length == 400 and hist.bins.total == 400)
        hist.focus()
        await pilot.press("home", "right", "right", "space", *["right"] * 7, "space")
        await until(pilot, lambda: "until:" in bar.applied)
        starts, ends, _ = hist.buckets()
        since, until_ = time_range_of(bar.applied)
        assert since is not None and until_ is not None
        assert since <= float(starts[2]) and float(ends[9]) <= until_ < float(ends[9]) + 0.002
        first = START.timestamp()
        inside = sum(1 for i in range(400) if since <= first + 1.5 * i < until_)
        await until(pilot, lambda: records.positions is not None and records.row_count == inside)
        assert 0 < inside < 400
        assert _range_cells(hist) == list(range(2, 9))  # the kept range stays drawn (9: cursor)
        filters = screen.query_one(FilterList)
        assert [text.split(":")[0] for text, _on in filters.terms] == ["since", "until"]
        await pilot.press("F")
        await until(pilot, lambda: app.focused is filters)
        await pilot.press("space")  # since: off: from the start up to the range's end
        await until(pilot, lambda: not bar.applied.startswith("since:")
                    and records.row_count > inside)
        assert _range_cells(hist) == list(range(9))  # open at the start now
        await pilot.press("down", "space")  # until: off too: everything
        await until(pilot, lambda: bar.applied == "" and records.positions is None)
        assert _range_cells(hist) == []
