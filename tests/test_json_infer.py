"""JSON lines whose objects keep the time, level, message or exception under keys of their own
are read by those keys with no configuration (``formats.json_infer``): the same records by
every road (the parser, ``--print``'s direct scan with its level needles, the columns)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import orjson
import pytest
from logging_helpers import log_key_error
from test_columns import assert_same, by_columns, reference

from logview.formats.detect import detect
from logview.formats.json_infer import infer_keys
from logview.formats.jsonl import JsonFormat
from logview.sources.base import StaticFileSource
from logview.store import open_store

# Serilog's compact JSON (CLEF), as its documentation shows it: no @l means Information.
CLEF = [
    '{"@t":"2024-05-01T12:00:00.1234567Z","@mt":"Starting up {App}","App":"web"}',
    '{"@t":"2024-05-01T12:00:01.0000000Z","@mt":"Slow {Ms}","@l":"Warning","Ms":1200}',
    ('{"@t":"2024-05-01T12:00:02.0000000Z","@mt":"Failed to load {Id}","@l":"Error","Id":42,'
    '"@x":"System.IO.IOException: disk\\n   at App.Load() in App.cs:line 10"}'),
    '{"@t":"2024-05-01T12:00:03.0000000Z","@mt":"Loaded {Count} items","Count":3}',
    '{"@t":"2024-05-01T12:00:04.0000000Z","@mt":"Stopping","@l":"Information"}',
]

# MongoDB's structured log: the time is Extended JSON.
MONGO = [
    ('{"t":{"$date":"2024-05-01T12:00:00.123+00:00"},"s":"I","c":"NETWORK","id":23015,'
    '"ctx":"listener","msg":"Listening on","attr":{"address":"127.0.0.1"}}'),
    ('{"t":{"$date":"2024-05-01T12:00:02.123+00:00"},"s":"E","c":"STORAGE","id":22312,'
    '"ctx":"conn12","msg":"WiredTiger error","attr":{"error":13}}'),
]

# winston with ``format.errors({stack: true})``: the stack is a key of its own.
WINSTON = [
    '{"level":"info","message":"server started","timestamp":"2024-05-01T12:00:00.000Z"}',
    ('{"level":"error","message":"request failed","timestamp":"2024-05-01T12:00:01.000Z",'
    '"stack":"Error: request failed\\n    at handler (/app/index.js:10:11)"}'),
]


def _objects(lines):
    return [json.loads(line) for line in lines]


def test_the_keys_of_serilog_compact_json_are_read_from_their_values():
    assert infer_keys(_objects(CLEF)) == {"time": "@t", "level": "@l", "message": "@mt",
                                          "exc": "@x"}
    found = detect("\n".join(CLEF).encode() + b"\n")
    assert isinstance(found.format, JsonFormat) and found.format.keys["level"] == "@l"
    records = [found.format.parse(line) for line in CLEF]
    assert [r.level for r in records] == [None, "WARNING", "ERROR", None, "INFO"]
    assert records[2].message == "Failed to load {Id}" and records[2].fields == {"Id": 42}
    assert records[2].exc is not None and "at App.Load()" in records[2].exc
    assert records[0].timestamp == pytest.approx(1714564800.1234567)


def test_explain_says_which_keys_were_read_from_the_values(tmp_path):
    path = tmp_path / "clef.json"
    path.write_text("\n".join(CLEF) + "\n")
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--explain"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert "keys:      time=@t level=@l message=@mt exc=@x (read from the sample's values)" in out


def test_mongodb_times_in_extended_json_and_letter_levels_are_read():
    assert infer_keys(_objects(MONGO)) == {"time": "t", "level": "s"}
    fmt = detect("\n".join(MONGO).encode() + b"\n").format
    record = fmt.parse(MONGO[1])
    assert record.timestamp == pytest.approx(1714564802.123)
    assert record.message == "WiredTiger error" and record.level == "ERROR"
    assert "s" not in record.fields and record.fields["c"] == "STORAGE"
    long_form = '{"t":{"$date":{"$numberLong":"1714564802123"}},"msg":"x"}'
    assert fmt.parse(long_form).timestamp == pytest.approx(1714564802.123)


def test_extended_json_times_count_as_parsed(tmp_path):
    """The column walker (the viewer's counts) reads what the parser reads, or leaves the
    record to it."""
    lines = [line.replace("12:00:0", f"12:{i % 60:02d}:0") for i in range(300) for line in MONGO]
    lines.append('{"t":{"$date":{"$numberLong":"1714564802123"}},"msg":"x"}')
    lines.append('{"t":{"$date":"not a time"},"msg":"y"}')
    lines.append('{"t":{"$date":"2024-05-01T12:00:00Z","x":1},"msg":"z"}')
    data = "\n".join(lines).encode() + b"\n"
    path = tmp_path / "mongo.jsonl"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)), detect(data).format)
    store.update(final=True)
    want = reference(store)
    assert sum(1 for r in (store.record(i) for i in range(len(store))) if r.timestamp) == 601
    assert_same(by_columns(store, 1 << 10), want, "mongo")


def test_a_mongodb_log_is_filtered_by_its_letters_by_every_road(tmp_path):
    letters = ["I", "I", "I", "W", "E", "F", "D1", "D2", "D5", "I"]
    lines = [orjson.dumps({"t": {"$date": f"2024-05-01T12:{i // 60 % 60:02d}:{i % 60:02d}.000Z"},
                           "s": letters[i % len(letters)], "c": "NETWORK", "id": 22943 + i,
                           "ctx": f"conn{i % 7}", "msg": f"event {i}",
                           "attr": {"remote": "127.0.0.1:5000"}}).decode() for i in range(5000)]
    lines[4000] = lines[4000].replace('"s":"I"', '"s":"e"')  # (no level: letters are capitals)
    path = tmp_path / "mongod.log"
    path.write_text("\n".join(lines) + "\n")
    fmt = detect(path.read_bytes()[:65536]).format
    assert fmt.keys == {"time": "t", "level": "s"}
    store = open_store(StaticFileSource(str(path)), fmt)
    store.update(final=True)
    assert_same(by_columns(store, 1 << 12), reference(store), "mongod")
    records = [store.record(i) for i in range(len(store))]
    assert {r.level for r in records} == {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "E"}
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=ERROR", "-o", "jsonl"], capture_output=True, check=True,
                         timeout=60).stdout
    printed = [orjson.loads(line)["line"] for line in out.splitlines()]
    assert printed == [r.line for r in records if r.levelno >= 40] and len(printed) == 1000


def test_a_stack_under_a_key_of_its_own_is_the_records_exception():
    assert infer_keys(_objects(WINSTON)) == {"exc": "stack"}
    fmt = detect("\n".join(WINSTON).encode() + b"\n").format
    record = fmt.parse(WINSTON[1])
    assert record.exc == "Error: request failed\n    at handler (/app/index.js:10:11)"
    assert "stack" not in record.fields


@pytest.mark.parametrize("objects", [
    # python-json-logger, structlog, pino: the known names say everything
    [{"asctime": "2024-05-01 12:00:00,000", "levelname": "INFO", "name": "a", "message": "m",
      "trace": "x\ny"}],
    [{"event": "hi", "level": "info", "timestamp": "2024-05-01T12:00:00Z", "when": 1714564800}],
    [{"level": 30, "time": 1714564800000, "pid": 1, "hostname": "h", "msg": "hello"}],
    # a schema read whole, and ECS's nested parts: a mapping would turn their reading off
    [{"record": {"level": {"name": "INFO"}}, "text": "x", "t": "2024-05-01T12:00:00Z"}],
    [{"@timestamp": "2024-05-01T12:00:00Z", "log": {"level": "info"}, "message": "m",
      "sev": "error"}],
    [{"MESSAGE": "m", "PRIORITY": "6", "__REALTIME_TIMESTAMP": "1714564800000000",
      "_HOSTNAME": "h", "sev": "error"}],
])
def test_known_shapes_are_left_as_they_are(objects):
    assert infer_keys(objects) == {}


def test_ids_counters_and_sentences_are_not_taken_for_times_or_levels():
    objects = [{"id": 23015 + i, "bytes": 512 * i, "note": "error while reading the disk",
                "text": f"request {i} handled", "kind": "warning sign"} for i in range(50)]
    assert infer_keys(objects) == {"message": "text"}  # (named like a message)
    for obj in objects:
        del obj["text"]
    assert infer_keys(objects) == {"message": "note"}  # (the longest text)
    nginx = [{"time": "2024-05-01T12:00:00+00:00", "remote_addr": "10.0.0.1",
              "request": f"GET /item/{i} HTTP/1.1", "status": 200,
              "http_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}
             for i in range(10)]
    # (no level anywhere: the HTTP status gives it, json_status)
    assert infer_keys(nginx) == {"message": "request", "status": "status"}
    # a level key must read as a level in every object that holds it
    mixed = [{"msg": "m", "sev": s} for s in ("info", "error", "sometimes")]
    assert "level" not in infer_keys(mixed)
    # a stack must look like one somewhere, in any of its values
    assert "exc" not in infer_keys([{"msg": "m", "poem": "roses\nviolets"}])
    notes = [{"msg": "m", "trace": "step 1\nstep 2"},
             {"msg": "m", "trace": "Error: x\n    at f (/app/a.js:1:2)"}]
    assert infer_keys(notes) == {"exc": "trace"}
    # a known key holding tracebacks (a message with one) is never taken for the stack
    told = [{"time": "2024-05-01T12:00:00Z", "message": "failed\nTraceback (most recent call "
             "last):\n  File \"a.py\", line 1\nKeyError: 'k'", "sev": "error"}] * 3
    assert infer_keys(told) == {"level": "sev"}


def test_objects_of_too_many_keys_are_not_looked_at():
    """A hostile sender's objects of thousands of keys cost no inference (the listener
    infers on each of a connection's first objects)."""
    huge = {f"k{i}": f"2024-05-01T12:00:{i % 60:02d}Z" for i in range(5000)}
    assert infer_keys([huge] * 20) == {}
    assert infer_keys([huge, *_objects(CLEF)])["message"] == "@mt"


def _renamed_json_log(count: int) -> bytes:
    """python-json-logger with its fields renamed to names logview does not know."""
    from pythonjsonlogger.json import JsonFormatter

    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "when", "levelname": "sev", "message": "text",
                       "exc_info": "crash"}))
    log = logging.getLogger("renamed.app")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    levels = (logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING, logging.ERROR,
              logging.CRITICAL)
    for i in range(count):
        level = levels[i % len(levels)]
        if i % 97 == 5:
            log_key_error(log, f"missing {i}", "request %d failed", i, extra={"status": 500})
        else:
            log.log(level, "request %d handled", i, extra={"status": 200 + i % 3})
    return buf.getvalue().encode()


def test_a_renamed_python_json_logger_log_is_read_the_same_by_every_road(tmp_path):
    data = _renamed_json_log(6000)
    path = tmp_path / "renamed.jsonl"
    path.write_bytes(data)
    found = detect(data[:65536])
    assert found.format.keys == {"time": "when", "level": "sev", "message": "text",
                                 "exc": "crash"}
    store = open_store(StaticFileSource(str(path)), found.format)
    store.update(final=True)
    want = reference(store)
    assert_same(by_columns(store, 1 << 12), want, "renamed")
    records = [store.record(i) for i in range(len(store))]
    assert len(records) == 6000
    crashed = [r for r in records if r.exc]
    assert crashed and all("KeyError: 'missing" in r.exc for r in crashed)
    assert {r.level for r in records} == {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    # --print's direct scan finds the records by their level in the bytes
    env = {**os.environ, "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=ERROR", "-o", "jsonl"], capture_output=True, env=env,
                         check=True, timeout=60).stdout
    printed = [orjson.loads(line) for line in out.splitlines()]
    kept = [r for r in records if r.levelno >= logging.ERROR]
    assert [p["line"] for p in printed] == [r.line for r in kept]
    assert [p["message"] for p in printed] == [r.message for r in kept]
    assert all(p["level"] in ("ERROR", "CRITICAL") for p in printed)


def _indented_json_log(path, count: int) -> list[tuple[str, str]]:
    """python-json-logger with ``json_indent=2``: every record an object over many lines."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       json_indent=2))
    log = logging.getLogger("indented.svc")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    written = []
    for i in range(count):
        level = (logging.INFO, logging.WARNING, logging.ERROR, logging.DEBUG)[i % 4]
        if i % 41 == 9:
            log_key_error(log, f"k{i}", "lookup %d failed", i,
                          extra={"user": {"id": i, "tags": ["a"]}})
            level = logging.ERROR
        else:
            log.log(level, "step %d", i, extra={"n": i})
        written.append((logging.getLevelName(level), f"step {i}" if i % 41 != 9
                        else f"lookup {i} failed"))
    handler.close()
    return written


def test_pretty_printed_json_logs_are_detected_and_queried(tmp_path):
    """``json_indent`` (or ``jq .``): no line is an object, yet every record is one."""
    path = tmp_path / "indented.log"
    written = _indented_json_log(path, 3000)
    data = path.read_bytes()
    found = detect(data[:65536])
    assert type(found.format) is JsonFormat and not found.format.keys
    store = open_store(StaticFileSource(str(path)), found.format)
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    assert [(r.level, r.message) for r in records] == written
    assert all(r.logger == "indented.svc" and r.time is not None for r in records)
    failed = [r for r in records if "failed" in r.message]
    assert failed and all(r.exc.endswith(f"KeyError: 'k{r.message.split()[1]}'")
                          and r.fields["user"]["tags"] == ["a"] for r in failed)
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=ERROR", "-o", "jsonl"], capture_output=True, check=True,
                         timeout=60).stdout
    printed = [orjson.loads(line)["message"] for line in out.splitlines()]
    assert printed == [m for lv, m in written if lv == "ERROR"]


def test_a_text_log_holding_a_pretty_object_is_not_taken_for_json():
    lines = [f"2024-05-01 12:00:{i:02d},000 INFO app: step {i}" for i in range(40)]
    lines[10:10] = ["{", '  "config": 1', "}"]
    found = detect(("\n".join(lines) + "\n").encode())
    assert type(found.format) is not JsonFormat
