"""The rotated files beside a followed file: found, held open as they appear, put in age order.

A rotation at full speed can rename a file through every rotated name and delete it within
milliseconds. ``Siblings.pin`` runs on the inotify thread the moment a name arrives and opens
the file, so its lines stay readable whatever happens to the name; ``listing`` then sees the
files beside the followed one (pinned ones included, deleted or not) with their first bytes, and
``age_key`` orders them oldest first. It also counts files that took the followed name, so that
one that escaped even that can be said (``escaped``).
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable

from logview.sources.compressed_siblings import CompressedRotations, Incomplete
from logview.sources.segments import same_start

#: Bytes of a file's start remembered to recognise it (a copy of it, or it after a rename).
FINGERPRINT_BYTES = 256
#: Files opened on arrival and not yet taken in, at most (the oldest is let go).
MAX_PINS = 256
#: Seconds without a new file at the name before files that escaped are counted.
ARRIVALS_SETTLE = 1.0
#: Listings taken while rotations rename files, at most, to get one that holds still.
LISTING_TRIES = 5
#: A numbered rotation suffix: separator, number, what follows (``.3``, ``-3.log``).
_NUMBERED = re.compile(r"([.\-_])(\d{1,6})((?:\.[A-Za-z]+)?)")
#: Names past the highest numbered one listed that are tried (files a rotation moved up).
MAX_PROBES = 4
#: Separators between a followed file's name and a rotation suffix (``.1``, ``-20240102``).
SUFFIX_SEPARATORS = ".-_"
#: A rotation suffix (after the separator): ``1`` (RotatingFileHandler, logrotate), a date
#: (TimedRotatingFileHandler, logrotate dateext), each maybe compressed.
_ROTATION_SUFFIX = re.compile(
    r"(?:(?P<num>\d{1,6})|(?P<date>\d{4}-?\d{2}-?\d{2}(?:[_T-]?\d{2}(?:[-:]?\d{2}){0,2})?))"
    r"(?:\.(?:gz|bz2|xz))?$")

#: Compressed files (gzip, bzip2, xz), by name and by first bytes: a compressed rotation
#: (logrotate's ``compress``) is a new file holding a copy of lines already read, never a file
#: that had the followed name; it is neither opened on arrival nor read as a rotated file.
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_COMPRESSED_NAME = (".gz", ".bz2", ".xz")

Key = tuple[int, int]
#: A file beside the followed one: its path (where it was seen), stat and first bytes.
Sibling = tuple[str, os.stat_result, bytes]


class Siblings:
    """The files named like rotations of ``path`` (``app.log.1``, ``app.log.2024-01-02``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.directory, self.base = os.path.split(os.path.abspath(path))
        self._pins: dict[Key, tuple[int, str]] = {}
        self._lock = threading.Lock()
        #: Files that took the name (inotify) vs files taken in that may have had it.
        self.arrivals = 0
        self.arrived_at = 0.0
        self.taken = 0
        self._empty: set[Key] = set()
        self._compressed: CompressedRotations | None = None  # (made by the first listing)
        self._settled: set[Key] = set()  # compressed copies of files we have (or had)
        self._fallback: dict[Key, tuple[str, Key]] = {}  # a file's compressed copy
        self._ready: dict[Key, int] = {}  # escaped files' compressed copies, decompressed
        self._known: dict[Key, bytes | None] = {}  # the reader's files (``release``)
        self._listed: dict[Key, bytes] = {}  # first bytes of the files the last listing saw

    @property
    def compressed(self) -> CompressedRotations:
        """logrotate's ``compress``: copies of files that had the name, the only trace left of
        one deleted before it could be opened; those there at the first listing (when
        following began) are not ours."""
        if self._compressed is None:
            self._compressed = CompressedRotations(self.directory, _ROTATION_SUFFIX, self.base)
        return self._compressed

    def is_ours(self, entry: str) -> bool:
        """The followed name, or it with a rotation suffix."""
        base = self.base
        return entry == base or (entry.startswith(base) and entry[len(base)] in SUFFIX_SEPARATORS)

    @property
    def pinned(self) -> bool:
        """Files arrived that are not taken in yet."""
        return bool(self._pins)

    def pin(self, entry: str) -> None:
        """Open a file as soon as it takes the name or a rotated name (watcher thread)."""
        if entry.endswith(_COMPRESSED_NAME):
            return  # (each rotation renames every kept .gz: opening them slowed this thread)
        if entry == self.base:
            self.arrivals += 1
            self.arrived_at = time.monotonic()
        try:
            fd = os.open(os.path.join(self.directory, entry),
                         os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return  # renamed on (its new name comes as an event too) or deleted
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        with self._lock:
            if not stat.S_ISREG(st.st_mode) or key in self._pins or self._is_known(key, fd):
                os.close(fd)  # (a file the reader has, or closed on purpose, is not held)
                return
            self._pins[key] = (fd, os.path.join(self.directory, entry))
            while len(self._pins) > MAX_PINS:
                os.close(self._pins.pop(next(iter(self._pins)))[0])

    def listing(self) -> list[Sibling]:
        """Regular files named like rotations of the path, with their first bytes; and the
        pinned files the listing did not show (deleted since, or renamed during it), but not
        the one that has the name now.

        Names are what orders rotated files, so the listing is taken again when a rotation
        renamed files while it was taken (a name must still be the file found under it).
        """
        self.compressed  # noqa: B018 - the compressed files there now are known from here on
        for _ in range(LISTING_TRIES):
            found = self._list_names()
            if all(_names_same_file(path, st) for path, st, _ in found):
                break
        found += self._unlisted_pins(found)
        self._listed = {(st.st_dev, st.st_ino): head for _, st, head in found}  # for ``open``
        return found

    def _list_names(self, keep: Key | None = None, kept: list[int] | None = None
                    ) -> list[Sibling]:
        """The rotated files, each once. Numbered names are opened lowest number first, every
        number (a shift in progress leaves a gap) and past the highest one listed: a rotation
        shifts files up (``.2`` -> ``.3``) while they are opened, so a file that moves goes to
        a name still ahead (seen there, or twice: kept once), never to one already passed (in
        the directory's own order it could be missed by every try, and read a look later,
        after newer ones). ``keep``: the file whose descriptor goes to ``kept`` (open, not
        closed) when it is found; the walk stops there."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        numbered: list[tuple[str, int, str]] = []  # (separator, number, rest) of ``base.N``
        others: list[str] = []
        for name in names:
            if name == self.base or not self.is_ours(name) or name.endswith(_COMPRESSED_NAME):
                continue
            match = _NUMBERED.fullmatch(name[len(self.base):])
            if match:
                numbered.append((match[1], int(match[2]), match[3]))
            else:
                others.append(name)
        found: dict[Key, Sibling] = {}
        for name in others:
            self._open_listed(name, found, keep, kept)
        spans: dict[tuple[str, str], tuple[int, int]] = {}
        for sep, number, rest in numbered:
            low, high = spans.get((sep, rest), (number, number))
            spans[sep, rest] = (min(low, number), max(high, number))
        listed = Counter((sep, rest) for sep, _, rest in numbered)
        for (sep, rest), (low, high) in spans.items():
            if high - low > 2 * listed[sep, rest] + MAX_PROBES:  # sparse numbers: no shifting
                for number in sorted(n for sp, n, r in numbered if (sp, r) == (sep, rest)):
                    self._open_listed(f"{self.base}{sep}{number}{rest}", found, keep, kept)
                continue
            # Every number up from the lowest, gaps too (a shift in progress leaves one), and
            # past the highest while names are there (moved up since the directory was read).
            number, missing = low, 0
            while (number <= high or missing < MAX_PROBES) and not kept:
                there = self._open_listed(f"{self.base}{sep}{number}{rest}", found, keep, kept)
                missing = 0 if there else missing + 1
                number += 1
        return list(found.values())

    def _open_listed(self, name: str, found: dict[Key, Sibling], keep: Key | None = None,
                     kept: list[int] | None = None) -> bool:
        """Add the regular, uncompressed file under ``name`` (once per file, under the name it
        was last seen with); False when there is no such name. The file ``keep`` stays open,
        its descriptor in ``kept``."""
        path = os.path.join(self.directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode):
                head = os.pread(fd, FINGERPRINT_BYTES, 0)
                if not head.startswith(_COMPRESSED_MAGIC):
                    key = (st.st_dev, st.st_ino)
                    found.pop(key, None)
                    found[key] = (path, st, head)
                    if key == keep and kept is not None:
                        os.set_blocking(fd, True)
                        kept.append(fd)
                        fd = -1
        finally:
            if fd >= 0:
                os.close(fd)
        return True

    def _find(self, key: Key, head: bytes = b"") -> int:
        """A descriptor of the file ``key`` wherever rotations moved it since it was listed,
        taken from the walk over the names that a shift cannot make miss it (``_list_names``);
        -1 when it is gone (or the inode is a file not starting with ``head``: another one).
        (Found by name and then opened, a file moved on in between, and was taken a look
        later, after newer ones: the viewer's copytruncate soak showed a whole copy out of
        order in about one run in 40.)"""
        for _ in range(LISTING_TRIES):
            kept: list[int] = []
            self._list_names(keep=key, kept=kept)
            if kept:
                if _starts_with(kept[0], head):
                    return kept[0]
                os.close(kept[0])
                return -1
        return -1

    def _unlisted_pins(self, found: list[Sibling]) -> list[Sibling]:
        listed = {(st.st_dev, st.st_ino) for _, st, _ in found}
        try:
            st = os.stat(self.path)
            listed.add((st.st_dev, st.st_ino))
        except OSError:
            pass
        with self._lock:
            pins = list(self._pins.items())
        more: list[Sibling] = []
        for key, (fd, path) in pins:
            if key not in listed:
                try:
                    head = os.pread(fd, FINGERPRINT_BYTES, 0)
                    if not head.startswith(_COMPRESSED_MAGIC):
                        more.append((path, os.fstat(fd), head))
                except OSError:
                    continue
        return more

    def open(self, path: str, key: Key) -> int | None:
        """A descriptor of the file ``key`` as the last listing saw it (its pin, or ``path``
        opened, or its compressed copy decompressed: see ``in_order``); None if gone.

        The file is the one listed only while it starts with the bytes listed: ext4 gives a
        deleted file's inode to the next new file at once, and a pin or a name can hold that
        one by then. A file deleted since the listing is read from its compressed copy, here,
        in its place: logrotate ``compress`` deletes a file once its copy is complete, which
        can be between the listing and now (skipped, it was read from the copy a look later,
        after newer files: records out of order at back-to-back rotations)."""
        if key in self._ready:
            self._settled.add(key)
            return self._ready.pop(key)
        if path.endswith(_COMPRESSED_NAME):
            return self._decompressed(path, key)
        head = self._listed.get(key, b"")
        fd = self._take_pin(key, head)
        if fd < 0:
            fd = _open_file(path, key, head)
        if fd < 0:  # renamed on since the listing (``.1`` -> ``.2``)?
            fd = self._find(key, head)
        twin = self._fallback.get(key)
        if fd >= 0:
            if twin is not None:
                self._settled.add(twin[1])  # the file is read, its compressed copy never
            return fd
        copy = twin or self._copy_of(head)  # deleted since the listing, its copy is left
        return None if copy is None else self._decompressed(*copy)

    def _take_pin(self, key: Key, head: bytes) -> int:
        """The pinned descriptor of ``key`` if it starts with ``head``, else -1 (a pin of
        another file that got the inode stays pinned, for its own turn)."""
        with self._lock:
            pin = self._pins.pop(key, None)
        if pin is None:
            return -1
        if _starts_with(pin[0], head):
            return pin[0]
        with self._lock:
            if key in self._pins:
                os.close(pin[0])
            else:
                self._pins[key] = pin
        return -1

    def _copy_of(self, head: bytes) -> tuple[str, Key] | None:
        """The compressed rotation (path, key) whose decompressed start is ``head`` and that
        was not read; listed again while names shift under the listing (``.1.gz`` ->
        ``.2.gz``: a name can be passed while its file moves)."""
        if not head:
            return None
        for _ in range(LISTING_TRIES):
            for path, st, copy_head in self.compressed.listing():
                key = (st.st_dev, st.st_ino)
                if copy_head and key not in self._settled and same_start(copy_head, head):
                    return path, key
        return None

    def _decompressed(self, path: str, key: Key) -> int | None:
        try:
            fd = self.compressed.open(path, key)
        except Incomplete:
            return None  # still being compressed: taken at a later look
        if fd is not None:
            self._settled.add(key)
        return fd

    def in_order(self, candidates: list[Sibling], known_heads: Callable[[], list[bytes]],
                 present: bytes, ours: set[Key]) -> list[tuple[Key, str]] | None:
        """Files that had the name between two looks, oldest first, with the compressed
        rotations that hold a file that did and was deleted before it could be opened.

        ``candidates``: rotated files none of ours; ``known_heads()``: the first bytes of the
        files we have, read after the compressed ones are listed (so that a compressed copy of
        one of them, complete by then, is known); ``present``: those of the file that has the
        name. Compressed copies are made in the order files were rotated and never written
        again, so their mtimes order them, and a file with a compressed copy takes its place;
        deleted files without one (rotated out) come first, the others by ``age_key``.
        None: a compressed copy of a file that escaped is still being written (look again).
        """
        self._drop_ready()
        for _ in range(LISTING_TRIES):  # (a name renamed while listed can be missed)
            compressed = self.compressed.listing()
            if not compressed or all(
                    any(c[2] and head and same_start(c[2], head) for c in compressed)
                    for _, st, head in candidates if st.st_nlink == 0):
                break
        known = [head for head in known_heads() if head]
        keyed: list[tuple[tuple, Key, str]] = []
        self._fallback.clear()
        for path, st, head in candidates:
            key = (st.st_dev, st.st_ino)
            twin = next((c for c in compressed if head and c[2] and same_start(c[2], head)),
                        None)
            if twin is not None:
                twin_key = (twin[1].st_dev, twin[1].st_ino)
                self._fallback[key] = (twin[0], twin_key)  # (settled once the file is opened)
                keyed.append(((1, twin[1].st_mtime_ns), key, path))
            elif st.st_nlink == 0:
                keyed.append(((0, st.st_mtime_ns), key, path))
            else:
                keyed.append(((2, *self.age_key(path, st)), key, path))
        twins = {twin_key for _, twin_key in self._fallback.values()}
        for path, st, head in compressed:
            key = (st.st_dev, st.st_ino)
            if not head or key in self._settled or key in ours or key in twins:
                continue
            if any(same_start(head, known_head) for known_head in known):
                self._settled.add(key)  # a compressed copy of a file we have
                continue
            if present and same_start(head, present):
                continue  # of the file that has the name now (not ours yet: not settled)
            try:  # decompressed now: one still being written is waited for, not cut
                fd = self.compressed.open(path, key)
            except Incomplete:
                self._drop_ready()
                return None
            if fd is not None:
                self._ready[key] = fd
                keyed.append(((1, st.st_mtime_ns), key, path))
        if len(self._settled) > 4 * MAX_PINS:  # only those still there matter
            self._settled &= {(c[1].st_dev, c[1].st_ino) for c in self.compressed.listing()}
        return [(key, path) for _, key, path in sorted(keyed)]

    def age_key(self, path: str, st: os.stat_result) -> tuple:
        """Sorts rotated files oldest first: by their rotated names (``.3`` before ``.2``,
        dates in order), which stay true while other writers still append to old files;
        deleted ones (rotated out) first; by time last written where the name says nothing."""
        if st.st_nlink == 0:
            return (0, 0, "", st.st_mtime_ns)
        match = _ROTATION_SUFFIX.match(os.path.basename(path)[len(self.base) + 1 :])
        if match is None:
            return (3, 0, "", st.st_mtime_ns)
        if match["num"] is not None:
            return (1, -int(match["num"]), "", st.st_mtime_ns)
        return (2, 0, re.sub(r"\D", "", match["date"]), st.st_mtime_ns)

    def _drop_ready(self) -> None:
        for fd in self._ready.values():
            os.close(fd)
        self._ready.clear()

    def release(self, known: dict[Key, bytes | None]) -> None:
        """Let go of pinned files that are known (the reader's, or there before), or empty and
        gone; known files arriving at a name later are not pinned (a pin of an old file the
        reader closed would hold it after it was deleted, neither readable by name nor gone).
        ``known``: by inode, None for a file the reader holds open, else its first bytes (a
        closed file's inode can be a new file's: known only if it starts the same)."""
        with self._lock:
            self._known = known
            for key, (fd, _) in list(self._pins.items()):
                try:
                    st = os.fstat(fd)
                except OSError:
                    st = None
                if st is None or (st.st_nlink == 0 and st.st_size == 0) or self._is_known(key, fd):
                    os.close(fd)
                    del self._pins[key]

    def _is_known(self, key: Key, fd: int) -> bool:
        if key not in self._known:
            return False
        head = self._known[key]
        if head is None:
            return True
        try:
            return bool(head) and os.pread(fd, len(head), 0) == head
        except OSError:
            return False

    def empty(self, key: Key) -> None:
        """A rotated file that never held a byte: it had the name, and nothing was lost."""
        if key not in self._empty and len(self._empty) < MAX_PINS:
            self._empty.add(key)
            self.taken += 1

    def escaped(self, current: Key) -> int:
        """Files that took the name but were gone before they could be opened, counted once
        things settled (no new file for a while, the path names ``current``); each once."""
        if self.arrivals <= self.taken or time.monotonic() - self.arrived_at < ARRIVALS_SETTLE:
            return 0
        try:
            st = os.stat(self.path)
        except OSError:
            return 0
        if (st.st_dev, st.st_ino) != current:
            return 0  # not settled: the next update takes the new file in
        lost, self.taken = self.arrivals - self.taken, self.arrivals
        return lost

    def close(self) -> None:
        self._drop_ready()
        with self._lock:
            for fd, _ in self._pins.values():
                os.close(fd)
            self._pins.clear()


def _open_file(path: str, key: Key, head: bytes = b"") -> int:
    """A descriptor of ``path`` if it is the file ``key`` starting with ``head``, else -1."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != key or not _starts_with(fd, head):
        os.close(fd)
        return -1
    return fd


def _starts_with(fd: int, head: bytes) -> bool:
    """Does the open file start with ``head`` (b"": not known, taken as yes)?"""
    try:
        return not head or os.pread(fd, len(head), 0) == head
    except OSError:
        return False


def _names_same_file(path: str, st: os.stat_result) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)
