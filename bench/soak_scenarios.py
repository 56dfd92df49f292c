"""The soak's writers and rotators (bench/soak.py): the scripts each writer and rotator
process runs, the scenario table, and starting them."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: What identifies a record in any output: writer id and sequence number.
MARKER = re.compile(rb"\bw(\d+) seq (\d+)\b")
#: A writer notes the time before every STEP-th record (the trail's resolution).
STEP = 8
#: About the bytes of one record line (sets maxBytes for the wanted number of rotations).
LINE_BYTES = 96

#: One writer process: writes ``count`` records, then prints when it wrote them (a JSON list of
#: one writer's times). ``queue``: the multi-process pipeline, ``writers`` child processes
#: each with a QueueHandler on one multiprocessing.Queue, and a QueueListener in this process
#: writing through a RotatingFileHandler; it prints the list of every child's times, taken
#: where the record reaches the file (the listener's handler), not where it was queued.
WRITER = r"""
import json, logging, logging.handlers, sys, time
kind, path, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
wid, count, max_bytes, backups, step = map(int, sys.argv[4:9])
seconds, writers = float(sys.argv[9]), int(sys.argv[10])


def file_handler():
    if kind in ("rotating", "queue"):
        return logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups)
    if kind == "timed":
        return logging.handlers.TimedRotatingFileHandler(path, when="S", interval=1,
                                                         backupCount=backups)
    if kind == "watched":
        return logging.handlers.WatchedFileHandler(path)
    return logging.FileHandler(path, mode="a")


def logger(wid, handler):
    log = logging.getLogger("soak.w%d" % wid)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def write(log, wid):
    interval = seconds / count if seconds > 0 else 0.0
    stamps = []
    start = time.time()
    for seq in range(count):
        if seq % step == 0:
            if interval:
                delay = start + seq * interval - time.time()
                if delay > 0:
                    time.sleep(delay)
            stamps.append(time.time())
        log.info("w%d seq %d request handled path=/api/items/%d status=200", wid, seq,
                 seq % 1000, extra={"wid": wid, "seq": seq})
    return {"start": start, "end": time.time(), "stamps": stamps}


if kind != "queue":
    handler = file_handler()
    handler.setFormatter(logging.Formatter(fmt))
    info = write(logger(wid, handler), wid)
    handler.close()
    print(json.dumps([info]))
    sys.exit(0)

import multiprocessing

stamps = [[] for _ in range(writers)]
ends = [0.0] * writers


class StampedHandler(logging.handlers.RotatingFileHandler):
    # The listener's handler: notes when each writer's records reach the file.
    def emit(self, record):
        if record.seq % step == 0:
            stamps[record.wid].append(time.time())
        super().emit(record)
        if record.seq == count - 1:
            ends[record.wid] = time.time()


# fork: the children run this script's functions (a -c script cannot be imported again);
# they are forked before any thread of this process starts.
context = multiprocessing.get_context("fork")
queue, results, go = context.Queue(), context.Queue(), context.Event()


def child(w):
    go.wait()
    results.put((w, write(logger(w, logging.handlers.QueueHandler(queue)), w)))


children = [context.Process(target=child, args=(w,)) for w in range(writers)]
for process in children:
    process.start()
handler = StampedHandler(path, maxBytes=max_bytes, backupCount=backups)
handler.setFormatter(logging.Formatter(fmt))
listener = logging.handlers.QueueListener(queue, handler)
listener.start()
go.set()
queued = dict(results.get() for _ in children)
for process in children:
    process.join()
listener.stop()  # (after the records left in the queue)
handler.close()
if any(process.exitcode for process in children):
    sys.exit("a child exited with %s" % [process.exitcode for process in children])
print(json.dumps([{"start": stamps[w][0], "end": ends[w], "stamps": stamps[w],
                   "queued": queued[w]["end"] - queued[w]["start"]} for w in range(writers)]))
"""

#: logrotate's copytruncate, create or compress, ``rotations`` times as fast as it can (each
#: time once app.log has a line; ``pause`` seconds before each, 0 by default), until the stop
#: file appears; prints how many rotations it did. compress (without delaycompress): shift the
#: .N.gz names, rename app.log -> app.log.1, create an empty app.log, then gzip app.log.1 to
#: app.log.1.gz (written under that name as it is compressed) and delete app.log.1, as
#: logrotate does. delaycompress (compress with delaycompress): shift the .N.gz names from 2,
#: rename app.log.1 -> app.log.2 and app.log -> app.log.1, create an empty app.log, then gzip
#: app.log.2 to app.log.2.gz and delete app.log.2 (the previous file is compressed a rotation
#: late, while the writer is done with it).
ROTATOR = r"""
import gzip, os, shutil, sys, time
mode, path, rotations, stop_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
pause, keep = float(sys.argv[5]), int(sys.argv[6])  # keep: rotated files kept (0: all)
ext = ".gz" if mode in ("compress", "delaycompress") else ""

def wait_for_a_line():
    while True:
        try:
            if os.path.getsize(path) > 0:
                return True
        except FileNotFoundError:
            pass
        if os.path.exists(stop_file):
            return False
        time.sleep(0.001)

done = 0
while done < rotations:
    if pause:
        time.sleep(pause)
    if not wait_for_a_line():
        break
    for n in range(min(done, keep) if keep else done, 1 if mode == "delaycompress" else 0, -1):
        os.rename("%s.%d%s" % (path, n, ext), "%s.%d%s" % (path, n + 1, ext))
    if mode == "delaycompress" and done:
        os.rename(path + ".1", path + ".2")
    if mode == "copytruncate":
        shutil.copyfile(path, path + ".1")
        os.truncate(path, 0)
    else:
        os.rename(path, path + ".1")
        open(path, "a").close()
    late = {"compress": ".1", "delaycompress": ".2" if done else None}.get(mode)
    if late:
        with open(path + late, "rb") as src, gzip.open(path + late + ".gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(path + late)
    if keep and os.path.exists("%s.%d%s" % (path, keep + 1, ext)):
        os.unlink("%s.%d%s" % (path, keep + 1, ext))  # logrotate's "rotate N"
    done += 1
print(done)
"""


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    handlers: tuple[str, ...]  # one per writer: rotating, timed, watched, file, queue
    rotator: str | None = None  # copytruncate, create or compress
    #: All writers in one process tree (queue: the listener's process forks them).
    one_process: bool = False


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("rotating", ("rotating",)),
        Scenario("timed", ("timed",)),
        Scenario("copytruncate", ("file",), "copytruncate"),
        Scenario("create", ("watched",), "create"),
        Scenario("writers4", ("file",) * 4),
        Scenario("writers4-rotating", ("rotating", "file", "file", "file")),
        Scenario("queue", ("queue",) * 4, one_process=True),
        Scenario("compress", ("watched",), "compress"),
        Scenario("delaycompress", ("watched",), "delaycompress"),
    ]
}
READERS = ("print", "viewer")


def spawn(cmd: list[str], directory: str, name: str) -> subprocess.Popen:
    """Start ``cmd`` with its stdout and stderr going to ``name.out`` and ``name.err`` in
    ``directory`` (files: a pipe nobody reads while it runs would stop it when full), in a
    process group of its own (``kill_group`` ends it with the children it forked)."""
    with (
        open(os.path.join(directory, name + ".out"), "wb") as out,
        open(os.path.join(directory, name + ".err"), "wb") as err,
    ):
        return subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a process started by ``spawn`` and what it forked (queue's writers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def outputs(directory: str, name: str) -> tuple[str, str]:
    """(stdout, stderr) of a process started by ``spawn``."""
    texts = []
    for ext in (".out", ".err"):
        with open(os.path.join(directory, name + ext)) as f:
            texts.append(f.read())
    return texts[0], texts[1]


def start_writers(
    scenario: Scenario, path: str, args: argparse.Namespace
) -> list[subprocess.Popen]:
    """The writer processes (their outputs in writer0.out ...), one per writer, or one in all
    (``one_process``: writer0.out lists every writer's times)."""
    writers = len(scenario.handlers)
    # Bytes of all the records that go through one handler, over the rotations wanted.
    through = args.records * (writers if scenario.one_process else 1)
    max_bytes = max(4096, through * LINE_BYTES // max(1, args.rotations))
    # (never reached by default: nothing is deleted)
    backups = args.backup_count or 4 * args.rotations + 100
    seconds = timed_seconds(args)
    kinds = scenario.handlers[:1] if scenario.one_process else scenario.handlers
    procs = []
    for wid, kind in enumerate(kinds):
        cmd = [
            sys.executable,
            "-c",
            WRITER,
            kind,
            path,
            LOG_FORMAT,
            str(wid),
            str(args.records),
            str(max_bytes),
            str(backups if kind in ("rotating", "queue") or args.backup_count else 1_000_000),
            str(STEP),
            str(seconds if kind == "timed" else 0),
            str(writers),
        ]
        procs.append(spawn(cmd, os.path.dirname(path), f"writer{wid}"))
    return procs


def timed_seconds(args: argparse.Namespace) -> int:
    """How long 'timed' writes (one rotation a second): --rotations, or --timed-seconds less."""
    if args.timed_seconds is None:
        return args.rotations
    return min(args.rotations, args.timed_seconds)
