"""The viewer's filter on every core: spans of a file's records tested in worker processes.

A filter over a big indexed backlog (``MIN_BYTES``) is cut into spans of whole records
(``SPAN_BYTES``). The viewer's thread reads each span's bytes as the scan does (through the
source: rotated files, what copytruncate lost) and puts them in a slot of shared memory; a
worker tests the span's records with the same code as the viewer's own scan
(``scan.match_chunk``: the query's needles in bulk, then the candidates parsed and tested)
and sends back which records matched, as a raw array of their numbers in the span. The
viewer checks that array (in range, increasing) and yields the positions in order, span by
span, so the list fills as they are found.

The workers are forked by the fork server (``fork_server``), never by the threaded viewer;
what they need goes to them pickled by the viewer (the format, the query's recipe: its
predicate is closures), never a pickle back. Every reply has a deadline
(``worker_procs.reply_seconds``); a worker that misses it, fails or says it could not is
killed and the viewer's thread tests that span and the rest itself, as without workers:
the matches are the same either way. A span whose bytes could not all be read is tested by
the viewer's thread too.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

import logview.worker_procs as procs
from logview.boundaries import TimeCarrier
from logview.columns import read_records
from logview.fork_server import server as fork_server
from logview.query.plan import query_from_recipe
from logview.scan import Matcher, match_chunk

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from logview.formats.base import LogFormat
    from logview.store import Store

#: Bytes of records a pass must have before it goes to workers (forking and copying cost
#: more than they save on less).
MIN_BYTES = 32 << 20
#: Bytes of records a worker tests at once (whole records: a span holds at least one).
SPAN_BYTES = 4 << 20
#: Bytes of records the viewer's thread tests at once while every worker is busy (a worker
#: that answers meanwhile waits for its next span until this one is done).
HERE_BYTES = 1 << 20
#: Spans a worker holds at once (2: it has its next one at hand when it answers).
SLOTS_PER_WORKER = 2
#: Most worker processes.
MAX_WORKERS = 2
#: Seconds a worker waits for a task before it looks again (its socket's end wakes it).
_IDLE_CHECK = 1.0
_TASK = struct.Struct("<qqqqq")  # slot, bytes, records, offset of the span, its first line
_OK, _FAILED = b"\x00", b"\x01"


def worker_count() -> int:
    """Worker processes a filter may use (0: one core, no fork server here, or
    ``LOGVIEW_FILTER_WORKERS=0``)."""
    if os.environ.get("LOGVIEW_FILTER_WORKERS") == "0":
        return 0
    if not all(hasattr(os, f) for f in ("fork", "memfd_create")) or not hasattr(
            __import__("socket"), "send_fds"):
        return 0
    count = min(MAX_WORKERS, procs.cpus())
    return count if count >= 2 else 0


def prepare(store: Store) -> bool:
    """Start the fork server in the background when ``store`` has input enough for filter
    workers (the viewer's index holds one core: the server's start takes the other, and the
    first filter need not wait for it); whether it was asked to."""
    if not worker_count() or store.progress()[1] < MIN_BYTES:
        return False
    threading.Thread(target=fork_server().start, name="logview-fork-server-start",
                     daemon=True).start()
    return True


class FilterWorkers:
    """Worker processes that test spans of ``store``'s records against ``query``.

    ``scan(lo, hi)`` yields the matching positions span by span, in order; ``close`` ends
    the workers. When they cannot start (or are given up), ``scan`` tests the spans in this
    thread (``failed`` says why)."""

    def __init__(self, store: Store, query: Any, count: int | None = None) -> None:
        self.store = store
        self.query = query
        self.format: LogFormat = store.format
        self.matcher = Matcher(self.format, query, getattr(store, "redactor", None))
        self.failed: str | None = None
        #: Records without a time take the one before (``LogFormat.time_from_previous``): a
        #: worker sees its span alone, so a query that reads times is tested here.
        self._carries = self.format.time_from_previous and getattr(query, "reads_time", True)
        if self.format.time_from_previous and hasattr(store, "index"):
            self.matcher.time_before = TimeCarrier(store.source, store.index.detector)
        self.served = 0  # spans the workers answered
        self._count = worker_count() if count is None else count
        self._slot_bytes = SPAN_BYTES
        self._workers: list[procs.WorkerProcess] = []
        self._shm: mmap.mmap | None = None

    @staticmethod
    def worth(store: Store, lo: int, hi: int) -> bool:
        """Whether records ``[lo, hi)`` of ``store`` are worth workers (one indexed file,
        enough bytes, cores for them)."""
        parts = store.parts()
        if len(parts) != 1 or parts[0] is not store or hi <= lo or not worker_count():
            return False
        index = store.index  # type: ignore[attr-defined]
        return index.start(hi - 1) - index.start(lo) >= MIN_BYTES

    def start(self) -> bool:
        """Start the workers (through the fork server); whether they run."""
        if self._workers or self.failed is not None:
            return bool(self._workers)
        recipe = getattr(self.query, "recipe", None)
        if self._count < 1 or recipe is None or self.matcher.everything:
            self.failed = "no workers for this query"
            return False
        if self._carries:
            self.failed = "records without a time take the one before: tested here"
            return False
        size = SLOTS_PER_WORKER * self._count * self._slot_bytes
        try:
            # Outgoing only: the worker makes the format, the query and the redactor again.
            payload = pickle.dumps((self._slot_bytes, size, self.format, recipe,
                                    self.matcher.redactor, self.store.name))
            self._shm, self._workers = procs.start_workers(
                "logview.filter_workers:_work_child", payload, self._count, size, "logview-filter")
        except Exception as exc:  # noqa: BLE001 - the viewer's thread then tests every span
            self.failed = f"filter workers could not start: {type(exc).__name__}: {exc}"
            return False
        return True

    def close(self) -> None:
        """End the workers (they exit at the end of their sockets)."""
        gone, self._workers = self._workers, []
        procs.end_workers(gone)
        shm, self._shm = self._shm, None
        if shm is not None:
            shm.close()

    def _give_up(self, why: str) -> None:
        if self.failed is None:
            self.failed = why
        for worker in self._workers:
            worker.dead = True
            worker.kill()
        self.close()

    # -- the viewer's side -----------------------------------------------------------------

    def scan(self, lo: int, hi: int, *, cancelled: Callable[[], bool] = lambda: False
             ) -> Iterator[tuple[np.ndarray, int]]:
        """(positions that match, records decided up to) for records ``[lo, hi)``, span by
        span in order. Work is shared: each worker holds up to ``SLOTS_PER_WORKER`` spans (its
        next one at hand when it answers), and while every worker's are taken this thread
        tests the next span itself, so the scan is never slower than this thread alone (a
        loaded machine leaves the workers no core)."""
        index = self.store.index  # type: ignore[attr-defined]
        out: dict[int, tuple[int, Any]] = {}  # span start: (its end, matches or what was sent)
        held: list[deque[int]] = [deque() for _ in self._workers]  # a worker's spans, in order
        free = [[k * SLOTS_PER_WORKER + j for j in range(SLOTS_PER_WORKER)]
                for k in range(len(self._workers))]
        at = told = lo
        while told < hi and not cancelled():
            self._collect(out, held, free, block=False)
            if at < hi:
                k = min(range(len(held)), key=lambda w: len(held[w]), default=-1)
                send = k >= 0 and bool(free[k])
                # (A span tested here is smaller: the workers' next spans wait for it.)
                first = index.start(at)
                step = self._slot_bytes if send or not self._workers else HERE_BYTES
                end = min(hi, max(at + 1, index.find(first + step)))
                sent = self._send(at, end, k, free[k][-1]) if send else self._here(at, end)
                if isinstance(sent, tuple):
                    free[k].pop()
                    held[k].append(at)
                out[at] = (end, sent)
                at = end
            elif any(held):
                self._collect(out, held, free, block=True)
            while told in out and not isinstance(out[told][1], tuple):
                end, found = out.pop(told)
                yield found + told, end
                told = end

    def _collect(self, out: dict[int, tuple[int, Any]], held: list[deque[int]],
                 free: list[list[int]], *, block: bool) -> None:
        """Take the replies that are there (with ``block``: wait for the first one due); a
        worker given up has its spans tested here."""
        for k in sorted(range(len(held)), key=lambda w: held[w][0] if held[w] else 1 << 62):
            while held[k]:
                start = held[k][0]
                end, (worker, due, count, slot) = out[start]
                if self._workers and not block and not worker.conn.poll(0):
                    break
                found = self._receive(worker, due, count) if self._workers else None
                held[k].popleft()
                free[k].append(slot)
                out[start] = (end, self._here(start, end) if found is None else found)
                if block and found is not None:
                    return

    def _send(self, lo: int, hi: int, worker_no: int, slot: int) -> Any:
        """Records ``[lo, hi)`` to worker ``worker_no`` in ``slot``: ``(worker, deadline,
        records, slot)``; or their matches (span numbers), tested here when no worker can
        take them (bytes gone for good, a span too big, a worker gone)."""
        store = self.store
        index = store.index  # type: ignore[attr-defined]
        bounds = index.bounds(lo, hi)
        base = int(bounds[0])
        rel = bounds - base
        size = int(rel[-1])
        shm = self._shm
        if shm is None or size > self._slot_bytes:
            return self._here(lo, hi)
        buf, short = read_records(store.source, base, rel)
        if not short:  # (bytes gone for good: the scan's own handling of them, here)
            worker = self._workers[worker_no]
            shm[slot * self._slot_bytes : slot * self._slot_bytes + size] = buf
            try:
                worker.conn.send_bytes(_TASK.pack(slot, size, hi - lo, base, index.line(lo)))
                worker.conn.send_bytes(rel.astype(np.int64).tobytes())
                return worker, time.monotonic() + procs.reply_seconds(size), hi - lo, slot
            except OSError as exc:
                self._give_up(f"a filter worker stopped: {exc}")
        return self._match(buf, rel, short, base, lo)

    def _receive(self, worker: procs.WorkerProcess, due: float, count: int) -> np.ndarray | None:
        """A worker's matches for a span of ``count`` records (None: given up)."""
        if worker.dead or not self._workers:
            return None
        try:
            if not worker.conn.poll(max(0.0, due - time.monotonic())):
                self._give_up("a filter worker did not answer in time")
                return None
            reply = worker.conn.recv_bytes()
        except (EOFError, OSError) as exc:
            self._give_up(f"a filter worker stopped: {exc}")
            return None
        if reply[:1] != _OK or (len(reply) - 1) % 4:
            self._give_up("a filter worker could not test a span: "
                          + reply[1:200].decode("utf-8", "replace"))
            return None
        found = np.frombuffer(reply, dtype=np.int32, offset=1).astype(np.int64)
        if len(found) and (found[0] < 0 or found[-1] >= count or np.any(np.diff(found) <= 0)):
            self._give_up("a filter worker sent records out of its span")
            return None
        self.served += 1
        return found

    def _here(self, lo: int, hi: int) -> np.ndarray:
        """Span numbers of the records ``[lo, hi)`` that match, tested in this thread."""
        store = self.store
        index = store.index  # type: ignore[attr-defined]
        bounds = index.bounds(lo, hi)
        base = int(bounds[0])
        rel = bounds - base
        buf, short = read_records(store.source, base, rel)
        return self._match(buf, rel, short, base, lo)

    def _match(self, buf: bytes, rel: np.ndarray, short: dict[int, bytes], base: int,
               lo: int) -> np.ndarray:
        """Span numbers of the records of ``buf`` (record ``lo`` first) that match."""
        store = self.store
        found, _ = match_chunk(self.matcher, buf, rel, short, base,
                               store.index.line, lo, store.name,  # type: ignore[attr-defined]
                               want_records=False)
        return np.array(found, dtype=np.int64)


# -- the worker process ----------------------------------------------------------------------

def _work_child(payload: bytes, fds: list[int]) -> None:
    """A worker as the fork server starts it: its socket and the slots' memory passed, the
    rest (pickled by the viewer, for it) in ``payload``."""
    from multiprocessing.connection import Connection

    slot_bytes, size, fmt, recipe, redactor, name = pickle.loads(payload)  # from the viewer
    conn = Connection(fds[0])
    try:
        shm = mmap.mmap(fds[1], size)
    finally:
        os.close(fds[1])
    procs.detach_worker(0)  # the user waits for the filter: no lower priority
    _work(conn, shm, slot_bytes, Matcher(fmt, query_from_recipe(recipe), redactor), name)


def _work(conn: Connection, shm: mmap.mmap, slot_bytes: int, matcher: Matcher,
          name: str) -> None:
    """Test the spans the viewer sends until its socket ends; what goes back is raw int32
    record numbers (or a failure's text), never a pickle."""
    while True:
        try:
            if not conn.poll(_IDLE_CHECK):
                continue
            task = conn.recv_bytes()
            rel = np.frombuffer(conn.recv_bytes(), dtype=np.int64)
        except (EOFError, OSError):
            return
        slot, size, count, base, line = _TASK.unpack(task)
        at = slot * slot_bytes
        buf = shm[at : at + size]
        try:
            try:
                if len(rel) != count + 1:
                    raise ValueError(f"{len(rel)} bounds for {count} records")
                found, _ = match_chunk(matcher, buf, rel, {}, base, lambda _lo, at=line: at, 0, name,
                                       want_records=False)
            except Exception as exc:  # noqa: BLE001 - said to the viewer, which tests it itself
                conn.send_bytes(_FAILED + f"{type(exc).__name__}: {exc}".encode())
                continue
            conn.send_bytes(_OK + np.array(found, dtype=np.int32).tobytes())
        except OSError:  # the viewer is gone
            return
