"""The network listener: Python's logging handlers (and syslog, JSON, HTTP, text) to records."""

from __future__ import annotations

from logview.listen.address import ListenAddress, describe_bound, parse_listen_address
from logview.listen.errors import ListenError
from logview.listen.received_writer import ReceivedRecordsError, ReceivedRecordsWriter
from logview.listen.server import LogListener
from logview.listen.stats import ListenerStats

__all__ = [
    "ListenAddress",
    "ListenError",
    "ListenerStats",
    "LogListener",
    "ReceivedRecordsError",
    "ReceivedRecordsWriter",
    "describe_bound",
    "parse_listen_address",
]
