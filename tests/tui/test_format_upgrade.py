"""A followed log that crashes while it is viewed: the interpreter's lines become records of
their own (the store reads the log again once with them), and the cursor of a reader scrolled
up stays on its record."""

from __future__ import annotations

from test_python_stderr import TEMPLATES, write_log

from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from tui.conftest import loaded, until


async def test_a_crash_while_viewing_keeps_the_cursor_on_its_record(tmp_path):
    whole = write_log(tmp_path / "whole.log", TEMPLATES[1], 300, "late")
    cut = whole.index(b"Exception in thread")
    path = tmp_path / "app.log"
    path.write_bytes(whole[:cut])
    store = LogStore(FileSource(str(path)))
    app = LogviewApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        records = await loaded(pilot, app, 302)
        await pilot.press("g", "j", "j", "j", "j", "j")
        await until(pilot, lambda: records.cursor_position == 5 and not records.following)
        reading = store.record(5).message
        generation = store.generation
        with path.open("ab") as log:
            log.write(whole[cut:])
        await until(pilot, lambda: store.generation > generation
                    and "python-stderr" in store.format.name and len(store) > 600)
        # (the crash is the last record: it is complete once the log stays quiet)
        await until(pilot, lambda: store.record(len(store) - 1).message
                    == "Fatal Python error: Segmentation fault", timeout=15)
        await until(pilot, lambda: records.row_count == len(store), timeout=15)
        assert records.cursor_position == 5 and not records.following
        assert store.record(5).message == reading
        assert store.record(len(store) - 1).levelno == 50
