"""logrotate's copytruncate race: lines written between its copy and its truncation are in
neither file. logview may have taken them from the file before it was cut; then its copy is
shorter than what was taken. Found by the soak at full speed: the index then waited for those
bytes for good (nothing more was printed), and records read in a chunk with them came out
empty."""

from __future__ import annotations

import re
import time

from logview.follow import Follower
from logview.scan import EVERYTHING, iter_matching_records
from logview.sources.file import FileSource
from logview.store import LogStore

LINE = "2024-01-02 03:04:%02d,000 - app - INFO - seq %d\n"


def lines(first: int, last: int) -> str:
    return "".join(LINE % (i % 60, i) for i in range(first, last))


def cut_after_copy(path, copied: int, total: int, then: tuple[int, int]) -> None:
    """A copy of the first ``copied`` lines (made before the others were written), the file
    cut to nothing, then lines ``then`` written to it."""
    (path.parent / "app.log.1").write_text(lines(0, copied))
    with open(path, "r+") as f:
        f.truncate(0)
    with open(path, "a") as f:
        f.write(lines(*then))


def test_lost_lines_no_one_read_are_cut_out_of_the_space_and_said(tmp_path):
    path = tmp_path / "app.log"
    path.write_text(lines(0, 10))
    source = FileSource(str(path), follow=True)
    try:
        source.update()
        source.read_at(0, len(lines(0, 9)))  # the last line is taken, not read by anyone
        cut_after_copy(path, 9, 10, (10, 15))
        source.update()
        source.update()
        want = (lines(0, 9) + lines(10, 15)).encode()
        assert source.size() == len(want)
        assert source.read_at(0, source.size()) == want
        assert any("neither the copy nor the truncated file" in n for n in source.notices)
        assert source.generation == 0  # read on through the copy, no restart
    finally:
        source.close()


def test_lost_lines_already_indexed_are_stepped_over_and_left_out(tmp_path):
    path = tmp_path / "app.log"
    path.write_text(lines(0, 10))
    store = LogStore(FileSource(str(path), follow=True))
    follower = Follower(store, quiet_flush=0.05)
    try:
        follower.step()
        store.index.update(final=True)  # every line indexed, the last included
        assert len(store) == 10
        cut_after_copy(path, 8, 10, (10, 15))
        deadline = time.monotonic() + 10
        seen: list[int] = []
        while time.monotonic() < deadline:
            follower.step()
            records = list(iter_matching_records(store, EVERYTHING))
            seen = [int(m[1]) for r in records for m in re.finditer(r"seq (\d+)", r.message)]
            if seen and seen[-1] == 14:
                break
            follower.wait(0.05)
        assert seen == [*range(8), *range(10, 15)]  # 8 and 9 are in neither file
        assert all(r.message for r in iter_matching_records(store, EVERYTHING))
        assert store.index.indexed_bytes == store.source.size()
    finally:
        store.close()
