"""Records framed by TraceRite (Sanic's log output, and any program that calls
``tracerite.load()``): a logged exception is written as a box, ``╭ `` before the line the
handler formatted, ``│ `` before each line of the traceback, ``╰ `` before the last. The framed
line is the record's head: it starts a record with its own level, logger and time on every
road (the index, the splitter, the direct scan of ``--print``, the level heads of a template
that opens with the level, the viewer's counts), and the frame's lines stay with it. The logs
are written by the real TraceRite through the real ``logging`` module, in a child process
(TraceRite patches ``logging.StreamHandler.emit`` for good)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import file_records
from test_columns import assert_same, by_columns, reference

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.record import parse_raw_record
from logview.sources.base import StaticFileSource
from logview.store import open_store

pytest.importorskip("tracerite")
REPO = str(Path(__file__).resolve().parents[1])

PROGRAM = '''\
import logging, sys, tracerite

tracerite.load()
logging.basicConfig(filename=sys.argv[1], format=sys.argv[2], level=logging.INFO)
log = logging.getLogger("shop.views")
db = logging.getLogger("shop.db")
for i in range(int(sys.argv[3])):
    log.info("served /item/%d", i)
    if i % 7 == 3:
        try:
            {}["cart"]
        except KeyError:
            log.exception("checkout failed for %d", i)
    if i % 11 == 5:
        try:
            try:
                1 / 0
            except ZeroDivisionError as exc:
                raise RuntimeError("wrapped failure") from exc
        except RuntimeError:
            db.critical("commit lost for %d", i, exc_info=True)
    if i % 5 == 1:
        db.warning("slow query %d", i)
'''

TEMPLATES = [
    "%(asctime)s %(levelname)s %(name)s: %(message)s",
    "%(levelname)s:%(name)s:%(message)s",  # opens with the level: found by level heads too
    "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
]


def framed_log(tmp_path: Path, template: str, rounds: int = 40) -> Path:
    path = tmp_path / "app.log"
    subprocess.run([sys.executable, "-c", PROGRAM, str(path), template, str(rounds)],
                   check=True, env={**os.environ, "NO_COLOR": "1"})
    return path


def expected(rounds: int = 40) -> list[tuple[str, str, str]]:
    """(level, logger, first line of the message) of each record the program logged."""
    out = []
    for i in range(rounds):
        out.append(("INFO", "shop.views", f"served /item/{i}"))
        if i % 7 == 3:
            out.append(("ERROR", "shop.views", f"checkout failed for {i}"))
        if i % 11 == 5:
            out.append(("CRITICAL", "shop.db", f"commit lost for {i}"))
        if i % 5 == 1:
            out.append(("WARNING", "shop.db", f"slow query {i}"))
    return out


def read(record) -> tuple[str, str, str]:
    return record.level, record.logger, record.message.split("\n")[0]


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_framed_record_is_read_by_its_head(tmp_path, template):
    path = framed_log(tmp_path, template)
    text = path.read_text()
    assert "\n╭ " in text and "\n│ " in text and "\n╰ KeyError: 'cart'" in text  # framed
    assert "Traceback (most recent call last)" not in text
    found = detect(text.splitlines())
    assert found.kind != "plain" and "%(levelname)s" in (found.template or "")
    records = file_records(path)
    assert [read(r) for r in records] == expected()
    failed = [r for r in records if r.level == "ERROR"]
    assert all("KeyError: 'cart'" in r.message and r.message.count("\n") >= 2 for r in failed)
    lost = [r for r in records if r.level == "CRITICAL"]
    assert all("RuntimeError" in r.message and "ZeroDivisionError" in r.message for r in lost)
    if "%(asctime)s" in template:
        assert all(r.time is not None for r in records)
    # The corner is no part of what the record shows; its bytes are kept as written.
    assert not any(r.message.startswith("╭") for r in records)
    assert all(r.data.decode().startswith("╭ ") for r in failed + lost)


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_road_cuts_the_same_framed_records(tmp_path, template):
    path = framed_log(tmp_path, template)
    data = path.read_bytes()
    fmt = detect(data.decode().splitlines()).format
    splitter = RecordSplitter(fmt)
    raws = []
    for k in range(0, len(data), 97):  # a stream in pieces
        raws += splitter.feed(data[k:k + 97])
    raws += splitter.flush()
    assert [read(parse_raw_record(fmt, raw)) for raw in raws] == expected()
    want = [e for e in expected() if e[0] in ("ERROR", "CRITICAL")]
    env = {**os.environ, "PYTHONPATH": REPO}
    for query in ("level>=ERROR", "level>=ERROR logger:shop", "/failed|lost/"):
        printed = subprocess.run(
            [sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q", query, str(path)],
            capture_output=True, text=True, env=env, check=True).stdout
        rows = [json.loads(line) for line in printed.splitlines()]
        assert [(r["level"], r["logger"], r["message"].split("\n")[0]) for r in rows] == want
    # As text into a pipe: each framed record whole, as it was written.
    printed = subprocess.run(
        [sys.executable, "-m", "logview", "--print", "-q", "level>=CRITICAL", str(path)],
        capture_output=True, env=env, check=True).stdout
    assert printed.count(b"\n\xe2\x95\xad ") + printed.startswith(b"\xe2\x95\xad ") == len(
        [e for e in want if e[0] == "CRITICAL"])
    assert printed.count(b"\n\xe2\x95\xb0 RuntimeError") == printed.count(b"\xe2\x95\xad ")


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_viewer_s_counts_of_framed_records_are_the_parser_s(tmp_path, template):
    path = framed_log(tmp_path, template, rounds=200)
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    try:
        assert_same(by_columns(store, chunk_bytes=1 << 11), reference(store), template)
        levels = [store.record(i).level for i in range(len(store))]
        assert levels.count("ERROR") == len([i for i in range(200) if i % 7 == 3])
    finally:
        store.close()


def test_a_wrapped_framed_record_is_read_by_its_head(tmp_path):
    """``docker compose logs``: the service's prefix, then the frame, then the head."""
    path = framed_log(tmp_path, TEMPLATES[0], rounds=20)
    wrapped = tmp_path / "compose.log"
    wrapped.write_text("".join(f"web-1  | {line}\n" for line in path.read_text().splitlines()))
    records = file_records(wrapped)
    assert [read(r) for r in records] == expected(20)
    assert all(r.fields.get("service") == "web-1" for r in records)
