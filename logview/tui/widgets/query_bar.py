"""The query bar: type a query, see errors with a caret while typing, Enter applies.

The bar always shows the query that is applied (level keys edit it too); Escape goes back to
the record list and restores the applied text; up/down walk the history of applied queries.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from logview.query import Query
from logview.record import printable
from logview.tui.query_edit import QueryProblem, compile_query

#: Applied queries remembered for up/down.
HISTORY_SIZE = 100


class QueryBar(Vertical):
    """A one-line query input with live validation and history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back", show=False),
        Binding("up", "history(-1)", "Older query", show=False),
        Binding("down", "history(1)", "Newer query", show=False),
    ]

    class Applied(Message):
        """Enter on a valid query: ``query`` is the parsed form of ``text``."""

        def __init__(self, text: str, query: Query) -> None:
            super().__init__()
            self.text = text
            self.query = query

    class Left(Message):
        """Escape: the user is done with the bar (cancel a running filter, focus the list)."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.applied = text
        self.history: list[str] = [text] if text else []
        self._history_index: int | None = None
        self.problem: QueryProblem | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="query-line"):
            yield Label("/", id="query-prompt")
            yield Input(
                self.applied,
                placeholder="filter: words, level>=WARNING … (press /)",
                id="query-input",
                select_on_focus=False,
            )
        yield Static("", id="query-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#query-input", Input)

    def edit(self) -> None:
        """Focus the input with the caret after the query (typing adds to it, as in lnav)."""
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    @property
    def text(self) -> str:
        """What is typed now (may differ from ``applied`` while editing)."""
        return self.input.value

    def on_mount(self) -> None:
        self.input.cursor_blink = False
        self.validate(self.applied)

    def validate(self, text: str) -> Any | None:
        """Parse ``text``; show the error under it; return the query or None."""
        error = self.query_one("#query-error", Static)
        try:
            query = compile_query(text)
        except QueryProblem as problem:
            self.problem = problem
            position = problem.position if problem.position is not None else len(text)
            caret = " " * (position + 2) + "^ "
            error.update(caret + printable(problem.message))
            self.add_class("-invalid")
            return None
        self.problem = None
        error.update("")
        self.remove_class("-invalid")
        return query

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    def submit(self, text: str) -> bool:
        """Apply ``text`` if it is valid (also for level keys editing the query)."""
        if self.input.value != text:
            with self.input.prevent(Input.Changed):
                self.input.value = text
        query = self.validate(text)
        if query is None:
            return False
        self.applied = text
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_SIZE]
        self._history_index = None
        self.post_message(self.Applied(text, query))
        return True

    def action_leave(self) -> None:
        if self.input.value != self.applied:
            with self.input.prevent(Input.Changed):
                self.input.value = self.applied
            self.validate(self.applied)
        self._history_index = None
        self.post_message(self.Left())

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        index = len(self.history) if self._history_index is None else self._history_index
        index = max(0, min(len(self.history), index + step))
        self._history_index = index
        value = self.history[index] if index < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)
