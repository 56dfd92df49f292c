"""Shared fixtures: temporary log files and a helper to wait for a condition."""

from __future__ import annotations

import io
import signal
import sys
import time
from collections.abc import Callable

import pytest

#: Fixtures shared by the listener tests (``listening``).
pytest_plugins = ["listen_helpers"]

# A test run started in the background (``cmd &`` in a script, as CI runners may) inherits
# SIGINT ignored, and so would every logview the tests start: the Ctrl-C tests (exit 130)
# would wait for an end that never comes. Children get the default action back on exec.
signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_for(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def read_all(source) -> bytes:
    """Every byte a source's space holds now."""
    return source.read_at(0, source.size())


@pytest.fixture
def log_path(tmp_path):
    """A followed file's path, the file holding one line."""
    path = tmp_path / "app.log"
    path.write_bytes(b"first\n")
    return str(path)


@pytest.fixture(autouse=True)
def _session_state_home(tmp_path_factory, monkeypatch):
    """The viewer's session (``logview.session``) goes to a temporary XDG_STATE_HOME in every
    test, child processes included: never the real ~/.local/state, never one test's into
    another's (a temporary directory of its own: tests that list tmp_path see nothing new)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def waiter():
    """The ``wait_for`` helper as a fixture."""
    return wait_for


@pytest.fixture
def run_main():
    """``cli.main`` in this process: (status, stdout bytes, stderr text). The signal handlers
    it installs are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}

    from logview import cli

    def run(*argv: str) -> tuple[int, bytes, str]:
        out, err = io.BytesIO(), io.StringIO()
        stdout = io.TextIOWrapper(out, write_through=True)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdout", stdout)
            patch.setattr(sys, "stderr", err)
            status = cli.main(list(argv))
        stdout.flush()
        written = out.getvalue()
        stdout.detach()
        return status, written, err.getvalue()

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)
