"""Counts of records per level, with the minimum level that is applied marked."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from logview.record import LEVEL_BUCKETS
from logview.tui.theme import level_badge, level_style


def _click(key: str) -> Style:
    """Clicking this part of the bar does what pressing ``key`` does."""
    return Style.from_meta({"@click": f"screen.min_level('{key}')"})


class LevelBar(Static):
    """``1 DEBUG 12  2 INFO 3,456  3 WARN 23 …``: the level keys and what each level holds.

    Each level is clickable (sets it as the minimum, like its key); so is ``0 all``.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.counts = [0] * len(LEVEL_BUCKETS)
        self.unknown = 0
        self.counting = True
        self.min_level: str | None = None
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _theme: self.redraw(), init=False)
        self.redraw()

    def set_counts(self, counts: list[int], unknown: int, counting: bool) -> None:
        """New counts; ``counting`` says they still lag behind the store."""
        self.counts = list(counts)
        self.unknown = unknown
        self.counting = counting
        self.redraw()

    def set_min_level(self, level: str | None) -> None:
        """Mark the minimum level the query applies (None: all levels)."""
        self.min_level = level
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        theme = self.app.current_theme
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, ((name, levelno), count) in enumerate(zip(LEVEL_BUCKETS, self.counts), 1):
            selected = name == self.min_level
            click = _click(str(key))
            text.append(f"{key}", Style.parse("bold reverse" if selected else "dim") + click)
            text.append(" ", click)
            badge = level_style(max(levelno, 10), theme, plain=self.app.no_color)
            text.append(level_badge(name).strip(), badge + click)
            text.append(f" {count:,}", click)
            text.append("  ")
        if self.unknown:
            text.append(f"other {self.unknown:,}  ", "dim")
        text.append("0 all" if self.min_level else "", Style.parse("dim") + _click("0"))
        if self.counting:
            text.append("  counting…", "dim italic")
        if self._shown is not None and text == self._shown:
            return  # live input sends the same counts again and again: draw nothing
        self._shown = text
        self.update(text, layout=False)  # one line (CSS: height 1): no layout pass
