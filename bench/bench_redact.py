"""What ``--redact`` costs: ``logview FILE --print`` with and without it, on the dash log of
``bench.py`` (generated into bench/data/ when missing; ``--file`` takes any other).

    python bench/bench_redact.py                 # 100M, best of 3
    python bench/bench_redact.py --size 1G --runs 1

Each case runs ``python -m logview`` with stdout into a file (so ``--print`` copies original
bytes where it can) and prints a Markdown table: case, wall seconds without and with
``--redact``, the ratio. Also checks that the redacted output holds no IPv4 address that the
plain one holds. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import DATA, ROOT, generate, parse_size

CASES = [
    ("--print (everything, into a file)", []),
    ("--print -o jsonl", ["-o", "jsonl"]),
    ("--print -q deadlock (direct scan)", ["-q", "deadlock"]),
    ("--print -q '/logged in/' (regex)", ["-q", "/logged in/"]),
]
_IPV4 = re.compile(rb"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}"
                   rb"(?![\d.])")


def timed(argv: list[str], out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=tempfile.gettempdir())
    with out.open("wb") as sink:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "logview", *argv], stdout=sink, env=env,
                       check=False)
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="100M")
    parser.add_argument("--file", type=Path, help="a log of your own instead")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = args.file
    if path is None:
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"dash-{args.size.upper()}.log"
        if not path.exists():
            generate(path, parse_size(args.size))
    size = path.stat().st_size
    print(f"{path} ({size / 1e6:.0f} MB), best of {args.runs}\n")
    print("| case | without | --redact | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        plain_out, redacted_out = Path(tmp, "plain"), Path(tmp, "redacted")
        for label, extra in CASES:
            base = [str(path), "--print", *extra]
            plain = min(timed(base, plain_out) for _ in range(args.runs))
            redacted = min(timed([*base, "--redact"], redacted_out) for _ in range(args.runs))
            print(f"| {label} | {plain:.2f} s | {redacted:.2f} s | {redacted / plain:.1f}x |",
                  flush=True)
            plain_ips = {m.group() for m in _IPV4.finditer(plain_out.read_bytes()[:50 << 20])}
            leaked = [m.group() for m in _IPV4.finditer(redacted_out.read_bytes())
                      if m.group() in plain_ips]
            if leaked:
                print(f"  LEAK: {len(leaked)} addresses kept, e.g. {leaked[0]!r}")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
