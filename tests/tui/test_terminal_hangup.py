"""The viewer ends when its terminal goes away (an SSH session dropped, a tmux window killed),
whatever order the hangup, SIGHUP and SIGCONT come in: it was left running, blocked for good
in Textual's writer, about one time in three."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from process_helpers import alive, children

from logview.tui.terminal import TerminalOutput
from tui.conftest import tmux, tmux_window

ROOT = Path(__file__).resolve().parents[2]


def test_a_write_to_a_hung_up_terminal_says_it_is_gone_once():
    leader, follower = os.openpty()
    out = open(follower, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    gone: list[bool] = []
    terminal = TerminalOutput(out, lambda: gone.append(True))
    try:
        terminal.write("before\n")
        terminal.flush()
        assert os.read(leader, 100) == b"before\r\n" and not gone
        os.close(leader)  # the terminal hangs up: writes to it fail (EIO)
        for _ in range(3):
            terminal.write("x" * 100)
            terminal.flush()
        assert terminal.lost and gone == [True]
    finally:
        with pytest.raises(OSError):
            out.close()  # (its last flush fails too)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_viewer_exits_when_its_terminal_is_killed(waiter):
    """Under a shell that does not pass SIGHUP on (``sh -c``), typing as the window dies,
    from start-up on."""
    for attempt in range(5):
        session = f"logview-hangup-{os.getpid()}-{attempt}"
        command = (f"cd {ROOT} && export XDG_STATE_HOME={os.environ['XDG_STATE_HOME']} && "
                   f"{sys.executable} -m logview --demo; sleep 30")
        viewer = None
        try:
            shell = waiter(lambda s=session, c=command: tmux_window(s, c, 100),
                           timeout=10, interval=0.1)
            viewer = waiter(lambda shell=shell: next(iter(children(shell)), None), timeout=10)
            tmux("send-keys", "-t", session, "-l", "/qqtt")
            # (not a wait for something: the window dies at moments from start-up on)
            time.sleep(0.3 * (attempt + 1))
        finally:
            tmux("kill-session", "-t", session)
        try:
            waiter(lambda viewer=viewer: not alive(viewer), timeout=10)
        finally:
            if alive(viewer):
                os.kill(viewer, 9)
