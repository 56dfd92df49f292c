"""Marked records: store positions the user picked with ``m`` (lnav's marks).

A sorted int64 array of store positions, so the view's questions are numpy searches: is a
position marked, the next or previous mark, the marks among a view's rows. Positions mean
nothing once the store restarts (a truncated file): the owner drops the marks then (``clear``).
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.empty(0, dtype=np.int64)


class Marks:
    """A set of store positions kept as a sorted int64 array."""

    def __init__(self) -> None:
        self._positions = _EMPTY

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, (int, np.integer)) or not len(self._positions):
            return False
        at = int(np.searchsorted(self._positions, position))
        return at < len(self._positions) and int(self._positions[at]) == position

    @property
    def positions(self) -> np.ndarray:
        """Every mark, sorted (read-only: a new array replaces it at each change)."""
        return self._positions

    def toggle(self, position: int) -> bool:
        """Mark ``position``, or unmark it when it was marked; True when it is marked now."""
        marks = self._positions
        at = int(np.searchsorted(marks, position))
        if at < len(marks) and int(marks[at]) == position:
            self._set(np.delete(marks, at))
            return False
        self._set(np.insert(marks, at, position))
        return True

    def _set(self, positions: np.ndarray) -> None:
        positions.flags.writeable = False  # handed out as is (``positions``, ``within``)
        self._positions = positions

    def clear(self) -> int:
        """Forget every mark; how many there were."""
        count = len(self._positions)
        self._positions = _EMPTY
        return count

    def within(self, rows: np.ndarray | None, length: int) -> np.ndarray:
        """The marks a view shows: those among ``rows`` (sorted positions), or those below
        ``length`` when the view shows every record (``rows`` None)."""
        marks = self._positions
        if rows is None:
            return marks[: int(np.searchsorted(marks, length))]
        if not len(marks) or not len(rows):
            return _EMPTY
        at = np.searchsorted(rows, marks)
        inside = at < len(rows)
        found = np.zeros(len(marks), dtype=bool)
        found[inside] = rows[at[inside]] == marks[inside]
        return marks[found]

    @staticmethod
    def next_after(shown: np.ndarray, position: int, step: int) -> int | None:
        """The first of ``shown`` (sorted) after ``position`` (``step`` 1) or before it (-1)."""
        if step > 0:
            at = int(np.searchsorted(shown, position, side="right"))
            return int(shown[at]) if at < len(shown) else None
        at = int(np.searchsorted(shown, position, side="left"))
        return int(shown[at - 1]) if at > 0 else None


_EMPTY.flags.writeable = False
