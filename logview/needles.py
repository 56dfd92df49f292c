"""Literals a bytes regex guarantees, so a scan can use ``bytes.find`` instead of the regex.

``required_literals`` reads the parsed pattern (``re._parser``) for literals of which every
match contains at least one; ``find_all`` finds them at memchr speed. Patterns that do not fit
give ``None`` and callers run the regex itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

import numpy as np

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT}


@dataclass(slots=True, frozen=True)
class Needles:
    """Literals of which every match of a pattern contains one.

    ``exact``: a match is exactly the occurrence of one literal (no confirmation needed);
    ``ignorecase``: search lower-cased bytes for the (lower-case) literals.
    """

    literals: tuple[bytes, ...]
    exact: bool
    ignorecase: bool


def _sequence_literals(items, ignorecase: bool) -> tuple[list[bytes], bool] | None:
    """Needles for a sequence: its best literal run or alternation; None if it has none.

    The second item says whether a match is exactly one needle (nothing else to check).
    """
    candidates: list[list[bytes]] = []
    run = bytearray()
    all_literal = True
    for op, av in items:
        if op is _c.LITERAL:
            run.append(av)
            continue
        all_literal = False
        if run:
            candidates.append([bytes(run)])
            run.clear()
        inner = None
        if op is _c.BRANCH:
            inner = _branch_literals(av[1], ignorecase)
        elif op is _c.SUBPATTERN and not av[1] and not av[2]:
            inner = _sequence_literals(list(av[3]), ignorecase)
            if inner is not None and len(items) == 1:
                return inner
        elif op in _REPEATS and av[0] >= 1:
            inner = _sequence_literals(list(av[2]), ignorecase)
        if inner is not None:
            if len(items) == 1 and op is _c.BRANCH:
                return inner
            candidates.append(inner[0])
    if run:
        candidates.append([bytes(run)])
    if not candidates:
        return None
    best = max(candidates, key=lambda lits: min(len(lit) for lit in lits))
    return best, all_literal and len(candidates) == 1


def _branch_literals(alternatives, ignorecase: bool) -> tuple[list[bytes], bool] | None:
    out: list[bytes] = []
    exact = True
    for alternative in alternatives:
        sub = _sequence_literals(list(alternative), ignorecase)
        if sub is None:
            return None
        out.extend(sub[0])
        exact = exact and sub[1]
    return out, exact


def required_literals(pattern: re.Pattern[bytes]) -> Needles | None:
    """Needles for ``pattern`` (see ``Needles``), or None when some match needs no literal."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - unreadable by the private parser: use the regex
        return None
    ignorecase = bool(pattern.flags & re.IGNORECASE)
    found = _sequence_literals(list(parsed), ignorecase)
    if found is None:
        return None
    literals, exact = found
    if ignorecase:
        if any(b >= 0x80 for lit in literals for b in lit):
            return None  # bytes.lower() folds ASCII only
        literals = [lit.lower() for lit in literals]
    unique = tuple(dict.fromkeys(literals))
    return Needles(unique, exact, ignorecase)


def gate_literals(pattern: re.Pattern[bytes]) -> tuple[bytes, ...] | None:
    """Literals one of which every match of ``pattern`` holds as they are (not case-folded),
    or None: a chunk that ``lacks`` them all holds no match."""
    needles = required_literals(pattern)
    if needles is None or needles.ignorecase or not all(needles.literals):
        return None
    return needles.literals


def find_all(buf: bytes, literals: tuple[bytes, ...]) -> list[int]:
    """Every offset where one of ``literals`` begins (``bytes.find`` runs at GB/s).

    A literal one of whose bytes ``buf`` lacks is not looked for: a byte is found by
    ``memchr`` (ten times ``bytes.find``'s speed for a longer literal), so a rare marker
    (journald's ``"MESSAGE":[`` in other JSON lines) costs a fraction of a pass, not a pass."""
    found: list[int] = []
    append = found.append
    find = buf.find
    for literal in literals:
        if len(literal) > 1 and lacks(buf, (literal,), by_pairs=False):
            continue
        pos = find(literal)
        while pos >= 0:
            append(pos)
            pos = find(literal, pos + 1)
    return found


def marked(buf: bytes, marks: tuple[bytes, ...], starts: np.ndarray) -> np.ndarray:
    """Indexes ``j`` (sorted, distinct) of the lines or records starting at ``starts``
    (offsets into ``buf``, sorted) whose bytes up to the next start hold one of ``marks``; a
    mark whose rarest byte pairs ``buf`` lacks costs no pass (``lacks``)."""
    hits = find_all(buf, tuple(mark for mark in marks if not lacks(buf, (mark,))))
    if not hits:
        return np.empty(0, dtype=np.int64)
    where = np.searchsorted(starts, np.array(hits, dtype=np.int64), side="right") - 1
    return np.unique(where[where >= 0])


def lacks(buf: bytes, literals: tuple[bytes, ...], *, by_pairs: bool = True) -> bool:
    """Whether ``buf`` cannot hold any of ``literals``: each misses a byte of its own in it
    (one ``memchr`` a distinct byte, which stops at the first it finds) or, in a big chunk and
    ``by_pairs``, one of its two rarest pairs of adjacent bytes (``_lacks_pair``: worth it
    before a pass of ``re``; ``find_all``'s own search of a literal costs little more)."""
    pairs = None
    for literal in literals:
        if not all(byte in buf for byte in _distinct_bytes(literal)):
            continue
        if (not by_pairs or len(literal) < 2 or len(buf) < PAIR_TEST_BYTES
                or buf.find(literal, 0, _PEEK) >= 0):
            return False
        if pairs is None:
            pairs = _pair_views(buf)
        if not _lacks_pair(pairs, literal):
            return False
    return True


#: A chunk from this size on has its literals' byte pairs tested (two numpy compares over its
#: 16-bit words, about 0.25 ms for 4 MB, against 1.5-2.5 ms for a pass of ``re`` or
#: ``bytes.find``): a key like ``lvl"`` whose bytes all occur elsewhere (``levelname``) is
#: ruled out by ``lv``.
PAIR_TEST_BYTES = 256 * 1024
#: A literal found this near the chunk's start is there: no pair is tested.
_PEEK = 16 * 1024
#: Bytes of log text from the most common to the rarer (a literal's rarest pairs are tested;
#: any byte not listed counts as rarer than all of these; `v` is common in JSON lines, whose
#: every record holds a `level` key). Only the speed depends on it.
_COMMON = b' "e:,t0a12o3n4i5s6r7l8h9du.c-m_vpgTfyw/IbENOkRSAxDqLCjz'
_RANK = {b: k for k, b in enumerate(_COMMON)}


def _pair_views(buf: bytes):
    """``buf``'s little-endian 16-bit words at its even and its odd offsets."""
    n = len(buf)
    return (np.frombuffer(buf, dtype="<u2", count=n // 2),
            np.frombuffer(buf, dtype="<u2", offset=1, count=(n - 1) // 2))


def _lacks_pair(pairs, literal: bytes) -> bool:
    """Whether one of the two rarest pairs of adjacent bytes of ``literal`` is nowhere in the
    chunk whose word views are ``pairs`` (every pair of adjacent bytes is one of its words)."""
    even, odd = pairs
    for word in _rare_words(literal):
        if not ((even == word).any() or (odd == word).any()):
            return True
    return False


@functools.cache
def _rare_words(literal: bytes) -> tuple[int, ...]:
    """The 16-bit words of ``literal``'s two rarest adjacent pairs (by ``_COMMON``)."""
    rank = len(_COMMON)
    pairs = sorted({literal[k:k + 2] for k in range(len(literal) - 1)},
                   key=lambda p: -(_RANK.get(p[0], rank) + _RANK.get(p[1], rank)))
    return tuple(p[0] | p[1] << 8 for p in pairs[:2])


_DISTINCT: dict[bytes, tuple[bytes, ...]] = {}


def _distinct_bytes(literal: bytes) -> tuple[bytes, ...]:
    """The distinct bytes of ``literal``, each a one-byte ``bytes`` (``in`` is ``memchr``)."""
    got = _DISTINCT.get(literal)
    if got is None:
        got = tuple(bytes((b,)) for b in dict.fromkeys(literal))
        if len(_DISTINCT) < 1024:
            _DISTINCT[literal] = got
    return got
