"""Headless end-to-end tests: the command on files written by the real logging module.

What a run prints is checked through ``cli.main`` in this process (``run_main``); the real
``python -m logview`` runs where the process matters: a piped stdin, exit statuses, one
error line, ``--help``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from logview.printer import JSONL_KEYS

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def run(*args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "logview", *args], input=input,
                          capture_output=True, check=False, timeout=timeout, env=env)


def write_log(path: Path, fmt: str = DASH, count: int = 30) -> dict[str, int]:
    """Write a log with the real logging module; return how many records per level."""
    logger = logging.Logger("app.db")  # noqa: LOG001 - private, not in the global registry
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    counts: dict[str, int] = {}
    other = logging.Logger("app.web")  # noqa: LOG001 - private, not in the global registry
    other.addHandler(handler)
    for i in range(count):
        if i % 10 == 3:
            try:
                raise ValueError(f"bad value {i} - with - dashes")
            except ValueError:
                logger.exception("query %d failed", i)
            counts["ERROR"] = counts.get("ERROR", 0) + 1
        elif i % 7 == 0:
            other.warning("slow request %d\nsecond line of the message", i)
            counts["WARNING"] = counts.get("WARNING", 0) + 1
        else:
            (logger if i % 2 else other).info("request %d ok", i)
            counts["INFO"] = counts.get("INFO", 0) + 1
    handler.close()
    return counts


def jsonl(stdout: bytes) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def main(run_main, monkeypatch):
    """``cli.main`` in this process with the environment ``run`` gives the real command:
    (status, stdout bytes, stderr text)."""
    monkeypatch.setenv("NO_COLOR", "1")
    return run_main


def test_print_errors_with_tracebacks(tmp_path, main):
    log = tmp_path / "app.log"
    counts = write_log(log)
    status, out, err = main(str(log), "--print", "-q", "level>=ERROR")
    assert status == 0, err
    text = out.decode()
    assert text.count("Traceback (most recent call last):") == counts["ERROR"]
    assert text.count(" - ERROR - ") == counts["ERROR"]
    assert " - INFO - " not in text


def test_jsonl_output_schema_and_lines(tmp_path, main):
    log = tmp_path / "app.log"
    counts = write_log(log)
    status, out, err = main(str(log), "--print", "--output", "jsonl")
    assert status == 0, err
    rows = jsonl(out)
    assert len(rows) == sum(counts.values())
    assert all(tuple(row) == JSONL_KEYS for row in rows)
    lines = log.read_text().splitlines()
    for row in rows:  # "line" is where the record starts in the file
        assert row["message"].splitlines()[0] in lines[row["line"] - 1]
        assert row["source"] == str(log)
    errors = [row for row in rows if row["level"] == "ERROR"]
    assert len(errors) == counts["ERROR"]
    assert all(row["exc"].startswith("Traceback") for row in errors)
    assert all(row["logger"] == "app.db" and row["levelno"] == 40 for row in errors)
    warnings = [row for row in rows if row["level"] == "WARNING"]
    assert warnings[0]["message"].endswith("\nsecond line of the message")
    assert warnings[0]["exc"] is None


def test_logger_subtree_query(tmp_path, main):
    log = tmp_path / "app.log"
    write_log(log)
    rows = jsonl(main(str(log), "--print", "-o", "jsonl", "-q", "logger:app.db")[1])
    assert rows and {row["logger"] for row in rows} == {"app.db"}


def test_stdin_is_the_source_when_piped(tmp_path):
    log = tmp_path / "app.log"
    counts = write_log(log)
    result = run("--print", "-o", "jsonl", "-q", "level=warning", input=log.read_bytes())
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert len(rows) == counts["WARNING"]


def test_no_match_exits_1(tmp_path):
    log = tmp_path / "app.log"
    write_log(log)
    result = run(str(log), "--print", "-q", "level>=CRITICAL")
    assert result.returncode == 1
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/nonexistent/app.log", "--print"], "app.log"),
        (["--print", "-q", "level>=LOUD", "--demo"], "LOUD"),
        (["--print", "-q", "(unclosed", "--demo"], "column"),
        (["--print", "--demo", "--format", "%(asctime)s %(levelname"], "format"),
    ],
)
def test_errors_are_one_clear_line(args, needle, main):
    if needle == "app.log":  # the real command: its exit status and stderr
        result = run(*args)
        status, err = result.returncode, result.stderr.decode()
    else:
        status, _, err = main(*args)
    assert status == 2
    assert err.startswith("logview: ")
    assert needle.lower() in err.lower()
    assert "Traceback" not in err


def test_control_sequences_never_reach_the_terminal(tmp_path, main):
    log = tmp_path / "evil.log"
    log.write_bytes(
        b"2024-01-02 03:04:05,123 - app - ERROR - title \x1b]0;pwned\x07 clear \x1b[2J bell \x07\n"
        b"2024-01-02 03:04:06,123 - app - INFO - bad utf8 \xff\xfe and NUL \x00 end\r\n"
    )
    status, out, err = main(str(log), "--print", "--color", "always")
    assert status == 0, err
    # Our own colour codes are SGR only; nothing from the log is an escape sequence.
    stripped = out.replace(b"\x1b[0m", b"")
    for sgr in (b"\x1b[1;31m", b"\x1b[32m", b"\x1b[2m", b"\x1b[1;97;41m", b"\x1b[33m"):
        stripped = stripped.replace(sgr, b"")
    assert b"\x1b" not in stripped and b"\x07" not in stripped and b"\x00" not in stripped
    assert "\ufffd".encode() in out  # invalid UTF-8 shown as replacement characters
    assert b"title" in out and b"end" in out


def test_forced_format(tmp_path, main):
    log = tmp_path / "custom.log"
    fmt = "%(levelname)-8s|%(name)s|%(message)s"
    counts = write_log(log, fmt=fmt)
    status, out, err = main(str(log), "--print", "-o", "jsonl", "--format", fmt, "-q",
                            "level>=WARNING")
    assert status == 0, err
    rows = jsonl(out)
    assert len(rows) == counts["ERROR"] + counts["WARNING"]


def test_demo_print_is_realistic(main):
    status, out, err = main("--demo", "--print", "-o", "jsonl")
    assert status == 0, err
    rows = jsonl(out)
    assert len(rows) > 100
    levels = {row["level"] for row in rows}
    assert {"DEBUG", "INFO", "WARNING"} <= levels
    assert any(row["exc"] for row in rows)
    assert any(row["fields"] for row in rows)
    assert len({row["logger"] for row in rows}) >= 4
    text = main("--demo", "--print")[1].decode()
    assert not text.lstrip().startswith("{")  # JSON records print as readable text


def test_help_has_examples_and_query_language():
    result = run("--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "examples:" in out and "--print" in out and "logger:" in out


def test_the_command_leaves_at_once_after_printing(tmp_path, monkeypatch, capfd):
    """``run`` (the ``logview`` command) ends a headless run with ``os._exit``: after the
    exit functions ran and the output was flushed, with main's status."""
    from logview import cli

    log = tmp_path / "app.log"
    write_log(log)
    calls: list = []

    def leave(status: int) -> None:
        calls.append(status)
        raise SystemExit(status)

    monkeypatch.setattr(cli.os, "_exit", leave)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: calls.append("exit functions"))
    monkeypatch.setattr(sys, "argv", ["logview", str(log), "--print", "-q", "level>=ERROR"])
    with pytest.raises(SystemExit):
        cli.run()
    assert calls == ["exit functions", 0]
    assert capfd.readouterr().out.count("ValueError: bad value") == 3


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    """``logview big.log --print | head``: status 0 and nothing on stderr (EPIPE is quiet)."""
    log = tmp_path / "big.log"
    write_log(log, count=4_000)  # far more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "logview", str(log), "--print"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""
