"""FileSource: following appends, partial lines, copytruncate, rotation, replacement, idle CPU."""

from __future__ import annotations

import logging
import logging.handlers
import os
import shutil
import statistics
import threading
import time

import pytest

from logview.sources.base import SourceError
from logview.sources.file import FileSource
from tests.conftest import read_all, wait_for


def updated_to(source: FileSource, expected: bytes) -> bool:
    source.update()
    return read_all(source) == expected


def append_later(path: str, data: bytes, delay: float) -> None:
    def append() -> None:
        with open(path, "ab") as out:
            out.write(data)

    threading.Timer(delay, append).start()


class Follower:
    """Reads a source's new bytes in a thread, like the index worker does."""

    def __init__(self, source: FileSource) -> None:
        self.source = source
        self.data = bytearray()
        self.seen_at: list[tuple[float, int]] = []
        self.generations = 0
        self._pos = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.source.wait(0.5)
            generation = self.source.generation
            self.source.update()
            if self.source.generation != generation:
                self.generations += 1
                self._pos = 0
            size = self.source.size()
            while self._pos < size:
                chunk = self.source.read_at(self._pos, size - self._pos)
                assert chunk, "a read inside the space returned nothing"
                self._pos += len(chunk)
                self.data += chunk
            self.seen_at.append((time.monotonic(), len(self.data)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)



def test_missing_file_error_says_what_and_why(tmp_path):
    with pytest.raises(SourceError, match=r"cannot open .*nope\.log: No such file or directory"):
        FileSource(str(tmp_path / "nope.log"))


def test_not_followed_reads_what_is_there(log_path):
    source = FileSource(log_path, follow=False)
    assert source.finished
    assert read_all(source) == b"first\n"
    source.close()


def test_appends_are_seen_quickly(log_path):
    source = FileSource(log_path)
    follower = Follower(source)
    latencies = []
    try:
        with open(log_path, "ab", buffering=0) as out:
            for i in range(5):
                line = f"line {i}\n".encode()
                expected = len(follower.data) + len(line)
                wait_for(lambda: follower.seen_at, 2)  # the follower is in wait()
                time.sleep(0.02)
                sent = time.monotonic()
                out.write(line)
                wait_for(lambda n=expected: len(follower.data) >= n, 2)
                seen = next(t for t, n in follower.seen_at if n >= expected)
                latencies.append(seen - sent)
        assert bytes(follower.data) == b"first\n" + b"".join(f"line {i}\n".encode()
                                                             for i in range(5))
        assert statistics.median(latencies) < 0.25, latencies
    finally:
        follower.stop()
        source.close()


def test_a_half_written_line_comes_in_once_it_is_whole(log_path):
    """Followed files give whole lines only: a rotation right after a half line must not
    join the next file's first line to it (and followers never show half a line)."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"half")
    source.update()
    assert read_all(source) == b"first\n"
    with open(log_path, "ab") as out:
        out.write(b" done\n")
    assert source.update() == 10
    assert read_all(source) == b"first\nhalf done\n"
    source.close()
    static = FileSource(log_path, follow=False)  # a file read as it is: every byte
    with open(log_path, "ab") as out:
        out.write(b"no newline at the end")
    static.update()
    assert read_all(static).endswith(b"no newline at the end")
    static.close()


def test_a_half_line_looked_at_twice_still_waits_for_its_end(log_path):
    """The half line seen by one look is remembered as searched; a second look that finds
    no newline after it must not take it (it used to: the end of the searched part was
    taken for a line end, and the next file's first line then joined the half line)."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"half")
    for _ in range(3):
        source.update()
        assert read_all(source) == b"first\n"
    with open(log_path, "ab") as out:
        out.write(b" more")
    source.update()
    assert read_all(source) == b"first\n"
    with open(log_path, "ab") as out:
        out.write(b" done\nnext\n")
    source.update()
    assert read_all(source) == b"first\nhalf more done\nnext\n"
    source.close()


def test_a_quiet_half_line_is_taken_and_never_joins_the_next_file(log_path):
    """A half line that stays as it is (a prompt, a writer that died mid-line) is taken after
    a quiet spell; its end, if it comes, follows it; after a rotation the next file's first
    line is a line of its own (logview ends the half line)."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"password: ")
    source.update()
    assert read_all(source) == b"first\n"
    wait_for(lambda: updated_to(source, b"first\npassword: "), 3)
    with open(log_path, "ab") as out:
        out.write(b"ok\nstill ")
    wait_for(lambda: updated_to(source, b"first\npassword: ok\nstill "), 3)
    os.rename(log_path, log_path + ".1")
    with open(log_path, "wb") as out:
        out.write(b"new file\n")
    source.update()
    assert read_all(source) == b"first\npassword: ok\nstill \nnew file\n"
    source.close()


def test_rename_and_create_keeps_lines_written_to_the_old_file(log_path):
    source = FileSource(log_path)
    old = open(log_path, "ab", buffering=0)  # noqa: SIM115 - a writer that keeps its fd
    old.write(b"before rename\n")
    source.update()
    os.rename(log_path, log_path + ".1")
    old.write(b"after rename\n")
    open(log_path, "wb").close()  # logrotate `create`: empty new file
    source.update()
    old.write(b"still old\n")
    old.close()
    with open(log_path, "ab") as new:
        new.write(b"in new file\n")
    source.update()
    assert read_all(source) == b"first\nbefore rename\nafter rename\nstill old\nin new file\n"
    assert source.generation == 0
    assert source.rotations == 1
    source.close()


def test_unread_lines_of_the_old_file_come_before_the_new_file(log_path):
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"unread\n")
    os.rename(log_path, log_path + ".1")
    with open(log_path, "wb") as out:
        out.write(b"new\n")
    source.update()
    assert read_all(source) == b"first\nunread\nnew\n"
    source.close()


def test_watched_file_handler_delete_and_recreate(log_path):
    source = FileSource(log_path)
    logger = logging.getLogger("test_watched")
    logger.propagate = False
    handler = logging.handlers.WatchedFileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    try:
        logger.warning("one")
        source.update()
        os.remove(log_path)
        source.update()  # path missing: no error, nothing lost
        assert read_all(source) == b"first\none\n"
        assert source.wait(2)  # the recreation wakes us
        logger.warning("two")
        wait_for(lambda: updated_to(source, b"first\none\ntwo\n"), 2)
    finally:
        logger.removeHandler(handler)
        handler.close()
        source.close()


def test_path_missing_for_a_while_then_back(log_path):
    source = FileSource(log_path)
    os.remove(log_path)
    for _ in range(3):
        source.wait(0.05)
        source.update()
    assert read_all(source) == b"first\n"
    append_later(log_path, b"back\n", 0.1)
    assert source.wait(2)
    wait_for(lambda: updated_to(source, b"first\nback\n"), 2)
    source.close()


def test_old_files_beyond_the_cap_are_closed_and_found_again_by_inode(log_path, monkeypatch):
    from logview.sources import file as file_module

    monkeypatch.setattr(file_module, "CLOSE_AFTER", 0.0)  # closed as soon as read
    source = FileSource(log_path, keep_rotations=2)
    indexed = 0
    for i in range(4):
        os.rename(log_path, f"{log_path}.{i}")
        with open(log_path, "wb") as out:
            out.write(f"file {i}\n".encode())
        source.update()
        # What the index does: read what is new (only files read once are ever closed).
        indexed += len(source.read_at(indexed, source.size() - indexed))
    assert source.rotations == 4
    assert source.open_descriptors() == 3
    # Closed but still on disk (renamed): a re-read finds them by inode; one deleted
    # meanwhile is gone, and where it was is said to be gone (the index skips it).
    os.remove(f"{log_path}.1")  # "file 0"
    assert source.read_at(0, 100) == b"first\n"
    assert source.gone_until(6) == 6 + len(b"file 0\n")
    assert "could not be read again" in source.notices[0]
    tail = source.size() - len(b"file 1\nfile 2\nfile 3\n")
    assert source.read_at(tail, 100) == b"file 1\nfile 2\nfile 3\n"
    source.close()
    assert source.open_descriptors() == 0


def test_a_late_inotify_event_does_not_hold_an_old_file_closed_on_purpose(log_path,
                                                                         monkeypatch):
    """The watcher thread's event for an old file's rotated name can come after the reader
    took the file in and let go of the descriptors it held for it: that file is not held open
    again (held, it stayed after it was deleted, neither readable by name nor said gone, and
    the range was looked for again every second; the test above failed that way under load).
    The pin is the watcher's own call, made at the moment it can come."""
    from logview.sources import file as file_module

    monkeypatch.setattr(file_module, "CLOSE_AFTER", 0.0)
    source = FileSource(log_path, keep_rotations=1)
    indexed = 0
    for i in range(3):
        os.rename(log_path, f"{log_path}.{i}")
        with open(log_path, "wb") as out:
            out.write(f"file {i}\n".encode())
        source.update()
        indexed += len(source.read_at(indexed, source.size() - indexed))
    source.update()
    assert source.open_descriptors() == 2
    source._siblings.pin("app.log.0")  # the late event of "first"'s rotated name
    os.remove(f"{log_path}.0")
    assert source.gone_until(0) == len(b"first\n")
    assert "could not be read again" in source.notices[0]
    source.close()


class GatedRotatingHandler(logging.handlers.RotatingFileHandler):
    """A real RotatingFileHandler that waits until the reader has seen the file it rotates.

    Without the gate a writer can create and rotate away a file between two reads, which no
    follower (tail -F included) can see; with it, the race that matters stays: lines written
    to the old file after the last read, then rename, create and more lines.
    """

    source: FileSource

    def doRollover(self) -> None:
        if self.stream is not None:
            current = os.fstat(self.stream.fileno())
            wait_for(lambda: self.source.current_file() == (current.st_dev, current.st_ino), 5)
        super().doRollover()


def test_hundred_rotations_under_a_writer_lose_nothing(tmp_path):
    path = str(tmp_path / "rot.log")
    open(path, "wb").close()
    source = FileSource(path)
    handler = GatedRotatingHandler(path, maxBytes=200, backupCount=3)
    handler.source = source
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test_rotations")
    logger.propagate = False
    logger.addHandler(handler)
    follower = Follower(source)
    count = 2300  # 9 bytes a line, 22 lines a file: ~104 rotations
    try:
        def write() -> None:
            for i in range(count):
                logger.warning("n %06d", i)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(30)
        assert not writer.is_alive()
        expected = "".join(f"n {i:06d}\n" for i in range(count)).encode()
        wait_for(lambda: len(follower.data) >= len(expected), 10)
        follower.stop()
        assert source.rotations >= 95
        assert follower.generations == 0
        lines = bytes(follower.data).split(b"\n")
        assert lines[:-1] == expected.split(b"\n")[:-1]
    finally:
        follower.stop()
        logger.removeHandler(handler)
        handler.close()
        source.close()


def test_idle_wait_uses_no_cpu(log_path):
    source = FileSource(log_path)
    while source.wait(0.05):  # drain the events of creating the file
        source.update()
    started = time.process_time()
    woke = source.wait(1.0)
    assert not woke
    assert time.process_time() - started < 0.1
    source.close()


def test_stat_poll_fallback_is_cheap_and_prompt(log_path):
    source = FileSource(log_path)
    source._watcher.close()  # what happens where inotify is missing
    started = time.process_time()
    assert not source.wait(0.5)
    assert time.process_time() - started < 0.1
    append_later(log_path, b"more\n", 0.05)
    sent = time.monotonic()
    assert source.wait(2)
    assert time.monotonic() - sent < 0.3
    source.update()
    assert read_all(source) == b"first\nmore\n"
    source.close()


def test_concurrent_reads_during_rotation_are_consistent(log_path):
    source = FileSource(log_path, keep_rotations=100)
    expected = b"first\n" + b"".join(f"gen {i}\n".encode() for i in range(30))
    stop = threading.Event()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            size = source.size()
            data = source.read_at(0, size)
            if len(data) != size or data != expected[:size]:
                errors.append(f"{size}: {data!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(30):
            os.rename(log_path, log_path + ".old")
            with open(log_path, "wb") as out:
                out.write(f"gen {i}\n".encode())
            source.update()
    finally:
        stop.set()
        thread.join(5)
    assert errors == []
    assert read_all(source) == expected
    source.close()


def _rotating_logger(path: str, name: str, **kwargs) -> tuple[logging.Logger, logging.Handler]:
    handler = logging.handlers.RotatingFileHandler(path, **kwargs)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.addHandler(handler)
    return logger, handler


def test_several_rotations_between_two_looks_are_read_in_order(log_path):
    source = FileSource(log_path)
    logger, handler = _rotating_logger(log_path, "test_between", maxBytes=100, backupCount=20)
    try:
        lines = [f"record {i:04d} of a file that rotates fast" for i in range(12)]
        for line in lines:  # 43 bytes a line: a rotation every two lines
            logger.warning(line)
        source.update()
        expected = "first\n" + "".join(f"{line}\n" for line in lines)
        assert read_all(source).decode() == expected
        assert source.rotations >= 5
        assert source.generation == 0
    finally:
        logger.removeHandler(handler)
        handler.close()
        source.close()


def test_timed_rotation_names_between_two_looks(log_path):
    source = FileSource(log_path)
    handler = logging.handlers.TimedRotatingFileHandler(log_path, when="S", backupCount=50)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test_timed_between")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        start = int(time.time()) - 100
        for i in range(6):
            logger.warning("line %d", i)
            handler.rolloverAt = start + i + 1  # a rollover named after second start + i
            handler.doRollover()
        logger.warning("line 6")
        names = sorted(os.listdir(os.path.dirname(log_path)))
        assert len(names) == 7 and all("app.log." in n for n in names[1:])  # dated names
        source.update()
        assert read_all(source) == b"first\n" + b"".join(b"line %d\n" % i for i in range(7))
    finally:
        logger.removeHandler(handler)
        handler.close()
        source.close()


def test_writers_keep_appending_to_rotated_files(log_path):
    """Processes that did not rotate keep writing to the old file: none of it is lost, and a
    half line there never joins a line of the new file."""
    source = FileSource(log_path)
    old = open(log_path, "ab", buffering=0)  # noqa: SIM115 - another process's descriptor
    for i in range(3):
        os.rename(log_path, f"{log_path}.{i}")
        with open(log_path, "wb") as out:
            out.write(f"new file {i}\n".encode())
        source.update()
    old.write(b"late to the first file\nhalf")
    with open(log_path, "ab") as out:
        out.write(b"new file 2 goes on\n")
    source.update()
    old.write(b" of a line\n")
    old.close()
    source.update()
    lines = read_all(source).decode().splitlines()
    assert sorted(lines) == sorted(["first", "new file 0", "new file 1", "new file 2",
                                    "late to the first file", "new file 2 goes on",
                                    "half of a line"])
    assert lines.index("late to the first file") < lines.index("half of a line")
    source.close()


def test_deleted_rotated_files_stay_open_past_the_cap(log_path):
    """A rotated file deleted soon after cannot be opened again: it stays open (up to
    KEEP_DELETED of them), so an index that starts over can still read it."""
    source = FileSource(log_path, keep_rotations=1)
    for i in range(4):
        os.rename(log_path, f"{log_path}.{i}")
        with open(log_path, "wb") as out:
            out.write(f"file {i}\n".encode())
        source.update()
        os.remove(f"{log_path}.{i}")
    assert source.open_descriptors() == 5
    assert read_all(source) == b"first\nfile 0\nfile 1\nfile 2\nfile 3\n"
    source.update()
    assert source.open_descriptors() == 5
    assert read_all(source) == b"first\nfile 0\nfile 1\nfile 2\nfile 3\n"
    source.close()


def test_a_file_deleted_before_it_could_be_opened_is_counted_and_said(log_path, monkeypatch):
    """Rotated files are opened the moment inotify reports them; one that is gone even before
    that (events held back here) cannot be read, and the source says how many."""
    from logview.sources import siblings
    from logview.sources.watch import shared_instance

    monkeypatch.setattr(siblings, "ARRIVALS_SETTLE", 0.05)
    source = FileSource(log_path)
    instance = shared_instance()
    assert instance is not None
    with instance.lock:  # the watcher's thread cannot hand out events meanwhile
        os.rename(log_path, log_path + ".1")
        with open(log_path, "wb") as out:
            out.write(b"in a file nobody will see\n")
        os.rename(log_path, log_path + ".2")
        os.remove(log_path + ".2")
        with open(log_path, "wb") as out:
            out.write(b"newest\n")
    wait_for(lambda: source._siblings.arrivals == 2, 5)
    source.update()
    wait_for(lambda: (source.update(), source.notices)[1], 2)
    assert read_all(source) == b"first\nnewest\n"
    assert len(source.notices) == 1
    assert "1 file took the name" in source.notices[0]
    assert "deleted before logview could open" in source.notices[0]
    source.close()


def test_a_copy_made_by_hand_is_not_read_as_a_rotated_file(log_path):
    """``cp app.log app.log.bak`` beside a followed file holds records we have: a rotation
    after it must not read them again."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"second\n")
    source.update()
    shutil.copyfile(log_path, log_path + ".bak")
    os.rename(log_path, log_path + ".1")
    with open(log_path, "wb") as out:
        out.write(b"new file\n")
    source.update()
    assert read_all(source) == b"first\nsecond\nnew file\n"
    source.close()
