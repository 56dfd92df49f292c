"""Wrap mode (``\\``): long rows continue on the following lines, under the message column."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.record_list import RecordList
from tui.conftest import loaded, log_line, record_list, screen_text, until

LONG = " ".join(f"w{i:03d}" for i in range(100))  # 499 characters, words to break at


async def _press(pilot, records: RecordList, *keys: str) -> None:
    """Press ``keys``, then wait until the rows on screen show their records."""
    await pilot.press(*keys)
    await until(pilot, lambda: records.rows_ready)


def _list_lines(app: LogviewApp) -> list[str]:
    """The record list's screen lines as text."""
    records = record_list(app)
    region = records.content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


def _long_log(count: int, long_every: int) -> str:
    return "".join(
        log_line(i, "INFO", f"long {i} {LONG}" if i % long_every == 0 else None) for i in range(count)
    )


async def test_a_long_message_wraps_under_the_message_column(make_store):
    app = LogviewApp(make_store(text=_long_log(10, 5)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 10)
        await _press(pilot, records, "g", "backslash")
        assert records.wrap
        lines = _list_lines(app)
        assert "long 0 w000" in lines[0]
        column = lines[0].index("long 0")
        continued = lines[1 : lines.index(next(line for line in lines if "event 1 " in line))]
        assert len(continued) >= 6  # ~500 characters in a ~45-cell message column
        assert all(line[:column].strip() == "" and line[column] != " " for line in continued)
        assert "w099" in continued[-1]
        words = " ".join(line[column:].strip() for line in [lines[0], *continued])
        assert f"long 0 {LONG}" in words  # nothing lost or cut mid-word
        assert records.virtual_size.width == 0 and records.max_scroll_x == 0


async def test_cursor_down_through_wrapped_records_keeps_the_cursor_visible(make_store):
    app = LogviewApp(make_store(text=_long_log(40, 2)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        await _press(pilot, records, "g", "backslash")
        for row in range(1, 17):
            await _press(pilot, records, "down")
            await until(pilot, lambda row=row: records.cursor_row == row)  # (loaded machines)
            screen = records._wrap_screen()
            shown = [line for line in screen if line.row == row]
            assert shown and shown[0].index == 0 and shown[-1].index == shown[-1].lines - 1
            text = "\n".join(_list_lines(app))
            assert (f"long {row} w000" if row % 2 == 0 else f"event {row} ") in text
        assert records.scroll_y > 3  # it scrolled by records
        for row in range(15, 0, -1):
            await _press(pilot, records, "up")
            shown = [line for line in records._wrap_screen() if line.row == row]
            assert shown and shown[0].index == 0


async def test_follow_shows_the_newest_records_last_line_at_the_bottom(make_store):
    app = LogviewApp(make_store(text=_long_log(31, 10)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 31)
        await pilot.press("g", "backslash", "G")
        assert records.following and records.cursor_row == 30
        await until(pilot, lambda: "w099" in _list_lines(app)[-1])
        lines = _list_lines(app)
        assert any("long 30 w000" in line for line in lines)
        assert "event 29 " in "\n".join(lines)


async def test_toggling_back_gives_one_line_per_record_and_horizontal_scroll(make_store):
    app = LogviewApp(make_store(text=_long_log(10, 5)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 10)
        await _press(pilot, records, "g", "backslash")
        assert len([line for line in _list_lines(app) if line.strip()]) > 10
        await pilot.press("backslash")
        assert not records.wrap
        await until(pilot, lambda: records.max_scroll_x > 0 and records.rows_ready)
        lines = _list_lines(app)
        assert "long 0 w000" in lines[0] and "event 1 " in lines[1]
        await pilot.press("right")
        await until(pilot, lambda: records.scroll_x > 0)


async def test_the_cursor_record_shows_whole_with_its_traceback(make_store):
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 8)
        await _press(pilot, records, "backslash")
        text = "\n".join(_list_lines(app))
        assert "ValueError: bad value" not in text and "+4" in text
        await _press(pilot, records, "up", "up")  # the ERROR record
        text = "\n".join(_list_lines(app))
        assert "ValueError: bad value" in text and "main()" in text
        assert records.cursor_position == 5


async def test_hostile_text_stays_printable_when_wrapped(make_store):
    evil = "\x1b]52;c;AAAA\x07 \x1b[2J" + "x\x08\x1b[31m" * 100
    app = LogviewApp(make_store(text=log_line(0, "INFO", evil)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 1)
        await _press(pilot, records, "backslash")
        lines = _list_lines(app)
        assert all("\x1b" not in line for line in lines)
        assert "x␈x␈" in "\n".join(lines)


async def test_a_large_store_lays_out_only_a_screenful(make_store, monkeypatch):
    # 20,000 records (5 MB) is 200 times the records a screen needs; laying out all of
    # them would touch every one. The newest record (19998) is a long one.
    count = 19_999
    app = LogviewApp(make_store(text=_long_log(count, 3)))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, count)
        store = records.store
        touched: set[int] = set()
        real_record = store.record

        def counting_record(position: int):
            touched.add(position)
            return real_record(position)

        monkeypatch.setattr(store, "record", counting_record)
        await pilot.press("backslash")
        await until(pilot, lambda: "w099" in _list_lines(app)[-1])
        await pilot.press("g")
        await until(pilot, lambda: "long 0 w000" in _list_lines(app)[0])
        for _ in range(10):
            await pilot.press("pagedown")
        assert 0 < records.cursor_row < 200
        await pilot.pause()
        assert len(touched) < 4 * records.size.height, len(touched)


async def test_wrapped_lines_are_never_hidden_behind_the_scrollbar(tmp_path):
    """Every word of the wrapped cursor record is on screen left of the scrollbar (two cells
    of each wrapped line were behind it)."""
    from logview.sources.base import StaticFileSource
    from logview.store import LogStore
    from tui.conftest import DashFormat

    path = tmp_path / "sample.log"
    path.write_text(_long_log(200, 50), encoding="utf-8")
    app = LogviewApp(LogStore(StaticFileSource(str(path), name="sample.log"), DashFormat()))
    async with app.run_test(size=(80, 40)) as pilot:
        records = await loaded(pilot, app, 200)
        assert records.show_vertical_scrollbar
        await _press(pilot, records, "backslash")
        records.go_to_row(150, follow=False)  # a long record, wrapped whole on the cursor
        await until(pilot, lambda: records.rows_ready)
        await pilot.pause()
        region = records.scrollable_content_region
        lines = screen_text(app).split("\n")[region.y : region.y + region.height]
        visible = " ".join(line[region.x : region.x + region.width] for line in lines)
        assert all(f"w{i:03d}" in visible.split() for i in range(100)), visible
