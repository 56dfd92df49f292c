"""Rotated sets: finding and ordering members, concatenation, compressed members, following."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import random

import pytest

from logview.sources import rotated
from logview.sources.base import SourceError
from logview.sources.rotated import (
    CompressedSource,
    RotatedSetSource,
    find_rotated_set,
    order_rotated,
)
from tests.conftest import read_all


def drain(source) -> None:
    while True:
        source.update()
        if source.finished or not source.wait(0):
            return


@pytest.fixture
def rotated_dir(tmp_path):
    """app.log with four rotations (each compression), a dated one and unrelated files."""
    d = tmp_path
    (d / "app.log").write_bytes(b"line 6\n")
    (d / "app.log.1").write_bytes(b"line 5\n")
    (d / "app.log.2.gz").write_bytes(gzip.compress(b"line 4\n"))
    (d / "app.log.3.bz2").write_bytes(bz2.compress(b"line 3\n"))
    (d / "app.log.4.xz").write_bytes(lzma.compress(b"line 2\n"))
    (d / "app.log-20240101.gz").write_bytes(gzip.compress(b"line 1\n"))
    (d / "app.log.bak").write_bytes(b"not a rotation\n")
    (d / "other.log").write_bytes(b"other\n")
    (d / "other.log.1").write_bytes(b"other old\n")
    return d


def test_find_rotated_set_orders_oldest_first(rotated_dir):
    members = find_rotated_set(str(rotated_dir / "app.log"))
    assert [os.path.basename(m) for m in members] == [
        "app.log-20240101.gz", "app.log.4.xz", "app.log.3.bz2", "app.log.2.gz", "app.log.1",
        "app.log",
    ]


def test_timed_rotating_suffixes_sort_by_date(tmp_path):
    names = ["app.log", "app.log.2024-01-03_04", "app.log.2024-01-02", "app.log.2024-01-03",
             "app.log.2024-01-03_04-05-06"]
    for name in names:
        (tmp_path / name).write_bytes(b"x\n")
    members = [os.path.basename(m) for m in find_rotated_set(str(tmp_path / "app.log"))]
    assert members == ["app.log.2024-01-02", "app.log.2024-01-03", "app.log.2024-01-03_04",
                       "app.log.2024-01-03_04-05-06", "app.log"]


def test_loguru_rotation_names_before_the_extension(tmp_path):
    # loguru's rotation="..." renames app.log to app.2026-12-02_10-00-00_123456.log
    from loguru import logger

    handle = logger.add(tmp_path / "app.log", rotation="2 KB", format="{time} {level} {message}")
    try:
        for k in range(200):
            logger.info("record {} of the rotated set", k)
    finally:
        logger.remove(handle)
    names = sorted(os.listdir(tmp_path))
    assert len(names) > 3 and all(n.startswith("app.") and n.endswith(".log") for n in names)
    members = find_rotated_set(str(tmp_path / "app.log"))
    assert len(members) == len(names) and members[-1] == str(tmp_path / "app.log")
    text = b"".join((tmp_path / m).read_bytes() for m in members).decode()
    assert [int(line.split(" record ")[1].split()[0]) for line in text.splitlines()] == list(
        range(200))  # oldest first: every record once, in order


def test_order_rotated_groups_a_shell_expansion():
    paths = ["b.log", "a.log.10", "a.log", "a.log.2.gz", "b.log.1", "c.jsonl", "a.log.9"]
    random.Random(1).shuffle(paths)
    groups = order_rotated(sorted(paths))
    assert groups == [
        ["a.log.10", "a.log.9", "a.log.2.gz", "a.log"],
        ["b.log.1", "b.log"],
        ["c.jsonl"],
    ]


def test_set_reads_as_one_space_and_follows_the_newest(rotated_dir):
    members = find_rotated_set(str(rotated_dir / "app.log"))
    source = RotatedSetSource(members, follow=True)
    drain(source)
    assert read_all(source) == b"".join(f"line {i}\n".encode() for i in range(1, 7))
    assert source.read_at(3, 10) == b"e 1\nline 2"  # a read across two members
    assert not source.finished
    with open(rotated_dir / "app.log", "ab") as out:
        out.write(b"line 7\n")
    assert source.wait(2)
    assert source.update() == 7
    assert read_all(source).endswith(b"line 6\nline 7\n")
    source.close()


def test_set_not_followed_finishes(rotated_dir):
    source = RotatedSetSource(find_rotated_set(str(rotated_dir / "other.log")), follow=False)
    drain(source)
    assert source.finished
    assert read_all(source) == b"other old\nother\n"
    source.close()


def test_rotation_of_the_newest_member_appends(tmp_path):
    (tmp_path / "app.log.1").write_bytes(b"old\n")
    (tmp_path / "app.log").write_bytes(b"current\n")
    source = RotatedSetSource([str(tmp_path / "app.log.1"), str(tmp_path / "app.log")])
    drain(source)
    os.rename(tmp_path / "app.log", tmp_path / "app.log.2")
    (tmp_path / "app.log").write_bytes(b"newest\n")
    source.update()
    assert read_all(source) == b"old\ncurrent\nnewest\n"
    assert source.generation == 0
    source.close()


def test_big_compressed_file_is_decompressed_in_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(rotated, "DECOMPRESS_SLICE", 1 << 20)
    lines = b"".join(b"record %07d with some padding text\n" % i for i in range(120_000))
    path = tmp_path / "big.log.gz"
    with gzip.open(path, "wb") as out:
        out.write(lines)
    source = CompressedSource(str(path))
    steps = 1
    while not source.finished:
        assert source.wait(0)  # never sleeps while there is more to decompress
        added = source.update()
        assert added <= 2 << 20
        steps += 1
    assert steps > 3
    assert source.size() == len(lines)
    assert source.read_at(len(lines) - 37, 37) == lines[-37:]
    assert source.error is None
    source.close()


def test_cut_short_compressed_file_keeps_what_decoded(tmp_path):
    data = b"".join(b"line %d\n" % i for i in range(20000))
    packed = gzip.compress(data)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    source = CompressedSource(str(path))
    drain(source)
    assert source.finished
    assert source.error and "cut.log.gz" in source.error
    got = read_all(source)
    assert 0 < len(got) < len(data)
    assert data.startswith(got)
    source.close()


def test_not_compressed_is_refused(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(b"plain text\n")
    with pytest.raises(SourceError, match="not a gzip, bzip2 or xz file"):
        CompressedSource(str(path))
