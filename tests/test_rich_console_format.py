"""Logs written by rich's ``RichHandler`` (the real handler, to a file-like console)."""

from __future__ import annotations

import io
import logging
from datetime import datetime

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
