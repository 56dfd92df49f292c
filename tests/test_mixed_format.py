"""MixedFormat: structlog's JSON lines between a logging.Formatter's text lines, each read as
what it is; the index's start test and ``is_start`` agree on every line."""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

import numpy as np
import pytest
import structlog
from logging_helpers import make_logger

from logview.boundaries import RecordSplitter, StartDetector
from logview.formats.base import PlainFormat
from logview.formats.detect import sample_lines
from logview.formats.jsonl import JsonFormat
from logview.formats.linewise import is_continuation
from logview.formats.mixed import (
    MixedFormat,
    is_json_object_line,
    mixed_candidate,
    mixed_text_lines,
)
from logview.formats.template import TemplateFormat
from logview.sources.base import MemorySource, StaticFileSource
from logview.store import LogStore

WEB = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


def write_mixed_log(path: Path, rounds: int = 12) -> None:
    """A web server's access lines (logging) between structlog JSON events, and a traceback
    Python printed after a JSON record, all in one file as a shared stderr would hold them."""
    with path.open("a", buffering=1, encoding="utf-8") as out:
        slog = structlog.wrap_logger(
            structlog.WriteLogger(out),
            processors=[structlog.processors.add_log_level,
                        structlog.processors.TimeStamper(fmt="iso"),
                        structlog.processors.JSONRenderer()],
        )
        handler = logging.StreamHandler(out)
        handler.setFormatter(logging.Formatter(WEB))
        web = make_logger("web.access", handler)
        for i in range(rounds):
            web.info("GET /items/%d 200", i)
            slog.info("item.loaded", item=i)
            if i % 5 == 2:
                web.warning("GET /slow/%d 200 in 2.5 s", i)
                try:  # a real exception, so Python prints a real traceback
                    {}["missing"]
                except KeyError:
                    slog.error("item.failed", item=i)
                    traceback.print_exc(file=out)
        handler.flush()


@pytest.fixture
def mixed_log(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.log"
    write_mixed_log(path)
    return path


def mixed_format() -> MixedFormat:
    return MixedFormat(JsonFormat(), TemplateFormat(WEB))


def test_each_line_is_read_as_what_it_is(mixed_log):
    store = LogStore(StaticFileSource(str(mixed_log)), mixed_format())
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    web = [r for r in records if r.logger == "web.access"]
    events = [r for r in records if r.message.startswith("item.")]
    assert len(web) == 12 + 2 and len(events) == 12 + 2 and len(records) == 28
    assert {r.level for r in web} == {"INFO", "WARNING"}
    assert all(r.time is not None for r in records)
    assert web[0].message == "GET /items/0 200"
    failed = [r for r in events if r.message == "item.failed"]
    assert len(failed) == 2 and all(r.level == "ERROR" for r in failed)
    # The traceback Python printed after the JSON record stays with it.
    assert all(r.exc.startswith("Traceback") and r.exc.endswith("KeyError: 'missing'")
               for r in failed)
    assert failed[0].fields == {"item": 2}


def test_the_index_cuts_records_where_the_splitter_does(mixed_log):
    fmt = mixed_format()
    data = mixed_log.read_bytes()
    store = LogStore(StaticFileSource(str(mixed_log)), fmt)
    store.update(final=True)
    splitter = RecordSplitter(fmt)
    expected = splitter.feed(data) + splitter.flush()
    assert [store.raw(i) for i in range(len(store))] == [raw.data for raw in expected]


LINES = [
    '{"event": "x", "level": "info"}',
    '{"event": "x"}\r',  # CRLF: the index sees the \r, is_start does not
    '{"a": 1}   ',
    "{not json}",  # looks like an object line: a start, read by the text format
    "{",  # a pretty-printed object's first line is no record of its own
    '  {"indented": true}',  # a payload under a message
    "2024-05-01 10:00:00,123 INFO [web] GET / 200",
    "2024-05-01 10:00:00,123 INFO",
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in <module>',
    "KeyError: 'missing'",
    "plain words",
    "",
    "}",
]


@pytest.mark.parametrize("text", [WEB, "%(levelname)s:%(name)s:%(message)s", None])
def test_is_start_and_the_bulk_start_test_agree_on_every_line(text):
    fmt = MixedFormat(JsonFormat(), TemplateFormat(text) if text else PlainFormat())
    detector = StartDetector(fmt)
    data = "".join(line + "\n" for line in LINES).encode()
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    bulk = detector.mask(data, arr, starts, ends).tolist()
    single = [fmt.is_start(line.rstrip("\r")) for line in LINES]
    one_by_one = [detector.line_starts_record(line.encode()) for line in LINES]
    assert bulk == single == one_by_one
    assert single[:4] == [True] * 4 and single[5] is False
    assert single[4] is (text is None)  # "{" alone: only plain lines start on anything
    assert single[8:11] == [False, False, False]  # the traceback continues a record


def test_a_text_format_with_global_flags_still_combines():
    class Loud(PlainFormat):
        start_pattern = re.compile(rb"(?i)warn|error")

        def is_start(self, line: str) -> bool:
            return self.start_pattern.match(line.encode()) is not None

    fmt = MixedFormat(JsonFormat(), Loud())
    assert fmt.start_pattern is not None
    assert [fmt.is_start(s) for s in ('{"a": 1}', "WARN x", "Error y", "info z")] == [
        True, True, True, False]
    assert [fmt.start_pattern.match(s) is not None
            for s in (b'{"a": 1}', b"WARN x", b"Error y", b"info z")] == [True, True, True, False]


def test_mixed_candidate_needs_both_kinds_of_lines(mixed_log):
    lines = sample_lines(mixed_log.read_bytes())
    text = mixed_text_lines(lines)
    assert text is not None and all(not is_json_object_line(line) for line in text)
    assert len(text) == 14  # the access lines; traceback lines are no start lines
    fmt = mixed_candidate(lines, TemplateFormat(WEB))
    starts = [line for line in lines if not is_continuation(line)]  # what detection scores
    assert isinstance(fmt, MixedFormat) and fmt.score(starts) == 1.0
    assert JsonFormat().score(starts) < 0.6 and TemplateFormat(WEB).score(starts) < 0.6
    json_only = [line for line in lines if is_json_object_line(line)]
    assert mixed_candidate(json_only, TemplateFormat(WEB)) is None
    assert mixed_candidate(text, TemplateFormat(WEB)) is None
    # One JSON line in 20 text lines is under the share: not mixed.
    assert mixed_candidate(text + text[:5] + json_only[:1], None) is None
    assert isinstance(mixed_candidate(text[:9] + json_only[:1], None).text, PlainFormat)


def test_a_mixed_store_reads_json_fields_and_keeps_every_line():
    data = (b'{"event": "boot", "level": "info", "port": 8000}\n'
            b"2024-05-01 10:00:00,123 ERROR [web.access] GET /x 500\n"
            b"  extra detail under the text record\n"
            b'{"event": "broken json", "level": \n'  # not an object line: text, kept whole
            b'{"event": "done", "level": "warning"}\n')
    source = MemorySource("m", data)
    source.finish()
    store = LogStore(source, mixed_format())
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    assert b"".join(store.raw(i) for i in range(len(store))) == data
    assert [r.level for r in records] == ["INFO", "ERROR", "WARNING"]
    assert records[0].fields == {"port": 8000}
    assert records[1].logger == "web.access" and "broken json" in store.raw(1).decode()
