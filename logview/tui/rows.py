"""The record list's rows model: parsed records of the rows on screen, fetched off the UI thread.

``store.record`` may read the file (pread) and parse, which is too slow for ``render_line`` on
a big or slow input. So the list renders only from this model: ``get`` answers from a bounded
LRU cache keyed by (generation, position) or queues the position and answers None (the row is
drawn as a placeholder). One long-lived thread worker (``run``) fetches queued positions in
position order, the rows on screen first and then the pages around them, and posts one
coalescing ``RowsReady`` to the list, which refreshes. This is what Textual's ``Log`` and
toolong's ``LineReader`` do. ``RowFetching`` is the list's side: what to ask for, redrawing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.worker import get_current_worker

from logview.record import Record
from logview.store import Store
from logview.tui.elapsed import SINCE_PREVIOUS

#: Parsed records the model keeps (a few screens up and down, and then some).
ROW_CACHE = 4096
#: Longest the worker fetches rows on screen before it shows the ones it has.
_POST_INTERVAL = 0.1

Key = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A position the store could not give (it restarted under us, the file went away)."""

    text: str


class RowsReady(Message, bubble=False):
    """Records of rows that were drawn as placeholders are in the model: refresh."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RowsReady)


class RowRecords:
    """Records by (generation, position), fetched in a worker on demand; never blocks ``get``.

    ``get`` and ``request`` are for the UI thread, ``run`` is the worker's loop; a lock and a
    condition guard the cache and the queues. ``clear`` (a store restart) bumps an epoch so
    that a fetch still under way never puts an old record back.
    """

    def __init__(self, store: Store, ready: Callable[[], None], size: int = ROW_CACHE) -> None:
        self.store = store
        self._ready = ready
        self._size = size
        self._cache: OrderedDict[Key, Record | Unavailable] = OrderedDict()
        #: Rows on screen that are not in the cache yet (fetched first).
        self._wanted: set[Key] = set()
        #: Rows around the screen worth having before they scroll in.
        self._ahead: set[Key] = set()
        self._cond = threading.Condition()
        self._epoch = 0
        self._stopped = False

    # -- the UI thread ------------------------------------------------------------------------

    def get(self, generation: int, position: int) -> Record | Unavailable | None:
        """The record at ``position`` if fetched, else None (and the position is queued)."""
        key = (generation, position)
        with self._cond:
            value = self._cache.get(key)
            if value is not None:
                self._cache.move_to_end(key)
                return value
            self._wanted.add(key)
            return None

    def peek(self, generation: int, position: int) -> Record | Unavailable | None:
        """The record at ``position`` if fetched, else None (queues nothing)."""
        with self._cond:
            return self._cache.get((generation, position))

    def request(self, generation: int, shown: Iterable[int], ahead: Iterable[int]) -> None:
        """Fetch the rows ``shown`` now (forgetting queued ones no longer shown), then ``ahead``."""
        with self._cond:
            shown_keys = {(generation, position) for position in shown}
            self._wanted = {key for key in self._wanted | shown_keys
                            if key in shown_keys and key not in self._cache}
            self._ahead = {key for key in ((generation, p) for p in ahead)
                           if key not in self._cache and key not in self._wanted}
            if self._wanted or self._ahead:
                self._cond.notify_all()

    def prefetch(self, generation: int, positions: Iterable[int]) -> None:
        """Fetch ``positions`` now, in the calling worker thread: a worker that is about to
        tell the UI of new rows at the end (the follower, the filter) fills them in first, so
        a list that follows the end never shows them as placeholders."""
        with self._cond:
            epoch = self._epoch
            missing = [p for p in positions if (generation, p) not in self._cache]
        for position in missing:
            value = self._fetch(generation, position)
            if not self._keep((generation, position), value, epoch):
                return

    def clear(self) -> None:
        """Forget every record and queued row (the store restarted)."""
        with self._cond:
            self._epoch += 1
            self._cache.clear()
            self._wanted.clear()
            self._ahead.clear()

    def stop(self) -> None:
        """End ``run`` now (the list is going away)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- the worker ---------------------------------------------------------------------------

    def run(self, cancelled: Callable[[], bool]) -> None:
        """Fetch queued rows until stopped; call ``ready`` once the rows on screen are in."""
        since: float | None = None  # when the rows on screen not told of yet began coming in
        while True:
            taken = self._take(cancelled, since is not None)
            if taken is None:
                return
            key, epoch, shown = taken
            if key is not None:
                self._keep(key, self._fetch(*key), epoch)
                if shown and since is None:
                    since = time.monotonic()
                if since is None or time.monotonic() - since < _POST_INTERVAL:
                    continue  # a slow store shows the rows fetched so far now and then
            self._ready()
            since = None

    def _take(self, cancelled: Callable[[], bool], due: bool) -> tuple[Key | None, int, bool] | None:
        """``(key, epoch, shown)`` of the next row to fetch: the first one on screen, else
        (once the list was told of those) the first one ahead; ``(None, epoch, True)`` when
        the rows on screen are all in and the list is to be told; None: end the worker."""
        with self._cond:
            while not (self._stopped or cancelled()):
                while self._wanted:
                    key = min(self._wanted)
                    self._wanted.discard(key)
                    self._ahead.discard(key)
                    if key not in self._cache:
                        return key, self._epoch, True
                    due = True  # fetched ahead meanwhile, but drawn as a placeholder
                if due:
                    return None, self._epoch, True
                while self._ahead:
                    key = min(self._ahead)
                    self._ahead.discard(key)
                    if key not in self._cache:
                        return key, self._epoch, False
                self._cond.wait(0.5)
            return None

    def _keep(self, key: Key, value: Record | Unavailable, epoch: int) -> bool:
        """Cache a fetched record unless a ``clear`` came since the fetch began (False)."""
        with self._cond:
            if epoch != self._epoch:
                return False
            self._cache[key] = value
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return True

    def _fetch(self, generation: int, position: int) -> Record | Unavailable:
        """``store.record`` (it keeps its own cache warm for the detail view), never raising."""
        store = self.store
        try:
            if store.generation != generation:
                raise IndexError("the store restarted")
            return store.record(position)
        except Exception as exc:  # noqa: BLE001 - the worker must live: show it in the row
            return Unavailable(f"<record {position} unavailable: {exc}>")


class RowFetching:
    """The record list's side of the rows model (mixed into ``RecordList``): asks it for the
    rows on screen and a page around them, redraws when they arrive, copies from it."""

    def _init_rows(self, store: Store) -> None:
        #: Records of the rows, fetched by a worker (rendering never reads the store).
        self.rows = RowRecords(store, lambda: self.post_message(RowsReady()))
        #: Bumps when fetched rows arrive (the wrapped layout depends on them).
        self._rows_version = 0
        #: What the rows model was last asked for (see ``_shown_key``).
        self._requested: tuple[Any, ...] | None = None
        self._request_pending = False
        #: A placeholder was drawn and its record has not been drawn since.
        self._placeholder_drawn = False
        #: The cursor was scrolled into view (wrap mode) while rows were placeholders.
        self._reshow_cursor = False

    def _start_rows(self) -> None:
        """Start the worker that fills the rows model (on mount)."""
        self.run_worker(self._fetch_rows, thread=True, group="rows")

    def _fetch_rows(self) -> None:
        worker = get_current_worker()
        self.rows.run(lambda: worker.is_cancelled)

    def on_unmount(self) -> None:
        self.rows.stop()

    def _forget_rows(self) -> None:
        """The store restarted: no record fetched before is valid."""
        self.rows.clear()
        self._requested = None

    def on_rows_ready(self, message: RowsReady) -> None:
        """Rows drawn as placeholders have their records now: draw them again."""
        self._redraw_rows()
        if self._reshow_cursor:
            self._reshow_cursor = False
            if self.multiline and not self.following:
                self._show_cursor()

    def _redraw_rows(self) -> None:
        """Lay out and draw the rows again, with the records fetched since they were drawn."""
        self._rows_version += 1
        self._placeholder_drawn = False
        self.refresh()

    @property
    def _generation(self) -> int:
        return self.store.generation

    def _record(self, position: int) -> Record | Unavailable | None:
        """The record at ``position`` from the rows model; None (a placeholder) until fetched."""
        record = self.rows.get(self._generation, position)
        if record is None:
            self._placeholder_drawn = True
            self._schedule_request()
        return record

    @property
    def rows_ready(self) -> bool:
        """No row on screen is (or will be drawn as) a placeholder (tests wait for this)."""
        if self._placeholder_drawn:
            return False
        shown = self._shown_rows()
        return shown is None or self._fetched(*shown)

    def _shown_rows(self) -> tuple[int, int] | None:
        """First and last row on screen (None: no rows); the row above the screen too when
        the time column shows the time since the previous record (the top row needs it)."""
        count = self.row_count
        if not count:
            return None
        if self.multiline:
            screen = self._wrap_screen()
            if not screen:
                return None
            first, last = screen[0].row, screen[-1].row
        else:
            first = min(round(self.scroll_y), count - 1)
            last = min(first + max(1, self.size.height), count) - 1
        return (first - 1 if first and self.time_mode == SINCE_PREVIOUS else first), last

    def _fetched(self, first: int, last: int) -> bool:
        """Whether the records of rows ``first`` to ``last`` are all in the rows model."""
        generation = self._generation
        return all(self.rows.peek(generation, self.position_at(row)) is not None
                   for row in range(first, last + 1))

    def _shown_key(self) -> tuple[Any, ...]:
        """What decides which rows are on screen (top row, rows, filter, generation, wrap)."""
        return (round(self.scroll_y), self.row_count, id(self.positions), self._generation,
                self.multiline, self.time_mode)

    def _check_screen(self) -> None:
        """Called while rendering: when the screen moved, ask for the rows it shows now."""
        if self._shown_key() != self._requested:
            self._schedule_request()

    def _schedule_request(self) -> None:
        if not self._request_pending:
            self._request_pending = True
            self.call_later(self._request_rows)

    def _request_rows(self) -> None:
        """Ask the rows model for the rows on screen, then a page above and below them."""
        self._request_pending = False
        self._requested = self._shown_key()
        span = self._shown_rows()
        if span is None:
            return
        first, last = span
        if self._placeholder_drawn and self._fetched(first, last):
            self._redraw_rows()  # they came in, or the screen moved to rows fetched before
        count, height = self.row_count, max(1, self.size.height)
        position = self.position_at
        shown = [position(row) for row in range(first, last + 1)]
        ahead = [position(row) for row in range(max(0, first - height), first)]
        ahead += [position(row) for row in range(last + 1, min(count, last + 1 + height))]
        self.rows.request(self._generation, shown, ahead)

    def with_record(self, position: int, use: Callable[[Record], None], what: str) -> None:
        """Call ``use`` with the record at ``position``: at once when it is fetched, else once
        a worker has read it (the UI thread never reads); a read that fails is said."""
        record = self.rows.peek(self._generation, position)
        if isinstance(record, Record):
            use(record)
            return
        store = self.store

        def fetch() -> None:
            try:
                fetched: Record | str = store.record(position)
            except (IndexError, OSError) as exc:
                fetched = f"Record {position} unavailable: {exc}"
            self.app.call_from_thread(self._use_record, fetched, use)

        self.run_worker(fetch, thread=True, group=what, exclusive=True, exit_on_error=False)

    def _use_record(self, record: Record | str, use: Callable[[Record], None]) -> None:
        if isinstance(record, str):
            self.notify(record, severity="warning", timeout=3, markup=False)
        else:
            use(record)

    def action_copy(self) -> None:
        position = self.cursor_position
        if position is not None:
            self.with_record(position, self._copy, "copy")

    def _copy(self, record: Record) -> None:
        self.app.copy_to_clipboard(record.raw or record.message)
        self.notify("Record copied to the clipboard", timeout=2)

    # Provided by RecordList (and Textual's widget).
    store: Store
    row_count: int
    positions: Any
    cursor_position: int | None
    multiline: bool
    time_mode: str
    following: bool
    scroll_y: float
    size: Any
    app: Any
    position_at: Callable[[int], int]
    _show_cursor: Callable[[], None]
    _wrap_screen: Callable[[], list[Any]]
    post_message: Callable[[Message], bool]
    run_worker: Callable[..., Any]
    call_later: Callable[..., Any]
    refresh: Callable[..., Any]
    notify: Callable[..., None]
