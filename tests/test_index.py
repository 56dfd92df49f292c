"""RecordIndex: boundaries equal to the splitter's, pending last record, truncation, memory."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indexing_helpers import DashFormat, LooseFormat, dash_log

from logview.formats.base import PlainFormat
from logview.index import RecordIndex, StartDetector
from logview.sources.base import MemorySource, StaticFileSource
from logview.split import RecordSplitter

SAMPLE = dash_log(600, seed=3)


def splitter_records(fmt, data: bytes, *, flush: bool = True) -> list[tuple[int, int]]:
    splitter = RecordSplitter(fmt)
    out = [(r.offset, r.line) for r in splitter.feed(data)]
    if flush:
        out += [(r.offset, r.line) for r in splitter.flush()]
    return out


def index_records(index: RecordIndex) -> list[tuple[int, int]]:
    return [(index.start(i), index.line(i)) for i in range(len(index))]


@pytest.mark.parametrize("fmt", [DashFormat(), LooseFormat(), PlainFormat()])
def test_boundaries_equal_the_splitter(fmt):
    source = MemorySource("m", SAMPLE)
    source.finish()
    index = RecordIndex(source, fmt, chunk_bytes=4096)
    index.update()
    expected = splitter_records(fmt, SAMPLE)
    assert index_records(index) == expected
    assert index.end(len(index) - 1) == len(SAMPLE)


def test_the_signature_is_exact_for_a_fixed_width_start():
    detector = StartDetector(DashFormat())
    assert detector.signature is not None and detector.signature.exact
    assert not StartDetector(LooseFormat()).signature.exact


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(SAMPLE) - 1), max_size=12),
       chunk=st.integers(min_value=1024, max_value=20000))
def test_growth_in_random_pieces_gives_the_same_records(cuts, chunk):
    source = MemorySource("m")
    index = RecordIndex(source, DashFormat(), chunk_bytes=chunk)
    prev = 0
    for cut in sorted(set(cuts)) + [len(SAMPLE)]:
        source.append(SAMPLE[prev:cut])
        prev = cut
        index.update()
        # Only complete records are visible, and they are a prefix of the final answer.
        assert index_records(index) == splitter_records(DashFormat(), SAMPLE[:cut], flush=False)
    source.finish()
    index.update()
    assert index_records(index) == splitter_records(DashFormat(), SAMPLE)


def test_last_record_pending_until_next_start_or_final():
    source = MemorySource("m")
    index = RecordIndex(source, DashFormat())
    source.append(b"2024-01-01 00:00:00,000 - a - ERROR - boom\nTraceback (most recent call last):\n")
    index.update()
    assert len(index) == 0  # the traceback may go on
    source.append(b"ValueError: x\n2024-01-01 00:00:01,000 - a - INFO - next")
    index.update()
    assert len(index) == 0  # an unfinished line is not judged before its newline
    index.update(final=True)  # a quiet moment: the pending record and the unfinished line
    assert len(index) == 2 and index.end(1) == source.size()
    assert index.end(0) == source.size() - len(b"2024-01-01 00:00:01,000 - a - INFO - next")
    assert index.line(1) == 4
    source.append(b"\n  more of the unfinished line's record\n")
    index.update()
    assert len(index) == 2  # after a flush, what follows starts a new (pending) record
    index.update(final=True)
    assert len(index) == 3 and index.line(2) == 4  # the rest of physical line 4


def test_truncation_resets_the_index(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(SAMPLE)
    source = StaticFileSource(str(path))
    index = RecordIndex(source, DashFormat())
    index.update()
    assert len(index) == len(splitter_records(DashFormat(), SAMPLE))
    smaller = dash_log(5, seed=9)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(smaller)
    source._size = 0  # a static source does not notice truncation itself; followers do
    source.generation += 1
    index.update()
    assert index.generation == source.generation
    assert index_records(index) == splitter_records(DashFormat(), smaller)


def test_readers_see_a_consistent_prefix_while_indexing(tmp_path):
    data = dash_log(3000, seed=5)
    source = MemorySource("m")
    index = RecordIndex(source, DashFormat(), chunk_bytes=2048)
    expected = dict(splitter_records(DashFormat(), data))
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        while not stop.is_set():
            n = len(index)
            if n:
                off = index.start(n - 1)
                if off not in expected:
                    errors.append(f"record {n - 1} at {off} is not a record start")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for k in range(0, len(data), 7919):
            source.append(data[k : k + 7919])
            index.update()
    finally:
        stop.set()
        reader.join()
    assert not errors
    source.finish()
    index.update()
    assert len(index) == len(expected)


def test_at_most_eight_bytes_per_record_on_a_million(tmp_path):
    line = b"2024-01-01 00:00:00,000 - a - INFO - m\n"
    path = tmp_path / "big.log"
    with open(path, "wb") as f:
        f.write(line * 1_000_000)
    source = StaticFileSource(str(path))
    index = RecordIndex(source, DashFormat())
    index.update()
    assert len(index) == 1_000_000
    assert index.nbytes / len(index) <= 8.6  # 8 + one partly filled block + checkpoints
    assert index.start(999_999) == 999_999 * len(line)
    assert index.line(999_999) == 1_000_000
    assert index.find(len(line) * 10 + 3) == 10
    bounds = index.bounds(5, 8)
    assert np.array_equal(bounds, np.arange(5, 9) * len(line))
    os.unlink(path)


def test_escape_led_lines_are_judged_like_the_splitter():
    data = (b"\x1b[31m2024-01-01 00:00:00,000 - a - ERROR - red\x1b[0m\n"
            b"  continuation\n\x1b[1mnot a start\n2024-01-01 00:00:01,000 - a - INFO - x\n")
    source = MemorySource("m", data)
    source.finish()
    index = RecordIndex(source, DashFormat())
    index.update()
    assert index_records(index) == splitter_records(DashFormat(), data)
