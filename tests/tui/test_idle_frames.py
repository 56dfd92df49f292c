"""The viewer draws nothing while nothing changes, and a few frames a second for a trickle.

Issue 11: 3.5% CPU on an idle file, 22% for 20 records/s. Each frame sent to the terminal
costs milliseconds of Python, so what is pinned here is how many frames are drawn: none for
an idle followed file, a handful a second for a live stream (new records still show within a
fraction of a second). ``bench/cpu.py`` measures the CPU itself, in a real terminal.
Frames are counted where Textual hands a screen update to the terminal (``App._display``).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from logview.sources.file import FileSource
from logview.store import LogStore
from logview.tui.app import LogviewApp
from logview.tui.screens.store_workers import GROW_INTERVAL
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.record_list import RecordList
from logview.tui.widgets.status_bar import StatusBar
from tui.conftest import DashFormat, log_line, screen_text, until, write_log


def count_frames(app: LogviewApp) -> list[float]:
    """Times of the screen updates drawn from now on (appended as they happen)."""
    frames: list[float] = []
    display = app._display

    def counted(screen, renderable) -> None:
        if renderable is not None:
            frames.append(time.monotonic())
        display(screen, renderable)

    app._display = counted  # type: ignore[method-assign]
    return frames


async def settled(pilot, app: LogviewApp, count: int) -> RecordList:
    records = app.screen.query_one(RecordList)
    await until(pilot, lambda: records.length == count)
    bar = app.screen.query_one(LevelBar)
    # Every record counted and drawn (the last line of a file comes with the quiet flush, and
    # its count with the next live count pass, a second later).
    await until(pilot, lambda: not bar.counting and sum(bar.counts) + bar.unknown == count)
    await until(pilot, lambda: records.rows_ready)
    # The first growth's rate tick and its level counts (held for a growth's frame, drawn by a
    # timer at 2 growth intervals when none comes) are behind us.
    await asyncio.sleep(max(1.2, 2 * GROW_INTERVAL + 0.5))
    return records


async def test_an_idle_followed_file_draws_no_frame(tmp_path):
    path = write_log(tmp_path / "idle.log", 300)
    store = LogStore(FileSource(str(path), follow=True, name="idle.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app, 300)
        frames = count_frames(app)
        await asyncio.sleep(2.5)  # the rate tick (1 s), the workers' waits (0.2 s, 0.5 s)
        assert frames == []


@pytest.mark.serial  # (frames a second, latencies)
async def test_a_trickle_draws_a_few_frames_a_second_and_records_show_at_once(memory_store):
    source, store = memory_store(50)
    app = LogviewApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        records = await settled(pilot, app, 50)
        frames = count_frames(app)
        started = time.monotonic()
        latencies = []
        for i in range(50, 110):  # 20 records/s for 3 s
            source.append(log_line(i).encode())
            if i % 10 == 9:  # how soon the record just sent is on screen (the list shows it)
                sent = time.monotonic()
                await until(pilot, lambda n=i + 1: records.length >= n, timeout=5)
                latencies.append(time.monotonic() - sent)
            await asyncio.sleep(max(0.0, started + (i - 49) / 20 - time.monotonic()))
        elapsed = time.monotonic() - started
        await until(pilot, lambda: records.length == 110)
        # Before: about 14 frames a second (a layout frame and a scrollbar frame per growth,
        # the level counts and histogram in frames of their own). Now at most 2.5 growths a
        # second, the counts drawn with one of them: 6 a second leaves room for timing.
        assert len(frames) <= 6 * elapsed, (len(frames), elapsed)
        # A record shows within a growth interval (0.4 s) plus a frame; a loaded machine
        # gets slack, but not the seconds of a batching that waited for more.
        assert max(latencies) < 0.8, latencies
        status = StatusBar.render_state(app.screen.query_one(StatusBar).state).plain
        assert "110 records" in status and "following" in status


async def test_the_scrollbar_drawn_from_its_cache_is_the_one_a_fresh_view_draws(memory_store):
    """``ListScrollBar`` reuses its lines while its thumb does not move: after a stream of
    growths the list looks exactly as a list opened on the same records."""
    source, store = memory_store(2000)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = await settled(pilot, app, 2000)
        for start in range(2000, 2600, 150):  # four growths, the thumb moved by each
            source.append("".join(log_line(i) for i in range(start, start + 150)).encode())
            await until(pilot, lambda n=start + 150: records.length >= n)
            await pilot.pause()
        await until(pilot, lambda: records.rows_ready and records.scroll_y == records.max_scroll_y)
        await pilot.pause()
        grown = screen_text(app).splitlines()
        grown_bar = [list(line)[-1] for line in app.screen._compositor.render_strips()]

    _, fresh_store = memory_store(2600)
    fresh = LogviewApp(fresh_store)
    async with fresh.run_test(size=(100, 30)) as pilot:
        await settled(pilot, fresh, 2600)
        await until(pilot, lambda: fresh.screen.query_one(RecordList).scroll_y
                    == fresh.screen.query_one(RecordList).max_scroll_y)
        await pilot.pause()
        fresh_lines = screen_text(fresh).splitlines()
        fresh_bar = [list(line)[-1] for line in fresh.screen._compositor.render_strips()]
    # Rows 5 on are the list (its last column the scrollbar), down to the status line.
    assert grown[5:-2] == fresh_lines[5:-2]
    assert grown_bar[5:-2] == fresh_bar[5:-2]


def _both_ways(records: RecordList, crop) -> tuple[list, list]:
    """The list's lines drawn by its own cache of drawn lines, and by Textual's styles cache."""
    fast = records.render_lines(crop)
    plain = records._plain_lines
    records._plain_lines = lambda crop: None  # type: ignore[method-assign]
    try:
        records._styles_cache.clear()
        slow = records.render_lines(crop)
    finally:
        records._plain_lines = plain  # type: ignore[method-assign]
    return ([(list(line), line.cell_length) for line in fast],
            [(list(line), line.cell_length) for line in slow])


async def test_lines_drawn_from_the_list_cache_are_those_textual_draws(make_store):
    """``RecordList._plain_lines`` stands in for Textual's styles cache: same segments, same
    styles and offsets, in every state the list can be in."""
    from textual.geometry import Region

    app = LogviewApp(make_store(60))
    async with app.run_test(size=(70, 24)) as pilot:
        records = await settled(pilot, app, 60)
        whole = Region(0, 0, records.region.width, records.size.height)
        states = {
            "following": lambda: None,
            "cursor moved up": lambda: records.go_to_row(50, follow=False),
            "scrolled sideways": lambda: records.scroll_to(x=12, animate=False, immediate=True),
            "filtered, matches marked": lambda: app.screen.query_one("QueryBar").submit("took"),
            "unfocused": lambda: app.screen.query_one("#query-input").focus(),
            "light theme": lambda: setattr(app, "theme", "textual-light"),
            "wrapped": lambda: records.action_toggle_wrap(),
        }
        for name, change in states.items():
            change()
            await pilot.pause()
            await until(pilot, lambda: records.rows_ready)
            assert records._plain_lines(whole) is not None  # the list's own way is taken
            for crop in (whole, Region(3, 2, 20, 6)):
                fast, slow = _both_ways(records, crop)
                assert fast == slow, name


async def test_blank_lines_below_a_short_list_are_those_textual_draws(memory_store):
    from textual.geometry import Region

    _, store = memory_store(3)
    app = LogviewApp(store)
    async with app.run_test(size=(70, 24)) as pilot:
        records = await settled(pilot, app, 3)
        fast, slow = _both_ways(records, Region(0, 0, records.region.width, records.size.height))
        assert fast == slow


async def test_scrollbar_lines_are_those_textual_draws(memory_store):
    """``ListScrollBar`` draws again only the cells its thumb moved through: its lines are
    those Textual's scrollbar draws whole, at every step of a thumb that moves."""
    from textual.geometry import Region
    from textual.scrollbar import ScrollBar

    from logview.tui.widgets.list_scrollbar import ListScrollBar

    _, store = memory_store(300)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = await settled(pilot, app, 300)
        bar = records.vertical_scrollbar
        assert isinstance(bar, ListScrollBar)
        crop = Region(0, 0, bar.size.width, bar.size.height)
        bar.render_lines(crop)
        for position in (270, 269.5, 250, 120, 119, 0, 7, 277, 277):
            bar.position = position  # no frame in between: the bar draws from the last lines
            mine = bar.render_lines(crop)
            bar._styles_cache.clear()
            theirs = ScrollBar.render_lines(bar, crop)
            assert [list(line) for line in mine] == [list(line) for line in theirs], position


@pytest.mark.serial  # (frames a second)
async def test_a_big_input_being_indexed_draws_a_frame_a_busy_interval(tmp_path, monkeypatch):
    """While a big backlog is indexed and counted, the rows and the level counts are drawn
    together, once a ``BUSY_FRAME`` (after the first second, here from the start): each frame
    costs the interpreter the index's and the counter's threads wait for. Before, the rows came
    every 0.4 s and the counts in frames of their own every 0.25 s."""
    from logview.index import RecordIndex
    from logview.tui import pacing
    from logview.tui.screens import store_workers

    # A slow index: a 16 KB chunk a step, a step every 50 ms; every byte not indexed a backlog.
    monkeypatch.setitem(RecordIndex.__init__.__kwdefaults__, "chunk_bytes", 1 << 14)
    monkeypatch.setattr(store_workers, "_INDEX_SLICE", 0.0)
    monkeypatch.setattr(pacing, "_INDEX_BACKLOG", 0)
    monkeypatch.setattr(pacing, "QUICK_SECONDS", 0.0)
    path = write_log(tmp_path / "big.log", 9000)  # ~50 steps: 2-3 s to index
    store = LogStore(FileSource(str(path), follow=False, name="big.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        frames = count_frames(app)
        started = time.monotonic()
        records = app.screen.query_one(RecordList)
        bar = app.screen.query_one(LevelBar)
        await until(pilot, lambda: records.length >= 1000, timeout=10)
        await asyncio.sleep(0.3)  # (the first rows' frames: the list, its scrollbar)
        first = time.monotonic()
        await until(pilot, lambda: store.index.complete, timeout=30)
        indexed = time.monotonic()
        loading = [t for t in frames if first <= t < indexed]
        assert indexed - first > 1.0, "the index was too quick to show its pace"
        # A growth a busy interval, drawn with the counts (its frame, and the one of the rows
        # and the status line it moved): not the 0.4 s growths and the 0.25 s counts of a
        # trickle (10-13 frames here before).
        assert len(loading) <= 2 * (indexed - first) / pacing.BUSY_FRAME + 2, (
            len(loading), indexed - first, [round(t - started, 2) for t in frames])
        # The counts still come while the index runs (drawn with the rows), and are whole at
        # its end.
        await until(pilot, lambda: not bar.counting and sum(bar.counts) + bar.unknown == 9000,
                    timeout=30)


def test_a_long_job_reports_at_its_own_pace_for_a_second_then_once_a_busy_frame():
    from logview.tui.pacing import BUSY_FRAME, QUICK_SECONDS, report_interval

    assert report_interval(0.1, since=10.0, now=10.0 + QUICK_SECONDS / 2) == 0.1
    assert report_interval(0.1, since=10.0, now=10.0 + QUICK_SECONDS) == BUSY_FRAME
    assert report_interval(2.0, since=10.0, now=100.0) == 2.0  # (a slower pace stays)


@pytest.mark.serial  # (a latency)
async def test_a_followed_files_last_record_is_counted_soon_after_it_shows(tmp_path):
    """A followed file's last record is taken when the file has been quiet a moment (the
    quiet flush) and no growth comes after it: its count, held for a growth's frame, was
    drawn by a timer 1.5 s later, 2 s after the status line showed it."""
    path = write_log(tmp_path / "eight.log", 8)
    store = LogStore(FileSource(str(path), follow=True, name="eight.log"), DashFormat())
    app = LogviewApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        records = app.screen.query_one(RecordList)
        bar = app.screen.query_one(LevelBar)
        await until(pilot, lambda: records.length == 8)
        shown = time.monotonic()
        await until(pilot, lambda: sum(bar.counts) + bar.unknown == 8, timeout=5)
        # The live count pass (at most a second after the last) and a growth interval.
        assert time.monotonic() - shown < 1.7
