"""The logview Textual app: pushes the main screen, holds the global keys and commands."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen

from logview.session import Session
from logview.store import Store
from logview.tui.key_order import KeySequencer
from logview.tui.pacing import InputClock
from logview.tui.screens.help import HelpScreen, source_formats
from logview.tui.screens.main import MainScreen
from logview.tui.session_keeper import SessionKeeper

#: What the user does (moving the mouse is not): workers pace themselves for a while after.
_INPUT_EVENTS = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class LogviewApp(App[None]):
    """View (and follow) the records of ``store`` through ``query``."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # One Ctrl-C quits, as in less, lnav and every pipeline a log viewer sits at the end of.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(self, store: Store, *, query: str = "", title: str | None = None,
                 session: Session | None = None) -> None:
        super().__init__()
        #: What is remembered between runs (None: --no-session, nothing read or written).
        self.session_keeper = SessionKeeper(session) if session is not None else None
        self.store = store
        self.initial_query = query
        self.title = title or f"logview {store.name}".strip()
        self._signals: list[tuple[asyncio.AbstractEventLoop, int]] = []
        #: Keys from the terminal wait here until the main screen is ready, then go one by one.
        self.key_sequencer = KeySequencer(self, self._route_key)
        self.input_clock = InputClock()  # the workers pace themselves after input

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver; on Linux and macOS, one that exits when the terminal goes away
        (``terminal``)."""
        driver = super().get_driver_class()
        if driver.__name__ != "LinuxDriver":
            return driver
        from logview.tui.terminal import HangupDriver  # (imports termios: not on Windows)

        return HangupDriver

    def on_mount(self) -> None:
        self.key_sequencer.start()
        self.push_screen(MainScreen(self.store, query=self.initial_query))
        if self.session_keeper is not None:
            self.session_keeper.restore_app(self)
        # SIGTERM (kill, systemd, a container stopping) and SIGHUP (the SSH session gone) end
        # the viewer as q does: the terminal is given back and the caller closes the listener
        # (its --save file flushed). By default they killed Python on the spot, leaving the
        # terminal in the alternate screen with mouse reporting on.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.exit)
                self._signals.append((loop, sig))

    def on_unmount(self) -> None:
        for loop, sig in self._signals:  # (the loop may run on: tests run apps in theirs)
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        self._signals.clear()
        if self.session_keeper is not None:
            self.session_keeper.collect(self)
        gc.unfreeze()  # what the app held can be collected again (tests run many apps)

    def on_main_screen_ready(self) -> None:
        main = self._main()
        if self.session_keeper is not None and main is not None:
            self.session_keeper.restore_screen(main)
        self.key_sequencer.open()
        # What start-up made (modules, Textual's styles and widgets: some 100k objects) lives
        # as long as the app: out of the collector's full passes, which scanned it all again
        # and again (65 ms each, every few seconds while records came in). Until unmount.
        gc.freeze()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _INPUT_EVENTS):
            self.input_clock.touch()
        if isinstance(event, events.Key) and not event.is_forwarded:
            # From the terminal: routed by ``_route_key`` once the keys before it are done.
            self.key_sequencer.hold(event)
            return
        await super().on_event(event)

    async def _route_key(self, key: events.Key) -> None:
        """Textual's own handling of a key from the terminal: priority bindings, then focus."""
        await super().on_event(key)

    async def _on_key(self, event: events.Key) -> None:
        """A key bubbled up to the app: run its binding, then let the next key go."""
        try:
            await super()._on_key(event)
        finally:
            # The dispatcher would call App._on_key again (it walks the class hierarchy).
            event.prevent_default()
            self.key_sequencer.finished(event)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen in ~/Downloads, or in the working directory when there is
        no such folder (on servers there rarely is; Textual then only said it failed). The
        notification names the file."""
        if path is None:
            downloads = Path.home() / "Downloads"
            path = str(downloads if downloads.is_dir() else Path.cwd())
        self.deliver_screenshot(filename, path)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(formats=source_formats(self.store)))

    def _main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _run_on_main(self, action: str) -> None:
        main = self._main()
        if main is not None:
            self.call_later(main.run_action, action)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Find", "Type a query to find records, keeping every record shown (/)",
             "focus_query('find')"),
            ("Filter", "Type a query to show only the records it matches (&)",
             "focus_query('filter')"),
            ("Show all levels", "Remove the minimum level (0)", "min_level('0')"),
            ("Level: warnings and worse", "Minimum level WARNING (3)", "min_level('3')"),
            ("Level: errors and worse", "Minimum level ERROR (4)", "min_level('4')"),
            ("Toggle logger tree", "Show or hide the logger tree (t)", "toggle_tree"),
            ("Toggle histogram", "Show or hide the time histogram (h)", "toggle_histogram"),
            ("Toggle filter list", "Show or hide the query's terms, each on or off (F)",
             "toggle_filters"),
            ("Go to", "Go to a record number or a time (:)", "go_to"),
            ("Stop filter", "Cancel the running filter (Escape)", "cancel_filter"),
        ]
        for title, help_text, action in commands:
            yield SystemCommand(title, help_text, lambda a=action: self._run_on_main(a))
        list_commands = [
            ("Follow", "Jump to the newest record and follow (G)", "last"),
            ("Toggle wrap", "Wrap long rows onto more lines, or scroll them sideways (\\)", "toggle_wrap"),
            ("Next error", "Move to the next ERROR or worse (e)", "find_level(1, 40)"),
            ("Expand all records", "Every record's lines in place, or one row each (z)", "toggle_expand"),
            ("Cycle time column", "Clock, since previous, from the cursor's record (T)", "cycle_time"),
            ("Toggle application colours", "ANSI colours in messages shown or stripped (a)", "toggle_colours"),
            ("Copy record", "Copy the record's raw text, or the marked records' (c)", "copy"),
            ("Mark", "Mark or unmark the record under the cursor (m)", "toggle_mark"),
            ("Next mark", "Move to the next marked record (u)", "next_mark(1)"),
            ("Show only marked", "Show only the marked records, or all again (M)",
             "marked_only"),
            ("Clear marks", "Unmark every record (C)", "clear_marks"),
            ("Export view", "Write the records shown (or the marked ones) to a file (s)",
             "export"),
        ]
        for title, help_text, action in list_commands:
            yield SystemCommand(title, help_text, lambda a=action: self._run_on_list(a))
        if self.session_keeper is not None:
            yield SystemCommand("Forget session", "Delete the remembered query history, theme, "
                                "layout and places in files; remember nothing of this run",
                                self.forget_session)

    def forget_session(self) -> None:
        """The "Forget session" command: the state file deleted, this run not saved."""
        if self.session_keeper is None:
            return
        problem = self.session_keeper.forget()
        if problem:
            self.notify(problem, title="Session", severity="warning", markup=False)
        else:
            self.notify("Session forgotten: nothing of this run will be remembered either",
                        title="Session")

    def _run_on_list(self, action: str) -> None:
        main = self._main()
        if main is not None:
            self.call_later(main.records.run_action, action)
