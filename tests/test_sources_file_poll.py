"""Following by polling (no inotify): what it cannot see is said.

A file that took the name and was rotated away and deleted between two looks cannot be
counted, but the look after shows that it may have happened: every file of the look before
is gone from the followed names. The looks here are the polling thread's own, made at the
moment the test chooses (the thread's automatic ones are stopped)."""

from __future__ import annotations

import os
import time

from logview.sources import file_poll, watch
from logview.sources.file import FileSource


def rotate(path: str, kept: int, times: int, start: int) -> None:
    """RotatingFileHandler's rollover, ``times`` times, ``kept`` files kept."""
    for n in range(start, start + times):
        if os.path.exists(f"{path}.{kept}"):
            os.remove(f"{path}.{kept}")
        for k in range(kept - 1, 0, -1):
            if os.path.exists(f"{path}.{k}"):
                os.rename(f"{path}.{k}", f"{path}.{k + 1}")
        os.rename(path, f"{path}.1")
        with open(path, "wb") as out:
            out.write(b"file %d\n" % n)


def look(source: FileSource) -> None:
    with os.scandir(os.path.dirname(source.path)) as found:
        source._poller.look([(entry.name, entry.inode()) for entry in found])


def test_rotations_that_outran_the_looks_are_said(tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "_libc", None)  # as where inotify is missing
    path = str(tmp_path / "app.log")
    with open(path, "wb") as out:
        out.write(b"file 0\n")
    rotate(path, 2, 2, 1)
    source = FileSource(path)
    assert source._poller is not None
    file_poll._looker.discard(source._poller)  # the looks are the test's from here
    rotate(path, 2, 1, 3)  # one rotation between two looks: every file still seen
    look(source)
    source.update()
    assert not source.notices
    rotate(path, 2, 4, 4)  # four: every file of the look before is gone, some unread
    look(source)
    source.update()
    assert len(source.notices) == 1, source.notices
    assert "may have been rotated away and deleted unread" in source.notices[0]
    rotate(path, 2, 4, 8)  # again at once: counted, said with the next warning
    look(source)
    source.update()
    assert len(source.notices) == 1
    source.close()


def test_a_file_being_written_is_looked_at_fast(tmp_path, monkeypatch):
    """A rotation can follow any write, and with few names kept a burst of them outlives no
    slow look: a wait that saw the file grow puts the looks at their fast pace (and wakes the
    looking thread to choose it)."""
    monkeypatch.setattr(watch, "_libc", None)
    path = str(tmp_path / "app.log")
    with open(path, "wb") as out:
        out.write(b"line 0\n")
    source = FileSource(path)
    poller = source._poller
    assert poller is not None
    try:
        source.update()
        assert not source.wait(0.05)  # nothing written: no wake-up, slow looks
        assert poller.fast_until < time.monotonic()
        woken = []
        monkeypatch.setattr(file_poll._looker, "wake", lambda: woken.append(True))
        with open(path, "ab") as out:
            out.write(b"line 1\n")
        assert source.wait(1.0)
        assert poller.fast_until > time.monotonic() + file_poll.FAST_SECONDS / 2
        assert woken == [True]
    finally:
        source.close()
