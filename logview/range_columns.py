"""Record starts and record columns of the index's ranges, found in forked worker processes
while the index is built: counting rides on the index instead of following it on one core.

A store that counts its records (``columns.RecordCounter``) hands its index a
``RangeColumns``. When the index has much to catch up on (``RANGE_MIN_BYTES``: a big file
opened), its threads read each line-aligned range as before, put the bytes in a slot of
shared memory and let one of ``workers()`` forked processes find the range's record starts
(the index's own bulk start test) and read the level, logger and time of each record
starting there (``columns.columns_of``: the format's walker, the rest parsed). Both come
back as raw numpy arrays over a socket (a JSON header for the names, never a pickle); the
index publishes the starts and the columns wait, in record order and bounded
(``ReadyColumns``: the index waits for the counter when they pile up), for the counter,
which keeps them and tallies them without reading the records again. The workers only read
memory the index gave them: every source's reading (rotation, copytruncate) stays in the
index's process.

A record needs its end to be read exactly (the parser reads all of it when the walker cannot
read its head): the range's last record ends at the first record start in a probe of the
bytes after the range; when the probe holds none, that record is left to the counter, which
reads it as before. Whatever a worker cannot do (a record too long, a worker gone) is done
by the index and the counter as without workers: the counts are the same either way.
"""

from __future__ import annotations

import importlib
import json
import mmap
import os
import queue
import signal
import struct
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection, Pipe
from typing import TYPE_CHECKING

import numpy as np

from logview.columns import ChunkColumns, columns_of
from logview.index import CHUNK_BYTES, line_bounds
from logview.record import MAX_RECORD_BYTES

if TYPE_CHECKING:
    from logview.boundaries import StartDetector
    from logview.formats.base import LogFormat


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _enabled() -> bool:
    """Off unless ``LOGVIEW_RANGE_WORKERS=1`` (and two cores or more): a worker forked while
    another of the viewer's threads was importing a module hung on that module's import lock
    (once in five runs on the 1 GB JSON file; the index then waited for it forever). Workers
    now drop those locks (``_forget_module_locks``), but others can be inherited held (3.11's
    ``cached_property`` has one), and a worker's reply has no deadline yet."""
    return os.environ.get("LOGVIEW_RANGE_WORKERS") == "1" and _cpus() >= 2


#: Whether a big backlog goes to the workers (see ``_enabled`` and the README's figures).
ENABLED = _enabled()

#: Bytes the index must have to catch up on before ranges go to the workers (forking and
#: shipping arrays cost more than they save on less).
RANGE_MIN_BYTES = 64 << 20
#: Most worker processes.
MAX_WORKERS = 2
#: Bytes after a range looked at for the start of the record after its last one.
PROBE_BYTES = 64 << 10
#: Records of columns waiting for the counter; past it the index waits for the counter
#: (``READY_WAIT``), then drops a range's columns and the counter reads those records itself
#: (memory stays bounded when nobody counts).
READY_RECORDS = 1 << 20
#: Seconds the index waits for the counter to take columns before it drops them (and stops
#: waiting until the counter takes again: nobody may be counting any more).
READY_WAIT = 1.0
#: Seconds a worker waits for a task before it checks that the viewer is still there.
_IDLE_CHECK = 1.0
_TASK = struct.Struct("<qqqq")  # slot, range bytes, probe bytes, offset of the range


class RangeWorkerError(RuntimeError):
    """A worker could not scan a range (it died, or said why): the index scans it itself."""


def workers() -> int:
    """Worker processes to fork (0: no ``fork`` here)."""
    if not hasattr(os, "fork"):
        return 0
    return max(1, min(MAX_WORKERS, _cpus()))


def _first_start(detector: StartDetector, probe: bytes) -> int:
    """Where the first record start among the whole lines of ``probe`` is (-1: none)."""
    whole = probe[: probe.rfind(b"\n") + 1]
    if not whole:
        return -1
    arr = np.frombuffer(whole, dtype=np.uint8)
    starts, ends = line_bounds(arr)
    hits = np.flatnonzero(detector.mask(whole, arr, starts, ends))
    return int(starts[hits[0]]) if len(hits) else -1


def scan_range(detector: StartDetector, fmt: LogFormat, name: str, data: bytes, probe: bytes,
               offset: int) -> tuple[np.ndarray, np.ndarray, int, ChunkColumns | None]:
    """The record starts of the line-aligned range ``data`` (read at ``offset``): (starts,
    which line each is, lines in the range, the columns of the records starting there, the
    last one only when the probe shows where it ends; None when a record is too long)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    starts, ends = line_bounds(arr)
    line_idx = np.flatnonzero(detector.mask(data, arr, starts, ends))
    rel = starts[line_idx]
    if not len(rel):
        return rel, line_idx, len(ends), None
    after = _first_start(detector, probe)
    first = int(rel[0])
    if after >= 0:
        bounds = np.append(rel, len(data) + after) - first
        buf = data[first:] + probe[:after]
    else:  # where the last record ends is not known: the counter reads it
        bounds = rel - first
        buf = data[first : int(rel[-1])]
    if len(bounds) < 2 or int(np.diff(bounds).max()) > MAX_RECORD_BYTES:
        return rel, line_idx, len(ends), None
    return rel, line_idx, len(ends), columns_of(fmt, name, buf, bounds, offset + first)


class ReadyColumns:
    """Columns of records read by the workers, in record order, until the counter takes
    them (at most ``READY_RECORDS``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._parts: deque[tuple[int, ChunkColumns]] = deque()
        self._records = 0
        self._stalled = False  # the counter did not take for READY_WAIT seconds
        self.dropped = 0  # records whose columns did not fit (the counter read them)

    def wait_room(self, count: int) -> None:
        """Wait (the index, holding no lock of its own) until ``count`` records fit, at most
        ``READY_WAIT`` seconds: a counter that lags a little loses nothing."""
        with self._room:
            if self._stalled:
                return
            fits = self._room.wait_for(lambda: self._records + count <= READY_RECORDS,
                                       READY_WAIT)
            self._stalled = not fits

    def put(self, at: int, cols: ChunkColumns) -> None:
        """Keep the columns of records ``at`` on (after every part put before)."""
        count = len(cols.levelnos)
        with self._lock:
            if self._records + count > READY_RECORDS:
                self.dropped += count
                return
            self._parts.append((at, cols))
            self._records += count
            self._room.notify_all()  # a counter waiting for columns (``wait_parts``)

    def take(self, lo: int, hi: int) -> ChunkColumns | None:
        """The columns of records ``lo`` up to at most ``hi`` when the next part holds record
        ``lo`` (what lies before ``lo`` is let go); None otherwise."""
        with self._lock:
            parts = self._parts
            while parts and parts[0][0] + len(parts[0][1].levelnos) <= lo:
                self._records -= len(parts.popleft()[1].levelnos)
            self._stalled = False
            self._room.notify_all()
            if not parts or parts[0][0] > lo:
                return None
            at, cols = parts.popleft()
            count = len(cols.levelnos)
            self._records -= count
            skip, stop = lo - at, min(count, hi - at)
            if stop < count:  # the rest waits for a later take
                parts.appendleft((at + stop, _part(cols, stop, count)))
                self._records += count - stop
            return cols if skip == 0 and stop == count else _part(cols, skip, stop)

    def end(self) -> int:
        """The record after the last one whose columns are ready (0: none are)."""
        with self._lock:
            if not self._parts:
                return 0
            at, cols = self._parts[-1]
            return at + len(cols.levelnos)

    def wait_parts(self, after: int, timeout: float) -> bool:
        """Wait (the counter, which counted ``after`` records) at most ``timeout`` seconds
        for the columns of records past ``after``; whether some are ready."""

        def past() -> bool:
            return bool(self._parts) and self._parts[-1][0] + len(self._parts[-1][1].levelnos) > after

        with self._room:
            return self._room.wait_for(past, timeout)

    def next_at(self, lo: int) -> int | None:
        """The first record at or after ``lo`` whose columns are ready (None: none)."""
        with self._lock:
            for at, cols in self._parts:
                if at + len(cols.levelnos) > lo:
                    return max(at, lo)
            return None

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()
            self._records = 0
            self._room.notify_all()


def _part(cols: ChunkColumns, lo: int, hi: int) -> ChunkColumns:
    return ChunkColumns(cols.levelnos[lo:hi], cols.loggers[lo:hi], cols.names,
                        cols.times[lo:hi], cols.sources)


class _Worker:
    """A worker process and its socket: tasks are sent ahead (it always has the next one) and
    the replies taken in the order of the tasks (``ticket``)."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self.pid = pid
        self.conn = conn
        self.send_lock = threading.Lock()
        self.turn = threading.Condition()
        self.sent = 0
        self.received = 0


class RangeColumns:
    """The forked workers of one index and the columns they read (``ready``).

    ``scan`` is called by the index's threads (``pool``, ``in_flight`` ranges at once);
    ``publish`` when the index took a range's starts as the worker found them.
    """

    def __init__(self, detector: StartDetector, fmt: LogFormat, name: str,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        self.detector = detector
        self.format = fmt
        self.name = name
        self.ready = ReadyColumns()
        self.failed: str | None = None  # why the workers are not used any more
        self._slot_bytes = chunk_bytes + 3 * PROBE_BYTES
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._next = 0
        self._slots: queue.Queue[int] = queue.Queue()
        self._shm: mmap.mmap | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.in_flight = 0
        self.served = 0  # ranges the workers answered

    @property
    def running(self) -> bool:
        return bool(self._workers)

    def engage(self, backlog: int) -> bool:
        """Whether the index hands ranges to the workers now (forked when first needed)."""
        if self.failed is not None:
            self.stop()  # what is left of them
            return False
        if not ENABLED:
            return False
        with self._lock:
            if self._workers:
                return True
            if backlog < RANGE_MIN_BYTES:
                return False
            count = workers()
            if not count:
                self.failed = "no fork on this system"
                return False
            self._start(count)
            return bool(self._workers)

    def _start(self, count: int) -> None:
        self.in_flight = 2 * count  # each worker has its next range at hand
        self._shm = mmap.mmap(-1, self.in_flight * self._slot_bytes)
        for slot in range(self.in_flight):
            self._slots.put(slot)
        ends: list[Connection] = []
        for _ in range(count):
            mine, theirs = Pipe(duplex=True)
            ends.append(mine)
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the worker: it never returns into the viewer's code
                code = 1
                try:
                    _forget_module_locks()
                    for end in ends:
                        end.close()
                    self._serve(theirs, parent)
                    code = 0
                finally:
                    os._exit(code)
            theirs.close()
            self._workers.append(_Worker(pid, mine))
        self.pool = ThreadPoolExecutor(self.in_flight, thread_name_prefix="logview-ranges")

    def scan(self, data: bytes, probe: bytes, offset: int
             ) -> tuple[np.ndarray, np.ndarray, int, ChunkColumns | None]:
        """``scan_range`` in a worker (thread-safe; blocks until it answers)."""
        if self._shm is None or len(data) + len(probe) > self._slot_bytes:
            raise RangeWorkerError("no worker, or a range larger than a slot")
        slot = self._slots.get()
        try:
            at = slot * self._slot_bytes
            self._shm[at : at + len(data)] = data
            self._shm[at + len(data) : at + len(data) + len(probe)] = probe
            with self._lock:
                worker = self._workers[self._next % len(self._workers)]
                self._next += 1
            with worker.send_lock:
                ticket = worker.sent
                try:
                    worker.conn.send_bytes(_TASK.pack(slot, len(data), len(probe), offset))
                    worker.sent += 1
                except OSError as exc:
                    ticket = -1  # never answered
                    self.failed = f"a range worker stopped: {exc}"
            with worker.turn:
                while ticket >= 0 and worker.received != ticket:
                    worker.turn.wait()
                try:
                    if ticket < 0:
                        raise RangeWorkerError(self.failed or "a range worker stopped")
                    got = _receive(worker.conn)
                    self.served += 1
                    return got
                except (EOFError, OSError, ValueError) as exc:
                    self.failed = f"a range worker stopped: {exc}"
                    raise RangeWorkerError(self.failed) from exc
                finally:
                    if ticket >= 0:
                        worker.received += 1
                        worker.turn.notify_all()
        finally:
            self._slots.put(slot)

    def publish(self, at: int, cols: ChunkColumns) -> None:
        self.ready.put(at, cols)

    def reset(self) -> None:
        """The index started over: what was read belongs to the old records."""
        self.ready.clear()

    def stop(self) -> None:
        """End the workers (the index caught up, or the store closes)."""
        with self._lock:
            gone, self._workers = self._workers, []
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        for worker in gone:
            worker.conn.close()  # the worker sees the end of its socket and exits
        for worker in gone:
            _reap(worker.pid)
        self._slots = queue.Queue()
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    # -- the worker process ------------------------------------------------------------------

    def _serve(self, conn: Connection, parent: int) -> None:
        """Scan the ranges the index sends until its socket ends (or the viewer is gone)."""
        for sig in (signal.SIGINT, signal.SIGWINCH, signal.SIGTSTP, signal.SIGCONT):
            signal.signal(sig, signal.SIG_IGN)  # the viewer's terminal is not ours
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)  # never wake the viewer's event loop
        shm = self._shm
        assert shm is not None
        while True:
            if not conn.poll(_IDLE_CHECK):
                if os.getppid() != parent:
                    return
                continue
            try:
                task = conn.recv_bytes()
            except (EOFError, OSError):
                return
            slot, size, probe_size, offset = _TASK.unpack(task)
            at = slot * self._slot_bytes
            data = shm[at : at + size]
            probe = shm[at + size : at + size + probe_size]
            try:
                got = scan_range(self.detector, self.format, self.name, data, probe, offset)
            except Exception as exc:  # noqa: BLE001 - said to the index, which scans it itself
                conn.send_bytes(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
                continue
            _send(conn, *got)


def _send(conn: Connection, starts: np.ndarray, line_idx: np.ndarray, lines: int,
          cols: ChunkColumns | None) -> None:
    head = {"lines": lines, "count": len(starts), "cols": None}
    arrays = [starts.astype(np.int64), line_idx.astype(np.int64)]
    if cols is not None:
        head["cols"] = {"count": len(cols.levelnos), "names": cols.names,
                        "sources": cols.sources}
        arrays += [cols.levelnos.astype(np.int32), cols.loggers.astype(np.int32),
                   cols.times.astype(np.float64)]
    conn.send_bytes(json.dumps(head).encode())
    for array in arrays:
        conn.send_bytes(array.tobytes())


def _receive(conn: Connection) -> tuple[np.ndarray, np.ndarray, int, ChunkColumns | None]:
    head = json.loads(conn.recv_bytes())
    if "error" in head:
        raise RangeWorkerError(head["error"])
    count = head["count"]

    def array(dtype: type[np.generic], n: int) -> np.ndarray:
        got = np.frombuffer(conn.recv_bytes(), dtype=dtype)
        if len(got) != n:
            raise ValueError(f"a worker sent {len(got)} values for {n} records")
        return got

    starts, line_idx = array(np.int64, count), array(np.int64, count)
    cols = None
    if head["cols"] is not None:
        meta = head["cols"]
        n = meta["count"]
        cols = ChunkColumns(array(np.int32, n), array(np.int32, n), list(meta["names"]),
                            array(np.float64, n), list(meta["sources"]))
    return starts, line_idx, head["lines"], cols


def _forget_module_locks() -> None:
    """In a forked worker: drop the per-module import locks. One that another of the
    viewer's threads held at the fork is never released here (Python resets the global import
    lock in a child, not these), and the worker's next import of that module hung for good;
    with fresh locks the import returns the module as far as it got, and what fails on it is
    an error the index answers by scanning the range itself."""
    locks = getattr(importlib._bootstrap, "_module_locks", None)  # type: ignore[attr-defined]
    if isinstance(locks, dict):
        locks.clear()


def _reap(pid: int) -> None:
    """Wait for a worker to exit (it does once its socket ends); killed if it lingers."""
    for _ in range(100):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        threading.Event().wait(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
