"""A text-stream client that sends a line, waits, then sends more: its later lines are read
with a format detected on everything it sent, not on the lone first line."""

from __future__ import annotations

import socket

from listen_helpers import port_of

from logview.listen.streams import TextStreamDecoder

MESSAGES = ("user alice logged in", "cache miss for key users:42", "GET /api/items 200 in 12 ms",
            "retrying in 5 s", "connection refused by db-1", "shutting down")
LEVELS = ("INFO", "DEBUG", "WARNING", "INFO", "ERROR", "CRITICAL")


def dash_line(i: int) -> bytes:
    return f"2024-01-02 03:04:{i:02d},678 - app.db - {LEVELS[i]} - {MESSAGES[i]}\n".encode()


def test_a_client_that_pauses_after_its_first_line(listening, waiter):
    listener, sink = listening
    with socket.create_connection(("127.0.0.1", port_of(listener))) as sock:
        sock.sendall(dash_line(0))
        waiter(lambda: sink.records, timeout=5)  # delivered while the client waits
        assert MESSAGES[0] in sink.records[0].raw
        sock.sendall(b"".join(dash_line(i) for i in range(1, 6)))
        waiter(lambda: len(sink.records) == 6, timeout=5)
    later = sink.records[1:]
    assert [(r.level, r.message) for r in later] == list(zip(LEVELS[1:], MESSAGES[1:]))
    assert all(r.logger == "app.db" for r in later)


def test_decoder_keeps_detecting_until_it_has_enough_lines():
    decoder = TextStreamDecoder(max_frame=1 << 20)
    out: list = []
    decoder.feed(b"starting up\n", out)
    assert out == []  # held for detection
    decoder.idle(out)  # the client went quiet: deliver anyway
    assert [r.message for r in out] == ["starting up"]
    decoder.feed(b"".join(dash_line(i) for i in range(5)), out)
    decoder.idle(out)
    assert [(r.level, r.message) for r in out[1:]] == list(zip(LEVELS[:5], MESSAGES[:5]))
    # Enough lines now: detection is final and records flow without waiting for quiet.
    decoder.feed(b"".join(dash_line(i % 6) for i in range(30)), out)
    assert len(out) > 6 + 20 and {r.logger for r in out[6:]} == {"app.db"}
    decoder.close(out)
    assert len(out) == 6 + 30


def test_decoder_delivers_a_half_line_only_at_close():
    decoder = TextStreamDecoder(max_frame=1 << 20)
    out: list = []
    decoder.feed(dash_line(0) + b"2024-01-02 03:04:09,000 - app.db - ERR", out)
    decoder.idle(out)
    assert len(out) == 1 and out[0].raw == dash_line(0).decode().rstrip("\n")  # whole lines only
    decoder.feed(b"OR - cut short", out)
    decoder.close(out)
    assert len(out) == 2 and out[1].raw.endswith("ERROR - cut short")
