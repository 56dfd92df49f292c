"""Load benchmark of the listener (not a test).

4 client processes x 50,000 records each over ``logging.handlers.SocketHandler`` at full speed
into one ``LogListener`` writing a ``SpoolWriter`` spool. Checks every record arrived exactly
once and in order per connection (a sequence number per record), then reports sustained
records/s and the listener process's peak RSS.

    .venv/bin/python bench/bench_listen.py [--clients 4] [--records 50000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import orjson

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from logview.listen import LogListener, SpoolWriter, parse_listen_address

CLIENT = r"""
import logging, logging.handlers, sys
port, client, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
handler = logging.handlers.SocketHandler("127.0.0.1", port)
handler.createSocket()
handler.sock.settimeout(None)  # block under backpressure instead of dropping after 1 s
log = logging.getLogger("bench." + client)
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
for seq in range(count):
    log.info("request %d handled in %.3f ms", seq, seq % 97 / 7,
             extra={"client": client, "seq": seq, "path": "/api/items"})
handler.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    total = args.clients * args.records

    spool_path = tempfile.mktemp(prefix="bench-listen-", suffix=".jsonl")
    spool = SpoolWriter(spool_path)
    listener = LogListener([parse_listen_address("127.0.0.1:0")], spool)
    listener.start()
    port = next(b[2] for b in listener.bound if b[0] == "tcp")
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = usage_before.ru_maxrss

    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, str(port), f"c{k}",
                               str(args.records)]) for k in range(args.clients)]
    deadline = time.monotonic() + 600
    while listener.stats.records < total and time.monotonic() < deadline:
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.wait()
    listener.stop()
    spool.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_rss = usage.ru_maxrss
    cpu = (usage.ru_utime + usage.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    clients = resource.getrusage(resource.RUSAGE_CHILDREN)

    seqs: dict[str, list[int]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    with open(spool_path, "rb") as f:
        for line in f:
            obj = orjson.loads(line)
            client = obj["fields"].get("client")
            if client is None:
                print("unexpected record:", obj["message"])
                continue
            seqs[client].append(obj["fields"]["seq"])
            sources[client].add(obj["source"])
    size = os.path.getsize(spool_path)
    os.unlink(spool_path)

    ok = len(seqs) == args.clients
    for client, got in sorted(seqs.items()):
        in_order = got == list(range(args.records))
        one_source = len(sources[client]) == 1
        ok = ok and in_order and one_source
        print(f"{client}: {len(got)} records, exactly once and in order: {in_order}, "
              f"one connection: {one_source}")
    print(f"received {listener.stats.records} of {total} records in {elapsed:.2f} s "
          f"= {listener.stats.records / elapsed:,.0f} records/s sustained")
    print(f"listener CPU {cpu:.2f} s ({cpu / total * 1e6:.1f} us/record); client processes "
          f"CPU {clients.ru_utime + clients.ru_stime:.2f} s; {os.cpu_count()} CPUs")
    print(f"rejected: {listener.stats.rejected or 'none'}; spool {size / 1e6:.1f} MB")
    print(f"listener process peak RSS: {peak_rss / 1024:.1f} MB "
          f"(before the clients started: {rss_before / 1024:.1f} MB)")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
