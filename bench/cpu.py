"""CPU the viewer uses while it waits or follows a slow stream, in a real terminal.

Each situation starts the viewer in a 120x40 tmux pane (a private tmux server), waits
``--warmup`` seconds for start-up to settle, then reads the viewer process's utime + stime
from ``/proc/PID/stat`` (all its threads; reaped children too) at the start and end of a
``--window`` second window. CPU% is that time over the window (100% = one core busy).

Situations:

- ``file``: an idle file of 50,000 records (``logview FILE``, followed, nothing appended);
- ``pipe``: ``python writer | logview``, the writer printing 20 records/s;
- ``demo``: ``logview --demo``;
- ``listen``: ``logview --listen PORT`` with no client;
- ``listen20``: ``--listen`` with a client sending 20 records/s through
  ``logging.handlers.SocketHandler``;
- ``textual``: not logview: a bare Textual app, a ``Log`` widget given 20 lines/s (5 every
  0.25 s, as the viewer draws them) and a one-line status: what any Textual viewer pays.

After the window the pane is captured: the last column says how many records the status
line showed (for the streams: that they did arrive). The writers run in processes of their
own and are not counted. CPU time grows when other processes share the cores (the load
average is printed before and after), so compare figures taken side by side:
``--baseline DIR`` measures the logview package in DIR (e.g. an older commit, extracted with
``git archive COMMIT logview | tar -x -C DIR``) in turns with this tree's, run for run.

Usage (from the repository root): ``python bench/cpu.py [--window 20] [--warmup 5]
[--only file,pipe] [--runs 1] [--baseline DIR]``
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The viewer's session state (query history, the place in each file) goes here, not to
#: the runner's home: no run restores the place another run left (tmux panes get the
#: server's environment, so each pane command exports it).
STATE_DIR = tempfile.mkdtemp(prefix="logview-bench-state-")
atexit.register(shutil.rmtree, STATE_DIR, True)
PYTHON = sys.executable
#: A private tmux server, so other tmux users on the machine cannot disturb a measurement.
TMUX = ("tmux", "-L", "logview-cpu")
TICKS = os.sysconf("SC_CLK_TCK")
SITUATIONS = ("file", "pipe", "demo", "listen", "listen20", "textual")
RATE = 20.0
FILE_RECORDS = 50_000

LOGGERS = ["app", "app.db", "app.db.pool", "app.web", "app.web.request", "app.auth"]
LEVELS = ["DEBUG"] * 30 + ["INFO"] * 55 + ["WARNING"] * 13 + ["ERROR"] * 2

#: Prints dash-template records at RATE per second on a fixed schedule (no drift).
PIPE_WRITER = """\
import sys, time
rate = float(sys.argv[1])
start = time.monotonic()
n = 0
while True:
    n += 1
    stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ",000"
    sys.stdout.write(f"{stamp} - app.web - INFO - request {n} handled in 12 ms\\n")
    sys.stdout.flush()
    time.sleep(max(0.0, start + n / rate - time.monotonic()))
"""

#: Sends records at RATE per second to a --listen port through logging's SocketHandler.
SOCKET_CLIENT = """\
import logging, logging.handlers, sys, time
port, rate = int(sys.argv[1]), float(sys.argv[2])
log = logging.getLogger("client.web")
log.setLevel(logging.DEBUG)
log.addHandler(logging.handlers.SocketHandler("127.0.0.1", port))
start = time.monotonic()
n = 0
while True:
    n += 1
    log.info("request %d handled in %d ms", n, 12)
    time.sleep(max(0.0, start + n / rate - time.monotonic()))
"""


#: The ``textual`` situation: a Log widget scrolled like the viewer's list, and a status line.
TEXTUAL_FLOOR = """\
import time
from textual.app import App
from textual.widgets import Footer, Log, Static

class Floor(App):
    def compose(self):
        yield Static("levels")
        yield Log()
        yield Static("", id="status")
        yield Footer()

    def on_mount(self):
        self.count = 0
        self.set_interval(0.25, self.grow)

    def grow(self):
        for _ in range(5):
            self.count += 1
            self.query_one(Log).write_line(
                time.strftime("%Y-%m-%d %H:%M:%S") + f".000 INFO  app.web  request {self.count}")
        self.query_one("#status", Static).update(f"floor  {self.count:,} records  following")

Floor().run()
"""


def tmux(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, check=False)


def write_log(path: Path, records: int, seed: int = 7) -> None:
    """A dash-template log of ``records`` records (deterministic)."""
    rnd = random.Random(seed)
    clock = 1_700_000_000_000
    with open(path, "w", encoding="utf-8") as out:
        for n in range(records):
            clock += rnd.randint(0, 40)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock // 1000))
            out.write(f"{stamp},{clock % 1000:03d} - {rnd.choice(LOGGERS)} - "
                      f"{rnd.choice(LEVELS)} - request {n} handled in {rnd.randint(1, 999)} ms\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime (+ reaped children) of ``pid``, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    return sum(int(value) for value in fields[11:15]) / TICKS


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def viewer_pid(session: str, timeout: float = 10.0, name: bytes = b"logview") -> int | None:
    """The pid of the viewer (``name``) in ``session``'s pane (not the shell, not a writer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pane = tmux("display-message", "-p", "-t", session, "#{pane_pid}").stdout.strip()
        if pane.isdigit():
            for pid in [int(pane), *descendants(int(pane))]:
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                # argv[:2]: the script, not a shell whose -c line ends with it.
                if any(os.path.basename(arg) == name for arg in argv[:2]):
                    return pid
        time.sleep(0.1)
    return None


STATUS = re.compile(r"([\d,]+) (?:records?|of [\d,]+ shown)")


def shown_records(session: str) -> str:
    """The record count on the status line ("?" when none can be read)."""
    screen = tmux("capture-pane", "-p", "-t", session).stdout
    counts = STATUS.findall(screen)
    return counts[-1] if counts else "?"


def command_for(situation: str, work: Path,
                source: Path | None = None) -> tuple[str, list[str] | None]:
    """The pane's command line, and a client to start once the viewer is up (or None).

    ``source``: a directory holding another ``logview`` package, run instead of this tree's.
    """
    logview = str(Path(PYTHON).with_name("logview"))
    if source is not None:
        logview = f"env PYTHONPATH={source} {logview}"
    if situation == "file":
        log = work / "idle-50k.log"
        if not log.exists():
            write_log(log, FILE_RECORDS)
        return f"exec {logview} {log}", None
    if situation == "pipe":
        writer = work / "writer.py"
        writer.write_text(PIPE_WRITER)
        return f"{PYTHON} {writer} {RATE} | {logview}", None
    if situation == "demo":
        return f"exec {logview} --demo", None
    if situation == "textual":
        floor = work / "textual-floor.py"
        floor.write_text(TEXTUAL_FLOOR)
        return f"exec {PYTHON} {floor}", None
    port = free_port()
    if situation == "listen":
        return f"exec {logview} --listen {port}", None
    client = work / "client.py"
    client.write_text(SOCKET_CLIENT)
    return f"exec {logview} --listen {port}", [PYTHON, str(client), str(port), str(RATE)]


def measure(situation: str, work: Path, warmup: float, window: float,
            source: Path | None = None) -> tuple[float, str]:
    """CPU% of the viewer in ``situation`` over ``window`` s, and the records it showed."""
    command, client_argv = command_for(situation, work, source)
    session = f"cpu-{situation}-{os.getpid()}"
    made = tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                f"export XDG_STATE_HOME={STATE_DIR}; {command}")
    if made.returncode != 0:
        raise SystemExit(f"tmux could not start {command!r}: {made.stderr.strip()}")
    client = None
    try:
        pid = viewer_pid(session, name=b"textual-floor.py" if situation == "textual"
                         else b"logview")
        if pid is None:
            raise SystemExit(f"no logview process in the pane of {command!r}")
        if client_argv is not None:
            time.sleep(1.0)  # the port is bound before the first frame; give it a moment
            client = subprocess.Popen(client_argv, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        time.sleep(warmup)
        before, start = cpu_seconds(pid), time.monotonic()
        time.sleep(window)
        after, end = cpu_seconds(pid), time.monotonic()
        return 100.0 * (after - before) / (end - start), shown_records(session)
    finally:
        if client is not None:
            client.terminate()
            client.wait()
        tmux("kill-session", "-t", session)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured (20)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds after start before measuring (5)")
    parser.add_argument("--only", default=",".join(SITUATIONS),
                        help=f"comma-separated situations ({','.join(SITUATIONS)})")
    parser.add_argument("--runs", type=int, default=1, help="runs of each (median shown)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also measure the logview package in DIR, in turns with this one")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "logview" / "__init__.py").exists():
        parser.error(f"no logview package in {args.baseline}")
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SITUATIONS)
    if unknown:
        parser.error(f"unknown situation(s): {', '.join(sorted(unknown))}")
    print(f"viewer CPU% over {args.window:g} s after {args.warmup:g} s warm-up, "
          f"{args.runs} run(s), {os.cpu_count()} cores, tmux 120x40, "
          f"load average {os.getloadavg()[0]:.1f}")
    trees: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    print(f"{'situation':<10} {'tree':<10} {'CPU% median':>12} {'runs':>24} "
          f"{'records shown':>14}")
    # tmux's server exits with its last session: one that waits keeps it between situations.
    tmux("new-session", "-d", "-s", f"cpu-hold-{os.getpid()}", "sleep 86400")
    try:
        with tempfile.TemporaryDirectory(prefix="logview-cpu-") as tmp:
            work = Path(tmp)
            for situation in chosen:
                # The Textual floor is no logview tree: measured once per run.
                measured = [("floor", None)] if situation == "textual" else trees
                results: dict[str, list[tuple[float, str]]] = {name: [] for name, _ in measured}
                for _ in range(args.runs):  # in turns, so that both see the same load
                    for name, source in measured:
                        results[name].append(
                            measure(situation, work, args.warmup, args.window, source))
                for name, _ in measured:
                    figures = [cpu for cpu, _ in results[name]]
                    runs = " ".join(f"{cpu:.1f}" for cpu in figures)
                    print(f"{situation:<10} {name:<10} {statistics.median(figures):>12.1f} "
                          f"{runs:>24} {results[name][-1][1]:>14}", flush=True)
    finally:
        tmux("kill-server")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
