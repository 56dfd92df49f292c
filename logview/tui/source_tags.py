"""Short tags and stable colours for record sources, for the source column of merged views.

Rows show a short tag instead of a record's source (``logview.source_names``: a path's
basename, a listener client's process); tags that would be equal get told apart here, by the
forms ``source:`` also accepts.
Colours are given in the order sources are first seen, so they never change while the view
is open; they are mid-tone, readable on dark and light themes, and with ``NO_COLOR`` the tag
text alone still says where a row came from.
"""

from __future__ import annotations

from logview.source_names import client_port, one_line, parent_tag, source_tag

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
            port = client_port(source)
            tags[source] = one_line(f"{tag}:{port}") if port is not None else parent_tag(source)
    counts: dict[str, int] = {}
    for tag in tags.values():
        counts[tag] = counts.get(tag, 0) + 1
    return {s: (t if counts[t] == 1 else one_line(s)) for s, t in tags.items()}


def source_color(index: int) -> str:
    """The colour of the ``index``-th source seen (cycles through ``SOURCE_COLORS``)."""
    return SOURCE_COLORS[index % len(SOURCE_COLORS)]


def fit_tag(tag: str, width: int) -> str:
    """``tag`` cut (keeping its end, where names differ most) and padded to ``width`` cells."""
    if len(tag) > width:
        tag = "…" + tag[-(width - 1):] if width > 1 else tag[:width]
    return tag.ljust(width)
