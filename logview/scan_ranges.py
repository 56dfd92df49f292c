"""Matching records of a finished file without building its index (``--print`` on big files).

The file is cut into byte ranges; a range owns the records that start in it. For each range the
matcher's needles (``Matcher.needles``) are found with ``bytes.find``; around each hit the
record is found by walking lines (back to the line that starts it, forward to the next start)
with the format's ``StartDetector``, the index's own start test, so the records, their offsets
and line numbers are exactly the index's (a line that opens with a sure start byte, JSON's
``{``, starts a record without the test). For JSON lines the candidates of a range are then
decided and rendered together (``ScanJob.matching``, ``record_chunks.RecordChunks.matching``:
one-line objects read from their bytes, not parsed as text). A query with no needle whose terms are all about
levels and loggers (``level>=ERROR`` over JSON lines, where a level may be a number) is
answered by columns instead: the range's record starts are found with the same bulk start test
as the index, the format's column walker reads every record's level and logger with numpy
(``columns.columns_of``), and only the records the query's ``column_mask`` keeps are parsed.
The empty query (a whole file printed, but a text file into a pipe, which is copied) takes every
record of a range, found by the same bulk test, and hands them to a ``ChunkRenderer`` a chunk
at a time. Ranges run in forked worker processes when there are several CPUs and come back in file order.

A record longer than ``MAX_RECORD_BYTES`` (which the index would cut) is not handled here:
``NeedIndex`` tells the caller to continue from that range with the index.
"""

from __future__ import annotations

import os
import re
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from logview.boundaries import (
    MAX_RECORD_BYTES,
    NeedIndex,
    StartDetector,
    TimeCarrier,
    first_start,
)
from logview.columns import COUNT_BYTES, ColumnView, columns_of, follows
from logview.level_heads import LevelHeads
from logview.level_verdicts import keep_by_names
from logview.record import RawRecord, Record, holds_escape, parse_raw_record
from logview.scan import Matcher, QueryLike, RegexNeedle
from logview.sources.base import ByteSource
from logview.timeparse import to_timestamp

if TYPE_CHECKING:
    from logview.store import Store

#: Bytes per range (one task for a worker).
RANGE_BYTES = 32 << 20
#: Bytes per range when a needle's candidates are rendered together (``ScanJob.matching``):
#: a read this size reuses the process's memory (32 MB reads are fresh pages each time:
#: 64 MB of ``status>=500`` over JSON lines took 0.06-0.14 s more CPU, of ~0.5 s).
MATCHING_RANGE_BYTES = 8 << 20
#: Bytes per range when every record is rendered (its output, 2.6 times as big for JSON
#: lines, is held until its turn to be written).
EVERY_RANGE_BYTES = 8 << 20
#: Bytes per range when records are found by their heads (``level_heads``): a read this
#: size reuses the process's memory and stays in the cache for the pass that follows (32 MB
#: reads cost four times as much CPU, in page faults on fresh memory).
HEADS_RANGE_BYTES = 4 << 20
#: Files smaller than this are scanned in this process (forking costs more than it saves).
PARALLEL_MIN_BYTES = 64 << 20
#: Most worker processes.
MAX_WORKERS = 4


class ChunkRenderer(Protocol):
    """Renders all the records of a chunk at once (``jsonl_chunks.JsonlChunks``,
    ``record_chunks.RecordChunks``)."""

    def render(self, buf: bytes, starts: np.ndarray, line_idx: np.ndarray, offset: int,
               first_line: int) -> tuple[bytes, int]: ...


class MatchRenderer(Protocol):
    """Renders the candidate records of a chunk that a test keeps
    (``record_chunks.RecordChunks``)."""

    def matching(self, buf: bytes, spans: list[tuple[int, int]], lines: list[int | None],
                 offset: int, keep: Callable[[Record], bool], *,
                 fields_only: bool = False, escaped: bool | None = None) -> list[bytes]: ...


#: Makes a ``ChunkRenderer`` for a format (None: records are read with the parser only),
#: the name records are stamped with and the exact path for one record.
ChunkRendererFactory = Callable[[Any, str, Callable[[int, int, bytes], bytes]], ChunkRenderer]


#: Makes a ``MatchRenderer`` for a format (or None), given the same as a
#: ``ChunkRendererFactory`` (the exact path renders b"" for a record the query does not keep).
MatchRendererFactory = Callable[[Any, str, Callable[[int, int, bytes], bytes]],
                                MatchRenderer | None]


@dataclass(slots=True)
class ScanJob:
    """Everything a range scan needs (workers inherit it when they fork)."""

    source: ByteSource
    size: int
    matcher: Matcher
    name: str
    detector: StartDetector
    literals: tuple[bytes, ...] | RegexNeedle  # or the regex of a ``PatternGroup``
    folded: bool  # literals are lower-case, to be found in lower-cased bytes
    confirm: list[re.Pattern[bytes]]  # every group's regex (AND), checked on each record
    render: Callable[[Record], bytes]
    need_lines: bool
    #: No needles: the query is answered by the format's columns (``_scan_by_columns``).
    by_columns: bool = False
    #: The query is empty: every record is rendered, a chunk at a time (``ChunkRenderer``).
    every: ChunkRenderer | None = None
    #: A level query over a template that opens with the level: records found by their
    #: heads and decided by columns (``level_heads``); None: the generic needle path.
    heads: LevelHeads | None = None
    #: A record's output from its bytes alone, or None when it must be parsed
    #: (``printer.known_original_bytes`` when records are printed as read; used by the
    #: head path, whose candidates the columns decide without parsing).
    as_read: Callable[[bytes], bytes | None] | None = None
    #: Renders the records the needles found and the query keeps, together
    #: (``record_chunks.RecordChunks.matching``: one-line JSON objects read from their
    #: bytes); None: each is made and rendered here.
    matching: MatchRenderer | None = None
    #: The columns answer the query (``logger:app.db``): the records the needles found are
    #: decided by their columns and printed as the head path prints (``_scan_heads``), not
    #: each made and matched.
    hit_columns: bool = False


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
    first = first_start(job.source, job.detector, a, job.size)
    end = first_start(job.source, job.detector, b, job.size)
    if first >= end:
        return b"", 0
    buf = job.source.read_at(first, end - first)
    if len(buf) != end - first:
        raise NeedIndex(f"{job.name}: the file changed while it was read")
    final = end >= job.size
    line = line_at_a + job.source.read_at(a, first - a).count(b"\n") if job.need_lines else None
    if job.every is not None:
        return _scan_everything(job, buf, first, line)
    if job.by_columns:
        return _scan_by_columns(job, buf, first, line)
    if job.heads is not None and len(buf) <= MAX_RECORD_BYTES:
        # (A longer range could hold a record the index cuts, that no head shows.)
        named = job.heads.named_spans(buf)
        if named is not None:
            return _scan_heads(job, buf, named, first, line)
    escaped = holds_escape(buf)  # (a pass over the range: asked once)
    hits = Matcher.hits(buf, job.literals, job.folded, escaped)
    counted = 0
    done = 0  # end of the last record handled: a record start
    out: list[bytes] = []
    test_at, record_end = job.detector.starts_at, job.detector.next_start
    # A line that opens with one of these bytes starts a record (JSON's ``{``): no test.
    sure = job.detector.format.sure_start_bytes if job.detector.signature is None else b""
    sure_byte = sure[0] if len(sure) == 1 else -1  # (one byte: compared, not searched)
    rfind, find, admits = buf.rfind, buf.find, Matcher.admits
    name, make = job.name, job.matcher.record
    render, confirm, chunks = job.render, job.confirm, job.matching
    spans: list[tuple[int, int]] = []
    lines: list[int | None] = []
    size = len(buf)
    by_columns = chunks is None and job.hit_columns and size <= MAX_RECORD_BYTES
    line_at_first = line
    for hit in hits:
        if hit < done:
            continue
        s = rfind(b"\n", done, hit) + 1 or done
        if buf[s] != sure_byte and not (sure and buf[s:s + 1] in sure):
            line_start = s
            while s > done and not test_at(buf, s, final):
                s = rfind(b"\n", done, s - 1) + 1 or done
                if line_start - s > MAX_RECORD_BYTES:
                    raise NeedIndex(f"{name}: a record longer than {MAX_RECORD_BYTES} bytes")
        e = find(b"\n", hit) + 1 or size
        if not (e < size and buf[e] == sure_byte) and not (sure and buf[e:e + 1] in sure):
            e = record_end(buf, e, final)
        if e - s > MAX_RECORD_BYTES:
            raise NeedIndex(f"{name}: a record longer than {MAX_RECORD_BYTES} bytes")
        done = e
        if confirm and not admits(buf[s:e], confirm):
            continue
        if by_columns:
            spans.append((s, e))
            continue
        if line is not None:
            line += buf.count(b"\n", counted, s)
            counted = s
        if chunks is not None:  # decided and rendered together below
            spans.append((s, e))
            lines.append(line)
            continue
        record = make(RawRecord(first + s, line, buf[s:e]), name)  # type: ignore[arg-type]
        if record is not None:  # matched, and redacted when --redact is on
            out.append(render(record))
    if by_columns:
        return _scan_heads(job, buf, [(s, e, None) for s, e in spans], first, line_at_first)
    if chunks is not None:
        out = [piece for piece in chunks.matching(
            buf, spans, lines, first, job.matcher.matches,
            fields_only=getattr(job.matcher.query, "fields_only", False), escaped=escaped)
            if piece]
    return b"".join(out), len(out)


def _record_starts(detector: StartDetector, buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Where the records of ``buf`` (which starts a record and ends where one starts, or at
    the end of the file) start, and how many newlines come before each: the index's bulk
    start test on every line (an unfinished last line gets the index's test for it)."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    complete = int(nl[-1]) + 1 if len(nl) else 0
    starts = np.empty(len(nl), dtype=np.int64)
    if len(nl):
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
    mask = detector.mask(buf[:complete], arr[:complete], starts, nl.astype(np.int64))
    if complete < len(buf):  # the file's last line has no newline
        starts = np.append(starts, complete)
        mask = np.append(mask, detector.line_starts_record(buf[complete:]))
    if len(mask):
        mask[0] = True  # the range begins at a record start (first_start)
    line_idx = np.flatnonzero(mask)
    return starts[line_idx], line_idx


def _column_keep(job: ScanJob, chunk: bytes, part: np.ndarray, at: int,
                 offsets: list[int] | None = None) -> np.ndarray:
    """Which records ``chunk[part[j]:part[j + 1]]`` (read at offset ``at``; or records
    side by side read at ``offsets``) the query's ``column_mask`` keeps, from the format's
    columns (records they cannot read are parsed)."""
    fmt, name = job.matcher.format, job.name
    carry = job.matcher.time_before
    cols = columns_of(fmt, name, chunk, part, at, time_before=carry, offsets=offsets)

    def stamp_of(j: int) -> float | None:
        s, e = int(part[j]), int(part[j + 1])
        record = parse_raw_record(fmt, RawRecord(at + s, None, chunk[s:e]), name)
        if record.time is None and carry is not None:  # (the time before's, exactly)
            if follows(offsets, part, j):
                return stamp_of(j - 1)
            moment = carry(at + s if offsets is None else offsets[j])
            return None if moment is None else to_timestamp(moment)
        return record.timestamp

    def exact(which: np.ndarray) -> np.ndarray:
        out = np.full(len(which), np.nan)
        for k, j in enumerate(which.tolist()):
            stamp = stamp_of(j)
            out[k] = np.nan if stamp is None else stamp
        return out

    # Levels, loggers and times are never redacted: the columns decide as the redacted record
    # would.
    return job.matcher.query.column_mask(ColumnView.of_chunk(cols, exact))


def _scan_by_columns(job: ScanJob, buf: bytes, first: int, line: int | None
                     ) -> tuple[bytes, int]:
    """``scan_range`` for a query the columns answer: walk the records' heads a few MB at a
    time, parse only those the column mask keeps."""
    starts, line_idx = _record_starts(job.detector, buf)
    rel = np.append(starts, len(buf))
    if len(rel) > 1 and int(np.diff(rel).max()) > MAX_RECORD_BYTES:
        raise NeedIndex(f"{job.name}: a record longer than {MAX_RECORD_BYTES} bytes")
    name, make, render = job.name, job.matcher.record, job.render
    out: list[bytes] = []
    lo, count = 0, len(rel) - 1
    while lo < count:
        hi = max(lo + 1, int(np.searchsorted(rel, rel[lo] + COUNT_BYTES, side="right")) - 1)
        hi = min(hi, count)
        base = int(rel[lo])
        part = rel[lo:hi + 1] - base
        chunk = buf[base:int(rel[hi])]
        keep = _column_keep(job, chunk, part, first + base)
        for j in np.flatnonzero(keep).tolist():
            s, e = int(part[j]), int(part[j + 1])
            at = None if line is None else line + int(line_idx[lo + j])
            record = make(RawRecord(first + base + s, at, chunk[s:e]), name)  # type: ignore[arg-type]
            if record is not None:
                out.append(render(record))
        lo = hi
    return b"".join(out), len(out)


def _scan_heads(job: ScanJob, buf: bytes, named: list[tuple[int, int, bytes | None]],
                first: int, line: int | None) -> tuple[bytes, int]:
    """``scan_range`` for a level query found by record heads (``level_heads``), or for the
    records the needles found of a query the columns answer (``ScanJob.hit_columns``; their
    names None): when the query reads only levels and the heads name them, the level each
    head names decides (the number the parser reads from the name); else the candidate
    records side by side in one chunk, their columns read at once. The ones kept are printed
    as their bytes, or made and rendered."""
    if not named:
        return b"", 0
    spans = [(s, e) for s, e, _ in named]
    pieces = [buf[s:e] for s, e in spans]
    names = [name for _, _, name in named]
    keep = None
    if job.heads is not None and None not in names:
        keep = keep_by_names(job.heads, job.matcher.query, names)  # type: ignore[arg-type]
    if keep is None:
        part = np.zeros(len(spans) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=part[1:])
        # (Offsets in the joined chunk are not the file's: only the columns are read from it.)
        keep = _column_keep(job, b"".join(pieces), part, first, [first + s for s, _ in spans])
    name, make, render, as_read = job.name, job.matcher.record, job.render, job.as_read
    kept = range(len(pieces)) if keep is True else np.flatnonzero(keep).tolist()
    if as_read is not None and all(as_read(pieces[j]) is pieces[j] for j in kept[-1:]):
        joined = b"".join(pieces if keep is True else [pieces[j] for j in kept])
        if b"{" not in joined:
            # Every kept record is printed as it is (``printer.known_original_bytes``: text
            # with no ``{``, ending at a newline as all but the range's last do; that one
            # was just asked).
            return joined, len(kept)
    out: list[bytes] = []
    counted = 0
    for j in kept:
        data = pieces[j]
        if as_read is not None:
            text = as_read(data)
            if text is not None:
                out.append(text)
                continue
        s = spans[j][0]
        if line is not None:
            line += buf.count(b"\n", counted, s)
            counted = s
        record = make(RawRecord(first + s, line, data), name)  # type: ignore[arg-type]
        if record is not None:  # matched, and redacted when --redact is on
            out.append(render(record))
    return b"".join(out), len(out)


def _scan_everything(job: ScanJob, buf: bytes, first: int, line: int | None
                     ) -> tuple[bytes, int]:
    """``scan_range`` for the empty query: every record of the range, rendered a chunk at a
    time by ``job.every``."""
    starts, line_idx = _record_starts(job.detector, buf)
    if len(starts) and int(np.diff(np.append(starts, len(buf))).max()) > MAX_RECORD_BYTES:
        raise NeedIndex(f"{job.name}: a record longer than {MAX_RECORD_BYTES} bytes")
    assert job.every is not None
    return job.every.render(buf, starts, line_idx, first, 1 if line is None else line)


def _columns_answer(fmt: Any, query: QueryLike) -> bool:
    """Whether ``query`` is answered by ``fmt``'s columns alone (levels, loggers and times)
    and the format has a walker to read them."""
    mask_of = getattr(query, "column_mask", None)
    if mask_of is None or fmt.column_walker() is None:
        return False
    return mask_of(ColumnView.empty()) is not None


def make_job(store: Store, query: QueryLike, render: Callable[[Record], bytes], *,
             need_lines: bool, every: ChunkRendererFactory | None = None,
             as_read: Callable[[bytes], bytes | None] | None = None,
             matching: MatchRendererFactory | None = None) -> ScanJob | None:
    """A job for ``store``, or None when a direct scan does not apply: a merged store, a source
    that may still grow, a query without needles to find that the columns cannot answer, an
    empty query without ``every``.

    ``need_lines``: records need their line numbers (jsonl output); they also do whenever the
    query may read them (``line>=N``, ``has:line``), which costs a newline count per range.
    ``every``: for the empty query, makes what renders whole chunks of records (given the
    format, or None with ``--redact``: a redacted record is made by the parser).
    ``as_read``: ``render``'s output from a record's bytes alone when it is known without
    parsing (records printed as read), else None.
    ``matching``: makes what decides and renders the records the needles found together
    (given the format; it may make none: each is then made and rendered by itself); not
    with ``--redact``.
    """
    if len(store.parts()) != 1 or not store.source.finished:
        return None
    if query.is_empty and every is None:
        return None
    redactor = getattr(store, "redactor", None)
    matcher = Matcher(store.format, query, redactor)
    detector = StartDetector(store.format)
    if store.format.time_from_previous and (getattr(query, "reads_time", True)
                                            or as_read is None or redactor is not None):
        matcher.time_before = TimeCarrier(store.source, detector)
    chunks = None
    if query.is_empty:
        assert every is not None
        name, make = store.name, matcher.record

        def one(offset: int, line: int, data: bytes) -> bytes:
            record = make(RawRecord(offset, line, data), name)
            assert record is not None  # the empty query matches every record
            return render(record)

        chunks = every(store.format if redactor is None else None, name, one)
        needles, by_columns = None, False
    else:
        needles = matcher.needles()
        by_columns = needles is None and _columns_answer(store.format, query)
        if needles is None and not by_columns:
            return None
    literals, folded, confirm = needles if needles is not None else ((), False, [])
    need_lines = need_lines or "line" in str(getattr(query, "text", "line")).lower()
    heads = None
    if needles is not None and _columns_answer(store.format, query):
        heads = LevelHeads.for_query(detector, getattr(query, "min_level", 0))
    found = None
    if matching is not None and needles is not None and heads is None and redactor is None:
        name, make = store.name, matcher.record

        def one_match(offset: int, line: int, data: bytes) -> bytes:
            record = make(RawRecord(offset, line, data), name)
            return b"" if record is None else render(record)

        found = matching(store.format, name, one_match)
    source = store.source
    source.update()
    hit_columns = needles is not None and heads is None and _columns_answer(store.format, query)
    return ScanJob(source, source.size(), matcher, store.name, detector, literals, folded,
                   confirm, render, need_lines, by_columns, chunks, heads,
                   as_read if redactor is None and store.format.prints_raw else None, found,
                   hit_columns)


# ---------------------------------------------------------------------------------------------
# Running the ranges, in this process or in forked workers.

_JOB: ScanJob | None = None  # set before forking: workers inherit it


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _count_task(span: tuple[int, int]) -> int:
    assert _JOB is not None
    return count_lines(_JOB, *span)


def _scan_task(task: tuple[int, int, int, int]) -> tuple[bytes, int] | str:
    """Range ``k`` = [a, b) whose first line is line ``base``: (output, count), or why the
    index must take over (a str)."""
    assert _JOB is not None
    k, a, b, base = task
    try:
        data, count = scan_range(_JOB, a, b, base)
    except NeedIndex as exc:
        return str(exc)
    if _WRITES is None:
        return data, count
    _WRITES.write(k, data)
    return b"", count


class OrderedWrites:
    """Workers write the output of their ranges themselves, in file order (range ``k`` once
    ``k - 1`` is written): a whole file's JSON lines, 2.6 times its size, need not be pickled
    to the parent and written again.

    A range's result reaches the parent only once it is written, so when the parent sees a
    range hand over to the index, every range before it is written and the ones after it
    still wait for their turn: the parent ends them (``Pool.terminate``)."""

    def __init__(self, fd: int) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.fd = fd
        self._cond = ctx.Condition()
        self._turn = ctx.RawValue("q", 0)

    def write(self, k: int, data: bytes) -> None:
        """Write range ``k``'s output in its turn."""
        with self._cond:
            while self._turn.value != k:
                self._cond.wait()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        with self._cond:
            self._turn.value = k + 1
            self._cond.notify_all()


_WRITES: OrderedWrites | None = None  # set before forking, with _JOB


def _workers(size: int) -> int:
    if size < PARALLEL_MIN_BYTES:
        return 1
    import multiprocessing  # (here: a small input never forks, and its start saves 7 ms)

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


def run_job(job: ScanJob, emit: Callable[[bytes, int], None], *,
            range_bytes: int | None = None, workers: int | None = None,
            out_fd: int | None = None) -> int | None:
    """Scan every range, calling ``emit(rendered, count)`` in file order.

    With ``out_fd`` and forked workers, the workers write what they render to ``out_fd``
    themselves, in order, and ``emit`` gets only the counts (``b""``); flush what was
    written to ``out_fd`` before. Returns None when done, or the offset of the range from
    which the index must take over.
    """
    global _JOB, _WRITES
    if range_bytes is None:
        range_bytes = (EVERY_RANGE_BYTES if job.every is not None
                       else HEADS_RANGE_BYTES if job.heads is not None
                       else MATCHING_RANGE_BYTES if job.matching is not None else RANGE_BYTES)
    spans = [(a, min(a + range_bytes, job.size)) for a in range(0, job.size, range_bytes)]
    if not spans:
        return None
    workers = _workers(job.size) if workers is None else workers
    workers = min(workers, len(spans))
    _JOB = job
    try:
        if workers <= 1:
            return _run_inline(job, spans, emit)
        _WRITES = OrderedWrites(out_fd) if out_fd is not None else None
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers, _worker_init) as pool:
            try:
                return _run_pool(pool, job, spans, emit, workers)
            finally:
                pool.terminate()
    finally:
        _JOB = _WRITES = None


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
    tasks = iter(enumerate(zip(spans, bases)))
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
        k, ((a, b), base) = item
        pending.append((a, pool.apply_async(_scan_task, ((k, a, b, base),))))
