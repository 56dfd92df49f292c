"""The keys a JSON log's objects keep their time, level, message and exception under, read
from the sample's values when the usual key names leave a role empty (no configuration).

The known names (``json_roles``) cover python-json-logger, structlog, pino, zap, ECS... An
application or library with names of its own (Serilog's ``@t``/``@l``/``@mt``/``@x``, a
service's ``when``/``sev``/``text``, MongoDB's ``t``) would otherwise show each record as
its raw object, with no time or level to filter on. For each role the sample leaves empty in
most objects, one key is taken whose values read as that role does in every object that
holds it (a key not already known for a role):

- the time: every value read as a time by the JSON reader (text, an epoch number in
  seconds to nanoseconds, MongoDB Extended JSON's ``{"$date": ...}``), between 1990 and 2100;
- the level: every value a level name (``warning``, ``Error``, ``fatal``, MongoDB's ``E``...),
  in a fifth of the objects or more (a logger may leave out its usual level);
- the message: text in nine objects of ten, a key named like one (``msg``, ``text``,
  ``@mt``, ``request``...) first, else the longest on average of the keys left;
- the exception: text of several lines shaped like a stack trace (Python's, Java's, .NET's,
  Node's frames), wherever it appears (most records have none).

The result is a key mapping (``JsonFormat(keys=...)``), the same as a user's: every reader
(the parser, the level and field needles, the column walker) takes it. A sample of a schema
read whole (loguru's, journald's, logview's own) or with ECS's or pino's nested parts is left
alone: a mapping would turn those readings off.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from logview.formats.json_roles import (
    _EXC,
    _LEVEL,
    _MSG,
    _NESTED_KEYS,
    _ROLES,
    _TIME,
    _layout_of,
)

__all__ = ["infer_keys", "pretty_objects"]

#: Objects of the sample looked at.
MAX_OBJECTS = 200
#: An object with more keys than this is no log record's (a hostile sender's): not looked at.
MAX_KEYS = 256
#: A role filled in at least this share of the objects by a known key needs no inference.
_FILLED = 0.5
#: A key must be in at least this share of the objects to be a time, level or message.
_PRESENT = 0.8
#: ... or this share, for a level (which a logger may leave out at its usual one).
_SOMETIMES = 0.2
#: Times outside this range are no times of a log (ids, counters, sizes).
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
#: A level name is short; longer text is a message that happens to say ``error``.
_LEVEL_MAX = 16
#: A text key whose name holds one of these is the message before a longer text (nginx's
#: JSON access lines: the request, not the user agent).
_MESSAGE_HINTS = ("mess", "msg", "text", "event", "@m", "request", "log", "body")
#: A line of a stack trace: Python's, Java's and .NET's (``at x.y(...)``), Node's, Go's.
_FRAME = re.compile(r"\n(?:Traceback \(most recent call last\)|\s+File \"|\s+at \S|\t\S+\.go:\d)")


def infer_keys(objects: Iterable[Any]) -> dict[str, str]:
    """Role name (``time``, ``level``, ``message``, ``exc``) -> key, for the roles the known
    key names leave empty in most of ``objects`` (decoded JSON values; those that are not
    objects are skipped); ``status`` -> the key of an HTTP status the level is to be read
    from when no object has a level (``json_status``). Empty when nothing is inferred."""
    from logview.formats.jsonl import _level_name, _own_schema, _time_of

    sample = [obj for obj in itertools.islice(objects, MAX_OBJECTS * 4)
              if type(obj) is dict and len(obj) <= MAX_KEYS][:MAX_OBJECTS]
    if not sample or any(_own_schema(obj) is not None or not _NESTED_KEYS.isdisjoint(obj)
                         for obj in sample):
        return {}
    filled = [0] * 7
    counts: dict[str, int] = {}
    for obj in sample:
        keys = _layout_of(obj, _ROLES)[0]
        for role, key in enumerate(keys):
            filled[role] += key is not None
        for key in obj:
            if key not in _ROLES:
                counts[key] = counts.get(key, 0) + 1
    total = len(sample)
    present = [key for key, n in counts.items() if n >= _PRESENT * total]
    sometimes_present = [key for key, n in counts.items() if n >= _SOMETIMES * total]
    found: dict[str, str] = {}
    taken: set[str] = set()

    def values(key: str) -> list[Any]:
        return [obj[key] for obj in sample if key in obj and obj[key] is not None]

    def one(role: int, name: str, fits, sometimes: bool = False) -> None:
        if filled[role] >= _FILLED * total:
            return
        for key in (sometimes_present if sometimes else present):
            if key not in taken and (vals := values(key)) and all(fits(v) for v in vals):
                found[name] = key
                taken.add(key)
                return

    def is_time(value: Any) -> bool:
        when = _time_of(value)[0]
        if when is None:
            return False
        try:
            seconds = when.timestamp()
        except (OverflowError, OSError, ValueError):
            return False
        return _EARLIEST <= seconds < _LATEST

    one(_TIME, "time", is_time)
    # (a level may be left out at the usual one: Serilog writes no ``@l`` for Information)
    one(_LEVEL, "level", lambda v: isinstance(v, str) and len(v) <= _LEVEL_MAX
        and _level_name(v)[1] > 0, sometimes=True)
    if "level" not in found and filled[_LEVEL] < _FILLED * total:
        # No level anywhere, an HTTP status on every object (a JSON access log): the level
        # is the status's (``json_status``).
        from logview.formats.json_status import is_status_key, status_of

        for key in present:
            if (key not in taken and is_status_key(key) and (vals := values(key))
                    and all(status_of(v) is not None for v in vals)):
                found["status"] = key
                taken.add(key)
                break
    if filled[_MSG] < _FILLED * total:
        texts = []
        for key in present:
            vals = values(key)
            if key in taken or not vals:
                continue
            words = [v for v in vals if isinstance(v, str)]
            if len(words) >= 0.9 * len(vals):
                named = any(hint in key.lower() for hint in _MESSAGE_HINTS)
                texts.append((named, sum(map(len, words)) / len(words), key))
        if texts:
            found["message"] = max(texts)[2]
            taken.add(found["message"])
    if not any(key in _ROLES and _ROLES[key][0] == _EXC for obj in sample for key in obj):
        # (one pass: a key is a stack when every value it has is text of several lines, one
        # of them shaped like a stack trace; a key known for another role is not one)
        stacks: dict[str, int] = {}  # -1: not a stack; 0: lines so far; 1: a trace seen
        for obj in sample:
            for key, value in obj.items():
                if value is None or key in taken or key in _ROLES or stacks.get(key) == -1:
                    continue
                if not isinstance(value, str) or "\n" not in value:
                    stacks[key] = -1
                elif stacks.get(key) != 1:
                    stacks[key] = int(_FRAME.search(value) is not None)
        stack = next((key for key, state in stacks.items() if state == 1), None)
        if stack is not None:
            found["exc"] = stack
    return found


def pretty_objects(lines: list[str]) -> list[object] | None:
    """The objects of a sample of pretty-printed JSON objects (an unindented ``{`` line, the
    members indented, an unindented ``}`` line), or None when most lines are not such; an
    object the sample's end cuts counts as one."""
    from logview.formats.jsonl import _load

    objects: list[object] = []
    inside = 0  # lines of objects, the last one cut or not
    at = 0
    while at < len(lines):
        if lines[at].rstrip() != "{":
            at += 1
            continue
        end = next((k for k in range(at + 1, len(lines)) if lines[k].rstrip() == "}"), None)
        if end is None:
            inside += len(lines) - at
            break
        value = _load("\n".join(lines[at:end + 1]))
        if not isinstance(value, dict):
            return None
        objects.append(value)
        inside += end + 1 - at
        at = end + 1
    if not objects or inside * 10 < len(lines) * 9:
        return None
    return objects
