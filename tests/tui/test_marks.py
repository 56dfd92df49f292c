"""Marks (lnav's keys): m marks the cursor record, u U go to the next / previous mark, M shows
only the marked records, C clears them, c copies them; a restart of the store drops them."""

from __future__ import annotations

import numpy as np

from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.marks import Marks
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, loaded, record_list, screen_text, until, write_log


def _said(app: LogviewApp, text: str) -> bool:
    return any(text in str(note.message) for note in app._notifications)


def _status(app: LogviewApp) -> str:
    return screen_text(app).splitlines()[-2]


def _first_cell_style(records: RecordList, row: int):
    """The style of the first cell of ``row`` as the list draws it (non-wrap mode)."""
    line = records.render_line(row - round(records.scroll_y))
    return next(iter(line)).style


def _has_mark(records: RecordList, style) -> bool:
    mark = records.get_component_rich_style("record-list--mark")
    return style is not None and style.bgcolor == mark.bgcolor


async def _go(pilot, records: RecordList, row: int) -> None:
    records.go_to_row(row, follow=False)
    await pilot.pause()


def test_marks_state():
    marks = Marks()
    assert marks.toggle(7) and marks.toggle(3) and marks.toggle(12)
    assert marks.positions.tolist() == [3, 7, 12]
    assert 7 in marks and 8 not in marks
    assert not marks.toggle(7)
    assert marks.positions.tolist() == [3, 12]
    assert marks.within(None, 10).tolist() == [3]
    assert marks.within(np.array([1, 3, 5, 12], dtype=np.int64), 20).tolist() == [3, 12]
    assert marks.within(np.array([4], dtype=np.int64), 20).tolist() == []
    shown = marks.positions
    assert Marks.next_after(shown, 3, 1) == 12 and Marks.next_after(shown, 12, 1) is None
    assert Marks.next_after(shown, 12, -1) == 3 and Marks.next_after(shown, 3, -1) is None
    assert Marks.next_after(shown, 5, -1) == 3
    assert marks.clear() == 2 and len(marks) == 0


async def test_m_marks_and_unmarks_the_cursor_record_with_a_bar(make_store):
    app = LogviewApp(make_store(30))
    async with app.run_test(size=(100, 24)) as pilot:
        records = await loaded(pilot, app, 30)
        await pilot.press("up", "up")
        assert records.cursor_position == 27
        await pilot.press("m")
        assert 27 in records.marks and len(records.marks) == 1
        await until(pilot, lambda: "1 mark" in _status(app))
        # The bar shows under the cursor, and stays when the cursor moves away.
        assert _has_mark(records, _first_cell_style(records, 27))
        await pilot.press("up")
        await pilot.pause()
        assert _has_mark(records, _first_cell_style(records, 27))
        assert not _has_mark(records, _first_cell_style(records, 26))
        await pilot.press("down", "m")
        assert len(records.marks) == 0
        await pilot.pause()
        assert not _has_mark(records, _first_cell_style(records, 27))
        await until(pilot, lambda: "mark" not in _status(app))


async def test_the_mark_shows_on_every_line_of_a_wrapped_record(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 8)
        await pilot.press("up", "up", "m", "backslash")  # the ERROR record, traceback whole
        await until(pilot, lambda: "ValueError: bad value" in screen_text(app))
        screen = records._wrap_screen()
        lines = [y for y, line in enumerate(screen) if line.row == records.cursor_row]
        assert len(lines) >= 5
        for y in lines:
            assert _has_mark(records, next(iter(records.render_line(y))).style)
        other = next(y for y, line in enumerate(screen) if line.row != records.cursor_row)
        assert not _has_mark(records, next(iter(records.render_line(other))).style)


async def test_u_and_U_go_to_the_next_and_previous_mark(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 60)
        for row in (5, 20, 41):
            await _go(pilot, records, row)
            await pilot.press("m")
        await pilot.press("g", "u")
        assert records.cursor_position == 5
        await pilot.press("u")
        assert records.cursor_position == 20
        await pilot.press("u")
        assert records.cursor_position == 41
        await pilot.press("u")
        assert records.cursor_position == 41
        await until(pilot, lambda: _said(app, "No next mark"))
        await pilot.press("U", "U")
        assert records.cursor_position == 5
        await pilot.press("U")
        await until(pilot, lambda: _said(app, "No previous mark"))
        assert records.cursor_position == 5


async def test_M_shows_only_the_marked_records_that_match_the_query(make_store):
    store = make_store(40)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        await pilot.press("M")  # nothing marked: says so, shows everything
        await until(pilot, lambda: _said(app, "No marks"))
        assert not records.marked_only and records.positions is None
        marked = (3, 5, 13, 21, 30)  # 5, 13 and 21 are ERRORs (every 8th from 5)
        for row in marked:
            await _go(pilot, records, row)
            await pilot.press("m")
        await pilot.press("M")
        assert records.marked_only
        assert records.positions.tolist() == list(marked)
        await until(pilot, lambda: "5 of 40 shown" in _status(app)
                    and "marked only" in _status(app))
        app.screen.query_one("QueryBar").submit("level>=ERROR")
        await until(pilot, lambda: app.screen._filter_progress is None
                    and records.positions is not None and records.row_count == 3)
        assert records.positions.tolist() == [5, 13, 21]
        assert [store.record(p).level for p in records.positions.tolist()] == ["ERROR"] * 3
        # Unmarking a record in this view takes it out.
        records.go_to_row(1, follow=False)
        await pilot.press("m")
        assert records.positions.tolist() == [5, 21]
        await pilot.press("M")
        assert not records.marked_only
        assert records.row_count == 10  # the query's matches again (ERROR and CRITICAL)
        await until(pilot, lambda: "marked only" not in _status(app))


async def test_C_clears_every_mark_and_says_how_many(make_store):
    app = LogviewApp(make_store(30))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 30)
        for row in (2, 4, 6):
            await _go(pilot, records, row)
            await pilot.press("m")
        await pilot.press("M", "C")
        assert len(records.marks) == 0 and not records.marked_only
        assert records.row_count == 30
        await until(pilot, lambda: _said(app, "Cleared 3 marks"))
        await pilot.press("C")
        await until(pilot, lambda: _said(app, "No marks to clear"))


async def test_c_copies_the_marked_records_else_the_cursor_record(make_store):
    store = make_store(12)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 12)
        await _go(pilot, records, 3)
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard == store.record(3).raw)
        for row in (7, 5):  # the ERROR record 5 with its traceback, marked after 7
            await _go(pilot, records, row)
            await pilot.press("m")
        await _go(pilot, records, 0)
        await pilot.press("c")
        expected = store.record(5).raw + "\n" + store.record(7).raw
        await until(pilot, lambda: app.clipboard == expected)
        assert "ValueError: bad value" in app.clipboard
        await until(pilot, lambda: _said(app, "Copied 2 marked records"))


async def test_a_store_restart_drops_the_marks(tmp_path):
    path = write_log(tmp_path / "live.log", 30)
    store = LogStore(FileSource(str(path), name="live.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = record_list(app)
        await until(pilot, lambda: records.length == 30)
        await _go(pilot, records, 10)
        await pilot.press("m", "M")
        assert records.marked_only and records.row_count == 1
        generation = store.generation
        path.write_text("")  # truncated in place
        write_log(path, 5)
        await until(pilot, lambda: store.generation != generation)
        await until(pilot, lambda: len(records.marks) == 0)
        assert not records.marked_only
        await until(pilot, lambda: _said(app, "1 mark dropped"))
        await until(pilot, lambda: records.positions is None and records.row_count >= 4)


async def test_the_command_palette_has_the_mark_and_export_commands(make_store):
    app = LogviewApp(make_store(20))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 20)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        for title in ("Mark", "Next mark", "Show only marked", "Clear marks", "Export view"):
            assert title in commands, title
        commands["Mark"].callback()
        await until(pilot, lambda: records.cursor_position in records.marks)
        commands["Show only marked"].callback()
        await until(pilot, lambda: records.marked_only and records.row_count == 1)
        commands["Clear marks"].callback()
        await until(pilot, lambda: not records.marks and records.row_count == 20)
        commands["Export view"].callback()
        await until(pilot, lambda: type(app.screen).__name__ == "ExportDialog")


async def test_searches_keep_to_the_marked_records_after_M(make_store):
    store = make_store(40)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        for row in (2, 6, 13, 20, 29):  # 13 and 29 are ERRORs; 5, 21 and 37 are not marked
            await _go(pilot, records, row)
            await pilot.press("m")
        await pilot.press("M")
        await until(pilot, lambda: records.marked_only and records.row_count == 5)
        await pilot.press("g")
        await until(pilot, lambda: records.cursor_position == 2)
        await pilot.press("e")
        await until(pilot, lambda: records.cursor_position == 13)
        await pilot.press("e")
        await until(pilot, lambda: records.cursor_position == 29)
        await pilot.press("e")
        await until(pilot, lambda: _said(app, "No next error"))
        await pilot.press("E")
        await until(pilot, lambda: records.cursor_position == 13)
        await pilot.press("E")
        await until(pilot, lambda: _said(app, "No previous error"))
        assert records.cursor_position == 13


async def test_find_hits_after_M_are_the_marked_ones(make_store):
    """With only the marked records shown, n goes from marked hit to marked hit (the find's
    known hits include records the view does not show)."""
    store = make_store(40)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        for row in (3, 5, 12, 17, 24):  # u3 is in records 3, 10, 17, 24, 31, 38; 5, 12 are not
            await _go(pilot, records, row)
            await pilot.press("m")
        await pilot.press("slash", *"u3", "enter")
        screen = app.screen
        await until(pilot, lambda: "…" not in screen.find_status()
                    and ("of 6" in screen.find_status() or "6 hits" in screen.find_status()))
        await pilot.press("M", "g")
        assert records.cursor_position == 3
        await pilot.press("n")
        await until(pilot, lambda: records.cursor_position == 17)
        await pilot.press("n")
        await until(pilot, lambda: records.cursor_position == 24)
