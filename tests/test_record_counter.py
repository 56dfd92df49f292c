"""How counting is driven (``columns.RecordCounter.batches``): chunk by chunk it gives the
counts of parsing every record, in order, also when the file grows between passes, when it
is cut and rewritten under the count, and when the count is cancelled and resumed."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
from test_columns import TEMPLATES, assert_same, reference, summary, write_with_logging

from logview.columns import RecordCounter
from logview.formats.template import TemplateFormat
from logview.sources.base import StaticFileSource
from logview.sources.file import FileSource
from logview.stats import RecordStats
from logview.store import open_store

DASH = TEMPLATES[0][0]


def count_all(store, counter: RecordCounter, stats: RecordStats) -> int:
    """Count what ``counter`` has not counted yet; the batches it gave."""
    batches = 0
    for batch in counter.batches(len(store), chunk_bytes=1 << 12):
        stats.add_batch(batch)
        batches += 1
    return batches


def test_counting_in_chunks_gives_the_counts_of_parsing_in_order(tmp_path):
    path = tmp_path / "app.log"
    write_with_logging(path, DASH, None, "%", random.Random(11))
    store = open_store(StaticFileSource(str(path)), TemplateFormat(DASH))
    store.update(final=True)
    stats = RecordStats(keep_times=True)
    counter = RecordCounter(store)
    assert count_all(store, counter, stats) > 10  # many chunks
    assert counter.counted == len(store) == len(store.columns)
    assert_same(summary(stats), reference(store), "chunks")
    # The columns are in record order: each record's level where the parser reads it.
    levels = store.columns.view().levelnos
    assert levels.tolist() == [store.record(i).levelno for i in range(len(store))]


def test_a_growing_file_is_counted_as_it_grows(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    stats = RecordStats(keep_times=True)
    counter = RecordCounter(store)
    rng = random.Random(5)
    try:
        with open(path, "a") as out:
            for n in range(5):
                for i in range(200):
                    level = rng.choice(["DEBUG", "INFO", "WARNING", "ERROR"])
                    out.write(f"2024-01-02 03:{n:02d}:{i % 60:02d},{i:03d} - app.m{i % 7} - "
                              f"{level} - grown {n} {i}\n")
                out.flush()
                store.update()
                count_all(store, counter, stats)
        store.update(final=True)
        count_all(store, counter, stats)
        assert counter.counted == len(store) == 1000
        assert_same(summary(stats), reference(store), "grown")
    finally:
        store.close()


def test_a_file_cut_under_the_count_stops_it_and_keeps_no_old_column(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"".join(b"2024-01-02 03:04:%02d,000 - app - ERROR - old %d\n" % (i % 60, i)
                              for i in range(3000)))
    store = open_store(FileSource(str(path), follow=True), TemplateFormat(DASH))
    try:
        store.update(final=True)
        counter = RecordCounter(store)
        batches = counter.batches(len(store), chunk_bytes=1 << 12)
        next(batches)
        assert 0 < len(store.columns) < 3000
        old = store.generation
        path.write_bytes(b"2024-01-02 03:04:05,000 - web - INFO - new\n" * 10)
        deadline = time.monotonic() + 10
        while store.generation == old and time.monotonic() < deadline:
            store.update()
            store.wait(0.05)
        assert store.generation != old
        store.update(final=True)
        rest = list(batches)  # the count of the old file stops: its positions mean nothing now
        assert rest == []
        assert len(store.columns) == 0
        stats = RecordStats(keep_times=True)
        fresh = RecordCounter(store)
        count_all(store, fresh, stats)
        assert fresh.counted == len(store) == len(store.columns) == 10
        assert_same(summary(stats), reference(store), "rewritten")
    finally:
        store.close()


def test_a_cancelled_count_stops_and_resumes_where_it_stopped(tmp_path):
    path = tmp_path / "app.log"
    write_with_logging(path, DASH, None, "%", random.Random(12))
    store = open_store(StaticFileSource(str(path)), TemplateFormat(DASH))
    store.update(final=True)
    counter = RecordCounter(store)
    stats = RecordStats(keep_times=True)
    stop = threading.Event()
    given = 0
    for batch in counter.batches(len(store), cancelled=stop.is_set, chunk_bytes=1 << 12):
        stats.add_batch(batch)
        given += batch.count
        stop.set()
    assert counter.counted == given == len(store.columns) < len(store)
    count_all(store, counter, stats)
    assert counter.counted == len(store)
    assert_same(summary(stats), reference(store), "resumed")
    assert np.array_equal(store.columns.view().levelnos,
                          [store.record(i).levelno for i in range(len(store))])


def test_a_head_cut_by_its_line_end_is_parsed_as_the_parser_reads_it(tmp_path):
    """The walk needs no line ends: a field whose literal comes only on a later line holds
    the newline, and its record is parsed, not read across lines."""
    data = (b"2024-01-02 03:04:05,123 - app\n - INFO - the level on the next line\n"
            b"2024-01-02 03:04:06,123 - app.db - WARNING\n - ERROR - a level cut at its line\n"
            b"2024-01-02 03:04:07,123 - web - ERROR - plain\n"
            b"2024-01-02 03:04:08,123\n - app - INFO - the time alone on its line\n"
            b"2024-01-02 03:04:09,123 - app - INFO")  # no newline at the end of the file
    path = tmp_path / "cut.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)), TemplateFormat(DASH))
    store.update(final=True)
    stats = RecordStats(keep_times=True)
    count_all(store, RecordCounter(store), stats)
    assert_same(summary(stats), reference(store), "cut heads")
