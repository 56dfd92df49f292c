"""Level, logger, time and source of every record, counted in chunks (the viewer's level bar,
logger tree and histogram).

A chunk of whole records is read through the store's index; the format's ``ColumnWalker``
(``formats.template_columns``) reads the header fields of all its records at once, and only
the records it could not read are parsed, one by one, as before. A format without a walker
(JSON lines, syslog...) has every record parsed. Counting is order-free, so a merged store
is counted part by part, each up to the records it has placed in the merged order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from logview.record import RawRecord, parse_raw_record

if TYPE_CHECKING:
    from logview.store import LogStore, Store

#: Raw bytes read per counting step (whole records).
COUNT_BYTES = 4 << 20


@dataclass(slots=True)
class CountBatch:
    """What a chunk of records adds to the counts."""

    count: int = 0
    levelnos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    loggers: dict[str, int] = field(default_factory=dict)
    #: Times of the records that have one, and their level numbers.
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time_levelnos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    sources: list[str] = field(default_factory=list)


class RecordCounter:
    """Counts a store's records chunk by chunk, remembering how far each part got."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._done: dict[int, int] = {}

    @property
    def counted(self) -> int:
        return sum(self._done.values())

    def batches(self, known: int, *, cancelled: Callable[[], bool] = lambda: False,
                chunk_bytes: int = COUNT_BYTES) -> Iterator[CountBatch]:
        """Batches for the records not counted yet: the first ``known`` of a single store,
        or what each part of a merged store has placed."""
        parts = self.store.parts()
        single = len(parts) == 1 and parts[0] is self.store
        for sid, part in enumerate(parts):
            upto = known if single else len(self.store.merged_positions(sid))  # type: ignore[attr-defined]
            upto = min(upto, len(part))
            while self._done.get(sid, 0) < upto and not cancelled():
                lo = self._done.get(sid, 0)
                batch, hi = count_chunk(part, lo, upto, chunk_bytes)
                self._done[sid] = hi
                yield batch


def count_chunk(store: LogStore, lo: int, hi: int, chunk_bytes: int = COUNT_BYTES
                ) -> tuple[CountBatch, int]:
    """The counts of records ``lo`` up to at most ``hi`` (about ``chunk_bytes`` of them), and
    where the chunk ended."""
    index, fmt, name = store.index, store.format, store.name
    first = index.start(lo)
    hi = min(hi, max(lo + 1, index.find(first + chunk_bytes)))
    bounds = index.bounds(lo, hi)
    base = int(bounds[0])
    buf = store.source.read_at(base, int(bounds[-1]) - base)
    rel = bounds - base
    n = hi - lo
    walker = fmt.column_walker()
    if walker is not None:
        cols = walker.read(buf, rel[:-1])
        ok, levelnos, times = cols.ok, cols.levelnos, cols.times
        names = [*cols.logger_names, ""]  # -1: the template writes no logger
        ids = cols.loggers[ok]
        counts = np.bincount(np.where(ids < 0, len(names) - 1, ids), minlength=len(names))
        loggers: dict[str, int] = {}
        for i, count in enumerate(counts.tolist()):
            if count:
                loggers[names[i]] = loggers.get(names[i], 0) + count
        unread = np.flatnonzero(~ok).tolist()
        sources = [name] if ok.any() else []
    else:
        levelnos, times = np.zeros(n, dtype=np.int16), np.full(n, np.nan)
        loggers, unread, sources = {}, list(range(n)), []
    seen_sources = set(sources)
    for j in unread:  # parsed: the walker could not read them, or there is no walker
        s, e = int(rel[j]), int(rel[j + 1])
        record = parse_raw_record(fmt, RawRecord(base + s, 0, buf[s:e]), name)
        levelnos[j] = max(-32768, min(32767, record.levelno))
        loggers[record.logger] = loggers.get(record.logger, 0) + 1
        stamp = record.timestamp
        times[j] = stamp if stamp is not None and math.isfinite(stamp) else np.nan
        if record.source not in seen_sources:
            seen_sources.add(record.source)
            sources.append(record.source)
    timed = ~np.isnan(times)
    return CountBatch(n, levelnos, loggers, times[timed], levelnos[timed], sources), hi
