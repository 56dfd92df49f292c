"""Counts the viewer shows are worded for their number: "1 record", never "1 records"."""

from __future__ import annotations

import numpy as np
import pytest

from logview.tui.app import LogviewApp
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar, StatusState, count_of
from tui.conftest import screen_text, until


@pytest.mark.parametrize(("count", "text"), [
    (0, "0 records"), (1, "1 record"), (2, "2 records"), (1234, "1,234 records"),
])
def test_count_of(count, text):
    assert count_of(count, "record") == text


@pytest.mark.parametrize(("state", "says", "never"), [
    (StatusState(source="app.log", total=1), "app.log  1 record  ", "records"),
    (StatusState(source="app.log", total=0), "0 records", "0 record "),
    (StatusState(source="app.log", total=3, notices=1), "⚠ 1 warning  ", "warnings"),
    (StatusState(source="app.log", total=3, notices=2), "⚠ 2 warnings", "2 warning "),
])
def test_status_line_words(state, says, never):
    text = StatusBar.render_state(state).plain
    assert says in text and never not in text


async def test_a_file_of_one_record_says_one_record(make_store):
    app = LogviewApp(make_store(1))
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 1)
        await until(pilot, lambda: "1 record " in screen_text(app))
        histogram = app.screen.query_one(TimeHistogram)
        await until(pilot, lambda: histogram.bins.total == 1)
        text = screen_text(app)
        assert "1 records" not in text
        assert "1 record · " in str(histogram.render())  # the histogram's axis


async def test_histogram_axis_counts_records_in_the_plural():
    from textual.app import App

    class One(App):
        def compose(self):
            yield TimeHistogram()

    app = One()
    async with app.run_test(size=(80, 3)) as pilot:
        histogram = app.query_one(TimeHistogram)
        histogram.set_data(np.array([1e9, 1e9 + 60]), np.array([20, 40]))
        await pilot.pause()
        assert "2 records · " in str(histogram.render())
