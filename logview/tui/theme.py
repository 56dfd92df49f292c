"""Level colours and badges derived from the active Textual theme.

Colours come from the theme (error, warning, success, ...) so dark and light themes both work;
the badge text alone says the level, so the view stays readable with ``NO_COLOR``.
"""

from __future__ import annotations

from rich.style import Style
from textual.theme import Theme

from logview.record import CRITICAL, DEBUG, ERROR, INFO, WARNING, printable

#: Width of the level badge column.
BADGE_WIDTH = 5

_BADGES = {"CRITICAL": "CRIT", "WARNING": "WARN", "NOTICE": "NOTE"}

#: Level keys (1..5) and the minimum level each sets.
LEVEL_KEYS: dict[str, str] = {
    "1": "DEBUG",
    "2": "INFO",
    "3": "WARNING",
    "4": "ERROR",
    "5": "CRITICAL",
}

#: The level buckets counted in the level bar, lowest first: (name, minimum levelno).
LEVEL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("DEBUG", 1),
    ("INFO", INFO),
    ("WARNING", WARNING),
    ("ERROR", ERROR),
    ("CRITICAL", CRITICAL),
)


def level_badge(level: str | None) -> str:
    """A fixed-width badge for a level name (``WARNING`` -> ``WARN ``, none -> ``  -  ``)."""
    if not level:
        return "  -  "
    text = _BADGES.get(level, printable(level))
    return text[:BADGE_WIDTH].ljust(BADGE_WIDTH)


def bucket_of(levelno: int) -> int:
    """Index into ``LEVEL_BUCKETS`` for a level number, or -1 for records without a level."""
    if levelno <= 0:
        return -1
    index = 0
    for i, (_, floor) in enumerate(LEVEL_BUCKETS):
        if levelno >= floor:
            index = i
    return index


def level_style(levelno: int, theme: Theme, *, plain: bool = False) -> Style:
    """The Rich style of a level badge under ``theme``.

    ``plain`` (``NO_COLOR``): no colours, which would turn into greys that hide DEBUG and
    make ERROR darker than INFO; text attributes rank the levels instead.
    """
    if plain:
        if levelno >= CRITICAL:
            return Style(reverse=True, bold=True)
        if levelno >= ERROR:
            return Style(bold=True, underline=True)
        if levelno >= WARNING:
            return Style(bold=True)
        return Style(italic=True) if 0 < levelno < INFO else Style()
    if levelno >= CRITICAL:
        return Style(color=theme.background or "black", bgcolor=theme.error, bold=True)
    if levelno >= ERROR:
        return Style(color=theme.error, bold=True)
    if levelno >= WARNING:
        return Style(color=theme.warning)
    if levelno >= INFO:
        return Style(color=theme.success)
    if levelno >= DEBUG or levelno > 0:
        return Style(color=theme.secondary or theme.primary, dim=True)
    return Style(dim=True)
