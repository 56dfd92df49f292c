"""The session file (``logview.session``): where it lives, what it keeps, bounds, damage,
concurrent viewers and the identity that keeps a place from landing in another file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from logview.session import (
    HISTORY_MAX,
    PLACES_MAX,
    QUERY_MAX_CHARS,
    READ_MAX,
    STATE_FILE,
    FilePlace,
    Session,
    bounded_history,
    default_state_dir,
    file_identity,
)


def _place_at(path: Path, offset: int, record: int = 0) -> FilePlace:
    place = file_identity(str(path))
    assert place is not None
    place.offset, place.record = offset, record
    return place


def _log(path: Path, lines: int = 100, start: int = 0) -> Path:
    with path.open("a") as fh:
        fh.writelines(f"2024-05-01 12:00:00,000 INFO app: line {i}\n"
                      for i in range(start, start + lines))
    return path


def test_the_state_dir_follows_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_state_dir() == tmp_path / "state" / "logview"
    assert Session().path == tmp_path / "state" / "logview" / STATE_FILE


@pytest.mark.parametrize("value", ["", "relative/state"])
def test_an_empty_or_relative_xdg_state_home_is_ignored(monkeypatch, tmp_path, value):
    monkeypatch.setenv("XDG_STATE_HOME", value)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / ".local" / "state" / "logview"


def test_the_test_suite_never_uses_the_real_state_dir():
    """(tests/conftest.py gives every test a temporary XDG_STATE_HOME)"""
    assert not str(default_state_dir()).startswith(str(Path.home() / ".local" / "state"))


def test_state_survives_a_save_and_a_load(tmp_path):
    log = _log(tmp_path / "app.log")
    first = Session(tmp_path / "s")
    assert first.load() is None  # no file yet: nothing to say
    first.state.history = ["level>=ERROR", "timeout"]
    first.state.theme = "nord"
    first.state.layout.update(histogram=False, tree=True, wrap=True)
    first.remember_place(str(log), _place_at(log, 88, 2))
    assert first.save() is None

    second = Session(tmp_path / "s")
    assert second.load() is None
    assert second.state.history == ["level>=ERROR", "timeout"]
    assert second.state.theme == "nord"
    assert second.state.layout == {"histogram": False, "tree": True, "wrap": True}
    place = second.place_of(str(log))
    assert place is not None and (place.offset, place.record) == (88, 2)
    assert [p.name for p in (tmp_path / "s").iterdir()] == [STATE_FILE]  # no temp file left


def test_nothing_is_written_when_nothing_differs_from_the_defaults(tmp_path):
    session = Session(tmp_path / "s")
    session.load()
    assert session.save() is None
    assert not (tmp_path / "s").exists()


def test_history_is_deduplicated_newest_last_and_bounded():
    queries = [f"q{i}" for i in range(HISTORY_MAX + 50)] + ["q0", "x" * (QUERY_MAX_CHARS + 1), ""]
    kept = bounded_history(queries)
    assert len(kept) == HISTORY_MAX
    assert kept[-1] == "q0" and kept.count("q0") == 1  # moved to its newest place
    assert all(len(q) <= QUERY_MAX_CHARS and q for q in kept)
    assert kept[0] == f"q{50 + 1}"  # the oldest dropped


def test_what_is_written_can_always_be_read_back(tmp_path):
    """Escaped text takes up to 12 bytes a character: the file still stays under READ_MAX."""
    session = Session(tmp_path / "s")
    session.state.history = [f"{i} " + "\U0001f600" * (QUERY_MAX_CHARS // 2 - 4)
                             for i in range(HISTORY_MAX)]
    assert session.save() is None
    assert session.path.stat().st_size <= READ_MAX
    again = Session(tmp_path / "s")
    assert again.load() is None
    assert 0 < len(again.state.history) < HISTORY_MAX
    assert again.state.history[-1] == session.state.history[-1]  # the newest kept


def test_places_are_bounded_the_oldest_dropped(tmp_path):
    log = _log(tmp_path / "app.log")
    session = Session(tmp_path / "s")
    for i in range(PLACES_MAX + 5):
        session.remember_place(str(tmp_path / f"f{i}.log"), _place_at(log, i))
    session.save()
    data = json.loads(session.path.read_text())
    assert len(data["places"]) == PLACES_MAX
    kept = {Path(p).name for p in data["places"]}
    assert "f0.log" not in kept and f"f{PLACES_MAX + 4}.log" in kept


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe garbage", b"[1, 2, 3]", b'{"version": 99}', b"[" * 100_000,
], ids=["not-json", "not-utf8", "a-list", "other-version", "deep-nesting"])
def test_a_damaged_state_file_is_ignored_with_a_warning(tmp_path, content):
    directory = tmp_path / "s"
    directory.mkdir()
    (directory / STATE_FILE).write_bytes(content)
    session = Session(directory)
    warning = session.load()
    assert warning is not None and "session not restored" in warning and "\n" not in warning
    assert session.state.history == [] and session.state.places == {}


def test_a_huge_state_file_is_not_read(tmp_path):
    directory = tmp_path / "s"
    directory.mkdir()
    (directory / STATE_FILE).write_bytes(b" " * (READ_MAX + 1))
    warning = Session(directory).load()
    assert warning is not None and "too big" in warning


def test_malformed_entries_take_their_defaults(tmp_path):
    directory = tmp_path / "s"
    directory.mkdir()
    (directory / STATE_FILE).write_text(json.dumps({
        "version": 1, "history": ["ok", 3, None], "theme": 7,
        "layout": {"histogram": "no", "tree": True},
        "places": {"/a": {"offset": -1}, "/b": "x", "/c": {"offset": 1}},
    }))
    session = Session(directory)
    assert session.load() is None
    assert session.state.history == ["ok"]
    assert session.state.theme is None
    assert session.state.layout == {"histogram": True, "tree": True, "wrap": False}
    assert session.state.places == {}


def test_an_unwritable_state_dir_is_a_warning_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    session = Session(blocker / "logview")
    session.state.history = ["level>=ERROR"]
    warning = session.save()
    assert warning is not None and "session not saved" in warning


def test_a_failed_save_is_one_warning_line_on_stderr(tmp_path, capsys):
    from logview.cli import _save_session

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    session = Session(blocker / "logview")
    session.state.theme = "nord"
    _save_session(session)
    _save_session(None)  # --no-session: nothing to say
    err = capsys.readouterr().err
    assert err.startswith("logview: warning: session not saved") and err.count("\n") == 1


def test_two_viewers_keep_each_others_places_and_queries(tmp_path):
    one, two = _log(tmp_path / "one.log"), _log(tmp_path / "two.log")
    first, second = Session(tmp_path / "s"), Session(tmp_path / "s")
    first.load()
    second.load()
    first.state.history = ["from first"]
    first.remember_place(str(one), _place_at(one, 44))
    second.state.history = ["from second"]
    second.remember_place(str(two), _place_at(two, 88))
    assert first.save() is None
    assert second.save() is None  # written last: its own choices, the other's place kept
    third = Session(tmp_path / "s")
    third.load()
    assert third.state.history == ["from first", "from second"]
    assert third.place_of(str(one)).offset == 44
    assert third.place_of(str(two)).offset == 88


def test_a_dropped_place_is_dropped_from_the_file(tmp_path):
    log = _log(tmp_path / "app.log")
    first = Session(tmp_path / "s")
    first.remember_place(str(log), _place_at(log, 44))
    first.save()
    second = Session(tmp_path / "s")
    second.load()
    second.remember_place(str(log), None)  # e.g. following the end at exit
    second.save()
    third = Session(tmp_path / "s")
    third.load()
    assert third.place_of(str(log)) is None


def test_a_place_holds_while_the_file_grows(tmp_path):
    log = _log(tmp_path / "app.log")
    session = Session(tmp_path / "s")
    session.remember_place(str(log), _place_at(log, 44))
    _log(log, 50, start=100)
    assert session.place_of(str(log)).offset == 44
    # Through a symbolic link: the same file.
    link = tmp_path / "link.log"
    link.symlink_to(log)
    assert session.place_of(str(link)).offset == 44


def test_a_replaced_file_does_not_get_the_old_place(tmp_path):
    log = _log(tmp_path / "app.log")
    session = Session(tmp_path / "s")
    session.remember_place(str(log), _place_at(log, 44))
    copy = tmp_path / "copy.log"
    copy.write_bytes(log.read_bytes())  # the same bytes in another file (another inode)
    os.replace(copy, log)
    assert session.place_of(str(log)) is None


def test_a_truncated_or_rewritten_file_does_not_get_the_old_place(tmp_path):
    log = _log(tmp_path / "app.log")
    session = Session(tmp_path / "s")
    session.remember_place(str(log), _place_at(log, 44))
    size = log.stat().st_size
    with log.open("r+b") as fh:  # same inode, same size, other first bytes
        fh.write(b"2025")
    assert log.stat().st_size == size
    assert session.place_of(str(log)) is None
    log2 = _log(tmp_path / "two.log")
    session.remember_place(str(log2), _place_at(log2, 44))
    os.truncate(log2, 40)  # shorter than when saved
    assert session.place_of(str(log2)) is None


def test_a_missing_or_special_file_has_no_place(tmp_path):
    session = Session(tmp_path / "s")
    assert session.place_of(str(tmp_path / "gone.log")) is None
    assert file_identity(str(tmp_path)) is None  # a directory
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert file_identity(str(fifo)) is None


def test_forget_deletes_the_file_and_saves_nothing_more(tmp_path):
    session = Session(tmp_path / "s")
    session.state.history = ["level>=ERROR"]
    session.save()
    assert session.path.exists()
    assert session.forget() is None
    assert not session.path.exists()
    session.state.history = ["again"]
    assert session.save() is None
    assert not session.path.exists()
