"""The head walk of JSON lines (``formats/json_head.py``): what it reads is what the parser
reads, record by record, on the traps where a reading of the head alone would be wrong (a
duplicate key later, the key inside a string, a nested object, escapes, values that are not
strings, better keys later, invalid JSON); those are left to the other readers."""

from __future__ import annotations

import numpy as np
import pytest
from test_columns import assert_same, by_columns, reference
from test_json_columns import _store, assert_read_as_parsed

from logview.formats.byte_chunk import ByteChunk

T = b'{"asctime": "2023-11-14 22:13:20,018", "name": "app", "levelname": "INFO"'
#: (line, whether the head reads it): a trap the head must leave is False.
TRAPS = [
    (T + b', "message": "m", "levelname": "ERROR"}', False),  # duplicate: the last wins
    (T + b', "message": "say \\"levelname\\": \\"ERROR\\""}', False),  # the key in a string
    (T + b', "message": "levelname", "user": "levelname"}', True),  # a value, not a key
    (T + b', "message": "m", "extra": {"levelname": "ERROR"}}', False),  # nested
    (T[:-5] + b'"\\u0045RROR", "message": "m"}', False),  # an escape in the level
    (T + b', "message": "m", "level\\u006eame": "ERROR"}', False),  # an escaped key
    (T[:-6] + b'40, "message": "m"}', False),  # a number, not a name
    (T + b', "message": "m", "logger": "other"}', False),  # a better logger key
    (T + b', "message": "m", "@timestamp": "2020-01-01T00:00:00Z"}', False),  # a better time
    (T + b', "message": "m", "levelno": 50}', False),  # a level number
    (T + b', "message": "m", "MESSAGE": "journal"}', False),  # a journal entry's key
    (T + b', "message": "trunc', False),  # not JSON
    (T + b', "message": "m"} x', False),
    (T + b', "message": "m"}}', False),
    (T + b', "message": "m", "user": 1,}', False),
    (T + b', "message": "m", "user": 01}', False),
    (T + b', "message": "m", "user": 1.}', False),
    (T + b', "message": "m", "user": tru}', False),
    (T + b', "message": "m", "user": NaN}', False),
    (T + b', "message": "a\tb"}', False),  # a raw tab in a string
    (T + b', "message": "\x1b[31mred"}', False),  # an escape introducer
    (T + b', "message": "m", "user" : 1}', False),  # other spacing: not walked
    (T + b', "message": "m","user":1}', True),
    (T.replace(b'"app"', b'""') + b', "message": "m"}', True),  # an empty logger
    (T + b', "message": "m", "time": "x", "level": "ERROR", "logger_x": 1}', True),  # worse keys
    (T + b', "message": "m", "event": "e"}', True),
    (T + b', "message": "m", "user": true, "u2": null, "u3": -1.5e3}', True),
    (T + b', "message": "' + b"long " * 30 + b'", "user": 7}', True),
    (T + b', "message": "m", "' + b"k" * 30 + b'": 1, "' + b"j" * 24 + b'": 2}', True),
    (T.replace(b"11-14", b"02-30") + b', "message": "m"}', False),  # no such day
    (T.replace(b",018", b"") + b', "message": "m"}', False),  # another width of time
    (T + b', "message": {"a": 1}}', False),  # a message that is not text
    (T + b', "message": "m"}\r', True),  # CRLF
    (T + b', "message": "m"}\nTraceback (most recent call last):', False),  # two lines
    (T.replace(b'"INFO"', b'"Level 15"') + b', "message": "m"}', True),
]
BASE = T + b', "message": "request %d handled", "user": %d}'


def _data(repeat: int = 3) -> tuple[bytes, list[bool | None]]:
    lines: list[bytes] = []
    kinds: list[bool | None] = []  # None: a base line
    for r in range(repeat):
        for i, (trap, may) in enumerate(TRAPS):
            for k in range(4):
                lines.append(BASE % (r * 100 + i * 4 + k, k))
                kinds.append(None)
            lines.append(trap)
            kinds.append(may)
    return b"\n".join(lines) + b"\n", kinds


def test_the_head_is_learned_and_reads_every_plain_line(tmp_path):
    data, kinds = _data(1)
    store = _store(tmp_path, data)
    starts = np.array([store.index.start(i) for i in range(len(store))], dtype=np.int64)
    walker = store.format.column_walker()
    walker.read(data, starts)
    heads = walker._heads
    assert heads is not None
    assert heads.layout.roles == ("time", "logger", "level", "")
    assert heads.layout.tail == ((b', "user": ', False),)  # walked without reading its key
    got = heads.read(ByteChunk(data), data, starts)
    line_starts = np.r_[0, np.flatnonzero(np.frombuffer(data, np.uint8) == 10)[:-1] + 1]
    for at, kind in zip(line_starts.tolist(), kinds, strict=False):
        i = int(np.searchsorted(starts, at))
        line = data[at : at + 120]
        if kind is None or kind is True:
            assert got.ok[i], line
        else:
            assert not got.ok[i], line


@pytest.mark.parametrize("chunk_bytes", [1 << 10, 1 << 22])
def test_traps_count_as_parsed(tmp_path, chunk_bytes):
    data, _ = _data()
    store = _store(tmp_path, data)
    assert_same(by_columns(store, chunk_bytes), reference(store), str(chunk_bytes))


def test_each_record_read_by_the_head_reads_as_parsed(tmp_path):
    data, _ = _data()
    store = _store(tmp_path, data)
    _assert_head_reads_as_parsed(store, data, 0.8)


def _assert_head_reads_as_parsed(store, data: bytes, least: float) -> None:
    """More than ``least`` of the records read by the head walk, each as the parser reads it."""
    starts = np.array([store.index.start(i) for i in range(len(store))], dtype=np.int64)
    walker = store.format.column_walker()
    got = walker.read(data, starts)
    assert walker._heads is not None and got.ok.mean() > least
    assert_read_as_parsed(store, got)


def test_a_head_without_logger_and_compact_separators(tmp_path):
    """pino-like compact objects with a text level, and ECS-like dotted keys; times with a
    zone go to the general ISO reader."""
    lines = []
    for i in range(200):
        lines.append(b'{"@timestamp":"2024-05-01T10:%02d:%02d.%03dZ","log.level":"%s",'
                     b'"message":"m %d","n":%d}' % (i // 60, i % 60, i, b"info", i, i))
        if i % 20 == 0:
            lines.append(b'{"@timestamp":"2024-05-01T10:00:00Z","log.level":"info",'
                         b'"message":"m","log.level":"error"}')
            lines.append(b'{"@timestamp":"2024-05-01T10:00:00Z","log.level":"info",'
                         b'"message":"m","log":{"logger":"x"}}')
    data = b"\n".join(lines) + b"\n"
    store = _store(tmp_path, data)
    assert_same(by_columns(store, 1 << 22), reference(store), "ecs")
    walker = store.format.column_walker()
    assert walker._heads is not None and walker._heads.layout.roles == ("time", "level")


_SWAPS = (b'"levelname"', b'"name"', b'"asctime"', b'"logger"', b'"levelno"', b'"message"',
          b'"event"', b'"@timestamp"', b'\\"', b"\\u0041", b'{"a": 1}', b"[1, 2]", b": ",
          b",", b"}", b'"', b"\t", b"\r", b"40", b"null", b"\xc2\x9b", b"\xff")


@pytest.mark.parametrize("seed", [1, 2])
def test_mutated_lines_read_by_the_head_read_as_parsed(tmp_path, seed):
    """Random mutations of python-json-logger lines (hostile bytes, key names, quotes, escapes
    and nested values put anywhere, duplicates, cuts): each record the walker reads gives the
    parser's level, logger and time, and the counts stay equal."""
    import random

    from test_fuzz_parsers import mutate_line

    rng = random.Random(f"json-head:{seed}")
    lines = []
    for i in range(1500):
        line = BASE % (i, i % 7)
        if i % 6 == 0:
            b = bytearray(line)
            for _ in range(rng.randint(1, 2)):
                at = rng.randint(1, len(b) - 1)
                if rng.random() < 0.5:
                    b[at:at] = rng.choice(_SWAPS)
                else:
                    b[at : at + rng.randint(1, 6)] = rng.choice(_SWAPS)
            line = bytes(b)
        elif i % 6 == 1:
            line = mutate_line(rng, line)
        elif rng.random() < 0.2:  # a field of the head again, later, with another value
            line = line[:-1] + rng.choice((b', "levelname": "ERROR"}', b', "name": "x"}',
                                           b', "asctime": "2020-01-01 00:00:00,000"}'))
        lines.append(line.replace(b"\n", b" "))
    data = b"\n".join(lines) + b"\n"
    store = _store(tmp_path, data)
    _assert_head_reads_as_parsed(store, data, 0.5)
    assert_same(by_columns(store, 1 << 22), reference(store), f"seed {seed}")
