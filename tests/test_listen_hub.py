"""The per-client handlers see their listener only through ``ListenerHub``."""

from __future__ import annotations

import ast
import inspect

from logview.listen import ListenerStats, LogListener, connection, parse_listen_address
from logview.listen.connection import DatagramReceiver, ListenerHub, StreamConnection
from logview.listen.syslog_messages import SyslogMessages
from logview.record import Record

HUB_MEMBERS = {"stats", "max_frame", "max_connections", "idle_timeout", "connections",
               "refusing", "unix_serial", "loop_time", "deliver", "deliver_warning",
               "syslog_messages"}


def _hub_members() -> set[str]:
    names = set(ListenerHub.__annotations__)
    names |= {name for name, value in vars(ListenerHub).items()
              if not name.startswith("_") and (callable(value) or isinstance(value, property))}
    return names


def test_connection_module_does_not_import_the_server():
    tree = ast.parse(inspect.getsource(connection))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert not any(name and name.startswith("logview.listen.server") for name in imported)


def test_the_hub_has_just_the_members_the_handlers_use():
    assert _hub_members() == HUB_MEMBERS


def test_log_listener_provides_every_hub_member():
    listener = LogListener([parse_listen_address("127.0.0.1:0")], lambda record: None)
    missing = {name for name in _hub_members() if not hasattr(listener, name)}
    assert not missing


class FakeHub:
    """Only the hub's members (slots: touching anything else fails)."""

    __slots__ = (
        "connections",
        "delivered",
        "idle_timeout",
        "max_connections",
        "max_frame",
        "refusing",
        "stats",
        "syslog_messages",
        "unix_serial",
        "warnings",
    )

    def __init__(self) -> None:
        self.stats = ListenerStats()
        self.max_frame = 1 << 16
        self.max_connections = 1
        self.idle_timeout = 300.0
        self.connections: set[StreamConnection] = set()
        self.refusing = False
        self.unix_serial = 0
        self.syslog_messages = SyslogMessages()
        self.delivered: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def loop_time(self) -> float:
        return 0.0

    def deliver(self, records: list[Record], source: str) -> None:
        self.delivered += [(source, record.message) for record in records]

    def deliver_warning(self, source: str, text: str) -> None:
        self.warnings.append(text)


class FakeTransport:
    def __init__(self) -> None:
        self.aborted = self.closed = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True

    def write(self, data: bytes) -> None:
        pass


def test_datagram_receiver_runs_on_just_the_hub():
    hub = FakeHub()
    receiver = DatagramReceiver(hub, "udp", "")
    receiver.datagram_received(b'{"message": "hi", "name": "app"}', ("127.0.0.1", 5000))
    receiver.datagram_received(b"x" * (hub.max_frame + 10), ("127.0.0.1", 5000))
    assert hub.delivered == [("udp:127.0.0.1:5000", "hi")]
    assert hub.stats.datagrams == 2 and hub.stats.rejected == {"frame too large": 1}
    assert len(hub.warnings) == 1


def test_stream_connection_runs_on_just_the_hub():
    hub = FakeHub()
    first = StreamConnection(hub, "unix", "/tmp/s")
    first.connection_made(FakeTransport())  # type: ignore[arg-type]
    assert hub.connections == {first} and hub.unix_serial == 1
    first.data_received(b"a line of text\n")
    refused = StreamConnection(hub, "unix", "/tmp/s")
    transport = FakeTransport()
    refused.connection_made(transport)  # type: ignore[arg-type]
    assert transport.aborted and hub.refusing and len(hub.warnings) == 1
    first.connection_lost(None)
    assert hub.connections == set() and hub.stats.connections_open == 0
    assert hub.delivered == [("unix:/tmp/s#1", "a line of text")]
