"""The time column (``T``): clock time, time since the previous record shown, time from an
anchor record (the cursor's when the mode was entered), then the clock again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logview.record import Record
from logview.tui.app import LogviewApp
from logview.tui.elapsed import CLOCK, SINCE_ANCHOR, SINCE_PREVIOUS, format_elapsed, next_time_mode
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar
from tui.conftest import START, log_line, screen_text, until


@pytest.mark.parametrize(("seconds", "text"), [
    (0.25, "+0.250s"), (0, "+0.000s"), (-12, "-12.000s"), (59.9996, "+1m00.000s"),
    (182.25, "+3m02.250s"), (-65.2, "-1m05.200s"), (3 * 3600 + 62, "+3h01m02s"),
    (2 * 86400 + 5 * 3600 + 180, "+2d05h03m"), (123 * 86400, "+123d00h"),
    (1e12, "+>99999d"),
])
def test_format_elapsed(seconds, text):
    assert format_elapsed(seconds) == text
    assert len(text) <= 11  # the narrow time column is 12 cells


def test_modes_cycle_back_to_the_clock():
    assert [next_time_mode(m) for m in (CLOCK, SINCE_PREVIOUS, SINCE_ANCHOR)] == [
        SINCE_PREVIOUS, SINCE_ANCHOR, CLOCK]


def _lines(app: LogviewApp) -> list[str]:
    region = app.screen.query_one(RecordList).content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


def _status(app: LogviewApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_T_cycles_clock_since_previous_from_anchor_and_back(make_store):
    app = LogviewApp(make_store(40))  # a record every 1.5 s
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 40 and records.rows_ready)
        await pilot.press("g")
        await until(pilot, lambda: records.rows_ready)
        assert _lines(app)[1].startswith("12:00:01.500 ")
        await pilot.press("T")
        await until(pilot, lambda: records.rows_ready and "+1.500s" in _lines(app)[1])
        lines = _lines(app)
        assert lines[0][:12].strip() == ""  # nothing before the first record
        assert all(line[:12] == "     +1.500s" for line in lines[1:20])
        assert "since previous" in _status(app)
        for _ in range(10):
            await pilot.press("down")
        await pilot.press("T")
        await until(pilot, lambda: "from anchor" in _status(app))
        lines = _lines(app)
        assert lines[0][:12] == "    -15.000s"
        assert lines[10][:12] == "     +0.000s"
        assert lines[14][:12] == "     +6.000s"
        await pilot.press("pagedown", "pagedown")  # the anchor stays while the cursor moves
        await until(pilot, lambda: records.rows_ready)
        top = round(records.scroll_y)
        assert _lines(app)[0][:12] == format_elapsed((top - 10) * 1.5).rjust(12)
        await pilot.press("T")
        await until(pilot, lambda: "anchor" not in _status(app))
        clock = START + timedelta(seconds=top * 1.5)
        assert _lines(app)[0].startswith(f"{clock:%H:%M:%S}.{clock.microsecond // 1000:03d} ")
        assert records.time_mode == CLOCK


async def test_since_previous_of_the_top_row_after_scrolling_and_records_without_time(make_store):
    app = LogviewApp(make_store(300))
    async with app.run_test(size=(100, 20)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 300 and records.rows_ready)
        await pilot.press("T", "g")
        await until(pilot, lambda: records.rows_ready)
        records.scroll_to(y=150, animate=False, immediate=True)  # rows never fetched before
        await until(pilot, lambda: records.rows_ready and round(records.scroll_y) == 150)
        await until(pilot, lambda: _lines(app)[0][:12] == "     +1.500s")
        assert records._time_text(Record(message="no time"), False, 5) == " " * 12


async def test_anchor_on_a_record_without_time_says_so_and_keeps_the_clock(make_store):
    text = "a first line without a time\n" + "".join(log_line(i) for i in range(5))
    app = LogviewApp(make_store(text=text))
    async with app.run_test(size=(100, 20)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 6 and records.rows_ready)
        await pilot.press("g", "T")
        await until(pilot, lambda: records.rows_ready and "since previous" in _status(app))
        assert _lines(app)[0][:12].strip() == "" and _lines(app)[1][:12].strip() == ""
        assert _lines(app)[2][:12] == "     +1.500s"
        await pilot.press("T")
        await until(pilot, lambda: app._notifications and records.time_mode == CLOCK)
        assert "no time" in list(app._notifications)[-1].message
        assert _lines(app)[1].startswith("12:00:00.000")
