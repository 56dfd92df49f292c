"""The logger column: left out while none of the records counted names a logger (celery's and
gunicorn's default formats write none: 24 blank cells on every row otherwise), back as soon
as one does."""

from __future__ import annotations

import json

from logview.formats.jsonl import JsonFormat
from logview.sources.base import MemorySource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from tui.conftest import loaded, screen_text, until


def _line(i: int, logger: str | None = None) -> str:
    record = {"time": f"2024-01-02T03:04:{i:02d}Z", "level": "info", "msg": f"event {i}"}
    if logger is not None:
        record["logger"] = logger
    return json.dumps(record) + "\n"


def _row(app: LogviewApp, event: int) -> str:
    return next(line for line in screen_text(app).splitlines() if f"event {event}" in line)


async def test_no_logger_column_until_a_record_names_a_logger():
    source = MemorySource("memory", "".join(_line(i) for i in range(5)).encode())
    app = LogviewApp(LogStore(source, JsonFormat()))
    async with app.run_test(size=(120, 30)) as pilot:
        records = await loaded(pilot, app, 5)
        await until(pilot, lambda: not records.shows_loggers)
        await until(pilot, lambda: "INFO  event 4" in screen_text(app))
        assert records.columns_width(True) == 23 + 1 + 5 + 1

        source.append(_line(5, logger="app.db").encode())
        await until(pilot, lambda: records.shows_loggers)
        await loaded(pilot, app, 6)
        await until(pilot, lambda: "app.db" in _row(app, 5))
        named, blank = _row(app, 5), _row(app, 4)
        # Both messages start after the logger column, the unnamed record's left blank.
        assert named.index("event 5") == blank.index("event 4") == 23 + 1 + 5 + 1 + 24 + 1
        assert named.index("app.db") == 23 + 1 + 5 + 1


async def test_a_log_with_loggers_keeps_its_column_from_the_start():
    source = MemorySource("memory", "".join(_line(i, "app") for i in range(5)).encode())
    app = LogviewApp(LogStore(source, JsonFormat()))
    async with app.run_test(size=(120, 30)) as pilot:
        records = await loaded(pilot, app, 5)
        assert records.shows_loggers
        await until(pilot, lambda: "app" in _row(app, 4))
        assert _row(app, 4).index("event 4") == 23 + 1 + 5 + 1 + 24 + 1
