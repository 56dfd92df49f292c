"""Counting rides on the index (``range_columns``): a store that counts its records has its
big backlog scanned by forked workers that read each record's columns too, so when the index
is complete the counts are ready, and they equal parsing every record."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import numpy as np
import pytest
from test_columns import LOGGERS, TEMPLATES, assert_same, reference, summary, write_with_logging

import logview.columns as columns_module
import logview.index as index_module
from logview import range_columns
from logview.columns import RecordCounter
from logview.formats.jsonl import JsonFormat
from logview.formats.template import TemplateFormat
from logview.index import RecordIndex
from logview.sources.file import FileSource
from logview.stats import RecordStats
from logview.store import open_store
from logview.time_bins import TimeBins

DASH = TEMPLATES[0][0]
CHUNK = 1 << 14  # many ranges in a small file


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch):
    """The workers on (``LOGVIEW_RANGE_WORKERS=1``), every backlog to them, in ranges of
    ``CHUNK`` bytes."""
    monkeypatch.setattr(range_columns, "ENABLED", True)
    monkeypatch.setattr(range_columns, "RANGE_MIN_BYTES", 0)
    monkeypatch.setattr(range_columns, "START_WAIT", 30.0)  # the workers take every range
    monkeypatch.setattr(range_columns, "BUSY_WAIT", 30.0)
    monkeypatch.setitem(RecordIndex.__init__.__kwdefaults__, "chunk_bytes", CHUNK)


def write_dash(path, records: int, rng: random.Random, *, long_every: int = 0) -> None:
    """Records of the dash template, some with tracebacks (a record across ranges), a head
    with an escape, now and then one longer than the probe."""
    lines = []
    for i in range(records):
        level = rng.choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "NOTICE"])
        lines.append(f"2024-01-02 03:{i // 600 % 60:02d}:{i // 10 % 60:02d},{i % 1000:03d} - "
                     f"{rng.choice(LOGGERS)} - {level} - message {i}\n")
        if i % 37 == 5:
            lines.append("Traceback (most recent call last):\n" + "  frame\n" * rng.randint(1, 40)
                         + "ValueError: boom\n")
        if long_every and i % long_every == long_every - 1:
            lines.append("x" * 100 + "\n" * 1 + ("y" * 99 + "\n") * 700)  # 70 KB
        if i % 211 == 3:
            lines.append(f"2024-01-02 03:04:05,000 - app\x1b[31m - ERROR - escape {i}\n")
    path.write_text("".join(lines))


def index_then_count(store) -> tuple[RecordStats, int]:
    """Index the whole file (the counter made first, as the viewer does), then count: the
    counts and how many records past the first slice the counter had to read itself."""
    counter = RecordCounter(store)
    store.update(budget=0.0)  # the first slice is indexed here (the first rows show at once)
    first = len(store)
    assert first < 1000
    while not store.index.complete:
        store.update(final=True, budget=0.05)
    assert store.index.ranges is not None and not store.index.ranges.running  # let go
    read = 0
    real = columns_module.read_span

    def counting_read(part, lo, hi):
        nonlocal read
        read += hi - lo
        return real(part, lo, hi)

    columns_module.read_span = counting_read
    try:
        stats = RecordStats(keep_times=True)
        for batch in counter.batches(len(store)):
            stats.add_batch(batch)
    finally:
        columns_module.read_span = real
    assert counter.counted == len(store) == len(store.columns)
    return stats, read - first


def test_the_counts_are_ready_when_the_index_is(tmp_path):
    path = tmp_path / "app.log"
    write_dash(path, 6000, random.Random(3))
    assert os.path.getsize(path) > 20 * CHUNK
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        stats, read = index_then_count(store)
        # The first slice's last record (its end came in the workers' first range) and the
        # file's last record (no record starts after it to show where it ends).
        assert read <= 2
        assert_same(summary(stats), reference(store), "ranges")
        assert store.columns.view().levelnos.tolist() == [
            store.record(i).levelno for i in range(len(store))]
    finally:
        store.close()


def every_other_range_declined(monkeypatch) -> None:
    """The workers take every second range only (as when they are busy): the index's
    threads read the others."""
    real = range_columns.RangeColumns.submit
    calls = iter(range(1 << 30))

    def submit(self, *args):
        return real(self, *args) if next(calls) % 2 else None

    monkeypatch.setattr(range_columns.RangeColumns, "submit", submit)


def test_ranges_no_worker_takes_are_read_by_the_index_threads(tmp_path, monkeypatch):
    """A range no worker is free to take has its columns read by the index's thread that
    scanned it: the counter reads only what the first slice and the last record left."""
    every_other_range_declined(monkeypatch)
    path = tmp_path / "app.log"
    write_dash(path, 6000, random.Random(5))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        stats, read = index_then_count(store)
        assert read <= 2
        ranges = store.index.ranges
        assert ranges.here > 10 and ranges.served > 10
        assert_same(summary(stats), reference(store), "index threads")
        assert store.columns.view().levelnos.tolist() == [
            store.record(i).levelno for i in range(len(store))]
    finally:
        store.close()


def test_a_file_cut_and_rewritten_under_the_riding_index_is_counted_anew(tmp_path, monkeypatch):
    """copytruncate while the index reads columns in its threads and workers: the columns
    read from the old bytes are let go with the old records, and the new file counts as
    parsed."""
    every_other_range_declined(monkeypatch)
    path = tmp_path / "app.log"
    write_dash(path, 4000, random.Random(11))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        RecordCounter(store)
        store.update(budget=0.0)
        store.update(budget=0.0)  # some ranges ridden, their columns waiting
        assert store.index.ranges.here > 0
        before = store.generation
        write_dash(path, 3000, random.Random(12))  # truncated and rewritten in place
        while not store.index.complete:
            store.update(final=True, budget=0.05)
        assert store.generation != before
        counter = RecordCounter(store)  # the viewer's counter starts again on a restart
        stats = RecordStats(keep_times=True)
        for batch in counter.batches(len(store)):
            stats.add_batch(batch)
        assert counter.counted == len(store)
        assert_same(summary(stats), reference(store), "rewritten")
    finally:
        store.close()


def test_records_longer_than_the_probe_are_read_by_the_counter(tmp_path):
    path = tmp_path / "long.log"
    write_dash(path, 3000, random.Random(4), long_every=500)
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        stats, read = index_then_count(store)
        assert 2 < read <= 9  # the records no probe saw the end of, and the last
        assert_same(summary(stats), reference(store), "long records")
    finally:
        store.close()


@pytest.mark.parametrize("fmt, datefmt", TEMPLATES[1:], ids=range(1, len(TEMPLATES)))
def test_templates_count_as_parsed_through_the_workers(tmp_path, fmt, datefmt):
    path = tmp_path / "app.log"
    rng = random.Random(8)
    for _ in range(6):
        write_with_logging(path, fmt, datefmt, "{" if fmt.startswith("{") else "%", rng)
    style = "{" if fmt.startswith("{") else "%"
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(fmt, datefmt, style))
    try:
        stats, _ = index_then_count(store)
        assert_same(summary(stats), reference(store), fmt)
    finally:
        store.close()


def test_a_worker_killed_under_the_index_changes_no_count(tmp_path, monkeypatch):
    monkeypatch.setattr(index_module, "_RANGES_SLICE", 0.0)  # a slice scans a range or two
    path = tmp_path / "app.log"
    write_dash(path, 6000, random.Random(5))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        counter = RecordCounter(store)
        store.update(budget=0.0)  # the first slice, here
        store.update(budget=0.0)  # the workers are forked, a range or two scanned
        ranges = store.index.ranges
        assert ranges is not None and ranges.running
        for worker in ranges._workers:
            os.kill(worker.pid, signal.SIGKILL)
        while not store.index.complete:
            store.update(final=True, budget=0.05)
        assert ranges.failed and not ranges.running
        _assert_counts_as_parsed(counter, store, "killed")
    finally:
        store.close()


def test_the_workers_columns_are_counted_before_the_viewer_knows_of_their_records(
        tmp_path, monkeypatch):
    """The viewer's counter is told of no record (``known`` 0, as before the first frame)
    and nobody takes the tally: what the workers read is counted as it comes all the same,
    the times are binned without waiting for a reader, and the counter waits for a range a
    worker still reads instead of reading its records a second time."""
    path = tmp_path / "app.log"
    write_dash(path, 6000, random.Random(6))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    monkeypatch.setattr(columns_module, "PENDING_WAIT", 30.0)  # however loaded the machine
    real = columns_module.read_span
    read = 0

    def counting_read(part, lo, hi):
        nonlocal read
        read += hi - lo
        return real(part, lo, hi)

    try:
        counter = RecordCounter(store)
        tally = RecordStats()
        store.update(budget=0.0)  # the first slice (its records are read by the counter)
        first = len(store)
        stop = threading.Event()
        columns_module.read_span = counting_read

        def count() -> None:  # the viewer's counting thread, told of nothing
            while not stop.is_set():
                for batch in counter.batches(0):
                    tally.add_batch(batch)
                if not counter.riding() or not counter.wait_ready(0.05):
                    stop.wait(0.01)

        thread = threading.Thread(target=count)
        thread.start()
        try:
            while not store.index.complete:
                store.update(final=True, budget=0.05)
            # The last record has no record after it: only the index's end shows its end.
            deadline = time.monotonic() + 10
            while counter.counted < len(store) - 1 and time.monotonic() < deadline:
                stop.wait(0.01)
        finally:
            stop.set()
            thread.join()
        columns_module.read_span = real
        assert counter.counted >= len(store) - 1
        assert read <= first + 2, (read, first)
        assert tally.room.is_set()  # it never waited for a take
        expected = RecordStats(keep_times=True)  # parsing each record counted
        for i in range(counter.counted):
            expected.add(store.record(i))
        assert tally.totals() == expected.totals()
        _loggers, times, _levelnos = expected.take()
        assert tally.bins.total == len(times) > 0
        whole = TimeBins()
        whole.add(times, _levelnos)
        assert np.array_equal(tally.bins.counts.sum(axis=1), whole.counts.sum(axis=1))  # per class
    finally:
        columns_module.read_span = real
        store.close()


def test_json_lines_count_as_parsed_through_the_workers(tmp_path):
    """python-json-logger's lines (the 1 GB JSON bench file's flavour), some with a traceback
    in the object, read by the workers' JSON walker."""
    from test_json_columns import _pjl

    path = tmp_path / "app.jsonl"
    path.write_bytes(b"".join(_pjl(random.Random(seed), 1000) for seed in range(6)))
    assert os.path.getsize(path) > 20 * CHUNK
    store = open_store(FileSource(str(path), follow=True), JsonFormat())
    try:
        stats, read = index_then_count(store)
        assert read <= 2
        assert_same(summary(stats), reference(store), "json")
    finally:
        store.close()


@pytest.mark.timeout(60)
def test_workers_start_while_a_thread_of_the_viewer_imports_a_module(tmp_path, monkeypatch):
    """A thread of the viewer is in the middle of importing a module (holding its import lock)
    when the workers start: a worker forked from the viewer then once hung on that lock (the
    index with it); the fork server's workers hold none of the viewer's locks."""
    flag = tmp_path / "go"
    (tmp_path / "slow_module_for_fork.py").write_text(
        "import os, time\n"
        f"while not os.path.exists({str(flag)!r}):\n"
        "    time.sleep(0.01)\n"
        "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importing = threading.Thread(target=lambda: __import__("slow_module_for_fork"))
    importing.start()
    path = tmp_path / "app.log"
    write_dash(path, 3000, random.Random(7))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        counter = RecordCounter(store)  # the workers read columns for it
        store.update(budget=0.0)  # the first slice, here; the workers take the rest
        deadline = time.monotonic() + 30
        while not store.index.complete and time.monotonic() < deadline:
            store.update(final=True, budget=0.05)
            assert importing.is_alive()  # the lock is held all along
        assert store.index.complete
        assert store.index.ranges is not None and store.index.ranges.failed is None
        assert store.index.ranges.served > 0
        flag.touch()
        importing.join(10)
        _assert_counts_as_parsed(counter, store, "started under an import")
    finally:
        flag.touch()
        store.close()


def _assert_counts_as_parsed(counter: RecordCounter, store, what: str) -> None:
    """What ``counter`` counts over the whole store equals parsing every record."""
    stats = RecordStats(keep_times=True)
    for batch in counter.batches(len(store)):
        stats.add_batch(batch)
    assert_same(summary(stats), reference(store), what)
