"""DetailScreen: shows the whole record, closes, copies, and never lets log text escape."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from datetime import datetime

import pytest
from logging_helpers import log_chained_exception
from pygments.lexers import PythonTracebackLexer
from rich.console import Console
from textual.app import App
from textual.widgets import Static

from logview.record import Record, split_exception
from logview.tui.highlight import highlight_json, highlight_traceback
from logview.tui.widgets.detail import DetailScreen, RecordDetail, fields_json


def sync(test):
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def _chained_traceback() -> str:
    """A real chained traceback, formatted by the logging module."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("test.detail.chained")
    log.propagate = False
    log.addHandler(handler)
    log_chained_exception(log, RuntimeError, "lookup failed", "request failed")
    log.removeHandler(handler)
    return stream.getvalue().rstrip("\n")


def _record_from(text: str, **kw) -> Record:
    message, exc = split_exception(text)
    return Record(message=message, exc=exc, raw=text, **kw)


def _static_text(widget: Static) -> str:
    return str(widget.render())


class DetailApp(App):
    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record

    def on_mount(self) -> None:
        self.push_screen(DetailScreen(self.record))


@pytest.fixture
def traceback_record() -> Record:
    text = _chained_traceback()
    return _record_from(
        text, time=datetime(2024, 5, 1, 12, 3, 4, 567000), level="ERROR", levelno=40,
        logger="app.db", fields={"user": "alice", "retry": 3, "tags": ["a", "b"]},
        source="app.log", line=42,
    )


@sync
async def test_detail_shows_header_traceback_fields_and_raw(traceback_record):
    app = DetailApp(traceback_record)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        header = _static_text(screen.query_one(".detail--header", Static))
        assert "2024-05-01 12:03:04.567" in header
        assert "ERROR" in header and "app.db" in header and "app.log:42" in header
        exc = _static_text(screen.query_one("#detail-exc", Static))
        assert "KeyError: 'missing'" in exc
        assert "The above exception was the direct cause" in exc
        assert "RuntimeError: lookup failed" in exc
        fields = _static_text(screen.query_one("#detail-fields", Static))
        assert '"user": "alice"' in fields and '"retry": 3' in fields
        raw = _static_text(screen.query_one("#detail-raw", Static))
        assert raw == traceback_record.raw


@sync
async def test_escape_and_q_close(traceback_record):
    app = DetailApp(traceback_record)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        app.push_screen(DetailScreen(traceback_record))
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)


@sync
async def test_c_copies_raw_text(traceback_record):
    app = DetailApp(traceback_record)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == traceback_record.raw


HOSTILE = "evil \x1b]52;c;ZXZpbA==\x07 wipe \x1b[2J\x1b[H title \x1b]0;pwned\x07 bell \x07 \x9b31m"


@sync
async def test_hostile_record_never_reaches_output_as_escape_codes():
    record = Record(
        message=HOSTILE, exc="Traceback (most recent call last):\n" + HOSTILE,
        level="ERROR\x1b[5m", levelno=40, logger="x\x1b[31m", source="s\x1b]8;;x\x07",
        fields={"k\x1b[2J": HOSTILE}, raw=HOSTILE + "\n" + HOSTILE,
    )
    app = DetailApp(record)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        for widget in screen.query(Static):
            text = _static_text(widget)
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, text
        # What the terminal would actually receive: rendered segments of the whole screen.
        console = Console(file=io.StringIO(), width=100, color_system=None, force_terminal=False)
        for widget in screen.query(Static):
            console.print(widget.render())
        shown = console.file.getvalue()
        assert "\x1b" not in shown and "\x07" not in shown
        assert "␛]52;c;ZXZpbA==" in shown  # visible, not interpreted
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == record.raw  # copied as is, through OSC 52's base64


@sync
async def test_markup_in_log_text_is_not_interpreted():
    record = Record(message="[bold red]not markup[/] [link=http://x]y[/link]", raw="r")
    app = DetailApp(record)
    async with app.run_test() as pilot:
        await pilot.pause()
        text = _static_text(app.screen.query_one("#detail-message", Static))
        assert text == record.message


def test_highlight_keeps_text_exactly_and_colours_it():
    text = _chained_traceback()
    _, exc = split_exception(text)
    assert exc is not None
    for dark in (True, False):
        coloured = highlight_traceback(exc, dark=dark)
        assert coloured.plain == exc
        assert any(span.style for span in coloured.spans)
    assert PythonTracebackLexer  # the lexer the spec asks for is what we use


def test_exception_group_text_survives_highlighting():
    import traceback

    try:
        raise ExceptionGroup("many", [ValueError("one"), TypeError("two")])
    except ExceptionGroup:
        exc = traceback.format_exc().rstrip("\n")
    coloured = highlight_traceback(exc)
    assert coloured.plain == exc
    assert "  | ValueError: one" in coloured.plain


def test_fields_json_never_raises_on_odd_values():
    odd = {"big": 1 << 70, "obj": object(), 3: "int key", "nested": {"a": [1, 2]}}
    text = fields_json(odd)
    assert "big" in text and "int key" in text
    assert highlight_json(text).plain == text


@sync
async def test_record_detail_embeds_alone():
    record = Record(message="line one\nline two", raw="line one\nline two")

    class Embed(App):
        def compose(self):
            yield RecordDetail(record)

    app = Embed()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "line two" in _static_text(app.query_one("#detail-message", Static))
        assert not app.query("#detail-exc")
