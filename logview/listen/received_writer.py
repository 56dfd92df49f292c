"""The listener's sink: received records appended as JSON lines to a file the viewer follows.

That file is the listen session's spool (kept with ``--save``); it has nothing to do with
``logview.sources.spool.InputSpool``, which holds the bytes of piped input.

Records arrive on the listener thread; they are serialised at once (``dumps_record``, the
``--output jsonl`` schema) into an in-memory batch that a flusher thread writes and flushes
within ``flush_interval`` (50 ms). The batch is bounded: past ``max_buffer`` bytes the caller
writes it itself, which slows the listener (and through TCP, the senders) to the disk's pace
instead of growing memory. Nothing is dropped while the disk has room.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import IO, Self

from logview.printer import dumps_record
from logview.record import Record


class ReceivedRecordsError(OSError):
    """The received records cannot be written (disk full, file removed, permissions)."""


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
        self.error: ReceivedRecordsError | None = None
        self._thread = threading.Thread(target=self._run, name="logview-spool", daemon=True)
        self._thread.start()

    def __call__(self, record: Record) -> None:
        self.write(record)

    def write(self, record: Record) -> None:
        """Queue one record; raises ``ReceivedRecordsError`` once the file cannot be written."""
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
                self._file.write(data)
                self._file.flush()
            except (OSError, ValueError) as exc:
                with self._lock:
                    self.error = ReceivedRecordsError(getattr(exc, "errno", 0) or 0,
                                                      f"cannot write the spool {self.path}: {exc}")
                return
            self.bytes_written += len(data)

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
