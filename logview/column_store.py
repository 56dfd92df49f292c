"""The record columns a store keeps: per record a level code, a logger id and a time code,
7 bytes (11 with the index's 4), and queries on them (``ColumnView``).

- **Level**: 1 byte, a code into the store's table of the level numbers met (``uint16`` once
  more than 256 distinct numbers were met).
- **Logger**: an id into the store's table of names, ``uint16`` while it has fewer than
  65,536 names, ``uint32`` after.
- **Time**: an ``int32``, ``floor((time - base) / unit)``: ``base`` is the store's first time
  (whole seconds) and ``unit`` a millisecond while every time is within 24 days of it, then
  10 ms (248 days), 0.1 s (6.8 years), 1 s (68 years); the codes kept are recoded when the
  unit grows. ``NO_TIME``: the record has none; ``FAR_TIME``: too far from the base to code.

A time query (``since:``, ``until:``, ``time>=``) is exact: records whose code is within two
units of the bound (the code and the bound are floats rounded once each) or ``FAR_TIME`` are
read again (``exact``: their times parsed), the rest are decided by their codes. With the
histogram's millisecond bounds that is the records of 5 ms around each bound.

Past ``SPILL_BYTES`` the columns move to unlinked temporary files (``growable.MappedArray``):
a 10 GB file's columns are paged by the kernel, not held by the process. The threshold is
small (4 MB): below it a column grows by doubling, a copy (old and new buffers alive at
once); past it a column grows by remapping its file, which copies nothing. Recoding a column
(a wider logger id, a coarser time unit) goes a slice at a time: no temporary is as big as
the column.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from logview.growable import COPY_VALUES, GrowableArray, MappedArray

if TYPE_CHECKING:
    from logview.columns import ChunkColumns

#: Bytes of columns kept in memory; past it they move to unlinked temporary files (small:
#: in memory a column grows by doubling, so growth holds two copies of it for a moment).
SPILL_BYTES = 4 << 20
#: Distinct logger names a store's columns keep; past it (a hostile stream of unique names)
#: the columns stop growing and queries scan as before.
MAX_LOGGER_NAMES = 1 << 20
#: Distinct level numbers a store's columns keep (past it, as above).
MAX_LEVEL_CODES = 1 << 16

#: Time codes that are no time: the record has none, or it is too far from the base.
NO_TIME = int(np.iinfo(np.int32).min)
FAR_TIME = int(np.iinfo(np.int32).max)
_CODE_MAX = FAR_TIME - 1
#: Decimal exponents of the time unit, finest first.
_FINEST_UNIT, _COARSEST_UNIT = -3, 0
#: Codes either side of a bound's code whose records are read again.
_UNSURE = 2

#: Times read from a chunk this close to a bound are parsed (an ulp at 2e9 s is 2.4e-7 s).
_NEAR_SECONDS = 1e-5
#: Exact times of records (positions into a view): float seconds, NaN for none.
ExactTimes = Callable[[np.ndarray], np.ndarray]


class ColumnView:
    """Columns of records ``[0, len)`` as one query sees them (``Query.column_mask``).

    ``times`` is float64 seconds (NaN: none) for a chunk's own columns, or the store's time
    codes with ``time_base`` and ``time_unit``; then ``exact`` gives the times of the records
    a code cannot decide (without it such a query is not answered: None).
    """

    __slots__ = ("exact", "level_table", "levels", "loggers", "names", "time_base",
                 "time_unit", "times")

    def __init__(self, levels: np.ndarray, loggers: np.ndarray, names: list[str],
                 times: np.ndarray | None = None, *, level_table: np.ndarray | None = None,
                 time_base: int | None = None, time_unit: int = 0,
                 exact: ExactTimes | None = None) -> None:
        self.levels = levels
        self.loggers = loggers
        self.names = names
        self.times = times
        self.level_table = level_table
        self.time_base = time_base
        self.time_unit = time_unit
        self.exact = exact

    @classmethod
    def of_chunk(cls, cols: ChunkColumns, exact: ExactTimes | None = None) -> ColumnView:
        """A chunk's columns (level numbers and times as read; ``exact``: the parsed times
        of records, for those right at a time bound)."""
        return cls(cols.levelnos, cols.loggers, cols.names, cols.times, exact=exact)

    @classmethod
    def empty(cls) -> ColumnView:
        """No record: whether a query can be answered by columns at all."""
        empty = np.zeros(0, dtype=np.int32)
        return cls(empty, empty, [], np.zeros(0))

    def __len__(self) -> int:
        return len(self.loggers)

    def part(self, start: int, stop: int, exact: ExactTimes | None = None) -> ColumnView:
        """Records ``[start, stop)``; ``exact`` reads times of positions relative to ``start``."""
        return ColumnView(self.levels[start:stop], self.loggers[start:stop], self.names,
                          None if self.times is None else self.times[start:stop],
                          level_table=self.level_table, time_base=self.time_base,
                          time_unit=self.time_unit, exact=exact)

    @property
    def levelnos(self) -> np.ndarray:
        """Level numbers of every record (decoded)."""
        return self.levels if self.level_table is None else self.level_table[self.levels]

    def levelnos_of(self, which: np.ndarray) -> np.ndarray:
        """Level numbers of the records ``which`` (positions)."""
        levels = self.levels[which]
        return levels if self.level_table is None else self.level_table[levels]

    def by_level(self, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Which records' level number passes ``test`` (a numpy test, run once per code)."""
        if self.level_table is None:
            return np.asarray(test(self.levels), dtype=bool)
        return _by_code(self.levels, np.asarray(test(self.level_table), dtype=bool))

    def by_logger(self, test: Callable[[str], bool]) -> np.ndarray:
        """Which records' logger passes ``test`` (decided once per distinct name)."""
        passing = np.fromiter((test(name) for name in self.names), dtype=bool,
                              count=len(self.names))
        return _by_code(self.loggers, passing)

    def by_time(self, compare: Callable[[object, float], object], bound: float
                ) -> np.ndarray | None:
        """Which records have a time and ``compare(time, bound)`` holds, exactly; None when
        there are no times, or codes cannot decide and ``exact`` is missing."""
        times = self.times
        if times is None:
            return None
        if times.dtype.kind == "f":  # times as read: a walker's sum may be an ulp off the
            # parser's at the bound itself, so the records right at it are parsed when we can
            mask = ~np.isnan(times) & np.asarray(compare(times, bound), dtype=bool)
            if self.exact is not None:
                near = np.flatnonzero(np.abs(times - bound) <= _NEAR_SECONDS)
                if len(near):
                    exact = np.asarray(self.exact(near), dtype=np.float64)
                    mask[near] = ~np.isnan(exact) & np.asarray(compare(exact, bound), dtype=bool)
            return mask
        if self.time_base is None:  # no record had a time
            return np.zeros(len(times), dtype=bool)
        scaled = (bound - self.time_base) * 10.0 ** -self.time_unit
        at = int(max(-2.0**40, min(2.0**40, math.floor(scaled)))) if math.isfinite(scaled) \
            else (1 << 40 if scaled > 0 else -(1 << 40))
        lo = max(-_CODE_MAX, min(_CODE_MAX, at - _UNSURE))
        hi = max(-_CODE_MAX, min(_CODE_MAX, at + _UNSURE))
        mask = np.zeros(len(times), dtype=bool)
        if compare(-math.inf, bound):  # records before the bound pass
            mask |= (times < lo) & (times != NO_TIME)
        if compare(math.inf, bound):  # records after it pass
            mask |= (times > hi) & (times != FAR_TIME)
        unsure = np.flatnonzero(((times >= lo) & (times <= hi)) | (times == FAR_TIME))
        if len(unsure):
            if self.exact is None:
                return None
            exact = np.asarray(self.exact(unsure), dtype=np.float64)
            mask[unsure] = ~np.isnan(exact) & np.asarray(compare(exact, bound), dtype=bool)
        return mask

    def time_values(self, which: np.ndarray) -> np.ndarray:
        """Times of the records ``which`` (positions), to their unit (the middle of it):
        float seconds, NaN for none (what the histogram counts)."""
        times = self.times
        if times is None:
            return np.full(len(which), np.nan)
        codes = times[which]
        if times.dtype.kind == "f":
            return codes.astype(np.float64)
        if self.time_base is None:
            return np.full(len(which), np.nan)
        unit = 10.0**self.time_unit
        values = self.time_base + (codes.astype(np.float64) + 0.5) * unit
        return np.where((codes == NO_TIME) | (codes == FAR_TIME), np.nan, values)


def _by_code(codes: np.ndarray, passing: np.ndarray) -> np.ndarray:
    """``passing[codes]``: with a few codes on one side, as comparisons (a uint8 comparison
    is several times faster than a lookup per record)."""
    inside = np.flatnonzero(passing)
    if len(inside) == 0:
        return np.zeros(len(codes), dtype=bool)
    outside = np.flatnonzero(~passing)
    few, negate = (inside, False) if len(inside) <= len(outside) else (outside, True)
    if len(few) > 4:
        return passing.take(codes)
    mask = codes == few[0] if len(few) else np.zeros(len(codes), dtype=bool)
    for code in few[1:].tolist():
        mask |= codes == code
    return ~mask if negate else mask


class RecordColumns:
    """A store's level codes, logger ids and time codes for its first ``len(self)`` records.

    Written by one counting thread (``columns.RecordCounter``), read by others: a view is a
    consistent prefix. ``generation`` is the store's when they were read; a restart empties
    them (``reset``). ``stopped`` says why they stopped growing, if they did (queries then
    scan the records past them).
    """

    def __init__(self, generation: int = 0) -> None:
        self._lock = threading.Lock()
        self._arrays: list[GrowableArray] = []
        self._empty(generation)

    def _empty(self, generation: int) -> None:
        for array in self._arrays:
            array.close()
        self.generation = generation
        self._count = 0
        self.spilled = False
        self._levels = GrowableArray(np.uint8)
        self._loggers = GrowableArray(np.uint16)
        self._times = GrowableArray(np.int32)
        self._arrays = [self._levels, self._loggers, self._times]
        self._names: list[str] = []
        self._ids: dict[str, int] = {}
        self._level_table: list[int] = []
        self._level_ids: dict[int, int] = {}
        self._level_lut = np.full(256, -1, dtype=np.int32)  # level numbers 0-255: their code
        self._time_base: int | None = None
        self._time_unit = _FINEST_UNIT
        self.stopped: str | None = None

    @property
    def full(self) -> bool:
        """The columns no longer grow (``stopped`` says why)."""
        return self.stopped is not None

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes of the values kept (levels, loggers and times)."""
        return sum(array.nbytes for array in self._arrays)

    def reset(self, generation: int) -> None:
        """Forget every record (the store restarted)."""
        with self._lock:
            self._empty(generation)

    def close(self) -> None:
        """Let go of the columns (and their temporary files)."""
        with self._lock:
            self._empty(self.generation)
            self.stopped = "closed"

    def append(self, at: int, generation: int, cols: ChunkColumns) -> None:
        """Keep a chunk read at record ``at`` (ignored unless it continues the columns of
        this generation)."""
        with self._lock:
            if generation != self.generation or at != self._count or self.stopped:
                return
            if len(self._ids) + len(cols.names) > MAX_LOGGER_NAMES:
                self.stopped = f"more than {MAX_LOGGER_NAMES:,} logger names"
                return
            levels = self._level_codes(cols.levelnos)
            if levels is None:
                self.stopped = f"more than {MAX_LEVEL_CODES:,} level numbers"
                return
            loggers = self._logger_ids(cols)
            times = self._time_codes(np.asarray(cols.times, dtype=np.float64))
            try:
                self._levels.extend(levels)
                self._loggers.extend(loggers)
                self._times.extend(times)
            except OSError as err:  # a spilled column's file could not grow (disk full)
                self.stopped = f"no room for the columns' temporary file: {err.strerror}"
                return
            self._count += len(levels)
            if not self.spilled and self.nbytes > SPILL_BYTES:
                self._spill()

    def view(self) -> ColumnView:
        with self._lock:
            n = self._count
            return ColumnView(
                self._levels.view()[:n], self._loggers.view()[:n], list(self._names),
                self._times.view()[:n], level_table=np.array(self._level_table, np.int64),
                time_base=self._time_base, time_unit=self._time_unit)

    # -- coding a chunk (lock held) -----------------------------------------------------------

    def _replace(self, old: GrowableArray, values: np.ndarray, dtype: type[np.generic]
                 ) -> GrowableArray:
        """A new array of ``dtype`` holding ``values``, stored like ``old`` (which is let go;
        views of it stay as they were)."""
        new = MappedArray(dtype) if self.spilled else GrowableArray(dtype)
        new.extend_converted(values)
        old.close()
        self._arrays[self._arrays.index(old)] = new
        return new

    def _logger_ids(self, cols: ChunkColumns) -> np.ndarray:
        ids = self._ids
        found = []
        for name in cols.names:
            got = ids.get(name)
            if got is None:
                got = ids[name] = len(self._names)
                self._names.append(name)
            found.append(got)
        if len(self._names) > 0xFFFF and self._loggers.dtype == np.uint16:
            self._loggers = self._replace(self._loggers, self._loggers.view(), np.uint32)
        if not found:
            return np.asarray(cols.loggers).astype(self._loggers.dtype)
        return np.array(found, dtype=self._loggers.dtype).take(cols.loggers)

    def _level_codes(self, levelnos: np.ndarray) -> np.ndarray | None:
        """Codes of ``levelnos`` (new numbers added to the table), or None when full."""
        levelnos = np.asarray(levelnos)
        if not len(levelnos):
            return np.zeros(0, dtype=self._levels.dtype)
        small = int(levelnos.min()) >= 0 and int(levelnos.max()) < 256
        if small:  # the common case: every number already has its code
            codes = self._level_lut.take(levelnos)
            if int(codes.min()) >= 0:
                return codes.astype(self._levels.dtype)
        present = (np.flatnonzero(np.bincount(levelnos)) if small else np.unique(levelnos))
        for number in present.tolist():
            if number in self._level_ids:
                continue
            code = len(self._level_table)
            if code >= MAX_LEVEL_CODES:
                return None
            if code > 0xFF and self._levels.dtype == np.uint8:
                self._levels = self._replace(self._levels, self._levels.view(), np.uint16)
            self._level_table.append(number)
            self._level_ids[number] = code
            if 0 <= number < 256:
                self._level_lut[number] = code
        if small:
            codes = self._level_lut[levelnos]
        else:
            keys = np.array(sorted(self._level_ids), dtype=np.int64)
            values = np.array([self._level_ids[k] for k in keys.tolist()], dtype=np.int64)
            codes = values[np.searchsorted(keys, levelnos)]
        return codes.astype(self._levels.dtype)

    def _time_codes(self, times: np.ndarray) -> np.ndarray:
        timed = np.isfinite(times)
        every = bool(timed.all())
        if not every and not timed.any():
            return np.full(len(times), NO_TIME, dtype=np.int32)
        if self._time_base is None:
            self._time_base = math.floor(float(times[np.argmax(timed)]))
        while True:
            scaled = np.floor((times - self._time_base) * 10.0 ** -self._time_unit)
            if not every:
                scaled[~timed] = 0.0
            low, high = float(scaled.min()), float(scaled.max())
            near = -_CODE_MAX <= low and high <= _CODE_MAX
            if near or self._time_unit >= _COARSEST_UNIT:
                break
            self._coarsen()
        if not near:
            scaled = np.where(np.abs(scaled) <= _CODE_MAX, scaled, FAR_TIME)
        codes = scaled.astype(np.int32)
        if not every:
            codes[~timed] = NO_TIME
        return codes

    def _coarsen(self) -> None:
        """A unit ten times wider: the codes kept are recoded (a new array)."""
        old = self._times
        new = MappedArray(np.int32) if self.spilled else GrowableArray(np.int32)
        values = old.view()[: self._count]
        for lo in range(0, len(values), COPY_VALUES):  # bounded temporaries
            part = values[lo : lo + COPY_VALUES]
            coded = (part != NO_TIME) & (part != FAR_TIME)
            new.extend(np.where(coded, part // 10, part))
        old.close()
        self._arrays[self._arrays.index(old)] = new
        self._times = new
        self._time_unit += 1

    def _spill(self) -> None:
        """Move the columns to unlinked temporary files (memory-mapped), one at a time (the
        memory of each is let go before the next is copied)."""
        for k, array in enumerate(self._arrays):
            try:
                mapped = MappedArray(array.dtype)
                mapped.extend(array.view()[: self._count])
            except OSError:  # no room in $TMPDIR: it stays in memory, answers are the same
                continue
            array.close()
            self._arrays[k] = mapped
        self._levels, self._loggers, self._times = self._arrays
        self.spilled = True
