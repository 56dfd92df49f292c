"""Arrays that grow at their end (matching positions, merged positions, record columns).

Appending never changes what an earlier ``view()`` shows: a reader in another thread keeps a
consistent prefix while a writer appends (a bigger buffer is a new one, or a new mapping of
the same file; writes go past the published length).

``MappedArray`` keeps its values in an unlinked temporary file in ``$TMPDIR``, mapped into
memory: the kernel pages them out under pressure instead of the process holding them (the
record columns of a huge file). Nobody else can name the file, so nobody can truncate it
under the mapping (which would raise SIGBUS, as with the log files, never mapped); its blocks
are reserved before they are mapped (``posix_fallocate``), so a full disk is an ``OSError``
when growing, not a SIGBUS when writing. The file is gone from the directory from the start:
nothing is left behind, even when the process is killed.
"""

from __future__ import annotations

import mmap
import os
import tempfile

import numpy as np

#: Growth of a mapped array's file, in bytes: each step is a new mapping of the whole file,
#: and the writer touches only the pages of the last step through it, so the pages it wrote
#: before stay in the page cache (written back, reclaimable) but leave the process's
#: resident set with the old mapping.
MAP_STEP = 4 << 20
#: Values copied at once between arrays (bounded temporaries, whatever the arrays' size).
COPY_VALUES = 1 << 20


class GrowableArray:
    """An array (int64 unless told) that grows by appending, doubling its buffer when full."""

    def __init__(self, dtype: type[np.generic] | np.dtype = np.int64) -> None:
        self._buf = np.empty(1024, dtype=dtype)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def dtype(self) -> np.dtype:
        return self._buf.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the values held (the buffer's untouched rest holds no memory)."""
        return self._len * self._buf.itemsize

    def _room(self, need: int) -> None:
        if need > len(self._buf):
            bigger = np.empty(max(need, 2 * len(self._buf)), dtype=self._buf.dtype)
            bigger[: self._len] = self._buf[: self._len]
            self._buf = bigger

    def extend(self, values: np.ndarray) -> None:
        need = self._len + len(values)
        self._room(need)
        self._buf[self._len : need] = values
        self._len = need

    def extend_converted(self, values: np.ndarray) -> None:
        """Append ``values`` converted to this array's dtype a slice at a time (no whole
        converted copy of a big array alive at once)."""
        for lo in range(0, len(values), COPY_VALUES):
            self.extend(values[lo : lo + COPY_VALUES].astype(self._buf.dtype))

    def view(self) -> np.ndarray:
        return self._buf[: self._len]

    def close(self) -> None:
        """Let go of the storage (views taken before keep theirs)."""
        self._buf = np.empty(0, dtype=self._buf.dtype)
        self._len = 0


class MappedArray(GrowableArray):
    """A ``GrowableArray`` in an unlinked temporary file, mapped; grows by remapping, a
    ``MAP_STEP`` at a time (never a copy: the new mapping shows what the old one wrote)."""

    def __init__(self, dtype: type[np.generic] | np.dtype = np.int64,
                 directory: str | None = None) -> None:
        fd, path = tempfile.mkstemp(prefix="logview-columns-", dir=directory)
        os.unlink(path)  # nothing on disk has a name for it from now on
        self._fd = fd
        self._buf = np.empty(0, dtype=dtype)
        self._len = 0

    def _room(self, need: int) -> None:
        if need <= len(self._buf):
            return
        if self._fd < 0:
            raise ValueError("mapped array closed")
        itemsize = self._buf.itemsize
        # Fixed steps, not doubling: what the process keeps resident of a big column is the
        # pages written through the current mapping (at most a step), not half the column.
        size = max(need * itemsize, self._buf.nbytes + MAP_STEP)
        size = -(-size // mmap.PAGESIZE) * mmap.PAGESIZE
        old = self._buf.nbytes
        os.posix_fallocate(self._fd, old, size - old)  # OSError (ENOSPC) here, not SIGBUS
        # A new mapping of the same file shows what was written: nothing is copied, and the
        # old mapping lives on as long as a view of it does.
        self._buf = np.frombuffer(mmap.mmap(self._fd, size), dtype=self._buf.dtype)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # the mappings keep the file until their views are gone
            self._fd = -1
        self._buf = np.empty(0, dtype=self._buf.dtype)
        self._len = 0

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)
