"""Soak benchmark of following one log file (not a test): lose nothing while it rotates.

Real CPython logging handlers write at full speed in their own processes, each message carrying
its writer id and a sequence number (``w2 seq 1234 ...``), in the format
``%(asctime)s %(levelname)s %(name)s: %(message)s`` (logview detects it with no configuration).
A reader follows ``app.log`` from before the first line until its output has been quiet for
2 s after the writers ended; then every record is looked for in what it saw. Rotated files are
never deleted, so the files at the end are the ground truth (compress: read decompressed).

Scenarios (R = --rotations):
  rotating           1 writer, RotatingFileHandler, maxBytes set for about R rotations
  timed              1 writer, TimedRotatingFileHandler(when="S", interval=1) for R seconds
                     (--timed-seconds shortens it): one rotation a second, 100 by default; the
                     --records are spread over that time, in bursts of 8 at full speed
  copytruncate       1 writer (FileHandler, mode "a") and a rotator process doing logrotate's
                     copytruncate R times as fast as it can (shift app.log.N -> N+1, copy
                     app.log -> app.log.1, truncate app.log), each time once app.log has a
                     line: the R rotations are usually over in the first part of the writing
  create             1 writer (WatchedFileHandler) and a rotator doing logrotate's create R
                     times the same way (shift, rename app.log -> app.log.1, create an empty
                     app.log)
  compress           1 writer (WatchedFileHandler) and a rotator doing logrotate's compress
                     without delaycompress R times the same way: shift app.log.N.gz -> N+1.gz,
                     rename app.log -> app.log.1, create an empty app.log, gzip app.log.1 to
                     app.log.1.gz (written under that name as it is compressed), delete
                     app.log.1.
  delaycompress      the same with delaycompress: shift app.log.N.gz -> N+1.gz from 2, rename
                     app.log.1 -> app.log.2 and app.log -> app.log.1, create an empty app.log,
                     gzip app.log.2 to app.log.2.gz, delete app.log.2. --rotator-pause spaces
                     the rotations of these four.
  writers4           4 writers appending to one file (FileHandler, O_APPEND), no rotation
  writers4-rotating  4 writers: w0 RotatingFileHandler (about R rotations), w1-w3 FileHandler,
                     which keep writing to the renamed file through their old descriptor
  queue              the multi-process pipeline: 4 writer processes, each logging through a
                     QueueHandler onto one multiprocessing.Queue, forked by a process whose
                     QueueListener writes every record through one RotatingFileHandler
                     (maxBytes for about R rotations); the writers' times for the trail are
                     taken in the listener's handler (when a record reaches the file); the
                     notes say how long the writers took to queue theirs

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
          indexed < bytes the source has), the notices its sources gave (what its status
          line says, e.g. files lost; print's are on its stderr), and any traceback of the
          store or of a failed Textual worker.

Per (scenario, reader):
  written        records the writers wrote; "not in files": of those, lost by the rotation
                 scheme itself, not by logview (copytruncate: lines written between the copy
                 and the truncate; compress: lines written to app.log.1 after gzip read it,
                 noted as "seen that the files no longer hold" when logview read them)
  seen           distinct records the reader saw; missing: in the files but never seen (what
                 logview lost; "said lost: N files; missing: M whole files" compares its
                 warning of files gone before it could open them with the files missed); dup: records seen more than once; order: per writer, records
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

The pieces: bench/soak_scenarios.py (the writer and rotator scripts, the scenario table),
bench/soak_readers.py (both readers and the viewer's child script), bench/soak_analysis.py (the
files as ground truth, missing/duplicated/order, the trail); this file runs them and reports.

Exit status 1 if any run missed or duplicated a record, or failed, or (viewer) its store holds
records only as lines inside another record (noted as "only inside another record").

    .venv/bin/python bench/soak.py                                  # all: about 6 minutes on 2 CPUs
    .venv/bin/python bench/soak.py --rotations 20 --records 3000 --readers print \\
        --scenarios rotating,create --keep --json soak.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as a script or imported

from soak_analysis import RunResult, WriterInfo, analyse, max_trail
from soak_readers import PrintReader, ViewerReader, proc_hwm, tail
from soak_scenarios import (
    READERS,
    ROTATOR,
    SCENARIOS,
    Scenario,
    kill_group,
    outputs,
    spawn,
    start_writers,
    timed_seconds,
)

#: Seconds without new output, after the writers ended, that end a run.
QUIET = 2.0
#: Seconds between progress samples.
SAMPLE = 0.05


def seconds(value: float) -> str:
    """``1.23 s``; ``never`` for NaN (the reader never took in a record)."""
    return "never" if math.isnan(value) else f"{value:.2f} s"


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
            rotator = spawn([*cmd, stop_file, str(args.rotator_pause), str(args.backup_count)],
                            directory, "rotator")
        deadline = time.monotonic() + args.timeout
        while any(w.poll() is None for w in writers):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the writers did not finish within {args.timeout:.0f} s")
            reader.poll()
            time.sleep(SAMPLE)
        infos, queued = [], 0.0
        for wid, w in enumerate(writers):
            out, err = outputs(directory, f"writer{wid}")
            if w.returncode != 0 or not out.strip():
                raise RuntimeError(f"a writer exited with {w.returncode}: {tail(err)}")
            for data in json.loads(out):
                infos.append(WriterInfo(args.records, data["start"], data["end"], data["stamps"]))
                if "queued" in data:
                    queued = max(queued, data["queued"])
        if queued:
            result.notes.append(f"writers queued their records in {queued:.2f} s at most")
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
                kill_group(proc)  # (and what it forked: queue's writers)
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
        default=None,
        help="at most this many seconds (= rotations) for 'timed' (default: --rotations)",
    )
    parser.add_argument(
        "--rotator-pause",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="copytruncate, create, compress, delaycompress: pause before each rotation (default 0: back to "
        "back, each once app.log has a line)",
    )
    parser.add_argument(
        "--backup-count",
        type=int,
        default=0,
        metavar="N",
        help="rotated files kept, older ones deleted (the handlers' backupCount, logrotate's "
        "rotate N); default 0: all are kept, so the files at the end hold every record. With "
        "N, records of deleted files count as 'not in files': compare seen with written",
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
        f"rotations (timed: {timed_seconds(args)} s); {os.cpu_count()} "
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
