"""Colours an application wrote into its log lines (ANSI SGR), read back safely as Rich styles.

The parsers keep a record's original text in ``Record.raw`` and give every parsed field with
its escape sequences removed (``logview.record.strip_ansi``). So the colours are read from
``raw``: ``decode`` splits it with the same pattern ``strip_ansi`` uses (its ``plain`` text is
``strip_ansi(raw)``, where the parsed message is found again), and only ``ESC [ ... m`` whose
parameters are all known (reset, bold, dim, italic, underline, reverse, their ends, 16 / 256 /
truecolor foreground and background) becomes a style. Every other sequence (cursor moves, OSC
titles and links, DCS, 8-bit C1 introducers, SGR with an unknown or huge parameter) is shown
as text made printable (``logview.record.printable``), so nothing reaches the terminal.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from rich.color import Color
from rich.style import Style
from rich.text import Text

from logview.record import ANSI_RE, printable

#: Longest text decoded (longer records are shown without colours: the cost stays bounded).
MAX_DECODE_CHARS = 200_000
#: Longest SGR sequence interpreted (longer ones are shown as text).
MAX_SGR_CHARS = 64
#: Longest piece of an uninterpreted sequence shown (the rest becomes "…").
MAX_SHOWN_SEQUENCE = 40

_SGR_RE = re.compile(r"\x1b\[([0-9;]*)m")
_ATTRIBUTES = {1: ("bold", True), 2: ("dim", True), 3: ("italic", True), 4: ("underline", True),
               7: ("reverse", True), 23: ("italic", False), 24: ("underline", False),
               27: ("reverse", False)}


def _extended_colour(numbers: list[int], index: int) -> tuple[Color, int] | None:
    """The colour of ``38;5;n`` / ``38;2;r;g;b`` whose ``5`` or ``2`` is at ``index``, and the
    index after it; None when malformed."""
    if index >= len(numbers):
        return None
    if numbers[index] == 5 and index + 1 < len(numbers) and numbers[index + 1] <= 255:
        return Color.from_ansi(numbers[index + 1]), index + 2
    if numbers[index] == 2 and index + 3 < len(numbers) and max(numbers[index + 1:index + 4]) <= 255:
        red, green, blue = numbers[index + 1:index + 4]
        return Color.from_rgb(red, green, blue), index + 4
    return None


def apply_sgr(params: str, state: dict[str, object]) -> dict[str, object] | None:
    """The style attributes after ``ESC [ params m`` from ``state``; None when a parameter is
    not one this reader knows (the sequence is then shown, not interpreted)."""
    if len(params) > MAX_SGR_CHARS:
        return None
    parts = params.split(";")
    if any(len(part) > 3 for part in parts):
        return None  # huge numbers: no known parameter has more than three digits
    numbers = [int(part) if part else 0 for part in parts]
    state = dict(state)
    index = 0
    while index < len(numbers):
        number = numbers[index]
        index += 1
        if number == 0:
            state = {}
        elif number in _ATTRIBUTES:
            name, value = _ATTRIBUTES[number]
            state[name] = value
        elif number == 22:
            state["bold"] = state["dim"] = False
        elif 30 <= number <= 37 or 90 <= number <= 97:
            state["color"] = Color.from_ansi(number - 30 if number < 90 else number - 82)
        elif 40 <= number <= 47 or 100 <= number <= 107:
            state["bgcolor"] = Color.from_ansi(number - 40 if number < 100 else number - 92)
        elif number in (39, 49):
            state.pop("color" if number == 39 else "bgcolor", None)
        elif number in (38, 48):
            colour = _extended_colour(numbers, index)
            if colour is None:
                return None
            state["color" if number == 38 else "bgcolor"], index = colour
        else:
            return None
    return state


@dataclass(slots=True)
class Decoded:
    """Text with its escape sequences taken out: ``plain`` (what ``strip_ansi`` gives), the
    style of each run of it, and the sequences not interpreted with where they were."""

    plain: str = ""
    #: (start in ``plain``, style) from that offset on, in order; the first starts at 0.
    runs: list[tuple[int, Style | None]] = field(default_factory=list)
    #: (offset in ``plain``, the sequence made printable), in order.
    shown: list[tuple[int, str]] = field(default_factory=list)

    @property
    def coloured(self) -> bool:
        """Whether any run has a style."""
        return any(style is not None for _, style in self.runs)


def decode(text: str) -> Decoded:
    """``text`` read as a terminal would colour it, every other sequence kept to be shown."""
    decoded = Decoded()
    pieces: list[str] = []
    length = 0
    state: dict[str, object] = {}
    decoded.runs.append((0, None))
    last = 0
    for match in ANSI_RE.finditer(text):
        if match.start() > last:
            pieces.append(text[last:match.start()])
            length += match.start() - last
        last = match.end()
        sequence = match.group()
        sgr = _SGR_RE.fullmatch(sequence)
        after = apply_sgr(sgr.group(1), state) if sgr is not None else None
        if after is None:
            shown = printable(sequence[:MAX_SHOWN_SEQUENCE])
            decoded.shown.append((length, shown + ("…" if len(sequence) > MAX_SHOWN_SEQUENCE
                                                     else "")))
            continue
        state = after
        style = Style(**state) if state else None  # type: ignore[arg-type]
        if decoded.runs[-1][0] == length:
            decoded.runs[-1] = (length, style)
        else:
            decoded.runs.append((length, style))
    pieces.append(text[last:])
    decoded.plain = "".join(pieces)
    return decoded


def styled(decoded: Decoded, start: int, end: int) -> Text:
    """``plain[start:end]`` with its colours and the sequences shown inside it, printable."""
    out = Text(no_wrap=True, end="")
    runs = decoded.runs
    cuts = sorted({start, end, *(offset for offset, _ in runs if start < offset < end),
                   *(offset for offset, _ in decoded.shown if start < offset < end)})
    shown = iter([item for item in decoded.shown if start <= item[0] < end])
    pending = next(shown, None)
    for a, b in zip(cuts, cuts[1:] + [end], strict=True):
        while pending is not None and pending[0] <= a:
            out.append(pending[1])
            pending = next(shown, None)
        if b > a:
            style = runs[bisect_right(runs, a, key=lambda run: run[0]) - 1][1]
            out.append(printable(decoded.plain[a:b]), style)
    return out


def colour_lines(raw: str, lines: list[str]) -> list[Text | None] | None:
    """Each of ``lines`` (found in turn in ``raw`` without its escape sequences, the first one
    as far right on the first line as it is, after the record's header) with the colours
    ``raw`` gives it; None for a line not found; None for all when ``raw`` has no
    escape sequence or is too long to decode."""
    if "\x1b" not in raw or len(raw) > MAX_DECODE_CHARS:
        return None
    decoded = decode(raw)
    if not decoded.coloured and not decoded.shown:
        return None
    out: list[Text | None] = []
    plain = decoded.plain
    at = 0
    for number, line in enumerate(lines):
        found = -1
        if number == 0 and line:  # the last place on the first line: after the header
            first_end = plain.find("\n")
            found = plain.rfind(line, 0, len(plain) if first_end < 0 else first_end)
        if found < 0 and line:
            found = plain.find(line, at)
        if found < 0:
            out.append(None)
            continue
        at = found + len(line)
        out.append(styled(decoded, found, at))
    return out

