"""The main screen at small and large sizes, without colour, and opened with --no-follow."""

from __future__ import annotations

from rich.style import Style

from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.screens.help import keys_text
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.record_list import RecordList
from tui.conftest import DashFormat, screen_text, until, write_log


async def _opened(pilot, app: LogviewApp, count: int) -> RecordList:
    records = app.screen.query_one(RecordList)
    await until(pilot, lambda: records.length == count)
    await pilot.pause()
    await until(pilot, lambda: records.scroll_y == records.max_scroll_y and records.rows_ready)
    return records


async def test_80x24_fits_rows_the_histogram_and_the_help_key(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _opened(pilot, app, 60)
        histogram = app.screen.query_one(TimeHistogram)
        assert histogram.size.height == 2  # one bar row and the axis on short terminals
        assert records.size.height >= 15
        lines = screen_text(app).splitlines()
        assert len(lines) == 24
        assert "? Help" in lines[-1] and "q Quit" in lines[-1]
        assert "60 records" in lines[-2]
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.query_one(LoggerTree).outer_size.width == 24
        assert records.size.width >= 50


async def test_160x45_has_full_histogram_and_wide_rows(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(160, 45)) as pilot:
        records = await _opened(pilot, app, 60)
        assert app.screen.query_one(TimeHistogram).size.height == 3
        text = screen_text(app)
        assert "2024-05-01 12:01:28.500 WARN" in text  # the date shows on wide terminals
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.query_one(LoggerTree).outer_size.width == 32
        assert records.size.width > 120


async def test_h_hides_and_shows_the_histogram_and_help_lists_it(make_store):
    app = LogviewApp(make_store(20))
    async with app.run_test(size=(80, 24)) as pilot:
        records = await _opened(pilot, app, 20)
        height = records.size.height
        await pilot.press("h")
        await pilot.pause()
        assert not app.screen.query_one(TimeHistogram).display
        assert records.size.height == height + 2
        await pilot.press("h")
        await pilot.pause()
        assert records.size.height == height
    assert "show / hide the time histogram" in keys_text().plain


async def test_no_color_badges_rank_levels_by_text_attributes(make_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = LogviewApp(make_store(8))
    async with app.run_test(size=(100, 24)) as pilot:
        records = await _opened(pilot, app, 8)
        assert app.no_color

        def badge_style(position: int):
            text = records._row_text(records.store.record(position), False)
            badge = [span.style for span in text.spans if span.start == 13]
            return Style.combine(badge) if badge else Style()  # no span: a plain badge

        error, critical, info = badge_style(5), badge_style(7), badge_style(0)
        assert error.bold and error.underline and error.color is None
        assert critical.reverse and critical.color is None
        assert not info.bold and not info.underline and info.color is None
        text = screen_text(app)
        for word in ("ERROR", "CRIT", "WARN", "INFO", "DEBUG"):
            assert word in text


async def test_no_follow_opens_at_the_end_and_says_at_end(tmp_path):
    path = write_log(tmp_path / "static.log", 300)
    # (a short name: the status line cuts what does not fit, and the temporary path is
    # longer under pytest-xdist, /tmp/pytest-of-USER/pytest-N/popen-gwN/...)
    source = FileSource(str(path), follow=False, name="static.log")
    app = LogviewApp(LogStore(source, DashFormat()))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _opened(pilot, app, 300)
        await until(pilot, lambda: "at end" in screen_text(app))
        assert records.cursor_row == 299 and records.following
        assert "event 299 " in screen_text(app)
        assert "following" not in screen_text(app)
        assert "rec/s" not in screen_text(app)


def test_badges_read_on_every_builtin_theme():
    """Each level's badge keeps a WCAG contrast >= 3 on light and dark themes; ANSI themes
    (colour names like ``ansi_cyan``, which Rich cannot parse) do not crash."""
    from textual.color import Color
    from textual.theme import BUILTIN_THEMES

    from logview.record import CRITICAL, DEBUG, ERROR, INFO, WARNING
    from logview.tui.theme import MIN_CONTRAST, contrast, level_style

    for name, theme in BUILTIN_THEMES.items():
        background = Color.parse(theme.surface or theme.background or "#000000")
        for levelno in (DEBUG, INFO, WARNING, ERROR, CRITICAL):
            style = level_style(levelno, theme)
            colour = style.color
            if levelno < CRITICAL and colour is not None and colour.triplet is not None:
                ratio = contrast(Color.from_rich_color(colour), background)
                assert ratio >= MIN_CONTRAST - 0.05, (name, levelno, ratio)


async def test_switching_to_an_ansi_theme_keeps_rendering_rows(make_store):
    app = LogviewApp(make_store(16))
    async with app.run_test(size=(100, 24)) as pilot:
        records = await _opened(pilot, app, 16)
        for theme in ("ansi-dark", "textual-light", "ansi-light"):
            app.theme = theme
            await until(pilot, lambda: records.rows_ready)
            assert "event 15 " in screen_text(app)
            assert "ERROR" in screen_text(app)


async def test_the_record_scrollbar_is_one_column_on_a_visible_track(make_store):
    """A thumb shorter than a row on an invisible track read as stray '▆▆' text."""
    app = LogviewApp(make_store(5000))
    async with app.run_test(size=(80, 24)) as pilot:
        records = app.screen.query_one(RecordList)
        await until(pilot, lambda: records.row_count == 5000)
        styles = records.styles
        assert styles.scrollbar_size_vertical == 1
        assert styles.scrollbar_background != styles.background
