"""Formats whose parser names the logger (uvicorn's ``uvicorn.access``, PostgreSQL's
``postgres``, Redis's ``redis``) are queried by logger and by free text exactly: the query
prefilter must not look for those names in the bytes, which do not hold them."""

from __future__ import annotations

import json

import pytest
from test_postgres_format import DEBIAN as POSTGRES
from test_redis_format import REAL as REDIS

from logview.query import parse_query
from logview.record import Record

#: What uvicorn 0.3x wrote with its default logging (a FastAPI app; a traceback shortened;
#: the bare line is an app's WARNING that had no handler).
UVICORN = (
    'INFO:     Started server process [22116]\nINFO:     Waiting for application startup.\n'
    'INFO:     Application startup complete.\n'
    'INFO:     Uvicorn running on http://127.0.0.1:49894 (Press CTRL+C to quit)\n'
    'INFO:     127.0.0.1:53832 - "GET / HTTP/1.1" 200 OK\nsomething odd: x\n'
    'INFO:     127.0.0.1:53834 - "GET /warn HTTP/1.1" 200 OK\n'
    'INFO:     127.0.0.1:53842 - "GET /boom HTTP/1.1" 500 Internal Server Error\n'
    'ERROR:    Exception in ASGI application\nTraceback (most recent call last):\n'
    '  File "/srv/app/main.py", line 12, in boom\n    raise KeyError(\'missing\')\n'
    "KeyError: 'missing'\nINFO:     127.0.0.1:53844 - \"GET / HTTP/1.1\" 200 OK\n"
    'INFO:     127.0.0.1:53850 - "GET /chain HTTP/1.1" 500 Internal Server Error\n'
    'ERROR:    Exception in ASGI application\n'
    'INFO:     127.0.0.1:53862 - "GET /nope HTTP/1.1" 404 Not Found\n'
    'INFO:     Shutting down\nINFO:     Waiting for application shutdown.\n')


@pytest.mark.parametrize(("name", "text", "queries"), [
    ("uvicorn", UVICORN, ["logger:uvicorn.access", "logger=uvicorn.error", "logger:uvicorn",
                          "access", "ACCESS", "logger~acc", "logger:uvicorn level>=ERROR"]),
    ("postgresql", POSTGRES, ["logger:postgres", "postgres", "logger=postgres level>=ERROR"]),
    ("redis", REDIS, ["logger:redis", "redis", "/Redis/"]),
], ids=["uvicorn", "postgresql", "redis"])
def test_a_made_logger_is_found_by_its_name(tmp_path, run_main, name, text, queries):
    path = tmp_path / f"{name}.log"
    path.write_text(text)
    status, out, _ = run_main("--print", "-o", "jsonl", str(path))
    assert status == 0
    every = [json.loads(line) for line in out.splitlines()]
    assert {r["logger"] for r in every} & set(
        {"uvicorn": ["uvicorn.access"], "postgresql": ["postgres"], "redis": ["redis"]}[name])
    records = [Record(message=r["message"], level=r["level"], levelno=r["levelno"],
                      logger=r["logger"], exc=r["exc"], fields=r["fields"]) for r in every]
    for query in queries:
        predicate = parse_query(query).predicate
        want = [r.message for r in records if predicate(r)]
        status, out, _ = run_main("--print", "-o", "jsonl", "-q", query, str(path))
        got = [json.loads(line)["message"] for line in out.splitlines()]
        assert got == want and want, (query, len(got), len(want))
