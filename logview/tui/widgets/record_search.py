"""Searching the record list: next/previous hit of the find, error or warning (n N e E w W).

A search is a query for the one scanner (``logview.scan.find_next`` / ``find_previous``): the
applied filter AND what is looked for, so every hit is a row on screen. It runs in a thread
worker in growing windows of raw chunks (a reverse search scans backwards window by window),
so neither a far hit nor a slow disk ever blocks a keypress, and the rows' cache is untouched.

``n``/``N`` go to the find's hits (``/``): from the hit positions its counting worker found
(``FindHits``) at once when they tell, else by a search; presses that come while a search runs
are queued and replayed in order, none dropped. They wrap at the ends, as less does, and say
so. Without a find they look for the filter's words and regexes.
"""

from __future__ import annotations

import re
from typing import Any

from textual.worker import get_current_worker

from logview.query import Query, all_of, parse_query
from logview.record import ERROR
from logview.scan import QueryLike, find_next, find_previous
from logview.store import Store
from logview.tui.find import FindHits

#: Rows kept in sight around a hit (less's and vim's scrolloff).
SEARCH_CONTEXT = 3
#: What ``e``/``E`` and ``w``/``W`` look for.
_ERRORS = parse_query("level>=ERROR")
_WARNINGS = parse_query("level>=WARNING")
#: Presses of ``n``/``N`` kept while a search runs (a held key must not queue forever).
MAX_QUEUED = 1000
#: What a search that went round an end says.
_WRAPPED = {1: "Search hit the end: continued from the top",
            -1: "Search hit the top: continued from the end"}


class RecordSearch:
    """Search actions mixed into ``RecordList`` (uses its rows, cursor, store and query)."""

    #: The applied filter (None: every record is a row).
    applied_query: Query | None = None
    #: The applied find (``/``) and what it knows of its hits (None: no find).
    find_hits: FindHits | None = None
    #: The find's words and regexes, highlighted in the rows (``record-list--find``).
    _find_patterns: tuple[re.Pattern[str], ...] = ()
    #: ``n`` minus ``N`` presses waiting for the running search.
    _search_queue = 0
    _search_token = 0
    _searching = False

    def set_find(self, hits: FindHits | None) -> None:
        """The applied find (None: none): its hits are highlighted, ``n``/``N`` go to them."""
        self.find_hits = hits
        self._search_queue = 0
        patterns = tuple(hits.query.highlight_patterns()) if hits is not None else ()
        if patterns != self._find_patterns:
            self._find_patterns = patterns
            self.invalidate()

    def first_hit(self) -> None:
        """Go to the find's first hit at or after the cursor (wrapping to the first one)."""
        hits = self.find_hits
        if hits is not None:
            self._search_queue = 0
            self.find(hits.search, 1, "hit", at_cursor=True, wrap=True)

    def action_find_match(self, step: int) -> None:
        hits = self.find_hits
        if hits is None:
            terms = self.applied_query.search_terms() if self.applied_query is not None else None
            if terms is None:
                self.notify("Nothing to find: press / and type a query first", timeout=3)
                return
            self.find(all_of(self.applied_query, terms), step, "match")
            return
        if self._searching:
            if abs(self._search_queue + step) <= MAX_QUEUED:
                self._search_queue += step
            return
        self._step_hit(step)

    def _step_hit(self, step: int) -> None:
        """One hit on: from the known hits at once, else by a search."""
        hits = self.find_hits
        if hits is None:
            return
        position, wrapped = hits.next_hit(self.cursor_position, step, self.length)
        row = self.row_of(position) if position is not None else self.row_count
        if row >= self.row_count or self.position_at(row) != position:
            # Not known yet, or not in the view (only the marked records are shown): a search
            # over the view's own records.
            self.find(hits.search, step, "hit", wrap=True)
            return
        self._go_to_hit(position, step, wrapped)

    def _drain_queue(self) -> None:
        """Replay the presses that came while a search ran (stops at the next search)."""
        while self._search_queue and not self._searching and self.find_hits is not None:
            step = 1 if self._search_queue > 0 else -1
            self._search_queue -= step
            self._step_hit(step)

    def _go_to_hit(self, position: int, step: int, wrapped: bool) -> None:
        if wrapped:
            self.notify(_WRAPPED[step], timeout=2)
        row = self.row_of(position)
        if row < self.row_count:
            self.go_to_row(row, follow=False, context=SEARCH_CONTEXT)

    def action_find_level(self, step: int, levelno: int) -> None:
        if levelno >= ERROR:
            self.find(all_of(self.applied_query, _ERRORS), step, "error")
        else:
            self.find(all_of(self.applied_query, _WARNINGS), step, "warning")

    def find(self, query: QueryLike, step: int, what: str, *, from_start: bool = False,
             at_cursor: bool = False, wrap: bool = False) -> None:
        """Move to the next (step 1) or previous (-1) row whose record matches ``query``
        (which must imply the applied filter); ``from_start``: the first one of all;
        ``at_cursor``: the cursor's record counts; ``wrap``: go round an end, as less does."""
        if self.row_count == 0:
            self._search_queue = 0
            self.notify("No hits" if what == "hit" else f"No {what}", timeout=2)
            return
        here = self.cursor_position or 0
        store = self.store
        self._search_token += 1
        token = self._search_token
        self._searching = True

        def search() -> None:
            worker = get_current_worker()

            def cancelled() -> bool:
                return worker.is_cancelled

            wrapped = False
            if from_start or at_cursor or step > 0:
                start = 0 if from_start else here if at_cursor else here + 1
                found = find_next(store, query, start, cancelled=cancelled)
                if found is None and wrap and start > 0 and not cancelled():
                    found = find_next(store, query, 0, start, cancelled=cancelled)
                    wrapped = found is not None
            else:
                found = find_previous(store, query, here, cancelled=cancelled)
                if found is None and wrap and not cancelled():
                    found = find_previous(store, query, len(store), here + 1,
                                          cancelled=cancelled)
                    wrapped = found is not None
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._found, token, found, step, what, wrapped)

        self.run_worker(search, thread=True, group="find", exclusive=True, exit_on_error=False)

    def _found(self, token: int, position: int | None, step: int, what: str,
               wrapped: bool = False) -> None:
        if token != self._search_token:  # a newer search took over
            return
        self._searching = False
        if position is None:
            self._search_queue = 0
            if what == "hit":
                self.notify("No hits", timeout=2)
            else:
                self.notify(f"No {'next' if step > 0 else 'previous'} {what}", timeout=2)
            return
        self._go_to_hit(position, step, wrapped)
        self._drain_queue()

    # Provided by RecordList.
    store: Store
    row_count: int
    length: int
    cursor_position: int | None
    row_of: Any
    position_at: Any
    go_to_row: Any
    notify: Any
    invalidate: Any
    run_worker: Any
    app: Any
