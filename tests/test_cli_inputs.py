"""Inputs named oddly or damaged: read once, and said so."""

from __future__ import annotations

import gzip
import subprocess
import sys

LINE = b"2024-01-02 03:04:%02d,000 - app - INFO - record %d\n"


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          timeout=60, check=False, cwd=cwd)


def test_the_same_file_named_twice_is_read_once(tmp_path):
    (tmp_path / "a.log").write_bytes(b"".join(LINE % (i, i) for i in range(3)))
    result = run("a.log", "./a.log", str(tmp_path / "a.log"), "--print", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"record 1\n") == 1


def test_a_cut_short_gz_prints_what_it_holds_and_warns(tmp_path):
    data = b"".join(LINE % (i % 60, i) for i in range(2000))
    packed = gzip.compress(data)
    path = tmp_path / "app.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    result = run(str(path), "--print")
    assert result.returncode == 0
    assert result.stdout.startswith(b"2024-01-02 03:04:00,000 - app - INFO - record 0\n")
    assert b"record 1999" not in result.stdout
    err = result.stderr.decode()
    assert err.startswith("logview: warning: ") and "app.log.gz" in err
    assert err.count("app.log.gz") == 1
