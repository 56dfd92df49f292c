"""Editing query text in the viewer: compile it, set or read its level and logger terms.

The query text stays the single truth of what is applied: the level keys and the logger tree
edit the text, never a hidden filter; widgets see one error type (``QueryProblem``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from logview.query import Query, QueryError, parse_query
from logview.query.spans import conjunct_spans
from logview.query.values import parse_time_value
from logview.record import LEVELS, level_from_name

#: The level term the level keys write (``level>=WARNING``), wherever it is in the query.
LEVEL_TERM_RE = re.compile(r"(?<![\w.\-])level\s*>=\s*\w+", re.IGNORECASE)
#: A logger term the logger tree writes (``logger:app.db`` / ``-logger:app.db``).
LOGGER_TERM_RE = re.compile(r"(?<![\w.])-?logger:(?:\"[^\"]*\"|\S+)", re.IGNORECASE)
#: ``-has:logger`` (records without a logger) and ``has:logger`` (hides them).
_HAS_LOGGER_RE = re.compile(r"(?<![\w.])(-?)has:logger\b", re.IGNORECASE)
#: A ``since:`` or ``until:`` term (not negated), as the histogram's range writes them.
TIME_TERM_RE = re.compile(r"(?<![\w.\-])(since|until)[:=](\"[^\"]*\"|[^\s()]+)", re.IGNORECASE)


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


def _grouped(text: str) -> str:
    """``text`` ready for a term to be added beside it: a top-level ``or`` in parentheses
    (``level>=ERROR a or b`` would mean ``(level>=ERROR a) or b``)."""
    spans = conjunct_spans(text)
    return f"({text})" if len(spans) == 1 and spans[0].any_of else text


def with_min_level(text: str, level: str | None) -> str:
    """``text`` with its level term set to ``level>=LEVEL`` (removed when ``level`` is None)."""
    stripped = _tidy(LEVEL_TERM_RE.sub("", text))
    if level is None:
        return stripped
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return f"level>={level} {_grouped(stripped)}".strip()


def min_level_of(text: str) -> str | None:
    """The level named by the query's level term, if it has one."""
    match = LEVEL_TERM_RE.search(text)
    if match is None:
        return None
    return level_from_name(match.group().split(">=", 1)[1])[0]


def logger_terms(text: str) -> tuple[str | None, list[str]]:
    """(the logger the query shows alone, the loggers it hides) from its logger terms, so the
    logger tree can mark what a typed query filters on."""
    shown: str | None = None
    hidden: list[str] = []
    for match in _HAS_LOGGER_RE.finditer(text):  # records without a logger: the "" node
        if match.group(1):
            shown = ""
        else:
            hidden.append("")
    for match in LOGGER_TERM_RE.finditer(text):
        term = match.group()
        name = term.split(":", 1)[1].strip('"')
        if term.startswith("-"):
            hidden.append(name)
        else:
            shown = name
    return shown, hidden


def _logger_term(logger: str, *, exclude: bool) -> str:
    if logger == "":
        return "has:logger" if exclude else "-has:logger"
    name = logger if re.fullmatch(r"[\w.\-]+", logger) else '"' + logger.replace('"', "") + '"'
    return f"{'-' if exclude else ''}logger:{name}"


def with_logger(text: str, logger: str | None, *, exclude: bool = False) -> str:
    """``text`` with a logger term from the logger tree; ``""`` means records without a logger.

    Showing a logger (and its children) replaces the logger shown before and keeps what is
    hidden; hiding one adds it to the hidden ones, and hiding a hidden one shows it again
    (exclusions accumulate, as lnav's filters do). ``None`` removes every logger term.
    """
    shown, hidden = logger_terms(text)
    stripped = _tidy(_HAS_LOGGER_RE.sub("", LOGGER_TERM_RE.sub("", text)))
    if logger is None:
        return stripped
    if exclude:
        if logger in hidden:
            hidden = [name for name in hidden if name != logger]
        else:
            hidden.append(logger)
        if shown == logger:
            shown = None
    else:
        shown = logger
        hidden = [name for name in hidden if name != logger]
    terms = [_logger_term(shown, exclude=False)] if shown is not None else []
    terms += [_logger_term(name, exclude=True) for name in hidden]
    return f"{_grouped(stripped)} {' '.join(terms)}".strip()


def _time_value(seconds: float, *, up: bool) -> str:
    """Epoch seconds as a local ISO time, to the millisecond (rounded ``up`` or down)."""
    millis = math.ceil(seconds * 1000) if up else math.floor(seconds * 1000)
    text = datetime.fromtimestamp(millis // 1000).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{millis % 1000:03d}" if millis % 1000 else "")


def with_time_range(text: str, start: float, end: float) -> str:
    """``text`` with its ``since:``/``until:`` terms replaced by ``[start, end)`` (epoch seconds,
    written as local times; the bounds are widened to the millisecond, never narrowed)."""
    stripped = _tidy(TIME_TERM_RE.sub("", text))
    terms = f"since:{_time_value(start, up=False)} until:{_time_value(end, up=True)}"
    return f"{_grouped(stripped)} {terms}".strip()


def without_time_range(text: str) -> str:
    """``text`` without its top-level ``since:``/``until:`` terms: what the histogram draws
    (the range those terms keep is drawn over it, not zoomed into)."""
    kept = [span.text for span in conjunct_spans(text)
            if not TIME_TERM_RE.fullmatch(span.text.strip())]
    return " ".join(kept)


def time_range_of(text: str) -> tuple[float | None, float | None]:
    """(since, until) in epoch seconds from the query's ``since:``/``until:`` terms (None
    where it has none), for the histogram to draw the range the query keeps."""
    since: float | None = None
    until: float | None = None
    now = datetime.now()
    for match in TIME_TERM_RE.finditer(text):
        value = parse_time_value(match.group(2).strip('"'), now)
        if value is None:
            continue
        if match.group(1).lower() == "since":
            since = value if since is None else max(since, value)
        else:
            until = value if until is None else min(until, value)
    return since, until
