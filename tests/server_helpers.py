"""Shared by the tests that run a real server and read the log it wrote (Redis, Apache with
mod_wsgi, uWSGI, nginx): a free port, a directory the server's workers may read, a GET's
status, and the records a store reads from a finished file."""

from __future__ import annotations

import http.client
import socket
import tempfile
import time
import urllib.error
import urllib.request
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


def http_status(port: int, path: str, timeout: float = 15.0) -> int | None:
    """The status a GET of ``path`` on 127.0.0.1:``port`` is answered with; None when the
    server closes the connection without an answer (uWSGI's http-socket on an app's
    uncaught exception). A server not listening yet is asked again until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
                return reply.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except http.client.RemoteDisconnected:
            return None
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def server_dir(prefix: str) -> Path:
    """A fresh directory others may read: a server started by root serves and runs its
    workers as another user (Apache's children, nginx's workers)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root
