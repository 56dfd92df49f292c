"""GenericFormat on real-looking files: Apache's and nginx's error logs, a log4j-style Java log
with its stack trace, journalctl's short output, and a Python program whose libraries each log
with their own template; any text keeps every byte (see ``test_generic_format``)."""

from __future__ import annotations

import io
import logging
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from logview.boundaries import RecordSplitter
from logview.printer import dumps_record
from logview.record import parse_raw_record
from tests.test_generic_format import GENERIC, _implicit_chain_with_carets, capture, split

APACHE = """\
[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 140204567893760] [client 192.0.2.10:51234] AH00037: Symbolic link not allowed or link target not accessible: /var/www/html/link
[Wed Oct 11 14:32:53.000120 2000] [mpm_event:notice] [pid 1233:tid 140204567893761] AH00489: Apache/2.4.57 (Unix) configured -- resuming normal operations
[Wed Oct 11 14:32:54.555555 2000] [php:warn] [pid 1235:tid 140204567893762] [client 192.0.2.11:51235] PHP Warning:  Undefined variable $x in /var/www/html/index.php on line 3
[Wed Oct 11 14:32:55.000001 2000] [proxy_fcgi:error] [pid 1236:tid 140204567893763] (70007)The timeout specified has expired: [client 192.0.2.12:51236] AH01075: Error dispatching request to : (polling)
[Wed Oct 11 14:32:56.100000 2000] [authz_core:trace3] [pid 1236:tid 140204567893763] authz_core.c(817): [client 192.0.2.12:51236] AH01626: authorization result: granted
"""


def test_apache_error_log():
    records = split(GENERIC, APACHE)
    assert [(r.level, r.logger) for r in records] == [
        ("ERROR", "core"), ("NOTICE", "mpm_event"), ("WARNING", "php"), ("ERROR", "proxy_fcgi"),
        ("TRACE", "authz_core")]
    first = records[0]
    assert first.time == datetime(2000, 10, 11, 14, 32, 52, 123456)
    assert first.fields == {"pid": 1234, "tid": 140204567893760, "client": "192.0.2.10:51234"}
    assert first.message.startswith("AH00037: Symbolic link")
    assert records[3].message.startswith("(70007)The timeout specified has expired: [client")


NGINX = """\
2024/01/02 03:04:05 [notice] 1#1: using the "epoll" event method
2024/01/02 03:04:05 [notice] 1#1: nginx/1.25.3
2024/01/02 03:04:06 [error] 29#29: *1 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: "GET /favicon.ico HTTP/1.1", host: "localhost:8080"
2024/01/02 03:04:08 [crit] 29#29: *3 connect() to unix:/run/php.sock failed (2: No such file or directory) while connecting to upstream
2024/01/02 03:04:09 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)
"""


def test_nginx_error_log():
    records = split(GENERIC, NGINX)
    assert [r.level for r in records] == ["NOTICE", "NOTICE", "ERROR", "CRITICAL", "CRITICAL"]
    error = records[2]
    assert error.time == datetime(2024, 1, 2, 3, 4, 6)
    assert error.fields == {"pid": 29, "tid": 29, "connection": 1}
    assert error.message.startswith('open() "/usr/share/nginx/html/favicon.ico" failed')
    assert records[0].message == 'using the "epoll" event method'


LOG4J = """\
2024-01-02 03:04:05,123 INFO  [main] com.example.App - Starting application v1.2.3
2024-01-02 03:04:05,456 WARN  [pool-1-thread-2] com.example.db.Pool - Connection pool at 90% capacity
2024-01-02 03:04:06,789 ERROR [http-nio-8080-exec-1] com.example.web.OrderController - Order 42 failed
java.lang.IllegalStateException: order already shipped
\tat com.example.service.OrderService.cancel(OrderService.java:88)
\tat com.example.web.OrderController.cancel(OrderController.java:41)
Caused by: java.sql.SQLException: row locked
\tat com.example.db.Dao.update(Dao.java:12)
\t... 2 more
2024-01-02 03:04:07,000 DEBUG [main] com.example.App$ShutdownHook - Shutdown hook registered
"""


def test_log4j_style_java_log_keeps_its_stack_trace():
    records = split(GENERIC, LOG4J)
    assert [(r.level, r.logger, r.fields["context"]) for r in records] == [
        ("INFO", "com.example.App", "main"),
        ("WARNING", "com.example.db.Pool", "pool-1-thread-2"),
        ("ERROR", "com.example.web.OrderController", "http-nio-8080-exec-1"),
        ("DEBUG", "com.example.App$ShutdownHook", "main")]
    assert records[1].message == "Connection pool at 90% capacity"
    # the JVM's stack trace is the record's exception, as a Python traceback is
    assert records[2].message == "Order 42 failed"
    assert records[2].exc.startswith("java.lang.IllegalStateException")
    assert records[2].exc.endswith("Caused by: java.sql.SQLException: row locked\n"
                                   "\tat com.example.db.Dao.update(Dao.java:12)\n\t... 2 more")


JOURNAL = """\
Jan 02 03:04:05 web-1 systemd[1]: Started Session 42 of User deploy.
Jan 02 03:04:06 web-1 sshd[20211]: Accepted publickey for deploy from 192.0.2.7 port 52022 ssh2
Jan 02 03:04:07 web-1 gunicorn[811]: [2024-01-02 03:04:07 +0000] [811] [ERROR] Exception in worker process
Jan 02 03:04:08 web-1 kernel: EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro
Jan 02 03:04:09 web-1 app[812]: WARNING:app.cache:cache miss ratio 0.93
"""


def test_journalctl_short_output():
    records = split(GENERIC, JOURNAL)
    year = datetime.now().year
    assert [(r.logger, r.fields.get("pid"), r.level) for r in records] == [
        ("systemd", 1, None), ("sshd", 20211, None), ("gunicorn", 811, "ERROR"),
        ("kernel", None, None), ("app", 812, "WARNING")]
    assert all(r.fields["host"] == "web-1" for r in records)
    assert records[0].time == datetime(year, 1, 2, 3, 4, 5)
    assert [records[i].message for i in (0, 2, 4)] == [
        "Started Session 42 of User deploy.", "Exception in worker process",
        "app.cache:cache miss ratio 0.93"]


def test_python_program_with_no_stable_template():
    """print() output, two formatters on two loggers and a traceback, in one stream."""
    out = io.StringIO()
    app_formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    lib_formatter = logging.Formatter("[%(levelname)s] %(name)s - %(message)s")

    def app(log: logging.Logger) -> None:
        log.info("worker pool ready with %d workers", 4)
        out.write("progress: 50%\n")
        capture(lib_formatter, lambda lib: lib.warning("Retrying (Retry(total=2)) after %s",
                                                       "connection broken"),
                "urllib3.connectionpool", out)
        try:
            _implicit_chain_with_carets()
        except KeyError:
            log.exception("job %d failed", 7)
        out.write("bye\n")

    out.write("Starting up (pid 4242)\n")
    text, logged = capture(app_formatter, app, "app", out)
    records = split(GENERIC, text)
    assert [(r.level, r.logger) for r in records] == [
        (None, ""), ("INFO", "app"), ("WARNING", "urllib3.connectionpool"), ("ERROR", "app")]
    assert [r.message for r in records] == [
        "Starting up (pid 4242)", "worker pool ready with 4 workers\nprogress: 50%",
        "Retrying (Retry(total=2)) after connection broken", "job 7 failed"]
    assert records[3].exc == f"{logged[1].exc_text}\nbye"  # print() after it continues it
    assert GENERIC.score(["Starting up (pid 4242)"] + [r.raw.split("\n")[0]
                                                     for r in records[1:]]) == 0.75


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_keeps_every_byte_and_prints(text):
    data = text.encode("utf-8", "surrogatepass")
    raws = (splitter := RecordSplitter(GENERIC)).feed(data) + splitter.flush()
    assert b"".join(r.data for r in raws) == data
    for raw in raws:
        dumps_record(parse_raw_record(GENERIC, raw))


def test_pips_log_reads_its_levels_and_keeps_its_traceback_whole(tmp_path):
    """pip's ``--log`` file stamps every line, a traceback's too, with an ISO time without a
    zone, and names a level only on its warnings and errors (``ERROR: No matching
    distribution``): the stamp is a wrapper's (it stands on the traceback's lines), the
    levels are read, and the traceback is one record's, not a record a line."""
    import subprocess
    import sys

    from logview.formats.detect import detect

    log = tmp_path / "pip.log"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-index",
                    "--disable-pip-version-check", "no-such-project-for-logview", "--log",
                    str(log)], capture_output=True, timeout=120, check=False)
    data = log.read_bytes()
    detection = detect(data)
    assert detection.format.name.startswith("timestamped+"), detection
    records = split(detection.format, data.decode())
    errors = [r.message for r in records if r.level == "ERROR"]
    assert errors and errors[-1].startswith("No matching distribution found")
    assert sum(1 for r in records if r.level is None) > 0.8 * len(records)  # pip's info lines
    failed = [r for r in records if r.exc]
    assert [r.message for r in failed] == ["Exception information:"]
    assert failed[0].exc.startswith("Traceback (most recent call last):")
    assert "DistributionNotFound: No matching distribution" in failed[0].exc
    assert failed[0].time is not None  # the stamp's


def test_a_template_that_reads_no_level_gives_way_to_levels_in_messages():
    """A program that writes a level only into some messages (``ERROR: ...`` after logging's
    default time): the inferred template reads every line but no level, so the generic
    format, which reads a level after the time, is chosen."""
    from logging_helpers import make_logger

    from logview.formats.detect import detect

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = make_logger("tests.generic.levels_in_messages", handler)
    said = ("fetched %d rows", "cache warm after %d s", "Using pool of %d", "sent batch %d",
            "%d files left", "watching /srv/in for %d", "opened db %d")
    for i in range(40):
        log.warning(said[i % len(said)], i)
        if i % 10 == 3:
            log.warning("ERROR: step %d failed", i)
        if i % 10 == 7:
            log.warning("WARNING: step %d slow", i)
    detection = detect(stream.getvalue().encode())
    assert detection.format.name == "generic", detection
    records = split(detection.format, stream.getvalue())
    assert [r.level for r in records if r.level] == ["ERROR", "WARNING"] * 4
