"""``json_plain.plain_reader``: what each key order means is remembered, and every object is
still read exactly as ``jsonl.plain_values`` reads it (hostile key orders and values)."""

from __future__ import annotations

import orjson
import pytest

from logview.formats.jsonl import JsonFormat, plain_values

HEAD = '"time": "2024-01-02 03:04:05", "level": "warn", "logger": "app.db", "message": "m"'
LINES = [
    '{' + HEAD + ', "user": 3, "status": 504}',
    '{' + HEAD + ', "user": 3, "status": 504}',  # the same key order again: remembered
    '{' + HEAD + ', "status": "504", "ok": true, "none": null, "f": 1.5, "nested": {"a": 1}}',
    # a key that loses its role to a better one enters the fields where it loses it
    '{"msg": "first", "x": 1, "message": "second", "time": "t", "level": "INFO", "name": "n"}',
    '{"msg": "first", "x": 2, "message": "again", "time": "t", "level": "INFO", "name": "n"}',
    # duplicate keys: orjson keeps the last value, in the first one's place
    '{' + HEAD + ', "status": 200, "status": 500}',
    '{' + HEAD + ', "level": "ERROR"}',
    # role values that are not text, a message of two lines: not plain
    '{"time": 5, "level": "INFO", "logger": "x", "message": "m"}',
    '{"time": "t", "level": 30, "logger": "x", "message": "m"}',
    '{"time": "t", "level": "INFO", "logger": "x", "message": "m\\nTraceback"}',
    '{"time": "t", "level": "INFO", "logger": ["x"], "message": "m"}',
    # text to clean: an escaped ESC, a C1 introducer, non-ASCII
    '{"time": "t", "level": "INFO", "logger": "\\u001b[31mred", "message": "\\u001b[1mbold"}',
    '{"time": "t", "level": "\u00e9", "logger": "l\u00e9", "message": "\u009b1mx"}',
    # schemas read as a whole: their values decide
    ('{"record": {"a": 1}, "text": "x", "time": "t", "level": "INFO", "logger": "x", '
    '"message": "m"}'),
    '{"record": 1, "text": "x", "time": "t", "level": "INFO", "logger": "x", "message": "m"}',
    ('{"levelno": 20, "fields": {}, "exc": null, "message": "m", "time": "t", "level": "INFO", '
    '"logger": "x"}'),
    '{"MESSAGE": "x", "time": "t", "level": "INFO", "logger": "x", "message": "m"}',
    '{"__CURSOR": "c", "PRIORITY": "3", "MESSAGE": "x"}',
    # an exception key, a level number, structlog's name beside event: not plain
    '{' + HEAD + ', "exc_info": "Traceback"}',
    '{' + HEAD + ', "levelno": 40}',
    '{"event": "e", "name": "n", "time": "t", "level": "INFO"}',
    '[1, 2]', '"text"', '{"time": "t"', '{"a": NaN}',
]


@pytest.mark.parametrize("keys", [None, {"message": "text", "logger": "component"}])
def test_reads_every_object_as_plain_values_does(keys):
    fmt = JsonFormat(keys)
    read = fmt.plain_reader()
    lines = LINES + [line.replace('"message"', '"text"').replace('"logger"', '"component"')
                     for line in LINES]
    for line in lines * 2:  # (the second time every key order is known)
        data = line.encode()
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            expected = None
        else:
            roles = fmt._roles
            expected = plain_values(obj, roles) if type(obj) is dict else None
        got = read(data)
        assert repr(got) == repr(expected), line
        if got is not None:
            assert list(got[5]) == list(expected[5])  # the fields in the same order
