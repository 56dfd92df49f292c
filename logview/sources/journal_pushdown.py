"""What of a query journalctl filters by itself: its ``--priority``, ``--since``/``--until``
and ``FIELD=value`` matches (see ``logview.query.pushdown`` for the contract).

Only top-level AND conjuncts that journalctl evaluates exactly as logview does, or as a
superset, are pushed; the whole query is applied again to what journalctl returns.

- Level terms become one ``--priority=A..B``: the syslog priorities whose level (as the journal
  format maps them: 0-2 CRITICAL, 3 ERROR, 4 WARNING, 5 NOTICE, 6 INFO, 7 DEBUG) the term
  accepts. journalctl drops entries without a priority, whose level is none (levelno 0): a term
  that accepts levelno 0 (``level<INFO``, ``level!=ERROR``) is not pushed. Several level terms
  intersect; alternatives (``level=ERROR or level=DEBUG``) give the range that spans them.
- ``since:``/``until:`` and ``time>=``/``time<``... become ``--since``/``--until`` in UTC, to the
  second, rounded outwards (journalctl's ``--until`` includes its second). Relative times
  (``-1h``, ``today``) are widened by ``RELATIVE_SLACK``: the query was read a moment earlier.
- ``FIELD=value`` on a journal field name (upper-case letters, digits, ``_``) becomes the match
  ``FIELD=value``; alternatives of one field (``_HOSTNAME=a or _HOSTNAME=b``) become two matches
  of that field, which journalctl ORs. Values that logview compares as numbers (``04`` equals
  ``4``) are not pushed, except for the numeric fields journald itself writes (``_PID``...),
  whose values are always plain decimals; nor are values that look like a JSON list (a field
  sent several times is compared as its list). ``source=host`` is ``_HOSTNAME=host``.
- Everything else stays local: words, regexes, ``message``, ``logger``, negations, ``!=``,
  comparisons of fields and alternatives across fields.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from logview.query.lexer import COMPARE, Token
from logview.query.plan import Query
from logview.query.pushdown import Conjunct, PushDown, conjuncts
from logview.query.values import as_number, parse_time_value
from logview.record import level_from_name, level_from_syslog
from logview.sources.journal import LOCAL_NAME, PREFIX

#: Seconds a relative time (``since:-1h``) is widened by, for the moment between reading the
#: query and making journalctl's arguments.
RELATIVE_SLACK = 60.0

#: Journal field names (``man systemd.journal-fields``): upper case, digits, underscore, not a
#: digit first, at most 64 characters. ``__``-fields are addresses (cursor, timestamps).
_FIELD_NAME = re.compile(r"(?!__)[A-Z_][A-Z0-9_]{0,63}")
#: Numeric fields journald writes itself, always as plain decimals: ``_PID=4242`` is exact.
TRUSTED_NUMBERS = frozenset({"_PID", "_UID", "_GID", "_AUDIT_SESSION", "_AUDIT_LOGINUID",
                             "_SYSTEMD_OWNER_UID"})
_PLAIN_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
#: Fields the record model takes whole (not fields of the record).
_NOT_FIELDS = {"MESSAGE": "the message is no field: use msg= or a word"}

_ORDER = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
          "=": operator.eq, ":": operator.eq, "!=": operator.ne}
_TIME_KEYS = ("since", "until", "time")
_LOCAL_TEXT = "free text: journalctl's --grep sees the raw MESSAGE only (no logger, colour codes)"
#: Why a built-in name is not pushed down.
_BUILTIN_WHY = {
    "logger": "the logger is LOGGER, SYSLOG_IDENTIFIER, _COMM or the unit, whichever the entry "
              "has: name the field (LOGGER=app.db) to push it down",
    "message": _LOCAL_TEXT,
    "msg": _LOCAL_TEXT,
    "has": "journalctl cannot match that a field is present",
    "line": "a line of journalctl's output, not of the journal",
    "source": "part of a host name: journalctl matches whole values",
}


class JournalctlPushDown:
    """The ``PushDownTarget`` of journalctl (``now``: when relative times are resolved)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def pushdown(self, query: Query) -> PushDown:
        return journal_pushdown(query, now=self.now)


def journal_pushdown(query: Query, *, now: datetime | None = None) -> PushDown:
    """journalctl arguments for what it can filter of ``query``, and what stays local."""
    now = now or datetime.now(UTC)
    result = PushDown()
    priorities: set[int] | None = None
    bounds: dict[str, float] = {}
    texts: dict[str, list[str]] = {"level": [], "time": []}
    matches: list[tuple[str, list[str]]] = []
    for part in conjuncts(query):
        kind, value, why = _translate(part, now)
        if kind == "level":
            priorities = value if priorities is None else priorities & value
            texts["level"].append(part.text)
        elif kind in ("since", "until"):
            pick = max if kind == "since" else min
            bounds[kind] = pick(bounds[kind], value) if kind in bounds else value
            texts["time"].append(part.text)
        elif kind == "match":
            matches.append((part.text, value))
        else:
            result.local.append((part.text, why))
    if priorities is not None:
        _push_priorities(result, priorities, texts["level"])
    if bounds:
        _push_times(result, bounds.get("since"), bounds.get("until"), texts["time"])
    if matches:
        for text, values in matches:
            result.pushed.append((text, " ".join(values)))
        result.arguments.append("--")  # what follows are matches, whatever they look like
        result.arguments.extend(dict.fromkeys(v for _, values in matches for v in values))
    return result


def _push_priorities(result: PushDown, priorities: set[int], texts: list[str]) -> None:
    if not priorities:
        result.local.extend((text, "no syslog priority has such a level") for text in texts)
        return
    argument = f"--priority={min(priorities)}..{max(priorities)}"
    result.arguments.append(argument)
    result.pushed.append((" ".join(texts), argument))


def _push_times(result: PushDown, since: float | None, until: float | None,
                texts: list[str]) -> None:
    since_arg = _utc_text(math.floor(since)) if since is not None else None
    until_arg = _utc_text(math.ceil(until)) if until is not None else None
    why = None
    if (since is not None and since_arg is None) or (until is not None and until_arg is None):
        why = "a time journalctl cannot take (before 1970, after 9999)"
    elif since is not None and until is not None and math.floor(since) > math.ceil(until):
        why = "since is after until: nothing can match"
    if why is not None:
        result.local.extend((text, why) for text in texts)
        return
    arguments = [f"--since={since_arg}"] if since_arg else []
    if until_arg:
        arguments.append(f"--until={until_arg}")
    result.arguments.extend(arguments)
    result.pushed.append((" ".join(texts), " ".join(arguments)))


def _utc_text(seconds: int) -> str | None:
    """journalctl's form of an absolute time: ``2024-01-02 03:04:05 UTC``."""
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except OverflowError:
        return None
    if not 1970 <= moment.year <= 9999:
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _translate(part: Conjunct, now: datetime) -> tuple[str, object, str]:
    """(kind, value, why not): kind is level, since, until, match or local."""
    if not part.terms:
        return "local", None, "a negation or a group: journalctl only ANDs its filters"
    if any(token.kind != COMPARE for token in part.terms):
        return "local", None, _LOCAL_TEXT
    keys = {token.key for token in part.terms}
    if len(keys) > 1:
        return "local", None, "alternatives of different fields: journalctl only ORs one field"
    if keys == {"level"}:
        union: set[int] = set()
        for token in part.terms:
            accepted = _priorities(token)
            if accepted is None:
                return "local", None, "also matches records without a level (no PRIORITY)"
            union |= accepted
        return "level", union, ""
    if part.terms[0].key in _TIME_KEYS:
        if part.any_of:
            return "local", None, "alternatives of times: journalctl has one --since/--until"
        bound = _time_bound(part.terms[0], now)
        if bound is None:
            return "local", None, "not a bound journalctl has (since/until only)"
        return bound[0], bound[1], ""
    values = [_match(token) for token in part.terms]
    for match, why in values:
        if match is None:
            return "local", None, why
    return "match", [match for match, _ in values], ""


def _priorities(token: Token) -> set[int] | None:
    """The syslog priorities whose level a level term accepts; None when it also accepts a
    record without a level (journalctl's ``--priority`` drops those)."""
    compare: Callable[[int, int], bool] | None = _ORDER.get(token.op)
    if compare is None:
        return None
    text = token.value.strip()
    number = int(text) if text.isdigit() else level_from_name(text)[1]
    if number <= 0 and not text.isdigit():
        return None
    if compare(0, number):
        return None
    return {p for p in range(8) if compare(level_from_syslog(p)[1], number)}


def _time_bound(token: Token, now: datetime) -> tuple[str, float] | None:
    """("since" | "until", seconds) for a time term, widened when it is relative."""
    key, op = token.key, token.op
    if key == "since":
        side = "since"
    elif key == "until":
        side = "until"
    elif op in (">=", ">"):
        side = "since"
    elif op in ("<", "<="):
        side = "until"
    else:
        return None  # time=, time!=: not a single bound worth pushing
    bound = parse_time_value(token.value, now)
    if bound is None:
        return None
    later = parse_time_value(token.value, now + timedelta(days=2))
    if later != bound:  # relative to now: widened for the moment since the query was read
        bound = bound - RELATIVE_SLACK if side == "since" else bound + RELATIVE_SLACK
    return side, bound


def _match(token: Token) -> tuple[str | None, str]:
    """The journalctl match for ``FIELD=value`` (or ``source=host``), or None and why not."""
    key, op, value = token.key, token.op, token.value
    if key == "source" and op == "=":
        if value.startswith((PREFIX, LOCAL_NAME)):
            return None, "the name of a journal input, not a host"
        key = "_HOSTNAME"
    elif key in _BUILTIN_WHY:
        return None, _BUILTIN_WHY[key]
    elif op != "=":
        return None, f"'{op}': journalctl matches fields by equality only"
    if key in _NOT_FIELDS:
        return None, _NOT_FIELDS[key]
    if not _FIELD_NAME.fullmatch(key):
        return None, "not a journal field name (upper case, digits and _)"
    if "\ufffd" in value or "\x00" in value:
        return None, "a value with bytes that are not UTF-8"
    if value.startswith("["):
        return None, "a list value (a field sent several times)"
    if as_number(value) is not None and not (key in TRUSTED_NUMBERS
                                             and _PLAIN_DECIMAL.fullmatch(value)):
        return None, "a number: logview compares numbers (04 = 4), journalctl bytes"
    return f"{key}={value}", ""
