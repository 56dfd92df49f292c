"""The record list's vertical scrollbar, drawn again only when it looks different."""

from __future__ import annotations

from typing import Any

from rich.color import Color
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

_NO_COLOR = Color.default()


class ListScrollBar(ScrollBar):
    """The record list's vertical scrollbar: drawn again only when it looks different.

    A followed list scrolls with each batch of records, and Textual draws its scrollbar again
    every time (38 lines of it, as much work as the rows). Over thousands of rows the thumb
    moves by less than the eighth of a cell it can show: the lines drawn last are reused.
    """

    def __init__(self, vertical: bool = True, name: str | None = None, *,
                 thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        #: (crop, look, lines) of the last drawing.
        self._drawn: tuple[Region, tuple[Any, ...], list[Strip]] | None = None

    def look(self) -> tuple[Any, ...] | None:
        """What the bar shows (its cells, styled) at this size; None if that is not known."""
        bar = self.render()
        if not isinstance(bar, ScrollBarRender) or not isinstance(bar.style, Style):
            return None
        width, height = self.size
        size, thickness = (height, width) if bar.vertical else (width, height)
        # The cells as ``ScrollBarRender`` makes them (the colours are in ``bar.style``).
        cells = bar.render_bar(
            size=size, virtual_size=bar.virtual_size, window_size=bar.window_size,
            position=bar.position, thickness=thickness, vertical=bar.vertical,
            back_color=bar.style.bgcolor or _NO_COLOR, bar_color=bar.style.color or _NO_COLOR,
        )
        return (self.size, bar.style, tuple(cells.segments))

    def render_lines(self, crop: Region) -> list[Strip]:
        look = self.look()
        drawn, self._drawn = self._drawn, None
        if look is None:
            return super().render_lines(crop)
        if drawn is None or drawn[0] != crop or drawn[1][:2] != look[:2] or not self.vertical:
            lines = super().render_lines(crop)
        elif drawn[1] == look:
            lines = drawn[2]
        else:  # the thumb moved: only the lines (one cell each) that look different
            before, now = drawn[1][2], look[2]
            lines = list(drawn[2])
            for index, y in enumerate(crop.line_range):
                if before[y] != now[y]:
                    lines[index] = super().render_lines(Region(crop.x, y, crop.width, 1))[0]
        self._drawn = (crop, look, lines)
        return lines
