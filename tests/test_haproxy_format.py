"""HAProxy's log lines (``option httplog`` to standard output with ``format raw``, its own
messages on standard error beside them), as HAProxy 2.6 wrote them (Debian 12)."""

from __future__ import annotations

from datetime import datetime

from test_infer import read_back

from logview.formats.haproxy import HaproxyFormat

#: haproxy -db -f h3.cfg > haproxy-http.log 2>&1 (a backend stopped near the end).
HTTP = '127.0.0.1:33990 [02/Dec/2026:02:07:58.500] fe be/web1 0/0/0/10/10 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:33996 [02/Dec/2026:02:07:58.532] fe be/web1 0/0/0/2/2 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope1 HTTP/1.1"\n127.0.0.1:34006 [02/Dec/2026:02:07:58.550] fe be/web1 0/0/0/4/4 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34010 [02/Dec/2026:02:07:58.574] fe be/web1 0/0/0/2/2 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope2 HTTP/1.1"\n127.0.0.1:34018 [02/Dec/2026:02:07:58.599] fe be/web1 0/0/0/2/2 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34020 [02/Dec/2026:02:07:58.629] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope3 HTTP/1.1"\n127.0.0.1:34036 [02/Dec/2026:02:07:58.645] fe be/web1 0/0/0/1/1 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34040 [02/Dec/2026:02:07:58.662] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope4 HTTP/1.1"\n127.0.0.1:34042 [02/Dec/2026:02:07:58.677] fe be/web1 0/0/0/1/1 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34044 [02/Dec/2026:02:07:58.691] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope5 HTTP/1.1"\n127.0.0.1:34046 [02/Dec/2026:02:07:58.703] fe be/web1 0/0/0/1/1 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34054 [02/Dec/2026:02:07:58.716] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope6 HTTP/1.1"\n127.0.0.1:34058 [02/Dec/2026:02:07:58.730] fe be/web1 0/0/0/1/1 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34066 [02/Dec/2026:02:07:58.743] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope7 HTTP/1.1"\n127.0.0.1:34072 [02/Dec/2026:02:07:58.755] fe be/web1 0/0/0/1/1 200 182 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n127.0.0.1:34080 [02/Dec/2026:02:07:58.769] fe be/web1 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope8 HTTP/1.1"\n127.0.0.1:34092 [02/Dec/2026:02:07:59.313] fe be/web1 0/0/-1/-1/3007 503 217 - - SC-- 1/1/0/0/3 0/0 "GET /after-backend-died HTTP/1.1"\n[WARNING]  (22900) : Proxy fe stopped (cumulated conns: FE: 17, BE: 0).\nProxy fe stopped (cumulated conns: FE: 17, BE: 0).\n[WARNING]  (22900) : Proxy be stopped (cumulated conns: FE: 0, BE: 17).\nProxy be stopped (cumulated conns: FE: 0, BE: 17).\n[WARNING]  (22900) : Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).\nProxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).\n'
#: haproxy -W (master-worker): its notices, a server down, requests failing.
MASTER = ['[NOTICE]   (22467) : New worker (22470) forked', '[NOTICE]   (22467) : Loading success.', '[WARNING]  (22470) : Server be/app1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.', 'Server be/app1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.', '127.0.0.1:60622 [02/Dec/2026:02:07:27.609] fe be/app2 0/0/-1/-1/3006 503 217 - - SC-- 1/1/0/0/3 0/0 "GET /a HTTP/1.1"', '[NOTICE]   (22467) : Reloading HAProxy', '[NOTICE]   (22467) : New worker (22568) forked', '[NOTICE]   (22467) : Loading success.']


def test_http_log_lines_and_messages():
    fmt, records = read_back(HTTP)
    assert isinstance(fmt, HaproxyFormat), fmt
    assert len(records) == len(HTTP.splitlines())  # every line a record of its own
    requests = [r for r in records if "status" in r.fields]
    assert len(requests) == 17
    first = requests[0]
    assert first.fields["client"] == "127.0.0.1" and first.fields["backend"] == "be"
    assert (first.fields["method"], first.fields["path"], first.fields["status"]) == (
        "GET", "/", 200)
    assert first.time == datetime(2026, 12, 2, 2, 7, 58, 500000) and first.level == "INFO"
    assert [r.level for r in requests if r.fields["status"] >= 500] == ["ERROR"]
    assert {r.level for r in requests if 400 <= r.fields["status"] < 500} == {"WARNING"}
    warned = [r for r in records if r.fields.get("pid")]
    assert warned and all(r.level == "WARNING" for r in warned)
    assert warned[0].message.startswith("Proxy fe stopped")
    bare = [r for r in records if r.logger == ""]
    assert bare and all(not r.message.startswith("[") for r in bare)


def test_master_worker_notices():
    _, records = read_back("\n".join(MASTER) + "\n")
    assert [r.level for r in records[:2]] == ["NOTICE", "NOTICE"]
    assert records[0].fields["pid"] and records[0].message == "New worker (22470) forked"
