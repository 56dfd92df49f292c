"""Sources that narrow themselves to a query (``logview.sources.narrowing``): a new request
restarts the byte space on its own spool, a superseded request can write nothing shown, and a
page back says how far records moved; on the real engines, ClickHouse's window follows the
pushed-down query and journalctl runs again with the pushed-down arguments."""

from __future__ import annotations

import time
from pathlib import Path

from clickhouse_helpers import SECOND, T0, engine, insert, make_table, needs_chdb, row
from journal_helpers import make_journals, needs_journal

from logview.query import parse_query
from logview.sources.clickhouse import ClickHouseOptions, ClickHouseSource
from logview.sources.journal import JournalOptions, JournalSource
from logview.sources.narrowing import RestartableSpoolSource, shift_between
from logview.sources.spool import InputSpool
from logview.store import build_store


def _lines(source) -> list[bytes]:
    return source.read_at(0, source.size()).splitlines()


def test_a_new_run_restarts_the_space_and_the_superseded_one_shows_nothing():
    source = RestartableSpoolSource("test", InputSpool())
    first = source.run
    assert first.append(b"old 1\nold 2\n")
    source.update()
    assert (_lines(source), source.generation) == ([b"old 1", b"old 2"], 0)
    second = source.start_run(InputSpool())
    assert second.append(b"new 1\n")
    # The old request answers late: refused, and never shown.
    assert not first.append(b"stale\n")
    first.finish("it failed, too late")
    source.update()
    assert (_lines(source), source.generation, source.error) == ([b"new 1"], 1, None)
    assert source.read_at(100, 10) == b""  # an offset of the old space reads as nothing
    second.finish()
    source.update()
    assert source.finished
    third = source.start_run(InputSpool(), shift=5)
    source.update()
    assert not source.finished  # a new request is live again
    third.finish()
    source.update()
    assert (source.generation, source.finished) == (2, True)
    assert shift_between(source, 1, 2) == 5
    assert shift_between(source, 0, 2) is None  # the restart to 1 was a new query
    source.close()


def _wait_for(store, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        store.update()
        time.sleep(0.02)


@needs_chdb
def test_clickhouse_narrows_its_window_to_the_pushed_query_and_pages_back():
    make_table("lv_narrow")
    insert("lv_narrow", [row(T0, "old failure", level="ERROR", number=17)]
           + [row(T0 + n * SECOND, f"row {n}") for n in range(1, 40)])
    source = ClickHouseSource("clickhouse://localhost/lv_narrow?rows=10", follow=False,
                              options=ClickHouseOptions(query=None, fatal_errors=False,
                                                        client=lambda _t: engine(),
                                                        environ={}))
    store = build_store([source])
    _wait_for(store, lambda: store.finished)
    assert [store.record(i).message for i in range(len(store))] == [
        f"row {n}" for n in range(30, 40)]
    assert source.narrow(parse_query("level>=ERROR failure")).startswith(
        "ClickHouse asked again for the newest rows of level>=ERROR, failure")
    # Only a local term more: the server is asked the same, nothing restarts.
    assert source.narrow(parse_query("level>=ERROR failure -nothing")) is None
    _wait_for(store, lambda: store.finished and len(store) == 1)
    assert store.record(0).message == "old failure"
    assert "only here" in source.narrow(parse_query("-row"))  # a local term, said so
    _wait_for(store, lambda: store.finished and len(store) == 10)
    assert source.page_back(15) == 15
    _wait_for(store, lambda: store.finished and len(store) == 25)
    assert [store.record(i).message for i in range(25)] == [f"row {n}" for n in range(15, 40)]
    assert source.page_back(100) == 15  # the rest, the failure first
    _wait_for(store, lambda: store.finished and len(store) == 40)
    assert store.record(0).message == "old failure"
    assert source.page_back(100) == 0
    assert shift_between(source, 2, 4) == 30
    store.close()


@needs_journal
def test_journal_runs_journalctl_again_with_the_pushed_arguments(tmp_path: Path):
    directory = make_journals(tmp_path / "remote")
    source = JournalSource(f"journal:{directory}", follow=False,
                           options=JournalOptions(fatal_errors=False))
    store = build_store([source])
    _wait_for(store, lambda: store.finished)
    everything = len(store)
    first = source.process
    said = source.narrow(parse_query("level>=ERROR _HOSTNAME=web1 timeout"))
    assert said == "journalctl run again with --priority=0..3 -- _HOSTNAME=web1"
    assert source.command[-3:] == ["--priority=0..3", "--", "_HOSTNAME=web1"]
    assert first.returncode is not None  # the one before: stopped and reaped
    assert source.process.args == source.command
    _wait_for(store, lambda: store.finished and store.generation > 0)
    got = [store.record(i) for i in range(len(store))]
    assert 0 < len(got) < everything
    assert all(r.levelno >= 40 and r.source == "web1" for r in got)
    assert source.narrow(parse_query("level>=ERROR _HOSTNAME=web1")) is None
    assert source.narrow(None) == "journalctl run again for every entry"
    _wait_for(store, lambda: store.finished and len(store) == everything)
    store.close()
