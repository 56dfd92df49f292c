"""Several stores shown as one timeline ordered by record time.

Each store's own order is kept (a store's keys are made non-decreasing: a record without a time,
or one that goes back in time, takes the key of the record before it), so a record without a
time stays right after its predecessor and a multi-line record is never split. The merged order
is one int64 per record (store id in the high bits, position in the low bits), extended
incrementally: only the new tails of the stores are parsed and merged, up to the time every
still-growing store has reached (``final`` merges everything).
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np

from logview.formats.base import LogFormat
from logview.growable import GrowableArray
from logview.record import Record

if TYPE_CHECKING:
    from logview.store import LogStore

_POS_BITS = 40
_POS_MASK = (1 << _POS_BITS) - 1
#: Merged-order parts are consolidated when there are more than this many.
_MAX_PARTS = 64


class MergedStore:
    """The store API over several stores, in time order; records keep their own ``source``."""

    def __init__(self, stores: list[LogStore]) -> None:
        if not stores:
            raise ValueError("MergedStore needs at least one store")
        if len(stores) >= 1 << (63 - _POS_BITS):
            raise ValueError(f"too many sources to merge: {len(stores)}")
        self.stores = stores
        self.source = stores[0].source
        self.name = " + ".join(store.name for store in stores)
        self.generation = 0
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._restart()

    def _restart(self) -> None:
        count = len(self.stores)
        self._parts: list[np.ndarray] = []
        self._part_ends: list[int] = []  # cumulative lengths of ``_parts``
        self._count = 0
        self._taken = [0] * count  # per store: records parsed into keys so far
        self._merged = [0] * count  # per store: records placed in the merged order
        self._pending: list[np.ndarray] = [np.empty(0) for _ in range(count)]  # keys not placed
        self._last_key = [-math.inf] * count
        self._generations = [store.generation for store in self.stores]
        #: Per store: the merged position of each of its records placed so far (a scan of a
        #: store's own records maps its positions to the merged order with these).
        self._placed = [GrowableArray() for _ in range(count)]

    def __len__(self) -> int:
        return self._count

    def parts(self) -> list[LogStore]:
        return list(self.stores)

    def merged_positions(self, sid: int) -> np.ndarray:
        """Merged positions of the records of ``stores[sid]`` placed so far, in its order."""
        return self._placed[sid].view()

    @property
    def format(self) -> LogFormat:
        """The first store's format, read live: a store may detect its format anew."""
        return self.stores[0].format

    @property
    def finished(self) -> bool:
        return all(store.finished for store in self.stores) and self._all_taken()

    def _all_taken(self) -> bool:
        return all(self._taken[sid] >= len(store) for sid, store in enumerate(self.stores))

    def locate(self, i: int) -> tuple[int, int]:
        """(store id, position in that store) of merged record ``i``."""
        with self._lock:
            if not 0 <= i < self._count:
                raise IndexError(f"{self.name}: no record {i} (have {self._count})")
            part = bisect_right(self._part_ends, i)
            base = self._part_ends[part - 1] if part else 0
            packed = int(self._parts[part][i - base])
        return packed >> _POS_BITS, packed & _POS_MASK

    def record(self, i: int) -> Record:
        sid, pos = self.locate(i)
        return self.stores[sid].record(pos)

    def parse(self, i: int) -> Record:
        sid, pos = self.locate(i)
        return self.stores[sid].parse(pos)

    def raw(self, i: int) -> bytes:
        sid, pos = self.locate(i)
        return self.stores[sid].raw(pos)

    def progress(self) -> tuple[int, int]:
        done = total = 0
        for store in self.stores:
            a, b = store.progress()
            done += a
            total += b
        return done, total

    def update(self, *, final: bool = False, budget: float | None = None) -> int:
        """Update every store and merge their new records; returns how many were added.

        With ``budget`` (seconds) the call returns after about that long, having indexed and
        parsed part of the input; later calls continue (the viewer shows big merged files
        while they load instead of waiting for all of them).
        """
        deadline = None if budget is None else time.monotonic() + budget
        with self._update_lock:
            for store in self.stores:
                store.update(final=final,
                             budget=None if budget is None else budget / (2 * len(self.stores)))
            if [store.generation for store in self.stores] != self._generations:
                with self._lock:
                    self._restart()
                    self.generation += 1
            before = self._count
            for sid, store in enumerate(self.stores):
                self._take_keys(sid, store, deadline)
            self._merge(final and self._all_taken())
            return self._count - before

    def _take_keys(self, sid: int, store: LogStore, deadline: float | None = None) -> None:
        """Parse the new records of a store into non-decreasing merge keys (until deadline)."""
        start, stop = self._taken[sid], len(store)
        if stop <= start:
            return
        parse = getattr(store, "parse_original", store.parse)  # its time only: not redacted
        keys = np.empty(stop - start, dtype=np.float64)
        k = 0
        for k, pos in enumerate(range(start, stop)):
            if deadline is not None and k % 2048 == 2047 and time.monotonic() > deadline:
                break
            stamp = parse(pos).timestamp
            keys[k] = math.nan if stamp is None else stamp
        else:
            k += 1
        if k == 0:
            return
        keys, stop = keys[:k], start + k
        keys = np.fmax.accumulate(np.concatenate([[self._last_key[sid]], keys]))[1:]
        self._last_key[sid] = float(keys[-1])
        self._pending[sid] = np.concatenate([self._pending[sid], keys])
        self._taken[sid] = stop

    def _merge(self, final: bool) -> None:
        """Place pending records whose keys no growing store can undercut any more."""
        limit = math.inf
        if not final:
            for sid, store in enumerate(self.stores):
                behind = self._taken[sid] < len(store)  # parsed only part of what it has
                if behind or (not store.finished and self._taken[sid]):
                    limit = min(limit, self._last_key[sid])
        keys, sids, poss = [], [], []
        for sid, pending in enumerate(self._pending):
            take = len(pending) if limit == math.inf else int(
                np.searchsorted(pending, limit, side="right"))
            if take == 0:
                continue
            keys.append(pending[:take])
            sids.append(np.full(take, sid, dtype=np.int64))
            poss.append(np.arange(self._merged[sid], self._merged[sid] + take, dtype=np.int64))
            self._pending[sid] = pending[take:]
            self._merged[sid] += take
        if not keys:
            return
        key = np.concatenate(keys)
        sid_arr = np.concatenate(sids)
        pos_arr = np.concatenate(poss)
        order = np.lexsort((pos_arr, sid_arr, key))
        sid_sorted = sid_arr[order]
        packed = (sid_sorted << _POS_BITS) | pos_arr[order]
        merged = np.arange(self._count, self._count + len(packed), dtype=np.int64)
        for sid in range(len(self.stores)):
            self._placed[sid].extend(merged[sid_sorted == sid])
        with self._lock:
            self._parts.append(packed)
            self._part_ends.append(self._count + len(packed))
            if len(self._parts) > _MAX_PARTS:
                self._parts = [np.concatenate(self._parts)]
                self._part_ends = [self._part_ends[-1]]
            self._count += len(packed)

    def wait(self, timeout: float) -> bool:
        """Wait on the first store that is still growing (the others are polled by update)."""
        for store in self.stores:
            if not store.finished:
                return store.wait(timeout)
        return False

    def close(self) -> None:
        for store in self.stores:
            store.close()
