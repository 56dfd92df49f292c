"""The main screen's find (``/``): the query applied as a search, its hits counted by a thread
worker, shown on the status line, highlighted in the list and marked in the histogram.

The worker is the filter's machinery (``follow.LiveFilter`` over ``all_of(filter, find)``):
it scans what the store has in batches, posts each new prefix of hit positions
(``FindProgress``, coalescing), then keeps counting new records as they arrive. A new find,
a new filter or a restarted store starts it over.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from textual.message import Message
from textual.worker import Worker, get_current_worker

from logview.follow import LiveFilter
from logview.growable import GrowableArray
from logview.query import Query
from logview.tui.find import FindHits
from logview.tui.widgets.histogram import TimeHistogram

#: Records per engine call while counting hits (progress is reported between calls).
_FIND_CHUNK = 50_000
#: Least time between two progress messages of one scan.
_FIND_REPORT = 0.2
#: Hits whose times the histogram marks (each is parsed once more for its time).
MAX_HIT_TIMES = 50_000


class FindProgress(Message):
    """Hits of the find run ``token`` so far: ``positions`` (sorted, a view never changed
    later) decide every position below ``scanned``; ``times`` are the epoch seconds of the
    first hits (at most ``MAX_HIT_TIMES``, NaN where a record has no time)."""

    def __init__(self, token: int, positions: np.ndarray, scanned: int, total: int,
                 times: np.ndarray) -> None:
        super().__init__()
        self.token = token
        self.positions = positions
        self.scanned = scanned
        self.total = total
        self.times = times

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FindProgress) and message.token == self.token


class FindScanning:
    """Mixed into ``MainScreen``: the find's state and its counting worker."""

    #: The applied find (None: no find).
    find_hits: FindHits | None = None
    _find_token = 0
    _find_worker: Worker[None] | None = None

    def apply_find(self, text: str, query: Query) -> None:
        """Make ``query`` the find ("" or an empty query clears it) and go to its first hit at
        or after the cursor."""
        records = self.records
        if not text.strip() or query.is_empty:
            self.clear_find()
            return
        hits = FindHits(text, query, self.active_query)
        self.find_hits = hits
        records.set_find(hits)
        self._start_find_scan()
        records.first_hit()
        self._show_status()

    def clear_find(self) -> None:
        self._cancel_find_scan()
        self.find_hits = None
        self.records.set_find(None)
        self._show_hit_times(None)
        self._show_status()

    def restart_find(self) -> None:
        """The view changed (a new filter, a restarted store): count the hits anew."""
        hits = self.find_hits
        if hits is None:
            return
        self.find_hits = hits = FindHits(hits.text, hits.query, self.active_query)
        self.records.set_find(hits)
        self._start_find_scan()

    def _start_find_scan(self) -> None:
        self._cancel_find_scan()
        hits = self.find_hits
        if hits is None:
            return
        self._show_hit_times(None)
        self._find_worker = self.run_worker(
            lambda token=self._find_token: self._count_hits(token, hits),
            thread=True, group="find-count", exit_on_error=False)

    def _cancel_find_scan(self) -> None:
        if self._find_worker is not None:
            self._find_worker.cancel()
            self._find_worker = None
        self._find_token += 1

    def on_find_progress(self, message: FindProgress) -> None:
        hits = self.find_hits
        if message.token != self._find_token or hits is None:
            return
        hits.update(message.positions, message.scanned, message.total)
        self._show_hit_times(message.times)
        self._show_status()

    def _show_hit_times(self, times: np.ndarray | None) -> None:
        for histogram in self.query(TimeHistogram):
            histogram.set_hits(times)

    def find_status(self) -> str:
        """The status line's find part ("" when there is no find)."""
        hits = self.find_hits
        return "" if hits is None else hits.status(self.records.cursor_position)

    # -- the worker ---------------------------------------------------------------------------

    def _count_hits(self, token: int, hits: FindHits) -> None:
        """Scan the store for hits in chunks, post them, then count new records' hits."""
        worker = get_current_worker()
        store = self.store
        live = LiveFilter(store, hits.search)
        times = GrowableArray(np.float64)

        def cancelled() -> bool:
            return worker.is_cancelled or token != self._find_token

        def post(positions: np.ndarray, known: int) -> None:
            # Hits come in order: every position up to the last hit found is decided.
            scanned = max(live.scanned, int(positions[-1]) + 1 if len(positions) else 0)
            timed = len(times)
            if timed < MAX_HIT_TIMES and len(positions) > timed:
                times.extend(self._times_of(positions[timed:MAX_HIT_TIMES]))
            self.post_message(FindProgress(token, positions, scanned, known, times.view()))

        self._match_as_it_grows(live, cancelled, post, step=_FIND_CHUNK, every=_FIND_REPORT)

    def _times_of(self, positions: np.ndarray) -> np.ndarray:
        """Epoch seconds of the records at ``positions`` (NaN: no time, or unreadable)."""
        store = self.store
        out = np.full(len(positions), math.nan)
        for index, position in enumerate(positions.tolist()):
            try:
                stamp = store.parse(position).timestamp
            except (IndexError, OSError, ValueError):  # the store restarted under us
                continue
            if stamp is not None:
                out[index] = stamp
        return out

    # Provided by MainScreen.
    records: Any
    store: Any
    active_query: Any
    _known: int
    _finished: bool
    _generation: int
    run_worker: Any
    post_message: Any
    query: Any
    _show_status: Any
    _match_as_it_grows: Any
