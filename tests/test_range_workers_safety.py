"""The index's range workers are safe to run under the threaded viewer (``range_columns``):
they are forked by a fork server, not by the viewer; a worker that stops answering is killed
and its ranges scanned by the index (the counts stay exact); and when the viewer is killed
outright, no worker and no server outlives it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from process_helpers import alive, parent_of
from test_json_columns import _pjl
from test_range_columns import CHUNK, DASH, _assert_counts_as_parsed, write_dash

import logview.index as index_module
from logview import fork_server, range_columns, worker_procs
from logview.columns import RecordCounter
from logview.formats.jsonl import JsonFormat
from logview.formats.template import TemplateFormat
from logview.index import RecordIndex
from logview.sources.file import FileSource
from logview.store import open_store

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(range_columns.workers() == 0, reason="no fork server here")


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch):
    monkeypatch.setattr(range_columns, "ENABLED", True)
    monkeypatch.setattr(range_columns, "RANGE_MIN_BYTES", 0)
    monkeypatch.setattr(range_columns, "START_WAIT", 30.0)
    monkeypatch.setattr(range_columns, "BUSY_WAIT", 30.0)
    monkeypatch.setitem(RecordIndex.__init__.__kwdefaults__, "chunk_bytes", CHUNK)
    monkeypatch.setattr(index_module, "_RANGES_SLICE", 0.0)  # a slice scans a range or two


def _start_workers(store) -> range_columns.RangeColumns:
    store.update(budget=0.0)  # the first slice, here
    store.update(budget=0.0)  # the workers start, a range or two scanned
    ranges = store.index.ranges
    assert ranges is not None and ranges.running
    return ranges


@pytest.mark.parametrize("kind", ["dash", "json"])
def test_the_workers_are_not_forked_by_the_viewer(tmp_path, kind):
    """They are the fork server's children, and they get the format as the viewer has it
    (its column walker built: the counter read the first slice with it)."""
    path = tmp_path / "app.log"
    if kind == "dash":
        write_dash(path, 3000, random.Random(11))
        fmt = TemplateFormat(DASH)
    else:
        path.write_bytes(b"".join(_pjl(random.Random(seed), 300) for seed in range(6)))
        fmt = JsonFormat()
    store = open_store(FileSource(str(path), follow=True), fmt)
    try:
        RecordCounter(store)
        assert fmt.column_walker() is not None  # built, as when the counter has read records
        ranges = _start_workers(store)
        assert ranges.failed is None
        pids = [worker.pid for worker in ranges._workers]
        assert len(pids) == range_columns.workers()
        for pid in pids:
            assert parent_of(pid) == fork_server.server().pid != os.getpid()
        while not store.index.complete:
            store.update(final=True, budget=0.05)
        assert ranges.served > 0 and not ranges.running
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not any(alive(pid) for pid in pids)  # let go when the index caught up
    finally:
        store.close()


@pytest.mark.timeout(60)
def test_a_stalled_worker_is_killed_and_its_ranges_scanned_by_the_index(tmp_path, monkeypatch):
    """A worker stopped (SIGSTOP) never answers: past the deadline the index scans its range
    itself, the worker is killed, and every count equals parsing every record."""
    monkeypatch.setattr(worker_procs, "REPLY_SECONDS", 0.5)
    path = tmp_path / "app.log"
    write_dash(path, 6000, random.Random(12))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        counter = RecordCounter(store)
        ranges = _start_workers(store)
        stalled = ranges._workers[0].pid
        os.kill(stalled, signal.SIGSTOP)
        began = time.monotonic()
        while not store.index.complete and time.monotonic() - began < 30:
            store.update(final=True, budget=0.05)
        assert store.index.complete
        assert time.monotonic() - began < 20
        assert ranges.failed is not None and "did not answer" in ranges.failed
        assert not ranges.running
        deadline = time.monotonic() + 10
        while alive(stalled) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not alive(stalled)  # killed (a stopped process does not exit by itself)
        _assert_counts_as_parsed(counter, store, "stalled")
    finally:
        store.close()


_VIEWER = textwrap.dedent("""
    import random, sys, time
    open({ran!r}, "a").write("ran\\n")  # a script without a main guard: never run again
    sys.path.insert(0, {tests!r})
    from test_range_columns import CHUNK, DASH, write_dash
    from logview import range_columns
    from logview.columns import RecordCounter
    from logview.formats.template import TemplateFormat
    from logview.sources.file import FileSource
    from logview.store import open_store
    range_columns.ENABLED, range_columns.RANGE_MIN_BYTES = True, 0
    range_columns.START_WAIT = range_columns.BUSY_WAIT = 30.0
    import logview.index as index_module
    index_module._RANGES_SLICE = 0.0
    index_module.RecordIndex.__init__.__kwdefaults__["chunk_bytes"] = CHUNK
    import pathlib
    path = pathlib.Path({path!r})
    write_dash(path, 20000, random.Random(13))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    counter = RecordCounter(store)
    store.update(budget=0.0)
    store.update(budget=0.0)
    ranges = store.index.ranges
    assert ranges.running
    from logview import fork_server
    pids = [w.pid for w in ranges._workers] + [fork_server.server().pid]
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(600)
""")


@pytest.mark.timeout(60)
def test_killing_the_viewer_leaves_no_worker_and_no_server(tmp_path):
    """SIGKILL of the viewer (a script without a main guard): its workers and their server
    end within seconds."""
    ran = tmp_path / "ran"
    code = _VIEWER.format(tests=str(ROOT / "tests"), path=str(tmp_path / "app.log"),
                          ran=str(ran))
    viewer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = viewer.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == range_columns.workers() + 1, line
        assert all(alive(pid) for pid in pids)
        assert ran.read_text() == "ran\n"  # not in the workers (a fork server's main fixup)
        viewer.kill()
        viewer.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [pid for pid in pids if alive(pid)] == []
    finally:
        viewer.kill()
        viewer.wait()
