"""Running without a screen: ``--print``, ``--print --follow`` and ``--listen --print``.

A finished file is scanned without its index when the query has needles or the columns answer
it, and printed whole with no query (``logview.scan_ranges``, forked range workers; a text
file into a pipe is copied as its bytes); everything else goes through the ``Follower`` and a ``LiveFilter``, the same ones
the viewer uses.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import IO

from logview.follow import Follower, LiveFilter, NoticeBoard
from logview.jsonl_chunks import JsonlChunks
from logview.printer import RecordPrinter, known_original_bytes
from logview.record import MAX_RECORD_BYTES, printable
from logview.record_chunks import RecordChunks
from logview.scan import QueryLike, iter_matching_records
from logview.scan_ranges import make_job, run_job
from logview.sources.base import SourceError
from logview.store import DETECT_BYTES, SETTLE_LINES, Store, format_misfits

EXIT_OK = 0
EXIT_NO_MATCH = 1
#: Polling interval of ``--print --follow`` and of ``--listen --print``.
FOLLOW_POLL = 0.25
LISTEN_POLL = 0.03
#: Bytes per read when a whole file is copied out.
COPY_BYTES = 4 << 20
#: Bytes per ``sendfile`` call when it is copied inside the kernel.
SEND_BYTES = 1 << 30


def is_terminal(out: IO[bytes]) -> bool:
    try:
        return os.isatty(out.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def use_color(choice: str, out: IO[bytes]) -> bool:
    """``--color``: always, never, or auto (a terminal, unless ``NO_COLOR`` is set)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return is_terminal(out)


class StderrWarnings:
    """Says on stderr, once each, what the sources lost or refused (``ByteSource.note``) and
    that a forced --format fits none of a source's first lines."""

    def __init__(self, option: str | None) -> None:
        self.option = option
        self._told: set[str] = set()
        self._board: NoticeBoard | None = None

    def check(self, store: Store) -> None:
        if self._board is None or self._board.store is not store:
            self._board = NoticeBoard(store)
        for notice in self._board.new():
            sys.stderr.write(f"logview: warning: {printable(notice)}\n")
            sys.stderr.flush()
        for name, detection in format_misfits(store):
            if name in self._told:
                continue
            self._told.add(name)
            sys.stderr.write(f"logview: --format '{printable(self.option or detection.label)}' "
                             f"fits none of the first {detection.total} lines of "
                             f"{printable(name)}\n")
            sys.stderr.flush()


class MatchPrinter:
    """Prints the new matching records of a growing store; starts over when it restarts.

    After a truncation the new content is printed from its start. When a store that was small
    when opened detects its format anew it re-reads the same bytes: records already printed
    from them are not printed twice (only records of the first lines can be re-read, so
    remembering those is enough). Without ``live`` nothing is printed before detection is
    final, so all the output is read with the final format. When a followed store takes the
    interpreter's lines into its format later (``store``), only records that start after the
    last one printed are printed (a crash that came after the records already out).
    """

    def __init__(self, store: Store, query: QueryLike, printer: RecordPrinter, *,
                 live: bool) -> None:
        self.store = store
        self.printer = printer
        self.live = live
        self.matches = LiveFilter(store, query)
        self._formats = self._format_ids()
        self._printed: set[tuple[str, int | None, int | None]] = set()
        #: Per source, the offset of the last record printed; and, after a new format, the
        #: one up to which records were printed with the old one (not printed again).
        self._last: dict[str, int] = {}
        self._skip: dict[str, int] = {}

    def _format_ids(self) -> tuple[int, ...]:
        return tuple(id(part.format) for part in self.store.parts())

    def emit(self) -> None:
        """Print what matched since the last call."""
        store = self.store
        if self.matches.check_restart():
            reformatted = self._format_ids() != self._formats
            self._formats = self._format_ids()
            if not reformatted:  # truncated: new content, nothing of it was printed
                self._printed.clear()
                self._last.clear()
            self._skip = dict(self._last)
        settled = all(part.detection_final for part in store.parts())
        if not self.live and not settled and not store.finished:
            return
        for record in self.matches.new_records():
            key = (record.source, record.offset, record.line)
            if key in self._printed:
                continue
            if record.offset is not None:
                if record.offset <= self._skip.get(record.source, -1):
                    continue
                self._last[record.source] = record.offset
            self.printer.write(record)
            if (not settled and (record.line or 0) <= SETTLE_LINES + 1
                    and (record.offset or 0) < DETECT_BYTES):
                self._printed.add(key)
        if settled:
            self._printed.clear()


def _chunk_renderer(printer: RecordPrinter):
    """What renders every record of a chunk for ``printer`` (``scan_ranges`` factories)."""
    def make(fmt, name: str, one) -> JsonlChunks | RecordChunks:
        reader = getattr(fmt, "line_reader", None)
        if printer.jsonl and reader is not None and reader() is not None:
            return JsonlChunks(fmt, name, one)
        return RecordChunks(fmt, name, one, printer.render, jsonl=printer.jsonl,
                            original=printer.original)
    return make


def _match_renderer(printer: RecordPrinter):
    """What decides and renders the records a query's needles found for ``printer``
    (``scan_ranges`` factories): JSON objects read from their bytes (``RecordChunks``)."""
    def make(fmt, name: str, one) -> RecordChunks | None:
        if fmt.object_reader() is None:
            return None
        return RecordChunks(fmt, name, one, printer.render, jsonl=printer.jsonl,
                            original=printer.original)
    return make


def _print_direct(store: Store, query: QueryLike, printer: RecordPrinter,
                  out: IO[bytes]) -> bool:
    """Print the matches of a finished file without indexing it first; False: not possible.

    With no query every record is printed, whole chunks at a time: a template's as JSON
    lines from their heads (``JsonlChunks``), any other's (JSON objects read from their
    bytes) by the printer's ``render`` (``RecordChunks``)."""
    job = make_job(store, query, printer.render, need_lines=printer.jsonl,
                   every=_chunk_renderer(printer),
                   as_read=known_original_bytes if printer.original else None,
                   matching=_match_renderer(printer))
    if job is None:
        return False
    out.flush()  # forked workers must not inherit unwritten output
    fd = None
    # Big output (every record, or records with their tracebacks found by their heads):
    # the workers write it, not pickle it to this process to be written again.
    if job.every is not None or job.matching is not None or job.heads is not None:
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
    resume = run_job(job, printer.write_rendered, out_fd=fd)
    if resume is not None:  # a record too long for the direct scan: the index goes on from here
        store.update(final=True)
        index = store.parts()[0].index
        start = index.find(resume - 1) + 1 if resume > 0 else 0
        while start < len(store) and index.start(start) < resume:
            start += 1
        for record in iter_matching_records(store, query, start):
            printer.write(record)
    return True


def _print_everything(store: Store, printer: RecordPrinter, out: IO[bytes]) -> bool:
    """Every record of a finished text file into a pipe: its bytes as they are, copied in big
    reads without parsing (the records are the whole file; with ``--redact`` redacted line by
    line on the way); False: not possible here."""
    parts = store.parts()
    if len(parts) != 1 or not printer.original:
        return False
    part = parts[0]
    source = part.source
    source.update()
    if not source.finished or not part.format.prints_raw:
        return False
    redactor = getattr(part, "redactor", None)
    size, pos, last, held = source.size(), 0, b"", b""
    if redactor is None:
        pos = _send_file(source, out, size)
        last = source.read_at(pos - 1, 1) if pos else b""
    while pos < size:
        want = min(COPY_BYTES, size - pos)
        chunk = source.read_at(pos, want)
        if len(chunk) < want:  # the file shrank under us: say so, as the index does
            printer.write_rendered(chunk if redactor is None else redactor.data(held + chunk), 0)
            out.flush()
            raise SourceError(f"{source.name} changed while it was being read (got "
                              f"{len(chunk)} of {want} bytes at offset {pos})")
        pos += len(chunk)
        last = chunk[-1:]
        if redactor is not None:  # --redact: whole lines redacted, as each record's text is
            chunk = held + chunk
            cut = chunk.rfind(b"\n") + 1 if pos < size else len(chunk)
            if not cut and len(chunk) > MAX_RECORD_BYTES:  # no line end: bounded all the same
                cut = len(chunk)
            chunk, held = redactor.data(chunk[:cut]), chunk[cut:]
        printer.write_rendered(chunk, 0)
    if pos and last != b"\n":
        printer.write_rendered(b"\n", 0)
    printer.count += 1 if pos else 0  # records were printed (their number is not counted)
    return True


def _send_file(source, out: IO[bytes], size: int) -> int:
    """Copy ``source`` to ``out`` inside the kernel (``ByteSource.send_to``) as far as it
    can (no copy of the bytes through this process); returns how far it got (0 when it
    cannot)."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return 0
    out.flush()
    pos = 0
    while pos < size:
        sent = source.send_to(fd, pos, min(SEND_BYTES, size - pos))
        if sent is None:
            break
        if sent == 0:  # the file shrank under us: say so, as the index does
            raise SourceError(f"{source.name} changed while it was being read (it ended at "
                              f"{pos} of {size} bytes)")
        pos += sent
    return pos


def run_print(store: Store, query: QueryLike, out: IO[bytes], *, output: str = "text",
              color: bool = False, follow: bool = False, original: bool = False,
              format_option: str | None = None) -> int:
    """Print matching records; with ``follow`` keep going until interrupted.

    ``original``: text records are written as their bytes (stdout is a pipe or a file).
    Returns 0 when something was printed (or when following), 1 when nothing matched.
    """
    printer = RecordPrinter(out, output=output, color=color, flush_each=follow,
                            original=original)
    warnings = StderrWarnings(format_option)
    warnings.check(store)
    if not follow and query.is_empty and _print_everything(store, printer, out):
        out.flush()
        warnings.check(store)
        return EXIT_OK if printer.count else EXIT_NO_MATCH
    if not follow and _print_direct(store, query, printer, out):
        out.flush()
        warnings.check(store)
        return EXIT_OK if printer.count else EXIT_NO_MATCH
    matches = MatchPrinter(store, query, printer, live=follow)
    follower = Follower(store, quiet_flush=0.0)
    if not follow:
        follower.flush()
    else:
        follower.step()
    matches.emit()
    out.flush()
    while follow or not store.finished:
        warnings.check(store)
        follower.wait(FOLLOW_POLL)
        change = follower.step()
        if change.finished:  # nothing can come any more (a pipe at EOF), even with --follow
            follower.flush()
            matches.emit()
            break
        if change.added or change.restarted:
            matches.emit()
            out.flush()
    warnings.check(store)
    out.flush()
    return EXIT_OK if printer.count or follow else EXIT_NO_MATCH


def run_listen_print(store: Store, query: QueryLike, out: IO[bytes], stop_listening,
                     stopping: threading.Event, *, output: str = "text",
                     color: bool = False, original: bool = False) -> int:
    """Print records as the listener receives them (flushed each) until ``stopping`` is set.

    Then ``stop_listening()`` stops the listener (connections hand over what they hold) and
    flushes the spool, and every record received so far is printed before returning 0.
    """
    printer = RecordPrinter(out, output=output, color=color, flush_each=True,
                            original=original)
    matches = MatchPrinter(store, query, printer, live=True)
    # The spool holds whole JSON lines: a record is complete as soon as input pauses.
    follower = Follower(store, quiet_flush=0.0)
    try:
        follower.step()
        matches.emit()
        while not stopping.is_set():
            follower.wait(LISTEN_POLL)
            follower.step()
            matches.emit()
        stop_listening()
        follower.flush()
        matches.emit()
    finally:
        out.flush()
    return EXIT_OK


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP set ``event`` instead of interrupting (``restore`` undoes
    it); ``signum`` is the first that came (Ctrl-C makes the exit status 130).

    Installed before the listener binds, so a signal that comes while logview starts is not
    lost and never lands between two steps of an update.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._previous = {sig: signal.signal(sig, self._set)
                          for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}

    def _set(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
