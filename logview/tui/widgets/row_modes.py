"""The record list's view modes (a mixin of ``RecordList``): every record expanded in place
(``z``), what the time column shows (``T``), the application's own colours in messages (``a``),
and the texts of a record's lines that depend on them.

Expanding every record builds on wrap mode's layout (``wrap_layout``): a row takes as many
screen lines as it has lines, and only the rows on screen are laid out. Without wrap (``\\``)
each of a record's lines takes one screen line, cut at the width; with it they wrap.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.message import Message

from logview.printer import field_pairs, structured
from logview.record import Record, printable
from logview.tui.elapsed import (
    CLOCK,
    MODE_LABELS,
    SINCE_ANCHOR,
    SINCE_PREVIOUS,
    format_elapsed,
    next_time_mode,
)
from logview.tui.sgr import colour_lines
from logview.tui.widgets.row_text import format_time

#: Characters of a traceback coloured at once (its first ``MAX_WRAPPED_LINES`` lines at most).
MAX_EXC_CHARS = 50_000
#: Characters of a JSON record's fields shown in its row at most (Enter shows them all).
MAX_FIELD_CHARS = 2000


class RowModes:
    """State and actions of the view modes; the list's other mixins ask it for texts."""

    class ModesChanged(Message):
        """A view mode changed (expanded, time column, colours): the status line says it."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RowModes.ModesChanged)

    def _init_modes(self) -> None:
        #: Every record shows all its lines (``z``).
        self.expand_all = False
        #: What the time column shows: ``elapsed.CLOCK``, ``SINCE_PREVIOUS``, ``SINCE_ANCHOR``.
        self.time_mode = CLOCK
        #: The anchor record's timestamp (``SINCE_ANCHOR``).
        self.time_anchor: float | None = None
        #: Colours written by the application (ANSI SGR) shown in messages (``a``).
        self.app_colours = True

    @property
    def multiline(self) -> bool:
        """Whether rows may take several screen lines (wrap mode or every record expanded)."""
        return self.wrap or self.expand_all

    @property
    def modes_label(self) -> str:
        """The modes that are on, for the status line ("" when none is)."""
        parts = [MODE_LABELS[self.time_mode]]
        if self.expand_all:
            parts.append("expanded")
        if not self.app_colours:
            parts.append("colours off")
        return " · ".join(part for part in parts if part)

    # -- actions ------------------------------------------------------------------------------

    def action_toggle_expand(self) -> None:
        """Show every record whole in place (tracebacks inline), or one row per record."""
        self.expand_all = not self.expand_all
        self._relayout()

    def action_cycle_time(self) -> None:
        """Time column: clock, since the previous record, from the cursor's record, clock."""
        mode = next_time_mode(self.time_mode)
        if mode == SINCE_ANCHOR:
            position = self.cursor_position
            record = None if position is None else self.rows.peek(self._generation, position)
            stamp = record.timestamp if isinstance(record, Record) else None
            if stamp is None:
                self.notify("The cursor's record has no time to measure from",
                            severity="warning", timeout=3)
                mode = CLOCK
            self.time_anchor = stamp
        self.time_mode = mode
        self.invalidate()
        self.post_message(self.ModesChanged())

    def action_toggle_colours(self) -> None:
        """Show the colours the application wrote into its messages, or plain text."""
        self.app_colours = not self.app_colours
        self.invalidate()
        self.post_message(self.ModesChanged())

    def _relayout(self) -> None:
        """The rows' heights changed: lay the screen out again around the cursor."""
        self.scroll_to(x=0, animate=False, immediate=True)
        self.virtual_size = self._virtual_size()
        self._wrap_skip = (0, 0)
        self.invalidate()
        self._show_cursor()
        self.call_after_refresh(self._show_cursor)  # once the new size is laid out
        self.post_message(self.ModesChanged())

    # -- texts --------------------------------------------------------------------------------

    def _previous_stamp(self, row: int | None) -> float | None:
        """The time of the record shown above ``row`` (None: none, no time, or not fetched)."""
        if row is None or row <= 0 or row > self.row_count:
            return None
        record = self.rows.peek(self._generation, self.position_at(row - 1))
        return record.timestamp if isinstance(record, Record) else None

    def _time_key(self, row: int | None) -> float | None:
        """What a row's text depends on beyond its own record (the previous record's time)."""
        return self._previous_stamp(row) if self.time_mode == SINCE_PREVIOUS else None

    def _time_text(self, record: Record, wide: bool, row: int | None) -> str:
        """The time column of ``record`` shown on ``row``, in the current mode."""
        if self.time_mode == CLOCK:
            return format_time(record, wide)
        width = 23 if wide else 12
        stamp = record.timestamp
        base = self.time_anchor if self.time_mode == SINCE_ANCHOR else self._previous_stamp(row)
        if stamp is None or base is None:
            return " " * width
        return format_elapsed(stamp - base)[:width].rjust(width)

    def _message_lines(self, record: Record, limit: int) -> list[Text]:
        """The first ``limit`` lines of the message, printable, tabs expanded, coloured as the
        application wrote them when colours are on, search terms highlighted."""
        lines = record.message.split("\n", limit)[:limit]
        coloured = colour_lines(record.raw, lines) if self.app_colours and record.raw else None
        out = []
        for index, line in enumerate(lines):
            text = coloured[index] if coloured is not None else None
            if text is None:
                text = Text(printable(line.expandtabs(8)), no_wrap=True, end="")
            else:
                text.expand_tabs(8)
            # (fields after a JSON record's message, or in place of a text one's that has
            # none: a logfmt line without ``msg``, Heroku's router lines)
            if index == 0 and record.fields and (structured(record) or not record.message):
                self._add_fields(text, record.fields)
            out.append(self._highlight_terms(text))
        return out

    def _add_fields(self, text: Text, fields: dict[str, Any]) -> None:
        """A JSON record's fields after its message's first line, as ``--print`` writes them
        (``key=value``; the attributes every record carries left out), up to
        ``MAX_FIELD_CHARS``."""
        key_style = self._column_style("record-list--field")
        room = MAX_FIELD_CHARS
        space = " " if text.plain else ""  # (no message: the fields open the column)
        for key, value in field_pairs(fields):
            if room <= 0:
                text.append(" …", key_style)
                break
            key = printable(key[:room])
            value = printable(value[: max(0, room - len(key))].replace("\n", " "))
            text.append(f"{space}{key}=", key_style)
            space = " "
            text.append(value)
            room -= len(key) + len(value) + 2

    def _exc_lines(self, record: Record, limit: int) -> list[Text]:
        """The first ``limit`` lines of the traceback, coloured as the detail view does."""
        if not record.exc or limit <= 0:
            return []
        # Imported here: it brings pygments, which start-up does not need (~10 ms).
        from logview.tui.highlight import highlight_traceback

        head = "\n".join(record.exc.rstrip("\n").split("\n", limit)[:limit])[:MAX_EXC_CHARS]
        coloured = highlight_traceback(head, dark=self.app.current_theme.dark)
        out = []
        for text in coloured.split("\n", allow_blank=True):
            text.no_wrap, text.end = True, ""
            text.expand_tabs(8)
            out.append(self._highlight_terms(text))
        return out[:limit]

    def _highlight_terms(self, text: Text) -> Text:
        """``text`` with the filter's search terms highlighted, and the find's hits over them."""
        plain = text.plain
        if not plain:
            return text
        for patterns, style in ((self._patterns, "record-list--match"),
                                (self._find_patterns, "record-list--find")):
            if not patterns:
                continue
            rich_style = self.get_component_rich_style(style)
            for pattern in patterns:
                for hit in pattern.finditer(plain):
                    if hit.end() > hit.start():
                        text.stylize(rich_style, hit.start(), hit.end())
        return text

    # Provided by RecordList (and Textual's widget).
    wrap: bool
    rows: Any
    app: Any
    row_count: int
    cursor_position: int | None
    _generation: int
    _patterns: list[Any]
    _find_patterns: tuple[Any, ...]
    _wrap_skip: tuple[int, int]
    position_at: Any
    invalidate: Any
    notify: Any
    post_message: Any
    scroll_to: Any
    call_after_refresh: Any
    get_component_rich_style: Any
    _virtual_size: Any
    _show_cursor: Any
    virtual_size: Any
