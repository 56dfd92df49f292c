"""Detection is never final too early: empty files, late pipes and FIFOs, slow stream clients.

A source that holds nothing (or a line or two) when it is opened is detected again as lines
arrive; a new format restarts the store like a truncation. A big source is detected once.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from logging_helpers import make_logger
from process_helpers import read_until

from logview.formats.base import PlainFormat
from logview.sources.base import MemorySource, StaticFileSource
from logview.sources.file import FileSource
from logview.sources.pipe import FifoSource
from logview.store import SETTLE_LINES, LogStore, MergedStore, open_store
from tests.conftest import wait_for

REPO = str(Path(__file__).resolve().parents[1])
DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def logging_lines(path: Path, *messages: tuple[int, str], name: str = "app.db") -> None:
    """Append records to ``path`` through a real ``logging.Formatter`` (the dash template)."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(DASH))
    logger = make_logger(name, handler)
    for level, message in messages:
        logger.log(level, message)
    handler.close()


#: Records as an application logs them (messages of different shapes, as real ones are).
LINES = ((logging.INFO, "hello"), (logging.WARNING, "disk almost full on /var"),
         (logging.ERROR, "connection refused by db-1"))


#: Messages of different shapes for hand-written lines (detection needs a few real-looking
#: lines to tell a message from header fields).
MESSAGES = ("user alice logged in", "cache miss for key users:42", "GET /api/items 200 in 12 ms",
            "retrying in 5 s", "connection refused by db-1", "shutting down")


def dash_line(second: int, level: str, message: str) -> bytes:
    return f"2024-01-02 03:04:{second:02d},678 - app.db - {level} - {message}\n".encode()


def _levels(store) -> list[str | None]:
    return [store.record(i).level for i in range(len(store))]


def test_an_empty_file_that_gets_template_lines_is_parsed_with_levels(tmp_path):
    path = tmp_path / "new.log"
    path.write_bytes(b"")
    store = open_store(FileSource(str(path), follow=True))
    assert store.update() == 0
    assert isinstance(store.format, PlainFormat) and not store.detection_final
    generation = store.generation
    logging_lines(path, *LINES)
    store.update(final=True)
    assert _levels(store) == ["INFO", "WARNING", "ERROR"]
    assert store.record(2).logger == "app.db" and store.record(2).message == LINES[2][1]
    assert store.generation != generation  # followers start over: positions are void
    assert not isinstance(store.detection.format, PlainFormat)
    assert store.detection.format is store.format and store.detection.total == 3
    store.close()


def test_a_format_that_changes_restarts_positions_and_the_record_cache():
    source = MemorySource("m")
    source.append(b"starting up\n")
    store = LogStore(source)
    store.update(final=True)
    first = store.record(0)
    assert first.level is None and isinstance(store.format, PlainFormat)
    before = store.generation
    source.append(b"".join(dash_line(i, "WARNING", f"m{i}") for i in range(5)))
    store.update(final=True)
    assert store.generation != before
    assert store.record(0) is not first  # nothing is served from the old generation
    assert _levels(store)[1:] == ["WARNING"] * 5
    assert store.record(0).message == "starting up"  # kept, whatever it is read as


def test_detection_is_final_after_enough_lines_and_never_runs_again():
    source = MemorySource("m")
    store = LogStore(source)
    for i in range(SETTLE_LINES - 1):
        source.append(dash_line(i % 60, "INFO", f"m{i}"))
        store.update()
        assert not store.detection_final
    source.append(dash_line(59, "INFO", "last of the sample"))
    store.update()
    assert store.detection_final
    settled, fmt, generation = store.detection, store.format, store.generation
    source.append(b"".join(dash_line(i % 60, "ERROR", f"e{i}") for i in range(200)))
    store.update(final=True)
    # Final: no detection runs again (it would make a new Detection), nothing restarts.
    assert store.detection is settled and store.format is fmt and store.generation == generation
    assert len(store) == SETTLE_LINES + 200


def test_a_big_file_is_detected_once_when_opened(tmp_path):
    path = tmp_path / "big.log"
    path.write_bytes(b"".join(dash_line(i % 60, "INFO", f"m{i}") for i in range(5000)))
    store = open_store(FileSource(str(path), follow=True))
    assert store.detection_final  # from the first 64 KB, before any update
    detection, index = store.detection, store.index
    with path.open("ab") as out:
        out.write(dash_line(1, "ERROR", "appended"))
    store.update(final=True)
    assert store.detection is detection and store.index is index
    assert store.record(len(store) - 1).level == "ERROR"
    store.close()


def test_a_finished_source_settles_detection_on_all_it_has():
    source = MemorySource("m", dash_line(1, "INFO", "a") + dash_line(2, "ERROR", "b").rstrip())
    source.finish()
    store = LogStore(source)
    assert store.detection_final
    store.update(final=True)
    assert _levels(store) == ["INFO", "ERROR"]
    assert store.detection.total == 2  # the unfinished last line counted too


def test_a_fifo_whose_writer_starts_late(tmp_path):
    fifo = str(tmp_path / "logs.fifo")
    os.mkfifo(fifo)
    store = open_store(FifoSource(fifo, follow=False))
    try:
        assert store.update() == 0 and not store.detection_final

        def write() -> None:
            with open(fifo, "wb") as out:  # blocks until the source's reader opened it
                out.write(dash_line(1, "INFO", "late") + dash_line(2, "CRITICAL", "later"))

        writer = threading.Thread(target=write)
        writer.start()
        wait_for(lambda: store.update() is not None and store.finished, timeout=10)
        writer.join(5)
        assert _levels(store) == ["INFO", "CRITICAL"]
        assert store.detection_final
    finally:
        store.close()


class _EndsOnUpdate(MemorySource):
    """A stream whose end is seen by the ``n``-th ``update()`` (as a FIFO's reader thread may
    end between two of the store's looks)."""

    def __init__(self, data: bytes, n: int) -> None:
        super().__init__("stream", data)
        self.calls, self.n = 0, n

    def update(self) -> int:
        self.calls += 1
        if self.calls == self.n:
            self.finish()
        return 0


@pytest.mark.parametrize("n", range(2, 7))  # 1: the constructor's look, before any line
def test_a_store_is_finished_only_with_its_detection_settled(n):
    """Whichever look sees the end, even the one a new format's index makes after detection
    left the sample unsettled, a finished store has a final detection (a reader that stops
    at ``finished`` never keeps a provisional one)."""
    source = _EndsOnUpdate(b"", n)
    store = LogStore(source)
    source.append(dash_line(1, "INFO", "late") + dash_line(2, "CRITICAL", "later"))
    for _ in range(10):
        store.update()
        if store.finished:
            break
    assert store.finished and store.detection_final
    assert _levels(store) == ["INFO", "CRITICAL"]


def test_merged_store_starts_over_when_one_part_detects_anew(tmp_path):
    full = tmp_path / "full.log"
    full.write_bytes(b"".join(dash_line(i, "INFO", f"f{i}") for i in range(0, 40, 2)))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    parts = [open_store(StaticFileSource(str(full))), open_store(FileSource(str(empty)))]
    merged = MergedStore(parts)
    merged.update()
    generation = merged.generation
    with empty.open("ab") as out:
        out.write(b"".join(dash_line(i, "ERROR", MESSAGES[i]) for i in (1, 3, 5)))
    merged.update(final=True)
    assert merged.generation != generation
    assert merged.format is parts[0].format
    errors = [merged.record(i).message for i in range(len(merged))
              if merged.record(i).level == "ERROR"]
    assert errors == [MESSAGES[1], MESSAGES[3], MESSAGES[5]]
    merged.close()


def test_forced_format_is_checked_against_the_first_lines_as_they_come():
    fmt = PlainFormat()
    source = MemorySource("m")
    store = LogStore(source, fmt)
    assert store.detection.kind == "forced" and store.detection.total == 0
    source.append(b"one\ntwo\n")
    store.update()
    assert store.format is fmt and store.detection.total == 2


# -- the command line, with real processes ----------------------------------------------------


def _logview(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "logview", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _has_open(proc: subprocess.Popen, path: Path) -> bool:
    """The process holds ``path`` open (so it has read the file as it is now)."""
    fds = Path(f"/proc/{proc.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # a descriptor closed while listing: look again
        return False


def _stderr_line(proc: subprocess.Popen, timeout: float = 10) -> bytes:
    """The first line the process writes to stderr; fail after ``timeout`` seconds."""
    return read_until(proc, b"\n", timeout, stream=proc.stderr)


def test_print_follow_on_an_empty_file_parses_lines_written_later(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    proc = _logview(str(path), "--print", "--follow", "-o", "jsonl")
    try:
        wait_for(lambda: _has_open(proc, path), timeout=15)  # opened while still empty
        logging_lines(path, *LINES)
        out = read_until(proc, b'"connection refused by db-1"', timeout=15)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(row["level"], row["message"]) for row in rows] == [
        (logging.getLevelName(level), message) for level, message in LINES]
    assert rows[2]["logger"] == "app.db"


def test_print_follow_prints_no_record_twice_when_the_format_changes(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"starting up\n")
    proc = _logview(str(path), "--print", "--follow", "-o", "jsonl")
    try:
        read_until(proc, b'"starting up"', timeout=15)  # printed as plain text, live
        with path.open("ab") as out:
            out.write(b"".join(dash_line(i, level, MESSAGES[i])
                               for i, level in enumerate(("INFO", "ERROR", "DEBUG"))))
        out = read_until(proc, MESSAGES[2].encode(), timeout=15)
        with path.open("ab") as log:
            log.write(dash_line(3, "WARNING", MESSAGES[3]))
        out += read_until(proc, MESSAGES[3].encode(), timeout=15)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    rows = [json.loads(line) for line in out.splitlines()]
    # "starting up" was printed before the format changed; its re-read is not printed again.
    assert [row["message"] for row in rows] == list(MESSAGES[:4])
    assert [row["level"] for row in rows] == ["INFO", "ERROR", "DEBUG", "WARNING"]


def test_a_pipe_whose_first_bytes_come_late_is_detected_on_them():
    lines = b"".join(dash_line(i, level, MESSAGES[i])
                     for i, level in enumerate(("INFO", "ERROR", "DEBUG"))).decode()
    script = f"sleep 1; printf '%s' {shlex.quote(lines)}"
    result = subprocess.run(
        f"({script}) | {sys.executable} -m logview --print -q 'level>=error'",
        shell=True, cwd=REPO, capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == dash_line(1, "ERROR", MESSAGES[1])


def test_print_without_follow_waits_for_final_detection_before_printing():
    # One line, a pause longer than the quiet flush, then the rest: all output in one format.
    levels = ("INFO", "ERROR", "INFO")
    rest = b"".join(dash_line(i, level, MESSAGES[i]) for i, level in enumerate(levels)).decode()
    script = f"printf 'banner\\n'; sleep 1; printf '%s' {shlex.quote(rest)}"
    result = subprocess.run(
        f"({script}) | {sys.executable} -m logview --print -o jsonl",
        shell=True, cwd=REPO, capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["level"], row["message"]) for row in rows] == [
        (None, "banner"), *zip(levels, MESSAGES[:3])]


@pytest.mark.parametrize("follow", [False, True])
def test_forced_format_that_fits_no_line_is_said_on_stderr(tmp_path, follow):
    path = tmp_path / "app.log"
    path.write_bytes(b"".join(b"plain line %d\n" % i for i in range(8)))
    template = "%(asctime)s %(levelname)s %(message)s"
    proc = _logview(str(path), "--print", "--format", template, *(["-f"] if follow else []))
    try:
        if follow:
            read_until(proc, b"plain line 7", timeout=15)
            err = _stderr_line(proc)
        else:
            out, err = proc.communicate(timeout=20)
            assert out.count(b"plain line") == 8  # nothing is dropped, only warned about
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert err.decode() == (f"logview: --format '{template}' fits none of the first 8 lines "
                            f"of {path}\n")


def test_forced_format_that_fits_says_nothing(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(dash_line(1, "INFO", "a") + dash_line(2, "ERROR", "b"))
    result = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "--format",
                             DASH], cwd=REPO, capture_output=True, timeout=20, check=False)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout.count(b"\n") == 2
