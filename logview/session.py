"""What the viewer remembers between runs, in ``$XDG_STATE_HOME/logview/session.json``.

The query history, the theme, the layout (histogram, logger tree, wrap) and, per file, the
record the cursor was on. Everything is bounded (entries, their length, the file read back);
a file that cannot be read or makes no sense is left alone with a one-line warning, and a
failed write (read-only home, full disk) is a warning too: a session is never worth a crash.

Writes go to a temporary file renamed over the old one, so a reader never sees half a file.
Concurrent viewers each write the whole state; a save first reads what is on disk and keeps
the other files' places and the queries another viewer added (the last writer wins the rest).

A place is kept with the identity of its file: device, inode, size and a hash of the first
bytes. A file rotated away, replaced or truncated since no longer matches, and its place is
not used.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "session.json"
#: Queries kept (the newest; each once).
HISTORY_MAX = 200
#: Longer queries are not kept (a pasted wall of text is no history).
QUERY_MAX_CHARS = 2000
#: Files whose place is kept (the most recently saved).
PLACES_MAX = 100
#: Longest path kept as a key.
PATH_MAX_CHARS = 4096
#: A state file bigger than this is not read (what logview writes stays far below).
READ_MAX = 1 << 20
#: Bytes at the start of a file hashed into its identity.
HEAD_BYTES = 4096
#: Layout switches remembered, and their defaults.
LAYOUT_DEFAULTS = {"histogram": True, "tree": False, "wrap": False}
_VERSION = 1


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/logview``, or ``~/.local/state/logview`` (a relative XDG_STATE_HOME
    is ignored, as the XDG base directory spec says)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "logview"


@dataclass(slots=True)
class FilePlace:
    """The record the cursor was on in one file, and what that file was then."""

    offset: int  # byte offset where the record starts
    record: int  # its position (0-based), to say which record it was
    dev: int
    ino: int
    size: int  # the file had this many bytes (a log that shrank is another file now)
    head: str  # hex digest of the first ``head_len`` bytes
    head_len: int
    saved: float = 0.0  # time.time() of the save: the oldest places are dropped first

    def matches(self, identity: FilePlace | None) -> bool:
        """The file ``identity`` describes (now) is the one this place was saved in."""
        return (identity is not None and (identity.dev, identity.ino) == (self.dev, self.ino)
                and identity.size >= self.size and self.offset < identity.size
                and identity.head_len >= self.head_len
                and identity.head == self.head)


def head_digest(data: bytes) -> str:
    """The hash of a file's first bytes kept in its identity."""
    import hashlib  # (OpenSSL's loading: once the first screen is up, not before it)

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_identity(path: str, head_len: int = HEAD_BYTES) -> FilePlace | None:
    """Device, inode, size and first-bytes hash of the regular file at ``path`` (offset and
    record 0), or None when it is not a readable regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        head = os.pread(fd, min(head_len, st.st_size), 0)
    except OSError:
        return None
    finally:
        os.close(fd)
    return FilePlace(0, 0, st.st_dev, st.st_ino, st.st_size, head_digest(head), len(head))


@dataclass
class SessionState:
    """Everything remembered (what the file holds, checked and bounded)."""

    history: list[str] = field(default_factory=list)
    theme: str | None = None
    layout: dict[str, bool] = field(default_factory=lambda: dict(LAYOUT_DEFAULTS))
    places: dict[str, FilePlace] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": _VERSION, "history": bounded_history(self.history),
                "theme": self.theme, "layout": dict(self.layout),
                "places": {path: asdict(place) for path, place in bounded_places(self.places)}}

    @classmethod
    def from_json(cls, data: Any) -> SessionState:
        """The state in ``data``; what is missing or malformed takes its default (ValueError
        when ``data`` is not a session at all)."""
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError("not a logview session (or another version)")
        state = cls()
        history = data.get("history")
        if isinstance(history, list):
            state.history = bounded_history([q for q in history if isinstance(q, str)])
        theme = data.get("theme")
        if isinstance(theme, str) and 0 < len(theme) <= 100:
            state.theme = theme
        layout = data.get("layout")
        if isinstance(layout, dict):
            for key in LAYOUT_DEFAULTS:
                if isinstance(layout.get(key), bool):
                    state.layout[key] = layout[key]
        places = data.get("places")
        if isinstance(places, dict):
            for path, entry in places.items():
                place = _place_from_json(entry)
                if place is not None and len(path) <= PATH_MAX_CHARS:
                    state.places[path] = place
            state.places = dict(bounded_places(state.places))
        return state


def _place_from_json(entry: Any) -> FilePlace | None:
    if not isinstance(entry, dict):
        return None
    try:
        place = FilePlace(**{key: entry[key] for key in FilePlace.__slots__})
    except (KeyError, TypeError):
        return None
    ints = (place.offset, place.record, place.dev, place.ino, place.size, place.head_len)
    if (not all(type(v) is int and v >= 0 for v in ints) or not isinstance(place.head, str)
            or len(place.head) > 64 or not isinstance(place.saved, int | float)):
        return None
    return place


def bounded_history(queries: list[str]) -> list[str]:
    """The newest ``HISTORY_MAX`` queries, each once (at its newest place), none too long."""
    seen: set[str] = set()
    kept: list[str] = []
    for query in reversed(queries):
        if query and len(query) <= QUERY_MAX_CHARS and query not in seen:
            seen.add(query)
            kept.append(query)
            if len(kept) == HISTORY_MAX:
                break
    kept.reverse()
    return kept


def encode_within(state: SessionState, limit: int) -> bytes:
    """The state as JSON of at most ``limit`` bytes (escaped text can take up to 12 bytes a
    character): the oldest queries, then the oldest places are left out until it fits."""
    while True:
        data = json.dumps(state.to_json(), indent=1).encode()
        if len(data) <= limit or not (state.history or state.places):
            return data
        if state.history:
            state.history = state.history[len(state.history) // 4 + 1:]
        else:
            state.places = dict(bounded_places(state.places)[len(state.places) // 4 + 1:])


def bounded_places(places: dict[str, FilePlace]) -> list[tuple[str, FilePlace]]:
    """The ``PLACES_MAX`` most recently saved places, oldest first."""
    newest = sorted(places.items(), key=lambda item: item[1].saved)[-PLACES_MAX:]
    return newest


class Session:
    """The state of one viewer run: loaded at start, saved at exit (or forgotten)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_state_dir()
        self.state = SessionState()
        #: Places this run set (None: drop the file's place), applied over the disk at save.
        self._places: dict[str, FilePlace | None] = {}
        #: "Forget session": the file was deleted and this run writes nothing more.
        self.forgotten = False

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    def load(self) -> str | None:
        """Read the state file; a warning when it exists but cannot be used (it is ignored)."""
        state, warning = self._read()
        self.state = state
        return warning

    def _read(self) -> tuple[SessionState, str | None]:
        path = self.path
        try:
            with open(path, "rb") as fh:
                data = fh.read(READ_MAX + 1)
        except FileNotFoundError:
            return SessionState(), None
        except OSError as exc:
            return SessionState(), f"session not restored: cannot read {path}: {exc.strerror or exc}"
        if len(data) > READ_MAX:
            return SessionState(), f"session not restored: {path} is too big (ignored)"
        try:
            return SessionState.from_json(json.loads(data)), None
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
            return SessionState(), f"session not restored: {path} is damaged ({exc}); ignored"

    def place_of(self, path: str) -> FilePlace | None:
        """Where the cursor was in the file at ``path``, if that file is still the same one."""
        place = self.state.places.get(_key(path))
        if place is None or not place.matches(file_identity(path, place.head_len)):
            return None
        return place

    def remember_place(self, path: str, place: FilePlace | None) -> None:
        """Keep ``place`` for the file at ``path`` (None: keep none, e.g. it was followed)."""
        key = _key(path)
        if place is not None:
            place.saved = time.time()
            self.state.places[key] = place
        else:
            self.state.places.pop(key, None)
        self._places[key] = place

    def save(self) -> str | None:
        """Write the state (merged with what another viewer may have written since); a
        warning when it could not be written. Nothing is written once forgotten."""
        if self.forgotten:
            return None
        disk, _warning = self._read()
        state = self.state
        places = dict(disk.places)
        for key, place in self._places.items():
            if place is None:
                places.pop(key, None)
            else:
                places[key] = place
        merged = SessionState(history=bounded_history(disk.history + state.history),
                              theme=state.theme, layout=dict(state.layout), places=places)
        if merged.to_json() == disk.to_json():
            return None  # nothing new (or all defaults and no file yet): no write
        data = encode_within(merged, READ_MAX)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(prefix=".session-", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(temp, self.path)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            return f"session not saved: cannot write {self.path}: {exc.strerror or exc}"
        return None

    def forget(self) -> str | None:
        """Delete the state file; this run remembers nothing more. A warning if that failed."""
        self.forgotten = True
        self.state = SessionState()
        self._places.clear()
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            return f"cannot delete {self.path}: {exc.strerror or exc}"
        return None


def _key(path: str) -> str:
    return os.path.realpath(path)

