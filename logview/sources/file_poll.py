"""Following a file where inotify is missing (not Linux, its limits reached): polling.

Where inotify would open a rotated file the moment it appears, a thread looks instead: every
``POLL_INTERVAL`` (every ``FAST_INTERVAL`` for ``FAST_SECONDS`` after a look that saw a
rotation or a wait that saw the file grow: a file being written may be rotated in the next
few milliseconds, and with a few names kept it lives only a few rotations) it lists the directories of the followed files and opens (``Siblings.pin``) every
file it has not seen under its name before, found by inode (``scandir`` gives it without a
``stat``): a rotated file then stays readable even when it is deleted before the reader gets
to it, and a file that took the name counts as arrived. ONE thread and one listing per
directory per look serve every followed file of the process (``logview /var/log/app/``).

``NamePoller.wait`` wakes a reader when the name or a file being read changed (a ``stat``
every look, as ``tail -F`` does). What polling cannot do: see a file that took the name and
was rotated away and deleted between two looks (read from its compressed copy if logrotate's
``compress`` made one, else lost). Such files cannot be counted, but the look that follows
shows that it may have happened (``turnovers``): the file that had the followed name at the
look before, when rotated names were there too (at that look or this one), is under none of the
names now, so it went through all of them and was deleted: at least as many rotations as names
came in between, and the files in between may have been deleted unread. (With no rotated name
at either look, the name was only deleted and made anew.) (That file is held open, by the reader or
as a pin, so its inode cannot be a new file's; the others' can.)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from logview.sources.siblings import Siblings

#: Seconds between two looks, and between two looks while rotations come.
POLL_INTERVAL = 0.1
FAST_INTERVAL = 0.01
#: Seconds the fast looks go on after a look saw a rotation.
FAST_SECONDS = 2.0


class NamePoller:
    """Wake-ups for a followed file by polling; rotated files opened as the looks find them."""

    def __init__(self, path: str, siblings: Siblings) -> None:
        self.path = path
        self.siblings = siblings
        self._last: tuple[int, ...] | None = None
        self._seen: dict[str, int] | None = None  # name -> the inode last found under it
        self._size = -1  # the followed name's size at the last look
        self._rotated = threading.Event()  # a look found a new file
        self._lock = threading.Lock()
        self.fast_until = 0.0
        self.turnovers = 0  # looks that found every file of the look before gone
        _looker.add(self)

    def wait(self, timeout: float, unread: Callable[[], list[int]]) -> bool:
        """Block up to ``timeout`` s until the name or a file being read changed: True if
        one did. ``unread()``: for each file being read, bytes not yet taken (-1: gone)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._changed(unread) or self._rotated.is_set():
                self._rotated.clear()
                return True
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return False
            interval = FAST_INTERVAL if now < self.fast_until else POLL_INTERVAL
            if self._rotated.wait(min(interval, remaining)):
                self._rotated.clear()
                return True

    def _changed(self, unread: Callable[[], list[int]]) -> bool:
        try:
            st = os.stat(self.path)
            key: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (0, 0, 0)
        sizes = unread()
        key = (*key, *sizes)
        changed = self._last is not None and key != self._last
        self._last = key
        if changed:
            self.hurry()
        return changed or (bool(sizes) and sizes[-1] != 0)

    def hurry(self) -> None:
        """Fast looks from now (the file is being written: rotations may come in a burst,
        before a slow look would see the first one)."""
        now = time.monotonic()
        was_fast = now < self.fast_until
        self.fast_until = now + FAST_SECONDS
        if not was_fast:
            _looker.wake()

    def look(self, entries: list[tuple[str, int]]) -> None:
        """The directory's (name, inode) now (the looking thread): open what is new."""
        siblings = self.siblings
        seen = {name: inode for name, inode in entries if siblings.is_ours(name)}
        with self._lock:
            if self._seen is not None:  # (the first look: what is there is known)
                was = self._seen.get(siblings.base)
                rotated_names = len(self._seen) > 1 or len(seen) > 1
                if rotated_names and was is not None and was not in seen.values():
                    self.turnovers += 1
                new = [name for name, inode in seen.items() if self._seen.get(name) != inode]
                for name in new:
                    siblings.pin(name)
                if new:
                    self.fast_until = time.monotonic() + FAST_SECONDS
                    self._rotated.set()
            self._seen = seen
        # A name being written may be rotated in the next milliseconds: fast looks from the
        # first look that sees it grow (not only from the reader's next wait, which may be a
        # slow look away).
        try:
            size = os.stat(self.path).st_size
        except OSError:
            size = -1
        if size != self._size:
            if self._size >= 0 and size >= 0:
                self.fast_until = time.monotonic() + FAST_SECONDS
            self._size = size

    def take_turnovers(self) -> int:
        """Turnovers (see the module) since the last call."""
        with self._lock:
            count, self.turnovers = self.turnovers, 0
        return count

    def close(self) -> None:
        _looker.discard(self)
        self._rotated.set()


class _Looker:
    """The one thread that looks at the directories of every ``NamePoller``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pollers: set[NamePoller] = set()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: The longest this thread overslept a wait, in seconds: a machine that keeps it
        #: waiting longer than a rotated file lives can lose the file (said by ``turnovers``).
        self.late = 0.0

    def add(self, poller: NamePoller) -> None:
        with self._lock:
            self._pollers.add(poller)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="logview-poll",
                                                daemon=True)
                self._thread.start()
        self._look_once([poller])

    def wake(self) -> None:
        """Look now (and choose the next interval anew)."""
        self._wake.set()

    def discard(self, poller: NamePoller) -> None:
        with self._lock:
            self._pollers.discard(poller)
        self._wake.set()

    def _run(self) -> None:
        while True:
            with self._lock:
                pollers = list(self._pollers)
                if not pollers:
                    self._thread = None
                    return
            self._look_once(pollers)
            now = time.monotonic()
            fast = any(now < poller.fast_until for poller in pollers)
            interval = FAST_INTERVAL if fast else POLL_INTERVAL
            if not self._wake.wait(interval):
                self.late = max(self.late, time.monotonic() - now - interval)
            self._wake.clear()

    @staticmethod
    def _look_once(pollers: list[NamePoller]) -> None:
        by_directory: dict[str, list[NamePoller]] = {}
        for poller in pollers:
            by_directory.setdefault(poller.siblings.directory, []).append(poller)
        for directory, group in by_directory.items():
            try:
                with os.scandir(directory) as found:
                    entries = [(entry.name, entry.inode()) for entry in found]
            except OSError:
                continue
            for poller in group:
                poller.look(entries)


_looker = _Looker()


def _forget_after_fork() -> None:
    """A forked child has no looking thread and may have inherited a held lock."""
    global _looker
    _looker = _Looker()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
