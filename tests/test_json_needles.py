"""Level and field comparisons over JSON lines look for keys and values in the bytes
(``json_levels``, ``query/value_needles``, ``number_patterns``): never a match skipped (the
real query against the real parser, for random values, every operator and the real outputs
of python-json-logger, structlog and loguru mixed with other schemas), most non-matches
skipped."""

from __future__ import annotations

import functools
import io
import json
import logging
import random
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from logging_helpers import loguru_json

from logview.formats import json_levels
from logview.formats.jsonl import JsonFormat
from logview.number_patterns import complement, int_range, json_number_value
from logview.printer import RecordPrinter
from logview.query import parse_query
from logview.query.value_needles import field_pattern
from logview.record import LEVEL_SPELLINGS
from logview.scan import Matcher, RegexNeedle
from logview.scan_ranges import make_job
from logview.sources.base import StaticFileSource
from logview.store import LogStore

FMT = JsonFormat()
OPS = (">=", ">", "<=", "<", "=")


@functools.cache
def _prefilter(query_text: str):
    return Matcher(FMT, parse_query(query_text)).prefilter


def may_match(query_text: str, line: str) -> bool:
    prefilter = _prefilter(query_text)
    return prefilter is None or prefilter.may_match(line.encode("utf-8"))


def matches(query_text: str, line: str) -> bool:
    return parse_query(query_text).matches(FMT.parse_raw(line))


@settings(max_examples=300, deadline=None)
@given(lo=st.integers(0, 10**6), width=st.one_of(st.none(), st.integers(0, 10**6)),
       n=st.integers(0, 10**7))
def test_int_range_matches_exactly_the_numbers_of_the_range(lo, width, n):
    hi = None if width is None else lo + width
    pattern = int_range(lo, hi)
    assert pattern is not None
    inside = lo <= n and (hi is None or n <= hi)
    assert (re.fullmatch(pattern, str(n).encode()) is not None) == inside


def test_int_range_is_none_when_empty():
    assert int_range(5, 4) is None
    assert int_range(-10, -1) is None
    assert re.fullmatch(int_range(-5, 3), b"0")  # negative bounds are clipped to 0


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, 2000), max_size=5, unique=True), open_end=st.booleans())
def test_complement_holds_exactly_the_numbers_outside(cuts, open_end):
    bounds = sorted(cuts)
    ranges = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]
    if open_end and len(bounds) % 2:
        ranges.append((bounds[-1], None))
    outside = complement(ranges)

    def within(n: int, rs) -> bool:
        return any(lo <= n and (hi is None or n <= hi) for lo, hi in rs)

    for n in range(2100):
        assert within(n, outside) != within(n, ranges), (n, ranges, outside)


#: Value texts after a key's colon: digits in every length, leading zeros, fractions,
#: exponents (``5e2``, ``1e400``), signs, strings, and what may follow a number.
VALUE_TEXT = st.from_regex(
    r'\A(-|\+|"| ?)?(0|0?[0-9]{1,5})([.eE][+-]?[0-9]{0,3})?"?[,}\] \t\r\nx.]?[0-9]?\Z')


@settings(max_examples=1500, deadline=None)
@given(ranges=st.sampled_from([[(500, None)], [(501, None)], [(0, 499)], [(0, 4)], [(404, 404)],
                               [], [(0, None)], [(10, 20), (40, 45)], [(1, 1), (5, None)]]),
       text=VALUE_TEXT)
@example(ranges=[(500, None)], text="499}")
@example(ranges=[(500, None)], text="200\n")
@example(ranges=[(500, None)], text="0500,")
@example(ranges=[(500, None)], text="5e2,")
@example(ranges=[(500, None)], text="499.9,")
def test_the_quick_refusal_never_changes_what_a_value_pattern_matches(ranges, text):
    """``json_number_value`` opens with a refusal of whole integers outside the ranges: the
    pattern without it matches exactly the same texts (so no candidate is lost)."""
    pattern = json_number_value(ranges)
    refusal = pattern[:pattern.index(b"(?:\"")]
    assert refusal.startswith(b"(?!") or not refusal
    bare = pattern[len(refusal):]
    data = text.encode()
    assert (re.match(pattern, data) is None) == (re.match(bare, data) is None), (ranges, text)


LEVEL_WORDS = st.sampled_from(sorted(LEVEL_SPELLINGS | {"Level 45", "WARNING ", " INFO", "ERRORS"}))
LEVEL_VALUE_TEXT = st.one_of(
    st.tuples(LEVEL_WORDS, st.sampled_from(['"', '",', '"}', '" ', 'x"', ""]),
              st.text("\"ab, :}{", max_size=6)).map(lambda t: '"' + "".join(t)),
    st.text('"INFOWARNIGEeroinfa0123456789{}:, .\\-', max_size=14))


@settings(max_examples=250, deadline=None)
@given(op=st.sampled_from(OPS), number=st.sampled_from([5, 10, 20, 25, 30, 40, 45, 50, 60]),
       text=LEVEL_VALUE_TEXT)
@example(op=">=", number=40, text='"INFO"')
@example(op=">=", number=40, text='"ERROR"')
@example(op="<", number=30, text='"warn"')
def test_the_refusal_of_lower_level_names_never_changes_what_a_level_value_matches(op, number,
                                                                                  text):
    """``level_value`` opens with a refusal of the names the comparison does not admit, as
    whole strings: the pattern without it matches exactly the same texts."""
    pattern = json_levels.level_value(op, number)
    assert pattern is not None
    refusal = pattern[:pattern.index(b'")') + 2] if pattern.startswith(b'(?!"(?:') else b""
    bare = pattern[len(refusal):]
    data = text.encode()
    assert (re.match(pattern, data) is None) == (re.match(bare, data) is None), (op, number, text)


def test_the_refusal_turns_away_the_common_lower_levels():
    pattern = json_levels.level_value(">=", 40)
    for text in (b'"INFO"', b'"debug",', b'"Warning"}'):
        assert re.match(pattern[:pattern.index(b'")') + 2], text) is None  # refused at once
        assert re.match(pattern, text) is None
    assert re.match(pattern, b'"ERROR"') and re.match(pattern, b'"Level 45"')


NUMBER_TEXT = st.from_regex(r"\A ?[+-]?(\d{1,4}(\.\d{0,2})?|\.\d{1,2})([eE][+-]?\d)? ?\Z")
VALUES = st.one_of(
    st.integers(-10**5, 10**5), st.floats(allow_nan=True, allow_infinity=True),
    NUMBER_TEXT, st.sampled_from(["", "app", "true", "ok", "0500", "503", "\t503", "\u00a0503",
                                  "5\u00e9", "404 "]),
    st.booleans(), st.none(), st.lists(st.integers(48, 57), min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["a", "status"]), st.integers(0, 999), max_size=2))
QUERY_VALUES = st.one_of(st.integers(-10, 1200).map(str),
                         st.floats(-10, 1200, allow_nan=False).map(lambda f: f"{f:.2f}"),
                         st.sampled_from(["app", "true", "null", "ok", "503", "5e2", "0500",
                                          "inf", "-1", "404 "]))
SEPARATORS = [(", ", ": "), (",", ":"), (" , ", " : "), (",", ":\t")]


def _record(key: str, value, shape: int, separators) -> str:
    """A JSON line holding ``value`` under ``key`` in one of the shapes a field is read from:
    flat, nested, a flat dotted key, GELF's underscore, loguru's ``extra``."""
    parts = key.split(".")
    if shape == 0:
        obj = {"message": "m", key: value}
    elif shape == 1:
        inner = value
        for part in reversed(parts):
            inner = {part: inner}
        obj = {"message": "m", **inner}
    elif shape == 2 and len(parts) == 1:
        obj = {"version": "1.1", "short_message": "m", "level": 6, f"_{key}": value}
    else:
        obj = {"text": "m\n", "record": {"message": "m", "level": {"name": "INFO", "no": 20},
                                         "extra": {key: value}}}
    return json.dumps(obj, separators=separators)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["status", "http.status", "user.id"]), value=VALUES,
       shape=st.integers(0, 3), separators=st.sampled_from(SEPARATORS),
       op=st.sampled_from(OPS), query_value=QUERY_VALUES)
@example(key="status", value="1\u0660", shape=0, separators=(", ", ": "), op=">=",
         query_value="2")  # "1" then an Arabic-Indic zero: the query reads 10
def test_a_field_needle_never_rejects_a_record_the_query_matches(key, value, shape, separators,
                                                                 op, query_value):
    line = _record(key, value, shape, separators)
    query = f"{key}{op}{query_value}"
    try:
        parse_query(query)
    except ValueError:
        return
    if matches(query, line):
        assert may_match(query, line), (query, line)


def test_field_needles_reject_most_records_that_do_not_match():
    rng = random.Random(7)
    lines = [json.dumps({"asctime": "2024-01-02 03:04:05,678", "name": "app",
                         "levelname": "INFO", "message": f"request {i} took 500 ms",
                         "user": rng.randint(1, 500),
                         "status": rng.choice((200,) * 90 + (404,) * 6 + (500, 502, 503))})
             for i in range(3000)]
    for query in ("status>=500", "status>499.5", "status=404", "status<300", "user<=10",
                  "user>490", "name=app", "status=503"):
        kept = rejected = 0
        for line in lines:
            if matches(query, line):
                assert may_match(query, line), (query, line)
                kept += 1
            elif not may_match(query, line):
                rejected += 1
        if query != "name=app":  # the logger's key: no field "name" (nothing matches)
            assert kept
            assert rejected >= 0.99 * (len(lines) - kept), query


@pytest.mark.parametrize("key, op, value", [
    ("status", "!=", "500"), ("status", "~", "5.."), ("items.0", "=", "3"),
    ("we\u00efrd", ">=", "3"), ('a"b', "=", "1"), ("obj", "=", '{"a":1}'), ("x", "=", "inf"),
    ("x", "=", "a/b"), ("x", ">=", "abc")])
def test_what_cannot_be_bounded_gives_no_value_pattern(key, op, value):
    assert field_pattern(key, op, value) is None


# ---------------------------------------------------------------------------------------------
# Levels: real library outputs, and the other schemas, in one file.


def _python_json_logger() -> list[str]:
    from pythonjsonlogger.json import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log = logging.getLogger("needles.pjl")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(1)
    logging.addLevelName(45, "Level 45")
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                  logging.CRITICAL, 45, 35):
        log.log(level, "ERROR and CRITICAL are only words here, level %d", level)
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    log.info('a "levelname": "ERROR" in the message')
    return out.getvalue().splitlines()


def _structlog() -> list[str]:
    import structlog

    out = io.StringIO()
    log = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso"),
                    structlog.processors.JSONRenderer()])
    for name in ("debug", "info", "warning", "error", "critical"):
        getattr(log, name)("error and critical are only words here", level_said=name)
    log.info("level: error")
    return out.getvalue().splitlines()


def _loguru() -> list[str]:
    def write(loguru) -> None:
        for name in ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"):
            loguru.log(name, "ERROR is only a word here at {}", name)

    return loguru_json(write).splitlines()


OTHER_SCHEMAS = [
    '{"level":50,"time":1714557600000,"pid":7,"hostname":"h","msg":"pino error"}',
    '{"level":30,"time":1714557600000,"pid":7,"hostname":"h","msg":"pino info ERROR"}',
    '{"level":60,"time":1714557600000,"msg":"pino fatal","v":1}',
    '{"version":"1.1","host":"h","short_message":"gelf err","level":3}',
    '{"version":"1.1","host":"h","short_message":"gelf info ERROR","level":6}',
    '{"@timestamp":"2024-05-01T10:00:00Z","log":{"level":"error","logger":"ecs"},"message":"e"}',
    '{"@timestamp":"2024-05-01T10:00:00Z","log.level":"warn","message":"ERROR word"}',
    '{"severity":"ERROR","message":"google cloud"}',
    '{"severity":"INFO","message":"google ERROR word"}',
    '{"lvl":"crit","msg":"log15"}',
    '{"levelno": 40, "msg": "a number only"}',
    '{"levelno": 45, "msg": "a custom number"}',
    '{"level": " Error ", "msg": "spaces around"}',
    '{"level": "\\u001b[31mERROR\\u001b[0m", "msg": "colour"}',
    '{"level": "Level 45", "msg": "logging\'s custom level name"}',
    '{"level": "40", "msg": "a number as text"}',
    '{"level": 40.0, "msg": "a float"}',
    '{"level" : "FATAL", "msg": "odd spaces"}',
    '{"MESSAGE":"journal err","PRIORITY":"3","__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1"}',
    '{"MESSAGE":"journal info ERROR","PRIORITY":"6","__CURSOR":"s=2"}',
    ('{"time":"2024-05-01T10:00:00","levelno":40,"level":"ERROR","logger":"own","message":"o",'
     '"exc":null,"fields":{},"source":"","line":1}'),
    "not JSON: ERROR",
]
LEVEL_QUERIES = ["level>=ERROR", "level>WARNING", "level=CRITICAL", "level>=45", "level=error",
                 "level>=40 level<50", "level=45", "level>=WARNING", "level<INFO"]


def _lines() -> list[str]:
    return _python_json_logger() + _structlog() + _loguru() + OTHER_SCHEMAS


@pytest.mark.parametrize("query", LEVEL_QUERIES)
def test_a_level_needle_never_rejects_a_record_of_any_schema_the_query_matches(query):
    lines = _lines()
    matched = 0
    for line in lines:
        if matches(query, line):
            matched += 1
            assert may_match(query, line), (query, line)
    assert matched or query == "level<INFO"


def test_the_level_needle_rejects_lower_levels_that_say_error_in_their_message():
    lines = _lines()
    said = [line for line in lines if re.search(r"error|ERROR|critical", line)
            and not matches("level>=ERROR", line)]
    assert len(said) >= 12  # INFO/WARNING/DEBUG records that say ERROR or CRITICAL
    # Each is skipped, but where the level's text cannot be bounded: logging's "Level 35",
    # a journal entry's PRIORITY "6" (digits in a string).
    kept = [line for line in said if may_match("level>=ERROR", line)]
    assert all('"Level ' in line or '"PRIORITY"' in line for line in kept), kept


def test_printing_a_level_query_over_mixed_schemas_finds_exactly_the_matching_records(tmp_path):
    lines = _lines()
    # Big enough for the direct scan by ranges: the same records, many times.
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines * 3) + "\n")
    store = LogStore(StaticFileSource(str(path)), JsonFormat())
    printer = RecordPrinter(io.BytesIO(), output="text")
    job = make_job(store, parse_query("level>=ERROR"), printer.render, need_lines=False)
    assert job is not None and isinstance(job.literals, RegexNeedle)
    expected = sum(1 for line in lines if matches("level>=ERROR", line)) * 3
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=ERROR", "-o", "jsonl"], capture_output=True, check=True)
    got = out.stdout.decode().splitlines()
    assert len(got) == expected
    assert all(json.loads(line)["levelno"] >= 40 for line in got)
