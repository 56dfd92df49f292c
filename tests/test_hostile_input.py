"""Bad bytes in a log cost nothing but themselves: no crash, no lost record, no escape codes."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson

from logview.sources.base import StaticFileSource
from logview.store import open_store

HEAD = b"2024-01-02 03:04:%02d,000 - app.web - %s - "


def line(second: int, level: bytes, message: bytes) -> bytes:
    return HEAD % (second, level) + message + b"\n"


def print_jsonl(path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "logview", str(path), "--print", "-o", "jsonl"],
        capture_output=True, check=False, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    return [orjson.loads(row) for row in result.stdout.splitlines()]


def test_every_record_survives_hostile_bytes(tmp_path):
    huge = b"x" * (50 * 1024 * 1024)
    data = b"".join([
        line(1, b"INFO", b"before"),
        line(2, b"WARNING", b"bad utf8 \xff\xfe\xc3 here"),
        line(3, b"INFO", b"nul \x00 byte"),
        line(4, b"ERROR", b"crlf line\r"),
        line(5, b"INFO", b"\x1b[31mred\x1b[0m and \x1b]0;title\x07"),
        line(6, b"INFO", huge),
        line(7, b"INFO", b"after"),
        HEAD % (8, b"INFO") + b"truncated last line without newline",
    ])
    path = tmp_path / "hostile.log"
    path.write_bytes(data)
    rows = print_jsonl(path)
    assert [row["line"] for row in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    messages = [row["message"] for row in rows]
    assert messages[0] == "before"
    assert "\ufffd" in messages[1] and rows[1]["level"] == "WARNING"
    assert "\x00" in messages[2]  # kept in data (JSON escapes it), never sent raw to a terminal
    assert messages[3] == "crlf line" and rows[3]["level"] == "ERROR"
    assert messages[4] == "red and "  # ANSI stripped for matching and parsed fields
    assert len(messages[5]) == len(huge)
    assert messages[6] == "after"
    assert messages[7] == "truncated last line without newline"


def test_store_keeps_raw_ansi_and_offsets(tmp_path):
    data = line(1, b"INFO", b"\x1b[1mbold\x1b[0m") + line(2, b"INFO", b"plain")
    path = tmp_path / "ansi.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    assert len(store) == 2
    first = store.record(0)
    assert first.message == "bold"
    assert "\x1b[1m" in first.raw  # the original text is kept for display and copying
    assert store.record(1).offset == len(line(1, b"INFO", b"\x1b[1mbold\x1b[0m"))
    store.close()


def test_binary_garbage_is_shown_not_dropped(tmp_path):
    garbage = bytes(range(256)) * 64
    path = tmp_path / "garbage.log"
    path.write_bytes(garbage)
    rows = print_jsonl(path)
    text = "".join(row["message"] + (row["exc"] or "") for row in rows)
    # Every byte is accounted for: newlines split records, everything else is kept
    # (undecodable bytes as U+FFFD).
    assert len(rows) >= garbage.count(b"\n")
    assert text.count("\ufffd") >= 64 * 128
    result = subprocess.run(
        [sys.executable, "-m", "logview", str(path), "--print", "--color", "always"],
        capture_output=True, check=False, timeout=60,
    )
    assert result.returncode == 0
    assert b"\x1b]" not in result.stdout and b"\x07" not in result.stdout
