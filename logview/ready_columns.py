"""Columns of records read by the index's range workers (``range_columns``), waiting in
record order for the counter (``columns.RecordCounter``), bounded by bytes.

A range the index gives a worker is expected here from the moment its records are indexed
(``expect``); the worker's columns fill it (``fill``), or it is dropped (``drop``: the worker
failed). The counter takes a part that is filled when it reaches it, waits a moment for one a
worker still reads (``pending_at``), and reads the records of any other itself.
"""

from __future__ import annotations

import threading
from collections import deque

from logview.columns import ChunkColumns

#: Bytes of columns waiting for the counter (16 a record: 512 Ki records); past it the index
#: gives no range to the workers and the counter reads those records itself (memory stays
#: bounded when nobody counts).
READY_BYTES = 8 << 20


class _Part:
    """Columns of records ``at`` on: ``cols`` read, or None while a worker reads them."""

    __slots__ = ("at", "cols", "count", "gone")

    def __init__(self, at: int, count: int, cols: ChunkColumns | None) -> None:
        self.at = at
        self.count = count
        self.cols = cols
        self.gone = False  # let go (taken, dropped, or the index started over)


class ReadyColumns:
    """Columns of records read by the workers, in record order, until the counter takes
    them (at most ``READY_BYTES``). A part the index gave a worker waits here from the
    moment its records are indexed (``expect``) until the worker's columns come (``fill``)
    or do not (``drop``: the counter reads those records itself)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._parts: deque[_Part] = deque()
        self._bytes = 0
        self._changes = 0  # parts filled or dropped (what a waiting counter wakes for)
        self.dropped = 0  # records whose columns did not fit or did not come

    def room(self, count: int) -> bool:
        """Whether the columns of ``count`` more records fit (the index gives a range to a
        worker only then: when the counter lags, it reads those records itself)."""
        with self._lock:
            return self._bytes + count * _RECORD_BYTES <= READY_BYTES

    def expect(self, at: int, count: int) -> _Part:
        """Records ``at`` to ``at + count`` (after every part before) are read by a worker."""
        part = _Part(at, count, None)
        with self._lock:
            self._parts.append(part)
            self._bytes += count * _RECORD_BYTES
        return part

    def put(self, at: int, cols: ChunkColumns) -> None:
        """Keep the columns of records ``at`` on (after every part put before)."""
        self.fill(self.expect(at, len(cols.levelnos)), cols)

    def fill(self, part: _Part, cols: ChunkColumns) -> None:
        """The columns of ``part``'s first records (its last one may be left to the counter:
        the worker did not see where it ends)."""
        count = len(cols.levelnos)
        if count == 0 or count > part.count:
            self.drop(part)
            return
        with self._lock:
            if not part.gone:
                self._bytes -= (part.count - count) * _RECORD_BYTES
                part.count = count
                part.cols = cols
            self._changes += 1
            self._room.notify_all()  # a counter waiting for columns (``wait_parts``)

    def drop(self, part: _Part) -> None:
        """The columns of ``part`` will not come: the counter reads its records."""
        with self._lock:
            if not part.gone:
                part.gone = True
                self._parts.remove(part)
                self._bytes -= part.count * _RECORD_BYTES
                self.dropped += part.count
            self._changes += 1
            self._room.notify_all()

    def take(self, lo: int, hi: int) -> ChunkColumns | None:
        """The columns of records ``lo`` up to at most ``hi`` when the next part holds record
        ``lo`` and is read (what lies before ``lo`` is let go); None otherwise."""
        with self._lock:
            parts = self._parts
            while parts and parts[0].at + parts[0].count <= lo:
                self._let_go(parts.popleft())
            if not parts or parts[0].at > lo or parts[0].cols is None:
                return None
            part = parts.popleft()
            self._let_go(part)
            cols, at, count = part.cols, part.at, part.count
            assert cols is not None
            skip, stop = lo - at, min(count, hi - at)
            if stop < count:  # the rest waits for a later take
                rest = _Part(at + stop, count - stop, _part(cols, stop, count))
                parts.appendleft(rest)
                self._bytes += rest.count * _RECORD_BYTES
            return cols if skip == 0 and stop == count else _part(cols, skip, stop)

    def _let_go(self, part: _Part) -> None:
        part.gone = True
        self._bytes -= part.count * _RECORD_BYTES

    def end(self) -> int:
        """The record after the last one whose columns are read (0: none are)."""
        with self._lock:
            for part in reversed(self._parts):
                if part.cols is not None:
                    return part.at + part.count
            return 0

    def wait_parts(self, after: int, timeout: float) -> bool:
        """Wait (the counter, which counted ``after`` records) at most ``timeout`` seconds
        for the columns of records past ``after`` (or a part given up); whether some are
        ready."""
        changes = self._changes

        def past() -> bool:
            return self._changes != changes or any(
                p.cols is not None and p.at + p.count > after for p in self._parts)

        with self._room:
            return self._room.wait_for(past, timeout)

    def next_at(self, lo: int) -> int | None:
        """The first record at or after ``lo`` whose columns are ready (None: none are). The
        counter reads what comes before itself, a part a worker still reads too: it never
        waits for a worker (a late part is let go when the counter is past it)."""
        with self._lock:
            for part in self._parts:
                if part.cols is not None and part.at + part.count > lo:
                    return max(part.at, lo)
            return None

    def pending_at(self, lo: int) -> int | None:
        """Where the first part a worker still reads that ends past ``lo`` begins (None:
        none does): the counter counts up to it, then waits a moment for its columns
        (``columns.PENDING_WAIT``) rather than read its records a second time."""
        with self._lock:
            for part in self._parts:
                if part.cols is None and part.at + part.count > lo:
                    return part.at
            return None

    def clear(self) -> None:
        with self._lock:
            for part in self._parts:
                part.gone = True
            self._parts.clear()
            self._bytes = 0
            self._changes += 1
            self._room.notify_all()


#: Bytes of columns a record takes here (int32 level, int32 logger, float64 time).
_RECORD_BYTES = 16


def _part(cols: ChunkColumns, lo: int, hi: int) -> ChunkColumns:
    return ChunkColumns(cols.levelnos[lo:hi], cols.loggers[lo:hi], cols.names,
                        cols.times[lo:hi], cols.sources)
