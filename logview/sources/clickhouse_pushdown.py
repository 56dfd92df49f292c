"""What of a query ClickHouse evaluates by itself, as a ``WHERE`` clause with bound parameters
(see ``logview.query.pushdown`` for the contract; ``clickhouse_table`` for the columns).

Only top-level AND conjuncts (and alternatives of single terms) that ClickHouse evaluates as
logview does, or as a superset, are pushed; what the server returns is filtered locally by the
whole query again. Every value is a server-side parameter (``{p3:String}``): no query text ever
becomes SQL text.

- Level terms: the ``SeverityNumber`` values (1-24) with a Python level the term accepts (the
  number's own, or one its text names: ``otel.level_span``), as ranges; rows with no severity number take their level from ``SeverityText``: those whose
  text is a level name the term accepts, or that is not plain letters (``40``, `` warn``).
- ``logger:app.db``: ``ScopeName = 'app.db' OR startsWith(ScopeName, 'app.db.')``;
  ``logger=app.db``: ``ScopeName = 'app.db'``.
- Words (ASCII): ``positionCaseInsensitive`` in the body, the logger or the exception text
  (logview folds ASCII case only for ASCII words, as that function does). Other words stay
  local (ClickHouse folds Unicode case differently).
- ``/regex/``: ``match()`` on the body and the exception text, when the Python regex has the
  same meaning in RE2 (``logview.query.re2``); else the longest literal it needs; else local.
- ``key=value``, ``key>=n``...: the ``LogAttributes``/``ResourceAttributes`` values of that key
  (numbers compared as numbers, as logview does: ``toFloat64OrNull``).
- ``since:``/``until:``/``time>=``: ``Timestamp`` ranges (and ``TimestampTime``, the primary
  key's column), widened to the microsecond and, for relative times, by ``RELATIVE_SLACK``.

A record whose text holds an escape introducer (ESC, C1 controls) is always a candidate: logview
strips ANSI codes before matching, ClickHouse sees the raw text.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from logview.query.lexer import COMPARE, REGEX, WORD, Token
from logview.query.plan import Query
from logview.query.prefilter import regex_literal
from logview.query.pushdown import Conjunct, PushDown, conjuncts
from logview.query.re2 import to_re2
from logview.query.values import as_number, parse_time_value
from logview.record import LEVEL_ALIASES, MAX_LEVELNO, level_from_name
from logview.sources.clickhouse_table import TableShape
from logview.sources.otel import MAX_SEVERITY, level_span

#: Seconds a relative time (``since:-1h``) is widened by: the query was read a moment earlier.
RELATIVE_SLACK = 60.0
#: What logview strips before matching (``formats.linewise.ANSI_HINT_RE``), as RE2.
ESCAPE_RE2 = "[\\x{1B}\\x{90}-\\x{9F}]"
#: Level texts logview reads exactly as SQL can: plain letters (an alias) or digits (a number);
#: any other text (blanks, other letters) is always a candidate.
_PLAIN_RE2 = "^(?:[A-Za-z]+|[0-9]{1,18})$"
_DIGITS_RE2 = "^[0-9]{1,18}$"
_TRIM_RE2 = "^\\s+|\\s+$"
_ORDER = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
          "=": operator.eq, ":": operator.eq, "!=": operator.ne}
_SQL_ORDER = {">=": ">=", ">": ">", "<=": "<=", "<": "<"}
_SQL_COMPARE = {**_SQL_ORDER, "=": "=", ":": "=", "!=": "!="}
_INT64 = (-(1 << 63), (1 << 63) - 1)
_LOCAL_WHY = {
    "has": "a field's presence: kept local (a field may come from either attribute map)",
    "source": "the source is service@host (or the input's name): kept local",
    "line": "a line of logview's spool, not of the table",
}


@dataclass(slots=True)
class SqlPushDown(PushDown):
    """A ``PushDown`` whose ``arguments`` are SQL conditions over ``params`` (bound values)."""

    params: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        """The conditions ANDed (``1`` when nothing is pushed)."""
        return " AND ".join(f"({sql})" for sql in self.arguments) or "1"


class ClickHousePushDown:
    """The ``PushDownTarget`` of a ClickHouse table (``now``: when relative times resolve)."""

    def __init__(self, shape: TableShape, now: datetime | None = None) -> None:
        self.shape = shape
        self.now = now

    def pushdown(self, query: Query) -> SqlPushDown:
        return clickhouse_pushdown(query, self.shape, now=self.now)


class _Local(Exception):
    """A term ClickHouse cannot evaluate as logview does (the message says why)."""


def clickhouse_pushdown(query: Query, shape: TableShape, *,
                        now: datetime | None = None) -> SqlPushDown:
    """The ``WHERE`` conditions ClickHouse evaluates of ``query``, and what stays local."""
    builder = _Builder(shape, now or datetime.now(UTC))
    result = SqlPushDown()
    for part in conjuncts(query):
        try:
            sql, shown = builder.conjunct(part)
        except _Local as why:
            result.local.append((part.text, str(why)))
            continue
        result.arguments.append(sql)
        result.pushed.append((part.text, shown))
    result.params = builder.params
    return result


def display(sql: str, params: dict[str, Any]) -> str:
    """A condition with its parameters written in as quoted values (for ``--explain`` only:
    what is sent keeps them bound)."""

    def value(match: re.Match[str]) -> str:
        found = params.get(match.group(1))
        if isinstance(found, str):
            return "'" + found.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return str(found)

    return re.sub(r"\{(\w+):[^{}]+\}", value, sql)


class _Builder:
    """Turns conjuncts into SQL, collecting the bound parameters."""

    def __init__(self, shape: TableShape, now: datetime) -> None:
        self.shape = shape
        self.now = now
        self.params: dict[str, Any] = dict(shape.params)
        self._count = 0

    def bind(self, value: Any, kind: str) -> str:
        name = f"p{self._count}"
        self._count += 1
        self.params[name] = value
        return f"{{{name}:{kind}}}"

    def conjunct(self, part: Conjunct) -> tuple[str, str]:
        if not part.terms:
            raise _Local("a negation or a group: only ANDs of terms and ORs of single terms "
                         "are pushed")
        sqls = [self.term(token) for token in part.terms]
        sql = sqls[0] if len(sqls) == 1 else " OR ".join(f"({s})" for s in sqls)
        return sql, display(sql, self.params)

    def term(self, token: Token) -> str:
        if token.kind == WORD:
            return self.word(token.value, self._texts())
        if token.kind == REGEX:
            return self.regex(token.value, token.flags)
        assert token.kind == COMPARE
        key, op = token.key, token.op
        if key == "level":
            return self.level(token)
        if key == "logger":
            return self.logger(token)
        if key in ("message", "msg"):
            return self.message(token)
        if key in ("since", "until", "time"):
            return self.time(token)
        if key in _LOCAL_WHY:
            raise _Local(_LOCAL_WHY[key])
        if op in ("!=", "~"):
            raise _Local(f"'{op}' on a field: kept local (a missing key reads as '' in a Map)")
        return self.field(token)

    # -- text ------------------------------------------------------------------------------

    def _texts(self) -> list[str]:
        shape = self.shape
        return [shape.message, shape.logger] + ([shape.exc] if shape.exc else [])

    def escaped(self, texts: list[str]) -> str:
        """Any of ``texts`` holds an escape introducer (then it is always a candidate)."""
        pattern = self.bind(ESCAPE_RE2, "String")
        joined = texts[0] if len(texts) == 1 else f"concat({', '.join(texts)})"
        return f"match({joined}, {pattern})"

    def word(self, word: str, texts: list[str]) -> str:
        if not word:
            raise _Local("an empty phrase matches every record")
        if not word.isascii():
            raise _Local("a word beyond ASCII: ClickHouse folds Unicode case otherwise")
        needle = self.bind(word, "String")
        found = " OR ".join(f"positionCaseInsensitive({text}, {needle}) > 0" for text in texts)
        return f"{found} OR {self.escaped(texts)}"

    def regex(self, pattern: str, flags: int) -> str:
        texts = [self.shape.message] + ([self.shape.exc] if self.shape.exc else [])
        translated = to_re2(pattern, flags)
        if translated is not None:
            bound = self.bind(translated, "String")
            found = " OR ".join(f"match({text}, {bound})" for text in texts)
            invalid = " OR ".join(f"NOT isValidUTF8({text})" for text in texts)
            return f"{found} OR {invalid} OR {self.escaped(texts)}"
        needle = regex_literal(pattern, flags)
        if needle is None:
            raise _Local("a regex RE2 cannot evaluate as Python does, with no literal it needs")
        function = "positionCaseInsensitive" if needle.ignorecase else "position"
        bound = self.bind(needle.text, "String")
        found = " OR ".join(f"{function}({text}, {bound}) > 0" for text in texts)
        return f"{found} OR {self.escaped(texts)}"

    def message(self, token: Token) -> str:
        message = self.shape.message
        if token.op == ":":
            return self.word(token.value, [message])
        if token.op == "=":
            return f"{message} = {self.bind(token.value, 'String')} OR {self.escaped([message])}"
        raise _Local(f"message '{token.op}': kept local")

    def logger(self, token: Token) -> str:
        logger, name = self.shape.logger, token.value
        if token.op == ":":
            exact = self.bind(name, "String")
            prefix = self.bind(name + ".", "String")
            return (f"{logger} = {exact} OR startsWith({logger}, {prefix}) OR "
                    f"{self.escaped([logger])}")
        if token.op == "=":
            return f"{logger} = {self.bind(name, 'String')} OR {self.escaped([logger])}"
        raise _Local(f"logger '{token.op}': kept local")

    # -- level -----------------------------------------------------------------------------

    def level(self, token: Token) -> str:
        compare = _ORDER.get(token.op)
        text = token.value.strip()
        number = int(text) if text.isdigit() else level_from_name(text)[1]
        if compare is None or number <= 0 and not text.isdigit():
            raise _Local("not a level comparison")
        shape = self.shape
        if shape.number is None and shape.text is None:
            raise _Local("the table has no level column")
        parts = []
        unspecified = "1"
        if shape.number is not None:
            accepted = [n for n in range(1, MAX_SEVERITY + 1)
                        if _accepts(compare, level_span(n), number)]
            for low, high in _ranges(accepted):
                if low == high:
                    parts.append(f"{shape.number} = {self.bind(low, 'UInt8')}")
                else:
                    parts.append(f"{shape.number} BETWEEN {self.bind(low, 'UInt8')} AND "
                                 f"{self.bind(high, 'UInt8')}")
            unspecified = f"({shape.number} = 0 OR {shape.number} > {MAX_SEVERITY})"
        if compare(0, number) or shape.text is None:
            if compare(0, number):  # records without a level pass: so do all unspecified rows
                parts.append(unspecified)
        else:
            names = sorted(alias for alias, (_n, no) in LEVEL_ALIASES.items()
                           if compare(no, number))
            text_sql = shape.text
            plain = self.bind(_PLAIN_RE2, "String")
            named = (f"upper({text_sql}) IN {self.bind(names, 'Array(String)')}" if names
                     else "0")
            digits = self.bind(_DIGITS_RE2, "String")
            value = f"toUInt64OrZero({text_sql})"
            numbered = (f"match({text_sql}, {digits}) AND {value} BETWEEN 1 AND {MAX_LEVELNO} "
                        f"AND {value} {_SQL_COMPARE[token.op]} {self.bind(number, 'Int64')}")
            parts.append(f"{unspecified} AND {text_sql} != '' AND (NOT match({text_sql}, "
                         f"{plain}) OR {named} OR ({numbered}))")
        if not parts:
            return "0"
        return " OR ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

    # -- time ------------------------------------------------------------------------------

    def time(self, token: Token) -> str:
        key, op = token.key, token.op
        if key in ("since", "until"):
            side = key
        elif op in (">=", ">"):
            side = "since"
        elif op in ("<", "<="):
            side = "until"
        else:
            raise _Local("time = or != is not a range: kept local")
        bound = parse_time_value(token.value, self.now)
        if bound is None:
            raise _Local("not a time")
        if parse_time_value(token.value, self.now + timedelta(days=2)) != bound:
            bound += -RELATIVE_SLACK if side == "since" else RELATIVE_SLACK
        micro = math.floor(bound * 1e6) - 1 if side == "since" else math.ceil(bound * 1e6) + 1
        nanos = micro * 1000
        if not _INT64[0] <= nanos <= _INT64[1]:
            raise _Local("a time beyond what ClickHouse's DateTime64 holds")
        shape = self.shape
        sign = ">=" if side == "since" else "<="
        sql = f"{shape.time} {sign} fromUnixTimestamp64Nano({self.bind(nanos, 'Int64')})"
        seconds = math.floor(bound) - 1 if side == "since" else math.ceil(bound) + 1
        if shape.time_seconds and 0 <= seconds < 1 << 32:
            sql += f" AND {shape.time_seconds} {sign} toDateTime({self.bind(seconds, 'Int64')})"
        return sql

    # -- fields ----------------------------------------------------------------------------

    def field(self, token: Token) -> str:
        shape, key, op, value = self.shape, token.key, token.op, token.value
        columns = [column for column, name in shape.columns if name == key]
        if not shape.maps and not columns:
            raise _Local("the table keeps no fields in Map columns")
        key_param = self.bind(key, "String") if shape.maps else ""
        values = [f"{m}[{key_param}]" for m in shape.maps] + columns
        number = as_number(value)
        if op in ("=", ":"):
            text = self.bind(value, "String")
            parts = [f"{v} = {text}" for v in values]
            if number is not None:
                parts += [f"{_as_number(v, self)} = {self.bind(number, 'Float64')}"
                          for v in values]
            return " OR ".join(parts)
        sql_op = _SQL_ORDER[op]
        if number is None:
            text = self.bind(value, "String")
            return " OR ".join(f"{v} {sql_op} {text}" for v in values)
        bound = self.bind(number, "Float64")
        return " OR ".join(f"{_as_number(v, self)} {sql_op} {bound}" for v in values)


def _as_number(value_sql: str, builder: _Builder) -> str:
    """A text value as the number logview reads in it (NULL when it is none)."""
    trim = builder.bind(_TRIM_RE2, "String")
    return f"toFloat64OrNull(replaceRegexpAll({value_sql}, {trim}, ''))"


def _accepts(compare, span: tuple[int, int], number: int) -> bool:
    """Whether a level term accepts some level of ``span`` (an inclusive range): its ends, or
    the term's own number and its neighbours when they fall inside, decide it."""
    low, high = span
    candidates = {low, high} | {n for n in (number - 1, number, number + 1) if low <= n <= high}
    return any(compare(levelno, number) for levelno in candidates)


def _ranges(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
