"""The query bar: type a query, see errors with a caret while typing, Enter applies.

It has two modes, as less has ``/pattern`` and ``&pattern``: **filter** (``&``, the query
hides what does not match; the level keys and the logger tree edit it too) and **find**
(``/``, the query is a search: every record stays shown, ``n``/``N`` go to the hits). The
prompt says which mode it is in. At rest the bar shows the query of the mode last applied;
Escape goes back to the record list and restores it; up/down walk the history of applied
queries (one history for both modes).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

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

Mode = Literal["filter", "find"]
#: The prompt of each mode (its key after the word) and the input's placeholder.
PROMPTS: dict[str, str] = {"filter": "filter &", "find": "find /"}
PLACEHOLDERS: dict[str, str] = {
    "filter": "words, level>=WARNING, logger:app … hide the rest (& filter, / find)",
    "find": "words, /regex/, level>=ERROR … every record stays, n N go to hits",
}


class QueryBar(Vertical):
    """A one-line query input with live validation, history and a filter/find mode."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back", show=False),
        Binding("up", "history(-1)", "Older query", show=False),
        Binding("down", "history(1)", "Newer query", show=False),
    ]

    class Applied(Message):
        """Enter on a valid filter: ``query`` is the parsed form of ``text``."""

        def __init__(self, text: str, query: Query) -> None:
            super().__init__()
            self.text = text
            self.query = query

    class FindApplied(Message):
        """Enter on a valid find (``text`` empty: the find is cleared)."""

        def __init__(self, text: str, query: Query) -> None:
            super().__init__()
            self.text = text
            self.query = query

    class Left(Message):
        """Escape: the user is done with the bar (cancel a running filter, focus the list)."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The applied filter text (what the level keys and the logger tree edit).
        self.applied = text
        #: The applied find text ("" when there is no find).
        self.found = ""
        #: The mode being edited (or shown at rest).
        self.mode: Mode = "filter"
        #: The mode shown at rest: the one last applied.
        self._rest_mode: Mode = "filter"
        self.history: list[str] = [text] if text else []
        self._history_index: int | None = None
        self.problem: QueryProblem | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="query-line"):
            yield Label(PROMPTS["filter"], id="query-prompt")
            yield Input(
                self.applied,
                placeholder=PLACEHOLDERS["filter"],
                id="query-input",
                select_on_focus=False,
            )
        yield Static("", id="query-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#query-input", Input)

    def applied_text(self, mode: Mode) -> str:
        """The applied query of ``mode``."""
        return self.found if mode == "find" else self.applied

    def set_mode(self, mode: Mode) -> None:
        """Show ``mode``'s prompt, placeholder and applied text (nothing is applied)."""
        self.mode = mode
        self.set_class(mode == "find", "-find")
        self.query_one("#query-prompt", Label).update(PROMPTS[mode])
        field = self.input
        field.placeholder = PLACEHOLDERS[mode]
        text = self.applied_text(mode)
        if field.value != text:
            with field.prevent(Input.Changed):
                field.value = text
        self.validate(text)

    def edit(self, mode: Mode | None = None) -> None:
        """Focus the input in ``mode`` (default: the one shown) with the caret after its
        query (typing adds to it, as in lnav)."""
        if mode is not None and (mode != self.mode or not self.input.has_focus):
            self.set_mode(mode)
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    @property
    def text(self) -> str:
        """What is typed now (may differ from the applied text while editing)."""
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
            caret = " " * (position + len(PROMPTS[self.mode]) + 2) + "^ "
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
        if self.mode == "find":
            self.find(event.value)
        else:
            self.submit(event.value)

    def _remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_SIZE]
        self._history_index = None

    def submit(self, text: str) -> bool:
        """Apply ``text`` as the filter if it is valid (also for level keys and the logger
        tree editing the filter: the bar shows the filter then)."""
        if self.mode != "filter":
            self.set_mode("filter")
        if self.input.value != text:
            with self.input.prevent(Input.Changed):
                self.input.value = text
        query = self.validate(text)
        if query is None:
            return False
        self.applied = text
        self._rest_mode = "filter"
        self._remember(text)
        self.post_message(self.Applied(text, query))
        return True

    def find(self, text: str) -> bool:
        """Apply ``text`` as the find if it is valid ("" clears the find)."""
        if self.mode != "find":
            self.set_mode("find")
        if self.input.value != text:
            with self.input.prevent(Input.Changed):
                self.input.value = text
        query = self.validate(text)
        if query is None:
            return False
        self.found = text
        self._remember(text)
        # An empty find clears it: the bar shows the filter again.
        self._rest_mode = "find" if text.strip() else "filter"
        if self._rest_mode != "find":
            self.set_mode("filter")
        self.post_message(self.FindApplied(text, query))
        return True

    def action_leave(self) -> None:
        self.set_mode(self._rest_mode)
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
