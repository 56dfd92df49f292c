"""A record-start pattern's fixed-width prefix, as one set of allowed bytes per position.

A format declares it (``LogFormat.start_signature``) so that ``logview.boundaries`` can test
every line start of a chunk at once with numpy; ``start_signature`` derives it from a bytes
regex by reading the parsed pattern (``re._parser``). Patterns that do not fit give ``None``
and the start test falls back to the regex itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

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
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT}
#: Signatures longer than this are cut (the rest is checked by nobody, so it is not exact).
MAX_SIGNATURE = 48


@dataclass(slots=True, frozen=True)
class VocabularyHead:
    """A record start that opens with a word of a closed vocabulary (a level name), as
    templates without a time do (``%(levelname)s:%(name)s:%(message)s``): ``head``, one of
    ``names``, ``after``, then, when ``word_end`` is set, a word (one or more bytes, no
    whitespace) and ``word_end``. The word ends at the first ``word_end`` (a lazy
    ``[^\\s]+?``), or, when ``word_end`` starts with a space or tab, where its whitespace
    starts (a possessive ``[^\\s]++``). ``after[0]`` is in no name, so at most one name fits
    a line (nor does a space, for a padded name). Lines that open with ``head`` + ``Level ``
    (logging's ``Level 15``) are not covered: the format's pattern decides them.
    """

    head: bytes
    names: tuple[bytes, ...]
    after: bytes
    word_end: bytes | None = None
    #: A right-aligned name (``%(levelname)8s``): any run of spaces before it (`` *``).
    pad_left: bool = False
    #: A left-aligned name (``%(levelname)-8s``): any run of spaces after it (`` *``).
    pad_right: bool = False


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
