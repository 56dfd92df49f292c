"""Marks in the record list (lnav's keys): ``m`` marks the cursor record, ``u`` ``U`` go to the
next / previous mark, ``M`` shows only the marked records, ``C`` clears them, ``c`` copies
them, ``s`` exports the view (a mixin of ``RecordList``).

The marks are store positions (``logview.tui.marks``). "Only marked" cuts the view the query
made (``set_positions`` is given the filter's rows and shows the marks among them), so the
view shows the marked records that also match. A store restart drops the marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.worker import get_current_worker

from logview.record import Record
from logview.tui.marks import Marks
from logview.tui.widgets.record_search import SEARCH_CONTEXT
from logview.tui.widgets.status_bar import count_of

#: The record list's keys for marks and export.
MARK_BINDINGS = [
    Binding("m", "toggle_mark", "Mark", show=False),
    Binding("u", "next_mark(1)", "Next mark", show=False),
    Binding("U", "next_mark(-1)", "Prev mark", show=False),
    Binding("M", "marked_only", "Only marked", show=False),
    Binding("C", "clear_marks", "Clear marks", show=False),
    Binding("s", "export", "Export", show=False),
]
#: Most characters ``c`` puts on the clipboard at once (OSC 52 sends them through the
#: terminal; ``s`` writes any number of records to a file).
COPY_LIMIT = 1 << 20


def with_mark(line: Strip, style: Style) -> Strip:
    """``line`` with its first cell in the mark's style (a bar down the left of marked rows,
    over the cursor's highlight)."""
    if not line.cell_length:
        return line
    first, rest = line.divide([1, line.cell_length])
    return Strip.join([Strip(Segment.apply_style(first, post_style=style), 1), rest])


class MarkedRows:
    """Marks mixed into ``RecordList`` (uses its rows, cursor, store and ``set_positions``)."""

    class MarksChanged(Message):
        """Records were marked or unmarked, or "only marked" switched (the status line says)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MarkedRows.MarksChanged)

    def _init_marks(self) -> None:
        self.marks = Marks()
        #: Only the marked records are shown (``M``).
        self.marked_only = False
        #: The rows the query gives (the view "only marked" cuts), as ``set_positions`` got them.
        self._query_rows: np.ndarray | None = None
        #: The path the last export dialog wrote to (the next one starts from it).
        self.export_path = "./logview-export.log"

    # -- drawing ------------------------------------------------------------------------------

    def is_marked(self, position: int) -> bool:
        return bool(len(self.marks)) and position in self.marks

    def _with_mark(self, line: Strip) -> Strip:
        return with_mark(line, self.get_component_rich_style("record-list--mark"))

    # -- the view -----------------------------------------------------------------------------

    def _view_rows(self, positions: np.ndarray | None) -> np.ndarray | None:
        """``set_positions``' rows as shown: the query's, or the marks among them."""
        self._query_rows = positions
        if not self.marked_only:
            return positions
        return self.marks.within(positions, self.length)

    def _show_marked_only(self, on: bool) -> None:
        self.marked_only = on
        self.set_positions(self._query_rows)
        self.post_message(self.MarksChanged())

    def shown_marks(self) -> np.ndarray:
        """The marked records the view shows (sorted store positions)."""
        return self.marks.within(self.positions, self.length)

    def _drop_marks(self) -> None:
        """The store restarted: its positions name other records now."""
        dropped = self.marks.clear()
        self.marked_only = False
        self._query_rows = None
        if dropped:
            self.notify(f"{count_of(dropped, 'mark')} dropped: the input restarted",
                        severity="warning", timeout=4)
            self.post_message(self.MarksChanged())

    # -- keys ---------------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        position = self.cursor_position
        if position is None:
            return
        self.marks.toggle(position)
        if self.marked_only:  # an unmarked record leaves the view
            self.set_positions(self._query_rows)
        self.refresh()
        self.post_message(self.MarksChanged())

    def action_next_mark(self, step: int) -> None:
        here = self.cursor_position
        shown = self.shown_marks()
        if here is None or not len(shown):
            self.notify("No marks: m marks the record under the cursor" if not len(self.marks)
                        else "No marked record is shown (the filter hides them)", timeout=3)
            return
        found = Marks.next_after(shown, here, step)
        if found is None:
            self.notify(f"No {'next' if step > 0 else 'previous'} mark", timeout=2)
            return
        self.go_to_row(self.row_of(found), follow=False, context=SEARCH_CONTEXT)

    def find(self, query: Any, step: int, what: str, **options: Any) -> None:
        """Searches (``n N e E w W``, a histogram bucket) keep to the marked records after
        ``M``: each is tested in a worker, in the direction of the search."""
        if not self.marked_only:
            super().find(query, step, what, **options)  # type: ignore[misc]
            return
        here = self.cursor_position
        shown = self.positions
        if here is None or shown is None or not len(shown):
            self.notify(f"No {what}", timeout=2)
            return
        if options.get("from_start"):
            candidates = shown.tolist()
        elif step > 0:
            candidates = shown[np.searchsorted(shown, here, side="right"):].tolist()
        else:
            candidates = shown[: np.searchsorted(shown, here, side="left")][::-1].tolist()
        store = self.store
        self._search_token += 1  # a newer search makes this one's answer stale (RecordSearch)
        token = self._search_token
        self._searching = True

        def search() -> None:
            worker = get_current_worker()
            found = None
            try:
                for position in candidates:
                    if worker.is_cancelled:
                        return
                    if query.matches(store.record(position)):
                        found = position
                        break
            except (IndexError, OSError):
                found = None  # the store restarted: the marks are being dropped
            self.app.call_from_thread(self._found, token, found, step, what)

        self.run_worker(search, thread=True, group="find", exclusive=True, exit_on_error=False)

    def action_marked_only(self) -> None:
        if not self.marked_only and not len(self.marks):
            self.notify("No marks: m marks the record under the cursor", timeout=3)
            return
        self._show_marked_only(not self.marked_only)

    def action_clear_marks(self) -> None:
        cleared = self.marks.clear()
        if not cleared:
            self.notify("No marks to clear", timeout=2)
            return
        if self.marked_only:
            self._show_marked_only(False)
        self.refresh()
        self.post_message(self.MarksChanged())
        self.notify(f"Cleared {count_of(cleared, 'mark')}", timeout=3)

    def action_copy(self) -> None:
        """Copy the marked records shown (their raw text, one after another), else the
        cursor record."""
        shown = self.shown_marks()
        if not len(shown):
            super().action_copy()  # type: ignore[misc]
            return
        store, positions = self.store, shown.tolist()

        def fetch() -> None:
            texts: list[str] = []
            size = 0
            try:
                for position in positions:
                    record = store.record(position)
                    text = record.raw or record.message
                    size += len(text) + 1
                    if size > COPY_LIMIT and texts:
                        break
                    texts.append(text)
            except (IndexError, OSError) as exc:
                self.app.call_from_thread(
                    self.notify, f"Marked records unavailable: {exc}", severity="warning",
                    timeout=3, markup=False)
                return
            self.app.call_from_thread(self._copy_marked, "\n".join(texts), len(texts),
                                      len(positions))

        self.run_worker(fetch, thread=True, group="copy", exclusive=True, exit_on_error=False)

    def _copy_marked(self, text: str, copied: int, marked: int) -> None:
        self.app.copy_to_clipboard(text)
        if copied < marked:
            self.notify(f"Copied the first {copied:,} of {count_of(marked, 'marked record')} "
                        "(the clipboard takes 1 MB; s exports them all to a file)",
                        severity="warning", timeout=5)
        else:
            self.notify(f"Copied {count_of(copied, 'marked record')} to the clipboard", timeout=2)

    def action_export(self) -> None:
        """Ask where and how to write the view (or its marked records) to a file."""
        # Imported here: start-up does not need the dialog's widgets.
        from logview.tui.widgets.export_dialog import ExportDialog, ExportView

        positions, length = self.positions, self.length
        rows = range(length) if positions is None else positions
        view = ExportView(
            store=self.store,
            generation=self.store.generation,
            rows=rows,
            marked=self.shown_marks(),
            filtering=bool(getattr(self.screen, "_filter_progress", None) is not None),
        )
        self.app.push_screen(ExportDialog(view, self.export_path), self._exported)

    def _exported(self, path: str | None) -> None:
        if path is not None:
            self.export_path = path

    # Provided by RecordList (and Textual's widget).
    store: Any
    length: int
    positions: np.ndarray | None
    cursor_position: int | None
    screen: Any
    app: Any
    set_positions: Callable[..., None]
    go_to_row: Callable[..., None]
    row_of: Callable[[int], int]
    refresh: Callable[..., Any]
    notify: Callable[..., None]
    post_message: Callable[[Message], bool]
    run_worker: Callable[..., Any]
    get_component_rich_style: Callable[..., Style]
    _copy: Callable[[Record], None]
    _found: Callable[..., None]
    _search_token: int
    _searching: bool
