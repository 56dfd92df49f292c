"""Append-only storage for input that cannot be read twice (stdin, FIFOs, decompressed data).

An ``InputSpool`` keeps the first bytes in memory and, past a limit, moves them to anonymous
temporary files (``tempfile.TemporaryFile``: O_TMPFILE, no name, so nothing is left behind even
when logview is killed). ``SpoolSource`` shows a spool as a ``ByteSource``; ``pump_fd`` is the
blocking-read loop the stream sources run in their reader threads.

Bounded: the spool of a stream (stdin, a FIFO; ``stream_spool``) has a cap (``--spool-max``,
by default ``default_cap``: min(8 GiB, half the free space of the temporary directory at
start)). Past it, it is a ring buffer: its bytes live in fixed-size chunk files (an eighth of
the cap, 128 KiB to 64 MiB) and the oldest whole chunk is closed (its disk space freed). Offsets
never move: the space stays append-only, and ``read_at`` at an offset whose chunk was dropped
returns ``b""``, even when the range asked reaches into kept bytes (so a record whose start was
dropped reads as an empty record: an empty row in the viewer; the index never needs those
bytes again, see below). Each drop is counted (bytes, and lines by their newlines) and said through
``ByteSource.note``: "spool cap 2.0 GiB reached: dropped the oldest 64.0 MiB (812,345 lines);
set --spool-max to keep more" (the first at once, then at most one summary every
``NOTICE_INTERVAL`` seconds and one at the end of the input).

A chunk is dropped only once its readers are past it (``_ReadWindow``): between two updates of
the source, the lowest offset read is one the index and the printer never read below again
(the viewer may: it gets empty records). So the index never meets a dropped range it has not indexed (it could not step
over one), and ``--print`` prints every record: when input comes faster than logview indexes
(or prints) it and the cap is reached with nothing passed yet, reading pauses until they catch
up (the pipe holds the producer back), which a live stream at a sane rate never sees. The
viewer never holds the producer back: records on screen are dropped like the others. The spool
holds at most the cap plus one read (``READ_CHUNK``) and the unfinished line after it; more
only while a single line is longer than the cap: the index cannot step over part of a line,
so it is kept whole (up to the disk's free space, see below).

Disk full (or any write error): the spool stops reading, keeps what it has and says so ("disk
full in /tmp: stopped reading after N bytes"); the viewer keeps working on what it has.
Decompressed data (``logview.sources.rotated``) is read once from a file and has no cap.

(Not the listener's spool of received records: that is ``logview.listen.received_writer``.)
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import threading
import time
from collections import deque
from typing import IO

from logview.sources.base import ByteSource, SourceError

#: Bytes kept in memory before the spool moves to temporary files.
DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024
#: Bytes asked of a pipe per read.
READ_CHUNK = 1 << 20
#: The default cap of a stream's spool: at most this, and at most ``DEFAULT_CAP_SHARE`` of the
#: free space of the temporary directory when the first stream spool is made.
DEFAULT_CAP_CEILING = 8 << 30
DEFAULT_CAP_SHARE = 0.5
#: The smallest cap (a chunk is an eighth of the cap, a record may span several).
MIN_CAP = 1 << 20
#: Chunk files: an eighth of the cap, within these bounds (more than the head of the input
#: that format detection reads before anything is indexed, ``store.DETECT_BYTES``).
MIN_CHUNK_BYTES = 128 << 10
MAX_CHUNK_BYTES = 64 << 20
#: While the reader waits for room, how often a consumer is told to update anyway.
WAITING_POLL = 0.05
#: Seconds input must pause before an unfinished last line is shown (``SpoolSource.update``).
PARTIAL_LINE_DELAY = 0.1
#: Seconds between two notices of drops (the first is told at once, the last at the end).
NOTICE_INTERVAL = 30.0

_UNCAPPED_CHUNK = 1 << 62  # one file, never dropped
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

_cap_option: int | None = None  # --spool-max: None = the default, 0 = no cap
_default_cap: int | None = None  # computed once, when first needed


# -- settings ----------------------------------------------------------------------------------


def configure(*, max_bytes: int | None = None) -> None:
    """The cap of the spools of streams made from now on (``--spool-max``): None for the
    default (``default_cap``), 0 for no cap, else bytes (at least ``MIN_CAP``)."""
    global _cap_option
    if max_bytes is not None and 0 < max_bytes < MIN_CAP:
        raise ValueError(f"a spool cap of {format_size(max_bytes)} is too small: give at least "
                         f"{format_size(MIN_CAP)}, or 0 for no cap")
    _cap_option = max_bytes


def default_cap(directory: str | None = None) -> int:
    """min(8 GiB, half the free space of ``directory`` (the temporary directory)), at least
    ``MIN_CAP``."""
    try:
        st = os.statvfs(directory or tempfile.gettempdir())
        free = st.f_bavail * st.f_frsize
    except OSError:
        return DEFAULT_CAP_CEILING
    return max(MIN_CAP, min(DEFAULT_CAP_CEILING, int(free * DEFAULT_CAP_SHARE)))


def stream_cap() -> int | None:
    """The cap of a new stream spool in bytes, or None for no cap."""
    global _default_cap
    if _cap_option == 0:
        return None
    if _cap_option is not None:
        return _cap_option
    if _default_cap is None:
        _default_cap = default_cap()
    return _default_cap


def stream_spool() -> InputSpool:
    """A spool for a stream (stdin, a FIFO): capped as configured."""
    return InputSpool(max_bytes=stream_cap())


def chunk_bytes_for(max_bytes: int) -> int:
    """The size of the chunk files of a spool capped at ``max_bytes``: an eighth of it."""
    return max(MIN_CHUNK_BYTES, min(MAX_CHUNK_BYTES, max_bytes // 8))


_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgtp])(?:i?b)?|b)?\s*", re.IGNORECASE)
_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_size(text: str) -> int:
    """Bytes from ``500M``, ``2G``, ``1.5GiB``, ``64k``, ``1000000``: K, M, G, T are powers of
    1024 (``KB``, ``KiB`` alike); raises ``ValueError``."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (try 500M, 2G, 1.5GiB or a number of bytes)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** _UNITS.get((unit or "").lower(), 0))


def format_size(size: int) -> str:
    """``2.0 GiB``, ``64.0 MiB``, ``512 B``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


# -- the spool ---------------------------------------------------------------------------------


class _WriteFailed(Exception):
    def __init__(self, exc: OSError, written: int) -> None:
        super().__init__(exc.strerror)
        self.exc = exc
        self.written = written


class InputSpool:
    """Input read once, kept to be read back: thread-safe append-only bytes, memory first,
    then chunk files; with ``max_bytes`` the oldest chunks are dropped (see the module).

    ``append`` (one writer thread) returns False once the spool takes no more: the disk is
    full (``full`` says why) or the spool was interrupted or closed.
    """

    def __init__(self, memory_limit: int = DEFAULT_MEMORY_LIMIT, *,
                 max_bytes: int | None = None, chunk_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes or None
        if chunk_bytes is None:
            chunk_bytes = _UNCAPPED_CHUNK if self.max_bytes is None else chunk_bytes_for(
                self.max_bytes)
        self.chunk_bytes = chunk_bytes
        # A capped spool spills once it holds a chunk, so that every byte can be dropped.
        self.memory_limit = memory_limit if self.max_bytes is None else min(memory_limit,
                                                                           chunk_bytes)
        self._cond = threading.Condition(threading.Lock())
        self._memory = bytearray()
        self._files: deque[IO[bytes]] = deque()  # the kept chunks, oldest first
        self._lines: deque[int] = deque()  # newlines of each kept chunk
        self._first = 0  # number of the oldest kept chunk (those before were dropped)
        self._spilled = False
        self._size = 0
        self._line_end = 0
        self._floor = 0  # offsets below this are read by nobody any more (may be dropped)
        self._closed = False
        self._interrupted = False
        #: The reader waits for the index to pass the oldest chunk (back-pressure).
        self.waiting = False
        self.dropped_bytes = 0
        self.dropped_lines = 0
        #: Why the spool takes no more input (disk full), or None.
        self.full: str | None = None

    @property
    def spilled(self) -> bool:
        """True once the bytes live in temporary files."""
        return self._spilled

    def size(self) -> int:
        return self._size

    def line_end(self) -> int:
        """The offset just past the last newline written (0 if none)."""
        return self._line_end

    @property
    def floor(self) -> int:
        """Offsets below this are read by nobody any more (``advance_floor``)."""
        return self._floor

    def first_kept(self) -> int:
        """The offset of the oldest byte still kept (bytes before it were dropped)."""
        return self._first * self.chunk_bytes if self._spilled else 0

    def kept_bytes(self) -> int:
        """Bytes held now (in memory or on disk)."""
        return self._size - self.first_kept()

    # -- writing ---------------------------------------------------------------------------

    def append(self, data: bytes) -> bool:
        """Add bytes at the end; False once the spool takes no more (disk full, closed).

        Past the cap the oldest chunks are dropped; when none may be yet (the index has not
        read past it) this waits until one may, or until ``interrupt``/``close``. It waits
        only with the spool ending at a line's end: readers can then always read every line
        and let it go on (an unfinished line is never waited on, and never dropped: one
        longer than the cap is kept whole), and what a reader finds then is never half a line.
        """
        if not data:
            return not self._stopped()
        with self._cond:
            if self._stopped():
                return False
            cut = data.rfind(b"\n") + 1 if self.max_bytes is not None else len(data)
            for piece, may_wait in ((data[:cut], True), (data[cut:], False)):
                if not piece:
                    continue
                try:
                    self._write(piece)
                except _WriteFailed as failure:
                    self.full = _full_message(failure.exc, self._size)
                    return False
                self._enforce_cap(may_wait)
                if self._stopped():
                    return False
            return True

    def _write(self, data: bytes) -> None:
        start = self._size
        if not self._spilled and self._size + len(data) > self.memory_limit:
            self._spill()
        if not self._spilled:
            self._memory += data
            self._size += len(data)
        else:
            self._write_chunks(data)
        newline = data.rfind(b"\n")
        if newline >= 0:
            self._line_end = start + newline + 1

    def _stopped(self) -> bool:
        return self._closed or self._interrupted or self.full is not None

    def _new_chunk(self) -> IO[bytes]:
        try:
            # TemporaryFile has no name on Linux (O_TMPFILE): nothing is left behind on a crash.
            return tempfile.TemporaryFile(prefix="logview-spool-")
        except OSError as exc:
            raise _WriteFailed(exc, 0) from exc

    def _spill(self) -> None:
        """Move the bytes held in memory to chunk files (all or nothing)."""
        memory = bytes(self._memory)
        files: list[IO[bytes]] = []
        lines: list[int] = []
        try:
            for start in range(0, max(1, len(memory)), self.chunk_bytes):
                piece = memory[start : start + self.chunk_bytes]
                files.append(self._new_chunk())
                _write_all(files[-1].fileno(), piece, 0)
                lines.append(piece.count(b"\n"))
        except _WriteFailed:
            for handle in files:
                handle.close()
            raise
        self._files.extend(files)
        self._lines.extend(lines)
        self._spilled = True
        self._memory = bytearray()

    def _write_chunks(self, data: bytes) -> None:
        view = memoryview(data)
        chunk = self.chunk_bytes
        pos = 0
        while pos < len(view):
            number, within = divmod(self._size, chunk)
            if number - self._first == len(self._files):
                self._files.append(self._new_chunk())
                self._lines.append(0)
            take = min(len(view) - pos, chunk - within)
            piece = view[pos : pos + take]
            try:
                _write_all(self._files[-1].fileno(), piece, within)
            except _WriteFailed as failure:
                self._lines[-1] += bytes(piece[: failure.written]).count(b"\n")
                self._size += failure.written
                raise
            self._lines[-1] += data.count(b"\n", pos, pos + take)
            self._size += take
            pos += take

    def _enforce_cap(self, may_wait: bool) -> None:
        """Drop the oldest chunks while over the cap, waiting until readers passed them."""
        cap = self.max_bytes
        if cap is None:
            return
        while self.kept_bytes() > cap and len(self._files) > 1 and not self._stopped():
            oldest_end = (self._first + 1) * self.chunk_bytes
            if oldest_end <= self._floor:
                self._drop_oldest()
                continue
            if not may_wait:
                return
            self.waiting = True
            try:
                self._cond.wait()
            finally:
                self.waiting = False

    def _drop_oldest(self) -> None:
        self._files.popleft().close()
        self.dropped_lines += self._lines.popleft()
        self.dropped_bytes += self.chunk_bytes
        self._first += 1

    def advance_floor(self, offset: int) -> None:
        """Nobody reads below ``offset`` any more: chunks before it may be dropped."""
        with self._cond:
            if offset > self._floor:
                self._floor = offset
                self._cond.notify_all()

    def interrupt(self) -> None:
        """Take no more input: a waiting ``append`` returns False now (closing a source)."""
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    # -- reading ---------------------------------------------------------------------------

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``; ``b""`` at an offset whose chunk was dropped."""
        with self._cond:
            end = min(offset + size, self._size)
            if end <= offset or offset < 0 or self._closed:
                return b""
            if not self._spilled:
                return bytes(self._memory[offset:end])
            chunk = self.chunk_bytes
            if offset < self._first * chunk:
                return b""
            parts = []
            pos = offset
            while pos < end:
                number, within = divmod(pos, chunk)
                fd = self._files[number - self._first].fileno()
                want = min(end - pos, chunk - within)
                data = os.pread(fd, want, within)
                if not data:
                    break
                parts.append(data)
                pos += len(data)
            return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        """Free the memory and delete the temporary files."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            self._memory = bytearray()
            while self._files:
                self._files.popleft().close()
            self._lines.clear()


def _write_all(fd: int, data, offset: int) -> None:
    view = memoryview(data)
    written = 0
    while written < len(view):
        try:
            written += os.pwrite(fd, view[written:], offset + written)
        except OSError as exc:
            raise _WriteFailed(exc, written) from exc


def _full_message(exc: OSError, size: int) -> str:
    where = tempfile.gettempdir()
    if exc.errno in _FULL_ERRNOS:
        return (f"disk full in {where}: stopped reading after {size:,} bytes; free some space "
                "or set TMPDIR to a bigger file system")
    return (f"cannot write the spool in {where} ({exc.strerror}): stopped reading after "
            f"{size:,} bytes; set TMPDIR to a writable directory")


# -- the source --------------------------------------------------------------------------------


class _ReadWindow:
    """What was read from a capped source between two of its updates, to know which offsets
    nobody will read again (the spool's floor; chunks below it may be dropped).

    The index reads forward: each ``update`` of the source starts one of its passes, which
    reads at the offset it reached (``_end``) and beyond (look-ahead probes), never before;
    the printer and the viewer read records the index has passed. So between two updates the
    lowest offset read is one that every reader is at or past: that is the floor. A pass that
    read nothing had nothing new: then the floor is where the contiguous run of read complete
    lines (``_islands``, counted up to each read's last newline, so an unfinished last line
    is never passed) goes from the floor.

    Reads by any thread count, but not those below the floor: a viewer showing records that
    were dropped (or may be) holds nothing back. Thread-safe (the index reads from a pool).
    """

    MAX_ISLANDS = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._floor = 0  # as of the last update
        self._low: int | None = None  # the lowest offset read since, at or above the floor
        self._islands: list[list[int]] = []  # sorted disjoint [start, end) of read lines

    def saw(self, offset: int, data: bytes) -> None:
        end = offset + data.rfind(b"\n") + 1
        with self._lock:
            if offset < self._floor:
                return
            if self._low is None or offset < self._low:
                self._low = offset
            if end > offset:
                self._add(offset, end)

    def _add(self, start: int, end: int) -> None:
        islands = self._islands
        merged = [start, end]
        keep = []
        for island in islands:
            if island[1] < merged[0] or island[0] > merged[1]:
                keep.append(island)
            else:
                merged = [min(merged[0], island[0]), max(merged[1], island[1])]
        keep.append(merged)
        keep.sort()
        del keep[self.MAX_ISLANDS :]  # the farthest islands matter least
        self._islands = keep

    def passed(self, floor: int) -> int:
        """The new floor (at least ``floor``), and a new window."""
        with self._lock:
            low, self._low = self._low, None
            if low is None:  # nothing read: the run of read lines from the floor
                low = floor
                for start, end in self._islands:
                    if start <= low < end:
                        low = end
            low = max(low, floor)
            self._floor = low
            self._islands = [island for island in self._islands if island[1] > low]
            return low



class SpoolSource(ByteSource):
    """A ``ByteSource`` over a spool fed by another thread (``append``/``finish``).

    ``size()`` is what the last ``update()`` took in, so ``finished`` only turns true once
    every byte is visible: the index never flushes a record that is still arriving. An
    unfinished last line is taken in only once input has paused for ``PARTIAL_LINE_DELAY``
    (less than the viewer's quiet flush), so a follower that flushes the last record as soon
    as input is quiet does not cut a line that is still arriving in pieces. What the spool
    dropped or could not keep is noted (``ByteSource.note``) by ``update``.
    """

    def __init__(self, name: str, spool: InputSpool | None = None) -> None:
        self.name = name
        self.spool = spool or InputSpool()
        self.finished = False
        self.error: str | None = None  # why the input ended early, if it did
        self._said_error = False
        self._visible = 0
        self._seen = (0, 0.0)  # the spool's size when an update last saw it change, and when
        self._eof = False
        self._event = threading.Event()
        # What readers did since the last update (see ``_ReadWindow``).
        self._reads = _ReadWindow() if self.spool.max_bytes is not None else None
        # Drops told so far (bytes, lines), and when.
        self._told = (0, 0)
        self._told_at = 0.0
        self._told_full = False

    def append(self, data: bytes) -> bool:
        """Add input (reader thread); False once the spool takes no more."""
        kept = self.spool.append(data)
        self._event.set()
        return kept

    def finish(self, error: str | None = None) -> None:
        """No more input will come (call after the last ``append``)."""
        if error:
            self.error = error
        self._eof = True
        self._event.set()

    def tell_error(self, fatal: bool) -> None:
        """Once, when the input ended early: raise its error (``fatal``: --print) or say it."""
        if self.finished and self.error and not self._said_error:
            self._said_error = True
            if fatal:
                raise SourceError(self.error)
            self.note(self.error.removeprefix(f"{self.name}: "))

    def size(self) -> int:
        return self._visible

    def read_at(self, offset: int, size: int) -> bytes:
        data = self.spool.read_at(offset, min(size, self._visible - offset))
        if self._reads is not None and size > 1:
            self._reads.saw(offset, data)
        return data

    def gone_until(self, offset: int) -> int:
        """Past the bytes dropped by the cap when ``offset`` is among them (the index never
        meets them, see the module; if it did, it could go on from there)."""
        return max(offset, self.spool.first_kept())

    def update(self) -> int:
        self._pass_window()
        eof = self._eof  # read before the size: every byte is in once eof is set
        line_end = self.spool.line_end()
        size = self.spool.size()
        now = time.monotonic()
        if size != self._seen[0]:
            self._seen = (size, now)
        paused = now - self._seen[1] >= PARTIAL_LINE_DELAY
        new = size if eof or paused else max(self._visible, line_end)
        added = new - self._visible
        self._visible = new
        if eof:
            self.finished = True
        self._tell(final=eof)
        return added

    def _pass_window(self) -> None:
        """Let the spool drop what no reader will read again (see ``_ReadWindow``)."""
        if self._reads is not None:
            self.spool.advance_floor(self._reads.passed(self.spool.floor))

    def _tell(self, final: bool) -> None:
        """Note what the spool dropped (the first drop at once, then in summaries)."""
        spool = self.spool
        dropped = (spool.dropped_bytes, spool.dropped_lines)
        told_bytes, told_lines = self._told
        now = time.monotonic()
        if dropped[0] > told_bytes and (
            not told_bytes or final or spool.full or now - self._told_at >= NOTICE_INTERVAL
        ):
            cap = format_size(spool.max_bytes or 0)
            if not told_bytes:
                self.note(f"spool cap {cap} reached: dropped the oldest "
                          f"{format_size(dropped[0])} ({dropped[1]:,} lines); set --spool-max "
                          "to keep more")
            else:
                self.note(f"spool cap {cap}: dropped {format_size(dropped[0] - told_bytes)} "
                          f"more ({dropped[1] - told_lines:,} lines; "
                          f"{format_size(dropped[0])}, {dropped[1]:,} lines in all)")
            self._told = dropped
            self._told_at = now
        if spool.full and not self._told_full:
            self._told_full = True
            self.note(spool.full)

    def wait(self, timeout: float) -> bool:
        if self.spool.waiting:  # the reader waits for readers to move on: update soon
            self._event.wait(min(timeout, WAITING_POLL))
            self._event.clear()
            return True
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired

    def close(self) -> None:
        self.spool.close()
