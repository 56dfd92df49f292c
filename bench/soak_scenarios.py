"""The soak's writers and rotators (bench/soak.py): the scripts each writer and rotator
process runs, the scenario table, and starting them."""

from __future__ import annotations

import argparse
import os
import re
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

#: One writer: writes ``count`` records, then prints when it wrote them (JSON).
WRITER = r"""
import json, logging, logging.handlers, sys, time
kind, path, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
wid, count, max_bytes, backups, step = map(int, sys.argv[4:9])
seconds = float(sys.argv[9])
if kind == "rotating":
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups)
elif kind == "timed":
    handler = logging.handlers.TimedRotatingFileHandler(path, when="S", interval=1,
                                                        backupCount=backups)
elif kind == "watched":
    handler = logging.handlers.WatchedFileHandler(path)
else:
    handler = logging.FileHandler(path, mode="a")
handler.setFormatter(logging.Formatter(fmt))
log = logging.getLogger("soak.w%d" % wid)
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
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
    log.info("w%d seq %d request handled path=/api/items/%d status=200", wid, seq, seq % 1000)
end = time.time()
handler.close()
print(json.dumps({"start": start, "end": end, "stamps": stamps}))
"""

#: logrotate's copytruncate or create, ``rotations`` times as fast as it can (each time once
#: app.log has a line), until the stop file appears; prints how many rotations it did.
ROTATOR = r"""
import os, shutil, sys, time
mode, path, rotations, stop_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

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
while done < rotations and wait_for_a_line():
    for n in range(done, 0, -1):
        os.rename("%s.%d" % (path, n), "%s.%d" % (path, n + 1))
    if mode == "copytruncate":
        shutil.copyfile(path, path + ".1")
        os.truncate(path, 0)
    else:
        os.rename(path, path + ".1")
        open(path, "a").close()
    done += 1
print(done)
"""


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    handlers: tuple[str, ...]  # one per writer: rotating, timed, watched, file
    rotator: str | None = None  # copytruncate or create


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("rotating", ("rotating",)),
        Scenario("timed", ("timed",)),
        Scenario("copytruncate", ("file",), "copytruncate"),
        Scenario("create", ("watched",), "create"),
        Scenario("writers4", ("file",) * 4),
        Scenario("writers4-rotating", ("rotating", "file", "file", "file")),
    ]
}
READERS = ("print", "viewer")


def spawn(cmd: list[str], directory: str, name: str) -> subprocess.Popen:
    """Start ``cmd`` with its stdout and stderr going to ``name.out`` and ``name.err`` in
    ``directory`` (files: a pipe nobody reads while it runs would stop it when full)."""
    with (
        open(os.path.join(directory, name + ".out"), "wb") as out,
        open(os.path.join(directory, name + ".err"), "wb") as err,
    ):
        return subprocess.Popen(cmd, stdout=out, stderr=err)


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
    max_bytes = max(4096, args.records * LINE_BYTES // max(1, args.rotations))
    backups = 4 * args.rotations + 100  # never reached: nothing is deleted
    seconds = min(args.rotations, args.timed_seconds)
    procs = []
    for wid, kind in enumerate(scenario.handlers):
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
            str(backups if kind == "rotating" else 1_000_000),
            str(STEP),
            str(seconds if kind == "timed" else 0),
        ]
        procs.append(spawn(cmd, os.path.dirname(path), f"writer{wid}"))
    return procs
