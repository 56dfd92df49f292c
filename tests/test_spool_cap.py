"""The spool of piped input is bounded (``--spool-max``): a ring buffer of chunk files.

Past the cap the oldest chunk is dropped, with a notice that says how much (bytes, lines);
offsets never move and a dropped range reads as ``b""``. A chunk is dropped only once the index
and the printer are past it, so ``--print`` still prints every record. The real thing runs as a
subprocess reading a real pipe or FIFO; its spool is measured through ``/proc/<pid>/fd``. A
killed logview leaves no temporary file behind.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from process_helpers import read_until

from logview.follow import Follower
from logview.sources import spool as spool_module
from logview.sources.rotated import CompressedSource
from logview.sources.spool import (
    READ_CHUNK,
    InputSpool,
    SpoolSource,
    chunk_bytes_for,
    default_cap,
    format_size,
    parse_size,
)
from logview.sources.stdin import StdinSource
from logview.store import build_store
from tests.conftest import wait_for

REPO = str(Path(__file__).resolve().parents[1])
TIMEOUT = 60.0
CAP = 1 << 20
LINE = 100  # bytes per line of the generated input


@pytest.fixture(autouse=True)
def default_spool_settings():
    """Tests that configure the module's cap leave it as they found it."""
    yield
    spool_module.configure(max_bytes=None)


def lines(start: int, count: int) -> bytes:
    """``count`` numbered lines of exactly ``LINE`` bytes."""
    return b"".join(b"%09d " % i + b"x" * (LINE - 11) + b"\n" for i in range(start, start + count))


def spool_bytes(pid: int, tmpdir: str) -> int:
    """Bytes of the files under ``tmpdir`` that process ``pid`` holds open (the spool's
    anonymous chunk files show there as ``tmpdir/#inode (deleted)``)."""
    total = 0
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return 0
    for fd in fds:
        try:
            if os.readlink(f"{fd_dir}/{fd}").startswith(tmpdir + "/"):
                total += os.stat(f"{fd_dir}/{fd}").st_size
        except OSError:  # closed meanwhile
            continue
    return total


def env_with_tmpdir(tmpdir: str) -> dict[str, str]:
    return {**os.environ, "TMPDIR": tmpdir, "PYTHONPATH": REPO}


_NOTICE = re.compile(r"spool cap ([\d.]+ \w+)(?: reached)?: dropped (?:the oldest )?[\d.]+ \w+ "
                     r"(?:more )?\(([\d,]+) lines")


def dropped_lines(stderr: str, name: str) -> list[int]:
    """The line counts of the drop notices of source ``name`` in ``--print``'s stderr."""
    counts = []
    for line in stderr.splitlines():
        if line.startswith(f"logview: warning: {name}: spool cap"):
            match = _NOTICE.search(line)
            assert match, line
            assert match.group(1) == format_size(CAP)
            counts.append(int(match.group(2).replace(",", "")))
    return counts


def assert_whole_chunks_of_lines(dropped: int, chunk: int) -> None:
    """Drops are whole chunks from offset 0: their lines are the newlines of k chunks."""
    assert any(k * chunk // LINE == dropped for k in range(1, dropped * LINE // chunk + 2)), (
        dropped, chunk)


def feed_and_measure(proc: subprocess.Popen, out, data: bytes, tmpdir: str) -> int:
    """Write ``data`` to ``out`` a megabyte at a time, measuring the spool after each write;
    return the most seen."""
    most = 0
    for start in range(0, len(data), 1 << 20):
        out.write(data[start : start + (1 << 20)])
        out.flush()
        most = max(most, spool_bytes(proc.pid, tmpdir))
    out.close()
    return most


# -- the option ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "size"), [
    ("500M", 500 << 20), ("2G", 2 << 30), ("1.5GiB", 3 << 29), ("64k", 64 << 10),
    ("1000000", 1000000), ("0", 0), ("3MB", 3 << 20), ("512 KiB", 512 << 10), ("10b", 10),
])
def test_sizes_are_parsed_in_powers_of_1024(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "-1M", "1.2.3G", "12Q", "1e6"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_spool_max_option_refuses_a_bad_or_tiny_size():
    for value, message in (("lots", "not a size"), ("100K", "give at least 1.0 MiB")):
        proc = subprocess.run([sys.executable, "-m", "logview", "--print", "--spool-max", value],
                              input=b"a\n", capture_output=True, timeout=TIMEOUT, cwd=REPO,
                              check=False)
        assert proc.returncode == 2
        assert message in proc.stderr.decode()
        assert b"Traceback" not in proc.stderr


def test_default_cap_is_half_the_free_space_at_most_8_gib(tmp_path, monkeypatch):
    class Fs:
        f_frsize = 4096
        f_bavail = 0

    fs = Fs()
    monkeypatch.setattr(os, "statvfs", lambda path: fs)
    fs.f_bavail = (4 << 30) // 4096  # 4 GiB free
    assert default_cap(str(tmp_path)) == 2 << 30
    fs.f_bavail = (100 << 30) // 4096
    assert default_cap(str(tmp_path)) == 8 << 30
    fs.f_bavail = 10
    assert default_cap(str(tmp_path)) == 1 << 20  # never below the smallest cap
    spool_module.configure(max_bytes=0)
    assert spool_module.stream_cap() is None  # 0: no cap
    spool_module.configure(max_bytes=5 << 20)
    assert spool_module.stream_spool().max_bytes == 5 << 20
    assert chunk_bytes_for(8 << 30) == 64 << 20 and chunk_bytes_for(1 << 20) == 128 << 10


# -- the ring, in process ------------------------------------------------------------------------


def test_the_oldest_chunks_go_once_readers_passed_them_and_offsets_never_move(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    chunk = 128 << 10
    spool = InputSpool(max_bytes=CAP, chunk_bytes=chunk)
    data = lines(0, 30000)  # 3 MB
    done = threading.Event()

    def writer() -> None:
        for start in range(0, len(data), 100_000):
            assert spool.append(data[start : start + 100_000])
        done.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        # Nobody read anything: past the cap the writer waits (nothing is dropped unread).
        wait_for(lambda: spool.waiting, 10)
        assert spool.dropped_bytes == 0 and spool.kept_bytes() > CAP
        spool.advance_floor(len(data))  # every reader is past it all
        thread.join(10)
    finally:
        spool.interrupt()
    assert done.is_set()
    assert spool.size() == len(data)  # the space only grows
    first = spool.first_kept()
    assert first == spool.dropped_bytes and first % chunk == 0
    assert len(data) - first <= CAP + 100_000
    assert spool.dropped_lines == data[:first].count(b"\n")
    assert spool.read_at(0, 100) == b""  # dropped
    assert spool.read_at(first - 10, 100) == b""  # begins in a dropped chunk
    assert spool.read_at(first, 3 * chunk) == data[first : first + 3 * chunk]  # across chunks
    assert spool.read_at(len(data) - 50, 100) == data[-50:]
    assert os.listdir(tmp_path) == []  # chunk files have no name
    spool.close()


def test_a_chunk_goes_once_reads_passed_it_between_two_updates():
    """What the index does, by hand: each update starts a pass that reads from where the
    last one stopped; the lowest offset read in a pass is the floor; a pass that reads nothing
    passes every line read."""
    chunk = 128 << 10
    source = SpoolSource("test", InputSpool(max_bytes=CAP, chunk_bytes=chunk))
    data = lines(0, 15000)  # 1.5 MB
    thread = threading.Thread(target=source.append, args=(data,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: source.spool.waiting, 10)  # nothing read yet: nothing may go
        source.update()
        assert source.size() == len(data)
        source.read_at(0, 1000)  # a pass reads from the start...
        source.read_at(1000, len(data) - 1000)  # ...to the end
        source.update()  # its lowest offset was 0: nothing passed yet
        assert source.spool.dropped_bytes == 0 and source.spool.waiting
        source.update()  # a pass that read nothing passed every line read
        thread.join(10)
        assert not thread.is_alive()
    finally:
        source.spool.interrupt()
    first = source.spool.first_kept()
    assert first > 0 and len(data) - first <= CAP
    assert source.read_at(0, 100) == b""  # dropped: an empty read
    assert source.gone_until(10) == first  # where readable bytes resume
    assert source.read_at(first, 100) == data[first : first + 100]
    dropped = data[:first].count(b"\n")
    notice = (f"test: spool cap 1.0 MiB reached: dropped the oldest {format_size(first)} "
              f"({dropped:,} lines); set --spool-max to keep more")
    assert source.notices == ()  # said by the next update
    source.update()
    assert source.notices == (notice,)
    source.close()


def test_an_unfinished_last_line_shows_once_input_pauses():
    source = SpoolSource("test", InputSpool(max_bytes=CAP))
    source.append(b"one\ntw")
    source.update()
    assert source.size() == 4  # "tw" may be the start of a line still arriving
    wait_for(lambda: source.update() or source.size() == 6, 5)  # it paused: shown
    source.append(b"o\nthr")
    source.update()
    assert source.read_at(0, 100) == b"one\ntwo\n"
    source.finish()
    source.update()
    assert source.read_at(0, 100) == b"one\ntwo\nthr"  # at the end, all of it
    source.close()


def test_interrupt_frees_a_waiting_writer():
    spool = InputSpool(max_bytes=CAP, chunk_bytes=128 << 10)
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(spool.append(b"y\n" * CAP)),
                              daemon=True)
    thread.start()
    wait_for(lambda: spool.waiting, 10)
    spool.interrupt()
    thread.join(10)
    assert results == [False]
    spool.close()


def test_compressed_files_are_never_capped(tmp_path):
    spool_module.configure(max_bytes=CAP)
    data = lines(0, 50000)  # 5 MB decompressed
    path = tmp_path / "big.log.gz"
    path.write_bytes(gzip.compress(data))
    source = CompressedSource(str(path))
    while not source.finished:
        source.update()
    assert source.spool.max_bytes is None
    assert source.read_at(0, len(data)) == data
    assert source.notices == ()
    source.close()


def _stdin_from(*cmd: str) -> tuple[subprocess.Popen, StdinSource]:
    producer = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert producer.stdout is not None
    return producer, StdinSource(fd=os.dup(producer.stdout.fileno()))


PRODUCE = ("import sys\n"
           "w = sys.stdout.buffer\n"
           "for i in range({n}):\n"
           "    w.write(b'%09d ' % i + b'x' * {pad} + b'\\n')\n")


def test_the_viewer_reading_old_records_never_stalls_the_stream(tmp_path, monkeypatch):
    """Like the viewer: a follower indexing in time slices and a thread reading records all
    over the place while the stream floods a 1 MiB spool."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    spool_module.configure(max_bytes=CAP)
    count = 200_000
    producer, source = _stdin_from(sys.executable, "-c",
                                   PRODUCE.format(n=count, pad=LINE - 11))
    store = build_store([source])
    stop = threading.Event()
    read = [0, 0]  # records read whole, records read empty (dropped)

    def viewer() -> None:
        i = 0
        while not stop.is_set():
            if len(store):
                i = (i * 7919 + 1) % len(store)
                read[0 if store.record(i).message else 1] += 1

    thread = threading.Thread(target=viewer, daemon=True)
    thread.start()
    follower = Follower(store, slice_seconds=0.02)
    most = 0
    notices: list[str] = []
    try:
        while True:
            change = follower.step()
            notices += change.notices
            most = max(most, source.spool.kept_bytes())
            if change.finished:
                break
            if not change.added:
                follower.wait(0.2)
    finally:
        stop.set()
        thread.join(5)
        producer.wait(TIMEOUT)
    assert len(store) == count
    last = store.record(count - 1)
    assert last.message.startswith(f"{count - 1:09d} ")
    assert last.line == count  # line numbers survive the drops
    assert most <= CAP + READ_CHUNK + LINE
    assert read[0] and read[1]  # whole records and dropped (empty) ones were read
    total = sum(int(m.replace(",", "")) for n in notices
                for m in re.findall(r"\(([\d,]+) lines", n)[:1])
    assert total == source.spool.dropped_lines > count // 2
    store.close()


def test_a_line_longer_than_the_cap_is_kept_whole_until_it_ends(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    spool_module.configure(max_bytes=CAP)
    script = ("import sys\n"
              "w = sys.stdout.buffer\n"
              "w.write(b''.join(b'a %06d\\n' % i for i in range(20000)))\n"
              "for _ in range(30):\n"
              "    w.write(b'G' * 100000)\n"
              "    w.flush()\n"
              "w.write(b'\\n' + b''.join(b'b %06d\\n' % i for i in range(20000)))\n")
    producer, source = _stdin_from(sys.executable, "-c", script)
    store = build_store([source])
    follower = Follower(store, slice_seconds=0.02)
    most = 0
    try:
        while not follower.step().finished:
            most = max(most, source.spool.kept_bytes())
            follower.wait(0.2)
    finally:
        producer.wait(TIMEOUT)
    assert len(store) == 40001  # the long line is one record: never cut by a drop
    assert store.record(40000).message == "b 019999"
    assert most >= 3_000_000  # kept whole while it was not complete
    assert source.spool.dropped_lines >= 20000  # then it went, with the lines before it
    store.close()


def test_a_source_without_cap_keeps_everything():
    source = SpoolSource("test", InputSpool(memory_limit=1000))
    source.append(b"x" * 5000 + b"\n")
    source.update()
    assert source.read_at(0, 10) == b"x" * 10
    assert source.notices == ()
    source.close()


# -- the real thing ------------------------------------------------------------------------------


def test_stdin_past_the_cap_stays_bounded_prints_everything_and_says_what_it_dropped(tmp_path):
    tmpdir = str(tmp_path / "tmp")
    os.mkdir(tmpdir)
    data = lines(0, 60_000)  # 6 MB through a 1 MiB spool (its oldest chunks dropped 5 times over)
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--spool-max", "1M"],
                                stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                                env=env_with_tmpdir(tmpdir), cwd=REPO)
        assert proc.stdin is not None
        most = feed_and_measure(proc, proc.stdin, data, tmpdir)
        assert proc.wait(TIMEOUT) == 0
    assert CAP // 2 < most <= CAP + READ_CHUNK + LINE  # measured, and bounded
    assert out.read_bytes() == data  # --print never drops what it has not printed
    stderr_text = err.read_text()
    assert "Traceback" not in stderr_text
    counts = dropped_lines(stderr_text, "stdin")
    assert counts and counts[0] > 0
    total = sum(counts)
    assert (len(data) - CAP - READ_CHUNK) // LINE <= total < len(data) // LINE
    assert_whole_chunks_of_lines(total, chunk_bytes_for(CAP))
    assert f"{total:,} lines in all" in stderr_text or len(counts) == 1
    assert os.listdir(tmpdir) == []


def test_a_fifo_past_the_cap_stays_bounded_and_says_what_it_dropped(tmp_path):
    tmpdir = str(tmp_path / "tmp")
    os.mkdir(tmpdir)
    fifo = str(tmp_path / "in.fifo")
    os.mkfifo(fifo)
    data = lines(0, 40_000)  # 4 MB
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--spool-max", "1M",
                                 fifo], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                env=env_with_tmpdir(tmpdir), cwd=REPO)
        with open(fifo, "wb") as writer:  # opens once logview reads the FIFO
            most = feed_and_measure(proc, writer, data, tmpdir)
        assert proc.wait(TIMEOUT) == 0
    assert CAP // 2 < most <= CAP + READ_CHUNK + LINE
    assert out.read_bytes() == data
    counts = dropped_lines(err.read_text(), fifo)
    assert counts
    assert_whole_chunks_of_lines(sum(counts), chunk_bytes_for(CAP))


def test_a_killed_logview_leaves_no_temporary_file(tmp_path):
    tmpdir = str(tmp_path / "tmp")
    os.mkdir(tmpdir)
    proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--follow",
                             "--spool-max", "1M"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env_with_tmpdir(tmpdir), cwd=REPO)
    assert proc.stdin is not None
    try:
        proc.stdin.write(lines(0, 30_000))  # 3 MB: spilled to chunk files, some dropped
        proc.stdin.flush()
        wait_for(lambda: spool_bytes(proc.pid, tmpdir) > CAP // 2, 20)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
        proc.stdin.close()
    assert os.listdir(tmpdir) == []


def test_a_killed_listener_leaves_no_temporary_file(tmp_path):
    tmpdir = str(tmp_path / "tmp")
    os.mkdir(tmpdir)
    proc = subprocess.Popen([sys.executable, "-m", "logview", "--listen", "127.0.0.1:0",
                             "--print"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env_with_tmpdir(tmpdir), cwd=REPO)
    try:
        read_until(proc, b"listening on", TIMEOUT, stream=proc.stderr)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
        assert proc.stderr is not None
        proc.stderr.close()
    assert os.listdir(tmpdir) == []
