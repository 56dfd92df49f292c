"""``--print`` of a whole JSON lines file, a chunk at a time in the range workers
(``RecordChunks``: one-line objects read from their bytes), prints exactly the bytes of parsing
every record one by one and rendering it, as text (into a pipe, onto a terminal, coloured) and
as ``-o jsonl``, on files real libraries wrote (python-json-logger, structlog, loguru) and on
ECS-, pino- and journald-like objects, logview's own schema and hostile lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
import structlog
from logging_helpers import log_chained_exception, loguru_json, make_logger

from logview import headless
from logview.formats.jsonl import JsonFormat
from logview.printer import RecordPrinter
from logview.query import parse_query
from logview.record_chunks import RecordChunks
from logview.redact import Redactor, choose_rules
from logview.scan_ranges import make_job, run_job
from logview.sources.base import StaticFileSource
from logview.store import LogStore

MESSAGES = [
    "plain text",
    'quotes "double" and \\backslash\\ and a tab\there',
    "ünïcödé ✓ 日本語 😀",
    "controls \x00 \x07 \x7f end",
    "escape \x1b[31mred\x1b[0m and a C1 \x9b31m",
    "two\nlines of message",
    "Traceback (most recent call last):\n  in a message",
    "",
    "mail bob@example.com from 10.1.2.3",
    'a "},{"time": trap',
]

#: Lines no library writes, each a record of its own (or continuing the one before).
HOSTILE = [
    b'{"asctime": "2024-01-02 03:04:05,123", "levelname": "INFO", "message": "bad \xff\xfe utf-8"}',
    b"[1, 2, 3]", b"42", b'"a string"', b"plain text line", b"{broken", b"{}",
    b'{"message": null}', b'{"message": {"nested": [1, 2]}, "level": 30, "time": 1700000000.5}',
    b'{"time": "yesterday", "level": "warn", "msg": "pino-ish", "v": 1}',
    b'{"time": "2024-01-02T03:04:05Z", "level": NaN, "message": "nan"}',
    b'{"time": "2024-01-02T03:04:05Z", "n": 123456789012345678901234567890, "message": "big"}',
    b'{"time": "2024-01-02T03:04:05Z", "message": "lone \\ud800 surrogate"}',
    b'{"time": "2024-01-02T03:04:05Z", "message": "dup", "message": "again"}',
    b'{"time": "2024-01-02T03:04:05Z", "level": "ERROR", "message": "esc \\u001b[31mred"}',
    b'{"time": "2024-01-02T03:04:05Z", "level": "ERROR", "message": "raw \x1b[31m esc"}',
    b'{"time": "2024-01-02T03:04:05Z", "level": "ERROR", "message": "raw C1 \xc2\x9b31m"}',
    b'{"time": "2024-01-02T03:04:05Z", "levelname": "INFO", "message": "crlf"}\r',
    b'\x1e{"time": "2024-01-02T03:04:05Z", "levelname": "INFO", "message": "json-seq"}',
    b'\xef\xbb\xbf{"time": "2024-01-02T03:04:05Z", "levelname": "INFO", "message": "bom"}',
    b'  {"time": "2024-01-02T03:04:05Z", "levelname": "INFO", "message": "indented"}',
    b'{"time": "2024-01-02T03:04:05Z", "levelname": "INFO", "message": "trailing blank"}  ',
    b"", b"",
    b'{"time": "2024-01-02T03:04:05Z",',
    b'  "levelname": "WARNING", "message": "pretty printed"',
    b"}",
    b'{"time": "2024-01-02T03:04:05Z", "levelname": "ERROR", "message": "then a traceback"}',
    b"Traceback (most recent call last):",
    b'  File "x.py", line 1, in <module>',
    b"ValueError: boom",
    (b'{"time": "2024-01-02T03:04:05Z", "level": "INFO", "message": "x", "source": "elsewhere",'
    b' "levelno": 20, "fields": {}, "exc": null, "logger": "own", "line": 3}'),
    (b'{"__REALTIME_TIMESTAMP": "1700000000000000", "MESSAGE": "journal", "PRIORITY": "3",'
    b' "_PID": "12", "SYSLOG_IDENTIFIER": "sshd", "__CURSOR": "s=1"}'),
    (b'{"__REALTIME_TIMESTAMP": "1700000000000001", "MESSAGE": [27, 91, 51, 49, 109, 104],'
    b' "PRIORITY": "6", "_PID": "12", "SYSLOG_IDENTIFIER": "bin"}'),
    (b'{"@timestamp": "2024-01-02T03:04:05.123Z", "log.level": "error", "message": "ecs",'
    b' "log": {"logger": "app.ecs", "origin": {"file": {"line": 3}}}, "ecs.version": "1.6.0",'
    b' "error": {"type": "ValueError", "message": "bad", "stack_trace": "Traceback ...\\nVE"}}'),
    (b'{"level": 50, "time": 1700000000123, "pid": 7, "hostname": "h", "msg": "pino",'
    b' "err": {"type": "Error", "message": "x", "stack": "Error: x\\n    at f (a.js:1:2)"}}'),
    (b'{"version": "1.1", "host": "h", "short_message": "gelf", "full_message": "gelf\\nmore",'
    b' "level": 3, "_user": 5, "timestamp": 1700000000.25}'),
    (b'{"asctime": "2024-01-02 03:04:05,123", "name": "bob", "event": "structlog name",'
    b' "level": "info"}'),
    b'{"time": "2024-01-02T03:04:05Z", "level": true, "logger": 5, "message": "odd types"}',
    *(b'{"asctime": "2024-01-02 03:04:05,321", "name": "recordchunks.app", "levelname": '
      b'"INFO", "message": "status %d", %s}' % (k, rest) for k, rest in enumerate((
          b'"note": "\\"status\\": 500 in a string", "status": 200',
          b'"ctx": {"status": 503}, "status": 200', b'"ctx": {"status": 503}',
          b'"status": "500"', b'"status": 500.0', b'"status":5e2', b'"status": -500',
          b'"status": 500, "status": 200', b'"status": 200, "status": 500',
          b'"sta\\"tus": 500', b'"status\\u0022": 500', b'"status" :  503',
          b'"status": [500]', b'"status": true', b'"status": null', b'"status": 1e400',
          b'"http": {"status": 502}, "http.status": 200'))),
    (b'{"asctime": "2024-01-02 03:04:05,999", "name": "app", "levelname": "Level 45",'
    b' "message": "no newline at the end"}'),
]


def _python_json_logger(path) -> None:
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [make_logger(f"recordchunks.{n}", handler) for n in ("app", "app.db", 'od"d')]
    try:
        for i in range(240):
            logger = loggers[i % len(loggers)]
            extra = [{"user": i, "status": 200 + i % 5}, {"ctx": {"a": [1, {"b": None}]}},
                     {"ok": i % 2 == 0, "ratio": i / 7}, {}][i % 4]
            logger.log((10, 20, 30, 40, 50, 15)[i % 6], MESSAGES[i % len(MESSAGES)],
                       extra=extra)
            if i % 37 == 0:
                log_chained_exception(logger, RuntimeError, "boom ✗", "failed %d", i)
            if i % 53 == 0:
                logger.info("with a stack", stack_info=True)
    finally:
        handler.close()


def _structlog(processors) -> bytes:
    out = io.StringIO()
    logger = structlog.wrap_logger(structlog.PrintLogger(out), processors=[
        structlog.processors.add_log_level, *processors, structlog.processors.JSONRenderer()])
    for i in range(120):
        bound = logger.bind(**[{}, {"name": "bob"}, {"logger": "svc.users"}][i % 3])
        if i % 40 == 5:
            try:
                raise RuntimeError("wrapped \x1b[2J")
            except RuntimeError:
                bound.exception("failed", n=i)
        else:
            bound.info(MESSAGES[i % len(MESSAGES)], n=i, ratio=i / 3)
    return out.getvalue().encode()


def _loguru() -> bytes:
    def write(loguru) -> None:
        for i in range(60):
            loguru.bind(request_id=f"r-{i}").info("hi {}", i)

    return loguru_json(write).encode()


@pytest.fixture(scope="module")
def module_files(tmp_path_factory) -> dict[str, object]:
    """``_files`` made once for the module (the tests only read them)."""
    return _files(tmp_path_factory.mktemp("files"))


def _files(tmp_path) -> dict[str, object]:
    pjl = tmp_path / "pjl.jsonl"
    _python_json_logger(pjl)
    stamps = [structlog.processors.TimeStamper(fmt="iso")]
    files = {
        "python-json-logger": pjl,
        "structlog": _structlog([*stamps, structlog.processors.format_exc_info]),
        "structlog-dict": _structlog([*stamps, structlog.processors.dict_tracebacks]),
        "loguru": _loguru(),
        "hostile": pjl.read_bytes() + b"\n".join(HOSTILE),
    }
    for name, value in list(files.items()):
        if isinstance(value, bytes):
            path = tmp_path / f"{name}.jsonl"
            path.write_bytes(value)
            files[name] = path
    return files


OUTPUTS = [  # (output, colour, original)
    ("text", False, True), ("text", False, False), ("text", True, False), ("jsonl", False, False)]


def _reference(path, fmt, printer, redactor=None) -> bytes:
    """Every record of the indexed file parsed one by one and rendered."""
    store = LogStore(StaticFileSource(str(path)), fmt, redactor=redactor)
    store.update(final=True)
    return b"".join(printer.render(store.parse(i)) for i in range(len(store)))


EXACT: list[int] = []


def _counting(make):
    """``make`` (a chunk renderer factory) whose exact path notes each record's offset in
    ``EXACT``."""
    def counting(fmt, name, one):
        def counted(offset, line, data):
            EXACT.append(offset)
            return one(offset, line, data)
        return make(fmt, name, counted)
    return counting


def _direct(path, fmt, printer, *, redactor=None, **kw) -> bytes:
    """The same file printed by chunks (``RecordChunks`` as ``headless`` makes it)."""
    store = LogStore(StaticFileSource(str(path)), fmt, redactor=redactor)
    out = io.BytesIO()
    counting = _counting(headless._chunk_renderer(printer))

    job = make_job(store, parse_query(""), printer.render, need_lines=printer.jsonl,
                   every=counting)
    assert job is not None and isinstance(job.every, RecordChunks)
    EXACT.clear()
    assert run_job(job, lambda data, count: out.write(data), **kw) is None
    assert len(store.index) == 0  # no index was built
    return out.getvalue()


@pytest.mark.parametrize("output,color,original", OUTPUTS)
def test_chunks_print_what_parsing_each_record_prints(module_files, output, color, original):
    for name, path in module_files.items():
        fmt = JsonFormat()
        printer = RecordPrinter(io.BytesIO(), output=output, color=color, original=original)
        expected = _reference(path, fmt, printer)
        assert expected.count(b"\n") >= 60, name
        for range_bytes, workers in ((997, 1), (1 << 20, 1), (4096, 2)):
            got = _direct(path, fmt, printer, range_bytes=range_bytes, workers=workers)
            assert got == expected, (name, output, color, original, range_bytes, workers)
        if name in ("python-json-logger", "structlog"):  # most records read from their bytes
            assert len(EXACT) < expected.count(b"\n") / 4, (name, len(EXACT))


def test_text_never_sends_control_sequences_to_a_terminal(module_files):
    path = module_files["hostile"]
    printer = RecordPrinter(io.BytesIO(), output="text", original=False)
    got = _direct(path, JsonFormat(), printer, range_bytes=4096, workers=2)
    assert b"\x1b" not in got and "\x9b".encode() not in got and b"\x07" not in got
    assert "␀ ␇ ␡".encode() in got  # controls shown as visible symbols
    assert b"Traceback (most recent call last):" in got  # tracebacks under their record


def test_a_key_mapping_reads_as_the_parser_reads(tmp_path):
    path = tmp_path / "mapped.jsonl"
    path.write_bytes(b"".join(json.dumps(
        {"when": f"2024-01-02T03:04:{i % 60:02d}Z", "sev": "warn", "text": f"m {i}",
         "message": "kept as a field", "who": "svc"}).encode() + b"\n" for i in range(80)))
    fmt = JsonFormat(keys={"time": "when", "level": "sev", "message": "text", "logger": "who"})
    for output in ("text", "jsonl"):
        printer = RecordPrinter(io.BytesIO(), output=output, original=True)
        expected = _reference(path, fmt, printer)
        assert b"kept as a field" in expected and b"m 79" in expected
        assert _direct(path, fmt, printer, range_bytes=1024, workers=2) == expected


def test_with_redact_every_record_is_redacted_as_the_parser_redacts_it(module_files):
    path = module_files["python-json-logger"]
    redactor = Redactor(choose_rules(["email", "ipv4"]))
    for output in ("text", "jsonl"):
        printer = RecordPrinter(io.BytesIO(), output=output, original=True)
        expected = _reference(path, JsonFormat(), printer, redactor)
        assert b"[email] from [ipv4]" in expected and b"bob@" not in expected
        got = _direct(path, JsonFormat(), printer, redactor=redactor, range_bytes=4096,
                      workers=2)
        assert got == expected


@pytest.mark.parametrize("output", ["text", "jsonl"])
def test_cli_prints_everything_as_before(module_files, output, run_main, monkeypatch):
    """The command line into a pipe: the same bytes as through the follower (the path every
    JSON record of a text print took before, run in this process)."""
    path = module_files["hostile"]
    args = [str(path), "--print", "-o", output]
    fast = subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          check=True)
    monkeypatch.setattr(headless, "_chunk_renderer", lambda printer: None)
    status, slow_out, slow_err = run_main(*args)
    assert status == 0
    assert fast.stdout == slow_out and fast.stdout.count(b"\n") > 250
    assert fast.stderr.decode() == slow_err


#: Queries with needles over the files of ``_files``: loggers, fields, levels, words, regexes.
MATCH_QUERIES = [
    "logger:recordchunks.app.db", "logger:svc.users", "status>=202", "n>=10", "n<5",
    "ok=true", "user=7", "ratio>3", "level>=WARNING", "plain", "/trap/", "quotes",
    "status>=202 OR ok=true", "request_id=r-7", "level>=ERROR boom", "logger:recordchunks.app",
    "bob", "has:exc failed", "source:pjl.jsonl status>=200",
    # (extra fields alone: a plain object is tested on its fields, no record made)
    "status>=500", "status=500", "status>=500 not status=503", "http.status>=500",
    "ctx.status=503", "status~^5", "user>=100 OR ratio>3",
]


def _matching(path, fmt, printer, query, **kw) -> tuple[bytes, int]:
    """(what ``--print -q QUERY`` prints through ``RecordChunks.matching``, how many records
    took the exact path)."""
    store = LogStore(StaticFileSource(str(path)), fmt)
    out = io.BytesIO()
    counting = _counting(headless._match_renderer(printer))

    try:
        job = make_job(store, parse_query(query), printer.render, need_lines=printer.jsonl,
                       matching=counting)
        assert job is not None and isinstance(job.matching, RecordChunks), query
        EXACT.clear()
        assert run_job(job, lambda data, count: out.write(data), **kw) is None
        assert len(store.index) == 0  # no index was built
    finally:
        store.close()  # (hundreds of runs: their descriptors must not pile up)
    return out.getvalue(), len(EXACT)


@pytest.mark.parametrize("output,color,original", OUTPUTS)
def test_query_matches_print_what_parsing_each_record_prints(tmp_path, module_files, output,
                                                              color, original):
    """Every query's matches, decided and rendered together, are the bytes of every record
    parsed one by one, tested by the query and rendered."""
    files = dict(module_files)
    huge = tmp_path / "huge.jsonl"  # lines of megabytes, one with nested objects
    huge.write_bytes(files["hostile"].read_bytes() + b"\n" + b"\n".join(json.dumps(
        {"asctime": "2024-01-02 03:04:05,123", "name": "recordchunks.app.db",
         "levelname": "ERROR", "message": "big " * 200_000, "status": 503,
         "ctx": {"deep": [{"n": i, "status": 600}] * 3000}}).encode() for i in range(2)))
    files["huge"] = huge
    printed = 0
    for name, path in files.items():
        if name == "huge" and not original:  # (into a pipe is enough for its size)
            continue
        fmt = JsonFormat()
        printer = RecordPrinter(io.BytesIO(), output=output, color=color, original=original)
        store = LogStore(StaticFileSource(str(path)), fmt)
        store.update(final=True)
        records = [store.parse(i) for i in range(len(store))]
        store.close()
        for text in MATCH_QUERIES:
            query = parse_query(text)
            expected = b"".join(printer.render(r) for r in records if query.matches(r))
            # (Forked workers for one file: what they do differently is write in order.)
            # Small ranges (records across every boundary) for each file; one range of the
            # whole file for two of them; forked workers for the hostile file, which is the
            # python-json-logger file's bytes (cut at the same offsets) and hostile lines.
            configs = ((997, 1),) + (((1 << 20, 1),) if name == "python-json-logger" else
                                     ((1 << 20, 1), (4096, 2)) if name == "hostile" else ())
            if name == "huge":  # (each of many small ranges would look for its first start)
                configs = ((1 << 20, 1), (1 << 20, 2))
            elif color:  # (colour is in the rendering, not in how ranges are cut)
                configs = configs[:1]
            for range_bytes, workers in configs:
                got, exact = _matching(path, fmt, printer, text, range_bytes=range_bytes,
                                       workers=workers)
                assert got == expected, (name, text, output, color, original, range_bytes)
            printed += expected.count(b"\n")
            if name == "python-json-logger" and original and expected:
                # most records are decided and written from their objects' values
                assert exact <= expected.count(b"\n") / 4, (text, exact)
    assert printed > 2000


def test_a_plain_object_is_tested_on_the_record_the_parser_makes(module_files):
    """``record_of_plain`` (the record a query is tested on) equals the parsed record, field
    for field, on the python-json-logger file."""
    from logview.formats.jsonl import plain_values, record_of_plain
    from logview.record import RawRecord, parse_raw_record

    path = module_files["python-json-logger"]
    fmt = JsonFormat()
    offset, made = 0, 0
    for number, data in enumerate(path.read_bytes().splitlines(keepends=True), 1):
        line = data.rstrip(b"\n")
        values = plain_values(json.loads(line)) if line.startswith(b"{") else None
        if values is not None:
            parsed = parse_raw_record(fmt, RawRecord(offset, number, data), "f")
            assert record_of_plain(values, "f", number, offset, line.decode(), data) == parsed
            made += 1
        offset += len(data)
    assert made > 150


def test_a_query_of_extra_fields_alone_makes_no_record_for_a_plain_object(module_files,
                                                                         monkeypatch):
    """``status>=500`` tests a plain object's fields without making its record (the query
    reads nothing else, ``Query.fields_only``); with a level term the record is made. Both
    print what parsing prints (the test above)."""
    from logview import record_chunks

    assert parse_query("status>=500").fields_only
    assert parse_query("not (status=1 or user.id>=3)").fields_only
    for text in ("status>=500 level>=ERROR", "status>=500 boom", "", "has:exc"):
        assert not parse_query(text).fields_only, text
    made: list[int] = []
    of_plain = record_chunks.record_of_plain

    def counted(*args, **kw):
        made.append(1)
        return of_plain(*args, **kw)

    monkeypatch.setattr(record_chunks, "record_of_plain", counted)
    path = module_files["hostile"]
    printer = RecordPrinter(io.BytesIO(), original=True)
    got, _ = _matching(path, JsonFormat(), printer, "status>=202", workers=1)
    assert got.count(b"\n") >= 40 and not made
    _matching(path, JsonFormat(), printer, "status>=202 level>=INFO", workers=1)
    assert made
