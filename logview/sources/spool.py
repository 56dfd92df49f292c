"""Append-only storage for input that cannot be read twice (stdin, FIFOs, decompressed data).

An ``InputSpool`` keeps the first bytes in memory and, past a limit, moves everything to an
anonymous temporary file (deleted when closed, or when the process dies), so a long-running pipe
never grows the process. ``SpoolSource`` shows a spool as a ``ByteSource``; ``pump_fd`` is the
blocking-read loop the stream sources run in their reader threads.

(Not the listener's spool of received records: that is ``logview.listen.received_writer``.)
"""

from __future__ import annotations

import os
import select
import tempfile
import threading

from logview.sources.base import ByteSource, SourceError

#: Bytes kept in memory before the spool moves to a temporary file.
DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024
#: Bytes asked of a pipe per read.
READ_CHUNK = 1 << 20


class InputSpool:
    """Input read once, kept to be read back: thread-safe append-only bytes, memory first,
    a temporary file past ``memory_limit``."""

    def __init__(self, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._memory = bytearray()
        self._file = None  # the temporary file once spilled
        self._size = 0
        self._closed = False

    @property
    def spilled(self) -> bool:
        """True once the bytes live in a temporary file."""
        return self._file is not None

    def size(self) -> int:
        return self._size

    def append(self, data: bytes) -> None:
        """Add bytes at the end."""
        if not data:
            return
        with self._lock:
            if self._closed:
                return
            if self._file is None and self._size + len(data) > self.memory_limit:
                self._spill()
            if self._file is None:
                self._memory += data
            else:
                self._write_all(data, self._size)
            self._size += len(data)

    def _spill(self) -> None:
        try:
            # TemporaryFile has no name on Linux (O_TMPFILE): nothing is left behind on a crash.
            self._file = tempfile.TemporaryFile(prefix="logview-spool-")  # noqa: SIM115
        except OSError as exc:
            raise SourceError(f"cannot create a spool file in {tempfile.gettempdir()}: "
                              f"{exc.strerror}; set TMPDIR to a writable directory") from exc
        self._write_all(bytes(self._memory), 0)
        self._memory = bytearray()

    def _write_all(self, data: bytes, offset: int) -> None:
        fd = self._file.fileno()
        view = memoryview(data)
        while view:
            try:
                written = os.pwrite(fd, view, offset)
            except OSError as exc:
                raise SourceError(f"cannot write the spool file: {exc.strerror}") from exc
            view = view[written:]
            offset += written

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``."""
        with self._lock:
            size = min(size, self._size - offset)
            if size <= 0 or self._closed:
                return b""
            if self._file is None:
                return bytes(self._memory[offset : offset + size])
            return os.pread(self._file.fileno(), size, offset)

    def close(self) -> None:
        """Free the memory and delete the temporary file."""
        with self._lock:
            self._closed = True
            self._memory = bytearray()
            if self._file is not None:
                self._file.close()
                self._file = None


class SpoolSource(ByteSource):
    """A ``ByteSource`` over a spool fed by another thread (``append``/``finish``).

    ``size()`` is what the last ``update()`` took in, so ``finished`` only turns true once
    every byte is visible: the index never flushes a record that is still arriving.
    """

    def __init__(self, name: str, spool: InputSpool | None = None) -> None:
        self.name = name
        self.spool = spool or InputSpool()
        self.finished = False
        self.error: str | None = None  # why the input ended early, if it did
        self._visible = 0
        self._eof = False
        self._event = threading.Event()

    def append(self, data: bytes) -> None:
        self.spool.append(data)
        self._event.set()

    def finish(self, error: str | None = None) -> None:
        """No more input will come (call after the last ``append``)."""
        if error:
            self.error = error
        self._eof = True
        self._event.set()

    def size(self) -> int:
        return self._visible

    def read_at(self, offset: int, size: int) -> bytes:
        return self.spool.read_at(offset, min(size, self._visible - offset))

    def update(self) -> int:
        eof = self._eof  # read before the size: every byte is in once eof is set
        new = self.spool.size()
        added = new - self._visible
        self._visible = new
        if eof:
            self.finished = True
        return added

    def wait(self, timeout: float) -> bool:
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired

    def close(self) -> None:
        self.spool.close()


def pump_fd(fd: int, sink: SpoolSource, stop_fd: int) -> bool:
    """Copy ``fd`` into ``sink`` until EOF (True) or until ``stop_fd`` is readable (False).

    Blocks in ``select``: no CPU while the pipe is idle. Does not close ``fd``.
    """
    while True:
        try:
            ready, _, _ = select.select([fd, stop_fd], [], [])
        except InterruptedError:
            continue
        if stop_fd in ready:
            return False
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            continue
        if not data:
            return True
        sink.append(data)


class ReaderThread:
    """A daemon thread running ``body(stop_fd)``; ``stop()`` makes ``stop_fd`` readable.

    The stream sources block in ``pump_fd`` inside ``body``; the stop pipe is how ``close()``
    wakes them without polling.
    """

    def __init__(self, name: str, body) -> None:
        self._stop_r, self._stop_w = os.pipe()
        self.stopping = False
        self._signalled = False
        self._thread = threading.Thread(target=body, args=(self._stop_r,), name=name,
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the body to return and wait for it; False if it is still blocked."""
        self.stopping = True
        if not self._signalled:
            self._signalled = True
            os.write(self._stop_w, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        alive = self._thread.is_alive()
        if not alive and self._stop_r >= 0:
            os.close(self._stop_r)
            os.close(self._stop_w)
            self._stop_r = self._stop_w = -1
        return not alive
