"""Hostile files, continued: a file that shrinks while it is indexed or printed gives a clear
message or a restart, never a traceback and never a silent partial answer."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_helpers import lines

from logview import index
from logview.sources.base import SourceError, StaticFileSource
from logview.sources.file import FileSource
from logview.store import open_store

# ---------------------------------------------------------------------------------------------
# A file that shrinks while it is read.

BIG_LINES = 300_000  # about 16 MB: several index chunks


@pytest.fixture(scope="module")
def big_data() -> bytes:
    return lines(0, BIG_LINES)


class _Shrink:
    """Truncates ``path`` to ``to(offset)`` once, just before the first read at or past
    ``at`` of at least ``min_size`` bytes (on whichever thread makes it)."""

    def __init__(self, path: Path, at: int, to: Callable[[int], int], min_size: int = 0,
                 then: bytes = b"") -> None:
        self.path, self.at, self.to, self.min_size, self.then = path, at, to, min_size, then
        self.done = threading.Event()
        #: Set before the file is cut: another thread may read the cut file (and the run end)
        #: before ``done`` is set.
        self.begun = threading.Event()
        self._lock = threading.Lock()

    def before_read(self, offset: int, size: int) -> None:
        if offset < self.at or size < self.min_size or self.done.is_set():
            return
        with self._lock:
            if not self.done.is_set():
                self.begun.set()
                os.truncate(self.path, self.to(offset))
                if self.then:  # a writer that goes on in the emptied file
                    with open(self.path, "ab") as out:
                        out.write(self.then)
                self.done.set()


@pytest.fixture
def shrinking(monkeypatch):
    """Installs a ``_Shrink`` on every ``StaticFileSource`` read (the CLI's --print source)."""

    def install(shrink: _Shrink) -> _Shrink:
        real = StaticFileSource.read_at

        def read_at(self, offset: int, size: int) -> bytes:
            shrink.before_read(offset, size)
            return real(self, offset, size)

        monkeypatch.setattr(StaticFileSource, "read_at", read_at)
        return shrink

    return install


def test_a_file_cut_under_the_index_is_a_clear_error(tmp_path, big_data, run_main, shrinking):
    """A read of the index comes back short: one line on stderr, status 2, no traceback (it
    was an IndexingError traceback)."""
    path = tmp_path / "big.log"
    path.write_bytes(big_data)
    shrink = shrinking(_Shrink(path, 8 << 20, lambda offset: offset + 100, min_size=1 << 20))
    status, out, err = run_main(str(path), "--print", "-q", "line>=1")
    assert shrink.begun.is_set()
    assert status == 2
    assert err.startswith(f"logview: {path} changed while it was being read"), err
    assert big_data.startswith(out)


def test_a_file_cut_below_the_index_position_is_said(tmp_path, big_data, run_main, shrinking,
                                                     monkeypatch):
    """Reads below the cut come back empty: the index took that for the end of input, the
    last record then spanned bytes that were gone, and --print ended with status 0 and no
    word. Now it is the clear error of a file that changed while it was read."""
    path = tmp_path / "big.log"
    path.write_bytes(big_data)
    # One chunk at a time, cut when the index looks for the end of its fourth: every read
    # after that is empty (none straddles the cut, which is the IndexingError case above).
    monkeypatch.setattr(index, "IN_FLIGHT", 1)
    shrink = shrinking(_Shrink(path, 12 << 20, lambda offset: 1000, min_size=0))
    status, out, err = run_main(str(path), "--print", "-q", "line>=1")
    assert shrink.begun.is_set()
    assert status == 2, (status, len(out), err)
    assert err.startswith(f"logview: {path} changed while it was being read"), err


def test_a_file_cut_while_printed_whole_is_said(tmp_path, big_data, run_main, shrinking):
    path = tmp_path / "big.log"
    path.write_bytes(big_data)
    shrink = shrinking(_Shrink(path, 4 << 20, lambda offset: offset + 100))
    """--print of a whole file into a pipe stopped where the file shrank and exited 0
    without a word; now what was read is printed and the change is said (status 2)."""
    status, out, err = run_main(str(path), "--print")
    assert shrink.begun.is_set() and big_data.startswith(out)
    assert status == 2, (status, len(out), err)
    assert err.startswith(f"logview: {path} changed while it was being read"), err


def test_a_followed_file_cut_under_the_index_starts_over(tmp_path, big_data, monkeypatch):
    """A followed file that shrinks while it is indexed restarts the store (copytruncate),
    and what the file holds then is read; no error."""
    path = tmp_path / "big.log"
    path.write_bytes(big_data)
    shrink = _Shrink(path, 8 << 20, lambda offset: 0, min_size=1 << 20,
                     then=lines(0, 5, b"ERROR"))
    real = FileSource.read_at

    def read_at(self, offset: int, size: int) -> bytes:
        shrink.before_read(offset, size)
        return real(self, offset, size)

    monkeypatch.setattr(FileSource, "read_at", read_at)
    store = open_store(FileSource(str(path), follow=True))
    try:
        generation = store.generation
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            store.update(final=True)
            if shrink.done.is_set() and store.index.complete and len(store) == 5:
                break
        assert shrink.done.is_set()
        assert store.generation != generation
        assert [store.record(i).level for i in range(len(store))] == ["ERROR"] * 5
    finally:
        store.close()


def test_record_index_with_a_truncating_thread(tmp_path, big_data):
    """``RecordIndex`` at work while another thread cuts the file in half once a quarter is
    indexed: a file read as it is gives a clear ``SourceError`` (or, cut too late, its records);
    a followed file starts over and ends up indexing what the file holds."""
    path = tmp_path / "big.log"
    for kind in (StaticFileSource, FileSource):
        path.write_bytes(big_data)
        source = kind(str(path)) if kind is StaticFileSource else kind(str(path), follow=True)
        store = open_store(source)
        cut = threading.Event()

        def cutter(store=store, cut=cut) -> None:
            deadline = time.monotonic() + 10
            while store.index.indexed_bytes < len(big_data) // 4 and time.monotonic() < deadline:
                time.sleep(0.0005)
            os.truncate(path, len(big_data) // 2)
            cut.set()

        thread = threading.Thread(target=cutter)
        thread.start()
        try:
            try:
                store.update(final=True)
            except SourceError as exc:  # an IndexingError: said as such, never a traceback
                assert kind is StaticFileSource, exc
                assert str(exc).startswith(f"{path} changed while it was being read"), exc
            thread.join(10)
            assert cut.is_set()
            if kind is FileSource:
                deadline = time.monotonic() + 20
                now = path.read_bytes()
                while time.monotonic() < deadline:
                    store.update(final=True)
                    if store.index.complete and store.index.indexed_bytes == len(now):
                        break
                got = b"".join(store.raw(i) for i in range(len(store)))
                assert got == now
        finally:
            thread.join(10)
            store.close()


def test_python_m_logview_on_a_file_truncated_while_read(tmp_path, big_data):
    """The real command, the file cut by another process once logview has read some of it:
    whichever way the reads fall, no traceback, and what was printed was in the file."""
    path = tmp_path / "big.log"
    path.write_bytes(big_data * 2)
    # No needle in the query and no column answers it: the records are found through the
    # index.
    proc = subprocess.Popen([sys.executable, "-m", "logview", str(path), "--print", "-q",
                             "line>=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outcome: dict[str, bytes] = {}
    reader = threading.Thread(target=lambda: outcome.update(out=proc.stdout.read()))
    reader.start()
    if not Path(f"/proc/{proc.pid}/io").exists():
        proc.kill()
        pytest.skip("needs /proc/PID/io to see logview reading")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            io_counts = Path(f"/proc/{proc.pid}/io").read_text()
        except OSError:
            break
        read = int(io_counts.split("rchar: ")[1].split()[0])
        if read > 10 << 20:  # logview is reading the file
            break
        time.sleep(0.002)
    os.truncate(path, len(big_data) // 2)
    reader.join(60)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) in (0, 2), err
    assert b"Traceback" not in err
    assert err == b"" or err.startswith(b"logview: "), err
    # Nothing before the cut is missing: the records printed are the file's first lines.
    out = outcome["out"]
    whole = out[: out.rfind(b"\n", 0, len(out) - 1) + 1]  # (the last one may be cut)
    assert (big_data * 2).startswith(whole)
    assert len(out) > len(big_data) // 2 - 100 or err  # all the file still holds, or a word
