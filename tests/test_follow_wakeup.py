"""The quiet flush of a followed store must not depend on a wake-up.

A record is complete when the next one starts, or when input has been quiet for
``quiet_flush``. After one quiet flush the ``Follower`` flushed again only when ``wait`` said
there was more or when records were added. One new line after a flush adds no record (it is
the pending last one), so when its wake-up never came the record stayed pending for good:
- a lost wake-up (an event that came and went between two waits);
- every second file of a merged store (``logview a.log b.log``): ``MergedStore.wait`` waits on
  the first growing store only, so a record appended to ``b.log`` waited for ``a.log`` to grow.
Input that was taken in (bytes indexed) now re-arms the quiet flush by itself.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

from indexing_helpers import DashFormat

from logview import follow
from logview.follow import Follower
from logview.merge import MergedStore
from logview.sources.base import MemorySource
from logview.sources.file import FileSource
from logview.store import LogStore

TIMEOUT = 5.0


def line(n: int, name: str = "app") -> bytes:
    return f"2024-01-01 00:00:{n:02d},000 - {name} - INFO - record {n}\n".encode()


class NoWakeUps(MemorySource):
    """A source whose wake-ups are all lost: ``wait`` only ever times out."""

    def wait(self, timeout: float) -> bool:
        return False


def follow_until(follower: Follower, condition, timeout: float = TIMEOUT) -> None:
    """Step and wait like ``--print --follow`` does until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        follower.wait(0.02)
        follower.step()


def test_a_record_after_a_quiet_flush_is_taken_without_a_wake_up():
    source = NoWakeUps("feed")
    store = LogStore(source, DashFormat())
    follower = Follower(store, quiet_flush=0.0)
    source.append(line(1))
    follow_until(follower, lambda: len(store) == 1)  # flushed: input went quiet
    source.append(line(2))  # one line: no record added until it is flushed too
    follow_until(follower, lambda: len(store) == 2)
    assert store.record(1).message == "record 2"


class Clock:
    """``time`` for the follow module: ``monotonic`` moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_the_quiet_time_counts_from_the_last_input_taken_in(monkeypatch):
    """A record whose first line comes after a long quiet is not flushed at once: its next
    lines would make a record of their own."""
    clock = Clock()
    monkeypatch.setattr(follow, "time", clock)
    source = MemorySource("feed")
    store = LogStore(source, DashFormat())
    follower = Follower(store, quiet_flush=1.0)
    source.append(line(1))
    follower.step()
    clock.now += 2
    follower.step()
    assert len(store) == 1  # flushed: quiet for 2 s
    clock.now += 100  # quiet for long, then a record comes in two writes
    source.append(b"2024-01-01 00:00:02,000 - app - ERROR - boom\n")
    assert follower.wait(0)
    follower.step()
    source.append(b"Traceback (most recent call last):\nValueError: x\n")
    assert follower.wait(0)
    follower.step()
    clock.now += 2
    follower.step()
    assert len(store) == 2
    assert store.raw(1).endswith(b"boom\nTraceback (most recent call last):\nValueError: x\n")


def test_a_record_appended_to_the_second_file_of_a_merged_store_comes(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(line(1, "a"))
    b.write_bytes(line(2, "b"))
    stores = [LogStore(FileSource(str(p)), DashFormat()) for p in (a, b)]
    store = MergedStore(stores)
    try:
        follower = Follower(store, quiet_flush=0.0)
        follow_until(follower, lambda: len(store) == 2)
        with b.open("ab") as f:
            f.write(line(3, "b"))  # a.log stays quiet: nothing wakes the wait on it
        follow_until(follower, lambda: len(store) == 3)
    finally:
        store.close()


def test_print_follow_prints_a_record_appended_to_the_second_file(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(line(1, "a"))
    b.write_bytes(line(2, "b"))
    proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--follow",
                             str(a), str(b)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = bytearray()

    def read_until(needle: bytes) -> None:
        deadline = time.monotonic() + 10
        while needle not in out:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} not printed: {bytes(out)!r}"
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                assert chunk, f"logview ended: {proc.stderr.read()!r}"
                out.extend(chunk)

    try:
        read_until(b"record 2\n")
        with b.open("ab") as f:
            f.write(line(3, "b"))
        read_until(b"record 3\n")
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
