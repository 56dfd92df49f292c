"""The pieces of a followed file's logical space: the physical files it is made of and the
byte ranges of them it holds, in order.

``SpaceFile`` is one physical file the followed name had at some time (or a copy of it): its
descriptor, how much of it is in the space, its first bytes (to recognise it after a rename, or
its copy). ``Segment`` is one range of one of them in the space.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

#: Bytes read back from the end of new input to find its last newline.
_TAIL_PROBE = 1 << 16


@dataclass(slots=True, eq=False)
class SpaceFile:
    """One physical file the path named at some time (or a copy of it)."""

    fd: int  # -1 once closed
    dev: int
    ino: int
    taken: int  # physical bytes of it already in the space
    head: bytes = b""  # its first bytes, to recognise it
    no_newline_to: int = 0  # no newline in [taken, this): the half line being written
    half_since: float = 0.0  # since when that half line is as it is (monotonic)
    gone: bool = False  # closed, and not found again: deleted
    read_since: float = 0.0  # when the index had read all of it (monotonic), 0: not yet
    grown_at: float = field(default_factory=time.monotonic)  # when it last grew
    reopen_at: float = 0.0  # no re-open attempt before this (monotonic)

    @property
    def key(self) -> tuple[int, int]:
        return self.dev, self.ino


#: The line end logview puts after a half line that will never be finished (a copytruncate
#: copy cut inside a line): the next file's first line stays a line of its own. Read as
#: ``b"\n"``; never opened, closed or looked for.
LINE_END = SpaceFile(-1, -1, -2, 0, reopen_at=float("inf"))


@dataclass(slots=True)
class Segment:
    """One range of one physical file in the logical space: ``[logical, logical + length)``."""

    file: SpaceFile
    physical: int  # file offset of the segment's first byte
    logical: int
    length: int


def same_start(head: bytes, known: bytes) -> bool:
    """Do a file's first bytes now go on from (or stop inside) the first bytes we knew?"""
    return head.startswith(known) or known.startswith(head)


def last_line_end(fd: int, start: int, end: int) -> int:
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


def lose_beyond(segments: list[Segment], starts: list[int], size: int, read_to: int,
                copy: SpaceFile, copy_size: int) -> tuple[int, int]:
    """The space's ranges of ``copy`` past ``copy_size`` hold bytes that are gone for good (a
    copytruncate copy shorter than what was taken from the file before it was cut). When
    they end the space and no one read them, the space just ends before them; else they
    become ranges of a gone file, which the index steps over (``gone_until``). Returns
    (bytes the space lost at its end, lost bytes no reader had read)."""
    if copy_size >= copy.taken:
        return 0, 0
    lost = copy.taken - copy_size
    last = segments[-1] if segments else None
    if (last is not None and last.file is copy and last.physical + last.length == copy.taken
            and last.length >= lost and size - lost >= read_to):
        last.length -= lost
        if not last.length:
            segments.pop()
            starts.pop()
        copy.taken = copy_size
        return lost, lost
    gone_file = SpaceFile(-1, -1, -1, 0, gone=True, reopen_at=float("inf"))
    unread = 0
    for i in range(len(segments) - 1, -1, -1):
        seg = segments[i]
        if seg.file is not copy or seg.physical + seg.length <= copy_size:
            continue
        cut = max(0, copy_size - seg.physical)  # bytes of the segment the copy holds
        gone = Segment(gone_file, seg.physical + cut, seg.logical + cut, seg.length - cut)
        unread += max(0, gone.logical + gone.length - max(gone.logical, read_to))
        if cut:
            seg.length = cut
            segments.insert(i + 1, gone)
            starts.insert(i + 1, gone.logical)
        else:
            segments[i] = gone
    return 0, unread
