"""What a copytruncate (logrotate) does to a followed file's space, and how it is read on.

The copy beside the file (same first bytes) holds what the writer added before the
truncation: the space's earlier ranges of the file become the copy's, its rest is read from
it, and the truncated file continues the space. A truncation with no copy to be found restarts
the space (``generation`` bumps) and says so. ``CopyTruncation`` is a part of ``FileSource``
(``sources/file.py``): the state and the helpers it uses (``_segments``, ``_files``,
``_siblings``, ``_append``, ``_between``, ``note``...) are the file source's.
"""

from __future__ import annotations

import os

from logview.sources.segments import SpaceFile, lose_beyond, same_start
from logview.sources.siblings import FINGERPRINT_BYTES


class CopyTruncation:
    """The copytruncate handling of ``FileSource`` (see there)."""

    def _truncated(self, current: SpaceFile) -> None:
        """Copytruncate: read on through the copy, or start over where there is none.

        The copy and the copies of whole cycles after it are looked for before anything
        changes; when the file was truncated again meanwhile, the next update looks again.
        """
        head = os.pread(current.fd, FINGERPRINT_BYTES, 0)  # of what has the name now
        copy = self._find_copy(current) if self.follow else None
        if copy is None:
            self._restart(current)
            return
        between = self._between({current.key, copy[0]}, head, copies=True)
        if os.pread(current.fd, FINGERPRINT_BYTES, 0) != head:
            return
        opened = self._open_all([copy])
        if not opened:
            self._restart(current)
            return
        self.copies_found += 1
        copy_file = opened[0]
        copy_file.head = current.head
        # Earlier ranges of the file are the copy's now (same offsets); its rest comes next.
        for seg in self._segments:
            if seg.file is current:
                seg.file = copy_file
        copy_file.taken = current.taken
        self._lose_beyond_copy(copy_file)
        self._files.insert(len(self._files) - 1, copy_file)
        self._take_copy(copy_file)
        for file in self._open_all(between):  # whole cycles that came and went meanwhile
            self._files.insert(len(self._files) - 1, file)
            self._take_copy(file)
        current.taken = current.no_newline_to = 0
        current.head = b""
        self._take_current()

    def _lose_beyond_copy(self, copy: SpaceFile) -> None:
        """Bytes taken from the file before it was cut that its copy does not hold (what the
        writer added between logrotate's copy and its truncation) are in neither file: the
        space loses them (``segments.lose_beyond``) and what no reader had read is said."""
        removed, unread = lose_beyond(self._segments, self._starts, self._size, self._read_to,
                                      copy, os.fstat(copy.fd).st_size)
        self._size -= removed
        if unread:
            self.note(f"{unread:,} bytes written just before a copytruncate rotation are in "
                      "neither the copy nor the truncated file (logrotate's own race between "
                      "its copy and its truncation): the records in them are lost")

    def _take_copy(self, copy: SpaceFile) -> None:
        """All of a copytruncate copy: it is not written once the file is truncated (its size
        is final), so one that ends inside a line (logrotate copied while a write was half
        done; the line's rest went with the truncation) has its part taken as it is, and
        said; the next file's bytes end it (``_append``)."""
        size = os.fstat(copy.fd).st_size
        if size <= copy.taken:
            return
        self._append(copy, size)
        if self._ends_with_newline():
            return
        self.note("a line was cut by a copytruncate rotation (logrotate copied it half "
                  "written; its rest is in neither file): shown as far as the copy holds it")

    def _find_copy(self, current: SpaceFile) -> tuple[tuple[int, int], str] | None:
        """The file beside the followed one that starts with the same bytes (its copy)."""
        if not current.head:
            return None
        best: tuple[int, tuple[int, int], str] | None = None
        for path, st, head in self._siblings.listing():
            key = (st.st_dev, st.st_ino)
            if key == current.key or self._closed_file(key, head) or not head or (
                    not same_start(head, current.head)):  # (shorter: copied before we read)
                continue
            if best is None or st.st_mtime_ns > best[0]:
                best = (st.st_mtime_ns, key, path)
        return None if best is None else (best[1], best[2])

    def _restart(self, current: SpaceFile) -> None:
        """A truncation with no copy: the current file starts over; so does the space."""
        self.note(f"truncated at byte {current.taken:,} and no copy of it was found beside "
                  "it: reading it again from its start (what was written just before the "
                  "truncation and not yet read is lost)")
        for old in self._files[:-1]:
            os.close(old.fd)
            old.fd = -1
            self._closed[old.key] = old  # known: never read again as a file in between
        current.taken = current.no_newline_to = 0
        current.head = b""
        self._files = [current]
        self._segments = []
        self._starts = []
        self._size = 0
        self._read_to = 0
        self.generation += 1
        self._take_current()
