"""RecordIndex: boundaries equal to a naive line-by-line reference (and so to the splitter's),
pending last record, truncation, memory."""

from __future__ import annotations

import os
import re
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indexing_helpers import DashFormat, LooseFormat, dash_log, reference_records

from logview.boundaries import RecordSplitter, StartDetector
from logview.formats.base import PlainFormat
from logview.index import RecordIndex
from logview.sources.base import ByteSource, MemorySource, StaticFileSource

SAMPLE = dash_log(600, seed=3)


def splitter_records(fmt, data: bytes, *, flush: bool = True) -> list[tuple[int, int]]:
    """What the incremental splitter cuts (it must equal the reference as well)."""
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
    expected = reference_records(fmt, SAMPLE)
    assert index_records(index) == expected == splitter_records(fmt, SAMPLE)
    assert index.end(len(index) - 1) == len(SAMPLE)


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(SAMPLE) - 1), max_size=12))
def test_the_splitter_fed_in_pieces_equals_the_reference(cuts):
    for fmt in (DashFormat(), LooseFormat(), PlainFormat()):
        splitter = RecordSplitter(fmt)
        got, prev = [], 0
        for cut in sorted(set(cuts)) + [len(SAMPLE)]:
            got += [(r.offset, r.line) for r in splitter.feed(SAMPLE[prev:cut])]
            prev = cut
        got += [(r.offset, r.line) for r in splitter.flush()]
        assert got == reference_records(fmt, SAMPLE)


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
        assert index_records(index) == reference_records(DashFormat(), SAMPLE[:cut], flush=False)
    source.finish()
    index.update()
    assert index_records(index) == reference_records(DashFormat(), SAMPLE)


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
    assert len(index) == len(reference_records(DashFormat(), SAMPLE))
    smaller = dash_log(5, seed=9)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(smaller)
    source._size = 0  # a static source does not notice truncation itself; followers do
    source.generation += 1
    index.update()
    assert index.generation == source.generation
    assert index_records(index) == reference_records(DashFormat(), smaller)


def test_readers_see_a_consistent_prefix_while_indexing(tmp_path):
    data = dash_log(3000, seed=5)
    source = MemorySource("m")
    index = RecordIndex(source, DashFormat(), chunk_bytes=2048)
    expected = dict(reference_records(DashFormat(), data))
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


def test_at_most_four_bytes_per_record_on_a_million(tmp_path):
    line = b"2024-01-01 00:00:00,000 - a - INFO - m\n"
    path = tmp_path / "big.log"
    with open(path, "wb") as f:
        f.write(line * 1_000_000)
    source = StaticFileSource(str(path))
    index = RecordIndex(source, DashFormat())
    index.update()
    assert len(index) == 1_000_000
    assert index.nbytes / len(index) <= 4.1  # 4 + the last block's written pages + checkpoints
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
    assert index_records(index) == reference_records(DashFormat(), data)


# -- the real template formats, hostile lines, the SWAR test, time slices, memory ------------

DASH_TEMPLATE = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
BASIC_TEMPLATE = "%(levelname)s:%(name)s:%(message)s"
HOSTILE = (
    b"2024-01-01 00:00:00,000 - a - INFO - fits\n"
    b"2024-01-01 00:00:01,000 - no level here at all\n"  # the head alone starts a record
    b"2024-01-01 00:00:0\n"  # too short for the head
    b"2024-01-01 00:00:02,000 -\n"
    b"\x1b[2m2024-01-01 00:00:03,000\x1b[0m - a - WARNING - dim time\n"
    b"2024-01-01 \x1b[1m00:00:04,000 - a - INFO - escape inside the head\n"
    b"2024-01-01 00:00:05,000 - a - INFO - escape after the head \x1b[31mred\n"
    b"\xc2\x9b31m2024-01-01 00:00:06,000 - a - INFO - C1 CSI before the head\n"
    b"2024-01-01\xc2\xa000:00:07,000 - a - INFO - no-break space in the head\n"
    b"2024-01-01 00:00:08,000 - a - INFO - crlf\r\n"
    b"  continuation \xff\xfe bad utf-8\n"
    b"\n"
    b"\xe2\x80\x8b2024-01-01 00:00:09,000 - zero width space first\n"
    b"INFO:app:basic line\n"
    b"info:app:lower-case basic line\n"
    b"Traceback (most recent call last):\n"
    b"2024-01-01 00:00:10,000 - a - ERROR - last, unfinished"
)


def _template(template: str):
    from logview.formats.template import TemplateFormat

    return TemplateFormat(template)


def _basic_log(records: int, seed: int = 4) -> bytes:
    """basicConfig output from the real logging module, tracebacks included."""
    import io
    import logging
    import random

    rnd = random.Random(seed)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(BASIC_TEMPLATE))
    log = logging.getLogger("ixbasic.app")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    for i in range(records):
        if rnd.random() < 0.05:
            try:
                raise KeyError(i)
            except KeyError:
                log.exception("lookup %d failed", i)
        else:
            log.log(rnd.choice([10, 20, 30]), "message %d%s", i, "\nsecond" if i % 50 == 0 else "")
    return stream.getvalue().encode()


@pytest.mark.parametrize(
    ("template", "data"),
    [
        (DASH_TEMPLATE, SAMPLE),
        (DASH_TEMPLATE, HOSTILE),
        (DASH_TEMPLATE, HOSTILE * 40),
        (BASIC_TEMPLATE, _basic_log(400)),
        (BASIC_TEMPLATE, HOSTILE * 40),
    ],
)
@pytest.mark.parametrize("chunk", [1024, 1 << 20])
def test_real_template_boundaries_equal_the_splitter(template, data, chunk):
    fmt = _template(template)
    assert StartDetector(fmt).exact == (template == DASH_TEMPLATE)
    source = MemorySource("m", data)
    source.finish()
    index = RecordIndex(source, fmt, chunk_bytes=chunk)
    index.update()
    assert index_records(index) == reference_records(fmt, data)
    assert index.end(len(index) - 1) == len(data) and index.complete


class _SignatureFormat(PlainFormat):
    """A format whose record starts are exactly a given per-position byte-class signature."""

    def __init__(self, classes):
        from logview.formats.signature import StartSignature

        # Escape-leading bytes are judged on stripped text (tested above), not by the classes.
        plain = [frozenset(c) - {0x0A, 0x1B, 0xC2} or frozenset({0x41}) for c in classes]
        self.signature = StartSignature(tuple(plain), True)
        self.start_pattern = re.compile(b"".join(
            b"[" + b"".join(re.escape(bytes([v])) for v in sorted(c)) + b"]" if c else b"(?!)"
            for c in self.signature.classes
        ))

    def start_signature(self):
        return self.signature

    def is_start(self, line: str) -> bool:
        return self.start_pattern.match(line.encode("utf-8", "surrogateescape")) is not None


_EDGE_BYTES = [0x00, 0x09, 0x0A, 0x20, 0x2F, 0x30, 0x39, 0x3A, 0x40, 0x41, 0x5A, 0x7E, 0x7F,
               0x80, 0xC3, 0xFF]


@settings(max_examples=60, deadline=None)
@given(
    classes=st.lists(
        st.one_of(
            st.tuples(st.integers(0, 0x7F), st.integers(0, 0x7F)).map(
                lambda t: set(range(min(t), max(t) + 1))),
            st.sets(st.sampled_from(_EDGE_BYTES), min_size=1, max_size=4),
        ),
        min_size=1, max_size=20,
    ),
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\x1b", b"").replace(
        b"\xc2", b"")), min_size=1, max_size=60),
    seed=st.integers(0, 2**16),
)
def test_word_test_equals_the_byte_by_byte_signature(classes, lines, seed):
    import random

    rnd = random.Random(seed)
    fmt = _SignatureFormat(classes)
    detector = StartDetector(fmt)
    # Lines that fit, lines that miss by one byte, and random ones.
    fitting = [bytes(rnd.choice(sorted(c)) if c else 0x41 for c in fmt.signature.classes)
               for _ in range(5)]
    body = [ln.replace(b"\n", b"") for ln in lines + fitting]
    data = b"\n".join(body) + b"\n"
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    got = detector.mask(data, arr, starts, ends)
    want = [fmt.start_pattern.match(data, s, e) is not None for s, e in zip(starts, ends)]
    assert got.tolist() == want


def test_budget_returns_early_and_later_calls_continue(tmp_path):
    path = tmp_path / "big.log"
    block = dash_log(2000, seed=11)
    path.write_bytes(block * 40)  # ~8 MB: many chunks
    expected = RecordIndex(StaticFileSource(str(path)), DashFormat(), chunk_bytes=1 << 16)
    expected.update()
    source = StaticFileSource(str(path))
    index = RecordIndex(source, DashFormat(), chunk_bytes=1 << 16)
    added = index.update(budget=0.0)  # at least one chunk, never everything
    assert 0 < added < len(expected) and 0 < index.indexed_bytes < source.size()
    assert not index.complete
    calls = 1
    while not index.complete:
        before = index.indexed_bytes
        added += index.update(budget=0.0)
        assert index.indexed_bytes > before or index.complete
        calls += 1
    assert calls > 10 and added == len(index) == len(expected)
    tail = range(len(index) - 50, len(index))
    assert [index.line(i) for i in tail] == [expected.line(i) for i in tail]
    assert np.array_equal(index.bounds(0, len(index)), expected.bounds(0, len(expected)))


def test_memory_is_bounded_chunks_plus_eight_bytes_a_record(tmp_path):
    """Peak RSS of indexing a 64 MB file stays within 64 MB + 8 B a record, like 1 GB must.

    VmHWM, not ru_maxrss: a child's ru_maxrss can carry the forking parent's (pytest's) peak.
    """
    import subprocess
    import sys

    path = tmp_path / "mid.log"
    block = dash_log(3000, seed=12)
    with open(path, "wb") as f:
        while f.tell() < 64 << 20:
            f.write(block)
    script = (
        "import sys\n"
        "from indexing_helpers import DashFormat\n"
        "from logview.index import RecordIndex\n"
        "from logview.sources.base import StaticFileSource\n"
        "index = RecordIndex(StaticFileSource(sys.argv[1]), DashFormat())\n"
        "index.update()\n"
        "peak = [int(ln.split()[1]) for ln in open('/proc/self/status') if ln.startswith('VmHWM')]\n"
        "print(len(index), peak[0] * 1024,\n"
        "      sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.getcwd()]))
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, check=True, env=env, timeout=60).stdout.split(maxsplit=2)
    records, peak = int(out[0]), int(out[1])
    assert records > 300_000 and out[2].strip() == "[]"
    assert peak <= (64 << 20) + 8 * records, f"peak {peak / 2**20:.0f} MB for {records} records"


# -- compact blocks: uint32 offsets from a per-block base, int64 only for a 4 GiB span --------

def _reference_checks(index: RecordIndex, starts: list[int], end: int) -> None:
    """Every reader equals a plain int64 array of the starts, across every block boundary."""
    ref = np.array(starts + [end], dtype=np.int64)
    n = len(starts)
    assert len(index) == n
    assert [index.start(i) for i in range(n)] == starts
    assert [index.end(i) for i in range(n)] == ref[1:].tolist()
    for lo in range(n + 1):
        for hi in range(lo, n + 2):
            got = index.bounds(lo, hi)
            assert got.dtype == np.int64
            want = np.append(ref[lo:min(hi, n)], ref[min(hi, n)])
            assert np.array_equal(got, want), (lo, hi)
    probes = sorted({p + d for p in starts for d in (-1, 0, 1)} | {0, end - 1, end + 10**12})
    for probe in probes:
        assert index.find(probe) == int(np.searchsorted(ref[:-1], probe, side="right")) - 1


def test_small_blocks_equal_an_int64_reference():
    data = dash_log(200, seed=21)
    source = MemorySource("m", data)
    source.finish()
    index = RecordIndex(source, DashFormat(), chunk_bytes=1024, block_records=7)
    index.update()
    starts = [offset for offset, _line in reference_records(DashFormat(), data)]
    assert len(starts) > 20  # several blocks, a partly filled last one
    assert {block.dtype for block in index._blocks} == {np.dtype(np.uint32)}
    _reference_checks(index, starts, len(data))
    used = len(index) - 7 * (len(index._blocks) - 1)  # the last block counts its pages
    assert index.nbytes == 4 * 7 * (len(index._blocks) - 1) + min(4 * 7, 4096 * -(-4 * used // 4096)) + 8 * len(index._checkpoints)


class _GiantLineSource(ByteSource):
    """``head``, then zero bytes up to ``tail_at - 1``, a newline, then ``tail``: a log whose
    third record is a line of over 4 GiB, without 4 GiB of memory or disk reads (a sparse file
    costs seconds of kernel time for the holes)."""

    name = "giant"
    finished = True

    def __init__(self, head: bytes, tail_at: int, tail: bytes, chunk: int) -> None:
        self.head, self.tail_at, self.tail = head, tail_at, tail
        self.zeros = bytes(chunk)  # one reused buffer: the index reads whole chunks of it

    def size(self) -> int:
        return self.tail_at + len(self.tail)

    def read_at(self, offset: int, size: int) -> bytes:
        end = min(offset + size, self.size())
        if offset >= end:
            return b""
        gap = (max(offset, len(self.head)), min(end, self.tail_at - 1))
        if gap == (offset, end) and end - offset == len(self.zeros):
            return self.zeros
        parts = []
        if offset < len(self.head):
            parts.append(self.head[offset:end])
        if gap[0] < gap[1]:
            parts.append(bytes(gap[1] - gap[0]))
        if offset <= self.tail_at - 1 < end:
            parts.append(b"\n")
        if end > self.tail_at:
            parts.append(self.tail[max(0, offset - self.tail_at) : end - self.tail_at])
        return b"".join(parts)

    def update(self) -> int:
        return 0


def test_a_block_spanning_more_than_four_gib_stays_correct():
    """A giant record: its block is widened to int64, later blocks are compact with a base
    past 4 GiB, and every reader still equals the int64 reference."""
    head = b"2024-01-01 00:00:00,000 - a - INFO - "
    first = head + b"a\n" + head + b"b\n" + head + b"giant "
    tail_at = len(first) + (1 << 32) + (1 << 28)  # the giant line ends just before, past 4 GiB
    tail = b"".join(head + b"after %d\n" % i for i in range(9))
    chunk = 64 << 20
    source = _GiantLineSource(first, tail_at, tail, chunk)
    assert source.read_at(tail_at - 3, 5) == b"\0\0\n20" and source.read_at(5, 3) == first[5:8]
    index = RecordIndex(source, DashFormat(), chunk_bytes=chunk, block_records=4)
    index.update(final=True)
    line = len(head + b"after 0\n")
    starts = [0, len(head + b"a\n"), 2 * len(head + b"a\n")] + [tail_at + k * line for k in range(9)]
    _reference_checks(index, starts, source.size())
    dtypes = [block.dtype for block in index._blocks]
    assert dtypes == [np.dtype(np.int64), np.dtype(np.uint32), np.dtype(np.uint32)]
    assert index._bases[1] == tail_at + line > 1 << 32  # compact offsets from a big base
    assert index.line(3) == 4 and index.line(11) == 12


def test_widening_while_readers_read_keeps_a_consistent_prefix():
    """Starts that overflow compact blocks mid-block, appended straight (no bytes needed)."""
    index = RecordIndex(MemorySource("m"), DashFormat(), block_records=8)
    gaps = [10, 20, (1 << 32) - 5, 40, 1 << 33, 7, 3, 1 << 40, 11, 1 << 35, 17, 2]
    starts = np.cumsum([5] + gaps).tolist()
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        while not stop.is_set():
            n = index._count
            if n:
                got = index.bounds(0, n)[:-1].tolist()
                if got != starts[:n]:
                    errors.append(f"prefix of {n}: {got}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for k, offset in enumerate(starts):
            with index._lock:
                index._append(np.array([offset], dtype=np.int64), np.array([k + 1]))
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert [block.dtype for block in index._blocks] == [np.dtype(np.int64), np.dtype(np.int64)]
    assert [index.start(i) for i in range(len(starts))] == starts
    assert [index.find(s) for s in starts] == list(range(len(starts)))
