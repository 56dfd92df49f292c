"""Whole-file ``--print`` of JSON lines in one process: records rendered a chunk at a time
(``RecordChunks``: one-line objects read from their bytes, plain ones written from their
values) against each record parsed from its text and rendered (the exact path), as text into
a pipe and as ``-o jsonl``. Process time, best of ``--repeat``; checks the bytes are equal.

    python bench/bench_record_chunks.py bench/data/compare-json-100M.jsonl --mb 16
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logview import headless
from logview.formats.jsonl import JsonFormat
from logview.printer import RecordPrinter
from logview.record import RawRecord, parse_raw_record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--mb", type=int, default=16, help="MB read from the file's start")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with open(args.path, "rb") as f:
        buf = f.read(args.mb << 20)
    buf = buf[: buf.rfind(b"\n") + 1]
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl[:-1] + 1]).astype(np.int64)
    line_idx = np.arange(len(starts), dtype=np.int64)
    fmt = JsonFormat()
    for output in ("text", "jsonl"):
        printer = RecordPrinter(io.BytesIO(), output=output, original=True)

        def one(offset: int, line: int, data: bytes, printer=printer) -> bytes:
            return printer.render(parse_raw_record(fmt, RawRecord(offset, line, data), "f"))

        chunks = headless._chunk_renderer(printer)(fmt, "f", one)
        exact = [one(int(s), i + 1, buf[int(s):int(e)]) for i, (s, e) in
                 enumerate(zip(starts, np.append(starts[1:], len(buf))))]
        assert chunks.render(buf, starts, line_idx, 0, 1)[0] == b"".join(exact)
        for name in ("chunks", "each record parsed"):
            if name != "chunks":  # the exact path for every record
                chunks.read = chunks.plain = None
            best = float("inf")
            for _ in range(args.repeat):
                started = time.process_time()
                chunks.render(buf, starts, line_idx, 0, 1)
                best = min(best, time.process_time() - started)
            print(f"{output:5} {name:20} {best / len(starts) * 1e6:6.2f} µs a record "
                  f"({len(starts):,} records, {len(buf) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
