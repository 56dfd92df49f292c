"""A merged view built in small time slices equals one built in one go."""

from __future__ import annotations

from logview.formats.template import TemplateFormat
from logview.merge import MergedStore
from logview.sources.base import StaticFileSource
from logview.store import LogStore

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def write(path, offset: int, count: int) -> None:
    lines = []
    for i in range(count):
        second = offset + 2 * i
        stamp = f"2024-01-02 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d},000"
        lines.append(f"{stamp} - {path.stem} - INFO - record {i}\n")
        if i % 50 == 0:
            lines.append("Traceback (most recent call last):\nValueError: x\n")
    path.write_text("".join(lines))


def merged(paths) -> MergedStore:
    fmt = TemplateFormat(DASH)
    return MergedStore([LogStore(StaticFileSource(str(p)), fmt) for p in paths])


def order(store: MergedStore) -> list[tuple[str, int]]:
    return [(record.source, record.line) for record in map(store.record, range(len(store)))]


def test_sliced_merge_equals_one_go(tmp_path):
    paths = [tmp_path / "a.log", tmp_path / "b.log"]
    write(paths[0], 0, 8_000)  # (about four 5 ms slices on a quiet machine)
    write(paths[1], 1, 8_000)
    whole = merged(paths)
    whole.update(final=True)
    sliced = merged(paths)
    calls = 0
    while not sliced.finished:
        sliced.update(final=True, budget=0.005)
        calls += 1
        assert calls < 10_000
    assert calls > 1  # it really was built in several slices
    assert len(sliced) == len(whole) == 16_000
    records = [sliced.record(i) for i in range(len(sliced))]
    assert [(r.source, r.line) for r in records] == order(whole)
    times = [r.time for r in records]
    assert times == sorted(times)
