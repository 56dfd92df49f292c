"""A field term's key and value as a byte regex over JSON objects (``status>=500``).

Where a format's fields are the keys of JSON objects (``LogFormat.json_fields``), a record that
matches ``key OP number`` or ``key=text`` holds the key's last name, a colon and a value the
term can accept. The regex is a superset of those records, as the terms compare
(``terms._field_term``, ``values.as_number``, ``values.as_text``): plain integers are bounded
exactly, every other written form that may be read as a satisfying number is let through, and
text is compared as its JSON string. What it cannot bound gives no pattern (the key alone, or
nothing, stays the needle).
"""

from __future__ import annotations

import math
import re

from logview.number_patterns import Ranges, json_key, json_number_value
from logview.query.values import as_number

#: Text a writer may escape inside a JSON string, or that other values print as
#: (``as_text``): such text is not looked for as a quoted string.
_ESCAPABLE = re.compile(r'[^\x20-\x7e]|["\\/<>&\']')
_NON_FINITE = frozenset(("inf", "-inf", "nan", "-nan", "infinity", "-infinity"))


def number_ranges(op: str, number: float) -> Ranges | None:
    """The whole numbers ``n >= 0`` with ``n OP number``; None when ``number`` is no finite
    value (nothing can be bounded)."""
    if not math.isfinite(number):
        return None
    if op == ">=":
        return [(math.ceil(number), None)]
    if op == ">":
        return [(math.floor(number) + 1, None)]
    if op == "<=":
        return [(0, math.floor(number))] if number >= 0 else []
    if op == "<":
        return [(0, math.ceil(number) - 1)] if number > 0 else []
    if op == "=":
        return [(int(number), int(number))] if number == int(number) and number >= 0 else []
    return None


def field_pattern(key: str, op: str, value: str) -> bytes | None:
    """A regex every raw JSON record matching the field term ``key OP value`` contains, or None
    (``!=``, ``~``, text order, a list index, an escaped key, text a writer may escape)."""
    last = key.rsplit(".", 1)[-1]
    if last.isdigit():
        return None  # a list index: no key before the value
    head = json_key(last)
    if head is None:
        return None
    number = as_number(value)
    if number is not None:
        if op not in (">=", ">", "<=", "<", "="):
            return None
        ranges = number_ranges(op, number)
        return None if ranges is None else head + json_number_value(ranges)
    if op != "=" or value.lower() in _NON_FINITE or value[:1] in ("{", "[") or (
            not value or _ESCAPABLE.search(value)):
        return None
    text = re.escape(value.encode("ascii"))
    bare = b"|" + text if value in ("true", "false", "null") else b""
    # journald writes text that is no clean UTF-8 as an array of bytes (decoded to text)
    return head + b'(?:"' + text + b'"' + bare + rb"|\[)"
