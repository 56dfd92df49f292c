"""``heroku logs`` (and ``--tail``): every line comes as ``<time> <source>[<dyno>]: <line>``,
the program's output under ``app``, the platform's own under ``heroku`` (the router's request
lines, a dyno's state). The prefix comes off and becomes fields; the program's records are
read with their format and keep their tracebacks (each of whose lines Heroku stamps too); the
router's lines are read as the logfmt they are. No Heroku here: the program's lines are the
real ``logging`` module's, the prefix and the router's lines as Heroku documents them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from logging_helpers import log_key_error, make_logger
from server_helpers import file_records

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.formats.prefixed import PrefixedFormat
from logview.record import parse_raw_record

REPO = str(Path(__file__).resolve().parents[1])
ROUTER = ('at=info method=GET path="/items/{n}" host=shop.herokuapp.com request_id=8601b555-'
          '6a83-4c12-8e2b-f7b9b7a1c2d{n} fwd="10.1.2.3" dyno=web.1 connect=0ms service={n}2ms '
          'status=200 bytes=512 protocol=https')
TIMEOUT = ('at=error code=H12 desc="Request timeout" method=POST path="/checkout" '
           'host=shop.herokuapp.com request_id=1f2e3d4c fwd="10.1.2.3" dyno=web.1 connect=0ms '
           'service=30000ms status=503 bytes=0 protocol=https')


def heroku_log() -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    log = make_logger("shop.views", handler)
    lines: list[tuple[str, str]] = [("heroku[web.1]", "State changed from starting to up")]
    for n in range(6):
        log.info("served /items/%d", n)
        if n == 3:
            log_key_error(log, "cart", "checkout failed for %d", n)
        lines += [("app[web.1]", line) for line in out.getvalue().splitlines()]
        out.seek(0)
        out.truncate()
        lines.append(("heroku[router]", TIMEOUT if n == 3 else ROUTER.format(n=n)))
    start = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    return "".join(f"{(start + timedelta(milliseconds=7 * k)).isoformat()} {where}: {line}\n"
                   for k, (where, line) in enumerate(lines))


def test_heroku_lines_are_unwrapped_and_read_by_their_own_formats(tmp_path):
    text = heroku_log()
    found = detect(text.splitlines())
    assert isinstance(found.format, PrefixedFormat) and found.format.prefix.name == "heroku"
    path = tmp_path / "heroku.log"
    path.write_text(text)
    records = file_records(path)
    app = [r for r in records if r.fields["log_source"] == "app"]
    assert [(r.level, r.logger, r.message) for r in app] == [
        ("INFO", "shop.views", f"served /items/{n}") for n in range(4)] + [
        ("ERROR", "shop.views", "checkout failed for 3")] + [
        ("INFO", "shop.views", f"served /items/{n}") for n in (4, 5)]
    failed = app[4]
    assert failed.exc.startswith("Traceback") and failed.exc.rstrip().endswith("KeyError: 'cart'")
    assert all(r.fields["dyno"] == "web.1" and r.time is not None for r in app)
    router = [r for r in records if r.fields.get("host") == "shop.herokuapp.com"]
    assert [r.fields["status"] for r in router] == ["200"] * 3 + ["503"] + ["200"] * 2
    assert [r.level for r in router] == ["INFO"] * 3 + ["ERROR"] + ["INFO"] * 2
    assert all(r.logger == "heroku[router]" for r in router)  # (the wrapper names them)
    state = [r for r in records if r.message == "State changed from starting to up"]
    assert len(state) == 1 and state[0].fields["log_source"] == "heroku"
    assert state[0].logger == "heroku[web.1]"
    assert len(records) == 1 + 7 + 6  # a traceback's stamped lines are no records
    # The splitter (``heroku logs --tail | logview``) cuts the same records.
    splitter = RecordSplitter(found.format)
    raws = splitter.feed(text.encode()) + splitter.flush()
    assert [parse_raw_record(found.format, raw).message for raw in raws] == [
        r.message for r in records]
    router_503 = ("heroku[router]", "503")
    for query, want in (("level>=ERROR", [("shop.views", None), router_503]),
                        ("status>=500", [router_503])):
        printed = subprocess.run(
            [sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q", query,
             str(path)], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": REPO}).stdout
        rows = [json.loads(line) for line in printed.splitlines()]
        assert [(r["logger"], r["fields"].get("status")) for r in rows] == want, query


_FORMAT = detect(heroku_log().splitlines()).format
_PIECES = ["2026-12-02T10:00:00.007000+00:00 ", "app[web.1]: ", "heroku[router]: ",
           "INFO:shop.views:served", "ERROR:", "at=info ", "status=200",
           "Traceback (most recent call last):", "  File", " ", "KeyError: 'cart'", "é", "\t",
           "[", "]: ", "\u256d "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join))
def test_bytes_and_text_start_tests_agree(line):
    assert bool(_FORMAT.start_pattern.match(line.encode())) == _FORMAT.is_start(line)
