"""Byte regexes over written numbers: whole numbers in a range, and JSON values that may hold one.

A query term on a number (``status>=500``, ``level>=ERROR`` over numeric levels) may look for
its value in the raw bytes before a record is decoded. ``int_range`` matches exactly the plain
decimal forms (no sign, no leading zero) of the whole numbers in a range; ``json_number_value``
is a superset for a JSON value: plain integers are bounded exactly, and every form the range
cannot bound (floats, exponents, signs, leading zeros, strings holding numbers, escapes, arrays
of bytes, ``Infinity``) is let through for the parser to decide.
"""

from __future__ import annotations

import re

#: JSON whitespace (between a key, its colon and its value); possessive, so ``re`` never
#: backtracks into it (a third faster on a key every record holds).
JSON_SPACE = rb"[ \t\r\n]*+"
#: What may follow a plain integer that ends there (not a digit, a fraction or an exponent).
_INT_END = rb"(?![0-9.eE])"

Ranges = list[tuple[int, int | None]]


def _same_length(a: str, b: str) -> list[str]:
    """Regexes (alternatives) for the numbers from ``a`` to ``b``, digit strings of one length."""
    if a == b:
        return [a]
    if len(a) == 1:
        return [f"[{a}-{b}]"]
    i = 0
    while a[i] == b[i]:
        i += 1
    if i:
        return [a[:i] + part for part in _same_length(a[i:], b[i:])]
    rest = len(a) - 1
    parts: list[str] = []
    low, high = int(a[0]), int(b[0])
    if a[1:] != "0" * rest:
        parts.extend(a[0] + part for part in _same_length(a[1:], "9" * rest))
        low += 1
    tail = []
    if b[1:] != "9" * rest:
        tail = [b[0] + part for part in _same_length("0" * rest, b[1:])]
        high -= 1
    if low <= high:
        head = str(low) if low == high else f"[{low}-{high}]"
        parts.append(head + "[0-9]" * rest)
    return parts + tail


def int_range(lo: int, hi: int | None) -> bytes | None:
    """A regex matching exactly the plain decimal forms of the whole numbers in ``[lo, hi]``
    (``hi`` None: no bound) that are not negative, or None when there is none. The caller says
    where the number ends (``int_range`` does not look past it)."""
    parts = _int_parts(lo, hi)
    return ("(?:" + "|".join(parts) + ")").encode("ascii") if parts else None


def _int_parts(lo: int, hi: int | None) -> list[str]:
    """``int_range``'s alternatives, shortest numbers first (none: the range is empty)."""
    lo = max(lo, 0)
    if hi is not None and hi < lo:
        return []
    parts: list[str] = []
    length = len(str(lo))
    top = len(str(hi)) if hi is not None else length
    for digits in range(length, top + 1):
        first = lo if digits == length else 10 ** (digits - 1)
        last = hi if hi is not None and digits == top else 10 ** digits - 1
        parts.extend(_same_length(str(first), str(last)))
    if hi is None:
        parts.append(f"[1-9][0-9]{{{top},}}")
    return parts


def ranges_of(test, limit: int = 256) -> Ranges:
    """The whole numbers ``n >= 0`` that ``test(n)`` accepts, as ranges, when ``test`` is
    monotone past ``limit`` (its answer at ``limit`` holds for every bigger number)."""
    out: Ranges = []
    start = None
    for n in range(limit + 1):
        if test(n):
            if start is None:
                start = n
        elif start is not None:
            out.append((start, n - 1))
            start = None
    if start is not None:
        out.append((start, None if test(limit) else limit))
    return out


def complement(ranges: Ranges) -> Ranges:
    """The whole numbers ``n >= 0`` outside ``ranges`` (sorted, disjoint), as ranges."""
    out: Ranges = []
    low: int | None = 0
    for lo, hi in sorted(ranges):
        if low is None:
            break
        if lo > low:
            out.append((low, lo - 1))
        low = None if hi is None else max(low, hi + 1)
    if low is not None:
        out.append((low, None))
    return out


def json_number_value(ranges: Ranges, text: bytes = b"") -> bytes:
    """A regex for a JSON value (after the colon and spaces) that may be read as a number in
    ``ranges``: a plain integer in them, or any form a range cannot bound (a float, exponent,
    sign, leading zero, ``Infinity``/``NaN``, a string holding one of these or opening with
    spaces, an escape or a non-ASCII byte, an array of bytes a journal entry decodes to text).
    ``text``: more alternatives for what a string may open with (level names).

    It opens with a quick refusal of the common value no range holds, a whole plain integer
    outside them (``200,`` for ``>=500``; the longest numbers tried first): a lookahead that
    turns most records away in a few steps instead of trying every alternative (a fifth of
    the search's time over JSON lines). It refuses nothing the alternatives accept: its
    digits end the value (a comma, bracket, brace or space follows), they are not a range's,
    and nothing else opens with a digit but a float, whose ``.``, ``e`` or ``E`` the refusal
    does not allow."""
    plain = [p for p in (int_range(lo, hi) for lo, hi in ranges) if p is not None]
    exact = (b"(?:" + b"|".join(plain) + b")" + _INT_END + b"|") if plain else b""
    loose = rb"[0-9]++[.eE]|"
    # (in a string, digits may go on as other scripts' digits, "1\u0660" is 10: the query
    # reads any Unicode digit, so digits followed by an escape or a non-ASCII byte pass)
    string = (rb'" *+(?:' + text + exact + rb"[0-9]++[.eE\\\x80-\xff]|"
              + rb"[-+.0\\\x80-\xff])")
    # (the longest numbers first: a common value is refused by the first alternative tried)
    outside = [part for lo, hi in complement(ranges) for part in _int_parts(lo, hi)][::-1]
    refuse = (b"(?!(?:" + "|".join(outside).encode("ascii") + rb")[,}\] \t\r\n])"
              if outside else b"")
    return refuse + b"(?:" + string + b"|" + exact + loose + rb"[-+.IN\[])"


#: Characters a JSON writer may escape in a key: such a key is not looked for in the bytes.
_ESCAPABLE = re.compile(r'[^\x20-\x7e]|["\\/<>&\']')


def json_key(last: str) -> bytes | None:
    """A regex for the bytes that end a JSON key whose last dotted part is ``last`` (a nested
    object's own key, a flat ``"a.b"`` key, GELF's ``_b``), its colon and the spaces around
    it; None when a writer might escape the key (the bytes would not hold it as such)."""
    if not last or _ESCAPABLE.search(last):
        return None
    return re.escape(last.encode("ascii")) + b'"' + JSON_SPACE + b":" + JSON_SPACE
