"""Counting by columns (``logview.columns``, ``formats.template_columns``) gives exactly the
counts of parsing every record: the per-record ``RecordStats.add`` is the reference."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import numpy as np
import pytest
import test_fuzz_parsers as parsers
from test_fuzz_parsers import FAMILIES, SEED, clean_sample, hostile_file

from logview.columns import RecordCounter
from logview.formats.template import TemplateFormat
from logview.query.plan import parse_query
from logview.scan import find_next, find_previous, scan
from logview.sources.base import StaticFileSource
from logview.sources.file import FileSource
from logview.stats import RecordStats
from logview.store import build_store, open_store

user_config = parsers.user_config
with_user_formats = parsers.with_user_formats

#: Templates people use, each with a datefmt or logging's default time.
TEMPLATES = [
    ("%(asctime)s - %(name)s - %(levelname)s - %(message)s", None),
    ("%(levelname)s:%(name)s:%(message)s", None),
    ("%(asctime)s %(levelname)-8s %(name)s: %(message)s", None),
    ("%(asctime)s [%(levelname)8s] %(name)-12s %(message)s", "%Y-%m-%d %H:%M:%S"),
    ("[%(asctime)s] %(levelname)s in %(module)s: %(message)s", None),
    ("%(asctime)s,%(msecs)03d %(levelname)s [%(name)s:%(lineno)d] %(message)s",
     "%Y-%m-%d %H:%M:%S"),
    ("%(asctime)s %(process)d %(levelname)s %(name)s %(message)s", "%d/%m/%Y %H:%M:%S"),
    ("%(asctime)s %(levelname)s %(name)s %(message)s", "%H:%M:%S"),
    ("{asctime} {levelname:<8} {name}: {message}", None),
    ("%(message)s [%(name)s] %(levelname)s", None),  # fields after the message: parsed
]
LOGGERS = ["app", "app.db", "app.web.handlers", "urllib3.connectionpool", "caf\u00e9.\u4e2d",
           "a" * 140, "x:y", "root"]


def reference(store) -> tuple[list[int], int, int, dict[str, int], np.ndarray, np.ndarray,
                              list[str]]:
    stats = RecordStats(keep_times=True)
    for i in range(len(store)):
        stats.add(store.record(i))
    return summary(stats)


def summary(stats: RecordStats):
    levels, unknown, counted = stats.totals()
    loggers, times, levelnos = stats.take()
    order = np.lexsort((levelnos, times))
    return levels, unknown, counted, loggers, times[order], levelnos[order], stats.sources()


def by_columns(store, chunk_bytes: int = 1 << 12):
    stats = RecordStats(keep_times=True)
    counter = RecordCounter(store)
    for batch in counter.batches(len(store), chunk_bytes=chunk_bytes):
        stats.add_batch(batch)
    assert counter.counted == len(store)
    return summary(stats)


def read_share(store) -> float:
    """The share of records the walk read (not parsed one by one) when counting them all."""
    assert store.format.column_walker() is not None
    parsed = 0
    real = type(store.format).parse

    def counting_parse(self, text):
        nonlocal parsed
        parsed += 1
        return real(self, text)

    type(store.format).parse = counting_parse
    try:
        counted = sum(batch.count for batch in RecordCounter(store).batches(len(store)))
    finally:
        type(store.format).parse = real
    assert counted == len(store)
    return 1 - parsed / len(store)


def assert_same(got, want, what) -> None:
    assert got[:4] == want[:4], what
    assert np.allclose(got[4], want[4], rtol=0, atol=1e-3), what
    assert (got[5] == want[5]).all(), what
    assert sorted(got[6]) == sorted(want[6]), what


def write_with_logging(path: Path, fmt: str, datefmt: str | None, style: str, rng) -> None:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(fmt, datefmt, style=style))
    logging.addLevelName(25, "NOTICE")
    try:
        for i in range(600):
            log = logging.getLogger(rng.choice(LOGGERS))
            log.propagate = False
            log.handlers = [handler]
            log.setLevel(1)
            level = rng.choice([10, 20, 25, 30, 40, 50, 5])
            if i % 50 == 7:
                try:
                    raise ValueError(f"boom {i}")
                except ValueError:
                    log.exception("failed %d", i)
            else:
                log.log(level, "message %d %s", i, rng.choice(["", " - WARNING - ", "\u00e9", ": x"]))
    finally:
        handler.close()


@pytest.mark.parametrize(("fmt", "datefmt"), TEMPLATES)
def test_templates_written_by_logging_count_as_parsed(tmp_path, fmt, datefmt):
    rng = random.Random(f"{SEED}:{fmt}")
    path = tmp_path / "app.log"
    style = "{" if fmt.startswith("{") else "%"
    write_with_logging(path, fmt, datefmt, style, rng)
    form = TemplateFormat(fmt, datefmt, style)
    store = open_store(StaticFileSource(str(path)), form)
    store.update(final=True)
    assert len(store) >= 600
    assert_same(by_columns(store), reference(store), fmt)


def test_the_dash_template_is_read_without_parsing_nearly_every_record(tmp_path):
    """The point of the walk: records are not parsed one by one (only a traceback's own
    lines, which are no record starts, and none here)."""
    path = tmp_path / "app.log"
    write_with_logging(path, TEMPLATES[0][0], None, "%", random.Random(1))
    store = open_store(StaticFileSource(str(path)), TemplateFormat(TEMPLATES[0][0]))
    store.update(final=True)
    # Long loggers (140 bytes > MAX_VALUE) are parsed; the rest is read by the walk.
    assert 0.75 < read_share(store) < 1


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_hostile_files_of_every_family_count_as_parsed(tmp_path, family, with_user_formats):
    rng = random.Random(f"{SEED}:columns:{family}")
    path = tmp_path / f"{family}.log"
    path.write_bytes(hostile_file(rng, clean_sample(family, rng)))
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    assert_same(by_columns(store, 1 << 10), reference(store), family)


def test_a_merged_store_counts_each_part_up_to_what_it_placed(tmp_path):
    rng = random.Random(7)
    paths = []
    for k, (fmt, datefmt) in enumerate(TEMPLATES[:3]):
        paths.append(tmp_path / f"{k}.log")
        write_with_logging(paths[-1], fmt, datefmt, "%", rng)
    store = build_store([StaticFileSource(str(p)) for p in paths])
    while store.update(final=True):
        pass
    assert len(store.parts()) == 3
    assert_same(by_columns(store), reference(store), "merged")


def test_escapes_in_a_head_and_lines_that_do_not_fit_are_parsed(tmp_path):
    data = (b"2024-01-02 03:04:05,123 - app - INFO - plain\n"
            b"2024-01-02 03:04:06,123 - app - \x1b[31mERROR\x1b[0m - coloured level\n"
            b"2024-01-02 03:04:07,123 - \xc2\x9b1mapp - WARNING - C1 escape in the logger\n"
            b"2024-01-02 03:04:08,1x3 - app - INFO - bad milliseconds\n"
            b"2024-02-30 03:04:09,123 - app - INFO - no such day\n"
            b"2024-01-02 03:04:10,123 - app - NOTALEVEL - unknown level\n"
            b"2024-01-02 03:04:11,123 - app with space - INFO - not a logger name\n")
    path = tmp_path / "odd.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)),
                       TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    store.update(final=True)
    got, want = by_columns(store), reference(store)
    assert_same(got, want, "odd")
    assert got[0][3] == 1  # the coloured ERROR counts as an error


COLUMN_QUERIES = ["level>=ERROR", "level:INFO", "level<WARNING", "level!=DEBUG", "logger:app",
                  "not logger:app.db", "logger=x:y", "logger~^urllib3", "logger!=root",
                  "level>=WARNING not logger:app.web", "level:ERROR or logger:app.db",
                  "level>=25", "level>=ERROR boom", "not (level:INFO or logger:app)"]


def filtered(store, query) -> list[int]:
    return [int(p) for batch in scan(store, query) for p in batch]


@pytest.mark.parametrize(("fmt", "datefmt"), TEMPLATES[:4] + TEMPLATES[-1:])
def test_queries_answered_from_columns_match_the_scan(tmp_path, fmt, datefmt):
    path = tmp_path / "app.log"
    write_with_logging(path, fmt, datefmt, "%", random.Random(fmt))
    store = open_store(StaticFileSource(str(path)), TemplateFormat(fmt, datefmt))
    store.update(final=True)
    before = {text: filtered(store, parse_query(text)) for text in COLUMN_QUERIES}
    counter = RecordCounter(store)
    for _ in counter.batches(len(store) // 2, chunk_bytes=1 << 12):  # half the columns
        pass
    assert 0 < len(store.columns) < len(store)
    for text, want in before.items():
        query = parse_query(text)
        assert filtered(store, query) == want, text
        assert find_next(store, query, 0) == (want[0] if want else None), text
        assert find_previous(store, query, len(store)) == (want[-1] if want else None), text
        middle = len(store) // 3
        later = [p for p in want if p >= middle]
        assert find_next(store, query, middle) == (later[0] if later else None), text


def test_a_level_filter_over_counted_records_reads_no_record(tmp_path, monkeypatch):
    path = tmp_path / "app.log"
    write_with_logging(path, TEMPLATES[0][0], None, "%", random.Random(3))
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    for _ in RecordCounter(store).batches(len(store)):
        pass
    assert len(store.columns) == len(store)
    want = [i for i in range(len(store)) if store.record(i).levelno >= 40]

    def no_reads(*args, **kwargs):
        raise AssertionError("a record was read")

    monkeypatch.setattr(store.source, "read_at", no_reads)
    assert filtered(store, parse_query("level>=ERROR not logger:app.db")) == [
        i for i in want if not store.record(i).logger.startswith("app.db")]


def test_a_restart_empties_the_columns(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"2024-01-02 03:04:05,000 - app - ERROR - one\n" * 10)
    store = open_store(FileSource(str(path), follow=True))
    try:
        store.update(final=True)
        for _ in RecordCounter(store).batches(len(store)):
            pass
        assert len(store.columns) == 10
        path.write_bytes(b"2024-01-02 03:04:05,000 - app - INFO - two\n")
        deadline = time.monotonic() + 10
        while len(store.columns) and time.monotonic() < deadline:
            store.update()
            store.wait(0.05)
        assert len(store.columns) == 0
        assert filtered(store, parse_query("level>=ERROR")) == []
    finally:
        store.close()


def _json_lines(path: Path, rng) -> None:
    import orjson

    with path.open("wb") as out:
        for i in range(600):
            obj = {"asctime": f"2024-01-02 03:04:{i % 60:02d},{i % 1000:03d}",
                   "levelname": rng.choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
                   "name": rng.choice(LOGGERS), "message": f"message {i}"}
            if i % 97 == 5:
                del obj["name"]
            out.write(orjson.dumps(obj) + b"\n")


@pytest.mark.parametrize("kind", ["dash", "json"])
def test_a_chunk_walked_in_pieces_counts_as_parsed(tmp_path, monkeypatch, kind):
    """A walker reads a chunk ``WALK_BYTES`` of records at a time (its temporaries stay
    bounded): pieces of a few records each, their logger tables joined, count as parsing."""
    from logview import columns as columns_module
    from logview.formats.jsonl import JsonFormat

    rng = random.Random(f"{SEED}:pieces:{kind}")
    path = tmp_path / "app.log"
    if kind == "dash":
        write_with_logging(path, TEMPLATES[0][0], None, "%", rng)
        form = TemplateFormat(TEMPLATES[0][0])
    else:
        _json_lines(path, rng)
        form = JsonFormat()
    store = open_store(StaticFileSource(str(path)), form)
    store.update(final=True)
    whole = by_columns(store, chunk_bytes=1 << 22)
    walked = []
    walker_type = type(form.column_walker())
    real = walker_type.read

    def spy(self, buf, starts):
        walked.append(len(buf))
        return real(self, buf, starts)

    monkeypatch.setattr(walker_type, "read", spy)
    monkeypatch.setattr(columns_module, "WALK_BYTES", 700)
    if hasattr(walker_type, "walk_bytes"):  # a walker that takes more at once (JSON heads)
        monkeypatch.setattr(walker_type, "walk_bytes", 700)
    store.columns.reset(store.generation)
    pieces = by_columns(store, chunk_bytes=1 << 22)
    # in pieces of about 700 bytes (a record longer than that is a piece of its own)
    assert len(walked) > 50 and sorted(walked)[len(walked) // 2] < 1400
    assert_same(pieces, whole, kind)
    assert_same(pieces, reference(store), kind)
    view = store.columns.view()
    want = [store.record(i).logger for i in range(len(store))]
    assert [view.names[k] for k in view.loggers.tolist()] == want


def _tricky_lines(rng: random.Random) -> bytes:
    """Dash records whose times mostly come in order (runs of one minute) and whose levels
    are mostly the usual names, with lines that break a run or resemble a known level, and
    loggers short and long (past a row of 64 bytes) with now and then a space inside."""
    odd_levels = [b"INFOX", b"INF", b"WARNINGS", b"Level 5", b"ERROR -", b"DEBUG ", b"info",
                  b"CRITICAL\t"]
    lines = []
    minute = 0
    for i in range(1500):
        if rng.random() < 0.02:
            minute = rng.randrange(0, 50)  # back or forward: a new run
        elif rng.random() < 0.01:
            minute += 1
        stamp = f"2024-01-02 03:{minute:02d}:{rng.randrange(60):02d},{rng.randrange(1000):03d}"
        line = bytearray(stamp.encode())
        spoil = rng.random()
        if spoil < 0.02:  # a separator of the minute, a digit of the minute or of the seconds,
            line[rng.choice([4, 7, 10, 13, 16, 19])] = ord(rng.choice(".;T/"))
        elif spoil < 0.04:  # or of the fraction, not a digit
            line[rng.choice([11, 14, 17, 18, 20, 21, 22])] = ord(rng.choice("x :\xff"[:3]))
        level = (rng.choice(odd_levels) if rng.random() < 0.05
                 else rng.choice([b"DEBUG", b"INFO", b"WARNING", b"ERROR", b"CRITICAL"]))
        sep = b" - " if rng.random() > 0.01 else rng.choice([b" -", b"- ", b" + "])
        name = (rng.choice([b"app", b"app.db", b"urllib3.connectionpool", b"x" * 40,
                             b"y" * 80])
                if rng.random() > 0.03 else rng.choice([b"app with space", b"a\tb", b"a -xERROR"]))
        lines.append(bytes(line) + b" - " + name + b" - " + level
                     + sep + f"message {i}".encode() + b"\n")
    return b"".join(lines)


def assert_walk_reads_as_parsed(form, data: bytes, piece_lines: int) -> float:
    """Every line of ``data`` given to the format's walker as a record start (a piece of
    ``piece_lines`` at a time, so that later pieces use what earlier ones met): what it reads
    is what parsing the line reads. The share it read."""
    from logview.record import RawRecord, parse_raw_record

    walker = form.column_walker()
    lines = data.splitlines(keepends=True)
    read = 0
    for k in range(0, len(lines), piece_lines):
        piece = lines[k : k + piece_lines]
        starts = np.cumsum([0] + [len(line) for line in piece[:-1]])
        got = walker.read(b"".join(piece), starts)
        for j in np.flatnonzero(got.ok).tolist():
            record = parse_raw_record(form, RawRecord(0, 0, piece[j]))
            assert got.levelnos[j] == record.levelno, piece[j]
            assert got.logger_names[got.loggers[j]] == record.logger, piece[j]
            assert abs(got.times[j] - record.timestamp) < 1e-6, piece[j]
        read += int(got.ok.sum())
    return read / len(lines)


@pytest.mark.parametrize("seed", range(3))
def test_runs_of_minutes_and_known_level_names_read_as_parsed(tmp_path, seed):
    """The walk's fast paths (a minute compared with the previous record's, level names met
    before matched as words) read what parsing reads, and leave to it what does not fit:
    on every line as a record start (spoiled times included, which the index would not take
    for starts), and counting a file."""
    data = _tricky_lines(random.Random(f"{SEED}:tricky:{seed}"))
    form = TemplateFormat(TEMPLATES[0][0])
    assert 0.85 < assert_walk_reads_as_parsed(form, data, 100) < 0.97
    assert any(form.column_walker()._level_words.values())  # level names matched as words
    path = tmp_path / "app.log"
    path.write_bytes(data)
    store = open_store(StaticFileSource(str(path)), TemplateFormat(TEMPLATES[0][0]))
    store.update(final=True)
    assert_same(by_columns(store, 1 << 11), reference(store), "tricky")


def test_times_of_day_in_runs_count_as_parsed(tmp_path):
    """A time of day alone (placed by a reference, to the second): runs of one second."""
    rng = random.Random(f"{SEED}:time-of-day")
    lines = []
    for i in range(800):
        second = i // 7 if rng.random() > 0.05 else rng.randrange(100)
        text = f"03:{second // 60 % 60:02d}:{second % 60:02d}"
        if rng.random() < 0.02:
            text = text[:2] + "." + text[3:]
        lines.append(f"{text} {rng.choice(['INFO', 'ERROR', 'BAD'])} app message {i}\n")
    form = TemplateFormat("%(asctime)s %(levelname)s %(name)s %(message)s", "%H:%M:%S")
    assert 0.6 < assert_walk_reads_as_parsed(form, "".join(lines).encode(), 50) < 0.7
    path = tmp_path / "app.log"
    path.write_text("".join(lines))
    store = open_store(StaticFileSource(str(path)), form)
    store.update(final=True)
    assert_same(by_columns(store, 1 << 10), reference(store), "time of day")


def test_a_head_with_a_field_twice_is_parsed(tmp_path):
    """A template that writes a field twice has no walker: its records count as parsed."""
    rng = random.Random(f"{SEED}:two-levels")
    names = ["INFO", "ERROR", "DEBUG"]
    lines = [f"[{rng.choice(names)}] app {rng.choice(names)}: message {i}\n" for i in range(300)]
    path = tmp_path / "app.log"
    path.write_text("".join(lines))
    form = TemplateFormat("[%(levelname)s] %(name)s %(levelname)s: %(message)s")
    assert form.column_walker() is None
    store = open_store(StaticFileSource(str(path)), form)
    store.update(final=True)
    assert_same(by_columns(store), reference(store), "a field twice")
