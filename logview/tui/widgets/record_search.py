"""Searching the record list: next/previous match, error or warning (n N e E w W).

A few rows are checked on the UI thread; a hit further away is looked for in a thread
worker, so a scan over millions of records never blocks a keypress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from textual.worker import NoActiveWorker, get_current_worker

from logview.record import ERROR, WARNING, Record

#: Rows scanned on the UI thread by a search before it moves to a worker.
_NEAR = 200


class RecordSearch:
    """Search actions mixed into ``RecordList`` (uses its rows, cursor and store)."""

    def action_find_match(self, step: int) -> None:
        patterns = self._patterns
        if not patterns:
            self.notify("No search terms: type a query with / first", timeout=3)
            return

        def hit(record: Record) -> bool:
            text = record.message
            return any(pattern.search(text) for pattern in patterns)

        self.find(hit, step, "match")

    def action_find_level(self, step: int, levelno: int) -> None:
        if levelno >= ERROR:
            self.find(lambda record: record.levelno >= ERROR, step, "error")
        else:
            self.find(lambda record: WARNING <= record.levelno < ERROR, step, "warning")

    def find(
        self,
        predicate: Callable[[Record], bool],
        step: int,
        what: str,
        *,
        from_row: int | None = None,
    ) -> None:
        """Move to the next (step 1) or previous (-1) row whose record satisfies ``predicate``.

        Looks at a few rows here and, when the hit is further away, continues in a thread
        worker so the UI never waits on a long scan.
        """
        count = self.row_count
        positions = self.positions
        start = (self.cursor_row if from_row is None else from_row) + step
        record = self.store.record
        row = start
        for _ in range(_NEAR):
            if not 0 <= row < count:
                self.notify(f"No {'next' if step > 0 else 'previous'} {what}", timeout=2)
                return
            position = row if positions is None else int(positions[row])
            if predicate(record(position)):
                self.go_to_row(row, follow=False)
                return
            row += step
        self._find_far(predicate, step, row, count, positions, what)

    def _find_far(
        self,
        predicate: Callable[[Record], bool],
        step: int,
        row: int,
        count: int,
        positions: np.ndarray | None,
        what: str,
    ) -> None:
        def scan() -> None:
            worker = self._current_worker()
            record = self.store.record
            current = row
            while 0 <= current < count:
                if (current & 1023) == 0 and worker is not None and worker.is_cancelled:
                    return
                position = current if positions is None else int(positions[current])
                if predicate(record(position)):
                    self.app.call_from_thread(self.go_to_row, current, follow=False)
                    return
                current += step
            self.app.call_from_thread(
                self.notify, f"No {'next' if step > 0 else 'previous'} {what}", timeout=2
            )

        self.run_worker(scan, thread=True, group="find", exclusive=True, exit_on_error=False)

    @staticmethod
    def _current_worker() -> Any:
        try:
            return get_current_worker()
        except NoActiveWorker:
            return None
