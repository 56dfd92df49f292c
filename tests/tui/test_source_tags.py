"""The source column: short tags, stable colours, shown only when records come from several
sources (merged files, a listener's clients)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from logview.printer import dumps_record
from logview.record import Record
from logview.sources.base import StaticFileSource
from logview.store import LogStore, MergedStore, open_store
from logview.tui.app import LogviewApp
from logview.tui.source_tags import SOURCE_COLORS, fit_tag, source_tag, source_tags
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, log_line, screen_text, until


def test_tags_are_basenames_and_client_names():
    assert source_tag("/var/log/app/web.log") == "web.log"
    assert source_tag("tcp:127.0.0.1:53422 (app)") == "app"
    assert source_tag("udp:[::1]:514") == "[::1]:514"
    assert source_tag("<stdin>") == "<stdin>"
    assert source_tag("") == "-"
    assert source_tag("/tmp/evil\x1b[2J.log") == "evil␛[2J.log"


def test_colliding_tags_are_told_apart():
    tags = source_tags(["tcp:127.0.0.1:5000 (app)", "tcp:127.0.0.1:5001 (app)",
                        "/a/web/app.log", "/b/api/app.log", "/x/other.log"])
    assert tags["tcp:127.0.0.1:5000 (app)"] == "app:5000"
    assert tags["tcp:127.0.0.1:5001 (app)"] == "app:5001"
    assert tags["/a/web/app.log"] == "web/app.log"
    assert tags["/b/api/app.log"] == "api/app.log"
    assert tags["/x/other.log"] == "other.log"
    assert len(set(tags.values())) == 5


def test_fit_tag_keeps_the_end():
    assert fit_tag("m1.log", 8) == "m1.log  "
    assert fit_tag("payment-service.log", 10) == "…rvice.log"


def _file(path: Path, start: int, count: int, step: int = 2) -> Path:
    path.write_text("".join(log_line(i) for i in range(start, start + step * count, step)),
                    encoding="utf-8")
    return path


def _row_texts(app: LogviewApp) -> list[str]:
    return [line for line in screen_text(app).splitlines() if line.startswith("12:")]


async def test_merged_files_show_a_coloured_tag_per_source(tmp_path):
    first = _file(tmp_path / "first.log", 0, 10)
    second = _file(tmp_path / "second.log", 1, 10)
    stores = [LogStore(StaticFileSource(str(p)), DashFormat()) for p in (first, second)]
    app = LogviewApp(MergedStore(stores))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 20 and records.shows_sources)
        await pilot.pause()
        await until(pilot, lambda: records.rows_ready)  # rows are fetched in a worker
        rows = _row_texts(app)
        assert len(rows) == 20
        # Interleaved by time: even events from first.log, odd ones from second.log.
        for row in rows:
            event = int(row.split("event ")[1].split()[0])
            tag = "first.log" if event % 2 == 0 else "second.log"
            assert row.split()[2] == tag, row
            assert row.split()[3] in ("app", "app.db", "a.http.server", "worker"), row
        colours = {records._sources[str(p)][1] for p in (first, second)}
        assert colours == set(SOURCE_COLORS[:2])  # command-line order, distinct


async def test_one_source_has_no_source_column(make_store):
    app = LogviewApp(make_store(10))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 10)
        await until(pilot, lambda: app.screen._tally and app.screen._tally.counted == 10)
        await pilot.pause()
        await until(pilot, lambda: records.rows_ready)
        assert not records.shows_sources
        assert all(row.split()[2] in ("app", "app.db", "a.http.server", "worker")
                   for row in _row_texts(app))


async def test_listener_clients_in_one_spool_get_their_names(tmp_path):
    spool = tmp_path / "spool.jsonl"
    with spool.open("wb") as fh:  # what the listener's spool writer writes per record
        for i in range(12):
            client = ("tcp:127.0.0.1:40001 (billing)", "tcp:127.0.0.1:40002 (mailer)")[i % 2]
            fh.write(dumps_record(Record(
                message=f"event {i}", time=datetime(2024, 5, 1, 12, 0, i), level="INFO",
                levelno=20, logger="svc", source=client)))
    app = LogviewApp(open_store(StaticFileSource(str(spool))))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 12 and records.shows_sources)
        await pilot.pause()
        await until(pilot, lambda: records.rows_ready)
        rows = [line for line in screen_text(app).splitlines() if "event " in line]
        assert len(rows) == 12
        for row in rows:
            event = int(row.split("event ")[1])
            assert ("billing" if event % 2 == 0 else "mailer") in row.split()[2], row
