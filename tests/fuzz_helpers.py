"""What the hostile-file tests share: numbered log lines, and logview run as a command."""

from __future__ import annotations

import subprocess
import sys

LINE = b"2024-01-02 03:%02d:%02d,000 - app.web - %s - record %d\n"


def lines(first: int, count: int, level: bytes = b"INFO") -> bytes:
    return b"".join(LINE % (i // 60 % 60, i % 60, level, i) for i in range(first, first + count))


def python_m_logview(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          timeout=timeout, check=False)


def printed(data: bytes) -> bytes:
    """What ``--print`` writes into a pipe for a file holding ``data``."""
    return data + b"\n" if data and not data.endswith(b"\n") else data
