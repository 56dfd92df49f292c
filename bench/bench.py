"""Big-file benchmark: generate a dash-template log, time logview against wc, grep and lnav.

    python bench/bench.py --size 1G          # also: 100M (default), 500M, ...
    python bench/bench.py --size 1G --tui    # + first screen under tmux (logview, toolong)

Prints a Markdown table (tool, task, wall s, peak RSS MB, ratio to logview's query) and checks
that logview's and lnav's error outputs hold the same records. ``--tui`` adds the time to the
first log text on screen (and to the full count) of ``logview FILE`` under tmux, and of
toolong when ``pip install toolong`` into a throwaway venv works. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import atexit
import filecmp
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The viewer's session state (query history, the place in each file) goes here, not to
#: the runner's home: no run restores the place another run left (tmux panes get the
#: server's environment, so each pane command exports it).
STATE_DIR = tempfile.mkdtemp(prefix="logview-bench-state-")
atexit.register(shutil.rmtree, STATE_DIR, True)
DATA = ROOT / "bench" / "data"
PY = sys.executable
DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
LOGGERS = ["app", "app.db", "app.db.pool", "app.web", "app.web.request", "app.auth",
           "worker", "worker.jobs", "worker.jobs.retry", "urllib3.connectionpool", "asyncio"]
LEVELS = ["DEBUG"] * 30 + ["INFO"] * 55 + ["WARNING"] * 13 + ["CRITICAL"] * 1
MESSAGES = ["request %d handled in %d ms", "user u%d logged in from 10.0.%d.1",
            "cache miss for key item:%d (size %d)", "retrying job %d, attempt %d",
            "connection pool at %d/%d", "slow query took %d ms on table t%d"]
TRACEBACK = ('Traceback (most recent call last):\n  File "/srv/app/handlers.py", line %d, in handle\n'
             '    result = self.process(request)\n  File "/srv/app/db.py", line %d, in process\n'
             '    raise DatabaseError("deadlock detected")\napp.db.DatabaseError: deadlock '
             'detected (job %d)\n')


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", text.upper())
    if not m:
        raise SystemExit(f"bad size {text!r}: use e.g. 100M or 1G")
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def generate(path: Path, size: int, seed: int = 42) -> None:
    """Deterministic dash-template log: logger hierarchy, all levels, ~1% ERROR + traceback."""
    rnd = random.Random(seed)
    clock = 1_700_000_000_000  # ms
    tmp = path.with_suffix(".tmp")
    written = 0
    with open(tmp, "w", encoding="utf-8") as out:
        while written < size:
            parts = []
            for _ in range(10000):
                clock += rnd.randint(0, 40)
                t = time.gmtime(clock // 1000)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", t) + f",{clock % 1000:03d}"
                name = rnd.choice(LOGGERS)
                n1, n2 = rnd.randint(1, 99999), rnd.randint(1, 999)
                if rnd.random() < 0.01:
                    parts.append(f"{stamp} - {name} - ERROR - job {n1} failed\n"
                                 + TRACEBACK % (n2, n2 + 7, n1))
                else:
                    level = rnd.choice(LEVELS)
                    parts.append(f"{stamp} - {name} - {level} - {rnd.choice(MESSAGES) % (n1, n2)}\n")
            block = "".join(parts)
            out.write(block)
            written += len(block)
    tmp.rename(path)


LNAV_FORMAT = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "python_dash": {
        "title": "Python logging, dash template",
        "regex": {"std": {"pattern": r"^(?<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})"
                                     r" - (?<logger>\S+) - (?<level>\w+) - (?<body>.*)$"}},
        "timestamp-format": ["%Y-%m-%d %H:%M:%S,%L"],
        "level-field": "level",
        "level": {"error": "ERROR", "critical": "CRITICAL", "warning": "WARNING",
                  "info": "INFO", "debug": "DEBUG"},
        "value": {"logger": {"kind": "string", "identifier": True}},
        "sample": [{"line": "2024-01-01 00:00:00,000 - app - INFO - hello"}],
    },
}

ENGINE_SCRIPT = """
import sys
from logview.sources.base import StaticFileSource
from logview.store import open_store
from logview.scan import iter_matching_records
from logview.printer import RecordPrinter
try:
    from logview.query import parse_query
except ImportError:  # the query module is not there yet: the same query by hand
    import re
    from types import SimpleNamespace
    def parse_query(text):
        groups = [re.compile(rb"ERROR|CRITICAL")]
        return SimpleNamespace(is_empty=False, matches=lambda r: r.levelno >= 40,
                               prefilter=lambda **kw: SimpleNamespace(groups=groups))
store = open_store(StaticFileSource(sys.argv[1]))
store.update(final=True)
out = sys.stdout.buffer
printer = RecordPrinter(out)
for record in iter_matching_records(store, parse_query(sys.argv[2])):
    printer.write(record)
"""

INDEX_SCRIPT = """
import sys, time
from logview.sources.base import StaticFileSource
from logview.store import open_store
store = open_store(StaticFileSource(sys.argv[1]))
t = time.perf_counter()
store.update(final=True)
print(f"{len(store)} records, {store.index.nbytes / max(1, len(store)):.2f} B/record, "
      f"{time.perf_counter() - t:.2f} s in update", file=sys.stderr)
"""


def run(cmd: list[str], stdout_path: str | None = None) -> tuple[float, float, str]:
    """Wall seconds and peak RSS MB of a command (GNU time -v when there, else rusage)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    timer = ["/usr/bin/time", "-v"] if os.path.exists("/usr/bin/time") else []
    start = time.perf_counter()
    proc = subprocess.run(timer + cmd, check=False, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
    wall = time.perf_counter() - start
    if stdout_path:
        out.close()
    err = proc.stderr.decode(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    return wall, rss, err


#: Message text of the generated log: on screen means log rows are showing.
LOG_ROW = re.compile(r"handled in|logged in from|cache miss for|retrying job|connection pool at|"
                     r"slow query took|job \d+ failed")
TOOLONG_VENV = Path(tempfile.gettempdir()) / "logview-bench-toolong"


def time_first_screen(command: str, total: int | None = None, timeout: float = 120.0,
                      errors: int | None = None) -> dict[str, float]:
    """Seconds until log text shows in a 120x40 tmux pane (``first``), until ``total``
    records do (``indexed``), until the level bar, tree and histogram have counted them all
    (``counted``: the level bar no longer says "counting…"), and, when ``errors`` is given,
    from pressing ``4`` (level>=ERROR) then until the status line shows ``errors`` of the
    total (``filtered``).

    The pane is captured every 20 ms; a time is missing when it never came.
    """
    session = f"logview-bench-{os.getpid()}"
    done_text = f"{total:,} records" if total else None
    filtered_text = f"{errors:,} of {total:,} shown" if errors is not None and total else None
    times: dict[str, float] = {}
    start = time.perf_counter()
    made = subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                           f"export XDG_STATE_HOME={STATE_DIR}; {command}"], check=False,
                          cwd=ROOT, capture_output=True)
    if made.returncode != 0:
        print(f"tmux could not start {command!r}: {made.stderr.decode().strip()}",
              file=sys.stderr)
        return times
    pressed = None
    try:
        while time.perf_counter() - start < timeout:
            screen = subprocess.run([*TMUX, "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True, check=False).stdout
            now = time.perf_counter() - start
            if "first" not in times and LOG_ROW.search(screen):
                times["first"] = now
            if done_text and "indexed" not in times and done_text in screen:
                times["indexed"] = now
            if "indexed" in times and "counted" not in times and "counting…" not in screen:
                times["counted"] = now
                if filtered_text:
                    subprocess.run([*TMUX, "send-keys", "-t", session, "4"], check=False)
                    pressed = time.perf_counter()
            if pressed is not None and filtered_text in screen:
                times["filtered"] = time.perf_counter() - pressed
                break
            if "first" in times and (not done_text or "counted" in times) and not filtered_text:
                break
            time.sleep(0.02)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], check=False,
                       stderr=subprocess.DEVNULL)
    return times


#: A private tmux server, so other tmux users on the machine cannot disturb a measurement.
TMUX = ("tmux", "-L", "logview-bench")


def toolong_command() -> str | None:
    """``tl`` from a throwaway venv (made once with pip), or None if that cannot be had."""
    tl = TOOLONG_VENV / "bin" / "tl"
    if not tl.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(TOOLONG_VENV)], check=False,
                              capture_output=True)
        if made.returncode == 0:
            subprocess.run([str(TOOLONG_VENV / "bin" / "pip"), "install", "-q", "toolong"],
                           check=False, capture_output=True, timeout=600)
    return str(tl) if tl.exists() else None


def stats(values: list[float]) -> str:
    """Best and median of a few runs ("best / median")."""
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[0]:.2f} / {ordered[len(ordered) // 2]:.2f}"


def tui_rows(log: str, total: int | None, runs: int,
             errors: int | None = None) -> list[tuple[str, str, str]]:
    """First-screen, full-index, counted and filtered times of logview and, if it installs,
    toolong's first screen."""
    out = []
    if not shutil.which("tmux"):
        return [("logview", "TUI first screen", "tmux not installed")]
    # A session that outlives the runs: without it the private server exits with each run's
    # session and the next new-session may race its shutdown.
    keeper = f"keeper-{os.getpid()}"
    subprocess.run([*TMUX, "new-session", "-d", "-s", keeper, "sleep 3600"], check=True)
    try:
        seen: dict[str, list[float]] = {}
        for _ in range(runs):
            got = time_first_screen(f"{PY} -m logview {log}", total, errors=errors)
            for key, value in got.items():
                seen.setdefault(key, []).append(value)
        out.append(("logview", "TUI: first log text on screen", stats(seen.get("first", []))))
        out.append(("logview", "TUI: all records indexed (the status line's total)",
                    stats(seen.get("indexed", []))))
        out.append(("logview", "TUI: level bar, logger tree and histogram counted",
                    stats(seen.get("counted", []))))
        if errors is not None:
            out.append(("logview", "TUI: key 4 (level>=ERROR) until the filtered count shows",
                        stats(seen.get("filtered", []))))
        tl = toolong_command()
        if tl is None:
            out.append(("toolong", "TUI: first log text on screen", "not installed (pip failed)"))
        else:
            times = [t for t in (time_first_screen(f"{tl} {log}").get("first")
                                 for _ in range(runs)) if t]
            out.append(("toolong", "TUI: first log text on screen", stats(times)))
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", keeper], check=False)
    return out


def count_headers(path: str) -> tuple[int, int]:
    """(ERROR/CRITICAL header lines, total lines) of a printed output."""
    header = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \S+ - (ERROR|CRITICAL) - ")
    headers = lines = 0
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            headers += header.match(line) is not None
    return headers, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100M")
    parser.add_argument("--tui", action="store_true",
                        help="also time the viewer's first screen under tmux (and toolong's)")
    parser.add_argument("--runs", type=int, default=3,
                        help="repetitions of the timed index and TUI runs (best / median)")
    args = parser.parse_args()
    size = parse_size(args.size)
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"dash-{args.size.upper()}.log"
    if not path.exists():
        t = time.perf_counter()
        generate(path, size)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    log = str(path)
    tmp = tempfile.mkdtemp(prefix="logview-bench-")
    rows: list[tuple[str, str, float, float]] = []
    checks: list[str] = []
    tui: list[tuple[str, str, str]] = []
    try:
        rows.append(("wc", "wc -l", *run(["wc", "-l", log])[:2]))
        # Output to a file: GNU grep stops at the first match when stdout is /dev/null.
        grep_out = os.path.join(tmp, "grep.out")
        rows.append(("grep", "grep -c ERROR", *run(["grep", "-c", "ERROR", log], grep_out)[:2]))
        have_cli = (ROOT / "logview" / "cli.py").exists() and (
            ROOT / "logview" / "query" / "__init__.py"
        ).exists()
        lv_out = os.path.join(tmp, "logview.out")
        cmd = ([PY, "-m", "logview", log, "--print", "-q", "level>=ERROR"] if have_cli
               else [PY, "-c", ENGINE_SCRIPT, log, "level>=ERROR"])
        wall, rss, err = run(cmd, lv_out)
        rows.append(("logview", "--print -q 'level>=ERROR'", wall, rss))
        query_wall = wall
        # Everything into a file: the records' bytes as they are, copied without parsing.
        cat_out, all_out = os.path.join(tmp, "cat.out"), os.path.join(tmp, "all.out")
        cat_wall, cat_rss, _ = run(["cat", log], cat_out)
        rows.append(("cat", "cat (to a file)", cat_wall, cat_rss))
        all_wall, all_rss, _ = run([PY, "-m", "logview", log, "--print"], all_out)
        rows.append(("logview", "--print, everything (to a file)", all_wall, all_rss))
        same = filecmp.cmp(cat_out, all_out, shallow=False)
        checks.append(f"print everything: {'the same bytes as cat' if same else 'DIFFERENT'}, "
                      f"{all_wall / cat_wall:.1f} x cat's wall time")
        os.unlink(cat_out)
        os.unlink(all_out)
        index_runs = [run([PY, "-c", INDEX_SCRIPT, log]) for _ in range(max(1, args.runs))]
        wall, rss, err = min(index_runs)
        rows.append(("logview", "full record index (best run)", wall, rss))
        summary = err.splitlines()[0] if err else ""
        print(summary, file=sys.stderr)
        counted = re.match(r"(\d+) records", summary)
        total = int(counted.group(1)) if counted else None
        budget = 64 + 8 * (total or 0) / 2**20
        walls = [r[0] for r in index_runs]
        checks.append(f"index: wall best / median {stats(walls)} s over {len(walls)} runs; "
                      f"peak RSS {max(r[1] for r in index_runs):.0f} MB, budget 64 MB + 8 B x "
                      f"{total} records = {budget:.0f} MB")
        checks.append(f"logview: {count_headers(lv_out)} (error headers, lines)")
        if shutil.which("lnav"):
            fmt_dir = Path(tmp) / "lnav" / "formats" / "installed"
            fmt_dir.mkdir(parents=True)
            (fmt_dir / "python_dash.json").write_text(json.dumps(LNAV_FORMAT))
            env_home = {"HOME": tmp, "XDG_CONFIG_HOME": tmp}
            os.environ.update(env_home)
            lnav_out = os.path.join(tmp, "lnav.out")
            wall, rss, err = run(["lnav", "-N", "-I", str(Path(tmp) / "lnav"), "-n", "-c",
                                  ":set-min-log-level error", log], lnav_out)
            rows.append(("lnav", "-n -c ':set-min-log-level error'", wall, rss))
            same = count_headers(lnav_out) == count_headers(lv_out)
            checks.append(f"lnav: {count_headers(lnav_out)} -> {'same' if same else 'DIFFERENT'}")
        else:
            checks.append("lnav: not installed (apt-get install -y lnav)")
        if not args.tui:
            checks.append("toolong: run with --tui (first screen; needs pip for a throwaway venv)")
        if args.tui:
            tui = tui_rows(log, total, max(1, args.runs), count_headers(lv_out)[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n`python bench/bench.py --size {args.size}` on {path.name} "
          f"({path.stat().st_size / 1e9:.2f} GB)\n")
    print("| tool | task | wall s | peak RSS MB | ratio to logview query |")
    print("|---|---|---|---|---|")
    for tool, task, wall, rss in rows:
        print(f"| {tool} | {task} | {wall:.2f} | {rss:.0f} | {wall / query_wall:.2f} |")
    if tui:
        print(f"\n| tool | task (tmux 120x40, {max(1, args.runs)} runs) | best / median s |")
        print("|---|---|---|")
        for tool, task, value in tui:
            print(f"| {tool} | {task} | {value} |")
    print()
    for line in checks:
        print("-", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
