"""The roles the keys of a JSON log object play (time, level, message, logger...) and an
object's layout: which key each role is read from, worked out once per key order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from logview.formats.base import FormatError

# Roles a top-level key can play; within a role the lowest rank wins and the other keys stay
# in ``fields`` (a structlog event with a bound ``message=`` keeps it as a field).
_TIME, _LEVEL, _LEVELNO, _MSG, _LOGGER, _EXC, _STACK = range(7)
_ROLES: dict[str, tuple[int, int]] = {}
for _role, _keys in (
    (_TIME, ("@timestamp", "timestamp", "asctime", "time", "ts", "datetime", "date")),
    (_LEVEL, ("levelname", "level", "severity", "log.level", "lvl", "loglevel", "log_level",
              "level_name", "error_severity")),  # (the last: PostgreSQL's jsonlog)
    (_LEVELNO, ("levelno",)),
    (_MSG, ("message", "msg", "event", "short_message", "@message")),
    (_LOGGER, ("logger", "logger_name", "log.logger", "loggerName", "name")),
    (_EXC, ("exc", "exc_info", "exception", "stack_trace", "error.stack_trace", "stacktrace",
            "exc_text")),
    (_STACK, ("stack_info",)),
):
    for _rank, _key in enumerate(_keys):
        _ROLES[_key] = (_role, _rank)
_NO_RANK = 1 << 20

#: The roles a key mapping (``JsonFormat(keys=...)``, user formats) may assign keys to.
KEY_ROLES: dict[str, int] = {"time": _TIME, "level": _LEVEL, "message": _MSG,
                             "logger": _LOGGER, "exc": _EXC}


def role_table(keys: Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """The role table with ``keys`` (role name -> object key) read before every synonym.

    Raises ``FormatError`` for a role that is not in ``KEY_ROLES`` or a key that is not text.
    """
    roles = dict(_ROLES)
    for role_name, key in keys.items():
        role = KEY_ROLES.get(role_name)
        if role is None:
            raise FormatError(f"unknown role {role_name!r}: use {', '.join(KEY_ROLES)}")
        if not isinstance(key, str) or not key:
            raise FormatError(f"{role_name} must name a key (a non-empty string), not {key!r}")
        roles[key] = (role, -1)
    return roles

#: Keys holding nested parts of a schema (ECS ``log``/``error``, pino/bunyan ``err``).
_NESTED_KEYS = frozenset(("log", "error", "err", "error.type"))

#: Reads an object's time, level, message and logger values at once.
Plain = Callable[[dict[str, Any]], tuple[Any, ...]] | None
#: The layouts (``_layout``) of the key orders met with the default roles.
_LAYOUTS: dict[tuple[str, ...], tuple[tuple[str | None, ...], tuple[str, ...], Plain]] = {}
_LAYOUTS_MAX = 1024


def _layout(shape: tuple[str, ...], roles: dict[str, tuple[int, int]]
            ) -> tuple[tuple[str | None, ...], tuple[str, ...], Plain]:
    """For an object's keys in order: the key each role is read from (within a role the
    lowest rank wins), the keys that stay fields, in the order they enter ``fields`` (a key
    that lost its role to a better one enters when it loses it), and for a plain record
    (``record_from_object``'s short way) what reads its time, level, message and logger
    values (None: not plain). It depends on the keys alone, so it is worked
    out once per key order."""
    ranks = [_NO_RANK] * 7
    keys: list[str | None] = [None] * 7
    fields: list[str] = []
    for key in shape:
        hit = roles.get(key)
        if hit is None:
            fields.append(key)
            continue
        role, rank = hit
        if rank < ranks[role]:
            old = keys[role]
            if old is not None:
                fields.append(old)
            ranks[role] = rank
            keys[role] = key
        else:
            fields.append(key)
    # Plain: a time, a level, a logger and a message, nothing else the steps below read
    # (no exception, stack or level number keys, no nested schema part, not GELF, not
    # structlog's "name" beside "event").
    plain = (None not in (keys[_TIME], keys[_LEVEL], keys[_MSG], keys[_LOGGER])
             and keys[_EXC] is None and keys[_STACK] is None and keys[_LEVELNO] is None
             and _NESTED_KEYS.isdisjoint(fields) and keys[_MSG] != "short_message"
             and not (keys[_LOGGER] == "name" and keys[_MSG] == "event"))
    getter = itemgetter(keys[_TIME], keys[_LEVEL], keys[_MSG], keys[_LOGGER]) if plain else None
    return tuple(keys), tuple(fields), getter


def _layout_of(obj: dict[str, Any], roles: dict[str, tuple[int, int]]
               ) -> tuple[tuple[str | None, ...], tuple[str, ...], Plain]:
    shape = tuple(obj)
    layout = _LAYOUTS.get(shape) if roles is _ROLES else None
    if layout is None:
        layout = _layout(shape, roles)
        if roles is _ROLES:
            if len(_LAYOUTS) >= _LAYOUTS_MAX:  # ever new key orders stay bounded
                _LAYOUTS.clear()
            _LAYOUTS[shape] = layout
    return layout
