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
    assert proc.returncode == 0
