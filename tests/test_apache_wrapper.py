"""A Python program's log inside Apache httpd's error log, written by a real Apache with
mod_wsgi (Debian's apache2-bin and libapache2-mod-wsgi-py3; .ci/run installs them): mod_wsgi
writes each line the program puts on stderr as an error log line of its own (time, module and
severity, pid and thread, the client). The wrapper comes off: a ``logging`` record and its
traceback are one record with the program's level, an uncaught exception is one record with
mod_wsgi's line before it, Apache's own lines are records with Apache's severity, and every
road (the index, the direct scan of ``--print``, the splitter) cuts the same records."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from server_helpers import file_records, free_port, http_status, server_dir

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.formats.prefixed import PrefixedFormat
from logview.record import parse_raw_record
from tests.conftest import wait_for

APACHE = shutil.which("apache2") or shutil.which("httpd")
MODULES = Path("/usr/lib/apache2/modules")
pytestmark = pytest.mark.skipif(
    APACHE is None or not (MODULES / "mod_wsgi.so").exists(),
    reason="apache2 with mod_wsgi is not installed")
REPO = str(Path(__file__).resolve().parents[1])

APP = '''\
import logging, sys

logging.basicConfig(stream=sys.stderr, level=logging.INFO)
log = logging.getLogger("shop.views")


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/crash":
        return {}["missing"]  # uncaught: mod_wsgi prints the traceback
    if path == "/fail":
        try:
            {}["cart"]
        except KeyError:
            log.exception("checkout failed for %s", path)
    elif path == "/print":
        print("a plain line on stderr", file=sys.stderr)
    else:
        log.info("served %s", path)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''

CONF = '''\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule wsgi_module {modules}/mod_wsgi.so
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel info
WSGIScriptAlias / "{root}/app.wsgi"
<Directory "{root}">
    Require all granted
</Directory>
'''



@pytest.fixture(scope="module")
def error_log() -> Path:
    """The error log of a real Apache that served /ok, /fail, /crash, /print and /ok."""
    root = server_dir("logview-apache-")
    (root / "app.wsgi").write_text(APP)
    port = free_port()
    (root / "httpd.conf").write_text(CONF.format(root=root, port=port, modules=MODULES))
    server = subprocess.Popen([APACHE, "-f", str(root / "httpd.conf"), "-DFOREGROUND"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"apache did not start: {server.stderr.read().decode()}")
                time.sleep(0.05)
        assert [http_status(port, p) for p in ("/ok", "/fail", "/crash", "/print", "/ok")] == [
            200, 200, 500, 200, 200]
        log = root / "error.log"
        wait_for(lambda: log.read_text().count("served /ok") == 2, timeout=10)
    finally:
        # (Apache waits up to 10 s for a child holding Python: the lines are written already)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(15)
    yield log
    shutil.rmtree(root, ignore_errors=True)



def test_the_program_s_records_come_out_of_apache_s_lines(error_log):
    text = error_log.read_text()
    assert "[wsgi:error]" in text and "Traceback (most recent call last):" in text
    found = detect(text.splitlines())
    assert isinstance(found.format, PrefixedFormat) and found.format.prefix.name == "apache"
    records = file_records(error_log)
    program = [r for r in records if r.fields.get("module") == "wsgi"]
    served = [r for r in program if r.logger == "shop.views" and r.level == "INFO"]
    assert [r.message for r in served] == ["served /ok", "served /ok"]
    failed = [r for r in program if r.level == "ERROR" and r.logger == "shop.views"]
    assert len(failed) == 1 and failed[0].message == "checkout failed for /fail"
    assert failed[0].exc.startswith("Traceback (most recent call last):")
    assert failed[0].exc.rstrip().endswith("KeyError: 'cart'")
    # The uncaught one: mod_wsgi's line, then the traceback, one record (Apache's level).
    crash = [r for r in program if r.exc and "KeyError: 'missing'" in r.exc]
    assert len(crash) == 1 and crash[0].level == "ERROR"
    assert not any(r.message.startswith(("Traceback", "  File", "KeyError")) for r in records)
    plain = [r for r in program if r.message == "a plain line on stderr"]
    assert len(plain) == 1 and plain[0].level == "ERROR"  # what Apache says of stderr
    # Apache's own lines: records of their own, with its severity and module.
    own = [r for r in records if r.fields.get("module") not in (None, "wsgi")]
    assert own and all(r.time is not None and r.level for r in own)
    assert any(r.level == "NOTICE" for r in own)
    assert {r.logger for r in own} >= {"core", "mpm_event"}  # the module that wrote it
    assert crash[0].logger == plain[0].logger == "wsgi"
    # Each line is a record but a traceback's, which its record holds.
    lines = text.splitlines()
    held = sum(r.exc.count("\n") + 1 for r in records if r.exc)
    assert len(records) == len(lines) - held


def test_every_road_cuts_the_same_records(error_log):
    data = error_log.read_bytes()
    fmt = detect(data.decode().splitlines()).format
    splitter = RecordSplitter(fmt)
    raws = splitter.feed(data) + splitter.flush()
    by_splitter = [parse_raw_record(fmt, raw).message for raw in raws]
    assert by_splitter == [r.message for r in file_records(error_log)]
    env = {**os.environ, "PYTHONPATH": REPO}
    printed = subprocess.run(
        [sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q", "level>=ERROR",
         str(error_log)], capture_output=True, text=True, env=env, check=True).stdout
    rows = [json.loads(line) for line in printed.splitlines()]
    assert [r["message"] for r in rows] == [
        r.message for r in file_records(error_log) if r.levelno >= 40]
    assert any(r["logger"] == "shop.views" and "KeyError: 'cart'" in (r["exc"] or "")
               for r in rows)
    assert not any(r["level"] == "INFO" for r in rows)
