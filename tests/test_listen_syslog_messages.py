"""SysLogHandler's messages read by the client's own Formatter, learned from its first messages.

Real ``SysLogHandler`` clients over UDP and TCP on 127.0.0.1; the listener knows nothing of
their formats.
"""

from __future__ import annotations

import logging
import logging.handlers
import socket
from datetime import datetime

import pytest
from listen_helpers import make_logger, port_of

from logview.listen import syslog_messages
from logview.listen.syslog_messages import SyslogMessages
from logview.record import Record

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def _syslog_handler(listener, socktype: int, fmt: str | None) -> logging.Handler:
    handler = logging.handlers.SysLogHandler(("127.0.0.1", port_of(listener)),
                                             facility="local3", socktype=socktype)
    if fmt is not None:
        handler.setFormatter(logging.Formatter(fmt))
    return handler


def _numbered(sink, count: int) -> list[Record]:
    """The records of ``event N`` messages, by N (datagrams may come in any order)."""
    found = {}
    for record in sink.records:
        words = record.message.split()
        if "event" in words:
            found[int(words[words.index("event") + 1])] = record
    return [found[n] for n in sorted(found)][:count]


@pytest.mark.parametrize("socktype", [socket.SOCK_DGRAM, socket.SOCK_STREAM],
                         ids=["udp", "tcp"])
def test_a_formatters_head_is_read_once_its_format_is_learned(listening, waiter, socktype):
    listener, sink = listening
    handler = _syslog_handler(listener, socktype, FORMAT)
    db, web = make_logger("app.db", handler), make_logger("app.web.request", handler)
    for n in range(12):
        (db if n % 2 else web).log(logging.WARNING if n % 3 else logging.INFO, "event %d done", n)
    try:
        {}["missing"]
    except KeyError:
        db.exception("event 12 failed")
    waiter(lambda: len(sink.records) == 13)
    handler.close()
    records = _numbered(sink, 13)
    assert len(records) == 13
    # The format is known from the first message on: every record is read by it.
    read = [r for r in records if r.logger in ("app.db", "app.web.request")]
    assert len(read) == 13
    for record in read:
        number = int(record.message.split()[1])
        assert record.message == f"event {number} " + ("failed" if number == 12 else "done")
        assert record.logger == ("app.db" if number % 2 or number == 12 else "app.web.request")
        # the level is PRI's, which SysLogHandler wrote from the record's level
        want = "ERROR" if number == 12 else "WARNING" if number % 3 else "INFO"
        assert record.level == want
        # the program's own time (asctime, to the millisecond), not the time of arrival
        assert record.time_text is not None and record.time_text[:4].isdigit()
        assert abs((record.time - datetime.now()).total_seconds()) < 60
    last = records[12]
    assert last.logger == "app.db" and last.exc is not None
    assert last.exc.startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in last.exc
    assert listener.stats.rejected == {}


def test_messages_without_a_formatters_head_are_left_as_they_are(listening, waiter):
    listener, sink = listening
    handler = _syslog_handler(listener, socket.SOCK_DGRAM, None)  # logging's %(message)s
    log = make_logger("app.plain", handler)
    texts = ["user: bob logged in", "cache: miss for key 42", "event 3 retry: in 5 s",
             "ERROR-like words inside a message", "GET /api/items 200", "worker started",
             "worker: stopped", "disk /var is full"]
    for text in texts:
        log.error(text)
    waiter(lambda: len(sink.records) == len(texts))
    handler.close()
    assert sorted(r.message for r in sink.records) == sorted(texts)
    assert all(r.logger == "" and r.level == "ERROR" for r in sink.records)


def test_each_client_is_read_by_its_own_format(listening, waiter):
    listener, sink = listening
    first = _syslog_handler(listener, socket.SOCK_STREAM, "%(levelname)s %(name)s: %(message)s")
    second = _syslog_handler(listener, socket.SOCK_STREAM, "%(name)s - %(levelname)s - %(message)s")
    one, two = make_logger("svc.one", first), make_logger("svc.two", second)
    for n in range(8):
        one.info("event %d from one", n)
        two.info("event %d from two", n)
    waiter(lambda: len(sink.records) == 16)
    first.close()
    second.close()
    for name in ("one", "two"):
        mine = [r for r in sink.records if r.message.endswith(f"from {name}")]
        assert len(mine) == 8  # one connection each: in the order sent
        assert all(r.logger == f"svc.{name}" for r in mine)
        assert [r.message for r in mine] == [f"event {n} from {name}" for n in range(8)]


def test_clients_remembered_are_bounded(monkeypatch):
    monkeypatch.setattr(syslog_messages, "MAX_CLIENTS", 4)
    messages = SyslogMessages()
    for n in range(10):
        for k in range(3):
            messages.read(Record(message=f"INFO app.x: event {k}"), f"udp:127.0.0.1:{n}")
    assert len(messages._clients) == 4
    assert messages.format_of("udp:127.0.0.1:9") is not None
    assert messages.format_of("udp:127.0.0.1:0") is None  # forgotten


def test_a_sample_is_let_go_after_the_last_detection():
    messages = SyslogMessages()
    client = "tcp:127.0.0.1:1"
    for k in range(syslog_messages.DETECT_AT[-1] + 5):
        messages.read(Record(message=f"INFO app.x: event {k}\n  more"), client)
    state = messages._clients[client]
    assert state.sample is None and state.format is not None
    got = messages.read(Record(message="WARNING app.y: event late"), client)
    assert got.logger == "app.y" and got.message == "event late"


def test_a_huge_message_is_sampled_cut():
    messages = SyslogMessages()
    messages.read(Record(message="x" * 10_000_000), "c")
    assert len(messages._clients["c"].sample[0]) == syslog_messages.MAX_LINE


def test_detection_is_budgeted_when_every_message_is_a_new_client(monkeypatch):
    """A flood from ever new ports: past the budget, messages are passed on as received
    instead of each costing a detection; the budget comes back the next second."""
    now = [100.0]
    calls = []

    def slow_detection(sample, least=3):
        calls.append(len(sample))
        now[0] += 0.03  # each detection "takes" 30 ms of the listener's clock

    monkeypatch.setattr(syslog_messages, "message_format", slow_detection)
    messages = SyslogMessages(clock=lambda: now[0])
    for port in range(50):
        messages.read(Record(message="INFO app: hello"), f"udp:127.0.0.1:{port}")
    assert len(calls) == 4  # 4 x 30 ms reaches the 0.1 s budget of this second
    now[0] += 1.0
    messages.read(Record(message="INFO app: hello"), "udp:127.0.0.1:9999")
    assert len(calls) == 5
