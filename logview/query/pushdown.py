"""Pushing a query down into a store that can filter by itself (journalctl now; ClickHouse,
Loki, Elasticsearch/OpenSearch or VictoriaLogs next).

A store is handed only the top-level AND conjuncts of the query that it evaluates exactly as
logview does, or as a superset: what it returns is then filtered locally by the whole query
again, so a pushed-down filter only saves reading and transfer, and never decides what
matches. Each store implements ``PushDownTarget.pushdown`` over the same ``conjuncts`` of a
query and says, term by term, what it pushed and what stays local (``--explain`` shows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from logview.query.lexer import COMPARE, REGEX, WORD, Token, tokenize
from logview.query.plan import AndNode, Node, NotNode, OrNode, Query
from logview.query.terms import Term

_TERM_KINDS = (WORD, REGEX, COMPARE)


@dataclass(frozen=True, slots=True)
class Conjunct:
    """One top-level AND part of a query.

    ``terms`` holds its term tokens when it is a single term (one token) or an OR of single
    terms (``any_of``); it is empty for anything else (a negation, an OR of groups), which no
    store is asked to evaluate. ``text`` is how it reads in the query.
    """

    text: str
    terms: tuple[Token, ...] = ()
    any_of: bool = False


@dataclass(slots=True)
class PushDown:
    """What a store was asked (``arguments``) and, per conjunct, what it became or why not.

    ``pushed`` pairs a conjunct's text with what the store evaluates for it; ``local`` pairs a
    conjunct's text with why the store cannot evaluate it (it is only filtered locally).
    """

    arguments: list[str] = field(default_factory=list)
    pushed: list[tuple[str, str]] = field(default_factory=list)
    local: list[tuple[str, str]] = field(default_factory=list)

    @property
    def remaining(self) -> list[str]:
        """The conjuncts only the local filter evaluates."""
        return [text for text, _why in self.local]


class PushDownTarget(Protocol):
    """A store that filters by itself: what of ``query`` it evaluates, as a ``PushDown``."""

    def pushdown(self, query: Query) -> PushDown: ...


def conjuncts(query: Query) -> list[Conjunct]:
    """The top-level AND parts of ``query`` (groups of ANDs flattened), in query order."""
    root = query._root  # the tree is this package's own
    if root is None:
        return []
    tokens = [token for token in tokenize(query.text) if token.kind in _TERM_KINDS]
    leaves: list[Term] = []
    _leaves(root, leaves)
    if len(leaves) != len(tokens):  # cannot happen: each term token builds one leaf
        return [Conjunct(query.text)]
    token_of = {id(term): token for term, token in zip(leaves, tokens, strict=True)}
    out: list[Conjunct] = []
    _collect(root, query.text, token_of, out)
    return out


def _leaves(node: Node, out: list[Term]) -> None:
    if isinstance(node, Term):
        out.append(node)
    elif isinstance(node, NotNode):
        _leaves(node.child, out)
    else:
        for child in node.children:
            _leaves(child, out)


def _collect(node: Node, text: str, token_of: dict[int, Token], out: list[Conjunct]) -> None:
    if isinstance(node, AndNode):
        for child in node.children:
            _collect(child, text, token_of, out)
        return
    shown = _render(node, text, token_of)
    if isinstance(node, Term):
        out.append(Conjunct(shown, (token_of[id(node)],)))
    elif isinstance(node, OrNode) and all(isinstance(c, Term) for c in node.children):
        out.append(Conjunct(shown, tuple(token_of[id(c)] for c in node.children), any_of=True))
    else:
        out.append(Conjunct(shown))


def _render(node: Node, text: str, token_of: dict[int, Token]) -> str:
    """A node as query text (its terms as typed; operators and groups written out)."""
    if isinstance(node, Term):
        token = token_of[id(node)]
        return text[token.pos : token.end]
    if isinstance(node, NotNode):
        inner = _render(node.child, text, token_of)
        return f"-{inner}" if isinstance(node.child, (Term, NotNode)) else f"-({inner})"
    parts = [_render(child, text, token_of) for child in node.children]
    if isinstance(node, OrNode):
        return " or ".join(f"({p})" if isinstance(c, AndNode) else p
                           for p, c in zip(parts, node.children, strict=True))
    return " ".join(f"({p})" if isinstance(c, OrNode) else p
                    for p, c in zip(parts, node.children, strict=True))
