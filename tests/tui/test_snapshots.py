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
