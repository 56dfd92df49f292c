"""TimeHistogram: exact bucket counts, bounded incremental bins, BucketSelected by click/keys."""

from __future__ import annotations

import asyncio
import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from logview.tui.widgets.histogram import ERR, REST, WARN, TimeBins, TimeHistogram, format_duration


def sync(test):
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


T0 = 1_714_564_800.0  # 2024-05-01 12:00:00 UTC


def _exact_counts(times, levelnos, starts, ends):
    """Counts per bucket computed the slow, obvious way."""
    out = np.zeros((3, len(starts)), dtype=np.int64)
    for t, lv in zip(times, levelnos, strict=True):
        col = np.flatnonzero((starts <= t) & (t < ends))
        assert len(col) == 1, (t, starts[0], ends[-1])
        cls = ERR if lv >= 40 else WARN if lv >= 30 else REST
        out[cls, col[0]] += 1
    return out


def test_buckets_are_exact_for_their_ranges():
    rng = np.random.default_rng(7)
    times = T0 + np.sort(rng.uniform(0, 3600, 2000))
    levels = rng.choice([10, 20, 30, 40, 50], size=2000)
    bins = TimeBins()
    bins.add(times, levels)
    starts, ends, counts = bins.buckets(80)
    assert len(starts) == 80
    assert counts.sum() == 2000
    assert np.array_equal(counts, _exact_counts(times, levels, starts, ends))
    assert starts[0] <= times.min() and ends[-1] > times.max()
    assert np.all(ends[:-1] == starts[1:])  # contiguous


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
                min_size=1, max_size=6))
def test_incremental_adds_equal_one_set(batches):
    """Widening as batches arrive (earlier or later) gives the same bins as all at once."""
    incremental = TimeBins()
    for batch in batches:
        incremental.add(T0 + np.array(batch), np.full(len(batch), 40))
    everything = np.concatenate([T0 + np.array(b) for b in batches])
    whole = TimeBins()
    whole.add(everything, np.full(len(everything), 40))
    assert incremental.total == whole.total == len(everything)
    assert (incremental.shift, incremental.base) == (whole.shift, whole.base)
    assert np.array_equal(incremental.counts, whole.counts)


def test_bad_times_are_ignored_and_memory_is_bounded():
    bins = TimeBins()
    added = bins.add(np.array([np.nan, np.inf, 1e300, T0, T0 + 1e8]), np.array([20] * 5))
    assert added == 2
    assert bins.counts.shape == (3, TimeBins.FINE)
    _, _, counts = bins.buckets(50)
    assert counts.sum() == 2


class HistApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[tuple[float, float]] = []

    def compose(self) -> ComposeResult:
        yield TimeHistogram()

    def on_time_histogram_bucket_selected(self, event: TimeHistogram.BucketSelected) -> None:
        self.selected.append((event.start, event.end))


@sync
async def test_click_posts_bucket_and_render_shows_span():
    times = T0 + np.arange(0, 600, 0.5)  # ten minutes, two records a second
    levels = np.where(np.arange(len(times)) % 100 == 0, 40, 20)
    app = HistApp()
    async with app.run_test(size=(60, 5)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_data(times, levels)
        await pilot.pause()
        starts, ends, counts = hist.buckets()
        assert len(starts) == 60
        assert counts.sum() == len(times)
        await pilot.click(TimeHistogram, offset=(10, 0))
        await pilot.pause()
        assert app.selected == [(float(starts[10]), float(ends[10]))]
        first_at_or_after = times[times >= starts[10]][0]
        assert first_at_or_after < ends[10]
        rendered = str(hist.render())
        lines = rendered.split("\n")
        assert len(lines) == 3
        assert set(lines[0]) <= set(" ▁▂▃▄▅▆▇█") and "█" in lines[1]
        assert "·" not in lines[-1]  # cursor set by the click: the axis shows that bucket
        assert lines[-1].strip()


@sync
async def test_keys_move_and_select_and_colour_marks_errors():
    app = HistApp()
    times = np.array([T0, T0 + 10, T0 + 20, T0 + 30])
    async with app.run_test(size=(40, 3)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_data(times, np.array([20, 30, 40, 20]))
        hist.focus()
        await pilot.pause()
        starts, ends, counts = hist.buckets()
        await pilot.press("home", "right", "right", "enter")
        await pilot.press("end", "enter")
        await pilot.pause()
        assert app.selected == [(float(starts[2]), float(ends[2])),
                                (float(starts[-1]), float(ends[-1]))]
        err_col = int(np.flatnonzero(counts[ERR])[0])
        warn_col = int(np.flatnonzero(counts[WARN])[0])
        text = hist.render()
        error_colour = hist.get_component_rich_style("histogram--error").color
        warn_colour = hist.get_component_rich_style("histogram--warning").color
        bar_line = text.split("\n")[-2]
        assert bar_line.get_style_at_offset(app.console, err_col).color == error_colour
        assert bar_line.get_style_at_offset(app.console, warn_col).color == warn_colour


@sync
async def test_live_add_and_clear():
    app = HistApp()
    async with app.run_test(size=(40, 3)) as pilot:
        hist = app.query_one(TimeHistogram)
        assert "no timestamps" in str(hist.render())
        hist.add(np.array([T0]), np.array([20]))
        hist.add(np.array([T0 + 3600]), np.array([50]))
        await pilot.pause()
        _, _, counts = hist.buckets()
        assert counts.sum() == 2 and counts[ERR].sum() == 1
        hist.clear()
        await pilot.pause()
        assert len(hist.buckets()[0]) == 0



@sync
async def test_new_data_after_a_clear_is_drawn_not_the_old_buckets():
    """A restart (the log read again with a new format) clears the counts and adds as many
    times as before: the drawing cached for the old counts must not be reused (it was: the
    version went back to 0 on clear, and 24 old columns met 17 new ones in ``render``)."""
    app = HistApp()
    async with app.run_test(size=(24, 4)) as pilot:
        hist = app.query_one(TimeHistogram)
        hist.set_hits(np.array([T0]))
        hist.set_data(T0 + np.arange(0, 600, 1.0), np.full(600, 20))
        await pilot.pause()
        assert len(hist.buckets()[0]) == 24 and len(hist.hit_columns()) == 24
        hist.set_data(T0 + np.arange(17) * 1e-3, np.full(17, 40))
        starts, _, counts = hist.buckets()
        assert counts.sum() == 17 and counts[ERR].sum() == 17
        assert len(hist.hit_columns()) == len(starts)
        hist.render()  # raised ValueError: shapes (24,) (17,)


def test_a_cleared_bins_version_is_never_one_it_had():
    bins, seen = TimeBins(), set()
    for _ in range(3):
        seen.add(bins.version)
        bins.add(np.array([T0]), np.array([20]))
        seen.add(bins.version)
        bins.clear()
        assert bins.version not in seen
    assert TimeBins().version not in seen | {bins.version}

def test_format_duration():
    assert format_duration(0.25) == "250ms"
    assert format_duration(30) == "30s"
    assert format_duration(90) == "1.5m"
    assert format_duration(7200) == "2h"
