"""The ClickHouse push-down against the real engine (chDB): for many queries, the rows the
generated SQL returns hold every row logview's local filter accepts, and filtering them locally
gives exactly what filtering the whole table gives; values are always bound parameters (a
hostile value stays a value). Also Python regexes as RE2, checked by ClickHouse's own match()."""

from __future__ import annotations

import itertools
import re

import pytest
from clickhouse_helpers import SECOND, T0, engine, insert, make_table, needs_chdb, row, sdk_rows

from logview.formats.jsonl import JsonFormat
from logview.query import parse_query
from logview.query.re2 import SPACES, to_re2
from logview.sources.clickhouse import table_shape
from logview.sources.clickhouse_feed import RowFeed
from logview.sources.clickhouse_pushdown import clickhouse_pushdown
from logview.sources.clickhouse_url import Target

DB = "lv_pushdown"
HOSTILE = "x' OR 1=1 --"


def emit(get):
    db, pool, web, worker = get("app.db"), get("app.db.pool"), get("app.web"), get("worker")
    db.debug("connecting to %s", "pg", extra={"user_id": 7})
    db.info("connected in 12 ms", extra={"user_id": 42, "ratio": 0.5})
    pool.warning("pool exhausted: 10 of 10 busy", extra={"user_id": "042"})
    web.info("GET /api/users took 953 ms", extra={"path": "/api/users", "status": 200})
    web.error("Timeout talking to upstream", extra={"path": "/api/orders", "status": 504})
    worker.critical("worker died", extra={"ok": False})
    worker.log(25, "custom level 25")
    worker.log(5, "trace level 5")
    try:
        {}["missing"]
    except KeyError:
        db.exception("query failed for user %s", 42, extra={"user_id": 42})
    web.info(HOSTILE)
    web.info("line one\nline two ends here")


def hand_rows() -> list:
    t = T0 + 100 * SECOND
    return [
        row(t, "plain text level only", level="warn", number=0),
        row(t + 1, "numeric text level", level="40", number=0),
        row(t + 2, "no level at all", level="", number=0),
        row(t + 3, "spaced level", level=" Error ", number=0),
        row(t + 4, "coloured \x1b[31mERR\x1b[0mOR in the body", level="INFO", number=9),
        row(t + 5, "escape in logger", scope="app.\x1b[1mdb", level="INFO", number=9),
        row(t + 6, "KELVIN \u212a and long \u017f and Turkish \u0130 \u0131", number=9),
        row(t + 7, "café crème", number=9),
        row(t + 8, "unicode digits \u0663\u0664 ms", number=9),
        row(t + 9, "trailing newline at end\n", number=9),
        row(t + 10, "DEBUG2 row", level="DEBUG2", number=6),
        row(t + 11, "out of range severity", level="ERROR", number=99),
        row(t + 12, "spaced number", attributes={"user_id": " 42 ", "big": "1e3"}, number=9),
        row(t + 13, "resource only key", resource={"service.name": "billing", "region": "eu"},
            number=13, level="WARN"),
        row(t + 14, "same nanosecond a", number=9),
        row(t + 14, "same nanosecond b", number=9),
        row(t + 15, HOSTILE, attributes={"q": HOSTILE}, scope=HOSTILE, number=17, level="ERROR"),
        row(t + 16, "trace row", trace="0af7651916cd43dd8448eb211c80319c", number=9),
        row(t + 17, "only type", attributes={"exception.type": "ValueError",
                                               "exception.message": "bad timeout value"},
            number=17, level="ERROR"),
    ]


@pytest.fixture(scope="module")
def table():
    make_table(DB)
    times = (T0 + n * SECOND for n in itertools.count())
    insert(DB, sdk_rows(emit, times=times) + hand_rows())
    target = Target(host="localhost", port=0, database=DB, table="otel_logs")
    return target, table_shape(engine(), target)


QUERIES = [
    "level>=ERROR", "level=ERROR", "level:error", "level<INFO", "level!=INFO", "level>WARNING",
    "level<=DEBUG", "level=25", "level>=30", "level=TRACE", "level=ERROR or level=DEBUG",
    "level>=INFO level<ERROR",
    "logger:app.db", "logger=app.db", "logger:app", "logger:worker", "logger:app.db.pool",
    "timeout", "TIMEOUT", "ms", "error", "ERROR", "app.db", "keyerror", "10", "café", "\u212a",
    '"took 953"', "ends here", "kelvin", "long s",
    "/took \\d+ ms/", "/t(o|a)ok/", "/^GET/", "/here$/", "/end$/", "/timeout/i", "/KELVIN \\w/",
    "/[a-c]afé/", "/(?i)ÉRROR/", "/(a)\\1/", "/\\bworker\\b/", "/ERR.*OR/", "/\\s\\d{2} ms/",
    "/x{2000}/", "/line one.line two/s", "/^line two/m",
    "msg:timeout", "message:ERROR", "message=worker died", "msg=worker died",
    "user_id=42", "user_id=7", "user_id>=40", "user_id<10", "status=504", "status>=500",
    "path=/api/users", "ratio=0.5", "ok=false", "service.name=shop", "service.name=billing",
    "region=eu", "trace_id=0af7651916cd43dd8448eb211c80319c", "big=1000", "exception.type=KeyError",
    "since:2024-01-02T03:04:10", "until:2024-01-02T03:04:08", "time>=2024-01-02T03:04:07.123456",
    "time<2024-01-02T03:04:07.123457Z", "since:-1h", "since:2024-01-02 until:2024-01-03",
    "level>=ERROR logger:app.db", "timeout level>=ERROR", "worker or timeout",
    "-level>=ERROR", "not timeout", "(timeout or worker) level>=ERROR", "has:user_id",
    f'"{HOSTILE}"', f'q="{HOSTILE}"', f'logger="{HOSTILE}"', f'logger:"{HOSTILE}"',
    "source:web1", "user_id!=42", "path~/api/",
]


def _keys(objects) -> list[str]:
    return sorted(f"{o['time']}|{o['message']}|{o['logger']}" for o in objects)


def _local(objects, query) -> list[dict]:
    fmt = JsonFormat()
    out = []
    import orjson

    for obj in objects:
        record = fmt.parse(orjson.dumps(obj).decode())
        record.source = record.source or "input"
        if query.matches(record):
            out.append(obj)
    return out


def _fetch(shape, query=None, page=1000) -> list[dict]:
    pushdown = clickhouse_pushdown(query, shape) if query is not None else None
    feed = RowFeed(engine(), shape, DB, "otel_logs", pushdown=pushdown, page=page)
    return [obj for chunk in feed.pages() for obj in chunk]


_ALL: list[dict] = []


def _everything(shape) -> list[dict]:
    if not _ALL:
        _ALL.extend(_fetch(shape))
    return _ALL


@needs_chdb
def test_every_row_is_read_once_in_pages(table):
    _target, shape = table
    everything = _fetch(shape, page=3)
    assert len(everything) == len(_keys(everything)) == len(set(_keys(everything)))
    assert len(everything) == engine().query(f"SELECT count() FROM {DB}.otel_logs"
                                             ).result_rows[0][0]
    times = [o["time"] for o in everything]
    assert times == sorted(times)


@needs_chdb
@pytest.mark.parametrize("text", QUERIES)
def test_pushed_rows_filtered_locally_are_the_local_result(table, text):
    _target, shape = table
    query = parse_query(text)
    everything = _everything(shape)
    expected = _keys(_local(everything, query))
    pushed = _fetch(shape, query)
    assert set(expected) <= set(_keys(pushed)), "the push-down lost rows the query matches"
    assert _keys(_local(pushed, query)) == expected


@needs_chdb
def test_the_pushdown_filters_on_the_server(table):
    _target, shape = table
    total = len(_everything(shape))
    for text in ("level>=ERROR", "logger:app.db", "timeout", "/took \\d+ ms/", "user_id=42",
                 "until:2024-01-02T03:04:08Z", "service.name=billing"):
        pushdown = clickhouse_pushdown(parse_query(text), shape)
        assert pushdown.pushed and not pushdown.local, text
        assert len(_fetch(shape, parse_query(text))) < total / 2, text


@needs_chdb
def test_values_are_bound_parameters_never_sql_text(table):
    _target, shape = table
    for text, value in ((f'"{HOSTILE}"', HOSTILE), (f'q="{HOSTILE}"', HOSTILE),
                        (f'logger="{HOSTILE}"', HOSTILE), ("x\\'y", "x\\'y"),
                        ("a{p0:String}b", "a{p0:String}b")):
        pushdown = clickhouse_pushdown(parse_query(text), shape)
        assert pushdown.pushed, text
        sql = pushdown.where()
        assert value not in sql and "1=1" not in sql and "'" not in sql.replace("!= ''", "")
        assert value in pushdown.params.values()
    regex = clickhouse_pushdown(parse_query(f"/{HOSTILE}/"), shape)
    assert regex.pushed and "1=1" not in regex.where() and "'" not in regex.where()
    query = parse_query(f'"{HOSTILE}"')
    found = _fetch(shape, query)
    assert {o["message"] for o in _local(found, query)} == {HOSTILE}
    # besides, only the rows ClickHouse cannot judge: ANSI codes (logview strips them first)
    assert {o["message"] for o in found} - {HOSTILE} == {
        "coloured \x1b[31mERR\x1b[0mOR in the body", "escape in logger"}


@needs_chdb
def test_a_hostile_table_name_is_an_identifier(table):
    from logview.sources.base import SourceError

    target = Target(host="localhost", port=0, database=DB, table="otel_logs; DROP TABLE x")
    with pytest.raises(SourceError, match="no table"):
        table_shape(engine(), target)


def test_explain_lists_pushed_and_local_terms():
    from logview.sources.clickhouse_table import OTEL_COLUMNS, otel_shape

    shape = otel_shape(dict.fromkeys(OTEL_COLUMNS, "String") | {"TimestampTime": "DateTime"})
    pushdown = clickhouse_pushdown(parse_query("level>=ERROR logger:app.db -x café"), shape)
    pushed = dict(pushdown.pushed)
    assert pushed["level>=ERROR"].startswith("(SeverityNumber BETWEEN 17 AND 24)")
    assert pushed["logger:app.db"].startswith(
        "ScopeName = 'app.db' OR startsWith(ScopeName, 'app.db.')")
    assert [text for text, _ in pushdown.local] == ["-x", "café"]


# ---------------------------------------------------------------------------------------------
# Python regexes as RE2


I, A, S, M = re.IGNORECASE, re.ASCII, re.DOTALL, re.MULTILINE
RE2_CASES = [
    ("took \\d+ ms", 0), ("t(o|a)ok", 0), ("^GET", 0), ("here$", 0), ("timeout", I),
    ("KELVIN \\w", 0), ("[a-c]afé", 0), ("(?i)error", 0), ("\\bworker\\b", A),
    ("ERR.*OR", 0), ("\\s\\d{2} ms", 0), ("line one.line two", S), ("^line two", M),
    ("[^a-z]+", 0), ("\\W+", 0), ("\\D\\S", 0), ("a{2,5}?", 0), ("x|y|z", 0), ("[\\d_]", 0),
    ("k", I), ("s", I), ("i", I), ("[k-m]", I), ("\\Aab", 0), ("ab\\Z", 0),
    ("(?:ab)+c", 0), ("\\u00e9", 0), ("\\x41", 0), ("[.]", 0), ("a\\tb", 0),
]
TEXTS = ["took 12 ms", "took ٣٤ ms", "GET /x", "ends here", "ends here\n", "ends here\nmore",
         "TIMEOUT", "KELVIN \u212a", "cafe café bafé", "ÉRROR error", "a worker_x worker.",
         "line one\nline two", "\u212a", "\u017f", "\u0130", "\u0131", "K", "s", "I", "aaaa",
         "ab", "abc", "ababc", "é", "A", ".", "a\tb", "xyz", "", "\u2003 12 ms", "_", "L"]


@needs_chdb
@pytest.mark.parametrize(("pattern", "flags"), RE2_CASES)
def test_re2_finds_every_match_python_finds(pattern, flags):
    translated = to_re2(pattern, flags)
    assert translated is not None
    python = re.compile(pattern, flags)
    found = engine().query("SELECT arrayMap(t -> match(t, {p:String}), {texts:Array(String)})",
                           parameters={"p": translated, "texts": TEXTS}).result_rows[0][0]
    for text, hit in zip(TEXTS, found, strict=True):
        assert bool(hit) == (python.search(text) is not None), (pattern, text, translated)


@pytest.mark.parametrize(("pattern", "flags"), [("(a)\\1", 0), ("(?<=a)b", 0), ("a(?=b)", 0),
                                                ("x{2000}", 0), ("é", I), ("\\bword", 0),
                                                ("a$b", 0), ("(?i:a)b", 0), ("(a)?(?(1)b|c)", 0)])
def test_re2_refuses_what_it_cannot_say_the_same_way(pattern, flags):
    assert to_re2(pattern, flags) is None


def test_re2_spaces_are_pythons():
    ranges = re.findall(r"\\x\{([0-9A-F]+)\}(?:-\\x\{([0-9A-F]+)\})?", SPACES)
    listed = {c for low, high in ranges for c in range(int(low, 16), int(high or low, 16) + 1)}
    assert listed == {c for c in range(0x110000) if chr(c).isspace()}


# ---------------------------------------------------------------------------------------------
# Counts by the server (the level bar, the logger tree, the histogram) and paging back


@needs_chdb
@pytest.mark.parametrize("text", ["", "level>=WARNING", "logger:app", "timeout or worker"])
def test_server_counts_are_the_counts_of_the_records(table, text):
    import math
    from collections import Counter

    from logview.record import LEVEL_BUCKETS, level_bucket
    from logview.sources.clickhouse_counts import histogram, level_and_logger_counts

    _target, shape = table
    query = parse_query(text)
    feed = RowFeed(engine(), shape, DB, "otel_logs", pushdown=clickhouse_pushdown(query, shape))
    fmt = JsonFormat()
    import orjson

    records = [fmt.parse(orjson.dumps(o).decode()) for o in _fetch(shape, query)]
    counts = level_and_logger_counts(feed)
    buckets = [level_bucket(r.levelno) for r in records]
    assert counts.levels == [buckets.count(i) for i in range(len(LEVEL_BUCKETS))]
    assert (counts.unknown, counts.total) == (buckets.count(-1), len(records))
    assert counts.loggers == dict(Counter(r.logger for r in records))
    expected = Counter((math.floor(r.timestamp / 10) * 10, level_bucket(r.levelno))
                       for r in records)
    assert histogram(feed, 10) == sorted((t, b, n) for (t, b), n in expected.items())


@needs_chdb
def test_paging_back_from_the_newest_window_reads_every_older_row_once(table):
    _target, shape = table
    feed = RowFeed(engine(), shape, DB, "otel_logs")
    window = feed.newest(4)
    pages = [window]
    while page := feed.older(3):
        pages.insert(0, page)
    assert _keys(o for page in pages for o in page) == _keys(_everything(shape))
    assert [o["time"] for page in pages for o in page] == [o["time"] for o in _everything(shape)]
