"""Logs written by rich's ``RichHandler`` (the real handler, to a file-like console)."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from itertools import pairwise

from rich.console import Console
from rich.logging import RichHandler
from test_infer import read_back

from logview.formats.detect import detect


def _rich_log(records: list[tuple[int, str]], *, width: int = 100, **options) -> str:
    out = io.StringIO()
    handler = RichHandler(console=Console(file=out, width=width, color_system=None,
                                          force_terminal=False), **options)
    log = logging.getLogger("app.rich.test")
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG)
    log.propagate = False
    for level, message in records:
        if message == "boom":
            try:
                {}["missing"]
            except KeyError:
                log.exception("boom")
            continue
        log.log(level, message)
    return out.getvalue()


_RECORDS = [(logging.INFO, "server started"), (logging.DEBUG, "cache warmed"),
            (logging.WARNING, "disk 91% full"), (logging.ERROR, "boom"),
            (logging.INFO, "a long message " + "word " * 40 + "end"),
            (logging.CRITICAL, "shutting down")] * 5


def test_each_record_of_rich_handler_is_a_record_with_its_level():
    text = _rich_log(_RECORDS)
    assert text.count("\n") > len(_RECORDS)  # wrapped messages and tracebacks
    fmt, records = read_back(text)
    assert fmt.name == "rich"
    assert [r.level for r in records] == [logging.getLevelName(lv) for lv, _ in _RECORDS]
    boom = records[3]
    assert boom.message == "boom"
    assert boom.exc.startswith("Traceback (most recent call last):")
    assert boom.exc.splitlines()[-1] == "KeyError: 'missing'"
    long = records[4]
    assert long.message.replace("\n", " ").split() == _RECORDS[4][1].split()
    assert records[0].time is not None  # the first line has the time; repeats are blank
    assert records[0].fields["filename"] == "test_rich_console_format.py"
    assert isinstance(records[0].fields["lineno"], int)


def test_a_rich_log_is_not_one_record_under_a_template():
    # Before: the blank-time lines were indented continuation lines of the first record.
    text = _rich_log(_RECORDS[:6])
    detection = detect(text.encode())
    assert detection.label == "rich"
    assert len(read_back(text)[1]) == 6


def test_rich_documented_setup_time_of_day_and_boxed_tracebacks():
    # rich's docs: basicConfig(format="%(message)s", datefmt="[%X]", handlers=[RichHandler(
    # rich_tracebacks=True)]): the time of day alone, tracebacks drawn in a box
    text = _rich_log(_RECORDS[:6], log_time_format="[%X]", rich_tracebacks=True)
    assert "\u256d" in text and "Traceback" in text
    fmt, records = read_back(text)
    assert fmt.name == "rich"
    assert [r.level for r in records] == [logging.getLevelName(lv) for lv, _ in _RECORDS[:6]]
    assert records[0].time is not None and records[0].time.date() == datetime.now().date()
    boom = records[3]
    assert boom.message == "boom" and boom.exc.startswith("\u256d") and "KeyError" in boom.exc
    assert all(r.exc is None for k, r in enumerate(records) if k != 3)


def test_a_blank_time_is_the_time_of_the_record_before(tmp_path, run_main):
    """RichHandler leaves the time blank when it repeats: such a record has the time of the
    one before, in the viewer and in every scan (so a time window keeps it)."""
    import json

    from logview.sources.base import StaticFileSource
    from logview.store import LogStore

    path = tmp_path / "rich.log"
    path.write_text(_rich_log(_RECORDS))
    store = LogStore(StaticFileSource(str(path)))
    store.update()
    parsed = [store.parse(i) for i in range(len(store))]
    assert len(parsed) == len(_RECORDS)
    assert all(r.time is not None for r in parsed)
    blank = [(before, r) for before, r in pairwise(parsed) if r.raw.startswith(" ")]
    assert blank and all(r.time == before.time for before, r in blank)
    status, out, _ = run_main("--print", "-o", "jsonl", "-q", "until:2099-01-01", str(path))
    assert status == 0
    assert [json.loads(line)["message"] for line in out.splitlines()] == [
        r.message for r in parsed]


def test_a_pid_in_brackets_is_no_rich_time():
    """``[%(process)d] %(levelname)-8s %(name)s %(message)s`` pads the level as RichHandler
    does, but its brackets hold a pid: the template reads it (a found hypothesis case)."""
    from test_infer import assert_exact, write_log

    text, truth = write_log("[%(process)d] %(levelname)-8s %(name)s %(message)s", n=80, seed=0)
    assert detect(text.encode()).format.name != "rich"
    assert_exact(text, truth)
