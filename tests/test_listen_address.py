"""--listen address parsing and binding: loopback by default, clear errors, a warning otherwise."""

from __future__ import annotations

import socket

import pytest
from listen_helpers import Collected, port_of, start_listener

from logview.listen import ListenAddress, LogListener, parse_listen_address


@pytest.mark.parametrize("text, expected", [
    ("9020", ListenAddress("tcp+udp", "127.0.0.1", 9020, None)),
    ("0.0.0.0:9020", ListenAddress("tcp+udp", "0.0.0.0", 9020, None)),
    (":9020", ListenAddress("tcp+udp", "127.0.0.1", 9020, None)),
    ("[::1]:9020", ListenAddress("tcp+udp", "::1", 9020, None)),
    ("unix:/tmp/x.sock", ListenAddress("unix", "", None, "/tmp/x.sock")),
    ("unixgram:/tmp/x.dgram", ListenAddress("unixgram", "", None, "/tmp/x.dgram")),
])
def test_parse_listen_address(text, expected):
    assert parse_listen_address(text) == expected


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("abc", "number"), ("70000", "out of range"), ("::1:9020", "[ADDRESS]"),
    ("unix:", "socket path"), ("host:", "number"),
])
def test_bad_addresses_say_what_is_expected(text, words):
    with pytest.raises(ValueError, match=words):
        parse_listen_address(text)


def test_bare_port_binds_loopback_tcp_and_udp_without_warning():
    listener, _ = start_listener("0")
    try:
        kinds = {b[0] for b in listener.bound}
        assert kinds == {"tcp", "udp"}
        assert all(b[1] == "127.0.0.1" for b in listener.bound)
        assert listener.warnings == []
    finally:
        listener.stop()


def test_non_loopback_address_warns():
    listener, _ = start_listener("0.0.0.0:0")
    try:
        port = port_of(listener)
        assert listener.warnings == [
            (f"listening on 0.0.0.0:{port}: anyone who can reach this port "
            "can inject log records")]
    finally:
        listener.stop()


def test_port_in_use_is_a_clear_oserror():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listener = LogListener([parse_listen_address(str(port))], Collected())
        with pytest.raises(OSError, match=f"port {port} is already in use"):
            listener.start()


def test_unix_socket_refuses_a_regular_file_and_replaces_a_stale_socket(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("keep me")
    with pytest.raises(OSError, match="not a socket"):
        LogListener([parse_listen_address(f"unix:{regular}")], Collected()).start()
    assert regular.read_text() == "keep me"
    stale = tmp_path / "stale.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(stale))
    sock.close()  # the file stays, nobody listens
    listener = LogListener([parse_listen_address(f"unix:{stale}")], Collected())
    listener.start()
    try:
        assert listener.bound == [("unix", str(stale))]
    finally:
        listener.stop()
    assert not stale.exists()
