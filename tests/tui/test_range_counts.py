"""The viewer's level bar, logger tree and histogram with counting riding on the index
(forced for a small file: ``range_columns``' workers, and the index's threads when they are
busy):
complete when the index is, equal to parsing every record, and drawn from the counter's bins,
not from times held for a frame."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from test_columns import reference
from test_range_columns import CHUNK, DASH, every_other_range_declined, write_dash

from logview import range_columns
from logview.formats.template import TemplateFormat
from logview.index import RecordIndex
from logview.sources.file import FileSource
from logview.store import open_store
from logview.tui.app import LogviewApp
from logview.tui.screens import store_workers
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.logger_tree import LoggerTree
from tui.conftest import until


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch):
    monkeypatch.setattr(range_columns, "ENABLED", True)
    monkeypatch.setattr(range_columns, "RANGE_MIN_BYTES", 0)
    monkeypatch.setattr(range_columns, "START_WAIT", 30.0)  # the workers take every range
    monkeypatch.setattr(range_columns, "BUSY_WAIT", 30.0)
    monkeypatch.setitem(RecordIndex.__init__.__kwdefaults__, "chunk_bytes", CHUNK)
    # A chunk or two an index step: the first slice (never ridden: the first rows show at
    # once) is not the whole small file.
    monkeypatch.setattr(store_workers, "_INDEX_SLICE", 0.0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("busy", [False, True], ids=["workers", "workers-busy"])
async def test_the_level_bar_tree_and_histogram_count_every_record_as_indexed(
        tmp_path, monkeypatch, busy):
    if busy:  # the index's threads read the ranges the workers do not take
        every_other_range_declined(monkeypatch)
    path = tmp_path / "app.log"
    write_dash(path, 8000, random.Random(9))
    store = open_store(FileSource(str(path), follow=False), TemplateFormat(DASH))
    # As the viewer's counter does when it starts (here before the first slice: a small file
    # could be indexed before the counting worker runs, and nothing would ride).
    store.count_with_index()
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        bar = screen.query_one(LevelBar)
        await until(pilot, lambda: store.index.complete and not bar.counting, timeout=30)
        ranges = store.index.ranges
        assert ranges is not None and not ranges.running
        assert ranges.served > 0 and (ranges.here > 0) == busy
        levels, unknown, counted, loggers, times, _levelnos, _sources = reference(store)
        assert counted == len(store) > 8000
        # (The bar stops saying "counting…" while fewer than COUNT_LAG records wait: the last
        # ones are drawn with the next frame.)
        await until(pilot, lambda: bar.counts == levels and bar.unknown == unknown, timeout=30)
        tree = screen.query_one(LoggerTree)
        assert tree.total == counted
        for name, count in loggers.items():  # a node counts its subtree
            below = sum(n for other, n in loggers.items() if other.startswith(f"{name}."))
            assert tree.counts[name] == count + below, name
        bins = screen.query_one(TimeHistogram).all_bins
        assert bins.total == np.count_nonzero(np.isfinite(times)) > 0
        assert screen._tally.room.is_set() and screen._tally.take()[1].size == 0  # binned


async def test_a_count_superseded_while_its_thread_starts_leaves_the_newer_one_drawn(
        memory_store, monkeypatch):
    """Counts asked again while the last ask's worker thread is starting (the server's
    counts given up as the store restarts, as a ClickHouse query does): the superseded
    worker goes on until it looks whether it is cancelled. The bar goes on showing the newer
    one's counts, new records too."""
    from tui.conftest import log_line

    source, store = memory_store(16)
    app = LogviewApp(store)
    real = store_workers.get_current_worker
    armed, entered, release = threading.Event(), threading.Event(), threading.Event()

    def held_at_its_start():
        worker = real()
        if armed.is_set() and worker.group == "count":
            armed.clear()
            entered.set()
            release.wait(10)  # (this worker only: its thread started, then lost the CPU)
        return worker

    monkeypatch.setattr(store_workers, "get_current_worker", held_at_its_start)
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.screen.query_one(LevelBar)
        await until(pilot, lambda: sum(bar.counts) == 16)
        armed.set()
        app.screen._count_levels()
        await until(pilot, entered.is_set)
        app.screen._count_levels()  # supersedes the held one
        await pilot.pause(0.5)
        release.set()
        await pilot.pause(0.5)
        source.append("".join(log_line(i) for i in range(16, 24)).encode())
        await until(pilot, lambda: sum(bar.counts) == 24, timeout=10)
