"""``--redact`` in the viewer: the list, the detail, the copy and the query see masked text."""

from __future__ import annotations

from logview.redact import Redactor, choose_rules
from logview.sources.base import StaticFileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.widgets.detail import DetailScreen
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, log_line, screen_text, until


def _store(tmp_path, search_original: bool = False) -> LogStore:
    path = tmp_path / "app.log"
    lines = [log_line(i) for i in range(6)]
    lines.append(log_line(6, "ERROR", "login bob@example.com from 10.1.2.3"))
    lines.append(log_line(7, "INFO", "paid with 4111 1111 1111 1111"))
    path.write_text("".join(lines), encoding="utf-8")
    redactor = Redactor(choose_rules(["all"]), search_original=search_original)
    return LogStore(StaticFileSource(str(path), name="app.log"), DashFormat(), redactor)


async def test_list_detail_and_copy_show_redacted_text(tmp_path):
    app = LogviewApp(_store(tmp_path))
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 8 and records.rows_ready)
        await until(pilot, lambda: "login [email] from [ipv4]" in screen_text(app))
        shown = screen_text(app)
        assert "paid with [card]" in shown
        assert "  redacted" in shown  # the status line says what is shown is masked
        assert "bob@" not in shown and "10.1.2.3" not in shown and "4111" not in shown
        await pilot.press("up")  # the login record (the ERROR with a traceback)
        await pilot.press("c")
        assert "login [email] from [ipv4]" in app.clipboard and "bob@" not in app.clipboard
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await until(pilot, lambda: "[email]" in screen_text(app))
        detail = screen_text(app)
        assert "login [email] from [ipv4]" in detail
        assert "bob@" not in detail and "10.1.2.3" not in detail


async def test_query_reads_redacted_text(tmp_path):
    app = LogviewApp(_store(tmp_path), query="bob@example.com")
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.positions is not None
                    and app.screen._filter_progress is None)
        assert records.row_count == 0
        assert "0 of 8 shown" in screen_text(app)
    app = LogviewApp(_store(tmp_path, search_original=True), query="bob@example.com")
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.positions is not None and records.row_count == 1)
        await until(pilot, lambda: "login [email]" in screen_text(app))
        # The address is in the query bar (the user's own text), in no row.
        lines = screen_text(app).splitlines()
        assert [line for line in lines if "bob@" in line] == [lines[0]]


async def test_without_redact_the_status_line_says_nothing_of_it(tmp_path):
    path = tmp_path / "app.log"
    path.write_text("".join(log_line(i) for i in range(3)), encoding="utf-8")
    app = LogviewApp(LogStore(StaticFileSource(str(path), name="app.log"), DashFormat()))
    async with app.run_test(size=(100, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 3 and records.rows_ready)
        assert "redacted" not in screen_text(app)
