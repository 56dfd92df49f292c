"""The main screen's thread workers: following the store, counting its records, filtering.

They run off the UI thread and talk to the screen only through coalescing messages
(``StoreGrew``, ``LevelCounts``, ``FilterProgress``, ``FilteredTimesFound``); the screen's
handlers update what they read (``_known``, ``_finished``, ``_generation`` under ``_growth``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from textual import work
from textual.worker import get_current_worker

from logview.columns import RecordCounter
from logview.filter_workers import prepare as prepare_filter_workers
from logview.follow import Follower, LiveFilter
from logview.sources.narrowing import narrowing_sources
from logview.stats import FilteredTimes, RecordStats
from logview.store import Store
from logview.tui.messages import (
    FilteredTimesFound,
    FilterProgress,
    LevelCounts,
    SourceNotices,
    StoreGrew,
)
from logview.tui.pacing import DutyCycle, indexed_fraction, indexing_behind, report_interval

#: Least time between two store-growth messages (the worker coalesces between them). Each
#: one draws a frame (the list scrolls: every line of it is sent again), which costs several
#: milliseconds: at most 2.5 a second while records stream in (0.25 s cost a point of CPU
#: more at 20 records/s, bench/cpu.py). The first record after a quiet spell shows at once,
#: the next within 0.4 s. While a big backlog is indexed, after its first second, one a
#: ``pacing.BUSY_FRAME``.
GROW_INTERVAL = 0.4
#: Least time between two ``store.update`` calls while input keeps coming (batches appends).
_UPDATE_INTERVAL = 0.05
#: Longest a trickle waits untaken before the next ``store.update`` (less than a growth
#: interval: a file rotated many times a second must be looked at often, or the names of its
#: rotated copies shift under the look; the soak lost records at 0.4 s).
_TRICKLE_LOOK = 0.2
#: Most records one step may add for the input to count as a trickle (see ``_follow``).
_TRICKLE = 50
#: Longest one ``store.update`` call may index before the view hears of what it found.
_INDEX_SLICE = 0.1
#: Rows fetched ahead at the end of the list before workers tell it of new rows (a screen).
_TAIL_ROWS = 80
#: Records per engine call while filtering (progress is reported between calls).
_FILTER_CHUNK = 50_000
#: Seconds between two level-count messages while counting a big input.
_COUNT_REPORT = 0.25
#: Bytes of records counted at once (a chunk is read, walked and counted in one go; the
#: walk's numpy passes cost per record, their calls per chunk: 4 MB holds ~50,000 records).
_COUNT_CHUNK = 4 << 20
#: Least time between two level-count messages while a live source trickles in: the level
#: bar, the histogram and the logger tree are drawn again at most this often (each is a frame;
#: a frame of the whole screen costs milliseconds, and 20 records/s must not cost 20 frames).
_LIVE_COUNT_INTERVAL = 1.0
#: How often counting looks for records the index found (while a big input is indexed).
_BACKLOG_LOOK = 0.02
#: Records not counted yet that make the level bar say "counting…" between two passes.
COUNT_LAG = 1000


class StoreWorkers:
    """The main screen's workers (a mixin of ``MainScreen``; the state is the screen's)."""

    store: Store
    _growth: threading.Condition
    _known: int
    _finished: bool
    _generation: int
    _filter_token: int
    _filter_progress: float | None
    _tally: RecordStats | None
    _filtered_times: FilteredTimes | None
    records: Any
    post_message: Any
    app: Any

    @work(thread=True, group="follow", exit_on_error=False)
    def _follow(self) -> None:
        """Take in new input and tell the UI, at most every ``GROW_INTERVAL`` seconds."""
        worker = get_current_worker()
        store = self.store
        follower = Follower(store, slice_seconds=_INDEX_SLICE)
        narrows = bool(narrowing_sources(part.source for part in store.parts()))
        last_post = 0.0
        pending = True
        prepared = False  # the filter workers' fork server started (a big input)
        behind_since: float | None = None  # when the index fell behind a big backlog
        while not worker.is_cancelled:
            started = time.monotonic()
            change = follower.step()
            behind = indexing_behind(store)
            if not behind:
                behind_since = None
            elif behind_since is None:
                behind_since = started
            interval = (GROW_INTERVAL if behind_since is None
                        else report_interval(GROW_INTERVAL, behind_since))
            if not prepared and change.added:
                prepared = prepare_filter_workers(store)
            if change.notices:
                self.post_message(SourceNotices(change.notices))
            # A restart (truncation, a format detected anew) is news even with no records yet.
            pending = pending or change.added > 0 or change.restarted
            now = time.monotonic()
            if pending and (now - last_post >= interval or change.finished):
                if self.records.positions is None:
                    count = len(store)
                    self._prefetch_tail(np.arange(max(0, count - _TAIL_ROWS), count))
                    if not last_post:  # the first frame draws the top before it scrolls down
                        self._prefetch_tail(np.arange(min(count, _TAIL_ROWS)))
                self.post_message(StoreGrew(len(store), store.generation, change.finished,
                                            indexed_fraction(store)))
                last_post = now
                pending = False
            if change.finished and not pending:
                if not narrows:
                    return
                # A store that narrows itself starts again on a new query: its new request
                # wakes this wait (``start_run``), so the new rows are taken in.
                follower.wait(1.0)
                continue
            if (pending and not change.finished and change.added <= _TRICKLE
                    and indexed_fraction(store) >= 1.0):
                # A trickle, all of it taken in: what comes until the message is due is taken
                # in by one step then (not one step and one index pass per record). A fast
                # stream keeps its short steps: a quarter second of it in one step would hold
                # the interpreter long enough to delay keys.
                time.sleep(max(0.0, min(last_post + GROW_INTERVAL, started + _TRICKLE_LOOK)
                               - time.monotonic()))
                continue
            if change.added:  # input keeps coming: let it gather into one batch
                time.sleep(max(0.0, _UPDATE_INTERVAL - (time.monotonic() - started)))
                continue
            follower.wait(0.2 if not pending else max(0.01, interval - (now - last_post)))

    def _prefetch_tail(self, positions: np.ndarray) -> None:
        """In a worker, before telling the UI of new rows: fetch the last rows when the list
        follows the end (they are what it shows next; a list scrolled up needs none)."""
        records = self.records
        if records.following and len(positions):
            records.rows.prefetch(self.store.generation, positions.tolist())

    def _wait_for_growth(self, seen: int, generation: int) -> tuple[int, bool]:
        """Block (a worker) until the store has more than ``seen`` records, or 0.5 s passed."""
        with self._growth:
            if self._known <= seen and self._generation == generation and not self._finished:
                self._growth.wait(0.5)
            return self._known, self._finished

    def _pause(self, seconds: float, generation: int) -> None:
        """Sleep (a worker) ``seconds``, less if it is cancelled or the store restarts."""
        worker = get_current_worker()
        deadline = time.monotonic() + seconds
        while not worker.is_cancelled and generation == self._generation:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.25))

    def _count_levels(self) -> None:
        """Count the store's records again from the first (on the UI thread). The tally the
        UI takes counts from is made here, not in the worker: a worker superseded before its
        thread ran would otherwise put its own in place of the newer one's when it did, and
        no count would be drawn again."""
        self._tally = RecordStats()
        self._count_into(self._tally, self._generation)

    @work(thread=True, group="count", exclusive=True, exit_on_error=False)
    def _count_into(self, tally: RecordStats, generation: int) -> None:
        """Tally records per level, logger and time as they arrive; report on a time budget."""
        worker = get_current_worker()
        store = self.store
        # Chunks of records read at once (most records' heads walked with numpy, not parsed);
        # what it reads also answers level and logger filters (the store's record columns).
        counter = RecordCounter(store)
        last = time.monotonic()
        told = -1  # records counted when the UI was last told (-1: never told)
        yield_to_ui = DutyCycle(clock=getattr(self.app, "input_clock", None))
        # A single input is counted as far as its index got, not as far as the list was
        # told (every ``GROW_INTERVAL``): the counts keep up with the index.
        single = store.parts() == [store]
        backlog = False  # the last pass ran while a big input was being indexed
        #: When the current big job began (a backlog indexed and counted): its reports slow
        #: down after its first second (``report_interval``). None: no such job.
        busy_since: float | None = None
        while not worker.is_cancelled and generation == self._generation:
            known, finished = self._known, self._finished
            if single:
                known = max(known, len(store))
            counted = counter.counted
            started = time.monotonic()
            for batch in counter.batches(known, cancelled=lambda: worker.is_cancelled,
                                         chunk_bytes=_COUNT_CHUNK):
                tally.add_batch(batch)
                counted = counter.counted
                yield_to_ui()
                if self._filter_progress is not None:
                    time.sleep(0.005)  # a running filter is what the user waits for
                # Told in the middle of a long pass only (a big input): a live source's few
                # new records are one short pass, told below at the live pace. Told at once
                # when the tally is full: it waits for the UI to take what it holds.
                full = not tally.room.is_set()
                pace = report_interval(_COUNT_REPORT, started if busy_since is None
                                       else busy_since)
                if full or time.monotonic() - max(last, started) > pace:
                    self.post_message(LevelCounts(tally, generation, counted < known))
                    last = time.monotonic()
                    told = counted
                while not tally.room.wait(0.2):  # the UI has not taken the last batch
                    if worker.is_cancelled:
                        return
            if counter.riding():
                # The index's range workers read the columns: counted as they come (not as the
                # rows are drawn), the UI told at the report pace, no pause between passes.
                busy_since = started if busy_since is None else busy_since
                if counted != told and time.monotonic() - last >= report_interval(
                        _COUNT_REPORT, busy_since):
                    self.post_message(LevelCounts(tally, generation, True))
                    last = time.monotonic()
                    told = counted
                counter.wait_ready(_COUNT_REPORT)
                continue
            if single and not finished and (indexing_behind(store) or backlog
                                            and indexed_fraction(store) < 1.0):
                # A big input being indexed (until its index ends): its records are counted
                # as the index finds them, the UI told at the report pace (the live pace
                # below would leave the counts up to a second behind the index at its end).
                busy_since = started if busy_since is None else busy_since
                if counted != told and time.monotonic() - last >= report_interval(
                        _COUNT_REPORT, busy_since):
                    self.post_message(LevelCounts(tally, generation, True))
                    last = time.monotonic()
                    told = counted
                backlog = True
                self._pause(_BACKLOG_LOOK, generation)
                continue
            busy_since = None  # (caught up with what is known: the big job is over)
            done = finished and counted >= known
            if counted != told or done:  # nothing new: nothing to draw (an idle source)
                due = last + _LIVE_COUNT_INTERVAL - time.monotonic()
                if told <= 0 or done or due <= 0 or backlog:  # the first records show at once
                    # The store's count now (not the one this pass began with): a few live
                    # records that came meanwhile are counted next pass, not "counting…".
                    behind = self._known - counted >= COUNT_LAG
                    self.post_message(LevelCounts(tally, generation, behind))
                    last = time.monotonic()
                    told = counted
                    if backlog and not done:  # the index just ended: the UI hears it soon
                        self._wait_for_growth(counted, generation)
                    elif counted and not done and not behind:  # live: next count in a second
                        self._pause(_LIVE_COUNT_INTERVAL, generation)
                    backlog = False
                else:
                    # A trickle: count again (and tell the UI) once the interval is over, in
                    # one pass whatever came meanwhile, not one pass per growth. The UI draws
                    # the counts in the frame of the next growth.
                    self._pause(due, generation)
                    continue
            if done:
                return
            self._wait_for_growth(counted, generation)

    @work(thread=True, group="filtered-times", exclusive=True, exit_on_error=False)
    def _find_filtered_times(self, found: FilteredTimes) -> None:
        """The filtered histogram's records, from the record columns as they are counted:
        a slice at a time, after the filter's own pass (the list is what the user waits
        for), waiting while the UI has not taken what was found."""
        worker = get_current_worker()
        store = self.store
        yield_to_ui = DutyCycle()
        while not worker.is_cancelled and found is self._filtered_times:
            if self._filter_progress is not None:  # the list first: the filter's pass runs
                time.sleep(0.02)
                continue
            looked = found.advance()
            yield_to_ui()
            if found.pending and (not looked or not found.room.is_set()
                                  or found.caught_up()):
                self.post_message(FilteredTimesFound(found))
            if looked:
                if not found.room.wait(0.2) and worker.is_cancelled:
                    return
                continue
            parts = store.parts()
            if self._finished and all(part.columns.full or len(part.columns) >= len(part)
                                      for part in parts) and found.caught_up():
                return
            time.sleep(_COUNT_REPORT)  # counting goes on: look again

    def _filter(self, token: int, query: Any) -> None:
        """Scan the store in chunks, post the matches so far, then match new records."""
        worker = get_current_worker()
        live = LiveFilter(self.store, query, workers=True)

        def cancelled() -> bool:
            return worker.is_cancelled or token != self._filter_token

        def post(positions: np.ndarray, known: int) -> None:
            self._prefetch_tail(positions[-_TAIL_ROWS:])
            self.post_message(FilterProgress(token, positions, live.scanned, known))

        self._match_as_it_grows(live, cancelled, post, step=_FILTER_CHUNK, every=0.1)

    def _match_as_it_grows(self, live: LiveFilter, cancelled: Callable[[], bool],
                           post: Callable[[np.ndarray, int], None], *, step: int,
                           every: float) -> None:
        """Run ``live`` over the store and then over each growth (a worker):
        ``post(positions, known)`` at most every ``every`` seconds during a pass's first
        second, then every ``report_interval`` (a long pass over a big input), and at its
        end; returns once cancelled, at the end of a finished store, or when it restarts."""
        generation = self._generation
        last_post = 0.0
        while not cancelled():
            known, finished = self._known, self._finished
            started = time.monotonic()
            for positions in live.advance(known, cancelled=cancelled, step=step):
                now = time.monotonic()
                if now - last_post > report_interval(every, started, now) and not cancelled():
                    post(positions, known)
                    last_post = time.monotonic()
            if cancelled():
                return
            post(live.positions.view(), known)
            last_post = time.monotonic()
            if finished and live.scanned >= known:
                return
            self._wait_for_growth(live.scanned, generation)
            if generation != self._generation:
                return
