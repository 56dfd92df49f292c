"""What the viewer and the printer read: records of a source by position, growing live.

API (shared by ``LogStore`` and ``MergedStore``):

- ``len(store)``: records known so far;
- ``store.record(i)``: the parsed ``Record`` at position ``i`` (cached, thread-safe);
- ``store.raw(i)``: its original bytes;
- ``store.update(final=False, budget=None)``: take in newly available input (call from a
  worker thread); returns how many records were added; ``final`` also emits the last pending
  record; ``budget`` (seconds) returns early on a big input, the next call continues;
- ``store.wait(timeout)``: block until the source may have more;
- ``store.finished``: the source can never grow again; ``store.generation`` bumps when the
  store restarted (truncation) and every position before is void;
- ``store.progress()``: (bytes indexed, bytes available), for a progress bar;
- ``store.name``, ``store.format``, ``store.source``, ``store.close()``.

``LogStore`` keeps 8 bytes per record (the ``RecordIndex``) and parses on demand through a
bounded LRU cache, so a file of any size costs the same to open.
"""

from __future__ import annotations

from functools import lru_cache

from logview.formats.base import LogFormat, PlainFormat
from logview.index import RecordIndex
from logview.merge import MergedStore
from logview.record import Record
from logview.sources.base import ByteSource
from logview.split import RawRecord, parse_raw_record

__all__ = ["LogStore", "MergedStore", "detect_source_format", "ends_with_whole_line", "open_store"]

#: Parsed records kept per store.
RECORD_CACHE = 4096
#: Bytes read from the start of a source to detect its format.
DETECT_BYTES = 64 * 1024


class LogStore:
    """Records of one source, addressable by position."""

    def __init__(self, source: ByteSource, fmt: LogFormat) -> None:
        self.source = source
        self.name = source.name
        self.format = fmt
        self.index = RecordIndex(source, fmt)
        self.generation = self.index.generation
        self.record = lru_cache(maxsize=RECORD_CACHE)(self.parse)  # type: ignore[method-assign]

    def __len__(self) -> int:
        return len(self.index)

    @property
    def finished(self) -> bool:
        """The store can never grow again: a finished source, indexed to its end."""
        return self.source.finished and self.index.complete

    def parse(self, i: int) -> Record:
        """Parse record ``i`` without the cache (bulk readers use this to spare the cache)."""
        if not 0 <= i < len(self.index):
            raise IndexError(f"{self.name}: no record {i} (have {len(self.index)})")
        raw = RawRecord(self.index.start(i), self.index.line(i), self.raw(i))
        return parse_raw_record(self.format, raw, self.name)

    def raw(self, i: int) -> bytes:
        """The original bytes of record ``i``."""
        start = self.index.start(i)
        return self.source.read_at(start, self.index.end(i) - start)

    def update(self, *, final: bool = False, budget: float | None = None) -> int:
        """Index newly available input; returns the number of records added.

        ``budget`` (seconds) bounds the call on a big input: it returns after about that long
        and the next call continues (``progress`` tells how far it got, ``finished`` stays
        False until everything is indexed).
        """
        added = self.index.update(final=final, budget=budget)
        if self.index.generation != self.generation:
            self.record.cache_clear()  # type: ignore[attr-defined]
            self.generation = self.index.generation
        return added

    def progress(self) -> tuple[int, int]:
        """(bytes indexed, bytes the source has)."""
        return self.index.indexed_bytes, self.source.size()

    def wait(self, timeout: float) -> bool:
        return self.source.wait(timeout)

    def close(self) -> None:
        self.source.close()


def ends_with_whole_line(store: LogStore | MergedStore) -> bool:
    """Every source of ``store`` ends with a whole line (or is empty), as far as it is read.

    Followers flush the pending last record when input goes quiet, but only then: flushing
    half a line would make its rest a record of its own.
    """
    stores = getattr(store, "stores", None)
    if stores is not None:
        return all(ends_with_whole_line(part) for part in stores)
    source = store.source
    size = source.size()
    return size == 0 or source.read_at(size - 1, 1) == b"\n"


def open_store(source: ByteSource, fmt: LogFormat | None = None) -> LogStore:
    """A store over ``source``; detects the format from its first bytes when ``fmt`` is None."""
    if fmt is None:
        fmt = detect_source_format(source)
    return LogStore(source, fmt)


def detect_source_format(source: ByteSource) -> LogFormat:
    """The format the first bytes of ``source`` look like (plain when nothing fits)."""
    try:
        from logview.formats.detect import detect_format
    except ImportError:  # the detector is optional: everything still works as plain lines
        return PlainFormat()
    hint = getattr(source, "format_hint", None)
    if hint is not None:
        return detect_format(b"", hint=hint)
    source.update()
    sample = source.read_at(0, min(DETECT_BYTES, source.size()))
    return detect_format(sample)

