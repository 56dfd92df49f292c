"""``journal:`` inputs end to end: real journal files from three hosts (written by
systemd-journal-remote), read by the real journalctl that logview runs, printed by the real
``python -m logview``: order, the host as the source, what is pushed down (and that the result
is the local filter's), following, errors, and journalctl stopped and reaped at the end."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from journal_helpers import SECOND, T0, expected, make_journals, needs_journal, write_journal

from logview.query import parse_query
from logview.sources.base import SourceError
from logview.sources.journal import JournalOptions, JournalSource
from logview.sources.journal_pushdown import journal_pushdown

pytestmark = needs_journal

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def journals(tmp_path_factory) -> Path:
    return make_journals(tmp_path_factory.mktemp("remote"))


@pytest.fixture(scope="module")
def exported(journals, tmp_path_factory) -> Path:
    """The same entries as journalctl exports them to a file (read as a file: no push-down)."""
    path = tmp_path_factory.mktemp("export") / "all.json"
    path.write_bytes(subprocess.run(["journalctl", f"--directory={journals}", "-o", "json",
                                     "--all", "--no-pager"],
                                    capture_output=True, check=True, timeout=60).stdout)
    return path


def logview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          timeout=60, cwd=ROOT, env=env, check=False)


def rows(out: bytes) -> list[dict]:
    return [orjson.loads(line) for line in out.splitlines()]


# ---------------------------------------------------------------------------------------------
# Reading


def test_print_merges_the_hosts_in_time_order(journals):
    done = logview(f"journal:{journals}", "--print", "-o", "jsonl")
    assert done.returncode == 0, done.stderr
    got = rows(done.stdout)
    assert [(r["source"], r["message"]) for r in got] == expected()
    times = [r["time"] for r in got]
    assert times == sorted(times) and times[0] == "2024-01-02T03:04:05.123456+00:00"
    by_message = {(r["source"], r["message"]): r for r in got}
    slow = by_message[("web2", "slow request took 900 ms")]
    assert (slow["level"], slow["logger"]) == ("WARNING", "app.web2")
    fields = slow["fields"]
    assert fields["CODE_FILE"].endswith("journal_helpers.py")
    assert fields["CODE_FUNC"] == "_handler_entries"
    assert fields["CODE_LINE"].isdigit() and fields["THREAD_NAME"] == "MainThread"
    assert (fields["REQUEST_ID"], fields["_HOSTNAME"], fields["LOGGER"]) == (
        "r-web2", "web2", "app.web2")
    failed = by_message[("web1", "payment failed")]
    assert (failed["level"], failed["logger"]) == ("ERROR", "app.web1.pay")
    assert failed["exc"].startswith("Traceback (most recent call last):")
    assert failed["exc"].endswith("ConnectionError: card service refused")
    db = by_message[("db1", "checkpoint starting")]
    assert (db["level"], db["logger"], db["fields"]["_SYSTEMD_UNIT"]) == (
        "NOTICE", "postgres", "postgresql.service")


def test_one_journal_file_and_text_output(journals):
    done = logview(f"journal:{journals / 'remote-db1.journal'}", "--print", "-q",
                   "level>=ERROR")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert [line.split(" ", 4)[2:4] for line in lines] == [["ERROR", "postgres"],
                                                          ["CRITICAL", "postgres"]]
    assert "could not connect to server timeout" in lines[0]


# ---------------------------------------------------------------------------------------------
# Push-down: journalctl filters, logview filters again; the result is the local filter's


QUERIES = [
    "level>=WARNING",
    "level=ERROR or level=CRITICAL",
    "level=NOTICE",
    "level<INFO",  # not pushed: no-level entries would be lost
    "_HOSTNAME=web1",
    "source=db1 level>=ERROR",
    "_HOSTNAME=web1 or _HOSTNAME=db1",
    "LOGGER=app.web2.pay",
    "SYSLOG_IDENTIFIER=postgres timeout",
    "_SYSTEMD_UNIT=shop.service -level=DEBUG",
    "_PID=202 level>=WARNING",
    "REQUEST_ID=r-web1",
    "since:2024-01-02T03:04:07.5Z until:2024-01-02T03:04:09.3Z",
    "time>=2024-01-02T03:04:08Z logger:app.web1",
    "level>=ERROR (_HOSTNAME=web2 or payment)",
    "CODE_FUNC=_handler_entries level=CRITICAL",
    "_HOSTNAME=nowhere",
]


@pytest.mark.parametrize("query", QUERIES)
def test_pushed_down_query_gives_what_the_local_filter_gives(query, journals, exported, run_main):
    status, out, err = run_main(f"journal:{journals}", "--print", "-o", "jsonl", "-q", query)
    local_status, local_out, _ = run_main(str(exported), "--print", "-o", "jsonl", "-q", query)
    keep = ("time", "source", "level", "logger", "message", "exc")
    assert [{k: r[k] for k in keep} for r in rows(out)] == [
        {k: r[k] for k in keep} for r in rows(local_out)], err
    assert status == local_status


def test_the_queries_do_push_down():
    pushed = [bool(journal_pushdown(parse_query(q)).arguments) for q in QUERIES]
    assert sum(pushed) >= len(QUERIES) - 2  # all but level<INFO (and what stays local)


def test_explain_says_what_is_pushed_and_what_is_local(journals):
    done = logview(f"journal:{journals}", "--explain", "-q",
                   "level>=WARNING _HOSTNAME=web1 timeout since:2024-01-02T03:04:06Z -debug")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert f"journal:{journals}: journal entries through journalctl" in text
    runs = next(line for line in text.splitlines() if line.strip().startswith("--print:"))
    assert f"--directory={journals}" in runs and "--output=json" in runs
    assert "--priority=0..4" in runs and "_HOSTNAME=web1" in runs
    assert "'--since=2024-01-02 03:04:06 UTC'" in runs and "--follow" not in runs
    viewer = next(line for line in text.splitlines() if line.strip().startswith("viewer:"))
    assert viewer.endswith(f"--directory={journals} --follow --no-tail")  # nothing pushed
    assert "level>=WARNING" in text and "->  --priority=0..4" in text
    local = text[text.index("local:"):]
    assert "timeout" in local and "-debug" in local
    assert "applies the whole query" in text


# ---------------------------------------------------------------------------------------------
# Following, stopping, errors


def _read_rows(proc: subprocess.Popen, count: int, timeout: float = 15.0) -> list[dict]:
    """Read JSON lines from ``proc`` until ``count`` came (fails after ``timeout``)."""
    got: list[dict] = []
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"got {len(got)} of {count} rows: {got[-3:]}"
        if selector.select(left):
            data = os.read(proc.stdout.fileno(), 65536)
            assert data, f"output ended after {len(got)} rows: {proc.stderr.read()!r}"
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            got += [orjson.loads(line) for line in lines if line]
    selector.close()
    return got


def _journalctl_children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        children += [int(child) for child in text.split()]
    return [c for c in children if Path(f"/proc/{c}/comm").read_text().strip() == "journalctl"]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # ended; logview's parent is no longer logview (it exited)


@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_follow_prints_new_entries_and_stops_journalctl(journals, tmp_path, stop, status):
    directory = tmp_path / "remote"
    shutil.copytree(journals, directory)
    proc = subprocess.Popen([sys.executable, "-m", "logview", f"journal:{directory}",
                             "--print", "--follow", "-o", "jsonl", "-q", "level>=WARNING"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        first = _read_rows(proc, 9)  # 3 of each host at WARNING or more
        (child,) = _journalctl_children(proc.pid)
        late = [[("MESSAGE", f"late {n}"), ("PRIORITY", str(3 + n % 2 * 3)),
                 ("_HOSTNAME", "web3"), ("LOGGER", "app.late")] for n in range(4)]
        write_journal(directory / "remote-web1.journal", late, t0=T0 + 3600 * SECOND)
        new = _read_rows(proc, 1)  # late 0 and late 2: ERROR; late 1, 3: INFO (filtered)
        new += _read_rows(proc, 1)
        proc.send_signal(stop)
        assert proc.wait(timeout=15) == status
    finally:
        proc.kill()
        proc.wait()
    assert [r["source"] for r in first].count("db1") == 3 and len(first) == 9
    assert [(r["source"], r["message"], r["level"]) for r in new] == [
        ("web3", "late 0", "ERROR"), ("web3", "late 2", "ERROR")]
    deadline = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < deadline, "journalctl outlived logview"
        time.sleep(0.02)


def test_journalctl_missing_is_an_error(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    done = logview("journal:", "--print", env=env)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [(
        "logview: cannot read the local journal: journalctl not found (it comes with systemd; "
        "install it or put it on PATH)")]


def test_a_path_that_is_no_journal_is_an_error(tmp_path):
    missing = logview(f"journal:{tmp_path / 'nope'}", "--print")
    assert missing.returncode == 2
    assert missing.stderr.decode().strip() == (
        f"logview: cannot open {tmp_path / 'nope'}: No such file or directory")
    text = tmp_path / "x.journal"
    text.write_text("not a journal\n")
    failed = logview(f"journal:{text}", "--print")
    assert failed.returncode == 2 and failed.stdout == b""
    (line,) = failed.stderr.decode().splitlines()  # journalctl's stderr, one line
    assert line.startswith(f"logview: journal:{text}: journalctl failed (exit status 1): ")


def test_what_journalctl_warns_about_is_said_once(journals, tmp_path):
    """A journal file cut short is left out by journalctl, which says so on stderr: a warning,
    the other files' records printed, status 0."""
    shutil.copy(journals / "remote-db1.journal", tmp_path)
    (tmp_path / "cut.journal").write_bytes((journals / "remote-web1.journal").read_bytes()[:5000])
    done = logview(f"journal:{tmp_path}", "--print", "-o", "jsonl")
    assert done.returncode == 0
    assert [r["source"] for r in rows(done.stdout)] == ["db1"] * 5
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith(f"logview: warning: journal:{tmp_path}: journalctl: ")
    assert "cut.journal" in line


def test_journalctl_killed_while_following_is_an_error(journals):
    proc = subprocess.Popen([sys.executable, "-m", "logview", f"journal:{journals}",
                             "--print", "--follow", "-o", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        _read_rows(proc, len(expected()))
        (child,) = _journalctl_children(proc.pid)
        os.kill(child, signal.SIGKILL)
        assert proc.wait(timeout=15) == 2
    finally:
        proc.kill()
        proc.wait()
    assert proc.stderr.read().decode().strip() == (
        f"logview: journal:{journals}: journalctl failed (killed by signal 9): no message")


def test_close_kills_and_reaps_journalctl(journals):
    source = JournalSource(f"journal:{journals}", follow=True)
    pid = source.process.pid
    assert source.process.poll() is None
    source.close()
    assert source.process.returncode is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_a_late_failure_is_a_notice_in_the_viewer(journals):
    source = JournalSource(f"journal:{journals}", follow=True,
                           options=JournalOptions(fatal_errors=False))
    try:
        source.process.kill()
        deadline = time.monotonic() + 10
        while not source.finished:
            assert time.monotonic() < deadline
            source.wait(0.1)
            source.update()
        assert source.notices == (
            f"journal:{journals}: journalctl failed (killed by signal 9): no message",)
    finally:
        source.close()


def test_fatal_late_failure_raises_from_update(journals):
    source = JournalSource(f"journal:{journals}", follow=True)
    try:
        source.process.kill()
        with pytest.raises(SourceError, match="journalctl failed"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                source.wait(0.1)
                source.update()
    finally:
        source.close()
