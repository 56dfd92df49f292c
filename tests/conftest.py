"""Shared fixtures: temporary log files and a helper to wait for a condition."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest

#: Fixtures shared by the listener tests (``listening``).
pytest_plugins = ["listen_helpers"]

# A test run started in the background (``cmd &`` in a script, as CI runners may) inherits
# SIGINT ignored, and so would every logview the tests start: the Ctrl-C tests (exit 130)
# would wait for an end that never comes. Children get the default action back on exec.
signal.signal(signal.SIGINT, signal.default_int_handler)


# -- tests that measure time run alone ---------------------------------------------------------
# The suite runs on every core (pytest-xdist, `-n auto` in pyproject.toml). A test marked
# `serial` asserts a time (a microsecond budget, key latencies, frames a second): another
# worker's test taking the other core would fail it now and then, so it runs with no other test
# running. A reader/writer lock between the workers, two flock(2) files in a directory of
# this run: every test takes the turnstile, then the main lock shared, and lets the turnstile
# go; a serial test takes the turnstile, then the main lock exclusively, and holds both while it
# runs. A serial test waits for the tests running to end, and no new one starts meanwhile (the
# turnstile: a stream of shared takers cannot starve it). A worker that dies drops its locks.

#: The environment variable naming the lock directory, set by the controlling process.
LOCK_DIR = "LOGVIEW_TEST_LOCK_DIR"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker and a half a core. The suite waits about half its time (Textual's
    pilot waits for the app to go idle, timers, the logviews and writers it starts): the TUI
    tests on 2 cores took 165 s with 2 workers (0.9 cores busy) and 142 s with 3.
    PYTEST_XDIST_AUTO_NUM_WORKERS, when set, is the count as it is."""
    from xdist.plugin import pytest_xdist_auto_num_workers as cores

    count = cores(config)
    return count if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") else count + count // 2


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        return
    if getattr(config.option, "numprocesses", None):
        # (the workers are started after this, with this environment)
        os.environ[LOCK_DIR] = tempfile.mkdtemp(prefix="logview-tests-")
    if sys.dont_write_bytecode:
        # PYTHONDONTWRITEBYTECODE set (as in many containers and CI images): every logview
        # the tests start (hundreds) would compile the package from source again, 0.5 s of
        # each 0.9 s `--print` start. Compiled once here, they read it (a fresh clone has none).
        import compileall

        import logview

        compileall.compile_dir(os.path.dirname(logview.__file__), quiet=1)


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is None and LOCK_DIR in os.environ:
        shutil.rmtree(os.environ.pop(LOCK_DIR), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Serial tests first: they run before the workers have run hundreds of other tests (a
    worker's leftovers, such as the threads and processes earlier tests started, are its
    own and no lock holds them still)."""
    items.sort(key=lambda item: item.get_closest_marker("serial") is None)


_locks: list[int] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Setup, call and teardown of one test under the run's lock (workers only: with `-n0`
    or a single test there is no one to wait for)."""
    directory = os.environ.get(LOCK_DIR)
    if directory is None or os.environ.get("PYTEST_XDIST_WORKER") is None:
        return (yield)
    if not _locks:
        _locks.extend(os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT, 0o600)
                      for name in ("turnstile", "main"))
    turnstile, main = _locks
    alone = item.get_closest_marker("serial") is not None
    fcntl.flock(turnstile, fcntl.LOCK_EX)
    try:
        fcntl.flock(main, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
    except BaseException:  # (a timeout's signal while waiting)
        fcntl.flock(turnstile, fcntl.LOCK_UN)
        raise
    if not alone:
        fcntl.flock(turnstile, fcntl.LOCK_UN)
    try:
        return (yield)
    finally:
        fcntl.flock(main, fcntl.LOCK_UN)
        if alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)


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
