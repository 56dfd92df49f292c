"""Every record expanded in place (``z``): each record shows all its lines under its header
row, the traceback coloured as in the detail view; ``z`` again: one row per record."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar
from tui.conftest import TRACEBACK, loaded, log_line, record_list, screen_text, until


async def _press(pilot, records: RecordList, *keys: str) -> None:
    await pilot.press(*keys)
    await until(pilot, lambda: records.rows_ready)


def _lines(app: LogviewApp) -> list[str]:
    region = record_list(app).content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


def _style_at(strip, offset: int):
    """The style of the cell at ``offset`` of ``strip``."""
    for segment in strip:
        if offset < len(segment.text):
            return segment.style
        offset -= len(segment.text)
    raise IndexError(offset)


def _log(count: int) -> str:
    """Records every 1.5 s; every 8th from 5 on is an ERROR with a 4-line traceback, and
    record 2 has a second message line."""
    return "".join(log_line(i, message="two lines\nsecond line" if i == 2 else None)
                   for i in range(count))


async def test_z_shows_every_record_whole_and_z_again_one_row_each(make_store):
    app = LogviewApp(make_store(text=_log(30)))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await loaded(pilot, app, 30)
        await _press(pilot, records, "g")
        assert not any("ValueError: bad value" in line for line in _lines(app))
        await _press(pilot, records, "z")
        # (the key's effect, waited for: a loaded CI machine once ran the check before it)
        await until(pilot, lambda: records.expand_all and records.rows_ready)
        lines = _lines(app)
        header = next(i for i, line in enumerate(lines) if "event 5 " in line)
        assert "+4" not in lines[header]  # no "more lines" marker: they are shown
        column = lines[header].index("event 5")
        body = [line[column:].rstrip(" ▁▂▃▄▅▆▇█") for line in lines[header + 1 : header + 5]]
        assert body == TRACEBACK.rstrip("\n").split("\n")
        assert all(line[:column].strip() == "" for line in lines[header + 1 : header + 5])
        assert "event 6 " in lines[header + 5]
        second = next(i for i, line in enumerate(lines) if "two lines" in line)
        assert "second line" in lines[second + 1]
        assert "expanded" in str(app.screen.query_one(StatusBar).render())
        await _press(pilot, records, "z")
        await until(pilot, lambda: not records.expand_all and records.rows_ready)
        lines = _lines(app)
        assert not any("ValueError" in line for line in lines)
        assert [f"event {i} " in lines[i] for i in range(3, 8)] == [True] * 5


async def test_expanded_traceback_is_coloured_like_the_detail_view(make_store):
    app = LogviewApp(make_store(text=_log(8)))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await loaded(pilot, app, 8)
        await _press(pilot, records, "g", "z")
        strips = records._record_lines(5)
        assert len(strips) == 5
        last = strips[-1]  # "ValueError: bad value"
        assert "ValueError: bad value" in last.text
        assert _style_at(last, last.text.index("ValueError")).color is not None
        assert _style_at(strips[0], strips[0].text.index("event 5")).color is None


async def test_moving_paging_jumping_and_following_with_expanded_records(make_store):
    app = LogviewApp(make_store(text=_log(60)))
    async with app.run_test(size=(100, 24)) as pilot:
        records = await loaded(pilot, app, 60)
        await _press(pilot, records, "z")
        lines = _lines(app)
        assert "event 59 " in lines[-1] and "ValueError: bad value" in lines[-7]  # record 53
        assert records.following
        await _press(pilot, records, "g")
        for row in range(1, 12):
            await _press(pilot, records, "down")
            shown = [line for line in records._wrap_screen() if line.row == row]
            assert shown and shown[0].index == 0 and shown[-1].index == shown[-1].lines - 1
        await _press(pilot, records, "pagedown")
        assert records.cursor_row > 12
        shown = [line for line in records._wrap_screen() if line.row == records.cursor_row]
        assert shown and shown[0].index == 0
        start = records.cursor_row
        await _press(pilot, records, "e")
        error = records.cursor_row
        assert error > start and error % 8 == 5
        shown = [line for line in records._wrap_screen() if line.row == error]
        assert len(shown) == 5  # the error's header and its whole traceback are on screen
        await _press(pilot, records, "G")
        assert records.following and records.cursor_row == 59
        assert "event 59 " in _lines(app)[-1]


async def test_expanded_without_wrap_cuts_long_lines_and_wrap_wraps_them(make_store):
    long = "x" * 300
    text = "".join(log_line(i, "INFO", f"m{i}\n{long}" if i == 1 else None) for i in range(5))
    app = LogviewApp(make_store(text=text))
    async with app.run_test(size=(100, 24)) as pilot:
        records = await loaded(pilot, app, 5)
        await _press(pilot, records, "g", "z")
        assert len(records._record_lines(1)) == 2
        await _press(pilot, records, "backslash")
        assert len(records._record_lines(1)) >= 4
