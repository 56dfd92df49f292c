"""The direct range scan prints exactly what parsing every record one by one and testing it
prints (a naive reference: no prefilter, no chunks)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from indexing_helpers import DASH, LooseFormat, dash_log

from logview import boundaries, scan_ranges
from logview.formats.template import TemplateFormat
from logview.printer import RecordPrinter
from logview.query import parse_query
from logview.scan import RegexNeedle
from logview.scan_ranges import make_job, run_job
from logview.sources.base import StaticFileSource
from logview.store import LogStore

HOSTILE = (
    b"  File \"x.py\", line 1, in <module>\n"  # the file opens with a continuation line
    + dash_log(600, seed=5, error_rate=0.2)
    + b"2024-01-02 03:04:05,123 - app - ERROR - red \x1b[31mERR\x1b[0mOR text\r\n"
    + b"\x1b[31m2024-01-02 03:04:05,124 - app - INFO - coloured start line\x1b[0m\n"
    + b"2024-01-02 03:04:05,125 - app.db - WARNING - mentions ERROR in the message\n"
    + b"2024-01-02 03:04:05,126 - app - Level 45 - a custom level\n"
    + b"2024-01-02 03:04:05,126 - app - INFO - connecting to app.db now\n"  # the needle, not
    + b"  File \"app.db/x.py\", line 2, in <module>\n"  # the logger (a hit in a later line)
    + b"2024-01-02 03:04:05,127 - app - CRITICAL - no newline at the end"
)
QUERIES = ["level>=ERROR", "level>=error logger:app", "level=critical", "timeout or ERROR",
           "level>=ERROR line>100", "has:exc level>=error", "level>=WARNING /ERR(OR)?/",
           "logger:app.db", "logger:app.db level<=INFO"]


def rendered(store, query, jsonl: bool) -> bytes:
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl" if jsonl else "text")
    for i in range(len(store)):
        record = store.parse(i)
        if query.matches(record):
            printer.write(record)
    return out.getvalue()


def direct(store, query, jsonl: bool, **kw) -> tuple[bytes, int | None]:
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl" if jsonl else "text")
    job = make_job(store, query, printer.render, need_lines=jsonl)
    assert job is not None
    resume = run_job(job, printer.write_rendered, **kw)
    return out.getvalue(), resume


@pytest.fixture(scope="module", params=["template", "loose"])
def stores(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("direct") / "app.log"
    path.write_bytes(HOSTILE)
    fmt = TemplateFormat(DASH) if request.param == "template" else LooseFormat()
    indexed = LogStore(StaticFileSource(str(path)), fmt)
    indexed.update(final=True)
    return indexed, LogStore(StaticFileSource(str(path)), fmt)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("range_bytes", [997, 1 << 20])
def test_direct_scan_prints_what_the_index_prints(stores, text, range_bytes):
    indexed, fresh = stores
    query = parse_query(text)
    for jsonl in (False, True):
        expected = rendered(indexed, query, jsonl)
        got, resume = direct(fresh, query, jsonl, range_bytes=range_bytes, workers=1)
        assert resume is None
        assert got == expected, text
    assert len(fresh.index) == 0  # no index was built


def test_forked_workers_give_the_same_bytes_in_order(stores):
    indexed, fresh = stores
    query = parse_query("level>=ERROR")
    expected = rendered(indexed, query, True)
    got, resume = direct(fresh, query, True, range_bytes=4096, workers=2)
    assert resume is None and got == expected and expected.count(b"\n") > 50


def test_a_record_too_long_hands_over_to_the_index(stores, monkeypatch):
    _indexed, fresh = stores
    monkeypatch.setattr(scan_ranges, "MAX_RECORD_BYTES", 64)
    monkeypatch.setattr(boundaries, "MAX_RECORD_BYTES", 64)
    _got, resume = direct(fresh, parse_query("level>=ERROR"), False, range_bytes=1 << 20,
                          workers=1)
    assert resume == 0  # the first range already has a traceback longer than 64 bytes


def test_cli_falls_back_to_the_index_and_prints_the_same(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(HOSTILE)
    code = (
        "import sys; from logview import boundaries, scan_ranges;"
        "scan_ranges.MAX_RECORD_BYTES = boundaries.MAX_RECORD_BYTES = 64;"
        "from logview.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    args = [str(path), "--print", "-q", "level>=ERROR", "-o", "jsonl", "--format", DASH]
    slow = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, check=True)
    fast = subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          check=True)
    assert fast.stdout == slow.stdout and fast.stdout.count(b"\n") > 50


def _json_lines() -> bytes:
    """JSON lines as python-json-logger writes them (a real handler), with pino's numeric
    levels, a level only as a number, the word ERROR in INFO messages, a traceback field,
    escapes, a line that is not JSON and a last line without a newline."""
    import logging

    from pythonjsonlogger.json import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log = logging.getLogger("scanjson")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    for i in range(400):
        child = log.getChild(("app.db", "app.web", "urllib3")[i % 3])
        level = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)[i % 5]
        if i % 37 == 0:
            try:
                raise ValueError(f"bad {i}")
            except ValueError:
                child.exception("failed with ERROR %d", i)
        else:
            child.log(level, "request %d says ERROR in an INFO line", i)
    text = out.getvalue().encode()
    return (text
            + b'{"level":50,"time":1714557600000,"pid":7,"msg":"pino fatal-ish","name":"svc"}\n'
            + b'{"levelno": 40, "msg": "a number only", "name": "app.db"}\n'
            + b'{"level": "info", "msg": "\\u001b[31mERROR\\u001b[0m in colour"}\n'
            + b"not JSON at all: ERROR\n"
            + b'{"level": "critical", "msg": "no newline at the end", "name": "app"}')


JSON_QUERIES = ["level>=ERROR", "level=critical", "level<=INFO", "-logger:scanjson.app",
                "level>=WARNING -logger:scanjson.urllib3"]


@pytest.mark.parametrize("text", JSON_QUERIES)
def test_json_queries_without_needles_are_answered_by_columns(tmp_path, text):
    from logview.formats.jsonl import JsonFormat

    path = tmp_path / "app.jsonl"
    path.write_bytes(_json_lines())
    indexed = LogStore(StaticFileSource(str(path)), JsonFormat())
    indexed.update(final=True)
    query = parse_query(text)
    fresh = LogStore(StaticFileSource(str(path)), JsonFormat())
    printer = RecordPrinter(io.BytesIO(), output="text")
    job = make_job(fresh, query, printer.render, need_lines=False)
    assert job is not None
    if text == "level>=ERROR":  # a numeric level says ERROR without the word: the level
        assert isinstance(job.literals, RegexNeedle)  # keys' regexes (json_levels) find it
    if text == "level<=INFO":  # no needle (a record without a level matches): columns
        assert job.by_columns
    for jsonl in (False, True):
        expected = rendered(indexed, query, jsonl)
        assert expected
        for range_bytes, workers in ((997, 1), (1 << 20, 1), (4096, 2)):
            got, resume = direct(fresh, query, jsonl, range_bytes=range_bytes, workers=workers)
            assert resume is None
            assert got == expected, (text, range_bytes, workers)
    assert len(fresh.index) == 0  # no index was built


def test_the_columns_path_prints_records_redacted(tmp_path):
    from logview.formats.jsonl import JsonFormat
    from logview.redact import Redactor, choose_rules

    path = tmp_path / "app.jsonl"
    path.write_bytes(b'{"level": "info", "msg": "mail bob@example.com", "name": "a"}\n'
                     b'{"level": 50, "msg": "failed for bob@example.com", "name": "a"}\n')
    redactor = Redactor(choose_rules(["email"]))
    store = LogStore(StaticFileSource(str(path)), JsonFormat(), redactor=redactor)
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl")
    job = make_job(store, parse_query("level>=ERROR"), printer.render, need_lines=True)
    assert job is not None and job.by_columns
    assert run_job(job, printer.write_rendered, workers=1) is None
    assert b"failed for [email]" in out.getvalue() and b"bob@" not in out.getvalue()
