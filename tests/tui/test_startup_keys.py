"""Keys typed while the app starts, or in one burst, act in order on the state earlier keys made.

A terminal hands over everything typed while the app was busy in one read, so the keys arrive
together: ``/`` must have focused the query bar before ``error`` is routed, or those letters act
as list commands (and a ``q`` among them quits). These tests send such bursts straight into
the app's queue the moment ``run_test`` starts, before its screen and workers have settled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual import events

from logview.tui.app import LogviewApp
from logview.tui.query_edit import with_min_level
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import tmux, tmux_window, until

ROOT = Path(__file__).resolve().parents[2]

#: Textual key names of the characters the tests type.
_KEY_NAMES = {
    "/": "slash",
    "&": "ampersand",
    ">": "greater_than_sign",
    "=": "equals_sign",
    " ": "space",
    "?": "question_mark",
    "\r": "enter",
    "\x1b": "escape",
}


def burst(app: LogviewApp, text: str) -> None:
    """Post one key event per character at once, as the driver does for one terminal read."""
    for char in text:
        name = _KEY_NAMES.get(char, char)
        app.post_message(events.Key(name, None if name in ("enter", "escape") else char))


def _bar(app: LogviewApp) -> QueryBar:
    return app.screen.query_one(QueryBar)


class EarlyKeysApp(LogviewApp):
    """Gets ``early`` typed as the app mounts, before its main screen even exists."""

    def __init__(self, store, early: str) -> None:
        super().__init__(store)
        self.early = early
        self.open_when_typed: bool | None = None

    def on_mount(self) -> None:  # runs before LogviewApp.on_mount (Textual walks the MRO)
        self.open_when_typed = self.key_sequencer.is_open
        burst(self, self.early)


async def test_keys_typed_before_the_main_screen_exists_are_held_then_applied(make_store):
    app = EarlyKeysApp(make_store(50), "&level>=ERROR\r")
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.positions is not None and records.row_count == 12)
        assert app.open_when_typed is False
        assert _bar(app).applied == "level>=ERROR"
        assert app.focused is records
        assert app.is_running


async def test_q_typed_before_the_main_screen_exists_is_text_after_slash(make_store):
    app = EarlyKeysApp(make_store(50), "/qq")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.query(QueryBar) and _bar(app).input.value == "qq")
        assert app.is_running


async def test_query_typed_before_the_screen_settles_is_applied(make_store):
    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "&level>=ERROR\r")
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.positions is not None and records.row_count == 12)
        assert _bar(app).applied == "level>=ERROR"
        assert app.focused is records  # Enter applied the query and went back to the list
        assert app.is_running


async def test_letters_after_slash_are_typed_not_run_as_commands(make_store):
    """``q`` and ``t`` are commands on the list; after ``/`` they are text in the query."""
    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "/qtq")
        bar = await until(pilot, lambda: app.is_mounted and _bar(app))
        await until(pilot, lambda: bar.input.value == "qtq")
        assert app.is_running
        assert app.focused is bar.input
        assert not app.screen.query_one("#loggers").display  # t did not open the tree


async def test_keys_after_a_screen_change_go_to_the_new_screen(make_store):
    """``?`` opens help and the ``escape`` right behind it closes help, not the main screen."""
    store = make_store(20)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "?\x1b/abc")
        bar = await until(pilot, lambda: app.is_mounted and _bar(app))
        await until(pilot, lambda: bar.input.value == "abc")
        assert [type(screen).__name__ for screen in app.screen_stack][-1] == "MainScreen"


async def test_a_burst_on_the_settled_app_keeps_its_order(make_store):
    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 50)
        await pilot.pause(0.1)
        burst(app, "&worker\r4")  # typed query, then the ERROR level key on the list
        await until(pilot, lambda: _bar(app).applied == with_min_level("worker", "ERROR"))
        assert app.focused is records


# -- under a real terminal ---------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("piped", [False, True], ids=["demo", "stdin-pipe"])
def test_keys_typed_at_process_start_reach_the_query_bar(tmp_path, piped, waiter):
    """Keys sent with the command itself (before Python even runs) end up in the query bar."""
    logview = f"{sys.executable} -m logview"
    if piped:
        log = tmp_path / "app.log"
        log.write_text(
            "".join(f"2024-05-01 12:00:{i % 60:02d},000 INFO app: line {i}\n" for i in range(2000))
        )
        command = f"cat {log} | {logview}"
    else:
        command = f"{logview} --demo"
    session = f"logview-keys-{os.getpid()}-{int(piped)}"
    # (a tmux server started before has its own environment: the session dir given)
    window = f"cd {ROOT} && export XDG_STATE_HOME={os.environ['XDG_STATE_HOME']} && {command}; "
    waiter(lambda: tmux_window(session, window + "sleep 30"), timeout=10, interval=0.1)
    try:
        tmux("send-keys", "-t", session, "-l", "/qqtt")
        screen = waiter(
            lambda: (
                (text := tmux("capture-pane", "-p", "-t", session))
                and re.search(r"^ find / qqtt", text, re.MULTILINE)
                and text
            ),
            timeout=15,
        )
        assert "records" in screen  # the viewer is up (status line), not a shell
    finally:
        tmux("kill-session", "-t", session)


def test_start_up_does_not_import_the_detail_view_highlighter():
    """pygments is only needed once a record is opened; the first screen should not wait on it."""
    code = "import sys, logview.cli, logview.tui.app; print('pygments' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


async def test_a_key_slower_than_the_timeout_is_waited_for(make_store, monkeypatch):
    """Under load a key can take longer than ``KEY_TIMEOUT`` to bubble up to its binding. It
    is not lost while the widget it went to is there: the next key waits for it, or ``/qtq``
    would send ``q`` to the list before ``/`` moved the focus (it typed ``tq``)."""
    from logview.tui import key_order

    monkeypatch.setattr(key_order, "KEY_TIMEOUT", 0.0)  # every key is "late"
    await test_letters_after_slash_are_typed_not_run_as_commands(make_store)


async def test_a_key_whose_widget_went_away_does_not_hold_the_keyboard(make_store):
    """A key sent to a widget that is removed before it handles the key never reports back;
    the keys behind it go through after ``KEY_TIMEOUT``, not ``KEY_GIVE_UP``."""
    from logview.tui import key_order

    store = make_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.key_sequencer.is_open and app.key_sequencer.pending == 0)
        records = app.screen.query_one(RecordList)
        assert app.focused is records
        burst(app, "x/ab")
        await records.remove()
        start = time.monotonic()
        bar = _bar(app)
        await until(pilot, lambda: bar.input.value == "ab", timeout=key_order.KEY_GIVE_UP)
        assert time.monotonic() - start < key_order.KEY_GIVE_UP
