"""The session in the viewer: restored at start, collected at exit (``logview.session``).

The app calls ``restore_app`` when it mounts (theme, a warning about an unusable state file),
``restore_screen`` once the main screen is ready (layout, query history, the place in a single
regular file), and ``collect`` when it unmounts; the command line saves after the app ends
(``Session.save``), so a slow disk never holds the screen. The keeper holds the widgets it
reads at exit: by then they are no longer in the DOM.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import App
from textual.timer import Timer

from logview.record import printable
from logview.session import FilePlace, Session, bounded_history, file_identity, head_digest
from logview.sources.base import StaticFileSource
from logview.sources.file import FileSource
from logview.store import LogStore, Store
from logview.tui.pacing import indexing_behind
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.query_bar import HISTORY_SIZE, QueryBar

if TYPE_CHECKING:
    from logview.tui.screens.main import MainScreen
    from logview.tui.widgets.record_list import RecordList

#: Seconds between two looks at whether the index has reached the remembered record.
RESTORE_POLL = 0.1
#: Seconds after which a file that keeps growing gets its place back before it is all indexed.
RESTORE_PATIENCE = 2.0


def single_file(store: Store) -> tuple[str, LogStore] | None:
    """(path, store) when the input is one regular file (no pipe, stdin, listener, demo,
    rotated set or merged view): the only inputs whose place is remembered."""
    parts = store.parts()
    if len(parts) != 1:
        return None
    source = parts[0].source
    if isinstance(source, FileSource | StaticFileSource) and getattr(source, "path", None):
        return source.path, parts[0]
    return None


class SessionKeeper:
    """Applies a ``Session`` to the viewer and takes it back at exit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        #: Why the state file was not used (shown once the app is up), or None.
        self.warning = session.load()
        self._records: RecordList | None = None
        self._bar: QueryBar | None = None
        self._tree: LoggerTree | None = None
        self._histogram: TimeHistogram | None = None
        self._file: tuple[str, LogStore] | None = None
        #: The place waiting for the index to reach it, and the timer that looks.
        self._pending: FilePlace | None = None
        self._timer: Timer | None = None
        self._since = 0.0
        self._size_then = 0
        self._default_theme = ""

    # -- start ---------------------------------------------------------------------------------

    def restore_app(self, app: App[None]) -> None:
        if self.warning:
            app.notify(printable(self.warning), title="Session", severity="warning",
                       timeout=10, markup=False)
        self._default_theme = app.theme
        theme = self.session.state.theme
        if theme and theme in app.available_themes:
            app.theme = theme

    def restore_screen(self, screen: MainScreen) -> None:
        state = self.session.state
        self._records = records = screen.records
        self._bar = bar = screen.query_one(QueryBar)
        self._tree = tree = screen.query_one(LoggerTree)
        self._histogram = histogram = screen.query_one(TimeHistogram)
        histogram.display = state.layout["histogram"]
        tree.display = state.layout["tree"]
        if state.layout["wrap"] != records.wrap:
            records.action_toggle_wrap()
        if state.history:
            bar.history[:] = bounded_history(state.history + bar.history)[-HISTORY_SIZE:]
        self._file = single_file(screen.store)
        if self._file is not None:
            self._pending = self.session.place_of(self._file[0])
            if self._pending is not None:
                self._since = time.monotonic()
                self._size_then = self._file[1].source.size()
                self._timer = screen.set_interval(RESTORE_POLL, self._try_restore)
                self._try_restore()

    def _try_restore(self) -> None:
        """Put the cursor on the remembered record once the index has reached it; give up
        when the user moved first or the input ended before it."""
        place, records, file = self._pending, self._records, self._file
        if place is None or records is None or file is None:
            return self._stop_restoring()
        if not records.following:  # the user went somewhere first: theirs wins
            return self._stop_restoring()
        store = file[1]
        index, known = store.index, records.length
        try:
            position = index.find(place.offset)
            reached = 0 <= position < known and index.end(position) > place.offset
        except IndexError:  # the store restarted under us
            reached = False
        if not reached:
            if store.finished and known >= len(store):
                self._stop_restoring()
            return None
        # Once what the input held is indexed (its last record too: a followed file's comes
        # when the input is quiet) and shown: records that come after the cursor has moved
        # are counted as new ("paused, 3 new"), and those are not. A file that keeps
        # growing gets its place back a little later, indexed up to its end or nearly.
        waited = time.monotonic() - self._since
        growing = store.source.size() > self._size_then
        if not (index.complete and known >= len(store)) and not (
                growing and waited > RESTORE_PATIENCE and not indexing_behind(store)):
            return None
        self._stop_restoring()
        records.go_to_row(records.row_of(position), follow=False, context=3)
        records.app.notify(f"back where you left: record {position + 1:,} (G follows the end)",
                           title="Session", timeout=6)
        return None

    def _stop_restoring(self) -> None:
        self._pending = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # -- exit ----------------------------------------------------------------------------------

    def collect(self, app: App[None]) -> None:
        """Take what the viewer shows now into the session (the widgets may be unmounted)."""
        if self.session.forgotten:
            return
        state = self.session.state
        # The default is not written down: a later default reaches who never chose one.
        state.theme = None if app.theme == self._default_theme else app.theme
        if self._records is None:  # the main screen never got ready
            return
        state.layout["histogram"] = _shown(self._histogram)
        state.layout["tree"] = _shown(self._tree)
        state.layout["wrap"] = self._records.wrap
        if self._bar is not None:
            state.history = bounded_history(state.history + self._bar.history)
        if self._file is not None and self._pending is None:  # (pending: the old place stays)
            self.session.remember_place(self._file[0], self._place_now())

    def _place_now(self) -> FilePlace | None:
        """The cursor's record in the file, with the file's identity; None when there is
        nothing worth keeping (following the end) or the file is not the one read."""
        records, file = self._records, self._file
        if records is None or file is None or records.following:
            return None
        position = records.cursor_position
        path, store = file
        source = store.source
        if position is None:
            return None
        if isinstance(source, FileSource) and (
                source.rotations or source.generation or source.copies_found):
            return None  # the space read is no longer the one file at the path
        identity = file_identity(path)
        if identity is None:
            return None
        if isinstance(source, FileSource) and source.current_file() != (identity.dev,
                                                                         identity.ino):
            return None
        try:
            if head_digest(source.read_at(0, identity.head_len)) != identity.head:
                return None
            identity.offset = store.index.start(position)
        except (OSError, IndexError):
            return None
        identity.record = position
        return identity

    def forget(self) -> str | None:
        """Delete the remembered state; nothing of this run is saved either."""
        self._stop_restoring()
        return self.session.forget()


def _shown(widget: object) -> bool:
    """Whether ``widget`` is shown (read from its styles: unmounted widgets say False)."""
    styles = getattr(widget, "styles", None)
    return styles is not None and styles.display != "none"
