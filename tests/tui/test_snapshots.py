"""Screenshots of the main screen compared with approved SVGs (``--snapshot-update`` to accept).

Deterministic: fixed records with fixed times from a file that is not followed (no rates, no
clock), the list focused (no blinking cursor), workers finished before the picture is taken.
"""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import until


def _settled(count: int, *, filtered: bool = False):
    async def run_before(pilot) -> None:
        app = pilot.app
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == count)
        await until(pilot, lambda: not app.screen.query_one(LevelBar).counting)
        if filtered:
            await until(pilot, lambda: records.positions is not None
                        and app.screen._filter_progress is None)
        await until(pilot, lambda: records.scroll_y == records.max_scroll_y)
        await until(pilot, lambda: records.rows_ready)  # no placeholder rows in the picture
        await pilot.pause()

    return run_before


def test_main_screen_80x24(snap_compare, make_store):
    app = LogviewApp(make_store(60))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled(60))


def test_main_screen_160x45(snap_compare, make_store):
    app = LogviewApp(make_store(60))
    assert snap_compare(app, terminal_size=(160, 45), run_before=_settled(60))


def test_filtered_with_cursor_moved_80x24(snap_compare, make_store):
    app = LogviewApp(make_store(60), query="level>=WARNING took")

    async def run_before(pilot) -> None:
        await _settled(60, filtered=True)(pilot)
        await pilot.press("up", "up", "up")
        records = pilot.app.screen.query_one(RecordList)
        await until(pilot, lambda: records.rows_ready)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_query_error_shows_a_caret(snap_compare, make_store):
    app = LogviewApp(make_store(20))

    async def run_before(pilot) -> None:
        await _settled(20)(pilot)
        await pilot.press("ampersand", *"level>=LOUD")
        pilot.app.screen.query_one("#query-input").cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_find_keeps_every_record_and_counts_hits(snap_compare, make_store):
    app = LogviewApp(make_store(60))

    async def run_before(pilot) -> None:
        await _settled(60)(pilot)
        await pilot.press("home", "slash", *"u3", "enter")
        screen = pilot.app.screen
        await until(pilot, lambda: "hit 1 of" in screen.find_status()
                    and "…" not in screen.find_status())
        await pilot.press("n")
        await until(pilot, lambda: "hit 2 of" in screen.find_status())
        records = screen.query_one(RecordList)
        await until(pilot, lambda: records.rows_ready)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_errors_expanded_in_place(snap_compare, make_store):
    app = LogviewApp(make_store(60), query="level>=ERROR")

    async def run_before(pilot) -> None:
        await _settled(60, filtered=True)(pilot)
        await pilot.press("z", "home")
        records = pilot.app.screen.query_one(RecordList)
        await until(pilot, lambda: records.rows_ready)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_filter_list_marks_and_elapsed_times(snap_compare, make_store):
    app = LogviewApp(make_store(60), query="level>=WARNING -logger:worker took")

    async def run_before(pilot) -> None:
        await _settled(60, filtered=True)(pilot)
        await pilot.press("home", "down", "m", "down", "down", "m", "T", "F", "space")
        records = pilot.app.screen.query_one(RecordList)
        await until(pilot, lambda: records.positions is not None
                    and pilot.app.screen._filter_progress is None)
        await until(pilot, lambda: records.rows_ready)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
