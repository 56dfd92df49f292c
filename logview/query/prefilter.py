"""Byte-level necessary conditions for a query, so a big file is parsed only where it can match.

Each term may name *needles*: literals that must occur in the raw bytes of every record the term
accepts. A group is an alternation of needles; the prefilter is an AND of groups. Soundness is
the whole point: a record the exact predicate accepts must always pass ``may_match``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from logview.query.value_needles import field_pattern

# _ALIASES: every level spelling level_from_name accepts
from logview.record import _ALIASES, ESCAPE_BYTES, ESCAPE_BYTES_RE, LEVELS, holds_escape

if TYPE_CHECKING:
    from logview.redact import Redactor

#: Characters some JSON/logfmt encoders escape (quotes, backslash, HTML-safe <>&', the slash
#: PHP escapes). A needle containing one may not appear verbatim in escaped raw bytes.
_JSON_ESCAPED = frozenset('"\\/<>&\'')
#: Characters that may be rewritten between raw bytes and parsed text (CRLF joins, ANSI).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: ASCII letters that Unicode case-insensitive regexes also match to non-ASCII letters
#: (i: U+0130/U+0131, k: KELVIN SIGN, s: LONG S), so /…/i literals with them are not needles.
_UNICODE_FOLDED = frozenset("iksIKS")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_UNSAFE_IN_FOLDED_RE = re.compile(r"[^\x00-\x7f]|[iksIKS]")


@dataclass(frozen=True, slots=True)
class TextNeedle:
    """``text`` occurs in the record's raw bytes (ASCII case-insensitively if ``ignorecase``)."""

    text: str
    ignorecase: bool = False
    from_unicode_regex: bool = False  # a literal out of a /regex/i (Unicode case folding)


@dataclass(frozen=True, slots=True)
class LevelNeedle:
    """The record's level is one of those numbers; the raw bytes then contain its name."""

    levels: frozenset[int]  # the named level numbers that satisfy (may be empty)
    #: The comparison itself (``>=`` and 40), for formats that write levels as numbers.
    op: str = ""
    number: int = 0


@dataclass(frozen=True, slots=True)
class FieldNeedle:
    """The record has the field ``key`` (dotted: a path through nested objects). Where a
    format's fields are all named in its bytes (``LogFormat.fields_named``), a part of the key
    is written there."""

    key: str
    #: The term's comparison (``>=`` and ``500``; empty for ``has:``-like terms), for formats
    #: whose fields are JSON keys and values (``value_needles.field_pattern``).
    op: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class PatternGroup:
    """A group given as bytes regexes, one of which every matching record contains, found with
    the regexes themselves (a key and the values a term accepts, ``"status": 5..``): no
    literal alone is selective enough. Each regex should open with a literal, which ``re``
    finds fast; their alternation is the group's regex."""

    scans: tuple[bytes, ...]

    @property
    def pattern(self) -> bytes:
        return b"|".join(b"(?:" + scan + b")" for scan in self.scans)


@dataclass(frozen=True, slots=True)
class Scans:
    """A ``PatternGroup``'s regexes compiled, to scan chunks with (``Prefilter.alternatives``)."""

    patterns: tuple[re.Pattern[bytes], ...]


Needle = TextNeedle | LevelNeedle | FieldNeedle
#: One alternative inside a group: (literal, ignorecase).
Alt = tuple[str, bool]
#: A group: literal alternatives, or a regex (``PatternGroup``).
Group = frozenset[Alt] | PatternGroup
#: A format's level values as regexes (``LogFormat.level_pattern``): (op, number) -> the
#: regexes (one of them is in every record whose level satisfies), or None.
LevelPattern = Callable[[str, int], "tuple[bytes, ...] | None"]
#: How a format writes level names: ``None`` (any alias in UPPER, lower or Title case),
#: ``"upper"`` (any alias, upper-case) or ``"python"`` (what ``logging`` writes without custom
#: level names: the canonical upper-case names ``ERROR``, ``CRITICAL``... or ``Level 45``).
#: Fewer spellings are fewer needles, and each needle is one pass over the bytes.
LEVEL_CASES = (None, "upper", "python")


#: A record whose raw bytes hold one of these (ESC, or a C1 introducer in UTF-8 such as the
#: 8-bit CSI ``\xc2\x9b``) always passes: ANSI stripping can join text that the raw bytes keep
#: apart (``WAR\x1b[1mNING``). Scanners (``logview.scan``) apply the same rule in bulk.
ALWAYS_CANDIDATES = ESCAPE_BYTES
ALWAYS_CANDIDATE_RE = ESCAPE_BYTES_RE


@dataclass(slots=True)
class Prefilter:
    """A necessary condition on a record's raw bytes: every record the query matches satisfies it.

    ``groups`` is an AND: each group is a bytes regex (an alternation of needles, or a
    ``PatternGroup``'s regex) that must occur somewhere in the raw record; the most selective
    group comes first. Records holding an escape
    introducer are always candidates (ANSI stripping can join text that the raw bytes keep apart), and
    ``may_match`` does that check for you.
    """

    groups: list[re.Pattern[bytes]]
    #: The same groups as literal alternatives ``(needle bytes, ascii_ignorecase)``, so a scanner
    #: can use ``bytes.find`` (GB/s) instead of the regex (Python's ``re`` crawls on alternations);
    #: for a group found by regexes (``PatternGroup``), those regexes (``Scans``).
    alternatives: list[tuple[tuple[bytes, bool], ...] | Scans] = field(default_factory=list)
    #: Markers of records that always pass (``admitting``): a scan by a group's regex finds
    #: them besides its matches (the regex stays without them, so ``re`` keeps its fast
    #: search for the regex's literal prefix).
    admit: tuple[bytes, ...] = ()

    def admitting(self, markers: tuple[bytes, ...]) -> Prefilter:
        """The same prefilter, but a record holding any of ``markers`` always passes: a format
        whose records may keep their text where bytes cannot show it (journald's byte-array
        ``MESSAGE``) names the mark of such records."""
        extra = b"|".join(re.escape(m) for m in markers)
        return Prefilter(
            [re.compile(group.pattern + b"|" + extra) for group in self.groups],
            [alts + tuple((m, False) for m in markers) if isinstance(alts, tuple) else alts
             for alts in self.alternatives],
            self.admit + markers,
        )

    def may_match(self, raw: bytes) -> bool:
        """Whether the record with these raw bytes can match the query."""
        if holds_escape(raw):
            return True
        for group in self.groups:
            if group.search(raw) is None:
                return False
        return True


def needle_alts(
    needle: Needle, *, level_text: bool, json_escaped: bool, level_case: str | None = None,
    fields_named: frozenset[str] | None = None, level_marks: tuple[tuple[int, str], ...] = (),
) -> frozenset[Alt] | None:
    """The alternatives a needle contributes under these raw-byte assumptions, or None.

    ``fields_named``: the format names every field of a record in its bytes, except these
    (made by its parser): a field's key then has a part written in the bytes. A dotted key
    walks nested objects by its parts, or parts joined (``_walk``), so every part that is no
    list index is in some key the bytes hold; the longest one is the needle.
    ``level_marks``: the format's texts that stand for a level's name (``LogFormat``).
    """
    if isinstance(needle, FieldNeedle):
        if fields_named is None:
            return None
        parts = [part for part in needle.key.split(".")
                 if part and not part.isdigit() and part not in fields_named]
        if not parts:
            return None
        return needle_alts(TextNeedle(max(parts, key=len)), level_text=level_text,
                           json_escaped=json_escaped)
    if isinstance(needle, LevelNeedle):
        if not level_text:
            return None
        alts = _level_alts(needle, level_case)
        marks = {(text, False) for number, text in level_marks if number in needle.levels}
        return alts | marks if alts is not None and marks else alts
    text = needle.text
    if not text or not text.isascii() or _CONTROL_RE.search(text):
        return None
    if json_escaped and not _JSON_ESCAPED.isdisjoint(text):
        return None
    if needle.from_unicode_regex and not _UNICODE_FOLDED.isdisjoint(text):
        return None
    return frozenset({(text, needle.ignorecase)})


def needle_group(
    needle: Needle, *, level_text: bool, json_escaped: bool, level_case: str | None = None,
    fields_named: frozenset[str] | None = None, json_fields: bool = False,
    level_pattern: LevelPattern | None = None, level_marks: tuple[tuple[int, str], ...] = (),
) -> Group | None:
    """The group a needle contributes (see ``needle_alts``); where the format's fields are
    JSON keys (``json_fields``) a field comparison is a ``PatternGroup`` of its key and the
    values it accepts, and where levels are not written as names, the format's
    ``level_pattern`` may give one."""
    if isinstance(needle, FieldNeedle) and json_fields and needle.op:
        last = needle.key.rsplit(".", 1)[-1]
        pattern = None if fields_named and last in fields_named else field_pattern(
            needle.key, needle.op, needle.value)
        if pattern is not None:
            return PatternGroup((pattern,))
    if isinstance(needle, LevelNeedle) and not level_text and level_pattern is not None:
        scans = level_pattern(needle.op, needle.number) if needle.op else None
        if scans:
            return PatternGroup(tuple(scans))
    alts = needle_alts(needle, level_text=level_text, json_escaped=json_escaped,
                       level_case=level_case, fields_named=fields_named,
                       level_marks=level_marks)
    return minimise(alts) if alts else None


def union(groups: list[Group]) -> Group:
    """One group that any record holding one of ``groups`` satisfies (an OR)."""
    if not any(isinstance(g, PatternGroup) for g in groups):
        return minimise(frozenset().union(*groups))  # type: ignore[arg-type]
    return PatternGroup(tuple(scan for g in groups for scan in (
        g.scans if isinstance(g, PatternGroup) else (group_pattern(g),))))


def _level_alts(needle: LevelNeedle, level_case: str | None = None) -> frozenset[Alt] | None:
    names = {alias for alias, (_, number) in _ALIASES.items() if number in needle.levels}
    # logging writes numbers without a name as "Level 15" (and level_from_name reads
    # "Level 40" as ERROR), so that spelling can carry any satisfying number.
    names.add("LEVEL ")
    if 25 in needle.levels:
        names.add("SUCCESS")  # loguru's level 25 (its records carry the number too)
    alts: set[Alt] = set()
    if level_case == "python":
        names = {name for name, number in LEVELS.items() if number in needle.levels}
        if 25 in needle.levels:
            names.add("SUCCESS")
    if level_case in ("upper", "python"):
        alts.add(("Level ", False))  # logging.getLevelName(45), whatever the case of the rest
        alts.update((name, False) for name in names)
        return frozenset(alts)
    if level_case is not None:
        raise ValueError(f"level_case must be one of {LEVEL_CASES}, not {level_case!r}")
    for name in names:
        for spelling in (name, name.lower(), name.title()):
            alts.add((spelling, False))
    return frozenset(alts)


def minimise(alts: frozenset[Alt]) -> frozenset[Alt]:
    """Drop alternatives that contain another one (``ERROR`` is implied by ``ERR``)."""

    def implied(a: Alt, b: Alt) -> bool:  # every text containing a also contains b
        if b[1]:
            return b[0].lower() in a[0].lower()
        return not a[1] and b[0] in a[0]

    # Most general first (short, case-insensitive), so of two that imply each other (``WARN``
    # and ``warn``, both ignoring case) one is kept: dropping both emptied the group.
    kept: list[Alt] = []
    for a in sorted(alts, key=lambda alt: (len(alt[0]), not alt[1], alt[0])):
        if not any(implied(a, b) for b in kept):
            kept.append(a)
    return frozenset(kept)


#: A ``PatternGroup``'s score: a key and its value are rare, but a regex scans slower than
#: ``bytes.find`` of a literal.
PATTERN_SELECTIVITY = 4.0


def selectivity(alts: Group) -> float:
    """A rough score, higher = rarer and cheaper to scan: long needles, few alternatives."""
    if isinstance(alts, PatternGroup):
        return PATTERN_SELECTIVITY
    return min(len(text) for text, _ in alts) - len(alts) / 4


def group_sort_key(group: Group) -> list[tuple[str, bool]]:
    """A deterministic order among groups of equal selectivity."""
    if isinstance(group, PatternGroup):
        return [(scan.decode("latin-1"), True) for scan in group.scans]
    return sorted(group)


def group_literals(alts: Group) -> tuple[tuple[bytes, bool], ...] | Scans:
    """The alternatives of a group as bytes (sorted, so scans are deterministic); a
    ``PatternGroup``'s compiled regexes."""
    if isinstance(alts, PatternGroup):
        return Scans(tuple(re.compile(scan) for scan in alts.scans))
    return tuple(sorted((text.encode("ascii"), ignorecase) for text, ignorecase in alts))


def group_pattern(alts: Group) -> bytes:
    """The regex source of a group."""
    if isinstance(alts, PatternGroup):
        return alts.pattern
    exact = sorted(text.encode("ascii") for text, ignorecase in alts if not ignorecase)
    folded = sorted(text.encode("ascii") for text, ignorecase in alts if ignorecase)
    parts = [_trie(exact)] if exact else []
    parts.extend(b"(?i:" + re.escape(text) + b")" for text in folded)
    return b"|".join(parts)


def compile_group(alts: Group) -> re.Pattern[bytes]:
    """One bytes regex matching any of the alternatives.

    Case-sensitive literals are folded into a trie (``E(?:MERG|RR)|…``): Python's regex engine
    tries alternatives one by one, so sharing prefixes scans level-name groups ~1.5x faster.
    """
    return re.compile(group_pattern(alts))


def _trie(words: list[bytes]) -> bytes:
    """A regex for any of ``words`` (sorted, none empty) that shares common prefixes."""
    branches: dict[bytes, list[bytes]] = {}
    for word in words:
        branches.setdefault(word[:1], []).append(word[1:])
    if b"" in branches:  # one word ended here: it alone is enough (the longer ones contain it)
        return b""
    parts = [re.escape(head) + _trie(rest) for head, rest in branches.items()]
    return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"


def regex_literal(pattern: str, flags: int) -> TextNeedle | None:
    """The longest literal every match of ``pattern`` contains, or None (skipping is sound)."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        items = list(parsed)
        all_flags = parsed.state.flags
    except (ImportError, AttributeError, re.error, TypeError, ValueError):
        return None  # an internal we cannot read: no needle, which is always sound
    literal_op = _parser.LITERAL
    runs, run = [], []
    for op, arg in [*items, (None, None)]:
        if op is literal_op:
            run.append(chr(arg))
        elif run:
            runs.append("".join(run))
            run = []
    ignorecase = bool(all_flags & re.IGNORECASE)
    # Only ASCII pieces can be needles; under Unicode case folding i, k and s are not safe either.
    unsafe = _UNSAFE_IN_FOLDED_RE if ignorecase else _NON_ASCII_RE
    pieces = [piece for run in runs for piece in unsafe.split(run)]
    best = max(pieces, key=len, default="")
    if len(best) < 2:
        return None
    return TextNeedle(best, ignorecase=ignorecase, from_unicode_regex=ignorecase)


def redaction_safe(prefilter: Prefilter | None, redactor: Redactor | None) -> Prefilter | None:
    """The groups of ``prefilter`` that stay necessary when the query reads redacted text.

    A literal found in redacted text lies in a piece the rules left alone (so the raw bytes
    hold it), unless it overlaps a marker (``Redactor.touches_marker``): a group with such a
    literal, or one given only as a regex, is dropped. An AND with fewer groups still admits
    every match; no group left is no byte-level condition.
    """
    if prefilter is None or redactor is None or redactor.search_original:
        return prefilter
    if not prefilter.alternatives:
        return None
    # A group found by its regex (a field's value) may read text that redaction changes.
    keep = [i for i, alts in enumerate(prefilter.alternatives)
            if isinstance(alts, tuple) and not any(redactor.touches_marker(text.decode("utf-8", "replace"))
                       for text, _ in alts)]
    return _kept(prefilter, keep)


def _kept(prefilter: Prefilter, keep: list[int]) -> Prefilter | None:
    """``prefilter`` with only the groups at ``keep`` (None: no byte-level condition left)."""
    if not keep:
        return None
    if len(keep) == len(prefilter.groups):
        return prefilter
    return Prefilter([prefilter.groups[i] for i in keep],
                     [prefilter.alternatives[i] for i in keep], prefilter.admit)


def loggers_safe(prefilter: Prefilter | None, made: frozenset[str]) -> Prefilter | None:
    """The groups of ``prefilter`` that stay necessary when the parser gives records logger
    names their bytes do not hold (``LogFormat.made_loggers``): a term on the logger or on
    free text (which reads the logger too) holds for such a record without its bytes
    holding the literal, so a group with a literal found in one of those names (any case)
    is dropped."""
    if prefilter is None or not made:
        return prefilter
    names = [name.lower() for name in made]
    keep = [i for i, alts in enumerate(prefilter.alternatives)
            if not isinstance(alts, tuple) or not any(
                text.decode("utf-8", "replace").lower() in name
                for text, _ in alts for name in names)]
    return _kept(prefilter, keep)
