"""Shared fixtures: temporary log files and a helper to wait for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

#: Fixtures shared by the listener tests (``listening``).
pytest_plugins = ["listen_helpers"]


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


@pytest.fixture
def waiter():
    """The ``wait_for`` helper as a fixture."""
    return wait_for
