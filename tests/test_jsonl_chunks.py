"""``-o jsonl`` of a whole file, a chunk at a time (``JsonlChunks``), prints exactly the bytes
of parsing every record one by one and rendering it (``dumps_record``), on files the logging
module wrote: tracebacks, unicode, control characters, escape sequences, CRLF, invalid UTF-8,
records without a time, templates with extra fields, JSON lines, and with ``--redact``."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest
from logging_helpers import log_chained_exception, make_logger

from logview.formats.jsonl import JsonFormat
from logview.formats.template import TemplateFormat
from logview.jsonl_chunks import JsonlChunks
from logview.printer import RecordPrinter
from logview.query import parse_query
from logview.redact import Redactor, choose_rules
from logview.scan_ranges import make_job, run_job
from logview.sources.base import StaticFileSource
from logview.store import LogStore

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
BASIC = "%(levelname)s:%(name)s:%(message)s"
EXTRAS = ("%(asctime)s.%(msecs)03d %(levelname)-8s [%(threadName)s] %(name)s "
          "%(filename)s:%(lineno)d %(message)s")
FLASK = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
CREATED = "%(created)f %(process)d %(levelname)s %(message)s"

MESSAGES = [
    "plain text",
    "with - dashes - inside and ERROR: in it",
    'quotes "double" and \\backslash\\ and a tab\there',
    "ünïcödé ✓ 日本語 😀",
    "controls \x00 \x07 \x7f end",
    "escape \x1b[31mred\x1b[0m and a C1 \x9b31m",
    "two\nlines of message",
    "three\nlines\nERROR:app:looks like a start",
    "trailing newline\n",
    "",
    "x: [y] {z} %s",
    'a "},{"time": trap',
]


def _write(path, template: str, datefmt: str | None = None) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(template, datefmt))
    names = ["app", "app.db", 'odd"name', "app.web.request"]
    loggers = [make_logger(f"jsonlchunks{i}.{n}", handler) for i, n in enumerate(names)]
    try:
        for i in range(300):
            logger = loggers[i % len(loggers)]
            level = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                     logging.CRITICAL, 15)[i % 6]
            logger.log(level, MESSAGES[i % len(MESSAGES)] + f" #{i}")
            if i % 29 == 0:
                log_chained_exception(logger, RuntimeError, "boom ✗", "failed %d", i)
            if i % 41 == 0:
                try:
                    raise ValueError("bad\x1b[2J")
                except ValueError:
                    logger.exception("ERROR:x:y")
    finally:
        handler.close()


def _reference(path, fmt, redactor=None) -> bytes:
    store = LogStore(StaticFileSource(str(path)), fmt, redactor=redactor)
    store.update(final=True)
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl")
    for i in range(len(store)):
        printer.write(store.parse(i))
    return out.getvalue()


PARSED: list[int] = []


def _counting(fmt, name, one):
    """``JsonlChunks`` whose exact path counts the records it parses (in this process)."""
    def counted(offset, line, data):
        PARSED.append(offset)
        return one(offset, line, data)
    return JsonlChunks(fmt, name, counted)


def _direct(path, fmt, *, redactor=None, **kw) -> bytes:
    store = LogStore(StaticFileSource(str(path)), fmt, redactor=redactor)
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl")
    job = make_job(store, parse_query(""), printer.render, need_lines=True, every=_counting)
    assert job is not None and job.every is not None
    PARSED.clear()
    assert run_job(job, printer.write_rendered, **kw) is None
    assert len(store.index) == 0  # no index was built
    return out.getvalue()


HOSTILE_TAIL = (
    b"2024-01-02 03:04:05,000 - app - INFO - a whole second\n"
    b"2024-13-45 03:04:05,123 - app - INFO - no such date\n"
    b"2024-01-02 03:04:05,124 - app - info - a level the strict prefix does not read\n"
    b"2024-01-02 03:04:05,125 - x\n"  # a head and nothing more: an unparsed record
    b"2024-01-02 03:04:05,126 - app - WARNING - crlf line\r\n"
    b"\r\n"
    b"2024-01-02 03:04:05,127 - app - ERROR - invalid utf-8 \xff\xfe here\n"
    b"\n\n"
    b"2024-01-02 03:04:05,128 - app - Level 45 - a custom level\n"
    b"2024-01-02 03:04:05,129 - app - CRITICAL - no newline at the end"
)


@pytest.mark.parametrize("template,datefmt", [
    (DASH, None), (BASIC, None), (EXTRAS, "%Y-%m-%d %H:%M:%S"), (FLASK, None),
    (CREATED, None), (DASH, "%d/%b/%Y %H:%M:%S")])
def test_chunks_print_what_parsing_each_record_prints(tmp_path, template, datefmt):
    path = tmp_path / "app.log"
    _write(path, template, datefmt)
    if template == DASH and datefmt is None:
        with open(path, "ab") as f:
            f.write(HOSTILE_TAIL)
        data = path.read_bytes()
        path.write_bytes(b'  File "x.py", line 1, in <module>\n' + data)  # opens mid-record
    fmt = TemplateFormat(template, datefmt)
    assert fmt.line_reader() is not None
    expected = _reference(path, fmt)
    records = expected.count(b"\n")
    assert records > 300
    for range_bytes, workers in ((997, 1), (1 << 20, 1), (4096, 2)):
        got = _direct(path, fmt, range_bytes=range_bytes, workers=workers)
        assert got == expected, (template, range_bytes, workers)
        if workers == 1:  # most records were not parsed
            assert len(PARSED) < records / 4, (len(PARSED), records)


def test_json_lines_go_through_the_parser_and_print_the_same(tmp_path):
    from pythonjsonlogger.json import JsonFormatter

    path = tmp_path / "app.jsonl"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = make_logger("jsonlchunks.json", handler)
    try:
        for i in range(200):
            logger.info(MESSAGES[i % len(MESSAGES)], extra={"user": i, "ok": i % 2 == 0})
            if i % 23 == 0:
                log_chained_exception(logger, KeyError, "k", "lookup %d", i)
    finally:
        handler.close()
    expected = _reference(path, JsonFormat())
    for range_bytes, workers in ((997, 1), (4096, 2)):
        assert _direct(path, JsonFormat(), range_bytes=range_bytes, workers=workers) == expected


def test_with_redact_every_record_is_redacted_as_the_parser_redacts_it(tmp_path):
    path = tmp_path / "app.log"
    _write(path, DASH)
    with open(path, "a", encoding="utf-8") as f:
        f.write("2024-01-02 03:04:05,123 - app - INFO - mail bob@example.com from 10.1.2.3\n")
    fmt = TemplateFormat(DASH)
    redactor = Redactor(choose_rules(["email", "ipv4"]))
    expected = _reference(path, fmt, redactor)
    assert b'"mail [email] from [ipv4]"' in expected and b"bob@" not in expected
    assert _direct(path, fmt, redactor=redactor, range_bytes=4096, workers=2) == expected
    assert _direct(path, fmt, redactor=redactor, workers=1) == expected
    assert len(PARSED) == expected.count(b"\n")  # each made by the parser, redacted


def test_a_head_read_once_is_not_taken_for_an_unread_line(tmp_path):
    """A template without other fields has one head for every line: the unread line in the
    middle (a continuation line opening the file) must still be parsed on its own."""
    path = tmp_path / "app.log"
    path.write_bytes(b"orphan line first\n2024-01-02 03:04:05,123 hello\n"
                     b"2024-01-02 03:04:05,124 again\n")
    fmt = TemplateFormat("%(asctime)s %(message)s")
    assert fmt.line_reader() is not None
    assert _direct(path, fmt, workers=1) == _reference(path, fmt)


def test_cli_prints_everything_as_before(tmp_path):
    """The command line on a detected format: the same bytes as through the follower (the
    path every record took before)."""
    path = tmp_path / "app.log"
    _write(path, DASH)
    with open(path, "ab") as f:
        f.write(HOSTILE_TAIL)
    args = [str(path), "--print", "-o", "jsonl"]
    before = ("import sys; from logview import headless;"
              " headless._chunk_renderer = lambda printer: None;"
              "from logview.cli import main; sys.exit(main(sys.argv[1:]))")
    slow = subprocess.run([sys.executable, "-c", before, *args], capture_output=True,
                          check=True)
    fast = subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          check=True)
    assert fast.stdout == slow.stdout and fast.stdout.count(b"\n") > 300


def _job(path, fmt):
    store = LogStore(StaticFileSource(str(path)), fmt)
    printer = RecordPrinter(io.BytesIO(), output="jsonl")
    job = make_job(store, parse_query(""), printer.render, need_lines=True, every=JsonlChunks)
    assert job is not None
    return job, printer


def test_forked_workers_write_their_ranges_in_order_themselves(tmp_path):
    path = tmp_path / "app.log"
    _write(path, DASH)
    expected = _reference(path, TemplateFormat(DASH))
    job, printer = _job(path, TemplateFormat(DASH))
    with open(tmp_path / "out.jsonl", "wb") as out:
        resume = run_job(job, printer.write_rendered, range_bytes=2048, workers=2,
                         out_fd=out.fileno())
    assert resume is None
    assert (tmp_path / "out.jsonl").read_bytes() == expected
    assert printer.count == expected.count(b"\n")


def test_workers_stop_writing_where_the_index_takes_over(tmp_path, monkeypatch):
    """A record too long for the direct scan in a later range: the ranges before it are
    written, none after it, and the caller continues from that range's offset."""
    from logview import scan_ranges

    path = tmp_path / "app.log"
    _write(path, DASH)
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"2024-01-02 03:04:05,123 - app - INFO - long\n" + b"  x\n" * 300)
        f.write(b"2024-01-02 03:04:05,124 - app - INFO - after it\n")
    monkeypatch.setattr(scan_ranges, "MAX_RECORD_BYTES", 1000)
    job, printer = _job(path, TemplateFormat(DASH))
    with open(tmp_path / "out.jsonl", "wb") as out:
        resume = run_job(job, printer.write_rendered, range_bytes=2048, workers=2,
                         out_fd=out.fileno())
    assert resume is not None and resume <= size and resume % 2048 == 0
    store = LogStore(StaticFileSource(str(path)), TemplateFormat(DASH))
    store.update(final=True)
    before = sum(1 for i in range(len(store)) if store.index.start(i) < resume)
    expected = _reference(path, TemplateFormat(DASH)).splitlines(keepends=True)[:before]
    assert (tmp_path / "out.jsonl").read_bytes() == b"".join(expected) and before > 100
