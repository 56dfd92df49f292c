"""The soak's readers (bench/soak.py): ``logview --print --follow`` and the viewer driven
headless in a child process (``VIEWER``), each counting the records it saw."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

from soak_scenarios import MARKER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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
                 "notices": [n for part in store.parts() for n in part.source.notices],
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
        self.notices: list[str] = []  # viewer: its sources' notices (print: on its stderr)
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
            # What the viewer says (its status line): the source's notices, as print's stderr.
            self.notices = final.get("notices", [])
            self.notes.extend("notice: " + tail(text, 200) for text in self.notices)
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
