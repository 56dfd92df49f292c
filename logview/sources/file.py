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

Only ``keep_rotations`` old files stay open; a range of one closed since is re-opened by inode
among the rotated files when it is read again, and reads as ``b""`` once the file is gone.
"""

from __future__ import annotations

import bisect
import os
import stat
import threading
import time

from logview.sources.base import ByteSource, SourceError
from logview.sources.file_copies import CopyTruncation
from logview.sources.file_poll import NamePoller
from logview.sources.segments import (
    LINE_END,
    Segment,
    SpaceFile,
    last_line_end,
    same_start,
)
from logview.sources.siblings import FINGERPRINT_BYTES, Siblings
from logview.sources.watch import DirectoryWatcher

#: Seconds between two attempts to re-open a closed old file whose range is read again.
REOPEN_INTERVAL = 1.0
#: Times a read tries to find the copy of a file truncated under it (truncated again while
#: it looked: copytruncate at full speed).
TRUNCATION_TRIES = 20
#: Seconds a followed file's last half line stays as it is before it is taken as it is.
HALF_LINE_QUIET = 0.5
#: Seconds an old file stays open after the index read all of it (a printer or a filter
#: reads its records a little later; a deleted file cannot be opened again).
CLOSE_AFTER = 5.0
#: Rotated files already deleted that stay open (read again by inode they cannot be).
KEEP_DELETED = 64
#: Seconds between two warnings that polling may have missed rotated files (the count of
#: looks in between goes into the next one).
TURNOVER_NOTE_INTERVAL = 10.0


class FileSource(CopyTruncation, ByteSource):
    """A regular file, followed across rotation and truncation when ``follow`` is true.

    ``keep_rotations``: old files kept open (re-read without a search, and still read when
    writers keep appending to them).
    """

    def __init__(self, path: str, follow: bool = True, *, name: str | None = None,
                 keep_rotations: int = 16) -> None:
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
        self._files: list[SpaceFile] = []  # open, oldest first; the last is the current file
        self._closed: dict[tuple[int, int], SpaceFile] = {}  # closed old files, by inode
        self._size = 0
        self._read_to = 0  # the space was read up to here at least once (by the index)
        self._poller: NamePoller | None = None  # where inotify is missing
        self._turnovers = 0  # polling's turnovers not said yet (``file_poll``)
        self._turnovers_said = -TURNOVER_NOTE_INTERVAL
        fd = self._open(path)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise SourceError(f"cannot follow {path}: not a regular file")
        self._files.append(SpaceFile(fd, st.st_dev, st.st_ino, 0))
        # Rotated files there before we came are not ours to read (--rotated reads them).
        self._before: dict[tuple[int, int], bytes] = {}
        self._siblings = Siblings(path)
        self._refused: set[tuple[int, int]] = set()  # new files that could not be opened
        self._watcher: DirectoryWatcher | None = None
        if follow:
            self._before = {(s.st_dev, s.st_ino): head for _, s, head in self._siblings.listing()}
            self._watcher = DirectoryWatcher(os.path.dirname(os.path.abspath(path)),
                                             self._siblings.is_ours, self._siblings.pin)
            self._watcher.watch_file(path)
            if not self._watcher.available:  # (from now: rotated files are found by polls)
                self._poller = NamePoller(path, self._siblings)
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
            tries = TRUNCATION_TRIES
            while offset < end and 0 <= index < len(self._segments):
                seg = self._segments[index]
                within = offset - seg.logical
                want = min(end, seg.logical + seg.length) - offset
                if seg.file is LINE_END:
                    parts.append(b"\n" * want)
                    offset += want
                    index += 1
                    continue
                if seg.file.fd < 0 and not self._reopen(seg.file):
                    break
                if want > 0:
                    data = os.pread(seg.file.fd, want, seg.physical + within)
                    if (self.follow and seg.file is self._files[-1]
                            and (len(data) < want or not self._still_same(seg.file))):
                        # Truncated (copytruncate) since its bytes were taken (it is shorter,
                        # or starts otherwise): read them from the copy, which the truncation
                        # handling puts in its place.
                        if not tries:
                            break
                        tries -= 1
                        generation = self.generation
                        self._take_current()
                        if self.generation != generation:
                            break  # no copy: the space started over
                        continue
                    parts.append(data)
                    offset += len(data)
                    if len(data) < want:  # the file shrank under us: the next update sees it
                        break
                index += 1
            self._read_to = max(self._read_to, offset)
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
                self._siblings.release(self._known_files())
                self._tell_escaped()
            if self.generation != generation:
                return self._size
            return self._size - before

    def _append(self, file: SpaceFile, upto: int) -> None:
        """Put ``file``'s bytes ``[taken, upto)`` at the end of the space."""
        if upto <= file.taken:
            return
        last = self._segments[-1] if self._segments else None
        if last is not None and last.file is file and last.physical + last.length == file.taken:
            last.length += upto - file.taken
        else:
            if last is not None and not self._ends_with_newline():
                self._add_line_end()  # another file's bytes never join a half line
            self._segments.append(Segment(file, file.taken, self._size, upto - file.taken))
            self._starts.append(self._size)
        self._size += upto - file.taken
        file.taken = upto
        file.grown_at = time.monotonic()
        if len(file.head) < FINGERPRINT_BYTES and file is not self._files[-1]:
            file.head = os.pread(file.fd, FINGERPRINT_BYTES, 0)  # (the current's: see below)

    def _add_line_end(self) -> None:
        """End the space's half line with a line end of logview's own (``LINE_END``): the
        half line no writer will finish (a quiet one, one a copy was cut in)."""
        self._segments.append(Segment(LINE_END, 0, self._size, 1))
        self._starts.append(self._size)
        self._size += 1

    def _ends_with_newline(self) -> bool:
        if not self._segments:
            return True
        seg = self._segments[-1]
        if seg.file.fd < 0:
            return True
        return os.pread(seg.file.fd, 1, seg.physical + seg.length - 1) == b"\n"

    def _take_old(self, old: SpaceFile) -> None:
        """Lines writers added to a rotated-away file through descriptors they still hold.

        Whole lines only (a half line there is being written); a half line the space ends in
        is ended first (``_append``): a file's half line never joins another file's line.
        """
        try:
            physical = os.fstat(old.fd).st_size
        except OSError:
            return
        if physical <= old.taken:
            return
        self._append(old, self._whole_lines_end(old, physical))

    def _take_whole(self, file: SpaceFile) -> None:
        """The whole lines of a file that had the name between two looks."""
        self._append(file, self._whole_lines_end(file, os.fstat(file.fd).st_size))

    @staticmethod
    def _whole_lines_end(file: SpaceFile, physical: int, *, quiet: float | None = None) -> int:
        """Where the whole lines of ``file`` below ``physical`` end (a half line being
        written is not searched twice). ``quiet``: a half line that stayed as it is for that
        many seconds is taken too (a prompt, a writer that died mid-line)."""
        if physical <= file.taken:
            return file.taken
        searched = file.no_newline_to if file.taken <= file.no_newline_to <= physical else 0
        start = max(file.taken, searched)
        end = last_line_end(file.fd, start, physical)
        if end > start:
            file.no_newline_to = 0
            return end
        # No newline in [taken, physical): a half line.
        now = time.monotonic()
        if physical != file.no_newline_to:
            file.no_newline_to = physical
            file.half_since = now
        elif quiet is not None and now - file.half_since >= quiet:
            file.no_newline_to = 0
            return physical
        return file.taken

    def _take_current(self) -> None:
        """Extend the current file to its size, or handle its truncation."""
        current = self._files[-1]
        try:
            # Its size, then its first bytes: a truncation in between shows in them (shorter,
            # or other bytes), and a file that grew in between has all of them read.
            st = os.fstat(current.fd)
            head = os.pread(current.fd, FINGERPRINT_BYTES, 0)
        except OSError:
            return
        physical = st.st_size
        # (Its first bytes only grow: fewer than we knew, even none, is a truncation too,
        # whatever the size says by the time it is looked at.)
        if physical < current.taken or not head.startswith(current.head):
            self._truncated(current)
            return
        if len(head) < min(physical, FINGERPRINT_BYTES):
            return  # truncated after its size was read, and rewritten: the next update sees it
        if physical == current.taken and not (current.taken == 0 and self._siblings.pinned):
            return  # (empty, but files arrived beside it: copies of whole cycles, maybe)
        between: list[tuple[tuple[int, int], str]] = []
        if current.taken == 0 and self.follow and self._has_the_name(current):
            # Nothing of this file seen yet: whole copytruncate cycles may have come and gone
            # before its first bytes; their copies come first. (Renamed away, it is followed
            # by the files that took the name after it: see _check_path.)
            between = self._between({current.key}, head, until=st.st_mtime_ns, copies=True)
        if not os.pread(current.fd, FINGERPRINT_BYTES, 0).startswith(head):
            return  # truncated again while we looked: the next update sees it
        for file in self._open_all(between):
            self._files.insert(len(self._files) - 1, file)
            self._take_copy(file)
        if len(head) > len(current.head):
            current.head = head
        # Following: whole lines only, so that the next file's bytes never join a half line
        # (the follower would not show a half line anyway).
        self._append(current, self._whole_lines_end(current, physical, quiet=HALF_LINE_QUIET)
                     if self.follow else physical)

    def _has_the_name(self, file: SpaceFile) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == file.key

    @staticmethod
    def _still_same(file: SpaceFile) -> bool:
        """Does the file still start as it did (no copytruncate since we took its bytes)?"""
        return not file.head or os.pread(file.fd, len(file.head), 0) == file.head

    def _check_path(self) -> None:
        """When the path names a new file: first the files that had the name in between (in
        the order they were written), then the new one.

        The files in between are chosen while the path still names the same new file (looked
        at again after the search); otherwise the next update looks again.
        """
        current = self._files[-1]
        try:
            st = os.stat(self.path)
        except OSError:
            return  # missing for now (deleted, mid-rotation): keep reading the open file
        key = (st.st_dev, st.st_ino)
        if key == current.key:
            return
        if not stat.S_ISREG(st.st_mode):
            if key not in self._refused:  # like tail -F: said once, the old file read on
                self._refused.add(key)
                self.note("the name now is no regular file (a directory, a pipe...): "
                          "reading on the file that had it")
            return
        again = next((f for f in self._files if f.key == key), None)
        if again is not None:  # a file of ours has the name again: it is the current one
            self._files.remove(again)
            self._files.append(again)
            return
        try:
            fd = self._open(self.path)
        except SourceError as exc:
            if isinstance(exc.__cause__, FileNotFoundError):
                return  # renamed away since the stat: the next update looks again
            if key not in self._refused:  # said once per file; tried again on each update
                self._refused.add(key)
                self.note(f"the new file that has the name cannot be read ({exc}): still "
                          "reading the old one, trying again")
            return
        newest = os.fstat(fd)
        between = self._between({current.key, key}, os.pread(fd, FINGERPRINT_BYTES, 0))
        try:
            still = os.stat(self.path)
        except OSError:
            still = None
        if between is None or (newest.st_dev, newest.st_ino) != key or still is None or (
                (still.st_dev, still.st_ino) != key):
            os.close(fd)  # rotated again while we looked (or a compressed copy is being made)
            return
        self._take_current()  # the old file's last lines come first
        for file in self._open_all(between):
            self._files.append(file)
            self._take_whole(file)
        self._files.append(SpaceFile(fd, *key, 0))
        self.rotations += 1
        self._siblings.taken += 1
        if self._watcher is not None:
            self._watcher.watch_file(self.path)
        self._take_current()

    def _between(self, exclude: set[tuple[int, int]], present: bytes, *, until: int | None = None,
                 copies: bool = False) -> list[tuple[tuple, str]] | None:
        """Rotated files that are none we know, oldest first: they had the name (or were
        copied from it: ``copies``) after the file we followed. ``present``: the first bytes
        of the file that has the name now (a copy of it, not yet truncated, is not in
        between); ``until``: only files last written by then (st_mtime_ns)."""
        found: list[tuple[tuple, tuple[int, int], str]] = []
        candidates: list[tuple[str, os.stat_result, bytes]] = []
        ours = {f.key for f in self._files} | exclude
        heads = {f.head for f in self._files}
        for path, st, head in self._siblings.listing():
            key = (st.st_dev, st.st_ino)
            if st.st_size == 0 and key not in ours:
                self._siblings.empty(key)  # (had the name, held nothing: not lost)
            if key in ours or st.st_size == 0 or (until is not None and st.st_mtime_ns > until):
                continue
            if self._closed_file(key, head):
                continue  # an old file of ours, closed for now
            if key in self._before and head.startswith(self._before[key]) and head:
                continue  # there before we came
            if any(known and same_start(head, known) for known in heads):
                continue  # a copy of a file we have (``cp app.log app.log.bak``)
            if present and head and (present.startswith(head) or head.startswith(present)):
                continue  # a copy of what has the name now
            # (copies are not written once made: mtimes order them; names shift under a
            # listing, but break the ties of copies made within one tick of the file clock)
            found.append(((st.st_mtime_ns, *self._siblings.age_key(path, st)), key, path))
            candidates.append((path, st, head))
        if not copies:  # (with the compressed rotations of files that escaped: ``in_order``)
            return self._siblings.in_order(candidates, self._known_heads, present, ours)
        return [(key, path) for _, key, path in sorted(found)]

    def _known_files(self) -> dict[tuple[int, int], bytes | None]:
        """The files the reader has, by inode: None for those held open (the inode is theirs
        for sure), else their first bytes (a closed file's inode may be a new file's now)."""
        known: dict[tuple[int, int], bytes | None] = dict(self._before)
        known.update((key, f.head) for key, f in self._closed.items())
        known.update((f.key, None) for f in self._files)
        return known

    def _known_heads(self) -> list[bytes]:
        """The first bytes of the space's files (open ones read now) and of those there before."""
        heads = [f.head for f in self._closed.values()] + list(self._before.values())
        for file in self._files:
            heads.append(os.pread(file.fd, FINGERPRINT_BYTES, 0) if file.fd >= 0 else file.head)
        return heads

    def _closed_file(self, key: tuple[int, int], head: bytes) -> bool:
        """Is this an old file of ours, closed for now? (A file that only has the inode of
        one that is gone is not: the closed one is forgotten.)"""
        closed = self._closed.get(key)
        if closed is None:
            return False
        if head.startswith(closed.head):
            return True
        del self._closed[key]
        return False

    def _open_all(self, files: list[tuple[tuple[int, int], str]]) -> list[SpaceFile]:
        opened: list[SpaceFile] = []
        for key, path in files:
            fd = self._siblings.open(path, key)
            if fd is not None:
                # Known by what it is: a compressed copy's bytes are a file of their own (the
                # deleted file's inode may be a new file's now), and by its first bytes (a
                # late descriptor of a file read from its copy is a copy of ours).
                st = os.fstat(fd)
                opened.append(SpaceFile(fd, st.st_dev, st.st_ino, 0,
                                        os.pread(fd, FINGERPRINT_BYTES, 0)))
                self.rotations += 1
                self._siblings.taken += 1  # (a file that may have had the name: see escaped)
        return opened

    def _tell_escaped(self) -> None:
        """Say how many files took the name but were gone before they could be opened (only
        at full speed with few rotated files kept: they are opened the moment they appear)."""
        for text in self._siblings.compressed.take_damaged():
            self.note(text)
        if self._poller is not None:
            self._turnovers += self._poller.take_turnovers()
            now = time.monotonic()
            if self._turnovers and now >= self._turnovers_said + TURNOVER_NOTE_INTERVAL:
                self._turnovers_said = now
                self.note(f"the rotated files all changed between two looks ({self._turnovers:,}"
                          " time(s); no inotify here: the directory is polled): files that took "
                          "the name in between may have been rotated away and deleted unread "
                          "(keep more rotated files)")
                self._turnovers = 0
        lost = self._siblings.escaped(self._files[-1].key)
        if lost:
            self.note(f"{lost:,} file{'s' if lost > 1 else ''} took the name and "
                      f"{'were' if lost > 1 else 'was'} rotated away and deleted before logview "
                      "could open them: their records are lost (keep more rotated files, e.g. "
                      "a larger backupCount)")

    def _close_old_files(self) -> None:
        """Keep the ``keep_rotations`` old files that grew last open; close the others once
        everything of them was read (the index reads each byte at least once).

        A closed file is found again by inode when its range is read again. One that was
        deleted cannot be: up to ``KEEP_DELETED`` of those stay open (an index that starts
        over, or a filter over every record, reads them again).
        """
        if len(self._files) - 1 <= self.keep_rotations:
            return
        first_unread = max(0, bisect.bisect_right(self._starts, self._read_to) - 1)
        unread = {seg.file for seg in self._segments[first_unread:]
                  if seg.logical + seg.length > self._read_to}
        linked: list[SpaceFile] = []
        deleted: list[SpaceFile] = []
        now = time.monotonic()
        for file in self._files[:-1]:
            st = os.fstat(file.fd)
            if file in unread or st.st_size > file.taken:
                continue  # not read yet, or a writer still adds to it
            if not file.read_since:
                file.read_since = now
            if now - file.read_since < CLOSE_AFTER:
                continue  # the index has read it; the records' readers may not have yet
            (deleted if st.st_nlink == 0 else linked).append(file)
        excess = len(self._files) - 1 - self.keep_rotations
        closing = sorted(linked, key=lambda f: f.grown_at)[:excess]
        deleted.sort(key=lambda f: f.grown_at)
        closing += deleted[: max(0, len(deleted) - KEEP_DELETED)]
        for file in closing:
            os.close(file.fd)
            file.fd = -1
            file.reopen_at = 0.0
            self._closed[file.key] = file
        self._files = [f for f in self._files if f.fd >= 0]

    def _reopen(self, file: SpaceFile) -> bool:
        """Open a closed old file again, found by inode among the rotated files (for a read
        of its range); False when it is gone."""
        now = time.monotonic()
        if now < file.reopen_at:
            return False
        file.reopen_at = now + REOPEN_INTERVAL  # when it is gone: not a search per read
        for path, st, head in self._siblings.listing():
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
        file.gone = True
        return False

    def gone_until(self, offset: int) -> int:
        """The end of the ranges at ``offset`` whose files were deleted after they were read
        and closed (said once per file)."""
        with self._lock:
            index = bisect.bisect_right(self._starts, offset) - 1
            end = unsaid = offset
            while 0 <= index < len(self._segments):
                seg = self._segments[index]
                if seg.file is LINE_END or seg.file.fd >= 0 or not (
                        seg.file.gone or not self._reopen(seg.file)):
                    break
                if not seg.file.gone:
                    break  # not looked for yet (a search at most every REOPEN_INTERVAL)
                end = seg.logical + seg.length
                if seg.file.ino < 0:  # copytruncate's lost bytes: said when they were lost
                    unsaid = end
                index += 1
            if end > unsaid:
                self.note(f"{end - unsaid:,} bytes of rotated files deleted since they were read "
                          "could not be read again: the records there are left out")
            return end

    @staticmethod
    def _open(path: str) -> int:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SourceError(f"cannot open {path}: {exc.strerror}") from exc

    def wait(self, timeout: float) -> bool:
        """Block until the file may have changed (inotify, else polls: ``file_poll``)."""
        if not self.follow:
            time.sleep(timeout)
            return False
        watcher = self._watcher
        if watcher is not None and watcher.available:
            return watcher.wait(timeout)
        self._poller = self._poller or NamePoller(self.path, self._siblings)
        return self._poller.wait(timeout, self._unread)

    def _unread(self) -> list[int]:
        """Bytes of each open file not yet taken (-1: it cannot be looked at)."""
        with self._lock:
            sizes = []
            for file in self._files:
                try:
                    sizes.append(os.fstat(file.fd).st_size - file.taken)
                except OSError:
                    sizes.append(-1)
        return sizes

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        if self._poller is not None:
            self._poller.close()
        self._siblings.close()
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
