"""Rotated files that logrotate's ``compress`` gzipped and deleted before logview could open
them: read from their compressed copies, in order, once; the copies of files logview read
are not read again, nor the ones that were there before it came.

The inotify thread is held (its lock) while the rotations happen, so the files are gone
before it could open them, as at back-to-back rotations."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable

import pytest

from logview.sources.file import FileSource
from logview.sources.siblings import Siblings
from logview.sources.watch import shared_instance
from tests.conftest import read_all


def write(path: str, lines: list[str]) -> None:
    with open(path, "a") as out:
        out.writelines(f"{line}\n" for line in lines)


def rotate(path: str, done: int, *, delay: bool = False, corrupt: bool = False) -> None:
    """logrotate's compress (``delay``: with delaycompress), as it does it."""
    for n in range(done, 1 if delay else 0, -1):
        os.replace(f"{path}.{n}.gz", f"{path}.{n + 1}.gz")
    if delay and done:
        os.replace(path + ".1", path + ".2")
    os.replace(path, path + ".1")
    open(path, "w").close()
    late = (".2" if done else None) if delay else ".1"
    if late:
        with open(path + late, "rb") as src, gzip.open(path + late + ".gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        if corrupt:  # cut short: the end of the file is not in it
            with open(path + late + ".gz", "r+b") as gz:
                gz.truncate(os.path.getsize(path + late + ".gz") - 12)
        os.remove(path + late)


def lines(name: str, count: int = 5) -> list[str]:
    return [f"{name} record {i} with some padding to make the file longer" for i in range(count)]


def test_files_gzipped_and_deleted_before_they_were_opened_are_read_from_the_gz(tmp_path):
    path = str(tmp_path / "app.log")
    with gzip.open(path + ".9.gz", "wt") as old:  # there before: not ours to read
        old.write("an old rotation\n")
    write(path, lines("a"))
    source = FileSource(path)
    instance = shared_instance()
    assert instance is not None
    with instance.lock:  # the inotify thread cannot open anything meanwhile
        for n, name in enumerate("bcd"):
            rotate(path, n)
            write(path, lines(name))
    source.update()
    expected = "".join(f"{line}\n" for name in "abcd" for line in lines(name))
    assert read_all(source).decode() == expected  # a from its descriptor, b and c from .gz
    assert source.notices == ()
    with instance.lock:
        rotate(path, 3)
        write(path, lines("e"))
    source.update()
    assert read_all(source).decode() == expected + "".join(f"{x}\n" for x in lines("e"))
    source.close()


def test_delaycompress_files_deleted_unseen_are_read_from_the_gz(tmp_path):
    path = str(tmp_path / "app.log")
    write(path, lines("a"))
    source = FileSource(path)
    instance = shared_instance()
    assert instance is not None
    with instance.lock:
        for n, name in enumerate("bcdef"):
            rotate(path, n, delay=True)
            write(path, lines(name))
    source.update()
    expected = "".join(f"{line}\n" for name in "abcdef" for line in lines(name))
    assert read_all(source).decode() == expected
    assert source.notices == ()
    source.close()


def test_a_damaged_gz_of_a_file_never_opened_gives_what_decodes_and_says_so(tmp_path):
    path = str(tmp_path / "app.log")
    write(path, lines("a"))
    source = FileSource(path)
    instance = shared_instance()
    assert instance is not None
    many = lines("b", 2000)
    with instance.lock:
        rotate(path, 0)
        write(path, many)
        rotate(path, 1, corrupt=True)
        write(path, lines("c"))
    os.utime(path + ".1.gz", (1, 1))  # long written: no compressor still at work on it
    source.update()
    got = read_all(source).decode().splitlines()
    assert got[:5] == lines("a") and got[-5:] == lines("c")
    middle = got[5:-5]
    assert middle and middle == many[: len(middle)] and len(middle) < len(many)
    [notice] = source.notices
    assert "app.log.1.gz" in notice and "the rest of that rotated file is lost" in notice
    source.close()


def test_a_file_there_before_compressed_later_is_not_read(tmp_path):
    """delaycompress gzips yesterday's app.log.1 at today's rotation: logview never read it
    (it was there before it started), so its .gz is no file that escaped."""
    path = str(tmp_path / "app.log")
    write(path + ".1", lines("yesterday"))
    write(path, lines("a"))
    source = FileSource(path)
    instance = shared_instance()
    assert instance is not None
    with instance.lock:
        rotate(path, 1, delay=True)  # app.log.1 -> .2 -> .2.gz; app.log -> .1
        write(path, lines("b"))
    source.update()
    expected = "".join(f"{line}\n" for name in "ab" for line in lines(name))
    assert read_all(source).decode() == expected
    assert source.notices == ()
    source.close()


def _stop_pins(monkeypatch) -> Callable[[Siblings, str], None]:
    """The inotify thread opens no file on arrival (as when the machine keeps it waiting):
    rotated files are taken by name, at a look. Returns the real ``pin``."""
    pin = Siblings.pin
    monkeypatch.setattr(Siblings, "pin", lambda self, entry: None)
    return pin


def _start_second_rotation(path: str, name: str) -> None:
    """logrotate compress, stopped before its gzip: ``.1.gz`` -> ``.2.gz``, app.log -> .1,
    a new app.log holding ``name``'s lines."""
    os.replace(path + ".1.gz", path + ".2.gz")
    os.replace(path, path + ".1")
    open(path, "w").close()
    write(path, lines(name))


def _mid_second_rotation(tmp_path) -> tuple[str, FileSource]:
    """A followed app.log: a rotated and gzipped (held open), b rotated to ``.1`` by a
    second rotation stopped before its gzip, c in the new app.log."""
    path = str(tmp_path / "app.log")
    write(path, lines("a"))
    source = FileSource(path)
    rotate(path, 0)  # a -> .1 -> .1.gz (a is held open: its .gz is a copy of ours)
    write(path, lines("b"))
    _start_second_rotation(path, "c")
    return path, source


def _gzip_away(path: str) -> None:
    """The rest of logrotate compress: app.log.1 -> app.log.1.gz, app.log.1 deleted."""
    with open(path + ".1", "rb") as src, gzip.open(path + ".1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.remove(path + ".1")


def _when_opened(monkeypatch, name: str, step: Callable[[], None]) -> list[str]:
    """Run ``step`` once, when the follower opens the rotated file listed as ``name`` (after
    the look listed it and chose the order, before it is read); returns the names opened."""
    opened: list[str] = []
    real_open = Siblings.open

    def open_(self, path, key):
        if os.path.basename(path) == name and name not in opened:
            step()
        opened.append(os.path.basename(path))
        return real_open(self, path, key)

    monkeypatch.setattr(Siblings, "open", open_)
    return opened


def expected(names: str) -> str:
    return "".join(f"{line}\n" for name in names for line in lines(name))


def test_a_rotated_file_gzipped_and_deleted_after_it_was_listed_is_read_in_its_place(
        tmp_path, monkeypatch):
    """Back-to-back compress: b is app.log.1 when the look lists it, gzipped and deleted by
    the time it is opened. Its lines come from its .gz, before c's (they were skipped at that
    look and read from the .gz at the next one, after c's: the out-of-order records of
    test_lose_nothing's compress-back-to-back)."""
    _stop_pins(monkeypatch)
    path, source = _mid_second_rotation(tmp_path)
    opened = _when_opened(monkeypatch, "app.log.1", lambda: _gzip_away(path))
    source.update()
    assert opened == ["app.log.1"]
    assert read_all(source).decode() == expected("abc")
    source.update()
    assert read_all(source).decode() == expected("abc")
    assert source.notices == ()
    source.close()


def test_a_new_file_with_the_inode_of_a_listed_one_is_not_read_as_it(tmp_path, monkeypatch):
    """b is listed as app.log.1, then gzipped and deleted, and the next rotation's new
    app.log (d) gets b's inode (ext4 hands a freed inode out again at once) and is opened on
    arrival: d is not read in b's place (b's lines come from its .gz), and d is read as the
    file that has the name after c."""
    real_pin = _stop_pins(monkeypatch)
    path, source = _mid_second_rotation(tmp_path)
    b_inode = os.stat(path + ".1").st_ino
    reused: list[bool] = []

    def next_rotation() -> None:
        _gzip_away(path)  # b's inode is free
        os.replace(path + ".2.gz", path + ".3.gz")
        os.replace(path + ".1.gz", path + ".2.gz")
        os.replace(path, path + ".1")  # c
        open(path, "w").close()  # d
        reused.append(os.stat(path).st_ino == b_inode)
        real_pin(source._siblings, "app.log")  # the inotify thread opens d as it arrives

    _when_opened(monkeypatch, "app.log.1", next_rotation)
    source.update()
    if not reused[0]:
        source.close()
        pytest.skip("this file system did not give the freed inode to the next new file")
    assert read_all(source).decode() == expected("abc")
    write(path, lines("d"))
    source.update()
    assert read_all(source).decode() == expected("abcd")
    assert source.notices == ()
    source.close()


def test_a_file_read_from_its_gz_is_not_read_again_from_a_late_descriptor(tmp_path,
                                                                         monkeypatch):
    """b was deleted (only its .gz left) when the look read it from the .gz; the inotify
    thread had opened b just before, and its descriptor comes in after that look: b is not
    read a second time from it."""
    _stop_pins(monkeypatch)
    path, source = _mid_second_rotation(tmp_path)
    late = os.open(path + ".1", os.O_RDONLY)  # what the inotify thread's pin opened
    st = os.fstat(late)
    _gzip_away(path)
    source.update()
    assert read_all(source).decode() == expected("abc")
    siblings = source._siblings
    with siblings._lock:  # (pin's last step, as it runs on the inotify thread)
        siblings._pins[st.st_dev, st.st_ino] = (late, path + ".1")
    rotate(path, 2)  # c -> .1 -> .1.gz; e has the name
    write(path, lines("e"))
    source.update()
    assert read_all(source).decode() == expected("abce")
    source.close()


def test_compressed_rotations_listed_while_their_names_shift_are_all_listed(tmp_path,
                                                                            monkeypatch):
    """logrotate shifts every ``.N.gz`` to ``.N+1.gz`` at each rotation; a listing the shift
    runs through (here: right after its first file was opened) lists every file, once. (In
    the directory's order a file could move to a name already passed: a file that escaped,
    in the .gz only, was read a look later, after newer records.)"""
    from logview.sources import compressed_siblings

    path = str(tmp_path / "app.log")
    write(path, lines("a"))
    siblings = Siblings(path)
    rotations = siblings.compressed  # (the ones there from here on are new)
    for n in range(1, 7):
        with gzip.open(f"{path}.{n}.gz", "wt") as out:
            out.write("".join(f"{line}\n" for line in lines(f"r{n}")))
    keys = {(st.st_dev, st.st_ino) for st in map(os.stat, glob_gz(tmp_path))}
    real_open = open
    opened: list[str] = []

    def shifting_open(name, *args, **kwargs):
        handle = real_open(name, *args, **kwargs)
        opened.append(os.path.basename(name))
        if len(opened) == 1:  # a rotation shifts the names, from the highest down
            for n in range(6, 0, -1):
                os.replace(f"{path}.{n}.gz", f"{path}.{n + 1}.gz")
        return handle

    monkeypatch.setattr(compressed_siblings, "open", shifting_open, raising=False)
    listed = [(st.st_dev, st.st_ino) for _, st, head in rotations.listing()]
    monkeypatch.undo()
    assert opened  # (the hook ran)
    assert sorted(listed) == sorted(keys)
    siblings.close()


def glob_gz(directory) -> list[str]:
    return [os.path.join(directory, name) for name in os.listdir(directory)
            if name.endswith(".gz")]
