"""The byte prefilter: its rules, and a property test that it never excludes a matching record."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logview.query import Prefilter, QueryError, parse_query
from logview.record import Record, level_from_name

NOW = datetime(2024, 3, 10, 12, 0, 0, tzinfo=UTC)


def prefilter(text: str, *, level_text: bool = True, json_escaped: bool = False) -> Prefilter | None:
    return parse_query(text, now=NOW).prefilter(level_text=level_text, json_escaped=json_escaped)


def text_line(level: str, logger: str, message: str) -> bytes:
    return f"2024-01-02 03:04:05,123 {level:<8} [{logger}] {message}\n".encode()


# ---------------------------------------------------------------------------------------------
# Rules.


def test_level_threshold_names_every_spelling_that_satisfies_it():
    pf = prefilter("level>=ERROR")
    assert pf is not None and len(pf.groups) == 1
    for name in ("ERROR", "error", "Error", "ERR", "FATAL", "fatal", "CRITICAL", "Crit", "EMERG",
                 "ALERT", "Level 45", "PANIC"):
        assert pf.may_match(text_line(name, "app", "x")), name
    for name in ("INFO", "warning", "Warn", "DEBUG", "notice"):
        assert not pf.may_match(text_line(name, "app", "x")), name


def test_level_equality_and_custom_numbers():
    pf = prefilter("level=warning")
    assert pf is not None
    assert pf.may_match(text_line("WARN", "a", "m")) and pf.may_match(text_line("wrn", "a", "m"))
    assert not pf.may_match(text_line("ERROR", "a", "m"))
    custom = prefilter("level=15")
    assert custom is not None and custom.may_match(text_line("Level 15", "a", "m"))
    assert prefilter("level=25").may_match(b'{"level": "SUCCESS"}')


def test_levels_only_with_level_text():
    assert prefilter("level>=error", level_text=False) is None
    assert prefilter("level<info") is None
    assert prefilter("level<=warning") is None
    assert prefilter("level!=debug") is None
    assert prefilter("level>=0") is None


def test_logger_gives_its_literal():
    pf = prefilter("logger:app.db")
    assert pf is not None and [g.pattern for g in pf.groups] == [re.escape(b"app.db")]
    assert pf.may_match(text_line("INFO", "app.db.pool", "m"))
    assert not pf.may_match(text_line("INFO", "app.web", "m"))
    assert prefilter("logger!=app.db") is None


def test_words_are_case_insensitive_needles():
    pf = prefilter("timeout")
    assert pf is not None
    assert pf.may_match(b"... TimeOut ...") and not pf.may_match(b"time out")
    assert prefilter("über") is None  # non-ASCII: no needle
    assert prefilter('"say \\"hi\\""') is not None
    assert prefilter('"say \\"hi\\""', json_escaped=True) is None
    assert prefilter("a/b", json_escaped=True) is None
    assert prefilter("a/b", json_escaped=False) is not None


def test_regex_literals_only_when_safe():
    assert [g.pattern for g in prefilter(r"/connection\s+reset/").groups] == [b"connection"]
    assert prefilter("/a|bc/") is None
    assert prefilter("/x?/") is None
    assert prefilter(r"/[a-z]+\d/") is None
    # Under Unicode case folding i, k and s also match non-ASCII letters (U+212A KELVIN SIGN):
    # only the pieces between them are needles.
    assert [g.pattern for g in prefilter("/Disk full/i").groups] == [b"(?i:\\ full)"]
    assert prefilter("/kelvin/i").groups[0].pattern == b"(?i:elv)"
    assert prefilter("/kis/i") is None
    assert prefilter("/Straße 12/").groups[0].pattern == b"Stra"


def test_or_unions_only_when_every_side_has_a_group():
    pf = prefilter("timeout or logger:app.db")
    assert pf is not None and len(pf.groups) == 1
    assert pf.may_match(b"TIMEOUT") and pf.may_match(b"[app.db]")
    assert not pf.may_match(b"nothing here")
    assert prefilter("timeout or -disk") is None
    assert prefilter("timeout or status>=500") is None
    assert prefilter("not timeout") is None
    assert prefilter("status=503 has:exc source:x line>3 since:-1h") is None


def test_and_keeps_all_groups_and_drops_implied_ones():
    pf = prefilter("timeout logger:app.db (timeout or disk)")
    assert pf is not None and len(pf.groups) == 2
    assert not pf.may_match(b"[app.db] disk")
    assert pf.may_match(b"[app.db] TIMEOUT")


def test_escape_bytes_make_a_record_a_candidate():
    # ANSI codes are stripped from parsed text, so "ERR\x1b[0mOR" parses as containing ERROR.
    pf = prefilter("error")
    assert pf is not None and pf.may_match(b"ERR\x1b[0mOR")


def test_prefilter_is_cached_per_flags():
    query = parse_query("timeout")
    assert query.prefilter(level_text=True, json_escaped=False) is query.prefilter(
        level_text=True, json_escaped=False
    )


# ---------------------------------------------------------------------------------------------
# Soundness: matches(record) implies may_match(raw bytes of record), for text and JSON lines.

VOCAB = ["timeout", "Disk", "full", "error", "WARN", "kelvin", "\u212aelvin", "Straße", "app", "503",
         "k", "s", "i", "\u212a", "ı", "\u017fki", "id=7", 'q"uote', "back\\slash", "a/b", "<tag>", "tab\there"]
LOGGERS = ["", "app", "app.db", "app.dbx", "app.db.pool", "root", "ünï.codé", 'we"ird\\', "a/b"]
LEVEL_NAMES = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "WARN", "ERROR", "ERR", "CRITICAL",
               "FATAL", "EMERG", "PANIC", "Level 15", "Level 40", "SUCCESS", "VERBOSE", None]
LEVEL_QUERY_VALUES = ["trace", "debug", "info", "notice", "warning", "warn", "error", "err",
                      "critical", "fatal", "10", "15", "25", "30", "35", "40", "0", "60"]

words = st.one_of(
    st.sampled_from(VOCAB),
    st.text(min_size=1, max_size=6),
    st.sampled_from(VOCAB).map(str.upper),
)
messages = st.one_of(
    st.lists(st.sampled_from(VOCAB), max_size=4).map(" ".join),
    st.lists(words, max_size=6).map(" ".join),
    st.text(max_size=30),
)


# (The strategies a record draws from are made once: building and validating them again for
# every record drawn was most of these tests' time.)
_LEVEL_WRITTEN = st.sampled_from(LEVEL_NAMES)
_CASES = st.sampled_from((0, 1, 2))  # as written, lower case, title case
_EXCS = st.none() | messages.map(lambda m: "Traceback (most recent call last):\n" + m)
_FIELDS = st.dictionaries(
    st.sampled_from(["status", "user", "http"]),
    st.one_of(st.integers(400, 600), st.text(max_size=5), st.just({"status": 503})),
    max_size=3,
)
_LOGGERS = st.sampled_from(LOGGERS)
_TIMES = st.none() | st.just(datetime(2024, 3, 10, 11, 30, tzinfo=UTC))


@st.composite
def records(draw) -> tuple[Record, str]:
    written = draw(_LEVEL_WRITTEN)
    if written is not None:
        written = [written, written.lower(), written.title()][draw(_CASES)]
    name, number = level_from_name(written) if written else (None, 0)
    if written and written.upper() == "SUCCESS":
        number = 25  # loguru's JSON carries the number along with the name
    exc = draw(_EXCS)
    fields = draw(_FIELDS)
    record = Record(
        message=draw(messages),
        level=name,
        levelno=number,
        logger=draw(_LOGGERS),
        exc=exc,
        fields=fields,
        time=draw(_TIMES),
    )
    return record, written or ""


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def regex_literal(text: str) -> str:
    return "/" + re.escape(text).replace("/", "\\/") + "/"


text_terms = st.one_of(
    st.sampled_from(VOCAB).map(quoted),
    st.text(min_size=1, max_size=5).map(quoted),
    st.sampled_from(["timeout", "disk", "error", "warn", "503", "app", "k", "s", "i"]),
    st.sampled_from(VOCAB).map(regex_literal),
    st.tuples(st.sampled_from(VOCAB), st.sampled_from(["", "i"])).map(
        lambda t: regex_literal(t[0]) + t[1]
    ),
    st.sampled_from([r"/disk\s+full/i", "/time(out)?/", "/err(or)?s?/i", "/[0-9]{3}/", "/a|b/",
                     "/kelvin/i", "/ski/i", "/(?i)timeout/"]),
    st.sampled_from(VOCAB).map(lambda w: "msg:" + quoted(w)),
)
level_terms = st.tuples(
    st.sampled_from(["level>=", "level>", "level=", "level<", "level<=", "level!=", "level:"]),
    st.sampled_from(LEVEL_QUERY_VALUES),
).map("".join)
other_terms = st.one_of(
    st.tuples(st.sampled_from(["logger:", "logger=", "logger!="]),
              st.sampled_from(LOGGERS[1:]).map(quoted)).map("".join),
    st.sampled_from(LOGGERS[1:]).map(lambda name: "logger~" + quoted(re.escape(name))),
    st.sampled_from(["status>=500", "status=503", "http.status>=500", "has:exc", "has:user",
                     "since:-1h", "until:2024-03-10", "user~a", "message~Disk"]),
)
term = st.one_of(text_terms, level_terms, other_terms)


def queries(depth: int = 3) -> st.SearchStrategy[str]:
    return st.recursive(
        term,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(" ".join),
            st.lists(inner, min_size=2, max_size=3).map(" or ".join),
            inner.map(lambda q: f"({q})"),
            inner.map(lambda q: f"-({q})"),
            inner.map(lambda q: f"not ({q})"),
        ),
        max_leaves=6,
    )


def text_raw(record: Record, written_level: str) -> bytes:
    line = f"2024-03-10 11:30:00,000 {written_level:<8} [{record.logger}] {record.message}"
    if record.exc:
        line += "\n" + record.exc
    return (line + "\n").encode("utf-8")


def json_raws(record: Record, written_level: str) -> list[bytes]:
    obj = {"time": "2024-03-10T11:30:00", "level": written_level, "logger": record.logger,
           "message": record.message, "exc_info": record.exc, **record.fields}
    return [
        json.dumps(obj).encode(),  # ensure_ascii: non-ASCII as \uXXXX
        json.dumps(obj, ensure_ascii=False).encode(),
        orjson.dumps(obj),
        # Go-style HTML-safe escaping and PHP-style escaped slashes
        json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("/", "\\/").encode(),
    ]


def check_sound(query_text: str, recs: list[tuple[Record, str]]) -> None:
    query = parse_query(query_text, now=NOW)
    for level_text in (True, False):
        as_text = query.prefilter(level_text=level_text, json_escaped=False)
        as_json = query.prefilter(level_text=level_text, json_escaped=True)
        for record, written in recs:
            if not query.matches(record):
                continue
            if as_text is not None:
                assert as_text.may_match(text_raw(record, written)), (query_text, record)
            if as_json is not None:
                for raw in json_raws(record, written):
                    assert as_json.may_match(raw), (query_text, record, raw)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries(), st.lists(records(), min_size=1, max_size=4))
def test_prefilter_never_excludes_a_matching_record(query_text, recs):
    check_sound(query_text, recs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(text_terms, level_terms, other_terms), st.lists(records(), min_size=1, max_size=12))
def test_prefilter_of_single_terms_never_excludes_a_matching_record(query_text, recs):
    check_sound(query_text, recs)


def plain(message: str, written: str = "INFO", **kw) -> tuple[Record, str]:
    name, number = level_from_name(written)
    return Record(message, level=name, levelno=kw.pop("levelno", number), **kw), written


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(level_terms, st.lists(records(), min_size=1, max_size=12))
@example("level>=error", [plain("m", "Level 40")])
@example("level>=warning", [plain("m", "Level 35")])
@example("level=25", [plain("m", "SUCCESS", levelno=25)])
def test_level_prefilter_never_excludes_a_matching_record(query_text, recs):
    check_sound(query_text, recs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_terms, st.lists(records(), min_size=1, max_size=12))
@example("/kelvin/i", [plain("\u212aelvin")])
@example("k", [plain("\u212a")])
@example('"a/b"', [plain("x a/b y")])
@example('"<tag>"', [plain("<tag>")])
@example('"q\\"uote"', [plain('q"uote')])
def test_text_prefilter_never_excludes_a_matching_record(query_text, recs):
    check_sound(query_text, recs)


@settings(max_examples=300, deadline=None)
@given(queries())
def test_generated_queries_parse_and_roundtrip_through_parentheses(query_text):
    plain = parse_query(query_text, now=NOW)
    wrapped = parse_query(f"({query_text})", now=NOW)
    probe = Record("timeout disk full 503", level="ERROR", levelno=40, logger="app.db")
    assert plain.matches(probe) == wrapped.matches(probe)
    assert plain.min_level == wrapped.min_level


def test_a_prefilter_admitting_a_mark_lets_records_with_it_through():
    from logview.query import parse_query

    pre = parse_query("alert").prefilter(level_text=False, json_escaped=True)
    assert pre is not None and not pre.may_match(b'{"MESSAGE":[114,101,100],"PRIORITY":"1"}')
    admitting = pre.admitting((b'"MESSAGE":[',))
    assert admitting.may_match(b'{"MESSAGE":[114,101,100],"PRIORITY":"1"}')
    assert admitting.may_match(b'{"MESSAGE":"red alert"}')
    assert not admitting.may_match(b'{"MESSAGE":"all quiet"}')
    assert all((b'"MESSAGE":[', False) in alts for alts in admitting.alternatives)


def test_alternatives_that_imply_each_other_keep_one():
    """``"WARN" or warn`` gives two needles that ignore case and imply each other: both were
    dropped, the group was empty and building the prefilter raised (found by hypothesis)."""
    query = parse_query('(("WARN" or warn))')
    prefilter = query.prefilter(level_text=True, json_escaped=False)
    assert prefilter is not None
    assert prefilter.may_match(b"a Warning here") and not prefilter.may_match(b"nothing")


# ---------------------------------------------------------------------------------------------
# Field terms over JSON lines: the key is a needle where the format names every field.

FIELD_KEYS = ["status", "user", "http", "id", "items", "0", "user.id", "_extra", "stack_info",
              "stack", "levelno", "fields", "log", "level", "name", "message", "record", "a.b"]
field_values = st.recursive(
    st.one_of(st.integers(-5, 600), st.text(max_size=4), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(FIELD_KEYS), inner, max_size=3)),
    max_leaves=6,
)
field_paths = st.lists(st.sampled_from(FIELD_KEYS), min_size=1, max_size=3).map(".".join)
field_queries = st.tuples(
    field_paths, st.sampled_from(["=", "!=", ">=", "<", "~"]),
    st.sampled_from(["503", "1", "a", "true", "null", "x"]),
).map(lambda t: f"{t[0]}{t[1]}{t[2]}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field_queries, st.dictionaries(st.sampled_from(FIELD_KEYS), field_values, max_size=5),
       st.sampled_from(["json", "ascii", "orjson", "loguru", "own"]))
@example("user.id=1", {"user": {"id": 1}}, "json")
@example("user.id=1", {"user.id": 1}, "json")
@example("items.0.id=1", {"items": [{"id": 1}]}, "json")
@example("extra=1", {"_extra": 1, "version": "1.1", "short_message": "m"}, "json")
@example("stack_info~a", {"stack": ["a"], "message": "m"}, "json")
def test_field_needles_never_exclude_what_the_json_parser_gives(query_text, obj, how):
    """The parser itself makes the record (python-json-logger, GELF, loguru's and logview's own
    schemas, ECS's nested objects): a field term it matches always passes the prefilter."""
    from logview.formats.jsonl import JsonFormat

    fmt = JsonFormat()
    if how == "loguru":
        obj = {"text": "m\n", "record": {**obj, "message": "m", "level": {"name": "INFO", "no": 20},
                                         "extra": dict(obj)}}
    elif how == "own":
        obj = {"time": "2024-03-10T11:30:00", "message": "m", "fields": obj.get("fields", obj)}
    raw = {"json": lambda o: json.dumps(o, ensure_ascii=False),
           "ascii": json.dumps, "orjson": lambda o: orjson.dumps(o).decode()}.get(
        how, json.dumps)(obj)
    try:
        query = parse_query(query_text, now=NOW)
    except QueryError:  # (level=a: the special keys take their own values)
        return
    pf = query.prefilter(level_text=False, json_escaped=True, fields_named=fmt.fields_named)
    record = fmt.parse_raw(raw)
    if query.matches(record) and pf is not None:
        assert pf.may_match(raw.encode()), (query_text, raw, record.fields)


def test_a_field_term_is_a_needle_only_where_fields_are_named_in_the_bytes():
    query = parse_query("status>=500", now=NOW)
    assert query.prefilter(level_text=False, json_escaped=True) is None  # (a template's fields)
    pf = query.prefilter(level_text=False, json_escaped=True, fields_named=frozenset())
    assert pf is not None
    assert pf.may_match(b'{"message": "m", "status": 503}')
    assert not pf.may_match(b'{"message": "m", "user": 7}')
    # A name the parser makes itself is no needle; list indexes are none either.
    made = frozenset({"levelno"})
    assert parse_query("levelno=40").prefilter(level_text=False, json_escaped=True,
                                                fields_named=made) is None
    assert parse_query("items.0=1").prefilter(level_text=False, json_escaped=True,
                                              fields_named=made).may_match(b'{"items": [1]}')
