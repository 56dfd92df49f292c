"""How query values meet record values: numbers, text forms, dotted field paths and times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from logview.timeparse import parse_time, to_timestamp

#: Marks an absent field (``None`` is a present JSON null).
MISSING: Any = object()

_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RE = re.compile(r"[+-]?\d+")
_RELATIVE_RE = re.compile(
    r"-?(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def as_number(value: Any) -> int | float | None:
    """A number from an int, a float or a numeric string ("503"); None otherwise (bools too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value) < 64:
        text = value.strip()
        if _NUMBER_RE.fullmatch(text):
            return int(text) if _INT_RE.fullmatch(text) else float(text)
    return None


def as_text(value: Any) -> str:
    """The text form a value is compared as: strings as they are, others as JSON writes them."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)


def field_getter(key: str):
    """A function ``fields -> value or MISSING`` for a possibly dotted key.

    A flat key literally named ``http.status`` wins; otherwise the dots walk nested dicts (and
    list indexes), trying every way to split the key, so ``{"http.req": {"id": 1}}`` works too.
    """
    if "." not in key:

        def get_flat(fields: dict[str, Any]) -> Any:
            return fields.get(key, MISSING)

        return get_flat
    parts = key.split(".")

    def get_dotted(fields: dict[str, Any]) -> Any:
        value = fields.get(key, MISSING)
        return _walk(fields, parts, 0) if value is MISSING else value

    return get_dotted


def _walk(node: Any, parts: list[str], start: int) -> Any:
    for end in range(start + 1, len(parts) + 1):
        name = ".".join(parts[start:end])
        if isinstance(node, dict):
            if name not in node:
                continue
            child = node[name]
        elif isinstance(node, list) and end == start + 1 and name.isdigit():
            index = int(name)
            if index >= len(node):
                return MISSING
            child = node[index]
        else:
            return MISSING
        if end == len(parts):
            return child
        found = _walk(child, parts, end)
        if found is not MISSING:
            return found
    return MISSING


def parse_time_value(text: str, now: datetime) -> float | None:
    """Seconds since the epoch for an ISO time, a relative ``-15m`` or now/today/yesterday.

    Naive times are local time. None when the text is not a time.
    """
    value = text.strip()
    lowered = value.lower()
    if lowered == "now":
        return to_timestamp(now)
    if lowered in ("today", "yesterday"):
        local = now.astimezone() if now.tzinfo is not None else now
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if lowered == "yesterday":
            midnight -= timedelta(days=1)
        return to_timestamp(midnight)
    m = _RELATIVE_RE.fullmatch(value)
    if m is not None:
        base = to_timestamp(now)
        if base is None:
            return None
        return base - float(m.group(1)) * _UNIT_SECONDS[m.group(2)[0].lower()]
    try:
        parsed: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        parsed = parse_time(value) if value[:1].isdigit() else None
    return to_timestamp(parsed) if parsed is not None else None
