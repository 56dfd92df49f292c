"""Reading a child process's output with a deadline (never a blind sleep)."""

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
