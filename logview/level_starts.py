"""Record starts of templates that open with a level name, decided for many lines at once.

A template without a time (``%(levelname)s:%(name)s:%(message)s``, logging's ``basicConfig``)
has no fixed-width head: its start pattern is an alternation of every level name followed by
the rest of the prefix, and running it on every line was most of the time of indexing such a
file. Its shape (``VocabularyHead``) is tested here with numpy on the first bytes of every
line instead: the head literal, the one name the line can hold (the bytes before the first
``after[0]``, looked up among the names as 64-bit words), ``after``, then the word: the first
whitespace and the first ``word_end`` after it say whether the lazy (or possessive) word of
the pattern can end there. Each line gets 1 (a start), 0 (not one) or -1 (the pattern must
say: a ``Level 15`` name, a word longer than the window, a ``word_end`` that only begins
where the word stops, a line too close to the end of the data).
"""

from __future__ import annotations

import numpy as np

from logview.formats.signature import VocabularyHead

#: Bytes of each line looked at (after the head literal): the bits of a 64-bit word read at
#: any byte offset, less the 7 a shift may lose.
WINDOW = 56
_NAME_MAX = 16
#: A name's two words (and its length) hash to a slot of this table (no two names share one).
_SLOTS = 1 << 12
_ALL = (1 << 64) - 1
#: ``_LOW[k]``: the low ``k`` bits set.
_LOW = np.array([(1 << k) - 1 for k in range(64)] + [_ALL], dtype=np.uint64)
_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [_ALL], dtype=np.uint64)
#: Count trailing zeros of a power of two (de Bruijn).
_DEBRUIJN = 0x03F79D71B4CB0A89
_CTZ = np.zeros(64, dtype=np.int64)
for _k in range(64):
    _CTZ[((1 << _k) * _DEBRUIJN & _ALL) >> 58] = _k


def _word(data: bytes) -> int:
    """Up to 8 bytes as a little-endian 64-bit word (the rest zero)."""
    return int.from_bytes(data[:8].ljust(8, b"\0"), "little")


def _words(data: np.ndarray) -> np.ndarray:
    """The 64-bit little-endian word at every byte offset of ``data`` (uint8)."""
    return np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, offset=0, strides=(1,))


_BIT0 = np.uint64(0x0101010101010101)
#: Gathers bit 0 of each byte of a word into one byte (byte k -> bit k).
_GATHER = np.uint64(0x0102040810204080)
_SPACES = b" \t\n\v\f\r"  # what ``\\s`` matches in a bytes regex


def _plane(classes: np.ndarray, bit: int) -> np.ndarray:
    """One bit a byte of the chunk (bit k of byte j: byte 8j + k has class bit ``bit``),
    then 8 zero bytes; ``classes`` is the chunk translated to class bits, as words."""
    out = np.zeros(len(classes) + 8, dtype=np.uint8)
    out[: len(classes)] = (((classes >> np.uint64(bit)) & _BIT0) * _GATHER) >> np.uint64(56)
    return out


def _ctz(x: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit of each word (64 when none)."""
    low = x & (np.uint64(0) - x)
    out = _CTZ[((low * np.uint64(_DEBRUIJN)) >> np.uint64(58)).astype(np.int64)]
    return np.where(x == 0, 64, out)


class VocabularyTest:
    """The bulk start test of one ``VocabularyHead`` (see the module docstring)."""

    def __init__(self, head: VocabularyHead) -> None:
        self.head = head
        self._head = np.uint64(_word(head.head))
        self._level = np.uint64(_word(b"Level "))
        self._after = np.uint64(_word(head.after))
        self._end = np.uint64(_word(head.word_end or b""))
        #: Each byte to its classes: bit 0 ``after[0]``, bit 1 whitespace, bit 2 the first
        #: byte of ``word_end``.
        table = bytearray(256)
        table[head.after[0]] |= 1
        for byte in _SPACES:
            table[byte] |= 2
        if head.word_end:
            table[head.word_end[0]] |= 4
        self._classes = bytes(table)
        self._mix = 0
        self.usable = False
        for mix in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9):
            slots = {self._slot_of(mix, _word(n), _word(n[8:]), len(n)) for n in head.names}
            if len(slots) == len(head.names):
                self._mix, self.usable = mix, True
                break
        self._lows = np.zeros(_SLOTS, dtype=np.uint64)
        self._highs = np.zeros(_SLOTS, dtype=np.uint64)
        self._lengths = np.full(_SLOTS, -1, dtype=np.int64)
        for n in head.names:
            slot = self._slot_of(self._mix, _word(n), _word(n[8:]), len(n))
            self._lows[slot], self._highs[slot], self._lengths[slot] = (
                _word(n), _word(n[8:]), len(n))

    @staticmethod
    def _slot_of(mix: int, low: int, high: int, length: int) -> int:
        return (((low ^ (high * 31) ^ length) * mix) & _ALL) >> (64 - 12)

    def decide(self, data: bytes, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """1 / 0 / -1 (start, not a start, ask the pattern) for the lines starting at
        ``starts`` (sorted offsets into ``data``; ``arr`` is ``data`` as uint8)."""
        head = self.head
        h, a = len(head.head), len(head.after)
        out = np.full(len(starts), -1, dtype=np.int8)
        full = int(np.searchsorted(starts, len(arr) - h - 72, side="right"))
        if full == 0:
            return out
        at = starts[:full] + h
        words = _words(arr)
        ok = np.ones(full, dtype=bool)
        if h:
            ok &= (words[starts[:full]] & _BYTES[h]) == self._head
        # Bit planes of the chunk: which bytes are ``after[0]``, whitespace, ``word_end[0]``;
        # bit k of a line's plane word: the byte k after ``at``.
        classed = data.translate(self._classes)
        classed += bytes(-len(classed) % 8)
        chunk = np.frombuffer(classed, dtype="<u8")
        seps = _plane(chunk, 0)
        shift = (at & 7).astype(np.uint64)
        window = _LOW[WINDOW]

        def plane(bits: np.ndarray) -> np.ndarray:
            return (_words(bits)[at >> 3] >> shift) & window

        sep = plane(seps)
        # The name: what comes before the first byte of ``after`` (no name holds that byte).
        length = _ctz(sep)
        ok &= (length >= 1) & (length <= _NAME_MAX)
        length = np.minimum(length, _NAME_MAX)
        low = words[at] & _BYTES[np.minimum(length, 8)]
        high = words[at + 8] & _BYTES[np.clip(length - 8, 0, 8)]
        mixed = (low ^ (high * np.uint64(31)) ^ length.astype(np.uint64)) * np.uint64(self._mix)
        slot = (mixed >> np.uint64(52)).astype(np.int64)
        ok &= ((self._lows[slot] == low) & (self._highs[slot] == high)
               & (self._lengths[slot] == length))
        if a > 1:  # the rest of ``after``
            ok &= (words[at + length] & _BYTES[a]) == self._after
        undecided = (words[at] & _BYTES[6]) == self._level  # "Level 15": the pattern says
        decided = ok
        if head.word_end is not None:
            begin = length + a
            ends = sep if head.word_end[0] == head.after[0] else plane(_plane(chunk, 2))
            space = plane(_plane(chunk, 1))
            decided, unsure = self._word(words, at, begin, ends, space, ok)
            undecided |= unsure
        out[:full] = decided
        out[:full][undecided] = -1
        return out

    def _word(self, words: np.ndarray, at: np.ndarray, begin: np.ndarray, ends: np.ndarray,
              space: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, the pattern must say) for lines whose word begins ``begin`` bytes after
        ``at``; bit k of ``ends`` / ``space``: byte k is ``word_end[0]`` / whitespace."""
        end = self.head.word_end
        assert end is not None
        first_space = _ctz(space & ~_LOW[begin])
        if end[:1] in (b" ", b"\t"):  # possessive: the word runs to the first whitespace
            stop = first_space
            unsure = ok & (stop >= WINDOW)
            good = ok & (stop < WINDOW) & (stop > begin)
        else:  # lazy: the first ``end`` after at least one byte, before any whitespace
            stop = _ctz(ends & ~_LOW[np.minimum(begin + 1, 64)])
            good = ok & (stop < first_space)  # (then stop < WINDOW)
            # No whitespace and no ``end`` in the window: the word may go on past it.
            unsure = ok & (stop >= WINDOW) & (first_space >= WINDOW)
        room = good & (stop + len(end) <= WINDOW)
        unsure |= good & ~room  # ``end`` would run past the window
        fits = room & ((words[at + np.minimum(stop, WINDOW)] & _BYTES[len(end)]) == self._end)
        if end[:1] not in (b" ", b"\t"):
            # ``end``'s first byte without the rest: a later ``end`` may still close the word.
            unsure |= room & ~fits
        return fits, unsure
