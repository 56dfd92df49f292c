"""The whole of one record: header, full message, coloured traceback, fields as JSON, raw text.

``RecordDetail`` is the scrollable body (embeddable anywhere); ``DetailScreen`` shows it as a
modal screen. Usage from the core::

    self.app.push_screen(DetailScreen(record))

Keys on the screen: Escape / q close, c copies the record's raw text to the clipboard (OSC 52,
so it works over SSH), arrows / PgUp / PgDn / Home / End / j / k / g / G scroll.

Every piece of log text goes through ``logview.record.printable`` and is built as Rich ``Text``
(never markup), so a record cannot style the screen or reach the terminal as escape codes.
"""

from __future__ import annotations

from typing import ClassVar

import orjson
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from logview.record import CRITICAL, DEBUG, ERROR, INFO, WARNING, Record, printable
from logview.tui.highlight import highlight_json, highlight_traceback
from logview.tui.sgr import colour_lines
from logview.tui.widgets.status_bar import count_of

#: Longest text shown per section; the rest is cut (with a note) so a 50 MB record stays usable.
MAX_SECTION_CHARS = 100_000

#: Level badge styles (fixed colours that read on dark and light themes), worst first.
_BADGES = (
    (CRITICAL, "bold white on #b00020"),
    (ERROR, "bold white on #d32f2f"),
    (WARNING, "bold black on #f9a825"),
    (INFO, "bold black on #66bb6a"),
    (DEBUG, "bold white on #1e88e5"),
    (1, "bold white on #607d8b"),
)


def level_badge(record: Record) -> Text:
    """The record's level as a coloured badge (``" ERROR "``), or an empty Text."""
    if not record.level and not record.levelno:
        return Text()
    name = printable(record.level or f"LEVEL {record.levelno}")[:20]
    style = next((s for no, s in _BADGES if record.levelno >= no), "reverse")
    return Text(f" {name} ", style=style)


def _clip(text: str) -> str:
    """``text`` cut to ``MAX_SECTION_CHARS`` with a note saying how much was left out."""
    if len(text) <= MAX_SECTION_CHARS:
        return text
    rest = len(text) - MAX_SECTION_CHARS
    return f"{text[:MAX_SECTION_CHARS]}\n… {rest:,} more characters (press c to copy all)"


def fields_json(fields: dict) -> str:
    """The record's extra fields as indented JSON; values JSON cannot hold are shown as repr."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    try:
        return orjson.dumps(fields, option=option, default=repr).decode()
    except (TypeError, ValueError):  # orjson.JSONEncodeError: huge ints, deep nesting
        safe = {str(key): repr(value) for key, value in fields.items()}
        return orjson.dumps(safe, option=orjson.OPT_INDENT_2).decode()


def record_text(record: Record) -> str:
    """The text ``c`` copies: the record's original text, or its parts when it has none."""
    if record.raw:
        return record.raw
    text = record.message
    if record.exc:
        text += "\n" + record.exc
    return text


def message_text(record: Record, colours: bool) -> Text:
    """The whole message, printable; with ``colours``, coloured as the application wrote it
    (ANSI SGR read back from the raw text, see ``logview.tui.sgr``)."""
    message = _clip(record.message)
    if not colours or not record.raw:
        return Text(printable(message))
    lines = message.split("\n")
    coloured = colour_lines(record.raw, lines)
    if coloured is None:
        return Text(printable(message))
    out = Text()
    for index, (line, text) in enumerate(zip(lines, coloured, strict=True)):
        if index:
            out.append("\n")
        out.append_text(text if text is not None else Text(printable(line)))
    return out


def header_text(record: Record) -> Text:
    """Time (full), level badge, logger and source:line on one line."""
    out = Text()
    if record.time is not None:
        spec = "milliseconds" if record.time.microsecond % 1000 == 0 else "auto"
        out.append(record.time.isoformat(sep=" ", timespec=spec), "bold")
    elif record.time_text:
        out.append(printable(record.time_text), "bold")
    badge = level_badge(record)
    if badge:
        out.append("  ")
        out.append_text(badge)
    if record.logger:
        out.append("  ")
        out.append(printable(record.logger), "bold italic")
    where = printable(record.source)
    if record.line is not None:
        where = f"{where}:{record.line}" if where else f"line {record.line}"
    if where:
        out.append("  ")
        out.append(where, "dim")
    return out


class RecordDetail(VerticalScroll):
    """Scrollable view of one record's parts; rebuilt in place when the theme changes."""

    DEFAULT_CSS = """
    RecordDetail { height: 1fr; padding: 0 1; }
    RecordDetail .detail--title { color: $text-muted; text-style: bold; margin-top: 1; }
    RecordDetail .detail--header { margin-bottom: 0; }
    RecordDetail .detail--raw { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, record: Record, *, colours: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.record = record
        #: Show the colours the application wrote into the message (ANSI SGR).
        self.colours = colours
        self.can_focus = True

    def compose(self) -> ComposeResult:
        record = self.record
        dark = self._dark()
        yield Static(header_text(record), classes="detail--header", markup=False)
        yield Static("Message", classes="detail--title", markup=False)
        yield Static(message_text(record, self.colours), id="detail-message", markup=False)
        if record.exc:
            yield Static("Exception", classes="detail--title", markup=False)
            yield Static(highlight_traceback(_clip(record.exc), dark=dark), id="detail-exc",
                         markup=False)
        if record.fields:
            yield Static("Fields", classes="detail--title", markup=False)
            yield Static(highlight_json(_clip(fields_json(record.fields)), dark=dark),
                         id="detail-fields", markup=False)
        if record.raw:
            yield Static("Raw", classes="detail--title", markup=False)
            yield Static(Text(_clip(printable(record.raw))), id="detail-raw",
                         classes="detail--raw", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._recolour, init=False)

    def _dark(self) -> bool:
        return self.app.current_theme.dark

    def _recolour(self) -> None:
        """Re-highlight the coloured sections for the new theme's background."""
        dark = self._dark()
        if self.record.exc:
            self.query_one("#detail-exc", Static).update(
                highlight_traceback(_clip(self.record.exc), dark=dark))
        if self.record.fields:
            self.query_one("#detail-fields", Static).update(
                highlight_json(_clip(fields_json(self.record.fields)), dark=dark))


class DetailScreen(ModalScreen[None]):
    """Modal screen with the whole record; Escape or q closes, c copies the raw text."""

    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    DetailScreen > #detail-frame {
        width: 94%; height: 90%;
        border: round $primary; border-title-align: left;
        border-subtitle-align: right; background: $surface;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("c", "copy", "Copy raw"),
    ]

    def __init__(self, record: Record, *, colours: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.record = record
        self.colours = colours

    def compose(self) -> ComposeResult:
        frame = Vertical(id="detail-frame")
        frame.border_title = "Record"
        frame.border_subtitle = "c copy · Esc close"
        with frame:
            yield RecordDetail(self.record, colours=self.colours, id="detail")

    def on_mount(self) -> None:
        self.query_one(RecordDetail).focus()

    def action_close(self) -> None:
        """Close the screen."""
        self.dismiss(None)

    def action_copy(self) -> None:
        """Copy the record's raw text to the system clipboard (OSC 52) and say so."""
        text = record_text(self.record)
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        self.notify(f"Copied {count_of(len(text), 'character')} ({count_of(lines, 'line')})",
                    title="Clipboard")
