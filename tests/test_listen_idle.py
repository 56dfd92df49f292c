"""Idle connections: a quiet logging client keeps its connection; a silent stranger does not.

``SocketHandler`` writes into its connection without reading: if the listener closed it while
the application was quiet, the next record would vanish without an error.
"""

from __future__ import annotations

import logging.handlers
import socket
import time

from listen_helpers import make_logger, port_of, start_listener


def test_a_quiet_socket_handler_keeps_its_connection_and_loses_nothing(waiter):
    listener, sink = start_listener(idle_timeout=0.2)
    try:
        handler = logging.handlers.SocketHandler("127.0.0.1", port_of(listener))
        log = make_logger("idle.app", handler)
        log.info("one")
        waiter(lambda: sink.messages(logger="idle.app") == ["one"])
        # A silent connection opened after the client goes through the same ticks: once the
        # listener has closed it for idling, the client has been quiet longer than the timeout.
        with socket.create_connection(("127.0.0.1", port_of(listener)), timeout=5) as probe:
            assert probe.recv(10) == b""
        assert listener.stats.idle_closed == 1
        started = time.monotonic()
        log.info("two")
        log.info("three")
        handler.close()
        waiter(lambda: sink.messages(logger="idle.app") == ["one", "two", "three"])
        assert time.monotonic() - started < 5
        assert sink.where(logger="logview.listen") == []
    finally:
        listener.stop()


def test_accepted_tcp_connections_use_keepalive(waiter):
    listener, _ = start_listener()
    try:
        with socket.create_connection(("127.0.0.1", port_of(listener)), timeout=5):
            waiter(lambda: listener.connections)
            (conn,) = list(listener.connections)
            sock = conn.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        listener.stop()
