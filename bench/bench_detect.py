"""How long format detection takes on a 64 KB sample (the issue's target: under 50 ms).

Usage: ``python bench/bench_detect.py [--records N] [--runs N]``

For every case of ``bench_formats.py`` the real ``logging`` module writes a file; the first
64 KB (what the store reads to detect) go through ``infer_template`` alone and through the
whole ``detect`` (every named format scored, the template inferred, generic considered).
Prints the median of ``--runs`` timings per case and the worst median over all cases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_formats import CASES, write_case

from logview.formats.detect import detect, sample_lines
from logview.formats.infer import infer_template

SAMPLE = 64 * 1024


def _median_ms(fn, runs: int) -> float:
    fn()  # warm the regex caches
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path = Path(tmp) / f"{case.name}.log"
            write_case(case, path, args.records)
            sample = path.read_bytes()[:SAMPLE]
            lines = sample_lines(sample)
            infer = _median_ms(lambda lines=lines: infer_template(lines), args.runs)
            whole = _median_ms(lambda sample=sample: detect(sample), args.runs)
            rows.append((case.name, len(sample), len(lines), infer, whole))
    print("| case | sample bytes | lines | infer ms | detect ms |")
    print("|---|---:|---:|---:|---:|")
    for name, size, count, infer, whole in rows:
        print(f"| {name} | {size} | {count} | {infer:.1f} | {whole:.1f} |")
    print(f"\nworst median: infer {max(r[3] for r in rows):.1f} ms, "
          f"detect {max(r[4] for r in rows):.1f} ms over {len(rows)} cases")


if __name__ == "__main__":
    main()
