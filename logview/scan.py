"""Which records of a store match a query: the one scanner behind the printer, the viewer's
filter, merged stores and the viewer's searches (``n``/``N``, ``e``/``E``, ``w``/``W``).

A ``Matcher`` is built from a format and a query: the query's byte-level ``Prefilter`` for
what that format writes (an AND of groups, each found with ``bytes.find`` on its literals
wherever the group allows it, else with its regex), the rule that a record holding an escape
introducer (ESC, or a C1 one in UTF-8) is always a candidate (ANSI stripping may join needles
the raw bytes keep apart), and the
exact confirm step (``query.matches`` on the parsed record).

A store is scanned in big chunks of whole records read through its index: a chunk's
candidates are found in bulk (hit offsets -> record numbers with ``numpy.searchsorted``,
groups intersect) and only they are parsed. A merged store is scanned part by part, each part
with its own format's matcher, and the positions mapped to the merged order. ``find_next`` and
``find_previous`` scan forward or backward in growing windows. A finished file can also be
scanned without its index, in parallel ranges: ``logview.scan_ranges``.

Anything with ``matches(record)``, ``prefilter(level_text=, json_escaped=, level_case=)`` and
``is_empty`` is a query here: ``logview.query.Query``, or ``RecordTest`` for a plain predicate.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from logview.boundaries import TimeCarrier
from logview.columns import column_positions, read_records
from logview.formats.base import LogFormat
from logview.needles import Needles, find_all, gate_literals, lacks, required_literals
from logview.query.prefilter import (
    ALWAYS_CANDIDATE_RE,
    ALWAYS_CANDIDATES,
    Prefilter,
    Scans,
    loggers_safe,
    redaction_safe,
)
from logview.record import (
    LEVEL_ALIASES,
    FieldsOnly,
    RawRecord,
    Record,
    holds_escape,
    parse_raw_record,
)

if TYPE_CHECKING:

    from logview.redact import Redactor
    from logview.store import Store

#: Raw bytes read per scanning step.
SCAN_BYTES = 8 << 20
#: Chunk size when every record is parsed (the parsed records of a chunk are held at once).
ALL_BYTES = 1 << 20
#: Merged positions looked at per step when a merged store is scanned.
MERGED_WINDOW = 1 << 16

Cancelled = Callable[[], bool]


def never() -> bool:
    """A ``cancelled`` test that never cancels."""
    return False


class QueryLike(Protocol):
    """What the scanner needs of a query."""

    is_empty: bool

    def matches(self, record: Record) -> bool: ...

    def prefilter(self, *, level_text: bool, json_escaped: bool,
                  level_case: str | None = None,
                  fields_named: frozenset[str] | None = None, json_fields: bool = False,
                  level_pattern: Any = None,
                  level_marks: tuple[tuple[int, str], ...] = ()) -> Prefilter | None: ...


class RecordTest:
    """A plain predicate as a query (no byte prefilter: every record is parsed)."""

    is_empty = False

    def __init__(self, predicate: Callable[[Record], bool]) -> None:
        self.matches = predicate

    def prefilter(self, **_options: Any) -> None:
        return None


class GroupMatcher:
    """Finds the records of a chunk in which one prefilter group occurs.

    With the group's literal alternatives (``Prefilter.alternatives``) each is found with
    ``bytes.find`` and nothing needs confirming; a group given as a regex (``PatternGroup``)
    is found with that regex and the prefilter's ``admit`` markers; otherwise needles are
    derived from the regex.
    """

    def __init__(
        self,
        pattern: re.Pattern[bytes],
        literals: tuple[tuple[bytes, bool], ...] | Scans | None = None,
        admit: tuple[bytes, ...] = (),
    ) -> None:
        self.pattern = pattern
        self.scan: RegexNeedle | None = None
        if isinstance(literals, Scans):
            self.scan = RegexNeedle(literals.patterns, admit)
            self.needles = None  # the regex's matches are the group's hits, nothing to confirm
        elif literals:
            folded = any(ignorecase for _, ignorecase in literals)
            texts = tuple(text.lower() if folded else text for text, _ in literals)
            # Case-sensitive literals found in lower-cased bytes may be false hits: confirm them.
            exact = not folded or all(ignorecase or text.islower() for text, ignorecase in literals)
            self.needles: Needles | None = Needles(texts, exact=exact, ignorecase=folded)
        else:
            self.needles = required_literals(pattern)

    def hit_list(self, buf: bytes) -> list[int]:
        """Offsets in ``buf`` where a match (or a needle every match contains) begins
        (unsorted when there are several needles)."""
        if self.scan is not None:
            return self.scan.hits(buf)
        if self.needles is None:
            return [m.start() for m in self.pattern.finditer(buf)]
        return find_all(buf.lower() if self.needles.ignorecase else buf, self.needles.literals)

    def records(self, buf: bytes, rel: np.ndarray) -> np.ndarray:
        """Indexes ``j`` of records ``buf[rel[j]:rel[j+1]]`` in which the group occurs."""
        hits = np.array(self.hit_list(buf), dtype=np.int64)
        if len(hits) == 0:
            return hits
        cand = np.unique(np.searchsorted(rel, hits, side="right") - 1)
        cand = cand[(cand >= 0) & (cand < len(rel) - 1)]
        if self.scan is not None or (self.needles is not None and self.needles.exact):
            return cand  # the group's own regex (or markers) matched, or exact literals
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


class RegexNeedle:
    """A group found by regexes (``PatternGroup``): their matches, and the markers of records
    that always pass (``Prefilter.admit``)."""

    __slots__ = ("_gated", "admit", "patterns")

    def __init__(self, patterns: tuple[re.Pattern[bytes], ...],
                 admit: tuple[bytes, ...] = ()) -> None:
        self.patterns = patterns
        self.admit = admit
        #: Each pattern, and the literals one of which its every match holds (or None).
        self._gated = [(pattern, gate_literals(pattern)) for pattern in patterns]

    def hits(self, buf: bytes) -> list[int]:
        """Offsets where a match or a marker begins (unsorted). A pattern is run only over a
        chunk that holds every byte of one of its literals (``needles.lacks``: a byte is
        looked for at ``memchr`` speed): a key no record of a file uses (``PRIORITY``,
        ``severity``) then costs a few byte searches, not a regex pass (``re`` steps
        through a chunk a byte at a time)."""
        found = [m.start() for pattern, gate in self._gated
                 if gate is None or not lacks(buf, gate) for m in pattern.finditer(buf)]
        if self.admit:
            found.extend(find_all(buf, self.admit))
        return found


#: Records holding an escape introducer are always candidates (see ``Prefilter.may_match``).
_ESCAPED = GroupMatcher(ALWAYS_CANDIDATE_RE, tuple((mark, False) for mark in ALWAYS_CANDIDATES))


def query_prefilter(fmt: LogFormat, query: QueryLike,
                    redactor: Redactor | None = None) -> Prefilter | None:
    """The query's prefilter for what ``fmt`` writes (None: no byte-level condition); with
    ``redactor``, what of it holds for the redacted records the query then reads."""
    # Level names of the format's own that the level needles do not list: a record at such a
    # level must not be skipped for lacking a standard name.
    unlisted = any(name.upper() not in LEVEL_ALIASES and name.upper() != "SUCCESS"
                   for name in fmt.custom_levels)
    level_text = fmt.level_text and not unlisted
    prefilter = query.prefilter(level_text=level_text, json_escaped=fmt.json_escaped,
                                level_case=fmt.level_case if level_text else None,
                                fields_named=fmt.fields_named, json_fields=fmt.json_fields,
                                level_pattern=None if unlisted else fmt.level_pattern,
                                level_marks=fmt.level_marks)
    prefilter = loggers_safe(redaction_safe(prefilter, redactor), fmt.made_loggers)
    if prefilter is not None and fmt.opaque_text:
        prefilter = prefilter.admitting(fmt.opaque_text)
    return prefilter


class Matcher:
    """A query made ready for one format's bytes: candidates in bulk, then the exact test.

    With a ``redactor`` (``--redact``) records are redacted where they are made
    (``Matcher.record``): the query tests the redacted record (or the original one when the
    redactor says ``search_original``) and the redacted one is what a scan yields.
    """

    def __init__(self, fmt: LogFormat, query: QueryLike,
                 redactor: Redactor | None = None) -> None:
        self.format = fmt
        self.query = query
        self.redactor = redactor
        self.matches = query.matches
        #: The time of the nearest timed record before an offset (``boundaries.time_before``
        #: over the source), for a format whose records without a time take it; set by
        #: whoever knows the source.
        self.time_before: TimeCarrier | None = None
        #: The query matches every record: no prefilter, no test.
        self.everything = bool(query.is_empty)
        self.prefilter = None if self.everything else query_prefilter(fmt, query, redactor)
        groups = self.prefilter.groups if self.prefilter is not None else []
        alternatives = (self.prefilter.alternatives if self.prefilter is not None else []) or [
            None] * len(groups)
        #: None: no byte-level condition, every record is parsed and tested.
        self.groups: list[GroupMatcher] | None = [
            GroupMatcher(group, alts, self.prefilter.admit if self.prefilter else ())
            for group, alts in zip(groups, alternatives)] or None
        self._ordered = False
        #: For a query of extra fields alone (``status>=500``): ``fields_test(data)`` decides a
        #: record from its object's fields without making the record (None: make it).
        self.fields_test = None if self.everything else _fields_test(fmt, query, redactor)

    def candidates(self, buf: bytes, rel: np.ndarray, escaped: bool | None = None
                   ) -> np.ndarray:
        """Indexes ``j`` of the records ``buf[rel[j]:rel[j+1]]`` that may match
        (``escaped``: ``holds_escape(buf)``, when known)."""
        groups = self.groups
        if groups is None:
            return np.arange(len(rel) - 1, dtype=np.int64)
        if not self._ordered and len(groups) > 1:
            # Scan chunks for the rarest group (measured on this first chunk), then test
            # only its candidates' own bytes for the others.
            counts = [len(group.records(buf, rel)) for group in groups]
            groups = self.groups = [g for _, _, g in sorted(zip(counts, range(len(counts)), groups))]
        self._ordered = True
        cand = groups[0].records(buf, rel)
        for group in groups[1:]:
            if len(cand) == 0:
                break
            if len(cand) * 16 < len(rel):
                cand = group.within(buf, rel, cand)
            else:
                cand = np.intersect1d(cand, group.records(buf, rel), assume_unique=True)
        if holds_escape(buf) if escaped is None else escaped:
            cand = np.union1d(cand, _ESCAPED.records(buf, rel))
        return cand

    def record(self, raw: RawRecord, name: str) -> Record | None:
        """The record of ``raw`` as readers see it (redacted), or None when the query does
        not match it."""
        record = parse_raw_record(self.format, raw, name)
        carrier = self.time_before
        if carrier is not None:
            if record.time is None:
                record.time = carrier(raw.offset)
            carrier.seen(raw.offset, len(raw.data), record.time)
        redactor = self.redactor
        if redactor is None:
            return record if self.everything or self.matches(record) else None
        if redactor.search_original:
            if not self.everything and not self.matches(record):
                return None
            return redactor.record(record)
        shown = redactor.record(record)
        return shown if self.everything or self.matches(shown) else None

    # -- without an index: needles first, records around them (logview.scan_ranges) ---------

    def needles(self) -> tuple[tuple[bytes, ...] | RegexNeedle, bool,
                               list[re.Pattern[bytes]]] | None:
        """(literals of the most selective group, or its regex when it is found by its regex
        (``PatternGroup``); whether the literals are lower-case for lower-cased bytes; the
        groups each record around a hit must still contain); None: no needles."""
        prefilter = self.prefilter
        if prefilter is None or not prefilter.alternatives:
            return None
        first = prefilter.alternatives[0]
        if isinstance(first, Scans):
            return RegexNeedle(first.patterns, prefilter.admit), False, list(prefilter.groups[1:])
        folded = any(ignorecase for _, ignorecase in first)
        literals = tuple(text.lower() if folded else text for text, _ in first)
        exact_first = not folded or all(ic or text.islower() for text, ic in first)
        return literals, folded, list(prefilter.groups[1 if exact_first else 0:])

    @staticmethod
    def hits(buf: bytes, literals: tuple[bytes, ...] | RegexNeedle,
             folded: bool, escaped: bool | None = None) -> list[int]:
        """Sorted offsets of the needles (or the regex's matches) in ``buf``, and of escape
        introducers (always candidates); ``escaped``: ``holds_escape(buf)``, when known."""
        if isinstance(literals, RegexNeedle):
            hits = literals.hits(buf)
        else:
            hits = find_all(buf.lower() if folded else buf, literals)
        if holds_escape(buf) if escaped is None else escaped:
            hits.extend(find_all(buf, ALWAYS_CANDIDATES))
        hits.sort()
        return hits

    @staticmethod
    def admits(data: bytes, confirm: list[re.Pattern[bytes]]) -> bool:
        """A record's bytes hold every group of ``confirm`` (or an escape introducer)."""
        return holds_escape(data) or all(group.search(data) for group in confirm)


def _fields_test(fmt: LogFormat, query: QueryLike, redactor: Redactor | None
                 ) -> Callable[[bytes], bool | None] | None:
    """``Matcher.fields_test`` for ``query`` on ``fmt`` (None: every candidate is made)."""
    make = getattr(fmt, "plain_reader", None)
    if redactor is not None or not getattr(query, "fields_only", False) or make is None:
        return None
    plain = make()
    if plain is None:
        return None
    keep = query.matches

    def test(data: bytes, clean: bool = False) -> bool | None:
        """``clean``: ``data`` is known to hold no escape sequence."""
        line = data[:-1] if data[-1:] == b"\n" else data
        # A one-line object, as ``object_reader`` reads it (``record_chunks``); an escape
        # sequence is stripped by the parser first: that record is made.
        if line[:1] != b"{" or line[-1:] != b"}" or b"\n" in line or (
                not clean and holds_escape(line)):
            return None
        values = plain(line)
        return None if values is None else keep(FieldsOnly(values[5]))

    return test


class _Matchers:
    """One matcher per format met while scanning (a store may detect its format anew)."""

    def __init__(self, query: QueryLike) -> None:
        self.query = query
        self._by_format: dict[int, Matcher] = {}

    def for_format(self, fmt: LogFormat, redactor: Redactor | None = None) -> Matcher:
        matcher = self._by_format.get(id(fmt))
        if matcher is None or matcher.format is not fmt or matcher.redactor is not redactor:
            matcher = self._by_format[id(fmt)] = Matcher(fmt, self.query, redactor)
        return matcher


# ---------------------------------------------------------------------------------------------
# Scanning stores


def _chunks(store: Store, matchers: _Matchers, start: int, stop: int, cancelled: Cancelled,
            scan_bytes: int = SCAN_BYTES, *, want_records: bool = True
            ) -> Iterator[tuple[np.ndarray, list[Record]]]:
    """(positions, records) of the matches in ``[start, stop)``, chunk by chunk, in order."""
    stop = min(stop, len(store))
    start = max(0, start)
    if start >= stop:
        return
    parts = store.parts()
    if len(parts) == 1 and parts[0] is store:
        matcher = matchers.for_format(store.format, getattr(store, "redactor", None))
        if store.format.time_from_previous:
            matcher.time_before = TimeCarrier(store.source, store.index.detector)
        yield from _indexed_chunks(store, matcher, start, stop, cancelled, scan_bytes,
                                   want_records)
    else:
        yield from _merged_chunks(store, matchers, start, stop, cancelled, scan_bytes)


def _indexed_chunks(store: Store, matcher: Matcher, start: int, stop: int,
                    cancelled: Cancelled, scan_bytes: int, want_records: bool = True
                    ) -> Iterator[tuple[np.ndarray, list[Record]]]:
    """Read raw chunks of whole records; find candidates in bulk; parse only those."""
    index, name, source = store.index, store.name, store.source
    if matcher.everything:
        scan_bytes = min(scan_bytes, ALL_BYTES)  # every record of a chunk is held at once
    lo = start
    while lo < stop:
        if cancelled():
            return
        first = index.start(lo)
        hi = min(stop, max(lo + 1, index.find(first + scan_bytes)))
        bounds = index.bounds(lo, hi)
        base = int(bounds[0])
        rel = bounds - base
        buf, short = read_records(source, base, rel)
        found, records = match_chunk(matcher, buf, rel, short, base, index.line, lo, name,
                                     want_records=want_records)
        yield np.array(found, dtype=np.int64) + lo, records
        lo = hi


def match_chunk(matcher: Matcher, buf: bytes, rel: np.ndarray, short: dict[int, bytes],
                base: int, line_of: Callable[[int], int], lo: int, name: str, *,
                want_records: bool = True) -> tuple[list[int], list[Record]]:
    """The records ``buf[rel[j]:rel[j+1]]`` (read at ``base``; record ``lo`` of the store
    first, whose line ``line_of(lo)`` says) that match: their ``j`` and the records (none
    without ``want_records``: a query of fields alone then makes none it need not).
    ``short``: the bytes of records that could not be read whole (``read_records``)."""
    escaped = holds_escape(buf)  # (asked once: no record of a chunk without one holds one)
    cand = matcher.candidates(buf, rel, escaped)
    found: list[int] = []
    records: list[Record] = []
    if not len(cand):
        return found, records
    make = matcher.record
    test = None if want_records else matcher.fields_test
    # Only the records' reader and a ``line`` term read line numbers (counting them is a
    # pass over the chunk up to its last candidate).
    count_lines = want_records or getattr(matcher.query, "reads_line", True)
    line = line_of(lo) if count_lines else 0
    prev = 0
    clean = not escaped
    for j, s, e in zip(cand.tolist(), rel[cand].tolist(), rel[cand + 1].tolist()):
        if count_lines:
            line += buf.count(b"\n", prev, s)
            prev = s
        data = short.get(j, buf[s:e]) if short else buf[s:e]
        if not data:
            continue  # its bytes are gone for good (said by the source)
        if test is not None:
            kept = test(data, clean and j not in short)
            if kept is not None:
                if kept:
                    found.append(j)
                continue
        record = make(RawRecord(base + s, line, data), name)
        if record is not None:
            found.append(j)
            if want_records:
                records.append(record)
    return found, records


def _merged_chunks(store: Store, matchers: _Matchers, start: int, stop: int,
                   cancelled: Cancelled, scan_bytes: int) -> Iterator[tuple[np.ndarray, list[Record]]]:
    """Each part scanned with its own matcher over the records that fall in a window of
    merged positions, the positions mapped back and the window's matches put in order."""
    parts = store.parts()
    for lo in range(start, stop, MERGED_WINDOW):
        hi = min(stop, lo + MERGED_WINDOW)
        positions: list[np.ndarray] = []
        records: list[Record] = []
        for sid, part in enumerate(parts):
            merged = store.merged_positions(sid)
            a, b = int(np.searchsorted(merged, lo)), int(np.searchsorted(merged, hi))
            for found, recs in _chunks(part, matchers, a, b, cancelled, scan_bytes):
                if len(found):
                    positions.append(merged[found])
                    records.extend(recs)
            if cancelled():
                return
        if not positions:
            yield np.empty(0, dtype=np.int64), []
            continue
        merged_pos = np.concatenate(positions)
        order = np.argsort(merged_pos, kind="stable")
        yield merged_pos[order], [records[k] for k in order.tolist()]


def scan(store: Store, query: QueryLike, start: int = 0, stop: int | None = None, *,
         cancelled: Cancelled = never, batch_seconds: float = 0.25) -> Iterator[np.ndarray]:
    """Positions in ``[start, stop)`` of records matching ``query``, in sorted int64 batches.

    A batch is yielded about every ``batch_seconds`` (and at the end), so a viewer can show
    progress; ``cancelled`` is checked between chunks.
    """
    pending: list[np.ndarray] = []
    last = time.monotonic()
    stop = len(store) if stop is None else stop
    answered = column_positions(store, query, start, stop)
    if answered is not None:
        positions, start = answered
        if len(positions):
            yield positions
    for positions, _records in _chunks(store, _Matchers(query), start, stop, cancelled,
                                       want_records=False):
        if len(positions):
            pending.append(positions)
        now = time.monotonic()
        if pending and now - last >= batch_seconds:
            yield np.concatenate(pending)
            pending.clear()
            last = now
    if pending:
        yield np.concatenate(pending)


def iter_matching_records(store: Store, query: QueryLike, start: int = 0,
                          stop: int | None = None, *,
                          cancelled: Cancelled = never) -> Iterator[Record]:
    """The records in ``[start, stop)`` matching ``query``, in order (for the printer)."""
    stop = len(store) if stop is None else stop
    for _positions, records in _chunks(store, _Matchers(query), start, stop, cancelled):
        yield from records


class _Everything:
    """The empty query."""

    is_empty = True

    @staticmethod
    def matches(record: Record) -> bool:
        return True

    @staticmethod
    def prefilter(**_options: Any) -> None:
        return None


EVERYTHING: QueryLike = _Everything()


def iter_records(store: Store, start: int, stop: int, *,
                 cancelled: Cancelled = never) -> Iterator[Record]:
    """Every record in ``[start, stop)``, in order, read in whole chunks (bulk readers: they
    leave the store's record cache to the rows on screen)."""
    return iter_matching_records(store, EVERYTHING, start, stop, cancelled=cancelled)


def find_next(store: Store, query: QueryLike, start: int, stop: int | None = None, *,
              cancelled: Cancelled = never) -> int | None:
    """The first position in ``[start, stop)`` whose record matches, or None."""
    stop = len(store) if stop is None else min(stop, len(store))
    answered = column_positions(store, query, max(0, start), stop)
    if answered is not None:
        positions, start = answered
        if len(positions):
            return int(positions[0])
    window = 4096
    lo = max(0, start)
    matchers = _Matchers(query)
    while lo < stop and not cancelled():
        hi = min(stop, lo + window)
        for positions, _records in _chunks(store, matchers, lo, hi, cancelled):
            if len(positions):
                return int(positions[0])
        lo, window = hi, min(window * 4, 1 << 22)
    return None


def find_previous(store: Store, query: QueryLike, before: int, start: int = 0, *,
                  cancelled: Cancelled = never) -> int | None:
    """The last position in ``[start, before)`` whose record matches, or None: windows of
    growing size scanned from ``before`` backwards, each forward in chunks (the records the
    store's columns hold are answered from them)."""
    hi = min(before, len(store))
    answered = column_positions(store, query, max(0, start), hi)
    if answered is not None:
        positions, covered = answered
        beyond = find_previous(store, query, hi, covered, cancelled=cancelled) \
            if covered < hi else None
        if beyond is not None:
            return beyond
        return int(positions[-1]) if len(positions) else None
    window = 4096
    matchers = _Matchers(query)
    while hi > start and not cancelled():
        lo = max(start, hi - window)
        last = None
        for positions, _records in _chunks(store, matchers, lo, hi, cancelled):
            if len(positions):
                last = int(positions[-1])
        if last is not None:
            return last
        hi, window = lo, min(window * 4, 1 << 22)
    return None
