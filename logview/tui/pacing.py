"""How the viewer's workers share the interpreter with the UI: a duty cycle for CPU-bound
workers, and how far the index has got (what the user waits for first)."""

from __future__ import annotations

import math
import time

from logview.store import Store


def indexed_fraction(store: Store) -> float:
    """How much of its input the store has indexed."""
    done, total = store.progress()
    return 1.0 if total <= 0 else min(1.0, done / total)


#: Counting slows down while more than this much input is not yet indexed.
_INDEX_BACKLOG = 16 << 20


def indexing_behind(store: Store) -> bool:
    """More input than ``_INDEX_BACKLOG`` waits to be indexed (counting then slows down)."""
    done, total = store.progress()
    return total - done > _INDEX_BACKLOG


#: Seconds between two progress frames of a long background job (a big input indexed,
#: counted or filtered) once its first second is over. Each frame draws the list, the
#: level bar, the logger tree and the histogram again: tens of milliseconds of the
#: interpreter that the job's threads wait for (at the quick paces, 6-10 frames a second,
#: about half of it while a 1 GB file was indexed and counted).
BUSY_FRAME = 0.75
#: How long a background job reports at its own quick pace: its first rows and counts
#: show at once.
QUICK_SECONDS = 1.0


def report_interval(quick: float, since: float, now: float | None = None) -> float:
    """Seconds between two progress reports of a job running since ``since`` (monotonic):
    ``quick`` during its first ``QUICK_SECONDS``, then ``BUSY_FRAME`` (or ``quick``, if
    slower)."""
    now = time.monotonic() if now is None else now
    return quick if now - since < QUICK_SECONDS else max(quick, BUSY_FRAME)


#: Seconds after the user's last key, click or scroll during which workers pace themselves.
INPUT_RECENT = 3.0


class InputClock:
    """When the user last pressed a key, clicked or scrolled (the app touches it): CPU-bound
    workers leave the UI free windows only in the seconds after, not while nobody types."""

    def __init__(self) -> None:
        self.at = -math.inf

    def touch(self) -> None:
        self.at = time.monotonic()

    def recent(self) -> bool:
        return time.monotonic() - self.at < INPUT_RECENT


class DutyCycle:
    """Makes a CPU-bound worker pause briefly every few milliseconds (while the user uses the
    viewer, when given its ``InputClock``).

    Python threads share one interpreter lock: a worker that never blocks makes the UI thread
    wait for the lock each time it wakes, and a keypress touches the event loop many times.
    Short pauses leave the UI free windows at a cost in throughput: each pause is also a wait
    for the lock the index's threads hold (counting a 1 GB file spent a fifth of its time
    in them), so while nobody types, a worker with a clock does not pause.
    """

    def __init__(self, work: float = 0.008, rest: float = 0.002,
                 clock: InputClock | None = None) -> None:
        self.work = work
        self.rest = rest
        self.clock = clock
        self._since = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self._since >= self.work:
            if self.clock is None or self.clock.recent():
                time.sleep(self.rest)
            self._since = time.monotonic()
