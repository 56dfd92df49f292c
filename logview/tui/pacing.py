"""How the viewer's workers share the interpreter with the UI: a duty cycle for CPU-bound
workers, and how far the index has got (what the user waits for first)."""

from __future__ import annotations

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


class DutyCycle:
    """Makes a CPU-bound worker pause briefly every few milliseconds.

    Python threads share one interpreter lock: a worker that never blocks makes the UI thread
    wait for the lock each time it wakes, and a keypress touches the event loop many times.
    Short pauses leave the UI free windows at a small cost in throughput.
    """

    def __init__(self, work: float = 0.008, rest: float = 0.002) -> None:
        self.work = work
        self.rest = rest
        self._since = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self._since >= self.work:
            time.sleep(self.rest)
            self._since = time.monotonic()
