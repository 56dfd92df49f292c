"""A query that starts with '-' (a negation) after -q/--query, end to end and argument by argument."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from logview.cli import attach_query_values, build_parser

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          check=False, timeout=60, env=env, cwd=cwd)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """Records of app, app.db and worker, written by the real logging module."""
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(DASH))
    for name in ("app", "app.db", "worker", "app", "worker.jobs"):
        logger = logging.Logger(name)  # noqa: LOG001 - private, not in the global registry
        logger.addHandler(handler)
        logger.warning("hello from %s", name)
    handler.close()
    return path


def loggers(stdout: bytes) -> list[str]:
    return [orjson.loads(line)["logger"] for line in stdout.splitlines()]


@pytest.mark.parametrize("args", [
    ["--print", "-q", "-logger:app", "-o", "jsonl"],
    ["--print", "--query", "-logger:app", "-o", "jsonl"],
    ["--print", "-q-logger:app", "-o", "jsonl"],
    ["--print", "--query=-logger:app", "-o", "jsonl"],
    ["-pq", "-logger:app", "-o", "jsonl"],
    ["-o", "jsonl", "--print", "-q", "-logger:app"],
])
def test_negated_query_after_q(log, args, run_main, monkeypatch):
    """The whole argument list through ``cli.main`` (in this process: the real command runs
    in the tests below)."""
    monkeypatch.setenv("NO_COLOR", "1")
    status, out, err = run_main(*args, str(log))
    assert status == 0, err
    assert loggers(out) == ["worker", "worker.jobs"]


def test_negation_with_other_terms(log):
    result = run("--print", "-o", "jsonl", "-q", "-logger:app -logger:worker.jobs", str(log))
    assert result.returncode == 0, result.stderr
    assert loggers(result.stdout) == ["worker"]


def test_q_without_a_value_is_still_an_error(log):
    result = run("--print", str(log), "-q")
    assert result.returncode == 2
    assert b"-q/--query: expected one argument" in result.stderr


def test_double_dash_ends_options(log, tmp_path):
    """After ``--`` everything is a file name, even ``-q`` and what looks like a query."""
    dashed = tmp_path / "-logger:app"
    dashed.write_bytes(log.read_bytes())
    result = run("--print", "-o", "jsonl", "--", str(log), "-q")
    assert result.returncode == 2 and b"-q" in result.stderr  # a file named -q: not found
    result = run("--print", "-o", "jsonl", "--", "-logger:app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(loggers(result.stdout)) == 5


@pytest.mark.parametrize("argv, expected", [
    (["-q", "-x", "f"], ["--query=-x", "f"]),
    (["--query", "-x"], ["--query=-x"]),
    (["--que", "-x"], ["--query=-x"]),  # argparse's abbreviations
    (["-pq", "-x"], ["-p", "--query=-x"]),
    (["-pfq", "-x"], ["-pf", "--query=-x"]),
    (["-q", "x"], ["-q", "x"]),  # not a dash: argparse reads it as it is
    (["-q"], ["-q"]),
    (["-q", "--"], ["-q", "--"]),  # the end of options is never the query
    (["--", "-q", "-x"], ["--", "-q", "-x"]),
    (["-q-x"], ["-q-x"]),
    (["-qp", "-x"], ["-qp", "-x"]),  # -q's value is "p"; -x is an unknown option
    (["-o", "-q", "-x"], ["-o", "-q", "-x"]),  # -o's value is "-q": not looked into
    (["--format", "-q"], ["--format", "-q"]),
    (["f", "-q", "-level>=error", "-p"], ["f", "--query=-level>=error", "-p"]),
    (["-q", "-"], ["--query=-"]),
])
def test_attach_query_values(argv, expected):
    assert attach_query_values(build_parser(), argv) == expected


def test_parsed_values():
    parser = build_parser()
    args = parser.parse_args(attach_query_values(parser, ["-pq", "-logger:app", "a.log"]))
    assert (args.query, args.print_, args.sources) == ("-logger:app", True, ["a.log"])
