"""Export (s): the view, or its marked records, written to a file as --print text or -o jsonl
lines; never over an existing file without asking; errors said in the dialog."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, ProgressBar, RadioButton, Static

from logview.printer import known_original_bytes, original_bytes
from logview.sources.base import StaticFileSource
from logview.store import build_store
from logview.tui import export as export_module
from logview.tui.app import LogviewApp
from logview.tui.export import (
    ExportCancelled,
    ExportError,
    TargetExists,
    describe_error,
    export_records,
    json_by_name,
)
from logview.tui.widgets.export_dialog import ExportDialog
from tui.conftest import log_line, record_list, screen_text, until, write_log


def _store(path: Path):
    """The store the command line makes of ``path`` (format detected, named by the path)."""
    store = build_store([StaticFileSource(str(path))])
    store.update(final=True)
    return store


def _cli_print(path: Path, *args: str) -> bytes:
    done = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", *args],
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _original(path: Path, store, positions: list[int]) -> bytes:
    """The bytes of the records at ``positions`` as they are in the file (newline-ended)."""
    data = path.read_bytes()
    index = store.parts()[0].index
    out = b""
    for position in positions:
        chunk = data[index.start(position):index.end(position)]
        out += chunk if chunk.endswith(b"\n") else chunk + b"\n"
    return out


async def _dialog(pilot, app: LogviewApp) -> ExportDialog:
    await pilot.press("s")
    return await until(pilot, lambda: isinstance(app.screen, ExportDialog) and app.screen)


async def _submit(pilot, dialog: ExportDialog, path: str | Path) -> None:
    dialog.query_one(Input).value = str(path)
    await pilot.pause()
    await pilot.press("enter")


def _message(dialog: ExportDialog) -> str:
    return str(dialog.query_one("#export-message", Static).render())


def _said(app: LogviewApp, text: str) -> bool:
    return any(text in str(note.message) for note in app._notifications)


# -- the writer, without a screen ---------------------------------------------------------------


def test_export_records_as_text_and_json_lines(tmp_path):
    log = write_log(tmp_path / "app.log", 40)
    with log.open("a") as fh:  # braces: these records are parsed to be printed
        fh.write(log_line(40, message='payload {"a": 1}') + log_line(41, "ERROR", "{oops"))
    store = _store(log)
    rows = [1, 5, 13, 29, 40, 41]
    out = tmp_path / "out.log"
    result = export_records(store, rows, out, jsonl=False, generation=store.generation)
    assert result.records == 6 and result.size == out.stat().st_size
    assert out.read_bytes() == _original(log, store, rows)
    seen: list[tuple[int, int]] = []
    jsonl = tmp_path / "out.jsonl"
    export_records(store, range(len(store)), jsonl, jsonl=True, generation=store.generation,
                   progress=lambda done, total: seen.append((done, total)))
    assert jsonl.read_bytes() == _cli_print(log, "-o", "jsonl")
    assert seen[-1] == (42, 42)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_records_known_without_parsing_print_as_the_printer_prints_them(tmp_path):
    log = tmp_path / "mixed.log"
    log.write_bytes(b"plain line\r\n  indented\n{\"level\": \"error\", \"msg\": \"x\"}\n"
                    b"\n2024-05-01 12:00:00,000 ERROR a: {b}\nno newline at the end")
    store = _store(log)
    for position in range(len(store)):
        data = store.raw(position)
        known = known_original_bytes(data)
        assert known is None or known == original_bytes(store.parse(position)), data
    assert known_original_bytes(b"plain\n") == b"plain\n"
    assert known_original_bytes(b"{}") is None and known_original_bytes(b" \n") is None


def test_export_never_overwrites_unless_told(tmp_path):
    store = _store(write_log(tmp_path / "app.log", 10))
    out = tmp_path / "out.log"
    out.write_text("keep me\n")
    with pytest.raises(TargetExists):
        export_records(store, [1, 2], out, jsonl=False, generation=store.generation)
    assert out.read_text() == "keep me\n"
    export_records(store, [1, 2], out, jsonl=False, generation=store.generation, overwrite=True)
    assert out.read_text().count("\n") == 2 and "keep me" not in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "out.log"]


def test_a_cancelled_or_failed_export_leaves_nothing(tmp_path, monkeypatch):
    store = _store(write_log(tmp_path / "app.log", 10))
    out = tmp_path / "out.log"
    with pytest.raises(ExportCancelled):
        export_records(store, range(10), out, jsonl=False, generation=store.generation,
                       cancelled=lambda: True)
    with pytest.raises(ExportError, match="restarted"):
        export_records(store, range(10), out, jsonl=False, generation=store.generation + 1)

    def full(self, data, count):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_module.RecordPrinter, "write_rendered", full)
    with pytest.raises(ExportError, match="no space left on the device of"):
        export_records(store, range(10), out, jsonl=False, generation=store.generation)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log"]


def test_errors_are_said_plainly(tmp_path):
    store = _store(write_log(tmp_path / "app.log", 3))
    with pytest.raises(ExportError, match="does not exist"):
        export_records(store, [0], tmp_path / "nowhere" / "x.log", jsonl=False,
                       generation=store.generation)
    with pytest.raises(ExportError, match="is a folder"):
        export_records(store, [0], tmp_path, jsonl=False, generation=store.generation)
    with pytest.raises(ExportError, match="is not a folder"):
        export_records(store, [0], tmp_path / "app.log" / "x.log", jsonl=False,
                       generation=store.generation)
    target = Path("/x.log")
    assert "permission denied" in describe_error(OSError(errno.EACCES, "x"), target)
    assert "read-only" in describe_error(OSError(errno.EROFS, "x"), target)
    assert json_by_name("a.JSONL") and json_by_name("a.json") and not json_by_name("a.log")
    assert json_by_name("a.csv") is None


# -- the dialog ---------------------------------------------------------------------------------


async def test_s_exports_the_filtered_view_as_original_text_and_as_json_lines(tmp_path):
    log = write_log(tmp_path / "app.log", 60)
    store = _store(log)
    query = "level>=WARNING"
    app = LogviewApp(store, query=query)
    async with app.run_test(size=(100, 30)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: app.screen._filter_progress is None
                    and records.positions is not None and records.row_count == 22)
        shown = records.positions.tolist()
        dialog = await _dialog(pilot, app)
        assert dialog.query_one(Input).value == "./logview-export.log"
        assert not dialog.query_one(Checkbox).display  # no marks: no "marked only"
        await _submit(pilot, dialog, tmp_path / "view.log")
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        assert (tmp_path / "view.log").read_bytes() == _original(log, store, shown)
        await until(pilot, lambda: _said(app, "Wrote 22 records") and _said(app, "view.log"))

        dialog = await _dialog(pilot, app)
        assert dialog.query_one(Input).value == str(tmp_path / "view.log")  # the last one
        dialog.query_one(Input).value = str(tmp_path / "view.jsonl")
        await pilot.pause()
        assert dialog.query_one("#export-jsonl", RadioButton).value  # chosen by the name
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        assert (tmp_path / "view.jsonl").read_bytes() == _cli_print(log, "-o", "jsonl",
                                                                     "-q", query)


async def test_export_writes_only_the_marked_records_when_asked(tmp_path):
    log = write_log(tmp_path / "app.log", 30)
    store = _store(log)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.row_count == 30)
        for row in (4, 9, 17):
            records.go_to_row(row, follow=False)
            await pilot.press("m")
        dialog = await _dialog(pilot, app)
        checkbox = dialog.query_one(Checkbox)
        assert checkbox.display and checkbox.value and "3 marked records" in str(checkbox.label)
        await _submit(pilot, dialog, tmp_path / "marked.log")
        await until(pilot, lambda: (tmp_path / "marked.log").exists())
        assert (tmp_path / "marked.log").read_bytes() == _original(log, store, [4, 9, 17])
        dialog = await _dialog(pilot, app)
        dialog.query_one(Checkbox).value = False
        await _submit(pilot, dialog, tmp_path / "all.log")
        await until(pilot, lambda: (tmp_path / "all.log").exists())
        assert (tmp_path / "all.log").read_bytes() == log.read_bytes()


async def test_export_asks_before_overwriting_a_file(tmp_path):
    log = write_log(tmp_path / "app.log", 10)
    app = LogviewApp(_store(log))
    async with app.run_test(size=(100, 30)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.row_count == 10)
        target = tmp_path / "there.log"
        target.write_text("precious\n")
        dialog = await _dialog(pilot, app)
        await _submit(pilot, dialog, target)
        await until(pilot, lambda: "exists" in _message(dialog))
        assert isinstance(app.screen, ExportDialog)
        assert target.read_text() == "precious\n"
        assert "Overwrite" in str(dialog.query_one("#export-go").label)
        await pilot.press("enter")  # asked, and confirmed
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        assert target.read_bytes() == log.read_bytes()


async def test_export_says_why_it_cannot_write(tmp_path):
    app = LogviewApp(_store(write_log(tmp_path / "app.log", 10)))
    async with app.run_test(size=(100, 30)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.row_count == 10)
        dialog = await _dialog(pilot, app)
        await _submit(pilot, dialog, tmp_path / "missing" / "x.log")
        await until(pilot, lambda: "does not exist" in _message(dialog))
        assert "Cannot export" in screen_text(app)
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        if os.access(locked, os.W_OK):  # root writes anywhere: /sys refuses even root
            locked = Path("/sys")
        await _submit(pilot, dialog, locked / "x.log")
        await until(pilot, lambda: "permission denied" in _message(dialog))
        assert not (locked / "x.log").exists()
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "locked"]


async def test_a_long_export_shows_progress_and_cancel_leaves_nothing(tmp_path, monkeypatch):
    from logview.tui.widgets import export_dialog

    class Slow:  # every record takes two milliseconds: the export lasts seconds
        def __call__(self) -> None:
            time.sleep(0.002)

    monkeypatch.setattr(export_dialog, "DutyCycle", Slow)
    app = LogviewApp(_store(write_log(tmp_path / "app.log", 5000)))
    async with app.run_test(size=(100, 30)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.row_count == 5000)
        dialog = await _dialog(pilot, app)
        await _submit(pilot, dialog, tmp_path / "big.log")
        bar = dialog.query_one(ProgressBar)
        await until(pilot, lambda: bar.display and 0 < (bar.progress or 0) < 5000)
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        await until(pilot, lambda: _said(app, "Export cancelled"))
        await until(pilot, lambda: sorted(p.name for p in tmp_path.iterdir()) == ["app.log"])
