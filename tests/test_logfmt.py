"""logfmt: structlog's renderers and Go-style lines parsed into records; hostile lines."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from logging_helpers import log_key_error

from logview.boundaries import RecordSplitter
from logview.formats.logfmt import LogfmtFormat, tokenize
from logview.printer import dumps_record
from logview.record import Record, parse_raw_record

FMT = LogfmtFormat()


def _records(data: bytes) -> list[Record]:
    splitter = RecordSplitter(FMT)
    raws = splitter.feed(data) + splitter.flush()
    return [parse_raw_record(FMT, raw, "t") for raw in raws]


def _structlog_lines(renderer) -> bytes:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    logger.info("user logged in", user='bob "the" builder', n=3, flag=True, empty="",
                logger="svc.auth")
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("lookup failed")
    logger.warning("ünïcode\tand tab")
    return out.getvalue().encode()


def test_structlog_logfmt_renderer():
    info, error, warning = _records(_structlog_lines(structlog.processors.LogfmtRenderer()))
    assert (info.message, info.level, info.levelno, info.logger) == ("user logged in", "INFO",
                                                                     20, "svc.auth")
    assert info.fields == {"user": 'bob "the" builder', "n": "3", "flag": True, "empty": ""}
    assert info.time is not None and info.time.tzinfo is not None
    assert error.level == "ERROR" and error.message == "lookup failed"
    assert error.exc.startswith("Traceback (most recent call last):")
    assert error.exc.endswith("KeyError: 'missing'")
    assert warning.message == "ünïcode\tand tab" and warning.level == "WARNING"
    assert [r.line for r in (info, error, warning)] == [1, 2, 3]


def test_structlog_key_value_renderer():
    info, error, _ = _records(_structlog_lines(structlog.processors.KeyValueRenderer()))
    assert (info.message, info.level, info.logger) == ("user logged in", "INFO", "svc.auth")
    assert info.fields["user"] == 'bob "the" builder'
    assert info.fields["n"] == "3"
    assert error.exc.endswith("KeyError: 'missing'")


def test_go_style_line():
    rec = FMT.parse('time="2024-01-02T03:04:05Z" level=warning msg="disk almost full" '
                    'caller=main.go:12 err="no space left" path=/var/lib used=97%')
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (rec.level, rec.levelno, rec.message) == ("WARNING", 30, "disk almost full")
    assert rec.logger == "main.go:12" and rec.exc == "no space left"
    assert rec.fields == {"path": "/var/lib", "used": "97%"}


# Heroku's router, as its documentation shows the lines (and the H12 error example).
HEROKU_ROUTER = [
    ('at=info method=GET path="/" host=myapp.herokuapp.com request_id=8601b555-6a83-4c12-8a5b '
     'fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 '
     "protocol=https"),
    ('at=error code=H12 desc="Request timeout" method=GET path="/slow" host=myapp.herokuapp.com '
     'request_id=8601b555 fwd="204.204.204.204" dyno=web.1 connect=0ms service=30000ms '
     "status=503 bytes=0 protocol=https"),
    "at=warning code=H81 desc=\"Blank app\" method=GET path=/ host=x.herokuapp.com",
]


def test_heroku_at_is_the_level():
    ok, timeout, blank = (FMT.parse(line) for line in HEROKU_ROUTER)
    assert (ok.level, ok.levelno) == ("INFO", 20)
    assert (timeout.level, timeout.levelno) == ("ERROR", 40)
    assert blank.level == "WARNING"
    assert "at" not in ok.fields and ok.fields["status"] == "200" and ok.fields["path"] == "/"
    assert timeout.fields["code"] == "H12" and timeout.fields["desc"] == "Request timeout"
    assert all(FMT.is_logfmt(line) for line in HEROKU_ROUTER)


@pytest.mark.parametrize("line, level, at", [
    ("at=handler.go:12 msg=x", None, "handler.go:12"),  # a place, not a level
    ("at=30 msg=x", None, "30"),
    ("at=2024-01-02T03:04:05Z msg=x", None, "2024-01-02T03:04:05Z"),
    ("at=home msg=x", None, "home"),
    ("at=Level msg=x", None, "Level"),
    ("at= msg=x", None, ""),
    ("at msg=x", None, True),
    ("at=info level=debug msg=x", "DEBUG", "info"),  # an explicit level key wins
    ("level=debug at=warn msg=x", "DEBUG", "warn"),
    ("at=WARN msg=x", "WARNING", None),
    ("at=notice msg=x", "NOTICE", None),
    ("at=fatal msg=x", "CRITICAL", None),
])
def test_at_is_a_level_only_when_it_names_one(line, level, at):
    rec = FMT.parse(line)
    assert rec.level == level and rec.message == "x"
    assert rec.fields.get("at") == at


def test_lvl_and_severity_keys():
    assert FMT.parse("lvl=warn msg=a").level == "WARNING"
    assert FMT.parse("severity=ERROR msg=a").level == "ERROR"
    assert FMT.parse("t=2024-01-02T03:04:05Z lvl=dbug msg=a").level == "DBUG"  # unknown name kept


def test_logfmter_library_writes_at():
    """The logfmter package (logging.Formatter) writes ``at=LEVEL``; its exc_info is quoted."""
    logfmter = pytest.importorskip("logfmter")
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logfmter.Logfmter(keys=["at", "when", "logger"],
                                           mapping={"at": "levelname", "when": "asctime",
                                                    "logger": "name"}))
    logger = logging.getLogger("test_logfmt.logfmter")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.info("hello %s", "world", extra={"user": "bob"})
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("lookup failed")
    logger.debug("quiet")
    info, error, debug = _records(buf.getvalue().encode())
    assert (info.message, info.level, info.logger) == ("hello world", "INFO",
                                                      "test_logfmt.logfmter")
    assert info.fields["user"] == "bob" and "when" in info.fields
    assert (error.level, error.message) == ("ERROR", "lookup failed")
    assert error.exc.startswith("Traceback") and error.exc.endswith("KeyError: 'missing'")
    assert debug.level == "DEBUG"


def test_python_logging_writing_logfmt(tmp_path):
    """A ``logging`` format string that writes logfmt, through a real FileHandler."""
    from logview.formats.detect import detect_format

    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(
        'time=%(asctime)s level=%(levelname)s logger=%(name)s msg="%(message)s"',
        datefmt="%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger("test_logfmt.file")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for n in range(10):
        logger.warning("disk %d%% full", 90 + n)
        logger.info("tick %d", n)
    handler.close()
    data = path.read_bytes()
    fmt = detect_format(data)
    splitter = RecordSplitter(fmt)
    recs = [parse_raw_record(fmt, raw, "t") for raw in splitter.feed(data) + splitter.flush()]
    assert len(recs) == 20
    assert [(r.level, r.logger, r.message) for r in recs[:2]] == [
        ("WARNING", "test_logfmt.file", "disk 90% full"), ("INFO", "test_logfmt.file", "tick 0")]
    assert all(r.time is not None and r.time.tzinfo is not None for r in recs)


def test_unquoted_values_are_a_template_not_logfmt(tmp_path):
    """``key=%(value)s`` pairs written without quotes leave the message's words after the
    first as bare keys: the inferred template reads the whole message and the whole time."""
    from logview.formats.detect import detect_format

    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(
        "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"))
    logger = logging.getLogger("test_logfmt.unquoted")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for n in range(30):
        logger.log((logging.INFO, logging.WARNING, logging.ERROR)[n % 3],
                   "request %d handled with status=%d", n, 200 + n)
        if n == 7:
            log_key_error(logger, "missing", "lookup failed")
    handler.close()
    data = path.read_bytes()
    fmt = detect_format(data)
    assert not isinstance(fmt, LogfmtFormat), fmt
    splitter = RecordSplitter(fmt)
    recs = [parse_raw_record(fmt, raw, "t") for raw in splitter.feed(data) + splitter.flush()]
    assert len(recs) == 31
    assert recs[1].level == "WARNING" and recs[1].logger == "test_logfmt.unquoted"
    assert recs[1].message.endswith("request 1 handled with status=201")
    # (logfmt read the date alone: every time was midnight)
    assert all(r.time is not None for r in recs) and any(r.time.time() != r.time.min.time()
                                                         for r in recs)
    failed = next(r for r in recs if "lookup failed" in r.message)
    assert failed.level == "ERROR" and failed.exc.endswith("KeyError: 'missing'")


def test_go_slog_text_handler_line():
    rec = FMT.parse('time=2024-01-02T03:04:05.678+01:00 level=WARN source=/src/main.go:42 '
                    'msg="disk almost full" used=97% err="no space left on device"')
    assert rec.time == datetime(2024, 1, 2, 2, 4, 5, 678000, tzinfo=UTC)
    assert (rec.level, rec.message, rec.exc) == ("WARNING", "disk almost full",
                                                 "no space left on device")
    assert rec.fields == {"source": "/src/main.go:42", "used": "97%"}


def test_heroku_logs_prefix_is_time_and_logger():
    rec = FMT.parse("2024-01-02T03:04:05.123456+00:00 heroku[router]: " + HEROKU_ROUTER[1])
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert (rec.logger, rec.level, rec.fields["code"]) == ("heroku[router]", "ERROR", "H12")
    assert "heroku[router]:" not in rec.fields
    # With time and logger keys of its own the prefix stays as the words it was.
    both = FMT.parse("2024-01-02T03:04:05Z web[1]: ts=2024-01-02T03:04:06Z logger=a msg=x")
    assert (both.logger, both.time_text) == ("a", "2024-01-02T03:04:06Z")
    assert both.fields == {"2024-01-02T03:04:05Z": True, "web[1]:": True}
    # A leading bare word that is not a time is an ordinary bare key.
    assert FMT.parse("GET level=info msg=x").fields == {"GET": True}


def test_synonyms_first_rank_wins_others_stay_fields():
    rec = FMT.parse("ts=1704164645 t=x lvl=debug level=info message=a msg=b name=n logger=l")
    assert rec.level == "INFO" and rec.message == "b" and rec.logger == "l"
    assert rec.time is not None and rec.time.year == 2024
    assert rec.time_text == "1704164645"
    assert rec.fields == {"t": "x", "lvl": "debug", "message": "a", "name": "n"}


def test_byte_order_mark_at_file_start():
    rec = FMT.parse("\ufefflevel=info msg=hi")
    assert (rec.level, rec.message, rec.fields) == ("INFO", "hi", {})


def test_escapes():
    assert tokenize(r'a="x\"y\\z\n\u00e9" b=\u') == [("a", 'x"y\\z\né'), ("b", "\\u")]
    assert tokenize(r'a="\ud800"') == [("a", "\ufffd")]  # never a lone surrogate
    assert tokenize("a='it\\'s' b=url?x=1") == [("a", "it's"), ("b", "url?x=1")]


def test_text_lines_are_records_of_their_own():
    data = (b"level=info msg=one\n"
            b"Starting server on port=8080\n"
            b"level=error msg=two\n"
            b"Traceback (most recent call last):\n"
            b'  File "x.py", line 1, in <module>\n'
            b"ValueError: crash\n"
            b"plain\n")
    recs = _records(data)
    assert [r.message for r in recs] == ["one", "Starting server on port=8080", "two", "plain"]
    assert recs[1].level is None and recs[1].fields == {}
    assert recs[2].exc.endswith("ValueError: crash")


def test_is_logfmt_and_score():
    assert FMT.is_logfmt("a=1 b=2")
    assert FMT.is_logfmt("msg=hello")  # one well-known key is enough
    assert not FMT.is_logfmt("port=8080")
    assert not FMT.is_logfmt("set a=1 then b=2 and more words")
    assert not FMT.is_logfmt("2024-01-02 03:04:05,123 - app - INFO - x=1 y=2")
    assert not FMT.is_logfmt('msg="unclosed')
    lines = ["a=1 b=2", "level=info msg=x", "text here", "  indented"]
    assert FMT.score(lines) == pytest.approx(0.5)
    assert FMT.score([]) == 0.0


@pytest.mark.parametrize(
    "line",
    [
        'msg="' + "\\" * 100_001,
        "a=" + "x" * 200_000 + " b=1",
        "level=\x1b[31merror\x1b[0m msg=\x1b]0;title\x07hi",
        "level=" + "Z" * 1000 + " msg=x",
        "=== = =",
        "msg=\x00nul level=info",
        'msg="\\' + '"',
    ],
)
def test_hostile_lines_never_raise(line):
    rec = FMT.parse_raw(line)
    assert isinstance(rec, Record) and rec.raw == line
    assert "\x1b" not in rec.message and "\x1b" not in (rec.level or "")
    dumps_record(rec)


def test_query_prefilter_hints():
    assert LogfmtFormat.level_text is False and LogfmtFormat.json_escaped is True


def test_level_and_time_text_are_bounded():
    rec = FMT.parse("level=" + "Z" * 1000 + " msg=x")
    assert rec.level is not None and len(rec.level) <= 40


# ---------------------------------------------------------------------------------------------
# Properties: whatever structlog writes reads back; no text makes the parser raise


_KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in ("at", "level", "lvl", "severity", "levelname", "loglevel", "time", "ts", "t",
                        "timestamp", "asctime", "msg", "message", "event", "logger", "name",
                        "caller", "logger_name", "err", "error", "exception", "exc_info",
                        "stacktrace", "stack"))
# Printable text; a value that *starts* with a single quote reads as a KeyValueRenderer repr,
# so those are left out by design.
_VALUES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                                blacklist_characters="\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0"
                                                     "\u1680\u2000\u2001\u2002\u2003\u2004"
                                                     "\u2005\u2006\u2007\u2008\u2009\u200a"
                                                     "\u202f\u205f\u3000"),
                  max_size=30).filter(lambda v: not v.startswith("'"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, min_size=2, max_size=6))
def test_structlog_logfmt_round_trip(pairs):
    line = structlog.processors.LogfmtRenderer()(None, "info", dict(pairs))
    assert tokenize(line) == list(pairs.items())
    rec = FMT.parse(line)
    assert rec.fields == pairs
