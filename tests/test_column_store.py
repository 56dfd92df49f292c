"""The record columns a store keeps (``logview.column_store``): 11 bytes a record with the
index, time terms answered from them exactly as the scanner answers them (records without a
time, tracebacks, times with offsets, bounds between two milliseconds), wider codes when the
tables grow, and spilling to unlinked temporary files that leave nothing behind."""

from __future__ import annotations

import io
import json
import math
import operator
import os
import random
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from logview import column_store, growable, scan_ranges
from logview.column_store import NO_TIME, RecordColumns
from logview.columns import ChunkColumns, RecordCounter
from logview.formats.template import TemplateFormat
from logview.printer import RecordPrinter
from logview.query.plan import parse_query
from logview.scan import column_positions, scan
from logview.sources.base import StaticFileSource
from logview.stats import FilteredTimes
from logview.store import open_store

LOGGERS = ["app", "app.db", "app.web", "urllib3.connectionpool", "root"]
LEVELS = ["DEBUG", "INFO", "INFO", "WARNING", "ERROR", "CRITICAL"]
DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
START = datetime(2024, 1, 2, 3, 4, 5)
#: Steps between records: repeats, a millisecond, whole seconds, minutes.
STEPS = [0, 0, 0.001, 0.002, 0.5, 1, 1, 7.25, 60]


def times(rng: random.Random, count: int, start: datetime = START) -> list[datetime]:
    out, t = [], start
    for _ in range(count):
        t += timedelta(seconds=rng.choice(STEPS))
        out.append(t)
    return out


def dash_file(path: Path, rng: random.Random, count: int = 1200) -> None:
    """The dash template with tracebacks, lines that continue a message and records whose
    time is no date (no time)."""
    lines = []
    for i, t in enumerate(times(rng, count)):
        stamp = f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}"
        if i % 101 == 9:
            stamp = "2024-02-30 03:04:05,000"  # a record whose time does not parse
        lines.append(f"{stamp} - {rng.choice(LOGGERS)} - {rng.choice(LEVELS)} - message {i}")
        if i % 37 == 3:
            lines += ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>',
                      f"ValueError: boom {i}"]
        if i % 53 == 8:
            lines.append("  a continued line")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def offset_file(path: Path, rng: random.Random, count: int = 800) -> None:
    """Times with their UTC offsets, several offsets in one file."""
    offsets = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((0, 0), (5, 30), (-7, 0))]
    lines = []
    for i, t in enumerate(times(rng, count, START.replace(tzinfo=UTC))):
        local = t.astimezone(rng.choice(offsets))
        lines.append(f"{local:%Y-%m-%dT%H:%M:%S%z} {rng.choice(LEVELS)} {rng.choice(LOGGERS)} m{i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def json_file(path: Path, rng: random.Random, count: int = 900) -> None:
    """JSON lines (python-json-logger), some without a time, some with an exception."""
    lines = []
    for i, t in enumerate(times(rng, count)):
        obj = {"asctime": f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}",
               "name": rng.choice(LOGGERS), "levelname": rng.choice(LEVELS),
               "message": f"message {i}"}
        if i % 13 == 4:
            del obj["asctime"]
        if i % 29 == 2:
            obj["exc_info"] = "Traceback (most recent call last):\nValueError: x"
        lines.append(json.dumps(obj))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def far_file(path: Path, rng: random.Random) -> None:
    """Times years apart: the time unit grows to seconds."""
    lines = []
    for i, t in enumerate(times(rng, 300) + times(rng, 300, datetime(2031, 6, 1))):
        lines.append(f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} - app - INFO - m{i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


FILES = {
    "dash": (dash_file, TemplateFormat(DASH)),
    "offsets": (offset_file,
                TemplateFormat("%(asctime)s %(levelname)s %(name)s %(message)s",
                               "%Y-%m-%dT%H:%M:%S%z")),
    "json": (json_file, None),
    "far": (far_file, TemplateFormat(DASH)),
}


def store_of(tmp_path: Path, kind: str, seed: int = 1):
    write, fmt = FILES[kind]
    path = tmp_path / f"{kind}.log"
    write(path, random.Random(f"{kind}:{seed}"))
    store = open_store(StaticFileSource(str(path)), fmt)
    store.update(final=True)
    return store


def bounds_of(store) -> list[str]:
    """Bound texts around the store's times: a record's own time, its whole second, a time
    between two milliseconds, before and after everything."""
    stamps = sorted(s for s in (store.record(i).timestamp for i in range(len(store)))
                    if s is not None)
    picks = [stamps[len(stamps) // 3], stamps[len(stamps) // 2], stamps[-5]]
    out = []
    for stamp in picks:
        when = datetime.fromtimestamp(stamp, UTC)
        out += [when.isoformat(timespec="milliseconds"),
                when.replace(microsecond=0).isoformat(),
                (when + timedelta(microseconds=400)).isoformat(timespec="microseconds")]
    first = datetime.fromtimestamp(stamps[0], UTC)
    return [*out, (first - timedelta(days=400)).isoformat(),
            (first + timedelta(days=4000)).isoformat()]


def queries_of(bounds: list[str]) -> list[str]:
    a, b, c = bounds[0], bounds[4], bounds[7]
    return ([f"since:{x}" for x in bounds] + [f"until:{x}" for x in bounds]
            + [f"time{op}{a}" for op in (">=", ">", "<=", "<", "=", "!=")]
            + [f"time={b}", f"time!={b}", f"since:{a} until:{c}", f"level>=ERROR since:{b}", f"not since:{a}",
               f"logger:app until:{c} or level:CRITICAL", f"not (until:{a} or logger:root)"])


def scanned(store, text: str) -> list[int]:
    return [int(p) for batch in scan(store, parse_query(text)) for p in batch]


@pytest.mark.parametrize("kind", sorted(FILES))
def test_time_terms_from_the_columns_match_the_scan(tmp_path, kind):
    store = store_of(tmp_path, kind)
    texts = queries_of(bounds_of(store))
    want = {text: scanned(store, text) for text in texts}  # no columns yet: records parsed
    assert len(store.columns) == 0
    for _ in RecordCounter(store).batches(len(store), chunk_bytes=1 << 12):
        pass
    assert len(store.columns) == len(store)
    view = store.columns.view()
    if kind == "far":
        assert view.time_unit == 0  # seconds: 7 years apart
    else:
        assert view.time_unit == -3  # milliseconds
    for text in texts:
        query = parse_query(text)
        answered = column_positions(store, query, 0, len(store))
        assert answered is not None, text  # the columns answered it
        assert answered[0].tolist() == want[text], text
        assert scanned(store, text) == want[text], text
    assert any(0 < len(w) < len(store) for w in want.values())


def test_records_a_code_cannot_decide_are_parsed_and_only_those(tmp_path, monkeypatch):
    store = store_of(tmp_path, "dash")
    for _ in RecordCounter(store).batches(len(store)):
        pass
    parsed: list[int] = []
    real = store.parse_original

    def counting(i):
        parsed.append(i)
        return real(i)

    monkeypatch.setattr(store, "parse_original", counting)
    stamp = store.record(len(store) // 2).timestamp
    when = datetime.fromtimestamp(stamp, UTC) + timedelta(microseconds=400)
    got = column_positions(store, parse_query(f"since:{when.isoformat()}"), 0, len(store))
    assert got is not None
    # Only the records within a few milliseconds of the bound were read again.
    assert 0 < len(parsed) < 20
    assert all(abs(store.record(i).timestamp - stamp) < 0.003 for i in parsed)


def test_bytes_per_record_with_the_index_stay_within_16(tmp_path):
    store = store_of(tmp_path, "dash")
    for _ in RecordCounter(store).batches(len(store)):
        pass
    n = len(store)
    columns = store.columns
    assert columns.nbytes == 7 * n  # 1 level + 2 logger + 4 time
    view = columns.view()
    assert (view.levels.dtype, view.loggers.dtype, view.times.dtype) == (
        np.uint8, np.uint16, np.int32)
    # The index's last block counts whole pages: measured on a bigger store below.
    assert (store.index.nbytes + columns.nbytes) / n <= 16 + 4096 / n


def test_bytes_per_record_of_a_big_store(tmp_path):
    path = tmp_path / "big.log"
    line = "2024-01-02 03:04:{s:02d},{ms:03d} - app.db - {lv} - a short message {i}\n"
    with path.open("w") as out:
        out.writelines(line.format(s=(i // 1000) % 60, ms=i % 1000, lv=LEVELS[i % 6], i=i)
                       for i in range(200_000))
    store = open_store(StaticFileSource(str(path)), TemplateFormat(DASH))
    store.update(final=True)
    for _ in RecordCounter(store).batches(len(store)):
        pass
    n = len(store)
    assert n == 200_000 and len(store.columns) == n
    per_record = (store.index.nbytes + store.columns.nbytes) / n
    assert per_record <= 11.1  # 4 index + 7 columns (+ line checkpoints)


def chunk(levelnos, names, loggers, stamps) -> ChunkColumns:
    return ChunkColumns(np.asarray(levelnos, np.int32), np.asarray(loggers, np.int32),
                        list(names), np.asarray(stamps, np.float64), [])


def test_codes_widen_when_the_tables_outgrow_them():
    columns = RecordColumns()
    columns.append(0, 0, chunk([10, 20, 20], ["a", "b"], [0, 1, 1], [1e9, np.nan, 1e9 + 1.5]))
    assert columns.view().levels.dtype == np.uint8
    levels = np.arange(-5, 400)  # negative and past 255: a table of 405 codes
    columns.append(3, 0, chunk(levels, ["a"], np.zeros(len(levels)), np.full(len(levels), 1e9)))
    names = [f"n{k}" for k in range(70_000)]
    columns.append(3 + len(levels), 0, chunk(np.full(70_000, 30), names, np.arange(70_000),
                                            np.full(70_000, np.nan)))
    view = columns.view()
    assert view.levels.dtype == np.uint16 and view.loggers.dtype == np.uint32
    assert len(view) == 3 + len(levels) + 70_000
    assert view.levelnos.tolist() == [10, 20, 20, *levels.tolist(), *[30] * 70_000]
    assert [view.names[k] for k in view.loggers[-3:]] == names[-3:]
    assert view.names[view.loggers[1]] == "b"
    assert view.times[1] == NO_TIME and view.times[-1] == NO_TIME
    query = parse_query("level>=300 logger:a")
    assert np.flatnonzero(query.column_mask(view)).tolist() == [
        3 + k for k, lv in enumerate(levels.tolist()) if lv >= 300]


def test_a_far_time_coarsens_the_unit_and_keeps_answers():
    columns = RecordColumns()
    base = 1_700_000_000.0
    columns.append(0, 0, chunk([20] * 3, ["a"], [0] * 3, [base, base + 0.0015, base + 2]))
    assert columns.view().time_unit == -3
    columns.append(3, 0, chunk([20] * 2, ["a"], [0] * 2, [base + 40 * 86400, np.nan]))
    view = columns.view()
    assert view.time_unit == -2  # 40 days: hundredths (a millisecond reaches 24 days)
    stamps = np.array([base, base + 0.0015, base + 2, base + 40 * 86400, np.nan])
    view.exact = lambda which: stamps[which]
    for bound in (base, base + 0.001, base + 1.9, base + 2, base + 86400 * 41):
        for compare in (operator.ge, operator.lt, operator.ne):
            want = [k for k, t in enumerate(stamps.tolist()) if not math.isnan(t) and compare(t, bound)]
            mask = view.by_time(compare, bound)
            assert mask is not None
            assert np.flatnonzero(mask).tolist() == want, (bound, compare)


def test_the_filtered_times_are_the_matching_records_times(tmp_path):
    store = store_of(tmp_path, "dash")
    for _ in RecordCounter(store).batches(len(store)):
        pass
    found = FilteredTimes(store, parse_query("level>=ERROR"))
    assert found.answerable
    found.advance()
    stamps, levelnos = found.take()
    want = [store.record(i) for i in scanned(store, "level>=ERROR")]
    want_stamps = sorted(r.timestamp for r in want if r.timestamp is not None)
    assert np.allclose(np.sort(stamps), want_stamps, atol=0.001)  # to the millisecond
    assert (levelnos >= 40).all() and len(levelnos) == len(want_stamps)
    assert not FilteredTimes(store, parse_query("boom")).answerable


def spilled_store(tmp_path: Path, monkeypatch, directory: Path):
    monkeypatch.setattr(column_store, "SPILL_BYTES", 2000)
    monkeypatch.setattr(growable, "MAP_STEP", 4096)
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    store = store_of(tmp_path, "dash")
    for _ in RecordCounter(store).batches(len(store), chunk_bytes=1 << 12):
        pass
    return store


def deleted_files_in(directory: Path, pid: int | str = "self") -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def test_spilled_columns_answer_the_same_and_leave_no_file(tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    spill.mkdir()
    (tmp_path / "plain").mkdir()
    plain = store_of(tmp_path / "plain", "dash")
    for _ in RecordCounter(plain).batches(len(plain)):
        pass
    store = spilled_store(tmp_path, monkeypatch, spill)
    assert store.columns.spilled and not plain.columns.spilled
    assert isinstance(store.columns._times, growable.MappedArray)
    assert os.listdir(spill) == []  # unlinked from the start
    assert deleted_files_in(spill)  # yet open: the columns live there
    texts = queries_of(bounds_of(store)) + ["level>=ERROR", "logger:app.db", "not level:INFO"]
    for text in texts:
        query = parse_query(text)
        got = column_positions(store, query, 0, len(store))
        want = column_positions(plain, query, 0, len(plain))
        assert got is not None and want is not None
        assert got[0].tolist() == want[0].tolist(), text
    store.close()
    import gc

    gc.collect()
    assert os.listdir(spill) == []
    assert deleted_files_in(spill) == []  # closed: no descriptor, no mapping holds it


def test_a_killed_process_leaves_no_spilled_file(tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    path = tmp_path / "app.log"
    dash_file(path, random.Random(5))
    code = f"""
import sys, tempfile
from logview import column_store
from logview.columns import RecordCounter
from logview.formats.template import TemplateFormat
from logview.printer import RecordPrinter
from logview.sources.base import StaticFileSource
from logview.store import open_store
column_store.SPILL_BYTES = 2000
store = open_store(StaticFileSource({str(path)!r}), TemplateFormat({DASH!r}))
store.update(final=True)
for _ in RecordCounter(store).batches(len(store), chunk_bytes=4096):
    pass
assert store.columns.spilled
print("spilled", flush=True)
sys.stdin.read()
"""
    env = {**os.environ, "TMPDIR": str(spill), "PYTHONPATH": str(Path(__file__).parent.parent)}
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"spilled\n"
        assert deleted_files_in(spill, child.pid)  # the child holds them
        assert os.listdir(spill) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert os.listdir(spill) == []


@pytest.mark.parametrize("kind", ["dash", "json"])  # the formats with a walker
def test_the_printers_direct_scan_answers_time_terms_by_columns(tmp_path, kind):
    """``--print`` over a finished file: range workers walk the heads and keep by columns."""
    store = store_of(tmp_path, kind)
    fmt = FILES[kind][1]
    fresh = open_store(StaticFileSource(str(tmp_path / f"{kind}.log")), fmt)
    bounds = bounds_of(store)
    for text in [f"since:{bounds[0]}", f"until:{bounds[2]}", f"time>{bounds[3]}",
                 f"level>=ERROR since:{bounds[1]} until:{bounds[7]}"]:
        query = parse_query(text)
        assert scan_ranges._columns_answer(fresh.format, query)
        want = io.BytesIO()
        printer = RecordPrinter(want)
        for i in scanned(store, text):
            printer.write(store.parse(i))
        got = io.BytesIO()
        printer = RecordPrinter(got)
        job = scan_ranges.make_job(fresh, query, printer.render, need_lines=False)
        assert job is not None
        assert scan_ranges.run_job(job, printer.write_rendered, range_bytes=4096,
                                   workers=1) is None
        assert got.getvalue() == want.getvalue(), text


def test_growing_columns_never_hold_two_copies_of_them(tmp_path, monkeypatch):
    """3 M records (21 MB of columns) appended chunk by chunk: the memory the process
    allocates for them (tracemalloc sees numpy's buffers, not the mapped files) stays near
    the in-memory threshold, never a doubling copy of the whole columns."""
    import tracemalloc

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    n, step = 3_000_000, 100_000
    levelnos = np.tile(np.array([10, 20, 30, 40, 50], np.int32), step // 5)
    loggers = np.arange(step, dtype=np.int32) % 3
    stamps = 1.7e9 + np.arange(step, dtype=np.float64) * 1e-3
    columns = RecordColumns()
    tracemalloc.start()
    try:
        for at in range(0, n, step):
            columns.append(at, 0, ChunkColumns(levelnos, loggers, ["a", "b", "c"],
                                               stamps + at * 1e-3, []))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 21 MB of columns: in memory up to SPILL_BYTES (4 MB, with its doubling), plus one
    # chunk's temporaries; doubling the whole columns in memory peaked at 30 MB
    assert peak < 12 << 20, peak
    assert len(columns) == n and columns.nbytes == 7 * n and columns.spilled
    view = columns.view()
    assert view.levelnos[-5:].tolist() == [10, 20, 30, 40, 50]
    assert view.times[-1] == n - 1 and view.times[step] == step
    assert [view.names[k] for k in view.loggers[-3:]] == ["b", "c", "a"]
    columns.close()


def mapped_rss(marker: str) -> int:
    """Resident bytes of this process's mappings of files whose path holds ``marker``."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                inside = len(head) >= 6 and marker in line
            elif inside and line.startswith("Rss:"):
                total += int(head[1]) * 1024
    return total


def test_a_mapped_array_keeps_at_most_a_step_resident_while_it_grows(tmp_path, monkeypatch):
    """A big column written through its mapping: the pages written before the last step
    leave the process's resident set (they stay in the file), so RSS does not grow with
    the column."""
    monkeypatch.setattr(growable, "MAP_STEP", 1 << 20)
    array = growable.MappedArray(np.int32, directory=str(tmp_path))
    values = np.arange(1 << 16, dtype=np.int32)  # 256 kB a write
    for k in range(32):  # 8 MB
        array.extend(values + k)
    assert mapped_rss(str(tmp_path)) <= (1 << 20) + (256 << 10)
    view = array.view()
    assert len(view) == 32 << 16 and view[-1] == (1 << 16) - 1 + 31 and view[5 << 16] == 5
    array.close()


def test_recoding_spilled_columns_a_slice_at_a_time_keeps_every_code(tmp_path, monkeypatch):
    monkeypatch.setattr(column_store, "SPILL_BYTES", 2000)
    monkeypatch.setattr(column_store, "COPY_VALUES", 1000)
    monkeypatch.setattr(growable, "COPY_VALUES", 1000)
    monkeypatch.setattr(growable, "MAP_STEP", 4096)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    base = 1_700_000_000.0
    stamps = base + np.arange(5000) * 0.0137
    columns = RecordColumns()
    columns.append(0, 0, chunk(np.full(5000, 20), ["a"], np.zeros(5000), stamps))
    assert columns.spilled and columns.view().time_unit == -3
    names = [f"n{k}" for k in range(70_000)]  # loggers widen to uint32
    far = [base + 40 * 86400]  # the unit coarsens to hundredths
    columns.append(5000, 0, chunk([30], names[:1], [0], far))
    columns.append(5001, 0, chunk(np.full(70_000, 30), names, np.arange(70_000),
                                  np.full(70_000, np.nan)))
    view = columns.view()
    assert view.time_unit == -2 and view.loggers.dtype == np.uint32
    assert view.times[:5000].tolist() == np.floor((stamps - base) * 100).astype(int).tolist()
    assert view.times[5000] == 40 * 86400 * 100
    assert [view.names[k] for k in view.loggers[[0, 4999, 5000, 5001, -1]]] == [
        "a", "a", "n0", "n0", "n69999"]
    columns.close()
