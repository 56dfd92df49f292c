"""An array that grows at its end (matching positions, merged positions, record columns).

Appending never changes what an earlier ``view()`` shows: a reader in another thread keeps a
consistent prefix while a writer appends (a bigger buffer is a new one; writes go past the
published length).
"""

from __future__ import annotations

import numpy as np


class GrowableArray:
    """An array (int64 unless told) that grows by appending, doubling its buffer when full."""

    def __init__(self, dtype: type[np.generic] = np.int64) -> None:
        self._buf = np.empty(1024, dtype=dtype)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def extend(self, values: np.ndarray) -> None:
        need = self._len + len(values)
        if need > len(self._buf):
            bigger = np.empty(max(need, 2 * len(self._buf)), dtype=self._buf.dtype)
            bigger[: self._len] = self._buf[: self._len]
            self._buf = bigger
        self._buf[self._len : need] = values
        self._len = need

    def view(self) -> np.ndarray:
        return self._buf[: self._len]
