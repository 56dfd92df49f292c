"""Record statistics: counts per level bucket, per logger, per time, per source.

A counting thread adds records; a reader (the viewer's level bar, logger tree and histogram)
takes what accumulated since its last look (logger counts and times as deltas, level counts
and sources as totals). Between two takes the pending data is bounded: past ``MAX_PENDING``
records the counting thread waits (``room``) for the reader.
"""

from __future__ import annotations

import math
import threading
from array import array

import numpy as np

from logview.columns import CountBatch
from logview.record import LEVEL_BUCKETS, Record, level_bucket

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
