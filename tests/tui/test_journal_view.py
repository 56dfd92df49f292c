"""The viewer on a journal gathered from three hosts: rows in time order with the host as the
source column, new entries followed as journalctl prints them, journalctl stopped and reaped
when the store closes."""

from __future__ import annotations

import os

from journal_helpers import SECOND, T0, expected, make_journals, needs_journal, write_journal

from logview.sources.journal import JournalOptions, JournalSource
from logview.store import build_store
from logview.tui.app import LogviewApp
from logview.tui.widgets.record_list import RecordList
from tui.conftest import screen_text, until

pytestmark = needs_journal


async def test_viewer_shows_each_host_as_the_source_and_follows(tmp_path):
    directory = make_journals(tmp_path / "remote")
    source = JournalSource(f"journal:{directory}", follow=True,
                           options=JournalOptions(fatal_errors=False))
    pid = source.process.pid
    store = build_store([source])
    app = LogviewApp(store)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            records = app.screen.query_one(RecordList)
            await until(pilot, lambda: records.length == 15 and records.shows_sources,
                        timeout=15)
            await until(pilot, lambda: records.rows_ready)
            rows = [line.split() for line in screen_text(app).splitlines()
                    if line.startswith("2024-01-02 03:04:")]
            assert len(rows) == 15
            assert [(row[3], row[4]) for row in rows[:3]] == [
                ("web1", "app.web1"), ("web2", "app.web2"), ("db1", "postgres")]
            assert [host for host, _ in expected()] == [
                store.record(i).source for i in range(15)]
            late = [[("MESSAGE", f"late {n}"), ("PRIORITY", "3"), ("_HOSTNAME", "web3"),
                     ("LOGGER", "app.late")] for n in range(3)]
            write_journal(directory / "remote-web1.journal", late, t0=T0 + 60 * SECOND)
            await until(pilot, lambda: records.length == 18, timeout=15)
            assert [store.record(i).message for i in range(15, 18)] == [
                "late 0", "late 1", "late 2"]
            assert store.record(17).source == "web3"
    finally:
        store.close()
    assert source.process.returncode is not None
    assert _reaped(pid)


def _reaped(pid: int) -> bool:
    """The child is gone, not a zombie: nothing is left to wait for."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False
