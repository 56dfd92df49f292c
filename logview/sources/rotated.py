"""Rotated sets (``app.log.2.gz app.log.1 app.log``) read as one space, and compressed files.

``find_rotated_set`` finds the members beside a file (``--rotated``), ``order_rotated`` groups a
shell-expanded ``app.log*`` into sets; both order members oldest first. ``RotatedSetSource``
concatenates the members, following the newest like ``tail -F``; compressed members are
decompressed a slice per ``update()`` into a spool, never wholly into memory.
"""

from __future__ import annotations

import bz2
import lzma
import os
import re
import threading
import zlib
from typing import IO

from logview.record import printable
from logview.sources.base import ByteSource, SourceError, StaticFileSource
from logview.sources.file import FileSource
from logview.sources.spool import InputSpool, SpoolSource

#: Magic numbers of the compressions read transparently.
MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_OPENERS = {"gz": lambda path, mode: _GzipStream(path), "bz2": bz2.open, "xz": lzma.open}
_COMPRESSED_EXT = re.compile(r"\.(gz|bz2|xz)$")
#: Decompressed bytes produced per ``update()`` (keeps the index worker responsive).
DECOMPRESS_SLICE = 8 * 1024 * 1024
_CHUNK = 1 << 20

# A rotation suffix after the base name: .N (RotatingFileHandler, logrotate), -YYYYMMDD[HH...]
# (logrotate dateext), .YYYY-MM-DD[_HH[-MM[-SS]]] (TimedRotatingFileHandler), each optionally
# compressed. It may also stand before the live file's extension: loguru names its rotated
# files app.2026-12-02_10-00-00_123456.log beside app.log (``_INFIX``).
_SUFFIX = re.compile(
    r"""^(?P<base>.+?)
    (?:
        \.(?P<num>\d{1,6})
      | [-.](?P<date>\d{4}-?\d{2}-?\d{2}(?:[_T-]?\d{2}(?:[-:]?\d{2}(?:[-:]?\d{2})?)?)?(?:[-_]\d+)?)
    )
    (?:\.(?:gz|bz2|xz))?$""",
    re.VERBOSE,
)


def compression_of(path: str) -> str | None:
    """``"gz"``, ``"bz2"``, ``"xz"`` from the file's first bytes, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError:
        return None
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


#: A name's extension (and compression) after which a rotation suffix may stand in its stem.
_INFIX = re.compile(r"^(?P<stem>.+?)(?P<ext>\.[A-Za-z]{2,5})(?:\.(?:gz|bz2|xz))?$")


def _split_name(path: str) -> tuple[str, tuple]:
    """(base path, sort key) of a member; the key sorts oldest first, the live file last."""
    directory, name = os.path.split(path)
    match = _SUFFIX.match(name)
    ext = ""
    if match is None:
        infix = _INFIX.match(name)
        match = _SUFFIX.match(infix["stem"]) if infix is not None else None
        if match is None:
            bare = _COMPRESSED_EXT.sub("", name)
            return os.path.join(directory, bare), (2, 0, "")
        ext = infix["ext"]  # type: ignore[index]
    base = os.path.join(directory, match["base"] + ext)
    if match["num"] is not None:
        return base, (1, -int(match["num"]), "")
    return base, (0, 0, re.sub(r"\D", "", match["date"]))


def rotation_key(path: str) -> tuple:
    """Sort key placing rotated members oldest first and the live file last."""
    return _split_name(path)[1]


def order_rotated(paths: list[str]) -> list[list[str]]:
    """Group paths into rotated sets (by base name), each ordered oldest -> newest.

    Sets keep the order in which their first member appeared; a path that is no rotation of
    anything is a set of its own.
    """
    groups: dict[str, list[str]] = {}
    for path in paths:
        base, _key = _split_name(path)
        members = groups.setdefault(base, [])
        if path not in members:
            members.append(path)
    return [sorted(members, key=rotation_key) for members in groups.values()]


def find_rotated_set(path: str) -> list[str]:
    """The rotated set beside ``path`` (itself included), oldest first."""
    directory = os.path.dirname(path)
    name = os.path.basename(path)
    base, _key = _split_name(path)
    try:
        entries = os.listdir(directory or ".")
    except OSError as exc:
        raise SourceError(f"cannot list {directory or '.'}: {exc.strerror}") from exc
    members = [path]
    for entry in entries:
        if entry == name or not entry.startswith(os.path.splitext(os.path.basename(base))[0]):
            continue
        candidate = os.path.join(directory, entry)
        if _split_name(candidate)[0] == base and os.path.isfile(candidate):
            members.append(candidate)
    return sorted(members, key=rotation_key)


class _GzipStream:
    """A .gz file's members decoded one buffer at a time (``read1``), keeping every byte that
    decodes before a damaged one.

    ``gzip.open`` loses what a call decoded when the call then hits a corrupt byte (a small
    file: all of it). Here the decoder's state is copied before each call; when the call fails
    the same input goes through the copy a byte at a time, the bytes decoded before the damage
    are returned, and the next call raises the error. Members follow each other (``cat a.gz
    b.gz``); zero padding after the last one is ignored, other trailing bytes are an error.
    """

    _INPUT = 128 * 1024

    def __init__(self, path: str) -> None:
        self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._decoder = zlib.decompressobj(31)
        self._input = b""  # compressed bytes read but not yet decoded
        self._started = False  # the current member has had input
        self._error: Exception | None = None

    def read1(self, size: int) -> bytes:
        """Up to about ``size`` decoded bytes; b"" at the end of the last member."""
        if self._error is not None:
            raise self._error
        while True:
            decoder = self._decoder
            if decoder.eof:
                if not self._next_member():
                    return b""
                continue
            data = self._input or self._file.read(self._INPUT)
            self._input = b""
            if not data and not self._started:
                return b""  # nothing after the last member's end
            self._started = True
            before = decoder.copy()
            try:
                # With no input left this still gives what the decoder holds back.
                out = decoder.decompress(data, size)
            except zlib.error as exc:
                self._error = exc
                good = _decoded_before_damage(before, data)
                if good:
                    return good
                raise
            self._input = decoder.unconsumed_tail
            if out:
                return out
            if not data and not decoder.eof:
                raise EOFError("Compressed file ended before the end-of-stream marker was "
                               "reached")

    def _next_member(self) -> bool:
        """After a member's end: start the next one; False when none follows."""
        rest = self._decoder.unused_data + self._input
        while True:
            rest = rest.lstrip(b"\0")  # zero padding (tape blocks) after a member
            if len(rest) >= 2:
                break
            more = self._file.read(self._INPUT)
            if not more:
                if rest:
                    raise EOFError("Compressed file ended inside a gzip member header")
                return False
            rest += more
        if not rest.startswith(b"\x1f\x8b"):
            raise OSError(f"bytes after the last gzip member are not gzip data ({rest[:8]!r})")
        self._decoder = zlib.decompressobj(31)
        self._input = rest
        self._started = False
        return True

    def close(self) -> None:
        self._file.close()


def _decoded_before_damage(decoder, data: bytes) -> bytes:
    """What ``decoder`` (a copy taken before ``data`` was fed) decodes of ``data`` before the
    byte that makes it fail."""
    out: list[bytes] = []
    for i in range(len(data)):
        try:
            out.append(decoder.decompress(data[i : i + 1]))
        except zlib.error:
            break
    return b"".join(out)


class CompressedSource(SpoolSource):
    """A .gz/.bz2/.xz file decompressed into a spool, a slice per ``update()``.

    A damaged or cut-short file ends the space where decoding stopped; ``error`` says why.
    """

    def __init__(self, path: str, kind: str | None = None, *, name: str | None = None,
                 spool: InputSpool | None = None) -> None:
        super().__init__(name or path, spool)
        self.path = path
        kind = kind or compression_of(path)
        if kind not in _OPENERS:
            raise SourceError(f"cannot open {path}: not a gzip, bzip2 or xz file")
        try:
            self._stream: IO[bytes] | None = _OPENERS[kind](path, "rb")
        except OSError as exc:
            raise SourceError(f"cannot open {path}: {exc.strerror}") from exc
        self._lock = threading.Lock()
        self.update()

    def _decompress(self, budget: int) -> None:
        with self._lock:
            while self._stream is not None and budget > 0:
                try:
                    # read1: one decoded buffer at a time, so a cut-short file keeps all but
                    # the last one instead of losing a whole chunk to the EOFError.
                    data = self._stream.read1(_CHUNK)
                # zlib.error (a corrupt deflate stream) is no OSError: without it a damaged
                # .gz ended logview with a traceback instead of keeping what decoded.
                except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
                    # Said on a terminal: a name's control characters are shown, never sent.
                    self._end(f"{printable(self.path)}: decompression stopped: {exc}")
                    return
                if not data:
                    self._end(None)
                    return
                self.append(data)
                budget -= len(data)

    def _end(self, error: str | None) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.finish(error)

    def update(self) -> int:
        self._decompress(DECOMPRESS_SLICE)
        return super().update()

    def wait(self, timeout: float) -> bool:
        if self._stream is not None:
            return True  # more to decompress: no reason to sleep
        return super().wait(timeout)

    def close(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        super().close()


def open_member(path: str, *, follow: bool) -> ByteSource:
    """One file as a source: compressed, followed, or read as it is."""
    kind = compression_of(path)
    if kind is not None:
        return CompressedSource(path, kind)
    if follow:
        return FileSource(path, follow=True)
    return StaticFileSource(path)


class RotatedSetSource(ByteSource):
    """Members (oldest first) concatenated into one space; the newest is followed.

    Members come in one at a time: a member's bytes are added once every older member is
    complete, so offsets never move. A truncation of the followed file bumps ``generation``
    (the older members keep their offsets; the index simply reads them again). A member that
    ends inside a line (a damaged .gz, a copy cut mid-write) is followed by a newline in the
    space, as a writer's end is on a pipe: the next member's first line is no part of it.
    """

    def __init__(self, members: list[str], *, follow: bool = True,
                 name: str | None = None) -> None:
        if not members:
            raise SourceError("a rotated set needs at least one file")
        self.members = list(members)
        self.name = name or members[-1]
        self.follow = follow
        self.generation = 0
        self.finished = False
        self._lock = threading.Lock()
        self._parts: list[ByteSource] = []
        opened: list[str] = []
        left_out: list[str] = []
        try:
            for i, path in enumerate(members):
                last = i == len(members) - 1
                try:
                    self._parts.append(open_member(path, follow=follow and last))
                    opened.append(path)
                except SourceError as exc:
                    if last:
                        raise
                    # An old member that cannot be read (logrotate's root-only files) costs
                    # its own records, and says so, not those of the whole set.
                    left_out.append(f"{exc}: its records are left out")
        except SourceError:
            self.close()
            raise
        self.members = opened
        self.notices = tuple(left_out)
        self._starts = [0] * len(self._parts)
        self._pads = [0] * len(self._parts)  # 1: a newline after the (complete) member
        self._active = 0  # the first part not yet complete
        self._size = 0
        self._told = [0] * len(self._parts)  # notices of each member passed on so far
        self._damage_told: set[int] = set()  # members whose damage was passed on
        self.update()

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        parts: list[bytes] = []
        end = min(offset + size, self._size)
        active = self._active
        for i, part in enumerate(self._parts[: active + 1]):
            if offset >= end:
                break
            start = self._starts[i]
            pad = self._pads[i] if i < active else 0
            data_end = start + part.size() if i == active else self._starts[i + 1] - pad
            if offset >= data_end + pad:
                continue
            if offset < data_end:
                data = part.read_at(offset - start, min(end, data_end) - offset)
                parts.append(data)
                offset += len(data)
                if offset < min(end, data_end):
                    break  # a short read inside a part: stop rather than leave a gap
            if pad and offset == data_end and offset < end:
                parts.append(b"\n")
                offset += 1
        return b"".join(parts)

    def update(self) -> int:
        with self._lock:
            before = self._size
            generation = self.generation
            while True:
                part = self._parts[self._active]
                part_generation = part.generation
                part.update()
                self._pass_on_notices(self._active, part)
                if part.generation != part_generation:
                    self.generation += 1
                self._size = self._starts[self._active] + part.size()
                last = self._active == len(self._parts) - 1
                if last:
                    self.finished = part.finished
                    break
                if not part.finished:
                    break
                size = part.size()
                if size and part.read_at(size - 1, 1) != b"\n":
                    self._pads[self._active] = 1  # ends inside a line: a newline ends it
                    self._size += 1
                self._starts[self._active + 1] = self._size  # before _active: read_at
                self._active += 1
            if self.generation != generation:
                return self._size
            return self._size - before

    def _pass_on_notices(self, i: int, part: ByteSource) -> None:
        """What member ``i`` lost (its notices, a damaged compressed member's error) becomes
        the set's: readers look at the set only, and a damaged ``app.log.2.gz`` said nothing."""
        notices = part.notices
        if len(notices) > self._told[i]:
            self.notices = (*self.notices, *notices[self._told[i]:])
            self._told[i] = len(notices)
        error = getattr(part, "error", None)
        if error and i not in self._damage_told:
            self._damage_told.add(i)
            self.notices = (*self.notices, error)

    def wait(self, timeout: float) -> bool:
        return self._parts[self._active].wait(timeout)

    def close(self) -> None:
        for part in self._parts:
            part.close()
