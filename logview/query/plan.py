"""Parse tokens into a tree (or < and < not), then compile it into one closure and a prefilter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logview.query.errors import QueryError
from logview.query.lexer import AND, LPAREN, NOT, OR, RPAREN, Token, tokenize
from logview.query.prefilter import (
    Group,
    LevelPattern,
    Prefilter,
    compile_group,
    group_literals,
    group_sort_key,
    needle_group,
    selectivity,
    union,
)
from logview.query.terms import Predicate, Term, build_term
from logview.record import Record


@dataclass(slots=True)
class AndNode:
    children: list[Node]


@dataclass(slots=True)
class OrNode:
    children: list[Node]


@dataclass(slots=True)
class NotNode:
    child: Node


Node = Term | AndNode | OrNode | NotNode

#: Deeper nesting than this is surely not typed by a person; refusing it keeps recursion bounded.
MAX_DEPTH = 64


class _Parser:
    """Recursive descent over the tokens: ``or`` binds loosest, then AND, then not/-."""

    def __init__(self, tokens: list[Token], now: datetime) -> None:
        self.tokens = tokens
        self.index = 0
        self.now = now
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:  # only a ')' can stop parse_or early
            raise QueryError("unmatched ')'", extra.pos)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == OR:
            self.take()
            after = self.peek()
            if after is None or after.kind in (OR, AND, RPAREN):
                raise QueryError("'or' needs a term after it", token.pos)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else OrNode(children)

    def parse_and(self) -> Node:
        children: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in (OR, RPAREN):
            if token.kind == AND:
                self.take()
                after = self.peek()
                if not children:
                    raise QueryError("'and' needs a term before it", token.pos)
                if after is None or after.kind in (OR, AND, RPAREN):
                    raise QueryError("'and' needs a term after it", token.pos)
                continue
            children.append(self.parse_unary())
        if not children:
            token = self.peek()
            if token is None:
                raise QueryError("expected a term", len(self.tokens) and self.tokens[-1].end)
            if token.kind == OR:
                raise QueryError("'or' needs a term before it", token.pos)
            raise QueryError("unmatched ')'", token.pos)
        return children[0] if len(children) == 1 else AndNode(children)

    def parse_unary(self) -> Node:
        token = self.take()
        negations = 0
        while token.kind == NOT:  # a loop, so "not not ... x" collapses instead of nesting
            after = self.peek()
            if after is None or after.kind in (OR, AND, RPAREN):
                raise QueryError(f"'{token.value}' needs a term after it", token.pos)
            negations += 1
            token = self.take()
        node = self.parse_operand(token)
        return NotNode(node) if negations % 2 else node

    def parse_operand(self, token: Token) -> Node:
        if token.kind == LPAREN:
            after = self.peek()
            if after is not None and after.kind == RPAREN:
                raise QueryError("empty parentheses", token.pos)
            if after is None:
                raise QueryError("unclosed '('", token.pos)
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"parentheses nested deeper than {MAX_DEPTH}", token.pos)
            node = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != RPAREN:
                raise QueryError("unclosed '('", token.pos)
            self.take()
            self.depth -= 1
            return node
        if token.kind == RPAREN:
            raise QueryError("unmatched ')'", token.pos)
        return build_term(token, self.now)


# ---------------------------------------------------------------------------------------------
# Compiling the tree.


def _always(_record: Record) -> bool:
    return True


def terms(node: Node) -> Iterator[Term]:
    """The query's terms, negated ones too."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, NotNode):
        yield from terms(node.child)
    else:
        for child in node.children:
            yield from terms(child)


def cost(node: Node) -> int:
    return sum(term.cost for term in terms(node))


def compile_predicate(node: Node) -> Predicate:
    """One closure for the tree; AND/OR children run cheapest first (they are pure)."""
    if isinstance(node, Term):
        return node.pred
    if isinstance(node, NotNode):
        inner = compile_predicate(node.child)
        return lambda r: not inner(r)
    preds = [compile_predicate(child) for child in sorted(node.children, key=cost)]
    if isinstance(node, AndNode):
        if len(preds) == 2:
            a, b = preds
            return lambda r: a(r) and b(r)
        if len(preds) == 3:
            a, b, c = preds
            return lambda r: a(r) and b(r) and c(r)

        def all_match(r: Record) -> bool:
            for pred in preds:
                if not pred(r):
                    return False
            return True

        return all_match
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) or b(r)

    def any_match(r: Record) -> bool:
        for pred in preds:
            if pred(r):
                return True
        return False

    return any_match


def min_level(node: Node) -> int:
    """The lowest levelno a matching record can have, as far as the query says."""
    if isinstance(node, Term):
        return node.min_level
    if isinstance(node, NotNode):
        return 0
    levels = [min_level(child) for child in node.children]
    return max(levels) if isinstance(node, AndNode) else min(levels)


def fields_only(node: Node) -> bool:
    """Whether the query reads nothing of a record but its extra fields."""
    return all(term.fields_only for term in terms(node))


def reads_line(node: Node) -> bool:
    """Whether a term of the query reads the record's line number."""
    return any(term.reads_line for term in terms(node))


def reads_time(node: Node) -> bool:
    """Whether a term of the query reads the record's time."""
    return any(term.reads_time for term in terms(node))


def column_mask(node: Node, columns: Any) -> Any:
    """The query's answer for every record of ``columns`` (a bool array), or None when a term
    is not about levels, loggers or times (the records must be scanned)."""
    if isinstance(node, Term):
        return None if node.column is None else node.column(columns)
    if isinstance(node, NotNode):
        inner = column_mask(node.child, columns)
        return None if inner is None else ~inner
    masks = []
    for child in node.children:
        mask = column_mask(child, columns)
        if mask is None:
            return None
        masks.append(mask)
    out = masks[0]
    for mask in masks[1:]:
        out = (out & mask) if isinstance(node, AndNode) else (out | mask)
    return out


def highlights(node: Node) -> list[re.Pattern[str]]:
    """Highlight patterns of the terms not under a negation."""
    if isinstance(node, Term):
        return list(node.highlights)
    if isinstance(node, NotNode):
        return []
    return [pattern for child in node.children for pattern in highlights(child)]


def groups(
    node: Node, level_text: bool, json_escaped: bool, level_case: str | None = None,
    fields_named: frozenset[str] | None = None, json_fields: bool = False,
    level_pattern: LevelPattern | None = None, level_marks: tuple[tuple[int, str], ...] = (),
) -> list[Group]:
    """The AND of needle groups every match of ``node`` satisfies (possibly none)."""
    facts = (level_text, json_escaped, level_case, fields_named, json_fields, level_pattern,
             level_marks)
    if isinstance(node, Term):
        if node.needle is None:
            return []
        group = needle_group(node.needle, level_text=level_text, json_escaped=json_escaped,
                             level_case=level_case, fields_named=fields_named,
                             json_fields=json_fields, level_pattern=level_pattern,
                             level_marks=level_marks)
        return [] if group is None else [group]
    if isinstance(node, NotNode):
        return []
    if isinstance(node, AndNode):
        return [g for child in node.children for g in groups(child, *facts)]
    picked: list[Group] = []
    for child in node.children:  # OR: each alternative must bring a group, else no group
        child_groups = groups(child, *facts)
        if not child_groups:
            return []
        picked.append(max(child_groups, key=selectivity))
    return [union(picked)]


def build_prefilter(
    node: Node, level_text: bool, json_escaped: bool, level_case: str | None = None,
    fields_named: frozenset[str] | None = None, json_fields: bool = False,
    level_pattern: LevelPattern | None = None, level_marks: tuple[tuple[int, str], ...] = (),
) -> Prefilter | None:
    found = set(groups(node, level_text, json_escaped, level_case, fields_named, json_fields,
                       level_pattern, level_marks))
    # A group that is a superset of another one is implied by it.
    kept = [g for g in found if not (isinstance(g, frozenset) and any(
        isinstance(other, frozenset) and other < g for other in found))]
    if not kept:
        return None
    kept.sort(key=lambda g: (-selectivity(g), group_sort_key(g)))
    return Prefilter([compile_group(g) for g in kept], [group_literals(g) for g in kept])


class Query:
    """A parsed query: the exact predicate, its byte prefilter and what to highlight."""

    __slots__ = ("_prefilters", "_root", "fields_only", "is_empty", "min_level", "predicate",
                 "reads_line", "reads_time", "recipe", "text")

    def __init__(self, text: str, root: Node | None, recipe: Recipe | None = None) -> None:
        self.text = text
        #: How to make this query again in another process (its predicate is closures, which
        #: do not pickle): ``query_from_recipe``; None when it cannot be.
        self.recipe = recipe
        self._root = root
        self.is_empty = root is None
        self.min_level = 0 if root is None else min_level(root)
        #: The predicate reads nothing of a record but ``fields`` (``status>=500``): it may
        #: be asked of any object with the record's ``fields`` (``record_chunks``).
        self.fields_only = root is not None and fields_only(root)
        #: A term reads the record's line number (a scan that makes no record for its
        #: reader need not count lines otherwise).
        self.reads_line = root is not None and reads_line(root)
        #: A term reads the record's time (a scan that prints records as read need not give
        #: a record without one the time before, ``LogFormat.time_from_previous``).
        self.reads_time = root is not None and reads_time(root)
        #: The predicate itself, for hot loops that want to skip a method call.
        self.predicate: Predicate = _always if root is None else compile_predicate(root)
        self._prefilters: dict[tuple[Any, ...], Prefilter | None] = {}

    def matches(self, record: Record) -> bool:
        """Whether the record matches the query exactly."""
        return self.predicate(record)

    def prefilter(
        self, *, level_text: bool, json_escaped: bool, level_case: str | None = None,
        fields_named: frozenset[str] | None = None, json_fields: bool = False,
        level_pattern: LevelPattern | None = None, level_marks: tuple[tuple[int, str], ...] = (),
    ) -> Prefilter | None:
        """A necessary condition on raw bytes, or None when the query gives none.

        ``level_text``: every record's level is written in its bytes as a name (WARNING, warn),
        as text templates with ``%(levelname)s`` do - not as a number. ``json_escaped``: text
        in the bytes may be escaped (JSON, logfmt), so needles with quotes, backslashes or
        non-ASCII are not used. ``level_case="upper"``: level names are written upper-case
        (Python's logging without custom level names), so lower/Title spellings are not needles.
        ``fields_named``: every field is named in the bytes but these (``LogFormat``), so a
        field term looks for its key. ``json_fields``: fields are the keys of JSON objects, so
        a field's comparison looks for its key and the values it accepts. ``level_pattern``:
        the format's regex of the level values a level comparison accepts (levels written as
        numbers or under a known key), when ``level_text`` is False. ``level_marks``: (level
        number, text) pairs, texts a record at that level holds instead of its name.
        """
        key = (level_text, json_escaped, level_case, fields_named, json_fields, level_pattern,
               level_marks)
        if key not in self._prefilters:
            self._prefilters[key] = (
                None if self._root is None else build_prefilter(self._root, *key)
            )
        return self._prefilters[key]

    def column_mask(self, columns: Any) -> Any:
        """Which records of ``columns`` (``column_store.ColumnView``) match, as a bool array,
        when every term is about levels, loggers or times; None otherwise (and for the empty
        query)."""
        return None if self._root is None else column_mask(self._root, columns)

    def highlight_patterns(self) -> list[re.Pattern[str]]:
        """Regexes, words and phrases (not negated ones) to highlight in rows."""
        return [] if self._root is None else highlights(self._root)

    def search_terms(self) -> Query | None:
        """Its words, phrases and regexes (not negated ones) as one OR query: what a search
        for the next match looks for (None: the query has no such term)."""
        terms = [] if self._root is None else _search_terms(self._root)
        if not terms:
            return None
        return Query(self.text, terms[0] if len(terms) == 1 else OrNode(list(terms)))

    def __repr__(self) -> str:
        return f"Query({self.text!r})"


def _search_terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node] if node.highlights else []
    if isinstance(node, NotNode):
        return []
    return [term for child in node.children for term in _search_terms(child)]


def all_of(*queries: Query | None) -> Query:
    """One query that matches what every one of ``queries`` matches (None ones are left out)."""
    parts = [q for q in queries if q is not None and q._root is not None]
    if not parts:
        return Query("", None, ("all", []))
    if len(parts) == 1:
        return parts[0]
    recipes = [q.recipe for q in parts]
    recipe: Recipe | None = None if None in recipes else ("all", recipes)
    return Query(" ".join(f"({q.text})" for q in parts), AndNode([q._root for q in parts]),
                 recipe)


#: ``("text", text, now as ISO 8601)`` or ``("all", [recipes])``: plain data that pickles.
Recipe = tuple[Any, ...]


def query_from_recipe(recipe: Recipe) -> Query:
    """The query ``recipe`` (``Query.recipe``) makes: the same terms, relative times anchored
    at the same moment."""
    if recipe[0] == "text":
        return parse_query(recipe[1], now=datetime.fromisoformat(recipe[2]))
    return all_of(*(query_from_recipe(part) for part in recipe[1]))


def parse_query(text: str, *, now: datetime | None = None) -> Query:
    """Parse query text; raises QueryError (with the position) when it is not valid.

    ``now`` anchors relative times (``since:-15m``); naive values are local time.
    """
    if now is None:
        now = datetime.now(UTC)
    try:
        tokens = tokenize(text)
        root = _Parser(tokens, now).parse() if tokens else None
        return Query(text, root, ("text", text, now.isoformat()))
    except QueryError as err:
        err.text = text
        raise
    except RecursionError:
        raise QueryError("query nested too deeply", 0, text) from None
