"""Fault injection: real writer processes rotate, copy-truncate and share a log at full speed
while logview follows it; every record must be seen exactly once, in order per writer.

Two readers: the core follow loop the viewer's worker runs (``Follower`` over a ``LogStore``)
and the real ``logview --print --follow``. The long soak (more rotations, more speeds, RSS,
the viewer's trail) is ``bench/soak.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from logview.follow import Follower, LiveFilter
from logview.scan import EVERYTHING
from logview.sources.file import FileSource
from logview.store import LogStore

FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
RECORD = re.compile(rb"w(\d+) seq (\d+)")

#: Writers: a script run with (path, writer id, records); each logs "w<id> seq <n>" lines,
#: pausing 1 ms every 30 records (about 25k records/s: a rotation every 10-20 ms; the soak
#: benchmark, bench/soak.py, runs them without any pause).
_PRELUDE = f"""
import logging, logging.handlers, os, shutil, sys, time
path, wid, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
log = logging.getLogger("app.w%d" % wid)
log.propagate = False
log.setLevel(logging.INFO)
def use(handler):
    handler.setFormatter(logging.Formatter({FORMAT!r}))
    log.addHandler(handler)
_info = log.info
def info(*args):
    _info(*args)
    if args[-1] % 30 == 29:
        time.sleep(0.001)
log.info = info
def shift(kept):  # logrotate's numbered names: .N -> .N+1, oldest first
    for n in range(kept, 0, -1):
        if os.path.exists(f"{{path}}.{{n}}"):
            os.replace(f"{{path}}.{{n}}", f"{{path}}.{{n + 1}}")
"""
WRITERS = {
    # ~80 rotations of 20 kB files at full speed, 20 kept (each lives ~0.3 s).
    "rotating": """
use(logging.handlers.RotatingFileHandler(path, maxBytes=20000, backupCount=20))
for seq in range(count):
    log.info("w%d seq %d", wid, seq)
""",
    # logrotate copytruncate every 300 records (shift, copy, truncate), 100 times, 20 kept.
    "copytruncate": """
use(logging.FileHandler(path))
for seq in range(count):
    log.info("w%d seq %d", wid, seq)
    if seq % 300 == 299:
        shift(20)
        shutil.copyfile(path, path + ".1")
        os.truncate(path, 0)
""",
    # logrotate create every 300 records (shift, rename away, create empty), 100 times, 20
    # kept; WatchedFileHandler reopens the name.
    "create": """
use(logging.handlers.WatchedFileHandler(path))
for seq in range(count):
    log.info("w%d seq %d", wid, seq)
    if seq % 300 == 299:
        shift(20)
        os.replace(path, path + ".1")
        open(path, "w").close()
""",
    # Several processes appending to one file (O_APPEND), lines interleaved.
    "append": """
use(logging.FileHandler(path))
for seq in range(count):
    log.info("w%d seq %d", wid, seq)
""",
    # Writer 0 rotates; the others keep writing to whatever file their descriptor holds.
    "rotating-shared": """
if wid == 0:
    use(logging.handlers.RotatingFileHandler(path, maxBytes=20000, backupCount=1000))
else:
    use(logging.FileHandler(path))
for seq in range(count):
    log.info("w%d seq %d", wid, seq)
""",
}
#: scenario -> (writer processes, records each)
SIZES = {"rotating": (1, 30000), "copytruncate": (1, 30000), "create": (1, 30000),
         "append": (4, 5000), "rotating-shared": (4, 5000)}


def run_writers(scenario: str, path: str) -> int:
    """Run the scenario's writers to the end; return how many records they wrote."""
    writers, count = SIZES[scenario]
    script = _PRELUDE + WRITERS[scenario]
    procs = [subprocess.Popen([sys.executable, "-c", script, path, str(w), str(count)])
             for w in range(writers)]
    for proc in procs:
        assert proc.wait(60) == 0
    return writers * count


def check_each_once_in_order(found: list[tuple[int, int]], scenario: str) -> None:
    writers, count = SIZES[scenario]
    per_writer: dict[int, list[int]] = {w: [] for w in range(writers)}
    for wid, seq in found:
        per_writer[wid].append(seq)
    for wid, seqs in per_writer.items():
        missing = sorted(set(range(count)) - set(seqs))
        assert not missing, f"writer {wid} lost {len(missing)}: {missing[:10]}"
        assert len(seqs) == count, f"writer {wid}: {len(seqs) - count} duplicates"
        assert seqs == sorted(seqs), f"writer {wid}: out of order"


@pytest.mark.parametrize("scenario", sorted(WRITERS))
def test_follow_loop_sees_every_record_once(tmp_path, scenario):
    """What the viewer's follow worker runs: records are taken as they come (a store that
    starts over, e.g. on detecting its format anew, is taken again from its start)."""
    path = str(tmp_path / "app.log")
    open(path, "w").close()
    source = FileSource(path)
    store = LogStore(source)
    follower = Follower(store, quiet_flush=0.2)
    matches = LiveFilter(store, EVERYTHING)
    found: list[tuple[int, int]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            while not stop.is_set():
                follower.step()
                if matches.check_restart():
                    found.clear()
                found.extend((int(m[1]), int(m[2])) for record in matches.new_records()
                             if (m := RECORD.search(record.message.encode())))
                follower.wait(0.1)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        written = run_writers(scenario, path)
        deadline = time.monotonic() + 30
        while len(found) < written and time.monotonic() < deadline and not errors:
            time.sleep(0.05)
        stop.set()
        thread.join(10)
        assert not errors, errors
        check_each_once_in_order(found, scenario)
        assert source.generation == 0  # no restart of the bytes (the store may re-detect)
        assert source.notices == ()
    finally:
        stop.set()
        thread.join(10)
        store.close()


@pytest.mark.parametrize("scenario", sorted(WRITERS))
def test_print_follow_prints_every_record_once(tmp_path, scenario):
    path = str(tmp_path / "app.log")
    open(path, "w").close()
    proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--follow", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = bytearray()

    def read() -> None:
        for chunk in iter_chunks(proc.stdout):
            out.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _wait_following(proc, path)
        written = run_writers(scenario, path)
        deadline = time.monotonic() + 30
        while len(RECORD.findall(out)) < written and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        status = proc.wait(10)
        reader.join(10)
    err = proc.stderr.read().decode()
    assert status == 130, err
    assert "Traceback" not in err and "warning" not in err, err
    found = [(int(w), int(s)) for w, s in RECORD.findall(out)]
    assert len(found) == written
    check_each_once_in_order(found, scenario)


def iter_chunks(stream):
    while chunk := os.read(stream.fileno(), 65536):
        yield chunk


def _wait_following(proc: subprocess.Popen, path: str) -> None:
    """logview has opened the file (it holds a descriptor of it)."""
    target = os.path.realpath(path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
        except FileNotFoundError:
            break
        for fd in fds:
            try:
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == target:
                    return
            except OSError:
                continue
        time.sleep(0.02)
    raise AssertionError("logview did not open the file in time")
