"""The byte regexes a level comparison (``level>=ERROR``) looks for in JSON lines, whatever
library wrote them (``JsonFormat.level_pattern``).

A JSON record gets its level from one of a few keys (``record_from_object``): the level role's
(python-json-logger's ``levelname``, structlog's, pino's, GELF's and zap's ``level``, ECS's
``log.level`` flat or nested, ``severity``, ``lvl``...), ``levelno``, loguru's ``record.level``
object, a journal entry's ``PRIORITY``, or a key mapping's own. The regexes accept any of those
keys followed by a value that may be read as a satisfying level: a level name of the right
number in any case (``level_from_name`` folds case and strips spaces), a number that one of the
numeric readings (Python's numbers, pino's 10..60, syslog's 0..7) maps to a satisfying level,
loguru's object with such a name or number, and every form they cannot bound (a string
opening with an escape, a space or a digit, ``Level 45``, floats, signs). So the records they skip cannot match, in any mix of
schemas; the parser confirms the rest. Keys with ``level`` in them share one regex opening with
``level`` (``re`` finds its literal prefix fast); the others get one regex each.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from logview.number_patterns import json_key, json_number_value, ranges_of
from logview.record import (
    _ALIASES,
    LEVEL_COMPARE,
    level_from_pino,
    level_from_python_number,
    level_from_syslog,
)

#: Ways a bare number may be read as a level (``jsonl._numeric_level`` picks one per object).
_READINGS: tuple[Callable[[int], tuple[str | None, int]], ...] = (
    level_from_python_number, level_from_pino, level_from_syslog)
#: Keys a level comes from besides the role table's: a journal entry's, and the nested
#: ``level`` of ECS's ``log`` and loguru's ``record``.
SCHEMA_KEYS = ("PRIORITY", "level")
#: Levels written as one capital letter (MongoDB's ``s``, Android's and glog's letters), and
#: ``D``/``V`` with a verbosity digit (MongoDB's ``D1``-``D5``): read from a JSON level value
#: only (a text template's level word is never a lone letter).
LETTER_LEVELS: dict[str, tuple[str, int]] = {
    "V": ("DEBUG", 10), "D": ("DEBUG", 10), "I": ("INFO", 20), "W": ("WARNING", 30),
    "E": ("ERROR", 40), "F": ("CRITICAL", 50),
    **{f"{letter}{digit}": ("DEBUG", 10) for letter in "DV" for digit in range(10)}}
#: Every level name a JSON level value may hold.
_JSON_ALIASES = {**_ALIASES, **LETTER_LEVELS}


@functools.cache
def level_value(op: str, number: int) -> bytes | None:
    """A regex for a JSON value (after the colon and spaces) that may be read as a level
    number satisfying ``OP number``; None for an operator without a bound."""
    compare = LEVEL_COMPARE.get(op)
    if compare is None:
        return None
    names = sorted((alias for alias, (_, no) in _JSON_ALIASES.items() if compare(no, number)),
                   key=lambda a: (-len(a), a))

    def satisfies(n: int) -> bool:
        return any(0 < (no := read(n)[1]) and compare(no, number) for read in _READINGS)

    ranges = ranges_of(satisfies, max(256, number + 2))
    names_re = b"|".join(re.escape(a.encode("ascii")) for a in names)
    # A string: a name in any case, "Level 45" or a number (``level_from_name``).
    named = b"(?i:" + names_re + b")|" if names else b""
    plain = json_number_value(ranges, named + rb"[Ll](?i:evel )|[0-9]|")
    # An object: loguru's {"icon": ..., "name": "ERROR", "no": 40}, its name or number.
    sep = _sep()
    value = (b"(?:" + plain + rb'|\{[^{}]*"(?:name' + sep + plain + b"|no" + sep + plain
             + b"))")
    below = [alias for alias, (_, no) in _JSON_ALIASES.items() if not compare(no, number)]
    return _refusing(below, value) + value


def _refusing(names: list[str], value: bytes) -> bytes:
    """A lookahead that turns away at once a value that is one of ``names`` as a whole string,
    as writers spell them (UPPER, lower, Title: ``"INFO"``), or nothing.

    Most records of a file name a level the query does not admit; ``value`` fails on them
    too, but only after trying each of its alternatives (every name it admits, the numbers,
    the forms no range bounds, loguru's object): 250 ns a record, 60 % of the search's time
    over python-json-logger's lines. A spelling is refused only where ``value`` cannot match
    it, whatever follows, so the lookahead refuses nothing ``value`` accepts. ``names`` come
    in their order (the logging module's own names first): ``re`` tries the branches in turn,
    and a file's common value is refused by one of the first (a prefix tree of every spelling
    was slower: it steps through the longer names' tails)."""
    accepts = re.compile(value).match
    spellings = list(dict.fromkeys(s for name in names
                                   for s in (name, name.lower(), name.title())))
    refused = [s.encode("ascii") for s in spellings
               if not any(accepts(b'"' + s.encode("ascii") + b'"' + tail)
                          for tail in (b"", b",", b"}", b" ", b', "a": 1}'))]
    if not refused:
        return b""
    return b'(?!"(?:' + b"|".join(re.escape(s) for s in refused) + b')")'


def level_scans(keys: Iterable[str], op: str, number: int) -> tuple[bytes, ...] | None:
    """The regexes (one per scan, each opening with a literal) for records whose level under
    one of ``keys`` satisfies ``OP number``; None when one of the keys cannot be looked for
    (a writer might escape it) or the operator has no bound."""
    value = level_value(op, number)
    if value is None:
        return None
    heads: set[str] = set()
    for key in keys:
        last = key.rsplit(".", 1)[-1]
        if json_key(last) is None:
            return None
        heads.add(last)
    sep = _sep()
    # One regex for the keys that open with "level" (levelname, levelno...) or end with it
    # (level, log.level, loglevel, log_level): "level", then the rest of the key.
    tails = sorted({head[5:] for head in heads if head.startswith("level") and head != "level"})
    branches = [re.escape(tail.encode("ascii")) + sep for tail in tails] + [sep]
    scans = [b"level(?:" + b"|".join(branches) + b")" + value]
    scans.extend(re.escape(head.encode("ascii")) + sep + value for head in sorted(heads)
                 if not head.startswith("level") and not head.endswith("level"))
    return tuple(scans)


def _sep() -> bytes:
    """The quote that ends a key, and its colon with spaces around it."""
    key = json_key("x")
    assert key is not None
    return key[1:]
