"""Aligning the heads of many log lines into columns: what template inference reads.

Each line's head is a list of typed tokens (``head_tokens``). Walking them position by
position, the columns where (nearly) every record line has a token of the same kind, and the
separators that stay the same, are the candidate header; lines of multi-line messages and
banners drop out before the first time or level column, and a line keeps its own place when
padding a long value filled is missing (a space of width 0) or a bracket's contents differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from logview.formats.head_tokens import Token

#: A column must be present, with the same kind, in this share of the lines still aligned.
KEEP_SHARE = 0.97
#: Before the first time or level column, the share of lines the dominant shape needs.
EARLY_SHARE = 0.3


@dataclass(slots=True)
class Column:
    """One position of the aligned heads: its kind and the value each aligned line has."""

    kind: str
    values: list[str] = field(default_factory=list)
    form: str = ""
    attr: str = ""  # the LogRecord attribute it becomes ("" for a literal)
    literal: str = ""  # for separators (and constant words): the text written as is
    width: int = 0  # padding of a field: "%(attr)-Ws" (< 0: right aligned)


_PLACEHOLDERS = frozenset({"punct:?", "punct:-"})
#: Kinds of columns that hold a value (a field), as opposed to separators.
FIELD_KINDS = frozenset({"time", "level", "number", "word", "path"})
_WORDLIKE = frozenset({"word", "number", "level", "path"})


def align(heads: list[list[Token]]) -> tuple[list[Column], list[int]]:
    """Columns shared by the record-start lines, and the indexes of the lines that have them.

    Until the first time or level column (the anchor) the dominant shape needs only
    ``EARLY_SHARE`` of the lines: lines of multi-line messages and banners drop out there.
    After the anchor a column must be shared by ``KEEP_SHARE`` of the lines the anchor had,
    so the header never reaches into messages that merely look alike. Each line keeps its
    own place: padding that a long value filled (``%(name)-12s`` holding a 20-letter name)
    is a space column of width 0 there, and a bracket whose contents differ in shape from
    line to line (thread names with spaces) is read as one value.
    """
    alive = list(range(len(heads)))
    cur = {i: 0 for i in alive}
    columns: list[Column] = []
    rows: list[dict[int, str]] = []  # per column: line -> its text there
    anchored: int | None = None
    opened: list[tuple[int, list[int], dict[int, int]]] = []  # brackets still open
    while alive:
        tokens = [heads[i][cur[i]] if cur[i] < len(heads[i]) else None for i in alive]
        kinds = Counter(shape(t) for t in tokens)
        ((top, _count),) = kinds.most_common(1)
        if top is None:
            break
        need = EARLY_SHARE * len(alive) if anchored is None else KEEP_SHARE * anchored
        col_kind, members = _column_kind(top, kinds, tokens)
        if col_kind == "ws" and columns and columns[-1].kind != "ws":
            # Padding that a long value filled is a space of width 0 there; a line whose
            # next token does not fit drops out at the next column.
            members = list(range(len(alive)))
        if len(members) < need and opened:
            # Inside a bracket the lines part ways: read its contents as one value instead.
            at, alive_then, cur_then = opened.pop()
            del columns[at + 1:], rows[at + 1:]
            cur = dict(cur_then)
            collapsed = _collapse_bracket(heads, alive_then, cur, columns[at].literal)
            need = EARLY_SHARE * len(alive_then) if anchored is None else KEEP_SHARE * anchored
            if len(collapsed) >= need:
                col = Column("word")
                columns.append(col)
                rows.append({i: text for i, (text, _end) in collapsed.items()})
                alive = [i for i in alive_then if i in collapsed]
                for i in alive:
                    cur[i] = collapsed[i][1]
                continue
        if len(members) < need:
            break
        keep = [alive[j] for j in members]
        row: dict[int, str] = {}
        for i in keep:
            token = heads[i][cur[i]] if cur[i] < len(heads[i]) else None
            if col_kind == "ws" and (token is None or token.kind != "ws"):
                row[i] = ""  # zero-width padding: the cursor stays
                continue
            row[i] = token.text if token is not None else ""
            cur[i] += 1
        first = next(t for t in (heads[i][cur[i] - 1] for i in keep if row[i]) if t)
        col = Column(col_kind, form=first.form if col_kind == "time" else "")
        if col_kind in ("ws", "punct", "open", "close"):
            col.literal = first.text
        alive = keep
        if anchored is None and col_kind in ("time", "level"):
            anchored = len(alive)
        if col_kind == "open":
            opened.append((len(columns), list(alive), dict(cur)))
        elif col_kind == "close" and opened:
            opened.pop()
        columns.append(col)
        rows.append(row)
    # Values of the lines that have the whole header (lines of multi-line messages that
    # looked alike for a few columns must not count).
    for col, row in zip(columns, rows, strict=True):
        col.values = [row[i] for i in alive]
    return columns, alive


_CLOSERS = {"[": "]", "(": ")", "{": "}"}


def _collapse_bracket(heads: list[list[Token]], alive: list[int], cur: dict[int, int],
                      opener: str) -> dict[int, tuple[str, int]]:
    """For each line, the text up to the bracket that closes ``opener`` and where that is."""
    closer = _CLOSERS.get(opener, "")
    out: dict[int, tuple[str, int]] = {}
    for i in alive:
        depth, parts = 0, []
        for j in range(cur[i], len(heads[i])):
            token = heads[i][j]
            if token.kind == "open" and token.text == opener:
                depth += 1
            elif token.kind == "close" and token.text == closer:
                if depth == 0:
                    if parts:
                        out[i] = ("".join(parts), j)
                    break
                depth -= 1
            parts.append(token.text)
    return out


def shape(token: Token | None) -> str | None:
    """What must agree between lines at one position: kinds, and separators' exact text."""
    if token is None:
        return None
    if token.kind == "time":
        return "time:" + token.form
    if token.kind in ("punct", "open", "close"):
        return token.kind + ":" + token.text
    if token.kind == "ws":
        return "ws:\t" if "\t" in token.text else "ws"
    return token.kind


def _column_kind(top: str, kinds: Counter, tokens: list[Token | None]) -> tuple[str, list[int]]:
    """The kind of a column and which of the aligned lines have it.

    Value kinds generalise: a column of logger names may hold a number or a level-like word
    in a few lines, so a mostly-word column takes those too; a mostly-level column takes
    upper-case words (custom level names).
    """
    kind = top.split(":", 1)[0]
    if (top == "punct:?" and kinds.get("word", 0)
            and kinds["word"] + kinds[top] >= 0.9 * sum(kinds.values())):
        kind = "word"  # "?" or "-" standing for an empty value (odoo's dbname, CLF)
    if kind in _WORDLIKE:
        if kind == "level":
            members = [j for j, t in enumerate(tokens) if t is not None and (
                t.kind == "level" or (t.kind == "word" and t.text.isupper() and t.text.isalpha()))]
            return "level", members
        if kind == "number" and kinds["number"] >= KEEP_SHARE * sum(kinds.values()):
            return "number", [j for j, t in enumerate(tokens) if t is not None and
                              t.kind == "number"]
        members = [j for j, t in enumerate(tokens) if t is not None and (
            t.kind in _WORDLIKE or shape(t) in _PLACEHOLDERS)]
        return ("path" if kind == "path" else "word"), members
    members = [j for j, t in enumerate(tokens) if shape(t) == top]
    if kind == "ws":
        return "ws", members
    return kind, members


def column_at(columns: list[Column], i: int) -> Column | None:
    """The column at ``i``, or None outside the list."""
    return columns[i] if 0 <= i < len(columns) else None
