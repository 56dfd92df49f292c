"""A JSON record's fields in its row, after the message's first line, as ``--print`` writes
them (``key=value``): a program's extras shown, the attributes every record carries left out,
control characters made visible, and no fields added to a text record's row, but to one
without a message (a logfmt line without ``msg``)."""

from __future__ import annotations

import json
import logging

from logview.sources.base import StaticFileSource
from logview.store import open_store
from logview.tui.app import LogviewApp
from logview.tui.widgets.row_modes import MAX_FIELD_CHARS
from tui.conftest import loaded, screen_text, until


def _row(app: LogviewApp, words: str) -> str:
    return next((line for line in screen_text(app).splitlines() if words in line), "")


async def test_json_rows_show_the_programs_fields_after_the_message(tmp_path):
    path = tmp_path / "app.jsonl"
    records = [
        {"timestamp": "2024-01-02T03:04:05Z", "level": "info", "event": "request done",
         "method": "GET", "path": "/items?id=3", "status": 200, "note": "two words",
         "process": 4242, "thread": 1234},
        {"timestamp": "2024-01-02T03:04:06Z", "level": "error", "event": "evil value",
         "payload": "\x1b[2Jgone"},
        {"timestamp": "2024-01-02T03:04:07Z", "level": "info", "event": "long",
         "blob": "x" * 5000, "after": 1},
        {"timestamp": "2024-01-02T03:04:08Z", "level": "info", "event": "long key",
         "k" * 100_000: 1, "after": 2},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store = open_store(StaticFileSource(str(path)))
    app = LogviewApp(store)
    async with app.run_test(size=(200, 30)) as pilot:
        rows = await loaded(pilot, app, 4)
        await until(pilot, lambda: "request done" in screen_text(app))
        row = _row(app, "request done")
        assert 'request done method=GET path=/items?id=3 status=200 note="two words"' in row
        assert "process=" not in row and "thread=" not in row  # (every record carries them)
        evil = _row(app, "evil value")
        assert "payload=␛[2Jgone" in evil
        assert "\x1b" not in screen_text(app)
        # A row's fields are bounded (Enter shows them all); the row scrolls sideways.
        long_text = rows._message_lines(store.record(2), 1)[0].plain
        assert long_text.startswith("long blob=xxx")
        assert long_text.endswith(" …") and "after=" not in long_text
        assert len(long_text) < MAX_FIELD_CHARS + 100
        long_key = rows._message_lines(store.record(3), 1)[0].plain
        assert long_key.startswith("long key kkk") and len(long_key) < MAX_FIELD_CHARS + 100


async def test_a_text_record_row_shows_its_message_alone(tmp_path):
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"))
    logger = logging.getLogger("row_fields.app")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for i in range(5):
            logger.warning("event %d happened", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    app = LogviewApp(open_store(StaticFileSource(str(path))))
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot, app, 5)
        await until(pilot, lambda: "event 4 happened" in screen_text(app))
        row = _row(app, "event 4 happened")
        assert row.rstrip().endswith("event 4 happened"), row
        assert "threadName=" not in row



async def test_a_record_without_a_message_shows_its_fields(tmp_path):
    path = tmp_path / "router.log"
    path.write_text("".join(
        f'at=info method=GET path="/items/{i}" host=shop.example.com status=200 bytes=51{i}\n'
        for i in range(3)) + 'at=error code=H12 desc="Request timeout" path="/slow" status=503\n')
    store = open_store(StaticFileSource(str(path)))
    app = LogviewApp(store)
    async with app.run_test(size=(160, 30)) as pilot:
        rows = await loaded(pilot, app, 4)
        await until(pilot, lambda: "status=503" in screen_text(app))
        row = _row(app, "code=H12")
        assert 'ERROR code=H12 desc="Request timeout" path=/slow status=503' in row, row
        assert rows._message_lines(store.record(3), 1)[0].plain.startswith("code=H12 ")
        assert "ERROR" in row
        assert "path=/items/1 host=shop.example.com status=200 bytes=511" in _row(app, "bytes=511")
