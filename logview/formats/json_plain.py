"""``plain_values`` of one-line JSON objects read many at a time: what each key order means
worked out once.

``jsonl.plain_values`` asks of every object whether it is one of the schemas read as a whole
(loguru's, logview's own, journald's), then its key order's layout (``json_roles``), then
reads its values. The first two depend, for nearly every object, on its keys alone, so the
reader here keeps, per key order met, the getter of its time, level, message and logger and
its field keys, and reads an object of a known key order with a lookup and the type checks
``plain_values`` makes. A key order whose answer may depend on the values (a ``record`` key,
loguru's, or a journal entry's keys) is always asked of ``plain_values``. Making the record
of a match was the candidates' main cost in ``--print`` and the viewer's filter over JSON
lines (``record_chunks``, ``scan.Matcher.fields_test``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from logview.formats.json_roles import _LEVEL, _LOGGER, _MSG, _ROLES, _TIME, _layout_of

#: Key orders remembered at most (ever new ones are asked of ``plain_values`` past it).
MAX_SHAPES = 256
#: Keys whose values decide whether an object is a schema read as a whole (``_own_schema``).
_VALUE_SCHEMA_KEYS = frozenset(("record", "MESSAGE", "__CURSOR", "__REALTIME_TIMESTAMP"))
#: Keys that, all present, make an object logview's own schema.
_OWN_KEYS = frozenset(("levelno", "fields", "exc", "message"))

#: (time text, level, level number, message, logger, fields)
PlainValues = tuple[str, "str | None", int, str, str, dict[str, Any]]
_UNKNOWN = object()


def plain_reader(roles: Mapping[str, tuple[int, int]] | None,
                 exact: Callable[[dict[str, Any]], PlainValues | None],
                 level_name: Callable[[str], tuple[str | None, int]],
                 clean: Callable[[str], str]) -> Callable[[bytes], PlainValues | None]:
    """A reader of one object's bytes: ``exact(obj)`` (``plain_values`` with ``roles``),
    or None for what orjson refuses or what is no object. ``level_name`` and ``clean`` are
    what ``plain_values`` reads a level's and a text's value with."""
    loads, error = orjson.loads, orjson.JSONDecodeError
    table = _ROLES if roles is None else roles
    #: Per key order: its time, level, message and logger keys and its field keys, and
    #: whether those are the other keys in order (the fields are then the object itself,
    #: the four popped); None: not read the short way.
    shapes: dict[tuple[str, ...], tuple[str, str, str, str, tuple[str, ...], bool] | None] = {}
    levels: dict[str, tuple[str | None, int]] = {}

    def learn(obj: dict[str, Any]) -> Any:
        keys = obj.keys()
        if roles is None and (not _VALUE_SCHEMA_KEYS.isdisjoint(keys) or _OWN_KEYS <= keys):
            return _UNKNOWN  # (its values decide: always asked of ``exact``)
        by_role, field_keys, plain = _layout_of(obj, table)
        hit = None
        if plain is not None:
            four = tuple(by_role[r] for r in (_TIME, _LEVEL, _MSG, _LOGGER))
            rest = tuple(k for k in obj if k not in four)
            hit = (*four, field_keys, rest == field_keys)
        if len(shapes) < MAX_SHAPES:
            shapes[tuple(obj)] = hit
        return hit

    def read(data: bytes) -> PlainValues | None:
        try:
            obj = loads(data)
        except error:
            return None
        if type(obj) is not dict:
            return None
        hit = shapes.get(tuple(obj), _UNKNOWN)
        if hit is _UNKNOWN:
            hit = learn(obj)
            if hit is _UNKNOWN:
                return exact(obj)
        if hit is None:
            return None
        time_key, level_key, msg_key, logger_key, field_keys, in_order = hit
        if in_order:  # (a fresh object: its other keys, in order, are the fields)
            pop = obj.pop
            time_value, level_value = pop(time_key), pop(level_key)
            msg, logger_value = pop(msg_key), pop(logger_key)
            fields = obj
        else:
            time_value, level_value = obj[time_key], obj[level_key]
            msg, logger_value = obj[msg_key], obj[logger_key]
            fields = {key: obj[key] for key in field_keys}
        if (type(msg) is str and type(logger_value) is str and type(time_value) is str
                and type(level_value) is str and "\n" not in msg):
            level = levels.get(level_value)
            if level is None:
                level = level_name(level_value)
                if len(levels) < MAX_SHAPES:
                    levels[level_value] = level
            # (``clean`` of text that has nothing to strip, without the call)
            return (time_value, level[0], level[1],
                    msg if msg.isascii() and "\x1b" not in msg else clean(msg),
                    logger_value if logger_value.isascii() and "\x1b" not in logger_value
                    else clean(logger_value), fields)
        return None

    read.layout = shapes.get  # type: ignore[attr-defined]  # (``json_shape_text``)
    read.level_name = level_name  # type: ignore[attr-defined]
    return read
