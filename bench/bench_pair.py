"""Commands timed in alternation (paired runs): wall and CPU seconds, medians, load average.

    python bench/bench_pair.py --runs 5 --same \\
        'old=PYTHONPATH=/tmp/old python -m logview FILE --print -q "level>=ERROR"' \\
        'new=python -m logview FILE --print -q "level>=ERROR"' \\
        "grep=grep -E '^(ERROR|CRITICAL):' FILE"

Each ``NAME=COMMAND`` runs through the shell, in the ``--out`` directory (``python -m`` and
``python -c`` put the working directory first on the path: a tree there would be imported
whatever ``PYTHONPATH`` says), with its output into a file there (GNU grep stops at the first
match when writing to /dev/null). Rounds alternate the commands
(and rotate which goes first); ``--same`` checks that the named ones (all by default) wrote
the same bytes. Prints each run, then per command the median and range of wall seconds and of
CPU seconds (user + system of the command and its children), and the ratios of the medians.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path


def run(command: str, out: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.run(command, shell=True, stdout=sink, check=False, cwd=out.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{command!r} failed ({proc.returncode})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commands", nargs="+", help="NAME=COMMAND")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default="/tmp/bench_pair", help="where the outputs go")
    parser.add_argument("--same", nargs="*", help="names whose outputs must be equal")
    args = parser.parse_args()
    named = [c.split("=", 1) for c in args.commands]
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in named}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for r in range(args.runs):
        order = named[r % len(named):] + named[: r % len(named)]
        for name, command in order:
            wall, cpu = run(command, outdir / name)
            times[name].append((wall, cpu))
            print(f"round {r + 1} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        if args.same is not None:
            check = args.same or [n for n, _ in named]
            for other in check[1:]:
                if not filecmp.cmp(outdir / check[0], outdir / other, shallow=False):
                    raise SystemExit(f"{check[0]} and {other} wrote different bytes")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    medians = {}
    for name, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        medians[name] = statistics.median(walls)
        print(f"{name}: wall median {medians[name]:.2f} s ({min(walls):.2f}-{max(walls):.2f}), "
              f"CPU median {statistics.median(cpus):.2f} s ({min(cpus):.2f}-{max(cpus):.2f})")
    base = named[-1][0]
    for name, _ in named[:-1]:
        print(f"{name} / {base}: {medians[name] / medians[base]:.2f} x (wall medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
