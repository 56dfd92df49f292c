"""The export dialog (``s``): where to write the view, as text or JSON lines, marked only.

The path starts as ``./logview-export.log`` (then the last one written); a ``.jsonl`` or
``.json`` name picks JSON lines, ``.log`` or ``.txt`` text. The records are written by a
thread worker (``logview.tui.export``) while a progress bar moves; Cancel or Escape stops it
and nothing is left behind. An existing file is replaced only after the dialog said so and
Export was pressed again. Errors (no such folder, permission, disk full) are said in the
dialog, which stays open to try another path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, ProgressBar, RadioButton, RadioSet, Static
from textual.worker import Worker, get_current_worker

from logview.record import printable
from logview.tui.export import (
    ExportCancelled,
    ExportError,
    ExportResult,
    TargetExists,
    export_records,
    json_by_name,
    target_path,
)
from logview.tui.pacing import DutyCycle
from logview.tui.widgets.status_bar import count_of


@dataclass(frozen=True, slots=True)
class ExportView:
    """What the view shows when the dialog opens (the rows are a snapshot)."""

    store: Any
    generation: int
    #: Store positions of the view's records, in order (a ``range`` when unfiltered).
    rows: Sequence[int]
    #: The marked records among them.
    marked: np.ndarray
    #: A filter was still finding matches: the rows are those found so far.
    filtering: bool = False


def size_text(size: int) -> str:
    """``512 bytes``, ``12.3 KB``, ``4.5 MB``, ``1.2 GB``."""
    if size < 1000:
        return count_of(size, "byte")
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


class ExportDialog(ModalScreen[str | None]):
    """Asks for a path, a format and "marked only", then writes; dismissed with the path
    written to (None: cancelled)."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > #export-frame {
        width: 76; max-width: 96%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ExportDialog #export-summary { margin-bottom: 1; }
    ExportDialog Input { margin-bottom: 1; }
    ExportDialog RadioSet { width: 100%; border: none; padding: 0; }
    ExportDialog Checkbox { border: none; padding: 0; }
    ExportDialog #export-message { color: $error; margin-top: 1; height: auto; }
    ExportDialog #export-message.-question { color: $warning; }
    ExportDialog ProgressBar { margin-top: 1; }
    ExportDialog #export-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ExportDialog Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, view: ExportView, path: str) -> None:
        super().__init__()
        self.view = view
        self.path = path
        #: The file exists and the user was told: pressing Export again replaces it.
        self.overwrite = False
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        view = self.view
        frame = Vertical(id="export-frame")
        frame.border_title = "Export view"
        frame.border_subtitle = "Enter export · Esc cancel"
        summary = f"{count_of(len(view.rows), 'record')} in the view"
        if view.filtering:
            summary += " (the filter is still running: the matches found so far)"
        jsonl = bool(json_by_name(self.path))
        with frame:
            yield Static(summary, id="export-summary", markup=False)
            yield Input(self.path, placeholder="file to write", id="export-path")
            with RadioSet(id="export-format"):
                yield RadioButton("Text: each record as it was read (--print)", value=not jsonl,
                                  id="export-text")
                yield RadioButton("JSON lines (--print -o jsonl)", value=jsonl,
                                  id="export-jsonl")
            checkbox = Checkbox(f"Only the {count_of(len(view.marked), 'marked record')}",
                                value=bool(len(view.marked)), id="export-marked")
            checkbox.display = bool(len(view.marked))
            yield checkbox
            yield Static("", id="export-message", markup=False)
            bar = ProgressBar(total=max(1, len(view.rows)), show_eta=False,
                              id="export-progress")
            bar.display = False
            yield bar
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-message").display = False
        path = self.query_one(Input)
        path.focus()
        path.cursor_position = len(path.value)

    # -- the form -----------------------------------------------------------------------------

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        jsonl = json_by_name(event.value)
        if jsonl is not None:
            self.query_one("#export-jsonl" if jsonl else "#export-text", RadioButton).value = True
        if self.overwrite:
            self.overwrite = False
            self.query_one("#export-go", Button).label = "Export"
            self._say("")

    @property
    def jsonl(self) -> bool:
        """JSON lines is chosen."""
        return self.query_one("#export-jsonl", RadioButton).value

    @property
    def marked_only(self) -> bool:
        """Only the marked records are to be written."""
        return bool(len(self.view.marked)) and self.query_one(Checkbox).value

    def _say(self, text: str, *, question: bool = False) -> None:
        message = self.query_one("#export-message", Static)
        message.update(printable(text))
        message.set_class(question, "-question")
        message.display = bool(text)

    def _set_busy(self, busy: bool) -> None:
        for widget in self.query("Input, RadioSet, Checkbox, #export-go"):
            widget.disabled = busy
        self.query_one(ProgressBar).display = busy
        if not busy:
            self.query_one(Input).focus()

    # -- writing ------------------------------------------------------------------------------

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def action_export(self) -> None:
        """Write the records (the form's choices) in a worker."""
        if self._worker is not None:
            return
        text = self.query_one(Input).value
        if not text.strip():
            self._say("Type the name of the file to write")
            return
        rows = self.view.marked if self.marked_only else self.view.rows
        if not len(rows):
            self._say("Nothing to export: the view is empty")
            return
        self._say("")
        self._set_busy(True)
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, len(rows)), progress=0)
        self._worker = self._write(text, rows, self.jsonl, self.overwrite)

    @work(thread=True, group="export", exit_on_error=False)
    def _write(self, text: str, rows: Sequence[int], jsonl: bool, overwrite: bool) -> None:
        worker = get_current_worker()
        view = self.view
        app = self.app

        def progress(done: int, total: int) -> None:
            if not worker.is_cancelled:
                app.call_from_thread(self._progress, done)

        try:
            path = target_path(text)
            result = export_records(view.store, rows, path, jsonl=jsonl,
                                    generation=view.generation, overwrite=overwrite,
                                    progress=progress, cancelled=lambda: worker.is_cancelled,
                                    pace=DutyCycle())
        except ExportCancelled:
            return
        except TargetExists:
            if not worker.is_cancelled:
                app.call_from_thread(self._ask_overwrite, text)
            return
        except (ExportError, OSError) as exc:
            if not worker.is_cancelled:
                app.call_from_thread(self._failed, str(exc))
            return
        if not worker.is_cancelled:
            app.call_from_thread(self._done, text, result)

    def _progress(self, done: int) -> None:
        if self.is_attached:
            self.query_one(ProgressBar).update(progress=done)

    def _ask_overwrite(self, text: str) -> None:
        self._worker = None
        if not self.is_attached:
            return
        self._set_busy(False)
        self.overwrite = True
        self.query_one("#export-go", Button).label = "Overwrite"
        self._say(f"{target_path(text)} exists. Press Enter (Overwrite) to replace it, "
                  "or change the name.", question=True)

    def _failed(self, reason: str) -> None:
        self._worker = None
        if not self.is_attached:
            return
        self._set_busy(False)
        self._say(f"Cannot export: {reason}")

    def _done(self, text: str, result: ExportResult) -> None:
        self._worker = None
        self.app.notify(
            f"Wrote {count_of(result.records, 'record')} ({size_text(result.size)}) "
            f"to {printable(str(result.path))}",
            title="Export", timeout=6, markup=False)
        if self.is_attached:
            self.dismiss(text)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        """Close; a write under way stops and leaves nothing behind."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
            self.app.notify("Export cancelled: nothing written", timeout=3)
        self.dismiss(None)
