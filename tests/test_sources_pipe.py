"""FifoSource across successive writers, StdinSource from a real pipe, detaching stdin."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logview.sources.base import SourceError
from logview.sources.pipe import FifoSource
from logview.sources.stdin import StdinSource
from tests.conftest import wait_for

REPO = str(Path(__file__).resolve().parents[1])


def updated_bytes(source) -> bytes:
    source.update()
    return source.read_at(0, source.size())


@pytest.fixture
def fifo(tmp_path):
    path = str(tmp_path / "logs.fifo")
    os.mkfifo(path)
    return path


def write_fifo(path: str, data: bytes) -> None:
    with open(path, "wb") as out:  # blocks until the source's reader has it open
        out.write(data)


def test_fifo_two_successive_writers(fifo):
    source = FifoSource(fifo)
    try:
        write_fifo(fifo, b"first writer\nno newline")
        wait_for(lambda: updated_bytes(source) == b"first writer\nno newline\n", 5)
        subprocess.run(["sh", "-c", f"printf 'second writer\\n' > '{fifo}'"], check=True,
                       timeout=10)
        wait_for(lambda: updated_bytes(source).endswith(b"second writer\n"), 5)
        assert updated_bytes(source) == b"first writer\nno newline\nsecond writer\n"
        assert source.writers == 2
        assert not source.finished
    finally:
        started = time.monotonic()
        source.close()  # the reader is blocked opening the FIFO: close must still return
        assert time.monotonic() - started < 2


def test_fifo_not_followed_ends_with_its_writer(fifo):
    source = FifoSource(fifo, follow=False)
    write_fifo(fifo, b"only\n")
    wait_for(lambda: updated_bytes(source) and source.finished, 5)
    assert source.read_at(0, 100) == b"only\n"
    source.close()


def test_fifo_idle_uses_no_cpu(fifo):
    source = FifoSource(fifo)
    started = time.process_time()
    assert not source.wait(0.5)
    assert time.process_time() - started < 0.1
    source.close()


def test_fifo_rejects_a_regular_file(tmp_path):
    path = tmp_path / "plain.log"
    path.write_bytes(b"x\n")
    with pytest.raises(SourceError, match="not a named pipe"):
        FifoSource(str(path))


def test_stdin_source_reads_an_os_pipe_to_eof():
    read_fd, write_fd = os.pipe()
    source = StdinSource(fd=read_fd)
    os.write(write_fd, b"one\n")
    wait_for(lambda: updated_bytes(source) == b"one\n", 5)
    assert not source.finished
    os.write(write_fd, b"two\n")
    os.close(write_fd)
    wait_for(lambda: updated_bytes(source) and source.finished, 5)
    assert source.read_at(0, 100) == b"one\ntwo\n"
    source.close()


def test_stdin_source_close_while_blocked():
    read_fd, write_fd = os.pipe()
    source = StdinSource(fd=read_fd)
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 2
    os.close(write_fd)


CHILD = textwrap.dedent("""
    import hashlib, sys, time
    from logview.sources.stdin import StdinSource
    source = StdinSource()
    deadline = time.monotonic() + 20
    while not source.finished and time.monotonic() < deadline:
        source.wait(0.5)
        source.update()
    data = source.read_at(0, source.size())
    print(len(data), hashlib.sha256(data).hexdigest(), source.spool.spilled)
""")


def test_stdin_of_a_process_through_a_real_pipe():
    import hashlib

    payload = b"".join(b"%08d a log line from a producer\n" % i for i in range(400_000))
    env = dict(os.environ, PYTHONPATH=REPO)
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env)
    out, _ = child.communicate(payload, timeout=30)
    size, digest, spilled = out.decode().split()
    assert int(size) == len(payload)
    assert digest == hashlib.sha256(payload).hexdigest()
    assert spilled == "False"  # 16 MB stays in memory


def test_detach_without_a_terminal_says_what_to_do():
    code = textwrap.dedent("""
        from logview.sources.stdin import detach_stdin_for_tui
        from logview.sources.base import SourceError
        try:
            detach_stdin_for_tui()
        except SourceError as exc:
            print("ERR", exc)
    """)
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, "-c", code], input=b"x\n", capture_output=True, check=False,
                            env=env, timeout=30, start_new_session=True)
    assert result.stdout.startswith(b"ERR cannot open the terminal"), result
    assert b"--print" in result.stdout


def test_detach_puts_the_terminal_on_fd0_and_returns_the_pipe():
    import pty

    code = textwrap.dedent("""
        import os
        from logview.sources.stdin import detach_stdin_for_tui
        pipe_fd = detach_stdin_for_tui()
        print("TTY", os.isatty(0), os.read(pipe_fd, 100).decode().strip(), flush=True)
    """)
    pid, master = pty.fork()
    if pid == 0:  # the child: a pipe on stdin, the pty as its controlling terminal
        read_fd, write_fd = os.pipe()
        os.write(write_fd, b"piped line\n")
        os.close(write_fd)
        os.dup2(read_fd, 0)
        os.environ["PYTHONPATH"] = REPO
        os.execv(sys.executable, [sys.executable, "-c", code])
    output = b""
    deadline = time.monotonic() + 20
    while b"\n" not in output.split(b"TTY", 1)[-1] and time.monotonic() < deadline:
        try:
            chunk = os.read(master, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    os.close(master)
    assert b"TTY True piped line" in output, output


def test_fifo_close_right_after_open_never_hangs(fifo):
    started = time.monotonic()
    for _ in range(30):
        FifoSource(fifo).close()
    assert time.monotonic() - started < 5
