"""FileSource under copytruncate (logrotate): the copy found by its first bytes, copies of
whole cycles between two looks, copies cut inside a line, truncations seen in the middle of a
look, and a truncation with no copy."""

from __future__ import annotations

import os
import shutil

from logview.sources.file import FileSource
from tests.conftest import read_all


def test_truncation_hidden_by_a_larger_size_is_noticed(log_path):
    source = FileSource(log_path)
    with open(log_path, "wb") as out:  # truncate and write more than there was
        out.write(b"a much longer first line\n")
    source.update()
    assert source.generation == 1
    assert read_all(source) == b"a much longer first line\n"
    source.close()


def test_a_truncation_in_the_middle_of_a_look_is_not_read_as_growth(log_path, monkeypatch):
    """The file is truncated just before its first bytes are read (they come back empty) and
    refilled past the old size before its size is taken: an empty head is no sign of the same
    file. (It used to match any known head, and the new content was appended from the old
    offset, mid-line: the viewer's copytruncate soak showed records out of order.) The real
    file operations run at that moment; the hook only times them."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"old line one\nold line two\n")
    source.update()
    assert read_all(source) == b"first\nold line one\nold line two\n"
    real_pread = os.pread
    armed = [True]

    def racing_pread(fd, size, offset):
        data = real_pread(fd, size, offset)
        if armed[0] and offset == 0 and size >= 256:
            armed[0] = False
            os.truncate(log_path, 0)
            data = real_pread(fd, size, offset)  # b"": the truncation seen
            with open(log_path, "ab") as out:  # refilled before the size is looked at
                out.write(b"".join(b"new line %d\n" % i for i in range(10)))
        return data

    monkeypatch.setattr(os, "pread", racing_pread)
    source.update()
    monkeypatch.setattr(os, "pread", real_pread)
    assert not armed[0]
    new = b"".join(b"new line %d\n" % i for i in range(10))
    # Seen as the truncation it is (no copy: the space starts over, and says so), or left
    # for the next look; never the new bytes from the old offset.
    assert read_all(source) in (b"first\nold line one\nold line two\n", new)
    source.update()
    assert read_all(source) == new
    assert source.generation == 1
    source.close()


def test_a_file_that_grows_between_its_first_bytes_and_its_size_is_still_known_by_them(
        tmp_path, monkeypatch):
    """The writer adds lines between the look at the file's first bytes (none yet) and the
    look at its size. The bytes taken must be known by their first bytes all the same: an
    empty head matched no copy, so the next copytruncate restarted the space and lost what
    was read (the viewer's copytruncate soak lost the first few hundred records in about one
    run in 30). The real file operations run at that moment; the hook only times them."""
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    log_path = str(path)
    source = FileSource(log_path)
    lines = b"".join(b"old line %d\n" % i for i in range(20))
    real_pread = os.pread
    armed = [True]

    def writer_between(fd, size, offset):
        data = real_pread(fd, size, offset)
        if armed[0] and offset == 0 and size >= 256 and not data:
            armed[0] = False
            with open(log_path, "ab") as out:
                out.write(lines)
        return data

    monkeypatch.setattr(os, "pread", writer_between)
    source.update()
    monkeypatch.setattr(os, "pread", real_pread)
    assert not armed[0]
    source.update()
    assert read_all(source) == lines
    shutil.copyfile(log_path, log_path + ".1")  # logrotate's copytruncate
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"new line\n")
    source.update()
    assert source.generation == 0, source.notices
    assert read_all(source) == lines + b"new line\n"
    source.close()


def test_copytruncate_reads_the_rest_from_the_copy(log_path):
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"seen before the rotation\n")
    source.update()
    with open(log_path, "ab") as out:
        out.write(b"written just before the copy\n")
    shutil.copyfile(log_path, log_path + ".1")  # logrotate copytruncate
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"after the truncation\n")
    source.update()
    assert read_all(source) == (b"first\nseen before the rotation\nwritten just before the copy\n"
                                b"after the truncation\n")
    assert source.generation == 0
    assert source.copies_found == 1
    assert source.notices == ()
    source.close()


def test_a_copy_that_ends_inside_a_line_keeps_that_line_apart(log_path):
    """logrotate copied while a write was half done: the copy ends inside a line whose rest
    the truncation took. The part is kept, ended by logview, and said; the next file's first
    line does not join it."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"seen before the rotation\ncut in ha")
    source.update()
    source.update()  # the half line seen twice: still not taken
    assert read_all(source) == b"first\nseen before the rotation\n"
    shutil.copyfile(log_path, log_path + ".1")
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"after the truncation\n")
    source.update()
    assert read_all(source) == (b"first\nseen before the rotation\ncut in ha\n"
                                b"after the truncation\n")
    assert source.read_at(source.size() - 22, 22) == b"\nafter the truncation\n"
    assert any("cut by a copytruncate" in notice for notice in source.notices)
    with open(log_path, "ab") as out:
        out.write(b"later\n")
    source.update()
    assert read_all(source).endswith(b"cut in ha\nafter the truncation\nlater\n")
    source.close()


def test_a_copy_of_a_whole_cycle_that_ends_inside_a_line_is_read_to_its_end(log_path):
    """Two copytruncates between two looks; the second cycle's copy (read whole, the file
    never seen) ends inside a line: its part is kept (it used to be left out: the last
    record of such a copy was missing in the soak)."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"cycle 1\n")
    shutil.copyfile(log_path, log_path + ".1")
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"cycle 2\ncut in ha")
    os.replace(log_path + ".1", log_path + ".2")
    shutil.copyfile(log_path, log_path + ".1")
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"now\n")
    source.update()
    assert read_all(source) == b"first\ncycle 1\ncycle 2\ncut in ha\nnow\n"
    assert any("cut by a copytruncate" in notice for notice in source.notices)
    source.close()


def test_a_copy_shorter_than_what_was_read_cuts_inside_a_line(log_path):
    """The copy holds less than logview had read (the writer wrote between logrotate's copy
    and its truncation) and ends inside a line: the space keeps the copy's part of it, ended,
    and the truncated file's lines come after it, each a line of its own."""
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"line two\n")
    source.update()
    with open(log_path + ".1", "wb") as copy:
        copy.write(b"first\nline t")  # what logrotate's copy got
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"after\n")
    source.update()
    assert read_all(source) == b"first\nline t\nafter\n"
    assert source.generation == 0
    source.close()


def test_two_copytruncates_between_two_looks(log_path):
    source = FileSource(log_path)
    for cycle in (1, 2):
        with open(log_path, "ab") as out:
            out.write(f"cycle {cycle}\n".encode())
        os.replace(log_path + ".1", log_path + ".2") if cycle == 2 else None
        shutil.copyfile(log_path, log_path + ".1")
        os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"now\n")
    source.update()
    assert read_all(source) == b"first\ncycle 1\ncycle 2\nnow\n"
    assert source.generation == 0
    source.close()


def test_copies_made_within_one_tick_of_the_file_clock_keep_their_order(log_path):
    """Copies are ordered by when they were written, but file times move in ticks of a few
    milliseconds: copies with one time are ordered by their rotated names (``.8`` first)."""
    source = FileSource(log_path)
    # Files made beforehand take the copies, the last made first: inode numbers (reused in
    # any order on a busy file system) must not be what orders them.
    spare = [f"{log_path}-spare{i}" for i in range(8)]
    for path in spare:
        open(path, "wb").close()
    for cycle in range(8):
        with open(log_path, "ab") as out:
            out.write(f"cycle {cycle}\n".encode())
        for n in range(cycle, 0, -1):
            os.replace(f"{log_path}.{n}", f"{log_path}.{n + 1}")
        shutil.copyfile(log_path, spare[7 - cycle])  # logrotate's copy...
        os.replace(spare[7 - cycle], log_path + ".1")  # ...under the rotated name
        os.truncate(log_path, 0)
    stamp = os.stat(log_path + ".1").st_mtime_ns
    for n in range(1, 9):
        os.utime(f"{log_path}.{n}", ns=(stamp, stamp))
    with open(log_path, "ab") as out:
        out.write(b"now\n")
    source.update()
    assert read_all(source) == b"first\n" + b"".join(
        f"cycle {cycle}\n".encode() for cycle in range(8)) + b"now\n"
    source.close()


def test_truncation_without_a_copy_restarts_and_says_so(log_path):
    source = FileSource(log_path)
    with open(log_path, "ab") as out:
        out.write(b"second line\n")
    source.update()
    os.truncate(log_path, 0)
    with open(log_path, "ab") as out:
        out.write(b"new\n")
    source.update()
    assert source.generation == 1
    assert read_all(source) == b"new\n"
    assert len(source.notices) == 1
    assert "truncated at byte 18" in source.notices[0]
    assert "no copy" in source.notices[0]
    source.close()
