"""TUI test helpers: a small real log format, log files with fixed content, polling the app."""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from logview.formats.base import LogFormat
from logview.record import Record, level_from_name, split_exception
from logview.sources.base import MemorySource, StaticFileSource
from logview.store import LogStore
from logview.tui.widgets.record_list import RecordList


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (no async plugin is installed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


@pytest.fixture(autouse=True)
def _pressed_keys_are_handled(monkeypatch):
    """``pilot.press`` returns once the app has handled the keys: the app routes keys one by
    one (``tui/key_order.py``), and on a loaded machine the last one could still be waiting
    its turn when ``press`` returned, so a test asserting the key's effect at once failed."""
    from textual.pilot import Pilot

    press = Pilot.press

    async def press_and_wait(self, *keys: str) -> None:
        await press(self, *keys)
        sequencer = getattr(self.app, "key_sequencer", None)
        if sequencer is None or not sequencer.is_open:
            return  # (keys typed before the screen is ready stay held: tests look at that)
        deadline = time.monotonic() + 5.0
        while sequencer.pending and time.monotonic() < deadline:
            await self.pause(0.01)
        await self.pause()  # (and the messages the last key posted: an Input's Changed)

    monkeypatch.setattr(Pilot, "press", press_and_wait)


@pytest.fixture(autouse=True)
def _notifications_stay_up(monkeypatch):
    """A notification stays up for a minute in tests: a toast's seconds (``No next mark``
    asks for 2) could pass on a loaded machine between the key that raised it and the test's
    look at ``app._notifications``, which forgets an expired one (a CI run missed it so)."""
    from textual.app import App

    notify = App.notify

    def lasting(self, message, *, timeout=None, **options):
        return notify(self, message, timeout=60.0, **options)

    monkeypatch.setattr(App, "notify", lasting)


LINE_RE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+) (?P<logger>\S+): (?P<msg>.*)",
    re.DOTALL,
)


class DashFormat(LogFormat):
    """``2024-05-01 12:00:00,123 INFO app.db: message`` (logging's default-like layout)."""

    name = "dash"
    start_pattern = re.compile(rb"\d{4}-\d\d-\d\d ")

    def is_start(self, line: str) -> bool:
        return LINE_RE.match(line) is not None

    def parse(self, text: str) -> Record:
        match = LINE_RE.match(text)
        if match is None:
            return Record(message=text)
        message, exc = split_exception(match["msg"])
        level, levelno = level_from_name(match["level"])
        moment = datetime.strptime(match["time"], "%Y-%m-%d %H:%M:%S,%f")
        return Record(message=message, time=moment, time_text=match["time"], level=level,
                      levelno=levelno, logger=match["logger"], exc=exc)


START = datetime(2024, 5, 1, 12, 0, 0)
LEVELS = ("INFO", "DEBUG", "INFO", "WARNING", "INFO", "ERROR", "INFO", "CRITICAL")
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 3, in <module>\n'
    "    main()\n"
    "ValueError: bad value\n"
)


def log_line(i: int, level: str | None = None, message: str | None = None) -> str:
    """Record ``i`` of the sample log, deterministic; errors carry a traceback."""
    level = level or LEVELS[i % len(LEVELS)]
    moment = START + timedelta(milliseconds=1500 * i)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}"
    logger = ("app", "app.db", "app.http.server", "worker")[i % 4]
    text = message or f"event {i} user=u{i % 7} took {i % 13} ms"
    line = f"{stamp} {level} {logger}: {text}\n"
    if level == "ERROR":
        line += TRACEBACK
    return line


def write_log(path: Path, count: int, start: int = 0) -> Path:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(log_line(i) for i in range(start, start + count)))
    return path


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[..., LogStore]:
    """A store over a real file holding ``count`` sample records (name fixed for snapshots)."""

    def make(count: int = 50, name: str = "sample.log", text: str | None = None) -> LogStore:
        path = tmp_path / "sample.log"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        else:
            write_log(path, count)
        return LogStore(StaticFileSource(str(path), name=name), DashFormat())

    return make


@pytest.fixture
def memory_store() -> Callable[..., tuple[MemorySource, LogStore]]:
    """A live store fed by a ``MemorySource`` the test appends to."""

    def make(count: int = 0) -> tuple[MemorySource, LogStore]:
        source = MemorySource("memory", "".join(log_line(i) for i in range(count)).encode())
        return source, LogStore(source, DashFormat())

    return make


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> object:
    """Let the app run until ``condition()`` is truthy; fail after ``timeout`` seconds (10:
    a CI machine running other tests beside kept a memory store's records from the list for
    over 5 s once)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.01)


async def type_text(pilot, app, text: str) -> None:
    """Type ``text`` into the focused field as its key handler does for each printable key
    (``Input.insert_text_at_cursor``), at once: each key the pilot presses waits for the app
    to idle, tenths of a second a character."""
    from textual.widgets import Input

    field = app.focused
    assert isinstance(field, Input), field
    field.insert_text_at_cursor(text)
    await pilot.pause()


def record_list(app) -> RecordList:
    """The main screen's record list."""
    return app.screen.query_one(RecordList)


async def loaded(pilot, app, count: int) -> RecordList:
    """The record list once it has ``count`` rows, scrolled to its end, the rows on screen
    fetched (a worker fetches them)."""
    records = record_list(app)
    await until(pilot, lambda: records.row_count == count
                and records.scroll_y == records.max_scroll_y)
    await until(pilot, lambda: records.rows_ready)
    return records


def screen_text(app) -> str:
    """What the terminal shows now, as plain text lines (for asserting on the layout)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def tmux(*args: str) -> str:
    """Run a tmux command; its standard output (the tests that need a real terminal)."""
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def tmux_window(session: str, command: str, width: int = 120) -> int | None:
    """A detached tmux session of ``width`` x 30 running ``command``: its shell's pid (None:
    tmux was still ending the server a killed last session had, and made nothing; try again
    through ``wait_for``)."""
    tmux("kill-session", "-t", session)  # (one half made by a try before)
    out = tmux("new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", session, "-x",
               str(width), "-y", "30", command).strip()
    return int(out) if out.isdigit() else None
