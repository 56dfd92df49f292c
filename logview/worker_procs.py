"""Worker processes of the threaded viewer, seen from both sides: the viewer's handle on one
(its socket, tasks answered in order, killed through a pidfd when late), the deadline of a
reply, and what a worker does first so that it stays out of the viewer's terminal.

The workers are forked by the fork server (``fork_server``); the index's range workers
(``range_columns``) and the filter's span workers (``filter_workers``) use these parts.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: Seconds a worker may take to answer any task, plus one per ``REPLY_BYTES_PER_SECOND``
#: of the bytes it got (9 s for 4 MB: a worker reads ~30 MB/s on a loaded core).
REPLY_SECONDS = 5.0
REPLY_BYTES_PER_SECOND = 1 << 20


def cpus() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def reply_seconds(size: int) -> float:
    """How long a worker may take to answer a task of ``size`` bytes."""
    return REPLY_SECONDS + size / REPLY_BYTES_PER_SECOND


def detach_worker(nice: int) -> None:
    """In a new worker: the viewer's terminal signals ignored, its standard output and error
    sent to /dev/null (never a byte onto the viewer's screen), ``nice`` steps lower."""
    for sig in (signal.SIGINT, signal.SIGWINCH, signal.SIGTSTP, signal.SIGCONT):
        signal.signal(sig, signal.SIG_IGN)  # the viewer's terminal is not ours
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os.close(quiet)


class WorkerProcess:
    """A worker process and its socket: tasks are sent ahead (it always has the next one) and
    the replies taken in the order of the tasks (``ticket``)."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self.pid = pid
        self.conn = conn
        self.send_lock = threading.Lock()
        self.turn = threading.Condition()
        self.sent = 0
        self.received = 0
        self.dead = False  # it missed a deadline or its socket failed: never asked again
        try:  # not the viewer's child: a pidfd kills it and shows its end, whatever its pid
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = -1

    def kill(self) -> None:
        try:
            if self._pidfd >= 0:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, ValueError):  # gone already
            pass

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the worker to end; whether it did."""
        if self._pidfd >= 0:
            return bool(select.select([self._pidfd], [], [], timeout)[0])
        deadline = time.monotonic() + timeout
        while os.path.exists(f"/proc/{self.pid}"):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self.conn.close()
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1




def end_workers(workers: list[WorkerProcess]) -> None:
    """Close the workers' sockets (they exit at its end) and wait for them; kill the ones that
    linger (a stalled one)."""
    for worker in workers:
        worker.conn.close()
    deadline = time.monotonic() + 1.0
    for worker in workers:
        if not worker.wait(max(0.0, deadline - time.monotonic())):
            worker.kill()
            worker.wait(5.0)
        worker.close()


def start_workers(target: str, payload: bytes, count: int, size: int, name: str
                  ) -> tuple[mmap.mmap, list[WorkerProcess]]:
    """``count`` workers running ``target(payload, [socket, memory])``, forked by the fork
    server, sharing ``size`` bytes of memory (``memfd`` ``name``) with the caller: the
    mapping and the caller's handles. Raises what stopped it (the workers it started ended)."""
    from multiprocessing.connection import Pipe

    from logview.fork_server import server as fork_server

    started: list[WorkerProcess] = []
    shm: mmap.mmap | None = None
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, size)
        shm = mmap.mmap(fd, size)
        forks = fork_server()
        for _ in range(count):
            mine, theirs = Pipe(duplex=True)
            try:
                pid = forks.fork(target, payload, [theirs.fileno(), fd])
            except BaseException:
                mine.close()
                raise
            finally:
                theirs.close()
            started.append(WorkerProcess(pid, mine))
    except BaseException:
        end_workers(started)
        if shm is not None:
            shm.close()
        raise
    finally:
        os.close(fd)  # the mapping and the workers keep the memory
    return shm, started
