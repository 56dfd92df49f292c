"""Python regexes as RE2 patterns (ClickHouse's ``match``, Loki's line filters) that find a
match in exactly the texts Python's ``re.search`` does, or in more of them.

The pattern is rebuilt from Python's own parse of it, never passed on as written: every
literal is written as ``\\x{HEX}`` (or a plain ASCII letter or digit), so RE2 reads what
Python read whatever the syntax of the two differs in (``\\u0041``, ``\\Z``, ``(?P<n>)``).
Only constructs with the same meaning in both are translated:

- literals, ``.``, classes of literals and ranges, alternation, groups, repetition up to
  RE2's bound of 1000 (lazy and possessive repeats and atomic groups as plain ones: whether a
  match exists is the same, or RE2 finds more);
- ``^``, ``\\A``, ``\\Z``; ``$`` only at the very end of the pattern (Python's ``$`` also
  matches before a final newline: ``\\n?\\z``), or with ``re.MULTILINE``;
- ``\\d``, ``\\w``, ``\\s`` as the Unicode classes Python means (ASCII ones with ``re.ASCII``);
  ``\\b`` only with ``re.ASCII``;
- ``re.IGNORECASE`` on ASCII letters, written out as the classes Python folds them into
  (``k`` also matches KELVIN SIGN, ``s`` LONG S, ``i`` both Turkish i's); other letters of a
  case-insensitive pattern are not translated.

Anything else (backreferences, lookarounds, conditionals, flags set inside the pattern) gives
None: the caller keeps that regex for the local filter (or pushes a literal it needs).
"""

from __future__ import annotations

import re

try:
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - an interpreter without the parser we read
    _parser = None
    _c = None

#: RE2's largest repetition count.
MAX_REPEAT = 1000
#: Non-ASCII characters Python's case-insensitive matching folds onto ASCII letters.
_FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
#: Python's ``\s`` in a str pattern: the characters ``str.isspace`` accepts (a test checks
#: the list against this interpreter's Unicode database).
SPACES = ("\\x{9}-\\x{D}\\x{1C}-\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}"
          "\\x{2029}\\x{202F}\\x{205F}\\x{3000}")


class _Untranslatable(Exception):
    """A construct RE2 does not share with Python."""


def to_re2(pattern: str, flags: int = 0) -> str | None:
    """An RE2 pattern that matches wherever ``re.compile(pattern, flags).search`` does (and
    possibly more), or None when the regex uses what RE2 cannot say the same way."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError, ValueError, TypeError):
        return None
    state_flags = parsed.state.flags
    writer = _Writer(state_flags)
    try:
        body = writer.sequence(list(parsed), top=True)
    except (_Untranslatable, RecursionError):
        return None
    prefix = ""
    if state_flags & re.DOTALL:
        prefix += "s"
    if state_flags & re.MULTILINE:
        prefix += "m"
    return f"(?{prefix}){body}" if prefix else body


def _char(code: int) -> str:
    """One character as RE2 reads it literally, outside and inside classes."""
    char = chr(code)
    if char.isascii() and char.isalnum():
        return char
    return f"\\x{{{code:X}}}"


class _Writer:
    """Writes a parsed Python pattern as RE2 text (see the module)."""

    def __init__(self, flags: int) -> None:
        self.ignorecase = bool(flags & re.IGNORECASE)
        self.ascii = bool(flags & re.ASCII)
        self.multiline = bool(flags & re.MULTILINE)

    def sequence(self, items: list, *, top: bool = False) -> str:
        out = []
        for n, (op, arg) in enumerate(items):
            last = top and n == len(items) - 1
            out.append(self.item(op, arg, last=last))
        return "".join(out)

    def item(self, op, arg, *, last: bool = False) -> str:
        if op is _c.LITERAL:
            return self.literal(arg)
        if op is _c.NOT_LITERAL:
            return "[^" + self.literal_members(arg) + "]"
        if op is _c.ANY:
            return "."
        if op is _c.IN:
            return self.char_class(arg)
        if op is _c.BRANCH:
            return "(?:" + "|".join(self.sequence(list(b)) for b in arg[1]) + ")"
        if op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            if add_flags or del_flags:
                raise _Untranslatable("flags set inside the pattern")
            return "(?:" + self.sequence(list(sub)) + ")"
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return "(?:" + self.sequence(list(arg)) + ")"
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            if low > MAX_REPEAT or (high is not _c.MAXREPEAT and high > MAX_REPEAT):
                raise _Untranslatable("a repetition RE2 cannot count")
            inner = "(?:" + self.sequence(list(sub)) + ")"
            if high is _c.MAXREPEAT:
                return inner + ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}")
            if (low, high) == (0, 1):
                return inner + "?"
            return inner + (f"{{{low}}}" if low == high else f"{{{low},{high}}}")
        if op is _c.AT:
            return self.at(arg, last)
        raise _Untranslatable(str(op))

    def at(self, where, last: bool) -> str:
        if where in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
            return "^" if where is _c.AT_BEGINNING else "\\A"
        if where is _c.AT_END_STRING:
            return "\\z"
        if where is _c.AT_END:
            if self.multiline:
                return "$"
            if last:
                return "(?:\\n?\\z)"
            raise _Untranslatable("$ before the end of the pattern")
        if where in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY) and self.ascii:
            return "\\b" if where is _c.AT_BOUNDARY else "\\B"
        raise _Untranslatable(str(where))

    def literal(self, code: int) -> str:
        if not self.ignorecase or not chr(code).isalpha():
            return _char(code)
        return "[" + self.literal_members(code) + "]"

    def literal_members(self, code: int) -> str:
        """The members of a class that match what Python matches for one literal."""
        char = chr(code)
        if not self.ignorecase or not char.isalpha():
            return _char(code)
        if not char.isascii():
            raise _Untranslatable("a case-insensitive letter beyond ASCII")
        lower = char.lower()
        variants = lower + lower.upper() + ("" if self.ascii else _FOLDS.get(lower, ""))
        return "".join(_char(ord(v)) for v in variants)

    def char_class(self, items: list) -> str:
        negate = False
        members = []
        for op, arg in items:
            if op is _c.NEGATE:
                negate = True
            elif op is _c.LITERAL:
                members.append(self.literal_members(arg))
            elif op is _c.RANGE:
                members.append(self.range_members(*arg))
            elif op is _c.CATEGORY:
                members.append(self.category(arg, alone=len(items) == 1))
            else:
                raise _Untranslatable(str(op))
        if len(members) == 1 and members[0].startswith("[") and not negate:
            return members[0]  # a negated category written whole (\W, \S alone)
        if any(m.startswith("[") for m in members):
            raise _Untranslatable("a negated category among other members")
        return ("[^" if negate else "[") + "".join(members) + "]"

    def range_members(self, low: int, high: int) -> str:
        span = f"{_char(low)}-{_char(high)}"
        if not self.ignorecase:
            return span
        letters = [c for c in range(low, high + 1) if chr(c).isalpha()] if high - low < 256 else None
        if letters is None or any(not chr(c).isascii() for c in letters):
            raise _Untranslatable("a case-insensitive range beyond ASCII")
        return span + "".join(self.literal_members(c) for c in letters)

    def category(self, name, *, alone: bool) -> str:
        if self.ascii:
            table = {_c.CATEGORY_DIGIT: "0-9", _c.CATEGORY_WORD: "0-9A-Za-z_",
                     _c.CATEGORY_SPACE: "\\x{20}\\x{9}-\\x{D}"}
            negated = {_c.CATEGORY_NOT_DIGIT: "[^0-9]", _c.CATEGORY_NOT_WORD: "[^0-9A-Za-z_]",
                       _c.CATEGORY_NOT_SPACE: "[^\\x{20}\\x{9}-\\x{D}]"}
        else:
            spaces = SPACES
            table = {_c.CATEGORY_DIGIT: "\\p{Nd}", _c.CATEGORY_WORD: "\\p{L}\\p{N}_",
                     _c.CATEGORY_SPACE: spaces}
            negated = {_c.CATEGORY_NOT_DIGIT: "\\P{Nd}", _c.CATEGORY_NOT_WORD: "[^\\p{L}\\p{N}_]",
                       _c.CATEGORY_NOT_SPACE: f"[^{spaces}]"}
        if name in table:
            return table[name]
        if name in negated:
            found = negated[name]
            if found.startswith("[") and not alone:
                raise _Untranslatable("a negated category among other members")
            return found
        raise _Untranslatable(str(name))
