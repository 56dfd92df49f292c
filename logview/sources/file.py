"""A regular file followed like ``tail -F``, losing nothing across rotation at any speed.

The logical space is a list of segments, each a byte range of one physical file logview holds
open. What a followed path can go through, and how each is read:

- **Rename and create** (RotatingFileHandler, TimedRotatingFileHandler, logrotate ``create``)
  and **delete and recreate** (WatchedFileHandler): the old file stays open; its rest, and
  whatever writers still add to it through their old descriptors, keeps coming in (whole lines
  only, so two files' lines never join), while the new file's bytes follow. Nothing already
  in the space moves.
- **Several rotations between two looks** (``app.log`` -> ``.1`` -> ``.2``): the files that
  took the name in between are found beside it by inode (rotated names, any suffix) and read
  in the order they were written, before the new file.
- **Copytruncate** (logrotate): the copy beside the file (same first bytes) holds what the
  writer added before the truncation; the rest is read from it, earlier ranges are re-read
  from it, and the truncated file continues the space. A truncation with no copy to be found
  restarts the space (``generation`` bumps) and says so (``note``).

Only ``keep_open`` old files stay open; a range of one closed since is re-opened by inode
among the rotated files when it is read again, and reads as ``b""`` once the file is gone.
"""

from __future__ import annotations

import bisect
import os
import stat
import threading
import time
from dataclasses import dataclass, field

from logview.sources.base import ByteSource, SourceError
from logview.sources.watch import DirectoryWatcher

#: How often ``wait`` stats the file where inotify is not available.
POLL_INTERVAL = 0.1
#: Bytes of a file's start remembered to recognise it (a copy of it, or it after a rename).
FINGERPRINT_BYTES = 256
#: Seconds between two attempts to re-open a closed old file whose range is read again.
REOPEN_INTERVAL = 1.0
#: Bytes read back from the end of new input to find its last newline.
_TAIL_PROBE = 1 << 16
#: Separators between a followed file's name and a rotation suffix (``.1``, ``-20240102``).
_SUFFIX_SEPARATORS = ".-_"


@dataclass(slots=True, eq=False)
class _File:
    """One physical file the path named at some time (or a copy of it)."""

    fd: int  # -1 once closed
    dev: int
    ino: int
    taken: int  # physical bytes of it already in the space
    head: bytes = b""  # its first bytes, to recognise it
    grown_at: float = field(default_factory=time.monotonic)  # when it last grew
    reopen_at: float = 0.0  # no re-open attempt before this (monotonic)

    @property
    def key(self) -> tuple[int, int]:
        return self.dev, self.ino


@dataclass(slots=True)
class Segment:
    """One range of one physical file in the logical space: ``[logical, logical + length)``."""

    file: _File
    physical: int  # file offset of the segment's first byte
    logical: int
    length: int


class FileSource(ByteSource):
    """A regular file, followed across rotation and truncation when ``follow`` is true.

    ``keep_rotations``: old files kept open (re-read without a search, and still read when
    writers keep appending to them).
    """

    def __init__(self, path: str, follow: bool = True, *, name: str | None = None,
                 keep_rotations: int = 8) -> None:
        self.path = path
        self.name = name or path
        self.follow = follow
        self.keep_rotations = keep_rotations
        self.generation = 0
        self.finished = not follow
        self.rotations = 0  # how many times the path named a new file
        self.copies_found = 0  # copytruncates read through their copy
        self._lock = threading.Lock()
        self._segments: list[Segment] = []
        self._starts: list[int] = []
        self._files: list[_File] = []  # open, oldest first; the last is the current file
        self._closed: dict[tuple[int, int], _File] = {}  # closed old files, by inode
        self._size = 0
        self._last_stat: tuple[int, ...] | None = None
        fd = self._open(path)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise SourceError(f"cannot follow {path}: not a regular file")
        self._files.append(_File(fd, st.st_dev, st.st_ino, 0))
        # Rotated files there before we came are not ours to read (--rotated reads them).
        self._before: dict[tuple[int, int], bytes] = {}
        self._watcher: DirectoryWatcher | None = None
        if follow:
            self._before = {(s.st_dev, s.st_ino): head for _, s, head in self._siblings()}
            base = os.path.basename(path)
            self._watcher = DirectoryWatcher(os.path.dirname(os.path.abspath(path)),
                                             lambda entry: entry.startswith(base))
            self._watcher.watch_file(path)
        self.update()

    def current_file(self) -> tuple[int, int]:
        """(st_dev, st_ino) of the file being followed now."""
        with self._lock:
            return self._files[-1].key

    def open_descriptors(self) -> int:
        """File descriptors held (at most ``keep_rotations + 1`` between updates)."""
        with self._lock:
            return sum(1 for f in self._files if f.fd >= 0)

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        """Bytes of the logical space; stops early at the end or at a range now unreadable."""
        parts: list[bytes] = []
        with self._lock:
            end = min(offset + size, self._size)
            index = bisect.bisect_right(self._starts, offset) - 1
            while offset < end and 0 <= index < len(self._segments):
                seg = self._segments[index]
                if seg.file.fd < 0 and not self._reopen(seg.file):
                    break
                within = offset - seg.logical
                want = min(end, seg.logical + seg.length) - offset
                if want > 0:
                    data = os.pread(seg.file.fd, want, seg.physical + within)
                    parts.append(data)
                    offset += len(data)
                    if len(data) < want:  # the file shrank under us: the next update sees it
                        break
                index += 1
        return b"".join(parts)

    # -- following ---------------------------------------------------------------------------

    def update(self) -> int:
        """Take in appends, rotations and truncations; return bytes added to the space."""
        with self._lock:
            before = self._size
            generation = self.generation
            for old in self._files[:-1]:
                self._take_old(old)
            self._take_current()
            if self.follow and self.generation == generation:
                self._check_path()
                self._close_old_files()
            if self.generation != generation:
                return self._size
            return self._size - before

    def _append(self, file: _File, upto: int) -> None:
        """Put ``file``'s bytes ``[taken, upto)`` at the end of the space."""
        if upto <= file.taken:
            return
        last = self._segments[-1] if self._segments else None
        if last is not None and last.file is file and last.physical + last.length == file.taken:
            last.length += upto - file.taken
        else:
            self._segments.append(Segment(file, file.taken, self._size, upto - file.taken))
            self._starts.append(self._size)
        self._size += upto - file.taken
        file.taken = upto
        file.grown_at = time.monotonic()
        if len(file.head) < FINGERPRINT_BYTES:
            file.head = os.pread(file.fd, FINGERPRINT_BYTES, 0)

    def _ends_with_newline(self) -> bool:
        if not self._segments:
            return True
        seg = self._segments[-1]
        if seg.file.fd < 0:
            return True
        return os.pread(seg.file.fd, 1, seg.physical + seg.length - 1) == b"\n"

    def _take_old(self, old: _File) -> None:
        """Lines writers added to a rotated-away file through descriptors they still hold.

        Whole lines only, and only where the space ends with a whole line: a file's half line
        must never join another file's line.
        """
        try:
            physical = os.fstat(old.fd).st_size
        except OSError:
            return
        if physical <= old.taken or not self._ends_with_newline():
            return
        self._append(old, _last_line_end(old.fd, old.taken, physical))

    def _take_current(self) -> None:
        """Extend the current file to its size, or handle its truncation."""
        current = self._files[-1]
        try:
            physical = os.fstat(current.fd).st_size
        except OSError:
            return
        if physical < current.taken or self._head_changed(current, physical):
            self._truncated(current)
            return
        self._append(current, physical)

    def _head_changed(self, file: _File, physical: int) -> bool:
        """A truncation that a larger size hides (truncated, then more written than before)."""
        if not file.head or physical == file.taken:
            return False
        return os.pread(file.fd, len(file.head), 0) != file.head

    def _truncated(self, current: _File) -> None:
        """Copytruncate: read on through the copy, or start over where there is none."""
        copy = self._find_copy(current) if self.follow else None
        if copy is None:
            self._restart(current)
            return
        self.copies_found += 1
        # Earlier ranges of the file are the copy's now (same offsets); its rest comes next.
        for seg in self._segments:
            if seg.file is current:
                seg.file = copy
        copy.taken = current.taken
        self._files.insert(len(self._files) - 1, copy)
        self._take_whole(copy)
        # Copies of cycles that began and ended between two looks come next, oldest first.
        for between in self._files_in_between(current.key):
            self._files.insert(len(self._files) - 1, between)
            self._take_whole(between)
        current.taken = 0
        current.head = b""
        physical = os.fstat(current.fd).st_size
        self._append(current, physical)

    def _find_copy(self, current: _File) -> _File | None:
        """The file beside the followed one that starts with the same bytes (its copy)."""
        if not current.head:
            return None
        best: tuple[int, str, os.stat_result] | None = None
        for path, st, head in self._siblings():
            if (st.st_dev, st.st_ino) == current.key or not head.startswith(current.head):
                continue
            if best is None or st.st_mtime_ns > best[0]:
                best = (st.st_mtime_ns, path, st)
        if best is None:
            return None
        try:
            fd = self._open(best[1])
        except SourceError:
            return None
        st = os.fstat(fd)
        return _File(fd, st.st_dev, st.st_ino, 0, current.head)

    def _restart(self, current: _File) -> None:
        """A truncation with no copy: the current file starts over; so does the space."""
        self.note(f"truncated at byte {current.taken:,} and no copy of it was found beside "
                  "it: reading it again from its start (what was written just before the "
                  "truncation and not yet read is lost)")
        for old in self._files[:-1]:
            os.close(old.fd)
        self._closed.clear()
        current.taken = 0
        current.head = b""
        self._files = [current]
        self._segments = []
        self._starts = []
        self._size = 0
        self.generation += 1
        self._take_current()

    def _check_path(self) -> None:
        """When the path names a new file: first the files that had the name in between (in
        the order they were written), then the new one."""
        current = self._files[-1]
        try:
            st = os.stat(self.path)
        except OSError:
            return  # missing for now (deleted, mid-rotation): keep reading the open file
        if (st.st_dev, st.st_ino) == current.key or not stat.S_ISREG(st.st_mode):
            return
        try:
            fd = self._open(self.path)
        except SourceError:
            return  # unreadable for now: try again on the next update
        newest = os.fstat(fd)
        if (newest.st_dev, newest.st_ino) == current.key:  # renamed back in the meantime
            os.close(fd)
            return
        self._take_current()  # the old file's last lines come first
        for between in self._files_in_between((newest.st_dev, newest.st_ino)):
            self._files.append(between)
            self._take_whole(between)
        self._files.append(_File(fd, newest.st_dev, newest.st_ino, 0))
        self.rotations += 1
        if self._watcher is not None:
            self._watcher.watch_file(self.path)
        self._take_current()

    def _take_whole(self, file: _File) -> None:
        """The whole lines of a file that had the name between two looks."""
        if self._ends_with_newline():
            self._append(file, _last_line_end(file.fd, file.taken, os.fstat(file.fd).st_size))

    def _files_in_between(self, newest: tuple[int, int]) -> list[_File]:
        """Rotated files that are none we know, oldest first: they had the name (or were
        copied from it) after the file we followed, before ``newest``."""
        found: list[tuple[int, int, str]] = []
        ours = {f.key for f in self._files} | {newest}
        for path, st, head in self._siblings():
            key = (st.st_dev, st.st_ino)
            if key in ours or st.st_size == 0:
                continue
            if key in self._closed and head.startswith(self._closed[key].head):
                continue  # an old file of ours, closed for now
            if key in self._before and head.startswith(self._before[key]) and head:
                continue  # there before we came
            found.append((st.st_mtime_ns, st.st_ino, path))
        files: list[_File] = []
        for _, _, path in sorted(found):
            try:
                fd = self._open(path)
            except SourceError:
                continue
            st = os.fstat(fd)
            files.append(_File(fd, st.st_dev, st.st_ino, 0))
            self.rotations += 1
        return files

    def _siblings(self) -> list[tuple[str, os.stat_result, bytes]]:
        """Regular files named like rotations of the path, with their first bytes."""
        directory, base = os.path.split(os.path.abspath(self.path))
        try:
            names = os.listdir(directory)
        except OSError:
            return []
        found = []
        for name in names:
            if (len(name) <= len(base) or not name.startswith(base)
                    or name[len(base)] not in _SUFFIX_SEPARATORS):
                continue
            path = os.path.join(directory, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    continue
                found.append((path, st, os.pread(fd, FINGERPRINT_BYTES, 0)))
            finally:
                os.close(fd)
        return found

    def _close_old_files(self) -> None:
        """Keep the ``keep_rotations`` old files that grew last open; close the others."""
        old = [f for f in self._files[:-1] if f.fd >= 0]
        excess = len(old) - self.keep_rotations
        if excess <= 0:
            return
        for file in sorted(old, key=lambda f: f.grown_at)[:excess]:
            os.close(file.fd)
            file.fd = -1
            file.reopen_at = 0.0
            self._closed[file.key] = file
        self._files = [f for f in self._files if f.fd >= 0]

    def _reopen(self, file: _File) -> bool:
        """Open a closed old file again, found by inode among the rotated files (for a read
        of its range); False when it is gone."""
        now = time.monotonic()
        if now < file.reopen_at:
            return False
        file.reopen_at = now + REOPEN_INTERVAL  # when it is gone: not a search per read
        for path, st, head in self._siblings():
            if (st.st_dev, st.st_ino) != file.key or not head.startswith(file.head):
                continue
            try:
                fd = self._open(path)
            except SourceError:
                return False
            if os.fstat(fd).st_ino != file.ino:
                os.close(fd)
                return False
            file.fd = fd
            self._closed.pop(file.key, None)
            self._files.insert(0, file)
            file.grown_at = 0.0  # the first to close again
            return True
        return False

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
            key: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (0, 0, 0)
        with self._lock:
            sizes = []
            for file in self._files:
                try:
                    sizes.append(os.fstat(file.fd).st_size - file.taken)
                except OSError:
                    sizes.append(-1)
        key = (*key, *sizes)
        changed = self._last_stat is not None and key != self._last_stat
        self._last_stat = key
        return changed or sizes[-1] != 0

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        with self._lock:
            for file in self._files:
                if file.fd >= 0:
                    os.close(file.fd)
                    file.fd = -1
            for file in self._closed.values():
                file.reopen_at = float("inf")
            self._closed.clear()
            for seg in self._segments:
                seg.file.reopen_at = float("inf")


def _last_line_end(fd: int, start: int, end: int) -> int:
    """The offset just past the last newline in ``[start, end)`` of ``fd`` (``start`` if none)."""
    pos = end
    while pos > start:
        lo = max(start, pos - _TAIL_PROBE)
        chunk = os.pread(fd, pos - lo, lo)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            return lo + nl + 1
        pos = lo
    return start
