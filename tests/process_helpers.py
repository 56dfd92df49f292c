"""Child processes: reading their output with a deadline (never a blind sleep), and their
state in ``/proc``."""

from __future__ import annotations

import os
import select
import subprocess
import time


def read_until(proc: subprocess.Popen, needle: bytes, timeout: float = 10, *,
               stream=None) -> bytes:
    """Read ``proc.stdout`` (or ``stream``, e.g. ``proc.stderr``) until ``needle`` appears;
    fail after ``timeout`` seconds."""
    stream = proc.stdout if stream is None else stream
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {data!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"process ended early: {data!r}"
            data += chunk
    return data


def _stat(pid: int) -> list[str]:
    """``/proc/PID/stat``'s fields after the command name (state, parent, ...)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def parent_of(pid: int) -> int:
    return int(_stat(pid)[1])


def alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return pid is not None and _stat(pid)[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if parent_of(int(entry)) == pid:
                    found.append(int(entry))
            except OSError:
                continue
    return found
