"""Screen layout of wrapped rows: which line of which row sits on each screen line.

In wrap mode a row (record) takes one or more screen lines, so the view cannot map screen
line ``y`` to row ``scroll_y + y``. Instead the scroll offset names the top row, and the
layout wraps rows from there downward until the screen is full: the work is bounded by
the screen height, never by the number of rows (stores hold millions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

#: Narrowest message column that continuation lines are indented to; below it they use 2.
MIN_ROOM = 20


@dataclass(slots=True)
class WrappedLine:
    """Screen line: line ``index`` of the ``lines`` lines that ``row`` wraps onto."""

    row: int
    index: int
    lines: int
    strip: Strip


def layout_rows(
    lines_of: Callable[[int], list[Strip]],
    count: int,
    height: int,
    top: int,
    skip: int = 0,
) -> list[WrappedLine]:
    """Lines for a screen of ``height`` lines starting at line ``skip`` of row ``top``.

    When the rows from ``top`` end before the screen is full, the screen is laid out
    bottom-up from the last row instead, so the end of the view never shows blank space
    below the newest record (that is also how following keeps it at the bottom).
    """
    if count <= 0 or height <= 0:
        return []
    top = max(0, min(top, count - 1))
    screen: list[WrappedLine] = []
    row = top
    first = max(0, skip)
    while len(screen) < height and row < count:
        lines = lines_of(row)
        total = len(lines)
        for index in range(min(first, total - 1), total):
            screen.append(WrappedLine(row, index, total, lines[index]))
            if len(screen) >= height:
                break
        first = 0
        row += 1
    if len(screen) < height and (top > 0 or skip > 0):
        return layout_bottom_up(lines_of, count - 1, height)
    return screen


def layout_bottom_up(lines_of: Callable[[int], list[Strip]], last: int, height: int) -> list[WrappedLine]:
    """Lines for a screen whose bottom line is the last line of row ``last``."""
    screen: list[WrappedLine] = []
    row = last
    while len(screen) < height and row >= 0:
        lines = lines_of(row)
        total = len(lines)
        block = [WrappedLine(row, index, total, strip) for index, strip in enumerate(lines)]
        screen[:0] = block
        row -= 1
    return screen[-height:] if height > 0 else []


def top_ending_at(heights: Callable[[int], int], row: int, height: int) -> tuple[int, int]:
    """``(top row, lines of it to skip)`` so that row ``row`` ends on the last screen line.

    A row taller than the screen starts at the top instead (its first lines matter most).
    """
    total = 0
    current = row
    while current >= 0:
        lines = heights(current)
        if current == row and lines >= height:
            return row, 0
        if total + lines >= height:
            return current, total + lines - height
        total += lines
        current -= 1
    return 0, 0


def wrap_text(text: Text, first_room: int, room: int, max_lines: int) -> list[Text]:
    """Cut ``text`` into pieces of at most ``first_room`` cells, then ``room`` cells each.

    Breaks after a space when one is in the second half of a piece (words stay whole),
    else mid-word; wide characters count two cells. Stops after ``max_lines`` pieces,
    so a megabyte-long line costs no more than what fits on the screen.
    """
    plain = text.plain
    first_room = max(1, first_room)
    room = max(1, room)
    ascii_only = plain.isascii()
    offsets: list[int] = []
    start = 0
    limit = first_room
    end = len(plain)
    while start < end and len(offsets) < max_lines:
        if ascii_only:
            stop = min(end, start + limit)
        else:
            stop, cells = start, 0
            while stop < end:
                width = cell_len(plain[stop])
                if cells + width > limit and stop > start:
                    break
                cells += width
                stop += 1
        if stop < end:
            space = plain.rfind(" ", start + limit // 2, stop)
            if space >= 0:
                stop = space + 1
        offsets.append(stop)
        start = stop
        limit = room
    if not offsets:
        return [text]
    pieces = list(text.divide(offsets[:-1] if offsets[-1] >= end else offsets))
    return pieces[:max_lines]


def wrap_record(
    prefix: Text,
    messages: list[Text],
    width: int,
    max_lines: int,
    hidden: int,
    marker: Style,
    *,
    cut: bool = False,
) -> list[Text]:
    """A record's screen lines: ``prefix`` (the columns) then its message lines, wrapped
    (``cut``: each message line takes one screen line, cut at the width).

    Continuation lines are indented to the message column (to 2 cells when that column
    would be narrower than ``MIN_ROOM``). Past ``max_lines``, or when ``hidden`` message
    lines were not even passed in, the last line says that there is more.
    """
    first_room = width - prefix.cell_len
    indent = prefix.cell_len if first_room >= MIN_ROOM else min(2, prefix.cell_len)
    room = width - indent
    texts: list[Text] = []
    for number, message in enumerate(messages):
        left = max_lines - len(texts)
        if left <= 0:
            hidden += len(messages) - number
            break
        pieces = wrap_text(message, first_room if number == 0 else room, room,
                           1 if cut else left)
        if not cut and sum(len(piece) for piece in pieces) < len(message):
            hidden = max(hidden, 1)
        for index, piece in enumerate(pieces):
            line = prefix.copy() if number == 0 and index == 0 else Text(" " * indent, end="")
            line.append_text(piece)
            texts.append(line)
    if hidden > 0 and texts:
        texts[-1] = Text(" " * indent + "… more: Enter shows the whole record", marker, end="")
    return texts
