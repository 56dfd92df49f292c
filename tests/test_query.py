"""The query language: every construct, precedence, fields, times and error positions."""

from __future__ import annotations

import logging
import re
import timeit
from datetime import UTC, datetime, timedelta

import pytest

from logview.query import QUERY_HELP, Query, QueryError, parse_query
from logview.record import Record, level_from_name

NOW = datetime(2024, 3, 10, 12, 0, 0, tzinfo=UTC)


def rec(message: str = "hello", level: str | None = "INFO", **kw) -> Record:
    name, number = level_from_name(level) if level else (None, 0)
    return Record(message=message, level=name, levelno=number, **kw)


def q(text: str) -> Query:
    return parse_query(text, now=NOW)


def match(text: str, record: Record) -> bool:
    return q(text).matches(record)


def error(text: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        parse_query(text, now=NOW)
    return info.value


# ---------------------------------------------------------------------------------------------
# Empty, words and phrases.


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_query_matches_everything(text):
    query = q(text)
    assert query.is_empty and query.min_level == 0
    assert query.matches(rec("anything", level=None))
    assert query.prefilter(level_text=True, json_escaped=False) is None
    assert query.highlight_patterns() == []


def test_word_is_case_insensitive_substring_of_message_exc_and_logger():
    assert match("TIMEOUT", rec("read timeout after 3s"))
    assert match("timeout", rec("x", exc="Traceback...\nTimeoutError: boom"))
    assert match("db", rec("x", logger="app.db"))
    assert not match("timeout", rec("all good", fields={"note": "timeout"}))
    assert not match("timeout", rec("all good"))


def test_non_ascii_word_and_digits():
    assert match("ÜBER", rec("grüße über alles"))
    assert match("503", rec("status 503"))
    assert not match("504", rec("status 503"))
    assert match("→", rec("a → b"))


def test_ascii_word_does_not_fold_unicode_lookalikes():
    # KELVIN SIGN lower-cases to "k"; an ASCII word matches ASCII case only, so the byte
    # prefilter (which looks for ASCII "k") stays sound.
    assert not match("k", rec("\u212a"))
    assert match("k", rec("K"))


def test_several_words_are_anded():
    assert match("disk full", rec("the disk is full"))
    assert not match("disk empty", rec("the disk is full"))


def test_explicit_and_keyword():
    assert match("disk and full", rec("disk full"))
    assert match("disk AND full", rec("disk full"))
    assert not match("disk and empty", rec("disk full"))


def test_quoted_phrase_with_escapes():
    assert match('"disk is full"', rec("the disk is full"))
    assert not match('"disk full"', rec("the disk is full"))
    assert match(r'"say \"hi\""', rec('they say "hi" to you'))
    assert match(r'"back\\slash"', rec("a back\\slash here"))
    assert match('"or"', rec("this or that"))
    assert match('"-1"', rec("offset -1"))


def test_words_with_colons_and_slashes_search_as_typed():
    assert match("http://example.com/x", rec("GET http://example.com/x 200"))
    assert match("ERROR:", rec("ERROR: oops"))
    assert match("foo(bar)", rec("calling foo(bar) now"))


# ---------------------------------------------------------------------------------------------
# Boolean structure.


def test_or_is_looser_than_and():
    query = q("a b or c")  # (a and b) or c
    assert query.matches(rec("a b"))
    assert query.matches(rec("c"))
    assert not query.matches(rec("a"))
    assert not query.matches(rec("b"))
    assert q("a (b or c)").matches(rec("a c"))
    assert not q("a (b or c)").matches(rec("c"))


def test_or_keyword_is_case_insensitive_and_chains():
    assert match("x OR y Or z", rec("z"))
    assert not match("x or y or z", rec("w"))


@pytest.mark.parametrize("text", ["-secret", "not secret", "NOT secret", "-(secret)", "not(secret)"])
def test_negation(text):
    assert match(text, rec("public"))
    assert not match(text, rec("a secret"))


def test_negation_binds_tighter_than_and_and_or():
    assert match("-a b", rec("b"))
    assert not match("-a b", rec("a b"))
    assert match("not a or b", rec("a b"))  # (not a) or b
    assert match("not not a", rec("a"))
    assert not match("-(a or b)", rec("b"))


def test_nested_parentheses():
    query = q("((a or b) (c or d)) or (e -f)")
    assert query.matches(rec("b d"))
    assert query.matches(rec("e"))
    assert not query.matches(rec("e f"))
    assert not query.matches(rec("a"))


# ---------------------------------------------------------------------------------------------
# Regexes.


def test_regex_in_message_and_exception():
    assert match(r"/time(out)?\s+\d+/", rec("timeout 30"))
    assert match("/Error$/m", rec("x", exc="Traceback\nValueError\nKeyError"))
    assert not match("/timeout/", rec("x", logger="timeout"))


def test_regex_flags_and_escaped_slash():
    assert not match("/TIMEOUT/", rec("timeout"))
    assert match("/TIMEOUT/i", rec("timeout"))
    assert match(r"/api\/v1\/users/", rec("GET /api/v1/users"))
    assert match(r"/a.b/s", rec("a\nb"))


def test_regex_followed_by_paren():
    assert match("(/abc/ or x)", rec("xabc"))


# ---------------------------------------------------------------------------------------------
# Levels.


@pytest.mark.parametrize(
    "text, levels_matching",
    [
        ("level>=WARNING", {"WARNING", "ERROR", "CRITICAL"}),
        ("level>=warn", {"WARNING", "ERROR", "CRITICAL"}),
        ("level>=30", {"WARNING", "ERROR", "CRITICAL"}),
        ("level>warning", {"ERROR", "CRITICAL"}),
        ("level=error", {"ERROR"}),
        ("level=ERR", {"ERROR"}),
        ("level:error", {"ERROR"}),
        ("level<INFO", {"DEBUG", "TRACE", None}),
        ("level<=info", {"DEBUG", "TRACE", "INFO", None}),
        ("level!=debug", {"TRACE", "INFO", "WARNING", "ERROR", "CRITICAL", None}),
        ("level=fatal", {"CRITICAL"}),
        ("level>=Critical", {"CRITICAL"}),
    ],
)
def test_level_comparisons(text, levels_matching):
    query = q(text)
    for level in ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", None):
        assert query.matches(rec("m", level=level)) == (level in levels_matching), (text, level)


def test_level_custom_numbers():
    custom = Record("m", level="LEVEL 35", levelno=35)
    assert match("level>=warning", custom)
    assert not match("level>=error", custom)
    assert match("level=35", custom)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("level>=warning", 30),
        ("level>warning", 31),
        ("level=error", 40),
        ("level<error", 0),
        ("level!=error", 0),
        ("level>=info level>=error", 40),
        ("level>=error or level>=info", 20),
        ("-level>=error", 0),
        ("timeout", 0),
        ("(level>=warning timeout) or level=critical", 30),
    ],
)
def test_min_level(text, expected):
    assert q(text).min_level == expected


# ---------------------------------------------------------------------------------------------
# Loggers.


def test_logger_tree_versus_exact():
    tree, exact = q("logger:app.db"), q("logger=app.db")
    for name, in_tree, is_exact in [
        ("app.db", True, True),
        ("app.db.pool", True, False),
        ("app.db.pool.conn", True, False),
        ("app.dbx", False, False),
        ("app", False, False),
        ("xapp.db", False, False),
        ("", False, False),
    ]:
        record = rec("m", logger=name)
        assert tree.matches(record) == in_tree, name
        assert exact.matches(record) == is_exact, name


def test_logger_not_equal_and_regex():
    assert match("logger!=app.db", rec(logger="app.dbx"))
    assert not match("logger!=app.db", rec(logger="app.db"))
    assert match(r"logger~^app\.(db|web)$", rec(logger="app.web"))
    assert not match(r"logger~^app\.(db|web)$", rec(logger="app.webx"))
    assert match("-logger:app.db", rec(logger="app.dbx"))


def test_logger_from_real_logging_records():
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    for name in ("lvq.app.db", "lvq.app.db.pool", "lvq.app.dbx"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
        logger.warning("hi")
        logger.removeHandler(handler)
    records = [Record(r.getMessage(), level=r.levelname, levelno=r.levelno, logger=r.name) for r in seen]
    assert [r.logger for r in records if q("logger:lvq.app.db").matches(r)] == [
        "lvq.app.db",
        "lvq.app.db.pool",
    ]


# ---------------------------------------------------------------------------------------------
# Message, source, line, has:.


def test_message_attribute_terms():
    record = rec("Disk Full on /dev/sda", exc="Traceback\nOSError: disk")
    assert match("msg:full", record)
    assert match("message:FULL", record)
    assert not match("msg:oserror", record)  # message only, not the traceback
    assert match('message="Disk Full on /dev/sda"', record)
    assert not match("message=disk", record)
    assert match("msg~^Disk", record)
    assert match("msg!=other", record)


def test_source_and_line():
    record = rec("m", source="/var/log/app.log", line=120)
    assert match("source:app.log", record)
    assert match("source=/var/log/app.log", record)
    assert match("source~\\.log$", record)
    assert match("line>=100 line<200", record)
    assert match("line=120", record)
    assert not match("line>120", record)
    assert not match("line>=1", rec("m"))


def test_has():
    with_exc = rec("m", exc="Traceback ...", logger="a", fields={"user": {"id": 7}, "k": None})
    bare = rec("m")
    assert match("has:exc", with_exc) and not match("has:exc", bare)
    assert match("has:logger", with_exc) and not match("has:logger", bare)
    assert match("has:user", with_exc) and match("has:user.id", with_exc)
    assert match("has:k", with_exc)  # present even though null
    assert not match("has:user.name", with_exc)
    assert not match("has:time", bare)
    assert match("has:time", rec("m", time=NOW))
    assert match("-has:exc", bare)


# ---------------------------------------------------------------------------------------------
# Fields.


def test_field_equality_text_and_numbers():
    record = rec(fields={"user": "Alice", "status": 503, "code": "503", "ok": True, "ratio": 0.5})
    assert match("user=Alice", record)
    assert not match("user=alice", record)  # case-sensitive
    assert match("status=503", record)
    assert match("code=503", record)
    assert match("status=503.0", record)
    assert match("ok=true", record)
    assert match("ratio=0.5", record)
    assert match('user="Alice"', record)
    assert not match("missing=1", record)


def test_field_not_equal_needs_presence():
    assert match("status!=200", rec(fields={"status": 503}))
    assert not match("status!=503", rec(fields={"status": 503}))
    assert not match("status!=200", rec(fields={}))
    assert match("-status=200", rec(fields={}))


def test_field_numeric_comparisons():
    for value, ge500 in [(503, True), ("503", True), (500, True), (499, False), (499.9, False),
                         ("abc", False), (None, False), (True, False)]:
        record = rec(fields={"status": value})
        assert match("status>=500", record) == ge500, value
    assert match("t<0.25", rec(fields={"t": 0.1}))
    assert match("t<=0.1", rec(fields={"t": "0.1"}))
    assert match("n>-5", rec(fields={"n": -1}))
    assert not match("n>5", rec(fields={}))


def test_field_text_order_when_value_is_not_a_number():
    assert match("ts>=2024-01-02", rec(fields={"ts": "2024-01-03T00:00"}))
    assert not match("ts>=2024-01-02", rec(fields={"ts": "2023-12-31"}))


def test_dotted_fields_nested_and_flat():
    nested = rec(fields={"http": {"status": 503, "req": {"path": "/api"}}})
    flat = rec(fields={"http.status": 503})
    mixed = rec(fields={"http.req": {"path": "/api"}})
    listed = rec(fields={"items": [{"id": 1}, {"id": 2}]})
    assert match("http.status>=500", nested)
    assert match("http.status>=500", flat)
    assert not match("http.status>=504", nested)
    assert match("http.req.path=/api", nested)
    assert match("http.req.path=/api", mixed)
    assert match("items.1.id=2", listed)
    assert not match("items.5.id=2", listed)
    assert not match("http.status.x=1", nested)


def test_field_regex():
    record = rec(fields={"path": "/api/v1/users", "n": 42, "tags": ["a", "b"]})
    assert match("path~^/api/v\\d", record)
    assert match("path~/USERS$/i", record)
    assert match("n~^4", record)
    assert match('tags~"a"', record)
    assert not match("path~^/web", record)


def test_field_keys_with_dashes_and_at():
    assert match("x-request-id=abc", rec(fields={"x-request-id": "abc"}))
    assert match("@timestamp~2024", rec(fields={"@timestamp": "2024-01-01"}))


# ---------------------------------------------------------------------------------------------
# Time.


def at(text: str) -> Record:
    return rec("m", time=datetime.fromisoformat(text))


def test_since_until_iso():
    assert match("since:2024-01-02", at("2024-01-02T00:00:00"))
    assert not match("since:2024-01-02", at("2024-01-01T23:59:59"))
    assert match("since:2024-01-02T03:04", at("2024-01-02T03:04:00"))
    assert match('since:"2024-01-02 03:04:05"', at("2024-01-02T03:04:05"))
    assert not match('since:"2024-01-02 03:04:05"', at("2024-01-02T03:04:04"))
    assert match("until:2024-01-03", at("2024-01-02T23:59:59"))
    assert not match("until:2024-01-03", at("2024-01-03T00:00:00"))
    assert match("since:2024-01-02 until:2024-01-03", at("2024-01-02T12:00"))


def test_naive_and_aware_times_compare_as_instants():
    aware = datetime(2024, 1, 2, 3, 0, tzinfo=UTC)
    local_naive = aware.astimezone().replace(tzinfo=None)
    assert match("since:2024-01-02T03:00Z", rec("m", time=local_naive))
    assert not match("since:2024-01-02T03:00:01Z", rec("m", time=local_naive))
    assert match(f"since:{local_naive.isoformat()}", rec("m", time=aware))


@pytest.mark.parametrize(
    "text, minutes_ago, expected",
    [
        ("since:-15m", 10, True),
        ("since:-15m", 20, False),
        ("since:-2h", 119, True),
        ("since:-2h", 121, False),
        ("since:-1d", 60 * 23, True),
        ("since:-1d", 60 * 25, False),
        ("since:-30s", 0.4, True),
        ("since:-30s", 0.6, False),
        ("until:-15m", 20, True),
        ("until:-15m", 10, False),
        ("since:15m", 10, True),
        ("time>=-1h", 30, True),
        ("time<-1h", 30, False),
    ],
)
def test_relative_times_use_injected_now(text, minutes_ago, expected):
    assert match(text, rec("m", time=NOW - timedelta(minutes=minutes_ago))) == expected


def test_records_without_time_never_match_since_until():
    assert not match("since:2000-01-01", rec("m"))
    assert not match("until:2100-01-01", rec("m"))
    assert match("-since:2000-01-01", rec("m"))


def test_today_and_now():
    assert match("since:today", rec("m", time=NOW))
    assert match("until:now", rec("m", time=NOW - timedelta(seconds=1)))


# ---------------------------------------------------------------------------------------------
# Errors and their positions.


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("level>=LOUD", 7, "unknown level 'LOUD'"),
        ("a level=loud", 8, "unknown level 'loud'"),
        ("(a b", 0, "unclosed '('"),
        ("x (a (b)", 2, "unclosed '('"),
        ("a)", 1, "unmatched ')'"),
        ("a b) c", 3, "unmatched ')'"),
        (")", 0, "unmatched ')'"),
        ("()", 0, "empty parentheses"),
        ('a "abc', 2, "unterminated quote"),
        ('""', 0, "empty phrase"),
        ("x /abc", 2, "unterminated regex"),
        ("x /a(/", 2, "invalid regex"),
        ("x /a/q", 5, "unknown regex flag 'q'"),
        ("/api/v1", 5, "unknown regex flag"),
        ("/a/b/", 3, "unknown regex flag"),
        ("//", 0, "empty regex"),
        ("path~(", 5, "invalid regex"),
        ("path~/a[/", 5, "invalid regex"),
        ("since:garbage", 6, "bad time 'garbage'"),
        ("until:2024-13-45", 6, "bad time"),
        ("k>=", 1, "'k>=' needs a value"),
        ("a status= b", 8, "'status=' needs a value"),
        ("has:", 3, "'has:' needs a value"),
        ("a or", 2, "'or' needs a term after it"),
        ("a or or b", 2, "'or' needs a term after it"),
        ("or a", 0, "'or' needs a term before it"),
        ("(or a)", 1, "'or' needs a term before it"),
        ("a or )", 2, "'or' needs a term after it"),
        ("not", 0, "'not' needs a term after it"),
        ("a not", 2, "'not' needs a term after it"),
        ("(not)", 1, "'not' needs a term after it"),
        ("a -", 2, "'-' needs a term right after it"),
        ("a - b", 2, "'-' needs a term right after it"),
        ("and a", 0, "'and' needs a term before it"),
        ("a and", 2, "'and' needs a term after it"),
        ("line>=abc", 6, "line needs a number"),
        ("level~err", 5, "'level' does not take '~'"),
        ("logger>app", 6, "'logger' does not take '>'"),
        ("since>2024-01-01", 5, "'since' does not take '>'"),
        ("has=exc", 3, "'has' does not take '='"),
    ],
)
def test_errors_point_at_the_offending_token(text, position, fragment):
    err = error(text)
    assert fragment in err.message, (text, err.message)
    assert err.position == position, (text, str(err))
    assert isinstance(err, ValueError)


def test_error_str_and_caret():
    err = error("level>=LOUD")
    assert str(err) == "unknown level 'LOUD' at column 8"
    assert err.caret() == "level>=LOUD\n       ^"
    err = error("a and (b")
    assert err.caret().splitlines() == ["a and (b", "      ^"]


def test_deeply_nested_query_is_an_error_not_a_crash():
    err = error("x " + "(" * 5000 + "a" + ")" * 5000)
    assert "nested deeper" in err.message and err.position == 2 + 64
    assert match("(" * 60 + "a" + ")" * 60, rec("a"))


def test_long_negation_chains_collapse():
    assert match("not " * 3001 + "a", rec("b"))
    assert match("-" * 3000 + "a", rec("a"))
    assert not match("-" * 3001 + "a", rec("a"))


# ---------------------------------------------------------------------------------------------
# Highlighting, help, speed.


def test_highlight_patterns_skip_negated_terms():
    patterns = q('timeout "disk full" /err(or)?/i -secret not /hidden/ msg:abc logger:x').highlight_patterns()
    texts = [p.pattern for p in patterns]
    assert re.escape("timeout") in texts and re.escape("disk full") in texts
    assert "err(or)?" in texts and re.escape("abc") in texts
    assert not any("secret" in t or "hidden" in t for t in texts)
    assert patterns[0].search("TIMEOUT")  # case-insensitive
    assert all(isinstance(p, re.Pattern) for p in patterns)


def test_query_help_is_compact_and_mentions_each_construct():
    lines = QUERY_HELP.splitlines()
    assert 10 <= len(lines) <= 20
    for construct in ("level>=", "logger:", "/regex/", "has:exc", "since:", " or ", "-x", "~"):
        assert construct in QUERY_HELP, construct


@pytest.mark.serial  # (a time per call)
def test_matches_costs_a_few_microseconds():
    record = Record(
        "GET /api/users/42 answered in 12 ms",
        level="WARNING",
        levelno=30,
        logger="app.web.request",
        fields={"status": 503, "user": "alice"},
        time=NOW,
    )
    query = q('level>=warning logger:app.web timeout or status>=500 -"health check"')
    assert query.matches(record)
    runs = 20000
    seconds = min(timeit.repeat(lambda: query.matches(record), number=runs, repeat=3))
    assert seconds / runs < 10e-6, f"{seconds / runs * 1e6:.2f} us per record"
