"""``logview --listen``: a real subprocess receiving from Python's real logging handlers.

Each test runs ``python -m logview --listen 0 ...``, reads the bound port from its stderr,
sends with ``logging.handlers`` (or raw sockets), and reads the records it prints by polling
the stdout pipe with ``select`` until the expected records are there (never fixed sleeps).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import pickle
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from listen_helpers import make_logger

TIMEOUT = 10.0


class ListeningLogview:
    """A ``logview --listen ... --print`` process and what it has printed so far."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logview", *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out = bytearray()
        self.err = bytearray()
        self.banner = self.read_until(lambda: b"listening on" in self.err
                                      and self.err.endswith(b"\n"), what="the bound addresses")

    @property
    def port(self) -> int:
        match = re.search(rb"tcp 127\.0\.0\.1:(\d+)", self.err)
        assert match, f"no tcp port in {self.err!r}"
        return int(match.group(1))

    def _pump(self, timeout: float) -> bool:
        """Read what the pipes hold (waiting up to ``timeout``); False once both are closed."""
        pipes = [p for p in (self.proc.stdout, self.proc.stderr) if p is not None and not p.closed]
        if not pipes:
            return False
        ready, _, _ = select.select(pipes, [], [], timeout)
        for pipe in ready:
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                pipe.close()
            (self.out if pipe is self.proc.stdout else self.err).extend(chunk)
        return True

    def read_until(self, condition, what: str = "the condition", timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            left = deadline - time.monotonic()
            if left <= 0 or not self._pump(min(left, 0.5)) and not condition():
                raise AssertionError(f"timed out waiting for {what}; stdout={bytes(self.out)!r} "
                                     f"stderr={bytes(self.err)!r}")
        return value

    def records(self) -> list[dict]:
        """The complete JSON lines printed so far."""
        lines = bytes(self.out).split(b"\n")[:-1]
        return [orjson.loads(line) for line in lines]

    def wait_records(self, count: int, **match: object) -> list[dict]:
        def found() -> list[dict] | None:
            hits = [r for r in self.records() if all(r.get(k) == v for k, v in match.items())]
            return hits if len(hits) >= count else None

        return self.read_until(found, what=f"{count} records matching {match}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig``, read everything left, return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        deadline = time.monotonic() + TIMEOUT
        while self._pump(0.5):
            assert time.monotonic() < deadline, "logview did not exit after the signal"
        return self.proc.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()


@pytest.fixture
def start_logview():
    running: list[ListeningLogview] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ListeningLogview:
        lv = ListeningLogview(*args, env=env)
        running.append(lv)
        return lv

    yield start
    for lv in running:
        lv.kill()


def _jsonl(*extra: str) -> tuple[str, ...]:
    return ("--listen", "127.0.0.1:0", "--print", "--output", "jsonl", *extra)


class RunsACommand:
    """Unpickling this with ``pickle.loads`` would create a file (a REDUCE of os.system)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_socket_handler_exception_and_extra_fields_then_sigterm(start_logview):
    lv = start_logview(*_jsonl())
    assert re.fullmatch(rb"logview: listening on tcp 127\.0\.0\.1:\d+, udp 127\.0\.0\.1:\d+\n",
                        bytes(lv.err))
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    log = make_logger("app.orders", handler)
    log.info("order %s placed", 42, extra={"user": "bob", "amount": 9.5})
    try:
        {}["missing"]
    except KeyError:
        log.exception("lookup failed", extra={"order_id": 42})
    handler.close()

    info, error = lv.wait_records(2, logger="app.orders")
    assert info["message"] == "order 42 placed"
    assert info["level"] == "INFO" and info["levelno"] == logging.INFO
    assert info["fields"]["user"] == "bob" and info["fields"]["amount"] == 9.5
    # The client is named after the process that wrote the record, not after a logger.
    assert re.fullmatch(rf"tcp:127\.0\.0\.1:\d+ \(pid {os.getpid()}\)", info["source"])
    assert error["source"] == info["source"]
    assert error["level"] == "ERROR" and error["message"] == "lookup failed"
    assert error["exc"].startswith("Traceback (most recent call last):")
    assert error["exc"].endswith("KeyError: 'missing'")
    assert error["fields"]["order_id"] == 42
    assert lv.stop(signal.SIGTERM) == 0
    assert len(lv.records()) == 2  # nothing printed twice while draining


def test_datagram_syslog_http_and_raw_json_clients(start_logview):
    lv = start_logview(*_jsonl())
    port = lv.port

    dgram = logging.handlers.DatagramHandler("127.0.0.1", port)
    make_logger("app.udp", dgram).warning("over udp %d", 1, extra={"shard": "b"})
    dgram.close()
    lv.wait_records(1, logger="app.udp")

    syslog = logging.handlers.SysLogHandler(address=("127.0.0.1", port))
    syslog.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    make_logger("app.syslog", syslog).error("disk almost full")
    syslog.close()
    lv.read_until(lambda: any("disk almost full" in r["message"] for r in lv.records()),
                  what="the syslog record")

    http = logging.handlers.HTTPHandler(f"127.0.0.1:{port}", "/log", method="POST")
    make_logger("app.http", http).info("via http")
    http.close()
    lv.wait_records(1, logger="app.http")

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b'{"level": "error", "logger": "raw.json", "message": "from a socket",'
                     b' "request_id": "r-7"}\n{"level": "info", "logger": "raw.json", '
                     b'"message": "second line"}\n')
    raw = lv.wait_records(2, logger="raw.json")

    records = lv.records()
    udp = next(r for r in records if r["logger"] == "app.udp")
    assert udp["message"] == "over udp 1" and udp["fields"]["shard"] == "b"
    assert udp["source"].startswith("udp:127.0.0.1:")
    sys_rec = next(r for r in records if "disk almost full" in r["message"])
    assert sys_rec["level"] == "ERROR" and sys_rec["source"].startswith("udp:127.0.0.1:")
    http_rec = next(r for r in records if r["logger"] == "app.http")
    assert http_rec["message"] == "via http" and http_rec["source"] == f"http:127.0.0.1 (pid {os.getpid()})"
    assert [r["message"] for r in raw] == ["from a socket", "second line"]
    assert raw[0]["level"] == "ERROR" and raw[0]["fields"]["request_id"] == "r-7"
    assert raw[0]["source"].startswith("tcp:127.0.0.1:")
    assert lv.stop() == 0


def test_hostile_pickle_is_refused_while_a_good_client_loses_nothing(start_logview, tmp_path):
    lv = start_logview(*_jsonl())
    target = tmp_path / "pwned"
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    good = make_logger("app.good", handler)
    for i in range(100):
        good.info("good %d", i)
    payload = pickle.dumps(RunsACommand(str(target)), protocol=2)
    with socket.create_connection(("127.0.0.1", lv.port), timeout=5) as evil:
        evil.sendall(struct.pack(">I", len(payload)) + payload)
        for i in range(100, 200):
            good.info("good %d", i)
        warnings = lv.wait_records(1, logger="logview.listen")
    handler.close()

    received = lv.wait_records(200, logger="app.good")
    assert [r["message"] for r in received] == [f"good {i}" for i in range(200)]
    assert len({r["source"] for r in received}) == 1
    assert warnings[0]["level"] == "WARNING"
    assert warnings[0]["source"].startswith("tcp:127.0.0.1:")
    assert warnings[0]["source"] != received[0]["source"]
    assert lv.stop() == 0
    assert not target.exists()


def test_text_output_streams_and_sigint_exits_130(start_logview):
    lv = start_logview("--listen", "0", "--print", "--color", "never")
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    log = make_logger("app.text", handler)
    try:
        raise ValueError("bad \x1b[31mvalue")
    except ValueError:
        log.exception("failed")
    lv.read_until(lambda: b"ValueError: bad" in lv.out, what="the traceback")
    log.info("second")
    handler.close()
    lv.read_until(lambda: b"second" in lv.out, what="the second record")
    assert lv.stop(signal.SIGINT) == 130  # Ctrl-C: 128 + SIGINT, after a clean stop
    text = bytes(lv.out).decode()
    assert "ERROR app.text failed" in text and "Traceback (most recent call last):" in text
    assert "\x1b" not in text  # the escape sent in the exception never reaches the terminal


def test_query_filters_what_is_printed(start_logview):
    lv = start_logview(*_jsonl("-q", "level>=ERROR"))
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    log = make_logger("app.q", handler)
    for i in range(10):
        (log.error if i % 3 == 0 else log.info)("event %d", i)
    log.critical("last")
    handler.close()
    lv.wait_records(1, message="last")
    assert lv.stop() == 0
    assert [r["message"] for r in lv.records()] == ["event 0", "event 3", "event 6", "event 9",
                                                   "last"]


def test_save_keeps_the_records_and_the_temporary_spool_is_removed(start_logview, tmp_path):
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    env = {**os.environ, "TMPDIR": str(spool_dir)}
    saved = tmp_path / "received.jsonl"

    kept = start_logview(*_jsonl("--save", str(saved)), env=env)
    kept.read_until(lambda: f"saving received records to {saved}\n".encode() in kept.err,
                    what="the --save notice")
    plain = start_logview(*_jsonl(), env=env)
    for lv, name in ((kept, "app.kept"), (plain, "app.plain")):
        handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
        log = make_logger(name, handler)
        for i in range(5):
            log.info("record %d", i)
        handler.close()
        lv.wait_records(5, logger=name)
        assert lv.stop() == 0

    lines = [orjson.loads(line) for line in saved.read_bytes().splitlines()]
    assert [r["message"] for r in lines] == [f"record {i}" for i in range(5)]
    assert all(r["source"].endswith(f"(pid {os.getpid()})") for r in lines)
    assert list(spool_dir.iterdir()) == []  # no logview-listen-*.jsonl left behind


def test_unix_socket_and_several_listen_options(start_logview, tmp_path):
    path = tmp_path / "logview.sock"
    lv = start_logview("--listen", f"unix:{path}", "--listen", "0", "--print", "-o", "jsonl")
    assert f"unix {path}".encode() in lv.err and b"tcp 127.0.0.1:" in lv.err
    over_unix = logging.handlers.SocketHandler(str(path), None)
    make_logger("app.unix", over_unix).info("over unix")
    over_unix.close()
    over_tcp = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    make_logger("app.tcp", over_tcp).info("over tcp")
    over_tcp.close()
    (unix_rec,) = lv.wait_records(1, logger="app.unix")
    (tcp_rec,) = lv.wait_records(1, logger="app.tcp")
    assert unix_rec["source"].startswith(f"unix:{path}")
    assert tcp_rec["source"].startswith("tcp:127.0.0.1:")
    assert lv.stop() == 0
    assert not path.exists()  # the socket file is removed at exit


def test_listen_merged_with_a_file(start_logview, tmp_path):
    log = tmp_path / "old.log"
    log.write_text("2024-01-02 03:04:05,000 - app.file - INFO - from the file\n")
    lv = start_logview(str(log), *_jsonl())
    lv.wait_records(1, message="from the file")
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    make_logger("app.live", handler).warning("live one")
    handler.close()
    lv.wait_records(1, logger="app.live")
    assert lv.stop() == 0
    first, second = lv.records()
    assert first["source"] == str(log) and first["logger"] == "app.file"
    assert second["source"].startswith("tcp:127.0.0.1:")


def test_binding_beyond_loopback_warns(start_logview):
    lv = start_logview("--listen", "0.0.0.0:0", "--print")
    lv.read_until(lambda: b"warning" in lv.err and lv.err.endswith(b"\n"), what="the warning")
    assert re.search(rb"logview: warning: listening on 0\.0\.0\.0:\d+: anyone who can reach",
                     lv.err)
    assert lv.stop() == 0


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=30, check=False)


def test_port_in_use_is_one_clear_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("--listen", str(port), "--print")
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("logview: cannot listen on 127.0.0.1:")
    assert f"port {port} is already in use" in lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (("--save", "x.jsonl", "--print"), "--save needs --listen"),
    (("--listen", "host:port", "--print"), "the port must be a number"),
    (("--listen", "0", "--save", "/nonexistent-dir/x.jsonl", "--print"), "--save:"),
])
def test_listen_option_errors(args, needle, tmp_path):
    result = _run(*args)
    assert result.returncode == 2
    assert needle in result.stderr.decode()
    assert len(result.stderr.decode().splitlines()) == 1


def test_unix_socket_path_owned_by_a_file_is_refused(tmp_path):
    path = Path(tmp_path / "not-a-socket")
    path.write_text("keep me")
    result = _run("--listen", f"unix:{path}", "--print")
    assert result.returncode == 2
    assert "is not a socket" in result.stderr.decode()
    assert path.read_text() == "keep me"


def test_a_killed_logview_leaves_no_spool_behind(start_logview, tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    lv = start_logview(*_jsonl(), env=env)
    handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
    make_logger("app.killed", handler).info("before the kill")
    handler.close()
    lv.wait_records(1, logger="app.killed")
    assert lv.stop(signal.SIGKILL) == -signal.SIGKILL
    assert list(tmp_path.iterdir()) == []
