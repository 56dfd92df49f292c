"""The soak's analysis (bench/soak.py): the files at the end are the ground truth; what a
reader saw is checked against them (missing, duplicated, out of order) and its trail measured."""

from __future__ import annotations

import argparse
import bisect
import gzip
import os
import re
from dataclasses import dataclass, field

from soak_readers import Reader
from soak_scenarios import MARKER, STEP

#: logview's warning of files lost (print: stderr; viewer: its notices).
ESCAPED = re.compile(r"(\d[\d,]*) files? took the name")


@dataclass
class WriterInfo:
    """When one writer wrote its records (epoch seconds)."""

    count: int
    start: float
    end: float
    stamps: list[float]  # before record k * STEP

    def written_by(self, t: float) -> int:
        """Records surely written at ``t``."""
        if t >= self.end:
            return self.count
        k = bisect.bisect_right(self.stamps, t)
        return min(self.count, max(0, (k - 1) * STEP))

    def written_at(self, seq: int) -> float:
        """When record ``seq`` had surely been written."""
        k = seq // STEP + 1
        return self.stamps[k] if k < len(self.stamps) else self.end


@dataclass
class RunResult:
    """What one (scenario, reader) run measured (times in seconds, memory in MB)."""

    scenario: str
    reader: str
    writers: int = 0
    rotations: int = 0
    written: int = 0
    not_in_files: int = 0  # lost by the rotation scheme itself (copytruncate's, compress's window)
    in_files: int = 0
    seen: int = 0  # distinct records seen
    missing: int = 0  # in the files, never seen
    duplicated: int = 0  # occurrences beyond the first
    merged: int = 0  # viewer: seen only as lines inside another record of the store
    out_of_order: list[int] = field(default_factory=list)  # per writer
    trail_records: int = 0
    trail_seconds: float = 0.0
    peak_rss: float = float("nan")
    wall: float = float("nan")  # first write -> the reader's last new record
    writing: float = float("nan")  # first write -> last write
    end_store: str = ""  # viewer: records in the store at the end / still readable
    failed: bool = False
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # missing files and ranges, tracebacks

    @property
    def ok(self) -> bool:
        return not (self.failed or self.missing or self.duplicated or self.merged)


def ranges(seqs: list[int], limit: int = 6) -> str:
    """``1-5, 9, 12-40`` (the first ``limit`` runs) of sorted sequence numbers."""
    runs: list[tuple[int, int]] = []
    for s in seqs:
        if runs and s == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    shown = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs[:limit])
    return shown + (f", ... ({len(runs)} runs)" if len(runs) > limit else "")


def code(writer: int, seq: int) -> int:
    return (writer << 40) | seq


def read_files(directory: str) -> tuple[dict[int, str], dict[str, list[int]], int]:
    """The ground truth: record code -> file name, each file's codes in order, and how many
    records the files hold more than once."""
    where: dict[int, str] = {}
    per_file: dict[str, list[int]] = {}
    repeated = 0
    for name in sorted(os.listdir(directory)):
        if not name.startswith("app.log"):
            continue
        opener = gzip.open if name.endswith(".gz") else open  # (compress: app.log.N.gz)
        with opener(os.path.join(directory, name), "rb") as f:
            data = f.read()
        codes = [code(int(m.group(1)), int(m.group(2))) for m in MARKER.finditer(data)]
        per_file[name] = codes
        for c in codes:
            if c in where:
                repeated += 1
            else:
                where[c] = name
    return where, per_file, repeated


def file_order(name: str) -> tuple[int, str]:
    """Rotated files newest first in name order: app.log.2 before app.log.10."""
    suffix = name[len("app.log") :].lstrip(".").removesuffix(".gz")
    return (int(suffix), "") if suffix.isdigit() else (-1, suffix)


def describe_missing(missing: set[int], per_file: dict[str, list[int]], writers: int) -> list[str]:
    """Which files the missing records were in (whole, tail, head, scattered) and which
    sequence numbers, per writer."""
    kinds: dict[str, list[str]] = {"whole": [], "tail": [], "head": [], "scattered": []}
    for name in sorted(per_file, key=file_order):
        codes = per_file[name]
        gone = [i for i, c in enumerate(codes) if c in missing]
        if not gone:
            continue
        if len(gone) == len(codes):
            kind = "whole"
        elif gone == list(range(len(codes) - len(gone), len(codes))):
            kind = "tail"
        elif gone == list(range(len(gone))):
            kind = "head"
        else:
            kind = "scattered"
        kinds[kind].append(f"{name} ({len(gone)}/{len(codes)})")
    lines = []
    for kind, files in kinds.items():
        if files:
            shown = ", ".join(files[:8]) + (f", ... ({len(files)} files)" if len(files) > 8 else "")
            lines.append(f"missing, {kind} files: {shown}")
    for w in range(writers):
        seqs = sorted(c & ((1 << 40) - 1) for c in missing if c >> 40 == w)
        if seqs:
            lines.append(f"missing w{w} seq: {ranges(seqs)}")
    return lines


def max_trail(
    samples: list[tuple[float, tuple[int, ...]]], infos: list[WriterInfo], until: float
) -> tuple[int, float]:
    """The most records written but not seen yet, and the oldest such record's age."""
    most_records, most_seconds = 0, 0.0
    for t, highs in samples:
        if t > until:
            break
        behind, age = 0, 0.0
        for info, high in zip(infos, highs, strict=True):
            written, have = info.written_by(t), high + 1
            if written > have:
                behind += written - have
                age = max(age, t - info.written_at(have))
        most_records, most_seconds = max(most_records, behind), max(most_seconds, age)
    return most_records, most_seconds


def analyse(
    result: RunResult,
    reader: Reader,
    infos: list[WriterInfo],
    directory: str,
    args: argparse.Namespace,
) -> None:
    where, per_file, repeated = read_files(directory)
    writers = len(infos)
    result.rotations = len(per_file) - 1
    result.written = sum(info.count for info in infos)
    result.in_files = len(where)
    result.not_in_files = result.written - len(where)
    if repeated:
        result.notes.append(f"the files hold {repeated} records twice")
    backups = 4 * args.rotations + 100
    if f"app.log.{backups}" in per_file:
        result.notes.append("backupCount reached: the ground truth lacks deleted files")
    seen: set[int] = set()
    occurrences = 0
    result.out_of_order = []
    for w, seqs in enumerate(reader.seqs):
        occurrences += len(seqs)
        top, late = -1, 0
        episodes: list[list[int]] = []  # [first, last, the later seq seen before them]
        for seq in seqs:
            c = code(w, seq)
            if c in seen:
                continue
            seen.add(c)
            if seq < top:
                late += 1
                if episodes and episodes[-1][1] == seq - 1 and episodes[-1][2] == top:
                    episodes[-1][1] = seq
                else:
                    episodes.append([seq, seq, top])
            top = max(top, seq)
        result.out_of_order.append(late)
        if episodes:
            shown = [f"{a}-{b} after {t}" if a != b else f"{a} after {t}" for a, b, t in episodes]
            more = f", ... ({len(episodes)} runs)" if len(episodes) > 4 else ""
            result.details.append(f"out of order w{w}: seq " + ", ".join(shown[:4]) + more)
    for w, seq in reader.recovered:
        occurrences += 1
        seen.add(code(w, seq))
    result.seen = len(seen)
    result.duplicated = occurrences - len(seen)
    missing = set(where) - seen
    result.missing = len(missing)
    if missing:
        result.details.extend(describe_missing(missing, per_file, writers))
    said_by = [reader.stderr.decode(errors="replace"), *reader.notices]
    said = sum(int(m[1].replace(",", "")) for text in said_by for m in ESCAPED.finditer(text))
    if missing or said:
        whole = sum(1 for codes in per_file.values() if codes and missing.issuperset(codes))
        result.notes.append(f"said lost: {said} files; missing: {whole} whole files")
    extra = len(seen - set(where))
    if extra:
        result.notes.append(f"{extra} seen that the files no longer hold")
    if result.duplicated:
        counts: dict[int, int] = {}
        pairs = [(w, seq) for w, seqs in enumerate(reader.seqs) for seq in seqs]
        for w, seq in pairs + reader.recovered:
            counts[code(w, seq)] = counts.get(code(w, seq), 0) + 1
        for w in range(writers):
            twice = sorted(c & ((1 << 40) - 1) for c, n in counts.items() if n > 1 and c >> 40 == w)
            if twice:
                result.details.append(f"duplicated w{w} seq: {ranges(twice)}")
