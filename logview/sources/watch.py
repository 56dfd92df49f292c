"""Wake-ups when a followed file may have changed: one shared inotify instance, or nothing.

``DirectoryWatcher`` watches one directory (creations, renames, deletions and writes of the
entries a filter accepts) plus the inodes of the files being read (writes to a file that was
renamed away still wake us). Where inotify is missing (not Linux, no libc, no instance or watch
to be had, or ``LOGVIEW_NO_INOTIFY`` set) ``available`` is False and the caller polls instead.

All watchers of a process share ONE inotify instance (``_Inotify``): Linux allows 128 instances
per user by default (``fs.inotify.max_user_instances``), so one instance per followed file ran
out long before ``logview /var/log/app/`` with 300 files did. A daemon thread reads the
instance and hands each event to the watchers that registered its watch descriptor; every
watcher's ``wait`` blocks on an ``Event`` of its own, so a write to one file wakes only the
sources that follow it. The kernel returns the same watch descriptor for every
``inotify_add_watch`` of one inode (many sources in one directory share its watch), so watches
are reference-counted and removed when their last user lets go. The instance and its thread
go with the last watcher; a forked child never touches its parent's and makes its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import select
import struct
import threading
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
IN_MASK_ADD = 0x20000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_DIR_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
             | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
_FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
_EVENT = struct.Struct("iIII")
_READ_SIZE = 64 * 1024
#: What a watcher asked of a watch: the directory's entries, or a file's own inode.
_ROLE_DIR = 1
_ROLE_FILE = 2
#: Entry names remembered per directory watch with the watchers they concern (then forgotten).
_NAME_CACHE = 4096


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - raises AttributeError where inotify is missing
        libc.inotify_add_watch  # noqa: B018
        libc.inotify_rm_watch  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_add_watch.restype = ctypes.c_int
    libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.inotify_rm_watch.restype = ctypes.c_int
    return libc


#: ``LOGVIEW_NO_INOTIFY=1``: behave as where inotify is missing (files are polled), to try
#: that path on Linux.
_libc = (_load_libc() if hasattr(os, "pread") and not os.environ.get("LOGVIEW_NO_INOTIFY")
         else None)


class _Inotify:
    """The process's inotify instance, its reader thread, and which watcher holds which watch.

    ``lock`` guards the tables and every watcher's ``_wds`` and ``_dir_wd``; the add and remove
    syscalls happen under it too, so a watch descriptor is never removed while another watcher
    is being handed the same one. (Descriptors of removed watches are not handed out again
    soon: the kernel allocates them cyclically, so a late ``IN_IGNORED`` names nobody.)
    """

    def __init__(self) -> None:
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        try:
            self._stop_r, self._stop_w = os.pipe()
        except OSError:
            os.close(fd)
            raise
        self.fd = fd
        self.pid = os.getpid()
        self.alive = True  # False once the instance failed (or in a forked child)
        self.lock = threading.Lock()
        self.watchers: set[DirectoryWatcher] = set()  # attached (not closed) watchers
        self._users: dict[int, dict[DirectoryWatcher, int]] = {}  # wd -> {watcher: roles}
        self._names: dict[int, dict[str, tuple[DirectoryWatcher, ...]]] = {}
        self._thread = threading.Thread(target=self._run, name="logview-inotify", daemon=True)
        try:
            self._thread.start()
        except RuntimeError as exc:  # no thread to be had: no instance either
            self._close_fds()
            raise OSError(errno.EAGAIN, str(exc)) from exc

    # -- watches -----------------------------------------------------------------------------

    def add(self, watcher: DirectoryWatcher, path: str, mask: int, role: int) -> int:
        """Watch ``path`` for ``watcher``; its watch descriptor, or -1 (ENOSPC, ENOENT...).

        ``IN_MASK_ADD``: a second watcher of the same inode widens the kernel's mask instead of
        replacing the first one's. The mask is never narrowed again (the path may name another
        inode by then); the events nobody asked for are filtered out by role in ``_dispatch``.
        """
        with self.lock:
            if watcher not in self.watchers:  # closed meanwhile: hold nothing for it
                return -1
            wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask | IN_MASK_ADD)
            if wd < 0:
                return -1
            users = self._users.setdefault(wd, {})
            users[watcher] = users.get(watcher, 0) | role
            self._names.pop(wd, None)
            watcher._wds.add(wd)
            if role & _ROLE_DIR:
                watcher._dir_wd = wd
            return wd

    def _release_locked(self, watcher: DirectoryWatcher) -> None:
        """Drop every watch ``watcher`` holds; remove a kernel watch with its last user."""
        for wd in watcher._wds:
            users = self._users.get(wd)
            if users is None or users.pop(watcher, None) is None:
                continue
            self._names.pop(wd, None)
            if not users:
                del self._users[wd]
                _libc.inotify_rm_watch(self.fd, wd)
        watcher._wds.clear()
        watcher._dir_wd = -1

    # -- the reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        """Read events and hand them out until ``stop``; ``poll`` (not ``select``): the
        instance's descriptor may be above 1024 once the limit is raised for many inputs."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            if self._stop_r in ready:
                return
            if ready.get(self.fd, 0) & (select.POLLERR | select.POLLNVAL):
                self._fail(poller)
                continue
            try:
                data = os.read(self.fd, _READ_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                self._fail(poller)
                continue
            if data:
                try:
                    self._dispatch(data)
                except Exception:  # noqa: BLE001 - a bug here must not leave waiters asleep
                    self._fail(poller)

    def _fail(self, poller) -> None:
        """The instance broke: every watcher falls back to polling (woken to notice)."""
        self.alive = False
        poller.unregister(self.fd)
        with self.lock:
            everyone = list(self.watchers)
        for watcher in everyone:
            watcher._event.set()

    def _dispatch(self, data: bytes) -> None:
        wake: set[DirectoryWatcher] = set()
        lost: set[DirectoryWatcher] = set()
        arrived: list[tuple[DirectoryWatcher, str]] = []  # for ``on_arrival``
        with self.lock:
            pos = 0
            while pos + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
                raw_name = data[pos + _EVENT.size : pos + _EVENT.size + length].rstrip(b"\0")
                pos += _EVENT.size + length
                if mask & IN_Q_OVERFLOW:  # events were lost: anyone may have missed one
                    wake.update(self.watchers)
                    continue
                users = self._users.get(wd)
                if not users:
                    continue
                if mask & IN_IGNORED:  # the kernel dropped the watch (file gone, unmounted)
                    del self._users[wd]
                    self._names.pop(wd, None)
                    for watcher, roles in users.items():
                        watcher._wds.discard(wd)
                        if roles & _ROLE_DIR:
                            lost.add(watcher)
                    continue
                for watcher, roles in users.items():
                    if roles & _ROLE_FILE and mask & _FILE_MASK:
                        wake.add(watcher)
                    if roles & _ROLE_DIR and mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                        lost.add(watcher)  # the directory went: inotify cannot see the path
                if mask & _DIR_MASK and not mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                    name = os.fsdecode(raw_name)
                    accepting = self._accepting(wd, users, name)
                    wake.update(accepting)
                    if mask & (IN_CREATE | IN_MOVED_TO):
                        arrived.extend((watcher, name) for watcher in accepting
                                       if watcher._on_arrival is not None)
            for watcher in lost:
                self._release_locked(watcher)
        for watcher, name in arrived:
            watcher._arrived(name)
        for watcher in wake | lost:
            watcher._event.set()

    def _accepting(self, wd: int, users: dict[DirectoryWatcher, int],
                   name: str) -> tuple[DirectoryWatcher, ...]:
        """The directory watchers whose filter accepts ``name``, remembered per name: one
        dict lookup per event, not one filter call per source in the directory."""
        names = self._names.setdefault(wd, {})
        found = names.get(name)
        if found is None:
            if len(names) >= _NAME_CACHE:
                names.clear()
            found = tuple(watcher for watcher, roles in users.items()
                          if roles & _ROLE_DIR and watcher._accepts(name))
            names[name] = found
        return found

    # -- the end -----------------------------------------------------------------------------

    def stop(self) -> None:
        """End the reader thread and close the instance (which drops any watch left)."""
        os.write(self._stop_w, b"x")
        if self._thread is threading.current_thread():
            return  # cannot join ourselves: leave the descriptors to the process's end
        self._thread.join()
        self._close_fds()

    def abandon(self) -> None:
        """In a forked child: close the inherited descriptors, touch nothing else."""
        self.alive = False
        self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self.fd, self._stop_r, self._stop_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd = self._stop_r = self._stop_w = -1


_shared: _Inotify | None = None
_shared_lock = threading.Lock()


def _attach(watcher: DirectoryWatcher) -> _Inotify | None:
    """The process's instance (made on first use), with ``watcher`` counted as a user."""
    global _shared
    if _libc is None:
        return None
    with _shared_lock:
        instance = _shared
        if instance is None or instance.pid != os.getpid() or not instance.alive:
            try:
                instance = _Inotify()
            except OSError:  # EMFILE, max_user_instances...: poll this time, try next time
                return None
            _shared = instance  # a failed predecessor ends with its last watcher
        with instance.lock:
            instance.watchers.add(watcher)
        return instance


def _detach(instance: _Inotify, watcher: DirectoryWatcher) -> None:
    """Release ``watcher``'s watches; the last watcher out closes the instance."""
    global _shared
    with _shared_lock:
        with instance.lock:
            if watcher not in instance.watchers:
                return
            instance._release_locked(watcher)
            instance.watchers.discard(watcher)
            if instance.watchers:
                return
        if _shared is instance:
            _shared = None
    instance.stop()


def _forget_after_fork() -> None:
    """A forked child has no reader thread and may have inherited a held lock: start over."""
    global _shared, _shared_lock
    _shared_lock = threading.Lock()
    instance, _shared = _shared, None
    if instance is not None:
        instance.abandon()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def shared_instance() -> _Inotify | None:
    """The instance in use now, if any (tests and diagnostics)."""
    instance = _shared
    return instance if instance is not None and instance.pid == os.getpid() else None


class DirectoryWatcher:
    """inotify on a directory and on the inodes of open files; ``wait`` blocks on an Event
    the shared instance's reader sets when one of this watcher's events comes.

    ``accept(entry_name)`` runs on the reader thread (once per new name, then remembered): it
    must be quick and must not use the watcher. ``on_arrival(entry_name)``, when given, also
    runs there, as soon as an accepted name is created or renamed into the directory: a file
    follower opens the file at once, before a fast rotation can delete it.
    """

    def __init__(self, directory: str, accept: Callable[[str], bool],
                 on_arrival: Callable[[str], None] | None = None) -> None:
        self.directory = directory
        self._accept = accept
        self._on_arrival = on_arrival
        self._event = threading.Event()
        self._pid = os.getpid()
        self._closed = False
        self._wds: set[int] = set()  # guarded by the instance's lock
        self._dir_wd = -1
        self._inotify = _attach(self)
        if self._inotify is not None and self._inotify.add(self, directory, _DIR_MASK,
                                                           _ROLE_DIR) < 0:
            self.close()  # ENOSPC (max_user_watches), a vanished directory...

    @property
    def available(self) -> bool:
        """False: no inotify for this watcher (or the directory vanished); poll instead."""
        instance = self._inotify
        return (instance is not None and not self._closed and self._dir_wd >= 0
                and self._pid == os.getpid() and instance.alive)

    def _accepts(self, name: str) -> bool:
        try:
            return bool(self._accept(name))
        except Exception:  # noqa: BLE001 - a broken filter must not stop everyone's reader
            return True

    def _arrived(self, name: str) -> None:
        with contextlib.suppress(Exception):  # a broken callback must not stop the reader
            self._on_arrival(name)

    def watch_file(self, path: str) -> None:
        """Also wake on writes to this file's inode, wherever it is renamed to."""
        if self.available:
            self._inotify.add(self, path, _FILE_MASK, _ROLE_FILE)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for a relevant event; True if one came."""
        if self._pid != os.getpid() or (not self.available and not self._event.is_set()):
            time.sleep(max(0.0, timeout))  # a forked child never waits on the parent's Event
            return False
        fired = self._event.wait(timeout)
        if fired:
            # A change after this clear sets the Event again; one before it is seen by the
            # caller's update, which comes after we return.
            self._event.clear()
        return fired and not self._closed

    def close(self) -> None:
        """Let go of this watcher's watches (shared ones stay for their other users)."""
        if self._closed:
            return
        self._closed = True
        if self._pid != os.getpid():
            return  # inherited across fork: the parent's lock or Event may be held forever
        instance = self._inotify
        if instance is not None:
            _detach(instance, self)
        self._event.set()  # a wait blocked in another thread returns (False)
