"""A field's few known values (a closed vocabulary: level names) recognised at many offsets
at once as masked words, instead of searching where the field ends.

Each entry is a value as written (padding included) with the literal that follows the field;
a record holds an entry when the entry's bytes are written at its offset. One 16-byte row per
record is read; its first bytes, shared by no two entries, pick the one entry it may hold
through a small perfect hash table, and that entry's masked words are compared. The reading
is the search's own: an entry is kept only when the search for the literal after the field
(from ``min_end`` on) would end the field exactly where the entry's value ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logview.formats.byte_chunk import MIX, ByteChunk, word_of

#: Longest entry (value and literal) matched: the row read at each offset.
ROW = 16
#: Most entries a vocabulary holds (a bigger one: its other values are searched).
MAX_ENTRIES = 32
_KEEP = [(1 << (8 * k)) - 1 for k in range(9)]


def reads_as(value: bytes, literal: bytes, min_end: int) -> bool:
    """Whether the first occurrence of ``literal`` at or after ``min_end`` in ``value +
    literal`` (and whatever follows) is the one right after ``value``: an occurrence that
    begins earlier lies whole inside ``value + literal``, so this is exact."""
    return (value + literal).find(literal, min_end) == len(value)


@dataclass(slots=True)
class WordVocabulary:
    """Entries (``value + literal``) with a number each, matched by masked words."""

    values: list[bytes]
    numbers: np.ndarray  # int32, one per entry, then 0 for "none"
    lengths: np.ndarray  # int64, each value's length, then 0
    _key_mask: np.uint64
    _shift: np.uint64
    _mult: np.uint64
    _table: np.ndarray  # slot -> entry (len(values): none)
    _masks: tuple[np.ndarray, np.ndarray]  # each entry's two masked words, then "none"
    _words: tuple[np.ndarray, np.ndarray]

    @classmethod
    def build(cls, entries: dict[bytes, int], literal: bytes, min_end: int
              ) -> WordVocabulary | None:
        """The vocabulary of ``entries`` (value -> number) followed by ``literal``, or None
        when none can be matched this way (no literal, values too long, no hash fits)."""
        if not literal:
            return None
        kept = [(v, n) for v, n in entries.items()
                if v and len(v) + len(literal) <= ROW and reads_as(v, literal, min_end)]
        kept = sorted(kept)[:MAX_ENTRIES]
        if not kept:
            return None
        size = min(8, min(len(v) + len(literal) for v, _ in kept))
        keys: dict[int, tuple[bytes, int]] = {}
        for v, n in kept:  # the first ``size`` bytes pick the entry: those shared are left out
            key = int.from_bytes((v + literal)[:size], "little")
            keys[key] = (v, n) if key not in keys else (b"", 0)
        chosen = [(k, v, n) for k, (v, n) in keys.items() if v]
        if not chosen:
            return None
        for bits in range(max(1, len(chosen).bit_length()), 9):
            for mult in MIX[:4].tolist():
                slots = [((k * mult) & ((1 << 64) - 1)) >> (64 - bits) for k, _, _ in chosen]
                if len(set(slots)) == len(slots):
                    return cls._made(chosen, literal, size, bits, mult, slots)
        return None

    @classmethod
    def _made(cls, chosen: list[tuple[int, bytes, int]], literal: bytes, size: int,
              bits: int, mult: int, slots: list[int]) -> WordVocabulary:
        none = len(chosen)
        table = np.full(1 << bits, none, dtype=np.intp)
        masks = np.zeros((none + 1, 2), dtype=np.uint64)
        words = np.zeros((none + 1, 2), dtype=np.uint64)
        words[none, 0] = 1  # "none": a masked word of zeros is never 1
        for e, ((_, v, _), slot) in enumerate(zip(chosen, slots)):
            table[slot] = e
            full = v + literal
            for j in range(2):
                piece = full[8 * j : 8 * j + 8]
                masks[e, j] = _KEEP[len(piece)]
                words[e, j] = word_of(piece)
        return cls([v for _, v, _ in chosen],
                   np.array([n for *_, n in chosen] + [0], dtype=np.int32),
                   np.array([len(v) for _, v, _ in chosen] + [0], dtype=np.int64),
                   np.uint64(_KEEP[size]), np.uint64(64 - bits), np.uint64(mult), table,
                   (masks[:, 0].copy(), masks[:, 1].copy()),
                   (words[:, 0].copy(), words[:, 1].copy()))

    def match(self, chunk: ByteChunk, at: np.ndarray) -> np.ndarray:
        """For each offset, the entry written there (-1: none)."""
        rows = chunk.rows(at, ROW).view(np.uint64)
        w0, w1 = rows[:, 0], rows[:, 1]
        slot = (((w0 & self._key_mask) * self._mult) >> self._shift).astype(np.intp)
        entry = self._table[slot]
        held = (w0 & self._masks[0][entry]) == self._words[0][entry]
        held &= (w1 & self._masks[1][entry]) == self._words[1][entry]
        return np.where(held, entry, -1)
