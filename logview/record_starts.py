"""Which lines start a record, decided for a whole chunk of lines at once.

The splitter asks ``fmt.is_start`` line by line; the index must give the same answers for
millions of lines a second. A format's ``StartSignature`` (allowed bytes per position from the
line start) is tested on all line starts of a chunk with numpy: the first bytes of every line
are gathered as unaligned 64-bit words and each word is checked with a few SWAR operations
(per-byte range tests), so the cost is a handful of vector operations per 8 signature bytes.
Exact signatures are the whole test; rough ones only pick candidates for the format's
``start_pattern``.

Lines whose first bytes hold an escape sequence (ESC, or 0xC2 which leads the UTF-8 form of
C1 controls) are judged by ``is_start`` on the decoded, ANSI-stripped text, exactly as the
splitter does.
"""

from __future__ import annotations

import numpy as np

from logview.formats.base import LogFormat
from logview.pattern_analysis import StartSignature, start_signature
from logview.record import strip_ansi

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
        self.pattern = getattr(fmt, "start_pattern", None)
        custom = getattr(fmt, "start_signature", None)
        signature: StartSignature | None = None
        if callable(custom):
            signature = custom()
        elif isinstance(custom, StartSignature):
            signature = custom
        if signature is None and self.pattern is not None:
            signature = start_signature(self.pattern)
        self.signature = signature
        text = self.pattern.pattern.replace(b"[^", b"[") if self.pattern is not None else b""
        self._anchored = b"^" in text or b"\\A" in text
        self._width = len(signature.classes) if signature else 0
        self._never = bool(signature) and not all(signature.classes)
        self._words: list[_WordTest] = []
        #: Positions whose class is not one ASCII range: looked up in a table (candidates only).
        self._tables: list[tuple[int, np.ndarray]] = []
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
                self._words.append(_WordTest(ranges[w : w + 8]))

    @property
    def exact(self) -> bool:
        """The signature alone decides (no regex per line)."""
        return self.signature is not None and self.signature.exact

    def line_starts_record(self, line: bytes | bytearray | memoryview) -> bool:
        """The exact test for one line (no newline): what the splitter would decide."""
        line = bytes(line)
        if any(b in line for b in (b"\x1b", b"\xc2")):
            text = line.decode("utf-8", "replace").rstrip("\r")
            return self.format.is_start(strip_ansi(text))
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

    def mask(self, data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """For lines ``data[starts[j]:ends[j]]`` (ends at the newline), which start a record."""
        count = len(starts)
        if self.pattern is None and self.signature is None:
            result = np.ones(count, dtype=bool)
        elif self.signature is None:
            match = self.pattern.match  # type: ignore[union-attr]
            result = np.fromiter(
                (match(data[s:e]) is not None for s, e in zip(starts.tolist(), ends.tolist())),
                dtype=bool,
                count=count,
            )
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
        return result

    def _escaped_lines(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Lines whose start decision could change once escape sequences are stripped.

        With an exact signature only the bytes it tests matter; otherwise a regex may look
        anywhere in the line.
        """
        hits = np.flatnonzero((arr == _ESCAPE_BYTES[0]) | (arr == _ESCAPE_BYTES[1]))
        line = np.searchsorted(starts, hits, side="right") - 1
        keep = (line >= 0) & (hits < ends[np.maximum(line, 0)])
        if self.exact:
            keep &= hits - starts[np.maximum(line, 0)] < self._width
        return np.unique(line[keep])

    def _signature_mask(self, data: bytes, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        count = len(starts)
        if self._never or count == 0:
            return np.zeros(count, dtype=bool)
        n = len(arr)
        span = 8 * len(self._words)
        # Lines too close to the end of the data for whole words are checked one by one.
        full = int(np.searchsorted(starts, n - span, side="right"))
        ok = np.zeros(count, dtype=bool)
        if full:
            words = np.ndarray((n - 7,), dtype="<u8", buffer=arr, offset=0, strides=(1,))
            head = starts[:full]
            good = self._words[0].ok(words[head])
            for k, test in enumerate(self._words[1:], 1):
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
