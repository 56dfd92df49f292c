"""Start-up of the viewer under tmux: time to the first frame, and keys typed at once.

Each run starts a 120x40 tmux session and polls ``capture-pane`` every 20 ms (so times are
+-20 ms and include tmux's own start). Rows:

- ``textual floor``: a two-widget Textual app (the least any Textual viewer can take);
- ``logview --demo``: until the level bar shows;
- ``logview FILE``: until the file's last record shows (``--file``, optional; the viewer opens at the end);
- ``keys at start``: ``/abc`` sent the instant the session starts, until the query bar shows it
  (the keys were typed before Python ran: they must neither be lost nor act as commands).

Usage: ``.venv/bin/python bench/bench_startup.py [--runs 7] [--file bench/data/dash-100M.log]``
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import os
import re
import shutil
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
FLOOR_APP = """\
from textual.app import App
from textual.widgets import Footer, Static
class Floor(App):
    def compose(self):
        yield Static("FLOOR-READY")
        yield Footer()
Floor().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


_RUNS = itertools.count()


def time_until(command: str, shown: re.Pattern[str], keys: str | None = None,
               timeout: float = 30.0) -> float | None:
    """Seconds from starting ``command`` in tmux until the pane matches ``shown``."""
    session = f"logview-startup-{os.getpid()}-{next(_RUNS)}"  # kill-session is not instant
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"export XDG_STATE_HOME={STATE_DIR}; {command}; sleep 30"], check=True,
                   cwd=ROOT)
    try:
        if keys:
            tmux("send-keys", "-t", session, "-l", keys)
        while time.perf_counter() - start < timeout:
            if shown.search(tmux("capture-pane", "-p", "-t", session)):
                return time.perf_counter() - start
            time.sleep(0.02)
        return None
    finally:
        tmux("kill-session", "-t", session)


def summary(times: list[float | None]) -> str:
    done = [t for t in times if t is not None]
    if not done:
        return "never"
    missed = len(times) - len(done)
    text = f"best {min(done):.3f} s  median {statistics.median(done):.3f} s"
    return text + (f"  ({missed} runs never got there)" if missed else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--file", help="a log file to open as well")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as floor:
        floor.write(FLOOR_APP)
    logview = f"{PYTHON} -m logview"
    typed = re.compile(r"^ (?:find )?/ ?abc", re.MULTILINE)  # (the query bar: " find / abc")
    cases = [
        ("textual floor", f"{PYTHON} {floor.name}", re.compile("FLOOR-READY"), None),
        ("logview --demo", f"{logview} --demo", re.compile(r"DEBUG \d"), None),
        ("keys at start (--demo)", f"{logview} --demo", typed, "/abc"),
    ]
    if args.file:
        # (the viewer opens at the end, following, as tail -F: the last record is on screen)
        with Path(args.file).open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 4096))
            last = log.read().decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1]
        words = re.escape(" ".join(last.split()[-3:])[:40])
        cases.append((f"logview {Path(args.file).name}", f"{logview} {args.file}",
                      re.compile(words), None))
    # A session that outlives the runs: without it the tmux server exits with each run's
    # session and the next new-session may race its shutdown.
    keeper = f"logview-startup-keeper-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", keeper, "sleep 3600"], check=True)
    try:
        for name, command, shown, keys in cases:
            times = [time_until(command, shown, keys) for _ in range(args.runs)]
            print(f"{name:28s} {summary(times)}  ({args.runs} runs)")
    finally:
        os.unlink(floor.name)
        tmux("kill-session", "-t", keeper)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
