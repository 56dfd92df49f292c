"""The rows model: the record list renders from fetched records and never reads the store itself.

The stores here read records only when a gate is open (``record`` blocks until then) and note
which thread called: while it is closed, keys still move the cursor and rows are placeholders;
once it opens, the rows fill in. The UI thread must never be a caller.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from logview.record import Record
from logview.sources.base import StaticFileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.rows import RowRecords, Unavailable
from tui.conftest import DashFormat, loaded, log_line, record_list, screen_text, until, write_log

LONG = " ".join(f"w{i:03d}" for i in range(100))


class GatedStore(LogStore):
    """A store whose ``record`` waits for ``gate`` (a slow disk) and notes the calling threads."""

    def __init__(self, path: Path) -> None:
        super().__init__(StaticFileSource(str(path), name="sample.log"), DashFormat())
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[int] = set()
        self.calls = 0

    def record(self, i: int) -> Record:
        self.threads.add(threading.get_ident())
        self.calls += 1
        self.gate.wait(10)
        return super().record(i)


def _gated(tmp_path: Path, count: int = 200, text: str | None = None) -> GatedStore:
    path = tmp_path / "sample.log"
    if text is None:
        write_log(path, count)
    else:
        path.write_text(text, encoding="utf-8")
    return GatedStore(path)


def _list_lines(app: LogviewApp) -> list[str]:
    records = record_list(app)
    region = records.content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


async def test_keys_move_the_cursor_while_the_store_is_stuck_and_rows_fill_in_later(tmp_path):
    store = _gated(tmp_path)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 200)
        assert "event 199 " in screen_text(app)
        store.gate.clear()  # from now on every read waits (10 s at most)
        calls = store.calls
        try:
            started = time.monotonic()
            records.go_to_row(100, follow=False)  # mid-file: neither end's rows were fetched
            await pilot.press("up", "up")
            assert records.cursor_row == 98
            await until(pilot, lambda: store.calls > calls)  # the worker is stuck in a read
            assert time.monotonic() - started < 5  # no key waited for the stuck read
            assert not records.rows_ready
            lines = _list_lines(app)
            assert records.scroll_y == 98 and lines[0].startswith("…")
            assert "event" not in "\n".join(lines)
            await pilot.press("down")
            assert records.cursor_row == 99
        finally:
            store.gate.set()
        await until(pilot, lambda: records.rows_ready)
        lines = _list_lines(app)
        assert "event 98 " in lines[0] and "event 99 " in lines[1]
        assert threading.main_thread().ident not in store.threads


async def test_render_line_never_reads_the_store(tmp_path):
    store = _gated(tmp_path, 500)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = await loaded(pilot, app, 500)
        for keys in (("g",), ("pagedown", "pagedown"), ("backslash",), ("down",) * 5,
                     ("end",), ("backslash", "pageup")):
            await pilot.press(*keys)
            await until(pilot, lambda: records.rows_ready)
            records.render_line(0)
        assert store.calls > 0 and store.threads
        assert threading.main_thread().ident not in store.threads


async def test_the_cursor_record_shows_whole_once_wrapped_rows_arrive(tmp_path):
    text = "".join(log_line(i, "INFO", f"long {i} {LONG}" if i % 2 == 0 else None)
                   for i in range(400))  # row 200 is far from both ends (they are fetched)
    store = _gated(tmp_path, text=text)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 400)
        await pilot.press("g", "backslash")
        await until(pilot, lambda: records.rows_ready)
        store.gate.clear()
        try:
            records.go_to_row(200, follow=False)  # far below: its rows are not fetched yet
            await pilot.pause()
            assert not records.rows_ready
        finally:
            store.gate.set()

        def cursor_whole() -> bool:
            shown = [line for line in records._wrap_screen() if line.row == 200]
            return bool(shown) and shown[0].index == 0 and shown[-1].index == shown[-1].lines - 1

        await until(pilot, lambda: records.rows_ready and cursor_whole())
        assert len([line for line in records._wrap_screen() if line.row == 200]) > 5  # wrapped
        assert "long 200 w000" in "\n".join(_list_lines(app))


async def test_copy_of_a_record_not_fetched_yet_does_not_block(tmp_path):
    store = _gated(tmp_path)
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 200)
        store.gate.clear()
        try:
            records.go_to_row(101, follow=False)  # mid-file: not fetched yet
            await pilot.press("c")
            assert records.cursor_row == 101
            assert not app.clipboard
        finally:
            store.gate.set()
        await until(pilot, lambda: app.clipboard.startswith("2024-05-01 12:02:31,500 ERROR"))
        assert app.clipboard.endswith("ValueError: bad value")


async def test_a_reset_forgets_the_fetched_rows(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 40)
        generation = records.store.generation
        assert records.rows.peek(generation, 39) is not None
        records.reset()
        assert records.rows.peek(generation, 39) is None
        records.set_length(40)
        await until(pilot, lambda: records.rows_ready and "event 39 " in screen_text(app))


def test_the_model_fetches_rows_on_screen_first_in_order_then_those_ahead(tmp_path):
    path = write_log(tmp_path / "sample.log", 30)
    store = GatedStore(path)
    store.update(final=True)
    order: list[int] = []
    told = threading.Event()
    real = store.record

    def record(i: int) -> Record:
        order.append(i)
        return real(i)

    store.record = record  # type: ignore[method-assign]
    rows = RowRecords(store, told.set)
    gen = store.generation
    worker = threading.Thread(target=rows.run, args=(lambda: False,))
    store.gate.clear()  # let the requests pile up before anything is read
    worker.start()
    try:
        assert rows.get(gen, 12) is None and rows.get(gen, 10) is None
        rows.request(gen, [12, 11, 10], [20, 2, 13])
        store.gate.set()
        assert told.wait(5)  # told once the rows on screen are in
        assert all(rows.peek(gen, p) is not None for p in (10, 11, 12))
        assert order[:3] == [10, 11, 12]
        deadline = time.monotonic() + 5
        while rows.peek(gen, 20) is None and time.monotonic() < deadline:
            told.wait(0.01)  # the pages ahead come in without a message
        assert order == [10, 11, 12, 2, 13, 20]
        assert rows.get(gen, 11).message.startswith("event 11 ")
        assert isinstance(rows.peek(gen, 2), Record)
    finally:
        rows.stop()
        worker.join(5)
    assert not worker.is_alive()


def test_a_fetch_under_way_when_the_model_is_cleared_is_dropped(tmp_path):
    store = _gated(tmp_path, 10)
    store.update(final=True)
    entered = threading.Event()
    told = threading.Event()
    real = store.record

    def record(i: int) -> Record:
        entered.set()
        return real(i)

    store.record = record  # type: ignore[method-assign]
    rows = RowRecords(store, told.set)
    gen = store.generation
    worker = threading.Thread(target=rows.run, args=(lambda: False,))
    store.gate.clear()
    worker.start()
    try:
        rows.request(gen, [3], [])
        assert entered.wait(5)  # the worker is reading record 3
        rows.clear()  # the store restarted meanwhile
        store.gate.set()
        assert told.wait(5)
        assert rows.peek(gen, 3) is None
        assert rows.get(gen, 99) is None  # out of range: queued, then shown as unavailable
        told.clear()
        rows.request(gen, [99], [])
        assert told.wait(5)
        assert isinstance(rows.peek(gen, 99), Unavailable)
    finally:
        rows.stop()
        worker.join(5)


async def test_a_list_that_follows_a_growing_file_never_shows_placeholders(tmp_path):
    """The follower fills in the rows at the end before it tells the list of them, so a
    followed log never blinks to placeholders as it grows (or while a big file indexes)."""
    from logview.sources.file import FileSource

    path = write_log(tmp_path / "live.log", 50)
    store = LogStore(FileSource(str(path), name="live.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        records = await loaded(pilot, app, 50)
        await until(pilot, lambda: records.rows_ready)
        misses: list[int] = []
        real_get = records.rows.get

        def get(generation: int, position: int):
            value = real_get(generation, position)
            if value is None:
                misses.append(position)
            return value

        records.rows.get = get
        for batch in range(1, 6):
            write_log(path, 40, start=10 + 40 * batch)
            await until(pilot, lambda batch=batch: records.length >= 50 + 40 * batch)
            await pilot.pause()
        assert records.following and misses == []
