"""The level, logger and time of many template records at once, read with numpy.

Counting records per level, logger and time (the viewer's level bar, logger tree and
histogram) needs three header fields of every record, not the record. A ``logging`` template
says where they are: the head opens with literals and fields in a known order, each field
ending where the next literal starts. ``ColumnWalker`` walks that order over a whole chunk of
records at once: a literal at a known place is a byte comparison, a field's end is the first
occurrence of the literal after it (``searchsorted`` into that literal's occurrences in the
chunk), a time of fixed width is read as digits at fixed offsets, and the values of a field
become 64-bit words whose distinct values (a few loggers, five levels, one time a minute) are
decoded once each.

The walk is the regex's own reading: fields are read shortest first, as the template's regex
reads them when the next literal could occur inside (``template_compile``), and every field up
to the message is walked and checked against its kind, so a split the regex would reject is
not taken. Records the walk cannot read (a line that does not fit, a level it does not know,
a head holding an escape, a value too long) are returned as such: the caller parses those
(``logview.columns``). Templates the walk cannot follow (a field of free text before the
message, two fields with no literal between them, a time of variable width, a needed field
after the message) have no walker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.lib.stride_tricks import as_strided

from logview.formats.template_syntax import TemplateField
from logview.record import ESCAPE_BYTES_RE, holds_escape
from logview.timeparse import to_timestamp

#: Fields whose values hold no whitespace (``template_compile._WORD_ATTRS``).
_WORD = frozenset({"name", "module", "funcName", "filename", "processName"})
_NUMBER = frozenset({"lineno", "process", "thread", "levelno", "msecs"})
#: The fields the counts need (the rest is only checked).
_WANTED = frozenset({"levelname", "levelno", "name", "asctime"})
#: Longest value read (bytes); longer ones are parsed.
MAX_VALUE = 128
#: strftime directives of one width: (component, digits).
_FIXED_DIRECTIVES = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "j": 3}
_DIRECTIVE = re.compile(r"%(.)")
_NUMBER_TEXT = re.compile(r"[-+]?\d+(?:\.\d+)?")
_LEVEL_NUMBER = re.compile(r"Level \d+")
#: Odd 64-bit multipliers of the words of a value (a hash; equal hashes are then verified).
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                 0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD,
                 0xC4CEB9FE1A85EC53, 0x9FB21C651E98DF25] * 2, dtype=np.uint64)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
#: What the ASCII zeros of a number of ``n`` digits add when read as values: 48 x 11...1.
_REPUNIT48 = [48 * int("1" * n or "0") for n in range(20)]


@dataclass(slots=True, frozen=True)
class TimeLayout:
    """A time of fixed width: where its digits and separators are."""

    digits: tuple[tuple[str, int, int], ...]  # (component, offset, width)
    literals: tuple[tuple[int, int], ...]  # (offset, byte)
    width: int
    fraction: int | None = None  # offset of logging's default ",mmm" milliseconds

    @property
    def components(self) -> frozenset[str]:
        return frozenset(c for c, _, _ in self.digits)


def time_layout(datefmt: str | None) -> TimeLayout | None:
    """The layout of times written with ``datefmt`` (None: logging's default), or None when
    a directive has no fixed width (month names, ``%-d``, ``%f``, zones)."""
    if datefmt is None:
        default = time_layout("%Y-%m-%d %H:%M:%S")
        assert default is not None
        return TimeLayout(default.digits, default.literals + ((19, ord(",")),), 23, 20)
    digits: list[tuple[str, int, int]] = []
    literals: list[tuple[int, int]] = []
    at = pos = 0
    for m in _DIRECTIVE.finditer(datefmt):
        for ch in datefmt[pos : m.start()].encode():
            literals.append((at, ch))
            at += 1
        pos = m.end()
        code = m[1]
        if code == "%":
            literals.append((at, ord("%")))
            at += 1
            continue
        width = _FIXED_DIRECTIVES.get(code)
        if width is None:
            return None
        digits.append((code, at, width))
        at += width
    for ch in datefmt[pos:].encode():
        literals.append((at, ch))
        at += 1
    if not digits:
        return None
    return TimeLayout(tuple(digits), tuple(literals), at)


@dataclass(slots=True, frozen=True)
class _Step:
    kind: str  # "literal", "time" (fixed width) or "field" (ends where ``literal`` starts)
    attr: str = ""
    literal: bytes = b""
    width: int = 0  # "field": the padding width (0: none)
    fill: str = " "


@dataclass(slots=True)
class HeaderColumns:
    """What the walk read from a chunk's records (one entry per record start given)."""

    ok: np.ndarray  # bool: the record was read; the others must be parsed
    levelnos: np.ndarray  # int16 (0: no level)
    loggers: np.ndarray  # int32 into ``logger_names`` (-1: none)
    logger_names: list[str]
    times: np.ndarray  # float64 seconds since the epoch (NaN: none)


def plan_steps(tokens: list[str | TemplateField], datefmt: str | None) -> list[_Step] | None:
    """The walk over a template's head, up to its message; None when it cannot be walked."""
    steps: list[_Step] = []
    for i, tok in enumerate(tokens):
        if isinstance(tok, str):
            steps.append(_Step("literal", literal=tok.encode()))
            continue
        attr = tok.attr
        if attr == "message":
            rest = {t.attr for t in tokens[i + 1 :] if isinstance(t, TemplateField)}
            if rest & _WANTED:
                return None  # a field the counts need is read after the message
            break
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if attr == "asctime":
            if tok.align or time_layout(datefmt) is None:
                return None
            steps.append(_Step("time", attr))
        elif attr in _WORD or attr in _NUMBER or attr == "levelname":
            if not isinstance(nxt, str) or not nxt or tok.precision is not None:
                return None  # two fields with no literal between, or a cut value
            steps.append(_Step("field", attr, literal=nxt.encode(),
                               width=tok.width if tok.align else 0, fill=tok.fill))
        else:
            return None  # free text (threadName, pathname...) may hold any literal
    if not any(step.attr in _WANTED for step in steps):
        return None
    return steps


def _occurrences(arr: np.ndarray, literal: bytes) -> np.ndarray:
    """Sorted offsets of ``literal`` in ``arr`` (uint8)."""
    n = len(literal)
    if n == 0 or len(arr) < n:
        return np.zeros(0, dtype=np.int64)
    # Filter on the least common looking byte first (spaces, digits and letters are
    # everywhere; dashes, brackets and colons less so).
    first = max(range(n), key=lambda k: (literal[k] != 32, not chr(literal[k]).isalnum(), -k))
    cand = np.flatnonzero(arr[first : len(arr) - n + 1 + first] == literal[first])
    for k in range(n):
        if k != first and len(cand):
            cand = cand[arr[cand + k] == literal[k]]
    return cand.astype(np.int64)


def _next_of(sorted_offsets: np.ndarray, at: np.ndarray, missing: int) -> np.ndarray:
    """For each of ``at``, the first of ``sorted_offsets`` at or after it (``missing``: none)."""
    if len(sorted_offsets) == 0:
        return np.full(len(at), missing, dtype=np.int64)
    j = np.searchsorted(sorted_offsets, at)
    last = len(sorted_offsets) - 1
    return np.where(j <= last, sorted_offsets[np.minimum(j, last)], missing).astype(np.int64)


def _all_along_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix.all(axis=1)`` for a few columns (column by column: much faster there)."""
    out = matrix[:, 0].copy()
    for k in range(1, matrix.shape[1]):
        out &= matrix[:, k]
    return out


def _escapes(buf: bytes) -> np.ndarray:
    """Sorted offsets of the escape introducers in ``buf`` (ESC, UTF-8 C1 introducers)."""
    if not holds_escape(buf):
        return np.zeros(0, dtype=np.int64)
    return np.array([m.start() for m in ESCAPE_BYTES_RE.finditer(buf)], dtype=np.int64)


class _Chunk:
    """A chunk's bytes, padded so that every window of ``MAX_VALUE`` bytes can be taken."""

    def __init__(self, buf: bytes) -> None:
        self.size = len(buf)
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        padded = np.zeros(self.size + MAX_VALUE + 8, dtype=np.uint8)
        padded[: self.size] = self.arr
        self.padded = padded

    def rows(self, at: np.ndarray, width: int) -> np.ndarray:
        """The ``width`` bytes at each offset, one row each (zeros past the end)."""
        window = as_strided(self.padded, shape=(self.size + 1, width), strides=(1, 1))
        return window[np.minimum(at, self.size)]

    def holds(self, at: np.ndarray, literal: bytes) -> np.ndarray:
        """Whether ``literal`` is written at each offset."""
        rows = self.rows(at, len(literal))
        out = rows[:, 0] == literal[0]
        for k in range(1, len(literal)):
            out &= rows[:, k] == literal[k]
        return out

    @staticmethod
    def digits(rows: np.ndarray, offset: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """The number written with ``width`` digits at ``offset`` of each row, and whether
        they are digits."""
        value = np.zeros(len(rows), dtype=np.int64)
        good = np.ones(len(rows), dtype=bool)
        for k in range(offset, offset + width):
            d = rows[:, k]
            good &= (d >= 48) & (d <= 57)
            value = value * 10 + d
        return value - _REPUNIT48[width], good

    def distinct(self, a: np.ndarray, lengths: np.ndarray) -> tuple[list[bytes], np.ndarray,
                                                                   np.ndarray]:
        """The distinct values ``buf[a:a+length]``, each record's index among them, and
        whether that index is certain (a record whose hash collides with another value's is
        not)."""
        width = int(-(-max(1, int(lengths.max(initial=1))) // 8) * 8)
        words = np.ascontiguousarray(self.rows(a, width)).view(np.uint64)
        for j in range(width // 8):  # zero what lies past each value
            keep = np.clip(lengths - 8 * j, 0, 8).astype(np.uint64)
            words[:, j] &= np.where(keep >= 8, _ALL_ONES,
                                    (np.uint64(1) << (keep * np.uint64(8))) - np.uint64(1))
        hashes = (words * _MIX[: width // 8]).sum(axis=1, dtype=np.uint64)
        hashes += lengths.astype(np.uint64) * _MIX[-1]
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        certain = _all_along_rows(words == words[first[inverse]])
        values = [words[i].tobytes()[: int(lengths[i])] for i in first.tolist()]
        return values, inverse, certain


class ColumnWalker:
    """Reads level, logger and time of a chunk's records for one ``TemplateFormat``.

    ``level_of(text)`` is the format's reading of a level name (``(name, number)``);
    ``time_of(parts)`` turns strftime components (``{"Y": "2024", ...}``) into a datetime;
    ``msecs_add``: the milliseconds come from ``%(msecs)`` (the time has no fraction).
    """

    def __init__(self, steps: list[_Step], layout: TimeLayout | None,
                 level_of: Callable[[str], tuple[str | None, int]],
                 time_of: Callable[[dict[str, str]], datetime | None], msecs_add: bool) -> None:
        self.steps = steps
        self.layout = layout
        self.level_of = level_of
        self.time_of = time_of
        self.msecs_add = msecs_add
        self._levels: dict[bytes, int] = {}
        #: A time without a year or a date is placed by comparing it with a reference, to
        #: the second: its distinct values are seconds, not minutes.
        self._to_second = layout is not None and not (
            layout.components & {"Y", "y"} and layout.components & {"m", "d", "j"})

    def read(self, buf: bytes, starts: np.ndarray) -> HeaderColumns:
        """The header columns of the records starting at ``starts`` (offsets into ``buf``)."""
        chunk = _Chunk(buf)
        starts = np.asarray(starts, dtype=np.int64)
        line_end = _next_of(np.flatnonzero(chunk.arr == 10), starts, chunk.size)
        # A head holding an escape is parsed (the parser strips escapes first).
        ok = _next_of(_escapes(buf), starts, chunk.size) >= line_end
        pos = starts.copy()
        values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        found: dict[bytes, np.ndarray] = {}
        for step in self.steps:
            if step.kind == "literal":
                ok &= chunk.holds(pos, step.literal)
                pos = pos + len(step.literal)
                ok &= pos <= line_end
                continue
            if step.kind == "time":
                assert self.layout is not None
                end = pos + self.layout.width
                ok &= end <= line_end
            else:
                occ = found.get(step.literal)
                if occ is None:
                    occ = found[step.literal] = _occurrences(chunk.arr, step.literal)
                end = _next_of(occ, pos + max(1, step.width), chunk.size + 1)
                ok &= (end <= line_end) & (end - pos <= MAX_VALUE)
            values[step.attr] = (pos, np.maximum(end, pos))
            pos = end
        return self._columns(chunk, ok, values)

    def _columns(self, chunk: _Chunk, ok: np.ndarray,
                 values: dict[str, tuple[np.ndarray, np.ndarray]]) -> HeaderColumns:
        count = len(ok)
        out = HeaderColumns(ok, np.zeros(count, dtype=np.int16), np.full(count, -1, np.int32),
                            [], np.full(count, np.nan))
        for step in self.steps:
            if step.kind == "literal" or not ok.any():
                continue
            a, b = values[step.attr]
            if step.kind == "time":
                self._read_time(chunk, out, a)
                continue
            raw, inverse, certain = chunk.distinct(a, np.where(ok, b - a, 0))
            ok &= certain
            texts = [v.decode("utf-8", "replace") for v in raw]
            if step.width:
                texts = [t.strip(step.fill) for t in texts]
            if step.attr == "levelname":
                numbers = np.array([self._level(v, t) for v, t in zip(raw, texts)],
                                   dtype=np.int32)
                ok &= (numbers > 0)[inverse]
                out.levelnos = np.where(ok, numbers[inverse], 0).astype(np.int16)
            elif step.attr in _WORD:
                good = np.array([bool(t) and not any(c.isspace() for c in t) for t in texts])
                ok &= good[inverse]
                if step.attr == "name":
                    out.logger_names = texts
                    out.loggers = np.where(ok, inverse, -1).astype(np.int32)
            else:  # a number: checked; msecs added to the time, levelno read as the level
                parsed = np.array([float(t) if _NUMBER_TEXT.fullmatch(t) else np.nan
                                   for t in texts])
                ok &= ~np.isnan(parsed)[inverse]
                if step.attr == "msecs" and self.msecs_add:
                    out.times = out.times + np.where(ok, parsed[inverse], 0.0) / 1000.0
                elif step.attr == "levelno" and "levelname" not in values:
                    numbers = np.nan_to_num(parsed, nan=0).astype(np.int32)
                    out.levelnos = np.where(ok, numbers[inverse], 0).astype(np.int16)
        out.ok = ok
        return out

    def _read_time(self, chunk: _Chunk, out: HeaderColumns, a: np.ndarray) -> None:
        """Times of fixed width: digits at fixed offsets; the distinct minutes (seconds
        when the time needs a reference) turned into epoch seconds by the format."""
        layout = self.layout
        assert layout is not None
        ok = out.ok
        rows = chunk.rows(a, layout.width)
        for offset, byte in layout.literals:
            ok &= rows[:, offset] == byte
        parts: dict[str, np.ndarray] = {}
        for comp, offset, width in layout.digits:
            parts[comp], good = chunk.digits(rows, offset, width)
            ok &= good
        seconds = parts.pop("S", np.zeros(len(a), dtype=np.int64)) if not self._to_second \
            else np.zeros(len(a), dtype=np.int64)
        widths = {c: w for c, _, w in layout.digits}
        key = np.zeros(len(a), dtype=np.int64)
        for comp in sorted(parts):
            key = key * 10 ** widths[comp] + parts[comp]
        key = np.where(ok, key, -1)
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        stamps = np.full(len(uniq), np.nan)
        for k, (value, i) in enumerate(zip(uniq.tolist(), first.tolist())):
            if value < 0:
                continue
            when = self.time_of({c: str(int(parts[c][i])).zfill(w)
                                 for c, _, w in layout.digits if c in parts})
            stamp = None if when is None else to_timestamp(when)
            if stamp is not None:
                stamps[k] = stamp
        inverse = inverse.ravel()
        ok &= ~np.isnan(stamps)[inverse]
        times = stamps[inverse] + seconds
        if layout.fraction is not None:
            millis, good = chunk.digits(rows, layout.fraction, 3)
            ok &= good
            times = times + millis / 1000.0
        out.times = np.where(ok, times, np.nan)

    def _level(self, raw: bytes, text: str) -> int:
        number = self._levels.get(raw)
        if number is None:
            known = _LEVEL_NUMBER.fullmatch(text) or (text and not any(map(str.isspace, text)))
            number = self.level_of(text)[1] if known else 0
            if len(self._levels) < 1024:
                self._levels[raw] = number
        return number
