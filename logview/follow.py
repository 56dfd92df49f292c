"""Following a growing store: one ``Follower`` and one ``LiveFilter`` for the viewer and the
headless printer alike.

The ``Follower`` takes in new input (``store.update``, in time slices on a big input) and says
what happened: records appended, or a restart (a truncation, a rotation the source could not
follow as an append, a format detected anew) after which every position before is void. Its
one quiet-flush policy: when input has been quiet for ``quiet_flush`` seconds the pending last
record is taken although no next record has started, but never half a line (its rest would
become a record of its own). Quiet means no input taken in (bytes indexed), whether or not a
wake-up said so: a wake-up can be lost, and a merged store waits on one of its stores only.

The ``LiveFilter`` keeps what matches a query in a growing store: the matching positions (the
viewer's rows) or the new matching records (the printer), scanning only what is new with the
one scanner (``logview.scan``) and starting over when the store restarts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from logview.growable import GrowableArray
from logview.record import Record
from logview.scan import (
    Cancelled,
    QueryLike,
    column_positions,
    iter_matching_records,
    never,
    scan,
)
from logview.store import Store, ends_with_whole_line

#: Quiet time after which the pending last record of a live source is taken anyway.
QUIET_FLUSH = 0.3


@dataclass(slots=True, frozen=True)
class Change:
    """What one ``Follower.step`` found."""

    #: Records added (after a restart: every record the store has now).
    added: int
    #: The store started over: every position before is void.
    restarted: bool
    #: Nothing can come any more.
    finished: bool
    #: What the sources said they lost or refused since the last step (``ByteSource.note``).
    notices: tuple[str, ...] = ()


class NoticeBoard:
    """What a store's sources noted (``ByteSource.note``), each notice told once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._told: dict[int, int] = {}

    def new(self) -> tuple[str, ...]:
        """The notices that came since the last call, oldest first."""
        new: list[str] = []
        for part in self.store.parts():
            notices = part.source.notices
            told = self._told.get(id(part.source), 0)
            if len(notices) > told:
                new.extend(notices[told:])
                self._told[id(part.source)] = len(notices)
        return tuple(new)


class Follower:
    """Takes in a store's new input; tells appends from restarts; flushes when input is quiet.

    ``slice_seconds`` bounds one ``update`` on a big input so that a viewer shows the first
    records of a huge file at once (the next step continues).
    """

    def __init__(self, store: Store, *, quiet_flush: float = QUIET_FLUSH,
                 slice_seconds: float | None = None) -> None:
        self.store = store
        self.quiet_flush = quiet_flush
        self.slice_seconds = slice_seconds
        self.generation = store.generation
        self._quiet_since: float | None = None
        self._flushed = False
        self._indexed = self._indexed_bytes()
        self.notices = NoticeBoard(store)

    def _indexed_bytes(self) -> int:
        return self.store.progress()[0]

    def step(self) -> Change:
        """Take in what the sources have now (does not wait)."""
        store = self.store
        added = store.update(budget=self.slice_seconds)
        now = time.monotonic()
        indexed = self._indexed_bytes()
        # Input taken in, even a line that only extends the pending record (no record added):
        # not quiet, and once quiet again it is flushed, wake-up or not.
        if added or indexed != self._indexed:
            self._quiet_since = now  # quiet from now on, if nothing more comes
            self._flushed = False
        else:
            if self._quiet_since is None:
                self._quiet_since = now
            if (not self._flushed and now - self._quiet_since >= self.quiet_flush
                    and ends_with_whole_line(store)):
                self._flushed = True
                added = store.update(final=True)
        self._indexed = self._indexed_bytes()
        restarted = store.generation != self.generation
        self.generation = store.generation
        if restarted:
            added = len(store)
        return Change(added, restarted, store.finished, self.notices.new())

    def wait(self, timeout: float) -> bool:
        """Block until a source may have more (True) or ``timeout`` passed."""
        more = self.store.wait(timeout)
        if more:
            self._flushed = False
        return more

    def flush(self) -> int:
        """Take the pending last record now (the end of a session)."""
        return self.store.update(final=True)


class LiveFilter:
    """What matches ``query`` in a growing store, kept up to date by scanning what is new.

    Use ``advance`` for positions (kept in ``positions``) or ``new_records`` for the records
    themselves; both continue where the last call stopped and start over after a restart
    (``restarted`` tells the caller once).
    """

    def __init__(self, store: Store, query: QueryLike, *, workers: bool = False) -> None:
        self.store = store
        self.query = query
        #: A big backlog is tested by worker processes (``filter_workers``), on every core.
        self.workers = workers
        self.positions = GrowableArray()
        #: Records looked at so far (positions below this are decided).
        self.scanned = 0
        self.generation = store.generation

    def check_restart(self) -> bool:
        """Start over if the store restarted since the last call; True when it did."""
        if self.store.generation == self.generation:
            return False
        self.generation = self.store.generation
        self.positions = GrowableArray()
        self.scanned = 0
        return True

    def advance(self, stop: int | None = None, *, cancelled: Cancelled = never,
                step: int = 50_000, batch_seconds: float = 0.1) -> Iterator[np.ndarray]:
        """Scan up to ``stop`` (default: what the store has), yielding the positions view
        after every batch (about every ``batch_seconds``) so a viewer can show progress."""
        stop = len(self.store) if stop is None else stop
        if self.workers:
            yield from self._advance_in_workers(stop, cancelled)
            if self.store.generation != self.generation:
                return  # started over under the workers: the caller begins again
        while self.scanned < stop and not cancelled():
            hi = min(stop, self.scanned + step)
            for batch in scan(self.store, self.query, self.scanned, hi, cancelled=cancelled,
                              batch_seconds=batch_seconds):
                self.positions.extend(batch)
                yield self.positions.view()
            if cancelled():
                return
            self.scanned = hi
            yield self.positions.view()

    def _advance_in_workers(self, stop: int, cancelled: Cancelled) -> Iterator[np.ndarray]:
        """What the record columns answer, then a big rest in worker processes, span by
        span (nothing when the rest is small or the workers cannot run)."""
        from logview.filter_workers import FilterWorkers

        store, generation = self.store, self.generation
        answered = column_positions(store, self.query, self.scanned, stop)
        if answered is not None:
            found, self.scanned = answered
            self.positions.extend(found)
            yield self.positions.view()
        if not FilterWorkers.worth(store, self.scanned, stop):
            return
        workers = FilterWorkers(store, self.query)
        try:
            if not workers.start():
                return
            for found, upto in workers.scan(self.scanned, stop, cancelled=cancelled):
                if store.generation != generation:
                    return  # started over: the caller sees it and begins again
                self.positions.extend(found)
                self.scanned = upto
                yield self.positions.view()
        finally:
            workers.close()

    def new_records(self, *, cancelled: Cancelled = never) -> Iterator[Record]:
        """The matching records the store gained since the last call, in order."""
        stop = len(self.store)
        if self.scanned >= stop:
            return
        start, self.scanned = self.scanned, stop
        yield from iter_matching_records(self.store, self.query, start, stop, cancelled=cancelled)
