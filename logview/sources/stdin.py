"""Piped standard input as a source, and handing the terminal back to the TUI.

``StdinSource`` reads a pipe descriptor (a dup of fd 0 by default) into a spool from a reader
thread; ``detach_stdin_for_tui`` moves the pipe off fd 0 and puts the terminal there, so
``producer | logview`` can still read keys.

The spool is a stream's (``spool.stream_spool``): capped by ``--spool-max``, the oldest chunks
dropped past it, reading stopped when the disk is full (see ``logview.sources.spool``).
"""

from __future__ import annotations

import os

from logview.sources.base import SourceError
from logview.sources.pump import ReaderThread, pump_fd
from logview.sources.spool import InputSpool, SpoolSource, stream_spool


class StdinSource(SpoolSource):
    """A pipe (stdin unless ``fd`` is given) read to EOF; ``finished`` then."""

    def __init__(self, fd: int | None = None, *, name: str = "stdin",
                 spool: InputSpool | None = None) -> None:
        try:
            self._fd = os.dup(0) if fd is None else fd
        except OSError as exc:
            raise SourceError(f"cannot read stdin: {exc.strerror}") from exc
        super().__init__(name, spool or stream_spool())
        self._reader = ReaderThread("logview-stdin", self._run)
        self._reader.start()

    def _run(self, stop_fd: int) -> None:
        error = None
        try:
            pump_fd(self._fd, self, stop_fd)
        except OSError as exc:
            error = f"cannot read stdin: {exc.strerror}"
        finally:
            self.finish(error)

    def close(self) -> None:
        self.spool.interrupt()  # a reader waiting for room in the spool returns
        if self._reader.stop() and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        super().close()


def detach_stdin_for_tui() -> int:
    """Move the stdin pipe to a new fd and open the terminal on fd 0; return the pipe's fd.

    Raises ``SourceError`` when there is no controlling terminal to read keys from.
    """
    if os.isatty(0):
        raise SourceError("stdin is a terminal, not a pipe: give a file or pipe logs in")
    pipe_fd = os.dup(0)
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError as exc:
        os.close(pipe_fd)
        raise SourceError(f"cannot open the terminal (/dev/tty: {exc.strerror}) to read keys "
                          "while stdin is a pipe; use --print to read the pipe without "
                          "the viewer") from exc
    os.dup2(tty, 0)
    os.close(tty)
    return pipe_fd
