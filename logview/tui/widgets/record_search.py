"""Searching the record list: next/previous match, error or warning (n N e E w W).

A search is a query for the one scanner (``logview.scan.find_next`` / ``find_previous``): the
applied filter AND what is looked for, so every hit is a row on screen. It runs in a thread
worker in growing windows of raw chunks (a reverse search scans backwards window by window),
so neither a far hit nor a slow disk ever blocks a keypress, and the rows' cache is untouched.
"""

from __future__ import annotations

from textual.worker import get_current_worker

from logview.query import Query, all_of, parse_query
from logview.record import ERROR
from logview.scan import QueryLike, find_next, find_previous
from logview.store import Store

#: Rows kept in sight around a hit (less's and vim's scrolloff).
SEARCH_CONTEXT = 3
#: What ``e``/``E`` and ``w``/``W`` look for.
_ERRORS = parse_query("level>=ERROR")
_WARNINGS = parse_query("level>=WARNING")


class RecordSearch:
    """Search actions mixed into ``RecordList`` (uses its rows, cursor, store and query)."""

    #: The applied filter (None: every record is a row).
    applied_query: Query | None = None

    def action_find_match(self, step: int) -> None:
        terms = self.applied_query.search_terms() if self.applied_query is not None else None
        if terms is None:
            self.notify("No search terms: type a query with / first", timeout=3)
            return
        self.find(all_of(self.applied_query, terms), step, "match")

    def action_find_level(self, step: int, levelno: int) -> None:
        if levelno >= ERROR:
            self.find(all_of(self.applied_query, _ERRORS), step, "error")
        else:
            self.find(all_of(self.applied_query, _WARNINGS), step, "warning")

    def find(self, query: QueryLike, step: int, what: str, *, from_start: bool = False) -> None:
        """Move to the next (step 1) or previous (-1) row whose record matches ``query``
        (which must imply the applied filter); ``from_start``: the first one of all."""
        if self.row_count == 0:
            self.notify(f"No {what}", timeout=2)
            return
        here = self.cursor_position
        store = self.store

        def search() -> None:
            worker = get_current_worker()

            def cancelled() -> bool:
                return worker.is_cancelled

            if from_start:
                found = find_next(store, query, 0, cancelled=cancelled)
            elif step > 0:
                found = find_next(store, query, here + 1, cancelled=cancelled)
            else:
                found = find_previous(store, query, here, cancelled=cancelled)
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._found, found, step, what)

        self.run_worker(search, thread=True, group="find", exclusive=True, exit_on_error=False)

    def _found(self, position: int | None, step: int, what: str) -> None:
        if position is None:
            self.notify(f"No {'next' if step > 0 else 'previous'} {what}", timeout=2)
            return
        row = self.row_of(position)
        if row < self.row_count:
            self.go_to_row(row, follow=False, context=SEARCH_CONTEXT)

    # Provided by RecordList.
    store: Store
    row_count: int
    cursor_position: int | None
