"""The main screen: query bar, level counts, the record list, status line and footer.

Thread workers keep the UI free (``store_workers``): one follows the store (``update`` +
``wait``), one counts records per level, one runs the applied filter (in batches, cancellable,
then keeps matching new records as they arrive), and one reads the filter's records' times
from the record columns for the histogram. They talk to the screen with coalescing messages,
handled here.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, ClassVar

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker

from logview.record import Record, printable
from logview.scan import RecordTest
from logview.stats import FilteredTimes, RecordStats
from logview.store import Store, format_misfits
from logview.tui.messages import (
    FilteredTimesFound,
    FilterProgress,
    LevelCounts,
    ServerCounts,
    SourceNotices,
    StoreGrew,
    StoresNarrowed,
)
from logview.tui.pacing import BUSY_FRAME
from logview.tui.query_edit import (
    QueryProblem,
    compile_query,
    logger_terms,
    min_level_of,
    with_logger,
    with_min_level,
    without_time_range,
)
from logview.tui.screens.filter_panel import FilterPanel
from logview.tui.screens.find_scan import FindScanning
from logview.tui.screens.goto import GotoActions
from logview.tui.screens.store_queries import (
    SERVER_COUNT_INTERVAL,
    StoreQueries,
    counting_source,
    page_shift,
    server_counts_label,
)
from logview.tui.screens.store_workers import COUNT_LAG, GROW_INTERVAL, StoreWorkers
from logview.tui.theme import LEVEL_KEYS
from logview.tui.widgets.filter_list import FilterList
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import (
    StatusBar,
    StatusState,
    count_of,
    short_format_label,
)

#: Below this many rows the histogram draws one bar row instead of two.
SHORT_HEIGHT = 30
#: Below this many columns the footer packs its keys and the logger tree is narrower.
NARROW_WIDTH = 100
#: Seconds of growth the rec/s figure looks back on (quiet longer: no rate shown).
_RATE_WINDOW = 5.0
#: Least time growth must go on for before a rate is shown.
_RATE_MIN_SPAN = 1.5
#: Seconds level counts held for a trickle's next growth wait at most (a growth comes every
#: ``GROW_INTERVAL`` while records come; none may come after a file's last record).
_TRICKLE_HOLD = GROW_INTERVAL + 0.1


class MainScreen(FindScanning, FilterPanel, GotoActions, StoreQueries, StoreWorkers, Screen):
    """Shows one store through the applied query, following its end."""

    #: The record list takes focus, never the query bar (it would eat early keys as text).
    AUTO_FOCUS = "#records"
    _status_bar: StatusBar

    class Ready(Message):
        """The screen is mounted and its list focused: keys can be routed to it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query('find')", "Find"),
        Binding("ampersand", "focus_query('filter')", "Filter"),
        Binding("1", "min_level('1')", "Level", show=False),
        Binding("2", "min_level('2')", show=False),
        Binding("3", "min_level('3')", show=False),
        Binding("4", "min_level('4')", show=False),
        Binding("5", "min_level('5')", show=False),
        Binding("0", "min_level('0')", "All levels", show=False),
        Binding("t", "toggle_tree", "Loggers"),
        Binding("h", "toggle_histogram", "Histogram", show=False),
        Binding("F", "toggle_filters", "Filters", show=False),
        Binding("colon", "go_to", "Go to", show=False),
        Binding("escape", "cancel_filter", "Stop filter", show=False),
    ]

    def __init__(self, store: Store, *, query: str = "") -> None:
        super().__init__()
        self.store = store
        self.initial_query = query
        self.query_text = ""
        self.active_query: Any = None
        self._growth = threading.Condition()
        self._known = 0
        self._finished = False
        self._generation = store.generation
        self._filter_token = 0
        self._filter_worker: Worker[None] | None = None
        self._filter_progress: float | None = None
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=32)
        #: When the last growth was shown (its frame also shows the rate and level counts).
        self._last_grew = 0.0
        #: Level counts held back to be drawn in the frame of the next growth (see below).
        self._pending_counts: LevelCounts | None = None
        #: Draws the counts held back should no growth come (stopped when one draws them).
        self._counts_timer: Timer | None = None
        #: What the status line says the input was read as (worked out as records come).
        self._format_text = ("", "")
        self._list = RecordList(store, id="records")
        #: A query applied from the logger tree leaves the focus in the tree.
        self._keep_tree_focus = False
        self._tally: RecordStats | None = None
        #: The applied filter's records for the histogram, from the record columns.
        self._filtered_times: FilteredTimes | None = None
        self._indexed: float | None = None
        #: Sources already told about a forced --format that fits none of their first lines.
        self._misfits_told: set[str] = set()
        self._notices: list[str] = []
        #: --redact: the status line says what is shown is masked.
        self._redacted = any(getattr(part, "redactor", None) is not None
                             for part in store.parts())
        #: The server's counts of the current query (None: the rows loaded are counted).
        self._server: ServerCounts | None = None
        self._server_token = 0
        self._narrow_token = 0
        self._narrow_lock = threading.Lock()
        self._counts_label = ""
        #: A page back is running; the source generation that had no older rows.
        self._paging = False
        self._no_older: int | None = None
        #: Each part's source generation at the last growth (a page back moves records).
        self._source_generations = tuple(part.source.generation for part in store.parts())
        #: Colour rank per source: the merged stores in command-line order, then first seen.
        self._source_ranks: dict[str, int] = {
            part.name: rank for rank, part in enumerate(store.parts()) if len(store.parts()) > 1
        }
        #: Whether a record counted names a logger (else rows have no logger column).
        self._named_logger = False
        #: The parts' formats at the last growth (a restart with new ones keeps the cursor).
        self._formats = tuple(id(part.format) for part in store.parts())

    def compose(self) -> ComposeResult:
        yield QueryBar(self.initial_query, id="query-bar")
        yield LevelBar(id="level-bar")
        yield TimeHistogram(id="histogram")
        with Horizontal(id="body"):
            tree = LoggerTree(id="loggers")
            tree.display = False
            yield tree
            yield self._list
            filters = FilterList(id="filters")
            filters.display = False
            yield filters
        yield StatusBar(id="status")
        yield Footer()

    @property
    def records(self) -> RecordList:
        """The record list (a plain reference: workers read its follow state and rows model)."""
        return self._list

    def on_resize(self) -> None:
        """Fit small terminals: a shorter histogram, a compact footer, a narrower tree."""
        width, height = self.size
        self.set_class(height < SHORT_HEIGHT, "-short")
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.query_one(Footer).compact = width < NARROW_WIDTH

    def on_mount(self) -> None:
        self._status_bar = self.query_one(StatusBar)  # asked on every growth: no DOM query
        self.set_interval(1.0, self._refresh_rate)
        self.records.focus()
        self._follow()
        self._count_levels()
        if counting_source(self.store) is not None:
            self.refresh_server_counts()
            self.set_interval(SERVER_COUNT_INTERVAL, self._tick_server_counts)
        if self.initial_query:
            self.query_one(QueryBar).submit(self.initial_query)
        self._format_text = self._format_status()
        self._show_status()
        # Keys typed during start-up are held by the app until now (see tui/key_order.py).
        self.post_message(self.Ready())

    # -- following the store ------------------------------------------------------------------

    def on_store_grew(self, message: StoreGrew) -> None:
        restarted = message.generation != self._generation
        with self._growth:
            self._known = message.length
            self._finished = message.finished
            self._generation = message.generation
            self._growth.notify_all()
        self._last_grew = time.monotonic()
        if message.indexed is None or message.indexed >= 1.0:  # indexing speed is not a rate
            self._rate_samples.append((self._last_grew, message.length))
        self._indexed = message.indexed
        records = self.records
        generations = tuple(part.source.generation for part in self.store.parts())
        formats = tuple(id(part.format) for part in self.store.parts())
        if restarted:
            shift = page_shift(self.store, self._source_generations)
            if shift is None and formats != self._formats:
                # A new format (the interpreter's lines taken in as the log grew): the
                # records before the first one it splits off keep their places.
                shift = 0
            cursor = records.cursor_position if not records.following else None
            records.reset()
            if shift is not None and cursor is not None:
                records.keep_record(cursor + shift)  # older rows came in front of it
            self.query_one(LoggerTree).clear_counts()
            self.query_one(TimeHistogram).clear()
            self._show_server_counts()
            self._count_levels()
            if self.active_query is not None:
                self._start_filter(self.active_query)
            self.restart_find()
        self._source_generations = generations
        self._formats = formats
        records.set_length(message.length)
        self._tell_misfits()
        self._format_text = self._format_status()
        self._show_status()
        self._draw_counts()

    def on_source_notices(self, message: SourceNotices) -> None:
        """Something was lost or refused: say it (kept in the count on the status line)."""
        for text in message.texts:
            self._notices.append(text)
            self.notify(printable(text), title="Input", severity="warning", timeout=20)
        self._show_status()

    def _tell_misfits(self) -> None:
        """Notify once per source that a forced --format fits none of its first lines."""
        for name, detection in format_misfits(self.store):
            if name in self._misfits_told:
                continue
            self._misfits_told.add(name)
            self.notify(
                f"--format fits none of the first {count_of(detection.total, 'line')} of "
                f"{printable(name)}: "
                "records run together. Try without --format.",
                title="Format does not fit",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def _format_status(self) -> tuple[str, str]:
        """("as jsonl": what the input was read as, a warning) for the status line."""
        store = self.store
        parts = store.parts()
        misfits = format_misfits(store)
        warning = ""
        if misfits:
            lines = misfits[0][1].total
            warning = (f"--format fits none of {count_of(lines, 'line')}" if len(parts) == 1
                       else f"--format fits none of {count_of(len(misfits), 'source')}")
        labels = {short_format_label(part.detection) for part in parts}
        labels.discard("")
        if len(labels) > 1:  # too long to list here: the help screen has one line per source
            return f"{len(labels)} formats (? lists them)", warning
        return (f"as {labels.pop()}" if labels else ""), warning

    # -- level counts -------------------------------------------------------------------------

    def on_level_counts(self, message: LevelCounts) -> None:
        if message.generation != self._generation or message.tally is not self._tally:
            return
        indexing = self._indexed is not None and self._indexed < 1.0
        if (not self._finished and message.tally.room.is_set()
                and (indexing or not message.behind
                     and time.monotonic() - self._last_grew < 2 * GROW_INTERVAL)):
            # Records trickle in, or a big input is being indexed: draw the counts with the
            # next rows (one frame, not two); should none come, a timer draws them: a trickle
            # grows every GROW_INTERVAL, so a little more than one (a file's last record,
            # committed by the quiet flush, is counted with no growth after it: a longer
            # wait left its count behind the status line's for 2 s), a big input's growths
            # come every ``BUSY_FRAME``. A full tally is taken at once: its counter waits
            # for that (counting that rides on a big file's index).
            if self._pending_counts is None:
                wait = 2 * max(GROW_INTERVAL, BUSY_FRAME) if indexing else _TRICKLE_HOLD
                self._counts_timer = self.set_timer(wait, self._draw_counts)
            self._pending_counts = message
            return
        self._pending_counts = message
        self._draw_counts()

    def _draw_counts(self) -> None:
        """Show the level counts, loggers and times of the last ``LevelCounts`` held back."""
        message, self._pending_counts = self._pending_counts, None
        if self._counts_timer is not None:  # (a timer left would draw later counts alone)
            self._counts_timer.stop()
            self._counts_timer = None
        if (message is None or message.generation != self._generation
                or message.tally is not self._tally):
            return
        levels, unknown, counted = message.tally.totals()
        indexing = self._indexed is not None and self._indexed < 1.0
        # Counts posted before the records were known (a file opened: the first pass had
        # none) still lag once they are: "counting…", not a bar of zeros.
        counting = (message.behind or indexing or self._known - counted >= COUNT_LAG
                    or not self._finished and not self._known)
        self._show_sources(message.tally.sources())
        loggers, _times, _levelnos = message.tally.take()
        bins = message.tally.take_bins()  # binned by the counter: a copy, whatever the records
        if self._server is not None:  # the server's counts of the whole table are shown
            return
        self.query_one(LevelBar).set_counts(levels, unknown, counting)
        for tree in self.query(LoggerTree):
            tree.add_counts(loggers)
        # No logger column while no record counted names one (shown until all are counted).
        self._named_logger = self._named_logger or any(loggers)
        self.records.show_loggers(self._named_logger or counting)
        if bins is not None:
            for histogram in self.query(TimeHistogram):
                histogram.set_all_bins(bins)

    def on_filtered_times_found(self, message: FilteredTimesFound) -> None:
        """Give the histogram what the filter's ``FilteredTimes`` found since last time (not
        while it shows the server's histogram of the query: the rows loaded are a part)."""
        if message.found is self._filtered_times and self._server is None:
            times, levelnos = message.found.take()
            if len(times):
                self.query_one(TimeHistogram).add_filtered(times, levelnos)

    def _show_sources(self, seen: list[str]) -> None:
        """Give the record list the sources seen (it adds a column for more than one)."""
        ranks = self._source_ranks
        for source in seen:
            ranks.setdefault(source, len(ranks))
        self.records.set_sources(seen, ranks)

    # -- stores that filter and count by themselves (store_queries) --------------------------

    def on_server_counts(self, message: ServerCounts) -> None:
        if message.token != self._server_token:
            return  # a superseded ask
        had = self._server is not None
        self._server = message if message.counts is not None else None
        self._counts_label = server_counts_label(message)
        if self._server is not None:
            self._show_server_counts()
        elif had:  # back to the rows loaded: count them all again
            self.query_one(LoggerTree).clear_counts()
            self.query_one(TimeHistogram).clear()
            self._count_levels()
        self._show_status()

    def _show_server_counts(self) -> None:
        """Draw the server's counts (kept: a restart of the rows does not change them)."""
        message = self._server
        if message is None:
            return
        counts = message.counts
        self.query_one(LevelBar).set_counts(counts.levels, counts.unknown, False)
        self.query_one(LoggerTree).set_counts(counts.loggers)
        self.query_one(TimeHistogram).set_weighted(*self.server_histogram(message.histogram
                                                                          or []))

    def _tick_server_counts(self) -> None:
        if not self._finished:  # following: new rows change the counts
            self.refresh_server_counts()

    def on_stores_narrowed(self, message: StoresNarrowed) -> None:
        """Stores were asked again: the list starts over on their new rows (said)."""
        for text in message.texts:
            self.notify(printable(text) + ": the list starts again on the new rows",
                        title="Query pushed down", timeout=6, markup=False)

    # -- filtering ----------------------------------------------------------------------------

    @on(QueryBar.Applied)
    def _query_applied(self, message: QueryBar.Applied) -> None:
        self.query_text = message.text
        query = None if message.query.is_empty else (
            message.query
        )
        self.active_query = query
        self.query_one(LevelBar).set_min_level(min_level_of(message.text))
        self.show_filters(message.text)
        shown, hidden = logger_terms(message.text)
        tree = self.query_one(LoggerTree)
        if (shown, hidden) != (tree.shown, tree.hidden):
            tree.set_filter(shown, hidden)
        self.records.set_query(query)
        self.push_query(query)
        if query is None:
            self._cancel_filter()
            self._filtered_times = None
            self.query_one(TimeHistogram).show_all()
            self.records.set_positions(None)
        else:
            self._start_filter(query)
        self.restart_find()
        if not self._keep_tree_focus:
            self.records.focus()
        self._keep_tree_focus = False
        self._show_status()

    @on(QueryBar.FindApplied)
    def _find_applied(self, message: QueryBar.FindApplied) -> None:
        self.apply_find(message.text, message.query)
        self.records.focus()

    @on(QueryBar.Left)
    def _query_left(self) -> None:
        self.records.focus()

    def _start_filter(self, query: Any) -> None:
        self._cancel_filter()
        # The histogram follows the filter when the record columns answer it (its worker reads
        # them as they are counted), else it shows every record. The filter's since:/until:
        # terms are drawn as a range over it, not zoomed into.
        drawn = without_time_range(self.query_text)
        histogram = self.query_one(TimeHistogram)
        try:
            drawn_query = query if drawn == self.query_text or not drawn else compile_query(drawn)
        except QueryProblem:  # cannot happen for the parts of a query that parsed
            drawn_query = query
        if not drawn:
            self._filtered_times = None
            histogram.show_all()
        else:
            found = self._filtered_times = FilteredTimes(self.store, drawn_query)
            histogram.show_filtered(found.answerable)
            if found.answerable:
                self._find_filtered_times(found)
        self._filter_token += 1
        self._filter_progress = 0.0
        self.records.set_positions(np.empty(0, dtype=np.int64), catching_up=True)
        self._filter_worker = self.run_worker(
            lambda token=self._filter_token: self._filter(token, query),
            thread=True,
            group="filter",
            exit_on_error=False,
        )

    def _cancel_filter(self) -> None:
        if self._filter_worker is not None:
            self._filter_worker.cancel()
            self._filter_worker = None
        self._filter_token += 1
        self._filter_progress = None

    def on_filter_progress(self, message: FilterProgress) -> None:
        if message.token != self._filter_token or self.active_query is None:
            return
        self._filter_progress = (
            None if message.scanned >= message.total else message.scanned / max(1, message.total)
        )
        self.records.set_positions(message.positions,
                                   catching_up=message.scanned < message.total)
        self._show_status()

    def action_cancel_filter(self) -> None:
        if self._filter_progress is not None:
            self._cancel_filter()
            self.notify("Filter stopped: showing the matches found so far", timeout=3)
            self._show_status()

    def action_focus_query(self, mode: str = "filter") -> None:
        self.query_one(QueryBar).edit("find" if mode == "find" else "filter")

    def action_min_level(self, key: str) -> None:
        level = LEVEL_KEYS.get(key)
        bar = self.query_one(QueryBar)
        bar.submit(with_min_level(bar.applied, level))

    # -- the rest of the screen ---------------------------------------------------------------

    @on(RecordList.FollowChanged)
    @on(RecordList.CursorMoved)
    @on(RecordList.ModesChanged)
    @on(RecordList.MarksChanged)
    def _list_changed(self, message: Any) -> None:
        self._show_status()

    @on(RecordList.OpenRecord)
    def _open_record(self, message: RecordList.OpenRecord) -> None:
        # Imported here: it brings pygments, which start-up does not need (~10 ms).
        from logview.tui.widgets.detail import DetailScreen

        self.app.push_screen(DetailScreen(message.record, colours=self.records.app_colours))

    def action_toggle_tree(self) -> None:
        tree = self.query_one(LoggerTree)
        tree.display = not tree.display
        if tree.display:
            tree.show_active()
            tree.focus()
        else:
            self.records.focus()

    def action_toggle_histogram(self) -> None:
        histogram = self.query_one(TimeHistogram)
        histogram.display = not histogram.display

    @on(LoggerTree.Selected)
    def _logger_selected(self, message: LoggerTree.Selected) -> None:
        bar = self.query_one(QueryBar)
        # The tree keeps the focus: several loggers are hidden one after another.
        self._keep_tree_focus = True
        if not bar.submit(with_logger(bar.applied, message.logger, exclude=message.exclude)):
            self._keep_tree_focus = False

    @on(TimeHistogram.BucketSelected)
    def _bucket_selected(self, message: TimeHistogram.BucketSelected) -> None:
        start = message.start
        applied = self.active_query

        def at_or_after(record: Record) -> bool:
            stamp = record.timestamp
            return (stamp is not None and stamp >= start
                    and (applied is None or applied.matches(record)))

        self.records.find(RecordTest(at_or_after), 1, "record at that time", from_start=True)
        self.records.focus()

    def _rate(self) -> float | None:
        """Records per second over the last ``_RATE_WINDOW`` seconds up to now (None: quiet).

        Measured up to now, not to the last growth, so a source that stops does not keep
        showing the rate it last had.
        """
        samples = self._rate_samples
        now = time.monotonic()
        while samples and now - samples[0][0] > _RATE_WINDOW:
            samples.popleft()
        if self._finished or len(samples) < 2:
            return None
        (t0, n0), (t1, n1) = samples[0], samples[-1]
        if t1 - t0 < _RATE_MIN_SPAN or n1 <= n0:  # one burst (opening a file) is no rate
            return None
        return (n1 - n0) / (now - t0)

    def _refresh_rate(self) -> None:
        """Once a second: the rate of a source that went quiet goes down (a source that
        grows has its rate shown with each growth)."""
        if self._rate_samples and time.monotonic() - self._last_grew >= 1.0:
            self._show_status()

    def _show_status(self) -> None:
        records = self.records
        state = StatusState(
            source=self.store.name,
            total=self._known,
            shown=None if records.positions is None else len(records.positions),
            following=records.following,
            new_rows=records.new_rows,
            rate=self._rate(),
            filter_progress=self._filter_progress,
            indexed=self._indexed,
            finished=self._finished,
            notices=len(self._notices),
            view_modes=records.modes_label,
            find=self.find_status(),
            marks=len(records.marks),
            marked_only=records.marked_only,
            redacted=self._redacted,
            counts=self._counts_label,
        )
        state.format_label, state.format_warning = self._format_text
        self._status_bar.show(state)
