"""Go to (``:``, as vim's ``:123``): a one-line prompt at the bottom, and moving the cursor.

``:1234`` goes to the 1234th row shown (of the filtered view when a filter is applied);
``:10:32`` / ``:10:32:05`` to the first record at or after that time of day, ``:-5m`` / ``:-2h``
to five minutes / two hours before the last record's time, ``:2024-05-01T10:32`` to that
moment. Times are found by bisecting the rows in a worker when they are in time order, else
by the scanner (``RecordList.find``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from logview.record import Record, printable
from logview.scan import RecordTest
from logview.tui.goto_target import (
    GOTO_HELP,
    GotoError,
    GotoTarget,
    first_row_at_or_after,
    parse_goto,
    resolve,
    timed_row,
)
from logview.tui.widgets.record_search import SEARCH_CONTEXT


class GotoScreen(ModalScreen[GotoTarget | None]):
    """A prompt: Enter goes (or says what it cannot read), Escape closes."""

    DEFAULT_CSS = """
    GotoScreen { align: left bottom; background: $background 0%; }
    GotoScreen > #goto-box { height: auto; background: $panel; margin-bottom: 1; }
    GotoScreen #goto-line { height: 1; }
    GotoScreen #goto-prompt { width: 2; padding: 0 0 0 1; color: $accent; text-style: bold; }
    GotoScreen #goto-input, GotoScreen #goto-input:focus {
        border: none; height: 1; padding: 0; background: $boost;
    }
    GotoScreen #goto-error { color: $error; height: auto; padding: 0 1; display: none; }
    GotoScreen.-invalid #goto-error { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            with Horizontal(id="goto-line"):
                yield Label(":", id="goto-prompt")
                yield Input(placeholder=f"go to {GOTO_HELP}", id="goto-input")
            yield Static("", id="goto-error", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            target = parse_goto(event.value)
        except GotoError as problem:
            self.query_one("#goto-error", Static).update(printable(str(problem)))
            self.add_class("-invalid")
            return
        self.dismiss(target)

    def action_close(self) -> None:
        self.dismiss(None)


def _clock(stamp: float) -> str:
    moment = datetime.fromtimestamp(stamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if moment.microsecond else ""))


class GotoActions:
    """``:`` on the main screen (mixed into ``MainScreen``)."""

    #: Provided by ``MainScreen``.
    records: Any
    store: Any
    app: Any
    active_query: Any
    notify: Any
    run_worker: Any

    def action_go_to(self) -> None:
        """Open the go-to prompt."""
        self.app.push_screen(GotoScreen(), self._go_to)

    def _go_to(self, target: GotoTarget | None) -> None:
        records = self.records
        records.focus()
        if target is None:
            return
        count = records.row_count
        if not count:
            self.notify("No records to go to", timeout=3)
            return
        if target.kind == "row":
            if target.row >= count:
                self.notify(f"Only {count:,} records shown: at the last one", timeout=3)
            records.go_to_row(min(target.row, count - 1), follow=False, context=SEARCH_CONTEXT)
            return
        positions = records.positions
        store = self.store

        def time_at(row: int) -> float | None:
            try:
                return store.record(row if positions is None else int(positions[row])).timestamp
            except IndexError:  # the store restarted (truncated) meanwhile
                return None

        def search() -> None:
            worker = get_current_worker()
            first = timed_row(time_at, 0, count)
            last = timed_row(time_at, count - 1, count, step=-1)
            if first is None or last is None:
                self.app.call_from_thread(self.notify, "No record shown has a time", timeout=3)
                return
            moment = resolve(target, first[1], last[1])
            if moment is None or worker.is_cancelled:
                return
            ordered, row = first_row_at_or_after(time_at, count, moment)
            if worker.is_cancelled:
                return
            position = None if row is None else (
                row if positions is None else int(positions[row]))
            self.app.call_from_thread(self._went_to, moment, ordered, position)

        self.run_worker(search, thread=True, group="goto", exclusive=True, exit_on_error=False)

    def _went_to(self, moment: float, ordered: bool, position: int | None) -> None:
        records = self.records
        if not ordered:  # not in time order: the scanner finds the first one, row by row
            applied = self.active_query

            def at_or_after(record: Record) -> bool:
                stamp = record.timestamp
                return (stamp is not None and stamp >= moment
                        and (applied is None or applied.matches(record)))

            records.find(RecordTest(at_or_after), 1, f"record at or after {_clock(moment)}",
                         from_start=True)
            return
        if position is None:
            self.notify(f"No record at or after {_clock(moment)}", timeout=4)
            return
        row = records.row_of(position)
        if row < records.row_count:
            records.go_to_row(row, follow=False, context=SEARCH_CONTEXT)
