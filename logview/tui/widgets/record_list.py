"""The virtualised record view: one row per record, rendered line by line on demand.

No widget per record and no list of all records: rows map to store positions through a
sorted int64 array of matching positions, or (unfiltered) the identity, row == position.
Rows are rendered with the Line API into Strips cached per (position, generation, render
key, placeholder or not); the horizontal crop and the cursor highlight happen after the cache.

Rendering never reads the store: records come from the rows model (``logview.tui.rows``),
which a thread worker fills with the rows on screen and a page around them. A row not fetched
yet is drawn as a dim placeholder and drawn again when the worker posts ``RowsReady``.

In wrap mode (``\\``) a row takes as many screen lines as its message needs and the cursor
row shows its whole record; the scroll offset then names the top row and only the rows on
screen are wrapped (see ``wrap_layout``), so the cost stays that of one screen. Expanding
every record (``z``) uses the same layout; it and the time column's and colours' modes are
in ``row_modes``. Scrolled sideways, the time, level and source columns stay in place.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
from rich.style import Style
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import Click, MouseScrollUp
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollTo
from textual.strip import Strip

from logview.query import Query
from logview.record import Record
from logview.store import Store
from logview.tui.rows import RowFetching
from logview.tui.source_tags import source_color, source_tags
from logview.tui.widgets.list_scrollbar import ListScrollBar
from logview.tui.widgets.marked_rows import MARK_BINDINGS, MarkedRows
from logview.tui.widgets.record_search import RecordSearch
from logview.tui.widgets.row_modes import RowModes
from logview.tui.widgets.row_painting import RowKey, RowPainting
from logview.tui.widgets.row_text import SOURCE_WIDTH, WIDE, RowText
from logview.tui.widgets.wrap_layout import (
    WrappedLine,
    top_ending_at,
)


class RecordList(MarkedRows, RowPainting, RowModes, RowText, RowFetching, RecordSearch, ScrollView,
                 can_focus=True):
    """Rows of records from a store, following the end like ``tail -f`` until scrolled up."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-list--cursor",
        "record-list--time",
        "record-list--logger",
        "record-list--field",
        "record-list--marker",
        "record-list--match",
        "record-list--find",
        "record-list--mark",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Follow"),
        Binding("n", "find_match(1)", "Next hit", show=False),
        Binding("N", "find_match(-1)", "Prev hit", show=False),
        Binding("e", "find_level(1, 40)", "Error"),
        Binding("E", "find_level(-1, 40)", "Prev error", show=False),
        Binding("w", "find_level(1, 30)", "Next warning", show=False),
        Binding("W", "find_level(-1, 30)", "Prev warning", show=False),
        Binding("enter", "open", "Detail"),
        Binding("c", "copy", "Copy", show=False),  # in help and palette: the footer is full
        Binding("backslash", "toggle_wrap", "Wrap", show=False),
        Binding("z", "toggle_expand", "Expand all", show=False),
        Binding("T", "cycle_time", "Time column", show=False),
        Binding("a", "toggle_colours", "App colours", show=False),
        Binding("left", "scroll_sideways(-1)", "Scroll left", show=False),
        Binding("right", "scroll_sideways(1)", "Scroll right", show=False),
        *MARK_BINDINGS,
    ]

    class CursorMoved(Message):
        """The cursor is on store position ``position`` (None when the view is empty)."""

        def __init__(self, position: int | None) -> None:
            super().__init__()
            self.position = position

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RecordList.CursorMoved)

    class FollowChanged(Message):
        """Following switched on or off, or more rows arrived while paused."""

        def __init__(self, following: bool, new_rows: int) -> None:
            super().__init__()
            self.following = following
            self.new_rows = new_rows

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RecordList.FollowChanged)

    class ReachedTop(Message):
        """The user scrolled (or moved the cursor) to the first row: a store that can page
        back may put older records above it."""

    class OpenRecord(Message):
        """The user asked for the detail of ``record`` (at store position ``position``)."""

        def __init__(self, position: int, record: Record) -> None:
            super().__init__()
            self.position = position
            self.record = record

    class WrapChanged(Message):
        """Wrap mode switched: long rows continue on the next lines, the cursor record is whole."""

        def __init__(self, wrap: bool) -> None:
            super().__init__()
            self.wrap = wrap

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.length = 0
        self.positions: np.ndarray | None = None
        self.cursor_row = 0
        self.following = True
        self.new_rows = 0
        self.wrap = False
        #: The store position the cursor stays on while a filter catches up (None: none).
        self._anchor: int | None = None
        self._patterns: list[re.Pattern[str]] = []
        self._cache: LRUCache[RowKey, Strip] = LRUCache(1024)
        #: Screen lines as drawn (cropped, styled), by row key, row, scroll, width and styles.
        self._line_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(256)
        #: The same lines as Textual draws them (see ``_plain_lines``).
        self._drawn_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(256)
        self._render_key = 0
        self._max_width = 0
        self._width_sync_pending = False
        #: Source -> (tag, colour) once rows come from more than one source; empty otherwise.
        self._sources: dict[str, tuple[str, str]] = {}
        self._source_width = 0
        #: Whether rows carry a logger column (``show_loggers``).
        self.shows_loggers = True
        self._wrap_cache: LRUCache[tuple[Any, ...], list[Strip]] = LRUCache(256)
        #: (top row, its lines hidden above the screen): set when the cursor scrolls the view.
        self._wrap_skip = (0, 0)
        self._screen_key: tuple[Any, ...] | None = None
        self._screen: list[WrappedLine] = []
        #: (scroll x, scroll y, width, style) while ``render_lines`` draws, else None.
        self._drawing: tuple[int, int, int, Style] | None = None
        self._init_modes()
        self._init_rows(store)
        self._init_marks()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar (made on first use, as Textual does, but a ``ListScrollBar``)."""
        if self._vertical_scrollbar is None:
            bar = self._vertical_scrollbar = ListScrollBar(
                vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # -- the row <-> position map --------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows in the view (matching records when filtered)."""
        return self.length if self.positions is None else len(self.positions)

    def position_at(self, row: int) -> int:
        """The store position shown on ``row``."""
        return row if self.positions is None else int(self.positions[row])

    def row_of(self, position: int) -> int:
        """The row showing ``position``, or the row of the next shown record after it."""
        if self.positions is None:
            return min(position, max(0, self.length - 1))
        return int(np.searchsorted(self.positions, position))

    @property
    def cursor_position(self) -> int | None:
        """Store position under the cursor, or None when the view is empty."""
        if self.row_count == 0:
            return None
        return self.position_at(min(self.cursor_row, self.row_count - 1))

    def set_length(self, length: int) -> None:
        """The store has ``length`` records now (the unfiltered view grows with it)."""
        before = self.row_count
        self.length = length
        if self.positions is None:
            self._rows_changed(before)
            anchor = self._anchor
            if anchor is not None and not self.following and length > anchor:
                self.new_rows = 0  # (the records of a page back are not new ones)
                self.go_to_row(anchor)
                self.scroll_to(y=anchor, animate=False, immediate=True)  # on top, as it was
                self.post_message(self.FollowChanged(False, 0))

    def keep_record(self, position: int) -> None:
        """After a restart that put older records in front (paging back): the cursor stays
        on its record, now at ``position``, once the store (or the filter) has it."""
        self._anchor = position
        if self.following:
            self.following = False
            self.post_message(self.FollowChanged(False, 0))

    def _tell_if_at_top(self) -> None:
        """The user brought the first row into view: say so (``ReachedTop``)."""
        if self.row_count and not self.following and (self.cursor_row == 0
                                                      or round(self.scroll_y) <= 0):
            self.post_message(self.ReachedTop())

    def _on_scroll_to(self, message: ScrollTo) -> None:
        """The scrollbar dragged or clicked: at the top, ``ReachedTop``."""
        super()._on_scroll_to(message)
        if message.y is not None and message.y <= 0:
            self.call_after_refresh(self._tell_if_at_top)

    def set_positions(self, positions: np.ndarray | None, *, catching_up: bool = False) -> None:
        """Show only ``positions`` (sorted), or everything with None; keeps the cursor record.

        ``catching_up``: a filter is still finding the matches of records that were already
        there: they are not new rows, and a cursor that does not follow stays on its record
        (or the nearest match) while they come in, until the user moves it.
        """
        positions = self._view_rows(positions)  # only the marked ones, after M
        before = self.row_count
        anchor = self._anchor if self._anchor is not None else self.cursor_position
        grew_only = (
            positions is not None
            and self.positions is not None
            and len(positions) >= before
            and (before == 0 or positions[before - 1] == self.positions[before - 1])
        )
        self.positions = positions
        if self.following or (grew_only and not catching_up and self._anchor is None):
            if grew_only:  # new matches at the end: followed, or counted as new
                self._rows_changed(before)
                return
            self.new_rows = 0
            self._rows_changed(self.row_count)
            self._show_cursor()
            self.refresh()
            return
        self._anchor = anchor if catching_up else None
        count = self.row_count
        self.cursor_row = self._nearest_row(anchor) if anchor is not None and count else 0
        self.new_rows = 0
        self.virtual_size = self._virtual_size()
        self._show_cursor()
        self.call_after_refresh(self._show_cursor)  # once the new size is laid out
        self.refresh()
        self.post_message(self.CursorMoved(self.cursor_position))

    def _nearest_row(self, position: int) -> int:
        """The row showing ``position``, else the row of the shown record nearest to it."""
        count = self.row_count
        if self.positions is None:
            return min(position, count - 1)
        after = int(np.searchsorted(self.positions, position))
        if after >= count:
            return count - 1
        if after > 0 and (position - int(self.positions[after - 1])
                          < int(self.positions[after]) - position):
            return after - 1
        return after

    def reset(self) -> None:
        """Forget everything (the store restarted after a truncation)."""
        self._anchor = None
        self.length = 0
        self.positions = None
        self.cursor_row = 0
        self.new_rows = 0
        self._cache.clear()
        self._line_cache.clear()
        self._drawn_cache.clear()
        self._wrap_cache.clear()
        self._forget_rows()
        self._drop_marks()
        self._max_width = 0
        self._render_key += 1
        self._rows_changed(0)
        self.refresh()

    def _rows_changed(self, before: int) -> None:
        count = self.row_count
        settled = self._resize_rows(self._virtual_size())
        if self.following:
            self.cursor_row = max(0, count - 1)
            self._stick_to_end(settled)
            self.post_message(self.CursorMoved(self.cursor_position))
        elif count > before:
            self.new_rows += count - before
            self.post_message(self.FollowChanged(False, self.new_rows))
        self.refresh()

    def _resize_rows(self, size: Size) -> bool:
        """Set the virtual size after rows came or went (every growth of a followed source).

        Assigning ``virtual_size`` makes Textual lay out the whole screen and then draw it a
        second time for the scrollbar the layout moved: two frames per new batch of records.
        When only the number of rows changes, the list's own size cannot change (it fills
        its place), so the scrollbars and the scroll range are updated here and the list is
        drawn once (the caller refreshes it). When a scrollbar appears or goes away, its
        reactive asks for the layout. True when no layout is to come (the scroll range is
        final now).
        """
        if size == self.virtual_size:
            return False  # a layout may be on its way for other reasons: scroll after it too
        if size.width != self.virtual_size.width or not self.is_mounted or not self.size:
            self.virtual_size = size
            return False
        bars = (self.show_horizontal_scrollbar, self.show_vertical_scrollbar)
        self.set_reactive(RecordList.virtual_size, size)
        self._scroll_update(size)  # scrollbars: shown or not, length and position
        return bars == (self.show_horizontal_scrollbar, self.show_vertical_scrollbar)

    def watch_show_horizontal_scrollbar(self, show: bool) -> None:
        """The scrollbar takes a line: keep the newest row above it when following."""
        if self.following:
            self.call_after_refresh(self._scroll_end_if_following)

    def _stick_to_end(self, settled: bool = False) -> None:
        """Scroll to the last row now and, unless the sizes are ``settled``, again after the
        next layout (sizes may lag)."""
        if settled:  # no layout to wait for (and no callbacks queued for after it)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            return
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self._scroll_end_if_following)

    def _scroll_end_if_following(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _virtual_size(self) -> Size:
        """Rows by widest row; in wrap mode no width (no horizontal scroll) and room for the
        last row to be the top one (a scroll offset is a top row there, not a screen line)."""
        if not self.multiline:
            return Size(self._max_width, self.row_count)
        height = max(1, self.scrollable_content_region.height)
        return Size(0, self.row_count + height - 1 if self.row_count else 0)

    # -- rendering ----------------------------------------------------------------------------

    def set_query(self, query: Query | None) -> None:
        """The applied filter: its search terms are highlighted in rows, searches keep to it."""
        self.applied_query = query
        self._patterns = query.highlight_patterns() if query is not None else []
        self.invalidate()

    def set_sources(self, sources: list[str], ranks: dict[str, int] | None = None) -> None:
        """The distinct sources seen: more than one adds a source column.

        A source's colour is that of its rank (``ranks[source]``, else its place in
        ``sources``); keep ranks fixed so that colours never change while the view is open.
        """
        if len(sources) < 2:
            if self._sources:
                self._sources = {}
                self.invalidate()
            return
        if len(sources) == len(self._sources) and all(s in self._sources for s in sources):
            return
        tags = source_tags(sources)
        ranks = ranks or {}
        self._sources = {
            source: (tags[source], source_color(ranks.get(source, index)))
            for index, source in enumerate(sources)
        }
        self._source_width = max(len(tag) for tag in tags.values())
        self.invalidate()

    @property
    def shows_sources(self) -> bool:
        """Whether rows carry a source column (records come from several sources)."""
        return bool(self._sources)

    def show_loggers(self, shown: bool) -> None:
        """Give rows a logger column or not (the screen says whether a record names one)."""
        if shown != self.shows_loggers:
            self.shows_loggers = shown
            self.invalidate()

    def source_width(self, wide: bool) -> int:
        """Cells of the source column (0 when it is not shown)."""
        if not self._sources:
            return 0
        return min(self._source_width, SOURCE_WIDTH[wide])

    def invalidate(self) -> None:
        """Re-render every row (theme, highlight or layout changed)."""
        self._render_key += 1
        self._cache.clear()
        self._line_cache.clear()
        self._drawn_cache.clear()
        self._wrap_cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.invalidate()

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _theme: self.invalidate(), init=False)
        self._start_rows()

    def on_resize(self) -> None:
        self.invalidate()
        if self.multiline:
            self.virtual_size = self._virtual_size()
        if self.following:
            self._stick_to_end()
        else:  # a smaller screen must not leave the cursor below it
            self.call_after_refresh(self._show_cursor)

    def _rows_on_screen(self) -> int:
        """How many rows the screen shows (a page in wrap mode)."""
        if not self.multiline:
            return max(1, self.size.height)
        return max(1, len({line.row for line in self._wrap_screen()}))

    # -- cursor and following -----------------------------------------------------------------

    def go_to_row(self, row: int, *, follow: bool | None = None, context: int = 0) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view (with ``context`` rows
        around it, see ``_show_cursor``)."""
        self._anchor = None  # the user chose a row: a running filter no longer moves it
        count = self.row_count
        self.cursor_row = max(0, min(row, count - 1)) if count else 0
        if follow is not None and follow != self.following:
            self.following = follow
            if follow:
                self.new_rows = 0
            self.post_message(self.FollowChanged(follow, self.new_rows))
        self._show_cursor(context)
        self.refresh()
        self.post_message(self.CursorMoved(self.cursor_position))

    def _show_cursor(self, context: int = 0) -> None:
        """Scroll the cursor row into view, with ``context`` rows around it where there is
        room (a search hit keeps a few rows after it in sight, like less's and vim's scrolloff)."""
        if self.multiline and not self.following:
            self._show_cursor_wrapped()
            return
        height = max(1, self.scrollable_content_region.height)
        context = min(context, (height - 1) // 2)
        top = round(self.scroll_y)
        row = self.cursor_row
        if self.following:
            self._stick_to_end()
        elif row < top + context:
            self.scroll_to(y=max(0, row - context), animate=False, immediate=True)
        elif row >= top + height - context:
            self.scroll_to(y=row - height + 1 + context, animate=False, immediate=True)

    def _show_cursor_wrapped(self) -> None:
        """Scroll by whole rows until the cursor record is on screen from its first line."""
        height = max(1, self.scrollable_content_region.height)
        row = self.cursor_row
        screen = self._wrap_screen()
        shown = [line for line in screen if line.row == row]
        # Placeholders are one line: scroll again once the records are in (``on_rows_ready``).
        first = min(row, screen[0].row) if screen else row
        self._reshow_cursor = not self._fetched(first, row)
        if shown and shown[0].index == 0 and (
            shown[-1].index == shown[-1].lines - 1 or len(shown) >= height
        ):
            return
        if not screen or row < screen[0].row or shown and shown[0].index > 0:
            top, skip = row, 0
        else:
            top, skip = top_ending_at(lambda r: len(self._record_lines(r)), row, height)
            self._reshow_cursor = not self._fetched(top, row)
        self._wrap_skip = (top, skip)
        self.scroll_to(y=top, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.go_to_row(self.cursor_row - 1, follow=False)
        self._tell_if_at_top()

    def action_cursor_down(self) -> None:
        self.go_to_row(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.go_to_row(self.cursor_row - max(1, self._rows_on_screen() - 1), follow=False)
        self._tell_if_at_top()

    def action_page_down(self) -> None:
        self.go_to_row(self.cursor_row + max(1, self._rows_on_screen() - 1))

    def action_first(self) -> None:
        self.go_to_row(0, follow=False)
        self._tell_if_at_top()

    def action_last(self) -> None:
        self.go_to_row(self.row_count - 1, follow=True)

    def action_scroll_sideways(self, direction: int) -> None:
        """Scroll the logger and message a quarter of their width left or right (the time,
        level and source columns stay, see ``RowPainting._scrolled``)."""
        if self.multiline or self.max_scroll_x <= 0:
            raise SkipAction()
        room = self.size.width - self.fixed_width(self.size.width >= WIDE)
        self.scroll_to(x=self.scroll_x + direction * max(4, room // 4), animate=False,
                       immediate=True)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        self._reshow_cursor = False
        self.call_after_refresh(self._tell_if_at_top)
        if self.following:
            self.following = False
            self.post_message(self.FollowChanged(False, self.new_rows))

    def on_click(self, event: Click) -> None:
        if self.multiline:
            screen = self._wrap_screen()
            row = screen[event.y].row if 0 <= event.y < len(screen) else self.row_count
        else:
            row = round(self.scroll_y) + event.y
        if row < self.row_count:
            self.go_to_row(row, follow=False if row < self.row_count - 1 else None)

    def action_open(self) -> None:
        position = self.cursor_position
        if position is not None:
            self.with_record(position, lambda record: self.post_message(
                self.OpenRecord(position, record)), "open")

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.scroll_to(x=0, animate=False, immediate=True)
        self.virtual_size = self._virtual_size()
        self._wrap_skip = (0, 0)
        self._show_cursor()
        self.post_message(self.WrapChanged(self.wrap))
        self.refresh()
