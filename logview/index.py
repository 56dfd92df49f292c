"""The compact record index: where each record of a byte source starts, 8 bytes a record.

Built progressively from big ``read_at`` reads (pread, never mmap: a file truncated under an
mmap raises SIGBUS). Newlines are found with numpy and record starts are decided for all lines of
a chunk at once from the format's start signature (``logview.pattern_analysis``); formats
without one fall back to their ``start_pattern`` line by line. Lines that begin with an escape
sequence are judged by ``is_start`` on the ANSI-stripped text, exactly as the splitter does.

One writer (a worker calling ``update``) and any number of readers: readers always see a
consistent prefix (entries are written before the count that publishes them).
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from logview.formats.base import LogFormat
from logview.pattern_analysis import StartSignature, start_signature
from logview.record import strip_ansi
from logview.sources.base import ByteSource
from logview.split import MAX_RECORD_BYTES

#: Bytes read per step while indexing.
CHUNK_BYTES = 8 << 20
#: Record starts per storage block (fixed size: growth never copies what is stored).
BLOCK_RECORDS = 1 << 16
#: A line-number checkpoint every this many records (line numbers cost ~0 bytes per record).
LINE_CHECKPOINT = 1 << 10
#: Ranges planned (and scanned by the thread pool) per step of ``update``.
_PARALLEL_STEPS = 4
#: First bytes of lines whose start must be decided on decoded, ANSI-stripped text
#: (ESC, and 0xC2 which leads the UTF-8 encoding of C1 controls such as CSI).
_ESCAPE_LEADS = (0x1B, 0xC2)


class IndexingError(OSError):
    """The source did not give back bytes it said it had (it changed under the index)."""


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """Threads that scan chunks (numpy and pread release the GIL, so chunks overlap)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                   thread_name_prefix="logview-index")
    return _POOL


class StartDetector:
    """Decides which lines start a record, for many lines at once."""

    def __init__(self, fmt: LogFormat) -> None:
        self.format = fmt
        self.pattern = getattr(fmt, "start_pattern", None)
        custom = getattr(fmt, "start_signature", None)
        signature: StartSignature | None = None
        if callable(custom):
            signature = custom()
        elif isinstance(custom, StartSignature):
            signature = custom
        if signature is None and self.pattern is not None:
            signature = start_signature(self.pattern)
        self.signature = signature
        text = self.pattern.pattern.replace(b"[^", b"[") if self.pattern is not None else b""
        self._anchored = b"^" in text or b"\\A" in text
        self._width = len(signature.classes) if signature else 0
        if signature is not None:
            cols = signature.classes
            self._lo = np.array([min(c) if c else 255 for c in cols], dtype=np.uint8)
            span = [max(c) - min(c) if c else 0 for c in cols]
            self._span = np.array(span, dtype=np.uint8)
            empty = [k for k, c in enumerate(cols) if not c]
            # Columns whose class is not one contiguous range need a table lookup too.
            self._tables = [
                (k, np.array([v in c for v in range(256)], dtype=bool))
                for k, c in enumerate(cols)
                if c and len(c) != span[k] + 1
            ]
            self._never = bool(empty)

    def line_starts_record(self, line: bytes) -> bool:
        """The exact test for one line (no newline): what the splitter would decide."""
        if line[:1] and line[0] in _ESCAPE_LEADS:
            text = line.decode("utf-8", "replace").rstrip("\r")
            return self.format.is_start(strip_ansi(text))
        if self.pattern is None:
            return True
        return self.pattern.match(line) is not None

    def mask(self, data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """For lines ``data[starts[j]:ends[j]]`` (ends at the newline), which start a record."""
        count = len(starts)
        if self.pattern is None:
            result = np.ones(count, dtype=bool)
        elif self.signature is None:
            match = self.pattern.match
            result = np.fromiter(
                (match(data[s:e]) is not None for s, e in zip(starts.tolist(), ends.tolist())),
                dtype=bool,
                count=count,
            )
        else:
            result = self._signature_mask(arr, starts)
            if not self.signature.exact:
                cand = np.flatnonzero(result)
                cs, ce = starts[cand].tolist(), ends[cand].tolist()
                match = self.pattern.match
                if self._anchored:  # "^" only matches at a real start: slice each line
                    result[cand] = [match(data[s:e]) is not None for s, e in zip(cs, ce)]
                else:  # pos/endpos: no copy per line
                    result[cand] = [match(data, s, e) is not None for s, e in zip(cs, ce)]
        if count:
            firsts = arr[starts]
            special = np.flatnonzero((firsts == 0x1B) | (firsts == 0xC2))
            for j in special.tolist():
                result[j] = self.line_starts_record(data[starts[j] : ends[j]])
        return result

    def _signature_mask(self, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        width = self._width
        if self._never or len(starts) == 0:
            return np.zeros(len(starts), dtype=bool)
        # Pad so a window at the very end stays in bounds; the pad (\n) never matches.
        padded = np.concatenate([arr, np.full(width, 10, np.uint8)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, width)[starts]
        ok = ((windows - self._lo) <= self._span).all(axis=1)
        for k, table in self._tables:
            cand = np.flatnonzero(ok)
            ok[cand] = table[windows[cand, k]]
        return ok


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
        self._reset()
        self.generation = source.generation

    def _reset(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._firsts: list[int] = []  # first start of each block, for bisect
        self._count = 0  # starts stored
        self._end = 0  # bytes indexed (line aligned, or the size after a final flush)
        self._line_at_end = 1  # line number of the line that starts at ``_end``
        self._committed = False  # the last start's record is complete (final flush)
        self._force_start = True  # the next line starts a record whatever it holds
        self._checkpoints: list[int] = []  # line of record k * LINE_CHECKPOINT

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
        """Memory held by the start offsets (what the 8 bytes a record promise is about)."""
        return sum(block.nbytes for block in self._blocks) + 8 * len(self._checkpoints)

    def start(self, i: int) -> int:
        """Byte offset where record ``i`` starts."""
        with self._lock:
            if not 0 <= i < self._count:
                raise IndexError(f"record {i} is not indexed")
            return int(self._blocks[i // self._block][i % self._block])

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
            parts = []
            block = self._block
            i = lo
            while i < hi:
                b, k = divmod(i, block)
                take = min(hi - i, block - k)
                parts.append(self._blocks[b][k : k + take])
                i += take
            tail = self.start(hi) if hi < self._count else self._end
            parts.append(np.array([tail], dtype=np.int64))
            return np.concatenate(parts)

    def find(self, offset: int) -> int:
        """Position of the record that contains byte ``offset`` (-1 before the first)."""
        with self._lock:
            b = bisect_right(self._firsts, offset) - 1
            if b < 0:
                return -1
            block = self._blocks[b]
            filled = min(self._block, self._count - b * self._block)
            k = int(np.searchsorted(block[:filled], offset, side="right")) - 1
            return b * self._block + k

    def line(self, i: int) -> int:
        """1-based line number where record ``i`` starts (counted from a nearby checkpoint)."""
        with self._lock:
            c = i // LINE_CHECKPOINT
            base_line = self._checkpoints[c]
            base = self.start(c * LINE_CHECKPOINT)
            target = self.start(i)
        count = 0
        pos = base
        while pos < target:
            data = self.source.read_at(pos, min(self._chunk, target - pos))
            if not data:
                break
            count += data.count(b"\n")
            pos += len(data)
        return base_line + count

    # -- the writer ------------------------------------------------------------------------
    def update(self, *, final: bool = False) -> int:
        """Index what the source has now; return how many records became complete.

        ``final`` (or a finished source) also completes the last record, including an
        unfinished last line. A generation change (truncation) starts over from zero.
        """
        with self._update_lock:
            self.source.update()
            size = self.source.size()
            if self.source.generation != self.generation or size < self._end:
                with self._lock:
                    self._reset()
                    self.generation = self.source.generation
            before = len(self)
            pos = self._end
            while pos < size:
                plan = self._plan(pos, size)
                if not plan:  # a line longer than a chunk, or only an unfinished line left
                    step = self._index_chunk(pos, size)
                    if step == 0:
                        break
                    pos += step
                    continue
                for (a, _b), found in zip(plan, _pool().map(self._scan, plan)):
                    self._publish(a, *found)
                pos = plan[-1][1]
            if (final or self.source.finished) and (self._end < size or not self._committed):
                self._flush_tail(size)
            return len(self) - before

    def _plan(self, pos: int, size: int) -> list[tuple[int, int]]:
        """Cut ``[pos, size)`` into line-aligned ranges of about a chunk, to scan in parallel."""
        plan: list[tuple[int, int]] = []
        a = pos
        probe = 1 << 16
        while a < size and len(plan) < _PARALLEL_STEPS:
            target = a + self._chunk
            if target >= size:
                tail = self.source.read_at(max(a, size - probe), min(probe, size - a))
                nl = tail.rfind(b"\n")
                if nl < 0:
                    break
                b = max(a, size - probe) + nl + 1
            else:
                ahead = self.source.read_at(target - 1, probe)
                nl = ahead.find(b"\n")
                if nl < 0:
                    break
                b = target + nl
            plan.append((a, b))
            a = b
        return plan

    def _scan(self, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lines of a line-aligned range and which of them start a record (thread-safe)."""
        a, b = span
        data = self.source.read_at(a, b - a)
        if len(data) < b - a or not data.endswith(b"\n"):
            raise IndexingError(f"{self.source.name}: read {len(data)} of {b - a} bytes at {a}")
        arr = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        return starts, ends, np.flatnonzero(self.detector.mask(data, arr, starts, ends))

    def _index_chunk(self, pos: int, size: int) -> int:
        """Index the complete lines of one read at ``pos``; return bytes consumed (0: none)."""
        data = self.source.read_at(pos, min(self._chunk, size - pos))
        last_nl = data.rfind(b"\n")
        if last_nl < 0:
            if pos + len(data) >= size:
                return 0  # an unfinished last line: wait for its end
            return self._index_long_line(pos, size, data)
        del data
        found = self._scan((pos, pos + last_nl + 1))
        self._publish(pos, *found)
        return last_nl + 1

    def _index_long_line(self, pos: int, size: int, head: bytes) -> int:
        """A line longer than a chunk: find its end without holding it in memory."""
        scan = pos + len(head)
        nl = -1
        while scan < size:
            more = self.source.read_at(scan, min(self._chunk, size - scan))
            if not more:
                break
            hit = more.find(b"\n")
            if hit >= 0:
                nl = scan + hit
                break
            scan += len(more)
        if nl < 0:
            return 0
        starts = np.array([0], dtype=np.int64)
        ends = np.array([nl - pos], dtype=np.int64)
        is_start = self._force_start or self.detector.line_starts_record(head.split(b"\n")[0])
        self._publish(pos, starts, ends, np.flatnonzero(np.array([is_start])))
        return nl + 1 - pos

    def _publish(self, pos: int, starts: np.ndarray, ends: np.ndarray, line_idx: np.ndarray) -> None:
        """Append the record starts found among lines ``starts``/``ends`` (relative to pos)."""
        if self._force_start and (len(line_idx) == 0 or line_idx[0] != 0):
            line_idx = np.concatenate([np.zeros(1, dtype=line_idx.dtype), line_idx])
        new = starts[line_idx] + pos
        chunk_end = pos + int(ends[-1]) + 1
        prev = self._last_start()
        spans = np.diff(np.concatenate([[prev if prev >= 0 else pos], new, [chunk_end]]))
        if len(spans) and int(spans.max()) > MAX_RECORD_BYTES:
            line_idx = self._cut_long_records(pos, starts, ends, line_idx, prev)
            new = starts[line_idx] + pos
        lines = line_idx + self._line_at_end
        with self._lock:
            self._append(new, lines)
            self._end = chunk_end
            self._line_at_end += len(ends)
            if len(new):
                self._committed = False
            self._force_start = False

    def _cut_long_records(self, pos, starts, ends, line_idx, prev) -> np.ndarray:
        """Cut records over ``MAX_RECORD_BYTES`` before the line that would overflow them."""
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
        i = self._count - 1
        return int(self._blocks[i // self._block][i % self._block])

    def _append(self, offsets: np.ndarray, lines: np.ndarray) -> None:
        """Store offsets (and line checkpoints); the count is published last."""
        count = self._count
        block = self._block
        done = 0
        total = len(offsets)
        while done < total:
            b, k = divmod(count + done, block)
            if b == len(self._blocks):
                self._blocks.append(np.empty(block, dtype=np.int64))
                self._firsts.append(int(offsets[done]))
            take = min(total - done, block - k)
            self._blocks[b][k : k + take] = offsets[done : done + take]
            done += take
        if total:
            first_cp = -(-count // LINE_CHECKPOINT) * LINE_CHECKPOINT
            for r in range(first_cp, count + total, LINE_CHECKPOINT):
                self._checkpoints.append(int(lines[r - count]))
        self._count = count + total

    def _flush_tail(self, size: int) -> None:
        """Complete the last record; an unfinished last line joins it or starts one."""
        with self._lock:
            if self._end < size:
                head = self.source.read_at(self._end, min(4096, size - self._end))
                if self._force_start or self.detector.line_starts_record(head.split(b"\n")[0]):
                    self._append(np.array([self._end], dtype=np.int64),
                                 np.array([self._line_at_end]))
                self._end = size  # the line goes on if more comes: same line number
            self._committed = True
            self._force_start = True
