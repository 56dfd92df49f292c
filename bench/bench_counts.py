"""Counting every record of a file by level, logger and time (what the viewer's level bar,
logger tree and histogram show): by columns with the format's walker, and with every record
parsed.

Usage: python bench/bench_counts.py FILE [--generate MB] [--tui [--runs N] [--code DIR]]
       python bench/bench_counts.py FILE --headless

``--generate MB`` first writes FILE, when it does not exist, with python-json-logger (about MB
megabytes: the records of ``bench_parse.py``, 1% ERROR with tracebacks). Then it times the
record index, counting with the walker (``RecordCounter``, as the viewer counts) and counting
with the walker turned off (every record parsed), checks that both counts are equal, and
prints wall and CPU seconds (CPU: steadier while other work runs) and the share of records
the walker read itself. ``--runs N`` counts by columns N times and shows the run of least CPU;
``--code DIR`` measures the logview of another tree (``git archive REV | tar -x -C DIR``).

``--tui`` instead opens FILE in the viewer in a tmux pane (``bench.time_first_screen``) and
prints, per run, the seconds until the status line shows every record (indexed) and until the
level bar stops saying "counting…" (counted), their ratio, the viewer's peak RSS against the
budget of 64 MB + 16 B a record, and the most its range workers held at once. ``--code DIR`` runs the viewer
of another tree (``git archive REV | tar -x -C DIR``), for paired before/after runs;
``--range-workers [0|1]`` sets ``LOGVIEW_RANGE_WORKERS`` for the viewer (the index's range
workers, ``range_columns``: 1 on, 0 off; without it the tree's default).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: ``--code DIR``: the logview of another tree is the one measured (read before importing it).
CODE = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--code"), str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, CODE)

from logview.columns import RecordCounter
from logview.sources.base import StaticFileSource
from logview.stats import RecordStats
from logview.store import open_store


def count(store, walker: bool) -> tuple[float, float, int, RecordStats]:
    """(seconds, CPU seconds of the process, records the walker did not read, the counts)."""
    fmt = store.format
    parsed = 0
    real_parse = type(fmt).parse

    def parse(self, text):
        nonlocal parsed
        parsed += 1
        return real_parse(self, text)

    if not walker:
        fmt.column_walker = lambda: None  # this store's format only
    type(fmt).parse = parse
    stats = RecordStats()
    gc.disable()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for batch in RecordCounter(store).batches(len(store)):
            stats.add_batch(batch)
            stats.take()  # as the viewer does: what was counted goes to the widgets
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        gc.enable()
        type(fmt).parse = real_parse
        if not walker:
            del fmt.column_walker
    return seconds, cpu, parsed, stats


class PeakMemory:
    """Polls /proc for the viewer started on ``path`` (the process whose parent is not one of
    them) and the processes below it (its range workers, their fork server): the viewer's
    peak RSS (VmHWM) and the most RSS those held together at one look (shared pages count in
    each)."""

    def __init__(self, path: Path) -> None:
        import threading

        self.needle = f"-m\0logview\0{path}".encode()
        self.viewer_mb = 0.0
        self.workers_mb = 0.0
        self.cpu: dict[str, float] = {}  # CPU seconds of each process, at its last look
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _status(self, pid: str) -> dict[str, str]:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f if ":" in line)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            viewers, parents = set(), {}
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    parents[pid] = fields[1]
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if self.needle in f.read():
                            viewers.add(pid)
                except OSError:
                    continue
            # The viewer and every process below it (its fork server and the server's workers).
            found = {pid: None for pid in viewers if parents.get(pid) not in viewers}
            grew = True
            while grew:
                below = [pid for pid, ppid in parents.items() if ppid in found and pid not in found]
                grew = bool(below)
                found.update(dict.fromkeys(below))
            workers = 0.0
            for pid in found:
                try:
                    status = self._status(pid)
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                if parents[pid] in found:
                    workers += int(status.get("VmRSS", "0 kB").split()[0]) / 1024
                else:
                    hwm = int(status.get("VmHWM", "0 kB").split()[0]) / 1024
                    self.viewer_mb = max(self.viewer_mb, hwm)
            self.workers_mb = max(self.workers_mb, workers)

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.viewer_mb, self.workers_mb


def tui(path: Path, runs: int, code: Path, range_workers: str = "") -> None:
    """Indexed and counted times of the viewer on ``path`` (the viewer of tree ``code``)."""
    import subprocess

    import bench

    store = open_store(StaticFileSource(str(path)))
    store.update(final=True)
    total = len(store)
    keeper = f"keeper-{os.getpid()}"
    subprocess.run([*bench.TMUX, "new-session", "-d", "-s", keeper, "sleep 3600"], check=True)
    try:
        for run in range(runs):
            # From the tree's own directory: ``-m`` puts the working directory first on the path.
            memory = PeakMemory(path)
            started = time.perf_counter()
            got = bench.time_first_screen(
                f"cd {code} && {f'LOGVIEW_RANGE_WORKERS={range_workers} ' if range_workers else ''}PYTHONPATH={code} "
                f"{bench.PY} -m logview {path}", total,
                timeout=180)
            viewer_mb, workers_mb = memory.stop()
            cpu = sum(memory.cpu.values())
            indexed, counted = got.get("indexed"), got.get("counted")
            ratio = f"{counted / indexed:.2f}" if indexed and counted else "n/a"
            print(f"run {run + 1}: {total:,} records, first {got.get('first', float('nan')):.2f} s, "
                  f"indexed {indexed or float('nan'):.2f} s, counted "
                  f"{counted or float('nan'):.2f} s, ratio {ratio}, peak RSS {viewer_mb:.0f} MB "
                  f"(budget {64 + 16 * total / 2**20:.0f}), workers {workers_mb:.0f} MB, CPU {cpu:.1f} s "
                  f"in {time.perf_counter() - started:.1f} s ({code})",
                  flush=True)
    finally:
        subprocess.run([*bench.TMUX, "kill-session", "-t", keeper], check=False)


def headless(path: Path) -> None:
    """Index and count ``path`` the viewer's way without a screen (the index's slices in this
    thread, the counter in another, counting the range workers' columns as they come; the
    workers as ``LOGVIEW_RANGE_WORKERS`` says): when each completed, CPU seconds, the totals."""
    import resource
    import threading

    from logview.follow import Follower
    from logview.sources.file import FileSource

    started = time.perf_counter()
    store = open_store(FileSource(str(path), follow=False))
    tally, counter = RecordStats(), RecordCounter(store)
    known, indexed = [0], threading.Event()

    def count() -> None:
        while True:
            for batch in counter.batches(known[0]):
                tally.add_batch(batch)
            if counter.riding():
                counter.wait_ready(0.25)
            elif indexed.is_set() and counter.counted >= len(store):
                return
            else:
                indexed.wait(0.05)

    thread = threading.Thread(target=count)
    thread.start()
    follower = Follower(store, slice_seconds=0.1)
    while not follower.step().finished:
        known[0] = len(store)
    known[0] = len(store)
    index_s = time.perf_counter() - started
    indexed.set()
    thread.join()
    count_s = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    levels, unknown, total = tally.totals()
    print(f"{path.name}: {len(store):,} records, indexed {index_s:.2f} s, counted {count_s:.2f} s, "
          f"CPU {own.ru_utime + own.ru_stime:.1f} s + workers {kids.ru_utime + kids.ru_stime:.1f} s;"
          f" levels {levels}, no level {unknown}, counted {total:,}, loggers "
          f"{len(tally.take()[0])}, times binned {tally.bins.total:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--generate", type=int, metavar="MB")
    parser.add_argument("--tui", action="store_true", help="time the viewer under tmux")
    parser.add_argument("--runs", type=int, default=1, help="runs (the best CPU is shown)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the tree whose logview runs")
    parser.add_argument("--range-workers", nargs="?", const="1", default="", choices=["0", "1"],
                        help="--tui: LOGVIEW_RANGE_WORKERS for the viewer (1 when given alone; "
                             "0: no range workers; without it the tree's default)")
    parser.add_argument("--headless", action="store_true",
                        help="index and count the viewer's way, without a screen")
    args = parser.parse_args()
    path = Path(args.file)
    if args.headless:
        headless(path)
        return
    if args.tui:
        tui(path.resolve(), args.runs, args.code.resolve(), args.range_workers)
        return
    if args.generate and not path.exists():
        from bench_parse import generate
        from pythonjsonlogger.json import JsonFormatter

        generate(path, JsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"),
                 args.generate * 1_000_000)
    store = open_store(StaticFileSource(str(path)))
    start = time.perf_counter()
    store.update(final=True)
    index_s = time.perf_counter() - start
    n = len(store)
    runs = []
    for _ in range(max(1, args.runs)):  # the best of a few (other work on the machine)
        store.columns.reset(store.generation)
        runs.append(count(store, walker=True))
    walk_s, walk_cpu, unread, walked = min(runs, key=lambda r: r[1])
    store.columns.reset(store.generation)
    parse_s, parse_cpu, _, parsed = count(store, walker=False)
    same = walked.totals() == parsed.totals() and walked.sources() == parsed.sources()
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB, {n:,} records, format "
          f"{store.format.name}, index {index_s:.2f} s (logview of {CODE})")
    print("| counting | s | CPU s | ns of CPU a record |")
    print("|---|---|---|---|")
    print(f"| every record parsed | {parse_s:.2f} | {parse_cpu:.2f} | {parse_cpu / n * 1e9:,.0f} |")
    print(f"| by columns ({1 - unread / max(n, 1):.1%} read by the walker, best CPU of "
          f"{len(runs)}) | {walk_s:.2f} | {walk_cpu:.2f} | {walk_cpu / n * 1e9:,.0f} |")
    print(f"speedup {parse_cpu / walk_cpu:.1f}x in CPU; counts equal: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    logging.raiseExceptions = False
    main()
