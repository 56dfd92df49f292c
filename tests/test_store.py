"""LogStore over the record index, open_store, and MergedStore's timeline."""

from __future__ import annotations

import logging

from indexing_helpers import DASH, DashFormat, dash_log

from logview.boundaries import RecordSplitter
from logview.sources.base import MemorySource, StaticFileSource
from logview.store import LogStore, MergedStore, open_store


def make_store(data: bytes, name: str = "m", *, finished: bool = True) -> LogStore:
    source = MemorySource(name, data)
    if finished:
        source.finish()
    store = LogStore(source, DashFormat())
    store.update()
    return store


def test_records_raw_and_lines_match_the_splitter(tmp_path):
    data = dash_log(400, seed=2)
    path = tmp_path / "app.log"
    path.write_bytes(data)
    store = LogStore(StaticFileSource(str(path)), DashFormat())
    assert store.update() > 0
    splitter = RecordSplitter(DashFormat())
    expected = splitter.feed(data) + splitter.flush()
    assert len(store) == len(expected)
    for i in (0, 1, 17, len(expected) - 1):
        assert store.raw(i) == expected[i].data
        record = store.record(i)
        assert record.line == expected[i].line and record.offset == expected[i].offset
        assert record.source == str(path)
    assert store.progress() == (len(data), len(data))
    store.close()


def test_record_cache_returns_the_same_object_and_resets_on_truncation():
    source = MemorySource("m", dash_log(50))
    source.finish()
    store = LogStore(source, DashFormat())
    store.update()
    assert store.record(3) is store.record(3)
    assert store.parse(3) is not store.record(3)
    assert store.parse(3) == store.record(3)
    source._buf[:] = dash_log(2, seed=7)  # the source restarted (a follower saw a truncation)
    source.generation += 1
    before = store.generation
    store.update()
    assert store.generation != before and len(store) == 2
    assert store.record(1).raw == store.raw(1).decode().rstrip("\n")


def test_open_store_detects_or_falls_back_to_a_format():
    source = MemorySource("m", dash_log(20))
    source.finish()
    store = open_store(source)
    store.update()
    assert len(store) >= 1
    assert open_store(source, DashFormat()).format.name == "dash"


def _line(t: str, name: str, msg: str, level: str = "INFO") -> bytes:
    return f"2024-01-01 00:00:{t} - {name} - {level} - {msg}\n".encode()


def test_merged_store_orders_by_time_and_keeps_records_whole():
    a = make_store(_line("01,000", "a", "a1") + _line("03,000", "a", "a2", "ERROR")
                   + b"Traceback (most recent call last):\nValueError: x\n"
                   + _line("05,000", "a", "a3"), "a.log")
    b = make_store(_line("02,000", "b", "b1") + _line("03,000", "b", "b2")
                   + _line("04,000", "b", "b3"), "b.log")
    merged = MergedStore([a, b])
    assert merged.update() == 6
    messages = [merged.record(i).message for i in range(len(merged))]
    assert messages == ["a1", "b1", "a2", "b2", "b3", "a3"]  # ties: the first store first
    assert merged.record(2).exc.endswith("ValueError: x")
    assert [merged.record(i).source for i in range(3)] == ["a.log", "b.log", "a.log"]
    assert merged.raw(1) == _line("02,000", "b", "b1")
    assert merged.finished


def test_merged_store_keeps_untimed_and_backwards_records_after_their_predecessor():
    a = make_store(_line("05,000", "a", "a1") + b"no time here\n" + _line("01,000", "a", "a3"),
                   "a.log")
    b = make_store(_line("04,000", "b", "b1") + _line("06,000", "b", "b2"), "b.log")
    merged = MergedStore([a, b])
    merged.update()
    order = [merged.record(i).message.splitlines()[0] for i in range(len(merged))]
    assert order == ["b1", "a1", "a3", "b2"]


def test_merged_store_grows_incrementally_and_waits_for_slow_sources():
    sa, sb = MemorySource("a"), MemorySource("b")
    a, b = LogStore(sa, DashFormat()), LogStore(sb, DashFormat())
    merged = MergedStore([a, b])
    sa.append(_line("01,000", "a", "a1") + _line("04,000", "a", "a2") + _line("09,000", "a", "x"))
    sb.append(_line("02,000", "b", "b1") + _line("03,000", "b", "b2"))
    merged.update()
    # b has reached 00:02 only (its 00:03 record is pending): a2 at 00:04 must wait.
    assert [merged.record(i).message for i in range(len(merged))] == ["a1", "b1"]
    sb.append(_line("05,000", "b", "b3"))
    merged.update()
    # b's complete records now reach 00:03 (b3 is pending): still not a2.
    assert [merged.record(i).message for i in range(len(merged))] == ["a1", "b1", "b2"]
    merged.update(final=True)
    assert [merged.record(i).message for i in range(len(merged))][3:] == ["a2", "b3", "x"]


def test_merged_store_of_real_logging_output(tmp_path):
    paths = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.log"
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter(DASH))
        logger = logging.getLogger(f"mergetest.{name}")
        logger.addHandler(handler)
        logger.propagate = False
        logger.warning("hello from %s", name)
        handler.close()
        logger.removeHandler(handler)
        paths.append(path)
    stores = [LogStore(StaticFileSource(str(p)), DashFormat()) for p in paths]
    merged = MergedStore(stores)
    merged.update()
    assert len(merged) == 2
    assert {merged.record(i).message for i in range(2)} == {"hello from one", "hello from two"}
    merged.close()


def test_budgeted_updates_show_the_first_records_early_and_finish_later(tmp_path):
    path = tmp_path / "big.log"
    path.write_bytes(dash_log(2000, seed=21) * 30)  # ~6 MB
    store = LogStore(StaticFileSource(str(path)), DashFormat())
    store.index._chunk = 1 << 16  # small chunks: many slices on a small file
    added = store.update(budget=0.0)
    done, total = store.progress()
    assert 0 < added == len(store) and 0 < done < total
    assert not store.finished  # a finished source is not a finished store before its end
    first = store.record(0)
    assert first.line == 1 and first.logger
    steps = 1
    while not store.finished:
        store.update(budget=0.0)
        steps += 1
    assert steps > 5 and store.progress() == (total, total)
    full = LogStore(StaticFileSource(str(path)), DashFormat())
    full.update()
    assert full.finished and len(full) == len(store)
    assert store.raw(len(store) - 1) == full.raw(len(full) - 1)
