"""Shared by the tests that run a real server and read the log it wrote (Redis, Apache with
mod_wsgi, uWSGI): a free port, and the records a store reads from a finished file."""

from __future__ import annotations

import socket
from pathlib import Path

from logview.record import Record
from logview.sources.base import StaticFileSource
from logview.store import open_store


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def file_records(path: Path) -> list[Record]:
    """Every record of the file at ``path``, as the viewer's store reads them (its format
    detected, the whole file indexed)."""
    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    try:
        return [store.record(i) for i in range(len(store))]
    finally:
        store.close()
