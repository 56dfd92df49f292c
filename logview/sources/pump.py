"""Reading a pipe into a spool in a thread: ``pump_fd`` blocks in ``poll`` (no CPU while the
pipe is idle, and any descriptor number, however many files are open), ``ReaderThread`` runs it
and stops it through a pipe of its own.
"""

from __future__ import annotations

import os
import select
import threading

from logview.sources.spool import READ_CHUNK, SpoolSource


def pump_fd(fd: int, sink: SpoolSource, stop_fd: int) -> bool:
    """Copy ``fd`` into ``sink`` until EOF (True), until ``stop_fd`` is readable or the sink
    takes no more (disk full) (False). Does not close ``fd``.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    poller.register(stop_fd, select.POLLIN)
    while True:
        try:
            ready = {ready_fd for ready_fd, _ in poller.poll()}
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
        if not sink.append(data):
            return False


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
