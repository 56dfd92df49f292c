"""The text of one-line JSON objects made by one regex a key order (``json_shape_text``) is the
text the exact path makes, for any values: random objects of a few key orders, written with
both separator styles, printed by chunks and compared with every record parsed alone."""

from __future__ import annotations

import io
import json
import random
import re

import orjson
from test_record_chunks import EXACT, _direct, _reference

from logview.formats.jsonl import JsonFormat
from logview.json_shape_text import _DECIMAL
from logview.printer import RecordPrinter

#: Raw JSON texts of values: the ones the regex admits and the ones it must turn away.
VALUES = [
    "0", "7", "-12", "123456789012345678", "1234567890123456789", "12345678901234567890123",
    "-0", "1.5", "1.50", "0.25", "5.0", "-0.0", "1e3", "1E-7", "0.00001", "0.0001",
    "123456.1234567", "123456789.123456789", "true", "false", "null", '"word"', '"two words"',
    '""', '" "', '"a\\"quote"', '"back\\\\slash"', '"caf\\u00e9"', '"caf\u00e9"',
    '"line\\nbreak"', '"esc \\u001b[31m"', '"tab\\there"', '{"nested": 1}', "[1, 2]",
    '"%s %d"', '"100%"',
]
TIMES = ['"2024-01-02 03:04:05,123"', '"2024-01-02T03:04:05Z"', '""', '"not a time"', "1700000000"]
LEVELS = ['"INFO"', '"info"', '"warn"', '"Warning"', '"ERROR"', '"bogus"', '""', "30", '"DEBUG"']
LOGGERS = ['"app"', '"app.db"', '""', '" "', '"caf\u00e9"', "null"]
MESSAGES = ['"request handled"', '""', '"x"', '"a \\"quoted\\" word"', '"two\\nlines"',
            '"snow \u2603"', '"50% done"', "42"]
KEY_ORDERS = [
    ("asctime", "name", "levelname", "message", "user", "status"),
    ("timestamp", "level", "logger", "event", "request_id", "duration"),
    ("asctime", "levelname", "message", "name", "process", "thread", "%odd", "taskName"),
    ("time", "level", "msg", "logger"),
]
ROLE_VALUES = {"asctime": TIMES, "timestamp": TIMES, "time": TIMES, "levelname": LEVELS,
               "level": LEVELS, "name": LOGGERS, "logger": LOGGERS, "message": MESSAGES,
               "event": MESSAGES, "msg": MESSAGES}


def _line(rng: random.Random, keys: tuple[str, ...], colon: str, comma: str) -> str:
    usual = rng.random() < 0.6  # (most lines of a real file read the short way)
    parts = []
    for key in keys:
        pool = ROLE_VALUES.get(key, VALUES)
        value = pool[0] if usual and key in ROLE_VALUES else rng.choice(pool)
        if usual and key not in ROLE_VALUES and rng.random() < 0.7:
            value = rng.choice(VALUES[:6] + VALUES[20:24])
        parts.append(f"{json.dumps(key)}{colon}{value}")
    return "{" + comma.join(parts) + "}"


def test_shape_text_is_the_exact_text_of_random_objects(tmp_path):
    rng = random.Random(20261202)
    lines = []
    for _ in range(2400):
        colon, comma = rng.choice([(": ", ", "), (":", ","), (" : ", " , ")])
        lines.append(_line(rng, rng.choice(KEY_ORDERS), colon, comma))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fmt = JsonFormat()
    printer = RecordPrinter(io.BytesIO(), output="text", original=True)
    expected = _reference(path, fmt, printer)
    for range_bytes, workers in ((1 << 20, 1), (8192, 2)):
        got = _direct(path, fmt, printer, range_bytes=range_bytes, workers=workers)
        assert got.splitlines() == expected.splitlines()
    # The usual lines were made by the regexes, not one by one.
    assert len(EXACT) < len(lines) * 0.7, len(EXACT)


def test_a_file_of_one_key_order_is_made_by_its_regex(tmp_path):
    lines = [json.dumps({"asctime": f"2024-01-02 03:04:{i % 60:02d},123", "name": "app.db",
                         "levelname": ["INFO", "WARNING"][i % 2], "message": f"request {i}",
                         "status": 200 + i % 3, "path": "/a b" if i % 5 else "/x",
                         "ms": round(0.5 + i / 7, 3), "process": 12})
             for i in range(3000)]
    path = tmp_path / "pjl.jsonl"
    path.write_text("\n".join(lines) + "\n")
    fmt = JsonFormat()
    printer = RecordPrinter(io.BytesIO(), output="text", original=True)
    expected = _reference(path, fmt, printer)
    got = _direct(path, fmt, printer, range_bytes=1 << 20, workers=1)
    assert got == expected
    assert expected.splitlines()[1] == (b'2024-01-02 03:04:01,123 WARNING app.db request 1 '
                                        b'status=201 path="/a b" ms=0.643')
    # Only the lines before the key order was learned (and floats written otherwise) were
    # made one by one.
    assert len(EXACT) < 300, len(EXACT)


def test_a_decimal_the_regex_admits_is_written_back_as_its_bytes():
    decimal = re.compile(_DECIMAL)
    rng = random.Random(7)
    admitted = 0
    for _ in range(50000):
        whole = rng.choice(["0", "0", str(rng.randint(1, 10 ** rng.randint(1, 8)))])
        fraction = "0" * rng.choice([0, 0, 1, 3, 4]) + str(rng.randint(0, 10 ** rng.randint(1, 9)))
        text = rng.choice(["", "-"]) + whole + "." + fraction
        if decimal.fullmatch(text.encode()):
            admitted += 1
            assert orjson.dumps(float(text)).decode() == text
    assert admitted > 5000
    for text in ("1.50", "1e3", "0.00001", "123456789.123456789", "01.5"):
        assert decimal.fullmatch(text.encode()) is None
