"""The viewer on stores that filter and count by themselves, on the real engines: a ClickHouse
table (chDB) bigger than the window the viewer loads, and journals read by the real
journalctl. The level bar shows the server's counts of the whole table; a query asks the
store again (a rare row older than the window is found; a superseded slow request never
shows its rows); journalctl runs again with the pushed-down arguments."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from clickhouse_helpers import SECOND, T0, engine, insert, make_table, needs_chdb, row
from journal_helpers import make_journals, needs_journal

from logview.sources.clickhouse import ClickHouseOptions, ClickHouseSource
from logview.sources.journal import JournalOptions, JournalSource
from logview.store import build_store
from logview.tui.app import LogviewApp
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar
from tui.conftest import until

ROWS = 200
WINDOW = 50


def _table(database: str) -> None:
    """ROWS rows a second apart: a rare ERROR first (older than the newest WINDOW), then
    INFO rows of two loggers and a WARNING every tenth."""
    make_table(database)
    rows = [row(T0, "rare disk failure", level="ERROR", number=17, scope="app.disk")]
    for n in range(1, ROWS):
        warning = n % 10 == 0
        rows.append(row(T0 + n * SECOND, f"row {n} fastword" if n > ROWS - 5 else f"row {n}",
                        level="WARN" if warning else "INFO", number=13 if warning else 9,
                        scope="app.db" if n % 2 else "app.web"))
    insert(database, rows)


def _open(database: str, client=None, *, follow: bool = False) -> ClickHouseSource:
    return ClickHouseSource(
        f"clickhouse://localhost/{database}?rows={WINDOW}", follow=follow,
        options=ClickHouseOptions(query=None, fatal_errors=False,
                                  client=client or (lambda _target: engine()), environ={}))


def _messages(store) -> list[str]:
    return [store.record(i).message for i in range(len(store))]


def _status(app) -> str:
    return str(app.screen.query_one(StatusBar).render_state(app.screen.query_one(StatusBar)
                                                            .state))


@needs_chdb
async def test_the_level_bar_counts_the_whole_table_and_a_query_finds_an_older_row():
    _table("lv_tui_counts")
    source = _open("lv_tui_counts")
    store = build_store([source])
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            records = app.screen.query_one(RecordList)
            bar = app.screen.query_one(LevelBar)
            await until(pilot, lambda: records.length == WINDOW, timeout=15)
            # 200 rows on the server, 50 loaded: the bar counts the server's.
            await until(pilot, lambda: bar.counts == [0, 180, 19, 1, 0], timeout=15)
            await until(pilot, lambda: "counts: server, 200 rows" in _status(app))
            tree = app.screen.query_one(LoggerTree)
            await until(pilot, lambda: (tree.counts.get("app"), tree.counts.get("app.disk"))
                        == (200, 1))
            assert "rare disk failure" not in _messages(store)

            app.screen.query_one(QueryBar).submit("level>=ERROR")
            await until(pilot, lambda: _messages(store) == ["rare disk failure"], timeout=15)
            await until(pilot, lambda: records.length == 1 and records.positions is not None
                        and len(records.positions) == 1, timeout=15)
            await until(pilot, lambda: bar.counts == [0, 0, 0, 1, 0], timeout=15)
            await until(pilot, lambda: "counts: server, 1 row" in _status(app))

            # A word beyond ASCII is filtered here only: the rows loaded are counted.
            app.screen.query_one(QueryBar).submit("-row")
            await until(pilot, lambda: "counts: rows loaded (part of the query is only "
                        "filtered here)" in _status(app), timeout=15)
            await until(pilot, lambda: len(store) == WINDOW
                        and bar.counts == [0, 45, 5, 0, 0], timeout=15)
    finally:
        store.close()


class _GatedClient:
    """The real chDB client; a query with ``word`` among its bound values waits for
    ``gate`` (a slow query, as a busy server gives)."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.gate = threading.Event()
        self.slow_done = threading.Event()

    def query(self, query: str, parameters: dict | None = None):
        slow = any(self.word in str(value) for value in (parameters or {}).values())
        if slow:
            self.gate.wait(30)
        try:
            return engine().query(query, parameters=parameters)
        finally:
            if slow:
                self.slow_done.set()


@needs_chdb
async def test_a_superseded_slow_query_does_not_overwrite_the_newer_rows():
    _table("lv_tui_slow")
    client = _GatedClient("rare")
    source = _open("lv_tui_slow", lambda _target: client)
    store = build_store([source])
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.length == WINDOW, timeout=15)
            query_bar = app.screen.query_one(QueryBar)
            query_bar.submit("rare")  # held by the server
            await pilot.pause(0.3)
            query_bar.submit("fastword")
            fast = [f"row {n} fastword" for n in range(ROWS - 4, ROWS)]
            await until(pilot, lambda: _messages(store) == fast, timeout=15)
            client.gate.set()  # the slow one answers now, too late
            assert client.slow_done.wait(15)
            await pilot.pause(1.0)
            source.update()
            assert _messages(store) == fast
            assert records.positions is not None and len(records.positions) == 4
    finally:
        client.gate.set()
        store.close()


@needs_journal
async def test_a_query_runs_journalctl_again_with_the_pushed_arguments(tmp_path: Path):
    directory = make_journals(tmp_path / "remote")
    errors = _journalctl_lines(directory, "--priority=0..3")
    assert 0 < len(errors) < 15
    source = JournalSource(f"journal:{directory}", follow=True,
                           options=JournalOptions(fatal_errors=False))
    first = source.process.pid
    store = build_store([source])
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.length == 15, timeout=15)
            app.screen.query_one(QueryBar).submit("level>=ERROR")
            await until(pilot, lambda: source.process.pid != first, timeout=15)
            argv = Path(f"/proc/{source.process.pid}/cmdline").read_bytes().split(b"\0")
            assert b"--priority=0..3" in argv and b"--follow" in argv
            await until(pilot, lambda: len(store) == len(errors), timeout=15)
            assert all(store.record(i).levelno >= 40 for i in range(len(store)))
            await until(pilot, lambda: records.positions is not None
                        and len(records.positions) == len(errors), timeout=15)
            # Back to everything: journalctl runs again without the filter.
            pushed = source.process.pid
            app.screen.query_one(QueryBar).submit("")
            await until(pilot, lambda: source.process.pid != pushed, timeout=15)
            await until(pilot, lambda: len(store) == 15, timeout=15)
    finally:
        store.close()
    assert _reaped(first)


def _journalctl_lines(directory: Path, *arguments: str) -> list[str]:
    """What journalctl itself prints with ``arguments``: the entries to expect."""
    return subprocess.run(["journalctl", f"--directory={directory}", "-o", "json",
                           "--no-pager", *arguments], capture_output=True,
                          check=True).stdout.decode().splitlines()


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _expected(first: int) -> list[str]:
    """The messages of rows ``first``.. of ``_table``, in time order."""
    return [("rare disk failure" if n == 0 else
             f"row {n} fastword" if n > ROWS - 5 else f"row {n}") for n in range(first, ROWS)]


@needs_chdb
async def test_paging_back_shows_older_rows_once_in_order_and_keeps_the_cursor(monkeypatch):
    from logview.tui.screens import store_queries

    monkeypatch.setattr(store_queries, "PAGE_BACK_ROWS", 60)
    _table("lv_tui_page")
    source = _open("lv_tui_page", follow=True)
    store = build_store([source])
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(140, 30)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.length == WINDOW, timeout=15)
            for first in (ROWS - WINDOW - 60, ROWS - WINDOW - 120, 0):
                top = store.record(0).message
                await pilot.press("g")  # the first row: older ones come above it
                await until(pilot, lambda first=first: len(store) == ROWS - first
                            and records.length == ROWS - first, timeout=15)
                assert _messages(store) == _expected(first)
                await until(pilot, lambda top=top: records.cursor_position is not None
                            and store.record(records.cursor_position).message == top)
                assert not records.following
            await pilot.press("g")  # nothing older: said, nothing changes
            await until(pilot, lambda: app.screen._no_older is not None, timeout=15)
            assert _messages(store) == _expected(0)
            # Following goes on into the space that took the older rows: a new row, once.
            insert("lv_tui_page", [row(T0 + ROWS * SECOND, "a new row")])
            await until(pilot, lambda: len(store) == ROWS + 1, timeout=15)
            assert _messages(store) == [*_expected(0), "a new row"]
    finally:
        store.close()


@needs_chdb
async def test_nothing_is_pushed_or_counted_by_the_server_while_the_query_reads_redacted_text():
    from logview.redact import Redactor, choose_rules

    _table("lv_tui_redact")
    source = _open("lv_tui_redact")
    store = build_store([source], redactor=Redactor(choose_rules(["all"])))
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.length == WINDOW, timeout=15)
            app.screen.query_one(QueryBar).submit("level>=ERROR")
            # (the filter done: a worker asking the store again would have begun before it)
            await until(pilot, lambda: records.positions is not None
                        and app.screen._filter_progress is None, timeout=15)
            await until(pilot, lambda: "counts: rows loaded" in _status(app)
                        or "counts" not in _status(app))
            # The window stays the newest rows (the store sees the original text), filtered
            # here; the bar counts the rows loaded.
            assert source.generation == 0 and source._next is None
            assert "rare disk failure" not in _messages(store)
            assert "counts: server" not in _status(app)
            bar = app.screen.query_one(LevelBar)  # (counted by a worker: maybe still counting)
            await until(pilot, lambda: bar.counts == [0, 45, 5, 0, 0], timeout=15)
            assert bar.counts == [0, 45, 5, 0, 0]
    finally:
        store.close()
