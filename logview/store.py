"""What the viewer and the printer read: records of a source by position, growing live.

``Store`` is the protocol every store implements (``LogStore`` over one source, ``MergedStore``
over several, and any store to come); readers use only it. ``LogStore`` keeps 4 bytes per
record (the ``RecordIndex``) and parses on demand through a bounded LRU cache, so a file of any
size costs the same to open.

Detection is never final too early: a source that is empty or holds only a few lines when it
is opened (a file just created, a pipe whose writer starts late) is detected again whenever
new complete lines arrive, until ``SETTLE_LINES`` lines or ``DETECT_BYTES`` bytes have come or
the source finished. A format that changes restarts the index like a truncation does (the
generation bumps), so followers start over. A source that is big when opened is detected once.

Once detection is final, what a followed source adds is looked through for the interpreter's
own lines (``formats.python_stderr``: a warning, a thread's uncaught exception, a fatal error
with faulthandler's dump), which the sample could not see: a service that crashes while it is
followed. The first one makes the format the log's own with the interpreter's as its second
(``detect_union.with_interpreter_lines``), and the index restarts once. A growth of up to
``DETECT_BYTES`` (a live log's) is looked through whole, of a bigger one (a pipe's backlog
coming at once) its last ``DETECT_BYTES``, where a crash ends it (looking through all of a
300 MB backlog piped in took 6 % longer); the middle of a file that is big when opened is not
looked at either (its start and end are).
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from logview.boundaries import time_before
from logview.columns import RecordColumns
from logview.formats.base import LogFormat
from logview.index import RecordIndex
from logview.merge import MergedStore
from logview.range_columns import RangeColumns
from logview.ready_columns import ReadyColumns
from logview.record import RawRecord, Record, parse_raw_record
from logview.sources.base import ByteSource

if TYPE_CHECKING:
    from logview.formats.detect import Detection
    from logview.redact import Redactor

__all__ = [
    "LogStore",
    "MergedStore",
    "Store",
    "build_store",
    "detect_source_format",
    "ends_with_whole_line",
    "forced_mismatch",
    "format_misfits",
    "open_store",
    "with_its_end",
]

#: Parsed records kept per store.
RECORD_CACHE = 4096
#: Bytes read from the start of a source to detect its format.
DETECT_BYTES = 64 * 1024
#: Complete lines after which detection is final (fewer: detect again as more arrive).
SETTLE_LINES = 20


def _format_key(fmt: LogFormat) -> tuple[object, ...]:
    """What makes two format instances read the same way (detection builds fresh ones)."""
    return (type(fmt), fmt.name, getattr(fmt, "template", None), getattr(fmt, "datefmt", None),
            getattr(fmt, "style", None))


@runtime_checkable
class Store(Protocol):
    """Records by position, growing live; what every reader of records relies on.

    ``update`` takes in newly available input (call it from one worker thread) and returns how
    many records were added; ``final`` also emits the last pending record; ``budget``
    (seconds) returns early on a big input and the next call continues. ``generation`` bumps
    when the store restarted (a truncation, a format detected anew): every position before is
    void. ``parts()`` are the single-source stores it is made of (itself for a ``LogStore``).
    """

    name: str
    generation: int

    @property
    def format(self) -> LogFormat: ...

    @property
    def finished(self) -> bool: ...

    def __len__(self) -> int: ...

    def record(self, i: int) -> Record:
        """The parsed record ``i`` (cached, thread-safe)."""
        ...

    def parse(self, i: int) -> Record:
        """Record ``i`` parsed without touching the cache (bulk readers)."""
        ...

    def raw(self, i: int) -> bytes: ...

    def update(self, *, final: bool = False, budget: float | None = None) -> int: ...

    def wait(self, timeout: float) -> bool:
        """Block until the source may have more (or ``timeout`` passed)."""
        ...

    def progress(self) -> tuple[int, int]:
        """(bytes indexed, bytes available)."""
        ...

    def parts(self) -> list[LogStore]: ...

    def close(self) -> None: ...


class LogStore:
    """Records of one source, addressable by position.

    ``fmt`` forces a format (``--format``): it never changes, ``detection`` only says how well
    it fits the first lines. Without it the format is detected from the source's first lines
    (or taken from its ``format_hint``), see the module docstring. ``redactor`` (``--redact``)
    masks every record it makes (``parse``; the scanner applies it too): no reader of records
    sees what it masks.
    """

    def __init__(self, source: ByteSource, fmt: LogFormat | None = None,
                 redactor: Redactor | None = None) -> None:
        self.source = source
        self.redactor = redactor
        self.name = source.name
        self._forced = fmt
        self._hint = None if fmt is not None else source.format_hint
        self._settled = False
        self._sample_lines = -1  # complete lines the current detection saw
        self._update_lock = threading.Lock()
        self._cached = lru_cache(maxsize=RECORD_CACHE)(self._parse_for)
        #: Bytes of the source looked at for the interpreter's lines (``_watch``).
        self._watched = 0
        detection = self._detect_sample()
        assert detection is not None  # the first look always decides something
        self.detection: Detection = detection
        self.format: LogFormat = detection.format
        _place_times(self.format, source)
        self.index = RecordIndex(source, self.format)
        self._index_generation = self.index.generation
        self.generation = self.index.generation
        #: Level, logger and time of the records counted so far (``columns.RecordCounter``).
        self.columns = RecordColumns(self.generation)
        self._count_with_index = False

    def __len__(self) -> int:
        return len(self.index)

    def count_with_index(self) -> None:
        """Read the records' columns while a big input is indexed (forked workers,
        ``range_columns``): a counter of this store then finds them ready."""
        self._count_with_index = True
        if self.index.ranges is None:
            self.index.ranges = RangeColumns(self.index.detector, self.format, self.name)

    def ranges_running(self) -> bool:
        """Whether the index reads its ranges' columns now (``count_with_index``)."""
        ranges = self.index.ranges
        return ranges is not None and ranges.running

    def ready_columns(self) -> ReadyColumns | None:
        """Columns the index's workers read and no counter took yet (None: none are read)."""
        ranges = self.index.ranges
        return None if ranges is None else ranges.ready

    @property
    def finished(self) -> bool:
        """The store can never change again: a finished source, indexed to its end, with a
        final detection (the source may end while a new format's index reads it, after
        detection looked: the next ``update`` settles it)."""
        return self.source.finished and self.index.complete and self._settled

    @property
    def detection_final(self) -> bool:
        """Detection has seen enough of the source (or all of it) and will not change."""
        return self._settled

    def record(self, i: int) -> Record:
        """The parsed record ``i`` (cached per generation, so a restart never serves old ones)."""
        return self._cached(self.generation, i)

    def _parse_for(self, generation: int, i: int) -> Record:
        # Readers that saw the old generation may cache under its key: never asked again.
        return self.parse(i)

    def parse(self, i: int) -> Record:
        """Parse record ``i`` without the cache (bulk readers use this to spare the cache)."""
        record = self.parse_original(i)
        return record if self.redactor is None else self.redactor.record(record)

    def parse_original(self, i: int) -> Record:
        """Record ``i`` as read, never redacted (for ordering and counting, not for display)."""
        index, fmt = self.index, self.format
        if not 0 <= i < len(index):
            raise IndexError(f"{self.name}: no record {i} (have {len(index)})")
        start = index.start(i)
        raw = RawRecord(start, index.line(i), self.source.read_at(start, index.end(i) - start))
        record = parse_raw_record(fmt, raw, self.name)
        if record.time is None and fmt.time_from_previous:
            record.time = time_before(self.source, index.detector, start)
        return record

    def raw(self, i: int) -> bytes:
        """The original bytes of record ``i`` (never redacted: not for display)."""
        index = self.index
        start = index.start(i)
        return self.source.read_at(start, index.end(i) - start)

    def update(self, *, final: bool = False, budget: float | None = None) -> int:
        """Index newly available input; returns the number of records added.

        ``budget`` (seconds) bounds the call on a big input: it returns after about that long
        and the next call continues (``progress`` tells how far it got, ``finished`` stays
        False until everything is indexed). After a restart (truncation, a new format) every
        record counts as added.
        """
        with self._update_lock:
            added = self.index.update(final=final, budget=budget)
            restarted = False
            if self.index.generation != self._index_generation:  # truncated: starts over
                self._index_generation = self.index.generation
                self._bump_generation()
                restarted = True
            # Detected after indexing, so whatever was indexed with a provisional format lies
            # within the sample; a new format indexes it again before anyone sees it. Once
            # settled, what came is looked at for the interpreter's lines.
            if (self._refine_detection() if not self._settled
                    else not restarted and self._watch()):
                restarted = True
                self.index.update(final=final, budget=budget)
            return len(self.index) if restarted else added

    def _watch(self) -> bool:
        """Look through what the source added since the last look for the interpreter's own
        lines (see the module docstring); True when the format changed (restart)."""
        size = self.source.size()
        start = self._watched
        if size <= start:
            return False
        self._watched = size
        if self._forced is not None or self._hint is not None:
            return False
        from logview.formats.detect_union import interpreter_marks, with_interpreter_lines

        marks = interpreter_marks(self.detection)
        if not marks:
            return False
        start = max(start, size - DETECT_BYTES)
        # (from a line before: the first one read may be cut, and the last look's last line
        # may have been incomplete)
        begin = max(0, start - 4096)
        data = self.source.read_at(begin, size - begin)
        if not any(mark in data for mark in marks):
            return False
        detection = with_interpreter_lines(self.detection, data if begin else b"\n" + data)
        if detection is self.detection:
            return False
        self._use(detection)
        return True

    def _refine_detection(self) -> bool:
        """Detect again if new complete lines came; True when the format changed (restart)."""
        detection = self._detect_sample()
        if detection is None:
            return False
        if _format_key(detection.format) == _format_key(self.format):
            self.detection = replace(detection, format=self.format)
            return False
        self._use(detection)
        return True

    def _use(self, detection: Detection) -> None:
        """Read the source with ``detection``'s format from now on: the index starts over."""
        self.detection = detection
        self.format = detection.format
        _place_times(self.format, self.source)
        if self.index.ranges is not None:
            self.index.ranges.stop()
        self.index = RecordIndex(self.source, self.format)
        self._index_generation = self.index.generation
        self._bump_generation()
        if self._count_with_index:
            self.count_with_index()

    def _detect_sample(self) -> Detection | None:
        """Detection over the source's first bytes; None when no new line came since the last.

        Sets ``_settled`` once the sample is big enough or the source finished.
        """
        from logview.formats.detect import check_format, detect

        source = self.source
        if self._hint is not None and self._forced is None:
            # The source says what it holds (the demo, the listener's spool): nothing to guess.
            self._settled = True
            return detect(b"", hint=self._hint)
        source.update()
        finished = source.finished
        size = source.size()
        head = source.read_at(0, min(DETECT_BYTES, size))
        complete = head[: head.rfind(b"\n") + 1]
        lines = complete.count(b"\n")
        if finished:  # all of it: an unfinished last line counts too
            cut_last = size <= DETECT_BYTES and head and not head.endswith(b"\n")
            sample = head + b"\n" if cut_last else head
        elif lines >= SETTLE_LINES or size >= DETECT_BYTES:
            sample = head  # detection leaves out a line cut at the end of the sample
        elif lines == self._sample_lines:
            return None
        else:
            sample = complete
        self._settled = finished or lines >= SETTLE_LINES or size >= DETECT_BYTES
        self._sample_lines = lines
        self._watched = size  # (the start and, when bigger, the end are looked at here)
        if self._forced is not None:
            return check_format(self._forced, sample)
        return with_its_end(detect(sample), source, size)

    def _bump_generation(self) -> None:
        """Every position before is void: a new generation, an empty record cache."""
        self.generation += 1
        self._cached.cache_clear()
        self.columns.reset(self.generation)

    def progress(self) -> tuple[int, int]:
        """(bytes indexed, bytes the source has)."""
        return self.index.indexed_bytes, self.source.size()

    def wait(self, timeout: float) -> bool:
        return self.source.wait(timeout)

    def parts(self) -> list[LogStore]:
        return [self]

    def close(self) -> None:
        if self.index.ranges is not None:
            self.index.ranges.stop()
        self.source.close()
        self.columns.close()  # and their temporary files, if they spilled


def _place_times(fmt: LogFormat, source: ByteSource) -> None:
    """Times without a year or a date in ``fmt`` are placed by the file's modification time
    (a live source, with no such time, places them by the clock)."""
    if not hasattr(fmt, "reference"):
        return
    path = getattr(source, "path", None) or source.name
    try:
        fmt.reference = datetime.fromtimestamp(os.stat(path).st_mtime)
    except (OSError, TypeError, ValueError):
        fmt.reference = None


#: A forced format that fits none of this many first lines is reported even before detection
#: is final (a followed file may take long to reach ``SETTLE_LINES``).
MISFIT_LINES = 5


def forced_mismatch(detection: Detection | None) -> bool:
    """A forced ``--format`` that reads none of the first lines (all would be one record)."""
    return (detection is not None and detection.kind == "forced" and detection.fitted == 0
            and detection.total > 0)


def format_misfits(store: Store) -> list[tuple[str, Detection]]:
    """(source name, detection) of each part of ``store`` whose forced format fits none of its
    first lines, once that is clear: detection is final, or ``MISFIT_LINES`` lines showed it.
    """
    out = []
    for part in store.parts():
        detection = part.detection
        if forced_mismatch(detection) and (
            part.detection_final or detection.total >= MISFIT_LINES
        ):
            out.append((part.name, detection))
    return out


def ends_with_whole_line(store: Store) -> bool:
    """Every source of ``store`` ends with a whole line (or is empty), as far as it is read.

    Followers flush the pending last record when input goes quiet, but only then: flushing
    half a line would make its rest a record of its own.
    """
    for part in store.parts():
        size = part.source.size()
        if size and part.source.read_at(size - 1, 1) != b"\n":
            return False
    return True


def open_store(source: ByteSource, fmt: LogFormat | None = None,
               redactor: Redactor | None = None) -> LogStore:
    """A store over ``source``; detects the format from its first bytes when ``fmt`` is None."""
    return LogStore(source, fmt, redactor)


def build_store(sources: list[ByteSource], fmt: LogFormat | None = None,
                redactor: Redactor | None = None) -> Store:
    """One store over all sources: a single one, or several merged into one timeline;
    ``redactor`` masks the records of every one."""
    stores = [open_store(source, fmt, redactor) for source in sources]
    return stores[0] if len(stores) == 1 else MergedStore(stores)


def with_its_end(detection: Detection, source: ByteSource, size: int) -> Detection:
    """``detection`` of a source's first ``DETECT_BYTES``, with what its last ones add when
    it is bigger: the interpreter's own lines (a crash comes at the end of a log, where the
    sample cannot see it; ``detect_union.with_interpreter_lines``)."""
    if size <= DETECT_BYTES:
        return detection
    from logview.formats.detect_union import with_interpreter_lines

    return with_interpreter_lines(detection, source.read_at(size - DETECT_BYTES, DETECT_BYTES))


def detect_source_format(source: ByteSource) -> LogFormat:
    """The format the first bytes of ``source`` look like now (plain when nothing fits).

    One look, for callers that need no store; ``LogStore`` keeps detecting while a source is
    small and still growing.
    """
    from logview.formats.detect import detect_format

    hint = source.format_hint
    if hint is not None:
        return detect_format(b"", hint=hint)
    source.update()
    return detect_format(source.read_at(0, min(DETECT_BYTES, source.size())))
