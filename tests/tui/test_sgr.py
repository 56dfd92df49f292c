"""Colours written by the application (ANSI SGR) shown in the list and the detail view (``a``
strips them); every other escape sequence is shown as text, never sent to the terminal."""

from __future__ import annotations

import re

import pytest
from rich.color import Color
from rich.text import Text

from logview.record import strip_ansi
from logview.tui.app import LogviewApp
from logview.tui.sgr import MAX_DECODE_CHARS, apply_sgr, colour_lines, decode, styled
from logview.tui.widgets.detail import DetailScreen
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar
from tui.conftest import log_line, screen_text, until

#: Nothing that a terminal would read as a control: C0 but tab/newline, DEL, C1.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _all(text: str) -> Text:
    decoded = decode(text)
    return styled(decoded, 0, len(decoded.plain))


def _style_of(text: Text, word: str):
    start = text.plain.index(word)
    styles = [span.style for span in text.spans if span.start <= start < span.end]
    return styles[-1] if styles else None


def test_known_sgr_become_styles_and_reset_ends_them():
    text = _all("a \x1b[31mred\x1b[0m b \x1b[1;38;5;208mora\x1b[22;39m c \x1b[48;2;1;2;3mbg\x1b[m d")
    assert text.plain == "a red b ora c bg d"
    assert _style_of(text, "red").color == Color.from_ansi(1)
    assert _style_of(text, "ora").color == Color.from_ansi(208) and _style_of(text, "ora").bold
    assert _style_of(text, "bg").bgcolor == Color.from_rgb(1, 2, 3)
    assert _style_of(text, " d") is None and _style_of(text, " b ") is None
    bright = _all("\x1b[2;3;4;7;97;104mx")
    style = _style_of(bright, "x")
    assert (style.dim, style.italic, style.underline, style.reverse) == (True, True, True, True)
    assert style.color == Color.from_ansi(15) and style.bgcolor == Color.from_ansi(12)


@pytest.mark.parametrize("params", [
    "5", "38;5;256", "38;2;1;2", "38;2;300;0;0", "99999999999999999999", "38;7", "1;" * 40,
    "38:2::1:2:3", "9",
])
def test_unknown_malformed_or_huge_parameters_are_not_interpreted(params):
    assert apply_sgr(params, {}) is None
    text = _all(f"x\x1b[{params}my")
    assert not text.spans
    assert text.plain.startswith("x␛[") and text.plain.endswith("y")


@pytest.mark.parametrize("hostile", [
    "\x1b[31", "\x1b]0;title\x07t", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\x1b]0;no end",
    "\x1bP1$r\x1b\\d", "\x9b31mc1", "\x9d0;t\x9c", "\x1b[2J\x1b[Hcls", "\x1b", "a\x1b",
    "\x1b[?1049h", "\x00\x07\x7f\x85", "\x1b[" + "1;" * 10_000 + "m",
])
def test_hostile_input_never_yields_a_control_character(hostile):
    text = _all(f"<{hostile}>")
    assert not CONTROLS.search(text.plain)
    assert decode(hostile).plain == strip_ansi(hostile)  # the parsed message is found in it
    assert len(text.plain) < 200 + len(hostile)


def test_c1_csi_is_shown_not_interpreted():
    text = _all("\x9b31mx")
    assert not text.spans and text.plain == "\\x9b31mx"


def test_colour_lines_finds_each_line_in_the_raw_text():
    raw = "12:00 INFO app: \x1b[32mgreen\x1b[0m done\n  \x1b[1mbold\x1b[0m next"
    first, second, missing = colour_lines(raw, ["green done", "  bold next", "absent"])
    assert first.plain == "green done" and _style_of(first, "green").color == Color.from_ansi(2)
    assert _style_of(second, "bold").bold and missing is None
    assert colour_lines("no escapes", ["no escapes"]) is None
    header_too = "\x1b[31mINFO\x1b[0m app: INFO"  # the message is the last "INFO"
    assert not colour_lines(header_too, ["INFO"])[0].spans
    assert colour_lines("\x1b[31m" + "x" * MAX_DECODE_CHARS, ["x"]) is None


def _lines(app: LogviewApp) -> list[str]:
    region = app.screen.query_one(RecordList).content_region
    lines = screen_text(app).split("\n")[region.y : region.y + region.height]
    return [line[region.x : region.x + region.width] for line in lines]


def _cell_style(records: RecordList, row: int, word: str):
    strip = records._line(row - round(records.scroll_y))[1]
    offset = strip.text.index(word)
    for segment in strip:
        if offset < len(segment.text):
            return segment.style
        offset -= len(segment.text)
    raise IndexError(word)


async def test_list_and_detail_show_application_colours_and_a_strips_them(make_store):
    text = (log_line(0, "INFO", "plain start")
            + log_line(1, "INFO", "\x1b[31mfailed\x1b[0m request \x1b]0;pwned\x07 end")
            + log_line(2, "INFO", "after"))
    app = LogviewApp(make_store(text=text))
    async with app.run_test(size=(100, 20)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 3 and records.rows_ready)
        await pilot.press("g")
        await until(pilot, lambda: records.rows_ready)
        assert "failed request ␛]0;pwned␇ end" in _lines(app)[1]
        assert _cell_style(records, 1, "failed").color == Color.from_ansi(1)
        assert _cell_style(records, 1, "request").color != Color.from_ansi(1)
        assert "\x1b" not in screen_text(app)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        message = app.screen.query_one("#detail-message").content
        assert "failed request" in message.plain
        assert _style_of(message, "failed").color == Color.from_ansi(1)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen))
        await pilot.press("a")
        await until(pilot, lambda: "colours off" in str(app.screen.query_one(StatusBar).render()))
        await until(pilot, lambda: records.rows_ready)
        assert "failed request  end" in _lines(app)[1]  # stripped, as parsed
        style = _cell_style(records, 1, "failed")
        assert style.color == _cell_style(records, 1, "request").color
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        message = app.screen.query_one("#detail-message").content
        assert not message.spans
