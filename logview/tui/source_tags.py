"""Short tags and stable colours for record sources, for the source column of merged views.

A record's ``source`` is a path (``/var/log/app/web.log``), a listener client
(``tcp:127.0.0.1:53422 (app)``) or a stream name (``<stdin>``). Rows show a short tag instead:
the basename of a path, the client's name; tags that would be equal get told apart.
Colours are given in the order sources are first seen, so they never change while the view
is open; they are mid-tone, readable on dark and light themes, and with ``NO_COLOR`` the tag
text alone still says where a row came from.
"""

from __future__ import annotations

import re

from logview.record import printable

#: Tag colours, in the order sources are first seen; mid-tone for dark and light themes.
SOURCE_COLORS: tuple[str, ...] = (
    "#c25fd0",  # magenta
    "#d27a2c",  # orange
    "#1f9f9f",  # teal
    "#d4487a",  # rose
    "#2e9e57",  # green
    "#7a6fe0",  # indigo
    "#8c8c2a",  # olive
    "#3a8fd9",  # blue (last: loggers are often drawn in the theme's blue)
)

_CLIENT = re.compile(r"^(?P<kind>[a-z]+):(?P<peer>.*?)(?: \((?P<name>.*)\))?$", re.DOTALL)
_CLIENT_KINDS = frozenset({"tcp", "udp", "unix", "unixgram", "http"})


def _one_line(text: str) -> str:
    return printable(text).replace("\n", " ").replace("\t", " ")


def source_tag(source: str) -> str:
    """A short name for ``source``: a path's basename, a client's name, or the text itself."""
    if not source:
        return "-"
    match = _CLIENT.match(source)
    if match is not None and match["kind"] in _CLIENT_KINDS:
        return _one_line(match["name"] or match["peer"] or source)
    base = source.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return _one_line(base or source)


def _client_port(source: str) -> str | None:
    match = _CLIENT.match(source)
    if match is None or match["kind"] not in _CLIENT_KINDS:
        return None
    peer = match["peer"]
    return peer.rsplit(":", 1)[-1] if ":" in peer else peer.rsplit("#", 1)[-1] or None


def source_tags(sources: list[str]) -> dict[str, str]:
    """Tags for ``sources``, made distinct where two short tags collide.

    Clients with the same name get their port (``app:53422``); files with the same basename
    get their parent directory (``web/app.log``); anything still equal keeps its full text.
    """
    tags = {source: source_tag(source) for source in sources}
    by_tag: dict[str, list[str]] = {}
    for source, tag in tags.items():
        by_tag.setdefault(tag, []).append(source)
    for tag, same in by_tag.items():
        if len(same) < 2:
            continue
        for source in same:
            port = _client_port(source)
            if port is not None:
                tags[source] = _one_line(f"{tag}:{port}")
                continue
            parts = source.rstrip("/\\").replace("\\", "/").rsplit("/", 2)
            tags[source] = _one_line("/".join(parts[-2:]) if len(parts) > 1 else source)
    counts: dict[str, int] = {}
    for tag in tags.values():
        counts[tag] = counts.get(tag, 0) + 1
    return {s: (t if counts[t] == 1 else _one_line(s)) for s, t in tags.items()}


def source_color(index: int) -> str:
    """The colour of the ``index``-th source seen (cycles through ``SOURCE_COLORS``)."""
    return SOURCE_COLORS[index % len(SOURCE_COLORS)]


def fit_tag(tag: str, width: int) -> str:
    """``tag`` cut (keeping its end, where names differ most) and padded to ``width`` cells."""
    if len(tag) > width:
        tag = "…" + tag[-(width - 1):] if width > 1 else tag[:width]
    return tag.ljust(width)
