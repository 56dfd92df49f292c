"""Clicking a level in the level bar sets the minimum level, like its key."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.query_bar import QueryBar
from tui.conftest import until


async def test_click_on_a_level_sets_the_minimum(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.id != "_default" and app.screen.query(LevelBar))
        bar = app.screen.query_one(LevelBar)
        await until(pilot, lambda: "WARN" in str(bar.render()))
        text = str(bar.render())
        await pilot.click(LevelBar, offset=(text.index("WARN") + 1, 0))
        query = app.screen.query_one(QueryBar)
        await until(pilot, lambda: "level>=WARNING" in query.applied)
        text = str(bar.render())
        await pilot.click(LevelBar, offset=(text.index("0 all") + 1, 0))
        await until(pilot, lambda: "level" not in query.applied)
