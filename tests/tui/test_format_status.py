"""The viewer says what each source was read as, detects a file that starts empty as lines
arrive, and warns when a forced --format fits none of the first lines."""

from __future__ import annotations

import logging
from pathlib import Path

from logging_helpers import make_logger

from logview.formats.template import TemplateFormat
from logview.sources.base import StaticFileSource
from logview.sources.file import FileSource
from logview.store import LogStore, MergedStore, open_store
from logview.tui.app import LogviewApp
from logview.tui.screens.help import HelpScreen
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar, StatusState
from tui.conftest import until

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
MESSAGES = ((logging.INFO, "user alice logged in"), (logging.WARNING, "disk almost full"),
            (logging.ERROR, "connection refused by db-1"))


def log_to(path: Path, records=MESSAGES) -> None:
    """Write records through a real logging.Formatter."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(DASH))
    logger = make_logger("app.db", handler)
    for level, message in records:
        logger.log(level, message)
    handler.close()


def status_text(app: LogviewApp) -> str:
    return StatusBar.render_state(app.screen.query_one(StatusBar).state).plain


async def test_a_file_that_starts_empty_is_detected_when_lines_come(tmp_path):
    path = tmp_path / "new.log"
    path.write_bytes(b"")
    store = open_store(FileSource(str(path), follow=True))
    app = LogviewApp(store)
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await pilot.pause()
        assert " as " not in status_text(app)  # nothing to tell from yet
        log_to(path)
        await until(pilot, lambda: records.length == 3, timeout=10)
        assert [store.record(i).level for i in range(3)] == ["INFO", "WARNING", "ERROR"]
        await until(pilot, lambda: " as " in status_text(app))
        assert "plain text" not in status_text(app)


async def test_plain_text_says_so_in_the_status_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just words\nmore words\n", encoding="utf-8")
    app = LogviewApp(open_store(StaticFileSource(str(path))))
    async with app.run_test(size=(100, 24)) as pilot:
        await until(pilot, lambda: "as plain text" in status_text(app))


async def test_a_forced_format_that_fits_no_line_is_said(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("".join(f"line {i} of free text\n" for i in range(6)), encoding="utf-8")
    store = LogStore(StaticFileSource(str(path)), TemplateFormat(DASH))
    app = LogviewApp(store)
    async with app.run_test(size=(100, 24)) as pilot:
        await until(pilot, lambda: "--format fits none of 6 lines" in status_text(app))
        notes = [n for n in app._notifications if n.title == "Format does not fit"]
        assert len(notes) == 1 and "first 6 lines" in notes[0].message
        assert str(path) in notes[0].message


async def test_a_forced_format_that_fits_is_not_mentioned(tmp_path):
    path = tmp_path / "app.log"
    log_to(path)
    app = LogviewApp(LogStore(StaticFileSource(str(path)), TemplateFormat(DASH)))
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 3)
        await pilot.pause()
        assert "--format" not in status_text(app) and " as " not in status_text(app)
        assert not [n for n in app._notifications if n.title == "Format does not fit"]


async def test_help_lists_each_source_with_its_format(tmp_path):
    text_log = tmp_path / "app.log"
    log_to(text_log)
    json_log = tmp_path / "events.log"
    json_log.write_text('{"level": "info", "message": "started", "time": "2024-05-01T10:00:00Z"}\n'
                        * 3, encoding="utf-8")
    store = MergedStore([open_store(StaticFileSource(str(text_log))),
                         open_store(StaticFileSource(str(json_log)))])
    app = LogviewApp(store)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: "2 formats" in status_text(app))  # too long to list here
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = str(app.screen.query_one("#help-formats").render())
        lines = shown.splitlines()
        assert len(lines) == 2
        assert str(text_log) in lines[0] and "(3/3 lines)" in lines[0]
        assert str(json_log) in lines[1] and "jsonl (3/3 lines)" in lines[1]


def test_status_line_counts_warnings():
    assert "warning" not in StatusBar.render_state(StatusState(source="a")).plain
    text = StatusBar.render_state(StatusState(source="a", notices=2)).plain
    assert "⚠ 2 warnings" in text
