"""``logview --explain``: what was detected, how well it fits, and the line that pins it."""

from __future__ import annotations

import logging
import subprocess
import sys

from logging_helpers import make_logger

MESSAGES = ("Connected to %s", "Query took %s ms - slow", "GET /items/%s -> 200",
            "cache miss: %s", "worker %s started", "retrying in %s s", "user %s logged in",
            "Shutting down %s", "disk at %s%%", "job %s done")


def _write(path, fmt: str, datefmt: str | None = None, n: int = 30) -> None:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(fmt, datefmt))
    log = make_logger("explain.test.app", handler)
    try:
        for i in range(n):
            log.log((logging.INFO, logging.WARNING, logging.ERROR)[i % 3], MESSAGES[i % 10], i)
    finally:
        handler.close()
        log.handlers[:] = []


def _explain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logview", "--explain", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_explain_shows_the_inferred_template_and_how_to_pin_it(tmp_path):
    path = tmp_path / "app.log"
    _write(path, "%(asctime)s.%(msecs)03d %(levelname)-8s [%(name)s] %(message)s",
           "%Y-%m-%d %H:%M:%S")
    done = _explain(str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "inferred logging template" in out
    assert "template:  %(asctime)s.%(msecs)03d %(levelname)-8s [%(name)s] %(message)s" in out
    assert "datefmt:   %Y-%m-%d %H:%M:%S" in out
    assert "fits:      30 of the 30" in out
    assert "logger='explain.test.app'" in out
    assert "pin it:    logview --format" in out


def test_explain_names_a_known_format_and_a_forced_misfit(tmp_path):
    path = tmp_path / "dash.log"
    _write(path, "%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    assert "format:    python-dash" in _explain(str(path)).stdout
    forced = _explain("--format", "%(levelname)s|%(message)s", str(path)).stdout
    assert "forced with --format" in forced
    assert "fits none of the first lines" in forced


def test_explain_generic_and_plain(tmp_path):
    apache = tmp_path / "error.log"
    apache.write_text(
        "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328] [client 1.2.3.4] "
        "File does not exist: /x\n"
        "[Wed Oct 11 14:32:53.123456 2000] [php:notice] [pid 35708] hello\n"
        "2000/10/11 14:32:54 [error] 12#0: *1 open() failed\n")
    assert "generic" in _explain(str(apache)).stdout.splitlines()[0]
    prose = tmp_path / "notes.txt"
    prose.write_text("just some words\nmore words here\n")
    assert "plain text" in _explain(str(prose)).stdout
