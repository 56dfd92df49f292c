"""The status line: sources, records total and shown, the find's hits, follow state, rate,
progress, format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import Static

from logview.record import printable

#: Longest format name the status line shows (the help screen has the whole description).
LABEL_CHARS = 24


def count_of(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: "1 record", "1,234 records", "0 records"."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def short_format_label(detection: Any) -> str:
    """A few words on what a store was read as ("jsonl", "plain text"); "" when not worth
    saying: the user forced the format, or nothing has arrived to detect it from yet."""
    if detection is None or detection.kind == "forced" or not detection.total:
        return ""
    if detection.kind == "plain":
        return "plain text"
    if detection.kind == "inferred":
        return "inferred template"
    label = printable(str(detection.label)).replace("\n", " ")
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


@dataclass(slots=True)
class StatusState:
    """Everything the status line shows; the screen fills it in."""

    source: str = ""
    total: int = 0
    shown: int | None = None  # None: unfiltered
    following: bool = True
    new_rows: int = 0
    rate: float | None = None  # records/s for live streams, None when not live
    filter_progress: float | None = None  # 0..1 while a filter runs
    finished: bool = False
    indexed: float | None = None  # fraction of the input indexed, when known
    format_label: str = ""  # what the input was read as: "as jsonl" ("" shows nothing)
    format_warning: str = ""  # e.g. a forced --format that fits none of the first lines
    notices: int = 0  # what the sources said they lost or refused (each was notified)
    view_modes: str = ""  # the record list's view modes that are on ("time: since previous")
    find: str = ""  # the find's hits: "hit 3 of 20", "≥20 hits…" ("" when there is no find)
    marks: int = 0  # marked records (m)
    marked_only: bool = False  # only the marked records are shown (M)
    redacted: bool = False  # --redact: what is shown is masked
    counts: str = ""  # where the level counts come from ("counts: server, 12,345 rows")


class StatusBar(Static):
    """One line of state at the bottom of the main screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.state = StatusState()
        self._shown: Text | None = None

    def show(self, state: StatusState) -> None:
        """Render ``state``; nothing is drawn again when the line would not change (the
        screen asks often: on every growth, cursor move and rate tick)."""
        if self._shown is not None and state == self.state:
            return
        self.state = state
        text = self.render_state(state)
        if self._shown is not None and text == self._shown:
            return
        self._shown = text
        # One line whatever it says (CSS: height 1): no layout pass of the whole screen.
        self.update(text, layout=False)

    @staticmethod
    def render_state(state: StatusState) -> Text:
        """The status line text for ``state`` (pure: tested without an app)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(printable(state.source).replace("\n", " "), "bold")
        text.append("  ")
        if state.shown is None:
            text.append(count_of(state.total, "record"))
        else:
            text.append(f"{state.shown:,} of {state.total:,} shown")
        if state.find:
            text.append("  ")
            text.append(f"/ {printable(state.find)}", "bold")
        if state.marks or state.marked_only:
            text.append(f"  {count_of(state.marks, 'mark')}")
            if state.marked_only:
                text.append(" (marked only)", "bold")
        if state.format_warning:
            text.append("  ")
            text.append(printable(state.format_warning), "bold red")
        if state.notices:
            text.append("  ")
            text.append(f"⚠ {count_of(state.notices, 'warning')}", "bold red")
        text.append("  ")
        if state.following:
            text.append("following" if not state.finished else "at end")
        else:
            text.append("paused", "reverse")
            if state.new_rows:
                text.append(f", {state.new_rows:,} new")
        if state.rate is not None and not state.finished:
            text.append(f"  {state.rate:,.0f} rec/s")
        if state.indexed is not None and state.indexed < 1.0:
            text.append(f"  indexing {state.indexed:.0%}")
        if state.filter_progress is not None:
            text.append(f"  filtering {state.filter_progress:.0%}")
        if state.counts:
            text.append(f"  {printable(state.counts)}", "dim")
        if state.view_modes:
            text.append(f"  {state.view_modes}", "bold")
        if state.redacted:
            text.append("  redacted", "bold")
        if state.format_label:
            text.append(f"  {state.format_label}", "dim")
        return text
