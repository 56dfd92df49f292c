"""Record statistics: counts per level bucket, per logger, per time, per source; the times of
the records a filter keeps (``FilteredTimes``, from the record columns).

A counting thread adds records; a reader (the viewer's level bar, logger tree and histogram)
takes what accumulated since its last look (logger counts as deltas, level counts, sources
and the binned times as totals). The times are binned by the counting thread, so it never
waits for the reader; only a flood of distinct logger names (``MAX_PENDING_LOGGERS``) or raw
times kept for tests (``MAX_PENDING``) make it wait (``room``) for a take.
"""

from __future__ import annotations

import math
import threading
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from logview.columns import ColumnView, CountBatch, exact_times
from logview.record import LEVEL_BUCKETS, Record, level_bucket
from logview.time_bins import TimeBins

if TYPE_CHECKING:
    from logview.store import Store

#: Distinct sources remembered (a hostile stream of client names stays bounded).
MAX_SOURCES = 256

#: The lowest level number of each bucket (``level_bucket`` in bulk).
_BUCKET_FLOORS = np.array([floor for _, floor in LEVEL_BUCKETS])

#: Records whose raw times may wait for ``take`` before the counting thread pauses (only a
#: tally that keeps raw times: ``keep_times``).
MAX_PENDING = 500_000
#: Distinct loggers whose counts may wait for ``take`` before the counting thread pauses (a
#: hostile stream of fresh logger names stays bounded; real logs have a few hundred).
MAX_PENDING_LOGGERS = 100_000
#: Times counted one by one (``add``) that wait before they are binned at once.
_UNBINNED = 4096


class RecordStats:
    """Level totals, pending per-logger counts and the times binned for the histogram.

    The counting thread bins the times itself (``bins``, ``time_bins.TimeBins``: bounded, a
    numpy pass per batch), so the counts never wait for the viewer to take them: the viewer
    copies the bins (``take_bins``) when it draws, a few times a second. ``keep_times``
    also keeps the raw (time, level) pairs until ``take`` (tests compare them with parsing).
    """

    def __init__(self, *, keep_times: bool = False) -> None:
        self._lock = threading.Lock()
        self.levels = [0] * len(LEVEL_BUCKETS)
        self.unknown = 0
        self.counted = 0
        self._loggers: dict[str, int] = {}
        self.bins = TimeBins()
        self._taken_version = -1  # ``bins.version`` at the last ``take_bins``
        # Compact arrays (10 B per record, not ~60 B of Python floats and ints): times added
        # one by one and not binned yet; with ``keep_times``, every time until ``take``.
        self._keep = keep_times
        self._unbinned_times = array("d")
        self._unbinned_levelnos = array("h")
        self._times = array("d")
        self._levelnos = array("h")
        self._pending = 0
        #: Distinct record sources in the order first seen (at most ``MAX_SOURCES``).
        self._sources: dict[str, None] = {}
        self._last_source: str | None = None
        self.room = threading.Event()
        self.room.set()

    def _check_room(self) -> None:
        if ((self._keep and self._pending >= MAX_PENDING)
                or len(self._loggers) >= MAX_PENDING_LOGGERS):
            self.room.clear()

    def _bin_unbinned(self) -> None:
        if self._unbinned_times:
            self.bins.add(np.frombuffer(self._unbinned_times, dtype=np.float64),
                          np.frombuffer(self._unbinned_levelnos, dtype=np.int16))
            self._unbinned_times, self._unbinned_levelnos = array("d"), array("h")

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
                levelno = max(-32768, min(32767, record.levelno))
                self._unbinned_times.append(stamp)
                self._unbinned_levelnos.append(levelno)
                if len(self._unbinned_times) >= _UNBINNED:
                    self._bin_unbinned()
                if self._keep:
                    self._times.append(stamp)
                    self._levelnos.append(levelno)
            source = record.source
            if source != self._last_source:  # runs of one source are the common case
                self._last_source = source
                if source not in self._sources and len(self._sources) < MAX_SOURCES:
                    self._sources[source] = None
            self._pending += 1
            self._check_room()

    def add_batch(self, batch: CountBatch) -> None:
        """Count a chunk's records at once (worker thread; ``columns.RecordCounter``): numpy
        passes over the batch, its times binned here."""
        levelnos = batch.levelnos.astype(np.int64)
        known = levelnos > 0
        levels = levelnos[known]
        if int(levels.max(initial=0)) < 4096:  # records per level number, then per bucket
            per_level = np.bincount(levels)
            numbers = np.flatnonzero(per_level)
            buckets = np.searchsorted(_BUCKET_FLOORS, numbers, side="right") - 1
            per_bucket = np.bincount(buckets, weights=per_level[numbers],
                                     minlength=len(LEVEL_BUCKETS)).astype(np.int64).tolist()
        else:
            buckets = np.searchsorted(_BUCKET_FLOORS, levels, side="right") - 1
            per_bucket = np.bincount(buckets, minlength=len(LEVEL_BUCKETS)).tolist()
        time_levelnos = np.clip(batch.time_levelnos, -32768, 32767).astype(np.int16)
        with self._lock:
            for i, count in enumerate(per_bucket):
                self.levels[i] += count
            self.unknown += int(len(levelnos) - known.sum())
            self.counted += batch.count
            for logger, count in batch.loggers.items():
                self._loggers[logger] = self._loggers.get(logger, 0) + count
            self.bins.add(batch.times, time_levelnos)
            if self._keep:
                self._times.frombytes(batch.times.astype(np.float64).tobytes())
                self._levelnos.frombytes(time_levelnos.tobytes())
            for source in batch.sources:
                if source not in self._sources and len(self._sources) < MAX_SOURCES:
                    self._sources[source] = None
            self._pending += batch.count
            self._check_room()

    def totals(self) -> tuple[list[int], int, int]:
        """(level bucket counts, records without a level, records counted)."""
        with self._lock:
            return list(self.levels), self.unknown, self.counted

    def sources(self) -> list[str]:
        """The distinct sources seen so far, first seen first (bounded by ``MAX_SOURCES``)."""
        with self._lock:
            return list(self._sources)

    def take(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Logger counts and (times, levelnos) added since the last take (UI thread; the
        times are empty unless the tally ``keep_times``)."""
        with self._lock:
            loggers, self._loggers = self._loggers, {}
            times = np.frombuffer(self._times, dtype=np.float64).copy()
            levelnos = np.frombuffer(self._levelnos, dtype=np.int16).astype(np.int64)
            self._times, self._levelnos = array("d"), array("h")
            self._pending = 0
            self.room.set()
        return loggers, times, levelnos

    def take_bins(self) -> TimeBins | None:
        """A copy of the binned times of every record counted, None when nothing was binned
        since the last copy (UI thread: 96 KB copied, whatever the records)."""
        with self._lock:
            self._bin_unbinned()
            if self.bins.version == self._taken_version:
                return None
            self._taken_version = self.bins.version
            return self.bins.copy()


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
