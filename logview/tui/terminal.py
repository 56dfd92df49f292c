"""The terminal driver: Textual's own, for a terminal that can go away under the viewer.

An SSH session that drops, a tmux window killed: the terminal hangs up and every write to it
fails (EIO). Textual's writer thread died of the first such write; the app's next writes
filled its queue and blocked the event loop for good, so a viewer whose SIGHUP arrived a
moment late was left running with no terminal (and a SIGCONT after the hangup made Textual
start the dead terminal over). Here a failed write says the terminal is gone: what is left
to write goes nowhere, the app exits as on ``q`` (its files saved, its listener closed), and
nothing is resumed on a terminal that is gone.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver


class TerminalOutput:
    """The driver's output file; its first failed write or flush calls ``gone`` once."""

    def __init__(self, file: IO[str], gone: Any) -> None:
        self._file = file
        self._gone = gone
        self.lost = False

    def write(self, text: str) -> None:
        if self.lost:
            return
        try:
            self._file.write(text)
        except (OSError, ValueError):  # (ValueError: the file was closed)
            self._lose()

    def flush(self) -> None:
        if self.lost:
            return
        try:
            self._file.flush()
        except (OSError, ValueError):
            self._lose()

    def _lose(self) -> None:
        self.lost = True
        self._gone()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class HangupDriver(LinuxDriver):
    """``LinuxDriver`` whose output says when the terminal is gone (see the module)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.output = TerminalOutput(self._file, self._terminal_gone)
        self._file = self.output
        self._loop: asyncio.AbstractEventLoop | None = None

    def start_application_mode(self) -> None:
        self._loop = asyncio.get_running_loop()
        super().start_application_mode()

    def _terminal_gone(self) -> None:
        """A write failed (the writer thread, or the loop's own flush): exit as on ``q``."""
        loop = self._loop
        if loop is not None:
            with suppress(RuntimeError):  # (the loop closed: the app is over anyway)
                loop.call_soon_threadsafe(self._app.exit)

    def _sigcont_application(self, *args: Any) -> None:
        if not self.output.lost:  # (nothing to resume on a terminal that is gone)
            super()._sigcont_application(*args)
