"""SyslogFormat and parse_syslog_message: RFC 3164/5424 lines and Python's SysLogHandler."""

from __future__ import annotations

import logging
import logging.handlers
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from logview.boundaries import RecordSplitter
from logview.formats.syslog import SyslogFormat, parse_syslog_message
from logview.record import parse_raw_record

FMT = SyslogFormat()


@pytest.fixture
def udp_receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def _handler_logger(port: int, fmt: str, name: str) -> tuple[logging.Logger, logging.Handler]:
    handler = logging.handlers.SysLogHandler(
        address=("127.0.0.1", port), facility=logging.handlers.SysLogHandler.LOG_LOCAL3
    )
    handler.setFormatter(logging.Formatter(fmt))
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    return log, handler


def test_python_sysloghandler_over_udp(udp_receiver):
    port = udp_receiver.getsockname()[1]
    log, handler = _handler_logger(port, "myapp[%(process)d]: %(levelname)s %(message)s", "sl.a")
    try:
        log.warning("disk - %d%% full: [sda]", 91)
        data, _ = udp_receiver.recvfrom(65536)
        log.error("plain")
        data2, _ = udp_receiver.recvfrom(65536)
    finally:
        log.removeHandler(handler)
        handler.close()
    assert data.endswith(b"\x00")  # SysLogHandler appends a NUL by default
    rec = parse_syslog_message(data)
    assert (rec.level, rec.levelno) == ("WARNING", 30)
    assert rec.fields["facility"] == "local3"
    assert rec.logger == "myapp" and isinstance(rec.fields["pid"], int)
    assert rec.message == "WARNING disk - 91% full: [sda]"
    assert "\x00" not in rec.raw
    rec2 = parse_syslog_message(data2)
    assert (rec2.level, rec2.message) == ("ERROR", "ERROR plain")


def test_python_sysloghandler_without_ident_and_with_traceback(udp_receiver):
    port = udp_receiver.getsockname()[1]
    log, handler = _handler_logger(port, "%(message)s", "sl.b")
    try:
        try:
            raise RuntimeError("bad state")
        except RuntimeError:
            log.exception("crashed: %s", "now")
        data, _ = udp_receiver.recvfrom(65536)
    finally:
        log.removeHandler(handler)
        handler.close()
    rec = parse_syslog_message(data)
    # "word: " without [pid] may be the message itself: it stays in the message.
    assert rec.message == "crashed: now" and rec.level == "ERROR"
    assert rec.exc is not None and rec.exc.endswith("RuntimeError: bad state")
    assert rec.logger == ""


def test_rfc3164_examples():
    rec = FMT.parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")
    assert (rec.level, rec.fields["facility"], rec.fields["host"]) == (
        "CRITICAL",
        "auth",
        "mymachine",
    )
    assert rec.logger == "su" and rec.message == "'su root' failed for lonvick on /dev/pts/8"
    assert (rec.time.month, rec.time.day, rec.time.hour) == (10, 11, 22)
    assert rec.time_text == "Oct 11 22:14:15"


def test_var_log_syslog_and_journalctl_lines():
    rec = FMT.parse("Jan  2 03:04:05 web1 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)")
    assert rec.level is None and rec.logger == "CRON"
    assert rec.fields == {"host": "web1", "app": "CRON", "pid": 4242}
    assert rec.message == "(root) CMD (run-parts /etc/cron.hourly)"
    rec = FMT.parse("Jan 02 03:04:05 myhost systemd[1]: Started session-5.scope - Session 5.")
    assert (rec.logger, rec.fields["pid"], rec.time.day) == ("systemd", 1, 2)
    rec = FMT.parse("2024-01-02T03:04:05.123456+01:00 myhost sshd[99]: Accepted key: x")
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert rec.message == "Accepted key: x"
    rec = FMT.parse("Jan  2 03:04:05 host kernel: [ 0.000000] Linux version 6.1")
    assert rec.logger == "kernel" and rec.message == "[ 0.000000] Linux version 6.1"


def test_rfc5424_with_structured_data():
    line = (
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"lication" eventID="1011"]'
        '[examplePriority@32473 class="high"] \ufeffAn application event log entry'
    )
    assert FMT.is_start(line)
    rec = FMT.parse(line)
    assert (rec.level, rec.fields["facility"]) == ("NOTICE", "local4")
    assert rec.time == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert rec.logger == "evntslog" and rec.fields["msgid"] == "ID47"
    assert rec.fields["eventSource"] == 'App"lication' and rec.fields["class"] == "high"
    assert "pid" not in rec.fields
    assert rec.message == "An application event log entry"


def test_rfc5424_minimal_and_nil_values():
    rec = FMT.parse("<14>1 - - - - - -")
    assert rec.level == "INFO" and rec.message == "" and rec.time is None
    rec = FMT.parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% tick")
    assert rec.fields["pid"] == 8710 and rec.message == "%% tick"


def test_rsyslog_escaped_newlines_become_a_traceback():
    line = 'Jan  2 03:04:05 h app: failed#012Traceback (most recent call last):#012  File "x"#012KeyError: 1'
    rec = FMT.parse(line)
    assert rec.message == "failed" and rec.exc is not None and rec.exc.endswith("KeyError: 1")


def test_python_ident_without_pid_stays_in_message():
    rec = parse_syslog_message(b"<11>myapp: message\x00")
    assert (rec.message, rec.level, rec.logger) == ("myapp: message", "ERROR", "")
    rec = parse_syslog_message("<14>message")
    assert (rec.message, rec.level, rec.fields) == ("message", "INFO", {"facility": "user"})


def test_bad_pri_and_junk_never_raise():
    for text in ["<999>hello", "<", "<1x>y", "", "Jan", "\x00\x00", "<13>1 broken"]:
        rec = FMT.parse(text)
        assert isinstance(rec.message, str)
    assert FMT.parse("<999>hello").level is None
    rec = parse_syslog_message(b"<13>caf\xc3\xa9 \xff\x1b[31mred\x1b[0m\x00\n")
    assert rec.message == "café \ufffdred" and rec.level == "NOTICE"


def test_file_split_into_records():
    data = (
        b"Jan  2 03:04:05 h a[1]: one\n"
        b"<13>Jan  2 03:04:06 h b: two\n"
        b"  continuation of two\n"
        b"<14>1 2024-01-02T03:04:07Z h c - - - three\n"
    )
    splitter = RecordSplitter(FMT)
    records = [parse_raw_record(FMT, r) for r in splitter.feed(data) + splitter.flush()]
    assert [r.message for r in records] == ["one", "two\n  continuation of two", "three"]
    assert [r.logger for r in records] == ["a", "b", "c"]
    for line in data.split(b"\n")[:-1]:
        assert bool(FMT.start_pattern.match(line)) == FMT.is_start(line.decode())


def _sysloghandler_datagrams(sock: socket.socket) -> list[bytes]:
    """What SysLogHandler sends for a Formatter that writes the level and the logger's name
    (``ident`` as an app writes it), one chained traceback among them."""
    port = sock.getsockname()[1]
    log, handler = _handler_logger(port, "%(levelname)s %(name)s: %(message)s", "app.db")
    handler.ident = "myapp[4242]: "
    levels = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)
    out = []
    try:
        for i in range(10):
            log.log(levels[i % 5], "step %d: pool at %d%%", i, i * 10)
            out.append(sock.recvfrom(65536)[0])
            if i == 4:
                try:
                    {}["missing"]
                except KeyError:
                    log.exception("connection lost")
                out.append(sock.recvfrom(65536)[0])
    finally:
        log.removeHandler(handler)
        handler.close()
    return out


def _as_file(datagrams: list[bytes], form: str) -> bytes:
    """The lines rsyslog writes from them: no PRI, newlines escaped as #012, a traditional
    (RFC 3164) or RSYSLOG_FileFormat (ISO) stamp and the host; ``relay``: an RFC 3164
    relay's lines, which keep the PRI."""
    lines = []
    for k, data in enumerate(datagrams):
        pri, body = data.decode().rstrip("\x00")[1:].split(">", 1)
        body = body.replace("\n", "#012")
        stamp = {"bsd": f"Dec  1 10:00:{k:02d}", "relay": f"<{pri}>Dec  1 10:00:{k:02d}",
                 "iso": f"2024-12-01T10:00:{k:02d}.123456+00:00"}[form]
        lines.append(f"{stamp} web01 {body}\n")
    return "".join(lines).encode()


@pytest.mark.parametrize("form", ["bsd", "iso", "relay"])
def test_a_python_formatters_level_and_logger_inside_syslog_lines(udp_receiver, form):
    from test_infer import read_back

    fmt, records = read_back(_as_file(_sysloghandler_datagrams(udp_receiver), form).decode())
    assert isinstance(fmt, SyslogFormat) and fmt.inner is not None, fmt
    assert [r.level for r in records] == (
        ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "ERROR"] + ["DEBUG", "INFO", "WARNING",
                                                                      "ERROR", "CRITICAL"])
    assert {r.logger for r in records} == {"app.db"}  # the Python logger, not the app
    assert records[0].message == "step 0: pool at 0%"
    assert all(r.fields["app"] == "myapp" and r.fields["pid"] == 4242 for r in records)
    failed = records[5]
    assert failed.message == "connection lost" and failed.exc.startswith("Traceback")
    assert failed.exc.endswith("KeyError: 'missing'")


def test_pri_wins_over_a_level_word_in_the_message():
    # SysLogHandler.mapPriority wrote the PRI from the record's level; the word is text.
    lines = [f"<{14 if i == 3 else 11}>Dec  1 10:00:0{i} web01 myapp[1]: ERROR app.db: x {i}"
             for i in range(6)]
    from test_infer import read_back

    fmt, records = read_back("\n".join(lines) + "\n")
    assert fmt.inner is not None
    assert [r.level for r in records] == ["ERROR"] * 3 + ["INFO"] + ["ERROR"] * 2
    assert {r.logger for r in records} == {"app.db"}


def test_a_time_then_a_level_is_no_syslog_host():
    # '2024-12-01T10:00:00Z DEBUG step 0 done' has the shape of an ISO syslog line whose host
    # is "DEBUG": syslog read no level at all.
    lines = [f"2024-12-01T10:00:{i:02d}Z {('DEBUG', 'INFO', 'WARNING', 'ERROR')[i % 4]} "
             f"step {i} done" for i in range(12)]
    from test_infer import read_back

    fmt, records = read_back("\n".join(lines) + "\n")
    assert not isinstance(fmt, SyslogFormat), fmt
    assert [r.level for r in records] == ["DEBUG", "INFO", "WARNING", "ERROR"] * 3
    assert FMT.score(lines) == 0.0


#: Lines other programs write into a system's log (rsyslog's traditional file, no PRI).
SYSTEM_LINES = [
    "CRON[4242]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
    "sshd[4300]: Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2",
    "kernel: Out of memory: Killed process 1234 (python3)",
    "systemd[1]: Started Session 12 of user deploy.",
    "sshd[4301]: Failed password for invalid user admin from 10.0.0.9 port 40000 ssh2",
    "postfix/smtp[777]: connect to mx.example.com[1.2.3.4]:25: Connection timed out",
]


@pytest.mark.parametrize("form", ["bsd", "iso"])
def test_each_programs_own_format_in_a_system_log(udp_receiver, form):
    # A system's log mixes programs: the Python service's lines are a minority, and a second
    # service of the same code base wrote only two. Each app's messages are read by their
    # own format; the others' stay as they are.
    from test_infer import read_back

    ours = _as_file(_sysloghandler_datagrams(udp_receiver), form).decode().splitlines()
    lines = []
    for k, line in enumerate(ours):
        stamp_end = line.index(" web01 ") + len(" web01 ")
        stamp = line[:stamp_end]
        lines += [stamp + SYSTEM_LINES[(2 * k + j) % len(SYSTEM_LINES)] for j in range(2)]
        lines.append(line)
        if k in (3, 7):
            lines.append(stamp + f"worker[77]: WARNING jobs.queue: backlog of {k} jobs")
    fmt, records = read_back("\n".join(lines) + "\n")
    assert isinstance(fmt, SyslogFormat), fmt  # (rsyslog's ISO stamp is no wrapper's)
    assert len(records) == len(lines)
    by_app = {}
    for r in records:
        by_app.setdefault(r.fields.get("app"), []).append(r)
    assert [r.level for r in by_app["myapp"]] == (
        ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "ERROR"] + ["DEBUG", "INFO", "WARNING",
                                                                      "ERROR", "CRITICAL"])
    assert {r.logger for r in by_app["myapp"]} == {"app.db"}
    assert by_app["myapp"][5].exc.endswith("KeyError: 'missing'")
    assert [(r.level, r.logger, r.message) for r in by_app["worker"]] == [
        ("WARNING", "jobs.queue", "backlog of 3 jobs"), ("WARNING", "jobs.queue", "backlog of 7 jobs")]
    sshd = by_app["sshd"]
    assert all(r.level is None and r.logger == "sshd" for r in sshd)
    assert sshd[0].message.startswith("Accepted publickey for deploy")
    assert {r.fields["host"] for r in records} == {"web01"}
