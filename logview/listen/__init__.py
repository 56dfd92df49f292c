"""The network listener: Python's logging handlers (and syslog, JSON, HTTP, text) to records."""

from __future__ import annotations

from logview.listen.address import ListenAddress, describe_bound, parse_listen_address
from logview.listen.errors import ListenError
from logview.listen.server import ListenerStats, LogListener
from logview.listen.spool_writer import SpoolError, SpoolWriter

__all__ = [
    "ListenAddress",
    "ListenError",
    "ListenerStats",
    "LogListener",
    "SpoolError",
    "SpoolWriter",
    "describe_bound",
    "parse_listen_address",
]
