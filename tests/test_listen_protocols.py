"""Raw clients on real sockets: JSON lines, JSON frames, GELF, octet-counted syslog, text."""

from __future__ import annotations

import gzip
import json
import re
import socket
import struct
import zlib

import pytest
from listen_helpers import port_of


def _send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)


def test_json_lines_over_tcp(listening, waiter):
    listener, sink = listening
    lines = [
        {"timestamp": "2024-05-01T10:00:00Z", "level": "warning", "logger": "svc",
         "message": "first", "user": "ann"},
        {"time": 1714557600.5, "levelname": "ERROR", "name": "svc", "msg": "second"},
    ]
    _send_tcp(port_of(listener), b"".join(json.dumps(x).encode() + b"\n" for x in lines)
              + b'{"message": "no newline at the end", "level": "info"}')
    waiter(lambda: len(sink.records) == 3)
    first, second, third = sink.records
    assert (first.message, first.level, first.logger) == ("first", "WARNING", "svc")
    assert first.fields["user"] == "ann"
    assert first.time.year == 2024
    assert second.level == "ERROR" and second.message == "second"
    assert third.message == "no newline at the end"
    assert re.fullmatch(r"tcp:127\.0\.0\.1:\d+", first.source)  # no process: the client


def test_json_lines_with_a_senders_own_keys(listening, waiter):
    """python-json-logger with its fields renamed, writing to the socket: the keys are read
    from the first objects' values, as for a file."""
    import logging

    from pythonjsonlogger.json import JsonFormatter

    listener, sink = listening
    with socket.create_connection(("127.0.0.1", port_of(listener))) as sock:
        stream = sock.makefile("w", encoding="utf-8")
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(message)s",
            rename_fields={"asctime": "when", "levelname": "sev", "message": "text"}))
        log = logging.Logger("sender")  # noqa: LOG001 - private, not in the global registry
        log.addHandler(handler)
        for i in range(30):
            log.log((logging.INFO, logging.WARNING, logging.ERROR)[i % 3], "event %d", i)
        handler.flush()
        stream.close()
    waiter(lambda: len(sink.records) == 30)
    assert [r.level for r in sink.records] == ["INFO", "WARNING", "ERROR"] * 10
    assert [r.message for r in sink.records] == [f"event {i}" for i in range(30)]
    assert all("sev" not in r.fields and "text" not in r.fields for r in sink.records)


def test_json_access_lines_take_their_status_s_level(listening, waiter):
    """Access lines as JSON (nginx's ``escape=json`` objects sent by a shipper): no level
    key, an HTTP status in each: the level is the status's, as for a file."""
    listener, sink = listening
    statuses = [200, 404, 502, 200, 500, 301] * 4
    _send_tcp(port_of(listener), b"".join(json.dumps(
        {"time": "2026-12-02T10:00:00+00:00", "remote_addr": "10.0.0.1",
         "request": f"GET /item/{i} HTTP/1.1", "status": status,
         "http_user_agent": "curl/8"}).encode() + b"\n" for i, status in enumerate(statuses)))
    waiter(lambda: len(sink.records) == len(statuses))
    # (the first object is read before any is known: the keys come from the first few)
    assert [r.level for r in sink.records[1:]] == [
        "ERROR" if s >= 500 else "WARNING" if s >= 400 else "INFO" for s in statuses[1:]]
    assert sink.records[-1].message == f"GET /item/{len(statuses) - 1} HTTP/1.1"


def test_length_prefixed_json_frames(listening, waiter):
    listener, sink = listening
    frames = b""
    for i in range(3):
        body = json.dumps({"message": f"frame {i}", "level": "INFO", "seq": i}).encode()
        frames += struct.pack(">I", len(body)) + body
    _send_tcp(port_of(listener), frames)
    waiter(lambda: len(sink.records) == 3)
    assert [r.message for r in sink.records] == ["frame 0", "frame 1", "frame 2"]
    assert [r.fields["seq"] for r in sink.records] == [0, 1, 2]


@pytest.mark.parametrize("compress", [zlib.compress, gzip.compress, lambda b: b])
def test_gelf_over_udp(listening, waiter, compress):
    listener, sink = listening
    gelf = {"version": "1.1", "host": "web1", "short_message": "gelf says hi",
            "full_message": "gelf says hi\nmore", "timestamp": 1714557600.25, "level": 3,
            "_request_id": "r-1"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(compress(json.dumps(gelf).encode()), ("127.0.0.1", port_of(listener)))
    waiter(lambda: sink.records)
    record = sink.records[0]
    assert record.message.startswith("gelf says hi")
    assert record.levelno == 40
    assert record.time.year == 2024
    assert listener.stats.rejected == {}


def test_chunked_gelf_is_counted_and_reported_once(listening, waiter):
    listener, sink = listening
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(3):
            sock.sendto(b"\x1e\x0f" + b"12345678" + b"\x00\x02" + b"{}",
                        ("127.0.0.1", port_of(listener)))
    waiter(lambda: listener.stats.rejected.get("chunked gelf") == 3)
    warnings = sink.where(logger="logview.listen")
    assert len(warnings) == 1 and "chunked GELF" in warnings[0].message
    assert warnings[0].level == "WARNING"


def test_syslog_octet_counting_and_rfc5424(listening, waiter):
    listener, sink = listening
    messages = [
        b"<165>1 2024-05-01T10:00:00.000Z host app 42 ID7 - an RFC 5424 message",
        b"<13>May  1 10:00:00 host app[7]: a BSD message",
    ]
    _send_tcp(port_of(listener), b"".join(b"%d %s" % (len(m), m) for m in messages))
    waiter(lambda: len(sink.records) == 2)
    first, second = sink.records
    assert "an RFC 5424 message" in first.message and first.levelno == 25  # notice
    assert "a BSD message" in second.message and second.levelno == 25


def test_syslog_without_separators_splits_on_pri(listening, waiter):
    listener, sink = listening
    _send_tcp(port_of(listener), b"<11>first message<14>second message")
    waiter(lambda: len(sink.records) == 2)
    assert [r.levelno for r in sink.records] == [40, 20]
    assert sink.records[1].message.endswith("second message")


def test_plain_text_lines_keep_tracebacks_together(listening, waiter):
    listener, sink = listening
    text = (b"starting up\n"
            b"Traceback (most recent call last):\n"
            b'  File "x.py", line 1, in <module>\n'
            b"ValueError: bad\n"
            b"done\n")
    _send_tcp(port_of(listener), text)
    waiter(lambda: len(sink.records) == 2)
    first, second = sink.records
    assert first.message == "starting up" and "ValueError: bad" in first.exc
    assert second.message == "done"
    assert first.source.startswith("tcp:127.0.0.1:")


def test_plain_text_record_shows_up_while_the_client_stays_connected(listening, waiter):
    listener, sink = listening
    with socket.create_connection(("127.0.0.1", port_of(listener))) as sock:
        sock.sendall(b"a lone line\n")
        waiter(lambda: sink.records, timeout=3)
        assert sink.records[0].message == "a lone line"


def test_text_stream_format_is_detected_from_its_first_lines(listening, waiter):
    listener, sink = listening
    lines = b"".join(
        b"2024-05-01 10:00:0%d,123 %s [worker] job %d done\n" % (i, level, i)
        for i, level in enumerate([b"INFO", b"ERROR", b"WARNING", b"DEBUG"]))
    _send_tcp(port_of(listener), lines)
    waiter(lambda: len(sink.records) == 4)
    assert [r.level for r in sink.records] == ["INFO", "ERROR", "WARNING", "DEBUG"]
    assert sink.records[1].time.year == 2024
