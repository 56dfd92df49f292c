"""structlog's ConsoleRenderer: real structlog output, written to files and read back."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import structlog
from logging_helpers import make_logger

from logview.formats import presets
from logview.formats.detect import detect
from logview.formats.presets import known_text_format
from logview.query import parse_query
from logview.record import Record
from logview.scan import iter_matching_records
from logview.sources.base import StaticFileSource
from logview.store import open_store

add_level = structlog.processors.add_log_level
ISO = structlog.processors.TimeStamper(fmt="iso")
STRFTIME = structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S")


def console(**options) -> structlog.dev.ConsoleRenderer:
    return structlog.dev.ConsoleRenderer(**{"colors": False, **options})


def write_with(path, processors, emit) -> None:
    """Run ``emit(logger)`` with a structlog logger printing through ``processors`` to ``path``."""
    with open(path, "w", encoding="utf-8") as out:
        emit(structlog.wrap_logger(structlog.PrintLogger(out), processors=processors))


def read(path, forced: bool = True) -> tuple[list[Record], str]:
    """The records of ``path`` (structlog-console forced, or detected) and the format's name."""
    fmt = known_text_format("structlog-console") if forced else None
    store = open_store(StaticFileSource(str(path)), fmt)
    try:
        store.update(final=True)
        return [store.record(i) for i in range(len(store))], store.detection.label
    finally:
        store.close()


def print_jsonl(path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "logview", str(path), "--print", "-o", "jsonl"],
        capture_output=True, check=False, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    return [orjson.loads(row) for row in result.stdout.splitlines()]


def requests(log) -> None:
    log.info("request started", path="/", method="GET", request_id="a1")
    log.warning("slow query", duration_ms=812, table="users", ratio=0.5, cached=None)
    log.debug("a long event that is wider than the thirty-column pad", user="bob smith")
    log.error("no fields")


REQUEST_FIELDS = [
    {"method": "GET", "path": "/", "request_id": "a1"},
    {"cached": "None", "duration_ms": "812", "ratio": "0.5", "table": "users"},
    {"user": "bob smith"},
    {},
]
REQUEST_MESSAGES = ["request started", "slow query",
                    "a long event that is wider than the thirty-column pad", "no fields"]
REQUEST_LEVELS = ["INFO", "WARNING", "DEBUG", "ERROR"]


def assert_requests(records: list[Record], logger: str = "") -> None:
    assert [r.message for r in records] == REQUEST_MESSAGES
    assert [r.level for r in records] == REQUEST_LEVELS
    assert [r.fields for r in records] == REQUEST_FIELDS
    assert {r.logger for r in records} == {logger}
    for r in records:  # detection needs the event inside what a template reads as the message
        assert r.message in r.raw


def test_iso_timestamps(tmp_path):
    path = tmp_path / "iso.log"
    before = datetime.now(UTC)
    write_with(path, [add_level, ISO, console()], requests)
    records, _ = read(path)
    assert_requests(records)
    assert all(r.time_text.endswith("Z") and "T" in r.time_text for r in records)
    assert all(r.time.tzinfo is not None and abs(r.time - before) < timedelta(minutes=5)
               for r in records)


def test_local_iso_and_strftime_times_are_naive(tmp_path):
    for stamper in (structlog.processors.TimeStamper(fmt="iso", utc=False), STRFTIME):
        path = tmp_path / "local.log"
        write_with(path, [add_level, stamper, console()], requests)
        records, _ = read(path)
        assert_requests(records)
        now = datetime.now()
        assert all(r.time.tzinfo is None and abs(r.time - now) < timedelta(minutes=5)
                   for r in records)


def test_epoch_seconds(tmp_path):
    path = tmp_path / "epoch.log"
    write_with(path, [add_level, structlog.processors.TimeStamper(), console()], requests)
    records, _ = read(path)
    assert_requests(records)
    assert all(abs(r.time.timestamp() - time.time()) < 300 for r in records)


def test_no_timestamp(tmp_path):
    path = tmp_path / "bare.log"
    write_with(path, [add_level, console()], requests)
    assert path.read_text().startswith("[info     ] request started ")
    records, _ = read(path)
    assert_requests(records)
    assert all(r.time is None for r in records)


def test_unpadded_levels_with_a_time(tmp_path):
    path = tmp_path / "unpadded.log"
    write_with(path, [add_level, ISO, console(pad_level=False)], requests)
    assert "[info] request started" in path.read_text()
    assert_requests(read(path)[0])


def test_logger_name_through_stdlib_file_handler(tmp_path):
    path = tmp_path / "stdlib.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    make_logger("app.db", handler)
    try:
        log = structlog.wrap_logger(
            logging.getLogger("app.db"),
            processors=[structlog.stdlib.add_logger_name, add_level, ISO, console()],
            wrapper_class=structlog.stdlib.BoundLogger,
        )
        requests(log)
    finally:
        handler.close()
    assert "[app.db] method=GET" in path.read_text()
    assert_requests(read(path)[0], logger="app.db")


def test_default_configuration(tmp_path):
    # structlog.get_logger() as shipped: its default processors (the default TimeStamper,
    # StackInfoRenderer, set_exc_info) and ConsoleRenderer, printing to the file.
    structlog.reset_defaults()
    try:
        with open(tmp_path / "default.log", "w", encoding="utf-8") as out:
            structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=out))
            log = structlog.get_logger()
            requests(log)
            log.info("where am I", stack_info=True)
    finally:
        structlog.reset_defaults()
    records, _ = read(tmp_path / "default.log")
    assert_requests(records[:4])
    now = datetime.now()
    assert all(abs(r.time - now) < timedelta(minutes=5) for r in records)
    assert records[0].time_text[10] == " " and len(records[0].time_text) == 19
    assert records[4].message == "where am I" and records[4].fields == {}
    assert records[4].exc.startswith("Stack (most recent call last):")


def test_colours_are_stripped(tmp_path):
    path = tmp_path / "colour.log"
    write_with(path, [add_level, STRFTIME, structlog.dev.ConsoleRenderer(colors=True)],
               lambda log: requests(log.bind(logger="app.web")))
    assert "\x1b[" in path.read_text()
    records, _ = read(path)
    assert_requests(records, logger="app.web")
    write_with(path, [add_level, STRFTIME, structlog.dev.ConsoleRenderer(colors=True)], requests)
    rows = print_jsonl(path)
    assert [row["message"] for row in rows] == REQUEST_MESSAGES
    assert [row["level"] for row in rows] == REQUEST_LEVELS
    assert [row["fields"] for row in rows] == REQUEST_FIELDS


def failing(log) -> None:
    log.info("before")
    try:
        {}["missing"]
    except KeyError:
        log.exception("lookup failed", user_id=7)
    log.info("after", n=1)


@pytest.mark.parametrize("colors", [False, True])
def test_rich_traceback_stays_one_record(tmp_path, colors):
    pytest.importorskip("rich")  # structlog's exception formatter whenever rich is installed
    path = tmp_path / "rich.log"
    write_with(path, [add_level, ISO, structlog.dev.ConsoleRenderer(colors=colors)], failing)
    assert "\u2570" in path.read_text()  # rich's panel
    records, _ = read(path)
    assert [r.message for r in records] == ["before", "lookup failed", "after"]
    failed = records[1]
    assert (failed.level, failed.fields) == ("ERROR", {"user_id": "7"})
    assert failed.exc.startswith("\u256d") and "Traceback (most recent call last)" in failed.exc
    assert failed.exc.rstrip().endswith("KeyError: 'missing'")
    assert records[2].fields == {"n": "1"}


def test_rich_tracebacks_do_not_hide_the_format_from_detection(tmp_path):
    pytest.importorskip("rich")
    path = tmp_path / "rich.log"

    def emit(log) -> None:
        for _ in range(3):  # three panels of locals: more lines than the records around them
            failing(log)

    write_with(path, [add_level, STRFTIME, console()], emit)
    records, label = read(path, forced=False)
    assert label == "structlog-console"
    assert len(records) == 9 and all(r.level for r in records)


def test_plain_traceback_without_rich_or_better_exceptions(tmp_path):
    # What structlog prints when neither rich nor better-exceptions can be imported.
    path = tmp_path / "plain.log"
    script = (
        "import sys\n"
        "sys.modules['rich'] = sys.modules['better_exceptions'] = None\n"
        "import structlog\n"
        "assert structlog.dev.default_exception_formatter is structlog.dev.plain_traceback\n"
        "out = open(sys.argv[1], 'w')\n"
        "log = structlog.wrap_logger(structlog.PrintLogger(out), processors=[\n"
        "    structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt='iso'),\n"
        "    structlog.dev.ConsoleRenderer(colors=False)])\n"
        "log.info('before')\n"
        "try:\n"
        "    {}['missing']\n"
        "except KeyError:\n"
        "    log.exception('lookup failed', user_id=7)\n"
        "log.info('after', n=1)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    records, _ = read(path)
    assert [r.message for r in records] == ["before", "lookup failed", "after"]
    assert records[1].fields == {"user_id": "7"}
    assert records[1].exc.startswith("Traceback (most recent call last):")
    assert records[1].exc.endswith("KeyError: 'missing'")
    assert detect(path.read_bytes()).label.endswith("structlog-console")


def test_exception_level_of_structlog_before_24_1(tmp_path):
    # structlog < 24.1 wrote the method name, so stdlib's BoundLogger.exception() gave
    # "exception" (the name ConsoleRenderer pads every level to).
    path = tmp_path / "old.log"

    def method_level(_logger, method, event_dict):
        event_dict["level"] = method
        return event_dict

    handler = logging.FileHandler(path, encoding="utf-8")
    make_logger("old", handler)
    try:
        failing(structlog.wrap_logger(
            logging.getLogger("old"),
            processors=[method_level, ISO,
                        console(exception_formatter=structlog.dev.plain_traceback)],
            wrapper_class=structlog.stdlib.BoundLogger,
        ))
    finally:
        handler.close()
    assert "[exception] lookup failed" in path.read_text()
    records, _ = read(path)
    assert [(r.level, r.levelno) for r in records] == [("INFO", 20), ("ERROR", 40), ("INFO", 20)]
    assert records[1].exc.endswith("KeyError: 'missing'")


def test_hostile_values(tmp_path):
    path = tmp_path / "hostile.log"

    class Thing:
        def __repr__(self) -> str:
            return "<Thing at 0x1 a=[1, 2]>"

    values = {
        "quotes": "it's \"quoted\"",
        "eq": "a=b c=d",
        "uni": "héllo wörld 🙂 日本",
        "nl": "line1\nline2\ttab",
        "backslash": "C:\\path\\",
        "empty": "",
        "brackets": "] [x] [",
        "ansi": "\x1b[31mred\x1b[0m",
        "surrogate": "bad \ud800 half",
    }
    objects = {
        "items": [1, "a b", {"k": "v v"}],
        "when": datetime(2024, 1, 2, 3, 4, 5),
        "raw": b"by tes",
        "thing": Thing(),
        "pair": (1, "x) y"),
    }

    def emit(log) -> None:
        log.info("values", **values)
        log.info("objects", **objects)
        log.info("set x=1")  # an event that ends like a pair, short and alone
        log.info("set x=1", y=2)
        log.info("ends with [brackets]", k="v")
        log.info("this event is rather longer than thirty k=v", real="yes")
        log.info("ünïcödé évent", ok=True)
        log.info("two\nlines", k="v")
        log.info("processed 3 items (rate=1.5/s) done")
        log.info("unbalanced", frac=Thing.__name__ + "(")
        log.bind(**{"http.method": "GET", "user-id": 3}).info("dotted")

    write_with(path, [add_level, ISO, console()], emit)
    records, _ = read(path)
    got = {r.message: r for r in records}
    assert list(got) == ["values", "objects", "set x=1", "ends with [brackets]",
                         "this event is rather longer than thirty", "ünïcödé évent",
                         "two\nlines", "processed 3 items (rate=1.5/s) done", "unbalanced",
                         "dotted"]
    expected = dict(values, ansi="red", surrogate="bad \ufffd half")
    assert got["values"].fields == expected
    assert got["objects"].fields == {k: repr(v) for k, v in objects.items()}
    assert records[2].fields == {} and records[3].fields == {"y": "2"}
    assert got["ends with [brackets]"].fields == {"k": "v"}
    # A long event ending in a pair cannot be told from a pair: it is read as one.
    assert got["this event is rather longer than thirty"].fields == {"k": "v", "real": "yes"}
    assert got["ünïcödé évent"].fields == {"ok": "True"}
    assert got["two\nlines"].fields == {"k": "v"}
    assert got["processed 3 items (rate=1.5/s) done"].fields == {}
    assert got["unbalanced"].fields == {"frac": "Thing("}
    assert got["dotted"].fields == {"http.method": "GET", "user-id": "3"}
    for r in records:
        assert r.message in r.raw and r.level == "INFO"


def test_a_tail_of_something_else_stays_in_the_message():
    fmt = presets.StructlogConsoleFormat()
    for line, message in [
        ("[info     ] user logged in as bob", "user logged in as bob"),
        ("[info     ] ratio is 1=1 or so                x", "ratio is 1=1 or so                x"),
        ("[info     ] short    k=v", "short    k=v"),  # pairs never start inside the pad
        ("[info     ] a b c                          k='unclosed",
         "a b c                          k='unclosed"),
        ("[info     ] a b c                          k=v  j=w",
         "a b c                          k=v"),  # pairs are one space apart
    ]:
        rec = fmt.parse(line)
        assert rec.message == message, line
    rec = fmt.parse("[info     ] a b c                          k=v  j=w")
    assert rec.fields == {"j": "w"}


def test_hostile_lines_parse_in_linear_time():
    fmt = presets.StructlogConsoleFormat()
    head = "2024-01-05T10:11:12.345678Z [info     ] " + "e" * 30
    for tail in (" k=[" * 50_000, " k=')" * 50_000, " k=" + "\\" * 100_000 + "'",
                 " k=(" + "[" * 50_000, " a=b" * 50_000 + " x", " " + "'" * 100_000):
        started = time.perf_counter()
        rec = fmt.parse(head + tail)
        assert time.perf_counter() - started < 1.0
        assert rec.level == "INFO"


def test_queries_find_lower_case_levels_and_text_numbers(tmp_path):
    path = tmp_path / "q.log"
    write_with(path, [add_level, STRFTIME, console()], requests)
    store = open_store(StaticFileSource(str(path)), known_text_format("structlog-console"))
    try:
        store.update(final=True)
        found = [r.message for r in iter_matching_records(store, parse_query("level>=warning"))]
        assert found == ["slow query", "no fields"]
        found = [r.message for r in iter_matching_records(store, parse_query("duration_ms>=500"))]
        assert found == ["slow query"]
        found = [r.message for r in iter_matching_records(store, parse_query('user="bob smith"'))]
        assert found == [REQUEST_MESSAGES[2]]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("processors", "label"),
    [
        ([add_level, STRFTIME], "structlog-console"),
        ([add_level, structlog.processors.TimeStamper()], "structlog-console"),
        ([add_level], "structlog-console"),
    ],
)
def test_detection_picks_structlog_console(tmp_path, processors, label):
    path = tmp_path / "detect.log"
    write_with(path, [*processors, console()],
               lambda log: [requests(log) for _ in range(10)])
    records, found = read(path, forced=False)
    assert found == label
    assert_requests(records[:4])


def test_detection_of_iso_output(tmp_path):
    # ISO times with "Z" also look like a runner's RFC 3339 stamp: either way the records read
    # as structlog-console's.
    path = tmp_path / "iso.log"
    write_with(path, [add_level, ISO, console()], lambda log: [requests(log) for _ in range(10)])
    records, found = read(path, forced=False)
    assert found.endswith("structlog-console")
    assert [r.message for r in records[:4]] == REQUEST_MESSAGES
    assert [r.level for r in records[:4]] == REQUEST_LEVELS
    assert all(r.time is not None and r.time.tzinfo is not None for r in records)


def test_detection_with_a_bound_logger(tmp_path):
    path = tmp_path / "logger.log"
    write_with(path, [add_level, STRFTIME, console()],
               lambda log: [requests(log.bind(logger="app.db")) for _ in range(10)])
    assert read(path, forced=False)[1] == "structlog-console"


def test_shares_scrapys_time_head_and_detection_tells_them_apart(tmp_path):
    # Both open with "%Y-%m-%d %H:%M:%S [": scrapy's start test is that head (any line opening
    # with its time starts a record), structlog-console's also needs its level column.
    structlog_path = tmp_path / "structlog.log"
    write_with(structlog_path, [add_level, STRFTIME, console()],
               lambda log: [requests(log) for _ in range(10)])
    structlog_line = structlog_path.read_text().splitlines()[0]
    scrapy_path = tmp_path / "scrapy.log"
    handler = logging.FileHandler(scrapy_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(presets.SCRAPY, presets.SCRAPY_DATEFMT))
    log = make_logger("scrapy.core.engine", handler)
    try:
        for i, message in enumerate(["Spider opened", "Telnet console listening on 127.0.0.1:6023",
                                     "Closing spider (finished)", "Dumping Scrapy stats:"] * 3):
            (log.warning if i % 4 == 3 else log.info)(message)
    finally:
        handler.close()
    scrapy_line = scrapy_path.read_text().splitlines()[0]
    ours, scrapy = known_text_format("structlog-console"), known_text_format("scrapy")
    assert ours.is_start(structlog_line) and not ours.is_start(scrapy_line)
    assert scrapy.is_start(scrapy_line) and scrapy.is_start(structlog_line)
    assert read(structlog_path, forced=False)[1] == "structlog-console"
    assert read(scrapy_path, forced=False)[1] == "scrapy"
