"""Counts of records per (level class, fine time bin), bounded whatever the input: what the
histogram draws. The counting thread bins the times it counts (``stats.RecordStats``) and the
viewer copies the bins a few times a second (``copy``/``copy_from``), so the histogram is
complete when the counts are, and no time waits in memory for a frame to take it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["TimeBins"]

#: Versions unique across every TimeBins: a drawing cached for (bins, version) is stale after
#: a clear, and a new TimeBins at a freed one's address never shares its version.
_VERSIONS = itertools.count(1)


class TimeBins:
    """Counts of records per (level class, fine time bin), bounded, widened as data arrives.

    Bin ``k`` covers ``[(base + k) * width, (base + k + 1) * width)`` seconds, with
    ``width = QUANTUM * 2**shift``; widening doubles the width, so old bins nest exactly in
    new ones and no count is ever misplaced.
    """

    FINE = 4096
    QUANTUM = 2.0**-10  # about a millisecond: the narrowest bin
    MAX_ABS_TIME = 1e11  # seconds; beyond year 5000 a time is garbage, not data

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget all counts."""
        self.shift = 0
        self.base = 0
        self.counts = np.zeros((3, self.FINE), dtype=np.int64)
        self.tmin = math.inf
        self.tmax = -math.inf
        self.total = 0
        self.version = next(_VERSIONS)

    @property
    def width(self) -> float:
        """Seconds per fine bin."""
        return self.QUANTUM * 2.0**self.shift

    def add(self, times: np.ndarray, levelnos: np.ndarray,
            weights: np.ndarray | None = None) -> int:
        """Count records at ``times`` (epoch seconds) with ``levelnos`` (``weights``: how
        many records each stands for, counts grouped by a server); returns how many."""
        t = np.asarray(times, dtype=np.float64).ravel()
        lv = np.asarray(levelnos).ravel()
        w = None if weights is None else np.asarray(weights, dtype=np.int64).ravel()
        if lv.shape != t.shape or (w is not None and w.shape != t.shape):
            raise ValueError(f"times ({t.size}) and levelnos ({lv.size}) differ in length")
        keep = np.isfinite(t) & (np.abs(t) < self.MAX_ABS_TIME)
        if not keep.all():
            t, lv = t[keep], lv[keep]
            w = None if w is None else w[keep]
        if t.size == 0:
            return 0
        cls = (lv >= 30).astype(np.int64) + (lv >= 40)
        self._fit(min(self.tmin, float(t.min())), max(self.tmax, float(t.max())))
        idx = np.floor(t / self.width).astype(np.int64) - self.base
        np.clip(idx, 0, self.FINE - 1, out=idx)  # float rounding at the very edge
        self.counts += np.bincount(cls * self.FINE + idx, weights=w,
                                   minlength=3 * self.FINE).astype(np.int64).reshape(3, self.FINE)
        added = int(t.size if w is None else w.sum())
        self.total += added
        self.version = next(_VERSIONS)
        return added

    def _fit(self, lo: float, hi: float) -> None:
        """Widen/move the bins so ``[lo, hi]`` fits; re-bin what is counted already."""
        shift = self.shift
        while True:
            width = self.QUANTUM * 2.0**shift
            base = math.floor(lo / width)
            if math.floor(hi / width) - base < self.FINE:
                break
            shift += 1
        self.tmin, self.tmax = lo, hi
        if shift == self.shift and base == self.base:
            return
        if self.total:
            nonzero = np.flatnonzero(self.counts.sum(axis=0))
            old = self.base + nonzero
            new = (old >> (shift - self.shift)) - base
            counts = np.zeros_like(self.counts)
            for cls in range(3):
                np.add.at(counts[cls], new, self.counts[cls, nonzero])
            self.counts = counts
        self.shift, self.base = shift, base

    def buckets(self, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At most ``columns`` buckets over the span with data: (starts, ends, counts[3, n]).

        Each bucket is a whole run of fine bins, so its counts are exactly the records in
        ``[start, end)``. Empty when nothing is counted.
        """
        if not self.total or columns <= 0:
            empty = np.zeros(0)
            return empty, empty, np.zeros((3, 0), dtype=np.int64)
        used = np.flatnonzero(self.counts.sum(axis=0))
        first, last = int(used[0]), int(used[-1])
        n = last - first + 1
        cols = min(columns, n)
        edges = first + (np.arange(cols + 1, dtype=np.int64) * n) // cols
        counts = np.add.reduceat(self.counts[:, first:last + 1], edges[:-1] - first, axis=1)
        width = self.width
        return (self.base + edges[:-1]) * width, (self.base + edges[1:]) * width, counts

    def copy(self) -> TimeBins:
        """A copy of the counts (the counting thread's bins, taken by the viewer)."""
        other = TimeBins.__new__(TimeBins)
        other.copy_from(self)
        return other

    def copy_from(self, other: TimeBins) -> None:
        """Hold the counts of ``other`` (a new version: drawings of the old ones are stale)."""
        self.shift, self.base = other.shift, other.base
        self.counts = other.counts.copy()
        self.tmin, self.tmax, self.total = other.tmin, other.tmax, other.total
        self.version = next(_VERSIONS)

