"""Side panel: the applied query's top-level terms, one a row, each with an on/off box (lnav's
filter panel).

API for the screen::

    filters = FilterList(id="filters")
    filters.show_query(text)     # the query applied now (the query bar's ``Applied``)

Messages:

- ``FilterList.Changed(text)``: space (or a click) switched a term on or off, or d / Delete
  removed one; the screen applies ``text`` (the terms still on, as typed) through the query
  bar.
- ``FilterList.Edit()``: Enter: the screen opens the query bar on the whole query.

A term switched off stays in the list, dimmed, and is left out of the applied query;
switching it on again gives back the query text as it was (see ``logview.tui.filter_terms``).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from logview.record import printable
from logview.tui.filter_terms import FilterTerms

#: What the panel says while the query is empty.
EMPTY_HINT = (
    "No filters yet.\n"
    "Enter types a query; 1-5 set a level; the logger tree (t) and a time range in the "
    "histogram (space) add terms too.\n"
    "Each term is a row: space switches it off / on, d deletes it."
)


class FilterList(OptionList):
    """The terms of the applied query (and those switched off), with on/off boxes."""

    DEFAULT_CSS = """
    FilterList {
        width: 32; height: 1fr; max-height: 100%;
        border: none; padding: 0;
        border-left: vkey $foreground 20%;
    }
    FilterList:focus { border: none; border-left: vkey $accent; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "On/off"),
        Binding("d,delete", "remove", "Delete"),
        Binding("enter", "edit", "Edit query"),
    ]

    class Changed(Message):
        """A term was switched on or off, or removed: apply ``text``."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Edit(Message):
        """Enter: edit the whole query in the query bar."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = FilterTerms()
        self._show_terms()

    def show_query(self, text: str) -> None:
        """The query bar applied ``text``: list its terms (those switched off stay)."""
        if self.model.sync(text):
            self._show_terms()

    @property
    def terms(self) -> list[tuple[str, bool]]:
        """(text, on) of each row, in order."""
        return [(term.text, term.enabled) for term in self.model.terms]

    def _show_terms(self, highlight: int | None = None) -> None:
        terms = self.model.terms
        if highlight is None:
            highlight = self.highlighted
        if not terms:
            self.set_options([Option(Text(EMPTY_HINT, style="italic"), disabled=True)])
            return
        rows = []
        for term in terms:
            label = Text("[x] " if term.enabled else "[ ] ", style="bold")
            label.append(printable(term.text), style="" if term.enabled else "dim strike")
            if not term.enabled:
                label.stylize("dim")
            rows.append(Option(label))
        self.set_options(rows)
        if highlight is not None:
            self.highlighted = max(0, min(highlight, len(terms) - 1))
        else:
            self.highlighted = 0

    def _current(self) -> int | None:
        index = self.highlighted
        return index if index is not None and index < len(self.model.terms) else None

    def action_toggle(self) -> None:
        """Switch the highlighted term off or on."""
        index = self._current()
        if index is not None:
            text = self.model.toggle(index)
            self._show_terms(index)
            self.post_message(self.Changed(text))

    def action_select(self) -> None:
        """A click on a row (Enter is bound to ``edit``): switch that term off or on."""
        self.action_toggle()

    def action_remove(self) -> None:
        """Delete the highlighted term."""
        index = self._current()
        if index is not None:
            was_on = self.model.terms[index].enabled
            text = self.model.remove(index)
            self._show_terms(index)
            if was_on:
                self.post_message(self.Changed(text))

    def action_edit(self) -> None:
        """Open the query bar on the whole query."""
        self.post_message(self.Edit())
