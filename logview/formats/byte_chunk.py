"""A chunk of records' bytes read with numpy at many offsets at once: the primitives of the
column walkers (``template_columns``, ``json_columns``).

Each primitive costs a few numpy passes over the records, not over the chunk's bytes: 8 bytes
at each offset are one gather through an unaligned little-endian word view; a literal is
compared as masked words; the next occurrence of a literal is searched a word at a time, only
for the records still searching; which bytes of a 64-byte row are quotes (or digits...) is
one bit word a row, whose lowest bit past an offset is the next one; the distinct values of
many slices are grouped by a hash into a small table (one scatter and one gather; a sort only
for the keys that share a slot), and every grouping is verified against its
representative's bytes.
"""

from __future__ import annotations

import numpy as np

from logview.record import ESCAPE_BYTES_RE, holds_escape

#: Longest value read (bytes); longer ones are parsed.
MAX_VALUE = 128
#: Zero bytes after the chunk: the widest row that can be taken at any offset.
_PAD = MAX_VALUE + 24
#: Odd 64-bit multipliers of the words of a value (a hash; equal hashes are then verified).
MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD,
                0xC4CEB9FE1A85EC53, 0x9FB21C651E98DF25] * 2, dtype=np.uint64)
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
#: The low ``k`` bytes of a word (``_KEEP[k]``, k = 0..8).
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_LOW_BITS = np.uint64(0x0101010101010101)
_HIGH_BITS = np.uint64(0x8080808080808080)
#: Slots of the hash table that groups values (a power of two; ``_SLOT_SHIFT`` picks them).
_SLOTS = 1 << 12
_SLOT_SHIFT = np.uint64(64 - 12)
#: Bytes ``ByteChunk.first_byte`` looks at from each offset (a row and its bit word).
FIRST_ROW = 64
#: What the ASCII zeros of a number of ``n`` digits add when read as values: 48 x 11...1.
REPUNIT48 = [48 * int("1" * n or "0") for n in range(20)]


def word_of(literal: bytes) -> np.uint64:
    """Up to 8 bytes as the little-endian word the word view reads."""
    return np.uint64(int.from_bytes(literal[:8], "little"))


def group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal ``keys`` (uint64): a representative record of each group and each
    record's group. Keys that share a slot of the table with another key are grouped by a
    sort; the groups are exact (keys are compared, not only slots)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    slot = ((keys * MIX[0]) >> _SLOT_SHIFT).astype(np.intp)
    rep = np.full(_SLOTS, -1, dtype=np.intp)
    rep[slot] = np.arange(n)  # some record of each slot
    mine = rep[slot]
    used = np.flatnonzero(rep >= 0)
    gid = np.empty(_SLOTS, dtype=np.intp)
    gid[used] = np.arange(len(used))
    inverse = gid[slot]
    firsts = rep[used]
    other = np.flatnonzero(keys[mine] != keys)
    if len(other):  # keys that met another in their slot: grouped exactly, apart
        _, first, inv = np.unique(keys[other], return_index=True, return_inverse=True)
        inverse[other] = len(used) + inv.ravel()
        firsts = np.concatenate([firsts, other[first]])
    return firsts, inverse


def _hits(x: np.ndarray) -> np.ndarray:
    """The high bit of each zero byte of ``x`` (uint64): the lowest one is exact (the bits
    above it may be set by the borrow)."""
    return (x - _LOW_BITS) & ~x & _HIGH_BITS


def _lowest_byte(hits: np.ndarray) -> np.ndarray:
    """Which byte (0-7) holds the lowest set bit of ``hits``; 8 when none is set."""
    below = (hits & (~hits + np.uint64(1))) - np.uint64(1)  # the bits below the lowest set bit
    return (np.bitwise_count(below) >> np.uint8(3)).astype(np.int64)


def _first_hit(x: np.ndarray, offset: int, later: np.ndarray | None) -> np.ndarray:
    """The offset of the first zero byte of ``x`` plus ``offset``, or ``later`` where
    there is none (``offset + 8`` when ``later`` is None)."""
    hits = _hits(x)
    at = _lowest_byte(hits) + offset
    return at if later is None else np.where(hits != 0, at, later)


def same_as_first(words: np.ndarray, first: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Whether each row of ``words`` (n x k) equals the row of its group's representative
    (``first[inverse]``): the representatives' few rows are taken, not n rows gathered."""
    reps = words[first]
    out = reps[:, 0].take(inverse) == words[:, 0]
    for j in range(1, words.shape[1]):
        out &= reps[:, j].take(inverse) == words[:, j]
    return out


def escapes(buf: bytes) -> np.ndarray:
    """Sorted offsets of the escape introducers in ``buf`` (ESC, UTF-8 C1 introducers)."""
    if not holds_escape(buf):
        return np.zeros(0, dtype=np.int64)
    return np.array([m.start() for m in ESCAPE_BYTES_RE.finditer(buf)], dtype=np.int64)


def next_of(sorted_offsets: np.ndarray, at: np.ndarray, missing: int) -> np.ndarray:
    """For each of ``at``, the first of ``sorted_offsets`` at or after it (``missing``: none)."""
    if len(sorted_offsets) == 0:
        return np.full(len(at), missing, dtype=np.int64)
    j = np.searchsorted(sorted_offsets, at)
    last = len(sorted_offsets) - 1
    return np.where(j <= last, sorted_offsets[np.minimum(j, last)], missing).astype(np.int64)


class ByteChunk:
    """A chunk's bytes, padded with zeros so that a word and a row of up to ``_PAD`` bytes can
    be taken at any offset up to its size."""

    def __init__(self, buf: bytes) -> None:
        self.size = len(buf)
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        padded = np.empty(self.size + _PAD, dtype=np.uint8)
        padded[: self.size] = self.arr
        padded[self.size :] = 0
        self.padded = padded
        self._words = np.ndarray((self.size + 1,), dtype="<u8", buffer=padded, strides=(1,))
        self._rows: dict[int, np.ndarray] = {}

    def words(self, at: np.ndarray) -> np.ndarray:
        """The 8 bytes at each offset as a little-endian uint64 (zeros past the end)."""
        return self._words[np.minimum(at, self.size)]

    def rows(self, at: np.ndarray, width: int) -> np.ndarray:
        """The ``width`` bytes at each offset, one contiguous row each (zeros past the end)."""
        view = self._rows.get(width)
        if view is None:
            if not 0 < width <= _PAD:
                raise ValueError(f"rows of {width} bytes: at most {_PAD}")
            view = self._rows[width] = np.ndarray(
                (self.size + 1,), dtype=np.dtype((np.void, width)), buffer=self.padded,
                strides=(1,))
        return view[np.minimum(at, self.size)].view(np.uint8).reshape(-1, width)

    def holds(self, at: np.ndarray, literal: bytes) -> np.ndarray:
        """Whether ``literal`` is written at each offset."""
        out: np.ndarray | None = None
        for k in range(0, len(literal), 8):
            piece = literal[k : k + 8]
            got = self.words(at + k) if k else self.words(at)
            if len(piece) < 8:
                got &= _KEEP[len(piece)]
            same = got == word_of(piece)
            out = same if out is None else out & same
        return out if out is not None else np.ones(len(at), dtype=bool)

    def find(self, literal: bytes, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Where ``literal`` first occurs at or after ``lo`` (starting at ``hi`` at most) for
        each record, -1 when it does not there (or not whole inside the chunk).

        A word at a time: the first byte of the literal is found in 8 bytes with the
        zero-byte trick (the lowest hit is exact), the rest compared there; the records
        that found it, or passed ``hi``, stop searching.
        """
        if not literal:
            return np.full(len(lo), -1, dtype=np.int64)
        spread = _LOW_BITS * np.uint64(literal[0])
        lo = np.asarray(lo, dtype=np.int64)
        limit = np.minimum(np.asarray(hi, dtype=np.int64), self.size - len(literal))
        # Most values are short: the first 16 bytes of every record at once, no compaction.
        words = self.rows(lo, 16).view(np.uint64)
        first = _first_hit(words[:, 1] ^ spread, 8, None)
        first = _first_hit(words[:, 0] ^ spread, 0, first)
        cand = lo + first
        good = (first < 16) & (cand <= limit)
        if len(literal) > 1:
            good &= self.holds(cand, literal)
        out = np.where(good, cand, -1)
        # The others (a longer value, or the first byte that was not the literal) search on,
        # a word at a time, until they find it or pass ``hi``.
        at = np.where(first < 16, cand + 1, lo + 16)
        idx = np.flatnonzero(~good & (at <= limit))
        at, limit = at[idx], limit[idx]
        while len(idx):
            hits = _hits(self.words(at) ^ spread)
            hit = hits != 0
            cand = at + _lowest_byte(hits)
            good = hit & (cand <= limit)
            if len(literal) > 1:
                good[good] = self.holds(cand[good], literal)
            out[idx[good]] = cand[good]
            at = np.where(hit, cand + 1, at + 8)
            going = ~good & (at <= limit)
            idx, at, limit = idx[going], at[going], limit[going]
        return out

    def first_byte(self, byte: int, lo: np.ndarray) -> np.ndarray:
        """Where ``byte`` first occurs in the ``FIRST_ROW`` bytes from each of ``lo`` (-1: not
        there): the lowest bit of each row's bit word (``byte_bits``)."""
        at = first_bit(byte_bits(self.rows(lo, FIRST_ROW), bytes([byte])), 0)
        return np.where(at < FIRST_ROW, np.minimum(lo, self.size) + at, -1)

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
        return value - REPUNIT48[width], good

    def distinct(self, a: np.ndarray, lengths: np.ndarray) -> tuple[list[bytes], np.ndarray,
                                                                   np.ndarray]:
        """The distinct values ``buf[a:a+length]``, each record's index among them, and
        whether that index is certain (always, unless a value is longer than a row)."""
        width = int(-(-max(1, int(lengths.max(initial=1))) // 8) * 8)
        words = self.rows(a, width).view(np.uint64)
        lengths = lengths.astype(np.int64)
        hashes = lengths.astype(np.uint64) * MIX[-1]
        for j in range(width // 8):  # zero what lies past each value, and hash
            column = words[:, j]
            column &= _KEEP[np.clip(lengths - 8 * j, 0, 8)]
            hashes += column * MIX[j % len(MIX)]
        first, inverse = group(hashes)
        certain = same_as_first(words, first, inverse)
        certain &= lengths[first].take(inverse) == lengths
        values = [words[i].tobytes()[: int(lengths[i])] for i in first.tolist()]
        return values, inverse, certain


_ONE = np.uint64(1)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_THREES = np.uint64(0x3030303030303030)
_SIXES = np.uint64(0x0606060606060606)


def digits_at(words: np.ndarray, mask: np.uint64) -> np.ndarray:
    """Whether the bytes of each word that ``mask`` selects (0xFF each) are ASCII digits:
    high nibble 3, and still 3 with 6 added."""
    d = words & mask
    high = mask & _HIGH_NIBBLES
    return ((d & high) == (mask & _THREES)) & (((d + (mask & _SIXES)) & high)
                                               == (mask & _THREES))


def byte_bits(rows: np.ndarray, values: bytes) -> np.ndarray:
    """For rows of 64 bytes (contiguous): a word per row whose bit ``i`` says byte ``i`` is one of
    ``values``."""
    hit = rows == values[0]
    for value in values[1:]:
        hit |= rows == value
    return row_bits(hit)


def row_bits(hit: np.ndarray) -> np.ndarray:
    """For rows of 64 booleans (contiguous): a word per row whose bit ``i`` is ``hit[:, i]``.
    The flat packing is each row's 8 bytes in turn (4 x faster than packing along rows)."""
    return np.packbits(hit.reshape(-1), bitorder="little").view(np.uint64)


def first_bit(bits: np.ndarray, start: np.ndarray | int) -> np.ndarray:
    """The lowest set bit of each of ``bits`` at or above ``start`` (0 to 63); 64 or more
    when there is none."""
    start = np.asarray(start, dtype=np.int64)
    shifted = bits >> start.astype(np.uint64)
    return np.bitwise_count((shifted & (~shifted + _ONE)) - _ONE).astype(np.int64) + start
