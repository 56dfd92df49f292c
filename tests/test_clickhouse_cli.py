"""``python -m logview clickhouse://...`` end to end, over ClickHouse's HTTP interface (served
from chDB by the test, ``clickhouse_helpers.HttpServer``) with the password from the
environment: --print, -q, -o jsonl, --explain, --print --follow with late rows, a wrong
password, and the core starting without the client installed. (A missing table and the other
errors: ``test_clickhouse_source``.)"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from clickhouse_helpers import (
    SECOND,
    T0,
    HttpServer,
    insert,
    make_certificates,
    make_table,
    needs_chdb,
    row,
    server_tls,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret"


@pytest.fixture(scope="module")
def server():
    make_table("lv_cli")
    insert("lv_cli", [row(T0 + n * SECOND, f"request {n} took {n * 10} ms",
                          scope="app.db" if n % 2 else "app.web",
                          level="ERROR" if n % 5 == 0 else "INFO",
                          number=17 if n % 5 == 0 else 9,
                          attributes={"user_id": str(n)}) for n in range(20)])
    http = HttpServer(password=PASSWORD)
    yield http
    http.close()


def env(password: str | None = PASSWORD) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "LOGVIEW_CLICKHOUSE_PASSWORD"}
    out["XDG_CONFIG_HOME"] = "/nonexistent"
    if password is not None:
        out["LOGVIEW_CLICKHOUSE_PASSWORD"] = password
    return out


#: The runs the tests look at, started at once (each is a new interpreter: ~1-2 s).
RUNS = {
    "print": (["--print", "-q", "level>=ERROR logger:app.web"], PASSWORD, "otel_logs"),
    "jsonl": (["--print", "-o", "jsonl", "-q", "user_id=7"], PASSWORD, "otel_logs"),
    "none": (["--print", "-q", "no-such-words"], PASSWORD, "otel_logs"),
    "explain": (["--explain", "-q", "level>=ERROR timeout -x /(a)\\1/"], PASSWORD, "otel_logs"),
    "wrong password": (["--print"], "nope", "otel_logs"),
}


@pytest.fixture(scope="module")
def runs(server) -> dict[str, subprocess.CompletedProcess]:
    started = {
        name: (args, subprocess.Popen(
            [sys.executable, "-m", "logview", server.url("lv_cli", table=table), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env(password)))
        for name, (args, password, table) in RUNS.items()}
    done = {}
    for name, (args, process) in started.items():
        out, err = process.communicate(timeout=60)
        done[name] = subprocess.CompletedProcess(args, process.returncode, out, err)
    return done


@needs_chdb
def test_print_pushes_the_query_down_and_prints_records(server, runs):
    done = runs["print"]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert [line.split(" ", 3)[1:3] for line in lines] == [["ERROR", "app.web"]] * 2
    assert "request 0 took 0 ms" in lines[0] and "request 10 took" in lines[1]
    assert done.stderr == b""
    sent = [sql for sql, _params in server.queries if "SeverityNumber BETWEEN" in sql]
    assert sent and all("app.web" not in sql for sql in sent)


@needs_chdb
def test_jsonl_output_and_nothing_matching(runs):
    done = runs["jsonl"]
    assert done.returncode == 0, done.stderr
    [obj] = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert (obj["message"], obj["logger"], obj["level"], obj["fields"]["user_id"],
            obj["source"]) == ("request 7 took 70 ms", "app.db", "INFO", "7", "shop@web1")
    none = runs["none"]
    assert none.returncode == 1 and none.stdout == b""


@needs_chdb
def test_explain_says_what_is_pushed_and_what_stays_local(runs):
    done = runs["explain"]
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert "ClickHouse table over HTTP" in text
    assert "level>=ERROR" in text and "SeverityNumber BETWEEN 17 AND 24" in text
    assert "positionCaseInsensitive(Body, 'timeout')" in text
    assert "local:" in text and "-x" in text and "/(a)\\1/" in text
    assert "the newest 50,000 rows" in text


@needs_chdb
def test_print_follow_prints_new_and_late_rows_once(server):
    make_table("lv_cli_follow")
    insert("lv_cli_follow", [row(T0 + n * SECOND, f"first {n}") for n in range(3)])
    process = subprocess.Popen(
        [sys.executable, "-m", "logview", server.url("lv_cli_follow"), "--print", "--follow",
         "-o", "jsonl", "-q", "first or late or new"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env=env())
    try:
        lines = _read_lines(process, 3)
        insert("lv_cli_follow", [row(T0 + SECOND + 1, "late one"), row(T0 + 9 * SECOND, "new one"),
                                 row(T0 + 10 * SECOND, "skipped by the query")])
        lines += _read_lines(process, 2)
        time.sleep(1.5)  # more polls: nothing comes twice
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines += rest.decode().splitlines()
    messages = [orjson.loads(line)["message"] for line in lines]
    assert messages == ["first 0", "first 1", "first 2", "late one", "new one"], err
    assert process.returncode == 130


def _read_lines(process: subprocess.Popen, count: int, timeout: float = 20) -> list[str]:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count:
        assert time.monotonic() < deadline, data
        if selector.select(0.2):
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, data
            data += chunk
    return data.decode().splitlines()


@needs_chdb
def test_a_wrong_password_is_one_line_and_status_2(runs):
    done = runs["wrong password"]
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1 and "Authentication failed" in err and "nope" not in err


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """The same table served over HTTPS with a certificate of a CA made for the test."""
    certificates = make_certificates(str(tmp_path_factory.mktemp("tls")))
    make_table("lv_tls")
    insert("lv_tls", [row(T0 + n * SECOND, f"secure {n}") for n in range(3)])
    https = HttpServer(password=PASSWORD, tls=server_tls(certificates))
    yield https, certificates
    https.close()


def _run(url: str, *args: str, **environ: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logview", url, *args], capture_output=True,
                          check=False,
                          cwd=ROOT, env={**env(), **environ}, timeout=60)


@needs_chdb
def test_https_with_the_ca_given_in_the_url_or_the_environment(tls):
    https, certificates = tls
    url = https.url("lv_tls")
    assert url.startswith("clickhouses://")
    for done in (_run(f"{url}?ca={certificates['ca']}", "--print", "-o", "jsonl"),
                 _run(url, "--print", "-o", "jsonl", SSL_CERT_FILE=certificates["ca"])):
        assert done.returncode == 0, done.stderr
        messages = [orjson.loads(line)["message"] for line in done.stdout.splitlines()]
        assert messages == ["secure 0", "secure 1", "secure 2"] and done.stderr == b""


@needs_chdb
def test_https_with_a_certificate_not_trusted_is_one_line_and_status_2(tls):
    https, certificates = tls
    url = https.url("lv_tls")
    queries = len(https.queries)
    for done in (_run(f"{url}?ca={certificates['other_ca']}", "--print"),
                 _run(url, "--print")):  # the system's CAs: none signed it
        assert done.returncode == 2 and done.stdout == b""
        err = done.stderr.decode()
        assert err.count("\n") == 1, err
        where = url.replace("://", "://default@")
        assert err.startswith(f"logview: cannot connect to {where}: TLS certificate verify "
                              "failed: unable to get local issuer certificate (give the CA")
        assert "?ca=PATH" in err and "Traceback" not in err
    assert len(https.queries) == queries  # no request got through


def test_without_the_client_the_core_starts_and_says_what_to_install(monkeypatch, capsys):
    from logview.cli import main

    monkeypatch.setitem(sys.modules, "clickhouse_connect", None)
    assert main(["clickhouse://127.0.0.1:1/db", "--print"]) == 2
    assert capsys.readouterr().err.strip() == (
        "logview: cannot read clickhouse://default@127.0.0.1:1/db/otel_logs: the ClickHouse "
        "client is not installed (pip install 'logview-tui[clickhouse]')")


def test_help_shows_a_clickhouse_example():
    from logview.cli import build_parser

    text = build_parser().format_help()
    assert "clickhouse://reader@ch.example.com/otel --print" in text
    assert "clickhouse://[user@]host[:port]/database[/table]" in text
