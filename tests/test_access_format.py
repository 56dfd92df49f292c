"""Access lines (Common/Combined Log Format) and two line kinds on one stream: the lines come
from the real writers (``http.server``'s request log, ``logging`` with Flask's and gunicorn's
templates) or are captured from gunicorn and nginx as they wrote them."""

from __future__ import annotations

import contextlib
import http.server
import io
import logging

from test_infer import read_back

from logview.formats.detect import detect, detect_format
from logview.formats.presets import FLASK


def _records(data: bytes):
    return read_back(data.decode())


def _request_lines(requests: list[tuple[str, int]]) -> str:
    """What ``http.server`` (werkzeug's ancestor) writes to stderr for each request."""
    handler = object.__new__(http.server.BaseHTTPRequestHandler)
    handler.client_address = ("127.0.0.1", 51234)
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
        for line, status in requests:
            handler.requestline = line
            handler.log_request(status, 12)
    return out.getvalue()


_REQUESTS = [("GET / HTTP/1.1", 200), ("GET /missing HTTP/1.1", 404),
             ("POST /api/x HTTP/1.1", 500), ("GET /health HTTP/1.1", 200)]


def test_http_server_request_lines_are_access_records_with_status_levels():
    text = _request_lines(_REQUESTS * 3)
    fmt, records = _records(text.encode())
    assert fmt.name == "access"
    assert len(records) == 12
    assert [r.fields["status"] for r in records[:4]] == [200, 404, 500, 200]
    assert [r.level for r in records[:4]] == ["INFO", "WARNING", "ERROR", "INFO"]
    assert records[2].fields["method"] == "POST" and records[2].fields["path"] == "/api/x"
    assert all(r.time is not None for r in records)


#: nginx's default "combined" lines; the fourth has a user, as basic auth writes it. Read as
#: an inferred template, the sample's ``- -`` became literals and that line was glued to the
#: one before it.
_NGINX = """\
192.168.1.10 - - [01/Dec/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "Mozilla/5.0 (X11; Linux x86_64)"
10.0.0.5 - - [01/Dec/2026:10:00:03 +0000] "GET /missing HTTP/1.1" 404 153 "-" "python-requests/2.31.0"
10.0.0.6 - - [01/Dec/2026:10:00:04 +0000] "GET /api/boom HTTP/2.0" 502 157 "-" "Go-http-client/1.1"
192.168.1.11 - alice [01/Dec/2026:10:00:05 +0000] "POST /api/login HTTP/1.1" 302 0 "https://example.com/login" "curl/8.0.1"
2001:db8::1 - - [01/Dec/2026:10:00:06 +0000] "\\x16\\x03\\x01\\x00\\xca\\x01\\x00\\x00" 400 157 "-" "-"
"""


def test_combined_lines_with_a_user_each_stay_a_record():
    fmt, records = _records(_NGINX.encode())
    assert fmt.name == "access"
    assert len(records) == 5
    assert records[3].fields["user"] == "alice" and records[3].fields["status"] == 302
    assert records[3].fields["user_agent"] == "curl/8.0.1"
    assert records[4].fields["client"] == "2001:db8::1" and records[4].level == "WARNING"
    assert records[0].time.isoformat() == "2026-12-01T10:00:01+00:00"


#: gunicorn 27 with ``--access-logfile - --error-logfile -`` (one stream, as containers run
#: it), captured from a real run; the app logged ``handling /`` through logging's last resort.
_GUNICORN = """\
[2026-12-01 18:48:13 +0000] [4137] [INFO] Starting gunicorn 27.0.1
[2026-12-01 18:48:13 +0000] [4151] [INFO] Booting worker with pid: 4151
handling /
127.0.0.1 - - [01/Dec/2026:18:48:14 +0000] "GET / HTTP/1.1" 200 2 "-" "curl/7.88.1"
[2026-12-01 18:48:14 +0000] [4151] [ERROR] Error handling request GET /boom
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 141, in handle
    self.handle_request(listener, req, client, addr)
  File "/tmp/rl/wsgiapp.py", line 5, in app
    raise RuntimeError("boom in wsgi")
RuntimeError: boom in wsgi
127.0.0.1 - - [01/Dec/2026:18:48:14 +0000] "GET /boom HTTP/1.1" 500 0 "-" "-"
127.0.0.1 - - [01/Dec/2026:18:48:15 +0000] "GET /q?a=1 HTTP/1.1" 200 2 "-" "curl/7.88.1"
[2026-12-01 18:48:15 +0000] [4137] [INFO] Handling signal: term
[2026-12-01 18:48:15 +0000] [4137] [INFO] Shutting down: Master
"""


def test_gunicorn_error_and_access_lines_on_one_stream_are_each_records():
    # Before: every access line was glued to the gunicorn record before it.
    fmt, records = _records(_GUNICORN.encode())
    assert fmt.name == "gunicorn+access"
    assert len(records) == 8
    access = [r for r in records if "status" in r.fields]
    assert [r.fields["status"] for r in access] == [200, 500, 200]
    failed = next(r for r in records if r.level == "ERROR" and "process" in r.fields)
    assert failed.exc.endswith("RuntimeError: boom in wsgi")
    assert "GET /boom" not in failed.exc
    assert records[1].message == "Booting worker with pid: 4151\nhandling /"  # no head: joined
    assert records[-1].message == "Shutting down: Master"


def test_a_flask_error_between_request_lines_is_its_own_record():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(FLASK))  # flask.logging's default_handler
    log = logging.getLogger("flaskapp.test_access")
    log.handlers[:] = [handler]
    log.propagate = False
    text = _request_lines(_REQUESTS[:2])
    try:
        raise RuntimeError("boom in flask")
    except RuntimeError:
        log.exception("Exception on /boom [GET]")
    text += out.getvalue() + _request_lines(_REQUESTS[2:] * 2)
    log.handlers[:] = []
    fmt, records = _records(text.encode())
    assert fmt.name == "access+flask"
    assert len(records) == 2 + 1 + 4
    failed = records[2]
    assert failed.level == "ERROR" and failed.message == "Exception on /boom [GET]"
    assert failed.exc.endswith("RuntimeError: boom in flask")
    assert records[3].fields["status"] == 500 and "Traceback" not in records[3].message


def test_message_lines_under_a_template_do_not_make_a_second_format():
    # SQLAlchemy's echo: a statement's later lines start nothing and carry no time.
    text = ("2026-12-01 18:59:54,571 INFO sqlalchemy.engine.Engine SELECT users.id\n"
            "FROM users\nWHERE users.id = ?\n"
            "2026-12-01 18:59:54,571 INFO sqlalchemy.engine.Engine [generated in 0.0001s] (1,)\n"
            ) * 10
    fmt, records = _records(text.encode())
    assert fmt.name == "python-space"
    assert len(records) == 20 and records[0].message == "SELECT users.id\nFROM users\nWHERE users.id = ?"


def test_access_format_has_a_name_format_accepts():
    assert detect_format(_NGINX.encode(), hint="access").name == "access"


def test_bytes_and_text_start_tests_agree_on_every_line():
    for text in (_GUNICORN, _NGINX, _request_lines(_REQUESTS) + _GUNICORN):
        fmt = detect(text.encode()).format
        for line in text.splitlines() + ["[01/Dec/2026 18:48:35] x", "- - [01/Dec/2026 1", ""]:
            assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line), line


#: ``pytest -o log_cli=true --log-cli-level=INFO`` (pytest 9.2), captured: its own progress
#: lines with the live log lines (pytest's default log_cli_format) between them.
_PYTEST_LIVE = """\
============================= test session starts ==============================
collected 2 items

test_x.py::test_ok 
-------------------------------- live log call ---------------------------------
INFO     app.tests:test_x.py:4 starting ok
WARNING  app.tests:test_x.py:5 careful
PASSED                                                                   [ 50%]
test_x.py::test_fail 
-------------------------------- live log call ---------------------------------
ERROR    app.tests:test_x.py:7 about to fail
FAILED                                                                   [100%]
=========================== short test summary info ============================
FAILED test_x.py::test_fail - assert 1 == 2
========================= 1 failed, 1 passed in 0.05s ==========================
"""

#: Django 5.2 ``runserver`` with DEBUG on, captured: messages printed bare, request lines.
_DJANGO = """\
Performing system checks...

System check identified no issues (0 silenced).

You have 18 unapplied migration(s). Your project may not work properly until you apply the migrations for app(s): admin, auth, contenttypes, sessions.
Run 'python manage.py migrate' to apply them.
December 01, 2026 - 19:23:09
Django version 5.2.19, using settings 'site1.settings'
Starting development server at http://127.0.0.1:8718/
Quit the server with CONTROL-C.

WARNING: This is a development server. Do not use it in a production setting. Use a production WSGI or ASGI server instead.
For more information on production servers see: https://docs.djangoproject.com/en/5.2/howto/deployment/
Not Found: /
[01/Dec/2026 19:23:11] "GET / HTTP/1.1" 404 2448
custom warning
[01/Dec/2026 19:23:11] "GET /ok HTTP/1.1" 200 2
Internal Server Error: /boom
Traceback (most recent call last):
  File "/tmp/rl/dj/site1/urls.py", line 25, in boom
    def boom(request): raise RuntimeError("boom in django")
RuntimeError: boom in django
[01/Dec/2026 19:23:11] "GET /boom HTTP/1.1" 500 57145
"""


def test_log_lines_among_plain_output_get_their_levels_and_lines_stay_records():
    # Before: plain text, every line a record with no level ('level>=WARNING' found none).
    plain_lines = [line for line in _PYTEST_LIVE.splitlines() if line.strip()]
    fmt, records = _records(_PYTEST_LIVE.encode())
    assert fmt.name.endswith("+plain")
    assert len(records) == len(plain_lines)  # the same records as plain text
    leveled = [(r.level, r.logger, r.message) for r in records if r.level]
    assert leveled == [("INFO", "app.tests", "starting ok"), ("WARNING", "app.tests", "careful"),
                       ("ERROR", "app.tests", "about to fail")]

    fmt, records = _records(_DJANGO.encode())
    assert fmt.name == "access+plain"
    assert len(records) == 16
    assert [r.fields.get("status") for r in records if r.time] == [404, 200, 500]
    error = next(r for r in records if r.message == "Internal Server Error: /boom")
    assert error.exc.endswith("RuntimeError: boom in django")


def test_explain_names_both_kinds_and_offers_no_single_template_to_pin():
    # '--format TEMPLATE' would glue pytest's own lines to the log records: not the same.
    from logview.explain import explain_lines

    lines = explain_lines("live.log", detect(_PYTEST_LIVE.encode()))
    assert any(line.endswith(" + plain") and "format:" in line for line in lines)
    assert not any("pin it" in line for line in lines)
    lines = explain_lines("g.log", detect(_GUNICORN.encode()))
    assert "  format:    gunicorn + access" in lines


def test_lines_between_request_lines_are_records_of_their_own():
    """Request lines are the file's main kind, with a program's own output between them
    (Django's ``runserver``: ``Internal Server Error: /x`` and its traceback, ``Not Found:``;
    a Flask app's ``print``): a request line is one line, so what follows it is not its
    message. Before, every such line was glued to the request line above it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)  # logging's default "%(message)s", as Django's
    log = logging.getLogger("django.request.test")
    log.handlers[:] = [handler]
    log.propagate = False
    pieces = []
    for n in range(6):
        pieces.append(_request_lines([(f"GET /items/{n} HTTP/1.1", 200)]))
        if n == 2:
            try:
                raise KeyError("order")
            except KeyError:
                log.exception("Internal Server Error: /items/%d", n)
        if n == 4:
            log.warning("Not Found: /favicon.ico")
        pieces.append(out.getvalue())
        out.seek(0)
        out.truncate()
        pieces.append(f"processing batch {n}\n")  # a print() on the same stream
    text = "".join(pieces)
    fmt, records = _records(text.encode())
    assert fmt.name == "access+plain"
    assert [r.message for r in records if r.time is None] == [
        "processing batch 0", "processing batch 1", "Internal Server Error: /items/2",
        "processing batch 2", "processing batch 3", "Not Found: /favicon.ico",
        "processing batch 4", "processing batch 5"]
    requests = [r for r in records if r.time is not None]
    assert [r.fields["path"] for r in requests] == [f"/items/{n}" for n in range(6)]
    assert all(r.exc is None for r in requests)
    error = next(r for r in records if r.message.startswith("Internal Server Error"))
    assert error.exc.startswith("Traceback") and error.exc.endswith("KeyError: 'order'")


_WSGI_APP = '''
import logging
# (Flask's default handler's format: a third kind of line beside gunicorn's two)
logging.basicConfig(format="[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
log = logging.getLogger("shop")

def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        {}["missing"]
    if environ["PATH_INFO"] == "/warn":
        log.warning("stock low for item 7")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def test_gunicorns_access_lines_on_its_error_stream(tmp_path):
    # gunicorn --access-logfile - --error-logfile -: its own lines, the access lines, the
    # app's (Flask's format) and tracebacks on one stream, as a container's log holds them.
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    (tmp_path / "shopapp.py").write_text(_WSGI_APP)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--error-logfile", "-", "--chdir", str(tmp_path),
             "shopapp:app"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            deadline = time.monotonic() + 20
            paths = ["/", "/warn", "/boom", "/", "/boom", "/x"]
            while paths:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{paths[0]}", timeout=5)
                except urllib.error.HTTPError:
                    pass
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
                    continue
                paths.pop(0)
            deadline = time.monotonic() + 10
            while log.read_text().count('"GET ') < 6 and time.monotonic() < deadline:
                time.sleep(0.02)  # (the access line is written after the response)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    text = log.read_text()
    fmt, records = read_back(text)
    access = [r for r in records if "status" in r.fields]
    assert [r.fields["status"] for r in access] == [200, 200, 500, 200, 500, 200], fmt
    assert [r.level for r in access if r.fields["status"] == 500] == ["ERROR", "ERROR"]
    errors = [r for r in records if r.exc and "KeyError: 'missing'" in r.exc]
    assert len(errors) == 2 and all('"GET ' not in (r.exc + r.message) for r in errors)
    assert any(r.message.startswith("Starting gunicorn") for r in records)
    warned = [r for r in records if "stock low" in r.message]
    assert [(r.level, r.message) for r in warned] == [("WARNING", "stock low for item 7")]


def test_uvicorns_access_lines_under_gunicorn():
    # gunicorn with uvicorn's worker: gunicorn's lines, and uvicorn's access messages
    # without a level or a time between them (uvicorn's own AccessFormatter writes them).
    import uvicorn.logging

    from logview.formats.presets import GUNICORN, GUNICORN_DATEFMT

    out = io.StringIO()
    access = logging.Handler()
    access.setFormatter(uvicorn.logging.AccessFormatter(
        '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    server = logging.Formatter(GUNICORN, GUNICORN_DATEFMT)
    statuses = [200, 200, 500, 404, 200, 500, 200, 200]
    for k, status in enumerate(statuses):
        record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1,
                                   "Booting worker with pid: %d", (100 + k,), None)
        out.write(server.format(record) + "\n")
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", f"/p{k}", "1.1", status), None)
        out.write(access.format(record) + "\n")
    _, records = read_back(out.getvalue())
    assert detect(out.getvalue().splitlines()).label.endswith("+ request-lines")
    taken = [r for r in records if "status" in r.fields]
    assert [r.fields["status"] for r in taken] == statuses
    assert [r.fields["path"] for r in taken] == [f"/p{k}" for k in range(len(statuses))]
    assert [r.level for r in taken][2:4] == ["ERROR", "WARNING"]
    assert len(records) == 2 * len(statuses)


#: hypercorn 0.17 (its access log on the error log's stream) and aiohttp 3 (its access
#: logger under logging's handler), as they wrote them: an access line as a message.
HYPERCORN = ['[2026-12-02 02:07:41 +0000] [22682] [INFO] Running on http://127.0.0.1:49895 (CTRL + C to quit)', '[2026-12-02 02:07:42 +0000] [22682] [INFO] 127.0.0.1:36130 - - [02/Dec/2026:02:07:42 +0000] "GET / 1.1" 200 11 "-" "curl/7.88.1"', 'something odd: x', '[2026-12-02 02:07:42 +0000] [22682] [INFO] 127.0.0.1:36142 - - [02/Dec/2026:02:07:42 +0000] "GET /warn 1.1" 200 7 "-" "curl/7.88.1"', '[2026-12-02 02:07:42 +0000] [22682] [INFO] 127.0.0.1:36154 - - [02/Dec/2026:02:07:42 +0000] "GET /boom 1.1" 500 21 "-" "curl/7.88.1"', '[2026-12-02 02:07:42 +0000] [22682] [ERROR] Error in ASGI Framework']
AIOHTTP = ['2026-12-02 02:20:30,204 INFO myapp.aio: index hit', '2026-12-02 02:20:30,207 INFO aiohttp.access: 127.0.0.1 [02/Dec/2026:02:20:30 +0000] "GET / HTTP/1.1" 200 154 "-" "curl/7.88.1"', '2026-12-02 02:20:30,220 WARNING myapp.aio: something odd: x', '2026-12-02 02:20:30,224 INFO aiohttp.access: 127.0.0.1 [02/Dec/2026:02:20:30 +0000] "GET /warn HTTP/1.1" 200 153 "-" "curl/7.88.1"', '2026-12-02 02:20:30,237 ERROR aiohttp.server: Error handling request from 127.0.0.1', '2026-12-02 02:20:30,242 INFO aiohttp.access: 127.0.0.1 [02/Dec/2026:02:20:30 +0000] "GET /boom HTTP/1.1" 500 246 "-" "curl/7.88.1"']


def test_an_access_line_logged_as_a_message_has_its_fields():
    for lines in (HYPERCORN, AIOHTTP):
        _, records = read_back("\n".join(lines) + "\n")
        requests = [r for r in records if '"GET ' in r.message]
        assert requests and all(r.fields["method"] == "GET" for r in requests)
        assert [r.fields["status"] for r in requests if r.fields["status"] >= 500] == [500]
        assert all(r.level == "INFO" for r in requests)  # (the program's level stays)
    assert [r.fields.get("path") for r in read_back("\n".join(HYPERCORN) + "\n")[1]
            if "status" in r.fields] == ["/", "/warn", "/boom"]
