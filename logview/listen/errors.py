"""The listener layer's exceptions: input a client sent that cannot be taken in (``ListenError``),
and a listener that cannot start (``SessionError``)."""

from __future__ import annotations

from logview.sources.base import SourceError


class ListenError(ValueError):
    """Bad input on a connection or in a datagram.

    ``reason`` is a short category counted in ``ListenerStats.rejected`` (e.g. ``"frame too
    large"``); the message says what was wrong in words a user can act on.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class SessionError(SourceError):
    """The listener could not start (a bad address, a port in use, an unwritable --save): a
    source that cannot be opened, reported like one."""
