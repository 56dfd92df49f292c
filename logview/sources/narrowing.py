"""Sources that narrow themselves to a query: a central store asked again, with the push-down
of the viewer's new query, whenever that query changes.

The viewer pushes its query down the same way ``--print`` does (``logview.query.pushdown``):
the store returns what the query's pushable part admits and the local filter applies the whole
query again. What makes this a source of its own kind is that the query changes while the
source lives: ``narrow(query)`` starts a new request (journalctl run again with other
arguments, a new ClickHouse window) into a fresh spool, abandons the one in flight, and the
source's byte space restarts from zero (``generation`` bumps, as after a truncation), so the
index, the viewer's rows and its counts start over on the new rows.

A request is a ``SpoolRun``: its producer thread writes through the run, never through the
source, so a slow request that was superseded writes into its own spool, which nobody reads
(its appends fail: it is interrupted), and can never deliver stale rows after the new ones.
The new spool replaces the old one at the next ``update`` (the index's thread), so readers
never see half of each. Another store that can filter by itself is a module with a ``narrow``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from logview.query.plan import Query
from logview.sources.spool import InputSpool, SpoolSource, _ReadWindow


@runtime_checkable
class NarrowingSource(Protocol):
    """A source that can restart itself on what a query's push-down admits."""

    name: str

    def narrow(self, query: Query | None) -> str | None:
        """Ask the store again for what ``query`` admits (None: everything), abandoning the
        request in flight; returns a line saying what the store now filters, or None when
        the push-down is the one in use (nothing restarts). Blocking: call it off the UI."""
        ...


class SpoolRun:
    """One request's output: its own spool; ``stopped`` once a newer request replaced it."""

    def __init__(self, owner: RestartableSpoolSource, spool: InputSpool, shift: int = 0) -> None:
        self.owner = owner
        self.spool = spool
        #: Records put in front of those the run before held (paging back), else 0.
        self.shift = shift
        self.stopped = threading.Event()
        self.eof = False
        self.error: str | None = None

    def append(self, data: bytes) -> bool:
        """Add the request's output; False once it is superseded or its spool takes no more."""
        if self.stopped.is_set():
            return False
        kept = self.spool.append(data)
        self.owner.woken()
        return kept and not self.stopped.is_set()

    def finish(self, error: str | None = None) -> None:
        """The request's output ended (``error``: why, if early)."""
        self.owner.finish_run(self, error)

    def stop(self) -> None:
        self.stopped.set()
        self.spool.interrupt()  # a producer waiting for room returns


class RestartableSpoolSource(SpoolSource):
    """A ``SpoolSource`` whose input can start over with a new request (``start_run``)."""

    def __init__(self, name: str, spool: InputSpool) -> None:
        super().__init__(name, spool)
        self._runs_lock = threading.Lock()
        self.run = SpoolRun(self, spool)  # the request whose spool is shown
        self._next: SpoolRun | None = None  # a newer one, shown from the next update
        self._retired: list[InputSpool] = []
        #: Per generation begun by paging back: the records put in front of the ones before
        #: (a viewer keeps its cursor on its record: it moved down by that many).
        self.shifts: dict[int, int] = {}

    def start_run(self, spool: InputSpool, *, shift: int = 0) -> SpoolRun:
        """A new request's run: shown from the next ``update`` on (the space restarts); the
        request in flight (and any not shown yet) is stopped. ``shift``: the new spool holds
        that many records in front of a copy of the old one's (paging back)."""
        run = SpoolRun(self, spool, shift)
        with self._runs_lock:
            for old in (self.run, self._next):
                if old is not None:
                    old.stop()
            self._next = run
        self.woken()
        return run

    def woken(self) -> None:
        self._event.set()

    def finish_run(self, run: SpoolRun, error: str | None) -> None:
        with self._runs_lock:
            run.eof = True
            run.error = run.error or error
            if run is self.run and not run.stopped.is_set():  # (a superseded one ends void)
                SpoolSource.finish(self, error)
        self.woken()

    def append(self, data: bytes) -> bool:
        return self.run.append(data)

    def finish(self, error: str | None = None) -> None:
        self.run.finish(error)

    def update(self) -> int:
        with self._runs_lock:
            run, self._next = self._next, None
            if run is not None:
                self._retire(self.spool)
                self.run = run
                self.spool = run.spool
                self._reads = _ReadWindow() if run.spool.max_bytes is not None else None
                self._visible = 0
                self._seen = (0, 0.0)
                self._told = (0, 0)
                self._told_full = False
                self.finished = False
                self._said_error = False
                self._eof = run.eof
                self.error = run.error
                self.generation += 1
                if run.shift:
                    self.shifts[self.generation] = run.shift
        return super().update()

    def _retire(self, spool: InputSpool) -> None:
        """Close the spools retired before the last one (the last may still be read by a
        thread that has not seen the restart yet: its reads are void, not errors)."""
        while self._retired:
            self._retired.pop().close()
        spool.interrupt()
        self._retired.append(spool)

    def read_at(self, offset: int, size: int) -> bytes:
        if offset >= self._visible:  # (an offset of the space before a restart)
            return b""
        return super().read_at(offset, size)

    def close(self) -> None:
        with self._runs_lock:
            for run in (self.run, self._next):
                if run is not None:
                    run.stop()
            for spool in self._retired:
                spool.close()
            self._retired.clear()
            if self._next is not None:
                self._next.spool.close()
        super().close()


def narrowing_sources(sources: Iterable[object]) -> list[NarrowingSource]:
    """The sources among ``sources`` that narrow themselves to a query."""
    return [source for source in sources if isinstance(source, NarrowingSource)]


def shift_between(source: object, before: int, after: int) -> int | None:
    """Records put in front by paging back between ``source``'s generations ``before`` and
    ``after``; None when a restart between them was not a page back (a new query, a
    truncation): nothing of before is where it was."""
    shifts = getattr(source, "shifts", None)
    if shifts is None or after <= before:
        return None
    total = 0
    for generation in range(before + 1, after + 1):
        if generation not in shifts:
            return None
        total += shifts[generation]
    return total
