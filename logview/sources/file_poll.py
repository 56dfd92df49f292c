"""Following a file where inotify is missing (not Linux, its limits reached): polling.

``NamePoller.wait`` looks every ``POLL_INTERVAL`` at the followed name and the files being
read, and at each look opens (``Siblings.pin``) every file beside it named like a rotation that
it has not seen under that name before, found by inode (``scandir`` gives it without a
``stat``): a rotated file then stays readable even when it is deleted before the reader gets
to it. While rotations come it looks every ``FAST_INTERVAL`` instead, for ``FAST_SECONDS``.
What it cannot do: see a file that took the name and was rotated away and deleted between
two looks (read from its compressed copy if logrotate's ``compress`` made one, else lost
without a count).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from logview.sources.siblings import Siblings

#: Seconds between two looks, and between two looks while rotations come.
POLL_INTERVAL = 0.1
FAST_INTERVAL = 0.01
#: Seconds the fast looks go on after a look saw a rotation.
FAST_SECONDS = 2.0


class NamePoller:
    """Wake-ups for a followed file by polling; rotated files opened as the polls find them."""

    def __init__(self, path: str, siblings: Siblings) -> None:
        self.path = path
        self._siblings = siblings
        self._last: tuple[int, ...] | None = None
        self._seen: dict[str, int] = {}  # name -> the inode last found under it
        self._fast_until = 0.0
        self.looks = 0
        self._scan(pin=False)  # what is there now is known (the caller has it, or before)

    def wait(self, timeout: float, unread: Callable[[], list[int]]) -> bool:
        """Block up to ``timeout`` s until the name or a file being read changed: True if
        one did. ``unread()``: for each file being read, bytes not yet taken (-1: gone)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._look(unread):
                return True
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return False
            interval = FAST_INTERVAL if now < self._fast_until else POLL_INTERVAL
            time.sleep(min(interval, remaining))

    def _look(self, unread: Callable[[], list[int]]) -> bool:
        self.looks += 1
        rotated = self._scan(pin=True)
        try:
            st = os.stat(self.path)
            key: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (0, 0, 0)
        sizes = unread()
        key = (*key, *sizes)
        changed = self._last is not None and key != self._last
        self._last = key
        if rotated:
            self._fast_until = time.monotonic() + FAST_SECONDS
        return changed or rotated or (bool(sizes) and sizes[-1] != 0)

    def _scan(self, pin: bool) -> bool:
        """Open (``pin``) the files found under the name or a rotated name that were not there
        under it at the last look; True if there were any (a rotation went on)."""
        siblings = self._siblings
        seen: dict[str, int] = {}
        new = False
        try:
            with os.scandir(siblings.directory) as entries:
                for entry in entries:
                    if not siblings.is_ours(entry.name):
                        continue
                    inode = entry.inode()
                    seen[entry.name] = inode
                    if pin and self._seen.get(entry.name) != inode:
                        new = True
                        siblings.pin(entry.name)
        except OSError:
            return False
        self._seen = seen
        return new
