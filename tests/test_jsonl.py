"""JSON lines: real logging libraries' output parsed into records, and hostile input."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import orjson
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from logview.boundaries import RecordSplitter
from logview.formats.jsonl import _NESTED_KEYS, _ROLES, JsonFormat, render_structlog_traceback
from logview.printer import dumps_record, record_to_json
from logview.record import Record, parse_raw_record

FMT = JsonFormat()


def _boom() -> None:
    raise ZeroDivisionError("division by zero")


def _records(data: bytes) -> list[Record]:
    splitter = RecordSplitter(FMT)
    raws = splitter.feed(data) + splitter.flush()
    return [parse_raw_record(FMT, raw, "test") for raw in raws]


# ---------------------------------------------------------------------------------------------
# python-json-logger


def _pjl_lines(fmt: str = "%(asctime)s %(levelname)s %(name)s %(message)s", **kwargs) -> bytes:
    from pythonjsonlogger.json import JsonFormatter

    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(fmt, **kwargs))
    logger = logging.getLogger("app.db")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.info("hello %s", "world", extra={"user": "bob", "ctx": {"req": 7}})
    try:
        _boom()
    except ZeroDivisionError:
        logger.exception("query failed")
    logger.warning("where am I", stack_info=True)
    logger.debug("multi\nline")
    return buf.getvalue().encode()


def test_python_json_logger_fields_levels_and_traceback():
    info, error, warning, debug = _records(_pjl_lines())
    assert (info.message, info.level, info.levelno, info.logger) == ("hello world", "INFO", 20,
                                                                     "app.db")
    assert info.fields == {"user": "bob", "ctx": {"req": 7}}
    assert isinstance(info.time, datetime) and info.time.year >= 2024
    assert info.time_text and "," in info.time_text
    assert error.level == "ERROR" and error.message == "query failed"
    assert error.exc.startswith("Traceback (most recent call last):")
    assert error.exc.endswith("ZeroDivisionError: division by zero")
    assert "_boom" in error.exc
    assert warning.exc.startswith("Stack (most recent call last):")
    assert debug.message == "multi\nline" and debug.exc is None
    assert error.source == "test" and error.line == 2


def test_python_json_logger_timestamp_and_levelno():
    (info, *_rest) = _records(_pjl_lines("%(levelno)s %(levelname)s %(message)s",
                                         timestamp=True))
    assert info.levelno == 20 and info.level == "INFO"
    assert info.time is not None and info.time.tzinfo is not None
    assert "levelno" not in info.fields and "timestamp" not in info.fields


# ---------------------------------------------------------------------------------------------
# structlog


def _structlog_lines(*processors) -> bytes:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            *processors,
            structlog.processors.JSONRenderer(),
        ],
    )
    logger.info("user created", name="bob", n=3, logger="svc.users")
    try:
        try:
            _boom()
        except ZeroDivisionError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError:
        logger.exception("failed")
    return out.getvalue().encode()


def test_structlog_json_with_text_traceback():
    info, error = _records(_structlog_lines(structlog.processors.format_exc_info))
    assert (info.message, info.level, info.levelno, info.logger) == ("user created", "INFO", 20,
                                                                     "svc.users")
    assert info.fields == {"name": "bob", "n": 3}  # "name" is the user's, not the logger
    assert info.time is not None and info.time.tzinfo is not None
    assert error.level == "ERROR"
    assert "ZeroDivisionError: division by zero" in error.exc
    assert error.exc.rstrip().endswith("RuntimeError: wrapped")


def test_structlog_dict_tracebacks_render_like_python():
    _, error = _records(_structlog_lines(structlog.processors.dict_tracebacks))
    assert error.message == "failed" and error.level == "ERROR"
    exc = error.exc
    assert exc.startswith("Traceback (most recent call last):")
    # innermost first, then the chain sentence, then the outer exception: as Python prints it
    first = exc.index("ZeroDivisionError: division by zero")
    cause = exc.index("The above exception was the direct cause of the following exception:")
    last = exc.index("RuntimeError: wrapped")
    assert first < cause < last
    assert 'in _boom' in exc and "line " in exc
    assert "exception" not in error.fields


def test_render_structlog_context_and_notes():
    stacks = [
        {"exc_type": "KeyError", "exc_value": "'x'", "is_cause": False, "frames": [],
         "exc_notes": ["note one"]},
        {"exc_type": "ValueError", "exc_value": "", "is_cause": False,
         "frames": [{"filename": "a.py", "lineno": 3, "name": "f", "line": "g()"}]},
    ]
    text = render_structlog_traceback(stacks)
    assert text.splitlines() == [
        "Traceback (most recent call last):",
        '  File "a.py", line 3, in f',
        "    g()",
        "ValueError",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "KeyError: 'x'",
        "note one",
    ]


# ---------------------------------------------------------------------------------------------
# loguru


def test_loguru_serialize_with_exception():
    from loguru import logger

    out = io.StringIO()
    sink = logger.add(out, serialize=True, level="TRACE")
    try:
        logger.bind(request_id="r-1").info("hi {}", 1)
        logger.success("done")
        try:
            _boom()
        except ZeroDivisionError:
            logger.exception("oops")
    finally:
        logger.remove(sink)
    info, success, error = _records(out.getvalue().encode())
    assert (info.message, info.level, info.levelno) == ("hi 1", "INFO", 20)
    assert info.fields["request_id"] == "r-1"
    assert info.logger == __name__
    assert info.exc is None and info.time is not None and info.time.tzinfo is not None
    assert "function" in info.fields and "text" not in info.fields
    # One-line text: the program's fields, not loguru's nested elapsed time and file.
    from logview.printer import format_text

    line = format_text(info)
    assert "request_id=r-1" in line and "elapsed" not in line and "file." not in line
    assert info.fields["elapsed"]["seconds"] >= 0 and info.fields["file"]["name"]
    own = _one('{"message": "uploaded", "level": "info", "file": "a.csv", "elapsed": "3s"}')
    assert format_text(own).endswith("uploaded file=a.csv elapsed=3s")
    assert (success.level, success.levelno) == ("SUCCESS", 25)
    assert error.level == "ERROR" and error.message == "oops"
    assert error.exc.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in error.exc


# ---------------------------------------------------------------------------------------------
# Hand-written canonical lines of other schemas


def _one(line: str) -> Record:
    (record,) = _records(line.encode() + b"\n")
    return record


def test_ecs_dotted_and_nested():
    rec = _one('{"@timestamp":"2024-05-01T10:00:00.123Z","log.level":"warn","message":"disk",'
               '"ecs.version":"1.6.0","log":{"logger":"app.disk","origin":{"file":{"line":3}}},'
               '"error":{"type":"OSError","message":"full","stack_trace":"Traceback (most '
               'recent call last):\\n  File \\"x\\"\\nOSError: full"}}')
    assert (rec.level, rec.levelno, rec.logger, rec.message) == ("WARNING", 30, "app.disk",
                                                                 "disk")
    assert rec.time == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert rec.exc.endswith("OSError: full")
    assert rec.fields["log"] == {"origin": {"file": {"line": 3}}}
    assert rec.fields["error"] == {"type": "OSError", "message": "full"}
    nested = _one('{"@timestamp":"2024-05-01T10:00:00Z","log":{"level":"error",'
                  '"logger":"a"},"message":"m","error.type":"KeyError","error.message":"k"}')
    assert (nested.level, nested.logger, nested.exc) == ("ERROR", "a", "KeyError: k")
    assert "log" not in nested.fields


def test_gelf():
    rec = _one('{"version":"1.1","host":"web1","short_message":"A short message",'
               '"full_message":"Backtrace here\\n\\nmore stuff","timestamp":1385053862.3072,'
               '"level":3,"_user_id":9001,"_some_info":"foo"}')
    assert (rec.level, rec.levelno, rec.message) == ("ERROR", 40, "A short message")
    assert rec.exc == "Backtrace here\n\nmore stuff"
    assert rec.fields == {"version": "1.1", "host": "web1", "user_id": 9001, "some_info": "foo"}
    assert rec.time is not None and rec.time.year == 2013
    debug = _one('{"version":"1.1","host":"h","short_message":"x","level":7}')
    assert debug.level == "DEBUG"


def test_pino_and_bunyan():
    pino = _one('{"level":50,"time":1531171074631,"pid":657,"hostname":"box","name":"api",'
                '"msg":"request failed","err":{"type":"Error","message":"boom",'
                '"stack":"Error: boom\\n    at main (/app/index.js:3:9)"}}')
    assert (pino.level, pino.levelno, pino.logger, pino.message) == ("ERROR", 40, "api",
                                                                      "request failed")
    assert pino.exc == "Error: boom\n    at main (/app/index.js:3:9)"
    assert pino.time == datetime(2018, 7, 9, 21, 17, 54, 631000, tzinfo=UTC)
    assert pino.fields == {"pid": 657, "hostname": "box", "err": {"type": "Error",
                                                                  "message": "boom"}}
    bunyan = _one('{"name":"myapp","hostname":"box","pid":34,"level":30,"msg":"hi",'
                  '"time":"2013-01-04T18:46:23.851Z","v":0}')
    assert (bunyan.level, bunyan.levelno, bunyan.logger) == ("INFO", 20, "myapp")
    assert bunyan.time.year == 2013
    trace = _one('{"level":10,"time":1531171074631,"msg":"t"}')
    assert trace.level == "TRACE" and trace.levelno == 5
    fatal = _one('{"level":60,"time":1531171074631,"msg":"f"}')
    assert fatal.level == "CRITICAL"


def test_logstash_gcp_and_generic():
    logstash = _one('{"@timestamp":"2024-01-02T03:04:05.000Z","@version":"1","message":"m",'
                    '"logger_name":"com.x.Y","thread_name":"main","level":"ERROR",'
                    '"level_value":40000,"stack_trace":"java.lang.X: y\\n\\tat a.b(C.java:1)"}')
    assert (logstash.logger, logstash.level, logstash.message) == ("com.x.Y", "ERROR", "m")
    assert logstash.exc.startswith("java.lang.X: y")
    assert logstash.fields == {"@version": "1", "thread_name": "main", "level_value": 40000}
    gcp = _one('{"severity":"WARNING","message":"slow","time":"2024-01-02T03:04:05Z"}')
    assert (gcp.level, gcp.levelno) == ("WARNING", 30) and gcp.time is not None
    zap = _one('{"lvl":"dbug","ts":1704164645.5,"caller":"x.go:1","msg":"go",'
               '"stacktrace":"main.f\\n\\t/x.go:1"}')
    assert zap.message == "go" and zap.time is not None and zap.exc.startswith("main.f")
    assert _one('{"loglevel":"fatal","msg":"x"}').level == "CRITICAL"


def test_own_jsonl_output_reads_back_equal():
    originals = [
        Record(message="hello", time=datetime(2024, 1, 2, 3, 4, 5, 123000), level="INFO",
               levelno=20, logger="a.b", fields={"user": "bob", "n": {"x": [1, 2]}},
               source="app.log", line=7),
        Record(message="bad", time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
               level="SUCCESS", levelno=25, exc="Traceback (most recent call last):\nX: y",
               fields={"message": "shadow", "level": 3}, source="s", line=8),
        Record(message="no time or level"),
    ]
    data = b"".join(dumps_record(r) for r in originals)
    back = [FMT.parse(line) for line in data.decode().splitlines()]
    assert [record_to_json(r) for r in back] == [record_to_json(r) for r in originals]


# ---------------------------------------------------------------------------------------------
# Messages, mixed lines and hostile input


def test_non_string_messages_are_compact():
    assert _one('{"message": {"a": [1, 2]}, "level": "info"}').message == '{"a":[1,2]}'
    assert _one('{"msg": 42}').message == "42"
    assert _one('{"event": null}').message == "null"
    assert _one('{"a": 1}').message == "" and _one('{"a": 1}').fields == {"a": 1}


def test_traceback_inside_message_is_split():
    rec = _one(json.dumps({"message": "failed\nTraceback (most recent call last):\n  File "
                           "\"x\", line 1\nKeyError: 1", "level": "ERROR"}))
    assert rec.message == "failed" and rec.exc.endswith("KeyError: 1")


def test_ansi_escaped_in_values_is_stripped():
    rec = _one('{"message": "\\u001b[31mred\\u001b[0m", "level": "\\u001b[1mwarn"}')
    assert rec.message == "red" and rec.level == "WARNING"


def test_text_lines_in_json_log_are_records_of_their_own():
    data = (b'{"message": "one", "level": "info"}\n'
            b"plain text line\n"
            b'{"message": "two", "level": "error"}\n'
            b"Traceback (most recent call last):\n"
            b'  File "x.py", line 1, in <module>\n'
            b"ValueError: crash\n"
            b"another text line\n")
    recs = _records(data)
    assert [r.message for r in recs] == ["one", "plain text line", "two", "another text line"]
    assert recs[1].level is None and recs[1].levelno == 0
    assert recs[2].exc.endswith("ValueError: crash")  # the stderr traceback stays with it
    assert [r.line for r in recs] == [1, 2, 3, 7]


def test_byte_order_mark_at_file_start():
    first, second = _records(b'\xef\xbb\xbf{"message": "one"}\n{"message": "two"}\n')
    assert (first.message, second.message) == ("one", "two")


def test_pretty_printed_object_is_one_record():
    data = json.dumps({"message": "pretty", "level": "warning", "ctx": {"a": [1, 2]}},
                      indent=2).encode() + b'\n{"message": "next"}\n'
    first, second = _records(data)
    assert (first.message, first.level, first.fields) == ("pretty", "WARNING",
                                                          {"ctx": {"a": [1, 2]}})
    assert second.message == "next" and second.line == data.count(b"\n")


@pytest.mark.parametrize(
    "line",
    [
        '{"message": "truncated',
        "[1, 2, 3]",
        '"just a string"',
        "{" * 5000 + "}" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        '{"message": "x", "big": 1' + "0" * 5000 + "}",
        '{"message": "a", "message": "b"}',
        '{"message": "nul \\u0000 inside"}',
        '{"message": "raw \x00 nul"}',
        '{"message": NaN, "level": Infinity}',
        '{"level": true, "time": [1], "name": {"x": 1}, "exception": 5, "levelno": "x"}',
        '{"message": "\\ud800 lone surrogate"}',
        "{}",
        "   ",
        "\x1b]0;title\x07{}",
    ],
)
def test_hostile_lines_never_raise_and_keep_text(line):
    rec = FMT.parse_raw(line)
    assert isinstance(rec, Record)
    assert rec.raw == line
    if not line.startswith("{"):
        assert rec.level is None
    dumps_record(rec)  # and the record can always be printed


def test_hostile_fields_are_kept():
    rec = _one('{"level": true, "time": [1], "name": {"x": 1}, "exception": 5, "levelno": "x"}')
    assert rec.level is None and rec.time is None and rec.logger == "" and rec.exc is None
    assert rec.fields == {"level": True, "time": [1], "name": {"x": 1}, "exception": 5,
                          "levelno": "x"}


def test_deep_nesting_becomes_plain_record():
    line = '{"a":' * 3000 + "1" + "}" * 3000
    rec = FMT.parse(line)
    assert rec.message == line and rec.fields == {}


def test_is_start_and_start_pattern_agree():
    lines = ['{"a": 1}', '  {"a": 1}', "text", "  indented", "Traceback (most recent call last):",
             "ValueError: x", "", "[1]", "}", "],"]
    for line in lines:
        assert FMT.is_start(line) == bool(FMT.start_pattern.match(line.encode())), line


def test_score_counts_json_objects_only():
    lines = ['{"a": 1}', '{"b": 2}', "text", '{"broken": ']
    assert FMT.score(lines) == pytest.approx(0.5)
    assert FMT.score([]) == 0.0
    assert JsonFormat.level_text is False and JsonFormat.json_escaped is True
    orjson.loads(b"{}")  # orjson is what the format is built on


# ---------------------------------------------------------------------------------------------
# Properties: unknown keys are kept as they were; no text makes the parser raise or drop bytes



_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10,
)
_FIELD_KEYS = st.text(max_size=8).filter(
    lambda k: k not in _ROLES and k not in _NESTED_KEYS and not k.startswith("_")
    and k not in ("record", "text", "fields", "version", "host", "full_message"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_FIELD_KEYS, _JSON_VALUES, max_size=6), st.text(max_size=40))
def test_unknown_keys_become_fields_unchanged(fields, message):
    line = orjson.dumps({"message": message, **fields}).decode()
    rec = FMT.parse(line)
    assert rec.fields == fields
    if "\n" not in message and "\x1b" not in message and not any(
        "\x90" <= c <= "\x9f" for c in message
    ):
        assert rec.message == message


def test_postgresql_jsonlog_severity_is_the_level():
    # log_destination = jsonlog (PostgreSQL 15, as it wrote them): error_severity
    fmt = JsonFormat()
    error = fmt.parse('{"timestamp":"2026-12-02 02:06:01.463 UTC","user":"postgres","dbname":"postgres","pid":21468,"remote_host":"127.0.0.1","remote_port":36224,"session_id":"6b0f7d09.53dc","line_num":3,"ps":"INSERT","session_start":"2026-12-02 02:06:01 UTC","vxid":"3/4","txid":734,"error_severity":"ERROR","state_code":"23505","message":"duplicate key value violates unique constraint \\"orders_pkey\\"","detail":"Key (id)=(1) already exists.","statement":"INSERT INTO orders VALUES (1, 99);","application_name":"psql","backend_type":"client backend","query_id":0}')
    assert (error.level, error.levelno) == ("ERROR", 40)
    assert "error_severity" not in error.fields and error.fields["dbname"] == "postgres"
    assert fmt.parse('{"timestamp":"2026-12-02 02:06:01.228 UTC","pid":21447,"session_id":"6b0f7d09.53c7","line_num":1,"session_start":"2026-12-02 02:06:01 UTC","txid":0,"error_severity":"LOG","message":"starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit","backend_type":"postmaster","query_id":0}').level == "LOG"
