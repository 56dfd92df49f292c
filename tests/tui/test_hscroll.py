"""Horizontal scroll (wrap off): ← → and the scrollbar move the logger and the message; the
time, level and source columns stay in place."""

from __future__ import annotations

from logview.tui.app import LogviewApp
from logview.tui.widgets.record_list import RecordList
from tui.conftest import log_line, screen_text, until

LONG = "".join(f"<{i:03d}>" for i in range(60))  # 300 characters, each place readable


def _lines(app: LogviewApp) -> list[str]:
    region = app.screen.query_one(RecordList).content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


async def test_right_scrolls_logger_and_message_under_fixed_time_and_level(make_store):
    text = "".join(log_line(i, "WARNING", f"m{i} {LONG}") for i in range(5))
    app = LogviewApp(make_store(text=text))
    async with app.run_test(size=(100, 20)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 5 and records.rows_ready)
        await pilot.press("g")
        await until(pilot, lambda: records.rows_ready)
        before = _lines(app)[0]
        fixed = records.fixed_width(False)
        assert before.startswith("12:00:00.000 WARN ") and before[fixed:].startswith("app ")
        await pilot.press("right")  # a quarter of the logger and message's width
        step = (records.size.width - fixed) // 4
        await until(pilot, lambda: records.scroll_x == step)
        await pilot.press("right", "left", "left")
        await until(pilot, lambda: records.scroll_x == 0)
        records.scroll_to(x=40, animate=False, immediate=True)
        await until(pilot, lambda: records.scroll_x == 40 and _lines(app)[0] != before)
        lines = _lines(app)
        assert lines[0][:fixed] == before[:fixed]  # time and level in place
        assert lines[1].startswith("12:00:01.500 WARN ")
        whole = records._row_text(records.store.record(0), False).plain
        assert lines[0][fixed:].rstrip() == whole[fixed + 40 : 40 + records.size.width].rstrip()
        await pilot.press("left")
        await until(pilot, lambda: records.scroll_x == 40 - step)
        assert _lines(app)[0][:fixed] == before[:fixed]
