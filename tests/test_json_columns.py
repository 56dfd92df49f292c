"""Counting JSON lines by columns (``formats/json_columns.py``) gives exactly the counts of
parsing every record (``RecordStats.add`` per record is the reference), on files the real
libraries write and on hostile ones; and the walk, not the fallback, reads the common case."""

from __future__ import annotations

import io
import logging
import os
import random
import time

import numpy as np
import orjson
import pytest
import structlog
from journal_helpers import hosts, journalctl, needs_journal
from test_columns import assert_same, by_columns, read_share, reference
from test_fuzz_parsers import HOSTILE_BYTES, HOSTILE_JSON, OUT_OF_RANGE, SEED, mutate_line

from logview.formats.jsonl import JsonFormat
from logview.printer import dumps_record
from logview.record import Record
from logview.sources.base import StaticFileSource
from logview.store import open_store

LOGGERS = ["app", "app.db", "app.web.handlers", "caf\u00e9.\u4e2d", "a" * 140, "x:y", "",
           "root"]


def _store(tmp_path, data: bytes, fmt=None, name: str = "app.jsonl"):
    path = tmp_path / name
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)), fmt if fmt is not None else JsonFormat())
    store.update(final=True)
    return store


def _check(tmp_path, data: bytes, what: str, fmt=None) -> None:
    store = _store(tmp_path, data, fmt)
    want = reference(store)
    for chunk_bytes in (1 << 10, 1 << 22):
        assert_same(by_columns(store, chunk_bytes), want, f"{what} ({chunk_bytes})")


# ---------------------------------------------------------------------------------------------
# What the real libraries write


def _pjl(rng: random.Random, count: int = 600, *args, **kwargs) -> bytes:
    from pythonjsonlogger.json import JsonFormatter

    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(*args, **kwargs))
    logging.addLevelName(25, "NOTICE")
    for i in range(count):
        log = logging.getLogger(rng.choice(LOGGERS) or "root")
        log.handlers[:] = [handler]
        log.propagate = False
        log.setLevel(1)
        extra = rng.choice([{}, {"user": rng.randint(1, 500)}, {"ctx": {"level": "ERROR"}},
                            {"level": "CRITICAL"}, {"logger": "other"}, {"time": 5},
                            {"timestamp": "2024-01-02T03:04:05Z"}])
        if i % 40 == 7:
            try:
                raise ValueError(f"boom {i} \"quoted\" {{braces}}")
            except ValueError:
                log.exception("failed %d", i, extra=extra)
        else:
            log.log(rng.choice([10, 20, 25, 30, 40, 50, 5, 1000]), "message %d %s", i,
                    rng.choice(["", "caf\u00e9", '"name": "x"', "{", "\x1b[31mred\x1b[0m"]),
                    extra=extra)
    handler.close()
    return buf.getvalue().encode()


PJL_FORMATS = [
    (("%(asctime)s %(name)s %(levelname)s %(message)s",), {}),
    (("%(asctime)s %(levelname)s %(name)s %(message)s",), {"timestamp": True}),
    (("%(levelno)s %(levelname)s %(name)s %(message)s %(created)f %(lineno)d",), {}),
    (("%(asctime)s %(levelname)s %(message)s",), {"rename_fields": {"levelname": "level",
                                                                    "name": "logger"}}),
    (("%(asctime)s %(levelname)s %(name)s %(message)s",), {"json_ensure_ascii": False}),
    (("%(message)s %(name)s",), {}),
    (("%(asctime)s %(levelname)s %(name)s %(message)s",), {"datefmt": "%Y-%m-%dT%H:%M:%S%z"}),
]


@pytest.mark.parametrize(("args", "kwargs"), PJL_FORMATS)
def test_python_json_logger_counts_as_parsed(tmp_path, args, kwargs):
    data = _pjl(random.Random(f"{SEED}:{args}:{kwargs}"), 600, *args, **kwargs)
    _check(tmp_path, data, f"{args} {kwargs}")


def test_the_walk_reads_most_records_of_a_python_json_logger_file(tmp_path):
    """The point of the walk: records are not parsed one by one. Here only the records with
    a nested extra, a long or escaped logger name or an escape in the message are."""
    store = _store(tmp_path, _pjl(random.Random(1), 2000,
                                  "%(asctime)s %(name)s %(levelname)s %(message)s"))
    share = read_share(store)
    assert 0.5 < share < 1

    plain = random.Random(2)
    lines = []
    for i in range(2000):
        lines.append(orjson.dumps({"asctime": f"2024-01-02 03:{i // 60 % 60:02d}:{i % 60:02d},"
                                   f"{plain.randint(0, 999):03d}",
                                   "name": plain.choice(LOGGERS[:3]), "levelname": "INFO",
                                   "message": f"request {i} took {plain.random()} ms",
                                   "user_id": plain.randint(1, 10**6)}, ) + b"\n")
    store = _store(tmp_path, b"".join(lines), name="plain.jsonl")
    assert read_share(store) == 1
    assert_same(by_columns(store), reference(store), "plain")


def _structlog(rng: random.Random, *processors) -> bytes:
    out = io.StringIO()
    logger = structlog.wrap_logger(structlog.PrintLogger(out), processors=[
        structlog.processors.add_log_level, *processors, structlog.processors.JSONRenderer()])
    for i in range(400):
        bound = logger.bind(**rng.choice([{}, {"name": "bob"}, {"logger": "svc.users"},
                                          {"logger": "svc", "name": "bob"}, {"message": "m"},
                                          {"level_name": "x"}]))
        if i % 50 == 3:
            try:
                raise RuntimeError("wrapped")
            except RuntimeError:
                bound.exception("failed", n=i)
        else:
            getattr(bound, rng.choice(["debug", "info", "warning", "error", "critical"]))(
                f"event {i}", n=i, ok=rng.random() < 0.5, ratio=rng.random())
    return out.getvalue().encode()


STRUCTLOG_STAMPS = [
    [structlog.processors.TimeStamper(fmt="iso")],
    [structlog.processors.TimeStamper(fmt="iso", utc=False)],
    [structlog.processors.TimeStamper()],  # epoch seconds, a float
    [structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", key="ts")],
    [structlog.processors.TimeStamper(fmt="iso"), structlog.processors.format_exc_info],
    [structlog.processors.TimeStamper(fmt="iso"), structlog.processors.dict_tracebacks],
]


@pytest.mark.parametrize("processors", STRUCTLOG_STAMPS, ids=range(len(STRUCTLOG_STAMPS)))
def test_structlog_json_renderer_counts_as_parsed(tmp_path, processors):
    data = _structlog(random.Random(len(processors)), *processors)
    _check(tmp_path, data, "structlog")
    if len(processors) == 1:
        assert read_share(_store(tmp_path, data, name="again.jsonl")) > 0.9


def test_loguru_serialize_falls_back_and_counts_as_parsed(tmp_path):
    from loguru import logger

    out = io.StringIO()
    sink = logger.add(out, serialize=True, level="TRACE")
    try:
        for i in range(200):
            logger.bind(request_id=f"r-{i}").log(
                random.Random(i).choice(["TRACE", "DEBUG", "INFO", "SUCCESS", "ERROR"]), "hi {}",
                i)
    finally:
        logger.remove(sink)
    store = _store(tmp_path, out.getvalue().encode())
    assert_same(by_columns(store), reference(store), "loguru")
    assert read_share(store) == 0  # a nested "record": parsed


def _lines(objs) -> bytes:
    return b"".join(orjson.dumps(obj) + b"\n" for obj in objs)


def test_pino_bunyan_gelf_ecs_and_cloud_schemas_count_as_parsed(tmp_path):
    rng = random.Random(5)
    stamp = 1704164645123
    objs = []
    for i in range(1500):
        stamp += rng.randint(0, 5000)
        shape = i % 9
        if shape == 0:  # pino
            objs.append({"level": rng.choice([10, 20, 30, 40, 50, 60, 35]), "time": stamp,
                         "pid": 1, "hostname": "h", "msg": f"m {i}", "name": "web"})
        elif shape == 1:  # bunyan
            objs.append({"name": "api", "hostname": "h", "pid": 7, "level": 30, "v": 0,
                         "msg": "x", "time": f"2024-01-02T03:04:05.{i % 1000:03d}Z"})
        elif shape == 2:  # GELF: syslog levels
            objs.append({"version": "1.1", "host": "h", "short_message": "s",
                         "timestamp": stamp / 1000, "level": rng.randint(0, 9), "_user": "u"})
        elif shape == 3:  # ECS, flat dotted keys and the nested logger of ecs-logging
            objs.append({"@timestamp": f"2024-01-02T03:04:05.{i % 1000:03d}Z",
                         "log.level": rng.choice(["info", "warn", "error"]), "message": "m",
                         "ecs.version": "1.6.0", "log.logger": "app.ecs"})
        elif shape == 4:
            objs.append({"@timestamp": "2024-01-02T03:04:05.123Z", "log.level": "info",
                         "message": "m", "log": {"logger": "nested", "origin": {"line": 3}}})
        elif shape == 5:  # Google Cloud
            objs.append({"severity": rng.choice(["DEFAULT", "INFO", "ERROR", "NOTICE"]),
                         "message": "m", "timestamp": f"2024-01-02T03:04:{i % 60:02d}.{i:06d}+00:00",
                         "logging.googleapis.com/trace": "t"})
        elif shape == 6:  # host and version beside a numeric level: syslog only for 0..7
            objs.append({"host": "h", "version": 2, "level": rng.choice([3, 7, 20, 40]),
                         "ts": stamp * 1000})
        elif shape == 7:  # epochs in every unit
            objs.append({"lvl": "W", "ts": rng.choice([stamp // 1000, stamp, stamp * 1000,
                                                       stamp * 10**6, stamp / 1000, 99, 0,
                                                       -stamp, 1e20, True, None])})
        else:  # zap-like
            objs.append({"level": "info", "ts": stamp / 1000, "logger": "zap.core",
                         "caller": "x.go:3", "msg": "m"})
    _check(tmp_path, _lines(objs), "schemas")
    assert read_share(_store(tmp_path, _lines(objs), name="again.jsonl")) > 0.8


def test_logviews_own_output_and_journal_entries_count_as_parsed(tmp_path):
    records = [Record(f"m {i}", level=["INFO", "ERROR"][i % 2], levelno=[20, 40][i % 2],
                      logger=f"app.{i % 3}", source=f"s{i % 2}", time=None) for i in range(50)]
    own = b"".join(dumps_record(r).rstrip(b"\n") + b"\n" for r in records)
    journal = _lines({"__CURSOR": f"s={i}", "__REALTIME_TIMESTAMP": str(1704164645000000 + i),
                      "PRIORITY": str(i % 8), "MESSAGE": "m", "SYSLOG_IDENTIFIER": "app",
                      "level": "ERROR"} for i in range(50))
    partial = _lines({"levelno": 40, "message": "m", "exc": None, "level": "INFO",
                      "logger": "x"} for _ in range(20))
    _check(tmp_path, own + journal + partial, "own and journal")


@needs_journal
def test_journalctl_output_counts_as_parsed(tmp_path):
    entries = [entry for _host, host_entries, _ in hosts() for entry in host_entries]
    _check(tmp_path, journalctl(tmp_path, entries), "journalctl")


# ---------------------------------------------------------------------------------------------
# Hostile objects


#: Lines each meant to catch one way the walk could read differently from the parser.
TRICKY = [
    b'{"level": "INFO", "msg": "escaped \\" quote, \\"level\\": \\"ERROR\\""}',
    b'{"msg": "x", "ctx": {"level": "ERROR", "name": "n"}, "level": "DEBUG"}',
    b'{"ctx": {"level": "ERROR"}}',
    b'{"a": ["level", {"levelname": "ERROR"}], "levelname": "INFO"}',
    b'{"level": "INFO", "level": "ERROR"}',
    b'{"level": "INFO", "levelname": "ERROR", "levelname": "WARNING"}',
    b'{"levelname": "INFO", "level": "ERROR", "level": "WARNING"}',
    b'{"msg": "{\\"level\\": 1}", "level": "WARN", "name": "}{"}',
    b'{"le\\u0076el": "ERROR"}',
    b'{"level": "\\u0045RROR"}',
    b'{"level": "ERR\\u001b[0mOR", "logger": "\\u001b[31mred"}',
    b'{"level": "\xff\xfeERROR", "logger": "caf\xc3\xa9\xff"}',
    b'{"level": "\x1b[31mERROR\x1b[0m", "logger": "a"}',
    b'{"level": "ERROR", "logger": "\xc2\x9b31mb"}',
    b'{"level": "ERROR", "logger": "\xc2\x85nel"}',
    b'{"level": 30, "msg": "pino"}', b'{"level": 30}', b'{"level": 30.9}', b'{"level": -5}',
    b'{"level": 1e2}', b'{"level": 99999999999999999999}', b'{"level": 1e400}',
    b'{"level": 30, "hostname": "h", "pid": 1}', b'{"level": 5, "host": "h", "version": 1}',
    b'{"level": 50, "host": "h", "version": 1}', b'{"level": 3, "short_message": "s"}',
    b'{"level": 30, "v": 0}', b'{"level": true}', b'{"level": null}', b'{"level": ""}',
    b'{"level": "' + b"E" * 50 + b'"}', b'{"level": "' + b"x" * 300 + b'"}',
    b'{"levelno": 25}', b'{"levelno": 25, "level": "SUCCESS"}', b'{"levelno": 25.0}',
    b'{"levelno": "25"}', b'{"levelno": 40, "level": "INFO"}', b'{"levelno": 0}',
    b'{"levelno": -1}', b'{"levelno": 70000}', b'{"levelno": 3000000000}',
    b'{"levelno": 18446744073709551616, "x": "\\ud800"}', b'{"level": 7, "x": 1e400}',
    b'{"levelname": "Level 15"}', b'{"levelname": "level 40000"}', b'{"level": "42"}',
    b'{"logger": 5, "level": "INFO"}', b'{"logger": null}', b'{"logger": ""}',
    b'{"logger": "' + b"l" * 200 + b'"}', b'{"logger": "a b"}', b'{"logger": "a\\tb"}',
    b'{"event": "e", "name": "bob"}', b'{"event": "e", "msg": "m", "name": "bob"}',
    b'{"event": "e", "name": "bob", "logger": "real"}', b'{"event": "e", "name": 3}',
    b'{"name": "n", "logger_name": "ln", "loggerName": "LN"}',
    b'{"time": "2024-01-02T03:04:05Z"}', b'{"time": "2024-01-02T03:04:05"}',
    b'{"time": "2024-01-02 03:04:05,1"}', b'{"time": "2024-01-02T03:04:05.123456789Z"}',
    b'{"time": "2024-01-02T03:04:05.1234567891Z"}', b'{"time": "2024-01-02T03:04:60Z"}',
    b'{"time": "2024-02-30T03:04:05Z"}', b'{"time": "2024-01-02T24:04:05Z"}',
    b'{"time": "2024-01-02T03:04:05-23:59"}', b'{"time": "2024-01-02T03:04:05+24:00"}',
    b'{"time": "2024-01-02T03:04:05+0530"}', b'{"time": "2024-01-02t03:04:05"}',
    b'{"time": "2024-01-02T03:04:05 UTC"}', b'{"time": "2024-01-02T03:04:05.Z"}',
    b'{"time": "[2024-01-02T03:04:05Z]"}', b'{"time": " 2024-01-02T03:04:05Z"}',
    b'{"time": "0001-01-01T00:00:00+23:59"}', b'{"time": "9999-12-31T23:59:59.999999-23:59"}',
    b'{"time": "2024/01/02 03:04:05"}', b'{"time": "Jan  2 03:04:05"}', b'{"time": ""}',
    b'{"time": "1704164645"}', b'{"time": 1704164645}', b'{"time": 1704164645.1234565}',
    b'{"time": 17041646451234567}', b'{"time": 1704164645123456789}', b'{"time": 1.7e9}',
    b'{"time": 99999999}', b'{"time": 100000000}', b'{"time": 9999999999.9999999}',
    b'{"time": 253402300800}', b'{"time": -62135596801}', b'{"time": 0}', b'{"time": -0}',
    b'{"time": 1e999}', b'{"time": false}', b'{"time": null}', b'{"time": "\\u0032024-01-02"}',
    b'{"timestamp": "2024-01-02T03:04:05Z", "@timestamp": 5, "ts": 1704164645}',
    b'{"time": "2024-01-02T03:04:05Z", "time": 1704164645}',
    b'{"level": "INFO" "msg": "no comma"}', b'{"level": "INFO",}', b'{"level": "INFO"',
    b'{"level": "INFO"}}', b'{"level" "INFO"}', b'{"level": INFO}', b'{"level": "INFO", 3: 4}',
    b'{"level": 01}', b'{"level": 1.}', b'{"level": .5}', b'{"level": +1}', b'{"level": 1 2}',
    b'{"level": tru}', b'{"level": NaN}', b'{"level": Infinity}', b'{"level": "A\\x"}',
    b'{"level": "A\\u12"}', b'{"a": "\\\\", "level": "ERROR"}', b'{"a": "\\\\\\"", "level": "E"}',
    b'{"a": "x\\\\"}, "level": "ERROR"}', b"{}", b"{ }", b"{}}", b"{ , }", b'  {"level": "E"}',
    b'{"level": "E"}  ', b'{"level": "E"}\r', b'{"level":\t"E"}', b'\xef\xbb\xbf{"level": "E"}',
    b'\x1e{"level": "E"}', b'{"level": "E", "msg": "a\x00b"}', b'{"level": "E"} trailing',
    b'{"MESSAGE": "m", "level": "E"}', b'{"record": 1, "text": "t", "level": "E"}',
    b'{"levelno": 40, "fields": 1, "exc": null, "message": "m", "level": "warning"}',
    b'[{"level": "E"}]', b'"level"', b"null", b"plain text ERROR line",
    # What the parser strips before decoding (8-bit CSI, OSC to ST) can swallow JSON.
    b'{"logger": "\xc2\x9b", "level": "ERROR"}',
    b'{"a": "\xc2\x9d", "level": "ERROR", "b": "\xc2\x9c"}',
    b'{"a": "\x1b]0;t\x07", "level": "ERROR"}',
    # A bad escape anywhere makes the line no JSON.
    b'{"a": "\\x", "level": "ERROR"}', b'{"a": "\\u12", "level": "ERROR"}',
    b'{"a": "\\u12g4", "level": "ERROR"}', b'{"a": "\\u00e9\\/\\b", "level": "ERROR"}',
    b'{"a": "\\"", "level": "ERROR"}', b'{"a": "\\\\"", "level": "ERROR"}',
    # Spacing: the usual gaps are read, others left to the parser; numbers between.
    b'{"level" : "ERROR"}', b'{ "level": "ERROR" }', b'{"level": "ERROR" , "x": 1}',
    b'{"level":  "ERROR"}', b'{"x": 1 , "level": "ERROR"}', b'{"x":  1, "level": "ERROR"}',
    b'{"x": 1 }', b'{"level": "E","x":1}', b'{"x":-1,"level":"E"}', b'{"x":true,"level":"E"}',
    b'{"x": nul, "level": "E"}', b'{"x": 1,, "level": "E"}', b'{"x": 1:, "level": "E"}',
    b'{"x" 1, "level": "ERROR"}', b'{"x",1, "level": "ERROR"}', b'{"level": "ERROR"} }',
    b'{"x": 1}, "level": "E"}', b'{"level": "ERROR",', b'{"level": "ERROR", "x": 1,',
    b'{"x": "y", "level":', b'{"level": "ERROR", "x":',
    b'{"level": "ERROR", "x": 12}', b'{"level": "ERROR", "x": 12 }', b'{"x": 1e5, "level": 2e1}',
    # Long keys: the bytes between the first and last eight are compared too.
    b'{"__REALTIME_TIMESTAMP": "1704164645000000", "level": "ERROR"}',
    b'{"__REALTIME_TIMEXTAMP": "1704164645000000", "level": "ERROR"}',
    b'{"error.stack_trace": "x", "level": "ERROR", "exc_info": "y"}',
    b'{"level": "ERROR", "msg": "pretty"', b'  , "x": 1}',
]


def test_tricky_objects_count_as_parsed(tmp_path):
    data = b"\n".join(TRICKY) + b"\n"
    _check(tmp_path, data, "tricky")
    crlf = b"\r\n".join(TRICKY) + b"\r\n"
    _check(tmp_path, crlf, "tricky crlf")


def test_a_key_mapping_reads_its_own_keys(tmp_path):
    fmt = JsonFormat(keys={"time": "when", "level": "sev", "logger": "name", "message": "event"})
    objs = [{"when": f"2024-01-02T03:04:{i % 60:02d}Z", "sev": ["info", "ERROR", 40][i % 3],
             "name": f"n{i % 4}", "event": "e", "level": "CRITICAL", "time": 5,
             "logger": "not the logger"} for i in range(300)]
    objs += [{"level": "WARNING", "msg": "no mapped key"}]
    data = _lines(objs) + b'{"sev": "INFO", "sev": "ERROR"}\n{"name": "a", "name": "b"}\n'
    _check(tmp_path, data, "mapping", fmt)
    assert read_share(_store(tmp_path, data, fmt, "again.jsonl")) > 0.9


def test_long_mapped_keys_and_near_misses(tmp_path):
    """Keys are found by their first and last 8 bytes and length, then compared whole."""
    fmt = JsonFormat(keys={"level": "my.custom.severity.key", "logger": "component.name.x"})
    lines = [b'{"my.custom.severity.key": "ERROR", "component.name.x": "a"}',
             b'{"my.custom.sevXrity.key": "ERROR", "component.nXme.x": "b", "level": "INFO"}',
             b'{"my.custom.severity.kez": "ERROR", "component.name.y": "c"}',
             b'{"my.custom.severity.key": "WARN", "level": "ERROR", "name": "n"}']
    data = b"\n".join(lines * 50) + b"\n"
    _check(tmp_path, data, "long keys", fmt)
    assert read_share(_store(tmp_path, data, fmt, "again.jsonl")) == 1


def test_multi_line_records_and_pretty_objects_count_as_parsed(tmp_path):
    data = (b'{"level": "ERROR", "msg": "with traceback", "name": "a"}\n'
            b"Traceback (most recent call last):\n"
            b'  File "x.py", line 1, in <module>\n'
            b"ValueError: {\"level\": \"INFO\"}\n"
            b'{\n  "level": "WARNING",\n  "name": "pretty"\n}\n'
            b'{"level": "INFO", "name": "b"}\n')
    _check(tmp_path, data * 20, "multi-line")


def _random_object(rng: random.Random) -> dict:
    keys = ["level", "levelname", "severity", "levelno", "msg", "message", "event", "name",
            "logger", "time", "timestamp", "ts", "@timestamp", "asctime", "host", "version",
            "pid", "hostname", "v", "short_message", "user", "x", "exc", "fields", "MESSAGE"]
    values = [lambda: rng.choice(["INFO", "warn", "Error", "", "Level 7", "SUCCESS", "crit"]),
              lambda: rng.choice([0, 3, 7, 10, 20, 30, 35, 40, 50, 60, -1, 10**6]),
              lambda: rng.random() * 100,
              lambda: rng.choice([True, False, None]),
              lambda: rng.choice(["app", "app.db", "caf\u00e9", "a\"b", "x\\y", "\u001b[1mz"]),
              lambda: (f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                       f"{rng.choice('T ')}{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                       f"{rng.randint(0, 59):02d}"
                       + rng.choice(["", ".5", ",123", ".123456", ".1234567"])
                       + rng.choice(["", "Z", "+02:00", "-05:30", "+0100"])),
              lambda: rng.choice([1704164645, 1704164645.25, 1704164645123, 1704164645123456,
                                  1704164645123456789]) + rng.randint(0, 10**6),
              lambda: {"level": "ERROR"}, lambda: ["name", 1]]
    return {rng.choice(keys): rng.choice(values)() for _ in range(rng.randint(0, 7))}


@pytest.mark.parametrize("seed", range(4))
def test_random_objects_and_their_mutations_count_as_parsed(tmp_path, seed):
    rng = random.Random(f"{SEED}:json-columns:{seed}")
    lines = []
    for _ in range(1500):
        line = orjson.dumps(_random_object(rng))
        if rng.random() < 0.3:
            line = line.replace(b":", b": ").replace(b",", b", ")  # python-json-logger's
        if rng.random() < 0.3:
            line = mutate_line(rng, line)
        if rng.random() < 0.05:
            line = line.replace(b'"', b'"' + rng.choice(HOSTILE_BYTES), 1)
        if rng.random() < 0.05:
            line = line.replace(b"1", rng.choice(OUT_OF_RANGE + HOSTILE_JSON[:12]), 1)
        lines.append(line)
    _check(tmp_path, b"\n".join(lines), f"seed {seed}")


@pytest.fixture
def new_york():
    """Naive times read in a zone with daylight saving time."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_naive_times_across_daylight_saving_count_as_parsed(tmp_path, new_york):
    objs = []
    for day in ("2024-03-10", "2024-11-03"):
        for minute in range(0, 240, 7):
            for second in (0, 29, 59):
                objs.append({"level": "INFO", "asctime": f"{day} {minute // 60:02d}:"
                             f"{minute % 60:02d}:{second:02d},{second * 7 % 1000:03d}"})
    store = _store(tmp_path, _lines(objs))
    assert_same(by_columns(store), reference(store), "new york")
    assert read_share(store) > 0.9


def test_naive_times_in_a_minute_whose_offset_changes_count_as_parsed(tmp_path):
    """Amsterdam left its mean time (+00:19:32) for +00:20 at midnight, 1937-07-01: that
    minute's local seconds are not its first second's plus the seconds."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Amsterdam"
    time.tzset()
    try:
        for seconds in ((0, 10, 27), (0, 30, 59), (30, 45), (5, 20)):
            objs = [{"level": "INFO", "asctime": f"1937-07-01 00:00:{s:02d},500"}
                    for s in seconds] + [{"level": "INFO", "asctime": "1937-06-30 23:59:59"}]
            store = _store(tmp_path, _lines(objs), name=f"{seconds}.jsonl")
            assert_same(by_columns(store), reference(store), f"amsterdam {seconds}")
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_walker_columns_equal_parsed_records_one_by_one(tmp_path):
    """Besides the totals: each record read gives its own level, logger and time."""
    data = _pjl(random.Random(9), 300, "%(asctime)s %(name)s %(levelname)s %(message)s",
                timestamp=True) + b"\n".join(TRICKY) + b"\n"
    store = _store(tmp_path, data)
    starts = np.array([store.index.start(i) for i in range(len(store))], dtype=np.int64)
    got = store.format.column_walker().read(data, starts)
    assert got.ok.sum() > len(store) // 2
    for line in (TRICKY[0], b'{"a": "\\u00e9\\/\\b", "level": "ERROR"}'):  # escapes
        assert got.ok[int(np.searchsorted(starts, data.index(b"\n" + line) + 1))], line
    assert_read_as_parsed(store, got)


def assert_read_as_parsed(store, got) -> None:
    """Each record the walker read (``got.ok``) has the level, logger and time it parses to."""
    for i in np.flatnonzero(got.ok).tolist():
        record = store.record(i)
        logger = got.logger_names[got.loggers[i]] if got.loggers[i] >= 0 else ""
        assert (int(got.levelnos[i]), logger) == (record.levelno, record.logger), i
        stamp = record.timestamp
        assert (np.isnan(got.times[i]) and stamp is None) or got.times[i] == stamp, i
