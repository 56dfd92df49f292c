"""A full disk (ENOSPC) stops the spools cleanly, says so, and keeps what they have.

For real: a 2 MiB tmpfs is mounted (tests and CI run as root; skipped with the reason where
mounting is not permitted) and TMPDIR or ``--save`` point into it; ``/dev/full`` is a device
whose every write fails with ENOSPC. Piped input stops being read ("disk full in DIR: stopped
reading after N bytes") and ``--print`` prints the N bytes; the listener says so on stderr,
keeps its ports open and what it received stays in the viewer (and in a ``--save`` file that
ends with a whole line).
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from logview.listen import ReceivedRecordsError, ReceivedRecordsWriter
from logview.record import Record
from logview.sources.spool import InputSpool

REPO = str(Path(__file__).resolve().parents[1])
TIMEOUT = 60.0
LINE = 100


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs mounted for the test (unmounted after it, whatever happens)."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                                 capture_output=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command: cannot make a small file system to fill")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield str(where)
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def lines(count: int) -> bytes:
    return b"".join(b"%09d " % i + b"x" * (LINE - 11) + b"\n" for i in range(count))


def logview(*args: str, tmpdir: str, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "logview", *args], stdin=stdin,
                            stdout=stdout, stderr=stderr, cwd=REPO,
                            env={**os.environ, "TMPDIR": tmpdir, "PYTHONPATH": REPO})


def piped_logview(*args: str, tmpdir: str, stdout) -> tuple[subprocess.Popen, int]:
    """logview reading a pipe on its stdin; returns it and the pipe's write end."""
    read_fd, write_fd = os.pipe()
    try:
        proc = logview(*args, tmpdir=tmpdir, stdin=read_fd, stdout=stdout)
    finally:
        os.close(read_fd)
    return proc, write_fd


def feed(target: str | int, data: bytes) -> threading.Thread:
    """Write ``data`` to ``target`` (a FIFO's path or a pipe's fd) from a thread, until the
    reader goes away."""

    def run() -> None:
        try:
            with open(target, "wb") as out:
                out.writelines(data[start : start + (1 << 16)]
                               for start in range(0, len(data), 1 << 16))
        except BrokenPipeError:
            pass  # logview stopped reading: what the test is about

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_printed_what_it_kept(out: bytes, data: bytes, stderr: str, name: str,
                                disk: str) -> int:
    match = re.search(rf"logview: warning: {re.escape(name)}: disk full in {re.escape(disk)}: "
                      r"stopped reading after ([\d,]+) bytes", stderr)
    assert match, stderr
    kept = int(match.group(1).replace(",", ""))
    assert 0 < kept < len(data)
    assert "Traceback" not in stderr
    # Every byte kept is printed (an unfinished last line gets its newline).
    assert out in (data[:kept], data[:kept] + b"\n")
    return kept


# -- piped input -----------------------------------------------------------------------------


@pytest.mark.parametrize("spool_max", ["8M", "0"], ids=["chunk-files", "no-cap"])
def test_stdin_stops_at_a_full_disk_and_prints_what_it_kept(small_disk, tmp_path, spool_max):
    data = lines(200_000)  # 20 MB for a 2 MiB disk
    out = tmp_path / "out"
    with open(out, "wb") as stdout:
        proc, pipe = piped_logview("--print", "--spool-max", spool_max, tmpdir=small_disk,
                                   stdout=stdout)
        writer = feed(pipe, data)
        _, err = proc.communicate(timeout=TIMEOUT)
        writer.join(TIMEOUT)
    assert proc.returncode == 0
    assert_printed_what_it_kept(out.read_bytes(), data, err.decode(), "stdin", small_disk)
    assert os.listdir(small_disk) == []  # nothing left behind, the space is free again


def test_a_fifo_stops_at_a_full_disk_and_prints_what_it_kept(small_disk, tmp_path):
    fifo = str(tmp_path / "in.fifo")
    os.mkfifo(fifo)
    data = lines(100_000)
    out = tmp_path / "out"
    with open(out, "wb") as stdout:
        proc = logview("--print", "--spool-max", "4M", fifo, tmpdir=small_disk, stdout=stdout)
        writer = feed(fifo, data)
        _, err = proc.communicate(timeout=TIMEOUT)
        writer.join(TIMEOUT)
    assert proc.returncode == 0
    assert_printed_what_it_kept(out.read_bytes(), data, err.decode(), fifo, small_disk)


def test_the_default_cap_fits_the_free_space(small_disk, tmp_path):
    """Half the free space of TMPDIR at start (here 1 MiB): the disk never fills."""
    data = lines(50_000)
    out = tmp_path / "out"
    with open(out, "wb") as stdout:
        proc, pipe = piped_logview("--print", tmpdir=small_disk, stdout=stdout)
        writer = feed(pipe, data)
        _, err = proc.communicate(timeout=TIMEOUT)
        writer.join(TIMEOUT)
    assert proc.returncode == 0
    assert out.read_bytes() == data
    assert "disk full" not in err.decode()
    assert "stdin: spool cap 1.0 MiB reached: dropped the oldest" in err.decode()


def test_a_spool_on_a_full_disk_keeps_what_it_wrote(small_disk, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", small_disk)
    spool = InputSpool(memory_limit=0, max_bytes=None)
    block = b"y" * 99 + b"\n"
    appended = 0
    while spool.append(block * 1000):
        appended += 1
        assert appended < 100, "a 2 MiB disk took 10 MB"
    assert spool.full and f"disk full in {small_disk}" in spool.full
    size = spool.size()
    assert appended * 100_000 <= size < (appended + 1) * 100_000
    assert spool.read_at(0, size) == (block * 1000 * (appended + 1))[:size]
    assert not spool.append(b"more\n")  # stopped
    assert spool.size() == size
    spool.close()


# -- the listener ----------------------------------------------------------------------------


def read_stderr_until(proc: subprocess.Popen, pattern: bytes, seen: bytearray,
                      timeout: float = TIMEOUT) -> re.Match | None:
    """Read stderr into ``seen`` until ``pattern`` is there (None after ``timeout``)."""
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while not (match := re.search(pattern, bytes(seen))):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([proc.stderr], [], [], left)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 1 << 16)
            assert chunk, f"logview ended: {bytes(seen)!r}"
            seen += chunk
    return match


FULL = (rb"logview: warning: disk full[^\n]*: stopped (?:keeping|saving) received records"
        rb"[^\n]* after ([\d,]+)[^\n]*\n")


def send_until_full(port: int, proc: subprocess.Popen, seen: bytearray, out: Path) -> re.Match:
    """Send records (about 250 bytes each as JSON lines) until logview says the disk is
    full. A batch is sent once logview has printed the records of the batch before it (or
    said the disk is full): without that pacing the sender runs far ahead into the socket's
    buffers, and logview has to work through all 40,000 records before its warning is read."""
    handler = logging.handlers.SocketHandler("127.0.0.1", port)
    log = logging.getLogger("diskfull")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        for batch in range(40):  # at most 40,000 records: about 10 MB for a 2 MiB disk
            for i in range(batch * 1000, batch * 1000 + 1000):
                log.info("record %d %s", i, "z" * 100)
            deadline = time.monotonic() + TIMEOUT
            while not (match := read_stderr_until(proc, FULL, seen, timeout=0.01)):
                if out.read_bytes().count(b"\n") >= batch * 1000:
                    break  # the batch before this one is printed: send the next
                assert time.monotonic() < deadline, f"logview stalled: {bytes(seen)!r}"
            if match:
                return match
        match = read_stderr_until(proc, FULL, seen)
        assert match, f"no disk full warning: {bytes(seen)!r}"
        return match
    finally:
        log.removeHandler(handler)
        handler.close()


def listen_until_full(tmp_path, small_disk, *extra: str):
    out = tmp_path / "out"
    seen = bytearray()
    with open(out, "wb") as stdout:
        proc = logview("--listen", "127.0.0.1:0", "--print", "--output", "jsonl", *extra,
                       tmpdir=small_disk, stdout=stdout)
        try:
            bound = read_stderr_until(proc, rb"tcp 127\.0\.0\.1:(\d+)", seen)
            assert bound, f"not listening: {bytes(seen)!r}"
            port = int(bound.group(1))
            saved = int(send_until_full(port, proc, seen, out).group(1).replace(b",", b""))
            assert proc.poll() is None  # still serving
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0
    stderr = (bytes(seen) + err).decode()
    assert "Traceback" not in stderr
    printed = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert 0 < saved == len(printed) < 40_000  # the viewer keeps every record written
    assert printed[-1]["message"].startswith(f"record {saved - 1} ")
    return stderr, saved


def test_listener_spool_on_a_full_disk_says_so_and_keeps_what_it_has(small_disk, tmp_path):
    stderr, _ = listen_until_full(tmp_path, small_disk)
    assert f"disk full in {small_disk}: stopped keeping received records after" in stderr
    assert "the viewer keeps those; later records are dropped" in stderr
    assert os.listdir(small_disk) == []  # the temporary spool is gone


def test_save_on_a_full_disk_stops_cleanly_with_whole_lines(small_disk, tmp_path):
    saved_path = os.path.join(small_disk, "received.jsonl")
    stderr, saved = listen_until_full(tmp_path, small_disk, "--save", saved_path)
    assert f"disk full: stopped saving received records to {saved_path} after" in stderr
    data = Path(saved_path).read_bytes()
    assert data.endswith(b"\n")  # cut back to the last whole line
    assert len([orjson.loads(line) for line in data.splitlines()]) == saved


def test_save_to_a_device_is_refused_at_start(tmp_path):
    proc = logview("--listen", "127.0.0.1:0", "--save", "/dev/full", "--print",
                   tmpdir=str(tmp_path))
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 2
    assert b"--save /dev/full: not a regular file" in err
    assert b"Traceback" not in err


def test_received_records_writer_on_dev_full_fails_once_and_refuses_after():
    errors: list[ReceivedRecordsError] = []
    writer = ReceivedRecordsWriter("/dev/full", flush_interval=60)
    writer.on_error = errors.append
    writer.write(Record(message="one"))
    writer.flush()
    assert writer.error is not None and writer.error.errno == errno.ENOSPC
    assert writer.error.disk_full
    assert errors == [writer.error]
    assert writer.saved == 0
    with pytest.raises(ReceivedRecordsError):
        writer.write(Record(message="two"))
    writer.flush()
    assert len(errors) == 1  # said once
    writer.close()
