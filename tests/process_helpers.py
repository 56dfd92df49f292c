"""Reading a child process's output with a deadline (never a blind sleep)."""

from __future__ import annotations

import os
import select
import subprocess
import time


def read_until(proc: subprocess.Popen, needle: bytes, timeout: float = 10) -> bytes:
    """Read ``proc.stdout`` until ``needle`` appears; fail after ``timeout`` seconds."""
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {data!r}"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, f"process ended early: {data!r}"
            data += chunk
    return data
