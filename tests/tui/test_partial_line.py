"""A half-written last line is never shown as a record of its own in the viewer."""

from __future__ import annotations

import asyncio

from logview.follow import QUIET_FLUSH
from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, log_line, until, write_log


async def test_quiet_mid_line_waits_for_the_rest(tmp_path):
    path = write_log(tmp_path / "live.log", 5)
    store = LogStore(FileSource(str(path), name="live.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 5)
        first, rest = log_line(5, "INFO", "written in two halves").split("halves")
        with path.open("a") as f:
            f.write(first)
        # Longer than the quiet flush: the record must stay pending, not appear cut.
        await until(pilot, lambda: store.source.size() > path.stat().st_size - 1)
        # Proving that something does not happen needs a wait: three quiet-flush periods.
        await asyncio.sleep(3 * QUIET_FLUSH)
        assert records.length == 5
        with path.open("a") as f:
            f.write("halves" + rest)
        await until(pilot, lambda: records.length == 6)
        assert store.record(5).message == "written in two halves"
