"""nginx's access log as JSON lines (``log_format ... escape=json``), written by a real nginx
(Debian's package; .ci/run installs it): no object names a level, each holds the HTTP
status. Detection reads the level from the status (5xx ERROR, 4xx WARNING, else INFO), as for
Common Log Format lines, so ``level>=ERROR`` finds the failed requests by every road: the
store, ``--print``'s scan, and the viewer's counts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import file_records, free_port, http_status, server_dir

from logview.columns import RecordCounter
from logview.formats.detect import detect
from logview.formats.json_status import StatusJsonFormat
from logview.sources.base import StaticFileSource
from logview.stats import RecordStats
from logview.store import open_store
from tests.conftest import wait_for

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
REPO = str(Path(__file__).resolve().parents[1])

CONF = '''\
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
  log_format jsonfmt escape=json '{{"time":"$time_iso8601","remote_addr":"$remote_addr",'
      '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,'
      '"request_time":$request_time,"http_user_agent":"$http_user_agent"}}';
  access_log {root}/access.json jsonfmt;
  client_body_temp_path {root}/cb; proxy_temp_path {root}/px; fastcgi_temp_path {root}/fc;
  uwsgi_temp_path {root}/uw; scgi_temp_path {root}/sc;
  server {{
    listen 127.0.0.1:{port};
    location / {{ root {root}/html; }}
    location /api/ {{ proxy_pass http://127.0.0.1:{closed}; }}
  }}
}}
'''
#: The requests made, and the status nginx answers each with.
REQUESTS = [("/", 200), ("/missing.png", 404), ("/api/users/1", 502), ("/", 200),
            ("/api/users/2", 502), ("/nope", 404), ("/", 200)] * 4


@pytest.fixture(scope="module")
def access_log() -> Path:
    root = server_dir("logview-nginx-")
    (root / "html").mkdir()
    (root / "html" / "index.html").write_text("ok\n")
    port, closed = free_port(), free_port()
    (root / "nginx.conf").write_text(CONF.format(root=root, port=port, closed=closed))
    server = subprocess.Popen([NGINX, "-c", str(root / "nginx.conf"), "-p", str(root),
                               "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    log = root / "access.json"
    try:
        statuses = [http_status(port, path) for path, _ in REQUESTS]
        assert statuses == [status for _, status in REQUESTS]
        wait_for(lambda: log.exists() and log.read_text().count("\n") == len(REQUESTS),
                 timeout=10)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    yield log
    shutil.rmtree(root, ignore_errors=True)


def _expected_levels() -> list[str]:
    return ["ERROR" if s >= 500 else "WARNING" if s >= 400 else "INFO" for _, s in REQUESTS]


def test_the_level_is_the_status_s(access_log):
    found = detect(access_log.read_text().splitlines())
    assert isinstance(found.format, StatusJsonFormat) and found.format.status_key == "status"
    records = file_records(access_log)
    assert [r.level for r in records] == _expected_levels()
    assert [r.fields["status"] for r in records] == [s for _, s in REQUESTS]
    assert [r.message for r in records] == [f"GET {p} HTTP/1.1" for p, _ in REQUESTS]
    assert all(r.time is not None for r in records)


def test_level_queries_and_counts_by_every_road(access_log):
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run([sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q",
                          "level>=ERROR", str(access_log)], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["fields"]["status"] for r in rows] == [s for _, s in REQUESTS if s >= 500]
    store = open_store(StaticFileSource(str(access_log)))
    store.update(final=True)
    try:
        tally = RecordStats()
        counter = RecordCounter(store)
        for batch in counter.batches(len(store)):
            tally.add_batch(batch)
        levels, _unknown, counted = tally.totals()
    finally:
        store.close()
    expected = _expected_levels()
    assert counted == len(REQUESTS)
    # (the bar's buckets: DEBUG, INFO, WARNING, ERROR, CRITICAL)
    assert levels == [0, expected.count("INFO"), expected.count("WARNING"),
                      expected.count("ERROR"), 0]


def test_a_json_log_with_levels_keeps_them():
    """A level key wins: an app's JSON lines that also log a status are read as before."""
    lines = [json.dumps({"time": "2026-12-02T10:00:00Z", "level": "info", "msg": f"req {i}",
                         "status": 500 if i % 3 == 0 else 200}) for i in range(30)]
    found = detect(lines)
    assert not isinstance(found.format, StatusJsonFormat)
    assert {found.format.parse(line).level for line in lines} == {"INFO"}


@pytest.mark.parametrize(("query", "keep"), [
    ("level>=ERROR", lambda n: n >= 40), ("level>=WARNING", lambda n: n >= 30),
    ("level>INFO", lambda n: n > 20), ("level=INFO", lambda n: n == 20),
    ("level<WARNING", lambda n: 0 < n < 30), ("level!=ERROR", lambda n: 0 < n != 40),
])
def test_level_queries_look_for_the_statuses_they_admit(access_log, query, keep):
    """``--print`` finds the candidates by the statuses in the bytes (``level_pattern``):
    the same records as reading each one."""
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run([sys.executable, "-m", "logview", "--print", "-o", "jsonl", "-q",
                          query, str(access_log)], capture_output=True, text=True, env=env, check=True,
                         timeout=60).stdout
    printed = [json.loads(line)["line"] for line in out.splitlines()]
    records = file_records(access_log)
    assert printed == [i + 1 for i, r in enumerate(records) if keep(r.levelno)]
    assert printed  # (each query admits some of them)
