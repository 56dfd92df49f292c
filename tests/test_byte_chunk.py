"""The column walkers' byte primitives (``formats.byte_chunk``) agree with plain Python on
random bytes: a literal at each offset, its next occurrence within a bound, the distinct
values of many slices and the grouping of keys that share the hash table's slots."""

from __future__ import annotations

import random

import numpy as np
import pytest

from logview.formats.byte_chunk import MAX_VALUE, ByteChunk, group

#: Few byte values, so that literals occur often, overlap and cross word boundaries.
ALPHABET = b" -ab\n\x00\xc3"


def random_bytes(rng: random.Random, size: int) -> bytes:
    return bytes(rng.choice(ALPHABET) for _ in range(size))


@pytest.mark.parametrize("seed", range(4))
def test_find_and_holds_agree_with_bytes_find(seed):
    rng = random.Random(seed)
    buf = random_bytes(rng, 3000)
    chunk = ByteChunk(buf)
    lo = np.array([rng.randrange(0, len(buf) + 20) for _ in range(600)] + [len(buf) - 2,
                                                                          len(buf)])
    for literal in (b" - ", b"-", b"--", b"a\x00", b"\n", b"ab ab", b"\xc3 -", b"a" * 9):
        hi = lo + np.array([rng.randrange(0, 2 * MAX_VALUE) for _ in lo])
        got = chunk.find(literal, lo, hi)
        for at, bound, found in zip(lo.tolist(), hi.tolist(), got.tolist()):
            want = buf.find(literal, at) if at <= len(buf) else -1
            if want > bound:
                want = -1
            assert found == want, (literal, at, bound)
        held = chunk.holds(lo, literal)
        assert held.tolist() == [buf.startswith(literal, at) for at in lo.tolist()]


def test_distinct_values_and_their_groups_are_exact():
    rng = random.Random(9)
    values = [b"app", b"app.db", b"app.db.pool", b"", b"x" * MAX_VALUE, b"app\x00",
              b"urllib3.connectionpool", b"a-b c"]
    picked = [rng.choice(values) for _ in range(2000)]
    buf = b"|".join(picked)
    starts = np.cumsum([0] + [len(v) + 1 for v in picked[:-1]])
    lengths = np.array([len(v) for v in picked])
    raw, inverse, certain = ByteChunk(buf).distinct(starts, lengths)
    assert certain.all()
    assert [raw[k] for k in inverse.tolist()] == picked
    assert len(raw) == len(set(picked))


def test_keys_sharing_slots_are_grouped_exactly():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1 << 62, size=20_000, dtype=np.int64).astype(np.uint64)
    keys = keys[rng.integers(0, len(keys), size=50_000)]  # repeats, far more keys than slots
    first, inverse = group(keys)
    assert np.array_equal(keys[first[inverse]], keys)
    assert len(first) == len(np.unique(keys))


@pytest.mark.parametrize("seed", range(3))
def test_first_byte_agrees_with_bytes_find_within_its_row(seed):
    from logview.formats.byte_chunk import FIRST_ROW

    rng = random.Random(seed)
    buf = random_bytes(rng, 4000)
    chunk = ByteChunk(buf)
    lo = np.array([rng.randrange(0, len(buf) + 40) for _ in range(2000)] + [0, len(buf)])
    for byte in b" a\xc3\n":
        got = chunk.first_byte(byte, lo)
        for at, found in zip(lo.tolist(), got.tolist()):
            want = buf.find(bytes([byte]), at, at + FIRST_ROW)
            assert found == want, (byte, at)
        assert (got >= 0).sum() > 500  # found often: not vacuous
