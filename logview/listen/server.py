"""``--listen``: receive records from Python's logging handlers over TCP, UDP and unix sockets.

A background thread runs an asyncio loop. Each stream connection is sniffed from its first
bytes (``sniff``) and handed to the matching decoder (pickle frames, JSON, syslog, HTTP, text);
each datagram is decoded on its own. Every record goes straight to ``sink`` from the listener
thread, stamped with its client (``tcp:127.0.0.1:53422 (app)`` once the first logger name is
known). Bad input closes only its own connection (or drops its datagram), is counted in
``stats.rejected`` by reason and reported once per client as a ``logview.listen`` WARNING
record through the same sink. Connections, buffers and idle time are bounded.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

from logview.listen.address import ListenAddress
from logview.listen.datagram import decode_datagram
from logview.listen.decode import LISTENER_LOGGER, listener_warning
from logview.listen.errors import ListenError
from logview.listen.http import HttpDecoder
from logview.listen.sniff import sniff_stream
from logview.listen.streams import (
    FrameDecoder,
    JsonLineDecoder,
    StreamDecoder,
    SyslogStreamDecoder,
    TextStreamDecoder,
)
from logview.record import Record

#: After this long without data, records waiting only for a terminator are emitted.
IDLE_FLUSH = 0.2
_TICK = 0.1
_SNIFF_BYTES = 64
_UDP_RCVBUF = 4 << 20
_MAX_NAMED_PEERS = 4096


@dataclass(slots=True)
class ListenerStats:
    """Counters of the listener (updated on its thread; read them from anywhere)."""

    connections_open: int = 0
    connections_total: int = 0
    records: int = 0
    datagrams: int = 0
    idle_closed: int = 0
    sink_errors: int = 0
    #: Closed connections and dropped datagrams by reason (``"frame too large"``, ...).
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _PeerNames:
    """Source names per datagram peer (bounded), learning the first logger seen."""

    def __init__(self) -> None:
        self._names: OrderedDict[object, tuple[str, bool]] = OrderedDict()
        self.warned: OrderedDict[object, None] = OrderedDict()

    def get(self, key: object, base: str) -> tuple[str, bool]:
        hit = self._names.get(key)
        if hit is None:
            hit = (base, False)
            self._names[key] = hit
            if len(self._names) > _MAX_NAMED_PEERS:
                self._names.popitem(last=False)
        return hit

    def name(self, key: object, source: str) -> None:
        self._names[key] = (source, True)

    def warn_once(self, key: object) -> bool:
        if key in self.warned:
            return False
        self.warned[key] = None
        if len(self.warned) > _MAX_NAMED_PEERS:
            self.warned.popitem(last=False)
        return True


class _Connection(asyncio.Protocol):
    """One stream client: sniff, decode, deliver; closed on bad input or when idle."""

    def __init__(self, listener: LogListener, kind: str, label: str) -> None:
        self.listener = listener
        self.kind = kind  # "tcp" or "unix"
        self.label = label  # the unix socket path
        self.transport: asyncio.Transport | None = None
        self.decoder: StreamDecoder | None = None
        self.head = bytearray()
        self.source = ""
        self.named = False
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
            self.decoder = SyslogStreamDecoder(max_frame)
        elif kind == "http":
            assert self.transport is not None
            self.decoder = HttpDecoder(max_frame, self.transport.write)
            if self.kind == "tcp":  # HTTPHandler opens a connection per record: one source
                self.source = f"http:{_host_text(self.peer_host)}"
                self.named = True
        else:
            self.decoder = TextStreamDecoder(max_frame)

    def _deliver(self, records: list[Record]) -> None:
        if not records:
            return
        if not self.named:
            for record in records:
                if record.logger and record.logger != LISTENER_LOGGER:
                    self.source = f"{self.source} ({record.logger[:80]})"
                    self.named = True
                    break
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
        if quiet >= self.listener.idle_timeout:
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


class _Datagrams(asyncio.DatagramProtocol):
    """UDP or unix datagrams: each one decoded on its own."""

    def __init__(self, listener: LogListener, kind: str, label: str) -> None:
        self.listener = listener
        self.kind = kind
        self.label = label
        self.peers = _PeerNames()

    def datagram_received(self, data: bytes, addr: object) -> None:
        listener = self.listener
        listener.stats.datagrams += 1
        if self.kind == "udp" and isinstance(addr, tuple):
            key: object = (addr[0], addr[1])
            base = f"udp:{_host_text(addr[0])}:{addr[1]}"
        else:
            key = addr or self.label
            base = f"unixgram:{self.label}"
        source, named = self.peers.get(key, base)
        try:
            if len(data) > listener.max_frame + 4:
                raise ListenError("frame too large", f"a datagram of {len(data)} bytes; the "
                                  f"limit is {listener.max_frame}")
            records = decode_datagram(data, listener.max_frame)
        except ListenError as exc:
            listener.stats.reject(exc.reason)
            if self.peers.warn_once(key):
                listener.deliver_warning(source, f"{source}: {exc.detail}; datagram dropped "
                                         "(further bad datagrams from it are only counted)")
            return
        if not named:
            for record in records:
                if record.logger and record.logger != LISTENER_LOGGER:
                    source = f"{base} ({record.logger[:80]})"
                    self.peers.name(key, source)
                    break
        listener.deliver(records, source)

    def error_received(self, exc: Exception) -> None:
        self.listener.stats.reject("socket error")


class LogListener:
    """Receives records on the given addresses and hands each to ``sink`` (listener thread).

    ``start`` binds every address first (an ``OSError`` names the address when one cannot be
    bound), then serves on a background thread until ``stop``. ``bound`` lists what was
    actually bound (``("tcp", host, port)``, ``("udp", host, port)``, ``("unix", path)``,
    ``("unixgram", path)``), so port 0 picks a free port.
    """

    def __init__(self, addresses: list[ListenAddress], sink: Callable[[Record], None], *,
                 max_frame: int = 1 << 20, max_connections: int = 256,
                 idle_timeout: float = 300.0) -> None:
        if not addresses:
            raise ValueError("LogListener needs at least one address")
        self.addresses = list(addresses)
        self.sink = sink
        self.max_frame = max_frame
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.bound: list[tuple[str, ...]] = []
        self.stats = ListenerStats()
        self.warnings: list[str] = []
        self.sink_error: str | None = None
        self.connections: set[_Connection] = set()
        self.refusing = False
        self.unix_serial = 0
        self._sockets: list[tuple[str, socket.socket, str]] = []
        self._unix_paths: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[Callable[[], None]] = []
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # -- binding

    def start(self) -> None:
        """Bind every address, then serve on a background thread."""
        if self._thread is not None:
            raise RuntimeError("the listener is already started")
        try:
            for address in self.addresses:
                self._bind(address)
        except OSError:
            self._close_sockets()
            raise
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="logview-listen", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join()
            self._close_sockets()
            raise OSError(f"the listener could not start: {self._start_error}")

    def _bind(self, address: ListenAddress) -> None:
        if address.kind == "tcp+udp":
            self._bind_inet(address)
        elif address.kind in ("unix", "unixgram"):
            self._bind_unix(address)
        else:
            raise OSError(errno.EINVAL, f"unknown listen address kind {address.kind!r}")
        if not address.is_loopback:
            self.warnings.append(f"listening on {address}: anyone who can reach this port "
                                 "can inject log records")

    def _bind_inet(self, address: ListenAddress) -> None:
        try:
            infos = socket.getaddrinfo(address.host, address.port or 0, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise OSError(errno.EADDRNOTAVAIL,
                          f"cannot listen on {address}: unknown host ({exc.strerror})") from exc
        family, _, _, _, sockaddr = infos[0]
        attempts = 20 if not address.port else 1
        for attempt in range(attempts):
            tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind(sockaddr)
                tcp.listen(128)
            except OSError as exc:
                tcp.close()
                raise self._bind_error(address, "TCP", exc) from exc
            port = tcp.getsockname()[1]
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((sockaddr[0], port, *sockaddr[2:]))
            except OSError as exc:
                udp.close()
                tcp.close()
                if attempt + 1 < attempts and exc.errno == errno.EADDRINUSE:
                    continue  # port 0: TCP's free port is taken for UDP; pick another
                raise self._bind_error(address, "UDP", exc) from exc
            try:
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_RCVBUF)
            except OSError:
                pass  # the system's default buffer works too, it just drops sooner
            host = tcp.getsockname()[0]
            self._sockets += [("tcp", tcp, ""), ("udp", udp, "")]
            self.bound += [("tcp", host, port), ("udp", host, port)]
            return

    @staticmethod
    def _bind_error(address: ListenAddress, proto: str, exc: OSError) -> OSError:
        if exc.errno == errno.EADDRINUSE:
            why = (f"{proto} port {address.port} is already in use; choose another port "
                   "(--listen HOST:PORT)")
        elif exc.errno == errno.EACCES:
            why = f"permission denied for {proto} port {address.port} (ports below 1024 need root)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = f"{address.host} is not an address of this machine"
        else:
            why = f"{proto}: {exc.strerror or exc}"
        return OSError(exc.errno, f"cannot listen on {address}: {why}")

    def _bind_unix(self, address: ListenAddress) -> None:
        path = address.path or ""
        kind = socket.SOCK_STREAM if address.kind == "unix" else socket.SOCK_DGRAM
        self._clear_stale_socket(address, path, kind)
        sock = socket.socket(socket.AF_UNIX, kind)
        try:
            sock.bind(path)
            if kind == socket.SOCK_STREAM:
                sock.listen(128)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen on {address}: "
                          f"{exc.strerror or exc}") from exc
        self._unix_paths.append(path)
        self._sockets.append((address.kind, sock, path))
        self.bound.append((address.kind, path))

    @staticmethod
    def _clear_stale_socket(address: ListenAddress, path: str, kind: int) -> None:
        """Remove a socket file nobody serves any more; refuse to touch anything else."""
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise OSError(errno.EEXIST, f"cannot listen on {address}: {path} exists and is "
                          "not a socket; choose another path")
        probe = socket.socket(socket.AF_UNIX, kind)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            os.unlink(path)
            return
        except OSError:
            return  # a different socket type: let bind report it
        finally:
            probe.close()
        raise OSError(errno.EADDRINUSE, f"cannot listen on {address}: another program is "
                      f"listening on {path}")

    # -- the loop thread

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except Exception as exc:  # noqa: BLE001 - reported to start()'s caller
            self._start_error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        for kind, sock, label in self._sockets:
            if kind in ("tcp", "unix"):
                conn_kind = "tcp" if kind == "tcp" else "unix"
                server = await loop.create_server(
                    lambda k=conn_kind, lb=label: _Connection(self, k, lb), sock=sock)
                self._closers.append(server.close)
            else:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda k=kind, lb=label: _Datagrams(self, "udp" if k == "udp" else "unix",
                                                        lb), sock=sock)
                self._closers.append(transport.close)
        self._tick_handle = loop.call_later(_TICK, self._tick)

    def _tick(self) -> None:
        now = self.loop_time()
        for conn in list(self.connections):
            conn.idle(now)
        assert self._loop is not None
        self._tick_handle = self._loop.call_later(_TICK, self._tick)

    def loop_time(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    # -- delivery

    def deliver(self, records: list[Record], source: str) -> None:
        """Stamp and hand records to the sink (listener thread)."""
        sink = self.sink
        stats = self.stats
        for record in records:
            record.source = source
            stats.records += 1
            try:
                sink(record)
            except Exception as exc:  # noqa: BLE001 - a failing sink must not stop the listener
                stats.sink_errors += 1
                self.sink_error = f"{type(exc).__name__}: {exc}"

    def deliver_warning(self, source: str, text: str) -> None:
        """A ``logview.listen`` WARNING record about bad input or refused clients."""
        record = listener_warning(source, text)
        try:
            self.sink(record)
        except Exception as exc:  # noqa: BLE001 - see deliver
            self.stats.sink_errors += 1
            self.sink_error = f"{type(exc).__name__}: {exc}"

    # -- stopping

    def stop(self) -> None:
        """Emit what connections still hold, close everything, join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(self._shutdown)
            thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._close_sockets()

    def _shutdown(self) -> None:
        self._tick_handle.cancel()
        for close in self._closers:
            close()
        for conn in list(self.connections):
            conn.finish()
            if conn.transport is not None:
                conn.transport.abort()
        assert self._loop is not None
        self._loop.stop()

    def _close_sockets(self) -> None:
        for _, sock, _ in self._sockets:
            sock.close()
        self._sockets.clear()
        for path in self._unix_paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self._unix_paths.clear()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
