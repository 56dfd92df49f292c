"""GenericFormat (records start at a time or a level) and tracebacks kept whole in every mode.

Log text comes from the real ``logging`` module and tracebacks from really raised exceptions;
the start test is held equal between text and bytes, and to the index, on hostile lines.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logview.boundaries import RecordSplitter
from logview.formats.base import PlainFormat
from logview.formats.generic import GenericFormat
from logview.formats.jsonl import JsonFormat
from logview.formats.linewise import is_continuation
from logview.formats.logfmt import LogfmtFormat
from logview.index import RecordIndex
from logview.query import parse_query
from logview.record import _ALIASES, Record, level_from_name, parse_raw_record
from logview.scan import query_prefilter
from logview.sources.base import MemorySource
from logview.timeparse import parse_time, parse_time_of_day

GENERIC = GenericFormat()
WHEN = datetime(2024, 1, 2, 3, 4, 5, 123000)


def split(fmt, text: str) -> list[Record]:
    """The records the splitter cuts ``text`` into, parsed (raw kept)."""
    splitter = RecordSplitter(fmt)
    data = text.encode()
    raws = splitter.feed(data) + splitter.flush()
    assert b"".join(raw.data for raw in raws) == data  # never drop a byte
    return [parse_raw_record(fmt, raw) for raw in raws]


class _Keep(logging.Handler):
    """Formats each record into a shared buffer and keeps the LogRecord (for its exc_text)."""

    def __init__(self, buf: io.StringIO, formatter: logging.Formatter) -> None:
        super().__init__()
        self.buf, self.records = buf, []
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        record.created, record.msecs = WHEN.timestamp(), 123.0
        self.buf.write(self.format(record) + "\n")
        self.records.append(record)


def capture(formatter: logging.Formatter, body: Callable[[logging.Logger], None],
            name: str = "app.db", buf: io.StringIO | None = None) -> tuple[str, list]:
    """What a real logger with ``formatter`` writes while ``body`` runs, and its LogRecords."""
    buf = buf if buf is not None else io.StringIO()
    handler = _Keep(buf, formatter)
    logger = logging.getLogger(name)
    logger.handlers[:], logger.propagate = [handler], False
    logger.setLevel(logging.DEBUG)
    try:
        body(logger)
    finally:
        logger.handlers[:] = []
    return buf.getvalue(), handler.records


def line(template: str, datefmt: str | None = None, level: int = logging.ERROR,
         name: str = "app.db", message: str = "disk full") -> str:
    """One line as ``logging`` formats it at ``WHEN``."""
    text, _ = capture(logging.Formatter(template, datefmt), lambda log: log.log(level, message),
                      name)
    return text.rstrip("\n")


# ---------------------------------------------------------------------------------------------
# Timestamps, each form written by logging's own asctime or by strftime


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (line("%(asctime)s %(message)s"), WHEN),
        (line("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"), WHEN.replace(microsecond=0)),
        (line("[%(asctime)s] %(message)s"), WHEN),
        (line("%(asctime)s %(message)s", "%Y/%m/%d %H:%M:%S"), WHEN.replace(microsecond=0)),
        (line("%(asctime)s %(message)s", "%d/%b/%Y:%H:%M:%S"), WHEN.replace(microsecond=0)),
        (line("[%(asctime)s] %(message)s", "%d/%b/%Y %H:%M:%S"), WHEN.replace(microsecond=0)),
        (WHEN.strftime("[%a %b %d %H:%M:%S.%f %Y] disk full"), WHEN),
        (WHEN.strftime("%a %b %d %H:%M:%S %Y disk full"), WHEN.replace(microsecond=0)),
        ("2024-01-02T03:04:05.123Z disk full", WHEN.replace(tzinfo=UTC)),
        ("2024-01-02 03:04:05,123 +0100 disk full",
         WHEN.replace(tzinfo=timezone(timedelta(hours=1)))),
        ("2024-01-02 03:04:05.123 UTC disk full", WHEN.replace(tzinfo=UTC)),
        ("02/Jan/2024:03:04:05 +0000 disk full", WHEN.replace(microsecond=0, tzinfo=UTC)),
        (f"{WHEN.replace(tzinfo=UTC).timestamp():.3f} disk full", WHEN.replace(tzinfo=UTC)),
        (f"{WHEN.replace(tzinfo=UTC).timestamp():.0f}123 disk full", WHEN.replace(tzinfo=UTC)),
    ],
)
def test_each_timestamp_form_starts_a_record_and_is_read(head, expected):
    assert GENERIC.is_start(head) and GENERIC.start_pattern.match(head.encode())
    record = GENERIC.parse(head)
    assert record.time is not None and abs(record.time - expected) < timedelta(milliseconds=1)
    assert record.time_text is not None and record.time_text in head
    assert record.message == "disk full"


def test_syslog_and_time_of_day_get_a_date():
    record = GENERIC.parse(line("%(asctime)s %(message)s", "%b %d %H:%M:%S"))
    assert record.time == WHEN.replace(year=datetime.now().year, microsecond=0)
    clock = GENERIC.parse(line("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    assert clock.time_text == "03:04:05" and clock.level == "ERROR"
    assert clock.time is not None and clock.time.time() == WHEN.time().replace(microsecond=0)
    assert clock.time.date() in (date.today(), date.today() - timedelta(days=1))


def test_timeparse_forms_added_for_generic_logs():
    assert parse_time("Wed Oct 11 14:32:52.123456 2000") == datetime(2000, 10, 11, 14, 32, 52,
                                                                     123456)
    assert parse_time("240102 03:04:05") == WHEN.replace(microsecond=0)
    assert parse_time("02/Jan/2024 03:04:05") == WHEN.replace(microsecond=0)
    assert parse_time("03:04:05") is None  # a date is the caller's assumption
    assert parse_time_of_day("[03:04:05.1234567]", date(2024, 1, 2)) == datetime(
        2024, 1, 2, 3, 4, 5, 123456)
    for bad in ("25:61:00", "Wed Oct 41 14:32:52 2000", "991399 03:04:05", "x"):
        assert parse_time(bad) is None and parse_time_of_day(bad) is None


# ---------------------------------------------------------------------------------------------
# Levels


@pytest.mark.parametrize("alias", sorted(_ALIASES))
def test_every_level_name_level_from_name_knows(alias):
    expected = level_from_name(alias)
    for text in (f"{alias} disk full", f"{alias}:app:disk full", f"[{alias.lower()}] disk full",
                 f"{alias.title()}: disk full", f"2024-01-02 03:04:05 {alias.lower()} disk full"):
        assert GENERIC.is_start(text), text
        record = GENERIC.parse(text)
        assert (record.level, record.levelno) == expected, text
        assert record.message == "disk full", text


@pytest.mark.parametrize(
    ("text", "level", "logger", "message"),
    [
        (line(logging.BASIC_FORMAT, level=logging.WARNING, name="root"), "WARNING", "root",
         "disk full"),
        (line("%(levelname)-8s %(message)s"), "ERROR", "", "disk full"),
        ("[core:error] disk full", "ERROR", "core", "disk full"),
        ("[php:notice] disk full", "NOTICE", "php", "disk full"),
        ("[ WARN ] disk full", "WARNING", "", "disk full"),
        ("INFO[0000] disk full", "INFO", "", "[0000] disk full"),
        ("error: disk full", "ERROR", "", "disk full"),
    ],
)
def test_level_forms_at_the_line_start(text, level, logger, message):
    assert GENERIC.is_start(text)
    record = GENERIC.parse(text)
    assert (record.level, record.logger, record.message) == (level, logger, message)


#: tornado.log.LogFormatter's DEFAULT_FORMAT and DEFAULT_DATE_FORMAT, colours off.
TORNADO = "[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d] %(message)s"


def test_tornado_head_and_one_letter_levels_only_there():
    head = line(TORNADO, "%y%m%d %H:%M:%S", message="500 GET /api (10.0.0.1) 3.21ms")
    assert head.startswith("[E 240102 03:04:05 ")
    assert GENERIC.is_start(head)
    record = GENERIC.parse(head)
    assert (record.level, record.time) == ("ERROR", WHEN.replace(microsecond=0))
    assert record.logger == "test_generic_format" and isinstance(record.fields["lineno"], int)
    assert record.message == "500 GET /api (10.0.0.1) 3.21ms"
    quiet = GenericFormat(one_letter_levels=False).parse(head)
    assert quiet.level is None and quiet.time == record.time and quiet.message == record.message


@pytest.mark.parametrize(
    "text",
    ["Info about the release", "error connecting to db", "Errors: 3", "ERRORS found",
     "[eRRoR] odd case", "note that", "hello world", "- list item", "ValueError: x",
     "Warning about", "  2024-01-02 03:04:05 indented", "12:34", "2024-01-02 no time",
     "123456789 items", "Tuesday", "Jane  2 03:04:05 x", "E.T. phoned home", "I think so",
     "[E] x", "[I 2401 03:04:05 web:1] x"],
)
def test_lines_that_do_not_start_a_record(text):
    assert not GENERIC.is_start(text)
    assert not GENERIC.start_pattern.match(text.encode())


# ---------------------------------------------------------------------------------------------
# Loggers and messages from real formatters


@pytest.mark.parametrize(
    ("template", "datefmt"),
    [
        ("%(asctime)s - %(name)s - %(levelname)s - %(message)s", None),
        ("%(asctime)s %(levelname)s %(name)s %(message)s", None),
        ("%(asctime)s %(levelname)-8s %(name)s: %(message)s", None),
        ("[%(asctime)s] %(levelname)s [%(name)s:%(lineno)d] %(message)s", "%d/%b/%Y %H:%M:%S"),
        ("%(asctime)s [%(threadName)s] %(levelname)s %(name)s - %(message)s", None),
        ("%(asctime)s %(levelname)-5s [%(threadName)s] %(name)s - %(message)s", None),
        ("%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%d %H:%M:%S"),
        ("%(levelname)s:%(name)s:%(message)s", None),
        ("%(asctime)s %(name)s %(levelname)s %(message)s", "%H:%M:%S"),
        ("%(asctime)s | %(levelname)s | %(name)s | %(message)s", None),
    ],
)
def test_logger_and_message_where_formatters_put_them(template, datefmt):
    text = line(template, datefmt, name="app.db.pool", message="pool exhausted: 10/10")
    assert GENERIC.is_start(text)
    record = GENERIC.parse(text)
    assert (record.level, record.logger) == ("ERROR", "app.db.pool")
    assert record.message == "pool exhausted: 10/10"
    assert ("lineno" in record.fields) == ("lineno" in template)
    assert (record.fields.get("context") == "MainThread") == ("threadName" in template)


def test_flask_celery_and_words_that_only_look_like_loggers():
    flask = GENERIC.parse(line("[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))
    assert (flask.logger, flask.message) == ("test_generic_format", "disk full")
    celery = GENERIC.parse(line("[%(asctime)s: %(levelname)s/%(processName)s] %(message)s"))
    assert (celery.level, celery.fields, celery.message) == (
        "ERROR", {"processName": "MainProcess"}, "disk full")
    assert GENERIC.parse("2024-01-02 03:04:05 ERROR app: x").logger == "app"
    for text, message in [("2024-01-02 03:04:05 ERROR Failed: timeout", "Failed: timeout"),
                          ("error: linker: undefined symbol", "linker: undefined symbol"),
                          ("2024-01-02 03:04:05 server started: ok", "server started: ok"),
                          ("2024-01-02 03:04:05 Failed with ERROR code", "Failed with ERROR code")]:
        record = GENERIC.parse(text)
        assert (record.logger, record.message) == ("", message), text
    assert GENERIC.parse("2024-01-02 03:04:05 Failed with ERROR code").level == "ERROR"


# ---------------------------------------------------------------------------------------------
# Tracebacks stay with their record, in every mode


def _explicit_chain() -> None:
    try:
        {}["missing"]
    except KeyError as err:
        raise RuntimeError("lookup failed") from err


def _implicit_chain_with_carets() -> None:
    try:
        int("seven")
    except ValueError:
        config = {"db": {}}
        print(config["db"]["port"] + 1)


def _nested_group() -> None:
    inner = ExceptionGroup("retries", [TimeoutError("try 1"), ConnectionError("try 2")])
    raise ExceptionGroup("batch failed", [ValueError("row 3"), inner])


def _syntax_error() -> None:
    compile("port = 80 +* 2\n", "settings.cfg", "exec")


def _improperly_configured() -> None:
    error = type("ImproperlyConfigured", (Exception,), {"__module__": "django.core.exceptions"})
    raise error("SECRET_KEY must not be empty")


def _raising(error: BaseException) -> Callable[[], None]:
    """A function that raises ``error`` (class names that do not end in Error)."""

    def fail() -> None:
        raise error

    fail.__name__ = type(error).__name__
    return fail


FAILURES = [_explicit_chain, _implicit_chain_with_carets, _nested_group, _syntax_error,
            _improperly_configured, _raising(SystemExit(2)), _raising(asyncio.CancelledError()),
            _raising(KeyboardInterrupt()), _raising(StopIteration())]


def _source_lines(err: BaseException | None) -> set[str]:
    """The source lines a traceback of ``err`` (its chain and group members) quotes."""
    if err is None:
        return set()
    found = {frame.line.strip() for frame in traceback.extract_tb(err.__traceback__)}
    found.add((getattr(err, "text", None) or "").strip())  # SyntaxError's line
    for inner in (err.__cause__, err.__context__, *getattr(err, "exceptions", ())):
        found |= _source_lines(inner)
    return found


class FlatFormatter(logging.Formatter):
    """A formatter that strips the indentation of tracebacks (some do)."""

    def formatException(self, ei) -> str:
        return "\n".join(part.lstrip() for part in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join(part.lstrip() for part in stack_info.splitlines())


def _job(failure: Callable[[], object]) -> Callable[[logging.Logger], None]:
    def body(log: logging.Logger) -> None:
        log.info("job 7 started")
        try:
            failure()
        except BaseException:
            log.exception("job 7 failed")
        log.warning("where am I", stack_info=True)
        log.info("job 8 started")

    return body


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("fmt", "formatter"),
    [(PlainFormat(), logging.Formatter("%(message)s")),
     (GENERIC, logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")),
     (GENERIC, FlatFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))],
    ids=["plain", "generic", "generic-flat"],
)
def test_tracebacks_stay_with_their_record(fmt, formatter, failure):
    text, logged = capture(formatter, _job(failure))
    records = split(fmt, text)
    assert [r.message for r in records] == [r.getMessage() for r in logged]
    failed, stacked = records[1], records[2]
    assert failed.exc == logged[1].exc_text
    assert stacked.exc == formatter.formatStack(logged[2].stack_info)
    assert stacked.exc.startswith("Stack (most recent call last):")
    if fmt is GENERIC:
        assert [r.level for r in records] == ["INFO", "ERROR", "WARNING", "INFO"]
        assert {r.logger for r in records} == {"app.db"}


def test_plain_keeps_flat_frames_carets_and_bars_as_continuations():
    """Stripped of indentation, a frame's source line looks like any text: a line-by-line
    rule cannot keep it in plain mode (generic can); everything else a traceback prints can."""
    checked = 0
    for failure in FAILURES:
        try:
            failure()
        except BaseException as err:  # noqa: BLE001 - whatever was raised
            printed = "".join(traceback.format_exception(err)).rstrip("\n").split("\n")
            source = _source_lines(err)
        for text in (part.lstrip() for part in printed):
            if text not in source:
                checked += 1
                assert not PlainFormat().is_start(text), text
                assert not GENERIC.is_start(text), text
    assert checked > 60


def _crash_after_structured_lines(fmt, failure: Callable[[], object]) -> tuple[list, str]:
    try:
        failure()
    except Exception as err:  # noqa: BLE001 - whatever was raised
        crash = "".join(traceback.format_exception(err))
    first = '{"level": "info", "msg": "up"}' if fmt.name == "jsonl" else "level=info msg=up"
    return split(fmt, f"{first}\n{crash}{first}\n"), crash.rstrip("\n")


@pytest.mark.parametrize("fmt", [JsonFormat(), LogfmtFormat()], ids=lambda f: f.name)
def test_structured_lines_keep_a_crash_traceback_printed_after_them(fmt):
    records, crash = _crash_after_structured_lines(fmt, _implicit_chain_with_carets)
    assert len(records) == 2 and records[0].exc == crash


def test_json_keeps_a_traceback_quoting_a_line_that_opens_with_a_brace():
    records, crash = _crash_after_structured_lines(JsonFormat(), _explicit_chain)
    assert len(records) == 2 and records[0].exc == crash


# ---------------------------------------------------------------------------------------------
# One start test: text and bytes agree, the index agrees with the splitter, and no generic
# start is a continuation by the rule every format shares

FRAGMENTS = [
    "2024-01-02", "2024/01/02", " ", "  ", "T", "03:04:05", ",123", ".5", "Z", "+0100", " UTC",
    "[", "]", "ERROR", "error", "Error", "eRRor", "ERR", "WARN", "warning", "INFO", "info", "I",
    "E", ":", "/", "-", " - ", "|", "Jan", "Wed", "Oct", " 2", "02", "1704164645", ".123",
    "240102", "Traceback (most recent call last):", 'File "x.py", line 1', "^^^", "~~", "+-",
    "+", "| ", "ValueError", "Exception", "app.Foo", "core:", "trace3", "\r", "\t", "é", "\x00",
    "\x1b[31m", "\u2028", "\u0663", "\u017f", "\u212a", "\u0130", "\ufffd", "1", "0", "x",
]
#: Lines where text and bytes regexes part ways unless both are ASCII-only and case-exact.
HOSTILE = [
    "\u0660\u0663:04:05 x", "\u0661704164645 x", "2024-01-02T03:04:\u0660\u0665 x",
    "\uff25RROR x", "[\u212aERN:error] x", "ERRO\u0280 x", "\u0130NFO x", "[eRRor] x",
    "eRRor: x", "2024-01-02 03:04:05 [core:eRRor] x", "2024-01-02 03:04:05 eRRor x",
    "Exception\r", "django.core.Foo:\r", "ValueError\u00e9", "\u00e9ValueError", "x.\u00c9rror: y",
    "^^^ \r", "| \r", "ERROR\x0b", "ERROR\x1c x", "1704164645\x85", "03:04:05\u2028",
]
_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\n")
LINES = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(_CHARS, max_size=3)),
                 max_size=8).map("".join)


@settings(max_examples=600, deadline=None)
@given(text=st.one_of(st.sampled_from(HOSTILE), LINES))
def test_start_pattern_agrees_with_is_start(text):
    for fmt in (GENERIC, PlainFormat()):
        assert bool(fmt.start_pattern.match(text.encode())) == fmt.is_start(text)
        # the index sees a CRLF line's \r, the splitter strips it
        crlf = (text.rstrip("\r") + "\r").encode()
        assert bool(fmt.start_pattern.match(crlf)) == fmt.is_start(text.rstrip("\r"))
    assert not (GENERIC.is_start(text) and is_continuation(text))


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(LINES, min_size=1, max_size=40), crlf=st.booleans())
def test_index_boundaries_equal_the_splitter(lines, crlf):
    data = ("\r\n" if crlf else "\n").join(lines).encode()
    source = MemorySource("m", data)
    source.finish()
    index = RecordIndex(source, GENERIC, chunk_bytes=1024)
    index.update()
    splitter = RecordSplitter(GENERIC)
    expected = [(r.offset, r.line) for r in splitter.feed(data) + splitter.flush()]
    assert [(index.start(i), index.line(i)) for i in range(len(index))] == expected


@settings(max_examples=300, deadline=None)
@given(text=st.lists(LINES, min_size=1, max_size=4).map("\n".join))
def test_parse_never_raises_and_keeps_the_message_text(text):
    record = GENERIC.parse(text)
    first = text.split("\n", 1)[0]
    assert first.endswith(record.message.split("\n", 1)[0])
    assert record.exc is None or record.exc in text
    json.dumps(record.fields)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.sampled_from(HOSTILE), LINES),
       query=st.sampled_from(["level>=warning", "level:error", "level>=info",
                              "level<=debug level>=trace"]))
def test_level_text_is_sound_for_the_query_prefilter(text, query):
    parsed = parse_query(query)
    fmt = GenericFormat(one_letter_levels=False)
    record = fmt.parse_raw(text)
    prefilter = query_prefilter(fmt, parsed)
    if parsed.matches(record):
        assert prefilter is None or prefilter.may_match(text.encode())


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_lines_agree_and_odd_case_names_are_no_level(text):
    assert bool(GENERIC.start_pattern.match(text.encode())) == GENERIC.is_start(text)
    assert bool(PlainFormat.start_pattern.match(text.encode())) == PlainFormat().is_start(text)
    record = GENERIC.parse(text)
    assert record.level is None or record.level.lower() in text.lower()
    if "eRRor" in text:
        assert record.level is None  # the prefilter looks for ERROR, error and Error only


def test_score_and_one_letter_levels_turning_level_text_off():
    assert GENERIC.score([]) == 0.0
    assert GENERIC.score(["2024-01-02 03:04:05 x", "ERROR y", "hello", "12 apples"]) == 0.5
    tornado = ["[E 240102 03:04:05 web:2250] 500 GET /", "[I 240102 03:04:05 web:2250] 200"]
    assert GenericFormat.for_sample(tornado).level_text is False
    assert GenericFormat.for_sample(["2024-01-02 03:04:05 ERROR x"]).level_text is True
    query = parse_query("level>=error")
    raw = tornado[0].encode()
    assert query.matches(GENERIC.parse(tornado[0]))
    assert query_prefilter(GENERIC, query) is None  # nothing to skip records by
    assert not query.prefilter(level_text=True, json_escaped=False).may_match(raw)
