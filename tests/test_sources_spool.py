"""InputSpool and SpoolSource: memory first, a temporary file past the limit, thread-safe."""

from __future__ import annotations

import os
import tempfile
import threading

from logview.sources.spool import InputSpool, SpoolSource


def test_spills_to_disk_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spool = InputSpool(memory_limit=1000)
    chunks = [bytes([65 + i % 26]) * 97 for i in range(50)]
    for chunk in chunks[:10]:
        spool.append(chunk)
    assert not spool.spilled
    for chunk in chunks[10:]:
        spool.append(chunk)
    assert spool.spilled
    whole = b"".join(chunks)
    assert spool.size() == len(whole)
    assert spool.read_at(0, len(whole)) == whole
    assert spool.read_at(950, 100) == whole[950:1050]  # across the old memory boundary
    assert spool.read_at(len(whole) - 5, 100) == whole[-5:]
    assert spool.read_at(len(whole), 10) == b""
    assert os.listdir(tmp_path) == []  # the spool file has no name: nothing left behind
    spool.close()
    assert spool.read_at(0, 10) == b""


def test_concurrent_append_and_read():
    spool = InputSpool(memory_limit=64 * 1024)
    line = b"0123456789abcdef" * 4
    stop = threading.Event()
    errors: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            size = spool.size()
            size -= size % len(line)
            data = spool.read_at(0, size)
            if data != line * (size // len(line)):
                errors.append(size)

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(5000):  # 320 KB: spills midway
        spool.append(line)
    stop.set()
    thread.join(5)
    assert spool.spilled
    assert errors == []
    spool.close()


def test_source_shows_bytes_only_after_update_and_finishes_after_the_last():
    source = SpoolSource("test")
    source.append(b"a\n")
    assert source.size() == 0
    assert source.wait(0.01)
    assert source.update() == 2
    source.append(b"b\n")
    source.finish()
    assert not source.finished
    assert source.update() == 2
    assert source.finished
    assert source.read_at(0, 10) == b"a\nb\n"
    assert source.wait(0.01)  # woken by the finish
    assert not source.wait(0.01)  # then nothing more
    source.close()
