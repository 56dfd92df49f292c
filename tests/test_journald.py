"""systemd journal exports: what ``journalctl -o json`` and ``-o json-seq`` really write.

The entries go into a real journal file through ``systemd-journal-remote`` (journal export
format on its stdin) and come out of the real ``journalctl --file``; those tests are skipped
where the two tools are missing. Hostile variants that journalctl never writes are lines.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import orjson
import pytest
from journal_helpers import T0, Entry, JournalEntryHandler, journalctl, needs_journal
from logging_helpers import make_logger

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect_format
from logview.formats.jsonl import JsonFormat
from logview.printer import dumps_record, format_text
from logview.record import Record, parse_raw_record
from logview.sources.base import StaticFileSource
from logview.store import open_store

FMT = JsonFormat()


def records(data: bytes) -> list[Record]:
    splitter = RecordSplitter(FMT)
    raws = splitter.feed(data) + splitter.flush()
    return [parse_raw_record(FMT, raw, "test") for raw in raws]


def service_entries() -> list[Entry]:
    return [
        [("MESSAGE", "Started worker"), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "myapp"),
         ("_PID", "4242"), ("_COMM", "python3"), ("_SYSTEMD_UNIT", "myapp.service"),
         ("_HOSTNAME", "box"), ("CODE_FILE", "/srv/app/worker.py"), ("CODE_LINE", "17")],
        [("MESSAGE", "database is down"), ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "myapp"),
         ("_PID", "4242")],
        [("MESSAGE", "disk almost full"), ("PRIORITY", "4"), ("_COMM", "python3"),
         ("_SYSTEMD_UNIT", "disk.service")],
        [("MESSAGE", "kernel says hi"), ("PRIORITY", "2"), ("_SYSTEMD_UNIT", "kern.service")],
        [("MESSAGE", b"bad \xff bytes"), ("PRIORITY", "7"), ("SYSLOG_IDENTIFIER", "bin")],
        [("MESSAGE", "\x1b[31mred alert\x1b[0m"), ("PRIORITY", "0"), ("SYSLOG_IDENTIFIER", "tty")],
    ]


# ---------------------------------------------------------------------------------------------
# Real journalctl output


@needs_journal
@pytest.mark.parametrize("mode", ["json", "json-seq", "json-pretty"])
def test_journal_entries_map_onto_records(tmp_path, mode):
    data = journalctl(tmp_path, service_entries(), mode)
    if mode == "json-seq":
        assert data.count(b"\x1e{") == 6  # RFC 7464 framing really is there
    if mode == "json-pretty":
        assert data.count(b"\n{\n") == 5  # each entry an object over many lines
    assert isinstance(detect_format(data), JsonFormat)
    got = records(data)
    assert [(r.message, r.level, r.levelno, r.logger) for r in got] == [
        ("Started worker", "INFO", 20, "myapp"),
        ("database is down", "ERROR", 40, "myapp"),
        ("disk almost full", "WARNING", 30, "python3"),  # no identifier: the process name
        ("kernel says hi", "CRITICAL", 50, "kern.service"),  # then the unit
        ("bad \ufffd bytes", "DEBUG", 10, "bin"),  # journalctl wrote a byte array
        ("red alert", "CRITICAL", 50, "tty"),  # colours made it a byte array too
    ]
    first = got[0]
    assert first.time == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert got[5].time == datetime(2024, 1, 2, 3, 4, 10, 123456, tzinfo=UTC)
    for key in ("_PID", "_COMM", "_SYSTEMD_UNIT", "_HOSTNAME", "CODE_FILE", "CODE_LINE",
                "__CURSOR", "__MONOTONIC_TIMESTAMP", "_BOOT_ID"):
        assert key in first.fields, key
    assert first.fields["_PID"] == "4242"
    for used in ("MESSAGE", "__REALTIME_TIMESTAMP"):  # the record's message and time
        assert used not in first.fields
    # The fields the logger and the level came from stay: a query names them as journalctl does.
    assert (first.fields["SYSLOG_IDENTIFIER"], first.fields["PRIORITY"]) == ("myapp", "6")
    assert [r.source for r in got] == ["box"] + ["test"] * 5  # the host, else the input
    for record in got:
        assert "\x1e" not in record.message and "\x1e" not in record.raw
        dumps_record(record)


@needs_journal
def test_json_seq_record_starts_come_from_the_index(tmp_path):
    """A whole file through the store: detection, the index's start test, parsing."""
    path = tmp_path / "journal.seq"
    path.write_bytes(journalctl(tmp_path, service_entries() * 20, "json-seq"))
    store = open_store(StaticFileSource(str(path)))
    try:
        assert isinstance(store.format, JsonFormat)
        store.update(final=True)
        assert len(store) == 120
        assert all(store.raw(i).startswith(b"\x1e{") for i in range(len(store)))
        assert [store.parse(i).message for i in range(6)][:2] == ["Started worker",
                                                                  "database is down"]
        assert store.parse(119).logger == "tty"
    finally:
        store.close()


@needs_journal
def test_python_journal_handler_entries(tmp_path):
    """Fields as python-systemd's JournalHandler sends them: LOGGER names the Python logger,
    a logged exception is in MESSAGE (formatted) and EXCEPTION_TEXT."""
    trace = ('Traceback (most recent call last):\n  File "/srv/app/db.py", line 9, in connect\n'
             "    raise ConnectionError('refused')\nConnectionError: refused")
    entries: list[Entry] = [
        [("MESSAGE", "connect failed\n" + trace), ("PRIORITY", "3"), ("LOGGER", "app.db"),
         ("THREAD_NAME", "MainThread"), ("PROCESS_NAME", "MainProcess"),
         ("CODE_FILE", "/srv/app/db.py"), ("CODE_LINE", "12"), ("CODE_FUNC", "connect"),
         ("EXCEPTION_TEXT", trace), ("SYSLOG_IDENTIFIER", "python3"), ("_COMM", "python3")],
        [("MESSAGE", "retrying"), ("PRIORITY", "4"), ("LOGGER", "app.db"),
         ("EXCEPTION_TEXT", trace)],
    ]
    failed, retry = records(journalctl(tmp_path, entries))
    assert (failed.message, failed.level, failed.logger) == ("connect failed", "ERROR", "app.db")
    assert failed.exc == trace
    assert failed.fields["CODE_FUNC"] == "connect"
    assert failed.fields["SYSLOG_IDENTIFIER"] == "python3"  # not used: LOGGER said more
    assert (retry.message, retry.exc) == ("retrying", trace)
    assert "EXCEPTION_TEXT" not in retry.fields
    assert "EXCEPTION_TEXT" not in failed.fields  # the same traceback as MESSAGE's: kept once


@needs_journal
def test_records_logged_through_a_journal_handler_keep_their_fields(tmp_path):
    """Real LogRecords, sent as python-systemd's JournalHandler sends them: the logger, the code
    position, the thread, the arguments, the upper-case extras and the traceback all stay."""
    handler = JournalEntryHandler(SYSLOG_IDENTIFIER="billing")
    log = make_logger("app.billing.invoices", handler)
    log.warning("invoice %s is late", 42, extra={"CUSTOMER_ID": "c-7"})
    try:
        {}["missing"]
    except KeyError:
        log.exception("cannot bill")
        line = sys._getframe().f_lineno - 1
    warned, failed = records(journalctl(tmp_path, handler.entries))
    assert (warned.message, warned.level, warned.logger) == (
        "invoice 42 is late", "WARNING", "app.billing.invoices")
    fields = warned.fields
    assert fields["LOGGER"] == "app.billing.invoices"
    assert fields["CODE_FILE"] == __file__ and fields["CODE_FUNC"] == (
        "test_records_logged_through_a_journal_handler_keep_their_fields")
    assert fields["THREAD_NAME"] == "MainThread" and fields["PROCESS_NAME"] == "MainProcess"
    assert (fields["CODE_ARGS"], fields["CUSTOMER_ID"]) == ("(42,)", "c-7")
    assert fields["SYSLOG_IDENTIFIER"] == "billing"
    assert (failed.message, failed.level) == ("cannot bill", "ERROR")
    assert failed.exc.startswith("Traceback (most recent call last):")
    assert failed.exc.endswith("KeyError: 'missing'")
    assert failed.fields["CODE_LINE"] == str(line)
    assert "EXCEPTION_TEXT" not in failed.fields


@needs_journal
def test_repeated_and_oversized_fields(tmp_path):
    entries: list[Entry] = [
        [("MESSAGE", "one"), ("MESSAGE", b"tw\xffo"), ("PRIORITY", "5"), ("TAG", "a"),
         ("TAG", "b")],
        [("MESSAGE", "y" * 5000), ("PRIORITY", "6"), ("_COMM", "big")],
    ]
    data = journalctl(tmp_path, entries)
    assert b'"MESSAGE":null' in data  # journalctl drops values over 4 KiB without --all
    repeated, big = records(data)
    assert (repeated.message, repeated.level) == ("one\ntw\ufffdo", "NOTICE")
    assert repeated.fields["TAG"] == ["a", "b"]
    assert (big.message, big.logger, big.level) == ("", "big", "INFO")
    assert "MESSAGE" in big.fields and big.fields["MESSAGE"] is None  # says it was left out


@needs_journal
def test_print_filters_journal_export_by_level(tmp_path):
    path = tmp_path / "journal.seq"
    path.write_bytes(journalctl(tmp_path, service_entries(), "json-seq"))
    out = subprocess.run(
        [sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q", "level>=ERROR",
         str(path)], capture_output=True, check=True, timeout=60).stdout
    got = [orjson.loads(line) for line in out.splitlines()]
    assert [(o["message"], o["level"], o["logger"]) for o in got] == [
        ("database is down", "ERROR", "myapp"),
        ("kernel says hi", "CRITICAL", "kern.service"),
        ("red alert", "CRITICAL", "tty"),
    ]
    text = subprocess.run([sys.executable, "-m", "logview", "--print", str(path)],
                          capture_output=True, check=True, timeout=60).stdout
    assert b"\x1e" not in text and "\u241e".encode() not in text
    assert text.startswith(b"2024-01-02 03:04:05.123456+00:00 INFO myapp Started worker")


@needs_journal
def test_text_query_finds_byte_array_messages(tmp_path):
    path = tmp_path / "journal.json"
    path.write_bytes(journalctl(tmp_path, service_entries()))
    out = subprocess.run([sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q",
                          "alert", str(path)], capture_output=True, check=False, timeout=60).stdout
    assert [orjson.loads(line)["message"] for line in out.splitlines()] == ["red alert"]


# ---------------------------------------------------------------------------------------------
# Lines journalctl never writes: never crash, keep everything


def _line(obj: dict) -> bytes:
    return orjson.dumps(obj) + b"\n"


BASE = {"__CURSOR": "s=1", "__REALTIME_TIMESTAMP": str(T0), "MESSAGE": "m", "PRIORITY": "6"}


@pytest.mark.parametrize("changes, expect", [
    ({"PRIORITY": "9"}, {"level": None, "field": ("PRIORITY", "9")}),
    ({"PRIORITY": 3}, {"level": None, "field": ("PRIORITY", 3)}),
    ({"PRIORITY": "03"}, {"level": None, "field": ("PRIORITY", "03")}),
    ({"__REALTIME_TIMESTAMP": "soon"}, {"time": None, "field": ("__REALTIME_TIMESTAMP", "soon")}),
    ({"__REALTIME_TIMESTAMP": "9" * 30}, {"time": None}),
    ({"__REALTIME_TIMESTAMP": "99999999999999999999"}, {"time": None}),
    ({"MESSAGE": [300, -1]}, {"message": "[300,-1]"}),
    ({"MESSAGE": {"a": 1}}, {"message": '{"a":1}'}),
    ({"MESSAGE": [[[[1]]]]}, {"message": "[[[[1]]]]"}),
    ({"MESSAGE": [104, 105]}, {"message": "hi"}),
    ({"MESSAGE": ["a", [98]]}, {"message": "a\nb"}),
    ({"MESSAGE": True}, {"message": "true"}),
    ({"SYSLOG_IDENTIFIER": ["a", "b"], "_COMM": "c"}, {"logger": "c"}),
    ({"SYSLOG_IDENTIFIER": "\x1b[1mid\x1b[0m"}, {"logger": "id"}),
    ({"_SOURCE_REALTIME_TIMESTAMP": str(T0 - 5), "__REALTIME_TIMESTAMP": None},
     {"time": datetime(2024, 1, 2, 3, 4, 5, 123451, tzinfo=UTC)}),
])
def test_hostile_journal_values(changes, expect):
    (record,) = records(_line({**BASE, **changes}))
    for attr in ("level", "time", "message", "logger"):
        if attr in expect:
            assert getattr(record, attr) == expect[attr]
    if "field" in expect:
        key, value = expect["field"]
        assert record.fields[key] == value
    dumps_record(record)


def test_json_seq_framing_without_objects_is_kept():
    """RS-framed text that is not JSON (cut short, or a stray line) is a plain record of its
    own, without the RS; nothing is dropped."""
    data = b'\x1e{"MESSAGE":"ok","PRIORITY":"6","__CURSOR":"c"}\n\x1e{"MESSAGE":"cut\n\x1eplain\n'
    got = records(data)
    assert [r.message for r in got] == ["ok", '{"MESSAGE":"cut', "plain"]
    assert all("\x1e" not in r.raw for r in got)


def test_other_json_with_upper_case_message_is_not_a_journal_entry():
    (record,) = records(_line({"MESSAGE": "x", "level": "warning", "logger": "a"}))
    assert (record.message, record.level, record.logger) == ("", "WARNING", "a")
    assert record.fields == {"MESSAGE": "x"}


def test_text_output_of_a_journal_entry_leaves_the_trusted_fields_out():
    """``--print`` as text showed ``__CURSOR``, ``_BOOT_ID``, ``_PID``... on every line; they
    stay in ``-o jsonl``."""
    record = FMT.parse('{"__CURSOR": "s=1", "_BOOT_ID": "0123", "_PID": "42", "PRIORITY": "3", '
                       '"MESSAGE": "disk full", "SYSLOG_IDENTIFIER": "app", "REQUEST_ID": "r1"}')
    text = format_text(record)
    assert "disk full" in text and "REQUEST_ID=r1" in text
    assert "__CURSOR" not in text and "_BOOT_ID" not in text and "_PID" not in text
    assert b"__CURSOR" in dumps_record(record)
    # Nor the fields the level and logger were read from, nor python-systemd's code position
    # (the viewer's rows show the same text after the message).
    record = FMT.parse('{"__CURSOR": "s=2", "PRIORITY": "3", "MESSAGE": "retry", '
                       '"SYSLOG_IDENTIFIER": "python3", "LOGGER": "app.db", "CODE_LINE": "12", '
                       '"CODE_FILE": "/srv/db.py", "CODE_FUNC": "connect", "THREAD_NAME": "t1", '
                       '"SYSLOG_FACILITY": "3", "ORDER_ID": "42"}')
    text = format_text(record)
    assert text.endswith("ERROR app.db retry ORDER_ID=42"), text
    assert record.fields["PRIORITY"] == "3" and b'"CODE_LINE"' in dumps_record(record)


def test_text_output_leaves_out_opentelemetry_standard_attributes():
    from logview.record import Record

    record = Record("boom", level="ERROR", levelno=40, logger="app.db",
                    fields={"code.filepath": "/srv/app.py", "telemetry.sdk.version": "1.2",
                            "service.name": "api", "host.name": "web1", "user_id": 7})
    text = format_text(record)
    assert "user_id=7" in text
    assert "code.filepath" not in text and "telemetry.sdk" not in text
    assert "service.name" not in text and "host.name" not in text


def test_text_output_leaves_out_pinos_process_fields():
    """pino writes its process's ``pid`` and ``hostname`` on every record (a line copied from
    pino 9's output): one-line text shows the request's own fields."""
    from logview.formats.jsonl import JsonFormat

    record = JsonFormat().parse(
        '{"level":30,"time":1796177409265,"pid":24132,"hostname":"vm","reqId":"req-1",'
        '"module":"db","query":"SELECT 1","ms":3,"msg":"query done"}')
    text = format_text(record)
    assert text.endswith('INFO query done reqId=req-1 query="SELECT 1" ms=3'), text
    assert record.fields["pid"] == 24132 and record.fields["hostname"] == "vm"


def test_text_output_writes_nested_values_by_their_dotted_paths():
    """A nested object's values as the query names them (``http.status>=500``), its quiet
    parts left out; past a depth of eight the rest as JSON, and an empty object as ``{}``."""
    from logview.formats.jsonl import JsonFormat

    deep: dict = {"leaf": 1}
    for _ in range(10):
        deep = {"d": deep}
    record = JsonFormat().parse(orjson.dumps({
        "level": "warning", "msg": "slow", "http": {"status": 503, "path": "/a b"},
        "log": {"origin": {"file": {"line": 3}}, "original": "slow"}, "empty": {},
        "deep": deep}).decode())
    text = format_text(record)
    assert ('slow http.status=503 http.path="/a b" empty={} '
            'deep.d.d.d.d.d.d.d.d={"d":{"d":{"leaf":1}}}') in text
    assert "log." not in text and "origin" not in text


def _stdout_entries(text: str, app: str, pid: str, *, priority: str = "6") -> list[Entry]:
    """What systemd makes of a service's stdout/stderr: one entry a line (journald's
    stream transport), the service's identifier and pid on each."""
    return [[("MESSAGE", line), ("PRIORITY", priority), ("SYSLOG_IDENTIFIER", app),
             ("_PID", pid), ("_HOSTNAME", "web1"), ("_TRANSPORT", "stdout")]
            for line in text.splitlines()]


@needs_journal
@pytest.mark.parametrize("mode", ["short", "short-iso", "short-precise"])
@pytest.mark.parametrize("alone", [True, False], ids=["one unit", "whole journal"])
def test_a_services_tracebacks_in_journalctls_text_join_their_record(tmp_path, mode, alone):
    """``journalctl -u shop | logview``: a Python service's stderr, one journal entry a line,
    read back as syslog lines. The messages are read by the service's format (basicConfig
    here), and a traceback's lines, each an entry of its own, are its record's: one record
    with the program's level, as in the service's own file. Beside other programs (the
    whole journal) their lines stay records of their own, a kernel line opening with
    spaces too."""
    import io
    import logging

    from logging_helpers import log_key_error

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    log = make_logger("shop.views", handler)
    for i in range(30):
        if i % 10 == 4:
            log_key_error(log, f"cart{i}", "checkout %d failed", i)
        else:
            log.log((logging.INFO, logging.WARNING)[i % 2], "request %d served", i)
    entries = _stdout_entries(stream.getvalue(), "shop", "4242")
    if not alone:
        others = [[("MESSAGE", text), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", app),
                   ("_PID", pid), ("_HOSTNAME", "web1"), ("_TRANSPORT", "syslog")]
                  for app, pid, text in (
                      ("sshd", "811", "Accepted publickey for deploy from 10.0.0.9 port 52144"),
                      ("kernel", "0", "  pci 0000:00:01.0: [8086:7000] type 00 class 0x060100"),
                      ("CRON", "912", "(root) CMD (run-parts /etc/cron.hourly)"))]
        # Another program's line before each of the service's records (a traceback's lines
        # come at once, as the service wrote them).
        mixed: list[Entry] = []
        for entry in entries:
            if not entry[0][1].startswith((" ", "Traceback", "KeyError")):
                mixed.append(others[len(mixed) % len(others)])
            mixed.append(entry)
        entries = mixed
    data = journalctl(tmp_path, entries, mode)
    path = tmp_path / "journal.txt"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    starts = [store.index.start(i) for i in range(len(store))]
    store.close()
    shop = [r for r in records if r.fields.get("app") == "shop"]
    assert len(shop) == 30
    failed = [r for r in shop if r.level == "ERROR"]
    assert [r.message for r in failed] == [f"checkout {i} failed" for i in (4, 14, 24)]
    assert all(r.logger == "shop.views" and r.exc.startswith("Traceback (most recent call")
               and r.exc.rstrip().endswith(f"KeyError: 'cart{i}'")
               for r, i in zip(failed, (4, 14, 24), strict=True))
    assert not any("web1 shop[4242]" in (r.exc or "") for r in failed)  # headers taken off
    assert {r.level for r in shop} == {"INFO", "WARNING", "ERROR"}
    if not alone:
        kernel = [r for r in records if r.fields.get("app") == "kernel"]
        assert len(kernel) == 10 and all(r.exc is None for r in kernel)
        assert len(records) == 30 + 30
    fmt = detect_format(data)
    splitter = RecordSplitter(fmt)
    assert [raw.offset for raw in splitter.feed(data) + splitter.flush()] == starts
    printed = subprocess.run(
        [sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q", "level>=ERROR",
         str(path)], capture_output=True, check=True, timeout=60).stdout
    rows = [orjson.loads(line) for line in printed.splitlines()]
    assert [(r["message"], r["exc"]) for r in rows] == [(r.message, r.exc) for r in failed]


@needs_journal
@pytest.mark.parametrize("mode", ["short", "short-iso", "short-precise"])
def test_a_multi_line_message_loses_journalctls_alignment(tmp_path, mode):
    """One entry whose MESSAGE holds the traceback (a JournalHandler's, an app that logs its
    record whole): journalctl indents its lines under the message's first; the record's
    traceback is the program's text, without that indentation."""
    import io
    import logging

    from logging_helpers import log_key_error

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = make_logger("shop.views", handler)
    records = []
    for i in range(6):
        stream.seek(0)
        stream.truncate()
        if i == 3:
            log_key_error(log, "cart", "checkout %d failed", i)
        else:
            log.info("request %d served", i)
        records.append(stream.getvalue().rstrip("\n"))
    entries = [[("MESSAGE", text), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "shop"),
                ("_PID", "4242"), ("_HOSTNAME", "web1")] for text in records]
    path = tmp_path / "journal.txt"
    path.write_bytes(_journalctl_lines(tmp_path, entries, mode))
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    failed = [store.record(i) for i in range(len(store)) if store.record(i).level == "ERROR"]
    store.close()
    assert len(failed) == 1 and failed[0].message == "checkout 3 failed"
    expected = records[3].split("\n", 1)[1]
    assert failed[0].exc == expected  # as the program wrote it: "  File", not 30 spaces


def _journalctl_lines(tmp_path, entries: list[Entry], mode: str) -> bytes:
    """``journalctl -o MODE`` of ``entries`` (several lines an entry, as a multi-line
    message prints)."""
    from journal_helpers import write_journal

    journal = tmp_path / "multi.journal"
    write_journal(journal, entries)
    return subprocess.run(["journalctl", "--file", str(journal), "-o", mode, "--no-pager"],
                          capture_output=True, check=True, timeout=60).stdout
