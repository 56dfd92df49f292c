"""Level, logger, time and source of every record, read in chunks: the viewer's level bar,
logger tree and histogram count them, and queries on levels and loggers are answered from
them with numpy.

A chunk of whole records is read through the store's index; the format's ``ColumnWalker``
(``formats.template_columns``) reads the header fields of all its records at once, and only
the records it could not read are parsed, one by one (JSON lines have their own walker,
``formats.json_columns``; a format without one, such as syslog, has every record parsed).
What was read is kept per store in ``RecordColumns`` (``column_store``: a level code, a
logger id and a time code per record, 7 bytes), as far as it was counted: a query whose terms
are all about levels, loggers and times (``level>=ERROR``, the logger tree's exclusions, the
histogram's ``since:``/``until:``) is then a numpy expression over them
(``Query.column_mask``), not a scan.
Counting is order-free, so a merged store is counted part by part, each up to the records
it has placed in the merged order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from logview.boundaries import TimeCarrier
from logview.column_store import MAX_LOGGER_NAMES, ColumnView, RecordColumns
from logview.formats.template_columns import HeaderColumns
from logview.record import RawRecord, parse_raw_record
from logview.timeparse import to_timestamp

if TYPE_CHECKING:
    from logview.formats.base import LogFormat
    from logview.formats.json_columns import JsonColumnWalker
    from logview.formats.template_columns import ColumnWalker
    from logview.sources.base import ByteSource
    from logview.store import LogStore, Store

#: Raw bytes read per counting step (whole records).
COUNT_BYTES = 4 << 20
#: Seconds the counter waits for a range a worker reads before it reads it itself.
PENDING_WAIT = 0.5
#: Bytes of records a column walker reads at once: its numpy temporaries are several times
#: the bytes it is given (up to 9 x for JSON lines), so a bigger chunk is walked in pieces.
WALK_BYTES = 1 << 20


@dataclass(slots=True)
class CountBatch:
    """What a chunk of records adds to the counts."""

    count: int = 0
    levelnos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    loggers: dict[str, int] = field(default_factory=dict)
    #: Times of the records that have one, and their level numbers.
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time_levelnos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ChunkColumns:
    """The fields of a chunk's records: level numbers, logger ids into ``names``, times
    (NaN: none) and the sources met."""

    levelnos: np.ndarray
    loggers: np.ndarray
    names: list[str]
    times: np.ndarray
    sources: list[str]

    def batch(self) -> CountBatch:
        counts = np.bincount(self.loggers, minlength=len(self.names)).tolist()
        loggers: dict[str, int] = {}
        for i, count in enumerate(counts):
            if count:
                loggers[self.names[i]] = loggers.get(self.names[i], 0) + count
        timed = ~np.isnan(self.times)
        return CountBatch(len(self.levelnos), self.levelnos, loggers, self.times[timed],
                          self.levelnos[timed], self.sources)


class RecordCounter:
    """Counts a store's records chunk by chunk, remembering how far each part got, and keeps
    what it read in each part's ``columns``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._done: dict[int, int] = {}
        self._waited_at = -1  # records counted at the last ``wait_ready``
        self._pending: tuple[int, float] | None = None  # (record, since): a worker reads it
        for part in store.parts():  # what the index reads from now on is counted with it
            part.count_with_index()

    @property
    def counted(self) -> int:
        return sum(self._done.values())

    def riding(self) -> bool:
        """Whether the index's range workers read columns for this counter now (the counts
        then come with the index, not with what the viewer was told of)."""
        parts = self.store.parts()
        return len(parts) == 1 and parts[0] is self.store and parts[0].ranges_running()

    def _wait_for_worker(self, at: int) -> bool:
        """Whether to wait for the worker reading the part that begins at record ``at`` (a
        busy machine starves the workers, which run at a lower priority: after
        ``PENDING_WAIT`` seconds the counter reads those records itself and the worker's
        reply is let go)."""
        now = time.monotonic()
        if self._pending is None or self._pending[0] != at:
            self._pending = (at, now)
        return now - self._pending[1] < PENDING_WAIT

    def wait_ready(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for columns the index's workers read; whether
        some are ready to count."""
        ready = self.store.parts()[0].ready_columns()
        counted = self._done.get(0, 0)
        if counted == self._waited_at:  # ready, yet nothing counted since: the index shows
            time.sleep(0.001)  # columns just before it appends their records; let it
        self._waited_at = counted
        # Past the record after the last counted: the index's last record is not complete
        # (not in ``len``) until the next range begins the record after it.
        return ready is not None and ready.wait_parts(counted + 1, timeout)

    def batches(self, known: int, *, cancelled: Callable[[], bool] = lambda: False,
                chunk_bytes: int = COUNT_BYTES) -> Iterator[CountBatch]:
        """Batches for the records not counted yet: the first ``known`` of a single store,
        or what each part of a merged store has placed. A part that restarts under the
        count (truncated, rotated) ends it: the caller counts the new records anew."""
        parts = self.store.parts()
        single = len(parts) == 1 and parts[0] is self.store
        for sid, part in enumerate(parts):
            upto = known if single else len(self.store.merged_positions(sid))  # type: ignore[attr-defined]
            generation = part.generation
            ready = part.ready_columns()
            if ready is not None and single:  # what the workers read is counted as it comes,
                upto = max(upto, ready.end())  # not when the viewer knows of those records
            upto = min(upto, len(part))
            while self._done.get(sid, 0) < upto and not cancelled():
                lo = self._done.get(sid, 0)
                try:
                    cols = None if ready is None else ready.take(lo, upto)
                    if cols is not None:  # read with the index
                        hi = lo + len(cols.levelnos)
                    else:
                        hi = chunk_end(part, lo, upto, chunk_bytes)
                        if ready is not None:  # up to the next records read with the index
                            hi = min(hi, max(lo + 1, ready.next_at(lo) or hi))
                            pending = ready.pending_at(lo)
                            if pending is not None and pending > lo:
                                hi = min(hi, pending)
                            elif pending is not None and self._wait_for_worker(pending):
                                break  # a worker reads them: wait (``wait_ready``)
                        cols = read_span(part, lo, hi)
                except IndexError:  # the index started over under the count
                    if part.generation == generation:
                        raise
                    return
                if part.generation != generation:
                    return  # its record positions mean nothing in the new file
                part.columns.append(lo, generation, cols)
                self._done[sid] = hi
                yield cols.batch()


__all__ = ["MAX_LOGGER_NAMES", "ColumnView", "RecordColumns", "RecordCounter",
           "column_positions", "columns_of", "exact_times", "read_chunk", "read_records"]


def exact_times(store: LogStore, positions: np.ndarray) -> np.ndarray:
    """The times of records ``positions`` of ``store``, parsed (float seconds, NaN: none): what
    a time code cannot decide (``ColumnView.by_time``)."""
    out = np.full(len(positions), np.nan)
    for k, i in enumerate(np.asarray(positions).tolist()):
        stamp = store.parse_original(i).timestamp
        if stamp is not None and math.isfinite(stamp):
            out[k] = stamp
    return out


def read_records(source: ByteSource, base: int, rel: np.ndarray) -> tuple[bytes, dict[int, bytes]]:
    """The bytes of the records ``[base + rel[j], base + rel[j + 1])`` in one read, and the
    records that could not be read whole: a source can hold bytes that are gone for good (a
    rotated file deleted, what logrotate's copytruncate lost between its copy and its
    truncation) and a read stops there. Then each record is read on its own (``short``: the
    bytes of those that came back short, empty when none is left); ``buf`` keeps every
    record's place, what is missing as spaces."""
    size = int(rel[-1])
    buf = source.read_at(base, size)
    if len(buf) >= size:
        return buf, {}
    parts: list[bytes] = []
    short: dict[int, bytes] = {}
    for j in range(len(rel) - 1):
        s, e = int(rel[j]), int(rel[j + 1])
        data = buf[s:e] if e <= len(buf) else source.read_at(base + s, e - s)
        if len(data) < e - s:
            short[j] = data
            data = data.ljust(e - s)
        parts.append(data)
    return b"".join(parts), short


def chunk_end(store: LogStore, lo: int, hi: int, chunk_bytes: int = COUNT_BYTES) -> int:
    """Where a chunk of about ``chunk_bytes`` from record ``lo`` ends (at most ``hi``)."""
    first = store.index.start(lo)
    return min(hi, max(lo + 1, store.index.find(first + chunk_bytes)))


def read_span(store: LogStore, lo: int, hi: int) -> ChunkColumns:
    """The fields of records ``lo`` to ``hi`` (read at once)."""
    bounds = store.index.bounds(lo, hi)
    base = int(bounds[0])
    rel = bounds - base
    buf, short = read_records(store.source, base, rel)
    carry = None
    if store.format.time_from_previous:
        carry = TimeCarrier(store.source, store.index.detector)
    return columns_of(store.format, store.name, buf, rel, base, short, carry)


def read_chunk(store: LogStore, lo: int, hi: int, chunk_bytes: int = COUNT_BYTES
               ) -> tuple[ChunkColumns, int]:
    """The fields of records ``lo`` up to at most ``hi`` (about ``chunk_bytes`` of them), and
    where the chunk ended."""
    end = chunk_end(store, lo, hi, chunk_bytes)
    return read_span(store, lo, end), end


def walk(walker: ColumnWalker | JsonColumnWalker, buf: bytes, rel: np.ndarray
         ) -> HeaderColumns:
    """The walker's columns of the records ``buf[rel[j]:rel[j + 1]]``, read ``WALK_BYTES``
    of records at a time (bounded temporaries; logger ids renumbered into one table)."""
    n = len(rel) - 1
    limit = getattr(walker, "walk_bytes", WALK_BYTES)  # a walker may take more at once
    if n <= 1 or int(rel[-1] - rel[0]) <= limit:
        return walker.read(buf, rel[:-1])
    cuts = np.searchsorted(rel, np.arange(int(rel[0]) + limit, int(rel[-1]), limit))
    cuts = np.unique(np.clip(cuts, 1, n))
    edges = [0, *cuts.tolist(), n] if cuts[-1] < n else [0, *cuts.tolist()]
    names: list[str] = []
    ids: dict[str, int] = {}
    parts = []
    for a, b in pairwise(edges):
        lo = int(rel[a])
        got = walker.read(buf[lo : int(rel[b])], rel[a:b] - lo)
        table = []
        for logger in got.logger_names:
            k = ids.get(logger)
            if k is None:
                k = ids[logger] = len(names)
                names.append(logger)
            table.append(k)
        if table:
            got.loggers = np.where(got.loggers < 0, -1, np.array(table, dtype=np.int32)
                                   .take(np.maximum(got.loggers, 0)))
        parts.append(got)
    return HeaderColumns(np.concatenate([got.ok for got in parts]),
                         np.concatenate([got.levelnos for got in parts]),
                         np.concatenate([got.loggers for got in parts]), names,
                         np.concatenate([got.times for got in parts]))


def columns_of(fmt: LogFormat, name: str, buf: bytes, rel: np.ndarray, base: int = 0,
               short: dict[int, bytes] | None = None,
               time_before: Callable[[int], Any] | None = None,
               offsets: list[int] | None = None) -> ChunkColumns:
    """The fields of the records ``buf[rel[j]:rel[j + 1]]`` (read at offset ``base`` of
    source ``name``): the format's walker reads what it can, the rest is parsed. ``short``:
    records cut short by bytes gone for good (see ``read_records``), parsed from what is left.
    A record without a time of a format whose such records take the time before
    (``LogFormat.time_from_previous``) takes the record before's, or for the first one,
    ``time_before(offset)``'s (None: it has none); ``offsets``: the records are not one
    after the other in the source (a scan's hits side by side) but read there."""
    short = short or {}
    n = len(rel) - 1
    walker = fmt.column_walker()
    if walker is not None:
        got = walk(walker, buf, rel)
        ok = got.ok
        for j in short:  # cut short (bytes gone for good): parsed from what is left
            ok[j] = False
        names = [*got.logger_names, ""]  # the last: a template that writes no logger
        loggers = np.where(got.loggers < 0, len(names) - 1, got.loggers).astype(np.int32)
        levelnos = got.levelnos.astype(np.int32)
        times = got.times
        unread = np.flatnonzero(~ok).tolist()
        sources = [name] if ok.any() else []
    else:
        names, loggers = [], np.zeros(n, dtype=np.int32)
        levelnos, times = np.zeros(n, dtype=np.int32), np.full(n, np.nan)
        unread, sources = list(range(n)), []
    if unread:
        ids = {logger: k for k, logger in enumerate(names)}
        seen_sources = set(sources)
        for j in unread:  # parsed: the walker could not read them, or there is no walker
            s, e = int(rel[j]), int(rel[j + 1])
            record = parse_raw_record(fmt, RawRecord(base + s, 0, short.get(j, buf[s:e])), name)
            levelnos[j] = record.levelno
            k = ids.get(record.logger)
            if k is None:
                k = ids[record.logger] = len(names)
                names.append(record.logger)
            loggers[j] = k
            stamp = record.timestamp
            if stamp is None and fmt.time_from_previous:
                stamp = (times[j - 1] if follows(offsets, rel, j) else
                         _stamp(time_before, base + s if offsets is None else offsets[j]))
            times[j] = stamp if stamp is not None and math.isfinite(stamp) else np.nan
            if record.source not in seen_sources:
                seen_sources.add(record.source)
                sources.append(record.source)
    return ChunkColumns(levelnos, loggers, names, times, sources)


def follows(offsets: list[int] | None, rel: np.ndarray, j: int) -> bool:
    """Whether record ``j - 1`` of a chunk is the one before record ``j`` in the source."""
    if not j:
        return False
    return offsets is None or offsets[j - 1] + int(rel[j] - rel[j - 1]) == offsets[j]


def _stamp(time_before: Callable[[int], Any] | None, offset: int) -> float | None:
    """Seconds of ``time_before(offset)``'s time, or None."""
    moment = None if time_before is None else time_before(offset)
    return None if moment is None else to_timestamp(moment)


def column_positions(store: Store, query: Any, start: int,
                     stop: int) -> tuple[np.ndarray, int] | None:
    """Positions in ``[start, stop)`` that match, answered from the store's record columns
    (``columns.RecordColumns``) without reading a record, and where the columns ended; None
    when the query has a term the columns cannot answer or they do not reach ``start``."""
    mask_of = getattr(query, "column_mask", None)
    parts = store.parts()
    if mask_of is None or len(parts) != 1 or parts[0] is not store:
        return None
    columns = store.columns  # type: ignore[attr-defined]
    view = columns.view()
    if columns.generation != store.generation:
        return None
    covered = min(stop, len(view.loggers))
    if covered <= start:
        return None
    mask = mask_of(view.part(start, covered,
                             exact=lambda which: exact_times(store, which + start)))
    if mask is None:
        return None
    return np.flatnonzero(mask) + start, covered
