"""``--redact`` end to end: every print path (the whole-file copy, the direct scan, the indexed
path, -o jsonl, stdin, --listen --print) masks, the query reads redacted text unless asked,
and config.toml's ``[redact]`` table."""

from __future__ import annotations

import logging.handlers
import os
import signal
import subprocess
import sys

import orjson
import pytest
from listen_helpers import make_logger
from test_listen_cli import ListeningLogview

LINES = (
    "2024-01-02 03:04:05,000 - app - INFO - login bob@example.com from 10.1.2.3\n"
    "2024-01-02 03:04:06,000 - app - INFO - nothing to hide \xe9\n"
    "2024-01-02 03:04:07,000 - app.pay - ERROR - card 4111 1111 1111 1111 refused, "
    "token=abc123\n"
    "Traceback (most recent call last):\n"
    "ValueError: user alice@example.org\n"
)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """The user's own config.toml never takes part (tests write their own)."""
    home = tmp_path / "xdg"
    (home / "logview").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "logview"


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(LINES.encode() + b"bad byte \xff then 10.0.0.7\n")
    return path


def test_whole_file_copy_is_redacted_line_by_line(run_main, log):
    status, out, err = run_main(str(log), "--print", "--redact")
    assert status == 0, err
    assert out == (
        b"2024-01-02 03:04:05,000 - app - INFO - login [email] from [ipv4]\n"
        + "2024-01-02 03:04:06,000 - app - INFO - nothing to hide \xe9\n".encode()
        + b"2024-01-02 03:04:07,000 - app.pay - ERROR - card [card] refused, token=[secret]\n"
        b"Traceback (most recent call last):\nValueError: user [email]\n"
        b"bad byte \xff then [ipv4]\n")  # bytes that are not UTF-8 pass through as they are


def test_without_redact_the_bytes_are_copied(run_main, log):
    assert run_main(str(log), "--print")[1] == log.read_bytes()


def test_direct_scan_and_indexed_path_are_redacted(run_main, log):
    status, out, _ = run_main(str(log), "--print", "--redact", "-q", "refused")
    assert status == 0
    assert b"card [card] refused, token=[secret]\n" in out and b"[email]" in out
    assert b"4111" not in out and b"alice" not in out
    status, out, _ = run_main(str(log), "--print", "--redact", "-q", "level>=ERROR")
    assert b"card [card] refused" in out and b"alice" not in out


def test_jsonl_output_is_redacted(run_main, log):
    status, out, _ = run_main(str(log), "--print", "--redact", "-o", "jsonl")
    assert status == 0
    records = [orjson.loads(line) for line in out.splitlines()]
    assert records[0]["message"] == "login [email] from [ipv4]"
    assert "ValueError: user [email]\nbad byte \ufffd then [ipv4]" in records[2]["exc"]
    assert b"example" not in out and b"4111" not in out


def test_json_input_fields_are_redacted(run_main, tmp_path):
    path = tmp_path / "app.jsonl"
    path.write_text(
        '{"time": "2024-01-02T03:04:05", "level": "info", "message": "hi a@b.io", '
        '"password": "hunter2", "peer": {"ip": "192.168.0.9", "card": 4111111111111111}}\n')
    status, out, _ = run_main(str(path), "--print", "--redact", "-o", "jsonl")
    (record,) = [orjson.loads(line) for line in out.splitlines()]
    assert record["message"] == "hi [email]"
    assert record["fields"]["password"] == "[secret]"
    assert record["fields"]["peer"] == {"ip": "[ipv4]", "card": "[card]"}
    status, out, _ = run_main(str(path), "--print", "--redact")
    assert status == 0
    assert b"hunter2" not in out and b"192.168" not in out and b"password=[secret]" in out


def test_chosen_rules_only(run_main, log):
    status, out, _ = run_main(str(log), "--print", "--redact=email", "-o", "jsonl")
    assert status == 0
    first = orjson.loads(out.splitlines()[0])
    assert first["message"] == "login [email] from 10.1.2.3"


def test_query_reads_the_redacted_text_unless_asked(run_main, log):
    assert run_main(str(log), "--print", "--redact", "-q", "bob@example.com")[0] == 1
    status, out, _ = run_main(str(log), "--print", "--redact", "-q", '"[email] from"')
    assert status == 0 and out.startswith(b"2024-01-02 03:04:05,000")
    status, out, _ = run_main(str(log), "--print", "--redact", "--redact-search-original",
                              "-q", "bob@example.com")
    assert status == 0
    assert out == b"2024-01-02 03:04:05,000 - app - INFO - login [email] from [ipv4]\n"


def test_redact_followed_by_a_file_takes_it_as_a_source(run_main, log):
    status, out, err = run_main("--redact", str(log), "--print")
    assert status == 0, err
    assert b"[email]" in out


def test_unknown_rule_is_an_error(run_main, log):
    status, _, err = run_main(str(log), "--print", "--redact=mail")
    assert status == 2 and "unknown redaction rule 'mail'" in err


def test_config_enables_redaction_with_custom_rules(run_main, tmp_path, no_user_config):
    (no_user_config / "config.toml").write_text(
        "[redact]\nenabled = true\nrules = { customer_id = 'cust-[0-9]{6}' }\n")
    path = tmp_path / "c.log"
    path.write_text("order for cust-123456 by a@b.io\n")
    assert run_main(str(path), "--print")[1] == b"order for [customer_id] by [email]\n"
    assert run_main(str(path), "--print", "--no-redact")[1] == path.read_bytes()
    status, out, _ = run_main("--redact-rules")
    assert status == 0 and b"customer_id" in out and b"[card]" in out


def test_bad_config_rule_is_named(run_main, tmp_path, no_user_config):
    (no_user_config / "config.toml").write_text("[redact]\nrules = { customer_id = 'cust-(' }\n")
    path = tmp_path / "c.log"
    path.write_text("x\n")
    status, out, err = run_main(str(path), "--print")
    assert status == 2 and out == b""
    assert "rule 'customer_id': bad regex 'cust-('" in err and "config.toml" in err


def test_stdin_is_redacted(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "logview", "--print", "--redact"],
                            input=LINES.encode(), capture_output=True, timeout=30, env=env,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert b"bob@" not in result.stdout and b"login [email] from [ipv4]" in result.stdout


def test_listen_print_is_redacted(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    lv = ListeningLogview("--listen", "127.0.0.1:0", "--print", "-o", "jsonl", "--redact",
                          env=env)
    try:
        handler = logging.handlers.SocketHandler("127.0.0.1", lv.port)
        make_logger("app.redact", handler).warning("hello %s", "bob@example.com",
                                                   extra={"client_ip": "10.2.3.4"})
        handler.close()
        (record,) = lv.wait_records(1, logger="app.redact")
        assert record["message"] == "hello [email]"
        assert record["fields"]["client_ip"] == "[ipv4]"
        assert lv.stop(signal.SIGTERM) == 0
    finally:
        lv.kill()


def test_unreadable_config_stops_only_a_run_that_asked_for_redact(run_main, log, no_user_config):
    (no_user_config / "config.toml").mkdir()  # reading it fails (IsADirectoryError)
    status, out, err = run_main(str(log), "--print")
    assert status == 0 and out == log.read_bytes()
    assert "config.toml: cannot read it" in err and "not applied" in err
    status, out, err = run_main(str(log), "--print", "--redact")
    assert status == 2 and out == b"" and "config.toml: cannot read it" in err


def test_journal_gets_no_pushed_down_query_when_the_query_reads_redacted_text(tmp_path, run_main):
    """journalctl filters original text: a pushed `-bob` would drop records whose redacted
    text has no 'bob'. With --redact-search-original the query reads what journalctl reads."""
    from journal_helpers import make_journals, needs_journal

    if needs_journal.args[0]:
        pytest.skip(needs_journal.kwargs["reason"])
    journals = make_journals(tmp_path / "remote")
    query = "level>=WARNING _HOSTNAME=web1"

    def runs(*extra: str) -> str:
        status, out, err = run_main(f"journal:{journals}", "--explain", "-q", query, *extra)
        assert status == 0, err
        return next(line for line in out.decode().splitlines()
                    if line.strip().startswith("--print:"))

    assert "--priority=0..4" in runs() and "_HOSTNAME=web1" in runs()
    assert "--priority" not in runs("--redact") and "_HOSTNAME" not in runs("--redact")
    assert "--priority=0..4" in runs("--redact", "--redact-search-original")


def test_print_follow_redacts_appended_records(tmp_path):
    from process_helpers import read_until

    path = tmp_path / "live.log"
    path.write_text("2024-01-02 03:04:05,000 - app - INFO - first from 10.0.0.1\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "logview", str(path), "--print", "--follow",
                             "--redact"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out = read_until(proc, b"first from [ipv4]\n")
        with path.open("a") as f:
            f.write("2024-01-02 03:04:06,000 - app - INFO - second by bob@example.com\n")
        out += read_until(proc, b"second by [email]\n")  # redacted, or a time-out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert b"first from [ipv4]\n" in out and b"second by [email]" in out
    assert b"10.0.0.1" not in out and b"bob@" not in out


def test_explain_shows_the_first_message_redacted(run_main, log):
    status, out, err = run_main(str(log), "--explain", "--redact")
    assert status == 0, err
    assert b"message='login [email] from [ipv4]'" in out and b"bob@" not in out
    assert b"bob@example.com" in run_main(str(log), "--explain")[1]
