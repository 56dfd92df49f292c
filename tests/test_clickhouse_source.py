"""``clickhouse://`` sources on the real engine (chDB through clickhouse-connect, as logview
uses it): OTel rows of the SDK's real LoggingHandler as records (levels both ways, loggers,
tracebacks, fields, sources), following with late rows (none lost, none twice) and a dropped
connection, the viewer's newest window, a mapped table, and the errors a user meets."""

from __future__ import annotations

import itertools
import logging
import sys
import time
from pathlib import Path

import orjson
import pytest
from clickhouse_helpers import (
    SECOND,
    T0,
    HttpServer,
    engine,
    insert,
    make_table,
    needs_chdb,
    row,
    sdk_rows,
)

from logview.formats.jsonl import JsonFormat
from logview.query import parse_query
from logview.sources.base import SourceError
from logview.sources.clickhouse import ClickHouseOptions, ClickHouseSource, connect
from logview.sources.clickhouse_feed import RowFeed
from logview.sources.clickhouse_url import Target, parse_target
from logview.sources.otel import level_severity, severity_level, severity_name


def records(source: ClickHouseSource, count: int | None = None, timeout: float = 10.0):
    """The records a source spooled (waiting for ``count`` of them, or for its end)."""
    deadline = time.monotonic() + timeout
    fmt = JsonFormat()
    while True:
        source.update()
        data = source.read_at(0, source.size())
        lines = data.splitlines()
        if (count is None and source.finished) or (count is not None and len(lines) >= count):
            return [fmt.parse(line.decode()) for line in lines]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(lines)} records after {timeout} s")
        time.sleep(0.05)


def open_table(database: str, query: str | None = "", *, follow: bool = False,
               **options) -> ClickHouseSource:
    return ClickHouseSource(
        f"clickhouse://localhost/{database}", follow=follow,
        options=ClickHouseOptions(query=None if query is None else parse_query(query),
                                  client=lambda _target: engine(), environ={}, **options))


# ---------------------------------------------------------------------------------------------
# Severities


def test_severities_map_both_ways_as_the_sdk_does():
    sdk = pytest.importorskip("opentelemetry.sdk._logs._internal")
    for levelno in range(10, 61):
        assert level_severity(levelno) == sdk.std_to_otel(levelno).value, levelno
    for number in range(1, 25):
        assert level_severity(severity_level(number)) == number
    assert [severity_level(n) for n in (0, 1, 5, 6, 9, 13, 17, 21, 24, 25)] == [
        0, 5, 10, 11, 20, 30, 40, 50, 53, 0]
    assert [severity_name(n) for n in (1, 8, 12, 13, 24)] == ["TRACE", "DEBUG4", "INFO4", "WARN",
                                                             "FATAL4"]


# ---------------------------------------------------------------------------------------------
# Records


def emit(get):
    db = get("app.db")
    db.debug("connecting")
    db.info("connected in %d ms", 12, extra={"user_id": 42})
    get("app.web").warning("slow request", extra={"path": "/x"})
    try:
        _ = 1 / 0
    except ZeroDivisionError:
        db.exception("query failed")
    get("worker").critical("died")
    get("worker").log(25, "level 25")


@pytest.fixture(scope="module")
def otel():
    make_table("lv_source")
    times = (T0 + n * SECOND for n in itertools.count())
    insert("lv_source", sdk_rows(emit, times=times))
    return "lv_source"


@needs_chdb
def test_rows_become_records_as_the_logging_handler_made_them(otel):
    source = open_table(otel)
    got = records(source)
    source.close()
    assert [(r.level, r.levelno, r.logger, r.message) for r in got] == [
        ("DEBUG", 10, "app.db", "connecting"),
        ("INFO", 20, "app.db", "connected in 12 ms"),
        ("WARNING", 30, "app.web", "slow request"),
        ("ERROR", 40, "app.db", "query failed"),
        ("CRITICAL", 50, "worker", "died"),
        ("NOTICE", 25, "worker", "level 25"),  # INFO4, whose text "Level 25" says 25
    ]
    assert got[0].time.isoformat() == "2024-01-02T03:04:05.123456+00:00"
    assert {r.source for r in got} == {"shop@web1"}
    failed = got[3]
    assert failed.exc.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in failed.exc
    assert failed.fields["exception.type"] == "ZeroDivisionError"
    assert "exception.stacktrace" not in failed.fields  # it is the traceback
    assert got[1].fields["user_id"] == "42"
    assert got[1].fields["code.function.name"] == "emit"
    assert got[1].fields["service.name"] == "shop"


@needs_chdb
def test_print_reads_what_the_pushed_query_admits(otel):
    source = open_table(otel, "level>=ERROR logger:app.db")
    got = records(source)
    source.close()
    assert [r.message for r in got] == ["query failed"]
    assert source.pushdown is not None and not source.pushdown.local


# ---------------------------------------------------------------------------------------------
# Following


@needs_chdb
def test_late_rows_are_read_once_and_new_rows_in_order():
    make_table("lv_follow")
    base = T0
    insert("lv_follow", [row(base + n * SECOND, f"first {n}") for n in range(5)])
    target = Target(host="localhost", port=0, database="lv_follow", table="otel_logs")
    from logview.sources.clickhouse import table_shape

    feed = RowFeed(engine(), table_shape(engine(), target), "lv_follow", "otel_logs",
                   page=2, overlap=10 * SECOND)
    seen = [o["message"] for page in feed.pages() for o in page]
    assert seen == [f"first {n}" for n in range(5)]
    # late rows: within the overlap (one at the newest row's very nanosecond), one too old
    insert("lv_follow", [row(base + 4 * SECOND, "late, same nanosecond"),
                         row(base + 2 * SECOND + 1, "late by two seconds"),
                         row(base - 20 * SECOND, "late beyond the overlap"),
                         row(base + 5 * SECOND, "new 5"), row(base + 6 * SECOND, "new 6")])
    for _poll in range(3):
        seen += [o["message"] for o in feed.late()]
        seen += [o["message"] for page in feed.pages() for o in page]
    assert seen[5:] == ["late by two seconds", "late, same nanosecond", "new 5", "new 6"]
    assert len(seen) == len(set(seen))
    insert("lv_follow", [row(base + 5 * SECOND, "new 5")])  # the same row again: one row
    assert feed.late() == [] and list(feed.pages()) == []


@needs_chdb
def test_print_follow_source_reads_late_rows_and_survives_a_dropped_connection():
    make_table("lv_drop")
    insert("lv_drop", [row(T0 + n * SECOND, f"row {n}") for n in range(3)])
    server = HttpServer(password="pw")
    try:
        source = ClickHouseSource(
            server.url("lv_drop") + "?overlap=60", follow=True,
            options=ClickHouseOptions(query=parse_query("row"),
                                      environ={"LOGVIEW_CLICKHOUSE_PASSWORD": "pw"}))
        assert len(records(source, 3)) == 3
        server.down = True
        insert("lv_drop", [row(T0 + 3 * SECOND, "row 3 (while down)"),
                           row(T0 + SECOND + 5, "row late (while down)")])
        deadline = time.monotonic() + 10
        while not any("lost the connection" in n for n in source.notices):
            source.update()
            assert time.monotonic() < deadline, source.notices
            time.sleep(0.05)
        server.down = False
        insert("lv_drop", [row(T0 + 4 * SECOND, "row 4")])
        records(source, 6)
        time.sleep(1.5)  # more polls: nothing comes twice
        got = [r.message for r in records(source, 6)]
        source.close()
        assert sorted(got) == sorted(["row 0", "row 1", "row 2", "row 3 (while down)",
                                      "row late (while down)", "row 4"])
        assert any("connection back" in n for n in source.notices)
    finally:
        server.close()


# ---------------------------------------------------------------------------------------------
# The viewer


@needs_chdb
def test_the_viewer_reads_the_newest_rows_in_time_order_and_says_so():
    make_table("lv_viewer")
    insert("lv_viewer", [row(T0 + n * SECOND, f"row {n}") for n in range(30)])
    source = ClickHouseSource(
        "clickhouse://localhost/lv_viewer?rows=10", follow=True,
        options=ClickHouseOptions(query=None, fatal_errors=False,
                                  client=lambda _t: engine(), environ={}))
    got = records(source, 10)
    assert [r.message for r in got] == [f"row {n}" for n in range(20, 30)]
    insert("lv_viewer", [row(T0 + 40 * SECOND, "row 40")])
    assert [r.message for r in records(source, 11)][-1] == "row 40"
    source.close()
    assert any("showing the newest 10 of 30 rows: older rows are not loaded (a query is asked of the server)" in n
               for n in source.notices)


# ---------------------------------------------------------------------------------------------
# A table of one's own


@needs_chdb
def test_a_mapped_table_is_read_through_its_columns(tmp_path: Path):
    client = engine()
    client.command("DROP DATABASE IF EXISTS lv_mapped")
    client.command("CREATE DATABASE lv_mapped")
    client.command("CREATE TABLE lv_mapped.app_logs (ts DateTime64(3), lvl LowCardinality(String),"
                   " component String, text String, attrs Map(String, String)) "
                   "ENGINE = MergeTree ORDER BY ts")
    client.command("INSERT INTO lv_mapped.app_logs VALUES "
                   "('2024-01-02 03:04:05.123', 'error', 'app.db', 'boom', {'user_id': '42'}), "
                   "('2024-01-02 03:04:06.000', 'info', 'app.web', 'fine', {'user_id': '7'})")
    (tmp_path / "clickhouse.toml").write_text(
        '[tables."lv_mapped.app_logs"]\ntime = "ts"\nlevel = "lvl"\nlogger = "component"\n'
        'message = "text"\nfields = "attrs"\n')
    source = ClickHouseSource(
        "clickhouse://localhost/lv_mapped/app_logs", follow=False,
        options=ClickHouseOptions(query=parse_query("level>=ERROR user_id=42 logger:app"),
                                  client=lambda _t: engine(), environ={},
                                  config_dir=str(tmp_path)))
    got = records(source)
    source.close()
    assert [(r.level, r.levelno, r.logger, r.message, r.fields) for r in got] == [
        ("ERROR", 40, "app.db", "boom", {"user_id": "42"})]
    assert got[0].time.isoformat() == "2024-01-02T03:04:05.123000+00:00"
    assert not source.pushdown.local


# ---------------------------------------------------------------------------------------------
# Errors and the URL


def test_the_url_and_the_password():
    target = parse_target("clickhouses://reader@ch.example.com/otel?overlap=5",
                          environ={"LOGVIEW_CLICKHOUSE_PASSWORD": "s3cret"}, config_dir="/none")
    assert (target.host, target.port, target.user, target.password, target.database,
            target.table, target.secure, target.overlap) == (
        "ch.example.com", 8443, "reader", "s3cret", "otel", "otel_logs", True, 5.0)
    assert "s3cret" not in target.name and "s3cret" not in repr(target)
    plain = parse_target("clickhouse://h:9000/db/logs?secure=1", environ={}, config_dir="/none")
    assert (plain.port, plain.secure, plain.table, plain.user) == (9000, True, "logs", "default")
    with pytest.raises(SourceError, match="give clickhouse://"):
        parse_target("clickhouse://h/a/b/c", environ={}, config_dir="/none")
    with pytest.raises(SourceError, match="unknown option"):
        parse_target("clickhouse://h/a?password=x", environ={}, config_dir="/none")


def test_the_ca_file_from_the_url_or_the_config_file(tmp_path: Path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert parse_target(f"clickhouses://h/db?ca={ca}", environ={}, config_dir="/none").ca == str(ca)
    (tmp_path / "clickhouse.toml").write_text(f'[servers.h]\nsecure = true\nca = "{ca}"\n')
    target = parse_target("clickhouse://h/db", environ={}, config_dir=str(tmp_path))
    assert (target.secure, target.ca, target.port) == (True, str(ca), 8443)
    assert parse_target("clickhouse://h/db", environ={}, config_dir="/none").ca is None
    with pytest.raises(SourceError, match="cannot read the CA file .*missing.pem"):
        parse_target(f"clickhouses://h/db?ca={tmp_path}/missing.pem", environ={},
                     config_dir="/none")
    with pytest.raises(SourceError, match="a CA file .* is for HTTPS"):
        parse_target(f"clickhouse://h/db?ca={ca}", environ={}, config_dir="/none")


def test_the_password_from_the_config_file(tmp_path: Path):
    config = tmp_path / "clickhouse.toml"
    config.write_text('[servers."ch.example.com"]\nuser = "reader"\npassword = "filepw"\n')
    config.chmod(0o600)
    target = parse_target("clickhouse://ch.example.com/otel", environ={},
                          config_dir=str(tmp_path))
    assert (target.user, target.password, target.warnings) == ("reader", "filepw", ())
    config.chmod(0o644)
    target = parse_target("clickhouse://ch.example.com/otel", environ={},
                          config_dir=str(tmp_path))
    assert any("chmod 600" in w for w in target.warnings)
    shown = parse_target("clickhouse://u:pw@ch.example.com/otel", environ={},
                         config_dir=str(tmp_path))
    assert shown.password == "pw" and any("visible" in w for w in shown.warnings)


def test_a_missing_client_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "clickhouse_connect", None)
    target = parse_target("clickhouse://h/db", environ={}, config_dir="/none")
    with pytest.raises(SourceError, match=r"pip install 'logview-tui\[clickhouse\]'"):
        connect(target)


@needs_chdb
def test_wrong_password_and_missing_table_are_errors():
    server = HttpServer(password="right")
    quiet = logging.getLogger("clickhouse_connect")
    try:
        options = ClickHouseOptions(query=parse_query(""),
                                    environ={"LOGVIEW_CLICKHOUSE_PASSWORD": "wrong"})
        with pytest.raises(SourceError, match="Authentication failed"):
            ClickHouseSource(server.url("lv_source"), follow=False, options=options)
        options = ClickHouseOptions(query=parse_query(""),
                                    environ={"LOGVIEW_CLICKHOUSE_PASSWORD": "right"})
        with pytest.raises(SourceError, match="no table lv_nowhere.otel_logs"):
            ClickHouseSource(server.url("lv_nowhere"), follow=False, options=options)
    finally:
        server.close()
        assert quiet.propagate is False


def test_rows_are_written_as_logview_json():
    from logview.sources.otel import row_object

    obj = row_object({"ns": T0, "SeverityText": "WARN", "SeverityNumber": 13, "ScopeName": "a",
                      "Body": "b", "LogAttributes": {"exception.type": "E"},
                      "ResourceAttributes": {"host.name": "h"}, "TraceId": "t", "SpanId": ""})
    assert obj == {"time": "2024-01-02T03:04:05.123456+00:00", "level": "WARNING",
                   "levelno": 30, "logger": "a", "message": "b", "exc": "E",
                   "fields": {"exception.type": "E", "host.name": "h", "trace_id": "t"},
                   "source": "h", "line": None}
    record = JsonFormat().parse(orjson.dumps(obj).decode())
    assert (record.level, record.levelno, record.exc, record.source) == ("WARNING", 30, "E", "h")


@needs_chdb
def test_the_source_counts_the_whole_table_on_the_server(otel):
    source = open_table(otel, None, fatal_errors=False)
    records(source, 6)
    counts = source.counts(parse_query("logger:app"))
    assert (counts.levels, counts.unknown, counts.total) == ([1, 1, 1, 1, 0], 0, 4)
    assert counts.loggers == {"app.db": 3, "app.web": 1}
    assert source.counts(parse_query("-logger:app")) is None  # a local term: no exact count
    assert source.histogram(parse_query(""), 3600) == [(1704164400, 0, 1), (1704164400, 1, 2),
                                                        (1704164400, 2, 1), (1704164400, 3, 1),
                                                        (1704164400, 4, 1)]
    source.close()


@needs_chdb
def test_the_older_exporter_schema_is_read_too():
    """Collector releases before TimestampTime: Int32 severities, no seconds column."""
    client = engine()
    client.command("DROP DATABASE IF EXISTS lv_old")
    client.command("CREATE DATABASE lv_old")
    client.command("""CREATE TABLE lv_old.otel_logs (
        Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)), TraceId String CODEC(ZSTD(1)),
        SpanId String CODEC(ZSTD(1)), TraceFlags UInt32 CODEC(ZSTD(1)),
        SeverityText LowCardinality(String) CODEC(ZSTD(1)), SeverityNumber Int32 CODEC(ZSTD(1)),
        ServiceName LowCardinality(String) CODEC(ZSTD(1)), Body String CODEC(ZSTD(1)),
        ResourceSchemaUrl String CODEC(ZSTD(1)),
        ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
        ScopeSchemaUrl String CODEC(ZSTD(1)), ScopeName String CODEC(ZSTD(1)),
        ScopeVersion String CODEC(ZSTD(1)),
        ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
        LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))
        ) ENGINE = MergeTree() PARTITION BY toDate(Timestamp)
        ORDER BY (ServiceName, SeverityText, toUnixTimestamp(Timestamp), TraceId)""")
    client.command("INSERT INTO lv_old.otel_logs (Timestamp, SeverityText, SeverityNumber, Body, "
                   "ScopeName, ResourceAttributes) VALUES "
                   "('2024-01-02 03:04:05.000000001', 'ERROR', 17, 'old boom', 'app.db', "
                   "{'service.name': 'shop'}), "
                   "('2024-01-02 03:04:06', 'INFO', 9, 'old fine', 'app.db', {})")
    source = open_table("lv_old", "level>=ERROR since:2024-01-02T03:04:05Z")
    got = records(source)
    source.close()
    assert [(r.message, r.levelno, r.source) for r in got] == [("old boom", 40, "shop")]
    assert source.shape.time_seconds is None and not source.pushdown.local


@needs_chdb
def test_a_mapped_table_with_numeric_levels_and_json_fields(tmp_path: Path):
    client = engine()
    client.command("DROP DATABASE IF EXISTS lv_mapped2")
    client.command("CREATE DATABASE lv_mapped2")
    client.command("CREATE TABLE lv_mapped2.logs (ts DateTime, levelno UInt8, msg String, "
                   "extra String) ENGINE = MergeTree ORDER BY ts")
    client.command("INSERT INTO lv_mapped2.logs VALUES ('2024-01-02 03:04:05', 40, 'boom', "
                   "'{\"user_id\": 42, \"tags\": [\"a\"]}'), ('2024-01-02 03:04:06', 20, 'fine', '')")
    (tmp_path / "clickhouse.toml").write_text(
        '[tables."lv_mapped2.logs"]\ntime = "ts"\nlevel = "levelno"\nmessage = "msg"\n'
        'fields = "extra"\n')
    source = ClickHouseSource(
        "clickhouse://localhost/lv_mapped2/logs", follow=False,
        options=ClickHouseOptions(query=parse_query("level>=WARNING user_id=42"),
                                  client=lambda _t: engine(), environ={},
                                  config_dir=str(tmp_path)))
    got = records(source)
    source.close()
    assert [r.message for r in got] == ["boom"]  # the level is pushed (a number)
    assert [(r.level, r.levelno, r.message, r.fields) for r in got] == [
        ("ERROR", 40, "boom", {"user_id": 42, "tags": ["a"]})]
    assert [text for text, _why in source.pushdown.local] == ["user_id=42"]  # a JSON column
