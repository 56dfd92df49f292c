"""Record boundaries: which lines start a record, decided in one place for every reader.

A record is a line that starts one plus every following line that does not (tracebacks,
multi-line messages). ``StartDetector`` is the one start test; the index (``RecordIndex``), the
direct scan of a finished file (``logview.scan``) and the incremental ``RecordSplitter``
(listener streams) all ask it, so they cut the same bytes into the same records:

- ``mask``: for a whole chunk of lines at once (the index). A format's ``StartSignature``
  (allowed bytes per position from the line start, ``LogFormat.start_signature``) is tested on
  all line starts with numpy: the first bytes of every line are gathered as unaligned 64-bit
  words and each word is checked with a few SWAR operations. Exact signatures are the whole
  test; rough ones only pick candidates for the format's ``start_pattern``.
- ``starts_at`` / ``next_start`` / ``first_start``: around a byte position (the direct scan
  walks from a needle's hit back to its record's start and on to the next one).
- ``line_starts_record``: one line (the splitter, unfinished last lines).

A union of two formats (``formats.union``) whose second one's start lines each hold one of a
few literals (``LogFormat.start_marks``: the interpreter's own lines among a log's records,
``formats.python_stderr``) is tested as the first format alone, at its speed, plus the lines
where a mark is found that the second format starts: its alternation as one regex would lose
the first format's bulk test (ten times slower on a 200 MB log).

Lines holding an escape sequence where the test looks (ESC, or 0xC2 which leads the UTF-8
form of C1 controls, in the signature's bytes or, for a regex, anywhere in the line) are
judged by ``is_start`` on the decoded, ANSI-stripped text, by every one of these tests alike;
so are lines that open with a box's top-left corner (``record.undecorated``: TraceRite's frame
around a logged exception), judged without it.
Records longer than ``MAX_RECORD_BYTES`` are cut before the line that would overflow them (the
index and the splitter; the direct scan hands such a file to the index).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from logview.formats.base import LogFormat
from logview.formats.signature import StartSignature, start_signature
from logview.record import (
    CORNER_BYTES,
    CORNER_BYTES_RE,
    MAX_RECORD_BYTES,
    RawRecord,
    decode_record,
    strip_ansi,
    undecorated,
)

if TYPE_CHECKING:  # numpy is imported where the bulk test runs: the splitter needs none
    from datetime import datetime

    import numpy as np

__all__ = ["MAX_RECORD_BYTES", "NeedIndex", "RecordSplitter", "StartDetector", "first_start"]

#: Bytes that may begin an escape sequence strip_ansi removes (ESC; 0xC2 leads C1 controls).
_ESCAPE_BYTES = (0x1B, 0xC2)
_HIGH = 0x8080808080808080


class _WordTest:
    """SWAR test of 8 signature positions: each checked byte within ``[lo, hi]`` (ASCII).

    For ASCII bytes ``x``: ``x + (0x80 - lo)`` sets the high bit iff ``x >= lo`` and
    ``x + (0x7F - hi)`` sets it iff ``x > hi``; neither carries into the next byte. A byte with
    its high bit set fails on its own (and a carry it causes only adds more failing bits).
    """

    __slots__ = ("add_hi", "add_lo", "high", "mask")

    def __init__(self, ranges: list[tuple[int, int] | None]) -> None:
        import numpy as np

        mask = high = add_lo = add_hi = 0
        for k, span in enumerate(ranges):
            if span is None:
                continue
            lo, hi = span
            shift = 8 * k
            mask |= 0xFF << shift
            high |= 0x80 << shift
            add_lo |= (0x80 - lo) << shift
            add_hi |= (0x7F - hi) << shift
        self.mask = np.uint64(mask)
        self.high = np.uint64(high)
        self.add_lo = np.uint64(add_lo)
        self.add_hi = np.uint64(add_hi)

    def ok(self, words: np.ndarray) -> np.ndarray:
        x = words & self.mask
        bad = ((x | (x + self.add_hi)) & self.high) | (((x + self.add_lo) & self.high) ^ self.high)
        return bad == 0


class StartDetector:
    """Decides which lines start a record, for many lines at once."""

    def __init__(self, fmt: LogFormat) -> None:
        self.format = fmt
        self.pattern = fmt.start_pattern
        #: For a union whose second format's starts hold marks: the first format's test, the
        #: marks and the second format's start pattern (see the module).
        self._main: StartDetector | None = None
        self._marks: tuple[bytes, ...] = ()
        self._second: re.Pattern[bytes] | None = None
        first, second = getattr(fmt, "first", None), getattr(fmt, "second", None)
        if (isinstance(first, LogFormat) and isinstance(second, LogFormat) and second.start_marks
                and first.start_pattern is not None and second.start_pattern is not None):
            self._main = StartDetector(first)
            self._marks = second.start_marks
            self._second = second.start_pattern
        signature: StartSignature | None = fmt.start_signature()
        if signature is None and self.pattern is not None and self._main is None:
            signature = start_signature(self.pattern)
        self.signature = signature
        text = self.pattern.pattern.replace(b"[^", b"[") if self.pattern is not None else b""
        self._anchored = b"^" in text or b"\\A" in text
        self._width = len(signature.classes) if signature else 0
        self._never = bool(signature) and not all(signature.classes)
        #: A start made of a level name between literals: decided in bulk (``level_starts``).
        self._vocabulary = None
        vocabulary = fmt.start_vocabulary() if self.pattern is not None else None
        if vocabulary is not None:
            from logview.level_starts import VocabularyTest

            test = VocabularyTest(vocabulary)
            self._vocabulary = test if test.usable else None
        #: The SWAR word tests and lookup tables of the bulk test, built on its first use.
        self._words: list[_WordTest] | None = None
        self._tables: list[tuple[int, np.ndarray]] = []

        #: The signature as a bytes regex (tests one position without gathering words), and a
        #: newline before a line that may start a record (skips continuation lines in C).
        self._signature_re: re.Pattern[bytes] | None = None
        self._next_line: re.Pattern[bytes] | None = None
        if signature is not None:
            if self._never:
                self._signature_re = re.compile(b"(?!)")
            else:
                self._signature_re = re.compile(b"".join(_byte_class(c) for c in signature.classes))
            # A line may start a record once its escape sequences are stripped when one sits
            # where the test looks: in the signature's bytes, or anywhere for a regex (``mask``
            # judges such lines the same way).
            escape = b"[" + re.escape(bytes(_ESCAPE_BYTES)) + b"]"
            reach = b"{0,%d}" % max(0, self._width - 1) if signature.exact else b"*"
            self._next_line = re.compile(b"\\n(?=" + self._signature_re.pattern + b"|[^\\n]"
                                         + reach + escape + b"|" + CORNER_BYTES + b")")

    @property
    def exact(self) -> bool:
        """The signature alone decides (no regex per line)."""
        return self.signature is not None and self.signature.exact

    def next_start(self, buf: bytes, e: int, final: bool) -> int:
        """The first record-starting line at or after line start ``e`` (``len(buf)``: none)."""
        if self._main is not None:
            return self._marked_next(buf, e, final)
        size = len(buf)
        search = self._next_line.search if self._next_line is not None else None
        while e < size:
            if search is not None:
                m = search(buf, e - 1)
                if m is None:
                    return size
                e = m.start() + 1
            if self.starts_at(buf, e, final):
                return e
            e = buf.find(b"\n", e) + 1 or size
        return size

    def starts_at(self, buf: bytes, s: int, final: bool) -> bool:
        """The line starting at ``buf[s]``; ``final``: ``buf`` ends where the file ends."""
        e = buf.find(b"\n", s)
        if e < 0:
            if not final:
                raise ValueError("line not complete in the buffer")
            # The index decides an unfinished last line with line_starts_record.
            return self.line_starts_record(buf[s:])
        if self._escaped(buf, s, e):
            return self.line_starts_record(buf[s:e])
        if self._main is not None:
            return self._main.starts_at(buf, s, final) or self._second.match(buf, s, e) is not None
        if self.pattern is None:
            return True
        if self._signature_re is not None:
            if self._signature_re.match(buf, s) is None:
                return False
            if self.signature.exact:
                return True
        return self.pattern.match(buf[s:e]) is not None

    def _escaped(self, buf: bytes, s: int, e: int) -> bool:
        """The line ``buf[s:e]`` holds an escape byte where the test looks (``_escaped_lines``
        for one line): ESC or 0xC2 in the signature's bytes, or anywhere for a regex; or it
        opens with a box's corner (``record.undecorated``)."""
        end = min(e, s + self._width) if self.exact else e
        return (buf.find(b"\x1b", s, end) >= 0 or buf.find(b"\xc2", s, end) >= 0
                or buf[s] == 0xE2 and CORNER_BYTES_RE.match(buf, s) is not None)

    def line_starts_record(self, line: bytes | bytearray | memoryview) -> bool:
        """The exact test for one line (no newline): what the splitter would decide."""
        line = bytes(line)
        if any(b in line for b in (b"\x1b", b"\xc2")) or CORNER_BYTES_RE.match(line):
            text = strip_ansi(line.decode("utf-8", "replace").rstrip("\r"))
            return self.format.is_start(text) or self.format.is_start(undecorated(text))
        if self._main is not None:
            return self._main.line_starts_record(line) or self._second.match(line) is not None
        if self.pattern is None:
            return True
        if self.exact:
            return self._fits_signature(line, 0, len(line))
        return self.pattern.match(line) is not None

    def _fits_signature(self, data: bytes, s: int, e: int) -> bool:
        classes = self.signature.classes  # type: ignore[union-attr]
        if e - s < len(classes):
            return False
        return all(data[s + k] in cls for k, cls in enumerate(classes))

    def _build_bulk(self) -> list[_WordTest]:
        """The word tests (and, for positions whose class is not one ASCII range, lookup
        tables used on candidates only) of the bulk signature test."""
        import numpy as np

        words: list[_WordTest] = []
        signature = self.signature
        if signature is not None and not self._never:
            ranges: list[tuple[int, int] | None] = []
            for k, cls in enumerate(signature.classes):
                lo, hi = min(cls), max(cls)
                if hi < 0x80:
                    ranges.append((lo, hi))
                else:
                    ranges.append(None)
                if hi >= 0x80 or len(cls) != hi - lo + 1:
                    self._tables.append((k, np.array([v in cls for v in range(256)], bool)))
            for w in range(0, len(ranges), 8):
                words.append(_WordTest(ranges[w : w + 8]))
        self._words = words
        return words

    def mask(self, data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """For lines ``data[starts[j]:ends[j]]`` (ends at the newline), which start a record."""
        import numpy as np

        count = len(starts)
        if self._main is not None:
            result = self._main.mask(data, arr, starts, ends)
            self._add_marked(data, starts, ends, result)
        elif self.pattern is None and self.signature is None:
            result = np.ones(count, dtype=bool)
        elif self._vocabulary is not None:
            # Most lines are decided in bulk; the pattern says for the rest.
            decided = self._vocabulary.decide(data, arr, starts)
            result = decided == 1
            rest = np.flatnonzero(decided < 0)
            if len(rest):
                match = self.pattern.match  # type: ignore[union-attr]
                rs, re_ = starts[rest].tolist(), ends[rest].tolist()
                result[rest] = [match(data[s:e]) is not None for s, e in zip(rs, re_)]
        elif self.signature is None:
            match = self.pattern.match  # type: ignore[union-attr]
            sure = self.format.sure_start_bytes
            if sure and count:
                # Lines whose first byte alone decides (a JSON object line) skip the regex.
                # (Every line ends at a newline of ``arr``: its first byte is in ``arr``.)
                result = np.isin(arr[starts], np.frombuffer(sure, dtype=np.uint8))
                rest = np.flatnonzero(~result)
            else:
                result = np.zeros(count, dtype=bool)
                rest = np.arange(count)
            if len(rest):
                rs, re_ = starts[rest].tolist(), ends[rest].tolist()
                result[rest] = [match(data[s:e]) is not None for s, e in zip(rs, re_)]
        else:
            result = self._signature_mask(data, arr, starts)
            if not self.signature.exact and self.pattern is not None:
                cand = np.flatnonzero(result)
                cs, ce = starts[cand].tolist(), ends[cand].tolist()
                match = self.pattern.match
                if self._anchored:  # "^" only matches at a real start: slice each line
                    result[cand] = [match(data[s:e]) is not None for s, e in zip(cs, ce)]
                else:  # pos/endpos: no copy per line
                    result[cand] = [match(data, s, e) is not None for s, e in zip(cs, ce)]
        if count and (b"\x1b" in data or b"\xc2" in data):
            for j in self._escaped_lines(arr, starts, ends).tolist():
                result[j] = self.line_starts_record(data[starts[j] : ends[j]])
        if count and b"\xe2" in data:  # (lines that open with a box's corner: rare)
            for j in np.flatnonzero(arr[starts] == 0xE2).tolist():
                s, e = int(starts[j]), int(ends[j])
                if CORNER_BYTES_RE.match(data, s, e):
                    result[j] = self.line_starts_record(data[s:e])
        return result

    def _add_marked(self, data: bytes, starts: np.ndarray, ends: np.ndarray,
                    result: np.ndarray) -> None:
        """Set in ``result`` the lines holding a mark that the second format starts."""
        from logview.needles import marked

        match = self._second.match  # type: ignore[union-attr]
        for j in marked(data, self._marks, starts).tolist():
            if not result[j] and match(data, int(starts[j]), int(ends[j])) is not None:
                result[j] = True

    def _marked_next(self, buf: bytes, e: int, final: bool) -> int:
        """``next_start`` of a union with marks: the first format's next start, or a line
        before it that holds a mark and starts a record."""
        found = self._main.next_start(buf, e, final)  # type: ignore[union-attr]
        for mark in self._marks:
            hit = buf.find(mark, e, found)
            while hit >= 0:
                s = buf.rfind(b"\n", e, hit) + 1 or e
                if self.starts_at(buf, s, final):
                    found = s
                    break
                hit = buf.find(mark, buf.find(b"\n", hit) + 1 or found, found)
        return found

    def _escaped_lines(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Lines whose start decision could change once escape sequences are stripped.

        With an exact signature only the bytes it tests matter; otherwise a regex may look
        anywhere in the line.
        """
        import numpy as np

        hits = np.flatnonzero((arr == _ESCAPE_BYTES[0]) | (arr == _ESCAPE_BYTES[1]))
        line = np.searchsorted(starts, hits, side="right") - 1
        keep = (line >= 0) & (hits < ends[np.maximum(line, 0)])
        if self.exact:
            keep &= hits - starts[np.maximum(line, 0)] < self._width
        return np.unique(line[keep])

    def _signature_mask(self, data: bytes, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        import numpy as np

        count = len(starts)
        if self._never or count == 0:
            return np.zeros(count, dtype=bool)
        tests = self._words if self._words is not None else self._build_bulk()
        n = len(arr)
        span = 8 * len(tests)
        # Lines too close to the end of the data for whole words are checked one by one.
        full = int(np.searchsorted(starts, n - span, side="right"))
        ok = np.zeros(count, dtype=bool)
        if full:
            words = np.ndarray((n - 7,), dtype="<u8", buffer=arr, offset=0, strides=(1,))
            head = starts[:full]
            good = tests[0].ok(words[head])
            for k, test in enumerate(tests[1:], 1):
                if 2 * int(np.count_nonzero(good)) > full:  # most pass: test them all
                    good &= test.ok(words[head + 8 * k])
                else:  # few candidates left: test only those
                    cand = np.flatnonzero(good)
                    good[cand] = test.ok(words[head[cand] + 8 * k])
            ok[:full] = good
            for k, table in self._tables:
                cand = np.flatnonzero(ok[:full])
                ok[cand] = table[arr[head[cand] + k]]
        for j in range(full, count):
            ok[j] = self._fits_signature(data, int(starts[j]), n)
        return ok


def _byte_class(values: frozenset[int]) -> bytes:
    return b"[" + b"".join(re.escape(bytes([v])) for v in sorted(values)) + b"]"


class NeedIndex(Exception):
    """A record (or the search for one) longer than ``MAX_RECORD_BYTES``: use the index."""


class _ReadAt(Protocol):
    def read_at(self, offset: int, size: int) -> bytes: ...


def first_start(source: _ReadAt, detector: StartDetector, offset: int, size: int) -> int:
    """Offset of the first record-starting line at or after ``offset`` (``size`` if none)."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    want = 1 << 16
    while True:
        data = source.read_at(offset - 1, min(want, size - offset + 1))
        final = offset - 1 + len(data) >= size
        nl = data.find(b"\n")
        while nl >= 0:
            s = nl + 1
            if s >= len(data):
                if final:
                    return size
                break
            e = data.find(b"\n", s)
            if e < 0 and not final:
                break
            if detector.starts_at(data, s, final):
                return offset - 1 + s
            if e < 0:
                return size
            nl = e
        if final or want > MAX_RECORD_BYTES:
            if final:
                return size
            raise NeedIndex(f"no record starts within {MAX_RECORD_BYTES} bytes of {offset}")
        want *= 4


#: How far before a record without a time ``time_before`` looks for one.
CARRY_BYTES = 64 * 1024


def time_before(source: _ReadAt, detector: StartDetector, offset: int,
                known: tuple[int, datetime | None] | None = None) -> datetime | None:
    """The time of the nearest record before the one starting at ``offset`` that has one,
    within ``CARRY_BYTES`` before it (None: none there): what a record read without a time
    takes where its format says so (``LogFormat.time_from_previous``). ``known``: an earlier
    record start without a time and the time it took: the look back stops there."""
    if offset <= 0:
        return None
    lo = max(0, offset - CARRY_BYTES)
    stop = known is not None and lo <= known[0] < offset
    if stop:
        lo = known[0]  # type: ignore[index]
    data = source.read_at(lo, offset - lo)
    fmt = detector.format
    end = s = len(data)
    while s > 0:
        s = data.rfind(b"\n", 0, s - 1) + 1  # the line before the one that starts at s
        if s == 0 and stop:
            return known[1]  # type: ignore[index]  # (no record between had a time)
        if s == 0 and lo > 0:
            return None  # (the window's first line may be cut)
        if detector.starts_at(data, s, True):
            record = fmt.parse_raw(decode_record(data[s:end]))
            if record.time is not None:
                return record.time
            end = s
    return None


class TimeCarrier:
    """``time_before`` for a reader going through a source in order (a scan): each look back
    stops at the record asked before, so a run of records without a time costs one pass
    (RichHandler leaves the time blank for every record of the same second)."""

    def __init__(self, source: _ReadAt, detector: StartDetector) -> None:
        self.source = source
        self.detector = detector
        self._known: tuple[int, datetime | None] | None = None
        self._end = -1  # where the record last ``seen`` ends
        self._after: datetime | None = None  # the time a record starting there takes

    def seen(self, offset: int, size: int, moment: datetime | None) -> None:
        """The reader read a record of ``size`` bytes at ``offset`` whose time (its own or
        the one it took) is ``moment``: a record right after it takes that, unread."""
        self._end, self._after = offset + size, moment

    def __call__(self, offset: int) -> datetime | None:
        if offset == self._end:
            return self._after
        known = self._known if self._known is not None and self._known[0] < offset else None
        moment = time_before(self.source, self.detector, offset, known)
        self._known = (offset, moment)
        return moment


class RecordSplitter:
    """Cuts a byte stream into records as it arrives, with the format's ``StartDetector``.

    Feed it chunks; it hands back the records it knows are complete. The last one stays
    pending until the next start line shows up or the caller flushes it (end of input, or a
    quiet moment when following).
    """

    def __init__(self, fmt: LogFormat, *, offset: int = 0, line: int = 1) -> None:
        self.format = fmt
        self._detector = StartDetector(fmt)
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
        starts = self._detector.line_starts_record
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
                len(pending) + len(line) > MAX_RECORD_BYTES or starts(line[:-1])
            ):
                out.extend(self._take_pending())
            pending += line
            self._pending_lines += 1
            start = nl + 1
        return out

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
            if self._pending and self._detector.line_starts_record(self._partial):
                out = self._take_pending()
            else:
                out = []
            self._pending += self._partial
            self._pending_lines += 1
            self._partial.clear()
            out.extend(self._take_pending())
            return out
        return self._take_pending()
