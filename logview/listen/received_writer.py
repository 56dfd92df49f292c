"""The listener's sink: received records appended as JSON lines to a file the viewer follows.

That file is the listen session's spool (kept with ``--save``); it has nothing to do with
``logview.sources.spool.InputSpool``, which holds the bytes of piped input.

Records arrive on the listener thread; they are serialised at once (``dumps_record``, the
``--output jsonl`` schema) into an in-memory batch that a flusher thread writes and flushes
within ``flush_interval`` (50 ms). The batch is bounded: past ``max_buffer`` bytes the caller
writes it itself, which slows the listener (and through TCP, the senders) to the disk's pace
instead of growing memory. Nothing is dropped while the disk has room.

When a write fails (the disk is full: ENOSPC, a quota, an I/O error) the writer stops cleanly:
later records are refused (``write`` raises ``error``) and ``on_error`` is called once so the
session can say so; what was written stays readable. No torn JSON line is left: the disk blocks
of each batch are reserved first (``fallocate`` keeping the size, so the follower sees nothing
change), so a full disk fails before anything of the batch is written; where that cannot be
done (a file system without it) a batch cut short is cut back to the last whole line.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import tempfile
import threading
from collections.abc import Callable
from typing import IO, Self

from logview.printer import dumps_record
from logview.record import Record

#: ``fallocate`` mode: reserve blocks without changing the file's size.
_FALLOC_FL_KEEP_SIZE = 1


def _load_fallocate():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fallocate = libc.fallocate
    except (OSError, AttributeError):
        return None
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    fallocate.restype = ctypes.c_int
    return fallocate


_fallocate = _load_fallocate()


def _reserve(fd: int, offset: int, length: int) -> None:
    """Reserve the blocks of ``length`` bytes at ``offset`` (the size stays); raises
    ``OSError`` when the disk is full. Does nothing where it cannot be done."""
    if _fallocate is None or _fallocate(fd, _FALLOC_FL_KEEP_SIZE, offset, length) == 0:
        return
    code = ctypes.get_errno()
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        raise OSError(code, os.strerror(code))
    # EOPNOTSUPP (no support), ENODEV or ESPIPE (a device, a pipe): write and see


class ReceivedRecordsError(OSError):
    """The received records cannot be written (disk full, file removed, permissions)."""

    @property
    def disk_full(self) -> bool:
        return self.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class ReceivedRecordsWriter:
    """Appends received records as JSON lines to ``path`` (or a binary stream); thread-safe.

    Use the instance itself as the listener's ``sink``. With no ``path`` and no ``stream`` a
    temporary file is created (and removed by ``close`` unless ``keep=True``). With ``stream``
    (e.g. ``sys.stdout.buffer``) the lines go there: ``--listen --print --output jsonl``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 stream: IO[bytes] | None = None, append: bool = True, keep: bool | None = None,
                 flush_interval: float = 0.05, max_buffer: int = 4 << 20) -> None:
        self._owned = stream is None
        if stream is not None:
            self.path = getattr(stream, "name", "<stream>")
            self._file = stream
            self._keep = True
        elif path is None:
            fd, name = tempfile.mkstemp(prefix="logview-listen-", suffix=".jsonl")
            self.path = name
            self._file = os.fdopen(fd, "ab")
            self._keep = bool(keep)
        else:
            self.path = os.fspath(path)
            try:
                self._file = open(self.path, "ab" if append else "wb")  # noqa: SIM115
            except OSError as exc:
                raise ReceivedRecordsError(exc.errno, f"cannot write the spool {self.path}: "
                                           f"{exc.strerror}") from exc
            self._keep = True if keep is None else keep
        self._flush_interval = flush_interval
        self._max_buffer = max_buffer
        self._lock = threading.Lock()  # guards _buffer and counters
        self._io_lock = threading.Lock()  # serialises writes, keeps order
        self._wake = threading.Condition(self._lock)
        self._buffer = bytearray()
        self._closed = False
        self.count = 0
        self.bytes_written = 0
        self.saved = 0  # records written to the file (``count`` is those queued)
        self.error: ReceivedRecordsError | None = None
        #: Called once, from the thread that wrote, when writing fails (``error`` is set).
        self.on_error: Callable[[ReceivedRecordsError], None] | None = None
        self._thread = threading.Thread(target=self._run, name="logview-spool", daemon=True)
        self._thread.start()

    @property
    def kept(self) -> bool:
        """The file stays after ``close`` (``--save``, or ``keep=True``)."""
        return self._keep

    def __call__(self, record: Record) -> None:
        self.write(record)

    def write(self, record: Record) -> None:
        """Queue one record; raises ``ReceivedRecordsError`` once the file cannot be written."""
        if self.error is not None:
            raise self.error
        line = dumps_record(record)
        with self._lock:
            if self.error is not None:
                raise self.error
            if self._closed:
                raise ReceivedRecordsError(0, f"the spool {self.path} is closed")
            was_empty = not self._buffer
            self._buffer += line
            self.count += 1
            full = len(self._buffer) >= self._max_buffer
            if was_empty:
                self._wake.notify()
        if full:
            self.flush()

    def flush(self) -> None:
        """Write and flush everything queued so far."""
        with self._io_lock:
            with self._lock:
                data, self._buffer = self._buffer, bytearray()
            if not data or self.error is not None:
                return
            try:
                if self._owned:
                    self._write_owned(data)
                else:
                    self._file.write(data)
                    self._file.flush()
            except (OSError, ValueError) as exc:
                code = getattr(exc, "errno", 0) or 0
                reason = getattr(exc, "strerror", None) or str(exc)
                error = ReceivedRecordsError(code, f"cannot write the spool {self.path}: {reason}")
                with self._lock:
                    self.error = error
                    self._buffer = bytearray()  # refused from now on: nothing to keep queued
                if self.on_error is not None:
                    self.on_error(error)
                return
            self.bytes_written += len(data)
            self.saved += data.count(b"\n")

    def _write_owned(self, data: bytes) -> None:
        """Write ``data`` at the end of the file, all or nothing (see the module)."""
        fd = self._file.fileno()
        self._file.flush()  # nothing is buffered there; to be sure the fd is the end
        start = os.lseek(fd, 0, os.SEEK_END)
        _reserve(fd, start, len(data))
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(fd, view[done:])
        except OSError:
            if done:
                try:
                    os.ftruncate(fd, start)
                except OSError:
                    pass  # not a regular file (a device): nothing to cut back
            raise

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._buffer and not self._closed:
                    self._wake.wait()
                closed = self._closed
            if not closed:
                # Let a burst gather into one write, but never hold a record back longer.
                with self._lock:
                    self._wake.wait(self._flush_interval)
            self.flush()
            if closed:
                return

    def close(self) -> None:
        """Flush, stop the flusher, close (and remove a temporary spool unless kept)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.notify_all()
        self._thread.join()
        self.flush()
        if self._owned:
            self._file.close()
            if not self._keep:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
