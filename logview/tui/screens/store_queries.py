"""The main screen and stores that filter and count by themselves (ClickHouse, the journal):
the query pushed down again when it changes, and the server's counts of the whole table.

A source that narrows itself (``logview.sources.narrowing``) is asked again, off the UI
thread, whenever the applied query changes: its byte space restarts on what the new
push-down admits (the record list, the filter and the counts start over, as for a new input;
a notice says what the store now filters), and the local filter still applies the whole
query. A source that counts by itself (``counts``/``histogram_over``: a ClickHouse table) gives
the level bar, the logger tree and the histogram the counts of the current query over the
whole table, not the rows loaded, asked again when the query changes and every
``SERVER_COUNT_INTERVAL`` seconds while following; when part of the query is only filtered
here the server cannot count it and the rows loaded are counted, as for a file, and the
status line says which.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from textual import work
from textual.worker import get_current_worker

from logview.record import LEVEL_BUCKETS
from logview.sources.narrowing import narrowing_sources, shift_between
from logview.store import Store
from logview.tui.messages import PagedBack, ServerCounts, StoresNarrowed
from logview.tui.widgets.status_bar import count_of

#: Seconds between two refreshes of the server's counts while following.
SERVER_COUNT_INTERVAL = 10.0
#: Time buckets the server's histogram is asked for (the widget re-bins them to its width).
SERVER_BUCKETS = 240
#: Rows fetched by one page back (the window the viewer loads first is ``?rows=``).
PAGE_BACK_ROWS = 10_000
#: The level number a level bucket is drawn with in the histogram (-1: no level).
_BUCKET_LEVELNO = {index: levelno for index, (_name, levelno) in enumerate(LEVEL_BUCKETS)}


def counting_source(store: Store) -> Any:
    """The store's one source when it counts by itself (a single ClickHouse table), else
    None (several inputs: the server's counts would be of one of them only)."""
    parts = store.parts()
    if len(parts) != 1:
        return None
    source = parts[0].source
    return source if hasattr(source, "counts") and hasattr(source, "histogram_over") else None


def reads_redacted(store: Store) -> bool:
    """--redact without --redact-search-original: the query reads the redacted text, which
    a store that filters by itself never sees (nothing is pushed, as with --print)."""
    return any(part.redactor is not None and not part.redactor.search_original
               for part in store.parts())


def paging_source(store: Store) -> Any:
    """The store's one source when it can put older rows in front (``page_back``)."""
    parts = store.parts()
    if len(parts) != 1:
        return None
    source = parts[0].source
    return source if hasattr(source, "page_back") else None


def page_shift(store: Store, generations: tuple[int, ...]) -> int | None:
    """Records a single source's page backs put in front since its generation was
    ``generations`` (one per part); None when it restarted otherwise."""
    parts = store.parts()
    if len(parts) != 1 or len(generations) != 1:
        return None
    return shift_between(parts[0].source, generations[0], parts[0].source.generation)


def server_counts_label(message: ServerCounts) -> str:
    """What the status line says of the counts."""
    if message.counts is None:
        return f"counts: rows loaded ({message.why})" if message.why else ""
    return f"counts: server, {count_of(message.counts.total, 'row')}"


class StoreQueries:
    """Pushing the query into stores that filter and count by themselves (a mixin of
    ``MainScreen``; the state is the screen's)."""

    store: Store
    active_query: Any
    post_message: Any
    _server_token: int
    _narrow_token: int
    _narrow_lock: threading.Lock
    _paging: bool
    _no_older: int | None

    def push_query(self, query: Any) -> None:
        """The applied query changed: stores that narrow themselves are asked again, and
        the server's counts of it (not when the query reads redacted text: a store sees the
        original)."""
        if reads_redacted(self.store):
            return
        if narrowing_sources(part.source for part in self.store.parts()):
            self._narrow_token += 1
            self._narrow(query, self._narrow_token)
        self.refresh_server_counts()

    @work(thread=True, group="narrow", exclusive=True, exit_on_error=False)
    def _narrow(self, query: Any, token: int) -> None:
        texts = []
        # One at a time, and only the newest query: a worker of an older one that was still
        # running when it was superseded must not restart the store after the newer one.
        with self._narrow_lock:
            for source in narrowing_sources(part.source for part in self.store.parts()):
                if get_current_worker().is_cancelled or token != self._narrow_token:
                    return
                said = source.narrow(query)
                if said:
                    texts.append(f"{source.name}: {said}")
        if texts:
            self.post_message(StoresNarrowed(texts))

    def maybe_page_back(self) -> None:
        """At the first row: fetch older rows, once at a time, not again once there were
        none (until the query changes)."""
        source = paging_source(self.store)
        generation = getattr(source, "generation", None)
        if source is None or self._paging or generation == self._no_older:
            return
        self._paging = True
        self._page_back(source, generation)

    @work(thread=True, group="page-back", exclusive=True, exit_on_error=False)
    def _page_back(self, source: Any, generation: int) -> None:
        try:
            rows = source.page_back(PAGE_BACK_ROWS)
        except source.errors() as exc:
            self.post_message(PagedBack(0, generation, " ".join(str(exc).split())[:200]))
            return
        self.post_message(PagedBack(rows, generation))

    def on_paged_back(self, message: PagedBack) -> None:
        self._paging = False
        if message.error:
            self.notify(f"cannot fetch older rows: {message.error}", title="Paging back",
                        severity="warning", markup=False)
        elif not message.rows:
            self._no_older = message.generation
            self.notify("no older rows", title="Paging back", timeout=3)
        else:
            self.notify(f"{message.rows:,} older rows fetched", title="Paging back",
                        timeout=3)

    def on_record_list_reached_top(self) -> None:
        self.maybe_page_back()

    def refresh_server_counts(self) -> None:
        """Ask the server for the counts of the current query (a newer ask supersedes)."""
        source = counting_source(self.store)
        if source is None or reads_redacted(self.store):
            return
        self._server_token += 1
        self._server_counts(source, self.active_query, self._server_token)

    @work(thread=True, group="server-counts", exclusive=True, exit_on_error=False)
    def _server_counts(self, source: Any, query: Any, token: int) -> None:
        from logview.query import parse_query

        query = parse_query("") if query is None else query
        try:
            counts = source.counts(query)
            histogram = None if counts is None else source.histogram_over(query, SERVER_BUCKETS)
        except source.errors() as exc:  # the server, the network: the rows loaded are counted
            text = " ".join(str(exc).split())[:200]
            self.post_message(ServerCounts(token, None, None, f"the server failed: {text}"))
            return
        if counts is None:
            self.post_message(ServerCounts(token, None, None,
                                           "part of the query is only filtered here"))
            return
        self.post_message(ServerCounts(token, counts, histogram))

    def server_histogram(self, buckets: list[tuple[int, int, int]]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The server's (start, level bucket, rows) as the histogram's times, levels and
        weights."""
        times = np.array([start for start, _bucket, _rows in buckets], dtype=np.float64)
        levels = np.array([_BUCKET_LEVELNO.get(bucket, 0) for _s, bucket, _r in buckets],
                          dtype=np.int64)
        weights = np.array([rows for _start, _bucket, rows in buckets], dtype=np.int64)
        return times, levels, weights
