"""The headless printer (``logview/headless.py``): ``--print --follow`` end to end."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys

from process_helpers import read_until

LINE = "2024-01-02 03:04:{:02d},000 - app - INFO - {}\n"


def test_follow_does_not_cut_a_half_written_line_into_two_records(tmp_path):
    """Regression: a quiet moment mid-line made the rest of the line a record of its own."""
    log = tmp_path / "live.log"
    log.write_text(LINE.format(0, "first"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "logview", str(log), "--print", "--follow", "-o", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = read_until(proc, b"first")
        with log.open("a") as f:
            f.write(LINE.format(1, "half").rstrip("\n"))
        # The writer pauses mid-line for longer than the quiet flush: nothing may come out.
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        assert not ready, os.read(proc.stdout.fileno(), 65536)
        with log.open("a") as f:
            f.write(" written\n" + LINE.format(2, "last"))
        out += read_until(proc, b'"last"')
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    messages = [json.loads(line)["message"] for line in out.splitlines()]
    assert messages == ["first", "half written", "last"]


def test_follow_on_a_pipe_ends_at_its_end(tmp_path):
    """Regression: --print --follow on a pipe waited forever after its EOF."""
    data = (LINE.format(0, "one") + LINE.format(1, "two").rstrip("\n")).encode()
    result = subprocess.run([sys.executable, "-m", "logview", "--print", "--follow"],
                            check=False, input=data, capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == data.splitlines()


def test_follow_prints_appended_records_until_interrupted(tmp_path):
    log = tmp_path / "live.log"
    log.write_text("2024-01-02 03:04:05,000 - app - INFO - first\n")
    proc = subprocess.Popen([sys.executable, "-m", "logview", str(log), "--print", "--follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(proc, b"first")
        with log.open("a") as f:
            f.write("2024-01-02 03:04:06,000 - app - ERROR - second\n")
        read_until(proc, b"second")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 130  # Ctrl-C: 128 + SIGINT, as Unix tools exit
    assert b"Traceback" not in proc.stderr.read()


def test_sigterm_and_sighup_end_following_quietly_with_status_0(tmp_path):
    log = tmp_path / "live.log"
    log.write_text("2024-01-02 03:04:05,000 - app - INFO - first\n")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        proc = subprocess.Popen([sys.executable, "-m", "logview", str(log), "--print", "-f"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            read_until(proc, b"first")
        finally:
            proc.send_signal(sig)
            proc.wait(timeout=10)
        assert proc.returncode == 0, sig
        assert proc.stderr.read() == b""


HOSTILE = (
    b"2024-01-02 03:04:05,000 - app - INFO - plain start\r\n"
    b"2024-01-02 03:04:06,000 - app - ERROR - red \x1b[31mERROR\x1b[0m and \xff\xfe bytes\n"
    b"Traceback (most recent call last):\n"
    b'  File "x.py", line 1, in <module>\n'
    b"ValueError: bad \x07 bell\n"
    b"2024-01-02 03:04:07,000 - app.db - WARNING - tab\there, NUL \x00 there\n"
    b"2024-01-02 03:04:08,000 - app - ERROR - no newline at the end"
)


def _print(*args: str) -> bytes:
    done = subprocess.run([sys.executable, "-m", "logview", *args, "--print"],
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_print_into_a_pipe_writes_the_original_bytes(tmp_path, run_main):
    """Into a pipe or a file, --print writes records byte for byte (ESC, CRLF, invalid UTF-8
    and all): `logview --print | less -R` and extraction work; only a terminal gets symbols.
    (The real command into a pipe for everything; the queries through ``cli.main`` here,
    into a file-like that is no terminal either.)"""
    log = tmp_path / "app.log"
    log.write_bytes(HOSTILE)
    assert _print(str(log)) == HOSTILE + b"\n"  # everything: the file, plus a final newline

    def printed(*args: str) -> bytes:
        status, out, err = run_main(*args, "--print")
        assert status == 0, err
        return out

    second, third, last = (HOSTILE.index(b"2024-01-02 03:04:0" + n) for n in (b"6", b"7", b"8"))
    errors = HOSTILE[second:third] + HOSTILE[last:] + b"\n"
    assert printed(str(log), "-q", "level>=ERROR") == errors
    other = tmp_path / "other.log"
    other.write_bytes(b"2024-01-02 03:04:05,500 - other - ERROR - merged \x1b[1mbold\x1b[0m\n")
    merged = printed(str(log), str(other), "-q", "level>=ERROR")  # the index path, merged
    assert merged.count(b"\x1b[") == 4 and b"\xff\xfe" in merged
    coloured = printed(str(log), "--color", "always")  # colour is for a reader of escapes:
    assert "␛".encode() in coloured and b"\x1b[31mERROR" not in coloured  # log text escaped


def test_json_records_print_as_text_made_from_their_fields(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_bytes(b'{"time": "2024-01-02T03:04:05Z", "level": "error", "name": "app", '
                    b'"message": "boom \\u001b[31m"}\n')
    out = _print(str(log))
    assert out.startswith(b"2024-01-02") and b"ERROR app boom" in out
