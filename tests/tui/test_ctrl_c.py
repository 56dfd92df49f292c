"""One Ctrl-C quits the viewer, even from the query bar."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from tui.conftest import until


async def test_ctrl_c_quits_from_the_list_and_from_the_query_bar(make_store):
    for keys in (["ctrl+c"], ["slash", "a", "ctrl+c"]):
        app = LogviewApp(make_store(20))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda app=app: app.screen.id != "_default")
            await pilot.press(*keys)
            await until(pilot, lambda app=app: app._exit or not app.is_running)
        assert app.return_code in (0, None)
