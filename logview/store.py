"""What the viewer and the printer read: records of a source by position, growing live.

INTERIM implementation (keeps every raw record in memory). The big-file work replaces the
internals with the compact record index (``logview.index``) and keeps this API:

- ``len(store)``: records known so far;
- ``store.record(i)``: the parsed ``Record`` at position ``i`` (cached);
- ``store.raw(i)``: its original bytes;
- ``store.read_more()``: take in newly available input (from a worker thread), return how many
  records were added;
- ``store.name``, ``store.format``, ``store.close()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from logview.formats.base import LogFormat
from logview.record import Record
from logview.split import RawRecord, RecordSplitter, parse_raw_record


class LogStore:
    """Records of one source, addressable by position."""

    def __init__(self, name: str, fmt: LogFormat, chunks: Iterable[bytes] = ()) -> None:
        self.name = name
        self.format = fmt
        self._splitter = RecordSplitter(fmt)
        self._raw: list[RawRecord] = []
        self._chunks = iter(chunks)
        self.record = lru_cache(maxsize=4096)(self._parse)  # type: ignore[method-assign]

    def __len__(self) -> int:
        return len(self._raw)

    def _parse(self, i: int) -> Record:
        return parse_raw_record(self.format, self._raw[i], self.name)

    def raw(self, i: int) -> bytes:
        return self._raw[i].data

    def feed(self, data: bytes, *, final: bool = False) -> int:
        """Add bytes from the source; ``final`` flushes the last record."""
        before = len(self._raw)
        self._raw.extend(self._splitter.feed(data))
        if final:
            self._raw.extend(self._splitter.flush())
        return len(self._raw) - before

    def read_more(self) -> int:
        added = 0
        for chunk in self._chunks:
            added += self.feed(chunk)
        added += self.feed(b"", final=True)
        return added

    def close(self) -> None:
        self._raw.clear()
