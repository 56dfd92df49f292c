"""Matching records of a finished file without building its index (``--print`` on big files).

The file is cut into byte ranges; a range owns the records that start in it. For each range the
query's needles are found with ``bytes.find``; around each hit the record is found by walking
lines (back to the line that starts it, forward to the next start) with the same start test as
``RecordIndex``, so the records, their offsets and line numbers are exactly the index's. Ranges
run in forked worker processes when there are several CPUs and come back in file order.

A record longer than ``MAX_RECORD_BYTES`` (which the index would cut) is not handled here:
``NeedIndex`` tells the caller to continue from that range with the index.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logview.engine import find_all, query_prefilter
from logview.index import StartDetector
from logview.record import Record
from logview.split import MAX_RECORD_BYTES, RawRecord, parse_raw_record

#: Bytes per range (one task for a worker).
RANGE_BYTES = 32 << 20
#: Files smaller than this are scanned in this process (forking costs more than it saves).
PARALLEL_MIN_BYTES = 64 << 20
#: Most worker processes.
MAX_WORKERS = 4
_ESC_LEADS = (0x1B, 0xC2)


class NeedIndex(Exception):
    """A record (or the search for one) longer than ``MAX_RECORD_BYTES``: use the index."""


class StartTest:
    """Whether the line at a byte position starts a record, exactly as ``StartDetector.mask``."""

    def __init__(self, detector: StartDetector) -> None:
        self.detector = detector
        self.pattern = detector.pattern
        sig = detector.signature
        self.signature: re.Pattern[bytes] | None = None
        self.exact = False
        if sig is not None:
            if any(not cls for cls in sig.classes):
                self.signature = re.compile(b"(?!)")
            else:
                self.signature = re.compile(b"".join(_byte_class(cls) for cls in sig.classes))
            self.exact = sig.exact
        #: A newline before a line that may start a record: skips continuation lines in C.
        self.next_line: re.Pattern[bytes] | None = None
        if self.signature is not None:
            lead = b"[" + re.escape(bytes(_ESC_LEADS)) + b"]"
            self.next_line = re.compile(b"\n(?=" + self.signature.pattern + b"|" + lead + b")")

    def record_end(self, buf: bytes, e: int, final: bool) -> int:
        """The first record-starting line at or after line start ``e`` (``len(buf)``: none)."""
        size = len(buf)
        search = self.next_line.search if self.next_line is not None else None
        while e < size:
            if search is not None:
                m = search(buf, e - 1)
                if m is None:
                    return size
                e = m.start() + 1
            if self.at(buf, e, final):
                return e
            e = buf.find(b"\n", e) + 1 or size
        return size

    def at(self, buf: bytes, s: int, final: bool) -> bool:
        """The line starting at ``buf[s]``; ``final``: ``buf`` ends where the file ends."""
        e = buf.find(b"\n", s)
        if e < 0:
            if not final:
                raise ValueError("line not complete in the buffer")
            # The index decides an unfinished last line with line_starts_record.
            return self.detector.line_starts_record(buf[s:])
        if buf[s] in _ESC_LEADS:
            return self.detector.line_starts_record(buf[s:e])
        if self.pattern is None:
            return True
        if self.signature is not None:
            if self.signature.match(buf, s) is None:
                return False
            if self.exact:
                return True
        return self.pattern.match(buf[s:e]) is not None


def _byte_class(values: frozenset[int]) -> bytes:
    return b"[" + b"".join(re.escape(bytes([v])) for v in sorted(values)) + b"]"


def first_start(source: Any, test: StartTest, offset: int, size: int) -> int:
    """Offset of the first record-starting line at or after ``offset`` (``size`` if none)."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    want = 1 << 16
    while True:
        data = source.read_at(offset - 1, min(want, size - offset + 1))
        final = offset - 1 + len(data) >= size
        nl = data.find(b"\n")
        while nl >= 0:
            s = nl + 1
            if s >= len(data):
                if final:
                    return size
                break
            e = data.find(b"\n", s)
            if e < 0 and not final:
                break
            if test.at(data, s, final):
                return offset - 1 + s
            if e < 0:
                return size
            nl = e
        if final or want > MAX_RECORD_BYTES:
            if final:
                return size
            raise NeedIndex(f"no record starts within {MAX_RECORD_BYTES} bytes of {offset}")
        want *= 4


@dataclass(slots=True)
class ScanJob:
    """Everything a range scan needs (workers inherit it when they fork)."""

    source: Any
    size: int
    fmt: Any
    name: str
    matches: Callable[[Record], bool]
    test: StartTest
    literals: tuple[bytes, ...]
    folded: bool  # literals are lower-case, to be found in lower-cased bytes
    confirm: list[re.Pattern[bytes]]  # every group's regex (AND), checked on each record
    render: Callable[[Record], bytes]
    need_lines: bool


def count_lines(job: ScanJob, a: int, b: int) -> int:
    """Newlines in ``[a, b)``, read a piece at a time."""
    count = 0
    while a < b:
        step = min(b - a, 8 << 20)
        count += job.source.read_at(a, step).count(b"\n")
        a += step
    return count


def scan_range(job: ScanJob, a: int, b: int, line_at_a: int) -> tuple[bytes, int]:
    """(rendered matching records, how many) of the records starting in ``[a, b)``."""
    first = first_start(job.source, job.test, a, job.size)
    end = first_start(job.source, job.test, b, job.size)
    if first >= end:
        return b"", 0
    buf = job.source.read_at(first, end - first)
    if len(buf) != end - first:
        raise NeedIndex(f"{job.name}: the file changed while it was read")
    final = end >= job.size
    hay = buf.lower() if job.folded else buf
    hits = find_all(hay, job.literals)
    if b"\x1b" in buf:  # records with ANSI codes are always candidates (Prefilter.may_match)
        hits.extend(find_all(buf, (b"\x1b",)))
    hits.sort()
    line = line_at_a + job.source.read_at(a, first - a).count(b"\n") if job.need_lines else None
    counted = 0
    done = 0  # end of the last record handled: a record start
    out: list[bytes] = []
    test_at, record_end, rfind, find = job.test.at, job.test.record_end, buf.rfind, buf.find
    fmt, name, matches, render, confirm = job.fmt, job.name, job.matches, job.render, job.confirm
    size = len(buf)
    for hit in hits:
        if hit < done:
            continue
        s = rfind(b"\n", done, hit) + 1 or done
        line_start = s
        while s > done and not test_at(buf, s, final):
            s = rfind(b"\n", done, s - 1) + 1 or done
            if line_start - s > MAX_RECORD_BYTES:
                raise NeedIndex(f"{name}: a record longer than {MAX_RECORD_BYTES} bytes")
        e = record_end(buf, find(b"\n", hit) + 1 or size, final)
        if e - s > MAX_RECORD_BYTES:
            raise NeedIndex(f"{name}: a record longer than {MAX_RECORD_BYTES} bytes")
        done = e
        data = buf[s:e]
        if confirm and b"\x1b" not in data and not all(g.search(data) for g in confirm):
            continue
        if line is not None:
            line += buf.count(b"\n", counted, s)
            counted = s
        record = parse_raw_record(fmt, RawRecord(first + s, line, data), name)  # type: ignore[arg-type]
        if matches(record):
            out.append(render(record))
    return b"".join(out), len(out)


def make_job(store: Any, query: Any, render: Callable[[Record], bytes], *,
             need_lines: bool) -> ScanJob | None:
    """A job for ``store``, or None when a direct scan does not apply (no needles to find).

    ``need_lines``: records need their line numbers (jsonl output); they also do whenever the
    query may read them (``line>=N``, ``has:line``), which costs a newline count per range.
    """
    source = getattr(store, "source", None)
    if getattr(store, "index", None) is None or source is None or not source.finished:
        return None
    if getattr(query, "is_empty", True):
        return None
    prefilter = query_prefilter(store.format, query)
    alternatives = getattr(prefilter, "alternatives", None)
    if prefilter is None or not alternatives:
        return None
    first = alternatives[0]  # the most selective group
    folded = any(ignorecase for _, ignorecase in first)
    literals = tuple(text.lower() if folded else text for text, _ in first)
    exact_first = not folded or all(ic or text.islower() for text, ic in first)
    confirm = list(prefilter.groups[0 if not exact_first else 1:])
    need_lines = need_lines or "line" in str(getattr(query, "text", "line")).lower()
    source.update()
    return ScanJob(source, source.size(), store.format, store.name, query.matches,
                   StartTest(StartDetector(store.format)), literals, folded, confirm, render,
                   need_lines)


# ---------------------------------------------------------------------------------------------
# Running the ranges, in this process or in forked workers.

_JOB: ScanJob | None = None  # set before forking: workers inherit it


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _count_task(span: tuple[int, int]) -> int:
    assert _JOB is not None
    return count_lines(_JOB, *span)


def _scan_task(task: tuple[int, int, int]) -> tuple[bytes, int] | str:
    assert _JOB is not None
    try:
        return scan_range(_JOB, *task)
    except NeedIndex as exc:
        return str(exc)


def _workers(size: int) -> int:
    if size < PARALLEL_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


def run_job(job: ScanJob, emit: Callable[[bytes, int], None], *,
            range_bytes: int = RANGE_BYTES, workers: int | None = None) -> int | None:
    """Scan every range, calling ``emit(rendered, count)`` in file order.

    Returns None when done, or the offset of the range from which the index must take over.
    """
    global _JOB
    spans = [(a, min(a + range_bytes, job.size)) for a in range(0, job.size, range_bytes)]
    if not spans:
        return None
    workers = _workers(job.size) if workers is None else workers
    workers = min(workers, len(spans))
    _JOB = job
    try:
        if workers <= 1:
            return _run_inline(job, spans, emit)
        with multiprocessing.get_context("fork").Pool(workers, _worker_init) as pool:
            try:
                return _run_pool(pool, job, spans, emit, workers)
            finally:
                pool.terminate()
    finally:
        _JOB = None


def _line_bases(counts: list[int]) -> list[int]:
    bases, line = [], 1
    for count in counts:
        bases.append(line)
        line += count
    return bases


def _run_inline(job: ScanJob, spans: list[tuple[int, int]], emit) -> int | None:
    line = 1
    for a, b in spans:
        try:
            emit(*scan_range(job, a, b, line))
        except NeedIndex:
            return a
        if job.need_lines:
            line += count_lines(job, a, b)
    return None


def _run_pool(pool, job: ScanJob, spans, emit, workers: int) -> int | None:
    bases = (_line_bases(pool.map(_count_task, spans, chunksize=4)) if job.need_lines
             else [1] * len(spans))
    pending: deque = deque()
    window = 2 * workers  # bounded: results wait for the writer, never pile up
    tasks = iter(zip(spans, bases))
    for _ in range(window):
        _submit(pool, pending, tasks)
    while pending:
        a, result = pending.popleft()
        got = result.get()
        if isinstance(got, str):
            return a
        emit(*got)
        _submit(pool, pending, tasks)
    return None


def _submit(pool, pending: deque, tasks) -> None:
    item = next(tasks, None)
    if item is not None:
        (a, b), base = item
        pending.append((a, pool.apply_async(_scan_task, ((a, b, base),))))
