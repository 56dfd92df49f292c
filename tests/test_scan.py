"""The scanner: prefiltered chunk scans (forward, backward, merged) give exactly what parsing
every record one by one and testing it gives."""

from __future__ import annotations

import re

import numpy as np
import pytest
from indexing_helpers import DashFormat, StandInQuery, dash_log

from logview.formats.signature import start_signature
from logview.needles import required_literals
from logview.scan import GroupMatcher, find_next, find_previous, iter_matching_records, scan
from logview.sources.base import MemorySource, StaticFileSource
from logview.store import LogStore, MergedStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("engine") / "app.log"
    path.write_bytes(dash_log(5000, seed=11))
    store = LogStore(StaticFileSource(str(path)), DashFormat())
    store.update()
    return store


QUERIES = [
    StandInQuery(40),
    StandInQuery(0, ("user=u7",)),
    StandInQuery(40, ("ValueError",)),
    StandInQuery(30, ("second line",)),
    StandInQuery(0, ("no such text anywhere",)),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.min_level}-{q.words}")
def test_prefilter_gives_the_same_records_as_parsing_everything(store, query):
    expected = [(r.line, r.offset, r.raw) for _, r in naive(store, query)]
    got = [(r.line, r.offset, r.raw) for r in iter_matching_records(store, query)]
    assert got == expected
    positions = np.concatenate(list(scan(store, query, batch_seconds=0)) or [np.empty(0)])
    assert positions.tolist() == [store.index.find(off) for _, off, _ in expected]
    assert all(store.record(int(i)).line == line for i, (line, _, _) in zip(positions, expected))


def test_scan_respects_the_range_and_batches_are_sorted(store):
    query = StandInQuery(40)
    everything = np.concatenate(list(scan(store, query)))
    part = np.concatenate(list(scan(store, query, 1000, 3000, batch_seconds=0)))
    assert part.tolist() == [p for p in everything.tolist() if 1000 <= p < 3000]
    assert np.all(np.diff(everything) > 0)


def test_cancelled_scan_stops(store):
    assert list(scan(store, StandInQuery(40), cancelled=lambda: True)) == []


def test_empty_query_yields_every_record(store):
    records = list(iter_matching_records(store, StandInQuery(), 10, 20))
    assert [r.offset for r in records] == [store.index.start(i) for i in range(10, 20)]


def naive(store, query, start=0, stop=None):
    """The reference: every record parsed one by one and tested, no prefilter, no chunks."""
    stop = len(store) if stop is None else stop
    out = []
    for i in range(start, stop):
        record = store.parse(i)
        if query.matches(record):
            out.append((i, record))
    return out


@pytest.fixture(scope="module")
def merged(store):
    """The dash log merged with a JSON log (another format, so another matcher per part)."""
    lines = []
    for k in range(3000):
        level = ("ERROR", "INFO", "WARNING", "DEBUG")[k % 4]
        lines.append(b'{"asctime": "2024-01-02 03:%02d:%02d,000", "levelname": "%s", '
                     b'"name": "json.app", "message": "json event %d user=u7"}\n'
                     % (k // 60 % 60, k % 60, level.encode(), k))
    other = MemorySource("other.jsonl", b"".join(lines))
    other.finish()
    merged = MergedStore([store, LogStore(other)])
    merged.update(final=True)
    assert len(merged) == len(store) + 3000
    return merged


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.min_level}-{q.words}")
def test_merged_store_scans_each_part_with_its_prefilter(merged, query):
    expected = naive(merged, query)
    positions = np.concatenate(list(scan(merged, query, batch_seconds=0)) or [np.empty(0)])
    assert positions.tolist() == [i for i, _ in expected]
    got = list(iter_matching_records(merged, query, 1000, 6000))
    assert [(r.source, r.offset) for r in got] == [
        (r.source, r.offset) for i, r in expected if 1000 <= i < 6000]
    both = query.min_level and not query.words  # errors: both parts have some
    assert {r.source for _, r in expected} >= ({"other.jsonl"} if both else set())


@pytest.mark.parametrize("query", [StandInQuery(40), StandInQuery(0, ("user=u7",))],
                         ids=["errors", "word"])
def test_find_next_and_previous_agree_with_the_reference(store, merged, query):
    for target in (store, merged):
        hits = [i for i, _ in naive(target, query)]
        assert hits
        for here in (0, 1, hits[0], hits[-1], len(target) // 2, len(target) - 1):
            after = [i for i in hits if i >= here]
            before = [i for i in hits if i < here]
            assert find_next(target, query, here) == (after[0] if after else None)
            assert find_previous(target, query, here) == (before[-1] if before else None)
    assert find_next(store, StandInQuery(0, ("no such text anywhere",)), 0) is None


def test_needles_are_extracted_from_alternations_and_confirmed():
    needles = required_literals(re.compile(rb"\b(?:ERROR|CRITICAL)\b"))
    assert needles.literals == (b"ERROR", b"CRITICAL") and not needles.exact
    assert required_literals(re.compile(rb"(?i)Timeout")).literals == (b"timeout",)
    assert required_literals(re.compile(rb"\d+")) is None
    matcher = GroupMatcher(re.compile(rb"\bERROR\b"))
    buf = b"a ERRORS here\nb ERROR here\nc\n"
    rel = np.array([0, 14, 27, 29])
    assert matcher.records(buf, rel).tolist() == [1]
    case = GroupMatcher(re.compile(rb"(?i)timeout"))
    assert case.records(b"x TimeOut\ny\n", np.array([0, 10, 12])).tolist() == [0]


def test_start_signature_of_common_patterns():
    sig = start_signature(re.compile(rb"\{"))
    assert sig.exact and sig.classes == (frozenset(b"{"),)
    assert start_signature(re.compile(rb"(?!\s)")) is None
    partial = start_signature(re.compile(rb"\d{4}-\d\d(?:[,.]\d+)? x"))
    assert len(partial.classes) == 7 and not partial.exact


def test_level_needles_stay_narrow_after_parsing(tmp_path):
    """Parsing records memoises level names in the format; that must not widen the prefilter.

    (It did: every query after the first scanned for ~30 level spellings instead of 3, five
    times slower on a big file.)
    """
    from logview.formats.template import TemplateFormat
    from logview.query import parse_query
    from logview.scan import query_prefilter

    fmt = TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    assert fmt.level_case == "python"
    narrow = query_prefilter(fmt, parse_query("level>=error")).groups
    fmt.parse("2024-01-02 03:04:05,000 - app - ERROR - boom")
    fmt.parse("2024-01-02 03:04:05,000 - app - Level 45 - custom")
    assert fmt.level_case == "python"
    assert query_prefilter(fmt, parse_query("level>=error")).groups == narrow
    custom = TemplateFormat("%(levelname)s %(message)s", levels={"SUCCESS": 25})
    assert custom.level_case is None  # registered names: no narrowing
