"""Editing query text in the viewer: compile it, set or read its level and logger terms.

The query text stays the single truth of what is applied: the level keys and the logger tree
edit the text, never a hidden filter; widgets see one error type (``QueryProblem``).
"""

from __future__ import annotations

import re

from logview.query import Query, QueryError, parse_query
from logview.record import LEVELS, level_from_name

#: The level term the level keys write (``level>=WARNING``), wherever it is in the query.
LEVEL_TERM_RE = re.compile(r"(?<![\w.\-])level\s*>=\s*\w+", re.IGNORECASE)
#: A logger term the logger tree writes (``logger:app.db`` / ``-logger:app.db``).
LOGGER_TERM_RE = re.compile(r"(?<![\w.])-?logger:(?:\"[^\"]*\"|\S+)", re.IGNORECASE)


class QueryProblem(ValueError):
    """A query that does not parse: ``message`` for the user, ``position`` for the caret."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def compile_query(text: str) -> Query:
    """Parse query text; raises ``QueryProblem`` pointing at the offending token."""
    try:
        return parse_query(text)
    except QueryError as exc:
        raise QueryProblem(exc.message, exc.position) from exc


def _tidy(text: str) -> str:
    return re.sub(r"\s{2,}", " ", text).strip()


def with_min_level(text: str, level: str | None) -> str:
    """``text`` with its level term set to ``level>=LEVEL`` (removed when ``level`` is None)."""
    stripped = _tidy(LEVEL_TERM_RE.sub("", text))
    if level is None:
        return stripped
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return f"level>={level} {stripped}".strip()


def min_level_of(text: str) -> str | None:
    """The level named by the query's level term, if it has one."""
    match = LEVEL_TERM_RE.search(text)
    if match is None:
        return None
    return level_from_name(match.group().split(">=", 1)[1])[0]


def logger_of(text: str) -> tuple[str | None, bool]:
    """The logger the query's logger term names and whether it excludes it ((None, False):
    no logger term), so the logger tree can mark what a typed query filters on."""
    match = LOGGER_TERM_RE.search(text)
    if match is None:
        return None, False
    term = match.group()
    exclude = term.startswith("-")
    return term.split(":", 1)[1].strip('"'), exclude


def with_logger(text: str, logger: str | None, *, exclude: bool = False) -> str:
    """``text`` filtered on ``logger`` and its children (or without it), replacing any logger
    term; ``None`` removes the logger term, ``""`` means records without a logger."""
    stripped = _tidy(LOGGER_TERM_RE.sub("", text))
    if logger is None:
        return stripped
    if logger == "":
        term = "has:logger" if exclude else "-has:logger"
    else:
        name = logger if re.fullmatch(r"[\w.\-]+", logger) else '"' + logger.replace('"', "") + '"'
        term = f"{'-' if exclude else ''}logger:{name}"
    stripped = _tidy(re.sub(r"(?<![\w.])-?has:logger\b", "", stripped))
    return f"{stripped} {term}".strip()
