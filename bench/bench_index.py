"""The full record index of a file alone (``store.update(final=True)``): wall and CPU seconds.

    python bench/bench_index.py FILE [FILE...] [--runs N] [--code DIR] [--mask]

Each run opens the file in a fresh child process (format detection left out of the timing),
indexes it to the end and prints the records, the wall seconds of the update and the process
CPU seconds (both index threads; steadier than the wall time while other work runs). With
several files, or ``--code`` trees (``git archive REV | tar -x -C DIR``; repeat the option),
the runs alternate (file by file, tree by tree) and the medians are printed at the end, with
the load average before and after. ``--mask`` times the start test alone (``StartDetector.mask``
on 4 MB chunks, in sequence, in one thread) instead of the whole index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, time
import numpy as np
from logview.sources.base import StaticFileSource
from logview.store import open_store
store = open_store(StaticFileSource(sys.argv[1]))
if sys.argv[2] == "mask":
    from logview.index import CHUNK_BYTES, line_bounds
    det = store.index.detector
    starts_found = 0
    with open(sys.argv[1], "rb") as f:
        wall, cpu = time.perf_counter(), time.process_time()
        rest = b""
        while True:
            block = f.read(CHUNK_BYTES)
            if not block:
                break
            data = rest + block
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            arr = np.frombuffer(data, dtype=np.uint8)
            s, e = line_bounds(arr)
            starts_found += int(np.count_nonzero(det.mask(data, arr, s, e)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(starts_found, wall, cpu)
else:
    wall, cpu = time.perf_counter(), time.process_time()
    store.update(final=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(len(store), wall, cpu)
"""


def run_once(code: str, path: str, mode: str) -> tuple[int, float, float]:
    env = dict(os.environ, PYTHONPATH=code)
    # (run from the tree itself: ``python -c`` puts the working directory first on the path)
    out = subprocess.run([sys.executable, "-c", CHILD, path, mode], env=env, check=True,
                         capture_output=True, text=True, cwd=code).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", action="append", help="a tree to measure (repeatable)")
    parser.add_argument("--mask", action="store_true", help="time the start test alone")
    args = parser.parse_args()
    trees = args.code or [str(ROOT)]
    mode = "mask" if args.mask else "index"
    print(f"load average before: {os.getloadavg()}")
    results: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for r in range(args.runs):
        for path in args.files:
            for code in trees:
                got = run_once(code, path, mode)
                results.setdefault((code, path), []).append(got)
                print(f"run {r + 1} {code} {Path(path).name}: {got[0]} records, "
                      f"{got[1]:.2f} s wall, {got[2]:.2f} s CPU", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for (code, path), runs in results.items():
        walls = [w for _n, w, _c in runs]
        cpus = [c for _n, _w, c in runs]
        print(f"{code} {Path(path).name}: {runs[0][0]} records, wall median "
              f"{statistics.median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f}), CPU median "
              f"{statistics.median(cpus):.2f} s ({min(cpus):.2f}-{max(cpus):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
