"""Record statistics (the level bar, logger tree and histogram read them): counts per level
bucket, logger, time and source, taken as deltas, bounded while nobody takes them."""

from __future__ import annotations

import numpy as np
from indexing_helpers import DashFormat, dash_log

from logview import stats
from logview.record import LEVEL_BUCKETS, level_bucket
from logview.scan import iter_records
from logview.sources.base import MemorySource
from logview.stats import RecordStats
from logview.store import LogStore
from logview.time_bins import TimeBins


def _records(seed: int) -> list:
    """300 dash-template records (a fifth of them errors) read from a finished store."""
    source = MemorySource("app.log", dash_log(300, seed=seed, error_rate=0.2))
    source.finish()
    store = LogStore(source, DashFormat())
    store.update(final=True)
    return list(iter_records(store, 0, len(store)))


def test_counts_match_the_records_and_takes_are_deltas():
    records = _records(2)
    counted = RecordStats(keep_times=True)
    for record in records:
        counted.add(record)
    levels, unknown, total = counted.totals()
    assert total == len(records) == 300
    for index, (name, _floor) in enumerate(LEVEL_BUCKETS):
        assert levels[index] == sum(1 for r in records if level_bucket(r.levelno) == index), name
    assert unknown == sum(1 for r in records if r.levelno <= 0)
    loggers, times, levelnos = counted.take()
    assert sum(loggers.values()) == 300 and loggers == {
        name: sum(1 for r in records if r.logger == name) for name in loggers}
    assert len(times) == len(levelnos) == 300 and times.tolist() == [r.timestamp for r in records]
    assert counted.take()[0] == {}  # a take returns what came since the last one
    assert counted.sources() == ["app.log"]


def test_sources_are_bounded_and_pending_data_waits_for_a_reader(monkeypatch):
    monkeypatch.setattr(stats, "MAX_PENDING", 10)
    counted = RecordStats(keep_times=True)
    source = MemorySource("x", dash_log(20, seed=3))
    source.finish()
    store = LogStore(source, DashFormat())
    store.update(final=True)
    for k, record in enumerate(iter_records(store, 0, 20)):
        record.source = f"client-{k}"
        counted.add(record)
    assert not counted.room.is_set()  # the counting thread would pause here
    counted.take()
    assert counted.room.is_set()
    assert len(counted.sources()) == 20
    for k in range(stats.MAX_SOURCES + 50):
        record = store.record(0)
        record.source = f"other-{k}"
        counted.add(record)
        counted.take()
    assert len(counted.sources()) == stats.MAX_SOURCES


def test_the_times_are_binned_by_the_counting_thread_and_copied_when_drawn():
    records = _records(4)
    counted = RecordStats()  # the viewer's: no raw times kept, nothing waits for a take
    for record in records[:200]:
        counted.add(record)
    first = counted.take_bins()
    assert first is not None and first.total == 200
    assert counted.take_bins() is None  # nothing new: nothing to draw
    for record in records[200:]:
        counted.add(record)
    assert counted.take()[1].size == 0 and counted.room.is_set()
    bins = counted.take_bins()
    whole = TimeBins()
    whole.add(np.array([r.timestamp for r in records]), np.array([r.levelno for r in records]))
    assert bins is not None and bins.total == first.total + 100 == whole.total
    assert (bins.shift, bins.base) == (whole.shift, whole.base)
    assert np.array_equal(bins.counts, whole.counts)
    drawn = TimeBins()
    empty = drawn.version
    drawn.copy_from(bins)
    assert drawn.version != empty and np.array_equal(drawn.counts, whole.counts)


def test_a_batch_counts_every_level_number_in_its_bucket():
    """``add_batch`` counts per level number, then per bucket (numbers past 4096 per record):
    the buckets of the record-by-record reading, whatever the numbers."""
    from logview.columns import CountBatch

    rng = np.random.default_rng(5)
    for top in (60, 10**6):
        levelnos = rng.integers(-3, top, 5000).astype(np.int32)
        levelnos[:5] = [0, 9, 10, 50, top - 1]
        batch = CountBatch(len(levelnos), levelnos, {}, np.zeros(0), np.zeros(0, np.int32))
        counted = RecordStats()
        counted.add_batch(batch)
        want = [0] * len(LEVEL_BUCKETS)
        for levelno in levelnos.tolist():
            if level_bucket(levelno) >= 0:
                want[level_bucket(levelno)] += 1
        levels, unknown, total = counted.totals()
        assert levels == want and unknown == int((levelnos <= 0).sum()) and total == 5000
