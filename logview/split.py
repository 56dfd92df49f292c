"""Record boundaries in a byte stream.

A record is a line the format says starts one, plus every following line that does not
(tracebacks, multi-line messages). The splitter is incremental: feed it chunks as they arrive,
it hands back the records it knows are complete; the last one stays pending until the next
start line shows up or the caller flushes it (end of input, or a quiet moment when following).
"""

from __future__ import annotations

from dataclasses import dataclass

from logview.formats.base import LogFormat
from logview.record import Record, strip_ansi

#: A record longer than this is cut into several records (nothing is dropped).
MAX_RECORD_BYTES = 64 * 1024 * 1024


@dataclass(slots=True, frozen=True)
class RawRecord:
    """A record's bytes and where it starts (byte offset, 1-based line number)."""

    offset: int
    line: int
    data: bytes

    def text(self) -> str:
        """The record's text: UTF-8 with replacement characters, CRLF as LF, no final newline."""
        return decode_record(self.data)


def decode_record(data: bytes) -> str:
    """Decode a record's bytes for parsing and display; never raises."""
    text = data.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text.rstrip("\n")


def parse_raw_record(fmt: LogFormat, raw: RawRecord, source: str = "") -> Record:
    """Parse a raw record with ``fmt`` and stamp where it came from.

    A record that names its own source (logview's JSON lines: the listener's spool, a
    ``-o jsonl`` export) keeps it, so a client's identity survives the spool.
    """
    record = fmt.parse_raw(raw.text())
    record.source = record.source or source
    record.line = raw.line
    record.offset = raw.offset
    return record


class RecordSplitter:
    """Cuts a byte stream into records using a format's ``is_start``."""

    def __init__(self, fmt: LogFormat, *, offset: int = 0, line: int = 1) -> None:
        self.format = fmt
        self._offset = offset  # offset of the first byte of ``_pending``
        self._line = line  # line number of the first line in ``_pending``
        self._pending = bytearray()  # bytes of the current record (complete lines only)
        self._pending_lines = 0
        self._partial = bytearray()  # an unfinished last line

    @property
    def pending_bytes(self) -> int:
        """Bytes held back (an incomplete record and/or line)."""
        return len(self._pending) + len(self._partial)

    def feed(self, data: bytes) -> list[RawRecord]:
        """Add bytes; return the records completed by them."""
        out: list[RawRecord] = []
        if not data:
            return out
        if self._partial:
            data = bytes(self._partial) + data
            self._partial.clear()
        start = 0
        n = len(data)
        is_start = self.format.is_start
        pending = self._pending
        while start < n:
            nl = data.find(b"\n", start)
            if nl < 0:
                self._partial += data[start:]
                if len(self._partial) > MAX_RECORD_BYTES:  # a monster line: cut it here
                    out.extend(self._take_pending())
                    pending += self._partial
                    self._partial.clear()
                    self._pending_lines = 0
                    out.extend(self._take_pending(line_count=0))
                break
            line = data[start : nl + 1]
            if pending and (
                len(pending) + len(line) > MAX_RECORD_BYTES or self._starts(line, is_start)
            ):
                out.extend(self._take_pending())
            pending += line
            self._pending_lines += 1
            start = nl + 1
        return out

    @staticmethod
    def _starts(line: bytes, is_start) -> bool:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        return is_start(strip_ansi(text))

    def _take_pending(self, line_count: int | None = None) -> list[RawRecord]:
        if not self._pending:
            return []
        rec = RawRecord(self._offset, self._line, bytes(self._pending))
        self._offset += len(self._pending)
        self._line += self._pending_lines if line_count is None else line_count
        self._pending.clear()
        self._pending_lines = 0
        return [rec]

    def flush(self, *, partial: bool = True) -> list[RawRecord]:
        """Emit the pending record; with ``partial`` also an unfinished last line.

        Followers call ``flush(partial=False)`` when input goes quiet, so a record shows up
        even though no next record has started, while a half-written line waits for its end.
        """
        if partial and self._partial:
            if self._pending and self._starts(bytes(self._partial), self.format.is_start):
                out = self._take_pending()
            else:
                out = []
            self._pending += self._partial
            self._pending_lines += 1
            self._partial.clear()
            out.extend(self._take_pending())
            return out
        return self._take_pending()
