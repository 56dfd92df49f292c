"""The viewer's counting keeps each record's level and logger (the store's record columns):
once counted, the level keys and the tree's exclusions filter without reading a record."""

from __future__ import annotations

from logview import scan
from logview.tui.app import LogviewApp
from logview.tui.widgets.level_bar import LevelBar
from tui.conftest import until


async def test_level_key_filters_counted_records_from_columns(make_store, monkeypatch):
    store = make_store(3000)
    store.update(final=True)
    want = [i for i in range(len(store)) if store.record(i).levelno >= 40]
    assert 0 < len(want) < len(store)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.screen.query_one(LevelBar)
        await until(pilot, lambda: len(store.columns) == len(store) and not bar.counting
                    and sum(bar.counts) + bar.unknown == len(store), timeout=20)
        assert sum(bar.counts[3:]) == len(want)

        def no_scan(*args, **kwargs):
            raise AssertionError("records were scanned to filter by level")

        monkeypatch.setattr(scan, "_chunks", no_scan)  # (rows on screen are still read)
        await pilot.press("4")
        records = app.screen.records
        await until(pilot, lambda: records.positions is not None
                    and len(records.positions) == len(want), timeout=10)
        assert records.positions.tolist() == want
