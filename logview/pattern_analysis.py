"""What a bytes regex guarantees, so bulk scans can avoid running it on every byte.

Two questions, both answered from the parsed pattern (``re._parser``):

- ``start_signature``: the fixed-width prefix of a record-start pattern as one set of allowed
  bytes per position, so the index can test every line start at once with numpy;
- ``required_literals``: literals of which every match contains at least one, so a scan can use
  ``bytes.find`` (memchr speed) instead of ``re.search`` over gigabytes.

Patterns that do not fit give ``None`` and callers fall back to the regex itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

_ALL = frozenset(range(256))
_DIGIT = frozenset(range(0x30, 0x3A))
_SPACE = frozenset(b" \t\n\r\f\v")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_CATEGORIES = {
    _c.CATEGORY_DIGIT: _DIGIT,
    _c.CATEGORY_NOT_DIGIT: _ALL - _DIGIT,
    _c.CATEGORY_SPACE: _SPACE,
    _c.CATEGORY_NOT_SPACE: _ALL - _SPACE,
    _c.CATEGORY_WORD: _WORD,
    _c.CATEGORY_NOT_WORD: _ALL - _WORD,
}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
#: Signatures longer than this are cut (the rest is checked by nobody, so it is not exact).
MAX_SIGNATURE = 48


@dataclass(slots=True, frozen=True)
class StartSignature:
    """Allowed bytes at each position from a line start; ``exact`` if that is the whole test."""

    classes: tuple[frozenset[int], ...]
    exact: bool


def _case_fold(values: set[int] | frozenset[int]) -> frozenset[int]:
    out = set(values)
    for v in values:
        if 0x41 <= v <= 0x5A or 0x61 <= v <= 0x7A:
            out.add(v ^ 0x20)
    return frozenset(out)


def _class_of(op, av, ignorecase: bool) -> frozenset[int] | None:
    """The bytes one single-width item matches, or None if it is not a single byte."""
    if op is _c.LITERAL:
        values: frozenset[int] = frozenset((av,))
    elif op is _c.NOT_LITERAL:
        values = _ALL - (_case_fold({av}) if ignorecase else {av})
        return values - {10}
    elif op is _c.ANY:
        values = _ALL
    elif op is _c.IN:
        negate = False
        members: set[int] = set()
        for item_op, item_av in av:
            if item_op is _c.NEGATE:
                negate = True
            elif item_op is _c.LITERAL:
                members.add(item_av)
            elif item_op is _c.RANGE:
                members.update(range(item_av[0], item_av[1] + 1))
            elif item_op is _c.CATEGORY and item_av in _CATEGORIES:
                members.update(_CATEGORIES[item_av])
            else:
                return None
        if ignorecase:
            members = set(_case_fold(members))
        values = frozenset(_ALL - members if negate else members)
    else:
        return None
    if ignorecase:
        values = _case_fold(values)
    return values - {10}  # a line test never looks past the line's end


def _fixed_prefix(items, ignorecase: bool, out: list[frozenset[int]]) -> bool:
    """Append the fixed-width classes of ``items`` to ``out``; True if they were all fixed."""
    for op, av in items:
        if len(out) >= MAX_SIGNATURE:
            return False
        if op is _c.AT and av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
            continue
        single = _class_of(op, av, ignorecase)
        if single is not None:
            out.append(single)
            continue
        if op in _REPEATS:
            low, high, sub = av
            for _ in range(min(low, MAX_SIGNATURE)):
                if not _fixed_prefix(sub, ignorecase, out):
                    return False
            if low != high:
                return False
            continue
        if op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            inner_ignore = (ignorecase or bool(add_flags & re.IGNORECASE)) and not (
                del_flags & re.IGNORECASE
            )
            if not _fixed_prefix(sub, inner_ignore, out):
                return False
            continue
        if op is _c.BRANCH:
            if not _branch_prefix(av[1], ignorecase, out):
                return False
            continue
        return False
    return True


def _branch_prefix(alternatives, ignorecase: bool, out: list[frozenset[int]]) -> bool:
    """Append the per-position union of the alternatives' fixed prefixes (common length).

    True only when every alternative is fixed and all have the same width (then the union is
    the exact test position by position only if there is one alternative, or one position).
    """
    room = MAX_SIGNATURE - len(out)
    prefixes: list[list[frozenset[int]]] = []
    all_fixed = True
    for alternative in alternatives:
        classes: list[frozenset[int]] = []
        fixed = _fixed_prefix(list(alternative), ignorecase, classes)
        all_fixed = all_fixed and fixed
        prefixes.append(classes[:room])
    width = min((len(p) for p in prefixes), default=0)
    for k in range(width):
        out.append(frozenset().union(*(p[k] for p in prefixes)))
    same_width = all(len(p) == width for p in prefixes)
    # A union over several positions admits mixes of alternatives: exact only at width <= 1.
    return all_fixed and same_width and (len(prefixes) == 1 or width <= 1)


def start_signature(pattern: re.Pattern[bytes]) -> StartSignature | None:
    """The per-position byte classes a record-start pattern requires, or None if it has none."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - a pattern the private parser cannot read: no signature
        return None
    classes: list[frozenset[int]] = []
    exact = _fixed_prefix(list(parsed), bool(pattern.flags & re.IGNORECASE), classes)
    if not classes:
        return None
    return StartSignature(tuple(classes), exact)


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
