"""Redaction: e-mail addresses, IP addresses, tokens, secrets and card numbers masked in records.

A ``Redactor`` holds the chosen rules, each one compiled regex run over a text only when the
text holds the rule's gate (``@`` for e-mail...; see ``Redactor`` for why not one alternation).
A match is replaced by its rule's marker (``[email]``, ``[ipv4]``...); rules whose shape alone
says too little are confirmed in the replacement callback (an IPv4 octet is at most 255, an
IPv6 candidate must parse, a card number must carry an issuer's prefix and pass the Luhn
check), and a candidate that fails is left as it was.

Redaction happens where records are made from bytes (``LogStore.parse`` and the scanner's
confirm step), so every reader of records (viewer, copy, ``--print``, ``-o jsonl``) gets the
redacted record. The level, logger, time and source of a record are never redacted: they are
what the level bar, the logger tree and the histogram count from raw bytes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from logview.record import Record


class RedactError(ValueError):
    """A redaction rule that cannot be used (a bad regex, an unknown rule name)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A named rule: ``pattern`` finds it; groups named ``v``, ``v2``... are the part masked
    (all of the match when none took part); ``confirm(match)`` says whether a match really is
    one; ``gate``: lower-case literals one of which the lower-cased text holding a match
    contains (found at C speed before the regex runs), or a test of the text."""

    name: str
    pattern: str
    description: str
    confirm: Callable[[re.Match[str]], bool] | None = None
    gate: tuple[str, ...] | Callable[[str], bool] = ()

    @property
    def marker(self) -> str:
        return f"[{self.name}]"


def luhn(digits: str) -> bool:
    """The Luhn checksum of a string of digits is valid."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


#: Issuer prefixes of the card networks (Visa 4, Mastercard 51-55 and 2221-2720, Amex 34 37,
#: Diners 36 38 300-305, Discover 6011 644-649 65, JCB 35, UnionPay 62, Maestro 50 56-69): a
#: 13-19 digit number that starts otherwise (an epoch in milliseconds, an id) is no card.
_ISSUER_RE = re.compile(r"4|5[0-6]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[0-8]|6")


def is_card(text: str) -> bool:
    """13-19 digits (spaces and dashes between them ignored) of a card network, Luhn-valid."""
    digits = text.replace(" ", "").replace("-", "")
    return (13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit()
            and _ISSUER_RE.match(digits) is not None and luhn(digits))


def _alone(match: re.Match[str], before: str, after: str) -> bool:
    """The match is not part of a longer token: the character before it is none of
    ``before``'s kind and the one after none of ``after``'s (a dot counts after only when a
    digit follows it: ``1.2.3.4.5`` is no address, ``from 1.2.3.4.`` ends with one)."""
    text, start, end = match.string, match.start(), match.end()
    if start and (text[start - 1].isalnum() or text[start - 1] in before):
        return False
    if end < len(text):
        char = text[end]
        if char.isalnum() or char in after:
            return False
        if char == "." and text[end + 1:end + 2].isdigit():
            return False
    return True


def _card_match(match: re.Match[str]) -> bool:
    return _alone(match, "_.-", "_-") and is_card(match.group())


def _ipv4_match(match: re.Match[str]) -> bool:
    return _alone(match, "_.", "_") and all(
        int(octet) <= 255 and (octet == "0" or octet[0] != "0")
        for octet in match.group().split("."))


def _ipv6_match(match: re.Match[str]) -> bool:
    """Two or more colons and a real IPv6 address (``12:34:56``, MAC addresses, ``std::x``
    are none)."""
    text = match.group()
    address = text.partition("%")[0]
    if not _alone(match, "_:.", "_:") or ("::" not in address and address.count(":") != 7):
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def is_ipv6(text: str) -> bool:
    """``text`` (an optional ``%zone`` aside) is an IPv6 address with at least two groups."""
    match = re.fullmatch(r".+", text)
    return match is not None and _ipv6_match(match)


def _ipv6_gate(text: str) -> bool:
    return "::" in text or text.count(":") >= 7


#: Names of keys whose values are secrets (``password=``, ``"api_key": ...``, ``X-Auth-Token:``).
_SECRET_NAMES = (r"password|passwd|secret(?:[_-]?(?:access[_-]?)?key)?|token|api[_-]?key|apikey"
                 r"|access[_-]?key|private[_-]?key|credentials?")
_SECRET_KEY_RE = re.compile(r"[\w.-]{0,40}?(?:" + _SECRET_NAMES + ")", re.IGNORECASE)

#: The built-in rules, in the order they are applied.
BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("secret",
         r"(?i:" + _SECRET_NAMES + r")[\"']?[ \t]*[:=][ \t]*"
         r"(?:\"(?P<v>(?:[^\"\\\n]|\\.){1,4096})\"|'(?P<v2>[^'\n]{1,4096})'"
         r"|(?P<v3>(?!\[secret\])[^\s\"',;&}\]]{1,4096}))",
         "the value of password=, token=, api_key=, secret=... in key=value text and JSON "
         "(and of any field named so)",
         gate=("passw", "secret", "token", "apikey", "api_key", "api-key", "access",
               "private", "credential")),
    Rule("token",
         r"(?i:authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
         r"(?:(?:bearer|basic|token|digest)[ \t]+)?)(?P<v>[A-Za-z0-9\-._~+/]{1,4096}=*)"
         r"|(?i:bearer)[ \t]+(?P<v2>[A-Za-z0-9\-._~+/]{8,4096}=*)",
         "Authorization header values and Bearer tokens",
         gate=("authorization", "bearer")),
    Rule("jwt",
         r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{4,8192}+\.[A-Za-z0-9_-]{4,8192}+\."
         r"[A-Za-z0-9_-]{0,8192}+",
         "JSON web tokens (eyJ...)", lambda m: _alone(m, "_-", "_-"), gate=("eyj",)),
    Rule("key",
         r"(?<![\w-])(?:sk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{20,512}|[sr]k_(?:live|test)_"
         r"[A-Za-z0-9]{16,512}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}"
         r"|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,512}"
         r"|glpat-[A-Za-z0-9_-]{20,255})",
         "API keys of known shapes: sk-..., AKIA... (AWS), ghp_... (GitHub), xoxb-/xoxp-... "
         "(Slack), glpat-... (GitLab)", lambda m: _alone(m, "_", "_"),
         gate=("sk-", "k_live_", "k_test_", "akia", "asia", "gh", "github_pat_", "xox",
               "glpat-")),
    Rule("email",
         r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}",
         "e-mail addresses", lambda m: _alone(m, ".%+-", ""), gate=("@",)),
    Rule("ipv6",
         r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?:%[\w.-]{1,32})?",
         "IPv6 addresses (checked: they must parse)", _ipv6_match, gate=_ipv6_gate),
    Rule("ipv4",
         r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
         "IPv4 addresses (not parts of longer dotted numbers such as 1.2.3.4.5)", _ipv4_match,
         gate=lambda text: text.count(".") >= 3),
    Rule("card",
         r"[2-6]\d{3}[ -]?\d(?:[ -]?\d){8,14}",
         "card numbers: 13-19 digits (spaces or dashes between them), an issuer's prefix, "
         "Luhn-valid", _card_match),
)
BUILTIN_NAMES = tuple(rule.name for rule in BUILTIN_RULES)
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,40}")
#: Most levels of nested fields redacted (deeper ones are masked whole).
MAX_DEPTH = 32


def custom_rule(name: str, pattern: str, where: str = "") -> Rule:
    """A rule of the user's config; ``RedactError`` names the rule when it cannot be used."""
    label = f"{where}rule {name!r}"
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise RedactError(f"{label}: a rule name is a letter, then letters, digits, _ or -")
    if name in BUILTIN_NAMES:
        raise RedactError(f"{label}: the name of a built-in rule ({', '.join(BUILTIN_NAMES)})")
    if not isinstance(pattern, str) or not pattern:
        raise RedactError(f"{label}: the rule must be a non-empty regex string")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RedactError(f"{label}: bad regex {pattern!r}: {exc}") from None
    if compiled.search(""):
        raise RedactError(f"{label}: the regex {pattern!r} matches empty text")
    return Rule(name, pattern, f"custom: {pattern}")


class Redactor:
    """Masks what its rules find in text and in records.

    Each rule is one regex pass over a text, and only over a text that holds its gate
    (literals found at C speed first): with CPython's ``re`` that is faster than one
    alternation of every rule, which loses the engine's skip to a pattern's first character
    (measured in the README's "Redaction"). Rules apply in order (the user's own first), so a
    later rule sees the earlier ones' markers, never their text.

    ``search_original``: the query is tested on the original record (everything shown is
    still redacted); by default it is tested on the redacted one.
    """

    def __init__(self, rules: Iterable[Rule], *, search_original: bool = False) -> None:
        self.rules = tuple(rules)
        if not self.rules:
            raise RedactError("no redaction rule chosen")
        self.search_original = search_original
        self.markers = tuple(rule.marker for rule in self.rules)
        self.secret_keys = any(rule.name == "secret" for rule in self.rules)
        self.cards = any(rule.name == "card" for rule in self.rules)
        self._passes = [self._compile(rule) for rule in self.rules]
        #: Every literal gate: a text holding none of them skips every rule gated by literals.
        literals = sorted({lit for rule in self.rules if isinstance(rule.gate, tuple)
                           for lit in rule.gate})
        self._rare = re.compile("|".join(map(re.escape, literals))) if literals else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    @staticmethod
    def _compile(rule: Rule):
        """(gate literals or None, gate test or None, the pass over a text) of a rule."""
        pattern = re.compile(rule.pattern)
        values = [index for name, index in pattern.groupindex.items()
                  if rule.name in BUILTIN_NAMES and re.fullmatch(r"v\d?", name)]
        marker, confirm = rule.marker, rule.confirm

        def replace(match: re.Match[str]) -> str:
            if confirm is not None and not confirm(match):
                return match.group()
            for group in values:
                start, end = match.span(group)
                if start >= 0:
                    base, text = match.start(), match.group()
                    return text[: start - base] + marker + text[end - base:]
            return marker

        sub = pattern.sub
        gate = rule.gate
        literals = gate if isinstance(gate, tuple) and gate else None
        test = gate if callable(gate) else None
        return literals, test, (lambda text: sub(replace, text))

    def text(self, text: str) -> str:
        """``text`` with everything the rules find replaced by their markers."""
        if not text:
            return text
        rare = self._rare is not None and self._rare.search(text.lower()) is not None
        lower = text.lower() if rare else ""
        for literals, test, apply in self._passes:
            if literals is not None:
                if not rare or not any(literal in lower for literal in literals):
                    continue
            elif test is not None and not test(text):
                continue
            out = apply(text)
            if out != text:
                text = out
                lower = text.lower() if rare else ""
        return text

    def data(self, data: bytes) -> bytes:
        """Bytes redacted as text, line by line (what a record's raw text gets: no built-in
        rule spans lines); bytes that are not UTF-8 pass through unchanged."""
        text = data.decode("utf-8", "surrogateescape")
        redact = self.text
        out = "\n".join([redact(line) for line in text.split("\n")])
        return out.encode("utf-8", "surrogateescape")

    def value(self, value: Any, depth: int = 0) -> Any:
        """A field's value redacted: strings as text, card numbers given as numbers, inside
        lists and objects too (keys named like secrets: their whole value)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            return "[card]" if self.cards and 13 <= len(str(abs(value))) <= 19 and is_card(
                str(value)) else value
        if depth >= MAX_DEPTH:
            return "[nested]"
        if isinstance(value, dict):
            return self.fields(value, depth + 1)
        if isinstance(value, (list, tuple)):
            return [self.value(item, depth + 1) for item in value]
        return self.text(str(value))

    def fields(self, fields: dict[Any, Any], depth: int = 0) -> dict[Any, Any]:
        """A record's fields redacted (a new dict)."""
        out: dict[Any, Any] = {}
        for key, value in fields.items():
            if (self.secret_keys and isinstance(key, str) and value is not None
                    and _SECRET_KEY_RE.fullmatch(key)):
                out[key] = "[secret]"
            else:
                out[key] = self.value(value, depth)
        return out

    def record(self, record: Record) -> Record:
        """A new record with its message, exception text, fields and raw text redacted (its
        bytes too: rewritten only where the raw text changed, so the rest stays as read)."""
        raw = self.text(record.raw) if record.raw else record.raw
        data = record.data
        if data is not None and raw != record.raw:
            data = self.data(data)
        message = record.message
        message = raw if message == record.raw else self.text(message)  # plain lines: once
        return Record(
            message=message,
            time=record.time,
            time_text=record.time_text,
            level=record.level,
            levelno=record.levelno,
            logger=record.logger,
            exc=self.text(record.exc) if record.exc else record.exc,
            fields=self.fields(record.fields) if record.fields else {},
            source=record.source,
            line=record.line,
            offset=record.offset,
            raw=raw,
            data=data,
        )

    def touches_marker(self, literal: str) -> bool:
        """Whether ``literal`` could be found in redacted text only thanks to a marker: it
        holds a bracket or lies within a marker's name. Any other literal found in redacted
        text lies in a piece the rules left alone, so the original holds it too (the byte
        prefilter's needles stay a necessary condition)."""
        if "[" in literal or "]" in literal:
            return True
        folded = literal.lower()
        return any(folded in marker.lower() for marker in self.markers)


def choose_rules(names: Iterable[str], custom: Iterable[Rule] = ()) -> list[Rule]:
    """The rules named (``all``: every built-in and custom rule); ``RedactError`` for an
    unknown name."""
    custom = list(custom)
    known = {rule.name: rule for rule in (*BUILTIN_RULES, *custom)}
    chosen: list[Rule] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name == "all":
            picked = [*BUILTIN_RULES, *custom]
        elif name in known:
            picked = [known[name]]
        else:
            raise RedactError(f"unknown redaction rule {name!r} (known: all, "
                              f"{', '.join(known)})")
        chosen.extend(rule for rule in picked if rule not in chosen)
    # Custom rules first: at one position the user's own rule wins over a built-in one.
    return sorted(chosen, key=lambda rule: rule.name in BUILTIN_NAMES)


def describe_rules(custom: Iterable[Rule] = ()) -> str:
    """The rules as ``--redact-rules`` lists them: name, marker, what it masks."""
    lines = [f"  {rule.name:<12} {rule.marker:<14} {rule.description}"
             for rule in (*BUILTIN_RULES, *custom)]
    return "redaction rules (--redact NAME,NAME...; --redact alone: all):\n" + "\n".join(
        lines) + "\n"
