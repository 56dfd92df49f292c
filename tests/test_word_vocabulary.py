"""``WordVocabulary`` (``formats.word_vocabulary``) recognises exactly the entries a search for
the field's end would read: an entry written at an offset, followed by its literal, and never
one the search would end elsewhere."""

from __future__ import annotations

import random

import numpy as np
import pytest

from logview.formats.byte_chunk import ByteChunk
from logview.formats.word_vocabulary import WordVocabulary, reads_as

LEVELS = {b"DEBUG": 10, b"INFO": 20, b"WARNING": 30, b"ERROR": 40, b"CRITICAL": 50,
          b"WARN": 30, b"Level 5": 5, b"INFO    ": 20, b"E": 40}


@pytest.mark.parametrize(("literal", "min_end"), [(b" - ", 1), (b":", 1), (b" ", 8), (b"] ", 1)])
def test_matches_are_where_the_search_ends_the_field(literal, min_end):
    rng = random.Random(f"{literal!r}{min_end}")
    vocabulary = WordVocabulary.build(LEVELS, literal, min_end)
    assert vocabulary is not None
    pieces = [*LEVELS, b"INFOX", b"ERRO", b"CRITICALLY", b"WARNING", b" ", b"-", b"\n", b"x"]
    parts, starts = [], [0]
    for _ in range(3000):
        parts.append(rng.choice(pieces) + rng.choice([literal, literal[:1], b""]))
        starts.append(starts[-1] + len(parts[-1]))
    buf = b"".join(parts)
    # Where pieces begin, and anywhere (the chunk's end and past it included).
    at = np.array(sorted({*starts, *rng.sample(range(len(buf) + 9), 1000)}), dtype=np.int64)
    got = vocabulary.match(ByteChunk(buf), at)
    for offset, entry in zip(at.tolist(), got.tolist()):
        # The search's reading: the first literal from ``min_end`` on ends the field.
        end = buf.find(literal, offset + min_end) if offset <= len(buf) else -1
        value = buf[offset:end] if end >= 0 else None
        if entry < 0:
            assert value not in vocabulary.values, (offset, value)
        else:
            assert value == vocabulary.values[entry], (offset, value)
            assert vocabulary.numbers[entry] == LEVELS[value]
            assert vocabulary.lengths[entry] == len(value)
    assert len(vocabulary.values) >= 2 and (got >= 0).sum() > 100  # not vacuous


def test_entries_the_search_would_end_elsewhere_are_left_out():
    assert reads_as(b"INFO", b" - ", 1)
    assert not reads_as(b"A - B", b" - ", 1)  # the search stops inside the value
    vocabulary = WordVocabulary.build({b"A - B": 10, b"C": 20}, b" - ", 1)
    assert vocabulary is not None and vocabulary.values == [b"C"]
    assert WordVocabulary.build({b"INFO": 20}, b"", 1) is None
