"""Many sources at once: one inotify instance for every watcher, and a descriptor budget.

Real files and real inotify. Instances and watches are counted the way the kernel sees them
(``/proc/self/fd`` links to ``anon_inode:inotify``, ``inotify wd:`` lines of their fdinfo), as
differences from before each test, so sources another test left open do not matter.
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logview.sources import watch
from logview.sources.file import FileSource
from logview.sources.open import open_sources
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif(
    watch._libc is None or not os.path.isdir("/proc/self/fdinfo"),
    reason="needs Linux inotify and /proc")

ROOT = Path(__file__).resolve().parent.parent
MANY = 300


def inotify_fds() -> list[int]:
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:inotify":
                found.append(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return found


def inotify_watches() -> int:
    """Kernel watches held by every inotify instance of this process."""
    total = 0
    for fd in inotify_fds():
        try:
            with open(f"/proc/self/fdinfo/{fd}") as info:
                total += sum(1 for line in info if line.startswith("inotify wd:"))
        except OSError:
            continue
    return total


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def make_logs(directory: Path, count: int = MANY) -> list[Path]:
    directory.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"svc{i:03d}.log"
        path.write_bytes(f"2024-01-02 03:04:05 INFO start {i}\n".encode())
        paths.append(path)
    return paths


def drain(sources) -> None:
    """Take in whatever woke the sources so far (nothing should be pending afterwards)."""
    for source in sources:
        while source.wait(0):
            source.update()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


@pytest.fixture
def many(tmp_path):
    paths = make_logs(tmp_path / "app")
    instances, watches, fds = len(inotify_fds()), inotify_watches(), open_fds()
    sources = open_sources([str(tmp_path / "app")], follow=True, rotated=False)
    try:
        yield paths, sources, (instances, watches, fds)
    finally:
        for source in sources:
            source.close()


def test_300_followed_files_use_one_inotify_instance(many):
    _paths, sources, (instances, watches, fds) = many
    assert len(sources) == MANY
    assert all(isinstance(s, FileSource) and s._watcher.available for s in sources)
    assert len(inotify_fds()) == 1  # every watcher of the process shares it
    assert len(inotify_fds()) - instances in (0, 1)
    # One watch for the directory (shared by all 300) and one per file's inode.
    assert inotify_watches() - watches == MANY + 1
    # The files themselves, plus at most the instance and its reader's stop pipe.
    assert open_fds() - fds <= MANY + 3


def test_an_append_wakes_its_source_only(many):
    paths, sources, _ = many
    drain(sources)
    target, other = sources[137], sources[42]
    append(paths[137], b"2024-01-02 03:04:06 INFO more\n")
    started = time.monotonic()
    assert target.wait(5.0)
    assert time.monotonic() - started < 2.0
    target.update()
    assert target.read_at(0, target.size()).endswith(b"INFO more\n")
    assert not other.wait(0.2)
    assert not sources[138].wait(0)  # a neighbour whose name starts the same way


def test_every_source_wakes_for_its_own_file(many):
    paths, sources, _ = many
    drain(sources)
    for i in range(0, MANY, 7):
        append(paths[i], b"again\n")
        assert sources[i].wait(5.0), f"source {i} did not wake"
        sources[i].update()
    assert not sources[1].wait(0.05)


def test_wait_blocks_without_cpu(many):
    _paths, sources, _ = many
    drain(sources)
    started = time.process_time()
    assert not sources[0].wait(0.5)
    assert time.process_time() - started < 0.1


def test_closing_releases_the_watches(many):
    paths, sources, (instances, watches, fds) = many
    for source in sources[:-1]:
        source.close()
    # The last source still holds the shared directory watch and its file's watch.
    assert inotify_watches() - watches == 2
    drain(sources[-1:])
    append(paths[-1], b"still followed\n")
    assert sources[-1].wait(5.0)
    sources[-1].close()
    assert inotify_watches() == watches
    assert len(inotify_fds()) == instances
    assert open_fds() == fds


def test_watchers_of_one_directory_share_its_watch(tmp_path):
    (tmp_path / "a.log").write_bytes(b"a\n")
    (tmp_path / "b.log").write_bytes(b"b\n")
    watches = inotify_watches()
    first = watch.DirectoryWatcher(str(tmp_path), lambda name: name == "a.log")
    second = watch.DirectoryWatcher(str(tmp_path), lambda name: name == "b.log")
    assert inotify_watches() - watches == 1
    first.close()
    assert inotify_watches() - watches == 1  # the second one still uses it
    assert not first.available and second.available
    append(tmp_path / "b.log", b"more\n")
    assert second.wait(5.0)
    second.close()
    assert inotify_watches() == watches


def test_overflow_wakes_everyone(tmp_path):
    make_logs(tmp_path, 3)
    sources = [FileSource(str(p)) for p in sorted(tmp_path.iterdir())]
    try:
        drain(sources)
        instance = watch.shared_instance()
        assert instance is not None
        instance._dispatch(struct.pack("iIII", -1, watch.IN_Q_OVERFLOW, 0, 0))
        assert all(source.wait(0) for source in sources)
    finally:
        for source in sources:
            source.close()


def test_unwatchable_directory_falls_back_and_holds_nothing(tmp_path):
    instances, watches = len(inotify_fds()), inotify_watches()
    watcher = watch.DirectoryWatcher(str(tmp_path / "missing"), lambda name: True)
    assert not watcher.available
    assert not watcher.wait(0.05)
    assert (len(inotify_fds()), inotify_watches()) == (instances, watches)
    watcher.close()


def test_a_directory_moved_away_falls_back_to_polling(tmp_path):
    # (Moved, not deleted: a deleted directory's IN_DELETE_SELF only comes once the file
    # open inside it is closed.)
    directory = tmp_path / "gone"
    path = make_logs(directory, 1)[0]
    source = FileSource(str(path))
    keep = FileSource(str(make_logs(tmp_path / "kept", 1)[0]))
    try:
        drain([source, keep])
        directory.rename(tmp_path / "elsewhere")
        wait_for(lambda: not source._watcher.available)
        append(tmp_path / "elsewhere" / path.name, b"seen by the stat poll\n")
        assert source.wait(5.0)  # the open file grew
        assert keep._watcher.available  # another directory's watcher is not disturbed
        append(Path(keep.path), b"more\n")
        assert keep.wait(5.0)
    finally:
        source.close()
        keep.close()


def test_a_forked_child_makes_its_own_instance(tmp_path):
    parent_path, child_path = make_logs(tmp_path, 2)
    source = FileSource(str(parent_path))
    drain([source])
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return into pytest
        status = 1
        try:
            ok = not source._watcher.available and inotify_fds() == []
            mine = FileSource(str(child_path))
            drain([mine])
            append(child_path, b"child\n")
            ok = ok and mine.wait(5.0) and len(inotify_fds()) == 1
            mine.close()
            status = 0 if ok and inotify_fds() == [] else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    append(parent_path, b"parent\n")  # the child's closing took nothing from the parent
    assert source.wait(5.0)
    source.close()


# -- the descriptor budget -----------------------------------------------------------------

_OPEN_UNDER_LIMIT = textwrap.dedent("""
    import resource, sys
    from logview.sources.base import SourceError
    from logview.sources.open import open_sources
    soft, hard = int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard if hard > 0 else
                       resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    try:
        sources = open_sources([sys.argv[1]], follow=True, rotated=False)
    except SourceError as exc:
        print("error:", exc)
        sys.exit(3)
    links = []
    import os
    for name in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink("/proc/self/fd/" + name))
        except OSError:
            pass
    print("opened", len(sources), "limit", resource.getrlimit(resource.RLIMIT_NOFILE)[0],
          "inotify", links.count("anon_inode:inotify"))
""")


def run_under_limit(directory: Path, soft: int, hard: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _OPEN_UNDER_LIMIT, str(directory), str(soft),
                           str(hard)], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def test_a_low_soft_limit_is_raised(tmp_path):
    make_logs(tmp_path / "app")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if 0 <= hard < MANY * 10:
        pytest.skip(f"the hard limit ({hard}) leaves no room to raise the soft one")
    done = run_under_limit(tmp_path / "app", 64)
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:2] == ["opened", str(MANY)]
    assert int(words[3]) > 64
    assert words[5] == "1"


def test_a_low_hard_limit_gives_a_clear_message(tmp_path):
    make_logs(tmp_path / "app")
    done = run_under_limit(tmp_path / "app", 64, 64)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    message = done.stdout
    assert message.startswith(f"error: {MANY} files need about {MANY} file descriptors")
    assert "RLIMIT_NOFILE" in message and "ulimit -n" in message and "64" in message
    assert "Too many open files" not in message


def test_the_command_line_says_so_too(tmp_path):
    make_logs(tmp_path / "app")
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
              "from logview.cli import main; sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", script, "--print", str(tmp_path / "app")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Too many open files" not in done.stderr
    assert "more than the open-file limit allows (RLIMIT_NOFILE" in done.stderr
