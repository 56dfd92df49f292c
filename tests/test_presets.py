"""The ready-made plain-text formats, fed real library output or canonical documented lines."""

from __future__ import annotations

import io
import logging
import sys
from datetime import UTC, datetime, timedelta

import pytest

from logview.boundaries import RecordSplitter
from logview.formats import presets
from logview.formats.detect import detect_format
from logview.formats.presets import known_text_format, known_text_formats
from logview.record import parse_raw_record

# Lines copied from each project's documentation / default configuration output.
CANONICAL = {
    "gunicorn": "[2024-01-02 03:04:05 +0000] [1234] [INFO] Starting gunicorn 21.2.0",
    "celery": "[2024-01-02 03:04:05,123: INFO/MainProcess] Connected to redis://localhost:6379/0",
    "uvicorn": "INFO:     Started server process [1234]",
    "flask": "[2024-01-02 03:04:05,123] INFO in app: Request finished: 200",
    "scrapy": "2024-01-02 03:04:05 [scrapy.core.engine] INFO: Spider opened",
    # structlog with TimeStamper(fmt="iso"): its default "%Y-%m-%d %H:%M:%S" opens like
    # scrapy's lines, whose start test is that time (test_structlog_console checks both).
    "structlog-console": "2024-01-05T10:11:12.345678Z [info     ] request started"
    "                [app.web] method=GET path=/ request_id=a1 user='bob smith'",
    "airflow": "[2024-01-02T03:04:05.123+0000] {taskinstance.py:1157} INFO - Dependencies all met",
    "loguru-text": "2024-01-02 03:04:05.123 | INFO     | app.main:run:42 - Listening - port 80",
    "python-dash": "2024-01-02 03:04:05,123 - app.db - WARNING - slow query - 2.5 s",
    "python-bracket": "2024-01-02 03:04:05,123 [ERROR] app.http: GET /x: 500",
    "python-space": "2024-01-02 03:04:05,123 DEBUG app.cache miss for key a b",
    "python-colon": "2024-01-02 03:04:05,123 INFO shop.views: served /ok: 200",
    "lambda-platform": "START RequestId: 8f507cfc-1b2c-4697-b07a-ac58fc914c95 Version: $LATEST",
    "basicconfig": "WARNING:root:disk: 91% full",
    "access": '10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"',
    "klog": "W0102 03:04:05.123456       1 reflector.go:539] failed to list *v1.Pod",
    "logcat": "01-02 03:04:05.123  1702  2395 W PowerManagerService: release lock",
    "postgresql": "2024-01-02 03:04:05 UTC [1483]: [1-1] user=app,db=shop ERROR:  division by zero",
    "rich": "[01/02/24 03:04:05] WARNING  disk 91% full                              app.py:12",
    "oslo": "2024-01-02 03:04:05.678 2931 WARNING nova.compute.manager [-] Instance is gone",
    "redis": "1:M 02 Jan 2024 03:04:05.123 # WARNING Memory overcommit must be enabled!",
    "request-lines": '127.0.0.1:5000 - "GET /items?q=1 HTTP/1.1" 503',
    "haproxy": ('127.0.0.1:33990 [02/Dec/2026:02:07:58.500] fe be/web1 0/0/0/10/10 200 182 - - '
                '---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"'),
}


def by_name(name: str):
    fmt = known_text_format(name)
    assert fmt is not None, name
    return fmt


def test_names_are_distinct_and_short():
    names = [f.name for f in known_text_formats()]
    assert len(names) == len(set(names)) == len(CANONICAL)
    assert set(names) == set(CANONICAL)
    assert all(len(n) <= 20 and " " not in n for n in names)
    assert [f.name for f in presets.KNOWN_TEXT_FORMATS] == names


#: Formats whose start test is their time head alone also claim another's line that opens
#: with that time: loguru's "2024-01-02 03:04:05.678" is oslo.log's time too (detection
#: tells them apart by the whole line: ``test_oslo_format``); python-space and python-colon
#: open alike (``test_python_colon_wins_where_the_logger_ends_with_a_colon``).
_SHARED_HEADS = {"oslo": ["loguru-text"], "python-space": ["python-colon"],
                 "python-colon": ["python-space"]}


def test_python_colon_wins_where_the_logger_ends_with_a_colon():
    """``%(name)s: `` after level: python-space read the logger with its colon; without the
    colon python-colon reads nothing."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(presets.PYTHON_COLON))
    for i in range(12):
        log = logging.getLogger(("shop.views", "shop.db")[i % 2])
        log.handlers[:], log.propagate = [handler], False
        log.warning("request %d: slow", i)
    found = detect_format(stream.getvalue().encode())
    assert found.name == "python-colon"
    assert {found.parse(line).logger for line in stream.getvalue().splitlines()} == {
        "shop.views", "shop.db"}
    assert by_name("python-colon").score([CANONICAL["python-space"]]) == 0


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_each_format_claims_its_own_line_and_only_it(name):
    line = CANONICAL[name]
    # (a format whose every line but a traceback's starts a record claims no line as its own)
    claimed = [f.name for f in known_text_formats()
               if f.is_start(line) and (not f.starts_any_line or f.score([line]))]
    assert sorted(claimed) == sorted([name, *_SHARED_HEADS.get(name, [])])
    fmt = by_name(name)
    assert fmt.start_pattern is not None and fmt.start_pattern.match(line.encode())


def test_gunicorn():
    rec = by_name("gunicorn").parse(CANONICAL["gunicorn"])
    assert rec.message == "Starting gunicorn 21.2.0"
    assert (rec.level, rec.fields["process"]) == ("INFO", 1234)
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_gunicorn_template_from_stdlib_logging():
    # gunicorn's glogging "generic" formatter, driven by the real logging module.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(presets.GUNICORN, presets.GUNICORN_DATEFMT))
    log = logging.getLogger("gunicorn.error.test")
    log.propagate = False
    log.addHandler(handler)
    log.warning("Worker with pid %s was terminated due to signal %s", 42, 9)
    rec = by_name("gunicorn").parse(stream.getvalue().rstrip("\n"))
    assert rec.message == "Worker with pid 42 was terminated due to signal 9"
    assert rec.level == "WARNING" and rec.time is not None and rec.time.tzinfo is not None


def test_celery_worker_and_task_lines():
    fmt = by_name("celery")
    rec = fmt.parse(CANONICAL["celery"])
    assert (rec.level, rec.fields["processName"]) == ("INFO", "MainProcess")
    assert rec.message == "Connected to redis://localhost:6379/0"
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, 123000)
    task = (
        "[2024-01-02 03:04:05,456: INFO/ForkPoolWorker-1] tasks.add"
        "[8f0c3a5e-4b1d-4c2a-9f3e-1a2b3c4d5e6f]: Task succeeded in 0.01s: 4"
    )
    assert fmt.is_start(task)
    rec = fmt.parse(task)
    assert rec.fields["processName"] == "ForkPoolWorker-1"
    assert rec.fields["task_name"] == "tasks.add"
    assert rec.fields["task_id"] == "8f0c3a5e-4b1d-4c2a-9f3e-1a2b3c4d5e6f"
    assert rec.message == "Task succeeded in 0.01s: 4"
    # the worker's own lines about a task (celery 5's strings) name it too
    task = "tasks.explode[58df428e-1d92-48c1-a9e2-805f49499a21]"
    head = "[2026-12-02 02:19:15,452: ERROR/MainProcess] Task"
    for line in (f"{head} {task} raised unexpected: KeyError('missing')",
                 f"{head} {task} received"):
        rec = fmt.parse(line)
        assert (rec.fields["task_name"], rec.fields["task_id"]) == (
            "tasks.explode", "58df428e-1d92-48c1-a9e2-805f49499a21")
        assert rec.message.startswith("Task tasks.explode[58df428e")


def test_uvicorn_server_and_access_lines():
    fmt = by_name("uvicorn")
    rec = fmt.parse(CANONICAL["uvicorn"])
    assert (rec.level, rec.logger, rec.message) == (
        "INFO",
        "uvicorn.error",
        "Started server process [1234]",
    )
    access = 'INFO:     127.0.0.1:5000 - "GET /items?q=1 HTTP/1.1" 200 OK'
    rec = fmt.parse(access)
    assert rec.logger == "uvicorn.access"
    assert rec.fields == {  # (named as access lines' are: status>=500)
        "client": "127.0.0.1:5000", "method": "GET", "path": "/items?q=1",
        "protocol": "HTTP/1.1", "status": 200,
    }
    for line, level in [
        ("WARNING:  Invalid HTTP request received.", "WARNING"),
        ("ERROR:    Exception in ASGI application", "ERROR"),
        ("CRITICAL: out of workers", "CRITICAL"),
    ]:
        assert fmt.is_start(line)
        rec = fmt.parse(line)
        assert rec.level == level and not rec.message.startswith(" ")
    # another line is a record of its own, with no level (an app's print or bare warning),
    # not more of the line before; a traceback's lines are not
    assert fmt.score(["INFO: not uvicorn's padding"]) == 0
    assert fmt.is_start("something odd: x") and fmt.parse("something odd: x").level is None
    assert not fmt.is_start("  File \"x\", line 1") and not fmt.is_start("ValueError: x")
    tb = 'ERROR:    Exception in ASGI application\nTraceback (most recent call last):\n  File "x"\nValueError: x'
    rec = fmt.parse(tb)
    assert rec.message == "Exception in ASGI application" and rec.exc.endswith("ValueError: x")


def test_flask_scrapy_airflow():
    rec = by_name("flask").parse(CANONICAL["flask"])
    assert (rec.level, rec.fields["module"], rec.message) == (
        "INFO",
        "app",
        "Request finished: 200",
    )
    rec = by_name("scrapy").parse(CANONICAL["scrapy"])
    assert (rec.logger, rec.level, rec.message) == ("scrapy.core.engine", "INFO", "Spider opened")
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5)
    rec = by_name("airflow").parse(CANONICAL["airflow"])
    assert rec.fields == {"filename": "taskinstance.py", "lineno": 1157}
    assert (rec.level, rec.message) == ("INFO", "Dependencies all met")
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    plus = by_name("airflow").parse(
        "[2024-01-02T03:04:05.123+0530] {dag.py:7} ERROR - failed - retrying"
    )
    assert plus.time is not None and plus.time.utcoffset() == timedelta(hours=5, minutes=30)
    assert plus.message == "failed - retrying"


def test_structlog_console_canonical_line():
    rec = by_name("structlog-console").parse(CANONICAL["structlog-console"])
    assert (rec.level, rec.logger, rec.message) == ("INFO", "app.web", "request started")
    assert rec.time == datetime(2024, 1, 5, 10, 11, 12, 345678, tzinfo=UTC)
    assert rec.fields == {"method": "GET", "path": "/", "request_id": "a1", "user": "bob smith"}


@pytest.mark.parametrize(
    ("name", "template", "datefmt"),
    [
        ("python-dash", presets.PYTHON_DASH, None),
        ("python-space", presets.PYTHON_SPACE, None),
        ("python-colon", presets.PYTHON_COLON, None),
        ("python-bracket", presets.PYTHON_BRACKET, None),
        ("basicconfig", presets.BASIC_CONFIG, None),
        ("flask", presets.FLASK, None),
        ("scrapy", presets.SCRAPY, presets.SCRAPY_DATEFMT),
        ("celery", presets.CELERY, None),
    ],
)
def test_stdlib_logging_output_round_trips(tmp_path, name, template, datefmt):
    path = tmp_path / "out.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(template, datefmt))
    log = logging.getLogger(f"presets.{name}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    messages = ["first: a - b [c] {d}", "multi\nline", "x"]
    try:
        log.debug(messages[0])
        log.info(messages[1])
        try:
            raise KeyError("k")
        except KeyError:
            log.exception(messages[2])
    finally:
        log.removeHandler(handler)
        handler.close()
    fmt = by_name(name)
    splitter = RecordSplitter(fmt)
    records = [
        parse_raw_record(fmt, r) for r in splitter.feed(path.read_bytes()) + splitter.flush()
    ]
    assert [r.message for r in records] == messages
    assert [r.level for r in records] == ["DEBUG", "INFO", "ERROR"]
    assert records[2].exc is not None and "KeyError: 'k'" in records[2].exc
    if "%(name)s" in template:
        assert {r.logger for r in records} == {f"presets.{name}"}


def test_loguru_default_sink_output():
    from loguru import logger

    stream = io.StringIO()
    logger.remove()
    sink = logger.add(stream, colorize=False, level="TRACE")
    try:
        logger.trace("tracing | with pipes - and dashes")
        logger.info("hello")
        logger.success("done")
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logger.exception("broken")
    finally:
        logger.remove(sink)
        logger.add(sys.stderr)
    fmt = by_name("loguru-text")
    splitter = RecordSplitter(fmt)
    data = stream.getvalue().encode()
    records = [parse_raw_record(fmt, r) for r in splitter.feed(data) + splitter.flush()]
    assert [r.message for r in records] == [
        "tracing | with pipes - and dashes",
        "hello",
        "done",
        "broken",
    ]
    assert [(r.level, r.levelno) for r in records] == [
        ("TRACE", 5),
        ("INFO", 20),
        ("SUCCESS", 25),
        ("ERROR", 40),
    ]
    assert {r.logger for r in records} == {__name__}
    assert records[0].fields["funcName"] == "test_loguru_default_sink_output"
    assert isinstance(records[0].fields["lineno"], int)
    assert records[3].exc is not None and "ZeroDivisionError" in records[3].exc
    now = datetime.now()
    assert all(abs(r.time - now) < timedelta(minutes=5) for r in records)
    assert all(r.time.microsecond % 1000 == 0 for r in records)


def test_known_formats_never_raise_on_junk():
    junk = ["", "\x00\x01", "[", "INFO:", "2024-01-02", "[2024-01-02 03:04:05 +0000] [x] [INFO] y"]
    for fmt in known_text_formats():
        for text in junk:
            fmt.is_start(text)
            rec = fmt.parse(text)
            assert isinstance(rec.message, str)


def test_unknown_name_gives_none():
    assert known_text_format("nope") is None
