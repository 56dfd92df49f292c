"""Per-client protocol handlers of the listener: one stream connection, one datagram socket.

A stream connection is sniffed from its first bytes, then fed to the decoder of its protocol;
bad input closes it (counted, reported once). Datagrams are decoded one by one; a peer's bad
datagrams are reported once and then only counted.
"""

from __future__ import annotations

import asyncio
import socket
from collections import OrderedDict
from typing import Protocol

from logview.listen.datagram import decode_datagram
from logview.listen.errors import ListenError
from logview.listen.http import HttpDecoder
from logview.listen.sniff import sniff_stream
from logview.listen.stats import ListenerStats
from logview.listen.streams import (
    FrameDecoder,
    JsonLineDecoder,
    StreamDecoder,
    SyslogStreamDecoder,
    TextStreamDecoder,
)
from logview.listen.syslog_messages import SyslogMessages
from logview.record import Record

#: After this long without data, records waiting only for a terminator are emitted.
IDLE_FLUSH = 0.2
_SNIFF_BYTES = 64
_MAX_WARNED_PEERS = 4096


class ListenerHub(Protocol):
    """What the per-client handlers need of their listener, and nothing more.

    ``LogListener`` is the implementation; ``StreamConnection`` and ``DatagramReceiver`` see
    it only through this interface. Read-only members are properties here (plain attributes
    on the listener); ``refusing`` and ``unix_serial`` are written by the handlers.
    """

    refusing: bool  # refusing connections now: the refusal is reported once per episode
    unix_serial: int  # numbers unix stream clients (no peer address) in their source names

    @property
    def stats(self) -> ListenerStats:
        """The counters: connections, datagrams, idle closes, rejects by reason."""

    @property
    def syslog_messages(self) -> SyslogMessages:
        """Each syslog client's message format, learned from its first messages."""

    @property
    def max_frame(self) -> int:
        """The largest frame or datagram accepted, in bytes."""

    @property
    def max_connections(self) -> int:
        """How many stream connections may be open at once."""

    @property
    def idle_timeout(self) -> float:
        """Seconds before a connection that never delivered a record is closed."""

    @property
    def connections(self) -> set[StreamConnection]:
        """The open stream connections; each adds itself, and removes itself once closed."""

    def loop_time(self) -> float:
        """The event loop's clock (idle timing)."""

    def deliver(self, records: list[Record], source: str) -> None:
        """Stamp ``records`` with ``source`` and hand them to the sink."""

    def deliver_warning(self, source: str, text: str) -> None:
        """Report bad input or a refused client as a ``logview.listen`` WARNING record."""


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class PeerWarnings:
    """Datagram peers already warned about a bad datagram (bounded: the oldest is forgotten)."""

    def __init__(self) -> None:
        self.warned: OrderedDict[object, None] = OrderedDict()

    def warn_once(self, key: object) -> bool:
        if key in self.warned:
            return False
        self.warned[key] = None
        if len(self.warned) > _MAX_WARNED_PEERS:
            self.warned.popitem(last=False)
        return True


def _keep_alive(sock: socket.socket | None) -> None:
    """Probe a quiet TCP peer so a vanished one is noticed (about 2 min) and its slot freed."""
    if sock is None:
        return
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    for level, option, value in options:
        try:
            sock.setsockopt(level, option, value)
        except OSError:
            return  # not supported here: the connection limit still bounds dead peers


class StreamConnection(asyncio.Protocol):
    """One stream client: sniff, decode, deliver; closed on bad input or when idle.

    Only a connection that never delivered a record is closed for being idle: a logging client
    (``SocketHandler``) keeps its connection for its whole life, and the first record it sends
    on a connection the listener closed is lost without an error. Dead peers are found by TCP
    keepalive instead, and ``max_connections`` bounds the rest.
    """

    def __init__(self, listener: ListenerHub, kind: str, label: str) -> None:
        self.listener = listener
        self.kind = kind  # "tcp" or "unix"
        self.label = label  # the unix socket path
        self.transport: asyncio.Transport | None = None
        self.decoder: StreamDecoder | None = None
        self.head = bytearray()
        self.source = ""
        self.delivered = False  # a record came: a real client, never closed for idling
        self.closed = False
        self.last = 0.0
        self.idled = True

    # -- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        listener = self.listener
        self.transport = transport  # type: ignore[assignment]
        stats = listener.stats
        self.last = listener.loop_time()
        if self.kind == "tcp":
            peer = transport.get_extra_info("peername") or ("?", 0)
            self.source = f"tcp:{_host_text(peer[0])}:{peer[1]}"
            self.peer_host = peer[0]
        else:
            listener.unix_serial += 1
            self.source = f"unix:{self.label}#{listener.unix_serial}"
            self.peer_host = self.label
        if stats.connections_open >= listener.max_connections:
            stats.reject("too many connections")
            self.closed = True
            if not listener.refusing:
                listener.refusing = True
                listener.deliver_warning(
                    self.source, f"refused a connection from {self.source}: "
                    f"{listener.max_connections} connections are open (the limit)")
            transport.abort()
            return
        listener.refusing = False
        if self.kind == "tcp":
            _keep_alive(transport.get_extra_info("socket"))
        stats.connections_open += 1
        stats.connections_total += 1
        listener.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last = self.listener.loop_time()
        self.idled = False
        out: list[Record] = []
        try:
            if self.decoder is None:
                self.head += data
                kind = sniff_stream(bytes(self.head[:_SNIFF_BYTES]), self.listener.max_frame)
                if kind is None:
                    if len(self.head) < _SNIFF_BYTES:
                        return
                    kind = "text"
                self._start(kind)
                data, self.head = bytes(self.head), bytearray()
            assert self.decoder is not None
            self.decoder.feed(data, out)
        except ListenError as exc:
            self._deliver(out)
            self.fail(exc)
            return
        self._deliver(out)
        if getattr(self.decoder, "wants_close", False) and self.transport is not None:
            self.transport.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.finish()

    # -- helpers

    def _start(self, kind: str) -> None:
        max_frame = self.listener.max_frame
        if kind == "frames":
            self.decoder = FrameDecoder(max_frame)
        elif kind == "jsonl":
            self.decoder = JsonLineDecoder(max_frame)
        elif kind == "syslog":
            messages, client = self.listener.syslog_messages, self.source
            self.decoder = SyslogStreamDecoder(max_frame, lambda r: messages.read(r, client))
        elif kind == "http":
            assert self.transport is not None
            self.decoder = HttpDecoder(max_frame, self.transport.write)
            if self.kind == "tcp":  # HTTPHandler opens a connection per record: one source
                self.source = f"http:{_host_text(self.peer_host)}"
        else:
            self.decoder = TextStreamDecoder(max_frame)

    def _deliver(self, records: list[Record]) -> None:
        if not records:
            return
        self.delivered = True
        self.listener.deliver(records, self.source)

    def idle(self, now: float) -> None:
        """Called on the listener's tick: flush waiting records, close when idle too long."""
        if self.closed:
            return
        quiet = now - self.last
        if not self.idled and quiet >= IDLE_FLUSH:
            self.idled = True
            out: list[Record] = []
            try:
                if self.decoder is None and self.head:
                    self._start("text")
                    data, self.head = bytes(self.head), bytearray()
                    self.decoder.feed(data, out)  # type: ignore[union-attr]
                if self.decoder is not None:
                    self.decoder.idle(out)
            except ListenError as exc:
                self._deliver(out)
                self.fail(exc)
                return
            self._deliver(out)
        if quiet >= self.listener.idle_timeout and not self.delivered:
            self.listener.stats.idle_closed += 1
            self.finish()
            if self.transport is not None:
                self.transport.close()

    def fail(self, exc: ListenError) -> None:
        """Close on bad input: count it, say it once through the sink."""
        listener = self.listener
        listener.stats.reject(exc.reason)
        listener.deliver_warning(self.source, f"{self.source}: {exc.detail}; connection closed")
        self._drop()
        if self.transport is not None:
            self.transport.close()

    def finish(self) -> None:
        """End of input: the decoder's last records (or the report of a half frame)."""
        if self.closed:
            return
        out: list[Record] = []
        try:
            if self.decoder is None and self.head.strip():
                self._start("text")
                data, self.head = bytes(self.head), bytearray()
                self.decoder.feed(data, out)  # type: ignore[union-attr]
            if self.decoder is not None:
                self.decoder.close(out)
        except ListenError as exc:
            self._deliver(out)
            self.fail(exc)
            return
        self._deliver(out)
        self._drop()

    def _drop(self) -> None:
        if not self.closed:
            self.closed = True
            self.listener.stats.connections_open -= 1
            self.listener.connections.discard(self)


class DatagramReceiver(asyncio.DatagramProtocol):
    """UDP or unix datagrams: each one decoded on its own."""

    def __init__(self, listener: ListenerHub, kind: str, label: str) -> None:
        self.listener = listener
        self.kind = kind
        self.label = label
        self.peers = PeerWarnings()

    def datagram_received(self, data: bytes, addr: object) -> None:
        listener = self.listener
        listener.stats.datagrams += 1
        if self.kind == "udp" and isinstance(addr, tuple):
            key: object = (addr[0], addr[1])
            source = f"udp:{_host_text(addr[0])}:{addr[1]}"
        else:
            key = addr or self.label
            source = f"unixgram:{self.label}"
        try:
            if len(data) > listener.max_frame + 4:
                raise ListenError("frame too large", f"a datagram of {len(data)} bytes; the "
                                  f"limit is {listener.max_frame}")
            messages = listener.syslog_messages
            records = decode_datagram(data, listener.max_frame,
                                      lambda r: messages.read(r, source))
        except ListenError as exc:
            listener.stats.reject(exc.reason)
            if self.peers.warn_once(key):
                listener.deliver_warning(source, f"{source}: {exc.detail}; datagram dropped "
                                         "(further bad datagrams from it are only counted)")
            return
        listener.deliver(records, source)

    def error_received(self, exc: Exception) -> None:
        self.listener.stats.reject("socket error")
