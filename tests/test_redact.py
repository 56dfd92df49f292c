"""Redaction (``logview/redact.py``): each rule masks what it should and nothing else, records
are masked where they are made, and the scanner's byte prefilter stays a necessary condition."""

from __future__ import annotations

import pytest

from logview.formats.base import PlainFormat
from logview.formats.jsonl import JsonFormat
from logview.query import parse_query
from logview.record import Record
from logview.redact import (
    BUILTIN_NAMES,
    RedactError,
    Redactor,
    choose_rules,
    custom_rule,
    is_card,
    luhn,
)
from logview.redact_config import build_redactor, config_from_table, load_config
from logview.scan import Matcher, iter_matching_records, query_prefilter, redaction_safe
from logview.sources.base import MemorySource
from logview.store import LogStore

ALL = Redactor(choose_rules(["all"]))


def masked(text: str, *rules: str) -> str:
    return (Redactor(choose_rules(rules)) if rules else ALL).text(text)


@pytest.mark.parametrize("text, expected", [
    ("mail bob.smith+tag@example.co.uk now", "mail [email] now"),
    ("<alice@mail.example.com>", "<[email]>"),
    ("mailto:x_y@a-b.io.", "mailto:[email]."),
])
def test_email_masked(text, expected):
    assert masked(text, "email") == expected


@pytest.mark.parametrize("text", ["user@localhost", "a@b", "@handle says", "x@1.2", "foo@bar."])
def test_email_needs_a_dotted_domain(text):
    assert masked(text, "email") == text


@pytest.mark.parametrize("text, expected", [
    ("from 10.0.0.1:8080", "from [ipv4]:8080"),
    ("peer=192.168.1.255,", "peer=[ipv4],"),
    ("last hop 8.8.8.8.", "last hop [ipv4]."),
    ("[0.0.0.0]", "[[ipv4]]"),
])
def test_ipv4_masked(text, expected):
    assert masked(text, "ipv4") == expected


@pytest.mark.parametrize("text", [
    "version 1.2.3.4.5",  # a five-part version number is no address
    "build 2024.1.2.3.4",
    "256.1.1.1",  # an octet above 255
    "01.2.3.4",  # leading zeros: not how addresses are written
    "v1.2.3.4",  # glued to a word
    "1.2.3",
    "3.14159",
])
def test_ipv4_leaves_other_dotted_numbers(text):
    assert masked(text, "ipv4") == text


@pytest.mark.parametrize("text, expected", [
    ("from 2001:db8::8a2e:370:7334 ok", "from [ipv6] ok"),
    ("[::1]:8080", "[[ipv6]]:8080"),
    ("fe80::1%eth0 up", "[ipv6] up"),
    ("1:2:3:4:5:6:7:8", "[ipv6]"),
    ("::ffff:10.0.0.1", "[ipv6]"),
])
def test_ipv6_masked(text, expected):
    assert masked(text, "ipv6", "ipv4") == expected


@pytest.mark.parametrize("text", [
    "at 12:34:56 done", "mac 00:1a:2b:3c:4d:5e", "std::vector<int>", "Foo::bar", "ratio 1:2:3",
])
def test_ipv6_leaves_times_macs_and_scopes(text):
    assert masked(text, "ipv6") == text


@pytest.mark.parametrize("text, expected", [
    ("Authorization: Bearer abc.def-ghi_123", "Authorization: Bearer [token]"),
    ('"authorization": "Basic dXNlcjpwYXNz"', '"authorization": "Basic [token]"'),
    ("curl -H 'bearer 0123456789abcdef'", "curl -H 'bearer [token]'"),
    ("refused (Authorization: Bearer abc.def)", "refused (Authorization: Bearer [token])"),
])
def test_tokens_masked(text, expected):
    assert masked(text, "token") == expected


@pytest.mark.parametrize("text", ["bearer of bad news", "the token bearer was late"])
def test_bearer_words_left(text):
    assert masked(text, "token") == text


@pytest.mark.parametrize("key", [
    "sk-proj-abcdefghijklmnopqrstuvwx", "sk-" + "A1b2" * 12, "sk_live_abcdefghijklmnop1234",
    "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1B2" * 9, "github_pat_" + "x" * 30,
    "xoxb-123456789012-abcdefABCDEF", "xoxp-1234567890-abc", "glpat-abcdefghij0123456789",
])
def test_api_keys_masked(key):
    assert masked(f"using {key} now", "key") == "using [key] now"


@pytest.mark.parametrize("text", [
    "sk-short", "task-abcdefghijklmnopqrstuvwxyz", "AKIAshort", "ghp_tooshort", "xox-1234567890",
])
def test_api_key_shapes_only(text):
    assert masked(text, "key") == text


def test_jwt_masked():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    assert masked(f"session {jwt} ok", "jwt") == "session [jwt] ok"
    assert masked("eyJhbGciOiJIUzI1NiJ9 alone", "jwt") == "eyJhbGciOiJIUzI1NiJ9 alone"


@pytest.mark.parametrize("text, expected", [
    ("login password=hunter2 ok", "login password=[secret] ok"),
    ("token=abc&next=/home", "token=[secret]&next=/home"),
    ("API_KEY: xyz123", "API_KEY: [secret]"),
    ("secret='two words'", "secret='[secret]'"),
    ('{"password": "p\\"w d", "user": "bob"}', '{"password": "[secret]", "user": "bob"}'),
    ('{"db_password":"x","aws_secret_access_key":"y"}',
     '{"db_password":"[secret]","aws_secret_access_key":"[secret]"}'),
    ("client_secret=abc; next", "client_secret=[secret]; next"),
])
def test_secret_values_masked(text, expected):
    assert masked(text, "secret") == expected


@pytest.mark.parametrize("text", [
    "tokens=5", "total_tokens=7", "passwords_reset=3", "the password was wrong", "secretary=ann",
])
def test_secret_needs_the_key_itself(text):
    assert masked(text, "secret") == text


def test_luhn():
    assert luhn("4111111111111111") and luhn("79927398713")
    assert not luhn("4111111111111112") and not luhn("79927398710")


@pytest.mark.parametrize("text, expected", [
    ("card 4111 1111 1111 1111 ok", "card [card] ok"),
    ("card 4111-1111-1111-1111.", "card [card]."),
    ("amex 378282246310005", "amex [card]"),
    ("mc 5555555555554444,", "mc [card],"),
    ("amex 3782 822463 10005", "amex [card]"),
])
def test_cards_masked(text, expected):
    assert masked(text, "card") == expected


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112",  # fails the Luhn check
    "epoch ms 1700000000123",  # no issuer starts with 1 (and 1 in 10 numbers pass Luhn)
    "id 79927398713",  # Luhn-valid but 11 digits
    "n 41111111111111111111111",  # 23 digits: no card
    "x4111111111111111",  # glued to a word
    "order 4111111111111111.5",
    "2024-01-02 03:04:05,123",
])
def test_card_needs_shape_issuer_and_luhn(text):
    assert masked(text, "card") == text


def test_is_card():
    assert is_card("4111 1111 1111 1111") and not is_card("4111 1111 1111 1112")


def test_rules_combine_and_markers_are_not_matched_again():
    text = "user bob@example.com from 10.1.2.3 paid with 4111111111111111 token=abc"
    assert ALL.text(text) == "user [email] from [ipv4] paid with [card] token=[secret]"
    assert ALL.text(ALL.text(text)) == ALL.text(text)


def test_custom_rule_and_bad_regex_named():
    rule = custom_rule("customer_id", "cust-[0-9]{6}")
    redactor = Redactor(choose_rules(["all"], [rule]))
    assert redactor.text("for cust-123456 at a@b.io") == "for [customer_id] at [email]"
    with pytest.raises(RedactError, match="rule 'broken'.*bad regex"):
        custom_rule("broken", "cust-([0-9")
    with pytest.raises(RedactError, match="rule 'empty'.*matches empty text"):
        custom_rule("empty", "x*")
    with pytest.raises(RedactError, match="built-in"):
        custom_rule("email", "x")


def test_choose_rules():
    assert [rule.name for rule in choose_rules(["email", "ipv4"])] == ["email", "ipv4"]
    assert [rule.name for rule in choose_rules(["all"])] == list(BUILTIN_NAMES)
    with pytest.raises(RedactError, match="unknown redaction rule 'mail'"):
        choose_rules(["mail"])


def test_config_table(tmp_path):
    config = config_from_table({"enabled": True, "use": ["email", "customer_id"],
                                "rules": {"customer_id": "cust-[0-9]{6}"}})
    redactor = build_redactor(None, config=config)
    assert redactor is not None and redactor.names == ("customer_id", "email")
    assert build_redactor(None, disabled=True, config=config) is None
    assert build_redactor("ipv4", config=config).names == ("ipv4",)
    with pytest.raises(RedactError, match=r"\[redact\] rule 'bad': bad regex"):
        config_from_table({"rules": {"bad": "("}})
    with pytest.raises(RedactError, match="unknown key 'enable'"):
        config_from_table({"enable": True})
    (tmp_path / "config.toml").write_text("[redact]\nrules = { order = 'ord-[0-9]+' }\n")
    assert [rule.name for rule in load_config(tmp_path).custom] == ["order"]
    (tmp_path / "config.toml").write_text("[redact\n")
    with pytest.raises(RedactError, match="not valid TOML"):
        load_config(tmp_path)
    assert build_redactor(None, config=load_config(tmp_path / "none")) is None


def test_fields_masked_deeply():
    fields = {"password": 1234, "card": 4111111111111111, "count": 12,
              "users": ["a@b.io", {"api_key": "k", "ip": "10.0.0.1"}], "ok": True, "none": None}
    assert ALL.fields(fields) == {
        "password": "[secret]", "card": "[card]", "count": 12,
        "users": ["[email]", {"api_key": "[secret]", "ip": "[ipv4]"}], "ok": True, "none": None}


def test_record_masked_but_level_logger_and_time_kept():
    raw = "2024-01-02 03:04:05 ERROR app.db: login bob@x.io from 10.0.0.1\nTraceback: a@b.io"
    record = Record(message="login bob@x.io from 10.0.0.1", level="ERROR", levelno=40,
                    logger="app.db", exc="Traceback: a@b.io", raw=raw,
                    fields={"ip": "10.0.0.9"}, data=raw.encode() + b"\xff\n", line=3)
    out = ALL.record(record)
    assert out.message == "login [email] from [ipv4]"
    assert out.exc == "Traceback: [email]"
    assert out.raw.endswith("login [email] from [ipv4]\nTraceback: [email]")
    assert out.fields == {"ip": "[ipv4]"}
    assert (out.level, out.levelno, out.logger, out.line) == ("ERROR", 40, "app.db", 3)
    assert out.data is not None and out.data.endswith(b"Traceback: [email]\xff\n")  # bytes kept
    assert record.message.startswith("login bob@")  # the original is not changed
    clean = Record(message="nothing", raw="nothing", data=b"nothing\r\n")
    assert ALL.record(clean).data == b"nothing\r\n"


def test_touches_marker():
    assert ALL.touches_marker("[") and ALL.touches_marker("mail") and ALL.touches_marker("IPv4")
    assert not ALL.touches_marker("timeout") and not ALL.touches_marker("mails")


def _store(text: str, fmt=None, redactor: Redactor | None = ALL) -> LogStore:
    source = MemorySource("mem", text.encode())
    source.finish()
    store = LogStore(source, fmt or PlainFormat(), redactor)
    store.update(final=True)
    return store


LINES = "".join(f"event {i} user u{i}@example.com from 10.0.0.{i}\n" for i in range(20))


def test_store_records_are_redacted():
    store = _store(LINES)
    assert store.record(3).message == "event 3 user [email] from [ipv4]"
    assert store.parse_original(3).message == "event 3 user u3@example.com from 10.0.0.3"


def test_query_reads_redacted_text_by_default():
    store = _store(LINES)
    assert list(iter_matching_records(store, parse_query("u3@example.com"))) == []
    found = list(iter_matching_records(store, parse_query('"[email] from [ipv4]"')))
    assert len(found) == 20  # found through markers the raw bytes do not hold
    assert [r.line for r in iter_matching_records(store, parse_query('"event 7 user"'))] == [8]


def test_query_reads_the_original_when_asked():
    store = _store(LINES, redactor=Redactor(choose_rules(["all"]), search_original=True))
    (record,) = iter_matching_records(store, parse_query("u3@example.com"))
    assert record.message == "event 3 user [email] from [ipv4]"
    assert list(iter_matching_records(store, parse_query('"[email]"'))) == []


def test_prefilter_keeps_only_groups_redaction_cannot_make_true():
    fmt = PlainFormat()
    both = query_prefilter(fmt, parse_query("timeout [email]"))
    assert both is not None and len(both.groups) == 2
    safe = redaction_safe(both, ALL)
    assert safe is not None and len(safe.groups) == 1
    assert safe.alternatives[0][0][0].lower() == b"timeout"
    assert redaction_safe(query_prefilter(fmt, parse_query("ipv4")), ALL) is None
    original = Redactor(choose_rules(["all"]), search_original=True)
    assert redaction_safe(both, original) is both
    assert Matcher(fmt, parse_query("timeout"), ALL).prefilter is not None


def test_json_records_fields_and_raw_redacted():
    text = ('{"time": "2024-01-02T03:04:05", "level": "info", "message": "login a@b.io", '
            '"password": "hunter2", "client": {"ip": "10.9.8.7"}}\n')
    store = _store(text, JsonFormat())
    record = store.record(0)
    assert record.message == "login [email]"
    assert record.fields["password"] == "[secret]" and record.fields["client"]["ip"] == "[ipv4]"
    assert "hunter2" not in record.raw and "10.9.8.7" not in record.raw


@pytest.mark.parametrize("hostile", [
    "eyJ" * 100_000, "sk-" * 100_000, "a" * 300_000 + "@", "a.b" * 100_000 + "@x.io",
    "1:" * 150_000, "4" * 300_000, "password" + " " * 300_000, "password= " * 30_000,
])
def test_hostile_text_costs_linear_time(hostile):
    """No rule backtracks over a long run of what it matches (each would take minutes)."""
    import time

    start = time.process_time()
    ALL.text(hostile)
    assert time.process_time() - start < 1.0
