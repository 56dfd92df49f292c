"""The viewer's filter on every core (``filter_workers``): spans of records tested in worker
processes give exactly the positions the viewer's own scan gives, for every kind of term;
a worker that stops answering or dies is given up and the scan is still exact; no worker
outlives its filter."""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import UTC, datetime

import pytest
from process_helpers import alive, parent_of

from logview import filter_workers, fork_server, worker_procs
from logview.filter_workers import FilterWorkers
from logview.follow import LiveFilter
from logview.formats.template import TemplateFormat
from logview.query import parse_query
from logview.query.plan import all_of, query_from_recipe
from logview.sources.file import FileSource
from logview.store import open_store

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="no memfd here")

QUERIES = [
    "timeout", "/request 12\\d+ handled/", "level>=ERROR", "logger:app.db -/cache/",
    "level>=WARNING \"user=7\"", "line>=2000 line<2100", "ValueError", "not timeout level=INFO",
    "\"request 3\" or boom", "since:-15m",
]


@pytest.fixture(autouse=True)
def small_spans(monkeypatch):
    """Every backlog to the workers, in spans of 32 KB; workers even on one core."""
    monkeypatch.setattr(filter_workers, "MIN_BYTES", 0)
    monkeypatch.setattr(filter_workers, "SPAN_BYTES", 32 << 10)
    monkeypatch.setattr(filter_workers, "worker_count", lambda: 2)


def _write_log(path, records: int = 6000) -> None:
    """A dash-template log written by ``logging`` itself: several loggers and levels,
    tracebacks, extra fields in messages, an escape sequence in some messages."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    loggers = [logging.getLogger(name) for name in ("app", "app.db", "app.cache", "web")]
    for log in loggers:
        log.handlers[:] = [handler]
        log.propagate = False
        log.setLevel(logging.DEBUG)
    levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
    try:
        for i in range(records):
            log = loggers[i % len(loggers)]
            if i % 97 == 3:
                try:
                    raise ValueError(f"boom {i}")
                except ValueError:
                    log.exception("request %d failed user=%d", i, i % 11)
            elif i % 211 == 5:
                log.warning("odd bytes \x1b[31mred\x1b[0m timeout user=%d", i % 11)
            else:
                log.log(levels[i * 7 % 5], "request %d handled user=%d%s", i, i % 11,
                        " timeout" if i % 13 == 0 else "")
    finally:
        for log in loggers:
            log.handlers[:] = []
        handler.close()


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "app.log"
    _write_log(path)
    store = open_store(FileSource(str(path), follow=False))
    store.update(final=True)
    assert store.index.complete and store.format.name == "python-dash"
    return store


def _positions(store, query, *, workers: bool):
    live = LiveFilter(store, query, workers=workers)
    for _ in live.advance(len(store)):
        pass
    assert live.scanned == len(store)
    return live.positions.view().tolist()


@pytest.mark.parametrize("text", QUERIES)
def test_workers_find_what_the_scan_finds(store, text):
    query = parse_query(text)
    expected = _positions(store, query, workers=False)
    assert expected or text in ("since:-15m",)  # every other query matches some records
    workers = FilterWorkers(store, query)
    try:
        assert workers.start(), workers.failed
        got = []
        for found, _upto in workers.scan(0, len(store)):
            got.extend(found.tolist())
        assert workers.served > 0 and workers.failed is None
    finally:
        workers.close()
    assert got == expected
    assert _positions(store, query, workers=True) == expected


def test_a_composed_query_is_made_again_from_its_recipe():
    """The viewer's filter is the query bar's text and the level keys and the tree's
    exclusions together; a relative time keeps its anchor."""
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = all_of(parse_query("since:-15m timeout", now=now), parse_query("level>=WARNING"),
                   parse_query("not logger:app.db"))
    again = query_from_recipe(query.recipe)
    assert again.text == query.text
    fmt = TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s")

    def record(minutes_ago: int, name: str, level: str, message: str):
        when = datetime.fromtimestamp(now.timestamp() - 60 * minutes_ago)
        return fmt.parse(f"{when:%Y-%m-%d %H:%M:%S},000 - {name} - {level} - {message}")

    cases = [(record(10, "web", "WARNING", "a timeout"), True),
             (record(20, "web", "WARNING", "a timeout"), False),  # before since:-15m
             (record(10, "web", "INFO", "a timeout"), False),
             (record(10, "app.db", "ERROR", "a timeout"), False),
             (record(10, "web", "ERROR", "no time out"), False)]
    for rec, expected in cases:
        assert query.matches(rec) is expected
        assert again.matches(rec) is expected


def test_a_stopped_worker_is_killed_and_its_span_tested_here(store, monkeypatch):
    monkeypatch.setattr(worker_procs, "REPLY_SECONDS", 0.3)
    monkeypatch.setattr(worker_procs, "REPLY_BYTES_PER_SECOND", 1 << 40)
    query = parse_query("timeout")
    expected = _positions(store, query, workers=False)
    workers = FilterWorkers(store, query)
    try:
        assert workers.start()
        stopped = workers._workers[0].pid
        os.kill(stopped, signal.SIGSTOP)
        got = [p for found, _ in workers.scan(0, len(store)) for p in found.tolist()]
        assert workers.failed == "a filter worker did not answer in time"
    finally:
        workers.close()
    assert got == expected
    _gone(stopped)


def test_a_dead_worker_costs_no_record(store):
    """A worker killed (the OOM killer, a user's kill) is given up at its first span; the
    other spans are tested here and by the other worker."""
    query = parse_query('/request \\d+ handled/ "user=3"')
    expected = _positions(store, query, workers=False)
    assert expected
    workers = FilterWorkers(store, query)
    try:
        assert workers.start()
        dead = workers._workers[1].pid
        os.kill(dead, signal.SIGKILL)
        _gone(dead)
        got = [p for found, _ in workers.scan(0, len(store)) for p in found.tolist()]
        assert workers.failed is not None and "stopped" in workers.failed
    finally:
        workers.close()
    assert got == expected


def test_workers_are_the_fork_servers_and_end_with_the_filter(store):
    workers = FilterWorkers(store, parse_query("timeout"))
    assert workers.start()
    pids = [w.pid for w in workers._workers]
    try:
        for pid in pids:
            assert parent_of(pid) == fork_server.server().pid != os.getpid()
        list(workers.scan(0, len(store)))
    finally:
        workers.close()
    for pid in pids:
        _gone(pid)


def test_a_query_without_a_recipe_is_scanned_here(store):
    """A query made by hand (the find's highlight terms) cannot be made again elsewhere."""
    query = parse_query("timeout").search_terms()
    assert query is not None and query.recipe is None
    workers = FilterWorkers(store, query)
    assert not workers.start()
    got = [p for found, _ in workers.scan(0, len(store)) for p in found.tolist()]
    assert got == _positions(store, parse_query("timeout"), workers=False)


def _gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"worker {pid} still alive"
        time.sleep(0.01)


@pytest.mark.parametrize("text", ["status>=202", "not (status=1 or user.id>=3)", "status=500",
                                  "user>=3", "http.status=200", "status>=202 level>=INFO"])
def test_a_query_of_fields_alone_is_decided_as_parsing_decides(tmp_path, text):
    """The viewer's scan tests a plain object's fields without making its record for a
    query of extra fields alone (``Matcher.fields_test``), in its thread and in the
    workers: on hostile objects (strings holding ``"status": 500``, nested and dotted keys,
    ``5e2``, ``1e400``, escapes) it keeps exactly the records parsing keeps."""
    from test_record_chunks import _files

    from logview.formats.jsonl import JsonFormat
    from logview.scan import Matcher, scan
    from logview.sources.base import StaticFileSource
    from logview.store import LogStore

    path = _files(tmp_path)["hostile"]
    store = LogStore(StaticFileSource(str(path)), JsonFormat())
    store.update(final=True)
    query = parse_query(text)
    expected = [i for i in range(len(store)) if query.matches(store.parse(i))]
    assert expected
    assert (Matcher(store.format, query).fields_test is not None) == query.fields_only
    assert [p for batch in scan(store, query) for p in batch.tolist()] == expected
    assert _positions(store, query, workers=True) == expected


def test_a_big_input_starts_the_fork_server_before_the_first_filter(store, monkeypatch):
    """The viewer asks for it as its index takes in a big input (``prepare``); a small one
    starts nothing."""
    monkeypatch.setattr(filter_workers, "MIN_BYTES", store.progress()[1] + 1)
    assert not filter_workers.prepare(store)
    monkeypatch.setattr(filter_workers, "MIN_BYTES", 0)
    fork_server.server().close()
    assert fork_server.server().pid is None
    assert filter_workers.prepare(store)
    deadline = time.monotonic() + 30
    while fork_server.server().pid is None:
        assert time.monotonic() < deadline, "the fork server did not start"
        time.sleep(0.01)
    assert parent_of(fork_server.server().pid) == os.getpid()


def test_a_file_truncated_under_the_workers_ends_the_pass(tmp_path):
    """copytruncate while the workers scan: the pass stops at the restart (no position of
    the old file is mixed with the new one) and the filter starts over."""
    path = tmp_path / "app.log"
    _write_log(path)
    store = open_store(FileSource(str(path), follow=True))
    store.update(final=True)
    total = len(store)
    live = LiveFilter(store, parse_query("timeout"), workers=True)
    passes = live.advance(total)
    next(passes)  # the first span's matches
    path.write_bytes(b"")  # truncated in place
    store.update(final=True)
    assert store.generation != live.generation
    for _ in passes:
        pass
    assert live.scanned < total  # not marked as scanned to the old end
    assert live.check_restart() and live.scanned == 0 and not len(live.positions.view())
    store.close()


@pytest.mark.parametrize("text", ["level>=ERROR", "until:2099-01-01", "Fatal since:2000-01-01"])
def test_a_log_with_the_interpreters_lines_is_filtered_alike(tmp_path, text):
    """A log with the interpreter's own lines (a union format) goes to the workers too; a
    query that reads times is tested in the viewer's thread, where a record without a time
    takes the one before (a worker sees its span alone)."""
    path = tmp_path / "app.log"
    _write_log(path)
    with open(path, "ab") as out:
        out.write(b"Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent "
                  b"call first):\n  File \"x.py\", line 3 in f\n")
    with open(path, "rb") as src:
        data = src.read()
    path.write_bytes(b"/srv/app.py:3: DeprecationWarning: x\n  warnings.warn(x)\n" + data)
    store = open_store(FileSource(str(path), follow=False))
    store.update(final=True)
    assert "python-stderr" in store.format.name
    query = parse_query(text)
    want = [i for i in range(len(store)) if query.matches(store.parse(i))]
    assert want and want[-1] == len(store) - 1  # (the crash)
    workers = FilterWorkers(store, query)
    try:
        assert workers.start() is not query.reads_time, workers.failed
    finally:
        workers.close()
    assert _positions(store, query, workers=True) == want
    assert _positions(store, query, workers=False) == want
