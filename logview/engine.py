"""The query engine shared by ``--print`` and the viewer: which records of a store match.

Plan: the query's byte-level ``Prefilter`` (an AND of groups, each a regex that must occur in a
record's raw bytes) is run over big raw chunks, with ``bytes.find`` on literals wherever the
group's regex allows it (``logview.pattern_analysis``); hit offsets map to record positions with
``numpy.searchsorted`` on the record index, groups intersect, and only the candidates are parsed
and given to ``query.matches``, which decides exactly. Without a prefilter every record is
parsed, in order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from logview.pattern_analysis import Needles, required_literals
from logview.record import Record
from logview.split import RawRecord, parse_raw_record

#: Raw bytes read per scanning step.
SCAN_BYTES = 8 << 20
#: Chunk size when every record is parsed (the parsed records of a chunk are held at once).
ALL_BYTES = 1 << 20
#: Records parsed per step when there is no prefilter (or no index to scan bytes with).
PARSE_STEP = 2048


class GroupMatcher:
    """Finds the records of a chunk in which one prefilter group occurs.

    With the group's literal alternatives (``Prefilter.alternatives``) each is found with
    ``bytes.find`` and nothing needs confirming; otherwise needles are derived from the regex.
    """

    def __init__(
        self,
        pattern: re.Pattern[bytes],
        literals: tuple[tuple[bytes, bool], ...] | None = None,
    ) -> None:
        self.pattern = pattern
        if literals:
            folded = any(ignorecase for _, ignorecase in literals)
            texts = tuple(text.lower() if folded else text for text, _ in literals)
            # Case-sensitive literals found in lower-cased bytes may be false hits: confirm them.
            exact = not folded or all(ignorecase or text.islower() for text, ignorecase in literals)
            self.needles = Needles(texts, exact=exact, ignorecase=folded)
        else:
            self.needles = required_literals(pattern)

    def hits(self, buf: bytes) -> np.ndarray:
        """Offsets in ``buf`` where a match (or a needle every match contains) begins."""
        return np.array(self.hit_list(buf), dtype=np.int64)

    def hit_list(self, buf: bytes) -> list[int]:
        """Like ``hits``, as a list (unsorted when there are several needles)."""
        if self.needles is None:
            return [m.start() for m in self.pattern.finditer(buf)]
        return find_all(buf.lower() if self.needles.ignorecase else buf, self.needles.literals)

    def records(self, buf: bytes, rel: np.ndarray) -> np.ndarray:
        """Indexes ``j`` of records ``buf[rel[j]:rel[j+1]]`` in which the regex occurs."""
        hits = self.hits(buf)
        if len(hits) == 0:
            return hits
        cand = np.unique(np.searchsorted(rel, hits, side="right") - 1)
        cand = cand[(cand >= 0) & (cand < len(rel) - 1)]
        if self.needles is not None and self.needles.exact:
            return cand
        search = self.pattern.search
        keep = [search(buf, int(rel[j]), int(rel[j + 1])) is not None for j in cand.tolist()]
        return cand[np.array(keep, dtype=bool)] if len(cand) else cand


    def within(self, buf: bytes, rel: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """The candidates ``j`` whose record ``buf[rel[j]:rel[j+1]]`` contains the group.

        For few candidates this beats scanning the whole chunk for a common needle.
        """
        needles = self.needles
        if needles is not None and needles.exact and not needles.ignorecase:
            literals = needles.literals
            find = buf.find

            def present(start: int, end: int) -> bool:
                return any(find(lit, start, end) >= 0 for lit in literals)
        else:
            search = self.pattern.search

            def present(start: int, end: int) -> bool:
                return search(buf, start, end) is not None
        keep = [present(int(rel[j]), int(rel[j + 1])) for j in cand.tolist()]
        return cand[np.array(keep, dtype=bool)] if len(cand) else cand


def find_all(buf: bytes, literals: tuple[bytes, ...]) -> list[int]:
    """Every offset where one of ``literals`` begins (``bytes.find`` runs at GB/s)."""
    found: list[int] = []
    append = found.append
    find = buf.find
    for literal in literals:
        pos = find(literal)
        while pos >= 0:
            append(pos)
            pos = find(literal, pos + 1)
    return found


def level_case_of(fmt: Any) -> str | None:
    """How ``fmt`` writes level names: ``"python"`` for logging templates, else None.

    A format may say so itself (``fmt.level_case``). A ``TemplateFormat`` with a whole
    ``%(levelname)s`` and no custom level names writes what ``logging`` writes: the canonical
    upper-case names (``ERROR``, never ``error`` or ``FATAL``) or ``Level 45``.
    """
    declared = getattr(fmt, "level_case", None)
    if declared is not None:
        return declared
    from logview.formats.template import TemplateField, TemplateFormat

    if not isinstance(fmt, TemplateFormat) or not fmt.level_text or fmt.custom_levels:
        return None
    if not fmt.python_levels:  # inferred from a sample that spells levels its own way
        return None
    fields = [t for t in fmt._compiled.tokens
              if isinstance(t, TemplateField) and t.attr == "levelname"]
    return "python" if fields and all(f.precision is None for f in fields) else None


def _unlisted_levels(fmt: Any) -> bool:
    """``fmt`` has level names of its own (``levels=``) that the level needles do not list:
    a record at such a level must not be skipped for lacking a standard name."""
    from logview.record import LEVEL_ALIASES

    return any(name.upper() not in LEVEL_ALIASES and name.upper() != "SUCCESS"
               for name in getattr(fmt, "custom_levels", None) or ())


def query_prefilter(fmt: Any, query: Any) -> Any:
    """The query's prefilter for what ``fmt`` writes (None: no byte-level condition)."""
    options = {
        "level_text": getattr(fmt, "level_text", False) and not _unlisted_levels(fmt),
        "json_escaped": getattr(fmt, "json_escaped", False),
    }
    case = level_case_of(fmt) if options["level_text"] else None
    prefilter = query.prefilter(**options, level_case=case)
    markers = getattr(fmt, "opaque_text", ())
    return prefilter.admitting(markers) if prefilter is not None and markers else prefilter


def build_matchers(store: Any, query: Any) -> list[GroupMatcher] | None:
    """The prefilter groups of ``query`` for the store's format, or None to parse everything."""
    prefilter = query_prefilter(store.format, query)
    if prefilter is None or not prefilter.groups:
        return None
    alternatives = getattr(prefilter, "alternatives", None) or [None] * len(prefilter.groups)
    return [GroupMatcher(group, alts) for group, alts in zip(prefilter.groups, alternatives)]


def scan(
    store: Any,
    query: Any,
    start: int = 0,
    stop: int | None = None,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    batch_seconds: float = 0.25,
) -> Iterator[np.ndarray]:
    """Positions in ``[start, stop)`` of records matching ``query``, in sorted int64 batches.

    A batch is yielded about every ``batch_seconds`` (and at the end), so a viewer can show
    progress; ``cancelled`` is checked between chunks.
    """
    pending: list[np.ndarray] = []
    last = time.monotonic()
    for positions, _records in _matching_chunks(store, query, start, stop, cancelled):
        if len(positions):
            pending.append(positions)
        now = time.monotonic()
        if pending and now - last >= batch_seconds:
            yield np.concatenate(pending)
            pending.clear()
            last = now
    if pending:
        yield np.concatenate(pending)


def iter_matching_records(
    store: Any,
    query: Any,
    start: int = 0,
    stop: int | None = None,
    *,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[Record]:
    """The records in ``[start, stop)`` matching ``query``, in order (for the printer)."""
    for _positions, records in _matching_chunks(store, query, start, stop, cancelled):
        yield from records


def iter_records(
    store: Any, start: int, stop: int, *, cancelled: Callable[[], bool] = lambda: False
) -> Iterator[Record]:
    """Every record in ``[start, stop)``, in order, read in whole chunks (bulk readers)."""
    index = getattr(store, "index", None)
    if index is None:
        parse = store.parse if hasattr(store, "parse") else store.record
        for i in range(start, min(stop, len(store))):
            if cancelled():
                return
            yield parse(i)
        return
    # Small chunks: every record of a chunk is parsed and held at once.
    for _positions, records in _scan_indexed(store, index, _EVERYTHING, None, start,
                                              min(stop, len(store)), cancelled, ALL_BYTES):
        yield from records


def _matching_chunks(
    store: Any, query: Any, start: int, stop: int | None, cancelled: Callable[[], bool]
) -> Iterator[tuple[np.ndarray, list[Record]]]:
    total = len(store)
    stop = total if stop is None else min(stop, total)
    start = max(0, start)
    if start >= stop:
        return
    index = getattr(store, "index", None)
    if getattr(query, "is_empty", False):
        if index is not None:  # read whole chunks, not one pread and line count per record
            yield from _scan_indexed(store, index, _EVERYTHING, None, start, stop, cancelled,
                                     ALL_BYTES)
            return
        for lo in range(start, stop, PARSE_STEP):
            if cancelled():
                return
            hi = min(stop, lo + PARSE_STEP)
            yield np.arange(lo, hi, dtype=np.int64), [store.record(i) for i in range(lo, hi)]
        return
    matchers = build_matchers(store, query)
    if index is None:
        yield from _parse_all(store, query, start, stop, cancelled)
    else:
        yield from _scan_indexed(store, index, query, matchers, start, stop, cancelled)


def _parse_all(store, query, start, stop, cancelled):
    """Parse every record in order (stores without a byte index, e.g. merged ones)."""
    parse = store.parse if hasattr(store, "parse") else store.record
    matches = query.matches
    for lo in range(start, stop, PARSE_STEP):
        if cancelled():
            return
        positions, records = [], []
        for i in range(lo, min(stop, lo + PARSE_STEP)):
            record = parse(i)
            if matches(record):
                positions.append(i)
                records.append(record)
        yield np.array(positions, dtype=np.int64), records


def _scan_indexed(store, index, query, matchers, start, stop, cancelled, scan_bytes=SCAN_BYTES):
    """Read raw chunks of whole records; prefilter them in bulk; parse only candidates."""
    fmt, name, source, matches = store.format, store.name, store.source, query.matches
    ordered = False
    lo = start
    while lo < stop:
        if cancelled():
            return
        first = index.start(lo)
        hi = index.find(first + scan_bytes)
        hi = min(stop, max(lo + 1, hi))
        bounds = index.bounds(lo, hi)
        base = int(bounds[0])
        buf = source.read_at(base, int(bounds[-1]) - base)
        rel = bounds - base
        if matchers is None:
            cand = np.arange(hi - lo, dtype=np.int64)
        else:
            if not ordered and len(matchers) > 1:
                # Scan the chunk for the rarest group (measured on this first chunk), then
                # test only its candidates' own bytes for the others.
                counts = [len(matcher.records(buf, rel)) for matcher in matchers]
                matchers = [m for _, _, m in sorted(zip(counts, range(len(counts)), matchers))]
            ordered = True
            cand = matchers[0].records(buf, rel)
            for matcher in matchers[1:]:
                if len(cand) == 0:
                    break
                if len(cand) * 16 < len(rel):
                    cand = matcher.within(buf, rel, cand)
                else:
                    cand = np.intersect1d(cand, matcher.records(buf, rel), assume_unique=True)
            if b"\x1b" in buf:  # ANSI stripping may join needles the raw bytes keep apart
                cand = np.union1d(cand, _ESCAPED.records(buf, rel))
        positions: list[int] = []
        records: list[Record] = []
        if len(cand):
            line = index.line(lo)
            prev = 0
            for j in cand.tolist():
                s, e = int(rel[j]), int(rel[j + 1])
                line += buf.count(b"\n", prev, s)
                prev = s
                raw = RawRecord(base + s, line, buf[s:e])
                record = parse_raw_record(fmt, raw, name)
                if matches(record):
                    positions.append(lo + j)
                    records.append(record)
        yield np.array(positions, dtype=np.int64), records
        lo = hi


class _MatchAll:
    """The empty query, for the bulk path."""

    @staticmethod
    def matches(record: Record) -> bool:
        return True


_EVERYTHING = _MatchAll()

#: Records containing an ESC byte are always candidates (see ``Prefilter.may_match``).
_ESCAPED = GroupMatcher(re.compile(b"\x1b"), ((b"\x1b", False),))
