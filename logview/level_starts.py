"""Record starts of templates that open with a level name, decided for many lines at once.

A template without a time (``%(levelname)s:%(name)s:%(message)s``, logging's ``basicConfig``)
has no fixed-width head: its start pattern is an alternation of every level name followed by
the rest of the prefix, and running it on every line was most of the time of indexing such a
file. Its shape (``VocabularyHead``) is tested here with numpy on the first ``REACH`` bytes
of each line, never on the whole chunk: five aligned 64-bit words are read at each line start
and the bytes of interest (``after[0]``, bytes up to a space, spaces, ``word_end[0]``) become
bit maps of the line (bytes compared with numpy, their flags gathered eight at a time with a
multiply; bit k: byte k of the line). The head literal, the
spaces of a right-aligned name, the one name the line can hold (the bytes before the first
``after[0]``, or space for a left-aligned name, looked up among the names as 64-bit words),
the spaces that pad it, ``after``, then the word: its first whitespace or ``word_end`` byte
say whether the lazy (or possessive) word of the pattern ends there. Each line gets 1 (a
start), 0 (not one) or -1 (the pattern must say: a ``Level 15`` name, a head that runs past
``REACH`` bytes, a ``word_end`` whose first byte comes without the rest, a control byte
where whitespace would decide, a line too close to the end of the data). The arrays of a
block of lines are reused by each thread: fresh ones of that size are mapped and unmapped
by malloc on every call, and their page faults cost more than the test.

A plain head (no literal before the name, no padding, one byte after it and one ending a
lazy word: ``basicConfig``'s ``NAME:word:``) is decided first by ``_PlainHead``, with SWAR
on 64-bit words read at the line start and where the word begins (some forty numpy
operations a line against the hundred-odd of the bit maps); the lines it cannot say (long
names, ``Level 15``, control bytes, long words) go to the test above, all at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from logview.formats.signature import VocabularyHead

_NAME_MAX = 16
#: Aligned words read at each line start; the maps cover ``REACH`` bytes of every line.
_WORDS = 5
REACH = 8 * _WORDS - 7
_SENTINEL = np.uint64(1 << REACH)
_ROWS = np.arange(_WORDS)[:, None]
#: Where each word's byte of bits goes in a line's map.
_PLACES = (np.arange(_WORDS, dtype=np.uint64) * np.uint64(8))[:, None]
#: Lines decided at once (the arrays of a block stay in the core's cache).
BLOCK = 1 << 13
#: Lines decided at once by the plain test (``_PlainHead``: fewer arrays, of 8 bytes a line).
PLAIN_BLOCK = 1 << 15
#: A name's two words (and its length) hash to a slot of this table (no two names share one).
_SLOTS = 1 << 12
_ALL = (1 << 64) - 1
_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [_ALL], dtype=np.uint64)
#: Gathers bit 0 of each byte of a word into one byte (byte k -> bit k).
_GATHER = np.uint64(0x0102040810204080)
_U = np.uint64
#: What ``\\s`` matches in a bytes regex.
_WHITE_BYTE = np.zeros(256, dtype=bool)
_WHITE_BYTE[list(b" \t\n\v\f\r")] = True

#: Bytes (uint8) to whether each passes, written into the second array (bools).
ByteTest = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _word(data: bytes) -> int:
    """Up to 8 bytes as a little-endian 64-bit word (the rest zero)."""
    return int.from_bytes(data[:8].ljust(8, b"\0"), "little")


def _in_ranges(ranges: tuple[tuple[int, int], ...]) -> ByteTest:
    """The test of "the byte is in one of ``ranges``", byte by byte (numpy compares 32
    bytes an instruction), into ``out`` (bools, one a byte)."""
    (lo, hi), *more = ranges

    def test(data: np.ndarray, out: np.ndarray) -> np.ndarray:
        if lo == hi:
            np.equal(data, lo, out=out)
        elif lo == 0:
            np.less_equal(data, hi, out=out)
        else:
            np.greater_equal(data, lo, out=out)
            out &= np.less_equal(data, hi, out=_scratch("more", out.shape, np.bool_))
        for low, high in more:
            one = np.greater_equal(data, low, out=_scratch("one", out.shape, np.bool_))
            one &= np.less_equal(data, high, out=_scratch("more", out.shape, np.bool_))
            out |= one
        return out

    return test


_LOCAL = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype: type = np.uint64) -> np.ndarray:
    """A per-thread array of ``shape``, its memory reused from call to call (fresh arrays of
    this size are mapped and unmapped by malloc each time: page faults on every byte); one
    buffer per name and type, as big as the biggest block asked for."""
    cache = getattr(_LOCAL, "arrays", None)
    if cache is None:
        cache = _LOCAL.arrays = {}
    size = 1
    for n in shape:
        size *= n
    key = (name, dtype)
    got = cache.get(key)
    if got is None or len(got) < size:
        got = cache[key] = np.empty(size, dtype=dtype)
    return got[:size].reshape(shape)


def _ctz(x: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit of each word (nonzero, below 2**53), as int64: the
    exponent of the lowest bit as a float."""
    low = (x & (_U(0) - x)).astype(np.float64)
    return (low.view(np.int64) >> 52) - 1023


class VocabularyTest:
    """The bulk start test of one ``VocabularyHead`` (see the module docstring)."""

    def __init__(self, head: VocabularyHead) -> None:
        self.head = head
        self._head = np.uint64(_word(head.head))
        self._level = np.uint64(_word(b"Level "))
        #: ``after`` without the spaces a left-aligned name's padding may take (`` *``).
        rest = head.after.lstrip(b" ") if head.pad_right else head.after
        self._after_spaces = len(head.after) - len(rest)
        self._after = np.uint64(_word(rest))
        self._after_len = len(rest)
        self._end = np.uint64(_word(head.word_end or b""))
        end = head.word_end
        self._lazy = end is not None and end[:1] not in (b" ", b"\t")
        stops = {head.after[0]} | ({0x20} if head.pad_right else set())
        #: The bit maps the test reads, by name: the bytes that end a name, bytes up to 0x20
        #: (whitespace, and control bytes, which the pattern takes for word bytes: lines
        #: where one decides are left to it), ``word_end[0]``, spaces (padding).
        self._tests: dict[str, ByteTest] = {
            "name_stop": _in_ranges(tuple((b, b) for b in sorted(stops))),
            "low": _in_ranges(((0x00, 0x20),)),
        }
        if self._lazy and end is not None and (end[0] != head.after[0] or head.pad_right):
            self._tests["end"] = _in_ranges(((end[0], end[0]),))
        if head.pad_left or head.pad_right:
            self._tests["space"] = _in_ranges(((0x20, 0x20),))
        self._mix = 0
        self.usable = len(head.head) + _NAME_MAX <= 24
        for mix in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9):
            slots = {self._slot_of(mix, _word(n), _word(n[8:]), len(n)) for n in head.names}
            if len(slots) == len(head.names):
                self._mix = mix
                break
        else:
            self.usable = False
        #: Each name's first 8 bytes, and its next ones with its length in the top byte
        #: (names of 15 bytes at most leave it free; a longer token never has a length there).
        self._lows = np.zeros(_SLOTS, dtype=np.uint64)
        self._highs = np.full(_SLOTS, _ALL, dtype=np.uint64)
        if any(len(n) > 15 for n in head.names):
            self.usable = False
        for n in head.names:
            slot = self._slot_of(self._mix, _word(n), _word(n[8:]), len(n))
            self._lows[slot], self._highs[slot] = _word(n), _word(n[8:]) | len(n) << 56
        #: The short test of a head without literal or padding (``basicConfig``'s).
        self._plain = _PlainHead.of(head) if self.usable else None

    @staticmethod
    def _slot_of(mix: int, low: int, high: int, length: int) -> int:
        return (((low ^ (high * 31) ^ length) * mix) & _ALL) >> (64 - 12)

    def decide(self, data: bytes, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """1 / 0 / -1 (start, not a start, ask the pattern) for the lines starting at
        ``starts`` (sorted offsets into ``data``; ``arr`` is ``data`` as uint8), a block of
        lines at a time (its arrays stay in the core's cache)."""
        if self._plain is not None:
            # Most lines by the plain test, in big blocks (fewer calls, so the GIL is held
            # less between them); the few it leaves by the general test, all at once.
            plain = self._plain.decide
            out = plain(arr, starts) if len(starts) <= PLAIN_BLOCK else np.concatenate(
                [plain(arr, starts[i : i + PLAIN_BLOCK]) for i in range(0, len(starts), PLAIN_BLOCK)])
            rest = np.flatnonzero(out < 0)
            if len(rest):
                out[rest] = self._decide_blocks(arr, starts[rest])
            return out
        return self._decide_blocks(arr, starts)

    def _decide_blocks(self, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        if len(starts) <= BLOCK:
            return self._decide(arr, starts)
        return np.concatenate([self._decide(arr, starts[i : i + BLOCK])
                               for i in range(0, len(starts), BLOCK)])

    def _decide(self, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        head = self.head
        out = np.full(len(starts), -1, dtype=np.int8)
        full = int(np.searchsorted(starts, len(arr) - 8 * (_WORDS + 2), side="right"))
        if full == 0:
            return out
        lines = _Lines(arr, starts[:full])
        maps = {name: lines.bit_map(test) for name, test in self._tests.items()}
        ok = np.ones(full, dtype=bool)
        h = len(head.head)
        if h:
            ok &= (lines.word_at(0) & _BYTES[h]) == self._head
        name_at: np.ndarray | int = h
        if head.pad_left:  # `` *`` before the name
            name_at = _ctz(~maps["space"] >> _U(h) << _U(h) | _SENTINEL)
        # The name: what comes before the first byte of ``after`` (or space, when padded).
        stop = _ctz(_drop_below(maps["name_stop"], name_at) | _SENTINEL)
        length = stop - name_at
        ok &= (length >= 1) & (length <= _NAME_MAX)
        length = np.clip(length, 0, _NAME_MAX)
        if isinstance(name_at, int):
            first, second = lines.word_at(name_at), lines.word_at(name_at + 8)
        else:
            first, second = lines.word_var(name_at), lines.word_var(name_at + 8)
        unsure = (first & _BYTES[6]) == self._level  # "Level 15": the pattern says
        low = first & _BYTES[np.minimum(length, 8)]
        high = second & _BYTES[np.clip(length - 8, 0, 8)]
        mixed = (low ^ (high * _U(31)) ^ length.astype(np.uint64)) * _U(self._mix)
        slot = (mixed >> _U(52)).astype(np.int64)
        ok &= self._lows[slot] == low
        ok &= self._highs[slot] == high | (length.astype(np.uint64) << _U(56))
        at = stop
        if head.pad_right:  # `` *`` after the name, then ``after`` (its own spaces included)
            after_at = _ctz(_drop_below(~maps["space"], at) | _SENTINEL)
            ok &= after_at - at >= self._after_spaces
            at = after_at
        if self._after_len > 1 or (head.pad_right and self._after_len):
            ok &= (lines.word_var(np.minimum(at, REACH)) & _BYTES[self._after_len]) == self._after
        at = at + self._after_len
        unsure |= ok & (at >= REACH)
        if head.word_end is not None:
            good, maybe = self._word(lines, maps, np.minimum(at, REACH), ok)
            ok &= good
            unsure |= maybe
        decided = ok.view(np.int8)
        np.putmask(decided, unsure, -1)
        out[:full] = decided
        return out

    def _word(self, lines: _Lines, maps: dict[str, np.ndarray], at: np.ndarray,
              ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, the pattern must say) for lines whose word begins at ``at``: one or more
        bytes, no whitespace, then ``word_end`` (lazy: its first occurrence; possessive:
        where the whitespace starts)."""
        end = self.head.word_end
        assert end is not None
        low = maps["low"]
        lead_low = _bit(low, at)  # the word's first byte: whitespace (or a control byte)
        # Lazy: the first byte up to 0x20 or ``end[0]`` after the first byte; possessive:
        # the first byte up to 0x20 (``end`` starts with whitespace).
        ends = maps.get("end", maps["name_stop"]) if self._lazy else None
        stop = _ctz(_drop_below(low | ends if ends is not None else low, at + 1) | _SENTINEL)
        room = stop + len(end) <= REACH
        live = ok & ~lead_low
        unsure = live & ~room
        stop = np.minimum(stop, REACH)
        if ends is not None:
            is_end = _bit(ends, stop)
            if len(end) == 1:
                fits = is_end
            else:
                got = lines.word_var(stop) & _BYTES[len(end)]
                fits = is_end & (got == self._end)
                # ``end[0]`` without the rest: a later ``end`` may still close the word.
                unsure |= live & room & is_end & ~fits
            closed = is_end
        else:
            got = lines.word_var(stop) & _BYTES[len(end)]
            fits = got == self._end
            closed = fits
        good = live & room & fits
        # A byte up to 0x20 that decided (the word's first byte, or where it stopped) is
        # asked again: a control byte is a word byte to the pattern.
        ask = np.flatnonzero(ok & (lead_low | (room & ~closed)))
        if len(ask):
            where = np.where(lead_low[ask], at[ask], stop[ask])
            byte = lines.arr[lines.starts[ask] + where]
            unsure[ask[~_WHITE_BYTE[byte]]] = True
        return good, unsure


_L = np.uint64(0x0101010101010101)
_H = np.uint64(0x8080808080808080)
_LOW = np.uint64(0x21 * 0x0101010101010101)
#: The bytes of a word below its top byte (whose zero then stands for "not found here").
_SEVEN = np.uint64((1 << 56) - 1)
_TOP = np.uint64(0x80 << 56)
#: Words gathered for a name's word (7 bytes each, after its first byte).
_PLAIN_ROUNDS = 5
#: Bytes the plain test may read from a line start (the name's word and its first byte).
_PLAIN_REACH = 8 + 1 + 7 * _PLAIN_ROUNDS + 8


def _stop_flags(w: np.ndarray, byte: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """(bytes equal to ``byte``, those and bytes up to 0x20) of each word as its bytes' top
    bits (SWAR: a borrow can flag a byte above a flagged one, never below: the lowest flag
    of each, and of their union, is exact). Bits other than the top ones of the first are
    left as they fall: it is only read where the second has its lowest bit."""
    x = w ^ byte
    eq = x - _L
    eq &= ~x
    low = w - _LOW
    low &= ~w
    low |= eq
    low &= _H
    return eq, low


#: Byte 7 - k holds k: a word's byte k moved to the top by multiplying by ``1 << 8 * k``.
_BYTE_OF = np.uint64(sum(k << 8 * (7 - k) for k in range(8)))


def _byte_of(top: np.ndarray) -> np.ndarray:
    """For words holding one bit, the top bit of byte k: k (int64; 0 for no bit). Integer
    operations only (a cast to float holds the GIL)."""
    k = top >> _U(7)
    k *= _BYTE_OF
    k >>= _U(56)
    return k.view(np.int64)


def _control_byte(byte: np.ndarray) -> np.ndarray:
    """Bytes (uint8) up to 0x20 that ``\\s`` does not match (the pattern takes them for word
    bytes): not space, not 9-13."""
    return (byte != 0x20) & ((byte - np.uint8(9)) > 4)


class _PlainHead:
    """A line start of the shape ``NAME<after><word><end>`` (one byte each for ``after``
    and ``end``, ``end`` not whitespace, a lazy word: ``basicConfig``'s ``%(levelname)s:
    %(name)s:``), decided with 64-bit words read at each line start (SWAR: the top bit of a
    byte that ends something). The name is what comes before the first ``after`` byte or
    byte up to 0x20 in the line's first word; with that byte it is one 64-bit key, looked
    up in a table (no two keys share a slot). The word then ends at its first ``end`` or
    byte up to 0x20 after its first byte, looked for 7 bytes at a time on the lines still
    undecided. -1 for what ``VocabularyTest._decide`` says: a name of 8 bytes or more,
    ``Level 15``, a control byte that decides, a word longer than the words read, a line
    close to the end of the data."""

    def __init__(self, keys: list[int], asks: list[int], after: int, end: int) -> None:
        self._after = np.uint64(after * 0x0101010101010101)
        self._end = np.uint64(end * 0x0101010101010101)
        for mix in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                    0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
            if all(len({(k * mix & _ALL) >> 52 for k in group}) == len(group)
                   for group in (keys, asks)):
                break
        else:
            raise ValueError("no slot for each name")
        self._mix = np.uint64(mix)
        #: The keys by slot. Empty slots hold 0x100: no first word reads so (its first byte,
        #: 0, would end the name, with nothing after it) and no key either.
        self._table = np.full(1 << 12, 0x100, dtype=np.uint64)
        for k in keys:
            self._table[(k * mix & _ALL) >> 52] = k
        #: The first words ``_decide`` says for, by the same slots: the first 8 bytes of the
        #: names of 8 bytes or more, and ``Level `` (``Level 15``).
        self._asks = np.full(1 << 12, 0x100, dtype=np.uint64)
        for k in asks:
            self._asks[(k * mix & _ALL) >> 52] = k

    @classmethod
    def of(cls, head: VocabularyHead) -> _PlainHead | None:
        end = head.word_end
        if (head.head or head.pad_left or head.pad_right or len(head.after) != 1
                or end is None or len(end) != 1 or end[0] <= 0x20 or head.after[0] <= 0x20):
            return None
        if any(b <= 0x20 for n in head.names for b in n):
            return None
        keys = [_word(n + head.after) for n in head.names if len(n) < 8]
        asks = sorted({_word(n) for n in head.names if len(n) >= 8} | {_word(b"Level ")})
        try:
            return cls(keys, asks, head.after[0], end[0])
        except ValueError:
            return None

    def decide(self, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """1 / 0 / -1 (start, not one, ``_decide`` says) for the lines at ``starts``."""
        out = np.full(len(starts), -1, dtype=np.int8)
        full = int(np.searchsorted(starts, len(arr) - _PLAIN_REACH, side="right"))
        if full == 0:
            return out
        words = np.ndarray((len(arr) - 7,), dtype="<u8", buffer=arr, offset=0, strides=(1,))
        at = starts[:full]
        # The name: up to the first ``after`` byte or byte up to 0x20 of the first word.
        w = words[at]
        _eq, stop = _stop_flags(w, self._after)
        stop &= _U(0) - stop  # that byte's top bit alone (0: none in the word)
        key = w & ((stop << _U(1)) - _U(1))  # the name and that byte (all of w if none)
        slot = ((key * self._mix) >> _U(52)).astype(np.intp)
        named = self._table[slot] == key
        odd = self._asks[slot] == key  # a long name, Level 15
        # The word: its first byte (any but whitespace), then its first ``end`` or byte up
        # to 0x20 after it, 7 bytes at a time (the word's first 8 bytes read for all lines).
        pos = at + _byte_of(stop)
        pos += 1
        w = words[pos]
        first = w.astype(np.uint8)
        lead = first <= 0x20  # whitespace: not a start; a control byte: the pattern says
        odd |= named & lead & _control_byte(first)
        named &= ~lead
        w >>= _U(8)
        eq, stop = _stop_flags(w, self._end)
        stop &= _U(0) - stop  # never 0: the top byte is 0
        start = (eq & stop) != _U(0)
        start &= named
        on = stop == _TOP  # nothing in these 7 bytes: read on
        on &= named
        gap = named & ~start & ~on  # ended by whitespace or a control byte
        decided = out[:full]
        decided[:] = start.view(np.int8)
        gap = np.flatnonzero(gap)
        if len(gap):
            self._control(arr, decided, gap, pos[gap] + 1, stop[gap])
        np.putmask(decided, odd, -1)
        cand = np.flatnonzero(on)
        pos = pos[cand] + 8
        for _ in range(_PLAIN_ROUNDS - 1):
            if not len(cand):
                return out
            w = words[pos] & _SEVEN
            eq, stop = _stop_flags(w, self._end)
            stop &= _U(0) - stop
            end = (eq & stop) != _U(0)
            decided[cand[end]] = 1
            on = stop == _TOP
            gap = np.flatnonzero(~end & ~on)
            if len(gap):
                self._control(arr, decided, cand[gap], pos[gap], stop[gap])
            more = np.flatnonzero(on)
            cand, pos = cand[more], pos[more] + 7
        decided[cand] = -1
        return out

    @staticmethod
    def _control(arr: np.ndarray, decided: np.ndarray, lines: np.ndarray, pos: np.ndarray,
                 stop: np.ndarray) -> None:
        """Lines whose word ended at a byte up to 0x20: whitespace says not a start (as
        ``decided`` has it), a control byte is a word byte to the pattern (-1)."""
        if len(lines):
            byte = arr[pos + _byte_of(stop)]
            decided[lines[~_WHITE_BYTE[byte]]] = -1


def _bit(bits: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Bit ``at[j]`` of ``bits[j]``, as bools."""
    return ((bits >> at.astype(np.uint64)) & _U(1)).astype(bool)


def _drop_below(bits: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """``bits`` without its bits below ``at`` (per line)."""
    if isinstance(at, int) and at == 0:
        return bits
    shift = np.uint64(at) if isinstance(at, int) else at.astype(np.uint64)
    return bits >> shift << shift


class _Lines:
    """The first bytes of many lines as 64-bit words and bit maps (one bit a byte)."""

    def __init__(self, arr: np.ndarray, starts: np.ndarray) -> None:
        self.arr = arr
        self.starts = starts
        aligned = arr[: len(arr) // 8 * 8].view(np.uint64)
        #: Row k: the aligned word k after the one that holds each line's first byte.
        shape = (_WORDS, len(starts))
        where = np.add(starts >> 3, _ROWS, out=_scratch("where", shape, np.int64))
        self.words = np.take(aligned, where, out=_scratch("words", shape))
        self.skew = (starts & 7).astype(np.uint64)
        shift = self.skew << _U(3)
        self._right, self._left = shift, _U(63) - shift
        self._at: dict[int, np.ndarray] = {}

    def word_at(self, p: int) -> np.ndarray:
        """The 8 bytes from byte ``p`` (below ``8 * (_WORDS - 2)``) of every line."""
        got = self._at.get(p)
        if got is None:
            q, r = divmod(p, 8)
            if r == 0:
                w = self.words
                got = (w[q] >> self._right) | ((w[q + 1] << _U(1)) << self._left)
            else:
                lo, hi = self.word_at(8 * q), self.word_at(8 * q + 8)
                got = (lo >> _U(8 * r)) | (hi << _U(64 - 8 * r))
            self._at[p] = got
        return got

    def word_var(self, at: np.ndarray) -> np.ndarray:
        """The 8 bytes from byte ``at[j]`` of line ``j`` (unaligned reads)."""
        words = np.ndarray((len(self.arr) - 7,), dtype="<u8", buffer=self.arr, offset=0,
                           strides=(1,))
        return words[self.starts + at]

    def bit_map(self, test: ByteTest) -> np.ndarray:
        """Bit k of line j: byte k of line j passes ``test`` (bits up to ``REACH``)."""
        flags = test(self.words.view(np.uint8),
                     _scratch("flags", (_WORDS, 8 * len(self.starts)), np.bool_))
        bits = np.multiply(flags.view(np.uint64), _GATHER,
                           out=_scratch("bits", self.words.shape))
        np.right_shift(bits, _U(56), out=bits)
        np.left_shift(bits, _PLACES, out=bits)
        return (np.bitwise_or.reduce(bits, axis=0) >> self.skew) & _U((1 << REACH) - 1)
