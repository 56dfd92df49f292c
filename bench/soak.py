"""Soak benchmark of following one log file (not a test): lose nothing while it rotates.

Real CPython logging handlers write at full speed in their own processes, each message carrying
its writer id and a sequence number (``w2 seq 1234 ...``), in the format
``%(asctime)s %(levelname)s %(name)s: %(message)s`` (logview detects it with no configuration).
A reader follows ``app.log`` from before the first line until its output has been quiet for
2 s after the writers ended; then every record is looked for in what it saw. Rotated files are
never deleted, so the files at the end are the ground truth.

Scenarios (R = --rotations):
  rotating           1 writer, RotatingFileHandler, maxBytes set for about R rotations
  timed              1 writer, TimedRotatingFileHandler(when="S", interval=1) for
                     min(R, --timed-seconds) seconds: one rotation a second; the --records are
                     spread over that time, in bursts of 8 at full speed
  copytruncate       1 writer (FileHandler, mode "a") and a rotator process doing logrotate's
                     copytruncate R times as fast as it can (shift app.log.N -> N+1, copy
                     app.log -> app.log.1, truncate app.log), each time once app.log has a
                     line: the R rotations are usually over in the first part of the writing
  create             1 writer (WatchedFileHandler) and a rotator doing logrotate's create R
                     times the same way (shift, rename app.log -> app.log.1, create an empty
                     app.log)
  writers4           4 writers appending to one file (FileHandler, O_APPEND), no rotation
  writers4-rotating  4 writers: w0 RotatingFileHandler (about R rotations), w1-w3 FileHandler,
                     which keep writing to the renamed file through their old descriptor

Readers (each scenario is run with each):
  print   the real ``python -m logview --print --follow app.log``, stdout captured, SIGINT at
          the end.
  viewer  the real viewer: ``LogviewApp`` on the store the CLI builds for ``logview app.log``,
          driven headless by Textual's ``run_test`` (120x40) in a child process. A hook on the
          store's ``update`` (it runs in the viewer's follow worker right after each update)
          reads every record the store gained, so what counts as seen is every record the
          viewer's store held while following, across restarts (copytruncate); a restart that
          re-reads the same bytes (the format detected anew) is not counted as a duplicate.
          A record whose bytes the store cannot read when it takes it in counts as missing
          unless it can be read at the end; the records whose lines it then holds count as
          seen, those beyond the first as merged. The child reports progress every 50 ms on a
          pipe (its stdout) and, when told to stop, every record it saw, the store's length,
          how many of its records can still be read then, whether indexing got stuck (bytes
          indexed < bytes the source has), and any traceback of the store or of a failed
          Textual worker.

Per (scenario, reader):
  written        records the writers wrote; "not in files": of those, lost by the rotation
                 scheme itself, not by logview (copytruncate: lines written between the copy
                 and the truncate)
  seen           distinct records the reader saw; missing: in the files but never seen (what
                 logview lost); dup: records seen more than once; order: per writer, records
                 seen after a later record of the same writer
  max trail      the most the reader was behind the writers while following: records written
                 but not yet seen, and how long ago the oldest of them was written (writers'
                 clocks, 8-record resolution); a writer whose records stop coming keeps the
                 trail growing until the end
  peak RSS       VmHWM of the reader process (the viewer's includes the counting hook)
  wall           first write -> the last record the reader took in
The details printed before the table say which files the missing records were in (whole
files never read, their tails, their heads), which sequence numbers were missing, duplicated
or out of order, and show output lines (records) without exactly one marker. Every wait polls
a condition under a timeout (--timeout); a reader that does not stop is killed.

Exit status 1 if any run missed or duplicated a record, or failed, or (viewer) its store holds
records only as lines inside another record (noted as "only inside another record").

    .venv/bin/python bench/soak.py                                  # all: 2-3 minutes on 2 CPUs
    .venv/bin/python bench/soak.py --rotations 20 --records 3000 --readers print \\
        --scenarios rotating,create --keep --json soak.json
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: What identifies a record in any output: writer id and sequence number.
MARKER = re.compile(rb"\bw(\d+) seq (\d+)\b")
#: A writer notes the time before every STEP-th record (the trail's resolution).
STEP = 8
#: About the bytes of one record line (sets maxBytes for the wanted number of rotations).
LINE_BYTES = 96
#: Seconds without new output, after the writers ended, that end a run.
QUIET = 2.0
#: Seconds between progress samples.
SAMPLE = 0.05

#: One writer: writes ``count`` records, then prints when it wrote them (JSON).
WRITER = r"""
import json, logging, logging.handlers, sys, time
kind, path, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
wid, count, max_bytes, backups, step = map(int, sys.argv[4:9])
seconds = float(sys.argv[9])
if kind == "rotating":
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups)
elif kind == "timed":
    handler = logging.handlers.TimedRotatingFileHandler(path, when="S", interval=1,
                                                        backupCount=backups)
elif kind == "watched":
    handler = logging.handlers.WatchedFileHandler(path)
else:
    handler = logging.FileHandler(path, mode="a")
handler.setFormatter(logging.Formatter(fmt))
log = logging.getLogger("soak.w%d" % wid)
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
interval = seconds / count if seconds > 0 else 0.0
stamps = []
start = time.time()
for seq in range(count):
    if seq % step == 0:
        if interval:
            delay = start + seq * interval - time.time()
            if delay > 0:
                time.sleep(delay)
        stamps.append(time.time())
    log.info("w%d seq %d request handled path=/api/items/%d status=200", wid, seq, seq % 1000)
end = time.time()
handler.close()
print(json.dumps({"start": start, "end": end, "stamps": stamps}))
"""

#: logrotate's copytruncate or create, ``rotations`` times as fast as it can (each time once
#: app.log has a line), until the stop file appears; prints how many rotations it did.
ROTATOR = r"""
import os, shutil, sys, time
mode, path, rotations, stop_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def wait_for_a_line():
    while True:
        try:
            if os.path.getsize(path) > 0:
                return True
        except FileNotFoundError:
            pass
        if os.path.exists(stop_file):
            return False
        time.sleep(0.001)

done = 0
while done < rotations and wait_for_a_line():
    for n in range(done, 0, -1):
        os.rename("%s.%d" % (path, n), "%s.%d" % (path, n + 1))
    if mode == "copytruncate":
        shutil.copyfile(path, path + ".1")
        os.truncate(path, 0)
    else:
        os.rename(path, path + ".1")
        open(path, "a").close()
    done += 1
print(done)
"""

#: The viewer, headless, with a hook counting every record its store takes in (see the module
#: docstring). Prints READY, then "S time taken restarts known high,high,..." every 50 ms, and
#: "FINAL {json}" after a line on stdin.
VIEWER = r"""
import asyncio, bisect, json, os, re, sys, threading, time, traceback
from array import array

root, path, writers = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
from textual.worker import Worker, WorkerState
from logview.sources.open import open_sources
from logview.store import build_store
from logview.tui.app import LogviewApp
from logview.tui.screens.main import MainScreen

MARKER = re.compile(rb"\bw(\d+) seq (\d+)\b")
errors = []


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Collector:
    def __init__(self, store):
        self.store = store
        self.generation = store.generation
        self.done = 0  # records of this generation taken
        self.seqs = [array("q") for _ in range(writers)]
        self.high = [-1] * writers
        self.taken = 0
        self.keys, self.codes = array("q"), array("q")  # this generation's records
        self.old_keys, self.old_codes = array("q"), array("q")  # the one before
        self.restarts = self.rereads = self.short_reads = self.strays = 0
        self.unreadable = self.unmarked = 0
        self.examples = {}  # what -> how many times
        self.unread = []  # (generation, position) of records unreadable when taken

    def recover(self):
        # Records unreadable when taken that the store can read now (same generation).
        # Such a record may hold many lines then (the index saw no line starts in bytes it
        # could not read): each becomes an example.
        found, records = [], 0
        for generation, i in self.unread:
            if generation != self.store.generation:
                continue
            try:
                raw = self.store.raw(i)
            except (IndexError, OSError):
                continue
            marks = MARKER.findall(raw)
            records += bool(marks)
            if len(marks) > 1:
                self.examples[f"merged {i}"] = [
                    1, f"unreadable when taken, at the end one record of {len(marks)} lines: "
                    f"{raw[:200]!r} (record {i} of generation {generation})"]
            found += [[int(w), int(seq)] for w, seq in marks]
        return found, records

    def example(self, what, i, raw):
        text = f"{what}: {bytes(raw[:300])!r}"
        if text in self.examples:
            self.examples[text][0] += 1
        elif len(self.examples) < 5:
            first = f"{text} (first: record {i} of generation {self.generation})"
            self.examples[text] = [1, first]

    def take(self):
        store = self.store
        if store.generation != self.generation:
            self.generation = store.generation
            self.restarts += self.done > 0  # not the first detection, before any record
            self.old_keys, self.old_codes = self.keys, self.codes
            self.keys, self.codes = array("q"), array("q")
            self.done = 0
        index = store.index
        count = len(index)
        if count <= self.done:
            return
        bounds = index.bounds(self.done, count).tolist()
        lo = bounds[0]
        data = memoryview(store.source.read_at(lo, bounds[-1] - lo))
        if len(data) < bounds[-1] - lo:
            self.short_reads += 1
        old_keys, old_codes = self.old_keys, self.old_codes
        for i in range(self.done, count):
            a, b = bounds[i - self.done], bounds[i - self.done + 1]
            raw = data[a - lo : b - lo]
            if len(raw) < b - a:  # a short read: once more, this record alone
                raw = store.source.read_at(a, b - a)
                if len(raw) < b - a:
                    self.unreadable += 1
                    self.unread.append((self.generation, i))
                    self.example("unreadable when taken", i, raw)
                    continue
            marks = MARKER.findall(raw)
            if len(marks) != 1:
                self.unmarked += 1
                self.example(f"{len(marks)} markers", i, raw)
            for j, (w, seq) in enumerate(marks):
                w, seq = int(w), int(seq)
                if w >= writers:
                    self.strays += 1
                    continue
                key, code = a * 8 + j, (w << 40) | seq
                k = bisect.bisect_left(old_keys, key)
                if k < len(old_keys) and old_keys[k] == key and old_codes[k] == code:
                    self.rereads += 1  # the same bytes again after a restart: not a duplicate
                else:
                    self.seqs[w].append(seq)
                    self.taken += 1
                    if seq > self.high[w]:
                        self.high[w] = seq
                self.keys.append(key)
                self.codes.append(code)
        self.done = count


sources = open_sources([path], follow=True, rotated=False)
store = build_store(sources)
collector = Collector(store)
original_update = store.update


def update(*, final=False, budget=None):
    try:
        added = original_update(final=final, budget=budget)
    except BaseException:
        errors.append("store.update raised:\n" + traceback.format_exc())
        raise
    try:
        collector.take()
    except Exception:
        errors.append("the counting hook raised:\n" + traceback.format_exc())
    return added


store.update = update


def message_hook(message):
    if isinstance(message, Worker.StateChanged) and message.state == WorkerState.ERROR:
        worker = message.worker
        errors.append(f"Textual worker {worker.name!r} failed:\n"
                      + "".join(traceback.format_exception(worker.error)))


stop = threading.Event()


def wait_for_stop():
    sys.stdin.readline()
    stop.set()


async def main():
    threading.Thread(target=wait_for_stop, daemon=True).start()
    app = LogviewApp(store)
    async with app.run_test(size=(120, 40), message_hook=message_hook):
        deadline = time.monotonic() + 60
        while not isinstance(app.screen, MainScreen):
            if time.monotonic() > deadline:
                raise RuntimeError("the main screen was not up after 60 s")
            await asyncio.sleep(0.01)
        screen = app.screen
        say("READY")
        while not stop.is_set():
            c = collector
            say("S %.6f %d %d %d %s" % (time.time(), c.taken, c.restarts, screen._known,
                                        ",".join(map(str, c.high))))
            await asyncio.sleep(0.05)
        end_len, readable = len(store), 0
        for i in range(end_len):
            try:
                readable += MARKER.search(store.raw(i)) is not None
            except (IndexError, OSError):
                pass
        c = collector
        recovered, recovered_records = c.recover()
        final = {"seqs": [list(s) for s in c.seqs], "end_len": end_len, "readable": readable,
                 "recovered": recovered, "recovered_records": recovered_records,
                 "progress": list(store.progress()),
                 "known": screen._known, "restarts": c.restarts, "rereads": c.rereads,
                 "short_reads": c.short_reads, "unreadable": c.unreadable,
                 "unmarked": c.unmarked, "strays": c.strays,
                 "examples": [f"{n} x {text}" for n, text in c.examples.values()],
                 "errors": errors}
    say("FINAL " + json.dumps(final))


try:
    asyncio.run(main())
except BaseException:
    say("FINAL " + json.dumps({"crash": traceback.format_exc(), "errors": errors}))
finally:
    sys.stdout.flush()
    os._exit(0)
"""


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    handlers: tuple[str, ...]  # one per writer: rotating, timed, watched, file
    rotator: str | None = None  # copytruncate or create


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("rotating", ("rotating",)),
        Scenario("timed", ("timed",)),
        Scenario("copytruncate", ("file",), "copytruncate"),
        Scenario("create", ("watched",), "create"),
        Scenario("writers4", ("file",) * 4),
        Scenario("writers4-rotating", ("rotating", "file", "file", "file")),
    ]
}
READERS = ("print", "viewer")


@dataclass
class WriterInfo:
    """When one writer wrote its records (epoch seconds)."""

    count: int
    start: float
    end: float
    stamps: list[float]  # before record k * STEP

    def written_by(self, t: float) -> int:
        """Records surely written at ``t``."""
        if t >= self.end:
            return self.count
        k = bisect.bisect_right(self.stamps, t)
        return min(self.count, max(0, (k - 1) * STEP))

    def written_at(self, seq: int) -> float:
        """When record ``seq`` had surely been written."""
        k = seq // STEP + 1
        return self.stamps[k] if k < len(self.stamps) else self.end


@dataclass
class RunResult:
    """What one (scenario, reader) run measured (times in seconds, memory in MB)."""

    scenario: str
    reader: str
    writers: int = 0
    rotations: int = 0
    written: int = 0
    not_in_files: int = 0  # lost by the rotation scheme itself (copytruncate's window)
    in_files: int = 0
    seen: int = 0  # distinct records seen
    missing: int = 0  # in the files, never seen
    duplicated: int = 0  # occurrences beyond the first
    merged: int = 0  # viewer: seen only as lines inside another record of the store
    out_of_order: list[int] = field(default_factory=list)  # per writer
    trail_records: int = 0
    trail_seconds: float = 0.0
    peak_rss: float = float("nan")
    wall: float = float("nan")  # first write -> the reader's last new record
    writing: float = float("nan")  # first write -> last write
    end_store: str = ""  # viewer: records in the store at the end / still readable
    failed: bool = False
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # missing files and ranges, tracebacks

    @property
    def ok(self) -> bool:
        return not (self.failed or self.missing or self.duplicated or self.merged)


# --- helpers -----------------------------------------------------------------------------------


def proc_hwm(pid: int) -> float:
    """Peak RSS (VmHWM) of ``pid`` in MB (NaN when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    except OSError:
        return float("nan")
    return int(m.group(1)) / 1024 if m else float("nan")


def has_open(pid: int, path: str) -> bool:
    """Whether process ``pid`` holds ``path`` open."""
    target = os.path.realpath(path)
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False


def tail(text: str | bytes, chars: int = 1500) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = text.strip()
    return text if len(text) <= chars else "..." + text[-chars:]


def ranges(seqs: list[int], limit: int = 6) -> str:
    """``1-5, 9, 12-40`` (the first ``limit`` runs) of sorted sequence numbers."""
    runs: list[tuple[int, int]] = []
    for s in seqs:
        if runs and s == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    shown = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs[:limit])
    return shown + (f", ... ({len(runs)} runs)" if len(runs) > limit else "")


def seconds(value: float) -> str:
    """``1.23 s``; ``never`` for NaN (the reader never took in a record)."""
    return "never" if math.isnan(value) else f"{value:.2f} s"


def code(writer: int, seq: int) -> int:
    return (writer << 40) | seq


# --- readers -----------------------------------------------------------------------------------


class Reader:
    """A reader process following ``path``; what it saw, per writer, in the order it saw it."""

    name = ""

    def __init__(self, path: str, writers: int) -> None:
        self.path = path
        self.writers = writers
        self.proc: subprocess.Popen | None = None
        self.seqs: list[list[int]] = [[] for _ in range(writers)]
        #: (writer, seq) seen late, not in order: the viewer's records unreadable when its store
        #: took them in but readable at the end.
        self.recovered: list[tuple[int, int]] = []
        self.high = [-1] * writers
        self.samples: list[tuple[float, tuple[int, ...]]] = []
        self.last_change = 0.0  # epoch seconds of the last new record
        self.stderr = b""
        self.notes: list[str] = []
        self.details: list[str] = []
        self.broken = False  # a harness thread failed: what was counted is not to be trusted
        self.merged = 0  # viewer: records the store holds only as lines of another record
        self._threads: list[threading.Thread] = []

    def _thread(self, target) -> None:
        def run() -> None:
            try:
                target()
            except Exception:  # noqa: BLE001 - a bug here must not block the reader (full pipe)
                self.broken = True
                self.details.append("harness thread failed:\n" + traceback.format_exc())
                stream = self.proc.stdout if target == self._read_stdout else self.proc.stderr
                while stream.read(1 << 16):
                    pass

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        chunks = []
        while chunk := os.read(self.proc.stderr.fileno(), 1 << 16):
            chunks.append(chunk)
            self.stderr = b"".join(chunks)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def poll(self) -> None:
        """Called every SAMPLE seconds while following."""

    def check_stderr(self) -> None:
        text = self.stderr.decode(errors="replace")
        if "Traceback" in text:
            self.notes.append("traceback on stderr")
            self.details.append("stderr:\n" + tail(text, 4000))
        elif text.strip():
            self.notes.append("stderr: " + tail(text, 200).replace("\n", " | "))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PrintReader(Reader):
    """``python -m logview --print --follow app.log``: counts the markers in its stdout."""

    name = "print"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "logview", "--print", "--follow", self.path]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.odd_lines = 0
        self.strays = 0
        self.examples: dict[str, int] = {}
        self._thread(self._read_stdout)
        self._thread(self._read_stderr)

    def wait_ready(self, timeout: float) -> bool:
        """Ready once it holds the file open (the source is opened before the printing)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if has_open(self.proc.pid, self.path):
                return True
            time.sleep(0.02)
        return False

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd, rest = self.proc.stdout.fileno(), b""
        while chunk := os.read(fd, 1 << 16):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                self._take(data[:cut])
        if rest:
            self._take(rest + b"\n")

    def _take(self, data: bytes) -> None:
        for line in data.splitlines():
            marks = MARKER.findall(line)
            if len(marks) != 1:
                self.odd_lines += 1
                example = f"{len(marks)} markers: {line[:300]!r}"
                if example in self.examples or len(self.examples) < 5:
                    self.examples[example] = self.examples.get(example, 0) + 1
            for w, seq in marks:
                w, seq = int(w), int(seq)
                if w >= self.writers:
                    self.strays += 1
                    continue
                self.seqs[w].append(seq)
                self.high[w] = max(self.high[w], seq)
        self.last_change = time.time()

    def poll(self) -> None:
        self.samples.append((time.time(), tuple(self.high)))

    def stop(self, timeout: float) -> None:
        """SIGINT (it prints what is left and exits 130), then collect the output."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.notes.append(f"did not exit {timeout:.0f} s after SIGINT: killed")
                self.kill()
        self.join(10)
        if self.proc.returncode not in (130, -signal.SIGINT):
            self.notes.append(f"exit status {self.proc.returncode}")
        if self.odd_lines:
            self.notes.append(f"{self.odd_lines} output lines without exactly one record marker")
            self.details.extend(f"odd line, {n} x {text}" for text, n in self.examples.items())
        if self.strays:
            self.notes.append(f"{self.strays} markers of unknown writers")
        self.check_stderr()


class ViewerReader(Reader):
    """The viewer driven headless in a child process (``VIEWER``)."""

    name = "viewer"

    def start(self) -> None:
        cmd = [sys.executable, "-c", VIEWER, ROOT, self.path, str(self.writers)]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.final: dict | None = None
        self.other_output: list[str] = []
        self._last_state: tuple[int, int, int] | None = None
        self._thread(self._read_stdout)
        self._thread(self._read_stderr)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if self.ready.wait(0.05):
                return True
        return self.ready.is_set()

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line == "READY":
                self.ready.set()
            elif line.startswith("S "):
                _, t, taken, restarts, known, highs = line.split(" ")
                stamp = float(t)
                self.high = [int(h) for h in highs.split(",")]
                self.samples.append((stamp, tuple(self.high)))
                state = (int(taken), int(restarts), int(known))
                if self._last_state is not None and state != self._last_state:
                    self.last_change = stamp
                self._last_state = state
            elif line.startswith("FINAL "):
                self.final = json.loads(line[len("FINAL ") :])
                self.finished.set()
            elif len(self.other_output) < 20:
                self.other_output.append(line)

    def stop(self, timeout: float) -> None:
        """Ask for the final report (a line on its stdin), then let it exit."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.close()
        except OSError:
            pass
        if not self.finished.wait(timeout):
            self.notes.append(f"no final report {timeout:.0f} s after stop")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.notes.append("did not exit after its final report: killed")
            self.kill()
        self.join(10)
        if self.other_output:
            self.notes.append("other output: " + " | ".join(self.other_output)[:300])
        self.check_stderr()
        final = self.final or {}
        if "crash" in final:
            self.notes.append("the viewer crashed")
            self.details.append("viewer crash:\n" + tail(final["crash"], 4000))
        for error in final.get("errors", []):
            self.notes.append(error.splitlines()[0])
            self.details.append(tail(error, 4000))
        if "seqs" in final:
            self.seqs = [list(s) for s in final["seqs"]]
            self.recovered = [(w, seq) for w, seq in final["recovered"]]
            for key, what in (
                ("short_reads", "short reads of new records (read again one by one)"),
                ("unreadable", "records unreadable when the store took them in"),
                ("recovered_records", "of them readable at the end"),
                ("strays", "unknown markers"),
                ("unmarked", "records without exactly one marker"),
            ):
                if final[key]:
                    n = final[key] if isinstance(final[key], int) else len(final[key])
                    self.notes.append(f"{n} {what}")
            self.details.extend("odd record, " + example for example in final["examples"])
            self.merged = len(final["recovered"]) - final["recovered_records"]
            if self.merged:
                self.notes.append(
                    f"{self.merged:,} records only inside another record (lines of "
                    f"{len(final['recovered']):,} records in {final['recovered_records']} records)"
                )
            indexed, available = final["progress"]
            if indexed < available:
                self.notes.append(
                    f"indexing stuck: {indexed:,} of {available:,} bytes indexed at the end"
                )
            if final["known"] != final["end_len"]:
                self.notes.append(
                    f"screen knows {final['known']:,} records, the store has {final['end_len']:,}"
                )


# --- one run -----------------------------------------------------------------------------------


def spawn(cmd: list[str], directory: str, name: str) -> subprocess.Popen:
    """Start ``cmd`` with its stdout and stderr going to ``name.out`` and ``name.err`` in
    ``directory`` (files: a pipe nobody reads while it runs would stop it when full)."""
    with (
        open(os.path.join(directory, name + ".out"), "wb") as out,
        open(os.path.join(directory, name + ".err"), "wb") as err,
    ):
        return subprocess.Popen(cmd, stdout=out, stderr=err)


def outputs(directory: str, name: str) -> tuple[str, str]:
    """(stdout, stderr) of a process started by ``spawn``."""
    texts = []
    for ext in (".out", ".err"):
        with open(os.path.join(directory, name + ext)) as f:
            texts.append(f.read())
    return texts[0], texts[1]


def start_writers(
    scenario: Scenario, path: str, args: argparse.Namespace
) -> list[subprocess.Popen]:
    max_bytes = max(4096, args.records * LINE_BYTES // max(1, args.rotations))
    backups = 4 * args.rotations + 100  # never reached: nothing is deleted
    seconds = min(args.rotations, args.timed_seconds)
    procs = []
    for wid, kind in enumerate(scenario.handlers):
        cmd = [
            sys.executable,
            "-c",
            WRITER,
            kind,
            path,
            LOG_FORMAT,
            str(wid),
            str(args.records),
            str(max_bytes),
            str(backups if kind == "rotating" else 1_000_000),
            str(STEP),
            str(seconds if kind == "timed" else 0),
        ]
        procs.append(spawn(cmd, os.path.dirname(path), f"writer{wid}"))
    return procs


def read_files(directory: str) -> tuple[dict[int, str], dict[str, list[int]], int]:
    """The ground truth: record code -> file name, each file's codes in order, and how many
    records the files hold more than once."""
    where: dict[int, str] = {}
    per_file: dict[str, list[int]] = {}
    repeated = 0
    for name in sorted(os.listdir(directory)):
        if not name.startswith("app.log"):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        codes = [code(int(m.group(1)), int(m.group(2))) for m in MARKER.finditer(data)]
        per_file[name] = codes
        for c in codes:
            if c in where:
                repeated += 1
            else:
                where[c] = name
    return where, per_file, repeated


def file_order(name: str) -> tuple[int, str]:
    """Rotated files newest first in name order: app.log.2 before app.log.10."""
    suffix = name[len("app.log") :].lstrip(".")
    return (int(suffix), "") if suffix.isdigit() else (-1, suffix)


def describe_missing(missing: set[int], per_file: dict[str, list[int]], writers: int) -> list[str]:
    """Which files the missing records were in (whole, tail, head, scattered) and which
    sequence numbers, per writer."""
    kinds: dict[str, list[str]] = {"whole": [], "tail": [], "head": [], "scattered": []}
    for name in sorted(per_file, key=file_order):
        codes = per_file[name]
        gone = [i for i, c in enumerate(codes) if c in missing]
        if not gone:
            continue
        if len(gone) == len(codes):
            kind = "whole"
        elif gone == list(range(len(codes) - len(gone), len(codes))):
            kind = "tail"
        elif gone == list(range(len(gone))):
            kind = "head"
        else:
            kind = "scattered"
        kinds[kind].append(f"{name} ({len(gone)}/{len(codes)})")
    lines = []
    for kind, files in kinds.items():
        if files:
            shown = ", ".join(files[:8]) + (f", ... ({len(files)} files)" if len(files) > 8 else "")
            lines.append(f"missing, {kind} files: {shown}")
    for w in range(writers):
        seqs = sorted(c & ((1 << 40) - 1) for c in missing if c >> 40 == w)
        if seqs:
            lines.append(f"missing w{w} seq: {ranges(seqs)}")
    return lines


def max_trail(
    samples: list[tuple[float, tuple[int, ...]]], infos: list[WriterInfo], until: float
) -> tuple[int, float]:
    """The most records written but not seen yet, and the oldest such record's age."""
    most_records, most_seconds = 0, 0.0
    for t, highs in samples:
        if t > until:
            break
        behind, age = 0, 0.0
        for info, high in zip(infos, highs, strict=True):
            written, have = info.written_by(t), high + 1
            if written > have:
                behind += written - have
                age = max(age, t - info.written_at(have))
        most_records, most_seconds = max(most_records, behind), max(most_seconds, age)
    return most_records, most_seconds


def analyse(
    result: RunResult,
    reader: Reader,
    infos: list[WriterInfo],
    directory: str,
    args: argparse.Namespace,
) -> None:
    where, per_file, repeated = read_files(directory)
    writers = len(infos)
    result.rotations = len(per_file) - 1
    result.written = sum(info.count for info in infos)
    result.in_files = len(where)
    result.not_in_files = result.written - len(where)
    if repeated:
        result.notes.append(f"the files hold {repeated} records twice")
    backups = 4 * args.rotations + 100
    if f"app.log.{backups}" in per_file:
        result.notes.append("backupCount reached: the ground truth lacks deleted files")
    seen: set[int] = set()
    occurrences = 0
    result.out_of_order = []
    for w, seqs in enumerate(reader.seqs):
        occurrences += len(seqs)
        top, late = -1, 0
        episodes: list[list[int]] = []  # [first, last, the later seq seen before them]
        for seq in seqs:
            c = code(w, seq)
            if c in seen:
                continue
            seen.add(c)
            if seq < top:
                late += 1
                if episodes and episodes[-1][1] == seq - 1 and episodes[-1][2] == top:
                    episodes[-1][1] = seq
                else:
                    episodes.append([seq, seq, top])
            top = max(top, seq)
        result.out_of_order.append(late)
        if episodes:
            shown = [f"{a}-{b} after {t}" if a != b else f"{a} after {t}" for a, b, t in episodes]
            more = f", ... ({len(episodes)} runs)" if len(episodes) > 4 else ""
            result.details.append(f"out of order w{w}: seq " + ", ".join(shown[:4]) + more)
    for w, seq in reader.recovered:
        occurrences += 1
        seen.add(code(w, seq))
    result.seen = len(seen)
    result.duplicated = occurrences - len(seen)
    missing = set(where) - seen
    result.missing = len(missing)
    if missing:
        result.details.extend(describe_missing(missing, per_file, writers))
    extra = len(seen - set(where))
    if extra:
        result.notes.append(f"{extra} seen that the files no longer hold")
    if result.duplicated:
        counts: dict[int, int] = {}
        pairs = [(w, seq) for w, seqs in enumerate(reader.seqs) for seq in seqs]
        for w, seq in pairs + reader.recovered:
            counts[code(w, seq)] = counts.get(code(w, seq), 0) + 1
        for w in range(writers):
            twice = sorted(c & ((1 << 40) - 1) for c, n in counts.items() if n > 1 and c >> 40 == w)
            if twice:
                result.details.append(f"duplicated w{w} seq: {ranges(twice)}")


def run_one(scenario: Scenario, reader_name: str, args: argparse.Namespace, base: str) -> RunResult:
    result = RunResult(scenario.name, reader_name, writers=len(scenario.handlers))
    directory = tempfile.mkdtemp(prefix=f"{scenario.name}-{reader_name}-", dir=base)
    path = os.path.join(directory, "app.log")
    stop_file = os.path.join(directory, "rotator.stop")
    open(path, "wb").close()  # the reader opens it before the first line
    cls = PrintReader if reader_name == "print" else ViewerReader
    reader = cls(path, len(scenario.handlers))
    writers: list[subprocess.Popen] = []
    rotator: subprocess.Popen | None = None
    try:
        reader.start()
        if not reader.wait_ready(60):
            reader.kill()
            reader.join(5)
            raise RuntimeError("the reader was not ready within 60 s: " + tail(reader.stderr, 2000))
        writers = start_writers(scenario, path, args)
        if scenario.rotator:
            cmd = [sys.executable, "-c", ROTATOR, scenario.rotator, path, str(args.rotations)]
            rotator = spawn([*cmd, stop_file], directory, "rotator")
        deadline = time.monotonic() + args.timeout
        while any(w.poll() is None for w in writers):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the writers did not finish within {args.timeout:.0f} s")
            reader.poll()
            time.sleep(SAMPLE)
        infos = []
        for wid, w in enumerate(writers):
            out, err = outputs(directory, f"writer{wid}")
            if w.returncode != 0 or not out.strip():
                raise RuntimeError(f"a writer exited with {w.returncode}: {tail(err)}")
            data = json.loads(out)
            infos.append(WriterInfo(args.records, data["start"], data["end"], data["stamps"]))
        if rotator is not None:
            open(stop_file, "w").close()
            rotator.wait(60)
            out, err = outputs(directory, "rotator")
            if rotator.returncode != 0:
                raise RuntimeError(f"the rotator exited with {rotator.returncode}: {tail(err)}")
            os.unlink(stop_file)
            if int(out) < args.rotations:
                result.notes.append(f"the rotator did {int(out)} rotations (the writer ended)")
        first = min(info.start for info in infos)
        last_write = max(info.end for info in infos)
        result.writing = last_write - first
        # Drain: until nothing new came for QUIET seconds (after the writers ended).
        deadline = time.monotonic() + args.timeout
        while True:
            reader.poll()
            if not reader.alive():
                result.notes.append(f"the reader exited early ({reader.proc.returncode})")
                break
            if time.time() - max(reader.last_change, last_write) >= QUIET:
                break
            if time.monotonic() > deadline:
                result.notes.append(
                    f"still taking in records {args.timeout:.0f} s after the writers ended"
                )
                break
            time.sleep(SAMPLE)
        result.peak_rss = proc_hwm(reader.proc.pid)
        end = time.time()
        reader.stop(60)
        result.notes.extend(reader.notes)
        result.details.extend(reader.details)
        result.merged = reader.merged
        if reader.broken:
            result.failed = True
            result.notes.append("FAILED: a harness thread failed (see the details)")
        if reader.last_change:
            result.wall = reader.last_change - first
        result.trail_records, result.trail_seconds = max_trail(reader.samples, infos, end)
        if isinstance(reader, ViewerReader):
            final = reader.final or {}
            if "seqs" not in final:
                result.failed = True
            else:
                result.end_store = f"{final['end_len']:,} / {final['readable']:,}"
                if final["restarts"]:
                    result.notes.append(
                        f"store restarted {final['restarts']} times "
                        f"({final['rereads']} records read again)"
                    )
        analyse(result, reader, infos, directory, args)
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        result.failed = True
        result.notes.append(f"FAILED: {exc}")
    finally:
        for proc in [*writers, rotator]:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.kill()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return result


# --- report ------------------------------------------------------------------------------------


def describe(r: RunResult) -> str:
    lines = [
        f"{r.scenario} / {r.reader}: {r.written:,} written by {r.writers}, "
        f"{r.rotations} rotations; seen {r.seen:,} of {r.in_files:,} in the files "
        f"(not in files: {r.not_in_files:,}); missing {r.missing:,}, duplicated "
        f"{r.duplicated:,}, out of order {'/'.join(map(str, r.out_of_order))}; "
        f"max trail {r.trail_records:,} records / {r.trail_seconds:.2f} s; "
        f"peak RSS {r.peak_rss:.0f} MB; writing {r.writing:.2f} s, wall {seconds(r.wall)}"
        + (f"; store at end {r.end_store} (records / readable)" if r.end_store else "")
        + ("" if r.ok else "  <-- NOT OK")
    ]
    lines += [f"  note: {note}" for note in r.notes]
    lines += ["  " + line.replace("\n", "\n    ") for line in r.details]
    return "\n".join(lines)


def markdown_table(results: list[RunResult]) -> str:
    rows = [
        (
            "| scenario | reader | rotations | written | not in files | seen | missing | dup "
            "| out of order (per writer) | max trail | peak RSS | wall | viewer store at end "
            "(records / readable) | notes |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        notes = "; ".join(n.replace("|", "/") for n in r.notes)
        rows.append(
            f"| {r.scenario} | {r.reader} | {r.rotations} | {r.written:,} | {r.not_in_files:,} "
            f"| {r.seen:,} | {'**' + format(r.missing, ',') + '**' if r.missing else 0} "
            f"| {'**' + format(r.duplicated, ',') + '**' if r.duplicated else 0} "
            f"| {'/'.join(map(str, r.out_of_order))} "
            f"| {r.trail_records:,} rec, {r.trail_seconds:.2f} s | {r.peak_rss:.0f} MB "
            f"| {seconds(r.wall)} | {r.end_store} | {notes[:300]} |"
        )
    return "\n".join(rows)


def choices(text: str, allowed: list[str] | tuple[str, ...], what: str) -> list[str]:
    picked = [x.strip() for x in text.split(",") if x.strip()]
    if picked == ["all"]:
        return list(allowed)
    unknown = [x for x in picked if x not in allowed]
    if unknown or not picked:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return picked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rotations",
        type=int,
        default=100,
        help="rotations per scenario (about, for the size-based ones)",
    )
    parser.add_argument("--records", type=int, default=50_000, help="records per writer")
    parser.add_argument(
        "--timed-seconds",
        type=int,
        default=20,
        help="at most this many seconds (= rotations) for 'timed'",
    )
    parser.add_argument(
        "--scenarios", default="all", help=f"comma-separated, or all: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--readers", default="all", help=f"comma-separated, or all: {', '.join(READERS)}"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds the writers may take, and the drain after them (per run)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (the files of every run)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args()
    try:
        scenarios = choices(args.scenarios, list(SCENARIOS), "scenario")
        readers = choices(args.readers, READERS, "reader")
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if args.rotations < 1 or args.records < 1:
        parser.error("--rotations and --records must be positive")

    # SIGTERM ends it like Ctrl-C: the processes of the run are killed, the files removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    base = tempfile.mkdtemp(prefix="logview-soak-")
    results = []
    started = time.monotonic()
    try:
        for name in scenarios:
            for reader in readers:
                result = run_one(SCENARIOS[name], reader, args, base)
                print(describe(result), flush=True)
                results.append(result)
    finally:
        if args.keep:
            print(f"\nfiles kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    command = "python bench/soak.py " + " ".join(sys.argv[1:])
    print(
        f"\n`{command.strip()}`: {args.records:,} records per writer, {args.rotations} "
        f"rotations (timed: {min(args.rotations, args.timed_seconds)} s); {os.cpu_count()} "
        f"CPUs; {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f} "
        "at the end\n"
    )
    print(markdown_table(results))
    ok = all(r.ok for r in results)
    print("\nOK" if ok else "\nFAILED: a run lost or duplicated records, or did not finish")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "command": command,
                    "args": vars(args),
                    "ok": ok,
                    "results": [asdict(r) for r in results],
                },
                f,
                indent=1,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
