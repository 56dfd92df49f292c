"""open_sources: what each command-line path becomes."""

from __future__ import annotations

import gzip
import os

import pytest

from logview.sources.base import SourceError, StaticFileSource
from logview.sources.file import FileSource
from logview.sources.open import open_sources
from logview.sources.pipe import FifoSource
from logview.sources.rotated import CompressedSource, RotatedSetSource


def read_all(source) -> bytes:
    while True:
        source.update()
        if source.finished or not source.wait(0):
            return source.read_at(0, source.size())


def close_all(sources) -> None:
    for source in sources:
        source.close()


@pytest.fixture
def log_dir(tmp_path):
    (tmp_path / "app.log").write_bytes(b"app 3\n")
    (tmp_path / "app.log.1").write_bytes(b"app 2\n")
    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress(b"app 1\n"))
    (tmp_path / "events.jsonl").write_bytes(b'{"msg": "e"}\n')
    (tmp_path / ".hidden.log").write_bytes(b"hidden\n")
    (tmp_path / "core.log").write_bytes(b"\x7fELF\x00\x00binary")
    (tmp_path / "notes.md").write_bytes(b"# not a log\n")
    (tmp_path / "syslog").write_bytes(b"Jan  1 00:00:00 host app: hi\n")
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_missing_path_error(tmp_path):
    missing = str(tmp_path / "app.log")
    with pytest.raises(SourceError) as info:
        open_sources([missing], follow=True, rotated=False)
    assert str(info.value) == f"cannot open {missing}: No such file or directory"


def test_regular_file_followed_or_not(log_dir):
    path = str(log_dir / "events.jsonl")
    followed = open_sources([path], follow=True, rotated=False)
    static = open_sources([path], follow=False, rotated=False)
    assert isinstance(followed[0], FileSource) and not followed[0].finished
    assert isinstance(static[0], StaticFileSource) and static[0].finished
    close_all(followed + static)


def test_directory_gives_its_logs_with_rotations_grouped(log_dir):
    sources = open_sources([str(log_dir)], follow=False, rotated=False)
    try:
        names = sorted(os.path.basename(s.name) for s in sources)
        assert names == ["app.log", "events.jsonl", "syslog"]
        app = next(s for s in sources if s.name.endswith("app.log"))
        assert isinstance(app, RotatedSetSource)
        assert read_all(app) == b"app 1\napp 2\napp 3\n"
    finally:
        close_all(sources)


def test_shell_expanded_set_is_one_source(log_dir):
    paths = [str(log_dir / n) for n in ("app.log", "app.log.1", "app.log.2.gz")]
    sources = open_sources(paths, follow=True, rotated=False)
    try:
        assert len(sources) == 1
        assert read_all(sources[0]) == b"app 1\napp 2\napp 3\n"
    finally:
        close_all(sources)


def test_rotated_option_finds_the_set(log_dir):
    sources = open_sources([str(log_dir / "app.log")], follow=True, rotated=True)
    try:
        assert isinstance(sources[0], RotatedSetSource)
        assert read_all(sources[0]) == b"app 1\napp 2\napp 3\n"
    finally:
        close_all(sources)


def test_compressed_file_alone(log_dir):
    sources = open_sources([str(log_dir / "app.log.2.gz")], follow=True, rotated=False)
    try:
        assert isinstance(sources[0], CompressedSource)
        assert read_all(sources[0]) == b"app 1\n"
    finally:
        close_all(sources)


def test_fifo_path(tmp_path):
    path = str(tmp_path / "in.fifo")
    os.mkfifo(path)
    sources = open_sources([path], follow=True, rotated=False)
    assert isinstance(sources[0], FifoSource)
    close_all(sources)


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="no log files in"):
        open_sources([str(tmp_path)], follow=False, rotated=False)


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "secret.log"
    path.write_bytes(b"x\n")
    path.chmod(0)
    with pytest.raises(SourceError, match="Permission denied"):
        open_sources([str(path)], follow=False, rotated=False)
