"""Listing rotated files while a rotation shifts their names: none is missed."""

from __future__ import annotations

import os
import threading

from logview.sources.siblings import Siblings


class Shifter:
    """A rotation of numbered names: ``app.log.N`` -> ``N+1`` for every N, then a new ``.1``;
    ``top[0]`` is how many there are."""

    def __init__(self, path) -> None:
        self.path = path
        self.top = [0]

    def __call__(self) -> None:
        top, path = self.top, self.path
        for n in range(top[0], 0, -1):
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")
        (path.parent / f"{path.name}.1").write_bytes(b"rotated %d\n" % top[0])
        top[0] += 1


def test_a_listing_taken_while_names_shift_misses_no_file(tmp_path):
    """A rotator shifts ``app.log.N`` -> ``N+1`` and makes a new ``.1`` as fast as it can
    while the listing is taken, again and again: every file there when a listing starts is
    in it, once. (In the directory's own order a file that moved to a name already passed
    was missed, and its records were read a look later, after newer ones.)"""
    path = tmp_path / "app.log"
    path.write_bytes(b"current\n")
    add_new = Shifter(path)
    top = add_new.top
    for _ in range(30):
        add_new()
    siblings = Siblings(str(path))
    stop = threading.Event()

    def rotate() -> None:
        while not stop.is_set() and top[0] < 200:  # (about 120 listings meanwhile)
            add_new()

    rotator = threading.Thread(target=rotate)
    rotator.start()
    missed = listings = 0
    try:
        while rotator.is_alive() and listings < 300:
            before = _rotated(tmp_path)
            listed = [(st.st_dev, st.st_ino) for _, st, _ in siblings._list_names()]
            assert len(listed) == len(set(listed)), "a file listed twice"
            missed += len(before - set(listed))
            listings += 1
    finally:
        stop.set()
        rotator.join(10)
        siblings.close()
    assert listings > 20
    assert missed == 0


def _rotated(directory) -> set[tuple[int, int]]:
    """The rotated files there now (names shift while this looks: a file missed here only
    makes the test weaker, never wrong)."""
    keys = set()
    for name in os.listdir(directory):
        if name.startswith("app.log."):
            try:
                st = os.stat(directory / name)
            except FileNotFoundError:
                continue
            keys.add((st.st_dev, st.st_ino))
    return keys


def test_a_file_found_by_inode_after_a_shift_is_opened_where_it_was_found(tmp_path, monkeypatch):
    """A listed file moved on (``.2`` -> ``.3``) before it was opened, and moves again between
    the walk that finds it and the open of the name it was found under: it is opened on the
    spot, during the walk. (Opened by name afterwards, it was missed, and its records were
    read a look later, after newer ones.) The renames are real; the hook only times them."""
    path = tmp_path / "app.log"
    path.write_bytes(b"current\n")
    shift = Shifter(path)

    for _ in range(3):
        shift()
    siblings = Siblings(str(path))
    st = os.stat(f"{path}.2")
    key = (st.st_dev, st.st_ino)
    shift()  # the file is app.log.3 now, and app.log.2 another one
    real_open = os.open
    opened = []

    def moving_open(name, flags, *args, **kwargs):
        if str(name) == f"{path}.3":
            opened.append(name)
            if len(opened) == 2:  # the second open of that name: a rotation just before it
                shift()
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", moving_open)
    fd = siblings.open(f"{path}.2", key)
    monkeypatch.setattr(os, "open", real_open)
    assert fd is not None and fd >= 0
    try:
        found = os.fstat(fd)
        assert (found.st_dev, found.st_ino) == key
        assert os.pread(fd, 100, 0) == b"rotated 1\n"
    finally:
        os.close(fd)
    siblings.close()
