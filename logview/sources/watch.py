"""Wake-ups when a followed file may have changed: inotify through ctypes, or nothing.

``DirectoryWatcher`` watches one directory (creations, renames, deletions and writes of the
entries a filter accepts) plus the inodes of the files being read (writes to a file that was
renamed away still wake us). Where inotify is missing (not Linux, no libc, watch limit hit)
``available`` is False and the caller polls ``stat`` instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import time
from collections.abc import Callable

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_DIR_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
             | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
_FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
_EVENT = struct.Struct("iIII")
_READ_SIZE = 64 * 1024


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - raises AttributeError where inotify is missing
        libc.inotify_add_watch  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_add_watch.restype = ctypes.c_int
    return libc


_libc = _load_libc() if hasattr(os, "pread") else None


class DirectoryWatcher:
    """inotify on a directory and on the inodes of open files; ``wait`` blocks in ``select``."""

    def __init__(self, directory: str, accept: Callable[[str], bool]) -> None:
        self.directory = directory
        self._accept = accept
        self._fd = -1
        self._dir_wd = -1
        self._file_wds: set[int] = set()
        if _libc is None:
            return
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return
        self._fd = fd
        self._dir_wd = self._add(directory, _DIR_MASK)
        if self._dir_wd < 0:
            self.close()

    @property
    def available(self) -> bool:
        """False: no inotify here (or the directory vanished); poll instead."""
        return self._fd >= 0

    def _add(self, path: str, mask: int) -> int:
        return _libc.inotify_add_watch(self._fd, os.fsencode(path), mask)

    def watch_file(self, path: str) -> None:
        """Also wake on writes to this file's inode, wherever it is renamed to."""
        if self._fd >= 0:
            wd = self._add(path, _FILE_MASK)
            if wd >= 0:
                self._file_wds.add(wd)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for a relevant event; True if one came."""
        if self._fd < 0:
            time.sleep(timeout)
            return False
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                ready, _, _ = select.select([self._fd], [], [], remaining)
            except InterruptedError:
                continue
            except (OSError, ValueError):  # closed from another thread
                return False
            if ready and self._drain():
                return True

    def _drain(self) -> bool:
        relevant = False
        while self._fd >= 0:
            try:
                data = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return True
            if not data:
                break
            relevant |= self._parse(data)
        return relevant

    def _parse(self, data: bytes) -> bool:
        relevant = False
        pos = 0
        while pos + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            raw_name = data[pos + _EVENT.size : pos + _EVENT.size + length].rstrip(b"\0")
            pos += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                relevant = True
            elif wd == self._dir_wd:
                if mask & IN_IGNORED or mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                    # The directory itself went away: inotify can no longer see the path.
                    self.close()
                    return True
                if self._accept(os.fsdecode(raw_name)):
                    relevant = True
            elif wd in self._file_wds:
                if mask & IN_IGNORED:
                    self._file_wds.discard(wd)
                else:
                    relevant = True
        return relevant

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)
