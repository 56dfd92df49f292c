"""A fork server: worker processes for a threaded process, never forked from it.

A process with threads cannot fork safely: the child gets every lock as some thread held it
at that moment (an import lock, ``functools.cached_property``'s lock, any of ours) and hangs
on the first it needs. ``ForkServer`` starts one fresh interpreter (``subprocess``: fork and
exec, safe under threads), which imports ``PRELOAD`` and then, with its only thread, forks
a worker for each request: ``fork(target, payload, fds)`` runs ``target(payload, fds)`` in
the new worker, a module-level function of logview named as ``"module:function"``.
``payload`` is bytes the caller made (a pickle it trusts: it goes from the caller to the
worker, never back) and ``fds`` file descriptors passed over the server's socket (a worker's
socket, shared memory). Unlike multiprocessing's fork server, nothing of the caller's main
module is run again in a worker (a script without a main guard would run twice).

The server ends when the caller's end of its socket does (the caller exited or was killed);
its workers are reaped by the kernel (SIGCHLD ignored) and end by their own sockets. Its
standard streams are /dev/null and it has its own session: nothing of it reaches the
caller's terminal, and the terminal's signals (Ctrl-C, Ctrl-Z, resizes) do not reach it.
"""

from __future__ import annotations

import importlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

#: Modules the server imports before it forks anything (each worker starts with them).
PRELOAD = ("logview.store", "logview.range_columns", "logview.filter_workers")
#: Seconds the server waits for a request before it looks whether its caller is gone.
_IDLE = 1.0
_HEAD = struct.Struct("<qq")  # bytes of the target's name, bytes of the payload
_PID = struct.Struct("<q")
#: Most file descriptors a request passes.
MAX_FDS = 8


class ForkServerError(RuntimeError):
    """The server could not start a worker (it could not start, or it is gone)."""


class ForkServer:
    """The caller's side: the server starts with the first ``fork`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id (None: not running)."""
        process = self._process
        return None if process is None or process.poll() is not None else process.pid

    def fork(self, target: str, payload: bytes, fds: list[int]) -> int:
        """A new worker running ``target(payload, fds)``; its process id. The caller keeps
        its own ``fds`` (the worker has copies)."""
        if len(fds) > MAX_FDS:
            raise ValueError(f"at most {MAX_FDS} descriptors")
        name = target.encode()
        with self._lock:
            sock = self._running()
            try:
                socket.send_fds(sock, [_HEAD.pack(len(name), len(payload)) + name], fds)
                sock.sendall(payload)
                reply = _read_exactly(sock, _PID.size)
            except OSError as exc:
                self._close()
                raise ForkServerError(f"the fork server is gone: {exc}") from exc
            if len(reply) < _PID.size:
                self._close()
                raise ForkServerError("the fork server is gone")
            pid = _PID.unpack(reply)[0]
            if pid <= 0:
                raise ForkServerError(f"the fork server could not fork (errno {-pid})")
            return pid

    def start(self) -> None:
        """Start the server now, if it is not running (its first ``fork`` then need not wait
        for a fresh interpreter's imports)."""
        try:
            with self._lock:
                self._running()
        except ForkServerError:
            pass  # the first ``fork`` says so

    def close(self) -> None:
        """End the server (its workers end by their own sockets)."""
        with self._lock:
            self._close()

    def _running(self) -> socket.socket:
        if self._sock is not None and self._process is not None and self._process.poll() is None:
            return self._sock
        self._close()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        root = str(Path(__file__).resolve().parent.parent)  # this logview, not another
        code = (f"import sys; sys.path.insert(0, {root!r}); "
                f"from logview.fork_server import serve; serve({theirs.fileno()})")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code], pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
        except OSError as exc:
            mine.close()
            raise ForkServerError(f"the fork server could not start: {exc}") from exc
        finally:
            theirs.close()
        self._sock = mine
        return mine

    def _close(self) -> None:
        sock, self._sock = self._sock, None
        process, self._process = self._process, None
        if sock is not None:
            sock.close()  # the server sees the end of its socket and exits
        if process is not None:
            try:
                process.wait(2.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_SERVER: ForkServer | None = None
_SERVER_LOCK = threading.Lock()


def server() -> ForkServer:
    """This process's fork server (one, started by its first ``fork``)."""
    global _SERVER
    with _SERVER_LOCK:
        if _SERVER is None:
            _SERVER = ForkServer()
        return _SERVER


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    got = b""
    while len(got) < size:
        more = sock.recv(size - len(got))
        if not more:
            break
        got += more
    return got


# -- the server process ----------------------------------------------------------------------


def serve(fd: int) -> None:
    """The server: fork a worker per request on socket ``fd`` until it ends."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the workers
    for sig in (signal.SIGINT, signal.SIGTSTP, signal.SIGWINCH, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    for name in PRELOAD:
        importlib.import_module(name)
    sock = socket.socket(fileno=fd)
    while True:
        if not select.select([sock], [], [], _IDLE)[0]:
            continue
        try:
            head, fds, _flags, _addr = socket.recv_fds(sock, _HEAD.size, MAX_FDS)
            if len(head) < _HEAD.size:
                return  # the caller is gone
            name_size, payload_size = _HEAD.unpack(head)
            name = _read_exactly(sock, name_size).decode()
            payload = _read_exactly(sock, payload_size)
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError as exc:
            pid = -(exc.errno or 1)
        if pid == 0:  # the worker: it never returns into the server's loop
            code = 1
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                module, function = name.split(":")
                if module.split(".")[0] == "logview":
                    getattr(importlib.import_module(module), function)(payload, fds)
                    code = 0
            finally:
                os._exit(code)
        for fd_passed in fds:
            os.close(fd_passed)
        try:
            sock.sendall(_PID.pack(pid))
        except OSError:
            return
