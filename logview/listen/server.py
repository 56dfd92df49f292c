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
from collections.abc import Callable
from typing import Self

from logview.listen.address import ListenAddress
from logview.listen.connection import DatagramReceiver, StreamConnection
from logview.listen.decode import client_source, listener_warning
from logview.listen.stats import ListenerStats
from logview.listen.syslog_messages import SyslogMessages
from logview.record import Record

_TICK = 0.1
_UDP_RCVBUF = 4 << 20


class LogListener:
    """Receives records on the given addresses and hands each to ``sink`` (listener thread).

    ``start`` binds every address first (an ``OSError`` names the address when one cannot be
    bound), then serves on a background thread until ``stop``. ``bound`` lists what was
    actually bound (``("tcp", host, port)``, ``("udp", host, port)``, ``("unix", path)``,
    ``("unixgram", path)``), so port 0 picks a free port. Its handlers see it as a
    ``ListenerHub`` (``connection``), which it satisfies structurally.
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
        self.syslog_messages = SyslogMessages()
        self.warnings: list[str] = []
        self.sink_error: str | None = None
        self.connections: set[StreamConnection] = set()
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
            actual = ListenAddress(address.kind, address.host, int(self.bound[-1][2]), None)
            self.warnings.append(f"listening on {actual}: anyone who can reach this port "
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
                    lambda k=conn_kind, lb=label: StreamConnection(self, k, lb), sock=sock)
                self._closers.append(server.close)
            else:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda k=kind, lb=label: DatagramReceiver(self, "udp" if k == "udp" else "unix",
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
        """Stamp and hand records to the sink (listener thread): ``source`` is the client, each
        record's own process is added to it (``client_source``)."""
        sink = self.sink
        stats = self.stats
        for record in records:
            record.source = client_source(source, record)
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
