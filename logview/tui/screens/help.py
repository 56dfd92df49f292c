"""The help screen: every key of the viewer, the query language cheat-sheet, and what format
each source was read as.

Usage from the app: ``self.push_screen(HelpScreen(formats=source_formats(store)))``. Escape, q
or ? closes it. The key list is ``KEY_HELP`` (sections of (keys, what they do)); keep it in
step with the bindings.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from logview.query import QUERY_HELP
from logview.record import printable
from logview.store import Store, forced_mismatch

#: Sections of (keys, description), in the order shown.
KEY_HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Moving", (
        ("↑ ↓  k j", "previous / next record"),
        ("PgUp PgDn", "page up / down"),
        ("Home g", "first record (clickhouse://: at the first, the older rows)"),
        ("End G", "last record, and follow new ones (like tail -f)"),
        ("e E", "next / previous ERROR or worse"),
        ("w W", "next / previous WARNING or worse"),
        ("n N", "next / previous hit of the find (wraps; no find: the filter's words)"),
        (":", "go to a record number (1234), a time (10:32), -5m, 2024-05-01T10:32"),
    )),
    ("Finding and filtering", (
        ("/", "find: search, keep every record shown (as in less; empty: clear)"),
        ("&", "filter: show only what the query matches (as less's &pattern)"),
        ("", "in the bar: Enter applies, Escape leaves, ↑ ↓ history"),
        ("1 2 3 4 5", "minimum level DEBUG / INFO / WARNING / ERROR / CRITICAL"),
        ("0", "all levels"),
        ("Escape", "stop a running filter"),
        ("t", "logger tree: Enter shows a logger alone, x or - hides one (they add up)"),
        ("F", "filter list: space switches a term off / on, d deletes, Enter edits"),
    )),
    ("Layout", (
        ("h", "show / hide the time histogram"),
        ("Tab", "focus the next panel (records, histogram, logger tree)"),
        ("← → Enter", "in the histogram: pick a time bucket, jump to its first record"),
        ("space", "in the histogram: a time range from one end to the other (or drag)"),
    )),
    ("Records", (
        ("Enter", "record detail: traceback, fields, raw text"),
        ("c", "copy the record's raw text (OSC 52, works over SSH)"),
        ("\\", "wrap long rows onto more lines (cursor record whole) or cut them"),
        ("z", "expand every record in place (all its lines, traceback coloured) or not"),
        ("T", "time column: clock, time since the previous record, time from the cursor's"),
        ("a", "show / strip the colours the application wrote into its messages (ANSI)"),
        ("← →", "scroll the logger and message sideways (time and level stay)"),
    )),
    ("Marks and export", (
        ("m", "mark / unmark the record (a bar down its left edge)"),
        ("u U", "next / previous marked record"),
        ("M", "show only the marked records (that match the query), or all again"),
        ("C", "clear every mark"),
        ("c", "with marks: copy the marked records shown (raw text, up to 1 MB)"),
        ("s", "export the view (or its marked records) to a file: text or JSON lines"),
    )),
    ("Detail view", (
        ("Escape q", "close"),
        ("c", "copy the raw text"),
    )),
    ("App", (
        ("?", "this help"),
        ("ctrl+p", "command palette (themes, all commands)"),
        ("q ctrl+c", "quit"),
    )),
)

def query_help() -> str:
    """The query language cheat-sheet from ``logview.query``."""
    return QUERY_HELP.rstrip()


def keys_text() -> Text:
    """The key table as Rich ``Text`` (no markup parsing)."""
    width = max(len(keys) for _, rows in KEY_HELP for keys, _ in rows) + 2
    out = Text()
    for index, (section, rows) in enumerate(KEY_HELP):
        if index:
            out.append("\n")
        out.append(f"{section}\n", "bold underline")
        for keys, what in rows:
            out.append(f"  {keys:<{width}}", "bold")
            out.append(f"{what}\n")
    out.rstrip()
    return out


def source_formats(store: Store) -> list[tuple[str, str]]:
    """(source name, how its format was found and how well it fits) for each part of ``store``."""
    out: list[tuple[str, str]] = []
    for part in store.parts():
        detection = part.detection
        text = detection.describe()
        if forced_mismatch(detection):
            text += ": fits none of the first lines, records run together"
        elif not part.detection_final:
            text += ", still detecting (few lines so far)"
        out.append((part.name, text))
    return out


def formats_text(formats: list[tuple[str, str]]) -> Text:
    """One line per source: its name, then what it was read as (no markup parsing)."""
    out = Text()
    for index, (name, description) in enumerate(formats):
        if index:
            out.append("\n")
        out.append(f"  {printable(name)}", "bold")
        out.append(f"  {printable(description)}")
    return out


class HelpScreen(ModalScreen[None]):
    """Keys and query syntax; Escape, q or ? closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-frame {
        width: 90; max-width: 96%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .help--title { text-style: bold; color: $accent; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, formats: list[tuple[str, str]] | None = None) -> None:
        """``formats``: (source name, format description) pairs, see ``source_formats``."""
        super().__init__()
        self.formats = formats or []

    def compose(self) -> ComposeResult:
        frame = Vertical(id="help-frame")
        frame.border_title = "logview help"
        frame.border_subtitle = "Esc close"
        with frame, VerticalScroll(id="help-scroll"):
            yield Static("Keys", classes="help--title", markup=False)
            yield Static(keys_text(), id="help-keys", markup=False)
            yield Static("Query language", classes="help--title", markup=False)
            yield Static(Text(query_help()), id="help-query", markup=False)
            if self.formats:
                title = "Format" if len(self.formats) == 1 else "Formats"
                yield Static(title, classes="help--title", markup=False)
                yield Static(formats_text(self.formats), id="help-formats", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
