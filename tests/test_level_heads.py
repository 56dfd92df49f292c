"""Level queries over templates that open with the level (``basicConfig``) found by record
heads print exactly what parsing every record of the index and testing it prints."""

from __future__ import annotations

import io
import logging
import random
import re

import pytest

from logview import level_heads, scan_ranges
from logview.boundaries import StartDetector
from logview.formats.template import TemplateFormat
from logview.level_heads import LevelHeads
from logview.printer import RecordPrinter, known_original_bytes
from logview.query import parse_query
from logview.scan_ranges import make_job, run_job
from logview.sources.base import StaticFileSource
from logview.store import LogStore

TEMPLATES = [logging.BASIC_FORMAT, "%(levelname)s %(name)s %(message)s",
             "[%(levelname)s] %(message)s", "%(levelname)-8s %(name)s: %(message)s"]
QUERIES = ["level>=ERROR", "level>=WARNING logger:app",
           "level>=error not logger:app.db", "level>45 or level=critical",
           "level>=ERROR not level>=CRITICAL"]
#: Lines written as they are between the logging module's records: other spellings, and
#: lines a record's message or traceback holds that look like heads (some are starts by the
#: start test, some are not: both paths must cut the same records).
RAW_LINES = [b"ERR:app:short spelling\n", b"error:app.db:lower case\n",
             b"FATAL:worker:fatal spelling\n", b"ERROR: no logger word here\n",
             b"ERROR:\n", b"CRITICAL:app:{\"json\": \"in a message\"}\n",
             b"Error:app:title case\r\n", b"ERROR:app:caf\xc3\xa9 unicode\n",
             b"Traceback (most recent call last):\n", b"ERRORS:app:not a level name\n",
             b"INFO:app:a head ERROR:app:in the middle of a line\n",
             b"Level 5:app:a numbered level below every floor\n",
             b"Level 50:app:a numbered level above\n", b"ERROR:app:{\"status\": 500}\n"]


def write_log(path, template: str, seed: int, *, escapes: bool) -> None:
    """A log written by the logging module (tracebacks, Level 45, multi-line messages that
    hold head lookalikes) with raw lines mixed in; ``escapes``: a few lines with an ESC
    sequence or a C1 introducer (their ranges take the generic path)."""
    rng = random.Random(seed)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(template))
    loggers = [logging.getLogger(n) for n in ("app", "app.db", "worker", "urllib3")]
    for lg in loggers:
        lg.handlers[:] = [handler]
        lg.setLevel(1)
        lg.propagate = False
    chunks: list[bytes] = [b"  File \"x.py\", line 1, in <module>\n"]  # opens mid-record
    for i in range(1000):
        lg = rng.choice(loggers)
        kind = rng.random()
        if kind < 0.05:
            try:
                raise ValueError(f"bad {i}\nERROR:app:inside the exception text")
            except ValueError:
                lg.exception("failed %d", i)
        elif kind < 0.08:
            lg.log(45, "numbered level %d", i)
        elif kind < 0.12:
            lg.warning("two lines %d\nERROR:worker:a head inside a message\nINFO: not one", i)
        else:
            lg.log(rng.choice((10, 20, 30, 40, 50)), "request %d handled", i)
        chunks.append(stream.getvalue().encode())
        stream.seek(0)
        stream.truncate()
        if rng.random() < 0.05:
            chunks.append(rng.choice(RAW_LINES))
        if escapes and i in (500, 800):
            chunks.append(b"\x1b[31mERROR\x1b[0m:app:coloured\n" if i == 500
                          else b"ERROR:app:c1 \xc2\x9b31m introducer\n")
    chunks.append(b"CRITICAL:app:no newline at the end")
    path.write_bytes(b"".join(chunks))


#: Each store's references by (query, output); the store is in the value, so a cached
#: reference is only ever another store's when ``id`` was reused (module-scoped stores are
#: freed between parameters): then it is computed again.
_REFERENCES: dict[tuple[int, str, str], tuple[object, bytes]] = {}


def reference(store, query, output: str) -> bytes:
    key = (id(store), query.text, output)
    cached = _REFERENCES.get(key)
    if cached is None or cached[0] is not store:
        cached = _REFERENCES[key] = (store, _reference(store, query, output))
    return cached[1]


def _reference(store, query, output: str) -> bytes:
    out = io.BytesIO()
    printer = RecordPrinter(out, output=output, original=output == "original")
    for i in range(len(store)):
        record = store.parse(i)
        if query.matches(record):
            printer.write(record)
    return out.getvalue()


def direct(store, query, output: str, **kw) -> bytes:
    out = io.BytesIO()
    printer = RecordPrinter(out, output="jsonl" if output == "jsonl" else "text",
                            original=output == "original")
    job = make_job(store, query, printer.render, need_lines=printer.jsonl,
                   as_read=known_original_bytes if printer.original else None)
    assert job is not None and job.heads is not None
    assert run_job(job, printer.write_rendered, **kw) is None
    return out.getvalue()


@pytest.fixture(scope="module", params=[(t, e) for t in TEMPLATES for e in (False, True)],
                ids=lambda p: f"{p[0]}-{'escapes' if p[1] else 'plain'}")
def stores(request, tmp_path_factory):
    template, escapes = request.param
    path = tmp_path_factory.mktemp("heads") / "app.log"
    write_log(path, template, seed=len(template), escapes=escapes)
    fmt = TemplateFormat(template)
    assert fmt.start_vocabulary() is not None
    indexed = LogStore(StaticFileSource(str(path)), fmt)
    indexed.update(final=True)
    return indexed, LogStore(StaticFileSource(str(path)), fmt)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("range_bytes", [997, 1 << 20])
def test_heads_print_what_parsing_every_record_prints(stores, text, range_bytes):
    indexed, fresh = stores
    query = parse_query(text)
    for output in ("original", "text", "jsonl") if range_bytes < 4096 else ("original",):
        expected = reference(indexed, query, output)
        nameless = "logger" in text and "%(name)s" not in fresh.format.template
        assert expected.count(b"\n") > 5 or nameless, (text, output)
        got = direct(fresh, query, output, range_bytes=range_bytes, workers=1)
        assert got == expected, (text, output)
    assert len(fresh.index) == 0  # no index was built


def test_forked_workers_give_the_same_bytes(stores):
    indexed, fresh = stores
    query = parse_query("level>=ERROR")
    assert direct(fresh, query, "original", range_bytes=4096, workers=2) == reference(
        indexed, query, "original")


def test_ranges_are_read_by_heads_unless_they_hold_escapes(stores, monkeypatch):
    """The head path takes the ranges (a range with an escape byte goes the generic way)."""
    _indexed, fresh = stores
    seen: list[bool] = []
    spans = LevelHeads.named_spans

    def counted(self, buf):
        got = spans(self, buf)
        seen.append(got is not None)
        return got

    monkeypatch.setattr(LevelHeads, "named_spans", counted)
    direct(fresh, parse_query("level>=ERROR"), "original", range_bytes=4096, workers=1)
    assert seen.count(True) > 5
    escaped = b"\x1b" in fresh.source.read_at(0, fresh.source.size())
    assert (False in seen) == escaped


def test_a_record_too_long_hands_over_to_the_index(stores, monkeypatch):
    _indexed, fresh = stores
    monkeypatch.setattr(level_heads, "MAX_RECORD_BYTES", 200)
    monkeypatch.setattr(scan_ranges, "MAX_RECORD_BYTES", 200)  # (the generic path's)
    query = parse_query("level>=ERROR")
    out = io.BytesIO()
    printer = RecordPrinter(out, original=True)
    job = make_job(fresh, query, printer.render, need_lines=False,
                   as_read=known_original_bytes)
    assert run_job(job, printer.write_rendered, range_bytes=1 << 20, workers=1) == 0


def test_which_queries_and_formats_take_the_head_path():
    basic = TemplateFormat(logging.BASIC_FORMAT)
    assert LevelHeads.for_query(StartDetector(basic), 0) is None  # every name may match
    assert LevelHeads.for_query(StartDetector(basic), 40) is not None
    dash = TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    assert LevelHeads.for_query(StartDetector(dash), 40) is None  # a time head
    heads = LevelHeads.for_query(StartDetector(basic), 40)
    assert heads is not None
    got = heads.spans(b"ERROR:a:x\nINFO:b:y\nERROR: z\nCRITICAL:c:w\n  more\nDEBUG:d:v\n")
    assert got == [(0, 10), (28, 48)]  # "ERROR: z" is no start: it is in INFO's record


@pytest.mark.parametrize(("text", "by_levels"), [
    ("level>=ERROR", True), ("level>45 or level=critical", True),
    ("level>=ERROR not level>=CRITICAL", True), ("level>=WARNING logger:app", False),
    ("level>=error not logger:app.db", False)])
def test_queries_about_levels_alone_are_decided_by_the_head_names(stores, monkeypatch, text,
                                                                    by_levels):
    """A query that reads only levels is decided by the level each head names (no column
    walk); one that reads a logger walks the columns. Both print what parsing prints."""
    indexed, fresh = stores
    walked: list[int] = []
    column_keep = scan_ranges._column_keep

    def counted(job, chunk, part, at, *rest):
        walked.append(len(part))
        return column_keep(job, chunk, part, at, *rest)

    monkeypatch.setattr(scan_ranges, "_column_keep", counted)
    query = parse_query(text)
    got = direct(fresh, query, "original", range_bytes=4096, workers=1)
    assert got == reference(indexed, query, "original")
    assert bool(walked) != by_levels


@pytest.mark.parametrize(("pattern", "reads"), [
    (rb"ERROR:(?:[^\s]+?):", False), (rb"[A-Z]+ \w+\b", False), (rb"a.b", False),
    (rb"(?!Traceback \(x\):)(?:INFO|Level \d+):", False), (rb"a(?=[^:]*:)", True),
    (rb"a[^x]", True), (rb"a\s", True), (rb"(?s:a.)", True), (rb"a\W", True), (rb"a\D", True),
    (rb"(?!a\n)b", True), (rb"^a", True), (rb"a$", True), (rb"[\x00-\x20]", True),
    (rb"(a)\1", False), (rb"a(?:b|[\n])", True)])
def test_which_start_patterns_may_read_a_newline(pattern, reads):
    """The one-search path is taken only for start patterns that never match a newline
    (what they say within a buffer is then what they say of the line alone)."""
    assert level_heads._may_read_newline(re.compile(pattern)) is reads


def test_the_record_search_finds_what_the_line_walk_finds(stores):
    """Records whose heads name an admitted level, found by one search of whole records,
    are exactly those the walk line by line finds (hostile heads, tracebacks, messages that
    hold heads, a last line without a newline), in ranges cut anywhere."""
    _indexed, fresh = stores
    detector = StartDetector(fresh.format)
    heads = LevelHeads.for_query(detector, 40)
    assert heads is not None and heads._record is not None  # (the templates above)
    walk = LevelHeads.for_query(detector, 40)
    walk._record = None
    data = fresh.source.read_at(0, fresh.source.size())
    assert heads.named_spans(data) == walk.named_spans(data) or b"\x1b" in data
    rng = random.Random(3)
    cuts = sorted(rng.sample(range(1, len(data)), 40))
    for a, b in zip([0, *cuts], [*cuts, len(data)]):
        # a piece that starts at a line start, as a range does
        a = data.rfind(b"\n", 0, a) + 1
        piece = data[a:b]
        assert heads.named_spans(piece) == walk.named_spans(piece), (a, b)


def test_forked_workers_write_the_records_they_find_by_heads_themselves(tmp_path,
                                                                       monkeypatch):
    """``--print`` into a file: the workers write their ranges' records in order (nothing
    goes back to the parent to be written again), the same bytes as parsing prints."""
    from logview import headless

    path = tmp_path / "app.log"
    write_log(path, logging.BASIC_FORMAT, seed=1, escapes=False)
    fmt = TemplateFormat(logging.BASIC_FORMAT)
    indexed = LogStore(StaticFileSource(str(path)), fmt)
    indexed.update(final=True)
    monkeypatch.setattr(scan_ranges, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_ranges, "HEADS_RANGE_BYTES", 8192)
    written: list[bytes] = []
    monkeypatch.setattr(RecordPrinter, "write_rendered",
                        lambda self, data, count: written.append(data) or None)
    query = parse_query("level>=ERROR")
    with open(tmp_path / "out.log", "wb") as out:
        headless.run_print(LogStore(StaticFileSource(str(path)), fmt), query, out,
                           original=True)
    assert (tmp_path / "out.log").read_bytes() == reference(indexed, query, "original")
    assert len(written) > 5 and not any(written)  # counts only came back


def test_the_names_of_the_start_pattern_become_their_prefix_tree():
    """The record search reads the start pattern's 87 level names as a prefix tree of the
    same names (one step turns a line away); any other alternation is left as it is."""
    fmt = TemplateFormat(logging.BASIC_FORMAT)
    source, names = fmt.start_pattern.pattern, fmt.start_vocabulary().names
    tree = level_heads._with_name_trie(source, names)
    assert tree != source and b"INFORMATIONAL|" not in tree
    lines = [b"ERROR:a:b", b"ERRORS:a:b", b"ERR:a:", b"Level 5:x:y", b"Traceback:x:y",
             b"warni:a.b:c", b"WARNINGS:a:b", b"INFO: a:b", b"informationa:x:y"]
    for line in lines:
        assert (re.match(tree, line) is None) == (re.match(source, line) is None), line
    assert level_heads._with_name_trie(source, names[:-1]) == source  # not the same names
