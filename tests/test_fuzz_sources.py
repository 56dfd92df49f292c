"""The file reader against hostile files: damaged compressed files, paths that become
directories or FIFOs, permissions taken away, files that shrink while they are read.

Whatever happens: no traceback, a clear message on stderr, and every record that could be
read is printed. Deterministic: damage at every offset, truncations at chosen reads; waits are
for conditions, with deadlines.

Permission tests need a user that permissions apply to: as root (who reads everything) they
run in a forked child that has become ``nobody``; elsewhere in this process.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pwd
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_helpers import lines, printed, python_m_logview
from process_helpers import read_until

from logview import cli, index
from logview.sources.file import FileSource
from logview.sources.rotated import CompressedSource, RotatedSetSource
from logview.store import open_store

# ---------------------------------------------------------------------------------------------
# Damaged compressed files.


def decodable(blob: bytes) -> bytes:
    """Every byte the members of a .gz decode to before its damage (fed a byte at a time)."""
    out: list[bytes] = []
    decoder = zlib.decompressobj(31)
    for i in range(len(blob)):
        if decoder.eof:  # the next member (its first bytes may sit in unused_data)
            pending, decoder = decoder.unused_data, zlib.decompressobj(31)
            out.append(decoder.decompress(pending))
        try:
            out.append(decoder.decompress(blob[i : i + 1]))
        except zlib.error:
            break
    return b"".join(out)


#: Two small members (``cat a.gz b.gz``): damage in the second keeps all of the first.
GZ_DATA = lines(0, 6) + lines(6, 6, b"ERROR")
GZ_BLOB = gzip.compress(lines(0, 6)) + gzip.compress(lines(6, 6, b"ERROR"))


def intact(blob: bytes) -> bool:
    """Whole members only (a cut between two members, damage to a header's time stamp)."""
    try:
        gzip.decompress(blob)
    except (OSError, EOFError, zlib.error):
        return False
    return True


def check_damaged_gz(run_main, path: Path, blob: bytes, where: object) -> None:
    path.write_bytes(blob)
    expected = decodable(blob)
    status, out, err = run_main(str(path), "--print")
    assert out == printed(expected), where
    assert status == (0 if expected else 1), (where, err)
    if intact(blob):
        assert err == "", (where, err)
    else:
        assert err.startswith(f"logview: warning: {path}: decompression stopped: "), (where, err)
        assert err.count("\n") == 1, (where, err)


def test_a_gz_cut_at_every_offset_prints_what_decoded_and_says_why(tmp_path, run_main):
    path = tmp_path / "app.log.gz"
    for cut in range(2, len(GZ_BLOB)):
        check_damaged_gz(run_main, path, GZ_BLOB[:cut], ("cut", cut))
    path.write_bytes(GZ_BLOB)
    assert run_main(str(path), "--print") == (0, GZ_DATA, "")


def test_a_corrupt_byte_keeps_the_records_before_it(tmp_path, run_main):
    """``gzip`` lost what a read decoded when the read hit the damage (all of a small file),
    and a corrupt deflate stream raised ``zlib.error``: a traceback, nothing printed."""
    path = tmp_path / "app.log.gz"
    kept = 0
    for at in range(10, len(GZ_BLOB), 3):  # past the first header: the deflate data on
        for flip in (0x01, 0x80):
            blob = bytearray(GZ_BLOB)
            blob[at] ^= flip
            check_damaged_gz(run_main, path, bytes(blob), ("flip", at, flip))
            kept += bool(decodable(bytes(blob)))
    assert kept > len(GZ_BLOB) // 3  # most damage leaves records before it to print


def test_python_m_logview_on_damaged_gz_files(tmp_path):
    """The real command: no traceback, the warning, the records before the damage."""
    data = lines(0, 400)
    blob = gzip.compress(data)
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(blob[: len(blob) // 2])
    corrupt = tmp_path / "corrupt.log.gz"
    for at in range(len(blob) // 2, len(blob)):  # damage that decoding notices where it is
        damaged = blob[:at] + bytes([blob[at] ^ 0x40]) + blob[at + 1 :]
        if data.startswith(decodable(damaged)) and len(decodable(damaged)) > 1000:
            corrupt.write_bytes(damaged)
            break
    for path in (cut, corrupt):
        expected = decodable(path.read_bytes())
        assert data.startswith(expected) and len(expected) > 1000
        result = python_m_logview(str(path), "--print")
        assert b"Traceback" not in result.stderr
        assert result.returncode == 0, result.stderr
        assert result.stdout == printed(expected)
        assert result.stderr.startswith(b"logview: warning: " + str(path).encode())
    result = python_m_logview(str(corrupt), "--print", "-q", "level:INFO", "-o", "jsonl")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == len(expected.splitlines())  # the cut line too


@pytest.mark.parametrize("kind", ["bz2", "xz"])
def test_damaged_bz2_and_xz_end_with_a_warning(kind, tmp_path, run_main):
    """bzip2 and xz check whole blocks: damage loses its block, never more, never a crash."""
    data = lines(0, 300)
    blob = bz2.compress(data) if kind == "bz2" else lzma.compress(data)
    path = tmp_path / f"app.log.{kind}"
    offsets = sorted({*range(6, len(blob), max(1, len(blob) // 40)), len(blob) - 1})
    for at in offsets:
        for damaged in (blob[:at], blob[:at] + bytes([blob[at] ^ 0x10]) + blob[at + 1 :]):
            path.write_bytes(damaged)
            status, out, err = run_main(str(path), "--print")
            assert data.startswith(out.rstrip(b"\n")) or out == printed(data), (at, out[-80:])
            assert status in (0, 1) and "Traceback" not in err
            if status == 0 and out != data:
                assert err.startswith(f"logview: warning: {path}: "), (at, err)


def test_a_damaged_member_of_a_rotated_set_is_said_and_cut_off(tmp_path, run_main):
    """Damage in ``app.log.2.gz`` said nothing (only a lone compressed file had its warning),
    and its cut last line swallowed the first line of ``app.log.1``."""
    packed = gzip.compress(lines(0, 100))
    (tmp_path / "app.log.2.gz").write_bytes(packed[: len(packed) * 2 // 3])
    (tmp_path / "app.log.1").write_bytes(lines(100, 10, b"WARNING"))
    (tmp_path / "app.log").write_bytes(lines(110, 10, b"ERROR"))
    members = [str(tmp_path / name) for name in ("app.log.2.gz", "app.log.1", "app.log")]
    status, out, err = run_main(*members, "--print")
    assert status == 0
    assert err.startswith(f"logview: warning: {members[0]}: decompression stopped: "), err
    assert out.endswith(b"\n" + lines(100, 10, b"WARNING") + lines(110, 10, b"ERROR"))
    status, out, err = run_main(members[-1], "--rotated", "--print", "-q", "level>=WARNING")
    assert (status, out) == (0, lines(100, 10, b"WARNING") + lines(110, 10, b"ERROR"))
    assert err.startswith(f"logview: warning: {members[0]}: "), err


def test_rotated_set_reads_back_the_same_bytes_anywhere(tmp_path):
    """The newline put after a member cut inside a line is part of the space like any byte."""
    packed = gzip.compress(lines(0, 50))
    (tmp_path / "a.log.1.gz").write_bytes(packed[:-30])
    (tmp_path / "a.log").write_bytes(lines(50, 5))
    source = RotatedSetSource([str(tmp_path / "a.log.1.gz"), str(tmp_path / "a.log")],
                              follow=False)
    try:
        while not source.finished:
            source.update()
        whole = source.read_at(0, source.size())
        first = decodable(packed[:-30])
        assert whole == first + b"\n" + lines(50, 5)
        for offset in range(0, len(whole), 7):
            for size in (1, 5, 64, len(whole)):
                assert source.read_at(offset, size) == whole[offset : offset + size]
    finally:
        source.close()


def test_compressed_source_alone_is_unchanged_by_damage_handling(tmp_path):
    """A lone compressed file still ends where decoding stopped (no byte added)."""
    path = tmp_path / "x.log.gz"
    path.write_bytes(GZ_BLOB[:-20])
    source = CompressedSource(str(path))
    try:
        while not source.finished:
            source.update()
        assert source.read_at(0, source.size()) == decodable(GZ_BLOB[:-20])
        assert source.error is not None
    finally:
        source.close()


def test_a_damaged_file_with_escapes_in_its_name_is_said_safely(tmp_path, run_main):
    """The warning names the file; the name's control characters are shown, never sent."""
    path = tmp_path / "app\x1b]0;pwned\x07\x1b[2J.log.gz"
    path.write_bytes(GZ_BLOB[:-30])
    status, out, err = run_main(str(path), "--print")
    assert status == 0 and out == printed(decodable(GZ_BLOB[:-30]))
    assert err.startswith("logview: warning: ") and "app\u241b]0;pwned\u2407\u241b[2J" in err
    assert not any(c in err for c in "\x1b\x07"), err


def test_a_missing_file_with_escapes_in_its_name_is_said_safely(tmp_path, run_main):
    status, _out, err = run_main(str(tmp_path / "gone\x1b]0;pwned\x07.log"), "--print")
    assert status == 2 and err.startswith("logview: cannot open ")
    assert not any(c in err for c in "\x1b\x07"), err


# ---------------------------------------------------------------------------------------------
# A path that becomes a directory or a FIFO.


def start_following(path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "logview", str(path), "--print", "--follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen) -> tuple[int, bytes]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


@pytest.mark.parametrize("replacement", ["directory", "fifo"])
def test_followed_path_replaced_by_a_directory_or_fifo(replacement, tmp_path):
    """The file that had the name is read to its end; the new thing is no file to follow."""
    path = tmp_path / "app.log"
    path.write_bytes(lines(0, 3))
    proc = start_following(path)
    try:
        read_until(proc, b"record 2\n", timeout=20)
        with open(path, "ab") as writer:
            os.rename(path, tmp_path / "app.log.1")
            if replacement == "directory":
                path.mkdir()
                (path / "inner.log").write_bytes(lines(50, 1))
            else:
                os.mkfifo(path)
            writer.write(lines(3, 2, b"WARNING"))  # the old file goes on
            writer.flush()
            read_until(proc, b"record 4\n", timeout=20)
        assert proc.poll() is None
    finally:
        status, err = stop(proc)
    assert status == 0 and b"Traceback" not in err, err


@pytest.mark.parametrize("replacement", ["directory", "fifo"])
def test_followed_path_replaced_by_a_non_file_is_said(replacement, tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(lines(0, 3))
    source = FileSource(str(path), follow=True)
    try:
        os.rename(path, tmp_path / "app.log.1")
        path.mkdir() if replacement == "directory" else os.mkfifo(path)
        for _ in range(10):  # (a rotation is taken on the next update: a few are plenty)
            source.update()
            if source.notices:
                break
            source.wait(0.02)
        assert any("app.log" in notice for notice in source.notices), source.notices
    finally:
        source.close()


def test_a_path_that_became_a_directory_between_runs(tmp_path, run_main):
    path = tmp_path / "app.log"
    path.mkdir()
    status, out, err = run_main(str(path), "--print")
    assert (status, out) == (2, b"")
    assert err.startswith(f"logview: no log files in {path}"), err
    (path / "inner.log").write_bytes(lines(0, 2) + b"\x1b[2Jtail\xff\r\n")
    (path / "other.log").write_bytes(lines(10, 2))
    status, out, err = run_main(str(path), "--print")
    assert status == 0 and err == ""
    assert out == lines(0, 2) + b"\x1b[2Jtail\xff\r\n" + lines(10, 2)


def test_a_path_that_became_a_fifo_between_runs(tmp_path, run_main):
    """A FIFO is read to its writer's end, hostile bytes and an unfinished last line too."""
    path = tmp_path / "app.log"
    os.mkfifo(path)
    data = lines(0, 3) + b"\x1b]0;title\x07 \xff\xfe\x00\n" + lines(3, 1)[:-10]
    for argv, expected in (([], printed(data)), (["--color", "always"], None)):
        writer = threading.Thread(target=lambda: path.write_bytes(data), daemon=True)
        writer.start()  # blocks until logview opens the FIFO
        status, out, err = run_main(str(path), "--print", *argv)
        writer.join(10)
        assert not writer.is_alive()
        assert (status, err) == (0, "")
        if expected is not None:
            assert out == expected
        else:  # as on a terminal: the title sequence is shown, never sent
            assert out.count(b"\n") == 5 and b"\x07" not in out and b"\x1b]" not in out
            assert "\u241b]0;title\u2407".encode() in out


# ---------------------------------------------------------------------------------------------
# Permissions taken away. Root reads everything: the body runs as nobody in a forked child.


def world_dir() -> Path:
    """A directory nobody may enter and write (pytest's tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="logview-fuzz-"))
    path.chmod(0o777)
    return path


def as_unprivileged(body: Callable[[Path], object], timeout: float = 60) -> object:
    """``body(directory)`` run where permissions apply; returns what it returned (JSON)."""
    directory = world_dir()
    try:
        if os.geteuid() != 0:
            return json.loads(json.dumps(body(directory)))
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and there is no user 'nobody' to drop to")
        return _in_child(body, directory, nobody, timeout)
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", str(directory)], check=False)
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def _warm_up() -> None:
    """Import what the child will run: it cannot read root's Python library any more."""
    directory = Path(tempfile.mkdtemp(prefix="logview-warm-"))
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        (directory / "w.log.1.gz").write_bytes(gzip.compress(lines(0, 2)))
        (directory / "w.log").write_bytes(lines(2, 2))
        main_in_child(str(directory / "w.log"), "--rotated", "--print", "-q", "level:INFO")
        main_in_child(str(directory / "w.log"), str(directory / "missing"), "--print")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def _in_child(body, directory: Path, nobody: pwd.struct_passwd, timeout: float) -> object:
    _warm_up()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, run the body, report, never return
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            index._POOL = None  # the parent's index threads do not exist here
            result = {"ok": body(directory)}
        except BaseException:  # noqa: BLE001 - everything goes back to the parent
            result = {"error": traceback.format_exc()}
        try:
            os.write(write_fd, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("the unprivileged child did not finish")
            ready, _, _ = select.select([read_fd], [], [], left)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or b'{"error": "the child said nothing"}')
    if "error" in result:
        raise AssertionError(result["error"])
    return result["ok"]


def main_in_child(*argv: str) -> tuple[int, str, str]:
    """``cli.main`` with stdout and stderr as text (for the forked child)."""
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, err
    try:
        status = cli.main(list(argv))
    finally:
        sys.stdout, sys.stderr = saved
    stdout.flush()
    return status, out.getvalue().decode("utf-8", "replace"), err.getvalue()


def test_a_followed_file_made_unreadable_is_read_on():
    """The descriptor is open: chmod 000 takes nothing from a file already followed."""

    def body(directory: Path) -> list[int]:
        path = directory / "app.log"
        with open(path, "wb") as writer:
            writer.write(lines(0, 2))
            writer.flush()
            source = FileSource(str(path), follow=True)
            store = open_store(source)
            store.update(final=True)
            before = len(store)
            path.chmod(0)
            assert not os.access(path, os.R_OK)  # the test means something here
            writer.write(lines(2, 3))
            writer.flush()
            store.update(final=True)
            after = [store.record(i).message for i in range(len(store))]
            store.close()
        return [before, len(after), after[-1] == "record 4"]

    assert as_unprivileged(body) == [2, 5, True]


def test_an_unreadable_rotated_member_costs_only_its_own_records():
    """``--rotated`` finds an old member it may not read (logrotate's root-only files): the
    other members are printed and a warning names it (the whole run failed, nothing printed).
    A member named on the command line that cannot be read is an error, said as such."""

    def body(directory: Path) -> list[object]:
        (directory / "app.log.2.gz").write_bytes(gzip.compress(lines(0, 3)))
        (directory / "app.log.1").write_bytes(lines(3, 3))
        (directory / "app.log").write_bytes(lines(6, 3))
        results = []
        for secret in ("app.log.1", "app.log.2.gz"):
            (directory / secret).chmod(0)
            results.append(list(main_in_child(str(directory / "app.log"), "--rotated",
                                              "--print")))
            named = [str(directory / n) for n in ("app.log.2.gz", "app.log.1", "app.log")]
            results.append(list(main_in_child(*named, "--print")))
            (directory / secret).chmod(0o644)
        return results

    results = as_unprivileged(body)
    for (secret, kept), rotated, named in zip(
            (("app.log.1", lines(0, 3) + lines(6, 3)), ("app.log.2.gz", lines(3, 6))),
            results[::2], results[1::2], strict=True):
        status, out, err = rotated
        assert (status, out.encode()) == (0, kept), (secret, err)
        assert err.startswith("logview: warning: cannot open ") and err.count("\n") == 1, err
        assert f"{secret}: Permission denied: its records are left out" in err, err
        status, out, err = named
        assert (status, out) == (2, ""), (secret, err)
        assert err.startswith("logview: cannot open ") and f"{secret}: Permission denied" in err
        assert "Traceback" not in err


def test_a_rotated_member_made_unreadable_after_opening_is_read():
    def body(directory: Path) -> bool:
        members = [directory / "app.log.1", directory / "app.log"]
        members[0].write_bytes(lines(0, 3))
        members[1].write_bytes(lines(3, 3))
        source = RotatedSetSource([str(m) for m in members], follow=True)
        for member in members:
            member.chmod(0)
        source.update()
        whole = source.read_at(0, source.size())
        source.close()
        return whole == lines(0, 6)

    assert as_unprivileged(body) is True


def test_an_unreadable_log_in_a_directory_is_said():
    def body(directory: Path) -> list[object]:
        logs = directory / "logs"
        logs.mkdir()
        (logs / "a.log").write_bytes(lines(0, 2))
        (logs / "b.log").write_bytes(lines(2, 2))
        (logs / "b.log").chmod(0)
        return list(main_in_child(str(logs), "--print"))

    status, out, err = as_unprivileged(body)
    assert "b.log" in err, (status, out, err)


def test_a_log_with_nul_bytes_in_a_directory_is_read(tmp_path, run_main):
    (tmp_path / "a.log").write_bytes(lines(0, 2) + b"\x00" * 16 + b"\n" + lines(2, 1))
    (tmp_path / "b.log").write_bytes(lines(10, 2))
    status, out, err = run_main(str(tmp_path), "--print")
    assert b"record 2\n" in out or "a.log" in err, (status, out, err)


def test_a_rotation_to_an_unreadable_file_is_said():
    """The new file that has the name cannot be opened (EACCES): a notice says so (it was
    retried forever without a word)."""

    def body(directory: Path) -> list[object]:
        path = directory / "app.log"
        path.write_bytes(lines(0, 2))
        source = FileSource(str(path), follow=True)
        os.rename(path, directory / "app.log.1")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0)  # mode 000, yet writable
        os.write(fd, lines(2, 2))
        os.close(fd)
        for _ in range(20):
            source.update()
        notices = list(source.notices)
        source.close()
        return notices

    notices = as_unprivileged(body)
    assert any("app.log" in n and "ermission" in n for n in notices), notices
