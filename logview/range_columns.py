"""Record columns of the index's ranges, read by worker processes while the index is built:
counting rides on the index instead of following it on the viewer's one core.

A store that counts its records (``columns.RecordCounter``) hands its index a
``RangeColumns``. When the workers are on (``_enabled``: off by default), the machine has two
cores or more and the index has much to catch up on (``RANGE_MIN_BYTES``: a big file
opened), each line-aligned range it scans has the
level, logger and time of each record starting there read (``columns.columns_of``: the
format's walker, the rest parsed) while its bytes are at hand: by one of ``workers()``
processes when one is free (a copy of the bytes in a slot of shared memory, the index's
record starts over a socket; the columns back as raw numpy arrays, a JSON header for the
names, never a pickle), else by the index's thread that scanned it (``READ_HERE``: no second
read or line split, and the index keeps pace with the workers). The columns wait, in record
order and bounded (``ready_columns.ReadyColumns``), for the counter, which keeps them and
tallies them without reading the records again. The index never waits for a worker. The
workers only read memory the index gave them: every source's reading (rotation,
copytruncate) stays in the index's process.

A record needs its end to be read exactly (the parser reads all of it when the walker cannot
read its head): the range's last record ends at the first record start in a probe of the
bytes after the range; when the probe holds none, that record is left to the counter, which
reads it as before. Whatever a worker cannot do (a record too long, a worker gone or starved
on a busy machine) is read by the counter as without workers: the counts are the same
either way.

The workers are forked by a fork server (``fork_server``: a fresh interpreter with one
thread), never by the viewer, whose threads may hold any lock when it
forks; the format and the start detector go to them pickled by the viewer (never a pickle
back). Every reply has a deadline (``reply_seconds``): a worker that misses it, or whose
socket fails, is killed and the counter reads its records (no range goes to workers again).
"""

from __future__ import annotations

import json
import mmap
import os
import pickle
import queue
import struct
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from logview.columns import ChunkColumns, columns_of
from logview.index import CHUNK_BYTES, line_bounds
from logview.ready_columns import ReadyColumns
from logview.record import MAX_RECORD_BYTES
from logview.worker_procs import (
    WorkerProcess,
    cpus,
    detach_worker,
    end_workers,
    reply_seconds,
    start_workers,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from logview.boundaries import StartDetector
    from logview.formats.base import LogFormat


def _enabled() -> bool:
    """Off unless ``LOGVIEW_RANGE_WORKERS=1`` (and two cores or more). The workers are safe to
    run under the threaded viewer: they are forked by a fork server started as a fresh
    interpreter (``fork_server``), never by the viewer (a worker forked from it once hung on
    an import lock another thread held at the fork, and the index waited for it forever),
    and every reply has a deadline (``reply_seconds``): a worker that misses it is killed and
    the counter reads its records itself. The index never waits for them; the counter waits
    for a range a worker reads at most ``columns.PENDING_WAIT``. But on two cores they
    gain nothing clear yet (the whole viewer still uses about one core) and their shared
    memory puts a JSON file's viewer over its memory budget (docs/performance.md): off."""
    return os.environ.get("LOGVIEW_RANGE_WORKERS") == "1" and cpus() >= 2


#: Whether a big backlog goes to the workers (see ``_enabled`` and docs/performance.md).
ENABLED = _enabled()

#: Whether the index's threads read the columns of a range no worker is free to take
#: (else the counter reads those records after the index).
READ_HERE = True
#: Bytes the index must have to catch up on before ranges go to the workers (forking and
#: shipping arrays cost more than they save on less).
RANGE_MIN_BYTES = 64 << 20
#: Seconds the index waits for a worker to be free to give it a range it scanned (0: none;
#: the counter reads those records): workers slower than the index (the JSON walker reads
#: ~0.3 M records/s a core, the index finds starts at ~4 M/s) never hold the index back.
BUSY_WAIT = 0.0
#: How much lower the workers' scheduling priority is than the viewer's (``os.nice``).
WORKER_NICE = 10
#: Ranges a worker holds at once (2: it has its next one at hand).
SLOTS_PER_WORKER = 2
#: Seconds ``engage`` waits for workers it starts (0: the index goes on by itself while
#: they start, ~0.2-0.5 s for the fork server's fresh interpreter and its imports).
START_WAIT = 0.0
#: Most worker processes.
MAX_WORKERS = 2
#: Bytes after a range looked at for the start of the record after its last one.
PROBE_BYTES = 64 << 10
#: Seconds a worker waits for a task before it looks again (its socket's end wakes it).
_IDLE_CHECK = 1.0
_TASK = struct.Struct("<qqqq")  # slot, range bytes, probe bytes, offset of the range


class RangeWorkerError(RuntimeError):
    """A worker could not read a range (it died, was late, or said why): the counter reads
    its records itself."""


def workers() -> int:
    """Worker processes to start (0: no fork, memfd or fd passing here)."""
    if not all(hasattr(os, f) for f in ("fork", "memfd_create")) or not hasattr(
            __import__("socket"), "send_fds"):
        return 0
    return max(1, min(MAX_WORKERS, cpus()))


def _first_start(detector: StartDetector, probe: bytes) -> int:
    """Where the first record start among the whole lines of ``probe`` is (-1: none)."""
    whole = probe[: probe.rfind(b"\n") + 1]
    if not whole:
        return -1
    arr = np.frombuffer(whole, dtype=np.uint8)
    starts, ends = line_bounds(arr)
    hits = np.flatnonzero(detector.mask(whole, arr, starts, ends))
    return int(starts[hits[0]]) if len(hits) else -1


def range_columns(detector: StartDetector, fmt: LogFormat, name: str, data: bytes,
                  probe: bytes, offset: int, rel: np.ndarray) -> ChunkColumns | None:
    """The columns of the records starting at ``rel`` in the range ``data`` (read at
    ``offset``), the last one only when ``probe`` (the bytes after the range) shows where it
    ends; None when there is none or a record is too long."""
    if not len(rel):
        return None
    after = _first_start(detector, probe)
    first = int(rel[0])
    if after >= 0:
        bounds = np.append(rel, len(data) + after) - first
        buf = data if first == after == 0 else data[first:] + probe[:after]
    else:  # where the last record ends is not known: the counter reads it
        bounds = rel - first
        buf = data[first : int(rel[-1])]
    if len(bounds) < 2 or int(np.diff(bounds).max()) > MAX_RECORD_BYTES:
        return None
    return columns_of(fmt, name, buf, bounds, offset + first)


#: The columns of a range's records (None: a record too long, or none starts there).
_Reply = "ChunkColumns | None"


class RangeColumns:
    """The workers of one index and the columns they read (``ready``).

    ``submit`` is called by the index's threads with a range they scanned (a worker's reply
    comes in a thread of ``pool``, one a slot); ``expect`` when the index took the range's
    records, so their columns wait for the counter when the reply comes. The workers are
    started in the background (``engage`` says no until they are up: the index goes on here
    meanwhile) by the fork server (``fork_server``), never forked from this threaded process.
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
        self._workers: list[WorkerProcess] = []
        self._next = 0
        self._slots: queue.Queue[int] = queue.Queue()
        self._shm: mmap.mmap | None = None
        self._starting: threading.Thread | None = None
        self._generation = 0  # one more at each stop: a start that ends after it lets go
        self.pool: ThreadPoolExecutor | None = None
        self.in_flight = 0
        self.served = 0  # ranges the workers answered
        self.busy = 0  # ranges the index scanned itself because every worker was busy
        self.started = 0  # workers started, over the index's life
        self.here = 0  # ranges whose columns the index's threads read

    @property
    def running(self) -> bool:
        """Whether workers run (started, not stopped or given up)."""
        return bool(self._workers)

    def engage(self, backlog: int) -> bool:
        """Whether the index reads its ranges' columns now: while workers run (started when
        first needed, in the background: not yet), until ``stop``."""
        if self.failed is not None:
            self.stop()  # what is left of them
            return False
        if not ENABLED:
            return False
        with self._lock:
            if self._workers:
                return True
            if self._starting is not None or backlog < RANGE_MIN_BYTES:
                return False
            count = workers()
            if not count:
                self.failed = "no fork server on this system"
                return False
            self._starting = threading.Thread(target=self._start,
                                              args=(count, self._generation),
                                              name="logview-ranges-start", daemon=True)
            self._starting.start()
            starting = self._starting
        if START_WAIT > 0:
            starting.join(START_WAIT)
        return self.running

    def wait_started(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a start under way; whether workers run."""
        starting = self._starting
        if starting is not None:
            starting.join(timeout)
        return self.running

    def _start(self, count: int, generation: int) -> None:
        """Start ``count`` workers through the fork server (in a thread of its own)."""
        in_flight = SLOTS_PER_WORKER * count
        size = in_flight * self._slot_bytes
        started: list[WorkerProcess] = []
        shm: mmap.mmap | None = None
        try:
            # Outgoing only: the worker rebuilds the viewer's format and detector from it.
            payload = pickle.dumps((self._slot_bytes, size, self.detector, self.format,
                                    self.name))
            shm, started = start_workers("logview.range_columns:_work_child", payload, count,
                                         size, "logview-ranges")
        except Exception as exc:  # noqa: BLE001 - the index then does it all itself
            self.failed = f"range workers could not start: {type(exc).__name__}: {exc}"
        with self._lock:
            self._starting = None
            keep = self.failed is None and generation == self._generation and shm is not None
            if keep:
                self._shm = shm
                self._slots = queue.Queue()
                for slot in range(in_flight):
                    self._slots.put(slot)
                self.in_flight = in_flight
                self._workers = started
                self.started += len(started)
                self.pool = ThreadPoolExecutor(self.in_flight,
                                               thread_name_prefix="logview-ranges")
        if not keep:
            end_workers(started)
            if shm is not None:
                shm.close()

    def submit(self, data: bytes, probe: bytes, offset: int, starts: np.ndarray
               ) -> Future[_Reply] | None:
        """``range_columns`` of a range the index scanned, in a worker (thread-safe): the reply
        to come (``expect`` it when the index takes the range's records), or None when every
        worker is busy (``BUSY_WAIT``) or there is none: the counter reads those records.
        A worker that does not answer within ``reply_seconds`` is killed, never asked again."""
        shm, pool = self._shm, self.pool
        if shm is None or pool is None or len(data) + len(probe) > self._slot_bytes:
            return None
        try:
            slot = self._slots.get(timeout=BUSY_WAIT) if BUSY_WAIT > 0 else self._slots.get_nowait()
        except queue.Empty:
            self.busy += 1
            return None
        size = len(data) + len(probe)
        due = time.monotonic() + reply_seconds(size)
        try:
            at = slot * self._slot_bytes
            shm[at : at + len(data)] = data
            shm[at + len(data) : at + size] = probe
            with self._lock:
                if not self._workers:
                    raise RangeWorkerError(self.failed or "the range workers stopped")
                worker = self._workers[self._next % len(self._workers)]
                self._next += 1
            with worker.send_lock:
                if worker.dead:
                    raise RangeWorkerError(self.failed or "a range worker stopped")
                try:
                    worker.conn.send_bytes(_TASK.pack(slot, len(data), len(probe), offset))
                    worker.conn.send_bytes(np.ascontiguousarray(starts, dtype=np.int64))
                except OSError as exc:
                    self._give_up(worker, f"a range worker stopped: {exc}")
                    raise RangeWorkerError(self.failed) from exc
                ticket = worker.sent
                worker.sent += 1
            return pool.submit(self._reply, worker, ticket, slot, due, size)
        except (RangeWorkerError, RuntimeError):  # RuntimeError: the pool shut down
            self._slots.put(slot)
            return None

    def read(self, data: bytes, probe: bytes, offset: int, starts: np.ndarray
             ) -> Future[_Reply] | None:
        """The columns of the records starting at ``starts`` of a range the index scanned
        (thread-safe): a worker's reply to come when one is free, else (``READ_HERE``) read
        at once in the calling thread, the index's: its bytes are at hand, no second read or
        line split, and the index keeps pace with the workers (None: the counter reads
        them)."""
        reply = self.submit(data, probe, offset, starts)
        if reply is not None or not READ_HERE or not self.running:
            return reply
        reply = Future()
        try:
            cols = range_columns(self.detector, self.format, self.name, data, probe, offset,
                                 starts)
        except Exception as exc:  # noqa: BLE001 - the counter reads those records, as before
            reply.set_exception(exc)
        else:
            reply.set_result(cols)
            self.here += 1
        return reply

    def _reply(self, worker: WorkerProcess, ticket: int, slot: int, due: float, size: int) -> _Reply:
        """The worker's reply to task ``ticket`` (a thread of ``pool``; the slot let go)."""
        try:
            with worker.turn:
                try:
                    while worker.received != ticket and not worker.dead:
                        if not worker.turn.wait(max(0.0, due - time.monotonic())):
                            self._give_up(worker, "a range worker did not answer in "
                                          f"{reply_seconds(size):.1f} s")
                    if worker.dead:
                        raise RangeWorkerError(self.failed or "a range worker stopped")
                    got = _receive(worker.conn, due)  # TimeoutError (an OSError) first
                    self.served += 1
                    return got
                except TimeoutError as exc:
                    self._give_up(worker, "a range worker did not answer in "
                                  f"{reply_seconds(size):.1f} s")
                    raise RangeWorkerError(self.failed) from exc
                except (EOFError, OSError, ValueError) as exc:
                    self._give_up(worker, f"a range worker stopped: {exc}")
                    raise RangeWorkerError(self.failed) from exc
                finally:
                    worker.received += 1
                    worker.turn.notify_all()
        finally:
            self._slots.put(slot)

    def expect(self, at: int, starts: np.ndarray, reply: Future[_Reply]) -> None:
        """The records ``at`` on, which start at ``starts`` of the range ``reply`` is for,
        are the index's now: their columns wait for the counter when the reply comes (the
        counter waits for them meanwhile), and are dropped when it does not come or the
        worker found other starts."""
        part = self.ready.expect(at, len(starts))

        def settle(done: Future[_Reply]) -> None:
            try:
                cols = done.result()
            except Exception:  # noqa: BLE001 - the worker is given up; the counter reads them
                self.ready.drop(part)
                return
            if cols is None:
                self.ready.drop(part)
            else:
                self.ready.fill(part, cols)

        reply.add_done_callback(settle)

    def _give_up(self, worker: WorkerProcess, why: str) -> None:
        """Never ask ``worker`` again (its replies may be out of step now) and kill it: the
        index scans what it had itself, the counter reads those records."""
        if self.failed is None:
            self.failed = why
        worker.dead = True
        worker.kill()
        with worker.turn:
            worker.turn.notify_all()

    def reset(self) -> None:
        """The index started over: what was read belongs to the old records."""
        self.ready.clear()

    def stop(self) -> None:
        """End the workers (the index caught up, or the store closes)."""
        with self._lock:
            self._generation += 1  # a start under way lets go of what it started
            gone, self._workers = self._workers, []
            pool, self.pool = self.pool, None
            shm, self._shm = self._shm, None
        if pool is not None:
            pool.shutdown(wait=True)
        end_workers(gone)
        if shm is not None:
            shm.close()


# -- the worker process ----------------------------------------------------------------------

def _work_child(payload: bytes, fds: list[int]) -> None:
    """A worker as the fork server starts it: its socket and the slots' memory passed, the
    rest (pickled by the viewer, for it) in ``payload``."""
    from multiprocessing.connection import Connection

    slot_bytes, size, detector, fmt, name = pickle.loads(payload)  # sent by the viewer, to it
    conn = Connection(fds[0])
    try:
        shm = mmap.mmap(fds[1], size)
    finally:
        os.close(fds[1])
    _work(conn, shm, slot_bytes, detector, fmt, name)


def _work(conn: Connection, shm: mmap.mmap, slot_bytes: int, detector: StartDetector,
          fmt: LogFormat, name: str) -> None:
    """A worker: scan the ranges the index sends until its socket ends (the viewer closed
    it, or is gone). What it got (the format, the detector) came pickled FROM the viewer;
    what it sends back is raw arrays and JSON."""
    detach_worker(WORKER_NICE)  # the viewer's index and screen first
    while True:
        try:
            if not conn.poll(_IDLE_CHECK):
                continue
            task = conn.recv_bytes()
        except (EOFError, OSError):
            return
        slot, size, probe_size, offset = _TASK.unpack(task)
        at = slot * slot_bytes
        data = shm[at : at + size]
        probe = shm[at + size : at + size + probe_size]
        try:
            try:
                starts = np.frombuffer(conn.recv_bytes(), dtype=np.int64)
                cols = range_columns(detector, fmt, name, data, probe, offset, starts)
            except (EOFError, OSError):
                raise
            except Exception as exc:  # noqa: BLE001 - said to the index, which reads them
                conn.send_bytes(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
                continue
            _send(conn, cols)
        except (EOFError, OSError):  # the viewer is gone
            return


def _send(conn: Connection, cols: ChunkColumns | None) -> None:
    head: dict = {"cols": None}
    arrays = []
    if cols is not None:
        head["cols"] = {"count": len(cols.levelnos), "names": cols.names,
                        "sources": cols.sources}
        arrays += [cols.levelnos.astype(np.int32), cols.loggers.astype(np.int32),
                   cols.times.astype(np.float64)]
    conn.send_bytes(json.dumps(head).encode())
    for array in arrays:
        conn.send_bytes(array.tobytes())


def _receive(conn: Connection, due: float) -> ChunkColumns | None:
    """A worker's reply; TimeoutError if a part of it is not there by ``due``."""

    def message() -> bytes:
        if not conn.poll(max(0.0, due - time.monotonic())):
            raise TimeoutError("no reply in time")
        return conn.recv_bytes()

    head = json.loads(message())
    if "error" in head:
        raise RangeWorkerError(head["error"])
    meta = head["cols"]
    if meta is None:
        return None
    n = meta["count"]

    def array(dtype: type[np.generic]) -> np.ndarray:
        got = np.frombuffer(message(), dtype=dtype)
        if len(got) != n:
            raise ValueError(f"a worker sent {len(got)} values for {n} records")
        return got

    return ChunkColumns(array(np.int32), array(np.int32), list(meta["names"]),
                        array(np.float64), list(meta["sources"]))
