"""The compact record index: where each record of a byte source starts, 4 bytes a record.

Built progressively from big ``read_at`` reads (pread, never mmap: a file truncated under an
mmap raises SIGBUS). Each chunk (4 MB, at most two in flight on a small thread pool: numpy
and pread release the GIL) has its newlines found with numpy and its record starts decided for
all lines at once by ``StartDetector`` (``logview.boundaries``). Memory stays bounded
whatever the file size: the chunks in flight plus 4 bytes per record (each block of starts is
stored as uint32 offsets from the block's first start; a block spanning 4 GiB or more, only
possible with giant records, is widened to absolute int64).

``update(budget=...)`` returns after about that many seconds and a later call continues, so a
viewer can show the first records of a huge file long before the index is complete.

One writer (a worker calling ``update``) and any number of readers: readers always see a
consistent prefix (entries are written before the count that publishes them).
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from bisect import bisect_right
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from logview.boundaries import StartDetector
from logview.formats.base import LogFormat
from logview.record import MAX_RECORD_BYTES
from logview.sources.base import ByteSource, SourceError

if TYPE_CHECKING:
    from logview.range_columns import RangeColumns

__all__ = ["CHUNK_BYTES", "IndexingError", "RecordIndex", "StartDetector",
           "line_bounds"]

#: Bytes read per step while indexing.
CHUNK_BYTES = 4 << 20
#: Record starts per storage block (fixed size: growth never copies what is stored).
BLOCK_RECORDS = 1 << 16
#: The largest offset from its block's first start that a compact (uint32) block can hold.
_SPAN_MAX = (1 << 32) - 1
#: A line-number checkpoint every this many records (line numbers cost ~0 bytes per record).
LINE_CHECKPOINT = 1 << 10
#: Chunks being scanned at once (each holds its bytes and a newline mask).
IN_FLIGHT = 2
#: Bytes compared with the newline byte at once (the per-thread mask buffer's size).
_MASK_SLICE = 1 << 20
#: Least seconds of one ``update`` while range workers scan: a slice ends with its ranges in
#: flight drained, the workers idle until the next begins (1 s against 0.3 s: 26.4 / 38.5 s
#: against 30.0 / 46.4 s to index the 1 GB dash file headless at load 7-10).
_RANGES_SLICE = 1.0
#: Bytes read past a chunk's target end to find the newline that ends it.
_PROBE = 1 << 16


class IndexingError(SourceError):
    """The source did not give back bytes it said it had (it changed under the index)."""


class _ShortRead(IndexingError):
    """A read came back short: a followed file is being truncated or rotated right now, or
    bytes are gone for good from ``at`` on."""

    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.at = at  # where the bytes read stopped


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_SCRATCH = threading.local()


def _pool() -> ThreadPoolExecutor:
    """Threads that scan chunks (numpy and pread release the GIL, so chunks overlap)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(1, min(IN_FLIGHT, os.cpu_count() or 1)),
                                       thread_name_prefix="logview-index")
        return _POOL


def _new_block(records: int, dtype: type[np.integer] = np.uint32) -> np.ndarray:
    """Storage for ``records`` offsets of ``dtype`` in its own anonymous mapping (on the
    malloc heap, blocks that live as long as the index pinned the freed chunk buffers around
    them; not file-backed: no SIGBUS on truncation)."""
    return np.frombuffer(mmap.mmap(-1, records * np.dtype(dtype).itemsize), dtype=dtype)


def _newline_positions(arr: np.ndarray) -> np.ndarray:
    """Positions of the newlines of ``arr`` (int64): ``arr == 10`` in slices into a reused
    per-thread buffer (fresh chunk-sized masks cost page faults and memory per chunk)."""
    buf = getattr(_SCRATCH, "newlines", None)
    if buf is None:
        buf = _SCRATCH.newlines = np.empty(_MASK_SLICE, dtype=bool)
    n = len(arr)
    if n <= _MASK_SLICE:
        return np.flatnonzero(np.equal(arr, 10, out=buf[:n]))
    parts = []
    for lo in range(0, n, _MASK_SLICE):
        piece = arr[lo : lo + _MASK_SLICE]
        hits = np.flatnonzero(np.equal(piece, 10, out=buf[: len(piece)]))
        if len(hits):
            parts.append(hits + lo)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.intp)


def line_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (newline positions) of the lines of ``arr``, which ends with one."""
    ends = _newline_positions(arr)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


@dataclass(slots=True, frozen=True)
class _Lines:
    """Line numbers of starts, ``base`` plus each line index: read for the checkpoints
    alone (one in ``LINE_CHECKPOINT``), never made whole."""

    index: np.ndarray
    base: int

    def __getitem__(self, k: int) -> int:
        return int(self.index[k]) + self.base


@dataclass(slots=True)
class _Scanned:
    """Record starts found in one line-aligned range ``[pos, end)``."""

    pos: int
    end: int
    starts: np.ndarray  # record starts, relative to pos
    line_idx: np.ndarray  # which line of the range each start is
    lines: int  # lines in the range
    line_starts: np.ndarray | None = None  # all lines, only kept when already at hand
    line_ends: np.ndarray | None = None
    columns: Any = None  # a worker's reply to come: what ``ranges`` read of these records


class RecordIndex:
    """Start offsets of the records of ``source`` in ``fmt``, growing as the source grows."""

    def __init__(
        self,
        source: ByteSource,
        fmt: LogFormat,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        block_records: int = BLOCK_RECORDS,
    ) -> None:
        self.source = source
        self.format = fmt
        self.detector = StartDetector(fmt)
        self._chunk = max(1024, chunk_bytes)
        self._block = block_records
        self._lock = threading.RLock()
        self._update_lock = threading.Lock()
        #: Scans big backlogs in forked workers that also read the records' columns (set by
        #: a store that counts its records).
        self.ranges: RangeColumns | None = None
        self._reset()
        self.generation = source.generation

    def _reset(self) -> None:
        # Block b holds starts b * block .. as uint32 offsets from ``_bases[b]`` (its first
        # start), or, if it spans 4 GiB or more, as absolute int64 with ``_bases[b] == 0``.
        self._blocks: list[np.ndarray] = []
        self._bases: list[int] = []
        self._firsts: list[int] = []  # first start of each block, for bisect
        self._count = 0  # starts stored
        self._end = 0  # bytes indexed (line aligned, or the size after a final flush)
        self._line_at_end = 1  # line number of the line that starts at ``_end``
        self._committed = False  # the last start's record is complete (final flush)
        self._force_start = True  # the next line starts a record whatever it holds
        #: Bytes gone for good that a read ran into ahead of the index: (where, until).
        self._gone_ahead: tuple[int, int] | None = None
        self._checkpoints: list[int] = []  # line of record k * LINE_CHECKPOINT
        self._line_hint = (0, 1, 0)  # (record, its line, its start): sequential readers count on
        if getattr(self, "ranges", None) is not None:
            self.ranges.reset()

    # -- readers ---------------------------------------------------------------------------
    def __len__(self) -> int:
        count = self._count
        return count if self._committed or count == 0 else count - 1

    @property
    def indexed_bytes(self) -> int:
        """Bytes of the source taken into the index so far."""
        return self._end

    @property
    def nbytes(self) -> int:
        """Memory held by the start offsets (what the 4 bytes a record promise is about).

        The last block counts only the pages written so far: the rest of its anonymous
        mapping is never touched, so it holds no memory.
        """
        with self._lock:
            if not self._blocks:
                return 8 * len(self._checkpoints)
            last = self._blocks[-1]
            used = (self._count - (len(self._blocks) - 1) * self._block) * last.itemsize
            last_bytes = min(last.nbytes, -(-used // mmap.PAGESIZE) * mmap.PAGESIZE)
            full = sum(block.nbytes for block in self._blocks[:-1])
            return full + last_bytes + 8 * len(self._checkpoints)

    def start(self, i: int) -> int:
        """Byte offset where record ``i`` starts."""
        with self._lock:
            if not 0 <= i < self._count:
                raise IndexError(f"record {i} is not indexed")
            b, k = divmod(i, self._block)
            return int(self._blocks[b][k]) + self._bases[b]

    def end(self, i: int) -> int:
        """Byte offset just past record ``i``."""
        with self._lock:
            if i + 1 < self._count:
                return self.start(i + 1)
            if i + 1 == self._count:
                return self._end
            raise IndexError(f"record {i} is not indexed")

    def bounds(self, lo: int, hi: int) -> np.ndarray:
        """Starts of records ``lo..hi-1`` followed by the end of record ``hi-1`` (int64)."""
        with self._lock:
            hi = min(hi, self._count)
            lo = max(0, min(lo, hi))
            out = np.empty(hi - lo + 1, dtype=np.int64)
            block = self._block
            i = lo
            while i < hi:
                b, k = divmod(i, block)
                take = min(hi - i, block - k)
                part = out[i - lo : i - lo + take]
                part[:] = self._blocks[b][k : k + take]
                if self._bases[b]:
                    part += self._bases[b]
                i += take
            out[-1] = self.start(hi) if hi < self._count else self._end
            return out

    def find(self, offset: int) -> int:
        """Position of the record that contains byte ``offset`` (-1 before the first)."""
        with self._lock:
            b = bisect_right(self._firsts, offset) - 1
            if b < 0:
                return -1
            filled = min(self._block, self._count - b * self._block)
            # bisect on a memoryview compares Python ints: no dtype conversion of the block or
            # the key, and faster than np.searchsorted (a numpy call) for one key.
            k = bisect_right(memoryview(self._blocks[b]), offset - self._bases[b], 0, filled)
            return b * self._block + k - 1

    def line(self, i: int) -> int:
        """1-based line number where record ``i`` starts (counted from a nearby checkpoint)."""
        with self._lock:
            c = i // LINE_CHECKPOINT
            base_line = self._checkpoints[c]
            base = self.start(c * LINE_CHECKPOINT)
            target = self.start(i)
            hint_i, hint_line, hint_start = self._line_hint
            if c * LINE_CHECKPOINT < hint_i <= i and self.start(hint_i) == hint_start:
                base_line, base = hint_line, hint_start  # closer than the checkpoint
        count = 0
        pos = base
        while pos < target:
            data = self.source.read_at(pos, min(self._chunk, target - pos))
            if not data:
                break
            count += data.count(b"\n")
            pos += len(data)
        self._line_hint = (i, base_line + count, target)
        return base_line + count

    # -- the writer ------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """Everything the source has is indexed and the last record is committed."""
        return self._committed and self._end >= self.source.size()

    def update(self, *, final: bool = False, budget: float | None = None) -> int:
        """Index what the source has now; return how many records became complete.

        ``budget`` (seconds) stops after about that long (at least one chunk is indexed); a
        later call continues where this one stopped (``indexed_bytes`` tells how far).
        ``final`` (or a finished source) also completes the last record, including an
        unfinished last line, once everything before it is indexed. A generation change
        (truncation) starts over from zero.
        """
        deadline = None if budget is None else time.monotonic() + max(0.0, budget)
        with self._update_lock:
            self.source.update()
            size = self.source.size()
            if self.source.generation != self.generation or size < self._end:
                with self._lock:
                    self._reset()
                    self.generation = self.source.generation
            before = len(self)
            caught_up = self._index_until(size, deadline)
            ahead = self._gone_ahead
            if ahead is not None and self.source.generation == self.generation:
                # Bytes gone for good ahead ([at, gone)): index up to them, then step over.
                at, gone = ahead
                if self._end < at and not self._index_until(min(size, at), deadline):
                    return len(self) - before
                self._gone_ahead = None
                self._step_over(gone)
                caught_up = self._index_until(size, deadline)
            if (
                caught_up
                and (final or self.source.finished)
                and (self._end < size or not self._committed)
            ):
                try:
                    self._flush_tail(size)
                except _ShortRead as exc:
                    self._short_read(exc)
            return len(self) - before

    def _index_until(self, size: int, deadline: float | None) -> bool:
        """Index the complete lines below ``size``; False if the deadline came first.

        Up to ``IN_FLIGHT`` line-aligned chunks are scanned by the pool while results are
        published here in order.
        """
        pending: deque[Future[_Scanned]] = deque()
        ranges = self.ranges  # not for the first slice: the first rows show at once
        if ranges is not None and (not self._count or not ranges.engage(size - self._end)):
            ranges = None
        if ranges is not None and deadline is not None:  # slices long enough that the
            deadline = max(deadline, time.monotonic() + _RANGES_SLICE)  # workers rarely wait
        try:
            caught_up = self._index_loop(pending, self._end, size, deadline, ranges)
            if caught_up and ranges is not None:
                ranges.stop()
            return caught_up
        except _ShortRead as exc:
            self._short_read(exc)
            return False  # the source sees the change on its next update; index again then
        finally:
            for future in pending:  # only after an error: nothing is published out of order
                future.cancel()

    def _short_read(self, exc: _ShortRead) -> None:
        """A read came back shorter than the source's size promised: bytes that are gone for
        good are stepped over (where they start: the index first reads up to there); a file
        read as it is that changed is an error (said)."""
        at = max(exc.at, self._end)
        gone = self.source.gone_until(at)
        if gone > at:  # bytes that can never be read again: go on after them
            if at <= self._end:
                self._step_over(gone)
            else:
                self._gone_ahead = (at, gone)
        elif self.source.finished:  # a file read as it is that changed: say so
            raise IndexingError(str(exc)) from None

    def _step_over(self, gone: int) -> None:
        with self._lock:
            self._end = max(self._end, gone)
            self._force_start = True

    def _read_exact(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset``, which the source's size says it has; fewer (the file
        was cut below that, even below where the index reads) is a ``_ShortRead``, never
        taken for the end of input."""
        data = self.source.read_at(offset, size)
        if len(data) < size:
            raise _ShortRead(f"{self.source.name} changed while it was being read (got "
                             f"{len(data)} of {size} bytes at offset {offset})",
                             offset + len(data))
        return data

    def _index_loop(self, pending: deque[Future[_Scanned]], pos: int, size: int,
                    deadline: float | None, ranges: RangeColumns | None) -> bool:
        """The loop of ``_index_until`` (``pending`` is its to cancel on an error)."""
        submitted = 0
        pool, in_flight, scan = _pool(), IN_FLIGHT, self._scan
        if ranges is not None:
            scan = partial(self._scan_with_columns, ranges, size)
        while True:
            while len(pending) < in_flight and pos < size:
                if submitted and deadline is not None and time.monotonic() >= deadline:
                    break
                span = self._next_span(pos, size)
                if span is None:  # a very long line, or only an unfinished line left
                    break
                pending.append(pool.submit(scan, *span))
                submitted += 1
                pos = span[1]
            if pending:
                self._publish(pending.popleft().result())
                continue
            if pos >= size:
                return True
            if submitted and deadline is not None and time.monotonic() >= deadline:
                return False
            step = self._index_chunk(pos, size)
            if step == 0:
                return True
            submitted += 1
            pos += step

    def _next_span(self, pos: int, size: int) -> tuple[int, int] | None:
        """A line-aligned range of about a chunk from ``pos``, or None if none is found."""
        target = pos + self._chunk
        if target >= size:
            tail_at = max(pos, size - _PROBE)
            tail = self._read_exact(tail_at, size - tail_at)
            nl = tail.rfind(b"\n")
            return None if nl < 0 else (pos, tail_at + nl + 1)
        ahead = self._read_exact(target - 1, min(_PROBE, size - target + 1))
        nl = ahead.find(b"\n")
        return None if nl < 0 else (pos, target + nl)

    def _scan(self, a: int, b: int) -> _Scanned:
        """Record starts among the lines of the line-aligned range ``[a, b)`` (thread-safe)."""
        return self._scan_bytes(a, b, self._read_lines(a, b))

    def _read_lines(self, a: int, b: int) -> bytes:
        """The bytes of the line-aligned range ``[a, b)``, which must still end a line."""
        data = self._read_exact(a, b - a)
        if not data.endswith(b"\n"):
            raise _ShortRead(f"{self.source.name} changed while it was being read (the "
                             f"{b - a} bytes at offset {a} no longer end a line)", a)
        return data

    def _scan_bytes(self, a: int, b: int, data: bytes) -> _Scanned:
        arr = np.frombuffer(data, dtype=np.uint8)
        starts, ends = line_bounds(arr)
        line_idx = np.flatnonzero(self.detector.mask(data, arr, starts, ends))
        return _Scanned(a, b, starts[line_idx], line_idx, len(ends))

    def _scan_with_columns(self, ranges: RangeColumns, size: int, a: int, b: int
                           ) -> _Scanned:
        """``_scan``, and the records' columns read while the bytes are at hand (counting
        rides on the index): by a worker of ``ranges`` when one is free (the index never
        waits for it), else here. Not when the counter lags (``room``): it reads them."""
        data = self._read_lines(a, b)
        found = self._scan_bytes(a, b, data)
        if len(found.starts) and ranges.ready.room(len(found.starts)):
            probe = self.source.read_at(b, min(_PROBE, size - b)) if b < size else b""
            found.columns = ranges.read(data, probe, a, found.starts)
        return found

    def _index_chunk(self, pos: int, size: int) -> int:
        """Index the complete lines of one read at ``pos``; return bytes consumed (0: none)."""
        data = self._read_exact(pos, min(self._chunk, size - pos))
        last_nl = data.rfind(b"\n")
        if last_nl < 0:
            if pos + len(data) >= size:
                return 0  # an unfinished last line: wait for its end
            return self._index_long_line(pos, size, data)
        del data
        self._publish(self._scan(pos, pos + last_nl + 1))
        return last_nl + 1

    def _index_long_line(self, pos: int, size: int, head: bytes) -> int:
        """A line longer than a chunk: find its end without holding it in memory."""
        scan = pos + len(head)
        nl = -1
        while scan < size:
            more = self._read_exact(scan, min(self._chunk, size - scan))
            hit = more.find(b"\n")
            if hit >= 0:
                nl = scan + hit
                break
            scan += len(more)
        if nl < 0:
            return 0
        starts = np.array([0], dtype=np.int64)
        ends = np.array([nl - pos], dtype=np.int64)
        first = np.flatnonzero(np.array([self.detector.line_starts_record(head)]))
        self._publish(_Scanned(pos, nl + 1, starts[first], first, 1, starts, ends))
        return nl + 1 - pos

    def _publish(self, found: _Scanned) -> None:
        """Append the record starts of a scanned range (ranges arrive in order)."""
        pos, line_idx, rel = found.pos, found.line_idx, found.starts
        columns = found.columns  # they hold for the starts as scanned, not others
        if self._force_start and (len(line_idx) == 0 or line_idx[0] != 0):
            line_idx = np.concatenate([np.zeros(1, dtype=line_idx.dtype), line_idx])
            rel = np.concatenate([np.zeros(1, dtype=rel.dtype), rel])
            columns = None
        prev = self._last_start()
        # (no record can be too long when the whole span is not: the common case, without
        # a pass over the starts)
        if found.end - (prev if prev >= 0 else pos) > MAX_RECORD_BYTES and int(np.diff(
                np.concatenate([[prev if prev >= 0 else pos], rel + pos, [found.end]])).max()) \
                > MAX_RECORD_BYTES:
            line_idx = self._cut_long_records(found, line_idx, prev)
            rel = self._line_starts(found)[line_idx]
            columns = None
        lines = _Lines(line_idx, self._line_at_end)
        with self._lock:
            if columns is not None and self.ranges is not None:  # the worker's reply
                self.ranges.expect(self._count, found.starts, columns)
            self._append(rel, lines, pos)
            self._end = found.end
            self._line_at_end += found.lines
            if len(rel):
                self._committed = False
            self._force_start = False

    def _line_starts(self, found: _Scanned) -> np.ndarray:
        if found.line_starts is None:  # re-read the range (a rare path: a huge record)
            data = self.source.read_at(found.pos, found.end - found.pos)
            found.line_starts, found.line_ends = line_bounds(np.frombuffer(data, np.uint8))
        return found.line_starts

    def _cut_long_records(self, found: _Scanned, line_idx: np.ndarray, prev: int) -> np.ndarray:
        """Cut records over ``MAX_RECORD_BYTES`` before the line that would overflow them."""
        pos = found.pos
        starts = self._line_starts(found)
        ends = found.line_ends
        assert ends is not None
        is_start = np.zeros(len(starts), dtype=bool)
        is_start[line_idx] = True
        current = prev if prev >= 0 else pos
        for j in range(len(starts)):
            line_start = pos + int(starts[j])
            if is_start[j]:
                current = line_start
            elif pos + int(ends[j]) + 1 - current > MAX_RECORD_BYTES and line_start > current:
                is_start[j] = True
                current = line_start
        return np.flatnonzero(is_start)

    def _last_start(self) -> int:
        if self._count == 0:
            return -1
        b, k = divmod(self._count - 1, self._block)
        return int(self._blocks[b][k]) + self._bases[b]

    def _append(self, offsets: np.ndarray, lines: np.ndarray | _Lines, at: int = 0) -> None:
        """Store offsets (``at`` plus each; and line checkpoints); the count is published
        last."""
        count = self._count
        block = self._block
        done = 0
        total = len(offsets)
        while done < total:
            b, k = divmod(count + done, block)
            if b == len(self._blocks):
                first = int(offsets[done]) + at
                self._blocks.append(_new_block(block))
                self._bases.append(first)
                self._firsts.append(first)
            take = min(total - done, block - k)
            piece = offsets[done : done + take]
            shift = at - self._bases[b]
            if self._blocks[b].dtype == np.uint32 and int(piece[-1]) + shift > _SPAN_MAX:
                self._widen(b, k)  # starts only grow: the last one has the largest span
                shift = at
            # (into the block at once: no array of absolute offsets in between)
            np.add(piece, shift, out=self._blocks[b][k : k + take], casting="unsafe")
            done += take
        if total:
            first_cp = -(-count // LINE_CHECKPOINT) * LINE_CHECKPOINT
            for r in range(first_cp, count + total, LINE_CHECKPOINT):
                self._checkpoints.append(int(lines[r - count]))
        self._count = count + total

    def _widen(self, b: int, filled: int) -> None:
        """Turn compact block ``b`` (``filled`` entries) into absolute int64 offsets.

        Called with the lock held, like every write: readers see either block whole.
        """
        wide = _new_block(self._block, np.int64)
        wide[:filled] = self._blocks[b][:filled]
        wide[:filled] += self._bases[b]
        self._blocks[b] = wide
        self._bases[b] = 0

    def _flush_tail(self, size: int) -> None:
        """Complete the last record; an unfinished last line joins it or starts one."""
        with self._lock:
            if self._end < size:
                head = self._read_exact(self._end, min(4096, size - self._end))
                if self._force_start or self.detector.line_starts_record(head.split(b"\n")[0]):
                    self._append(np.array([self._end], dtype=np.int64),
                                 np.array([self._line_at_end]))
                self._end = size  # the line goes on if more comes: same line number
            self._committed = True
            self._force_start = True
