"""The record list: rows, movement keys, following and pausing, search keys, copy, wrap."""

from __future__ import annotations

import numpy as np

from logview.record import printable
from logview.scan import RecordTest
from logview.tui.app import LogviewApp
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.row_text import first_line, format_time
from tui.conftest import loaded, screen_text, until


async def test_opens_at_newest_record_following(make_store):
    app = LogviewApp(make_store(100))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 100)
        assert records.following
        assert records.cursor_row == 99
        assert records.cursor_position == 99
        text = screen_text(app)
        assert "event 99 " in text and "event 0 " not in text
        assert "100 records" in text


async def test_movement_keys(make_store):
    app = LogviewApp(make_store(100))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 100)
        await pilot.press("up")
        assert records.cursor_row == 98 and not records.following
        await pilot.press("k", "k")
        assert records.cursor_row == 96
        await pilot.press("j")
        assert records.cursor_row == 97
        await pilot.press("down")
        assert records.cursor_row == 98
        await pilot.press("g")
        assert records.cursor_row == 0 and records.scroll_y == 0
        await pilot.press("pagedown")
        page = records.size.height - 1
        assert records.cursor_row == page
        assert records.scroll_y <= page < records.scroll_y + records.size.height
        await pilot.press("pageup")
        assert records.cursor_row == 0
        await pilot.press("end")
        assert records.cursor_row == 99 and records.following
        await pilot.press("home")
        assert records.cursor_row == 0 and not records.following
        await pilot.press("G")
        assert records.cursor_row == 99 and records.following
        await pilot.pause()
        assert records.scroll_y == records.max_scroll_y


async def test_rows_show_time_level_logger_and_more_lines_marker(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, 8)
        lines = screen_text(app).splitlines()
        error = next(line for line in lines if "event 5 " in line)
        assert error.startswith("12:00:07.500 ERROR app.db")
        assert error.rstrip().endswith("+4")  # the traceback's four lines
        assert any(line.startswith("12:00:10.500 CRIT  worker") for line in lines)


async def test_wide_terminal_shows_the_date(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot, app, 8)
        assert "2024-05-01 12:00:07.500 ERROR app.db" in screen_text(app)


async def test_hostile_text_cannot_reach_the_terminal(make_store):
    evil = "2024-05-01 12:00:00,000 INFO app: pwn \x1b]0;title\x07 \x1b[2J \x9b31m bell\x07\n"
    app = LogviewApp(make_store(text=evil))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, 1)
        text = screen_text(app)
        assert "pwn" in text
        assert not any(ch in text for ch in "\x1b\x07\x9b")


async def test_error_and_warning_keys(make_store):
    """e/E: next/previous ERROR or worse; w/W: next/previous WARNING or worse (as lnav's w)."""
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        steps = [("e", 5), ("e", 7), ("E", 5), ("w", 7), ("W", 5), ("W", 3)]
        await pilot.press("g")
        for key, row in steps:  # ERROR at 5, CRITICAL at 7, WARNING at 3 and 11
            await pilot.press(key)
            await until(pilot, lambda row=row: records.cursor_row == row)
        await pilot.press("W")  # none before: stays, and says so
        await until(pilot, lambda: any("No previous warning" in str(n.message)
                                       for n in app._notifications))
        assert records.cursor_row == 3


async def test_far_search_runs_in_a_worker(make_store):
    app = LogviewApp(make_store(1000))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 1000)
        records.go_to_row(0, follow=False)
        records.find(RecordTest(lambda record: "event 900 " in record.message), 1, "x")
        await until(pilot, lambda: records.cursor_row == 900)
        records.find(RecordTest(lambda record: "event 3 " in record.message), -1, "x")
        await until(pilot, lambda: records.cursor_row == 3)


async def test_copy_puts_the_raw_record_on_the_clipboard(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 8)
        await pilot.press("up", "up")  # the ERROR record with its traceback
        assert records.cursor_position == 5
        await pilot.press("c")
        assert app.clipboard.startswith("2024-05-01 12:00:07,500 ERROR app.db: event 5")
        assert app.clipboard.endswith("ValueError: bad value")


async def test_wrap_toggle_shows_the_whole_cursor_record(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 8)
        await pilot.press("up", "up", "backslash")
        await until(pilot, lambda: records.wrap)  # (keys may wait their turn under load)
        await until(pilot, lambda: "ValueError: bad value" in screen_text(app))
        await pilot.press("backslash")
        await until(pilot, lambda: not records.wrap)
        await until(pilot, lambda: "ValueError: bad value" not in screen_text(app))


async def test_positions_array_maps_rows_and_keeps_the_cursor_record(make_store):
    app = LogviewApp(make_store(50))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 50)
        records.go_to_row(20, follow=False)
        records.set_positions(np.arange(0, 50, 5, dtype=np.int64))
        assert records.row_count == 10
        assert records.cursor_position == 20 and records.cursor_row == 4
        assert records.position_at(9) == 45
        records.set_positions(None)
        assert records.row_count == 50 and records.cursor_position == 20


def test_row_helpers_are_safe_and_fixed_width():
    from logview.record import Record

    assert format_time(Record(message="x"), False) == " " * 12
    assert len(format_time(Record(message="x", time_text="\x1b[31mnow"), True)) == 23
    assert first_line("a\tb\x1b[2Jc\nsecond") == printable("a       b\x1b[2Jc")


async def test_a_filter_applied_while_scrolled_up_keeps_the_cursor_on_its_record(make_store):
    """The cursor stays on its record when it matches, else on the nearest match; it stays on
    screen, and the matches found while the filter runs are not counted as new rows."""
    app = LogviewApp(make_store(3000))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 3000)
        records.go_to_row(1000, follow=False)
        bar = app.screen.query_one(QueryBar)
        # 1000 % 7 == 6 (it matches); WARNING or worse at 999 (CRITICAL) and 1003: the nearer
        for query, expected in (('"user=u6 "', 1000), ("level>=WARNING", 999), ("", 999)):
            bar.submit(query)
            await until(pilot, lambda query=query: app.screen.query_text == query
                        and app.screen._filter_progress is None
                        and (records.positions is None) == (query == ""))
            assert records.cursor_position == expected, query
            await pilot.pause()
            top = round(records.scroll_y)
            assert top <= records.cursor_row < top + records.scrollable_content_region.height
            assert records.new_rows == 0 and not records.following


async def test_a_search_hit_keeps_rows_of_context_around_it(make_store):
    """e/n/w and their reverses leave a few rows after (or before) the hit in sight, like
    less's and vim's scrolloff, instead of putting it on the last (or first) row."""
    app = LogviewApp(make_store(300))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 300)
        records.go_to_row(0, follow=False)
        height = records.scrollable_content_region.height
        records.find(RecordTest(lambda record: "event 150 " in record.message), 1, "x")
        await until(pilot, lambda: records.cursor_row == 150)
        top = round(records.scroll_y)
        assert top + 3 <= 150 <= top + height - 1 - 3
        records.find(RecordTest(lambda record: "event 20 " in record.message), -1, "x")
        await until(pilot, lambda: records.cursor_row == 20)
        assert round(records.scroll_y) == 20 - 3


def test_long_logger_names_shorten_by_segments_and_tabs_go_to_tab_stops():
    from logview.tui.widgets.row_text import fit_logger

    assert fit_logger("urllib3.connectionpool", 16) == "u.connectionpool"
    assert fit_logger("app.web.request.handlers", 14) == "a.w.r.handlers"
    assert fit_logger("django.db.backends", 24) == "django.db.backends"  # fits: unchanged
    assert fit_logger("averyveryverylongloggername", 14) == "…ongloggername"
    assert len(fit_logger("x.averyveryverylongloggername", 14)) == 14
    assert first_line("a\tb\tc") == "a       b       c"  # tab stops, not four spaces
    assert first_line("abcdefgh\tx") == "abcdefgh        x"


async def test_a_smaller_terminal_keeps_the_cursor_on_screen(make_store):
    app = LogviewApp(make_store(300))
    async with app.run_test(size=(80, 40)) as pilot:
        records = await loaded(pilot, app, 300)
        records.go_to_row(0, follow=False)
        height = records.scrollable_content_region.height
        records.go_to_row(height - 2, follow=False)  # near the bottom of the tall screen
        await pilot.pause()
        await pilot.resize_terminal(80, 16)

        def cursor_on_screen() -> bool:
            top = round(records.scroll_y)
            return top <= records.cursor_row < top + records.scrollable_content_region.height

        await until(pilot, cursor_on_screen)


async def test_the_cursor_bar_covers_every_column_and_a_match_on_it_stays_visible(make_store):
    """The cursor's background runs under the time and logger columns too; a search match on
    the cursor row keeps a background of its own (distinct from the cursor's)."""
    app = LogviewApp(make_store(30), query="event")
    async with app.run_test(size=(100, 24)) as pilot:
        records = await loaded(pilot, app, 30)
        await until(pilot, lambda: records.positions is not None and records.rows_ready)
        await pilot.pause()
        y = records.cursor_row - round(records.scroll_y)
        cursor_bg = records.get_component_rich_style("record-list--cursor").bgcolor
        segments = [s for s in records.render_line(y) if s.text.strip()]
        time_segment, logger_segment = segments[0], segments[2]
        assert time_segment.style.bgcolor == cursor_bg
        assert logger_segment.style.bgcolor == cursor_bg
        match = next(s for s in segments if s.text == "event")
        assert match.style.bgcolor is not None and match.style.bgcolor != cursor_bg
        other = records.render_line(y - 1)  # a row without the cursor: no cursor background
        assert all(s.style is None or s.style.bgcolor != cursor_bg for s in other)
