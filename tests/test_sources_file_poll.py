"""Following by polling (no inotify): what it cannot see is said.

A file that took the name and was rotated away and deleted between two looks cannot be
counted, but the look after shows that it may have happened: every file of the look before
is gone from the followed names. The looks here are the polling thread's own, made at the
moment the test chooses (the thread's automatic ones are stopped)."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def polled(tmp_path, monkeypatch, first: bytes):
    """A followed file holding ``first``, as where inotify is missing; its looks are the
    test's (``look``)."""
    monkeypatch.setattr(watch, "_libc", None)
    path = str(tmp_path / "app.log")
    with open(path, "wb") as out:
        out.write(first)
    source = FileSource(path)
    file_poll._looker.discard(source._poller)
    try:
        yield source
    finally:
        source.close()


def test_rotations_since_a_look_that_saw_only_the_name_are_said(tmp_path, monkeypatch):
    """The first look can find the name alone (no rotation yet): when the file it found there
    is under no name at the next look while rotated names are there, files may have gone by
    unread as well (before, this was silent)."""
    with polled(tmp_path, monkeypatch, b"file 0\n") as source:
        look(source)
        rotate(source.path, 2, 4, 1)  # file 0 went through app.log.1 and .2 and was deleted
        look(source)
        source.update()
        assert len(source.notices) == 1, source.notices
        assert "may have been rotated away and deleted unread" in source.notices[0]


def test_no_rotated_name_no_warning(tmp_path, monkeypatch):
    """A name deleted and made anew (no rotated names kept) is no turnover: nothing else
    took the name."""
    with polled(tmp_path, monkeypatch, b"file 0\n") as source:
        look(source)
        os.remove(source.path)
        with open(source.path, "wb") as out:
            out.write(b"file 1\n")
        look(source)
        source.update()
        assert not any("unread" in notice for notice in source.notices), source.notices


def test_a_look_that_sees_the_name_grow_looks_fast(tmp_path, monkeypatch):
    """The looking thread itself notices writes (a burst of rotations can start a slow look
    away from the reader's next wait)."""
    with polled(tmp_path, monkeypatch, b"line 0\n") as source:
        poller = source._poller
        look(source)
        assert poller.fast_until < time.monotonic()
        with open(source.path, "ab") as out:
            out.write(b"line 1\n")
        look(source)
        assert poller.fast_until > time.monotonic() + file_poll.FAST_SECONDS / 2
