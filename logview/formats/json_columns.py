"""The level, logger and time of many JSON-lines records at once, read with numpy.

``JsonColumnWalker`` reads them over a whole chunk without decoding any object. Most records
open with the head the first records share, read as a template by ``json_head.HeadWalker``
(4 MB of records at once); each record it leaves (another head, a backslash, a nested value,
a key that could change the reading...) has its first line split into strings (quotes not
escaped by an odd run of backslashes) and the gaps between them, which say all of a flat
object's shape: ``{`` opens it, ``: `` or ``: 12, `` follows a key, ``, `` or ``}`` a value. The usual gaps are known by two bytes, a
number's by its colon and comma or brace; a line is taken only when every gap and string
agrees with a flat object. Then it is valid JSON (numbers pass an automaton, escapes checked, raw
controls and ANSI introducers leave it unread) and its keys and values are known: keys are
matched to the role table of ``jsonl.record_from_object`` (the lowest rank present wins),
values read once per distinct value with the parser's own functions, epoch times digit by
digit, and ISO-8601 times of a fixed layout as digits at fixed offsets (``json_times``).

A record that might read differently is left unread (``ok`` false: the caller parses it): not
one flat object on its first line (nested values, other spacing), a chosen key twice, a value
read holding a backslash or long, logview's own object or a journal entry, a time of another
shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from logview.formats.byte_chunk import ALL_ONES as _ALL_ONES
from logview.formats.byte_chunk import MAX_VALUE
from logview.formats.byte_chunk import MIX as _MIX
from logview.formats.byte_chunk import ByteChunk as _Chunk
from logview.formats.byte_chunk import escapes as _escapes
from logview.formats.byte_chunk import next_of as _next_of
from logview.formats.json_head import HeadWalker, learn_head, scalars
from logview.formats.json_times import epoch_times, iso_times
from logview.formats.template_columns import HeaderColumns


@dataclass(slots=True, frozen=True)
class JsonReading:
    """How ``jsonl.record_from_object`` reads what the counts need (given by ``JsonFormat``)."""

    roles: dict[str, tuple[int, int]]  # key -> (role, rank): the lowest rank present wins
    time: int  # the role numbers of the roles read
    level: int
    levelno: int
    message: int
    logger: int
    schemas: bool  # logview's own objects and journal entries are read their own way
    name_rule: bool  # structlog: "name" is no logger when "event" is the message
    level_name: Callable[[str], tuple[str | None, int]]
    numeric_level: Callable[[int, dict[str, Any]], tuple[str | None, int]]
    levelno_of: Callable[[Any], int]
    clean: Callable[[str], str]


#: Keys whose presence changes how an object is read: logview's own schema (all four),
#: journal entries (any), and how a numeric level is read (``jsonl._numeric_level``).
_OWN = ("levelno", "fields", "exc", "message")
_JOURNAL = ("MESSAGE", "__CURSOR", "__REALTIME_TIMESTAMP")
_CONTEXT = ("short_message", "host", "version", "msg", "v", "hostname", "pid")
_FLAGS = (*_OWN, *_JOURNAL, *_CONTEXT)

# Gaps between strings by what they hold: S opens the object, A ends a key before a string
# value, B ends a string value before a key, C holds a key's number or word and ends it, E
# closes after a string value, F closes after a number or word, Z is an empty object.
_NONE, _S, _A, _B, _C, _E, _F, _Z = range(8)
#: The usual gaps by length (3: longer), first and second byte (-1: another gap).
_USUAL = np.full(1 << 18, -1, dtype=np.int8)
for _gap, _kind in {b"{": _S, b"}": _E, b":": _A, b",": _B, b": ": _A, b", ": _B, b"{}": _Z,
                    b"{ ": _S, b" }": _E, b"} ": _E, b" :": _A, b" ,": _B}.items():
    _USUAL[len(_gap) | _gap[0] << 2 | (_gap[1:] or b"\0")[0] << 10] = _kind
#: Which gaps may follow a string: between strings (0) and after the last one (1).
_PLACED = np.zeros((2, 8), dtype=bool)
_PLACED[0, [_A, _B, _C]] = _PLACED[1, [_E, _F]] = True
#: Strings: a key follows S, B or C and is followed by A, C or F; a value follows A and is
#: followed by B or E.
_IS_KEY = np.zeros(8, dtype=bool)
_IS_KEY[[_S, _B, _C]] = True
_AGREES = np.zeros((8, 8), dtype=bool)
_AGREES[np.ix_([_S, _B, _C], [_A, _C, _F])] = _AGREES[np.ix_([_A], [_B, _E])] = True
_STR, _NUM, _WORD = range(3)  # kinds of values
_HEX = np.zeros(256, dtype=bool)
_HEX[list(b"0123456789abcdefABCDEF")] = True
_ESCAPABLE = np.zeros(256, dtype=bool)
_ESCAPABLE[list(b'"\\/bfnrtu')] = True
#: Bytes of records split into strings at once (``read_objects``: its temporaries are up to
#: 9 times the bytes), and read at once while a head is read.
OBJECT_BYTES = 1 << 20
HEAD_BYTES = 4 << 20
#: Sample lines a head is learned from, and reads between looks while there is none.
_SAMPLE = 64
_LEARN_EVERY = 8


@dataclass(slots=True)
class _Flat:
    """The flat objects of a chunk: which records are one, and their keys and values."""

    ok: np.ndarray
    key_rec: np.ndarray  # per key: its record, where its text is, where its value is
    key_a: np.ndarray
    key_b: np.ndarray
    val_a: np.ndarray
    val_b: np.ndarray
    val_kind: np.ndarray
    backslashes: np.ndarray


def _backslashes(chunk: _Chunk, quotes: np.ndarray, bs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Which quotes an odd run of backslashes escapes, and where runs escape nothing valid."""
    brk = np.flatnonzero(np.diff(bs) != 1)
    first = bs[np.r_[0, brk + 1]]
    end = bs[np.r_[brk, len(bs) - 1]] + 1
    odd = ((end - first) & 1).astype(bool)
    escaped = chunk.padded[quotes - 1] == 92  # a quote that ends a run: is it odd?
    at = np.flatnonzero(escaped)
    escaped[at] = odd[np.searchsorted(end, quotes[at])]
    after = chunk.padded[end]
    good = ~odd | _ESCAPABLE[after]
    uni = odd & (after == ord("u"))
    if uni.any():
        good[uni] = _HEX[chunk.rows(end[uni] + 1, 4)].all(axis=1)
    return escaped, first[~good]


def _flat_objects(chunk: _Chunk, buf: bytes, starts: np.ndarray) -> _Flat:
    """Split every record's first line into strings and gaps; keep the flat objects."""
    arr, size = chunk.arr, chunk.size
    controls = np.flatnonzero(arr < 32)
    newlines = controls[arr[controls] == 10]
    line_end = np.minimum(_next_of(newlines, starts, size), np.append(starts[1:], size))
    cr = (line_end > starts) & (chunk.padded[np.maximum(line_end - 1, 0)] == 13)
    stop = line_end - cr  # a CRLF's CR is no part of the line
    ok = (stop > starts) & (_next_of(controls, starts, size) >= stop)  # raw controls: no JSON
    ok &= _next_of(_escapes(buf), starts, size) >= stop  # the parser strips escapes first
    quotes = np.flatnonzero(arr == 34)
    bs = np.flatnonzero(arr == 92)
    if len(bs):
        escaped, bad = _backslashes(chunk, quotes, bs)
        quotes = quotes[~escaped]
        ok &= _next_of(bad, starts, size) >= stop
    lo = np.searchsorted(quotes, starts)
    count = np.searchsorted(quotes, stop) - lo  # the quotes of each first line
    ok &= (count & 1) == 0
    recs = np.flatnonzero(ok)
    k = count[recs] // 2
    if len(recs) < len(starts) or 2 * int(k.sum()) < len(quotes):  # not every quote is read
        quotes = quotes[np.repeat(lo[recs] - 2 * (np.cumsum(k) - k), 2 * k)
                        + np.arange(2 * int(k.sum()))]
    opens, closes = quotes[0::2], quotes[1::2]
    srec = np.repeat(recs, k)
    # The gaps: one before the first string of each line, one after each string.
    first = np.r_[True, srec[1:] != srec[:-1]]
    last = np.r_[first[1:], True]
    kind, run_a, run_b, word = _gap_kinds(chunk, closes + 1, np.where(
        last, stop[srec], np.r_[opens[1:], 0]))
    firsts = np.cumsum(k) - k
    head = _gap_kinds(chunk, starts[recs], np.where(
        k > 0, np.append(opens, 0)[firsts], stop[recs]))[0]
    ok[recs[~np.where(k > 0, head == _S, head == _Z)]] = False
    ok[srec[~_PLACED[last.view(np.uint8), kind]]] = False
    before = np.r_[_NONE, kind[:-1]]
    before[firsts[k > 0]] = head[k > 0]
    ok[srec[~_AGREES[before, kind]]] = False
    keys = np.flatnonzero(_IS_KEY[before] & ok[srec])
    nxt = np.minimum(keys + 1, max(len(opens) - 1, 0))
    to_string = kind[keys] == _A
    return _Flat(ok, srec[keys], opens[keys] + 1, closes[keys],
                 np.where(to_string, opens[nxt] + 1, run_a[keys]),
                 np.where(to_string, closes[nxt], run_b[keys]),
                 np.where(to_string, _STR, np.where(word[keys], _WORD, _NUM)), bs)


def _gap_kinds(chunk: _Chunk, gap_a: np.ndarray, gap_b: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind, start and end of the number or word, whether it is a word) of gaps: the usual
    ones by their length and two bytes, then ``: 12, `` and the like."""
    length = np.minimum(gap_b - gap_a, 3)
    second = chunk.padded[gap_a + 1] * (length == 2)
    kind = _USUAL[length | chunk.padded[gap_a].astype(np.int64) << 2
                  | second.astype(np.int64) << 10].astype(np.int64)
    run_a = np.zeros(len(gap_a), dtype=np.int64)
    run_b = np.zeros(len(gap_a), dtype=np.int64)
    word = np.zeros(len(gap_a), dtype=bool)
    other = np.flatnonzero(kind < 0)
    if len(other):
        kind[other], run_a[other], run_b[other], word[other] = _number_gaps(
            chunk, gap_a[other], gap_b[other])
    kind[kind < 0] = _NONE  # other spacing: left to the parser
    return kind, run_a, run_b, word


def _number_gaps(chunk: _Chunk, gap_a: np.ndarray, gap_b: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """As ``_gap_kinds`` for gaps of a colon, a space or none, a number or word, and a comma
    or a brace and a space or none (kind -1: another gap)."""
    p = chunk.padded
    run_a = gap_a + 1 + (p[gap_a + 1] == 32)
    end = gap_b - (p[gap_b - 1] == 32)
    last = p[end - 1]
    run_b = end - 1
    kind = np.where(last == ord(","), _C, np.where(last == ord("}"), _F, -1))
    kind[(p[gap_a] != ord(":")) | (run_b <= run_a) | (gap_b - gap_a < 3)] = -1
    word = np.zeros(len(gap_a), dtype=bool)
    take = np.flatnonzero(kind >= 0)
    if len(take):
        good, word[take] = scalars(chunk, run_a[take], run_b[take])
        kind[take[~good]] = -1
    return kind, run_a, run_b, word


def _key_code(head: np.ndarray, tail: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A key's first and last 8 bytes and length, mixed into one word."""
    return head * _MIX[0] + tail * _MIX[1] + lengths.astype(np.uint64) * _MIX[2]


class JsonColumnWalker:
    """Reads level, logger and time of a chunk's JSON-lines records (``template_columns``'
    ``HeaderColumns``), exactly as ``jsonl.record_from_object`` reads them, or leaves them
    unread."""

    def __init__(self, reading: JsonReading) -> None:
        self.reading = reading
        self.known = sorted(set(reading.roles) | set(_FLAGS) | {"event", "name"})
        raw = [key.encode() for key in self.known]
        self._width = -(-max(map(len, raw)) // 8) * 8
        self._bytes = np.array([list(key.ljust(self._width, b"\0")) for key in raw], np.uint8)
        self._head = self._bytes[:, :8].copy().view(np.uint64)[:, 0]  # first and last 8 bytes
        self._tail = np.frombuffer(b"".join(k[-8:].rjust(8, b"\0") for k in raw), np.uint64)
        self._lengths = np.array([len(key) for key in raw])
        codes = _key_code(self._head, self._tail, self._lengths)
        self._order = np.argsort(codes)
        self._codes = codes[self._order]
        # (codes sorted: distinct when no two neighbours are equal; ``np.unique`` would import
        # numpy.ma, 15 ms of every start that reads JSON lines)
        self.usable = (self._width <= MAX_VALUE
                       and not bool(np.any(self._codes[1:] == self._codes[:-1])))
        self._id = {key: i for i, key in enumerate(self.known)}
        # Per known key (and -1, the last entry: another key): role, rank, flag bit.
        self._role = np.array([reading.roles.get(key, (-1, 0))[0] for key in self.known] + [-1])
        self._rank = np.array([reading.roles.get(key, (-1, 0))[1] for key in self.known] + [0])
        self._flag = np.zeros(len(raw) + 1, dtype=np.int64)
        for bit, key in enumerate(_FLAGS):
            self._flag[self._id[key]] = 1 << bit
        self._heads: HeadWalker | None = None  # the head most records open with
        self._learn_in = 0  # reads until the head is looked for (again)

    def read(self, buf: bytes, starts: np.ndarray) -> HeaderColumns:
        """The level, logger and time columns of the records starting at ``starts``: those
        that open with the usual head are read by ``HeadWalker``, the others by splitting
        their lines (``read_objects``)."""
        starts = np.asarray(starts, dtype=np.int64)
        heads = self._head_walker(buf, starts)
        if heads is None and len(buf) <= OBJECT_BYTES:
            return self.read_objects(buf, starts)
        n = len(starts)
        if heads is None:
            got = HeaderColumns(np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int16),
                                np.full(n, -1, dtype=np.int32), [], np.full(n, np.nan))
        else:
            got = heads.read(_Chunk(buf), buf, starts)
        rest = np.flatnonzero(~got.ok)
        if 2 * len(rest) > n:  # most records have another head: look for it again
            self._heads = None
        ends = np.append(starts[1:], len(buf))
        sizes = ends[rest] - starts[rest]
        cuts = np.searchsorted(np.cumsum(sizes), np.arange(OBJECT_BYTES, int(sizes.sum()),
                                                           OBJECT_BYTES))
        for part in np.split(rest, np.unique(cuts)) if len(rest) else ():
            self._read_into(got, buf, starts[part], ends[part], part)
        return got

    @property
    def walk_bytes(self) -> int:
        """Bytes of records to read at once (``columns.walk``): more while a head is read
        (its temporaries are a few bytes a record, and the records it leaves are split into
        strings together), ``OBJECT_BYTES`` else (up to 9 times as many bytes of
        temporaries)."""
        return HEAD_BYTES if self._heads is not None else OBJECT_BYTES

    def _read_into(self, got: HeaderColumns, buf: bytes, starts: np.ndarray,
                   ends: np.ndarray, where: np.ndarray) -> None:
        """Records ``buf[starts[j]:ends[j]]`` read by ``read_objects`` into ``got`` at
        ``where`` (their logger names added to its table)."""
        pieces = [buf[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        other = self.read_objects(b"".join(pieces),
                                  np.cumsum([0] + [len(p) for p in pieces[:-1]]))
        ids = {name: k for k, name in enumerate(got.logger_names)}
        table = np.array([ids.setdefault(name, len(ids)) for name in other.logger_names]
                         + [-1], dtype=np.int32)
        got.logger_names = list(ids)
        got.ok[where] = other.ok
        got.levelnos[where] = other.levelnos
        got.loggers[where] = table[other.loggers]  # -1 (none) is the table's last entry
        got.times[where] = other.times

    def _head_walker(self, buf: bytes, starts: np.ndarray) -> HeadWalker | None:
        """The walker of the head the first records of ``buf`` share (looked for again
        every ``_LEARN_EVERY`` reads while there is none)."""
        if self._heads is None and self._learn_in <= 0 and len(starts):
            self._learn_in = _LEARN_EVERY
            lines = []
            for s in starts[:_SAMPLE].tolist():
                end = buf.find(b"\n", s)
                lines.append(buf[s : end if end >= 0 else len(buf)])
            layout = learn_head(self.reading, lines)
            self._heads = None if layout is None else HeadWalker(self.reading, layout)
        self._learn_in -= 1
        return self._heads

    def read_objects(self, buf: bytes, starts: np.ndarray) -> HeaderColumns:
        """As ``read``, every record's line split into strings and the gaps between them."""
        starts = np.asarray(starts, dtype=np.int64)
        n = len(starts)
        out = HeaderColumns(np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int16),
                            np.full(n, -1, dtype=np.int32), [], np.full(n, np.nan))
        if n == 0:
            return out
        chunk = _Chunk(buf)
        flat = _flat_objects(chunk, buf, starts)
        ok = flat.ok
        key_id = self._key_ids(chunk, flat)
        flags, key_flags = np.zeros(n, dtype=np.int64), self._flag[key_id]
        flagged = np.flatnonzero(key_flags)
        np.bitwise_or.at(flags, flat.key_rec[flagged], key_flags[flagged])
        has = {key: (flags & (1 << bit)) != 0 for bit, key in enumerate(_FLAGS)}
        reading = self.reading
        if reading.schemas:  # logview's own objects (all four keys), journal entries (any)
            ok &= ~(has["levelno"] & has["fields"] & has["exc"] & has["message"])
            ok &= ~(has["MESSAGE"] | has["__CURSOR"] | has["__REALTIME_TIMESTAMP"])
        key_role = self._role[key_id]
        chosen = {role: self._choose(flat, key_id, key_role, role) for role in
                  (reading.time, reading.level, reading.levelno, reading.message,
                   reading.logger)}
        levelnos = self._levelnos(chunk, flat, chosen, has)
        ok &= (levelnos >= 0) & (levelnos <= np.iinfo(np.int16).max)
        self._loggers(chunk, flat, chosen, key_id, out)
        self._times(chunk, flat, chosen[reading.time], out)
        out.ok = ok
        out.levelnos = np.where(ok, levelnos, 0).astype(np.int16)
        out.loggers = np.where(ok, out.loggers, -1).astype(np.int32)
        out.times = np.where(ok, out.times, np.nan)
        return out

    def _key_ids(self, chunk: _Chunk, flat: _Flat) -> np.ndarray:
        """Each key's index in ``known`` (-1: another key), found by its first and last 8
        bytes and length, then compared; a key holding a backslash (it may decode to a known
        one) leaves its record unread."""
        a, b = flat.key_a, flat.key_b
        flat.ok[flat.key_rec[_next_of(flat.backslashes, a, chunk.size) < b]] = False
        lengths = b - a
        short = np.uint64(64) - 8 * np.minimum(lengths, 8).astype(np.uint64)  # 64: empty
        head = chunk.rows(a, 8).view(np.uint64)[:, 0] & np.where(lengths > 0, _ALL_ONES >> short, 0)
        tail = np.where(lengths > 0, head << short, 0)
        long = np.flatnonzero(lengths > 8)
        tail[long] = chunk.rows(b[long] - 8, 8).view(np.uint64)[:, 0]
        codes = _key_code(head, tail, lengths)
        j = np.minimum(np.searchsorted(self._codes, codes), len(self._codes) - 1)
        known = self._order[j]
        ids = np.where((self._codes[j] == codes) & (self._lengths[known] == lengths)
                       & (self._head[known] == head) & (self._tail[known] == tail),
                       known, -1)
        long = long[(ids[long] >= 0) & (lengths[long] > 16)]  # the middle bytes too
        if len(long):
            same = (chunk.rows(a[long], self._width) == self._bytes[ids[long]]) | (
                np.arange(self._width) >= lengths[long, None])
            ids[long[~same.all(axis=1)]] = -1
        return ids

    def _choose(self, flat: _Flat, key_id: np.ndarray, key_role: np.ndarray, role: int
                ) -> np.ndarray:
        """Per record, the index of the key that plays ``role`` (-1: none): the lowest rank
        present. A record where that key occurs twice is unread (the last value wins)."""
        idx = np.flatnonzero(key_role == role)
        chosen = np.full(len(flat.ok), -1, dtype=np.int64)
        if len(idx) == 0:
            return chosen
        rec = flat.key_rec[idx]  # in order: keys are in the order of their records
        single = np.r_[True, rec[1:] != rec[:-1]] & np.r_[rec[1:] != rec[:-1], True]
        chosen[rec[single]] = idx[single]
        idx = idx[~single]  # records with several keys of the role: the lowest rank
        if len(idx):
            rank = self._rank[key_id[idx]]
            order = np.lexsort((rank, flat.key_rec[idx]))
            idx, rank = idx[order], rank[order]
            rec = flat.key_rec[idx]
            first = np.r_[True, rec[1:] != rec[:-1]]
            best = rank[first][np.cumsum(first) - 1]
            twice = np.r_[False, (rec[1:] == rec[:-1]) & (rank[1:] == rank[:-1])] & (
                rank == best)
            flat.ok[rec[twice]] = False
            chosen[rec[first]] = idx[first]
        return chosen

    def _values(self, flat: _Flat, chosen: np.ndarray, kind: int, size: int,
                plain: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(records, value starts, value ends) of the chosen values of ``kind``; with
        ``plain``, a string value holding a backslash or longer than ``MAX_VALUE`` leaves its
        record unread."""
        recs = np.flatnonzero((chosen >= 0) & flat.ok)
        keys = chosen[recs]
        recs, keys = recs[flat.val_kind[keys] == kind], keys[flat.val_kind[keys] == kind]
        a, b = flat.val_a[keys], flat.val_b[keys]
        if plain:
            bad = (b - a > MAX_VALUE) | (_next_of(flat.backslashes, a, size) < b)
            flat.ok[recs[bad]] = False
            recs, a, b = recs[~bad], a[~bad], b[~bad]
        return recs, a, b

    def _numbers(self, chunk: _Chunk, flat: _Flat, chosen: np.ndarray
                 ) -> tuple[np.ndarray, list[Any], np.ndarray]:
        """(records, distinct numbers as orjson reads them, each record's index among them)
        of the chosen number values; a number orjson refuses leaves its record unread."""
        recs, a, b = self._values(flat, chosen, _NUM, chunk.size, plain=False)
        if len(recs) == 0:
            return recs, [], np.zeros(0, dtype=np.int64)
        raw, inverse, certain = chunk.distinct(a, b - a)
        values = [_json_number(text) for text in raw]
        readable = np.array([v is not None for v in values])[inverse] & certain
        flat.ok[recs[~readable]] = False
        return recs, values, inverse

    def _levelnos(self, chunk: _Chunk, flat: _Flat, chosen: dict[int, np.ndarray],
                  has: dict[str, np.ndarray]) -> np.ndarray:
        reading = self.reading
        n = len(flat.ok)
        none = np.ones(n, dtype=bool)  # the level is None (not read, or not a level)
        levelno = np.zeros(n, dtype=np.int64)
        level = chosen[reading.level]
        recs, a, b = self._values(flat, level, _STR, chunk.size)
        if len(recs):
            raw, inverse, certain = chunk.distinct(a, b - a)
            flat.ok[recs[~certain]] = False
            read = [reading.level_name(value.decode("utf-8", "replace")) for value in raw]
            none[recs] = np.array([r[0] is None for r in read])[inverse]
            levelno[recs] = np.array([r[1] for r in read], dtype=np.int64)[inverse]
        recs, values, inverse = self._numbers(chunk, flat, level)
        if len(recs):
            # jsonl._numeric_level reads a number by the keys beside it.
            context = (has["short_message"][recs] + 2 * (has["host"] & has["version"])[recs]
                       + 4 * (has["msg"] | has["v"] | (has["hostname"] & has["pid"]))[recs])
            pairs, at = np.unique(inverse * 8 + context, return_inverse=True)
            read = [self._numeric(values[p // 8], p % 8) for p in pairs.tolist()]
            none[recs] = np.array([r[0] for r in read])[at.ravel()]
            levelno[recs] = np.array([r[1] for r in read], dtype=np.int64)[at.ravel()]
        recs, values, inverse = self._numbers(chunk, flat, chosen[reading.levelno])
        if len(recs):  # an int levelno names a level that has none, numbers one that has none
            table = np.array([(*self._numeric(v, 0), reading.levelno_of(v)) if isinstance(v, int)
                              and not isinstance(v, bool) else (0, 0, -1) for v in values],
                             dtype=np.int64)[inverse]
            was_none, was_no, whole = none[recs], levelno[recs], table[:, 2] >= 0
            levelno[recs] = np.where(whole, np.where(was_none, table[:, 1], np.where(
                was_no == 0, table[:, 2], was_no)), was_no)
            none[recs] = np.where(whole & was_none, table[:, 0], was_none)
        return levelno

    def _numeric(self, value: Any, context: int) -> tuple[bool, int]:
        """(no level, number) of a numeric level; without context bits a Python number."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            return True, 0
        beside = {k: None for bit, keys in ((1, ("short_message",)), (2, ("host", "version")),
                                            (4, ("msg",))) if context & bit for k in keys}
        name, number = self.reading.numeric_level(int(value), beside)
        return name is None, number

    def _loggers(self, chunk: _Chunk, flat: _Flat, chosen: dict[int, np.ndarray],
                 key_id: np.ndarray, out: HeaderColumns) -> None:
        reading = self.reading
        logger = chosen[reading.logger].copy()
        if reading.name_rule and len(key_id):
            message = chosen[reading.message]
            by_name = (logger >= 0) & (key_id[np.maximum(logger, 0)] == self._id["name"])
            by_event = (message >= 0) & (key_id[np.maximum(message, 0)] == self._id["event"])
            logger[by_name & by_event] = -1  # a field, not the logger
        recs, a, b = self._values(flat, logger, _STR, chunk.size)
        if len(recs):
            raw, inverse, certain = chunk.distinct(a, b - a)
            flat.ok[recs[~certain]] = False
            out.logger_names = [reading.clean(v.decode("utf-8", "replace")) for v in raw]
            out.loggers[recs] = inverse

    def _times(self, chunk: _Chunk, flat: _Flat, chosen: np.ndarray,
               out: HeaderColumns) -> None:
        recs, a, b = self._values(flat, chosen, _STR, chunk.size)
        if len(recs):
            stamps = iso_times(chunk, a, b)
            flat.ok[recs[np.isnan(stamps)]] = False
            out.times[recs] = stamps
        recs, a, b = self._values(flat, chosen, _NUM, chunk.size, plain=False)
        if len(recs):
            stamps, good = epoch_times(chunk, a, b)
            flat.ok[recs[~good]] = False
            out.times[recs] = stamps


def _json_number(text: bytes) -> Any:
    """A number as orjson reads it; None when it refuses it, or for an integer past 18 digits
    (orjson reads a float, the stdlib, when orjson refuses the line, an int)."""
    if len(text.lstrip(b"-")) > 18 and not any(c in text for c in b".eE"):
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
