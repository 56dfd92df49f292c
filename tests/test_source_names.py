"""What a source is called on screen, how a listener client is named, and ``source:``
comparing every form the source column shows."""

from __future__ import annotations

import logging

import pytest

from logview.formats.syslog import parse_syslog_message
from logview.listen.decode import client_source, process_name, record_from_logrecord
from logview.query import parse_query
from logview.record import Record
from logview.source_names import shown_forms, source_tag
from logview.tui.source_tags import source_tags


def _logrecord(**extra) -> dict:
    record = logging.LogRecord("app.db", logging.INFO, __file__, 1, "hi", None, None)
    record.__dict__.update(extra)
    return dict(record.__dict__)


def test_a_client_is_named_after_the_process_that_wrote_each_record_not_a_logger():
    base = "tcp:127.0.0.1:53422"
    main = record_from_logrecord(_logrecord(process=4242), base)
    other_logger = record_from_logrecord({**_logrecord(process=4242), "name": "urllib3"}, base)
    assert client_source(base, main) == client_source(base, other_logger) == f"{base} (pid 4242)"
    worker = record_from_logrecord(_logrecord(process=77, processName="ForkPoolWorker-1"), base)
    assert client_source(base, worker) == f"{base} (ForkPoolWorker-1[77])"
    syslog = parse_syslog_message(b"<14>1 2024-01-01T00:00:00Z web1 billing 991 - - paid")
    assert process_name(syslog) == "billing[991]"
    assert process_name(Record(message="a JSON line without a process")) is None
    assert client_source(base, Record(message="x")) == base
    # Hostile values: no parenthesis that would end the name early, no escape, no huge pid.
    odd = Record(message="x", fields={"processName": "evil) (\x1b[2J", "process": 10**30})
    assert process_name(odd) == "evil] ["  # the escape sequence is taken out


def test_shown_forms_hold_every_text_the_source_column_shows():
    one, two = "tcp:127.0.0.1:5000 (pid 42)", "tcp:127.0.0.1:5001 (pid 42)"
    tags = source_tags([one, two])
    assert tags == {one: "pid 42:5000", two: "pid 42:5001"}
    assert source_tag(one) == "pid 42"
    for source, tag in tags.items():
        assert tag in shown_forms(source) and source in shown_forms(source)
    assert source_tags(["/srv/a/app.log", "/srv/b/app.log"])["/srv/a/app.log"] == "a/app.log"
    assert shown_forms("/srv/a/app.log") == ("/srv/a/app.log", "app.log", "a/app.log")


@pytest.mark.parametrize(("text", "expected"), [
    ('source:"pid 42:5001"', ["b"]),          # the column's text for a client, with its port
    ('source="pid 42:5000"', ["a"]),
    ('source="pid 42"', ["a", "b"]),          # the tag without a port
    ("source:5001", ["b"]),
    ("source=app.log", ["c"]),                # a path's basename, as the column shows it
    ('source!="pid 42:5000"', ["b", "c"]),
    ('source~"^pid 42:50+1$"', ["b"]),
    ("source:/srv/", ["c"]),                  # the whole text still matches
])
def test_source_terms_match_what_the_column_shows(text, expected):
    records = {
        "a": Record(message="a", source="tcp:127.0.0.1:5000 (pid 42)"),
        "b": Record(message="b", source="tcp:127.0.0.1:5001 (pid 42)"),
        "c": Record(message="c", source="/srv/a/app.log"),
    }
    query = parse_query(text)
    assert [name for name, record in records.items() if query.matches(record)] == expected
