"""The heads of JSON lines read as a template: most JSON loggers write the same keys in the
same order before the message (python-json-logger's ``{"asctime": "...", "name": "...",
"levelname": "...", "message": ...``; structlog, ECS and others alike).

``learn_head`` finds that head in the first records: the literals before each value
(separator, key, colon, opening quote), which value is the time, the level and the logger,
and the time's layout. ``HeadWalker`` then reads a chunk's records the way
``template_columns.ColumnWalker`` walks a template, with the ``byte_chunk`` primitives: a
literal at a known place is a masked word, a string value ends at the next quote (found a
word at a time from each record), a time of one naive ISO layout is read as digits
(``json_times.fixed_iso_times``), other times by ``json_times.iso_times``.

The parser's reading must win, so the rest of the line is walked too, field by field: a
record is read only when its first line is one flat object of string, number and word values
(no other spacing, no nested value), none of whose later keys could change what the head
says (a key of the same role and a rank as good, a duplicate of the head's key included:
orjson keeps the last value; a level number; a journal entry's keys; the message key that
decides structlog's ``name`` rule), and with no backslash (an escape may hide a quote or
spell a key), no raw control byte and no escape introducer anywhere on it. Every other
record is left unread (``ok`` false): the caller hands it to the general walker.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import orjson

from logview.formats.byte_chunk import (
    MAX_VALUE,
    MIX,
    ByteChunk,
    byte_bits,
    escapes,
    first_bit,
    next_of,
    row_bits,
    word_of,
)
from logview.formats.json_times import fixed_iso_times, iso_times
from logview.formats.template_columns import HeaderColumns

if TYPE_CHECKING:
    from logview.formats.json_columns import JsonReading

#: Fields read after the head at most (a longer line is left to the general walker).
MAX_TAIL_FIELDS = 64
#: A key that may change the reading is never longer than ``_KEY_WIDTH``.
_KEY_WIDTH = 24
#: Bytes gathered at each step: a literal and the start of its value, or a field after the
#: head (the bit words of ``byte_bits`` cover 64 bytes).
_ROW = 64
#: Keys of journal entries (read their own way when the format has no key mapping).
_JOURNAL = ("MESSAGE", "__CURSOR", "__REALTIME_TIMESTAMP")
#: A head field: separator, key, colon, a string value (no escape, no control byte).
_FIELD = re.compile(rb'(\{|, ?)"([^"\\\x00-\x1f]*)"(: ?)"([^"\\\x00-\x1f]*)"')
#: A field after the head whose key may be learned: separator, key, colon, a value.
_TAIL_FIELD = re.compile(rb'(, ?)"([^"\\\x00-\x1f]*)"(: ?)'
                         rb'("[^"\\\x00-\x1f]*"|-?[0-9][0-9.eE+-]*|true|false|null)')
#: Naive ISO times of a fixed layout (``fixed_iso_times``).
_FIXED_TIME = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,](?:\d{3}|\d{6}))?")
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_DIGIT_OR_SIGN = np.zeros(256, dtype=bool)
_DIGIT_OR_SIGN[list(b"-0123456789tfn")] = True

# JSON numbers: states of ``-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`` by byte class
# (0, 1-9, -, +, ., e/E, other); 9 is dead, 2 3 5 8 accept.
_NUM_CLASS = np.full(256, 6, dtype=np.int64)
_NUM_CLASS[list(b"0123456789-+.eE")] = [0, *[1] * 9, 2, 3, 4, 5, 5]
_NUM_NEXT = np.full((10, 7), 9, dtype=np.int64)
for _state, _moves in {0: {2: 1, 0: 2, 1: 3}, 1: {0: 2, 1: 3}, 2: {4: 4, 5: 6},
                       3: {0: 3, 1: 3, 4: 4, 5: 6}, 4: {0: 5, 1: 5}, 5: {0: 5, 1: 5, 5: 6},
                       6: {2: 7, 3: 7, 0: 8, 1: 8}, 7: {0: 8, 1: 8}, 8: {0: 8, 1: 8}}.items():
    for _cls, _to in _moves.items():
        _NUM_NEXT[_state, _cls] = _to
_NUM_ACCEPT = np.zeros(10, dtype=bool)
_NUM_ACCEPT[[2, 3, 5, 8]] = True
#: Longest number or word read (bytes); longer ones leave their record unread.
MAX_SCALAR = 32
_WORDS = (b"true", b"false", b"null")


def scalars(chunk: ByteChunk, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each run ``[a, b)`` is a JSON number or word (short enough to read), and
    which are words."""
    length = b - a
    width = max(1, min(int(length.max(initial=1)), MAX_SCALAR))
    rows = chunk.rows(a, width)
    word = np.zeros(len(a), dtype=bool)
    lead = chunk.padded[a]
    maybe = np.flatnonzero((lead == ord("t")) | (lead == ord("f")) | (lead == ord("n")))
    for literal in _WORDS if len(maybe) else ():
        word[maybe] |= (length[maybe] == len(literal)) & chunk.holds(a[maybe], literal)
    state = np.zeros(len(a), dtype=np.int64)
    classes = _NUM_CLASS[rows]
    for col in range(width):
        state = np.where(col < length, _NUM_NEXT[state, classes[:, col]], state)
    good = (length > 0) & (length <= MAX_SCALAR) & (word | _NUM_ACCEPT[state])
    return good, word & good


def key_codes(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A code of each key of at most ``_KEY_WIDTH`` bytes at the start of ``rows`` (uint8,
    at least that wide): equal keys have equal codes."""
    words = np.ascontiguousarray(rows[:, :_KEY_WIDTH]).view(np.uint64)
    lengths = lengths.astype(np.int64)
    code = lengths.astype(np.uint64) * MIX[-1]
    for j in range(_KEY_WIDTH // 8):
        code += (words[:, j] & _KEEP[np.clip(lengths - 8 * j, 0, 8)]) * MIX[j]
    return code


def _codes_of(keys: list[bytes]) -> np.ndarray:
    rows = np.array([list(k.ljust(_KEY_WIDTH, b"\0")) for k in keys], dtype=np.uint8)
    return np.unique(key_codes(rows.reshape(-1, _KEY_WIDTH), np.array([len(k) for k in keys])))


@dataclass(frozen=True, slots=True)
class HeadLayout:
    """A head: per value, the literal before it and what it is ("time", "level", "logger",
    or "" for a string only skipped); the time's layout (digits as zeros; empty: read by
    ``iso_times``); the codes of the keys the rest of the line must not hold."""

    literals: tuple[bytes, ...]
    roles: tuple[str, ...]
    time_shape: bytes
    danger: np.ndarray
    #: The fields after the head that most lines have (walked first, without reading their
    #: keys): the literal before each value and whether the value is text.
    tail: tuple[tuple[bytes, bool], ...] = ()


def _head_of(reading: JsonReading, line: bytes) -> tuple[tuple, tuple] | None:
    """The head of one sample line (its literals, roles, time shape and the keys the rest
    must not hold) and the fields after it when they are plain (the literal before each
    value and whether it is text; empty: another rest), or None when it has no head the walk
    can read."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or (reading.schemas and any(k in obj for k in _JOURNAL)):
        return None
    ranks: dict[int, tuple[int, str]] = {}
    for key in obj:
        role, rank = reading.roles.get(key, (None, 0))
        if role is not None and (role not in ranks or rank < ranks[role][0]):
            ranks[role] = (rank, key)
    names = {reading.time: "time", reading.level: "level", reading.logger: "logger"}
    if reading.levelno in ranks:
        return None
    needed = {ranks[r][1]: name for r, name in names.items() if r in ranks}
    name_rule = (reading.name_rule and reading.logger in ranks
                 and ranks[reading.logger][1] == "name")
    if name_rule and reading.message in ranks:  # the logger read depends on the message key
        if ranks[reading.message][1] == "event":
            return None
        needed.setdefault(ranks[reading.message][1], "")
    if not needed:
        return None
    keys = list(obj)
    last = max(keys.index(k) for k in needed)
    literals, roles, shape, pos = [], [], b"", 0
    for i in range(last + 1):
        m = _FIELD.match(line, pos)
        if m is None or m[2].decode() != keys[i] or (i == 0) != (m[1] == b"{"):
            return None  # a value not a plain string, other spacing, a key twice
        literals.append(m[1] + b'"' + m[2] + b'"' + m[3] + b'"')
        roles.append(needed.get(keys[i], ""))
        if roles[-1] == "time" and _FIXED_TIME.fullmatch(m[4]):
            shape = re.sub(rb"\d", b"0", m[4])
        pos = m.end()
    danger: list[str] = [k for k, (role, rank) in reading.roles.items()
                         if role == reading.levelno
                         or (role in names and rank <= ranks.get(role, (1 << 30,))[0])
                         or (name_rule and role == reading.message
                             and rank <= ranks.get(role, (1 << 30,))[0])]
    if reading.schemas:
        danger += _JOURNAL
    danger_keys = {k.encode() for k in danger}
    tail: list[tuple[bytes, bool]] = []
    while line[pos : pos + 1] != b"}":  # the usual fields after the head, if plain
        m = _TAIL_FIELD.match(line, pos)
        if m is None or m[2] in danger_keys:
            tail = []
            break
        text = m[4][:1] == b'"'
        tail.append((m[1] + b'"' + m[2] + b'"' + m[3] + (b'"' if text else b""), text))
        pos = m.end()
    if line[pos:] != b"}":
        tail = []
    return (tuple(literals), tuple(roles), shape, tuple(sorted(danger_keys))), tuple(tail)


def learn_head(reading: JsonReading, lines: list[bytes]) -> HeadLayout | None:
    """The head most sample lines share (at least half of them), or None; with the fields
    after it that most of those lines share (none when fewer than half do)."""
    seen = [h for h in (_head_of(reading, line) for line in lines) if h is not None]
    votes = Counter(head for head, _ in seen)
    if not votes:
        return None
    (literals, roles, shape, danger), count = votes.most_common(1)[0]
    if (2 * count < len(lines) or any(len(k) > _KEY_WIDTH for k in danger)
            or max(map(len, literals)) > _ROW - 16):
        return None
    tails = Counter(tail for head, tail in seen if head == (literals, roles, shape, danger))
    tail, times = tails.most_common(1)[0]
    if 2 * times < count or any(len(literal) > _ROW - 16 for literal, _ in tail):
        tail = ()
    return HeadLayout(literals, roles, shape, _codes_of(list(danger)), tail)


def line_stops(chunk: ByteChunk, buf: bytes, starts: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where each record's line ends (before its LF or CRLF), and which records are one line
    holding no control byte, escape introducer or backslash but its end."""
    size = chunk.size
    ends = np.append(starts[1:], size)
    newline = chunk.padded[np.maximum(ends - 1, 0)] == 10
    stop = ends - newline
    cr = (stop > starts) & (chunk.padded[np.maximum(stop - 1, 0)] == 13) & newline
    stop = stop - cr
    ok = stop > starts
    below = chunk.arr < 32
    if np.count_nonzero(below) != int(newline.sum()) + int(cr.sum()):  # more than line ends
        ok &= next_of(np.flatnonzero(below), starts, size) >= stop
    esc = escapes(buf)
    if len(esc):
        ok &= next_of(esc, starts, size) >= stop
    hits: list[int] = []  # a backslash per line that holds one, while they are few
    at = buf.find(b"\\")
    while at >= 0 and len(hits) <= len(starts) // 16:
        hits.append(at)
        line_end = buf.find(b"\n", at)
        at = -1 if line_end < 0 else buf.find(b"\\", line_end)
    if at >= 0:
        ok &= next_of(np.flatnonzero(chunk.arr == 92), starts, size) >= stop
    elif hits:
        ok[np.searchsorted(starts, np.array(hits), side="right") - 1] = False
    return stop, ok


class HeadWalker:
    """Reads level, logger and time of the records that open with ``layout``'s head."""

    def __init__(self, reading: JsonReading, layout: HeadLayout) -> None:
        self.reading = reading
        self.layout = layout
        self._levels: dict[bytes, int] = {}
        #: Per literal, (mask, value) of each of its words.
        self._tail = [(literal, _masks(literal), text) for literal, text in layout.tail]
        self._masks = [_masks(literal) for literal in layout.literals]
        self._loggers: dict[bytes, str] = {}

    def read(self, chunk: ByteChunk, buf: bytes, starts: np.ndarray) -> HeaderColumns:
        n = len(starts)
        out = HeaderColumns(np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int16),
                            np.full(n, -1, dtype=np.int32), [], np.full(n, np.nan))
        stop, ok = line_stops(chunk, buf, starts)
        idx = np.flatnonzero(ok)
        pos, stop = starts[idx], stop[idx]
        good = np.ones(len(idx), dtype=bool)
        values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        layout = self.layout
        for literal, masks, role in zip(layout.literals, self._masks, layout.roles,
                                        strict=True):
            row = chunk.rows(pos, _ROW)
            words = row.view(np.uint64)
            for j, (mask, value) in enumerate(masks):
                good &= (words[:, j] & mask) == value
            a = pos + len(literal)
            if role == "time" and layout.time_shape:
                b = a + len(layout.time_shape)  # the closing quote: checked with the time
            else:
                b = pos + first_bit(byte_bits(row, b'"'), len(literal))
                far = np.flatnonzero(b >= pos + _ROW)  # a longer value: searched on
                if len(far):
                    b[far] = chunk.find(b'"', pos[far] + _ROW, stop[far] - 1)
                good &= (b >= 0) & (b < stop)
                if role:
                    good &= b - a <= MAX_VALUE
                b = np.where(good, b, a)
            values[role] = (a, b)
            pos = b + 1
        keep = np.flatnonzero(good)
        idx, pos, stop = idx[keep], pos[keep], stop[keep]
        values = {role: (a[keep], b[keep]) for role, (a, b) in values.items()}
        good = self._known_rest(chunk, pos, stop)
        other = np.flatnonzero(~good)
        if len(other):
            good[other] = self._rest(chunk, pos[other], stop[other])
        if not good.any():
            return out
        levelnos = np.zeros(len(idx), dtype=np.int64)
        if "level" in values:
            levelnos = self._distinct(chunk, values["level"], good, self._levels, self._level)
        loggers = np.full(len(idx), -1, dtype=np.int64)
        if "logger" in values:
            loggers = self._distinct(chunk, values["logger"], good, self._loggers,
                                     self._logger_name, out.logger_names)
        times = np.full(len(idx), np.nan)
        if "time" in values:
            a, b = values["time"]
            times = (fixed_iso_times(chunk, a, layout.time_shape) if layout.time_shape
                     else iso_times(chunk, a, b))
            good &= ~np.isnan(times)
        good &= (levelnos >= 0) & (levelnos <= np.iinfo(np.int16).max)
        idx = idx[good]
        out.ok[idx] = True
        out.levelnos[idx] = levelnos[good]
        out.loggers[idx] = loggers[good]
        out.times[idx] = times[good]
        return out

    def _known_rest(self, chunk: ByteChunk, pos: np.ndarray, stop: np.ndarray
                    ) -> np.ndarray:
        """Whether the rest of each line is the learned fields (their literals compared,
        their values' ends found, numbers checked) and ``}`` at its end."""
        act = np.arange(len(pos))
        for literal, masks, text in self._tail:
            row = chunk.rows(pos, _ROW)
            words = row.view(np.uint64)
            on = np.ones(len(act), dtype=bool)
            for j, (mask, value) in enumerate(masks):
                on &= (words[:, j] & mask) == value
            if text:
                end = first_bit(byte_bits(row, b'"'), len(literal))
                far = np.flatnonzero(end >= _ROW)  # a longer string: searched on
                if len(far):
                    end[far] = chunk.find(b'"', pos[far] + _ROW, stop[act[far]] - 1) - pos[far]
                on &= (end >= len(literal)) & (pos + end < stop[act])
                nxt = pos + end + 1
            else:
                # Most numbers are whole: digits up to a delimiter, no leading zero.
                start = len(literal)
                end = first_bit(~row_bits((row - 48) < 10), start)
                after = chunk.padded[pos + np.minimum(end, _ROW)]
                whole = (end > start) & (end - start <= 18) & (
                    (after == ord(",")) | (after == ord("}"))) & (
                    (row[:, start] != 48) | (end == start + 1))
                other = np.flatnonzero(on & ~whole)  # any other value: the delimiter found
                if len(other):
                    end[other] = first_bit(byte_bits(row[other], b",}"), start)
                    fine = end[other] < _ROW
                    fine[fine] = scalars(chunk, pos[other[fine]] + start,
                                         pos[other[fine]] + end[other[fine]])[0]
                    on[other] = fine
                nxt = pos + end
            act, pos = act[on], nxt[on]
        good = np.zeros(len(stop), dtype=bool)
        good[act] = (chunk.padded[pos] == ord("}")) & (pos + 1 == stop[act])
        return good

    def _rest(self, chunk: ByteChunk, pos: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Whether the rest of each line (from ``pos``, after the head's last value) is
        fields of string, number and word values, then ``}`` at its end, none of whose
        keys may change the reading."""
        padded, danger = chunk.padded, self.layout.danger
        good = np.zeros(len(pos), dtype=bool)
        act = np.arange(len(pos))
        for _ in range(MAX_TAIL_FIELDS + 1):
            if not len(act):
                break
            first = padded[pos]
            closed = first == ord("}")
            good[act[closed]] = pos[closed] + 1 == stop[act[closed]]
            act, pos = act[first == ord(",")], pos[first == ord(",")]
            row = chunk.rows(pos, _ROW)  # ', "key": value' or without the spaces
            space = (row[:, 1] == 32).astype(np.int64)
            quotes = byte_bits(row, b'"')
            key = 2 + space  # the key's first byte, in the row
            key_end = first_bit(quotes, key)
            on = (np.where(space == 1, row[:, 2], row[:, 1]) == 34) & (key_end < _ROW - 5)
            length = key_end - key
            keys = np.where(space[:, None] == 1, row[:, 3 : 3 + _KEY_WIDTH],
                            row[:, 2 : 2 + _KEY_WIDTH])
            on &= (length > _KEY_WIDTH) | ~_member(
                key_codes(keys, np.minimum(length, _KEY_WIDTH)), danger)
            colon = pos + key_end + 1
            on &= padded[colon] == ord(":")
            value = colon + 1 + (padded[colon + 1] == 32)
            on = np.flatnonzero(on)
            act, pos, value, quotes = act[on], pos[on], value[on], quotes[on]
            lead = padded[value]
            text = np.flatnonzero(lead == 34)
            end = pos[text] + first_bit(quotes[text], np.minimum(value[text] - pos[text] + 1,
                                                                 _ROW - 1))
            far = np.flatnonzero(end >= pos[text] + _ROW)  # a longer string: searched on
            if len(far):
                end[far] = chunk.find(b'"', np.maximum(pos[text[far]] + _ROW, value[text[far]]
                                                       + 1), stop[act[text[far]]] - 1)
            found = (end >= 0) & (end < stop[act[text]])
            moved_act, moved_pos = [act[text[found]]], [end[found] + 1]
            number = np.flatnonzero(_DIGIT_OR_SIGN[lead])
            if len(number):
                a = value[number]
                row = chunk.rows(a, _ROW)
                width = first_bit(byte_bits(row, b",}"), 0)
                fine = width < _ROW
                fine[fine] = scalars(chunk, a[fine], a[fine] + width[fine])[0]
                moved_act.append(act[number[fine]])
                moved_pos.append(a[fine] + width[fine])
            act, pos = np.concatenate(moved_act), np.concatenate(moved_pos)
        return good

    def _distinct(self, chunk: ByteChunk, span: tuple[np.ndarray, np.ndarray],
                  good: np.ndarray, cache: dict, read, names: list[str] | None = None
                  ) -> np.ndarray:
        """Each record's reading of a string value, read once per distinct value (records
        not ``good`` are given an empty one); a value read as -1 leaves its record unread."""
        a, b = span
        raw, inverse, certain = chunk.distinct(a, np.where(good, b - a, 0))
        good &= certain
        table = []
        for value in raw:
            hit = cache.get(value)
            if hit is None:
                hit = read(value)
                if len(cache) < 4096:
                    cache[value] = hit
            table.append(hit)
        if names is None:
            return np.array(table, dtype=np.int64)[inverse]
        ids: dict[str, int] = {}
        for name in table:
            ids.setdefault(name, len(ids))
        names.extend(ids)
        return np.array([ids[name] for name in table], dtype=np.int64)[inverse]

    def _level(self, value: bytes) -> int:
        return self.reading.level_name(value.decode("utf-8", "replace"))[1]

    def _logger_name(self, value: bytes) -> str:
        return self.reading.clean(value.decode("utf-8", "replace"))


def _masks(literal: bytes) -> list[tuple[np.uint64, np.uint64]]:
    """(mask, value) of each word of ``literal``."""
    return [(word_of(b"\xff" * len(literal[k : k + 8])), word_of(literal[k : k + 8]))
            for k in range(0, len(literal), 8)]


def _member(codes: np.ndarray, sorted_codes: np.ndarray) -> np.ndarray:
    j = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
    return sorted_codes[j] == codes
