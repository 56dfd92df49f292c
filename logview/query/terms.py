"""Compile one query term (word, /regex/, key OP value) into a predicate on a Record.

Each term becomes a closure with everything resolved at parse time (compiled regexes, level
numbers, field getters), plus what the planner needs: a cost for ordering ANDs, a prefilter
needle, highlight patterns and the minimum level it implies.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from logview.query.errors import QueryError
from logview.query.lexer import COMPARE, REGEX, WORD, Token
from logview.query.prefilter import FieldNeedle, LevelNeedle, Needle, TextNeedle, regex_literal
from logview.query.values import MISSING, as_number, as_text, field_getter, parse_time_value
from logview.record import _ALIASES, Record, level_from_name
from logview.source_names import shown_forms

Predicate = Callable[[Record], bool]

_ORDER_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_EQ_OPS = {"=": operator.eq, ":": operator.eq, "!=": operator.ne}
_ALL_OPS = {**_ORDER_OPS, **_EQ_OPS}
_NAMED_LEVELS = frozenset(number for _, number in _ALIASES.values())
#: Names ``has:`` checks on the record itself rather than in its fields.
_HAS_BUILTIN: dict[str, Predicate] = {
    "exc": lambda r: bool(r.exc),
    "exception": lambda r: bool(r.exc),
    "traceback": lambda r: bool(r.exc),
    "logger": lambda r: bool(r.logger),
    "time": lambda r: r.time is not None,
    "level": lambda r: r.level is not None,
    "message": lambda r: bool(r.message),
    "msg": lambda r: bool(r.message),
    "source": lambda r: bool(r.source),
    "line": lambda r: r.line is not None,
}


#: A term's test on record columns (``column_store.ColumnView``: ``by_level``,
#: ``by_logger``, ``by_time``), giving a bool array with the record predicate's answer for
#: every record (or None: the columns cannot answer it).
ColumnTest = Callable[[Any], Any]


@dataclass(slots=True)
class Term:
    """A compiled leaf of the query."""

    pred: Predicate
    cost: int  # rough relative cost, cheap terms run first in an AND
    needle: Needle | None = None
    highlights: list[re.Pattern[str]] = field(default_factory=list)
    min_level: int = 0
    #: The same test on record columns, when the term is about the level, logger or time.
    column: ColumnTest | None = None
    #: ``pred`` reads nothing of a record but its ``fields`` (an extra field's comparison).
    fields_only: bool = False
    #: ``pred`` reads the record's line number (``line>=N``, ``has:line``).
    reads_line: bool = False
    #: ``pred`` reads the record's time (``since:``, ``time>=``, ``has:time``).
    reads_time: bool = False


def build_term(token: Token, now: datetime) -> Term:
    """The Term for a WORD, REGEX or COMPARE token; raises QueryError pointing into the query."""
    if token.kind == WORD:
        return _text_term(token.value)
    if token.kind == REGEX:
        return _regex_term(_compile(token.value, token.flags, token.value_pos))
    assert token.kind == COMPARE, token.kind
    builder = _BUILTINS.get(token.key)
    if builder is not None:
        return builder(token, now)
    return _field_term(token)


# ---------------------------------------------------------------------------------------------
# Free text: message, exception text and logger name.


def _text_term(word: str) -> Term:
    """Case-insensitive substring of the message, the exception text or the logger name."""
    highlight = re.compile(re.escape(word), re.IGNORECASE)
    if not any(c.isalpha() for c in word):

        def has_literal(r: Record) -> bool:
            return word in r.message or (r.exc is not None and word in r.exc) or word in r.logger

        return Term(has_literal, 3, TextNeedle(word), [highlight])
    # ASCII words fold ASCII case only, so "k" never matches KELVIN SIGN and the byte-level
    # needle stays sound; other words use Unicode case folding.
    flags = re.IGNORECASE | (re.ASCII if word.isascii() else 0)
    search = re.compile(re.escape(word), flags).search

    def has_word(r: Record) -> bool:
        return (
            search(r.message) is not None
            or (r.exc is not None and search(r.exc) is not None)
            or search(r.logger) is not None
        )

    return Term(has_word, 5, TextNeedle(word, ignorecase=True), [highlight])


def _regex_term(pattern: re.Pattern[str]) -> Term:
    search = pattern.search

    def has_match(r: Record) -> bool:
        return search(r.message) is not None or (r.exc is not None and search(r.exc) is not None)

    return Term(has_match, 8, regex_literal(pattern.pattern, pattern.flags), [pattern])


def _compile(pattern: str, flags: int, position: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as err:
        raise QueryError(f"invalid regex: {err.msg}", position) from None
    except (OverflowError, RecursionError, ValueError) as err:
        raise QueryError(f"invalid regex: {err}", position) from None


def _value_regex(token: Token) -> re.Pattern[str]:
    """The regex of ``key~value`` (``key~/re/i`` carries flags)."""
    return _compile(token.value, token.flags, token.value_pos)


def _unsupported(token: Token, allowed: str) -> QueryError:
    return QueryError(
        f"'{token.key}' does not take '{token.op}' (use {allowed})", token.value_pos - len(token.op)
    )


# ---------------------------------------------------------------------------------------------
# Built-in names: level, logger, message/msg, source, line, time, since/until, has.


def _level_term(token: Token, _now: datetime) -> Term:
    if token.op == "~":
        raise _unsupported(token, "=, !=, <, <=, >, >=")
    number = _level_number(token.value, token.value_pos)
    compare = _ALL_OPS[token.op]

    def level_ok(r: Record) -> bool:
        return compare(r.levelno, number)

    needle = None
    # Records without a level have levelno 0 and no name in their bytes: no needle if 0 passes.
    if not compare(0, number) and token.op != "!=":
        needle = LevelNeedle(frozenset(n for n in _NAMED_LEVELS if compare(n, number)),
                             "=" if token.op == ":" else token.op, number)
    floor = {">=": number, ">": number + 1, "=": number, ":": number}.get(token.op, 0)
    return Term(level_ok, 1, needle, min_level=max(0, floor),
                column=lambda cols: cols.by_level(lambda levelnos: compare(levelnos, number)))


def _level_number(text: str, position: int) -> int:
    value = text.strip()
    if value.isdigit():
        return int(value)
    _name, number = level_from_name(value)
    if number <= 0:
        raise QueryError(f"unknown level '{value}'", position)
    return number


def _logger_term(token: Token, _now: datetime) -> Term:
    name = token.value
    if token.op == ":":
        prefix = name + "."

        def in_tree_name(logger: str) -> bool:
            return logger == name or logger.startswith(prefix)

        return Term(lambda r: in_tree_name(r.logger), 2, TextNeedle(name),
                    column=lambda cols: cols.by_logger(in_tree_name))
    term = _string_attr_term(token, lambda r: r.logger, "':' (with descendants), =, != or ~")
    pred = term.pred
    term.column = lambda cols: cols.by_logger(lambda logger: pred(_LoggerOnly(logger)))
    return term


class _LoggerOnly:
    """A stand-in record holding only a logger name (a logger term's test, per name)."""

    __slots__ = ("logger",)

    def __init__(self, logger: str) -> None:
        self.logger = logger


def _message_term(token: Token, _now: datetime) -> Term:
    if token.op == ":":
        word = token.value
        flags = re.IGNORECASE | (re.ASCII if word.isascii() else 0)
        search = re.compile(re.escape(word), flags).search
        highlight = re.compile(re.escape(word), re.IGNORECASE)
        return Term(
            lambda r: search(r.message) is not None, 4, TextNeedle(word, ignorecase=True), [highlight]
        )
    term = _string_attr_term(token, lambda r: r.message, "':' (contains), =, != or ~")
    if token.op == "~":
        term.highlights.append(_value_regex(token))
    return term


def _source_term(token: Token, _now: datetime) -> Term:
    """``source:`` compares every form the source column may show for a record's source (its
    whole text, the short tag, the tag with a client's port or a path's parent)."""
    op, value = token.op, token.value
    if op == ":":
        return Term(lambda r: any(value in form for form in shown_forms(r.source)), 2)
    if op == "=":
        return Term(lambda r: value in shown_forms(r.source), 2)
    if op == "!=":
        return Term(lambda r: value not in shown_forms(r.source), 2)
    if op == "~":
        search = _value_regex(token).search
        return Term(lambda r: any(search(form) is not None for form in shown_forms(r.source)), 8)
    raise _unsupported(token, "':' (contains), =, != or ~")


def _string_attr_term(token: Token, get: Callable[[Record], str], allowed: str) -> Term:
    value = token.value
    if token.op == "=":
        return Term(lambda r: get(r) == value, 2, TextNeedle(value))
    if token.op == "!=":
        return Term(lambda r: get(r) != value, 2)
    if token.op == "~":
        pattern = _value_regex(token)
        search = pattern.search
        return Term(
            lambda r: search(get(r)) is not None, 8, regex_literal(pattern.pattern, pattern.flags)
        )
    raise _unsupported(token, allowed)


def _line_term(token: Token, _now: datetime) -> Term:
    compare = _ALL_OPS.get(token.op)
    number = as_number(token.value)
    if compare is None or token.op == ":":
        raise _unsupported(token, "=, !=, <, <=, >, >=")
    if number is None:
        raise QueryError(f"line needs a number, not '{token.value}'", token.value_pos)

    def line_ok(r: Record) -> bool:
        return r.line is not None and compare(r.line, number)

    return Term(line_ok, 1, reads_line=True)


def _time_term(token: Token, now: datetime) -> Term:
    op = token.op
    if token.key in ("since", "until"):
        if op not in (":", "="):
            raise _unsupported(token, f"'{token.key}:'")
        op = ">=" if token.key == "since" else "<"
    compare = _ALL_OPS.get(op)
    if compare is None or op == ":":
        raise _unsupported(token, "<, <=, >, >=, = or !=")
    bound = parse_time_value(token.value, now)
    if bound is None:
        raise QueryError(
            f"bad time '{token.value}' (use 2024-01-02, 2024-01-02T03:04, -15m, -2h, -1d)",
            token.value_pos,
        )

    def time_ok(r: Record) -> bool:
        if r.time is None:
            return False
        stamp = r.timestamp
        return stamp is not None and compare(stamp, bound)

    return Term(time_ok, 3, column=lambda cols: cols.by_time(compare, bound), reads_time=True)


def _has_term(token: Token, _now: datetime) -> Term:
    if token.op != ":":
        raise _unsupported(token, "'has:'")
    builtin = _HAS_BUILTIN.get(token.value)
    if builtin is not None:
        return Term(builtin, 1, reads_line=token.value == "line",
                    reads_time=token.value == "time")
    get = field_getter(token.value)
    return Term(lambda r: get(r.fields) is not MISSING, 2)


_BUILTINS: dict[str, Callable[[Token, datetime], Term]] = {
    "level": _level_term,
    "logger": _logger_term,
    "message": _message_term,
    "msg": _message_term,
    "source": _source_term,
    "line": _line_term,
    "time": _time_term,
    "since": _time_term,
    "until": _time_term,
    "has": _has_term,
}


# ---------------------------------------------------------------------------------------------
# Extra fields.


def _field_term(token: Token) -> Term:
    get = field_getter(token.key)
    # Every form below is false for a record without the field.
    needle = FieldNeedle(token.key, token.op, token.value)
    value = token.value
    op = token.op
    if op == "~":
        search = _value_regex(token).search

        def field_matches(r: Record) -> bool:
            found = get(r.fields)
            return found is not MISSING and search(as_text(found)) is not None

        return Term(field_matches, 8, needle, fields_only=True)
    query_number = as_number(value)
    if op in ("=", "!="):
        equal = _equality(value, query_number)
        if op == "=":
            return Term(lambda r: equal(get(r.fields)), 3, needle, fields_only=True)

        def field_differs(r: Record) -> bool:
            found = get(r.fields)
            return found is not MISSING and not equal(found)

        return Term(field_differs, 3, needle, fields_only=True)
    compare = _ORDER_OPS[op]
    if query_number is not None:

        def number_ok(r: Record) -> bool:
            found = as_number(get(r.fields))
            return found is not None and compare(found, query_number)

        return Term(number_ok, 3, needle, fields_only=True)

    def text_ok(r: Record) -> bool:  # "ts>=2024-01-02": text order when the value is no number
        found = get(r.fields)
        return isinstance(found, str) and compare(found, value)

    return Term(text_ok, 3, needle, fields_only=True)


def _equality(value: str, query_number: float | None) -> Callable[[object], bool]:
    """``field = value``: numbers compare as numbers, everything else as case-sensitive text."""

    def equal(found: object) -> bool:
        if found is MISSING:
            return False
        if query_number is not None:
            number = as_number(found)
            if number is not None:
                return number == query_number
        return as_text(found) == value

    return equal
