"""Shared helpers for the listener tests: a running listener on free ports and a record sink."""

from __future__ import annotations

import threading

import pytest
from logging_helpers import make_logger  # noqa: F401 (the listener tests import it from here)

from logview.listen import LogListener, parse_listen_address
from logview.record import Record


class Collected:
    """A thread-safe sink that keeps every record it is given."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def __call__(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def where(self, **match: object) -> list[Record]:
        with self._lock:
            return [r for r in self.records
                    if all(getattr(r, k) == v for k, v in match.items())]

    def messages(self, **match: object) -> list[str]:
        return [r.message for r in self.where(**match)]


def start_listener(*specs: str, **kwargs: object) -> tuple[LogListener, Collected]:
    sink = Collected()
    listener = LogListener([parse_listen_address(s) for s in specs or ("127.0.0.1:0",)],
                           sink, **kwargs)  # type: ignore[arg-type]
    listener.start()
    return listener, sink


def port_of(listener: LogListener) -> int:
    return next(int(b[2]) for b in listener.bound if b[0] == "tcp")


@pytest.fixture
def listening():
    """A running listener on free 127.0.0.1 ports and what it collected; stopped afterwards."""
    listener, sink = start_listener()
    yield listener, sink
    listener.stop()
