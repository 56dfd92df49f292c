"""The session in the viewer: what one run leaves is there at the next (history, theme,
layout, the place in a file), and only where it belongs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from logview.session import STATE_FILE, Session
from logview.sources.base import StaticFileSource
from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, until, write_log

COUNT = 300

Body = Callable[..., Awaitable[None]]


def _store(path: Path, *, follow: bool = False) -> LogStore:
    source = FileSource(str(path), follow=True) if follow else StaticFileSource(str(path))
    return LogStore(source, DashFormat())


async def _run(path: Path, session: Session | None, body: Body, *, follow: bool = False,
               count: int = COUNT) -> LogviewApp:
    """One viewer run over ``path``: ``body(pilot, app, records)`` once every record is
    listed, then the exit, and the save the command line does after it."""
    store = _store(path, follow=follow)
    app = LogviewApp(store, session=session)
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.row_count == count)
            await body(pilot, app, records)
    finally:
        store.close()
    if session is not None:
        assert session.save() is None
    return app


async def _nothing(pilot, app, records) -> None:
    return None


def _loaded() -> Session:
    session = Session()
    assert session.load() is None
    return session


def _state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "logview"


async def test_query_history_survives_a_restart(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def apply_queries(pilot, app, records):
        bar = app.screen.query_one(QueryBar)
        for text in ("level>=ERROR", "logger:app.db", ""):
            bar.submit(text)
        await pilot.pause()

    await _run(log, Session(), apply_queries)
    # (the default theme is not written down: a later default reaches who never chose one)
    assert json.loads((_state_dir() / STATE_FILE).read_text())["theme"] is None

    async def walk_history(pilot, app, records):
        bar = app.screen.query_one(QueryBar)
        await pilot.press("slash", "up")
        assert bar.input.value == "logger:app.db"
        await pilot.press("up")
        assert bar.input.value == "level>=ERROR"

    await _run(log, Session(), walk_history)


async def test_the_theme_survives_a_restart(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def pick_theme(pilot, app, records):
        app.theme = "nord"  # as the command palette's theme picker does
        await pilot.pause()

    await _run(log, Session(), pick_theme)
    app = await _run(log, Session(), _nothing)
    assert app.theme == "nord"


async def test_histogram_tree_and_wrap_survive_a_restart(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def switch(pilot, app, records):
        await pilot.press("h", "t", "escape")  # the tree takes the focus: back to the list
        records.focus()
        await pilot.press("backslash")
        assert records.wrap

    await _run(log, Session(), switch)

    async def check(pilot, app, records):
        await until(pilot, lambda: records.wrap)
        assert not app.screen.query_one(TimeHistogram).display
        assert app.screen.query_one(LoggerTree).display
        assert app.focused is records  # the tree is shown, the list keeps the keys

    await _run(log, Session(), check)


async def _leave_cursor_on(pilot, records: RecordList, row: int) -> None:
    await pilot.press("g")
    records.go_to_row(row, follow=False)
    await until(pilot, lambda: records.cursor_position == row and not records.following)


async def test_the_place_in_a_followed_file_survives_a_restart(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def leave(pilot, app, records):
        await _leave_cursor_on(pilot, records, 123)

    await _run(log, Session(), leave, follow=True)
    write_log(log, 20, start=COUNT)  # the log grew meanwhile: still the same file

    async def back(pilot, app, records):
        await until(pilot, lambda: not records.following and records.cursor_position == 123)
        await until(pilot, lambda: any("back where you left: record 124" in str(n.message)
                                       for n in app._notifications))
        await pilot.press("G")  # as the notification says: G follows the end again
        assert records.following and records.cursor_position == COUNT + 20 - 1

    await _run(log, Session(), back, follow=True, count=COUNT + 20)


async def test_a_place_is_not_restored_in_a_replaced_file(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def leave(pilot, app, records):
        await _leave_cursor_on(pilot, records, 123)

    await _run(log, Session(), leave)
    assert _loaded().place_of(str(log)) is not None
    replacement = tmp_path / "new.log"
    replacement.write_bytes(log.read_bytes())  # the same text, another file (rotated, copied)
    os.replace(replacement, log)

    async def not_back(pilot, app, records):
        assert app.session_keeper._pending is None  # nothing waits to be restored
        assert records.following and records.cursor_position == COUNT - 1
        assert not any("back where you left" in str(n.message) for n in app._notifications)

    await _run(log, Session(), not_back)


async def test_leaving_while_following_forgets_the_place(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def leave(pilot, app, records):
        await _leave_cursor_on(pilot, records, 50)

    await _run(log, Session(), leave)
    assert _loaded().place_of(str(log)) is not None

    async def follow(pilot, app, records):
        await until(pilot, lambda: records.cursor_position == 50)
        await pilot.press("G")

    await _run(log, Session(), follow)
    assert _loaded().place_of(str(log)) is None


async def test_no_session_reads_and_writes_nothing(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)
    directory = _state_dir()
    directory.mkdir(parents=True)
    (directory / STATE_FILE).write_text(json.dumps({"version": 1, "theme": "nord",
                                                    "layout": {"histogram": False}}))
    before = (directory / STATE_FILE).read_bytes()

    async def change(pilot, app, records):
        assert app.theme != "nord"  # not read
        assert app.screen.query_one(TimeHistogram).display
        app.screen.query_one(QueryBar).submit("level>=ERROR")
        await pilot.press("h", "g")

    app = await _run(log, None, change)
    assert app.session_keeper is None
    assert [p.name for p in directory.iterdir()] == [STATE_FILE]
    assert (directory / STATE_FILE).read_bytes() == before


def test_no_session_flag_gives_the_app_no_session(tmp_path, monkeypatch):
    """``--no-session`` (listed in --help) reaches the app as no session at all."""
    import io

    from logview import cli
    from logview.tui import app as app_module

    log = write_log(tmp_path / "app.log", 10)
    given: list[object] = []

    class FakeApp:
        def __init__(self, store, *, query, session):
            given.append(session)

        def run(self):
            return None

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(app_module, "LogviewApp", FakeApp)
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert cli.main(["--no-session", "--no-follow", str(log)]) == cli.EXIT_OK
    assert cli.main(["--no-follow", str(log)]) == cli.EXIT_OK
    assert given[0] is None and isinstance(given[1], Session)
    assert "--no-session" in cli.build_parser().format_help()


async def test_a_damaged_state_file_is_ignored_with_a_notice(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)
    directory = _state_dir()
    directory.mkdir(parents=True)
    (directory / STATE_FILE).write_bytes(b'{"version": 1, "history": ["unfinished')

    async def check(pilot, app, records):
        notes = [str(n.message) for n in app._notifications if n.title == "Session"]
        assert len(notes) == 1 and "damaged" in notes[0]
        assert app.screen.query_one(QueryBar).history == []
        app.screen.query_one(QueryBar).submit("level>=ERROR")
        await pilot.pause()

    await _run(log, Session(), check)
    # The next save replaced it with a good one.
    assert json.loads((directory / STATE_FILE).read_text())["history"] == ["level>=ERROR"]


async def test_forget_session_deletes_the_state_and_keeps_nothing_of_the_run(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def remember(pilot, app, records):
        app.screen.query_one(QueryBar).submit("level>=ERROR")
        await pilot.pause()

    await _run(log, Session(), remember)
    path = _state_dir() / STATE_FILE
    assert path.exists()

    async def forget(pilot, app, records):
        from textual.command import CommandPalette
        from textual.widgets import Input

        await pilot.press("ctrl+p")
        palette = await until(pilot, lambda: isinstance(app.screen, CommandPalette)
                              and app.screen)
        # (the palette searches on each change of its field: typed at once, not a pilot key
        # press and a search for each of its 14 characters)
        palette.query_one(Input).value = "forget session"
        await until(pilot, lambda: palette.query_one("CommandList").option_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: any("Session forgotten" in str(n.message)
                                       for n in app._notifications))
        assert not path.exists()
        app.screen.query_one(QueryBar).submit("logger:app")
        await pilot.press("h")

    await _run(log, Session(), forget)
    assert not path.exists()


async def test_without_a_session_there_is_no_forget_command(tmp_path):
    log = write_log(tmp_path / "app.log", COUNT)

    async def check(pilot, app, records):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Forget session" not in titles

    await _run(log, None, check)


async def test_a_move_before_the_place_is_back_wins(tmp_path, monkeypatch):
    """On a big file the place comes back once indexed: a key pressed before that wins."""
    from logview.tui.session_keeper import SessionKeeper

    log = write_log(tmp_path / "app.log", COUNT)

    async def leave(pilot, app, records):
        await _leave_cursor_on(pilot, records, 123)

    await _run(log, Session(), leave)
    try_restore = SessionKeeper._try_restore
    monkeypatch.setattr(SessionKeeper, "_try_restore", lambda self: None)  # still indexing

    async def move_first(pilot, app, records):
        keeper = app.session_keeper
        assert keeper._pending is not None and keeper._pending.record == 123
        await pilot.press("g", "j", "j")
        try_restore(keeper)  # the index is there now
        assert keeper._pending is None and records.cursor_position == 2

    await _run(log, Session(), move_first)
    assert _loaded().place_of(str(log)).record == 2  # and it is the place kept


async def test_quitting_before_the_place_is_back_keeps_it(tmp_path, monkeypatch):
    from logview.tui.session_keeper import SessionKeeper

    log = write_log(tmp_path / "app.log", COUNT)

    async def leave(pilot, app, records):
        await _leave_cursor_on(pilot, records, 123)

    await _run(log, Session(), leave)
    monkeypatch.setattr(SessionKeeper, "_try_restore", lambda self: None)  # still indexing

    async def quit_at_once(pilot, app, records):
        assert records.following  # (at the end, where the view starts)

    await _run(log, Session(), quit_at_once)
    assert _loaded().place_of(str(log)).record == 123
