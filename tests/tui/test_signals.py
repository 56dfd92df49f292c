"""SIGTERM and SIGHUP end the real viewer in a real terminal cleanly: status 0, the terminal
given back (the alternate screen left), and a listener's --save file holding what came."""

from __future__ import annotations

import logging
import logging.handlers
import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

#: Leaves the alternate screen: what a viewer that gives the terminal back writes last.
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


class Terminal:
    """The real ``python -m logview`` on a pseudo-terminal, its output collected."""

    def __init__(self, *args: str) -> None:
        main, child = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "logview", *args], stdin=child,
                                     stdout=child, stderr=child, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(child)
        self.fd = main
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def wait_for(self, text: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"{text!r} never showed: {bytes(self.output)[-500:]!r}"
            assert self.proc.poll() is None, bytes(self.output)[-2000:]
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        os.close(self.fd)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_viewer_and_gives_the_terminal_back(tmp_path, sig):
    log = tmp_path / "app.log"
    log.write_text("2024-01-02 03:04:05,000 - app - INFO - the first record\n")
    term = Terminal(str(log))
    try:
        term.wait_for(b"the first record")
        term.proc.send_signal(sig)
        assert term.proc.wait(15) == 0
        term._reader.join(5)
        assert LEAVE_ALT_SCREEN in bytes(term.output)
    finally:
        term.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sigterm_ends_the_listening_viewer_with_what_came_saved(tmp_path):
    port = _free_port()
    saved = tmp_path / "saved.jsonl"
    term = Terminal("--listen", f"127.0.0.1:{port}", "--save", str(saved))
    handler = None
    try:
        term.wait_for(b"listening")
        handler = logging.handlers.SocketHandler("127.0.0.1", port)
        log = logging.getLogger("svc.signals")
        log.propagate = False
        log.addHandler(handler)
        for i in range(50):
            log.warning("sent %d before the signal", i)
        term.wait_for(b"sent 49 before the signal")
        term.proc.send_signal(signal.SIGTERM)
        assert term.proc.wait(15) == 0
        text = saved.read_text()
        assert all(f"sent {i} before the signal" in text for i in range(50))
        assert text.endswith("\n")
    finally:
        if handler is not None:
            logging.getLogger("svc.signals").removeHandler(handler)
            handler.close()
        term.close()
