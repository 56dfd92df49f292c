"""RecordIndex: boundaries equal to the splitter's, pending last record, truncation, memory."""

from __future__ import annotations

import os
import re
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
    assert index_records(index) == splitter_records(fmt, data)
    assert index.end(len(index) - 1) == len(data) and index.complete


class _SignatureFormat(PlainFormat):
    """A format whose record starts are exactly a given per-position byte-class signature."""

    def __init__(self, classes):
        from logview.pattern_analysis import StartSignature

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
