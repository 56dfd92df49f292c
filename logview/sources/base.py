"""The contract of every source: an append-only logical byte space that can be re-read.

Files, rotated sets, FIFOs, stdin, compressed files, the network listener's spool and the demo
all look the same to the index: bytes ``[0, size())`` that can be read at any offset and that
grow when ``update()`` takes in more. Rotation appends the new file after the old one (nothing
already seen moves); a truncation (copytruncate) restarts the space, which bumps ``generation``
so the index starts over.
"""

from __future__ import annotations

import errno
import os
import threading
from abc import ABC, abstractmethod


class SourceError(OSError):
    """A source that cannot be opened or read, with a message a user can act on."""


class ByteSource(ABC):
    """An append-only, re-readable byte space fed by one input."""

    #: What users see as the record's source (a path, ``stdin``, ``tcp:127.0.0.1:5000``).
    name: str = "?"
    #: Bumped when the space restarts from zero (truncation): earlier offsets are void.
    generation: int = 0
    #: True once no more bytes can ever arrive (EOF on a pipe, a file not followed).
    finished: bool = False
    #: The format the source is known to hold (``"jsonl"`` for the demo and the listener's
    #: spool), or None to detect it from the first bytes.
    format_hint: str | None = None
    #: What could not be kept or read, as sentences a user can act on (oldest first; only
    #: ever grows). ``note`` adds one; ``follow.Follower`` reports the new ones.
    notices: tuple[str, ...] = ()

    def note(self, text: str) -> None:
        """Say that something was lost or refused (a rotated file deleted before it was
        read, the oldest spooled bytes dropped): nothing is lost silently."""
        self.notices = (*self.notices, f"{self.name}: {text}")

    @abstractmethod
    def size(self) -> int:
        """Bytes available now."""

    @abstractmethod
    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer only at the end of the space)."""

    @abstractmethod
    def update(self) -> int:
        """Take in new input (follow appends, rotation, reopen); return bytes added."""

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s until new input may be there; True if it may."""
        threading.Event().wait(timeout)
        return True

    def gone_until(self, offset: int) -> int:
        """Where readable bytes resume when those at ``offset`` can never be read again (a
        rotated file deleted since it was read); ``offset`` when they are not gone."""
        return offset

    def send_to(self, fd: int, offset: int, size: int) -> int | None:
        """Copy up to ``size`` bytes at ``offset`` to descriptor ``fd`` inside the kernel
        (``sendfile``): how many were sent (0: none left there), or None when this source
        cannot (read them with ``read_at``)."""
        return None

    def close(self) -> None:
        """Release files and descriptors."""


class StaticFileSource(ByteSource):
    """A regular file read as it is, not followed (the simplest source; tests and --print)."""

    def __init__(self, path: str, name: str | None = None) -> None:
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise SourceError(f"cannot open {path}: {exc.strerror}") from exc
        self.path = path
        self.name = name or path
        self._size = 0
        self.finished = True
        self.update()

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, min(size, max(0, self._size - offset)), offset)

    def send_to(self, fd: int, offset: int, size: int) -> int | None:
        size = min(size, max(0, self._size - offset))
        if size == 0:
            return 0
        try:
            return os.sendfile(fd, self._fd, offset, size)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                return None  # (an O_APPEND file, an fd sendfile does not take)
            raise

    def update(self) -> int:
        new = os.fstat(self._fd).st_size
        added = max(0, new - self._size)
        self._size = max(self._size, new)
        return added

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class MemorySource(ByteSource):
    """Bytes appended by the program itself (tests, the demo); thread-safe append."""

    def __init__(self, name: str, data: bytes = b"") -> None:
        self.name = name
        self._buf = bytearray(data)
        self._lock = threading.Lock()
        self._event = threading.Event()

    def append(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
        self._event.set()

    def finish(self) -> None:
        self.finished = True
        self._event.set()

    def size(self) -> int:
        return len(self._buf)

    def read_at(self, offset: int, size: int) -> bytes:
        with self._lock:
            return bytes(self._buf[offset : offset + size])

    def update(self) -> int:
        return 0

    def wait(self, timeout: float) -> bool:
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired
