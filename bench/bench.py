"""Big-file benchmark: generate a dash-template log, time logview against wc, grep and lnav.

    python bench/bench.py --size 1G          # also: 100M (default), 500M, ...

Prints a Markdown table (tool, task, wall s, peak RSS MB, ratio to logview's query) and checks
that logview's and lnav's error outputs hold the same records. Not part of the test suite.
"""

from __future__ import annotations

import argparse
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
from logview.engine import iter_matching_records
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
                        help="also time the viewer's first screen (stub: filled by the TUI work)")
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
    try:
        rows.append(("wc", "wc -l", *run(["wc", "-l", log])[:2]))
        rows.append(("grep", "grep -c ERROR", *run(["grep", "-c", "ERROR", log])[:2]))
        have_cli = (ROOT / "logview" / "cli.py").exists() and (ROOT / "logview" / "query.py").exists()
        lv_out = os.path.join(tmp, "logview.out")
        cmd = ([PY, "-m", "logview", log, "--print", "-q", "level>=ERROR"] if have_cli
               else [PY, "-c", ENGINE_SCRIPT, log, "level>=ERROR"])
        wall, rss, err = run(cmd, lv_out)
        rows.append(("logview", "--print -q 'level>=ERROR'", wall, rss))
        query_wall = wall
        wall, rss, err = run([PY, "-c", INDEX_SCRIPT, log])
        rows.append(("logview", "full record index", wall, rss))
        print(err.splitlines()[0] if err else "", file=sys.stderr)
        checks = [f"logview: {count_headers(lv_out)} (error headers, lines)"]
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
        checks.append("toolong: skipped (needs a separate venv; its index is ~40 B/line)")
        if args.tui:
            checks.append("tui: first screen timing not implemented yet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n`python bench/bench.py --size {args.size}` on {path.name} "
          f"({path.stat().st_size / 1e9:.2f} GB)\n")
    print("| tool | task | wall s | peak RSS MB | ratio to logview query |")
    print("|---|---|---|---|---|")
    for tool, task, wall, rss in rows:
        print(f"| {tool} | {task} | {wall:.2f} | {rss:.0f} | {wall / query_wall:.2f} |")
    print()
    for line in checks:
        print("-", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
