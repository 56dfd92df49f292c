"""Messages the background workers send to the main screen.

Workers post these from threads (``post_message`` is thread-safe); the ones that only carry
the latest state replace a queued predecessor (``can_replace``), so bursts coalesce and the UI
never falls behind a fast source.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.message import Message

from logview.stats import FilteredTimes, RecordStats


class StoreGrew(Message):
    """The store has ``length`` records now (``generation`` bumps after a truncation).

    ``indexed`` is the fraction of the input indexed so far, when the store can tell.
    """

    def __init__(
        self, length: int, generation: int, finished: bool, indexed: float | None = None
    ) -> None:
        super().__init__()
        self.length = length
        self.generation = generation
        self.finished = finished
        self.indexed = indexed

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreGrew)


class SourceNotices(Message):
    """What the sources lost or refused since the last step (``ByteSource.note``)."""

    def __init__(self, texts: tuple[str, ...]) -> None:
        super().__init__()
        self.texts = texts


class FilterProgress(Message):
    """Matching positions found so far by the filter run ``token``.

    ``positions`` is the whole sorted match array up to ``scanned`` (a view that never changes
    later), so a newer message simply supersedes an older one.
    """

    def __init__(self, token: int, positions: np.ndarray, scanned: int, total: int) -> None:
        super().__init__()
        self.token = token
        self.positions = positions
        self.scanned = scanned
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FilterProgress) and message.token == self.token


class FilteredTimesFound(Message):
    """The filtered histogram's worker found matches (take them from ``found``)."""

    def __init__(self, found: FilteredTimes) -> None:
        super().__init__()
        self.found = found

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FilteredTimesFound) and message.found is self.found


class LevelCounts(Message):
    """The counting worker's tally has news (read totals and take deltas from ``tally``).

    ``behind``: the worker knew of records it had not counted yet (the bar says "counting…");
    a live source's few records that came since it looked are not worth saying.
    """

    def __init__(self, tally: RecordStats, generation: int, behind: bool = False) -> None:
        super().__init__()
        self.tally = tally
        self.generation = generation
        self.behind = behind

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LevelCounts)


class ServerCounts(Message):
    """A store's own counts of the current query over its whole table (``counts`` None: part
    of the query is only filtered here, ``why`` says so), for the request ``token``."""

    def __init__(self, token: int, counts: Any, histogram: list[tuple[int, int, int]] | None,
                 why: str = "") -> None:
        super().__init__()
        self.token = token
        self.counts = counts
        self.histogram = histogram
        self.why = why

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ServerCounts)


class StoresNarrowed(Message):
    """Stores were asked again for what the new query admits (what each now filters)."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts = texts


class PagedBack(Message):
    """Older rows were put in front of the loaded ones (``rows``: how many; 0: none older)
    at the source's ``generation``, or fetching them failed (``error``)."""

    def __init__(self, rows: int, generation: int, error: str = "") -> None:
        super().__init__()
        self.rows = rows
        self.generation = generation
        self.error = error
