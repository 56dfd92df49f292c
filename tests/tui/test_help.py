"""HelpScreen: lists every key and the query cheat-sheet, and closes on Escape, q and ?."""

from __future__ import annotations

import asyncio
import functools

from textual.app import App
from textual.widgets import Static

from logview.tui.screens.help import HelpScreen, query_help


def sync(test):
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


class HelpApp(App):
    def on_mount(self) -> None:
        self.push_screen(HelpScreen())


@sync
async def test_help_lists_keys_and_query_language():
    app = HelpApp()
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys", Static).render())
        for key in ("Home g", "End G", "PgUp PgDn", "k j", "/", "&", "Enter", "Escape", "n N",
                    "e E", "w W", "1 2 3 4 5", "t", "\\", "c", "?", "q", "ctrl+p",
                    "z", "T", "a", "← →", ":", "F", "space",
                    "m", "u U", "M", "C", "s"):
            assert key in keys, key
        query = str(app.screen.query_one("#help-query", Static).render())
        assert query == query_help()
        assert "level" in query.lower() and "logger" in query.lower()


@sync
async def test_help_closes_on_escape_q_and_question_mark():
    app = HelpApp()
    async with app.run_test() as pilot:
        for index, key in enumerate(("escape", "q", "question_mark")):
            if index:
                await app.push_screen(HelpScreen())
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen), key


def test_the_keys_named_in_dash_dash_help_are_the_viewers():
    """--help names the viewer's main keys; each is in the help screen's table as described."""
    from logview.cli import EXAMPLES
    from logview.tui.screens.help import KEY_HELP

    rows = {keys: what for _, section in KEY_HELP for keys, what in section}
    line = EXAMPLES[EXAMPLES.index("in the viewer, ? lists every key"):]
    for key, word in (("/", "find"), ("&", "filter"), ("n N", "hit"), ("z", "expand"),
                      ("m", "mark"), ("s", "export"), (":", "go to"), ("F", "filter list"),
                      ("1 2 3 4 5", "minimum level")):
        assert f"{key.split()[0]} " in line, key
        assert word in rows[key].lower(), (key, rows[key])
