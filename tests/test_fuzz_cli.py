"""Hostile lines through the command line: ``--print`` (text, JSON lines, queries) over files
of every format mutated, in this process and as ``python -m logview``."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import test_fuzz_parsers as parsers
from test_fuzz_parsers import FAMILIES, SEED, assert_terminal_safe, clean_sample, hostile_file

from logview.query import parse_query
from logview.sources.base import StaticFileSource
from logview.store import open_store

#: The user's formats file, as the parser tests set it up (fixtures shared by name).
user_config = parsers.user_config
with_user_formats = parsers.with_user_formats


# ---------------------------------------------------------------------------------------------
# Through the command line.


QUERIES = ("", "level>=WARNING", "/e.r/", "since:2024-01-02", "logger:app", "not level:INFO",
           "has:exc")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cli_prints_hostile_files_safely(family, tmp_path, run_main, with_user_formats):
    """``--print`` as on a terminal (``--color always``) and as JSON lines, with queries."""
    rng = random.Random(f"{SEED}:cli:{family}")
    data = hostile_file(rng, clean_sample(family, rng))
    path = tmp_path / f"{family}.log"
    path.write_bytes(data)
    turn = sorted(FAMILIES).index(family)
    for query in (QUERIES[turn % len(QUERIES)], QUERIES[(turn + 3) % len(QUERIES)]):
        status, out, err = run_main(str(path), "--print", "--color", "always", "-q", query)
        assert status in (0, 1), (family, query, err)
        assert err == "" or err.startswith("logview: warning: "), (family, query, err)
        assert_terminal_safe(out.decode("utf-8"), (family, query))
        assert status == 1 or out, (family, query)
    status, out, err = run_main(str(path), "--print", "-o", "jsonl")
    assert status == 0, err
    rows = [orjson.loads(row) for row in out.splitlines()]
    records, prints_raw = record_lines(path)
    assert [(row["source"], row["line"]) for row in rows] == records
    status, out, err = run_main(str(path), "--print")  # into a pipe: the bytes as they are
    assert status == 0, err
    if prints_raw:  # (JSON records are printed as text made from their fields)
        assert out == data + (b"" if data.endswith(b"\n") else b"\n")


def record_lines(path: Path) -> tuple[list[tuple[str, int | None]], bool]:
    """(source, line) of each record of a file read in this process, and whether its format
    prints records as their own bytes."""
    store = open_store(StaticFileSource(str(path)))
    try:
        store.update(final=True)
        records = [store.record(i) for i in range(len(store))]
        return [(r.source, r.line) for r in records], store.format.prints_raw
    finally:
        store.close()


DIFF_QUERIES = ("level>=WARNING", "logger:app", "/e.r/", "\"quoted\"", "user=bob", "tab",
                "level:error", "caf\u00e9", "/\\d{3}/", "not level:INFO")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_queries_print_what_the_query_matches(family, tmp_path, run_main, with_user_formats):
    """``--print -q`` (the direct scan: needles, the ESC rule, boundaries found around hits)
    prints exactly the records the query matches when each record is parsed and tested."""
    rng = random.Random(f"{SEED}:query:{family}")
    data = hostile_file(rng, clean_sample(family, rng))
    path = tmp_path / f"{family}.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    store.close()
    turn = sorted(FAMILIES).index(family)
    for text in (DIFF_QUERIES * 2)[turn % len(DIFF_QUERIES):][:5]:
        query = parse_query(text)
        expected = [r.line for r in records if query.matches(r)]
        status, out, err = run_main(str(path), "--print", "-o", "jsonl", "-q", text)
        assert status == (0 if out else 1), err
        got = [row["line"] for row in map(orjson.loads, out.splitlines())]
        assert got == expected, (family, text)


def test_an_escape_inside_a_record_head_starts_the_record_for_every_reader(tmp_path, run_main):
    """A line whose head holds an escape sequence (``WA\\x1b[1mRNING``) starts a record once
    the sequence is stripped: the index said so, the direct scan of ``--print -q`` did not
    (it looked for ESC in a line's first byte only) and printed it inside the record before."""
    data = b"".join([
        b"2024-01-02 03:04:05,000 - app - INFO - first\n",
        b"2024-01-02 03:04:06,000 - app - WA\x1b[1mRNING - second\n",
        b"D\x1b[31mEBUG:app.x:third\n",
        b"2024-01-02 03:04:07,000 - app - ERROR - fourth\n",
    ] * 3)
    path = tmp_path / "escaped.log"
    path.write_bytes(data)
    for text in ("level>=WARNING", "second", "/th.rd/", "fourth"):
        query = parse_query(text)
        store = open_store(StaticFileSource(str(path)))
        store.update(final=True)
        expected = [store.record(i).line for i in range(len(store))
                    if query.matches(store.record(i))]
        store.close()
        status, out, err = run_main(str(path), "--print", "-o", "jsonl", "-q", text)
        assert [row["line"] for row in map(orjson.loads, out.splitlines())] == expected, text
        assert expected and status == 0, err


def test_levels_cut_to_one_letter_are_found_by_level_queries(tmp_path, run_main):
    """``%(levelname).1s`` writes ``W`` for WARNING: the format claimed level names appear in
    the bytes, so ``-q level>=WARNING`` skipped every record (status 1, nothing printed).
    And a lone ``W`` where a template writes whole names is no WARNING: the raw text would
    not name the level the query looks for."""
    cut = tmp_path / "cut.log"
    cut.write_bytes(b"2024-01-02 03:04:05,000 I app one\n2024-01-02 03:04:06,000 W app two\n"
                    b"2024-01-02 03:04:07,000 E app three\n")
    template = "%(asctime)s %(levelname).1s %(name)s %(message)s"
    status, out, err = run_main(str(cut), "--print", "--format", template, "-q", "level>=WARNING")
    assert (status, out) == (0, b"".join(cut.read_bytes().splitlines(True)[1:])), err
    whole = tmp_path / "whole.log"
    whole.write_bytes(b"2024-01-02 03:04:05,000 - app - W - one\n"
                      b"2024-01-02 03:04:06,000 - app - WARNING - two\n")
    for query in ("level>=WARNING", "level>=INFO"):
        status, out, err = run_main(str(whole), "--print", "--format", "python-dash", "-q",
                                    query, "-o", "jsonl")
        rows = list(map(orjson.loads, out.splitlines()))
        assert [(row["message"], row["level"]) for row in rows] == [("two", "WARNING")], err


def test_a_c1_escape_inside_a_level_name_is_found(tmp_path, run_main):
    """The rule that a record holding an escape is always a candidate looked for ESC only; a
    C1 CSI in UTF-8 (``\\xc2\\x9b``, which strip_ansi removes too) inside a level name
    hid the record from ``--print -q``."""
    data = (b"2024-01-02 03:04:05,000 [INFO] app: first\n"
            b"2024-01-02 03:04:06,000 [WAR\xc2\x9b31mNING] app: second\n")
    path = tmp_path / "c1.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    assert store.record(1).level == "WARNING"  # what the query should find
    store.close()
    status, out, err = run_main(str(path), "--print", "-q", "level>=WARNING")
    assert (status, out) == (0, data.split(b"\n")[1] + b"\n"), err


def test_python_m_logview_over_hostile_files_at_once(tmp_path, with_user_formats):
    """The real command over hostile files of many formats at once (a merged timeline)."""
    rng = random.Random(f"{SEED}:all")
    paths = []
    for family in sorted(FAMILIES)[::3]:
        paths.append(tmp_path / f"{family}.log")
        paths[-1].write_bytes(hostile_file(rng, clean_sample(family, rng)))
    env = {**os.environ, "XDG_CONFIG_HOME": str(with_user_formats)}
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "logview", *map(str, paths), "--print"]
    result = subprocess.run([*command, "--color", "always"], capture_output=True, timeout=120,
                            check=False, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == b""
    assert_terminal_safe(result.stdout.decode("utf-8"), "python -m logview")
    result = subprocess.run([*command, "-o", "jsonl"], capture_output=True, timeout=120,
                            check=False, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [orjson.loads(row) for row in result.stdout.splitlines()]
    # Every record of every file, once (a record of logview's own schema names its source).
    expected = [(source, line) for path in paths for source, line in record_lines(path)[0]]
    assert sorted((row["source"], row["line"]) for row in rows) == sorted(expected)
