"""``needles.find_all``: every offset of every literal, also when a literal is skipped because
one of its bytes is missing from the buffer (found by ``memchr``)."""

from __future__ import annotations

import contextlib
import re

from hypothesis import given
from hypothesis import strategies as st

from logview import needles
from logview.needles import find_all, lacks
from logview.scan import RegexNeedle

_BYTES = st.binary(max_size=200).map(lambda b: bytes(x % 6 + 0x61 for x in b))  # "a".."f"


def _every(buf: bytes, literal: bytes) -> list[int]:
    return [m.start() for m in re.finditer(b"(?=" + re.escape(literal) + b")", buf)]


@given(_BYTES, st.lists(st.binary(min_size=1, max_size=4).map(
    lambda b: bytes(x % 8 + 0x61 for x in b)), min_size=1, max_size=3))
def test_find_all_finds_every_offset_of_every_literal(buf, literals):
    # (Literals may hold "g" and "h", bytes the buffer never has: those are skipped.)
    expected = sorted(pos for literal in literals for pos in _every(buf, literal))
    assert sorted(find_all(buf, tuple(literals))) == expected


def test_a_rare_marker_is_found_and_a_missing_one_is_not():
    buf = b'{"a": 1}\n' * 1000 + b'{"MESSAGE":[1]}\n'
    assert find_all(buf, (b'"MESSAGE":[',)) == [9001]
    assert find_all(buf[:9000], (b'"MESSAGE":[', b'"a"')) == list(range(1, 9000, 9))


_PIECES = st.lists(st.sampled_from([b'"lvl": 50', b'"level": "x"', b'"severity":"E"', b"lv",
                                    b'PRIORITY"', b"PRIORIT", b"y", b'"', b"\n", b"ab"]),
                   max_size=12).map(b"".join)
_KEYS = [rb'level"[ ]*:[ ]*"', rb'lvl"[ ]*:[ ]*[0-9]', rb'severity"[ ]*:[ ]*"E', rb'PRIORITY"',
         rb'(?:lvl|severity)"', rb'PRIORITY"|l(?:v|e)', rb"y*"]


@given(_PIECES, st.booleans())
def test_a_regex_needle_finds_what_its_patterns_find(buf, pairs):
    """``RegexNeedle`` runs a pattern only over a chunk holding every byte of one of its
    literals (and, in a big chunk, their rarest pairs): it finds what the patterns find, also
    when a pattern is skipped. (``pairs``: the pair test as for a big chunk.)"""
    patterns = tuple(re.compile(key) for key in _KEYS)
    expected = sorted(m.start() for p in patterns for m in p.finditer(buf))
    with _pair_tests(pairs):
        assert sorted(RegexNeedle(patterns).hits(buf)) == expected


@contextlib.contextmanager
def _pair_tests(on: bool):
    saved = needles.PAIR_TEST_BYTES, needles._PEEK
    if on:
        needles.PAIR_TEST_BYTES, needles._PEEK = 0, 0
    try:
        yield
    finally:
        needles.PAIR_TEST_BYTES, needles._PEEK = saved


def test_a_chunk_lacking_a_rare_pair_lacks_the_literal():
    # Every byte of 'lvl"' and of 'severity"' is in levelname's lines, not 'lv' nor 'ty'.
    big = b'{"levelname": "INFO", "message": "served", "user": 7}\n' * 6000
    assert len(big) > needles.PAIR_TEST_BYTES
    assert needles.lacks(big, (b'lvl"',)) and needles.lacks(big, (b'severity"', b'lvl"'))
    assert not needles.lacks(big, (b'levelname',)) and not needles.lacks(big, (b'user"',))
    late = big + b'{"lvl": 50}\n'  # found past the peek at the start: by its pairs
    assert not needles.lacks(late, (b'lvl"',))
    assert RegexNeedle((re.compile(rb'lvl"[ ]*:'),)).hits(late) == [len(big) + 2]


def test_a_regex_needle_skips_a_pattern_whose_literal_a_chunk_lacks():
    needle = RegexNeedle((re.compile(rb'PRIORITY"[ ]*:'), re.compile(rb'lvl"[ ]*:')))
    assert [gate for _, gate in needle._gated] == [(b'PRIORITY"',), (b'lvl"',)]
    buf = b'{"lvl": 5, "prio": 1}\n'
    assert lacks(buf, (b'PRIORITY"',)) and not lacks(buf, (b'lvl"',))
    assert needle.hits(buf) == [2]
