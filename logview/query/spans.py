"""A query's top-level AND parts as spans of its text, so the viewer can list, switch off and
put back each part exactly as it was typed (``pushdown.conjuncts`` rewrites its parts instead).

``level>=WARNING -logger:urllib3 (a or b) and /timeout/`` has four parts; a query whose top
level is an ``or`` (``a b or c``) is one part (``any_of``: it needs parentheses when it is
joined with other parts).
"""

from __future__ import annotations

from dataclasses import dataclass

from logview.query.errors import QueryError
from logview.query.lexer import AND, LPAREN, NOT, OR, RPAREN, Token, tokenize


@dataclass(frozen=True, slots=True)
class Span:
    """One top-level part: ``text[start:end]`` of the query it was cut from."""

    start: int
    end: int
    text: str
    any_of: bool = False


def conjunct_spans(text: str) -> list[Span]:
    """The top-level AND parts of ``text`` in order (none for a blank query).

    Text that does not tokenize, or whose parentheses do not balance, is one part: it is
    never cut where the parser would read it differently.
    """
    try:
        tokens = tokenize(text)
    except QueryError:
        tokens = None
    if not tokens:
        stripped = text.strip()
        if not stripped:
            return []
        start = text.index(stripped)
        return [Span(start, start + len(stripped), stripped)]
    whole = Span(tokens[0].pos, tokens[-1].end, text[tokens[0].pos:tokens[-1].end])
    depth = 0
    for token in tokens:
        depth += (token.kind == LPAREN) - (token.kind == RPAREN)
        if depth < 0:
            return [whole]
        if depth == 0 and token.kind == OR:
            return [Span(whole.start, whole.end, whole.text, any_of=True)]
    if depth:
        return [whole]
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind == AND:
            i += 1
            continue
        first = i
        while i < len(tokens) and tokens[i].kind == NOT:
            i += 1
        if i >= len(tokens):
            return [whole]
        i = _operand_end(tokens, i)
        start, end = tokens[first].pos, tokens[i - 1].end
        spans.append(Span(start, end, text[start:end]))
    return spans


def _operand_end(tokens: list[Token], i: int) -> int:
    """The index after the operand that starts at ``tokens[i]`` (a term or a group)."""
    if tokens[i].kind != LPAREN:
        return i + 1
    depth = 0
    for j in range(i, len(tokens)):
        depth += (tokens[j].kind == LPAREN) - (tokens[j].kind == RPAREN)
        if depth == 0:
            return j + 1
    return len(tokens)
