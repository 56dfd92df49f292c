"""How the record list draws its lines: every line of one drawing at once when it can
(reusing the strips of rows that only moved), one by one through Textual otherwise; the cached
strip of each row, and the wrapped lines of wrap mode (a mixin of ``RecordList``)."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip

from logview.tui.widgets.row_text import WIDE
from logview.tui.widgets.wrap_layout import (
    WrappedLine,
    layout_bottom_up,
    layout_rows,
)

#: A row's strip: (position, store generation, render key, wide, placeholder, what its time
#: column depends on beyond its record: see ``RowModes._time_key``).
RowKey = tuple[int, int, int, bool, bool, float | None]


class RowPainting:
    """The drawing half of ``RecordList`` (its attributes are the list's)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        # What is the same for every line of one drawing is worked out once, not per line:
        # the widget's style (Textual derives it from the CSS of every ancestor and forgets it
        # at each refresh), the size and scroll, and whether the screen moved.
        self._check_screen()  # the screen moved: fetch the rows it shows and those around
        scroll_x, scroll_y = self.scroll_offset
        self._drawing = (scroll_x, scroll_y, self.size.width, self.rich_style)
        try:
            lines = self._plain_lines(crop)
            return super().render_lines(crop) if lines is None else lines
        finally:
            self._drawing = None

    def _plain_lines(self, crop: Region) -> list[Strip] | None:
        """The lines as Textual's styles cache makes them, when the list has no border,
        padding, outline, tint, hatch or opacity (as this app's CSS has it); else None.

        The styles cache makes every line anew at each drawing, and a followed list scrolls
        at each growth: every line is drawn again. Here a line that did not change (most of
        them: it only moved up) is the very strip made for the frame before, filters applied.
        ``tests/tui/test_idle_frames.py`` checks that both ways give the same lines.
        """
        styles = self.styles
        if (self.BLANK or any(styles.gutter) or any(edge for edge, _ in styles.outline)
                or styles.text_opacity != 1.0 or styles.tint.a
                or (styles.has_rule("hatch") and styles.hatch != "none")
                or self.opacity != 1.0 or self.hover_style._link_id):
            return None
        width = self.region.width
        content_width, content_height = self.size
        base_background, background = self.background_colors
        inner = self._styles_cache.get_inner_outer(base_background, background)[0].rich_style
        filters = tuple(self.get_line_filters())
        lines = []
        for y in crop.line_range:
            key, line = (self._line(y) if y < content_height
                         else (None, Strip.blank(content_width, inner)))
            drawn_key = (None if key is None
                         else (key, width, content_width, inner, background, filters))
            drawn = None if drawn_key is None else self._drawn_cache.get(drawn_key)
            if drawn is None:
                drawn = Strip(line.adjust_cell_length(content_width, inner), width)
                for line_filter in filters:
                    drawn = drawn.apply_filter(line_filter, background)
                if drawn_key is not None:
                    self._drawn_cache[drawn_key] = drawn
            lines.append(drawn)
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            lines = [line.crop(x1, x2) for line in lines]
        return lines

    def render_line(self, y: int) -> Strip:
        return self._line(y)[1]

    def _line(self, y: int) -> tuple[tuple[Any, ...] | None, Strip]:
        """Line ``y`` of the list, and a key naming what it shows (None: not cached)."""
        drawing = self._drawing
        if drawing is None:  # called on its own (not from render_lines)
            self._check_screen()
            scroll_x, scroll_y = self.scroll_offset
            drawing = (scroll_x, scroll_y, self.size.width, self.rich_style)
        scroll_x, scroll_y, width, base = drawing
        row = scroll_y + y
        if self.multiline:
            return None, self._render_wrapped_line(y, width, base)
        if row >= self.row_count:
            return None, Strip.blank(width, base)
        position = self.position_at(row)
        wide = width >= WIDE
        cursor = (self.get_component_rich_style("record-list--cursor")
                  if row == self.cursor_row else None)
        # A followed list scrolls by a row or so per frame: every line is drawn again, mostly
        # as it was in the frame before (a line is its row at this scroll, width and styles).
        # A line drawn from its record needs nothing else (not even the record).
        time_key = self._time_key(row)
        marked = self.is_marked(position)
        key = ((position, self._generation, self._render_key, wide, False, time_key), row,
               scroll_x, width, cursor, base, marked)
        line = self._line_cache.get(key)
        if line is not None:
            return key, line
        row_key, strip = self._row_strip(position, wide, row, time_key)
        key = (row_key, row, scroll_x, width, cursor, base, marked)
        line = self._line_cache.get(key)
        if line is None:
            line = self._scrolled(strip, scroll_x, width, wide)
            if cursor is not None:
                line = line.apply_style(cursor)
            if marked:
                line = self._with_mark(line)
            line = line.apply_style(base).apply_offsets(scroll_x, row)
            self._line_cache[key] = line
        return key, line

    def _scrolled(self, strip: Strip, scroll_x: int, width: int, wide: bool) -> Strip:
        """The ``width`` cells of a row scrolled ``scroll_x`` cells sideways: the time, level
        and source columns stay in place, the logger and the message move under them."""
        fixed = self.fixed_width(wide)
        if scroll_x <= 0 or fixed >= width:
            return strip.crop_extend(scroll_x, scroll_x + width, None)
        return Strip.join([strip.crop_extend(0, fixed, None),
                           strip.crop_extend(fixed + scroll_x, scroll_x + width, None)])

    def _row_strip(self, position: int, wide: bool, row: int | None = None,
                   time_key: float | None = None) -> tuple[RowKey, Strip]:
        """The row of ``position`` (uncropped, unstyled by the cursor) and its cache key."""
        record = self._record(position)
        key = (position, self._generation, self._render_key, wide, record is None, time_key)
        cached = self._cache.get(key)
        if cached is not None:
            return key, cached
        text = (self._placeholder(wide) if record is None
                else self._row_text(record, wide, row))
        length = text.cell_len
        strip = Strip(text.render(self.app.console), length)
        self._cache[key] = strip
        if record is not None and length > self._max_width:
            self._max_width = length
            if not self._width_sync_pending:
                self._width_sync_pending = True
                self.call_later(self._sync_width)
        return key, strip

    def _sync_width(self) -> None:
        self._width_sync_pending = False
        self.virtual_size = self._virtual_size()
        if self.following:  # a horizontal scrollbar may have appeared and hidden the last row
            self._stick_to_end()

    # -- wrap mode ----------------------------------------------------------------------------

    def _render_wrapped_line(self, y: int, width: int, base: Any) -> Strip:
        screen = self._wrap_screen()
        if y >= len(screen):
            return Strip.blank(width, base)
        line = screen[y]
        strip = line.strip.crop_extend(0, width, None)
        if line.row == self.cursor_row:
            strip = strip.apply_style(self.get_component_rich_style("record-list--cursor"))
        if self.is_marked(self.position_at(line.row)):
            strip = self._with_mark(strip)
        return strip.apply_style(base).apply_offsets(0, line.row)

    def _wrap_screen(self) -> list[WrappedLine]:
        """The screen's lines in wrap mode, laid out again only when something moved."""
        height = self.scrollable_content_region.height
        top = round(self.scroll_y)
        skip = self._wrap_skip[1] if self._wrap_skip[0] == top else 0
        key = (top, skip, self.size.width, height, self.row_count, self.cursor_row,
               self.following, self._render_key, self._generation, id(self.positions),
               self._rows_version, self.wrap, self.expand_all)
        if key != self._screen_key:
            if self.following:
                screen = layout_bottom_up(self._record_lines, self.row_count - 1, height)
            else:
                screen = layout_rows(self._record_lines, self.row_count, height, top, skip)
            self._screen_key, self._screen = key, screen
        return self._screen

    def _record_lines(self, row: int) -> list[Strip]:
        """The screen lines of ``row`` wrapped at the width (the whole record on the cursor,
        or on every row when every record is expanded)."""
        position = self.position_at(row)
        width = max(1, self.size.width)
        expanded = self.expand_all or row == self.cursor_row
        record = self._record(position)
        key = (position, self._generation, self._render_key, width, expanded, record is None,
               self.wrap, self._time_key(row))
        lines = self._wrap_cache.get(key)
        if lines is None:
            console = self.app.console
            if record is None:
                texts = [self._placeholder(width >= WIDE)]
            else:
                texts = self._wrapped_texts(record, width, expanded, row)
            lines = [Strip(text.render(console), text.cell_len) for text in texts]
            self._wrap_cache[key] = lines
        return lines
