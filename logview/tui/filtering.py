"""The viewer's side of the query language: compile, scan a range, edit the level term.

Wraps ``logview.query`` (``parse_query``) and ``logview.engine`` (``scan``). While those
modules are still being written a minimal stand-in keeps the viewer usable: words are
case-insensitive substrings of the record text and ``level>=NAME`` sets a minimum level.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from logview.record import LEVELS, level_from_name

#: Matches the level term the level keys write (``level>=WARNING``), wherever it is.
LEVEL_TERM_RE = re.compile(r"(?<![\w.])level\s*>=\s*[\w]+", re.IGNORECASE)


class QueryProblem(ValueError):
    """A query that does not parse: ``message`` for the user, ``position`` for the caret."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _StandInQuery:
    """Substring words and ``level>=NAME``; used only until ``logview.query`` exists."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.min_level = 0
        words = []
        for match in re.finditer(r"\S+", text):
            word = match.group()
            if word.lower().startswith("level>="):
                _name, number = level_from_name(word[7:])
                if not number:
                    raise QueryProblem(f"unknown level {word[7:]!r}", match.start() + 7)
                self.min_level = number
            else:
                words.append(word.lower())
        self.words = words
        self.is_empty = not words and not self.min_level

    def matches(self, record: Any) -> bool:
        if record.levelno < self.min_level:
            return False
        text = (record.raw or record.message).lower()
        return all(word in text for word in self.words)

    def highlight_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(re.escape(word), re.IGNORECASE) for word in self.words]


def compile_query(text: str) -> Any:
    """Parse query text into an object with ``matches``, ``highlight_patterns``, ``is_empty``.

    Raises ``QueryProblem`` with the position of the error.
    """
    try:
        from logview import query as query_module
    except ImportError:
        query_module = None
    if not hasattr(query_module, "parse_query"):  # not written yet (or half-way there)
        return _StandInQuery(text)
    try:
        return query_module.parse_query(text)
    except query_module.QueryError as exc:
        raise QueryProblem(str(getattr(exc, "message", exc)), getattr(exc, "position", None))


def scan_range(
    store: Any,
    query: Any,
    start: int,
    stop: int,
    cancelled: Callable[[], bool],
) -> Iterator[np.ndarray]:
    """Matching positions in ``[start, stop)``, in batches, stopping early when cancelled."""
    try:
        from logview import engine
    except ImportError:
        engine = None
    if hasattr(engine, "scan"):
        yield from engine.scan(store, query, start, stop, cancelled=cancelled)
        return
    hits: list[int] = []
    deadline = time.monotonic() + 0.1
    for i in range(start, stop):
        if query.matches(store.record(i)):
            hits.append(i)
        if (i & 1023) == 0 and time.monotonic() > deadline:
            if cancelled():
                return
            yield np.asarray(hits, dtype=np.int64)
            hits = []
            deadline = time.monotonic() + 0.1
    yield np.asarray(hits, dtype=np.int64)


def with_min_level(text: str, level: str | None) -> str:
    """``text`` with its level term replaced by ``level>=LEVEL`` (removed when ``level`` is None)."""
    stripped = LEVEL_TERM_RE.sub("", text)
    stripped = re.sub(r"\s{2,}", " ", stripped).strip()
    if level is None:
        return stripped
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    term = f"level>={level}"
    return f"{term} {stripped}".strip()


def min_level_of(text: str) -> str | None:
    """The level named by the query's level term, if it has one."""
    match = LEVEL_TERM_RE.search(text)
    if match is None:
        return None
    name = match.group().split(">=", 1)[1].strip()
    return level_from_name(name)[0]
