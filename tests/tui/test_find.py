"""Find (``/``) is not filter (``&``): a find keeps every record shown, counts its hits on the
status line, moves the cursor with n/N (wrapping), highlights its hits and marks them in the
histogram; ``&`` filters as the bar always did."""

from __future__ import annotations

import time

import numpy as np

from logview.query import parse_query
from logview.tui.app import LogviewApp
from logview.tui.find import FindHits
from logview.tui.screens.find_scan import FindScanning
from logview.tui.widgets import record_search
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import log_line, record_list, screen_text, type_text, until
from tui.test_startup_keys import burst

#: In the sample log, "u2" is in the records i % 7 == 2 (record 59 is the last of 60).
U2_HITS = [2, 9, 16, 23, 30, 37, 44, 51, 58]


def _bar(app: LogviewApp) -> QueryBar:
    return app.screen.query_one(QueryBar)


async def _find(pilot, app: LogviewApp, text: str, count: int | None = None) -> RecordList:
    """Open the bar with /, type ``text``, Enter; wait for the count of hits to be complete."""
    records = record_list(app)
    await pilot.press("slash", "ctrl+u", *text, "enter")
    screen = app.screen
    await until(pilot, lambda: screen.find_hits is not None and screen.find_hits.complete)
    if count is not None:
        assert screen.find_hits.count == count
    return records


async def _loaded(pilot, app: LogviewApp, count: int) -> RecordList:
    records = record_list(app)
    await until(pilot, lambda: records.length == count)
    return records


async def test_find_keeps_every_record_shown_and_counts_hits(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await pilot.press("slash")
        assert _bar(app).mode == "find" and app.focused is _bar(app).input
        assert "find /" in screen_text(app)
        await _find(pilot, app, "u2", count=len(U2_HITS))
        assert records.positions is None and records.row_count == 60  # nothing hidden
        # The cursor was on the last record: no hit at or after it, so the find wrapped.
        await until(pilot, lambda: records.cursor_position == U2_HITS[0])
        assert not records.following
        await until(pilot, lambda: f"hit 1 of {len(U2_HITS)}" in screen_text(app))
        assert "60 records" in screen_text(app)
        assert app.focused is records
        await pilot.press("down")  # off the hits: the count of them
        await until(pilot, lambda: f"{len(U2_HITS)} hits" in screen_text(app))


async def test_n_and_N_go_through_the_hits_in_order_and_wrap(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await _find(pilot, app, "u2", count=len(U2_HITS))
        await until(pilot, lambda: records.cursor_position == U2_HITS[0])
        seen = []
        for _ in range(len(U2_HITS)):
            await pilot.press("n")
            seen.append(records.cursor_position)
        assert seen == U2_HITS[1:] + U2_HITS[:1]  # the last n wrapped to the first hit
        await pilot.press("N")
        assert records.cursor_position == U2_HITS[-1]  # N wrapped back to the last hit
        await until(pilot, lambda: f"hit {len(U2_HITS)} of {len(U2_HITS)}" in screen_text(app))
        await pilot.press("N", "N")
        assert records.cursor_position == U2_HITS[-3]


async def test_quick_repeated_n_presses_all_count(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await _find(pilot, app, "u2")
        await until(pilot, lambda: records.cursor_position == U2_HITS[0])
        burst(app, "nnnnn")  # as one read from the terminal
        await until(pilot, lambda: records.cursor_position == U2_HITS[5])


async def test_quick_n_presses_all_count_while_the_hits_are_not_counted(make_store, monkeypatch):
    """Before the count is known each n searches in a worker: presses that come meanwhile
    are queued and replayed, not dropped."""
    monkeypatch.setattr(FindScanning, "_count_hits", lambda self, token, hits: None)

    def slow(find):  # a search over a slow disk: keys come while it runs
        def run(*args, **kwargs):
            time.sleep(0.05)
            return find(*args, **kwargs)
        return run

    monkeypatch.setattr(record_search, "find_next", slow(record_search.find_next))
    monkeypatch.setattr(record_search, "find_previous", slow(record_search.find_previous))
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await pilot.press("g", "slash", *"u2", "enter")
        await until(pilot, lambda: records.cursor_position == U2_HITS[0])
        assert not app.screen.find_hits.complete
        burst(app, "nnnnn")  # as one read from the terminal
        await until(pilot, lambda: records.cursor_position == U2_HITS[5])
        await pilot.pause(0.2)
        assert records.cursor_position == U2_HITS[5]
        burst(app, "NNN")
        await until(pilot, lambda: records.cursor_position == U2_HITS[2])
        assert "/ counting hits…" in screen_text(app)


async def test_find_hits_are_highlighted_on_the_cursor_row_unlike_the_cursor(make_store):
    app = LogviewApp(make_store(60))
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await _find(pilot, app, "u2")
        await until(pilot, lambda: records.cursor_position == U2_HITS[0])
        await until(pilot, lambda: records.rows_ready)
        cursor = records.get_component_rich_style("record-list--cursor")
        found = records.get_component_rich_style("record-list--find")
        match = records.get_component_rich_style("record-list--match")
        assert found.bgcolor not in (None, cursor.bgcolor, match.bgcolor)
        strip = records.render_line(records.cursor_row - round(records.scroll_y))
        styles = {seg.text: seg.style for seg in strip if seg.style}
        assert "u2" in styles
        assert styles["u2"].bgcolor == found.bgcolor != cursor.bgcolor
        # The rest of the cursor row has the cursor's background.
        assert any(style.bgcolor == cursor.bgcolor for text, style in styles.items()
                   if "event" in text)


async def test_ampersand_filters_and_a_find_keeps_to_the_filter(make_store):
    store = make_store(60)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        await pilot.press("ampersand")
        assert _bar(app).mode == "filter" and "filter &" in screen_text(app)
        await type_text(pilot, app, "level>=WARNING")
        await pilot.press("enter")
        shown = sum(store.record(p).levelno >= 30 for p in range(60))
        await until(pilot, lambda: records.positions is not None and records.row_count == shown)
        await _find(pilot, app, "u2")
        warn_hits = [p for p in U2_HITS if store.record(p).levelno >= 30]
        assert app.screen.find_hits.count == len(warn_hits) and warn_hits
        assert records.row_count == shown  # the find hid nothing
        await until(pilot, lambda: records.cursor_position == warn_hits[0])
        await pilot.press("n")
        assert records.cursor_position == warn_hits[1 % len(warn_hits)]
        # A new filter (the level key) counts the hits of the new view.
        await pilot.press("0")
        await until(pilot, lambda: records.positions is None)
        await until(pilot, lambda: app.screen.find_hits.complete
                    and app.screen.find_hits.count == len(U2_HITS))


async def test_escape_and_an_empty_find(make_store):
    store = make_store(60)
    app = LogviewApp(store, query="level>=ERROR")
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 60)
        shown = sum(store.record(p).levelno >= 40 for p in range(60))
        await until(pilot, lambda: records.positions is not None and records.row_count == shown)
        bar = _bar(app)
        await pilot.press("slash", *"zzz", "escape")  # nothing applied: the filter shows again
        # (the escape reaches the bar through the input's message: a loaded machine may draw
        # the press's frame first)
        await until(pilot, lambda: bar.mode == "filter")
        assert bar.mode == "filter" and bar.text == "level>=ERROR" and app.focused is records
        assert app.screen.find_hits is None
        await _find(pilot, app, "u2")
        assert bar.mode == "find" and bar.text == "u2"
        assert "/ " in screen_text(app) and "of" in screen_text(app)
        await pilot.press("slash", "up")  # one history for both bars
        assert bar.text == "u2"
        await pilot.press("up")
        assert bar.text == "level>=ERROR"
        await pilot.press("ctrl+u", "enter")  # an empty find clears the find
        await until(pilot, lambda: app.screen.find_hits is None)
        assert bar.mode == "filter" and bar.text == "level>=ERROR"
        assert records.row_count == shown
        assert "hit" not in screen_text(app).splitlines()[-2]


async def test_find_shows_errors_like_the_filter(make_store):
    app = LogviewApp(make_store(20))
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 20)
        await pilot.press("slash", *"level>=LOUD")
        bar = _bar(app)
        # (the bar checks the text when its Changed message is handled, after the key)
        await until(pilot, lambda: bar.has_class("-invalid")
                    and "unknown level" in screen_text(app))
        await pilot.press("enter")
        assert app.screen.find_hits is None


async def test_histogram_marks_the_buckets_with_hits(make_store):
    store = make_store(60)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 60)
        histogram = app.screen.query_one(TimeHistogram)
        await until(pilot, lambda: histogram.bins.total == 60)
        assert not histogram.hit_columns().any()
        await _find(pilot, app, "u2")
        await until(pilot, lambda: histogram.hit_columns().sum() > 0)
        starts, ends, _ = histogram.buckets()
        times = [store.record(p).timestamp for p in U2_HITS]
        expected = [any(s <= t < e for t in times) for s, e in zip(starts, ends, strict=True)]
        assert histogram.hit_columns().tolist() == expected
        assert not all(expected)
        await pilot.press("slash", "ctrl+u", "enter")
        await until(pilot, lambda: not histogram.hit_columns().any())


async def test_new_records_are_counted_as_hits(memory_store):
    source, store = memory_store(14)
    app = LogviewApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        records = await _loaded(pilot, app, 13)  # the last record waits for the next line
        await _find(pilot, app, "u2")
        assert app.screen.find_hits.count == 2  # 2 and 9
        source.append("".join(log_line(i) for i in range(14, 40)).encode())
        await until(pilot, lambda: app.screen.find_hits.count >= 5)  # 16, 23, 30 (37 may wait)
        assert records.row_count >= 39


def test_find_hits_answer_and_say_what_they_know():
    hits = FindHits("u2", parse_query("u2"), None)
    hits.update(np.array([2, 9, 16]), 20, 40)  # 20 of 40 records scanned
    assert hits.status(9) == "hit 2 of ≥3…"
    assert hits.status(10) == "≥3 hits…"
    assert hits.next_hit(2, 1, 40) == (9, False)
    assert hits.next_hit(16, 1, 40) == (None, False)  # not scanned beyond 20: search
    assert hits.next_hit(30, -1, 40) == (None, False)
    assert hits.next_hit(17, -1, 40) == (16, False)
    assert hits.next_hit(2, -1, 40) == (None, False)  # wrapping needs the whole count
    hits.update(np.array([2, 9, 16, 30]), 40, 40)
    assert hits.status(30) == "hit 4 of 4"
    assert hits.next_hit(30, 1, 40) == (2, True)
    assert hits.next_hit(2, -1, 40) == (30, True)
    hits.update(np.empty(0, dtype=np.int64), 10, 40)
    assert hits.status(3) == "counting hits…"
    hits.update(np.empty(0, dtype=np.int64), 40, 40)
    assert hits.status(3) == "no hits"
    assert hits.next_hit(3, 1, 40) == (None, False)
