"""Hostile input: each bad client is closed and counted while a good client loses nothing."""

from __future__ import annotations

import logging
import logging.handlers
import os
import pickle
import random
import socket
import struct
import threading

import pytest
from listen_helpers import make_logger, port_of, start_listener


class RunsACommand:
    """Unpickling this with ``pickle.loads`` would run a shell command."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def _memo_bomb() -> bytes:
    # EMPTY_DICT, LONG_BINPUT at index 0xFFFFFFF0 (C unpickler would grow its memo to it)
    return b"\x80\x02}r\xf0\xff\xff\xff."


def _deep_nesting(depth: int = 5000) -> bytes:
    return b"\x80\x02" + b"(" * depth + b"l" * depth + b"."


def _random_bytes() -> bytes:
    return random.Random(1234).randbytes(8192)


def _send_and_wait_closed(port: int, data: bytes) -> bytes:
    """Send ``data``; return what the listener sent back before it closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
        return received


CASES = {
    "command": lambda tmp: _frame(pickle.dumps(RunsACommand(str(tmp / "pwned")), protocol=2)),
    "command-in-dict": lambda tmp: _frame(
        pickle.dumps({"msg": "x", "evil": RunsACommand(str(tmp / "pwned"))}, protocol=1)),
    "memo bomb": lambda tmp: _frame(_memo_bomb()),
    "huge length": lambda tmp: b"\xff\xff\xff\xff" + b"}" * 16,
    "deep nesting": lambda tmp: _frame(_deep_nesting()),
    "random bytes": lambda tmp: _random_bytes(),
    "half frame": lambda tmp: struct.pack(">I", 500) + b"}q\x00" + b"x" * 20,
    "not a dict": lambda tmp: _frame(pickle.dumps([1, 2, 3])),
    "bad http": lambda tmp: b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 3000 + b"\r\n",
}
REASONS = {
    "command": "unsafe pickle", "command-in-dict": "unsafe pickle",
    "memo bomb": "unsafe pickle", "huge length": "frame too large",
    "deep nesting": "unsafe pickle", "half frame": "truncated frame",
    "not a dict": "not a log record", "bad http": "http bad request",
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_client_is_closed_counted_and_costs_no_other_records(listening, waiter, tmp_path,
                                                                  case):
    listener, sink = listening
    port = port_of(listener)
    handler = logging.handlers.SocketHandler("127.0.0.1", port)
    log = make_logger("good.client", handler)
    sent = threading.Event()

    def good_client() -> None:
        for i in range(300):
            log.info("record %d", i, extra={"seq": i})
        sent.set()

    thread = threading.Thread(target=good_client)
    thread.start()
    reply = _send_and_wait_closed(port, CASES[case](tmp_path))
    thread.join()
    waiter(lambda: len(sink.where(logger="good.client")) == 300)
    handler.close()
    assert [r.fields["seq"] for r in sink.where(logger="good.client")] == list(range(300))
    assert not (tmp_path / "pwned").exists()
    waiter(lambda: listener.stats.rejected_total == 1)
    if case in REASONS:
        assert listener.stats.rejected == {REASONS[case]: 1}
    warnings = sink.where(logger="logview.listen")
    assert len(warnings) == 1, [w.message for w in warnings]
    assert warnings[0].level == "WARNING" and "connection closed" in warnings[0].message
    if case == "bad http":
        assert reply.startswith(b"HTTP/1.1 431")
    waiter(lambda: listener.stats.connections_open <= 1)


def test_hostile_datagrams_are_dropped_and_reported_once(listening, waiter, tmp_path):
    listener, sink = listening
    port = port_of(listener)
    bad = [_frame(pickle.dumps(RunsACommand(str(tmp_path / "pwned")), protocol=2)),
           _frame(_memo_bomb()), _frame(_deep_nesting(500)), _random_bytes()[:1000]]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for data in bad:
            sock.sendto(data, ("127.0.0.1", port))
        sock.sendto(_frame(pickle.dumps({"msg": "fine", "name": "udp.good", "levelno": 20,
                                         "levelname": "INFO"}, 1)), ("127.0.0.1", port))
    waiter(lambda: sink.where(logger="udp.good"))
    waiter(lambda: listener.stats.rejected_total == len(bad))
    assert not (tmp_path / "pwned").exists()
    assert len(sink.where(logger="logview.listen")) == 1


def test_connection_limit_refuses_extra_clients(waiter):
    listener, sink = start_listener(max_connections=2)
    try:
        port = port_of(listener)
        keep = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        waiter(lambda: listener.stats.connections_open == 2)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            assert extra.recv(10) == b""  # closed by the listener
        except ConnectionResetError:
            pass
        waiter(lambda: listener.stats.rejected.get("too many connections") == 1)
        assert len(sink.where(logger="logview.listen")) == 1
        for sock in keep + [extra]:
            sock.close()
    finally:
        listener.stop()


def test_idle_connections_are_closed(waiter):
    listener, _ = start_listener(idle_timeout=0.3)
    try:
        with socket.create_connection(("127.0.0.1", port_of(listener)), timeout=5) as sock:
            waiter(lambda: listener.stats.connections_open == 1)
            assert sock.recv(10) == b""
        waiter(lambda: listener.stats.idle_closed == 1 and listener.stats.connections_open == 0)
    finally:
        listener.stop()
