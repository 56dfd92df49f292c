"""What the viewer and the printer read: records of a source by position, growing live.

INTERIM implementation (record offsets in a Python list, sequential splitting). The big-file
work replaces the internals with the compact record index and keeps this API:

- ``len(store)``: records known so far;
- ``store.record(i)``: the parsed ``Record`` at position ``i`` (cached, thread-safe);
- ``store.raw(i)``: its original bytes;
- ``store.update(final=False)``: take in newly available input (call from a worker thread);
  returns how many records were added; ``final`` also emits the last pending record;
- ``store.wait(timeout)``: block until the source may have more;
- ``store.finished``: the source can never grow again; ``store.generation`` bumps when the
  store restarted (truncation) and every position before is void;
- ``store.name``, ``store.format``, ``store.source``, ``store.close()``.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from logview.formats.base import LogFormat
from logview.record import Record
from logview.sources.base import ByteSource
from logview.split import RawRecord, RecordSplitter, parse_raw_record

_READ = 1 << 20


class LogStore:
    """Records of one source, addressable by position."""

    def __init__(self, source: ByteSource, fmt: LogFormat) -> None:
        self.source = source
        self.name = source.name
        self.format = fmt
        self.generation = source.generation
        self._lock = threading.Lock()
        self._splitter = RecordSplitter(fmt)
        self._pos = 0
        self._offsets: list[int] = []
        self._ends: list[int] = []
        self._lines: list[int] = []
        self.record = lru_cache(maxsize=4096)(self._parse)  # type: ignore[method-assign]

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def finished(self) -> bool:
        return self.source.finished

    def _parse(self, i: int) -> Record:
        raw = RawRecord(self._offsets[i], self._lines[i], self.raw(i))
        return parse_raw_record(self.format, raw, self.name)

    def raw(self, i: int) -> bytes:
        start = self._offsets[i]
        return self.source.read_at(start, self._ends[i] - start)

    def _add(self, records: list[RawRecord]) -> None:
        for rec in records:
            self._offsets.append(rec.offset)
            self._ends.append(rec.offset + len(rec.data))
            self._lines.append(rec.line)

    def update(self, *, final: bool = False) -> int:
        with self._lock:
            before = len(self._offsets)
            self.source.update()
            size = self.source.size()
            while self._pos < size:
                data = self.source.read_at(self._pos, min(_READ, size - self._pos))
                if not data:
                    break
                self._pos += len(data)
                self._add(self._splitter.feed(data))
            if final or self.source.finished:
                self._add(self._splitter.flush())
            return len(self._offsets) - before

    def wait(self, timeout: float) -> bool:
        return self.source.wait(timeout)

    def close(self) -> None:
        self.source.close()
