"""A named pipe given as a path: read into a spool, across successive writers.

Opening a FIFO for reading blocks until a writer appears, so a reader thread does it; at EOF
(the last writer closed) it opens the FIFO again and waits for the next writer. When a writer
leaves an unfinished last line, a newline is added so its record does not merge with the next
writer's first one.

The spool is a stream's (``spool.stream_spool``): capped by ``--spool-max``, the oldest chunks
dropped past it, reading stopped when the disk is full (see ``logview.sources.spool``).
"""

from __future__ import annotations

import errno
import os
import stat

from logview.sources.base import SourceError
from logview.sources.pump import ReaderThread, pump_fd
from logview.sources.spool import InputSpool, SpoolSource, stream_spool


class FifoSource(SpoolSource):
    """A FIFO read as a stream; with ``follow`` it outlives its writers, else ends at EOF."""

    def __init__(self, path: str, follow: bool = True, *, name: str | None = None,
                 spool: InputSpool | None = None) -> None:
        try:
            st = os.stat(path)
        except OSError as exc:
            raise SourceError(f"cannot open {path}: {exc.strerror}") from exc
        if not stat.S_ISFIFO(st.st_mode):
            raise SourceError(f"cannot open {path}: not a named pipe")
        if not os.access(path, os.R_OK):
            raise SourceError(f"cannot open {path}: Permission denied")
        super().__init__(name or path, spool or stream_spool())
        self.path = path
        self.follow = follow
        self.writers = 0  # writers seen so far
        self._reader = ReaderThread(f"logview-fifo:{path}", self._run)
        self._reader.start()

    def _run(self, stop_fd: int) -> None:
        error = None
        try:
            while not self._reader.stopping:
                try:
                    fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)  # waits for a writer
                except OSError as exc:
                    error = f"cannot read {self.path}: {exc.strerror}"
                    return
                try:
                    if self._reader.stopping:
                        return
                    self.writers += 1
                    start = self.spool.size()
                    eof = pump_fd(fd, self, stop_fd)
                finally:
                    os.close(fd)
                end = self.spool.size()
                if end > start and self.spool.read_at(end - 1, 1) != b"\n":
                    self.append(b"\n")
                if not eof or not self.follow:  # closed, not followed, or the disk is full
                    return
        finally:
            self.finish(error)

    def close(self) -> None:
        self._reader.stopping = True
        self.spool.interrupt()  # a reader waiting for room in the spool returns
        # The reader may be about to block in open(): wake it until it has returned.
        for _ in range(40):
            self._wake_blocked_open()
            if self._reader.stop(timeout=0.05):
                break
        super().close()

    def _wake_blocked_open(self) -> None:
        """A reader blocked in open() returns once some writer opens: be that writer."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.ENXIO, errno.ENOENT, errno.EACCES):
                raise SourceError(f"cannot stop reading {self.path}: {exc.strerror}") from exc
            return
        os.close(fd)
