"""Split query text into tokens: parentheses, or/and/not, and terms with their positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from logview.query.errors import QueryError

LPAREN = "("
RPAREN = ")"
OR = "or"
AND = "and"
NOT = "not"
WORD = "word"  # a bare word or a "quoted phrase": substring search
REGEX = "regex"  # /pattern/flags
COMPARE = "compare"  # key OP value

KEYWORDS = {"or": OR, "and": AND, "not": NOT}

#: Keys whose ``key:value`` form means something; for any other key, ``key:value`` is a word
#: (so ``http://host`` and ``ERROR:`` search as typed).
COLON_KEYS = frozenset({"level", "logger", "message", "msg", "source", "since", "until", "has"})

_KEY_OP_RE = re.compile(r"([A-Za-z_@$][\w.@$-]*)(>=|<=|!=|=|<|>|~|:)")
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


@dataclass(slots=True)
class Token:
    """One token. For terms: ``value`` is the word, phrase, regex pattern or compared value."""

    kind: str
    pos: int
    end: int
    value: str = ""
    key: str = ""
    op: str = ""
    value_pos: int = 0
    flags: int = 0  # re flags of a /regex/ (term or value)
    is_regex_value: bool = False  # the compared value was written as /regex/
    quoted: bool = False


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``; raises QueryError on unterminated quotes/regexes and missing values."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            tokens.append(Token(LPAREN, i, i + 1))
            i += 1
        elif c == ")":
            tokens.append(Token(RPAREN, i, i + 1))
            i += 1
        elif c == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("'-' needs a term right after it", i)
            tokens.append(Token(NOT, i, i + 1, value="-"))
            i += 1
        elif c == '"':
            value, end = _read_quoted(text, i)
            if not value:
                raise QueryError("empty phrase", i)
            tokens.append(Token(WORD, i, end, value=value, quoted=True))
            i = end
        elif c == "/":
            pattern, flags, end = _read_regex(text, i)
            tokens.append(Token(REGEX, i, end, value=pattern, flags=flags, value_pos=i))
            i = end
        else:
            token = _read_compare(text, i)
            if token is None:
                word, end = _read_bare(text, i, stop_at_keyword=True)
                kind = KEYWORDS.get(word.lower())
                token = Token(kind, i, end, value=word) if kind else Token(WORD, i, end, word)
            tokens.append(token)
            i = token.end
    return tokens


def _read_compare(text: str, i: int) -> Token | None:
    """A ``key OP value`` term at ``i``, or None when the text there is not one."""
    m = _KEY_OP_RE.match(text, i)
    if m is None:
        return None
    key, op = m.group(1), m.group(2)
    if op == ":" and key not in COLON_KEYS:
        return None
    start = m.end()
    token = Token(COMPARE, i, start, key=key, op=op, value_pos=start)
    if start < len(text) and text[start] == '"':
        token.value, token.end = _read_quoted(text, start)
        token.quoted = True
    elif start < len(text) and text[start] == "/" and op == "~":
        token.value, token.flags, token.end = _read_regex(text, start)
        token.is_regex_value = True
    else:
        token.value, token.end = _read_bare(text, start)
        if not token.value:
            raise QueryError(f"'{key}{op}' needs a value", m.start(2))
    return token


def _read_bare(text: str, i: int, *, stop_at_keyword: bool = False) -> tuple[str, int]:
    """Text up to whitespace or an unbalanced ``)``; balanced parentheses stay in the word."""
    depth = 0
    j, n = i, len(text)
    while j < n:
        c = text[j]
        if c.isspace():
            break
        if c == "(":
            if stop_at_keyword and depth == 0 and text[i:j].lower() in KEYWORDS:
                break  # "not(a or b)"
            depth += 1
        elif c == ")":
            if depth == 0:
                break
            depth -= 1
        j += 1
    return text[i:j], j


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """A double-quoted string at ``i`` (``\\"`` and ``\\\\`` are escapes); returns (value, end)."""
    out: list[str] = []
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\" and j + 1 < n and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
        elif c == '"':
            return "".join(out), j + 1
        else:
            out.append(c)
            j += 1
    raise QueryError("unterminated quote", i)


def _read_regex(text: str, i: int) -> tuple[str, int, int]:
    """A ``/pattern/flags`` at ``i`` (``\\/`` is a slash); returns (pattern, re flags, end)."""
    out: list[str] = []
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\" and j + 1 < n:
            out.append("/" if text[j + 1] == "/" else text[j : j + 2])
            j += 2
        elif c == "/":
            break
        else:
            out.append(c)
            j += 1
    else:
        raise QueryError("unterminated regex (quote text to search for a '/')", i)
    if not out:
        raise QueryError("empty regex", i)
    j += 1
    flags = 0
    while j < n and text[j].isalnum():
        flag = _REGEX_FLAGS.get(text[j])
        if flag is None:
            raise QueryError(
                f"unknown regex flag '{text[j]}' (use i, m or s; quote a path to search it)", j
            )
        flags |= flag
        j += 1
    if j < n and not text[j].isspace() and text[j] != ")":
        raise QueryError("unexpected text after regex (quote a path to search it)", j)
    return "".join(out), flags, j
