"""The app end to end: query bar, level keys, follow/pause on a growing file, detail, palette,
colours, and responsiveness while a big file is indexed or a stream pours in."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time

import pytest
from textual import events
from textual.color import Color

from logview.record import WARNING
from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.screens.main import MainScreen
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, log_line, record_list, screen_text, until, write_log


def _bar(app: LogviewApp) -> QueryBar:
    return app.screen.query_one(QueryBar)


async def _loaded(pilot, app: LogviewApp, count: int) -> RecordList:
    records = record_list(app)
    await until(pilot, lambda: records.length == count)
    return records


def _levels(store, records: RecordList) -> list[int]:
    return [store.record(records.position_at(row)).levelno for row in range(records.row_count)]


async def test_query_bar_validates_while_typing_and_applies_on_enter(make_store):
    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 50)
        await pilot.press("ampersand")
        assert app.focused is _bar(app).input
        await pilot.press(*"level>=LOUD")
        bar = _bar(app)
        await until(pilot, lambda: bar.has_class("-invalid"))  # (checked as the input changes)
        # (the message is drawn in a later frame: under load it came after the class)
        await until(pilot, lambda: "unknown level" in screen_text(app))
        assert "^" in screen_text(app)
        await pilot.press("enter")
        assert records.positions is None and records.row_count == 50  # view unchanged
        await pilot.press(*["backspace"] * 4, *"ERROR")
        await until(pilot, lambda: not bar.has_class("-invalid"))
        await pilot.press("enter")
        await until(pilot, lambda: records.positions is not None and records.row_count == 12)
        assert min(_levels(store, records)) >= 40
        assert app.focused is records
        await until(pilot, lambda: "12 of 50 shown" in screen_text(app))


async def test_escape_restores_the_applied_query_and_history_walks(make_store):
    app = LogviewApp(make_store(50))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 50)
        bar = _bar(app)
        for text in ("u1", "u2"):
            await pilot.press("ampersand", "ctrl+u", *text, "enter")
        await until(pilot, lambda: bar.applied == "u2" and records.positions is not None)
        await pilot.press("ampersand", *"zzz", "escape")
        assert bar.text == "u2" and app.focused is records
        await pilot.press("ampersand", "up")
        assert bar.text == "u2"
        await pilot.press("up")
        assert bar.text == "u1"
        await pilot.press("down", "down")
        assert bar.text == ""
        await pilot.press("enter")
        await until(pilot, lambda: records.positions is None and records.row_count == 50)


async def test_prefilled_query_and_level_keys_edit_the_query(make_store):
    store = make_store(80)
    app = LogviewApp(store, query="u3")
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 80)
        bar = _bar(app)
        await until(pilot, lambda: records.positions is not None and records.row_count > 0)
        assert all("u3" in store.record(p).message for p in records.positions)
        await pilot.press("3")
        assert bar.text == "level>=WARNING u3"
        await until(pilot, lambda: records.row_count and min(_levels(store, records)) >= WARNING)
        await pilot.press("4")
        assert bar.text == "level>=ERROR u3"
        await until(pilot, lambda: min(_levels(store, records), default=99) >= 40)
        await pilot.press("0")
        assert bar.text == "u3"
        await pilot.press("ampersand", *["backspace"] * 2, "enter")
        await until(pilot, lambda: records.positions is None and records.row_count == 80)
        assert "5 CRIT 10" in screen_text(app)  # level counts of the whole file


async def test_next_and_previous_match_within_the_filtered_view(make_store):
    store = make_store(60)
    app = LogviewApp(store, query="u2")
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 60)
        await until(pilot, lambda: records.positions is not None and records.row_count == 9)
        await pilot.press("g", "n")
        assert records.cursor_row == 1
        await pilot.press("n", "N")
        assert records.cursor_row == 1
        await until(pilot, lambda: records.rows_ready)  # rows are fetched in a worker
        strip = records.render_line(0)
        match_style = records.get_component_rich_style("record-list--match")
        assert any(seg.text == "u2" and seg.style.bgcolor == match_style.bgcolor
                   for seg in strip if seg.style)


async def test_follow_pause_and_resume_on_a_growing_file(tmp_path):
    path = write_log(tmp_path / "live.log", 30)
    store = LogStore(FileSource(str(path), name="live.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 30)
        write_log(path, 10, start=30)
        await until(pilot, lambda: records.length >= 39)  # the last record may wait a moment
        assert records.following and records.cursor_row == records.row_count - 1
        await pilot.press("up")
        assert not records.following
        paused_at = records.cursor_position
        write_log(path, 20, start=40)
        await until(pilot, lambda: records.length >= 59 and records.new_rows >= 19)
        assert records.cursor_position == paused_at
        await until(pilot, lambda: f"paused, {records.new_rows} new" in screen_text(app))
        await pilot.press("G")
        assert records.following and records.cursor_row == records.row_count - 1
        assert "following" in screen_text(app)


async def test_new_records_are_matched_while_filtered(memory_store):
    source, store = memory_store(16)
    app = LogviewApp(store, query="level>=ERROR")
    async with app.run_test(size=(80, 24)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.positions is not None and records.row_count == 4)
        source.append("".join(log_line(i) for i in range(16, 32)).encode())
        await until(pilot, lambda: records.row_count >= 7)  # the newest ERROR may be pending
        assert min(_levels(store, records)) >= 40


async def test_a_new_query_cancels_the_running_filter(make_store):
    store = make_store(3000)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 3000)
        bar = _bar(app)
        bar.submit("u1")
        bar.submit("level>=CRITICAL")
        await until(pilot, lambda: app.screen._filter_progress is None
                    and records.positions is not None and records.row_count == 375)
        assert set(_levels(store, records)) == {50}


async def test_enter_opens_the_detail_and_escape_closes_it(make_store):
    from logview.tui.widgets.detail import DetailScreen

    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 8)
        await pilot.press("up", "up", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.record.message.startswith("event 5")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.focused is records


async def test_help_key(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot, app, 8)
        await pilot.press("question_mark")
        if importlib.util.find_spec("logview.tui.screens.help") is not None:
            from logview.tui.screens.help import HelpScreen

            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        else:
            await until(pilot, lambda: app._notifications)


async def test_command_palette_lists_logview_actions(make_store):
    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 50)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        for title in ("Filter", "Toggle logger tree", "Toggle wrap", "Follow", "Next error"):
            assert title in commands
        commands["Level: errors and worse"].callback()
        await until(pilot, lambda: _bar(app).applied == "level>=ERROR")
        await until(pilot, lambda: records.positions is not None and records.row_count == 12)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen is not None and "CommandPalette" in type(app.screen).__name__)


async def test_no_color_keeps_levels_readable(make_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 8)
        assert app.no_color
        await until(pilot, lambda: records.rows_ready)  # rows are fetched in a worker
        colours = set()
        for strip in app.screen._compositor.render_strips():
            for line_filter in app._filters:
                strip = strip.apply_filter(line_filter, Color(0, 0, 0))
            for segment in strip:
                for colour in (segment.style and (segment.style.color, segment.style.bgcolor)) or ():
                    if colour is not None and colour.triplet is not None:
                        colours.add(colour.triplet)
        assert colours and all(r == g == b for r, g, b in colours)
        text = screen_text(app)
        assert "ERROR app.db" in text and "CRIT  worker" in text


async def test_light_theme_renders(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 8)
        await until(pilot, lambda: records.rows_ready)
        dark = records.render_line(0)
        app.theme = "textual-light"
        await pilot.pause()
        light = records.render_line(0)
        assert dark.text == light.text
        assert [s.style for s in dark] != [s.style for s in light]


async def _keypress_latencies(app: LogviewApp, records: RecordList, presses: int = 10) -> list[float]:
    """Times from a key reaching the app to the cursor having moved, sorted.

    ``pilot.press`` waits for the whole process to go idle, which never happens while the
    workers are busy, so the key is sent the way the driver does and the effect is polled.
    """
    latencies = []
    for _ in range(presses):
        before = records.cursor_row
        started = time.perf_counter()
        app._driver.send_message(events.Key("k", "k"))
        # (a key late by seconds is a stall the caller may measure again; one never handled
        # is lost: that fails at once)
        while records.cursor_row == before and time.perf_counter() - started < 10:
            await asyncio.sleep(0.001)
        assert records.cursor_row == before - 1, "a key was never handled"
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return sorted(latencies)


async def _assert_responsive(app: LogviewApp, records: RecordList) -> None:
    """Every one of 10 keypresses is handled within 100 ms (the issue's bar).

    One retry of the whole measurement is allowed: on a shared 2-core machine a single
    unlucky scheduling slice of another process must not fail the test (nor, once in a long
    run, a stall of the whole process: a key handled seconds late; a key never handled
    fails at once).
    """
    for attempt in range(2):
        latencies = await _keypress_latencies(app, records)
        print("key latencies (ms):", [round(x * 1000, 1) for x in latencies])
        if latencies[-1] < 0.1:
            return
        records.go_to_row(records.row_count - 10, follow=False)
    raise AssertionError(f"keys took {[round(x * 1000) for x in latencies]} ms")


@pytest.mark.timeout(60)
@pytest.mark.serial  # (key latencies)
async def test_keys_stay_responsive_while_a_big_file_is_indexed(tmp_path):
    path = tmp_path / "big.log"
    line = log_line(1, "INFO")
    path.write_text(line * 200_000, encoding="utf-8")
    store = LogStore(FileSource(str(path), follow=False, name="big.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.length > 1000, timeout=20)
        records.go_to_row(100, follow=False)
        await asyncio.sleep(0.3)  # the jump's own repaint is not the first key's latency
        counting = app.screen.query_one("LevelBar").counting
        await _assert_responsive(app, records)
        assert counting  # level counting was still running in the background


@pytest.mark.serial  # (key latencies)
async def test_keys_stay_responsive_while_a_stream_pours_in(memory_store):
    source, store = memory_store(100)
    stop = threading.Event()

    def produce() -> None:  # about 10k records/s in 10 ms bursts
        i = 100
        while not stop.is_set():
            source.append("".join(log_line(n) for n in range(i, i + 100)).encode())
            i += 100
            time.sleep(0.01)

    app = LogviewApp(store)
    producer = threading.Thread(target=produce, daemon=True)
    async with app.run_test(size=(80, 24)) as pilot:
        records = record_list(app)
        producer.start()
        try:
            await until(pilot, lambda: records.length > 3000, timeout=10)
            records.go_to_row(records.row_count - 10, follow=False)
            await _assert_responsive(app, records)
            assert not records.following
            await until(pilot, lambda: records.new_rows > 0)
        finally:
            stop.set()
            producer.join(5)


def test_status_line_text():
    from logview.tui.widgets.status_bar import StatusBar, StatusState

    state = StatusState(source="app.log\x1b[2J", total=1234, shown=56, following=False,
                        new_rows=7, rate=99.6, filter_progress=0.5, indexed=0.25)
    text = StatusBar.render_state(state).plain
    assert text == ("app.log␛[2J  56 of 1,234 shown  paused, 7 new  100 rec/s"
                    "  indexing 25%  filtering 50%")


async def test_ampersand_puts_the_caret_after_the_applied_query(make_store):
    """Typing after & adds to the filter (the caret is at its end, as in lnav), wherever the
    caret was left the last time the bar was edited."""
    app = LogviewApp(make_store(50))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _loaded(pilot, app, 50)
        await pilot.press("4")  # the level key writes level>=ERROR into the bar
        await until(pilot, lambda: records.positions is not None)
        await pilot.press("ampersand", "home", "escape")  # caret left at the start
        await pilot.press("ampersand", *" app")
        assert _bar(app).input.value == "level>=ERROR app"


async def test_screenshot_goes_to_the_working_directory_without_a_downloads_folder(
        make_store, tmp_path, monkeypatch):
    """The palette's Screenshot failed with only 'Failed to save screenshot' on a machine
    without ~/Downloads (most servers): it saves in the working directory and says where."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    app = LogviewApp(make_store(10))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot, app, 10)
        app.action_screenshot()
        await until(pilot, lambda: list(work.glob("*.svg")))
        await until(pilot, lambda: any(str(work) in str(n.message) for n in app._notifications))
