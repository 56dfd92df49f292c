"""The text of a record's row: time, level, source and logger columns, then the message with
the query's terms highlighted (and the find's); whole and wrapped (mixed into ``RecordList``)."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text

from logview.record import Record, printable
from logview.tui.rows import Unavailable
from logview.tui.source_tags import fit_tag
from logview.tui.theme import BADGE_WIDTH, level_badge, level_style
from logview.tui.widgets.wrap_layout import wrap_record

#: Terminal width from which rows show the date and a wider logger column.
WIDE = 120
#: Widest source tag column (narrow, wide terminal).
SOURCE_WIDTH = (10, 16)
#: Most screen lines one record takes in wrap mode (Enter shows the rest in the detail).
MAX_WRAPPED_LINES = 200


def format_time(record: Record, wide: bool) -> str:
    """``HH:MM:SS.mmm`` (with the date on wide terminals), the raw time text, or blanks."""
    width = 23 if wide else 12
    moment = record.time
    if moment is not None:
        clock = f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"
        text = f"{moment:%Y-%m-%d} {clock}" if wide else clock
    elif record.time_text:
        text = printable(record.time_text).replace("\n", " ")
    else:
        text = ""
    return text[:width].ljust(width)


def first_line(text: str) -> str:
    """The first line of ``text``, safe for a terminal, tabs expanded to tab stops (every 8
    columns from the start of the message, as a terminal and less show them)."""
    line = text.split("\n", 1)[0]
    return printable(line.expandtabs(8))


def fit_logger(name: str, width: int) -> str:
    """A dotted logger name in ``width`` cells: leading parts shortened to their first letter
    (``urllib3.connectionpool`` -> ``u.connectionpool``) until it fits, then cut from the left."""
    if len(name) <= width:
        return name
    parts = name.split(".")
    for k in range(len(parts) - 1):
        parts[k] = parts[k][:1]
        short = ".".join(parts)
        if len(short) <= width:
            return short
    short = ".".join(parts)
    return short if len(short) <= width else "…" + short[-(width - 1):]


class RowText:
    """Row texts for ``RecordList`` (uses its component styles, sources and search terms)."""

    def _column_style(self, name: str) -> Style:
        """A component's text style without its background, so that the cursor's background
        (put under the whole row) shows through every column."""
        style = self.get_component_rich_style(name)
        return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic)

    def _placeholder(self, wide: bool) -> Text:
        """A row whose record is not fetched yet: dim, as wide as the columns."""
        return Text("…".ljust(self.columns_width(wide) - 1), style="dim", no_wrap=True, end="")

    def _wrapped_texts(self, record: Record | Unavailable, width: int, expanded: bool,
                       row: int | None = None) -> list[Text]:
        """A record's screen lines: its first line, or (``expanded``) all of its lines, the
        traceback coloured; wrapped at ``width`` in wrap mode, else each cut at it."""
        if isinstance(record, Unavailable):  # the store restarted under us: show, don't crash
            return [Text(record.text, style="dim", end="")]
        marker = self._column_style("record-list--marker")
        if expanded:
            messages = self._message_lines(record, MAX_WRAPPED_LINES)
            messages += self._exc_lines(record, MAX_WRAPPED_LINES - len(messages))
        else:
            messages = self._message_lines(record, 1)
            if record.extra_lines:
                messages[0].append(f" +{record.extra_lines}", marker)
        hidden = record.extra_lines + 1 - len(messages) if expanded else 0
        return wrap_record(self._columns_text(record, width >= WIDE, row), messages, width,
                           MAX_WRAPPED_LINES, hidden, marker, cut=not self.wrap)

    def _row_text(self, record: Record | Unavailable, wide: bool, row: int | None = None) -> Text:
        if isinstance(record, Unavailable):  # the store restarted under us: show, don't crash
            return Text(record.text, style="dim")
        text = self._columns_text(record, wide, row)
        text.append_text(self._message_lines(record, 1)[0])
        extra = record.extra_lines
        if extra:
            text.append(f" +{extra}", self._column_style("record-list--marker"))
        return text

    def _columns_text(self, record: Record, wide: bool, row: int | None = None) -> Text:
        """Time, level, source and logger columns with the space before the message."""
        logger_width = self.logger_width(wide)
        text = Text(no_wrap=True, end="")
        text.append(self._time_text(record, wide, row), self._column_style("record-list--time"))
        text.append(" ")
        text.append(level_badge(record.level),
                    level_style(record.levelno, self.app.current_theme, plain=self.app.no_color))
        text.append(" ")
        if self._sources:
            tag, color = self._sources.get(record.source) or (
                printable(record.source).replace("\n", " ") or "-", "")
            text.append(fit_tag(tag, self.source_width(wide)), color or None)
            text.append(" ")
        if logger_width:
            logger = fit_logger(printable(record.logger).replace("\n", " "), logger_width)
            text.append(logger.ljust(logger_width), self._column_style("record-list--logger"))
            text.append(" ")
        return text

    def logger_width(self, wide: bool) -> int:
        """Cells of the logger column: none once the records are counted and none of them
        names a logger (celery's or gunicorn's default format: blank cells otherwise)."""
        return (24 if wide else 14) if self.shows_loggers else 0

    def fixed_width(self, wide: bool) -> int:
        """Cells of the columns that stay in place when rows scroll sideways (time, level,
        source): the logger and the message scroll."""
        source = self.source_width(wide)
        return (23 if wide else 12) + 1 + BADGE_WIDTH + 1 + (source + 1 if source else 0)

    def columns_width(self, wide: bool) -> int:
        """Cells before the message column."""
        logger = self.logger_width(wide)
        return self.fixed_width(wide) + (logger + 1 if logger else 0)

    # Provided by RecordList (and Textual's widget).
    app: Any
    _sources: dict[str, tuple[str, str]]
    get_component_rich_style: Any
    source_width: Any
    shows_loggers: bool
    wrap: bool
    _message_lines: Any
    _exc_lines: Any
    _time_text: Any
