"""The listener fed by Python's own logging handlers over real sockets."""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import time

import pytest
from listen_helpers import make_logger, port_of, start_listener


def test_socket_handler_record_with_exception_and_extra(listening, waiter):
    listener, sink = listening
    handler = logging.handlers.SocketHandler("127.0.0.1", port_of(listener))
    log = make_logger("app.sock", handler)
    try:
        log.info("hello %s #%d", "world", 3, extra={"user": "bob", "n": 7})
        try:
            {}["missing"]
        except KeyError:
            log.exception("lookup failed")
        waiter(lambda: len(sink.where(logger="app.sock")) == 2)
    finally:
        handler.close()
    first, second = sink.where(logger="app.sock")
    assert first.message == "hello world #3"
    assert (first.level, first.levelno) == ("INFO", 20)
    assert first.fields["user"] == "bob" and first.fields["n"] == 7
    assert first.fields["funcName"] == "test_socket_handler_record_with_exception_and_extra"
    assert first.source.startswith("tcp:127.0.0.1:") and first.source.endswith(f"(pid {os.getpid()})")
    assert abs(first.time.timestamp() - time.time()) < 60
    assert second.level == "ERROR" and second.message == "lookup failed"
    assert second.exc.startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in second.exc
    assert listener.stats.records == 2 and listener.stats.rejected == {}


def test_socket_handler_stack_info_goes_to_exc(listening, waiter):
    listener, sink = listening
    handler = logging.handlers.SocketHandler("127.0.0.1", port_of(listener))
    log = make_logger("app.stack", handler)
    log.warning("where am I", stack_info=True)
    waiter(lambda: sink.where(logger="app.stack"))
    handler.close()
    record = sink.where(logger="app.stack")[0]
    assert record.exc.startswith("Stack (most recent call last):")


def test_datagram_handler(listening, waiter):
    listener, sink = listening
    handler = logging.handlers.DatagramHandler("127.0.0.1", port_of(listener))
    log = make_logger("app.udp", handler)
    for i in range(5):
        log.warning("datagram %d", i)
    waiter(lambda: len(sink.where(logger="app.udp")) == 5)
    handler.close()
    records = sink.where(logger="app.udp")
    assert sorted(r.message for r in records) == [f"datagram {i}" for i in range(5)]
    assert records[0].source.startswith("udp:127.0.0.1:")
    assert listener.stats.datagrams >= 5


@pytest.mark.parametrize("socktype", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
def test_syslog_handler_over_udp_and_tcp(listening, waiter, socktype):
    listener, sink = listening
    handler = logging.handlers.SysLogHandler(
        ("127.0.0.1", port_of(listener)), facility="local3", socktype=socktype)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    log = make_logger("app.syslog", handler)
    log.error("disk %s is full", "/var")
    log.debug("second line\nwith a newline inside")
    waiter(lambda: len(sink.records) == 2)
    handler.close()
    error, debug = sorted(sink.records, key=lambda r: -r.levelno)
    assert "disk /var is full" in error.message
    assert (error.level, error.levelno) == ("ERROR", 40)
    assert debug.levelno == 10 and "with a newline inside" in debug.message
    assert error.source.split(":")[0] == ("udp" if socktype == socket.SOCK_DGRAM else "tcp")


def test_syslog_handler_over_a_unix_socket(tmp_path, waiter):
    path = str(tmp_path / "log.sock")
    listener, sink = start_listener(f"unix:{path}")
    try:
        handler = logging.handlers.SysLogHandler(address=path)
        log = make_logger("app.unix", handler)
        log.critical("over unix")
        waiter(lambda: sink.records)
        handler.close()
        assert sink.records[0].message.endswith("over unix")
        assert sink.records[0].levelno == 50
        assert sink.records[0].source.startswith(f"unix:{path}")
    finally:
        listener.stop()


def test_unix_datagram_socket_with_datagram_handler(tmp_path, waiter):
    path = str(tmp_path / "log.dgram")
    listener, sink = start_listener(f"unixgram:{path}")
    try:
        handler = logging.handlers.SysLogHandler(address=path)  # tries datagrams first
        log = make_logger("app.unixgram", handler)
        log.info("datagram over unix")
        waiter(lambda: sink.records)
        handler.close()
        assert sink.records[0].message.endswith("datagram over unix")
        assert sink.records[0].source == f"unixgram:{path}"
    finally:
        listener.stop()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_http_handler(listening, waiter, method):
    listener, sink = listening
    handler = logging.handlers.HTTPHandler(f"127.0.0.1:{port_of(listener)}", "/log",
                                           method=method)
    log = make_logger("app.http", handler)
    log.warning("over %s: %d%%", method, 50, extra={"tenant": "acme"})
    log.info("second")
    waiter(lambda: len(sink.where(logger="app.http")) == 2)
    handler.close()
    first = sink.where(logger="app.http")[0]
    assert first.message == f"over {method}: 50%"
    assert first.levelno == 30
    assert first.fields["tenant"] == "acme"
    assert first.source == f"http:127.0.0.1 (pid {os.getpid()})"
    assert abs(first.time.timestamp() - time.time()) < 60
    assert listener.stats.rejected == {}


def test_socket_handler_over_a_unix_stream_socket(tmp_path, waiter):
    path = str(tmp_path / "pickles.sock")
    listener, sink = start_listener(f"unix:{path}")
    try:
        handler = logging.handlers.SocketHandler(path, None)  # port None: a unix socket
        log = make_logger("app.unixpickle", handler)
        for i in range(50):
            log.info("unix %d", i)
        waiter(lambda: len(sink.records) == 50)
        handler.close()
        assert [r.message for r in sink.records] == [f"unix {i}" for i in range(50)]
        assert sink.records[0].source == f"unix:{path}#1 (pid {os.getpid()})"
    finally:
        listener.stop()


def test_a_failing_sink_is_counted_and_does_not_stop_the_listener(waiter):
    from logview.listen import LogListener, parse_listen_address

    seen = []

    def sink(record):
        seen.append(record)
        if len(seen) == 1:
            raise OSError("disk full")

    listener = LogListener([parse_listen_address("0")], sink)
    listener.start()
    try:
        handler = logging.handlers.SocketHandler("127.0.0.1", port_of(listener))
        log = make_logger("app.sinkfail", handler)
        log.info("one")
        log.info("two")
        waiter(lambda: len(seen) == 2)
        handler.close()
        assert listener.stats.sink_errors == 1
        assert "disk full" in listener.sink_error
    finally:
        listener.stop()
