"""Compressed rotations beside a followed file (logrotate's ``compress``): what they hold, and
the ones that hold a file that escaped, decompressed to be read.

With ``compress``, a file that had the followed name lives on only as ``app.log.1.gz`` once
logrotate deleted it; at back-to-back rotations that can happen before logview could open it.
Such a file's lines are in its compressed copy: ``CompressedRotations.listing`` gives the
compressed rotations that appeared since following began with their first decompressed bytes
(to tell a copy of a file logview has from one of a file it never saw), and ``open``
decompresses one into an unlinked temporary file, a descriptor read like any rotated file.
"""

from __future__ import annotations

import bz2
import lzma
import os
import re
import stat
import tempfile
import time
import zlib

from logview.record import printable

#: Decompressed bytes read to know a compressed rotation by its start.
HEAD_BYTES = 256
#: Decompressed bytes of one escaped file kept at most (the rest is said to be left out).
MAX_DECOMPRESSED = 1 << 30
#: Seconds a compressed rotation that does not decode to its end may still be being written.
WRITING_SECONDS = 2.0
_READ = 1 << 16
_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_NAMES = (".gz", ".bz2", ".xz")
#: A numbered compressed rotation's suffix after the separator (``12.gz``).
_NUMBERED = re.compile(r"(\d{1,6})(\.(?:gz|bz2|xz))")
#: Numbers past the highest one listed that are tried (files a shift moved up meanwhile).
MAX_PROBES = 4

Key = tuple[int, int]
#: A compressed rotation: its path, stat and first decompressed bytes.
Compressed = tuple[str, os.stat_result, bytes]


class Incomplete(Exception):
    """A compressed rotation that does not decode to its end yet (being written)."""


class CompressedRotations:
    """The compressed files named like rotations of a followed file that were not there when
    following began (``app.log.1.gz``, ``app.log-20240102.xz``)."""

    def __init__(self, directory: str, rotation_name: re.Pattern[str], base: str) -> None:
        self.directory = directory
        self._base = base
        self._rotation_name = rotation_name
        self._heads: dict[tuple[int, int, int], bytes] = {}  # (dev, ino, size) -> first bytes
        self.before = {(st.st_dev, st.st_ino) for _, st in self._files()}
        #: What decompressing escaped files could not give (damaged, cut, too big): said.
        self.damaged: list[str] = []

    def take_damaged(self) -> list[str]:
        """What was said about damaged compressed copies since the last call."""
        damaged, self.damaged = self.damaged, []
        return damaged

    def is_compressed_rotation(self, name: str) -> bool:
        return (name.endswith(_NAMES) and name.startswith(self._base)
                and len(name) > len(self._base) + 1
                and self._rotation_name.match(name[len(self._base) + 1 :]) is not None)

    def _files(self, heads: bool = False) -> list[tuple[str, os.stat_result]]:
        """The compressed rotations (path, stat), each once; with ``heads``, their first
        decompressed bytes read from the same open file (names shift under a listing:
        ``.1.gz`` -> ``.2.gz`` while it is taken; see ``_walk``)."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        found: dict[Key, tuple] = {}
        for name in self._walk([n for n in names if self.is_compressed_rotation(n)]):
            path = os.path.join(self.directory, name)
            try:
                with open(path, "rb") as source:
                    st = os.fstat(source.fileno())
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    key = (st.st_dev, st.st_ino)
                    found.pop(key, None)  # (seen again under a higher number: moved there)
                    found[key] = (path, st, self._head(source, st)) if heads else (path, st)
            except OSError:
                continue
        return list(found.values())

    def _walk(self, names: list[str]) -> list[str]:
        """The order to open ``names`` in: numbered ones lowest number first, every number up
        to a few past the highest. A shift renames ``.N.gz`` -> ``.N+1.gz`` from the
        highest down, so a file moves to a name still ahead of the walk, never to one passed
        (in the directory's order the newest, ``.1.gz``, could be missed: a file that
        escaped was read a look later, after newer records)."""
        start = len(self._base) + 1
        others: list[str] = []
        numbered: dict[tuple[str, str], list[int]] = {}  # (prefix, extension) -> numbers
        for name in names:
            match = _NUMBERED.fullmatch(name[start:])
            if match is None:
                others.append(name)
            else:
                numbered.setdefault((name[:start], match[2]), []).append(int(match[1]))
        walk = others
        for (prefix, ext), numbers in numbered.items():
            low, top = min(numbers), max(numbers)
            if top - low > 2 * len(numbers) + MAX_PROBES:  # sparse numbers: no shifting
                walk += [f"{prefix}{n}{ext}" for n in sorted(numbers)]
                continue
            # Gaps too (a shift in progress leaves one, filled while the walk goes on).
            walk += [f"{prefix}{n}{ext}" for n in range(low, top + 1 + MAX_PROBES)]
        return walk

    def _head(self, source, st: os.stat_result) -> bytes:
        if (st.st_dev, st.st_ino) in self.before:
            return b""
        cache = (st.st_dev, st.st_ino, st.st_size)
        head = self._heads.get(cache)
        if head is None:
            head, ended = _decompressed_head(source)
            if len(head) < HEAD_BYTES and not ended:
                return b""
            if len(self._heads) > 4096:
                self._heads.clear()
            self._heads[cache] = head
        return head

    def listing(self) -> list[Compressed]:
        """The compressed rotations that appeared since following began, with their first
        decompressed bytes: ``HEAD_BYTES`` of them, or all of a shorter file; b"" while
        fewer can be had (being written: a part of a start could match many files)."""
        return [(path, st, head) for path, st, head in self._files(heads=True)
                if (st.st_dev, st.st_ino) not in self.before]

    def open(self, path: str, key: Key) -> int | None:
        """A descriptor of the decompressed content of ``path`` (an unlinked temporary file);
        None when it is gone or not the file ``key`` any more. Raises ``Incomplete`` when it
        does not decode to its end and was written to lately (its compressor still runs)."""
        source = _open_file(path, key)
        if source is None:  # renamed on by a later rotation (``.1.gz`` -> ``.2.gz``)?
            found = next((p for p, st in self._files() if (st.st_dev, st.st_ino) == key), None)
            source = None if found is None else _open_file(found, key)
        if source is None:
            return None
        with source:
            st = os.fstat(source.fileno())
            out = tempfile.TemporaryFile()  # noqa: SIM115 - its descriptor is handed over
            try:
                error = _decompress(source, out)
            except BaseException:
                out.close()
                raise
            if error is not None and time.time() - st.st_mtime < WRITING_SECONDS:
                out.close()
                raise Incomplete(path)
            if error is not None:
                self.damaged.append(f"{printable(os.path.basename(path))}: {error}: what decoded before it is read, the rest "
                                    "of that rotated file is lost")
            out.flush()
            fd = os.dup(out.fileno())
            out.close()
            return fd


def _open_file(path: str, key: Key):
    """``path`` opened if it is the file ``key``, else None."""
    try:
        source = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError:
        return None
    st = os.fstat(source.fileno())
    if (st.st_dev, st.st_ino) != key:
        source.close()
        return None
    return source


def _decoder(head: bytes):
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            if kind == "gz":
                return zlib.decompressobj(31)
            return bz2.BZ2Decompressor() if kind == "bz2" else lzma.LZMADecompressor()
    return None


def _decompressed_head(source) -> tuple[bytes, bool]:
    """The first ``HEAD_BYTES`` decompressed bytes of an open file, and whether it ended
    there."""
    out = bytearray()
    try:
        data = source.read(_READ)
        decoder = _decoder(data)
        while decoder is not None and data and len(out) < HEAD_BYTES:
            out += decoder.decompress(data, HEAD_BYTES - len(out))
            data = getattr(decoder, "unconsumed_tail", b"") or (
                b"" if decoder.eof else source.read(_READ))
        return bytes(out[:HEAD_BYTES]), decoder is None or decoder.eof
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        return bytes(out[:HEAD_BYTES]), False


def _decompress(source, out) -> str | None:
    """Decompress ``source`` into ``out`` (members one after another); what went wrong, or
    None when it decoded to its end."""
    data = source.read(_READ)
    written = 0
    while data:
        decoder = _decoder(data)
        if decoder is None:
            return "bytes after the compressed data are not compressed data"
        try:
            while not decoder.eof:
                chunk = decoder.decompress(data, _READ)
                written += len(chunk)
                if written > MAX_DECOMPRESSED:
                    return f"more than {MAX_DECOMPRESSED:,} bytes decompressed: the rest left out"
                out.write(chunk)
                data = getattr(decoder, "unconsumed_tail", b"")
                if not data and not decoder.eof:
                    data = source.read(_READ)
                    if not data and getattr(decoder, "needs_input", True):
                        return "ended before the end of its compressed data"
        except (EOFError, zlib.error, lzma.LZMAError, OSError, ValueError) as exc:
            return f"decompression stopped: {exc}"
        data = (decoder.unused_data + source.read(_READ)).lstrip(b"\0")
    return None
