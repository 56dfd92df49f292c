"""Shared by the index, store and engine tests: a dash-template format and log generators.

The real template format lives in ``logview.formats`` (written concurrently); this stand-in has
the same contract (``start_pattern``, ``is_start``, ``parse``, ``level_text``) so these tests
do not depend on it.
"""

from __future__ import annotations

import logging
import random
import re
import sys

from logview.formats.base import LogFormat
from logview.query.prefilter import Prefilter
from logview.record import Record, level_from_name, split_exception, strip_ansi
from logview.timeparse import parse_time

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


class DashFormat(LogFormat):
    """``%(asctime)s - %(name)s - %(levelname)s - %(message)s``."""

    name = "dash"
    level_text = True
    start_pattern = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d\d\d - ")
    _start = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d\d\d - ")
    _line = re.compile(r"(\S+ \S+) - (.*?) - (\w+) - (.*)", re.DOTALL)

    def is_start(self, line: str) -> bool:
        return self._start.match(line) is not None

    def parse(self, text: str) -> Record:
        m = self._line.match(text)
        if m is None:
            return Record(message=text)
        message, exc = split_exception(m.group(4))
        level, levelno = level_from_name(m.group(3))
        return Record(message=message, exc=exc, time_text=m.group(1),
                      time=parse_time(m.group(1)), level=level, levelno=levelno,
                      logger=m.group(2))


class LooseFormat(DashFormat):
    """The same lines, but a start pattern with no fixed-width signature (the slow path)."""

    name = "loose"
    start_pattern = re.compile(rb"(?:\d+-)+\d+ [\d:]+,\d+ - ")


def dash_log(records: int, seed: int = 1, *, error_rate: float = 0.05) -> bytes:
    """A log written by the real ``logging`` module in the dash template, tracebacks included."""
    rnd = random.Random(seed)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record) + "\n")

    handler = Collect()
    handler.setFormatter(logging.Formatter(DASH))
    names = ["app", "app.db", "app.web.request", "worker.jobs"]
    loggers = [logging.getLogger(f"ixtest.{n}") for n in names]
    for lg in loggers:
        lg.handlers[:] = [handler]
        lg.propagate = False
        lg.setLevel(logging.DEBUG)
    clock = 1_700_000_000.0
    for i in range(records):
        clock += rnd.random() / 10
        lg = rnd.choice(loggers)
        extra_time = {"created": clock}
        level = rnd.choice([logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING])
        if rnd.random() < error_rate:
            try:
                raise ValueError(f"bad value {i}")
            except ValueError:
                record = lg.makeRecord(lg.name, logging.ERROR, "f.py", 1, "request %d failed",
                                       (i,), exc_info=sys.exc_info())
        else:
            msg = "message %d\nsecond line" if rnd.random() < 0.02 else "message %d user=u%d"
            args = (i,) if "second" in msg else (i, rnd.randint(1, 50))
            record = lg.makeRecord(lg.name, level, "f.py", 1, msg, args, None)
        record.__dict__.update(extra_time)
        record.msecs = (clock % 1) * 1000
        lg.handle(record)
    return "".join(lines).encode()


class StandInQuery:
    """The query contract (``matches``, ``prefilter``, ``is_empty``) for a few simple queries.

    ``min_level``: levelno >= it; ``words``: each must occur in the record's raw text.
    """

    def __init__(self, min_level: int = 0, words: tuple[str, ...] = (), *,
                 prefilter: bool = True) -> None:
        self.min_level = min_level
        self.words = words
        self.use_prefilter = prefilter
        self.is_empty = not min_level and not words

    def matches(self, record: Record) -> bool:
        return record.levelno >= self.min_level and all(w in record.raw for w in self.words)

    def prefilter(self, *, level_text: bool, json_escaped: bool,
                  level_case: str | None = None,
                  fields_named: frozenset[str] | None = None, json_fields: bool = False,
                  level_pattern: object = None,
                  level_marks: tuple[tuple[int, str], ...] = ()) -> Prefilter | None:
        if not self.use_prefilter:
            return None
        groups = [re.compile(re.escape(w.encode())) for w in self.words]
        if self.min_level >= logging.ERROR and level_text:
            marks = b"".join(b"|" + re.escape(text.encode()) for number, text in level_marks
                             if number >= self.min_level)
            groups.append(re.compile(rb"\b(?:ERROR|CRITICAL|FATAL)\b" + marks))
        return Prefilter(groups) if groups else None


def reference_records(fmt: LogFormat, data: bytes, *, flush: bool = True) -> list[tuple[int, int]]:
    """(offset, line) of each record, cut line by line with the format's own text test
    (``is_start`` on the decoded, ANSI-stripped line): the naive reference that every boundary
    reader (the index, the splitter, the direct scan) must equal. Without ``flush`` the last
    record and an unfinished last line stay pending, as a follower sees them."""
    out: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    pos, line = 0, 1
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0 and not flush:
            break
        raw = data[pos:] if nl < 0 else data[pos:nl]
        text = strip_ansi(raw.decode("utf-8", "replace").rstrip("\r"))
        if pending is None or fmt.is_start(text):
            if pending is not None:
                out.append(pending)
            pending = (pos, line)
        if nl < 0:
            break
        pos, line = nl + 1, line + 1
    if pending is not None and flush:
        out.append(pending)
    return out
