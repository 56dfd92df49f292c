"""A Python app's log under uWSGI, written by a real uWSGI (Debian's uwsgi-core and
uwsgi-plugin-python3; .ci/run installs them): uWSGI's banner, its request lines and the
app's ``logging`` records with their tracebacks, in one file. The app's records are read by
their template (the logger without the colon after it), a request line is a record with its
time, fields and its status's level (``status>=500`` and ``level>=ERROR`` find the failed
request), the banner's lines are records of their own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import file_records, free_port, http_status

from tests.conftest import wait_for

UWSGI = shutil.which("uwsgi")
PLUGIN = Path("/usr/lib/uwsgi/plugins/python3_plugin.so")
pytestmark = pytest.mark.skipif(UWSGI is None or not PLUGIN.exists(),
                                reason="uwsgi with its python3 plugin is not installed")
REPO = str(Path(__file__).resolve().parents[1])

APP = '''\
import logging, sys

logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("shop.views")


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/crash":
        return {}["missing"]  # uncaught: uWSGI prints the traceback, answers 500
    if path == "/fail":
        try:
            {}["cart"]
        except KeyError:
            log.exception("checkout failed for %s", path)
    else:
        log.info("served %s", path)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''



@pytest.fixture(scope="module")
def uwsgi_log(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("uwsgi")
    (root / "app.py").write_text(APP)
    log = root / "uwsgi.log"
    port = free_port()
    server = subprocess.Popen(
        [UWSGI, "--plugin", "python3", "--http-socket", f"127.0.0.1:{port}", "--wsgi-file",
         str(root / "app.py"), "--master", "--processes", "1", "--logto", str(log),
         "--die-on-term"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        assert [http_status(port, p) for p in ("/ok", "/fail", "/crash", "/ok")] == [200, 200, None, 200]
        wait_for(lambda: log.read_text().count("GET /ok =>") == 2, timeout=10)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    return log



def test_the_apps_records_and_uwsgis_request_lines(uwsgi_log):
    text = uwsgi_log.read_text()
    assert "[pid: " in text and "uWSGI" in text
    records = file_records(uwsgi_log)
    app = [r for r in records if r.logger == "shop.views"]
    assert [(r.level, r.message) for r in app] == [
        ("INFO", "served /ok"), ("ERROR", "checkout failed for /fail"), ("INFO", "served /ok")]
    assert app[1].exc.rstrip().endswith("KeyError: 'cart'")
    requests = [r for r in records if "status" in r.fields]
    assert [(r.fields["path"], r.fields["status"], r.level) for r in requests] == [
        ("/ok", 200, "INFO"), ("/fail", 200, "INFO"), ("/crash", 500, "ERROR"),
        ("/ok", 200, "INFO")]
    assert all(r.time is not None and r.fields["method"] == "GET" for r in requests)
    # The uncaught traceback is kept (with the line before it: a line alone cannot say
    # which request it was).
    assert sum("KeyError: 'missing'" in (r.exc or "") for r in records) == 1
    # uWSGI's own lines stay records of their own.
    assert any(r.message.startswith("*** Starting uWSGI") for r in records)


def test_status_and_level_queries_find_the_failed_request(uwsgi_log):
    env = {**os.environ, "PYTHONPATH": REPO}

    def printed(query: str) -> list[dict]:
        out = subprocess.run([sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q",
                              query, str(uwsgi_log)], capture_output=True, text=True,
                             env=env, check=True, timeout=60).stdout
        return [json.loads(line) for line in out.splitlines()]

    assert [r["fields"]["path"] for r in printed("status>=500")] == ["/crash"]
    errors = printed("level>=ERROR")
    assert errors[0]["message"] == "checkout failed for /fail"
    assert [r["fields"].get("path") for r in errors[1:]] == ["/crash"]
    assert [r["fields"]["path"] for r in printed("msecs>=0 path=/ok")] == ["/ok", "/ok"]
