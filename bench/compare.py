"""Side by side on three generated logs: logview, lnav, grep (and rg when installed) and cat.

    python bench/compare.py --size 100M             # a quick check
    python bench/compare.py --size 1G --runs 3      # the README table

Generates once, under ``--data`` (default ``bench/data``), three files of about ``--size``
written by the real logging module (``bench_parse.generate``: seven loggers, 1% ERROR records
with a traceback): the dash template, ``basicConfig``'s ``%(levelname)s:%(name)s:%(message)s``
and python-json-logger JSON lines with a ``status`` field. Then, in one run, interleaved (each
repetition goes through every file, task and tool in turn, the tools' order turning), it
times on each file: ``level>=ERROR``, a ``/regex/``, ``logger:app.db``, a field query
(``status>=500``, JSON only), everything printed as text into a pipe, and everything as
``-o jsonl`` into a pipe; logview, lnav (format files below, ``lnav -N -n -c ...``), grep
(and rg) finding the same header lines, and ``cat`` of the file into the same pipe. Query
outputs go to files (GNU grep stops at the first match when writing to /dev/null); the
records logview and lnav printed are counted (lines that open a record) and compared.
Prints a Markdown table of medians (and ranges) with the ratios logview/lnav, logview/grep
and logview/cat. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_parse import generate

from bench import LNAV_FORMAT, parse_size

PY = sys.executable
DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
BASIC = logging.BASIC_FORMAT  # "%(levelname)s:%(name)s:%(message)s"
REGEX = r"request 1234\d handled"
LEVELS = {"error": "ERROR", "critical": "CRITICAL", "warning": "WARNING", "info": "INFO",
          "debug": "DEBUG"}

#: lnav needs a timestamp in every format: basicConfig's lines have none, so the format
#: captures an empty one (lnav then prints its own time before each record).
LNAV_BASIC = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "python_basic": {
        "title": "Python logging, basicConfig",
        "regex": {"std": {"pattern": r"^(?<timestamp>)(?<level>[A-Z]+):(?<logger>[^:\s]+):"
                                     r"(?<body>.*)$"}},
        "timestamp-format": [""],
        "level-field": "level",
        "level": LEVELS,
        "value": {"logger": {"kind": "string", "identifier": True}},
        "sample": [{"line": "INFO:app:hello"}],
    },
}
LNAV_JSON = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "python_json": {
        "title": "python-json-logger",
        "json": True,
        "timestamp-field": "asctime",
        "timestamp-format": ["%Y-%m-%d %H:%M:%S,%L"],
        "level-field": "levelname",
        "level": LEVELS,
        "body-field": "message",
        "line-format": [{"field": "__timestamp__", "timestamp-format": "%Y-%m-%d %H:%M:%S,%L"},
                        " ", {"field": "levelname"}, " ", {"field": "name"}, " ",
                        {"field": "message"}],
        "value": {"name": {"kind": "string", "identifier": True},
                  "levelname": {"kind": "string"}, "message": {"kind": "string"},
                  "exc_info": {"kind": "string"}, "user": {"kind": "integer"},
                  "status": {"kind": "integer"}},
    },
}


def with_status(rng: random.Random) -> dict[str, object]:
    """The JSON file's extra fields: a user and an HTTP status (4% 5xx)."""
    return {"user": rng.randint(1, 500),
            "status": rng.choice((200,) * 90 + (404,) * 6 + (500, 502, 503, 504))}


@dataclass
class Kind:
    """One generated file and how each tool asks it the same questions."""

    name: str
    suffix: str
    lnav_format: dict
    #: A line that opens a record in logview's and lnav's text output.
    head: re.Pattern[bytes]
    #: grep -E patterns finding the header lines of each query's records.
    grep: dict[str, str]
    logger_field: str = "logger"
    tasks: list[str] = field(default_factory=lambda: ["level>=ERROR", "/regex/",
                                                      "logger:app.db"])

    def formatter(self) -> logging.Formatter:
        if self.name == "json":
            from pythonjsonlogger.json import JsonFormatter

            return JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        return logging.Formatter(DASH if self.name == "dash" else BASIC)


KINDS = [
    Kind("dash", "log", LNAV_FORMAT,
         re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - ", re.MULTILINE),
         {"level>=ERROR": r" - (ERROR|CRITICAL) - ", "logger:app.db": r" - app\.db(\.\S*)? - "}),
    Kind("basicConfig", "log", LNAV_BASIC,
         re.compile(rb"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})?"
                    rb"(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):", re.MULTILINE),
         {"level>=ERROR": r"^(ERROR|CRITICAL):", "logger:app.db": r"^[A-Z]+:app\.db(\.[^:]*)?:"}),
    Kind("json", "jsonl", LNAV_JSON,
         re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.MULTILINE),
         {"level>=ERROR": r'"levelname": "(ERROR|CRITICAL)"',
          "logger:app.db": r'"name": "app\.db(\.[^"]*)?"', "status>=500": r'"status": 5[0-9]{2}'},
         logger_field="name",
         tasks=["level>=ERROR", "/regex/", "logger:app.db", "status>=500"]),
]
PRINT_TASKS = ["print all as text into a pipe", "print all -o jsonl into a pipe"]


def logview_query(task: str) -> str:
    return f"/{REGEX}/" if task == "/regex/" else task


def lnav_command(kind: Kind, task: str) -> str:
    if task == "level>=ERROR":
        return ":set-min-log-level error"
    if task == "/regex/":
        return f":filter-in {REGEX}"
    if task == "logger:app.db":
        f = kind.logger_field
        return f":filter-expr :{f} = 'app.db' OR :{f} LIKE 'app.db.%'"
    if task == "status>=500":
        return ":filter-expr :status >= 500"
    raise ValueError(task)


class Runner:
    """Runs the commands, keeps every wall time and what each output held."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.times: dict[tuple[str, str, str], list[float]] = {}
        self.counts: dict[tuple[str, str, str], tuple[int, int]] = {}
        self.lnav_dir = tmp / "lnav"
        self.env = dict(os.environ, HOME=str(tmp), XDG_CONFIG_HOME=str(tmp))

    def setup_lnav(self) -> None:
        formats = self.lnav_dir / "formats" / "installed"
        formats.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            (formats / f"{kind.name}.json").write_text(json.dumps(kind.lnav_format))

    def timed(self, key: tuple[str, str, str], cmd: list[str] | str,
              out: Path | None = None) -> bytes:
        """Run ``cmd`` (a shell line when a str), stdout to ``out`` or captured."""
        start = time.perf_counter()
        with open(out, "wb") if out is not None else open(os.devnull, "wb") as sink:
            proc = subprocess.run(cmd, shell=isinstance(cmd, str), cwd=ROOT, env=self.env,
                                  stdout=sink if out is not None else subprocess.PIPE,
                                  stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - start
        if proc.returncode not in (0, 1):  # grep and logview say 1 for "nothing matched"
            raise SystemExit(f"{cmd!r} failed ({proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace')[-2000:]}")
        self.times.setdefault(key, []).append(wall)
        return proc.stdout or b""

    def query(self, kind: Kind, path: Path, task: str, tool: str) -> None:
        key = (kind.name, task, tool)
        out = self.tmp / f"{kind.name}.{tool}.out"
        log = str(path)
        if tool == "logview":
            self.timed(key, [PY, "-m", "logview", log, "--print", "-q", logview_query(task)],
                       out)
        elif tool == "lnav":
            self.timed(key, ["lnav", "-N", "-I", str(self.lnav_dir), "-n", "-c",
                             lnav_command(kind, task), log], out)
        elif tool in ("grep", "rg"):
            pattern = REGEX.replace(r"\d", "[0-9]") if task == "/regex/" else kind.grep[task]
            cmd = ["grep", "-E", pattern, log] if tool == "grep" else ["rg", pattern, log]
            self.timed(key, cmd, out)
        if tool in ("logview", "lnav"):
            data = out.read_bytes()
            self.counts[key] = (len(kind.head.findall(data)), data.count(b"\n"))
        out.unlink(missing_ok=True)

    def print_all(self, kind: Kind, path: Path, task: str, tool: str) -> None:
        key = (kind.name, task, tool)
        log = str(path)
        jsonl = "-o jsonl" in task
        if tool == "logview":
            cmd = f"{PY} -m logview {log} --print{' -o jsonl' if jsonl else ''} | wc -c"
        elif tool == "lnav":
            cmd = f"lnav -N -I {self.lnav_dir} -n {log} | wc -c"
        else:  # cat
            cmd = f"cat {log} | wc -c"
        got = self.timed(key, cmd)
        self.counts[key] = (int(got.split()[0]) if got.split() else -1, 0)


def cell(values: list[float] | None) -> str:
    if not values:
        return "–"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.2f}"
    return f"{median:.2f} ({min(values):.2f}–{max(values):.2f})"


def ratio(a: list[float] | None, b: list[float] | None) -> str:
    if not a or not b:
        return "–"
    return f"{statistics.median(a) / statistics.median(b):.2f}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="size of each file (1G; 100M for a check)")
    parser.add_argument("--runs", type=int, default=1, help="repetitions, interleaved")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data",
                        help="where the generated files are kept (and reused)")
    parser.add_argument("--kinds", default="dash,basicConfig,json",
                        help="which files (dash,basicConfig,json)")
    parser.add_argument("--no-print", action="store_true", help="leave out print-everything")
    args = parser.parse_args()
    size = parse_size(args.size)
    args.data.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in KINDS if k.name in args.kinds.split(",")]
    paths: dict[str, Path] = {}
    for kind in kinds:
        path = args.data / f"compare-{kind.name}-{args.size.upper()}.{kind.suffix}"
        if not path.exists():
            started = time.perf_counter()
            generate(path, kind.formatter(), size, with_status)
            print(f"generated {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        paths[kind.name] = path
    # logview's modules compiled to bytecode once, as pip does when it installs a package (an
    # editable install under PYTHONDONTWRITEBYTECODE would compile every module at every start).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "logview")], check=True,
                   stdout=subprocess.DEVNULL)
    tools = ["logview", "lnav", "grep"] + (["rg"] if shutil.which("rg") else [])
    have_lnav = shutil.which("lnav") is not None
    if not have_lnav:
        tools.remove("lnav")
    tmp = Path(tempfile.mkdtemp(prefix="logview-compare-"))
    runner = Runner(tmp)
    runner.setup_lnav()
    started_load = load()
    try:
        for run in range(args.runs):
            for kind in kinds:
                path = paths[kind.name]
                for task in kind.tasks:
                    order = tools if run % 2 == 0 else tools[::-1]
                    for tool in order:
                        runner.query(kind, path, task, tool)
                if args.no_print:
                    continue
                for task in PRINT_TASKS:
                    order = ["logview", "lnav", "cat"] if have_lnav else ["logview", "cat"]
                    if "-o jsonl" in task:
                        order = ["logview"]  # lnav's and cat's times are the text row's
                    for tool in order if run % 2 == 0 else order[::-1]:
                        runner.print_all(kind, path, task, tool)
            print(f"run {run + 1} of {args.runs} done (load {load()})", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, kinds, paths, tools, runner, started_load)
    return 0


def report(args, kinds, paths, tools, runner: Runner, started_load: str) -> None:
    times, counts = runner.times, runner.counts
    search = "grep / rg" if "rg" in tools else "grep"
    print(f"\n`python bench/compare.py --size {args.size} --runs {args.runs}` "
          f"({os.cpu_count()} cores, load average {started_load} at the start, {load()} at "
          f"the end; wall seconds, median (range) of {args.runs} interleaved runs)\n")
    print(f"| file | task | logview | lnav | {search} | cat | logview / lnav | "
          f"logview / {search} | logview / cat |")
    print("|---|---|---|---|---|---|---|---|---|")
    checks = []
    for kind in kinds:
        path = paths[kind.name]
        label = f"{kind.name}, {path.stat().st_size / 1e9:.2f} GB"
        for task in kind.tasks + ([] if args.no_print else PRINT_TASKS):
            key = (kind.name, task)
            lv = times.get((*key, "logview"))
            ln = times.get((*key, "lnav"))
            cat = times.get((kind.name, PRINT_TASKS[0], "cat"))
            if "-o jsonl" in task:  # against lnav printing everything (it has no JSON output)
                ln = times.get((kind.name, PRINT_TASKS[0], "lnav"))
            found = [times[(*key, t)] for t in ("grep", "rg") if (*key, t) in times]
            best = min(found, key=statistics.median) if found else None
            grep_cell = " / ".join(cell(v) for v in found) if found else "–"
            print(f"| {label} | `{task}` | {cell(lv)} | {cell(ln)} | {grep_cell} | "
                  f"{cell(cat) if task in PRINT_TASKS else '–'} | {ratio(lv, ln)} | "
                  f"{ratio(lv, best)} | {ratio(lv, cat) if task in PRINT_TASKS else '–'} |")
            label = ""
            if task in PRINT_TASKS:
                a, b = counts.get((*key, "logview")), counts.get((kind.name, task, "lnav"))
                size = counts.get((kind.name, PRINT_TASKS[0], "cat"))
                if "-o jsonl" not in task and a and size:
                    checks.append(f"{kind.name} `{task}`: logview wrote {a[0]:,} bytes, cat "
                                  f"{size[0]:,}" + (f", lnav {b[0]:,}" if b else ""))
                elif a:
                    checks.append(f"{kind.name} `{task}`: logview wrote {a[0]:,} bytes")
                continue
            a, b = counts.get((*key, "logview")), counts.get((*key, "lnav"))
            if a and b:
                same = "same" if a[0] == b[0] else "DIFFERENT"
                checks.append(f"{kind.name} `{task}`: logview {a[0]:,} records ({a[1]:,} "
                              f"lines), lnav {b[0]:,} records ({b[1]:,} lines): {same}")
    print()
    for line in checks:
        print("-", line)


if __name__ == "__main__":
    raise SystemExit(main())
