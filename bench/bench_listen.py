"""Load benchmark of the listener (not a test).

N client processes x M records each (default 4 x 50,000) over ``logging.handlers.SocketHandler``
at full speed, each record carrying its client id and a sequence number as extra fields. Checks
from the spool that every record arrived exactly once and in order per client (and per
connection), and reports the wall time from the first send to the last record spooled,
sustained records/s, peak RSS and CPU of the receiving process.

Modes (each run in its own process, so peak RSS is that mode's own):
  in-process   a ``LogListener`` writing a ``ReceivedRecordsWriter`` spool, no viewer (always run)
  --print      the real ``logview --listen PORT --save SPOOL --print`` (text to /dev/null)
  --tui        the real viewer ``logview --listen PORT --save SPOOL`` in a 120x40 tmux pane;
               also: how long after the last send the status line shows the full count, and
               how fast the viewer answers keys (``g``/``G``, ``/`` + text, Escape) in the
               middle of the load and after it; then it is quit with ``q``.

    .venv/bin/python bench/bench_listen.py [--clients 4] [--records 50000]
    .venv/bin/python bench/bench_listen.py --tui --print --runs 2     # Markdown table at the end
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import orjson

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from logview.listen import LogListener, ReceivedRecordsWriter, parse_listen_address

#: One client: prints "FIRST LAST" (epoch seconds of its first and last send) when done.
CLIENT = r"""
import logging, logging.handlers, sys, time
port, client, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
handler = logging.handlers.SocketHandler("127.0.0.1", port)
handler.createSocket()
handler.sock.settimeout(None)  # block under backpressure instead of dropping after 1 s
log = logging.getLogger("bench." + client)
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
first = time.time()
for seq in range(count):
    log.info("request %d handled in %.3f ms", seq, seq % 97 / 7,
             extra={"client": client, "seq": seq, "path": "/api/items"})
last = time.time()
handler.close()
print(first, last)
"""

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROBE_TEXT = "probe-xyz"


@dataclass
class RunResult:
    """What one mode measured in one run (times in seconds, memory in MB)."""

    mode: str
    total: int
    received: int = 0
    exact: bool = False  # exactly once, in order, one connection per client
    wall: float = float("nan")  # first send -> last record in the spool
    sends: float = float("nan")  # first send -> last send (clients block under backpressure)
    peak_rss: float = float("nan")
    cpu: float = float("nan")  # of the receiving process, during the load
    screen_lag: float | None = None  # TUI: last send -> status line shows the full count
    screen_behind: float | None = None  # TUI: last record spooled -> status line shows it
    keys_busy: str = ""  # TUI: key response times in the middle of the load
    keys_idle: str = ""  # TUI: key response times after it
    quit_ok: bool | None = None  # TUI: ``q`` ended the process
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.received / self.wall if self.wall > 0 else float("nan")


# --- clients and spool -----------------------------------------------------------------------


def start_clients(port: int, clients: int, records: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", CLIENT, str(port), f"c{k}", str(records)],
                             stdout=subprocess.PIPE, text=True) for k in range(clients)]


def finish_clients(procs: list[subprocess.Popen], timeout: float) -> tuple[float, float]:
    """Wait for the clients; (first send, last send) over all of them, epoch seconds."""
    firsts, lasts = [], []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout)
        if proc.returncode != 0 or not out.split():
            raise RuntimeError(f"client exited with {proc.returncode}")
        first, last = map(float, out.split())
        firsts.append(first)
        lasts.append(last)
    return min(firsts), max(lasts)


class SpoolCounter:
    """Counts the complete JSON lines of a growing spool, reading only what is new."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines = 0
        self._offset = 0
        self._file = None

    def poll(self) -> int:
        if self._file is None:
            try:
                self._file = open(self.path, "rb")  # noqa: SIM115 - closed in close()
            except FileNotFoundError:
                return 0
        self._file.seek(self._offset)
        data = self._file.read()
        end = data.rfind(b"\n") + 1
        self.lines += data.count(b"\n", 0, end)
        self._offset += end
        return self.lines

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def check_spool(path: str, clients: int, records: int, verbose: bool) -> tuple[int, bool]:
    """(records of the bench clients, whether each client's arrived once, in order, on one
    connection) from the JSON lines spool."""
    seqs: dict[str, list[int]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    with open(path, "rb") as f:
        for line in f:
            obj = orjson.loads(line)
            client = obj["fields"].get("client")
            if client is None:
                print("unexpected record:", obj["message"])
                continue
            seqs[client].append(obj["fields"]["seq"])
            sources[client].add(obj["source"])
    ok = len(seqs) == clients
    for client, got in sorted(seqs.items()):
        in_order = got == list(range(records))
        one_source = len(sources[client]) == 1
        ok = ok and in_order and one_source
        if verbose or not (in_order and one_source):
            print(f"  {client}: {len(got)} records, exactly once and in order: {in_order}, "
                  f"one connection: {one_source}")
    return sum(map(len, seqs.values())), ok


# --- the receiving process -------------------------------------------------------------------


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (logview binds both for a bare port)."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def is_listening(port: int) -> bool:
    """Whether a TCP socket listens on ``port`` (from /proc/net/tcp: no probe connection)."""
    needle = f":{port:04X} "
    with open("/proc/net/tcp") as f:
        return any(needle in line and line.split()[3] == "0A" for line in f)


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.02):
    """Poll ``condition`` until truthy; its value, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value or None
        time.sleep(interval)


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_hwm(pid: int) -> float:
    """Peak RSS (VmHWM) of ``pid`` in MB."""
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024 if m else float("nan")


def find_logview_pid(spool: str) -> int | None:
    """The logview Python process started with ``--save spool`` (found with pgrep)."""
    out = subprocess.run(["pgrep", "-f", f"logview --listen .* --save {spool}"],
                         capture_output=True, text=True, check=False).stdout
    for pid in map(int, out.split()):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().startswith("python"):
                    return pid
        except FileNotFoundError:
            continue
    return None


class Tmux:
    """A private tmux server (its own socket) with one 120x40 session running a command."""

    def __init__(self, command: str) -> None:
        self.socket = f"logview-bench-{os.getpid()}"
        self.session = "bench"
        subprocess.run(self._cmd("new-session", "-d", "-s", self.session, "-x", "120",
                                 "-y", "40", command), check=True, cwd=ROOT)
        # Keep the pane if logview exits at once, so its error can be read.
        self._run("set-option", "-t", self.session, "remain-on-exit", "on")

    def _cmd(self, *args: str) -> list[str]:
        return ["tmux", "-L", self.socket, *args]

    def _run(self, *args: str) -> str:
        return subprocess.run(self._cmd(*args), capture_output=True, text=True,
                              check=False).stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self._run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def close(self) -> None:
        self._run("kill-server")


def status_line(screen: str) -> str:
    """The viewer's status line (it names the listener)."""
    return next((line for line in screen.splitlines() if "listening on" in line), "")


def list_focused(screen: str) -> bool:
    """Whether the record list has the focus (the footer shows its keys)."""
    lines = screen.rstrip("\n").splitlines()
    return bool(lines) and "Next error" in lines[-1]


def probe_keys(tmux: Tmux, timeout: float = 10.0) -> str:
    """Send keys and time until the screen shows each took effect: ``g`` (status: paused),
    ``G`` (following again), ``/`` (the query bar takes the focus), text (the bar shows it),
    Escape (text gone, the list has the focus again).

    Each key waits for the one before to show: Textual moves the focus after the key that
    asked for it, so keys sent at once would land in the widget that had it before.
    """
    steps: list[tuple[str, Callable[[], None], Callable[[str], bool]]] = [
        ("g", lambda: tmux.keys("g"), lambda s: "paused" in status_line(s)),
        ("G", lambda: tmux.keys("G"), lambda s: "following" in status_line(s)),
        ("/", lambda: tmux.keys("/"), lambda s: not list_focused(s)),
        ("text", lambda: tmux.keys(PROBE_TEXT, literal=True), lambda s: PROBE_TEXT in s),
        ("Esc", lambda: tmux.keys("Escape"),
         lambda s: PROBE_TEXT not in s and list_focused(s)),
    ]
    out = []
    for name, send, shown in steps:
        start = time.perf_counter()
        send()
        ok = wait_until(lambda shown=shown: shown(tmux.screen()), timeout, 0.01)
        out.append(f"{name} {time.perf_counter() - start:.2f}" if ok else f"{name} NO RESPONSE")
    return ", ".join(out)


def run_viewer(mode: str, args: argparse.Namespace) -> RunResult:
    """Run the real ``logview --listen`` (``--print`` or the TUI under tmux) under load."""
    total = args.clients * args.records
    result = RunResult(mode=mode, total=total)
    port = free_port()
    spool = os.path.join(tempfile.mkdtemp(prefix="bench-listen-"), "spool.jsonl")
    cmd = [sys.executable, "-m", "logview", "--listen", f"127.0.0.1:{port}", "--save", spool]
    tmux = proc = None
    if mode == "tui":
        tmux = Tmux("exec " + " ".join(cmd))
    else:
        proc = subprocess.Popen(cmd + ["--print"], cwd=ROOT, stdout=subprocess.DEVNULL)
    counter = SpoolCounter(spool)
    try:
        if not wait_until(lambda: is_listening(port), 30):
            raise RuntimeError("logview did not listen within 30 s:\n"
                               + (tmux.screen() if tmux else ""))
        # The ports are bound before the app starts: keys typed before it draws would be lost
        # or land in the query bar, and the load would measure Textual's start-up too.
        if tmux is not None and not wait_until(lambda: "0 records" in status_line(tmux.screen()),
                                               30):
            raise RuntimeError("the viewer did not draw within 30 s:\n" + tmux.screen())
        pid = proc.pid if proc else find_logview_pid(spool)
        if pid is None:
            raise RuntimeError("logview process not found with pgrep")
        cpu_before = proc_cpu(pid)
        clients = start_clients(port, args.clients, args.records)
        busy_probe: threading.Thread | None = None
        spooled_at = screen_at = None
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            now = time.time()
            if spooled_at is None and counter.poll() >= total:
                spooled_at = now
            if tmux is not None:
                if screen_at is None and f"{total:,} records" in status_line(tmux.screen()):
                    screen_at = now
                if busy_probe is None and counter.lines >= total // 4:
                    def probe() -> None:
                        result.keys_busy = probe_keys(tmux)
                    busy_probe = threading.Thread(target=probe, daemon=True)
                    busy_probe.start()
            if spooled_at is not None and (tmux is None or screen_at is not None):
                break
            time.sleep(0.02)
        first_send, last_send = finish_clients(clients, args.timeout)
        result.sends = last_send - first_send
        if spooled_at is not None:
            result.wall = spooled_at - first_send
        else:
            result.notes.append(f"spool holds {counter.lines} of {total} after the timeout")
        result.cpu = proc_cpu(pid) - cpu_before
        if tmux is not None:
            if busy_probe is not None:
                busy_probe.join(30)
            if screen_at is not None:
                result.screen_lag = screen_at - last_send
                if spooled_at is not None:
                    result.screen_behind = screen_at - spooled_at
            else:
                result.notes.append("status line never showed the full count: "
                                    + status_line(tmux.screen()).strip())
            result.keys_idle = probe_keys(tmux)
            result.peak_rss = proc_hwm(pid)
            tmux.keys("q")
            result.quit_ok = bool(wait_until(lambda: not os.path.exists(f"/proc/{pid}")
                                             or find_logview_pid(spool) is None, 10))
        else:
            result.peak_rss = proc_hwm(pid)
            proc.send_signal(2)  # SIGINT: stop, print what is left, exit 0
            proc.wait(30)
        result.received, result.exact = check_spool(spool, args.clients, args.records,
                                                    verbose=False)
    finally:
        counter.close()
        if tmux is not None:
            tmux.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(os.path.dirname(spool), ignore_errors=True)
    return result


def run_in_process(args: argparse.Namespace) -> RunResult:
    """The listener in this process with a ``ReceivedRecordsWriter`` spool, no viewer."""
    total = args.clients * args.records
    result = RunResult(mode="in-process", total=total)
    spool_dir = tempfile.mkdtemp(prefix="bench-listen-")
    spool_path = os.path.join(spool_dir, "spool.jsonl")
    spool = ReceivedRecordsWriter(spool_path)
    listener = LogListener([parse_listen_address("127.0.0.1:0")], spool)
    listener.start()
    port = next(b[2] for b in listener.bound if b[0] == "tcp")
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    counter = SpoolCounter(spool_path)
    try:
        procs = start_clients(port, args.clients, args.records)
        spooled_at = wait_until(lambda: time.time() if listener.stats.records >= total else 0,
                                args.timeout, 0.01)
        first_send, last_send = finish_clients(procs, args.timeout)
        listener.stop()
        spool.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result.sends = last_send - first_send
        if spooled_at is not None:
            result.wall = spooled_at - first_send
        result.cpu = (usage.ru_utime + usage.ru_stime) - (usage_before.ru_utime
                                                          + usage_before.ru_stime)
        result.peak_rss = usage.ru_maxrss / 1024
        if listener.stats.rejected:
            result.notes.append(f"rejected: {listener.stats.rejected}")
        result.received, result.exact = check_spool(spool_path, args.clients, args.records,
                                                    verbose=True)
    finally:
        counter.close()
        shutil.rmtree(spool_dir, ignore_errors=True)
    return result


def run_mode_in_child(mode: str, args: argparse.Namespace) -> RunResult:
    """Run one mode in a fresh Python process, so its peak RSS is not the earlier runs'."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", mode, "--clients",
           str(args.clients), "--records", str(args.records), "--timeout", str(args.timeout)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    sys.stdout.write("".join(line + "\n" for line in proc.stdout.splitlines()
                             if not line.startswith("RESULT ")))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return RunResult(**json.loads(line[len("RESULT "):]))
    result = RunResult(mode=mode, total=args.clients * args.records)
    result.notes.append(f"failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return result


# --- report ----------------------------------------------------------------------------------


def describe(result: RunResult) -> str:
    lines = [(f"{result.mode}: received {result.received:,} of {result.total:,}; exactly once "
             f"and in order per client: {result.exact}"),
             (f"  first send -> last record spooled {result.wall:.2f} s = {result.rate:,.0f} "
             f"records/s; clients done sending after {result.sends:.2f} s"),
             (f"  receiving process: CPU {result.cpu:.2f} s "
             f"({result.cpu / max(1, result.received) * 1e6:.1f} us/record), "
             f"peak RSS {result.peak_rss:.1f} MB")]
    if result.mode == "tui":
        lag = "never" if result.screen_lag is None else f"{result.screen_lag:.2f} s"
        behind = ("" if result.screen_behind is None else
                  f" ({result.screen_behind:.2f} s after the last record was spooled)")
        lines.append(f"  status line shows {result.total:,} records {lag} after the last send"
                     f"{behind}; quit with q: {result.quit_ok}")
        lines.append(f"  keys under load: {result.keys_busy}; after: {result.keys_idle}")
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)


def markdown_table(results: list[tuple[int, RunResult]]) -> str:
    rows = [("| run | mode | received | exactly once, in order | first send -> last spooled "
            "| records/s | sends done | full count on screen after last send | peak RSS "
            "| CPU (us/record) | key response s, under load / after |"),
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run, r in results:
        lag = "" if r.mode != "tui" else ("never" if r.screen_lag is None
                                          else f"{r.screen_lag:.2f} s")
        if r.screen_behind is not None:
            lag += f" ({r.screen_behind:.2f} s after spooled)"
        keys = f"{r.keys_busy} / {r.keys_idle}" if r.mode == "tui" else ""
        rows.append(f"| {run} | {r.mode} | {r.received:,} | {'yes' if r.exact else 'NO'} "
                    f"| {r.wall:.2f} s | {r.rate:,.0f} | {r.sends:.2f} s | {lag} "
                    f"| {r.peak_rss:.1f} MB "
                    f"| {r.cpu:.2f} s ({r.cpu / max(1, r.received) * 1e6:.0f}) | {keys} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--tui", action="store_true",
                        help="also run the real viewer under tmux (needs tmux)")
    parser.add_argument("--print", dest="print_", action="store_true",
                        help="also run the real logview --listen --print")
    parser.add_argument("--runs", type=int, default=1, help="repeat every mode this many times")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for all records (per run)")
    parser.add_argument("--one", choices=["in-process", "print", "tui"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:  # a child run: one mode, its result as one JSON line
        result = run_in_process(args) if args.one == "in-process" else run_viewer(args.one, args)
        print("RESULT " + json.dumps(asdict(result)))
        return 0

    if args.tui and not shutil.which("tmux"):
        parser.error("--tui needs tmux")
    modes = ["in-process"] + ["print"] * args.print_ + ["tui"] * args.tui
    results: list[tuple[int, RunResult]] = []
    for run in range(1, max(1, args.runs) + 1):
        for mode in modes:
            result = run_mode_in_child(mode, args)
            print(f"[run {run}] " + describe(result), flush=True)
            results.append((run, result))
    print(f"\n{args.clients} clients x {args.records:,} records over SocketHandler; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the end\n")
    print(markdown_table(results))
    ok = all(r.exact and r.received == r.total and (r.quit_ok is not False)
             for _, r in results)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
