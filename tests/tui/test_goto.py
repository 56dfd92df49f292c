"""Go to (``:``): a record number of the view, a time of day, -5m, or a date-time; bisecting
rows in time order, scanning them otherwise; a clear word when it cannot read the text or
nothing is at or after that time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from textual.widgets import Input

from logview.tui.app import LogviewApp
from logview.tui.goto_target import (
    GotoError,
    GotoTarget,
    first_row_at_or_after,
    parse_goto,
    resolve,
)
from logview.tui.screens.goto import GotoScreen
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import START, log_line, screen_text, until


def test_what_goto_reads():
    assert parse_goto(" 1234 ") == GotoTarget("row", row=1233)
    assert parse_goto("10:32") == GotoTarget("clock", clock=time(10, 32))
    assert parse_goto("10:32:05.25") == GotoTarget("clock", clock=time(10, 32, 5, 250000))
    assert parse_goto("-5m") == GotoTarget("time", text="-5m")
    assert parse_goto("2024-05-01T10:32") == GotoTarget("time", text="2024-05-01T10:32")
    for bad in ("", "0", "25:00", "10:3", "soon", "12x"):
        with pytest.raises(GotoError):
            parse_goto(bad)


def test_times_are_fixed_against_the_records():
    first = datetime(2024, 5, 1, 22, 0).timestamp()
    last = datetime(2024, 5, 3, 1, 0).timestamp()
    clock = parse_goto("23:30")  # the latest 23:30 of the log: the 2nd
    assert resolve(clock, first, last) == datetime(2024, 5, 2, 23, 30).timestamp()
    early = parse_goto("21:00")  # before every record: the first day's
    assert resolve(early, first, first + 60) == datetime(2024, 5, 1, 21, 0).timestamp()
    assert resolve(parse_goto("-2h"), first, last) == last - 7200  # from the last record
    iso = parse_goto("2024-05-02T10:32")
    assert resolve(iso, first, last) == datetime(2024, 5, 2, 10, 32).timestamp()


def test_bisecting_skips_rows_without_a_time_and_refuses_disorder():
    times = [None if i % 3 == 1 else float(i) for i in range(1000)]
    reads: list[int] = []

    def time_at(row: int) -> float | None:
        reads.append(row)
        return times[row]

    assert first_row_at_or_after(time_at, 1000, 399.5) == (True, 401)  # 400 has no time
    assert len(reads) < 120  # a bisection, not a scan
    assert first_row_at_or_after(time_at, 1000, 5000) == (True, None)
    assert first_row_at_or_after(time_at, 1000, -5) == (True, 0)
    shuffled = [float((i * 37) % 1000) for i in range(1000)]
    assert first_row_at_or_after(shuffled.__getitem__, 1000, 500) == (False, None)


def _told(app, text: str) -> bool:
    return any(n.message == text for n in app._notifications)


async def _go(pilot, app, text: str, *, typed: bool = False) -> None:
    """``:`` then ``text`` and Enter: ``typed`` key by key, else put in the prompt's field at
    once (each key the pilot presses waits for the app to idle: 50 keys took seconds)."""
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(app.screen, GotoScreen))
    if typed:
        await pilot.press(*text)
    else:
        app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def test_colon_goes_to_a_record_number_of_the_view(make_store):
    app = LogviewApp(make_store(200))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 200)
        await _go(pilot, app, "42", typed=True)
        await until(pilot, lambda: records.cursor_row == 41 and not records.following)
        assert records.cursor_position == 41
        app.screen.query_one(QueryBar).submit("logger:app.db")  # every 4th record
        await until(pilot, lambda: records.positions is not None and records.row_count == 50)
        await _go(pilot, app, "3")
        await until(pilot, lambda: records.cursor_row == 2)
        assert records.cursor_position == 9  # records 1, 5, 9 are app.db's
        await _go(pilot, app, "999")  # past the end: the last one, and said so
        await until(pilot, lambda: records.cursor_row == 49)
        await until(pilot, lambda: _told(app, "Only 50 records shown: at the last one"))


async def test_colon_goes_to_a_time(make_store):
    app = LogviewApp(make_store(400))  # a record every 1.5 s from 12:00:00
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 400)
        await _go(pilot, app, "12:03:00")
        await until(pilot, lambda: records.cursor_position == 120)
        await _go(pilot, app, "12:01:01")  # between records: the next one
        await until(pilot, lambda: records.cursor_position == 41)
        await _go(pilot, app, "-3s")  # the last record is at 12:09:58.5
        await until(pilot, lambda: records.cursor_position == 397)
        await _go(pilot, app, "2024-05-01T12:05")
        await until(pilot, lambda: records.cursor_position == 200)
        await _go(pilot, app, "13:00")
        await until(pilot, lambda: _told(app, "No record at or after 2024-05-01 13:00:00"))
        assert records.cursor_position == 200


async def test_what_goto_cannot_read_is_said_and_escape_closes(make_store):
    app = LogviewApp(make_store(20))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 20)
        await _go(pilot, app, "tomorrowish")
        await until(pilot, lambda: "Cannot read 'tomorrowish'" in screen_text(app))
        assert isinstance(app.screen, GotoScreen)  # still open, to correct the text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, GotoScreen))
        assert app.focused is records


async def test_records_out_of_time_order_are_scanned(make_store):
    order = [5, 1, 7, 0, 9, 3, 2, 8, 4, 6] * 3  # times jump back and forth
    text = "".join(log_line(i) for i in order)
    app = LogviewApp(make_store(text=text))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 30)
        target = START + timedelta(seconds=1.5 * 7)  # record 7's time: first at 2
        await _go(pilot, app, target.strftime("%H:%M:%S"))
        await until(pilot, lambda: records.cursor_position == 2 and not records.following)
