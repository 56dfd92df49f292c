"""Following a growing file: the Follower tells appends from restarts and flushes the last
record when input goes quiet (never half a line); the LiveFilter keeps the matches of a growing
store equal to a naive reference, across appends and truncation."""

from __future__ import annotations

import time

from indexing_helpers import DashFormat, StandInQuery, dash_log

from logview.follow import Follower, LiveFilter
from logview.sources.file import FileSource
from logview.store import LogStore


def naive(store, query) -> list[int]:
    return [i for i in range(len(store)) if query.matches(store.parse(i))]


def step_until(follower: Follower, condition, timeout: float = 5.0):
    """Step (and wait for the source) until ``condition(change)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        change = follower.step()
        if condition(change):
            return change
        assert time.monotonic() < deadline, "condition not met in time"
        follower.wait(0.05)


def test_appends_then_truncation_is_a_restart(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(dash_log(50, seed=3))
    store = LogStore(FileSource(str(path), name="app.log"), DashFormat())
    follower = Follower(store, quiet_flush=0.0)
    step_until(follower, lambda c: len(store) == 50)
    with path.open("ab") as f:
        f.write(dash_log(10, seed=4))
    change = step_until(follower, lambda c: len(store) == 60)
    assert not change.restarted and not change.finished
    path.write_bytes(dash_log(5, seed=5))  # truncated in place, shorter: a restart
    change = step_until(follower, lambda c: c.restarted)
    assert change.added == len(store)
    step_until(follower, lambda c: len(store) == 5)


def test_quiet_flush_takes_the_last_record_but_never_half_a_line(tmp_path):
    path = tmp_path / "app.log"
    data = dash_log(3, seed=6, error_rate=0)
    path.write_bytes(data)
    store = LogStore(FileSource(str(path), name="app.log"), DashFormat())
    follower = Follower(store, quiet_flush=0.05)
    step_until(follower, lambda c: len(store) == 3)  # the last one once input is quiet
    last = data.split(b"\n")[-2] + b"\n"
    with path.open("ab") as f:
        f.write(last[:20])  # half a line
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        follower.step()
        follower.wait(0.02)
    assert len(store) == 3  # the half line waits for its end
    with path.open("ab") as f:
        f.write(last[20:])
    step_until(follower, lambda c: len(store) == 4)
    assert store.record(3).raw.encode() == last.rstrip(b"\n")


def test_live_filter_keeps_the_reference_matches_across_growth_and_restart(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(dash_log(400, seed=7, error_rate=0.2))
    store = LogStore(FileSource(str(path), name="app.log"), DashFormat())
    follower = Follower(store, quiet_flush=0.0)
    query = StandInQuery(40)
    live = LiveFilter(store, query)
    step_until(follower, lambda c: len(store) == 400)
    for _view in live.advance(step=97):
        pass
    assert live.positions.view().tolist() == naive(store, query) != []
    with path.open("ab") as f:
        f.write(dash_log(100, seed=8, error_rate=0.2))
    step_until(follower, lambda c: len(store) == 500)
    assert not live.check_restart()
    list(live.advance())
    assert live.scanned == 500 and live.positions.view().tolist() == naive(store, query)
    path.write_bytes(dash_log(30, seed=9, error_rate=0.5))
    step_until(follower, lambda c: c.restarted)
    step_until(follower, lambda c: len(store) == 30)
    assert live.check_restart() and live.scanned == 0
    records = list(live.new_records())
    assert [r.offset for r in records] == [store.index.start(i) for i in naive(store, query)]
    assert list(live.new_records()) == []  # nothing new since


def test_source_notices_are_told_once_by_the_follower_and_on_stderr(tmp_path, capsys):
    from logview.headless import StderrWarnings
    from logview.sources.base import MemorySource

    source = MemorySource("feed", dash_log(3))
    store = LogStore(source, DashFormat())
    follower = Follower(store)
    assert follower.step().notices == ()
    source.note("lost 120 bytes (a rotated file was deleted before it was read)")
    assert follower.step().notices == (
        "feed: lost 120 bytes (a rotated file was deleted before it was read)",)
    assert follower.step().notices == ()
    warnings = StderrWarnings(None)
    warnings.check(store)
    warnings.check(store)
    err = capsys.readouterr().err
    assert err.count("logview: warning: feed: lost 120 bytes") == 1

