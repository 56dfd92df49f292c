"""Record statistics: counts per level bucket, per logger, per time, per source; the times of
the records a filter keeps (``FilteredTimes``, from the record columns).

A counting thread adds records; a reader (the viewer's level bar, logger tree and histogram)
takes what accumulated since its last look (logger counts and times as deltas, level counts
and sources as totals). Between two takes the pending data is bounded: past ``MAX_PENDING``
records the counting thread waits (``room``) for the reader.
"""

from __future__ import annotations

import math
import threading
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from logview.columns import ColumnView, CountBatch, exact_times
from logview.record import LEVEL_BUCKETS, Record, level_bucket

if TYPE_CHECKING:
    from logview.store import Store

#: Distinct sources remembered (a hostile stream of client names stays bounded).
MAX_SOURCES = 256

#: The lowest level number of each bucket (``level_bucket`` in bulk).
_BUCKET_FLOORS = np.array([floor for _, floor in LEVEL_BUCKETS])

#: Records whose times and loggers may wait for the UI before the worker pauses.
MAX_PENDING = 500_000


class RecordStats:
    """Level totals plus pending per-logger counts and (time, level) pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.levels = [0] * len(LEVEL_BUCKETS)
        self.unknown = 0
        self.counted = 0
        self._loggers: dict[str, int] = {}
        # Compact arrays (10 B per pending record, not ~60 B of Python floats and ints).
        self._times = array("d")
        self._levelnos = array("h")
        self._pending = 0
        #: Distinct record sources in the order first seen (at most ``MAX_SOURCES``).
        self._sources: dict[str, None] = {}
        self._last_source: str | None = None
        self.room = threading.Event()
        self.room.set()

    def add(self, record: Record) -> None:
        """Count one record (worker thread)."""
        bucket = level_bucket(record.levelno)
        with self._lock:
            if bucket < 0:
                self.unknown += 1
            else:
                self.levels[bucket] += 1
            self.counted += 1
            self._loggers[record.logger] = self._loggers.get(record.logger, 0) + 1
            stamp = record.timestamp
            if stamp is not None and math.isfinite(stamp):
                self._times.append(stamp)
                self._levelnos.append(max(-32768, min(32767, record.levelno)))
            source = record.source
            if source != self._last_source:  # runs of one source are the common case
                self._last_source = source
                if source not in self._sources and len(self._sources) < MAX_SOURCES:
                    self._sources[source] = None
            self._pending += 1
            if self._pending >= MAX_PENDING:
                self.room.clear()

    def add_batch(self, batch: CountBatch) -> None:
        """Count a chunk's records at once (worker thread; ``columns.RecordCounter``)."""
        levelnos = batch.levelnos.astype(np.int64)
        known = levelnos > 0
        buckets = np.searchsorted(_BUCKET_FLOORS, levelnos[known], side="right") - 1
        per_bucket = np.bincount(buckets, minlength=len(LEVEL_BUCKETS)).tolist()
        with self._lock:
            for i, count in enumerate(per_bucket):
                self.levels[i] += count
            self.unknown += int(len(levelnos) - known.sum())
            self.counted += batch.count
            for logger, count in batch.loggers.items():
                self._loggers[logger] = self._loggers.get(logger, 0) + count
            self._times.frombytes(batch.times.astype(np.float64).tobytes())
            self._levelnos.frombytes(np.clip(batch.time_levelnos, -32768, 32767)
                                     .astype(np.int16).tobytes())
            for source in batch.sources:
                if source not in self._sources and len(self._sources) < MAX_SOURCES:
                    self._sources[source] = None
            self._pending += batch.count
            if self._pending >= MAX_PENDING:
                self.room.clear()

    def totals(self) -> tuple[list[int], int, int]:
        """(level bucket counts, records without a level, records counted)."""
        with self._lock:
            return list(self.levels), self.unknown, self.counted

    def sources(self) -> list[str]:
        """The distinct sources seen so far, first seen first (bounded by ``MAX_SOURCES``)."""
        with self._lock:
            return list(self._sources)

    def take(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Logger counts and (times, levelnos) added since the last take (UI thread)."""
        with self._lock:
            loggers, self._loggers = self._loggers, {}
            times = np.frombuffer(self._times, dtype=np.float64).copy()
            levelnos = np.frombuffer(self._levelnos, dtype=np.int16).astype(np.int64)
            self._times, self._levelnos = array("d"), array("h")
            self._pending = 0
            self.room.set()
        return loggers, times, levelnos


class FilteredTimes:
    """Times and levels of the records a query keeps, read from the store's record columns
    (``column_store``) as far as they are counted: the histogram of a filtered view.

    ``answerable`` is False when the query has a term the columns cannot answer (a word, a
    field); then it gathers nothing and the histogram shows every record. ``advance`` (a
    worker) looks at up to ``SLICE`` records counted since its last call (bounded temporary
    arrays) and holds at most about ``MAX_PENDING`` matches until ``take`` (the UI) takes them.
    """

    #: Records of the columns looked at in one go.
    SLICE = 1 << 20

    def __init__(self, store: Store, query: Any) -> None:
        self.store = store
        self.query = query
        mask_of = getattr(query, "column_mask", None)
        self.answerable = mask_of is not None and mask_of(ColumnView.empty()) is not None
        self._lock = threading.Lock()
        self._done: dict[int, tuple[int, int]] = {}  # part -> (generation, records looked at)
        self._times: list[np.ndarray] = []
        self._levelnos: list[np.ndarray] = []
        self._pending = 0
        self.matched = 0
        #: Set while fewer than ``MAX_PENDING`` matches wait for the UI.
        self.room = threading.Event()
        self.room.set()

    @property
    def pending(self) -> int:
        """Matches found and not taken yet."""
        return self._pending

    def caught_up(self) -> bool:
        """Every record counted so far was looked at."""
        return all(self._done.get(sid, (0, 0))[1] >= len(part.columns)
                   for sid, part in enumerate(self.store.parts()))

    def advance(self) -> int:
        """Look at up to ``SLICE`` records counted since the last call (nothing while the UI
        has ``MAX_PENDING`` matches to take); returns how many records were looked at."""
        if not self.answerable or not self.room.is_set():
            return 0
        with self._lock:
            for sid, part in enumerate(self.store.parts()):
                columns = part.columns
                generation, done = self._done.get(sid, (columns.generation, 0))
                if generation != columns.generation or columns.generation != part.generation:
                    continue  # restarted: the screen starts a new one
                if len(columns) <= done:
                    continue
                view = columns.view()
                stop = min(len(view), done + self.SLICE)
                piece = view.part(done, stop,
                                  exact=lambda which, p=part, at=done: exact_times(p, which + at))
                mask = self.query.column_mask(piece)
                if mask is None:  # cannot happen for an answerable query; never wrong anyway
                    self.answerable = False
                    return 0
                which = np.flatnonzero(mask)
                times = piece.time_values(which)
                timed = ~np.isnan(times)
                self._times.append(times[timed])
                self._levelnos.append(piece.levelnos_of(which[timed]).astype(np.int16))
                self._done[sid] = (generation, stop)
                self._pending += int(timed.sum())
                self.matched += len(which)
                if self._pending >= MAX_PENDING:
                    self.room.clear()
                return stop - done
        return 0

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """The (times, levelnos) found since the last take (UI thread)."""
        with self._lock:
            times, levelnos = self._times, self._levelnos
            self._times, self._levelnos = [], []
            self._pending = 0
            self.room.set()
        if not times:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(times), np.concatenate(levelnos).astype(np.int64)
