"""Format detection on samples written by the real libraries, and the --format option."""

from __future__ import annotations

import io
import logging
import logging.handlers
import socket
import time

import pytest
import structlog
from logging_helpers import loguru_json, loguru_lines

from logview.formats import detect
from logview.formats.base import FormatError, LogFormat, PlainFormat
from logview.formats.detect import (
    detect_format,
    format_from_option,
    format_names,
    sample_lines,
    score_formats,
)
from logview.formats.jsonl import JsonFormat
from logview.formats.logfmt import LogfmtFormat

TRACEBACK_TAIL = (
    '  File "/app/worker.py", line 12, in run\n'
    "    handle(job)\n"
    "ValueError: job 7 is broken\n"
)


def _stdlib_lines(formatter: logging.Formatter, count: int = 40) -> bytes:
    """Records from the real logging module: several loggers and levels, one traceback."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(formatter)
    loggers = [logging.getLogger(n) for n in ("app", "app.db", "urllib3.connectionpool")]
    for logger in loggers:
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
    levels = [logging.INFO, logging.DEBUG, logging.WARNING, logging.INFO, logging.ERROR]
    for i in range(count):
        loggers[i % 3].log(levels[i % 5], "request %d handled in %d ms", i, i * 7)
        if i == count // 2:
            try:
                raise KeyError("missing")
            except KeyError:
                loggers[0].exception("lookup failed")
    for logger in loggers:
        logger.handlers[:] = []
    return buf.getvalue().encode()


def _python_json_logger() -> bytes:
    from pythonjsonlogger.json import JsonFormatter

    return _stdlib_lines(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))


def _structlog(renderer) -> bytes:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso"),
                    structlog.processors.format_exc_info, renderer],
    )
    for i in range(30):
        logger.info("tick", n=i, user="bob")
    try:
        raise KeyError("x")
    except KeyError:
        logger.exception("failed")
    return out.getvalue().encode()


def _loguru_serialized() -> bytes:
    def write(loguru) -> None:
        for i in range(20):
            loguru.info(f"tick {i}")

    return loguru_json(write).encode()


def test_python_json_logger_is_jsonl():
    assert isinstance(detect_format(_python_json_logger()), JsonFormat)


def test_structlog_json_is_jsonl():
    sample = _structlog(structlog.processors.JSONRenderer())
    assert detect_format(sample).name == "jsonl"


def test_loguru_serialized_is_jsonl():
    assert detect_format(_loguru_serialized()).name == "jsonl"


def test_structlog_logfmt_is_logfmt():
    assert isinstance(detect_format(_structlog(structlog.processors.LogfmtRenderer())),
                      LogfmtFormat)


def test_unknown_text_is_plain():
    sample = b"".join(b"some words without structure %d\n" % i for i in range(50))
    assert isinstance(detect_format(sample), PlainFormat)
    assert isinstance(detect_format(b""), PlainFormat)
    assert isinstance(detect_format([]), PlainFormat)
    assert isinstance(detect_format(b"\n\n   \n"), PlainFormat)


def test_first_lines_in_mid_traceback_still_detected():
    sample = TRACEBACK_TAIL.encode() + _python_json_logger()
    assert detect_format(sample).name == "jsonl"
    sample = TRACEBACK_TAIL.encode() + _structlog(structlog.processors.LogfmtRenderer())
    assert detect_format(sample).name == "logfmt"


def test_crlf_and_ansi_colours():
    data = _structlog(structlog.processors.LogfmtRenderer()).decode()
    coloured = "".join(f"\x1b[32m{line}\x1b[0m\r\n" for line in data.splitlines())
    assert detect_format(coloured.encode()).name == "logfmt"
    lines = sample_lines(coloured.encode())
    assert lines and not any("\x1b" in line or "\r" in line for line in lines)


def test_kubectl_style_mixed_json_and_text():
    json_lines = _python_json_logger().decode().splitlines()
    mixed = []
    for i, line in enumerate(json_lines):
        mixed.append(line)
        if i % 6 == 0:
            mixed.append(f"W0102 03:04:05.{i:06d} 1 reflector.go:324] watch closed")
    # Each line parses as what it is: JSON records as JSON, klog's text lines by their own
    # inferred template (the mixed format), whether the sample is bytes or a list of lines.
    for sample in ("\n".join(mixed).encode(), mixed):
        fmt = detect_format(sample)
        assert fmt.name.startswith("jsonl+"), fmt.name
        assert fmt.parse(json_lines[0]).level is not None
        assert fmt.parse(mixed[1]).message.endswith("watch closed")


def test_sample_cut_mid_line_ignores_the_partial_line():
    data = _python_json_logger()
    cut = data[: data.index(b"\n", 500) + 20]
    assert detect_format(cut).name == "jsonl"
    assert all(line.endswith("}") for line in sample_lines(cut))


def test_byte_order_mark():
    assert detect_format(b"\xef\xbb\xbf" + _python_json_logger()).name == "jsonl"


def test_sample_is_bounded():
    big = b'{"message": "x"}\n' * 100_000
    assert len(sample_lines(big)) == detect.SAMPLE_LINES


def test_hint_file_name_and_format_name():
    weak = b'{"message": "a"}\n' + b"text line\n" * 3  # JSON scores only 1/4 here
    assert detect_format(weak, hint="/var/log/app.jsonl").name == "jsonl"
    assert detect_format(weak, hint="/var/log/app.log").name == "jsonl+plain"  # each as it is
    assert detect_format(b"a b c\n", hint="logfmt").name == "logfmt"
    assert detect_format(b"a b c\n", hint="json").name == "jsonl"


def test_detection_is_quick():
    sample = _python_json_logger() + _stdlib_lines(
        logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"), 200)
    assert len(sample_lines(sample)) == detect.SAMPLE_LINES
    detect_format(sample)  # build the candidates once
    best = min(_timed(lambda: detect_format(sample)) for _ in range(3))
    assert best < 0.05, f"detection took {best * 1000:.1f} ms"


def _timed(fn) -> float:
    """CPU seconds of this thread (a loaded machine's waits are not detection's)."""
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def test_scores_are_fractions():
    for candidate, score in score_formats(_python_json_logger()):
        assert 0.0 <= score <= 1.0, candidate.name


# ---------------------------------------------------------------------------------------------
# Known text formats (logview.formats.presets), each from a real writer


def _known() -> list[LogFormat]:
    from logview.formats.presets import known_text_formats

    return known_text_formats()


def _loguru_text() -> bytes:
    def write(loguru) -> None:
        for i in range(30):
            loguru.log(("INFO", "DEBUG", "WARNING", "SUCCESS")[i % 4], f"tick {i}")

    return loguru_lines(write, colorize=False).encode()  # loguru's default format


class _UvicornFormatter(logging.Formatter):
    """uvicorn's DefaultFormatter without colours: ``levelprefix`` is ``"INFO:"`` padded to 9."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        name = record.levelname
        record.__dict__["levelprefix"] = name + ":" + " " * (8 - len(name))
        return super().formatMessage(record)


def _sample_for(fmt: LogFormat) -> bytes | None:
    if fmt.name == "loguru-text":
        return _loguru_text()
    if fmt.name == "uvicorn":
        return _stdlib_lines(_UvicornFormatter("%(levelprefix)s %(message)s"))
    if fmt.name == "rich":  # rich's RichHandler writing to a file console
        from tests.test_rich_console_format import _RECORDS, _rich_log

        return _rich_log(_RECORDS).encode()
    if fmt.name == "oslo":  # what oslo.log 7 wrote (test_oslo_format)
        from tests.test_oslo_format import _REAL

        return _REAL.encode()
    if fmt.name == "postgresql":  # what PostgreSQL 15 wrote (test_postgres_format)
        from tests.test_postgres_format import DEBIAN

        return DEBIAN.encode()
    if fmt.name == "request-lines":  # uvicorn's own AccessFormatter, as its worker writes
        import uvicorn.logging  # them under gunicorn (no level prefix)

        access = logging.Handler()
        access.setFormatter(uvicorn.logging.AccessFormatter(
            '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
        return "".join(access.format(logging.LogRecord(
            "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", f"/items/{i}", "1.1", (200, 404, 500)[i % 3]), None))
            + "\n" for i in range(40)).encode()
    if fmt.name == "haproxy":  # what HAProxy 2.6 wrote (test_haproxy_format)
        from tests.test_haproxy_format import HTTP

        return HTTP.encode()
    if fmt.name == "redis":  # what redis-server 7 wrote (test_redis_format)
        from tests.test_redis_format import REAL as REDIS

        return REDIS.encode()
    if fmt.name == "access":  # http.server's request log, the lines werkzeug writes
        import contextlib
        import http.server

        handler = object.__new__(http.server.BaseHTTPRequestHandler)
        handler.client_address = ("10.0.0.1", 5000)
        out = io.StringIO()
        with contextlib.redirect_stderr(out):
            for i in range(40):
                handler.requestline = f"GET /item/{i} HTTP/1.1"
                handler.log_request((200, 404, 500)[i % 3], i)
        return out.getvalue().encode()
    template = getattr(fmt, "template", None)
    if not isinstance(template, str):
        return None
    formatter = logging.Formatter(template, getattr(fmt, "datefmt", None),
                                  style=getattr(fmt, "style", None) or "%")
    return _stdlib_lines(formatter)


@pytest.mark.parametrize("fmt", _known(), ids=lambda f: f.name)
def test_known_text_format_detected(fmt):
    sample = _sample_for(fmt)
    if sample is None:
        pytest.skip(f"no real writer for {fmt.name}")
    assert detect_format(sample).name == fmt.name
    assert detect_format(TRACEBACK_TAIL.encode() + sample).name == fmt.name
    assert fmt.name in format_names()
    assert format_from_option(fmt.name).name == fmt.name


def test_syslog_handler_datagrams_detected():
    syslog = pytest.importorskip("logview.formats.syslog")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        handler = logging.handlers.SysLogHandler(address=sock.getsockname())
        handler.setFormatter(logging.Formatter("%(name)s[%(process)d]: %(message)s"))
        logger = logging.getLogger("svc.syslog")
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        try:
            for i in range(20):
                logger.log((logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)[i % 4],
                           "message %d", i)
            datagrams = [sock.recv(65536) for _ in range(20)]
        finally:
            logger.handlers[:] = []
            handler.close()
    sample = b"".join(d.rstrip(b"\x00") + b"\n" for d in datagrams)
    fmt = detect_format(sample)
    assert isinstance(fmt, syslog.SyslogFormat)
    assert fmt.parse(datagrams[2].decode().rstrip("\x00")).level == "WARNING"


def test_syslog_file_detected_when_available():
    syslog = pytest.importorskip("logview.formats.syslog")
    sample = b"".join(
        b"Jan  2 03:04:%02d web1 sshd[%d]: Accepted publickey for root from 10.0.0.%d\n"
        % (i, 1000 + i, i) for i in range(30))
    fmt = detect_format(sample)
    assert isinstance(fmt, syslog.SyslogFormat)


# ---------------------------------------------------------------------------------------------
# --format


def test_format_from_option_names_and_aliases():
    assert isinstance(format_from_option("jsonl"), JsonFormat)
    assert isinstance(format_from_option("JSON"), JsonFormat)
    assert isinstance(format_from_option("ndjson"), JsonFormat)
    assert isinstance(format_from_option("logfmt"), LogfmtFormat)
    assert isinstance(format_from_option("plain"), PlainFormat)
    assert format_from_option("jsonl") is not format_from_option("jsonl")  # fresh instances
    assert {"jsonl", "logfmt", "plain"} <= set(detect.FORMAT_NAMES)


def test_format_from_option_templates():
    fmt = format_from_option("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    rec = fmt.parse("2024-01-02 03:04:05 WARNING careful")
    assert (rec.level, rec.message) == ("WARNING", "careful")
    assert rec.time is not None and rec.time.year == 2024
    brace = format_from_option("{levelname}:{name}:{message}")
    assert brace.parse("ERROR:app:bad").logger == "app"


def test_format_from_option_bad_template_says_format():
    with pytest.raises(FormatError, match="--format"):
        format_from_option("%(asctime)s %(levelname")


def test_format_from_option_unknown_lists_names():
    with pytest.raises(FormatError) as info:
        format_from_option("no-such-format")
    message = str(info.value)
    assert "no-such-format" in message
    for name in ("jsonl", "logfmt", "plain"):
        assert name in message


def test_format_from_option_known_name_with_datefmt():
    names = format_names()
    if "python-dash" not in names:
        pytest.skip("logview.formats.presets is not there")
    fmt = format_from_option("python-dash", "%d/%m/%Y %H:%M:%S")
    rec = fmt.parse("02/01/2024 03:04:05 - app.db - ERROR - failed")
    assert (rec.logger, rec.level, rec.message) == ("app.db", "ERROR", "failed")
    assert rec.time is not None and (rec.time.month, rec.time.day) == (1, 2)
    loguru = format_from_option("loguru-text", "%Y-%m-%d %H:%M:%S")
    rec = loguru.parse("2024-01-02 03:04:05 | SUCCESS  | app:main:3 - done")
    assert (rec.level, rec.levelno, rec.message) == ("SUCCESS", 25, "done")
    with pytest.raises(FormatError, match="celery"):
        format_from_option("celery", "%H:%M")


# supervisord's own log (supervisor 4, run on this project's machine): logging's layout, but
# supervisor's level names (WARN, CRIT), not logging's.
SUPERVISORD = "2026-12-01 22:18:25,862 CRIT Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.\n2026-12-01 22:18:25,869 INFO daemonizing the supervisord process\n2026-12-01 22:18:25,881 INFO supervisord started with pid 15661\n2026-12-01 22:18:26,886 INFO spawned: 'crash' with pid 15677\n2026-12-01 22:18:26,893 INFO spawned: 'ok' with pid 15678\n2026-12-01 22:18:27,901 INFO success: crash entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)\n2026-12-01 22:18:27,901 INFO success: ok entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)\n2026-12-01 22:18:27,901 WARN exited: crash (exit status 3; not expected)\n2026-12-01 22:18:28,906 INFO spawned: 'crash' with pid 15700\n2026-12-01 22:18:28,917 WARN exited: crash (exit status 3; not expected)\n2026-12-01 22:18:29,922 INFO spawned: 'crash' with pid 15709\n2026-12-01 22:18:29,933 WARN exited: crash (exit status 3; not expected)\n2026-12-01 22:18:31,938 INFO spawned: 'crash' with pid 15733\n2026-12-01 22:18:31,938 WARN received SIGTERM indicating exit request\n2026-12-01 22:18:31,945 INFO waiting for crash, ok to die\n2026-12-01 22:18:31,946 WARN stopped: ok (terminated by SIGTERM)\n2026-12-01 22:18:31,946 WARN exited: crash (exit status 3; not expected)\n"


#: The same at ``loglevel=debug`` (supervisor 4.3): DEBG lines, a child's output after them.
SUPERVISORD_DEBUG = "2026-12-02 02:21:17,003 CRIT Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.\n2026-12-02 02:21:17,011 INFO RPC interface 'supervisor' initialized\n2026-12-02 02:21:17,011 CRIT Server 'unix_http_server' running without any HTTP authentication checking\n2026-12-02 02:21:17,011 INFO supervisord started with pid 29323\n2026-12-02 02:21:18,016 INFO spawned: 'crasher' with pid 29336\n2026-12-02 02:21:18,023 INFO spawned: 'sleeper' with pid 29337\n2026-12-02 02:21:18,075 DEBG 'crasher' stdout output:\ncrasher starting\n2026-12-02 02:21:18,075 DEBG 'crasher' stdout output:\n\n\n2026-12-02 02:21:18,388 DEBG fd 9 closed, stopped monitoring <POutputDispatcher at 140655577543760 for <Subprocess at 140655589220560 with name crasher in state STARTING> (stderr)>\n2026-12-02 02:21:18,389 DEBG fd 7 closed, stopped monitoring <POutputDispatcher at 140655578399440 for <Subprocess at 140655589220560 with name crasher in state STARTING> (stdout)>\n2026-12-02 02:21:18,389 WARN exited: crasher (exit status 3; not expected)\n2026-12-02 02:21:18,389 DEBG received SIGCHLD indicating a child quit\n2026-12-02 02:21:19,395 INFO spawned: 'crasher' with pid 29346\n"


def test_supervisords_debug_level_is_a_level():
    records = [detect.detect(SUPERVISORD_DEBUG.encode()).format.parse(line)
               for line in SUPERVISORD_DEBUG.splitlines() if line[:2] == "20"]
    levels = [r.level for r in records]
    assert levels.count("DEBUG") == 5 and set(levels) == {"DEBUG", "INFO", "WARNING", "CRITICAL"}
    assert all(r.logger == "" for r in records)  # (DEBG was read as a logger)


def test_a_known_template_with_other_level_spellings_keeps_level_queries_exact(tmp_path):
    """supervisord writes ``WARN`` and ``CRIT``: the known template reads them as WARNING and
    CRITICAL, so level queries must look for those spellings too (they looked for
    ``WARNING`` alone, as ``logging`` writes it, and found none of supervisord's warnings)."""
    import subprocess
    import sys

    path = tmp_path / "supervisord.log"
    path.write_text(SUPERVISORD)
    fmt = detect.detect(SUPERVISORD.encode()).format
    assert getattr(fmt, "python_levels", None) is False
    # Its first words are no loggers (python-space read "spawned:" and "exited:" as ones).
    spawned = next(line for line in SUPERVISORD.splitlines() if " spawned: " in line)
    record = fmt.parse(spawned)
    assert record.logger == "" and record.message.startswith("spawned: 'crash' with pid")
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=WARNING"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.splitlines()
    assert out == [line for line in SUPERVISORD.splitlines() if " WARN " in line or " CRIT " in line]


def test_plain_lines_that_all_open_with_whitespace_are_records_each(tmp_path):
    """``%(relativeCreated)6d %(threadName)s %(message)s`` (the logging cookbook's) has no
    time and no level: plain text, every line indented by the right-aligned number. Read as
    plain, the whole file was one record; now each line is one, a traceback's own lines
    (File, its header, the exception) are kept with the record before, and the index, the
    splitter and the format agree."""
    from logging_helpers import log_key_error, make_logger

    from logview.boundaries import RecordSplitter
    from logview.formats.base import IndentedPlainFormat
    from logview.sources.base import StaticFileSource
    from logview.store import open_store

    path = tmp_path / "cookbook.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(relativeCreated)6d %(threadName)s %(message)s"))

    def young(record: logging.LogRecord) -> bool:
        # (milliseconds since logging was imported: a short-lived program's, padded; in a
        # test process that ran for minutes they fill the six places)
        record.relativeCreated %= 10_000
        return True

    handler.addFilter(young)
    log = make_logger("cookbook", handler)
    for i in range(120):
        if i % 40 == 7:
            log_key_error(log, f"k{i}", "lookup %d failed", i)
        else:
            log.info("step %d done", i)
    handler.close()
    data = path.read_bytes()
    fmt = detect_format(data)
    assert isinstance(fmt, IndentedPlainFormat)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    starts = [store.index.start(i) for i in range(len(store))]
    store.close()
    steps = [r for r in records if " MainThread step " in r.message]
    assert len(steps) == 117 and all(r.message.count("\n") == 0 for r in steps)
    failed = [r for r in records if " MainThread lookup " in r.message]
    assert len(failed) == 3
    assert all(r.exc.startswith("Traceback (most recent call last):") and 'File "' in r.exc
               for r in failed)
    # A traceback's code line cannot be told from a line alone: a record of its own, which
    # holds the rest of the traceback (the exception). Nothing else.
    rest = [r for r in records if r not in steps and r not in failed]
    assert len(rest) == 3 and all("KeyError: 'k" in r.message for r in rest)
    splitter = RecordSplitter(fmt)
    assert [raw.offset for raw in splitter.feed(data) + splitter.flush()] == starts
    offsets, at = [], 0
    for line in data.decode().splitlines(keepends=True):
        if fmt.is_start(line.rstrip("\n")):
            offsets.append(at)
        at += len(line.encode())
    assert offsets == starts


def test_a_traceback_alone_stays_one_record():
    """All its lines but the first are indented too: not the indented plain layout."""
    sample = TRACEBACK_TAIL.encode() * 3
    fmt = detect_format(sample)
    assert type(fmt) is PlainFormat
