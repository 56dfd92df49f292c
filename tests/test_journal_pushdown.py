"""What of a query journalctl is asked to filter (``--priority``, ``--since``/``--until``,
``FIELD=value``), and what stays local; no journal needed. That the results equal a local
filter's is checked against real journals in test_journal_source.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logview.query import parse_query
from logview.query.pushdown import PushDown, PushDownTarget, conjuncts
from logview.record import Record, level_from_syslog
from logview.sources.journal_pushdown import JournalctlPushDown, journal_pushdown

NOW = datetime(2024, 1, 2, 12, 0, 0, tzinfo=UTC)


def push(text: str) -> PushDown:
    return journal_pushdown(parse_query(text, now=NOW), now=NOW)


@pytest.mark.parametrize("query, arguments", [
    ("", []),
    ("level>=WARNING", ["--priority=0..4"]),
    ("level>=warn", ["--priority=0..4"]),
    ("level>=30", ["--priority=0..4"]),
    ("level>WARNING", ["--priority=0..3"]),
    ("level=ERROR", ["--priority=3..3"]),
    ("level:error", ["--priority=3..3"]),
    ("level=CRITICAL", ["--priority=0..2"]),
    ("level=INFO", ["--priority=6..6"]),  # NOTICE (5) is a level of its own
    ("level>=INFO", ["--priority=0..6"]),
    ("level=NOTICE", ["--priority=5..5"]),
    ("level>=DEBUG", ["--priority=0..7"]),
    ("level>=WARNING level>=ERROR", ["--priority=0..3"]),  # the terms intersect
    ("level=ERROR or level=CRITICAL", ["--priority=0..3"]),
    ("(level=DEBUG or level=ERROR)", ["--priority=3..7"]),  # the span: a superset
    ("since:2024-01-02T03:04:05Z", ["--since=2024-01-02 03:04:05 UTC"]),
    ("since:2024-01-02T03:04:05.9Z", ["--since=2024-01-02 03:04:05 UTC"]),  # rounded down
    ("until:2024-01-02T03:04:05.1+01:00", ["--until=2024-01-02 02:04:06 UTC"]),  # and up
    ("time>=2024-01-02T03:00:00Z time<2024-01-02T04:00:00Z",
     ["--since=2024-01-02 03:00:00 UTC", "--until=2024-01-02 04:00:00 UTC"]),
    ("since:2024-01-01T00:00:00Z since:2024-01-02T00:00:00Z",
     ["--since=2024-01-02 00:00:00 UTC"]),  # the later one
    ("since:-1h", ["--since=2024-01-02 10:59:00 UTC"]),  # widened by a minute: relative
    ("_HOSTNAME=web1", ["--", "_HOSTNAME=web1"]),
    ("source=web1", ["--", "_HOSTNAME=web1"]),
    ("_SYSTEMD_UNIT=nginx.service SYSLOG_IDENTIFIER=nginx LOGGER=app.db",
     ["--", "_SYSTEMD_UNIT=nginx.service", "SYSLOG_IDENTIFIER=nginx", "LOGGER=app.db"]),
    ('CUSTOMER_ID="c 7"', ["--", "CUSTOMER_ID=c 7"]),
    ("_HOSTNAME=a or _HOSTNAME=b", ["--", "_HOSTNAME=a", "_HOSTNAME=b"]),  # one field: ORed
    ("_PID=4242", ["--", "_PID=4242"]),  # journald writes it: a plain decimal
    ("level>=ERROR _HOSTNAME=web1 since:2024-01-02T00:00:00Z timeout",
     ["--priority=0..3", "--since=2024-01-02 00:00:00 UTC", "--", "_HOSTNAME=web1"]),
    ("(level>=ERROR (_HOSTNAME=web1 x))", ["--priority=0..3", "--", "_HOSTNAME=web1"]),
])
def test_pushed_arguments(query, arguments):
    assert push(query).arguments == arguments


@pytest.mark.parametrize("query, why", [
    ("timeout", "free text"),
    ("/time.?out/", "free text"),
    ("msg:timeout", "free text"),
    ("logger:app.db", "name the field"),
    ("logger=app.db", "name the field"),
    ("level<INFO", "without a level"),  # journalctl drops entries without PRIORITY
    ("level!=ERROR", "without a level"),
    ("level<=ERROR", "without a level"),
    ("level=15", "no syslog priority"),
    ("-level>=ERROR", "negation"),
    ("_HOSTNAME=a or LOGGER=b", "different fields"),
    ("level>=ERROR or _HOSTNAME=a", "different fields"),
    ("(a b) or c", "negation or a group"),
    ("_HOSTNAME!=web1", "equality only"),
    ("_HOSTNAME~web", "equality only"),
    ("source:web", "whole values"),
    ("source=journal:/x", "journal input"),
    ("user=alice", "not a journal field name"),
    ("__CURSOR=s", "not a journal field name"),
    ("MESSAGE=hi", "no field"),
    ("CODE_LINE=12", "a number"),  # 012 is 12 for logview, not for journalctl
    ("_PID=04242", "a number"),
    ('TAG="[1,2]"', "list"),
    ("has:LOGGER", "present"),
    ("since:2024-01-02T05:00:00Z until:2024-01-02T04:00:00Z", "nothing can match"),
    ("since:1900-01-01", "cannot take"),
    ("time=2024-01-02", "since/until only"),
])
def test_what_stays_local(query, why):
    result = push(query)
    assert result.arguments == []
    assert [text for text, _ in result.local] == [c.text for c in conjuncts(parse_query(query))]
    assert why in result.local[0][1]


def test_explained_term_by_term():
    result = push("level>=WARNING timeout _HOSTNAME=web1 -debug since:2024-01-02T00:00:00Z")
    assert result.pushed == [("level>=WARNING", "--priority=0..4"),
                             ("since:2024-01-02T00:00:00Z", "--since=2024-01-02 00:00:00 UTC"),
                             ("_HOSTNAME=web1", "_HOSTNAME=web1")]
    assert result.remaining == ["timeout", "-debug"]


def test_conjuncts_flatten_and_groups():
    parts = conjuncts(parse_query("a (b (c d)) (x=1 or x=2) -e not (f or g) (h or (i j))"))
    assert [p.text for p in parts] == ["a", "b", "c", "d", "x=1 or x=2", "-e", "-(f or g)",
                                      "h or (i j)"]
    assert [len(p.terms) for p in parts] == [1, 1, 1, 1, 2, 0, 0, 0]
    assert parts[4].any_of and not parts[0].any_of


def test_the_interface_is_a_protocol():
    target: PushDownTarget = JournalctlPushDown(now=NOW)
    assert target.pushdown(parse_query("level>=ERROR", now=NOW)).arguments == [
        "--priority=0..3"]


@pytest.mark.parametrize("op", [">=", ">", "=", "<=", "<", "!="])
@pytest.mark.parametrize("level", ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL",
                                   "15", "25", "35", "45", "55"])
def test_priorities_are_a_superset_of_what_the_level_term_matches(op, level):
    """Every priority whose level matches lies in the pushed range, and a term that matches a
    record without a level (levelno 0: no PRIORITY, which journalctl drops) is not pushed."""
    query = parse_query(f"level{op}{level}")
    result = push(f"level{op}{level}")
    if query.matches(Record(message="")):
        assert result.arguments == []
        return
    matching = {p for p in range(8)
                if query.matches(Record(message="", levelno=level_from_syslog(p)[1]))}
    if not matching:
        assert result.arguments == []
        return
    (argument,) = result.arguments
    low, high = map(int, argument.removeprefix("--priority=").split(".."))
    assert matching <= set(range(low, high + 1))
