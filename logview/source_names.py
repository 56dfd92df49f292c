"""What a record's source is called on screen, for the source column and for ``source:``.

A record's ``source`` is a path (``/var/log/app/web.log``), a listener client
(``tcp:127.0.0.1:53422 (pid 4242)``: the client, then the process that wrote the record) or a
stream name (``<stdin>``). The viewer shows a short tag instead: a path's basename, a client's
process name (or its address); tags that would be equal are told apart by the parent
directory or the client's port. Whatever form the column shows can be typed into
``source:`` (``shown_forms``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from logview.record import printable

_CLIENT = re.compile(r"^(?P<kind>[a-z]+):(?P<peer>.*?)(?: \((?P<name>.*)\))?$", re.DOTALL)
_CLIENT_KINDS = frozenset({"tcp", "udp", "unix", "unixgram", "http"})


def one_line(text: str) -> str:
    """``text`` safe for one row of a terminal (escapes shown, line breaks and tabs as spaces)."""
    return printable(text).replace("\n", " ").replace("\t", " ")


def source_tag(source: str) -> str:
    """A short name for ``source``: a path's basename, a client's name, or the text itself."""
    if not source:
        return "-"
    match = _CLIENT.match(source)
    if match is not None and match["kind"] in _CLIENT_KINDS:
        return one_line(match["name"] or match["peer"] or source)
    base = source.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return one_line(base or source)


def client_port(source: str) -> str | None:
    """A listener client's port (or a unix socket connection's number); None for the rest."""
    match = _CLIENT.match(source)
    if match is None or match["kind"] not in _CLIENT_KINDS:
        return None
    peer = match["peer"]
    return peer.rsplit(":", 1)[-1] if ":" in peer else peer.rsplit("#", 1)[-1] or None


def parent_tag(source: str) -> str:
    """A path's last two parts (``web/app.log``), to tell equal basenames apart."""
    parts = source.rstrip("/\\").replace("\\", "/").rsplit("/", 2)
    return one_line("/".join(parts[-2:]) if len(parts) > 1 else source)


@lru_cache(maxsize=4096)
def shown_forms(source: str) -> tuple[str, ...]:
    """Every text the source column may show for ``source`` (its tag, the tag with the
    client's port or the path's parent, the whole text), as ``source:`` compares them."""
    forms = [source, source_tag(source)]
    port = client_port(source)
    forms.append(f"{forms[1]}:{port}" if port is not None else parent_tag(source))
    return tuple(dict.fromkeys(forms))
