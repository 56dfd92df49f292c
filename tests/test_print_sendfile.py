"""A whole text file printed into a pipe or a file is copied inside the kernel (sendfile),
byte for byte, and a file that shrinks meanwhile is said, as the reading copy says it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from logview.headless import run_print
from logview.query import parse_query
from logview.sources.base import SourceError, StaticFileSource
from logview.store import open_store

DATA = b"".join(b"INFO:app:line %d\n" % i for i in range(200_000)) + b"ERROR:app:no newline"


def test_a_pipe_gets_the_bytes_as_they_are(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(DATA)
    got = subprocess.run([sys.executable, "-m", "logview", str(path), "--print"],
                         capture_output=True, check=True,
                         timeout=60)
    assert got.stdout == DATA + b"\n"  # (the last record ended with a newline)


def test_a_file_gets_them_through_sendfile(tmp_path, monkeypatch):
    path, out_path = tmp_path / "app.log", tmp_path / "out.log"
    path.write_bytes(DATA)
    sent: list[int] = []
    real = StaticFileSource.send_to

    def send_to(self, fd, offset, size):
        got = real(self, fd, offset, size)
        sent.append(got)
        return got

    monkeypatch.setattr(StaticFileSource, "send_to", send_to)
    with open(out_path, "wb") as out:
        out.write(b"before\n")  # buffered: written before the kernel's copy
        status = run_print(open_store(StaticFileSource(str(path))), parse_query(""), out,
                           original=True)
    assert status == 0
    assert sum(sent) == len(DATA)
    assert out_path.read_bytes() == b"before\n" + DATA + b"\n"


def test_a_file_cut_while_it_is_sent_is_said(tmp_path, monkeypatch):
    path, out_path = tmp_path / "app.log", tmp_path / "out.log"
    path.write_bytes(DATA)
    monkeypatch.setattr("logview.headless.SEND_BYTES", 1 << 20)
    real = StaticFileSource.send_to
    cut: list[int] = []

    def send_to(self, fd, offset, size):
        if offset >= 2 << 20 and not cut:
            cut.append(offset + 100)
            os.truncate(path, cut[0])
        return real(self, fd, offset, size)

    monkeypatch.setattr(StaticFileSource, "send_to", send_to)
    with open(out_path, "wb") as out, pytest.raises(SourceError, match="changed while"):
        run_print(open_store(StaticFileSource(str(path))), parse_query(""), out,
                  original=True)
    assert out_path.read_bytes() == DATA[:cut[0]]
