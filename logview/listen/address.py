"""``--listen`` addresses: ``9020``, ``HOST:9020``, ``[::1]:9020``, ``unix:/path``, ``unixgram:/path``.

A bare port binds TCP and UDP on 127.0.0.1 only; any other host must be asked for explicitly,
and a non-loopback one earns a warning, because anyone who can reach it can inject records.
``unix:/path`` is a stream socket (what ``SysLogHandler(address=path)`` falls back to and what
``SocketHandler(path, None)`` uses); ``unixgram:/path`` is a datagram socket (``DatagramHandler``
and ``SysLogHandler`` try datagrams first).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"


@dataclass(slots=True, frozen=True)
class ListenAddress:
    """Where to listen. ``kind`` is ``"tcp+udp"``, ``"unix"`` (stream) or ``"unixgram"``."""

    kind: str
    host: str = DEFAULT_HOST
    port: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.kind in ("unix", "unixgram"):
            return f"{self.kind}:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can reach the address (unix sockets always are)."""
        if self.kind != "tcp+udp":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _parse_port(text: str, whole: str) -> int:
    if not text.isdigit():
        raise ValueError(f"--listen {whole!r}: the port must be a number 0-65535, got {text!r}")
    port = int(text)
    if port > 65535:
        raise ValueError(f"--listen {whole!r}: port {port} is out of range (0-65535)")
    return port


def parse_listen_address(text: str) -> ListenAddress:
    """Parse a ``--listen`` value; ``ValueError`` says what form is expected."""
    value = text.strip()
    if not value:
        raise ValueError("--listen needs [HOST:]PORT or unix:/path, got an empty value")
    for kind in ("unixgram", "unix"):
        if value.startswith(kind + ":"):
            path = value[len(kind) + 1 :]
            if not path:
                raise ValueError(f"--listen {text!r}: give a socket path after '{kind}:'")
            return ListenAddress(kind=kind, host="", port=None, path=path)
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"--listen {text!r}: write IPv6 addresses as [ADDRESS]:PORT")
        port = _parse_port(rest[1:], text)
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        port = _parse_port(port_text, text)
        host = host or DEFAULT_HOST
    elif ":" in value:
        raise ValueError(f"--listen {text!r}: write IPv6 addresses as [ADDRESS]:PORT")
    else:
        host = DEFAULT_HOST
        port = _parse_port(value, text)
    if not host:
        raise ValueError(f"--listen {text!r}: empty host")
    return ListenAddress(kind="tcp+udp", host=host, port=port, path=None)


def describe_bound(bound: list[tuple[str, ...]]) -> str:
    """What a listener bound, for people: ``tcp 127.0.0.1:9020, udp 127.0.0.1:9020``."""
    parts = []
    for entry in bound:
        kind, *where = entry
        if kind in ("tcp", "udp"):
            host, port = str(where[0]), where[1]
            parts.append(f"{kind} [{host}]:{port}" if ":" in host else f"{kind} {host}:{port}")
        else:
            parts.append(f"{kind} {where[0]}")
    return ", ".join(parts)
