"""A regular file followed like ``tail -F``: appends, rotation, replacement and truncation.

The logical space is a list of segments, one per file the path has named: when the path names
a new inode (RotatingFileHandler, TimedRotatingFileHandler, logrotate ``create``, a
WatchedFileHandler-style delete and recreate), the rest of the old file is read through its
still-open descriptor first, then the new file's bytes follow it. A shrinking file, or one
whose first bytes changed (copytruncate), restarts the space and bumps ``generation``.

Old segments stay readable (the index re-reads records on screen) through their descriptors,
but only the last ``keep_rotations`` of them: the oldest is then closed and ``read_at`` of its
range returns ``b""``, the logical offsets of everything else staying as they were.

While the new file is still empty the old one is kept as the current segment, so lines a
writer adds to the old file between the rename and its reopen are not lost.
"""

from __future__ import annotations

import bisect
import os
import stat
import threading
import time
from dataclasses import dataclass

from logview.sources.base import ByteSource, SourceError
from logview.sources.watch import DirectoryWatcher

#: How often ``wait`` stats the file where inotify is not available.
POLL_INTERVAL = 0.1
#: Bytes of a file's start remembered to notice a truncation that the size hides.
FINGERPRINT_BYTES = 256


@dataclass(slots=True)
class Segment:
    """One physical file in the logical space: ``[logical, logical + length)``."""

    fd: int  # -1 once dropped
    ino: int
    dev: int
    physical: int  # file offset of the segment's first byte
    logical: int
    length: int


class FileSource(ByteSource):
    """A regular file, followed across rotation and truncation when ``follow`` is true."""

    def __init__(self, path: str, follow: bool = True, *, name: str | None = None,
                 keep_rotations: int = 8) -> None:
        self.path = path
        self.name = name or path
        self.follow = follow
        self.keep_rotations = keep_rotations
        self.generation = 0
        self.finished = not follow
        self.rotations = 0  # how many times the path named a new file
        self._lock = threading.Lock()
        self._segments: list[Segment] = []
        self._starts: list[int] = []
        self._size = 0
        self._fingerprint = b""
        self._last_stat: tuple[int, int, int, int] | None = None
        fd = self._open(path)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise SourceError(f"cannot follow {path}: not a regular file")
        self._append_segment(fd, st)
        self._watcher: DirectoryWatcher | None = None
        if follow:
            base = os.path.basename(path)
            self._watcher = DirectoryWatcher(os.path.dirname(os.path.abspath(path)),
                                             lambda entry: entry.startswith(base))
            self._watcher.watch_file(path)
        self.update()

    def current_file(self) -> tuple[int, int]:
        """(st_dev, st_ino) of the file being followed now."""
        with self._lock:
            seg = self._segments[-1]
            return seg.dev, seg.ino

    def open_descriptors(self) -> int:
        """File descriptors held for segments (at most ``keep_rotations + 1``)."""
        with self._lock:
            return sum(1 for seg in self._segments if seg.fd >= 0)

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        """Bytes of the logical space; stops early at the end or at a dropped segment."""
        parts: list[bytes] = []
        with self._lock:
            end = min(offset + size, self._size)
            index = bisect.bisect_right(self._starts, offset) - 1
            while offset < end and 0 <= index < len(self._segments):
                seg = self._segments[index]
                if seg.fd < 0:
                    break
                within = offset - seg.logical
                want = min(end, seg.logical + seg.length) - offset
                if want > 0:
                    data = os.pread(seg.fd, want, seg.physical + within)
                    parts.append(data)
                    offset += len(data)
                    if len(data) < want:  # the file shrank under us: the next update restarts
                        break
                index += 1
        return b"".join(parts)

    # -- following ---------------------------------------------------------------------------

    def update(self) -> int:
        """Take in appends, a rotation or a truncation; return bytes added to the space."""
        with self._lock:
            before = self._size
            generation = self.generation
            current = self._segments[-1]
            self._grow(current)
            if self.follow and self.generation == generation:
                self._check_path(current)
            if self.generation != generation:
                return self._size
            return self._size - before

    def _grow(self, seg: Segment) -> None:
        """Extend the current segment to its file's size, or restart on a truncation."""
        try:
            physical_size = os.fstat(seg.fd).st_size
        except OSError:
            return
        end = seg.physical + seg.length
        if physical_size < end or self._fingerprint_changed(seg, physical_size):
            self._restart(seg)
            return
        seg.length = physical_size - seg.physical
        self._size = seg.logical + seg.length
        if len(self._fingerprint) < FINGERPRINT_BYTES and seg.physical == 0:
            self._fingerprint = os.pread(seg.fd, FINGERPRINT_BYTES, 0)

    def _fingerprint_changed(self, seg: Segment, physical_size: int) -> bool:
        if not self._fingerprint or physical_size == seg.physical + seg.length:
            return False
        return os.pread(seg.fd, len(self._fingerprint), 0) != self._fingerprint

    def _restart(self, seg: Segment) -> None:
        """Copytruncate: the current file starts over; so does the logical space."""
        for old in self._segments[:-1]:
            if old.fd >= 0:
                os.close(old.fd)
        seg.logical = 0
        seg.physical = 0
        seg.length = 0
        self._segments = [seg]
        self._starts = [0]
        self._size = 0
        self._fingerprint = b""
        self.generation += 1
        self._grow(seg)

    def _check_path(self, current: Segment) -> None:
        """Switch to the file the path names now, once it has bytes of its own."""
        try:
            st = os.stat(self.path)
        except OSError:
            return  # missing for now (deleted, mid-rotation): keep reading the open file
        if (st.st_ino, st.st_dev) == (current.ino, current.dev) or not stat.S_ISREG(st.st_mode):
            return
        if st.st_size == 0:
            return  # a fresh empty file: the writer may still add lines to the old one
        try:
            fd = self._open(self.path)
        except SourceError:
            return  # unreadable for now: try again on the next update
        st = os.fstat(fd)
        self._grow(current)  # the old file's last lines come first
        self._append_segment(fd, st)
        self.rotations += 1
        if self._watcher is not None:
            self._watcher.watch_file(self.path)
        self._drop_old_segments()

    def _append_segment(self, fd: int, st: os.stat_result) -> None:
        seg = Segment(fd, st.st_ino, st.st_dev, 0, self._size, 0)
        self._segments.append(seg)
        self._starts.append(seg.logical)
        self._fingerprint = b""
        self._grow(seg)

    def _drop_old_segments(self) -> None:
        live = [seg for seg in self._segments[:-1] if seg.fd >= 0]
        for seg in live[: max(0, len(live) - self.keep_rotations)]:
            os.close(seg.fd)
            seg.fd = -1

    @staticmethod
    def _open(path: str) -> int:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SourceError(f"cannot open {path}: {exc.strerror}") from exc

    def wait(self, timeout: float) -> bool:
        """Block until the file may have changed (inotify, else a stat every 100 ms)."""
        if not self.follow:
            time.sleep(timeout)
            return False
        watcher = self._watcher
        if watcher is not None and watcher.available:
            return watcher.wait(timeout)
        deadline = time.monotonic() + timeout
        while True:
            if self._stat_changed():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_INTERVAL, remaining))

    def _stat_changed(self) -> bool:
        try:
            st = os.stat(self.path)
            key = (st.st_ino, st.st_size, st.st_mtime_ns, 1)
        except OSError:
            key = (0, 0, 0, 0)
        with self._lock:
            current = self._segments[-1]
        try:
            size = os.fstat(current.fd).st_size
        except OSError:
            size = -1
        key = (*key[:3], size)
        changed = self._last_stat is not None and key != self._last_stat
        self._last_stat = key
        return changed or size != current.physical + current.length

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        with self._lock:
            for seg in self._segments:
                if seg.fd >= 0:
                    os.close(seg.fd)
                    seg.fd = -1
