"""Redis's server log, written by a real redis-server (Debian's package; .ci/run installs it):
each line's mark is its level, the date and time are read, and a configuration error's
block is one CRITICAL record."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from server_helpers import free_port

from logview.formats.detect import detect
from logview.formats.redis import RedisFormat
from logview.record import RawRecord, parse_raw_record

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")


#: What redis-server 7.0.15 wrote (``--loglevel verbose``, a SAVE and a BGSAVE).
REAL = """\
20975:C 02 Dec 2026 02:05:16.564 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
20975:C 02 Dec 2026 02:05:16.564 # Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid=20975, just started
20975:C 02 Dec 2026 02:05:16.564 # Configuration loaded
20975:M 02 Dec 2026 02:05:16.564 * monotonic clock: POSIX clock_gettime
20975:M 02 Dec 2026 02:05:16.566 * Running mode=standalone, port=18379.
20975:M 02 Dec 2026 02:05:16.566 # Server initialized
20975:M 02 Dec 2026 02:05:16.569 * Ready to accept connections
20975:M 02 Dec 2026 02:05:17.598 - Accepted 127.0.0.1:50846
20975:M 02 Dec 2026 02:05:17.617 - Accepted 127.0.0.1:50858
20975:M 02 Dec 2026 02:05:17.621 * DB saved on disk
20975:M 02 Dec 2026 02:05:17.645 - Accepted 127.0.0.1:50866
20975:M 02 Dec 2026 02:05:17.646 * Background saving started by pid 20988
"""



def _command(port: int, *args: str) -> bytes:
    """One command in Redis's protocol; its reply's first line."""
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    with sock:
        sock.sendall(b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
        try:
            return sock.makefile("rb").readline()
        except OSError:  # (SHUTDOWN answers by closing)
            return b""


def _records(path) -> tuple[object, list]:
    lines = path.read_text().splitlines()
    found = detect(lines)
    fmt = found.format
    from logview.boundaries import RecordSplitter

    splitter = RecordSplitter(fmt)
    raws = splitter.feed(path.read_bytes()) + splitter.flush()
    return found, [parse_raw_record(fmt, raw) for raw in raws]


def test_a_real_redis_servers_log(tmp_path):
    port = free_port()
    log = tmp_path / "redis.log"
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--logfile", str(log),
         "--loglevel", "verbose", "--dir", str(tmp_path), "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _command(port, "PING") == b"+PONG\r\n"
        assert _command(port, "SET", "k", "v") == b"+OK\r\n"
        assert _command(port, "SAVE") == b"+OK\r\n"
        _command(port, "SHUTDOWN", "NOSAVE")
        server.wait(timeout=10)
    finally:
        server.kill()
        server.wait()
    found, records = _records(log)
    assert isinstance(found.format, RedisFormat), found.label
    assert len(records) == len(log.read_text().splitlines())
    assert {r.logger for r in records} == {"redis"}
    levels = {r.level for r in records}
    assert {"WARNING", "NOTICE", "INFO"} <= levels  # '#', '*' and '-' lines
    saved = [r for r in records if r.message == "DB saved on disk"]
    assert saved and saved[0].level == "NOTICE" and saved[0].fields["role"] == "master"
    assert all(r.time is not None and abs(time.time() - r.time.timestamp()) < 3600 * 26
               for r in records)
    assert all(r.fields["pid"] == server.pid for r in records
               if r.fields.get("role") == "master")


def test_a_configuration_error_is_one_critical_record(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text('port 0\nmaxmemory-policy "bogus"\n')
    out = subprocess.run([REDIS, str(conf)], check=False, capture_output=True, timeout=30)
    assert out.returncode != 0
    text = b"1:M 02 Dec 2026 02:05:35.481 # Server initialized\n" + out.stdout + out.stderr
    lines = text.decode().splitlines()
    fmt = RedisFormat()
    starts = [k for k, line in enumerate(lines) if fmt.is_start(line)]
    assert len(starts) == 2 and lines[starts[1]].startswith("*** FATAL CONFIG FILE ERROR")
    record = parse_raw_record(fmt, RawRecord(0, 1, "\n".join(lines[starts[1]:]).encode()))
    assert record.level == "CRITICAL" and "maxmemory-policy" in record.message


def test_redis_2_lines_and_other_lines():
    fmt = RedisFormat()
    old = parse_raw_record(fmt, RawRecord(0, 1, b"[4711] 14 Nov 22:13:20.123 * Ready\n"))
    assert (old.level, old.fields, old.message) == ("NOTICE", {"pid": 4711}, "Ready")
    assert (old.time.month, old.time.day, old.time.hour) == (11, 14, 22)
    assert not fmt.is_start("20975:Q 02 Dec 2026 02:05:16.564 # not a role")
    assert not fmt.is_start("2024-01-02 03:04:05,123 INFO app: hello")
