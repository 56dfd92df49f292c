"""The status line: sources, records total and shown, follow state, rate, progress."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from logview.record import printable


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


class StatusBar(Static):
    """One line of state at the bottom of the main screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.state = StatusState()

    def show(self, state: StatusState) -> None:
        """Render ``state``."""
        self.state = state
        self.update(self.render_state(state))

    @staticmethod
    def render_state(state: StatusState) -> Text:
        """The status line text for ``state`` (pure: tested without an app)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(printable(state.source).replace("\n", " "), "bold")
        text.append("  ")
        if state.shown is None:
            text.append(f"{state.total:,} records")
        else:
            text.append(f"{state.shown:,} of {state.total:,} shown")
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
        return text
