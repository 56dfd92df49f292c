"""What a find (``/``) knows: the query, the positions of its hits found so far, how far the
counting scan got, and the status text ("hit 3 of 20").

A find keeps every record shown; its hits are the records of the view (the applied filter, if
any) that match the find query. A thread worker (``screens/find_scan.py``) counts them with
``follow.LiveFilter`` over ``all_of(filter, find)`` and hands this object each new prefix of
the hit positions; ``n``/``N`` answer from it when it knows (``next_hit``), else they search.
"""

from __future__ import annotations

import numpy as np

from logview.query import Query, all_of

_EMPTY = np.empty(0, dtype=np.int64)


class FindHits:
    """The hits of one find in one view, as far as they are counted."""

    def __init__(self, text: str, query: Query, view: Query | None) -> None:
        self.text = text
        self.query = query
        #: What a hit is: a record of the view that matches the find.
        self.search = all_of(view, query)
        #: Sorted positions of the hits below ``scanned``.
        self.positions: np.ndarray = _EMPTY
        #: Positions below this are decided.
        self.scanned = 0
        #: Records the store had when the scan last reported.
        self.total = 0
        #: The scan has looked at every record there is (more may come from a live source).
        self.complete = False

    def update(self, positions: np.ndarray, scanned: int, total: int) -> None:
        """The scan's latest prefix of hits (``positions`` is sorted, a view never changed)."""
        self.positions = positions
        self.scanned = scanned
        self.total = total
        self.complete = scanned >= total

    @property
    def count(self) -> int:
        return len(self.positions)

    def ordinal(self, position: int | None) -> int | None:
        """1-based number of the hit at ``position``, or None if it is not a known hit."""
        if position is None or position >= self.scanned:
            return None
        index = int(np.searchsorted(self.positions, position))
        if index < len(self.positions) and int(self.positions[index]) == position:
            return index + 1
        return None

    def next_hit(self, position: int | None, step: int, length: int) -> tuple[int | None, bool]:
        """The hit after (``step`` 1) or before (-1) ``position`` as (position, wrapped),
        answered from the known hits; (None, False) when they cannot tell (the scan has not
        got there) and the caller must search."""
        hits = self.positions
        here = -1 if position is None else position
        if step > 0:
            index = int(np.searchsorted(hits, here, side="right"))
            if index < len(hits):
                return int(hits[index]), False
            if self.scanned < length:  # unscanned records after: unknown
                return None, False
            return (int(hits[0]), True) if len(hits) else (None, False)
        if here > self.scanned:  # unscanned records between the scan and here
            return None, False
        index = int(np.searchsorted(hits, here, side="left")) - 1
        if index >= 0:
            return int(hits[index]), False
        if self.scanned < length:
            return None, False
        return (int(hits[-1]), True) if len(hits) else (None, False)

    def status(self, position: int | None) -> str:
        """"hit 3 of 20" (the cursor on a hit), "20 hits" (elsewhere), "≥20" while counting."""
        count = f"{self.count:,}" if self.complete else f"≥{self.count:,}"
        more = "" if self.complete else "…"
        ordinal = self.ordinal(position)
        if ordinal is not None:
            return f"hit {ordinal:,} of {count}{more}"
        if not self.count:
            return "no hits" if self.complete else "counting hits…"
        return f"{count} hit{'' if self.count == 1 and self.complete else 's'}{more}"
