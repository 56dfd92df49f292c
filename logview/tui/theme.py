"""Level colours and badges derived from the active Textual theme.

Colours come from the theme (error, warning, success, ...) so dark and light themes both work;
the badge text alone says the level, so the view stays readable with ``NO_COLOR``.
"""

from __future__ import annotations

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from logview.record import (
    CRITICAL,
    DEBUG,
    ERROR,
    INFO,
    WARNING,
    printable,
)

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

def level_badge(level: str | None) -> str:
    """A fixed-width badge for a level name (``WARNING`` -> ``WARN ``, none -> ``  -  ``)."""
    if not level:
        return "  -  "
    text = _BADGES.get(level, printable(level))
    return text[:BADGE_WIDTH].ljust(BADGE_WIDTH)


#: Least contrast (WCAG ratio) a badge colour keeps against the theme's background.
MIN_CONTRAST = 3.0


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        value_ = value / 255
        return value_ / 12.92 if value_ <= 0.03928 else ((value_ + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _readable(color: str | None, theme: Theme) -> RichColor | None:
    """``color`` darkened (light themes) or lightened (dark ones) until it reads on the
    theme's background; ANSI colours as they are (the terminal picks them); None when the
    theme gives no colour that parses."""
    if color is None:
        return None
    try:
        parsed = Color.parse(color)
        background = Color.parse(theme.surface or theme.background or (
            "#1e1e1e" if theme.dark else "#ffffff"))
    except ColorParseError:
        return None
    if parsed.ansi is None and background.ansi is None:
        for _ in range(8):
            if contrast(parsed, background) >= MIN_CONTRAST:
                break
            parsed = parsed.lighten(0.06) if theme.dark else parsed.darken(0.06)
    return parsed.rich_color


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
        error = _readable(theme.error, theme)
        if error is None:
            return Style(reverse=True, bold=True)
        if error.triplet is None:  # an ANSI colour: its contrast is the terminal's business
            return Style(color=_readable(theme.background, theme), bgcolor=error, bold=True)
        text = Color.from_rich_color(error).get_contrast_text(1.0).rich_color
        return Style(color=text, bgcolor=error, bold=True)
    if levelno >= ERROR:
        return Style(color=_readable(theme.error, theme), bold=True)
    if levelno >= WARNING:
        return Style(color=_readable(theme.warning, theme))
    if levelno >= INFO:
        return Style(color=_readable(theme.success, theme))
    if levelno >= DEBUG or levelno > 0:
        return Style(color=_readable(theme.secondary or theme.primary, theme), dim=True)
    return Style(dim=True)
