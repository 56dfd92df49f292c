"""Infer a ``logging.Formatter`` template (and datefmt) from the first lines of a log.

Each sample line's head is cut into typed tokens (a time, a level name, a number, a word,
brackets, separators). The columns that keep the same kind, and the separators that stay the
same, across nearly every line are the header; the first column where the lines part ways is
where the message starts. Columns are then named after what their values look like (a level,
a dotted logger, ``file.py:12``, a thread or process name, a pid) and the result is written as
an ordinary template such as ``%(asctime)s %(levelname)-8s %(name)s: %(message)s``, which
``TemplateFormat`` compiles like any user-given one. The guess is checked on every sample
line before it is used, so a wrong guess is never worse than the fallback.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from logview.formats.base import FormatError
from logview.formats.linewise import is_continuation

#: A column must be present, with the same kind, in this share of the lines still aligned.
KEEP_SHARE = 0.97
#: Before the first time or level column, the share of lines the dominant shape needs.
EARLY_SHARE = 0.3
#: The inferred template must fit at least this share of the sample's start lines.
MIN_FIT = 0.3
#: Lines and characters of each line the tokenizer looks at.
MAX_LINES = 400
HEAD_CHARS = 240
MAX_TOKENS = 40
#: Bare words (a logger, a host) the header may hold after its last strong column.
MAX_LOOSE_WORDS = 2

_LEVEL_WORDS = (
    "TRACE|DEBUG|INFO|INFORMATION|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|SEVERE|ALERT"
    "|EMERGENCY|EMERG|FINEST|FINER|FINE|CONFIG|VERBOSE|SUCCESS|EXCEPTION|PANIC"
    "|DBG|TRC|INF|WRN|ERR|CRIT|FTL|Level \\d+"
)

#: Time forms Python programs write, most specific first: (name, regex). The datefmt is
#: worked out from the matched text by ``_time_piece``.
_TIME_FORMS: tuple[tuple[str, str], ...] = (
    ("iso-zone", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})? [+-]\d{4}(?!\d)"),
    ("iso", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?+(?:[.,]\d{1,9})?+"
            r"(?:Z|[+-]\d{2}:?\d{2})?(?!\d)"),
    ("slash-ymd", r"\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?+(?!\d)"),
    ("clf", r"\d{2}/[A-Z][a-z]{2}/\d{4}[: ]\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?(?!\d)"),
    ("dmy", r"\d{2}[/.-]\d{2}[/.-]\d{2}(?:\d{2})? \d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?+"
            r"(?: [AaPp][Mm])?(?!\d)"),
    ("md", r"\d{2}[/-]\d{2} \d{2}:\d{2}(?::\d{2})?+(?:[.,]\d{1,9})?+(?!\d)"),
    ("ctime", r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"
              r"(?:[.,]\d{1,9})? \d{4}(?!\d)"),
    ("bsd", r"[A-Z][a-z]{2} [ \d]\d(?: \d{4})? \d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?+(?!\d)"),
    ("tornado", r"\d{6} \d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?+(?!\d)"),
    ("compact", r"\d{8}[ T]\d{6}(?:[.,]\d{1,9})?+(?!\d)"),
    ("clock", r"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?+(?!\d)"),
    ("epoch", r"1[4-9]\d{8}(?:\.\d{1,9})?+(?![\d:])"),
)

_LEXER = re.compile(
    "|".join(f"(?P<t_{name.replace('-', '_')}>{rx})" for name, rx in _TIME_FORMS)
    + rf"|(?P<level>(?:{_LEVEL_WORDS})(?![\w]))"
    + r"|(?P<path>(?<!\w)(?:/|\./|~/)[\w.~/+-]*[\w])"
    + r"|(?P<number>\d+(?![\w.]))"
    + r"|(?P<word>[\w.$<>@#*~+'][\w.$<>@#*~+'-]*(?<=[\w$>*'])(?:\(\))?)"
    + r"|(?P<open>[\[({])|(?P<close>[\])}])"
    + r"|(?P<ws>[ \t]+)"
    + r"|(?P<punct>[^\w\s\[\](){}])",
    re.IGNORECASE,
)
_LEVEL_RE = re.compile(rf"(?:{_LEVEL_WORDS})", re.IGNORECASE)
_ONE_LETTER_LEVELS = frozenset("TDINWECF")
_STANDARD_LEVELS = frozenset(
    spelling for name in _LEVEL_WORDS.split("|") if "\\" not in name
    for spelling in (name, name.lower(), name.title()))
_THREAD_RE = re.compile(
    r"(?:MainThread|Thread-\d+.*|Dummy-\d+|\w*(?:Executor|Worker|Pool|Thread)\w*[-_]\d+(?:_\d+)?"
    r"|asyncio_\d+|SyncWorker_\d+)$"
)
_PROCESS_RE = re.compile(r"(?:MainProcess|(?:Fork|Spawn)?(?:Pool)?(?:Worker|Process)-\d+[\w:-]*)$")
_LOGGERISH_RE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+$|root$|__main__$")
_SEPARATOR_WORDS = frozenset({"in", "at", "from", "on", "by", "-", "->", "=>", "|"})
_PYFILE_RE = re.compile(r"[\w.-]+\.py$")
_FUNC_RE = re.compile(r"<module>$|<lambda>$|<listcomp>$|[a-z_][a-z0-9_]*\(?\)?$")


@dataclass(slots=True)
class Token:
    kind: str  # "time", "level", "number", "word", "path", "open", "close", "ws", "punct"
    text: str
    form: str = ""  # the time form's name


def tokenize_head(line: str) -> list[Token]:
    """The typed tokens of a line's head (its first ``HEAD_CHARS`` characters)."""
    out: list[Token] = []
    head = line[:HEAD_CHARS]
    pos = 0
    match = _LEXER.match
    while pos < len(head) and len(out) < MAX_TOKENS:
        m = match(head, pos)
        if m is None:  # pragma: no cover - punct takes any single character
            break
        kind = m.lastgroup or "punct"
        form = ""
        if kind.startswith("t_"):
            form, kind = kind[2:].replace("_", "-"), "time"
        out.append(Token(kind, m.group(), form))
        pos = m.end()
    return out


# ---------------------------------------------------------------------------------------------
# Columns


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
_FIELD_KINDS = frozenset({"time", "level", "number", "word", "path"})
_WORDLIKE = frozenset({"word", "number", "level", "path"})


def _align(heads: list[list[Token]]) -> tuple[list[Column], list[int]]:
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
        kinds = Counter(_shape(t) for t in tokens)
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


def _shape(token: Token | None) -> str | None:
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
            t.kind in _WORDLIKE or _shape(t) in _PLACEHOLDERS)]
        return ("path" if kind == "path" else "word"), members
    members = [j for j, t in enumerate(tokens) if _shape(t) == top]
    if kind == "ws":
        return "ws", members
    return kind, members


# ---------------------------------------------------------------------------------------------
# Header


@dataclass(slots=True)
class Inference:
    """An inferred template: what it is, how many sample start lines it fits."""

    template: str
    datefmt: str | None
    fitted: int
    total: int
    #: For a template without a time head: the level names it may hold (those seen, and
    #: every standard spelling), so message lines never pass for record starts.
    level_names: tuple[str, ...] | None = None

    @property
    def share(self) -> float:
        return self.fitted / self.total if self.total else 0.0


def _header_end(columns: list[Column], nlines: int) -> int:
    """How many columns make the header: through the last one that is surely a field.

    Times, levels, brackets and numbers are header. A bare word is header when a non-space
    separator follows it in every line (``name:``, ``name -``), when it sits before a surely
    header column, or when its values look like logger names.
    """
    last = -1
    depth = 0
    loose = 0  # bare words since the last time, level, number or bracket
    seen: set[str] = set()
    for i, col in enumerate(columns):
        if col.kind == "open":
            depth += 1
        elif col.kind == "close":
            depth = max(0, depth - 1)
            last, loose = i, 0
            continue
        if depth:
            if col.kind in _FIELD_KINDS:
                last = i
            continue
        if col.kind in ("time", "level"):
            if col.kind in seen:
                break  # a header has one time and one level: a second is in the message
            seen.add(col.kind)
            last, loose = i, 0
        elif col.kind in ("number", "path"):
            last, loose = i, 0
        elif col.kind == "word":
            nxt = _at(columns, i + 1)
            if nxt is not None and nxt.kind == "punct" and nxt.literal == "=":
                continue  # the key of a key=value pair
            loose += 1
            if loose > MAX_LOOSE_WORDS:
                break  # a run of words: the message has begun
            # A logger or a host may follow the strong columns; a run of words is a message.
            if loose <= MAX_LOOSE_WORDS and _is_header_word(columns, i, nlines):
                last = i
    if last < 0:
        return 0
    # Separators right after the last field belong to the header (": ", " - ", "] ").
    end = last + 1
    while end < len(columns) and columns[end].kind in ("punct", "ws"):
        if columns[end].kind == "punct" and columns[end].literal in "([{\"'<":
            break
        end += 1
    return end


def _is_header_word(columns: list[Column], i: int, nlines: int) -> bool:
    col = columns[i]
    values = col.values
    if not values or i + 1 >= len(columns):
        return False  # nothing follows it: it is the message
    nxt = columns[i + 1] if i + 1 < len(columns) else None
    if nxt is not None and nxt.kind == "punct" and nxt.literal in ":|-=>/,;":
        if nxt.literal != "=":
            return True
    if nxt is not None and nxt.kind == "ws" and i + 2 < len(columns):
        after = columns[i + 2]
        if after.kind == "punct" and after.literal in "|-:>»":
            return True
    values = [v.strip("<>") for v in values]  # "<MainProcess>"
    dotted = sum(1 for v in values if _LOGGERISH_RE.match(v))
    if dotted >= max(1, len(values) // 20):
        return True
    if all(_THREAD_RE.match(v) or _PROCESS_RE.match(v) for v in values):
        return True
    distinct = len(set(values))
    if distinct <= max(2, len(values) // 10) and all(re.fullmatch(r"[\w.-]+", v) for v in values):
        # Few distinct identifiers: a logger or host, unless what follows varies no more.
        follow = columns[i + 2].values if i + 2 < len(columns) else []
        return len(set(follow)) > 2 * distinct and len(values) >= 4
    return False


def _name_columns(columns: list[Column], end: int) -> None:
    """Give each header field column the LogRecord attribute it most likely is."""
    fields = [i for i in range(end) if columns[i].kind in _FIELD_KINDS]
    taken: set[str] = set()

    def take(i: int, attr: str) -> None:
        if attr in taken and attr not in ("",):
            attr = _spare(attr, taken)
        columns[i].attr = attr
        taken.add(attr)

    # Words that are the same everywhere and read as a preposition, or as the key of a
    # ``key=value`` pair, are literal text.
    for i in fields:
        col = columns[i]
        nxt = _at(columns, i + 1)
        if col.kind == "word" and len(set(col.values)) == 1 and (
                col.values[0] in _SEPARATOR_WORDS
                or (nxt is not None and nxt.kind == "punct" and nxt.literal == "=")):
            col.kind, col.literal = "punct", col.values[0]
    fields = [i for i in fields if columns[i].kind in _FIELD_KINDS]
    for i in fields:
        col = columns[i]
        if col.kind == "time":
            take(i, "asctime")
        elif col.kind == "level":
            take(i, "levelname")
    for i in fields:  # one-letter levels (tornado's "[I 240102 ...]")
        col = columns[i]
        if ("levelname" not in taken and col.kind == "word"
                and all(len(v) == 1 and v in _ONE_LETTER_LEVELS for v in col.values)):
            col.kind = "level1"
            take(i, "levelname")
    # file:line and module:line
    for i in fields:
        col = columns[i]
        if col.attr or col.kind not in ("word", "path", "number"):
            continue
        nxt, after = _at(columns, i + 1), _at(columns, i + 2)
        if (nxt is not None and nxt.kind == "punct" and nxt.literal == ":"
                and after is not None and after.kind == "number"):
            if col.kind == "path":
                take(i, "pathname")
            elif all(_PYFILE_RE.match(v) for v in col.values):
                take(i, "filename")
            elif "name" not in taken and any(_LOGGERISH_RE.match(v) for v in col.values):
                take(i, "name")
            else:
                take(i, "module")
            take(fields[fields.index(i) + 1] if i + 2 in fields else i + 2, "lineno")
    # The logger: the word column with the most dotted names (ties: the first after a level).
    words = [i for i in fields if not columns[i].attr and columns[i].kind == "word"]
    threadish = {i for i in words
                 if all(_THREAD_RE.match(v.strip("<>")) for v in columns[i].values)}
    processish = {i for i in words
                  if all(_PROCESS_RE.match(v.strip("<>")) for v in columns[i].values)}
    for i in threadish:
        take(i, "threadName")
    for i in processish - threadish:
        take(i, "processName")
    words = [i for i in words if not columns[i].attr]
    if words and "name" not in taken:
        def loggerish(i: int) -> tuple[int, bool, int, int]:
            values = columns[i].values
            nxt, after = _at(columns, i + 1), _at(columns, i + 2)
            program = (nxt is not None and nxt.literal == "[" and after is not None
                       and after.kind == "number")  # syslog's "app[1234]:"
            return (sum(1 for v in values if _LOGGERISH_RE.match(v)), program,
                    min(len(set(values)), 3), -i)

        best = max(words, key=loggerish)
        take(best, "name")
        words.remove(best)
    for i in words:
        values = columns[i].values
        if len(set(values)) == 1 and len(values) > 3 and "hostname" not in taken:
            take(i, "hostname")
        elif all(_FUNC_RE.match(v) for v in values) and "module" in taken:
            take(i, "funcName")
        elif all(_PYFILE_RE.match(v) for v in values):
            take(i, "filename")
        elif "module" not in taken and all(re.fullmatch(r"\w+", v) for v in values):
            take(i, "module")
        else:
            take(i, "hostname")
    for i in fields:
        col = columns[i]
        if col.attr:
            continue
        if col.kind == "path":
            take(i, "pathname")
        elif col.kind == "number":
            numbers = [int(v) for v in col.values if v.isdigit()]
            if numbers and set(numbers) <= {5, 10, 15, 20, 25, 30, 40, 50} and "levelname" not in taken:
                take(i, "levelno")
            elif "process" not in taken and max(numbers, default=0) < 1 << 22:
                take(i, "process")
            else:
                take(i, "thread")
        else:
            take(i, "hostname")


def _spare(attr: str, taken: set[str]) -> str:
    for other in ("module", "funcName", "threadName", "processName", "hostname", "field"):
        if other not in taken:
            return other
    n = 2
    while f"field{n}" in taken:
        n += 1
    return f"field{n}"


def _at(columns: list[Column], i: int) -> Column | None:
    return columns[i] if 0 <= i < len(columns) else None


# ---------------------------------------------------------------------------------------------
# Writing the template


def _time_piece(values: list[str], form: str) -> tuple[str, str | None]:
    """The template text and datefmt that write times like ``values``."""
    sample = values[0]
    frac = re.search(r"[.,](\d{1,9})(?=$|Z|[ +-])", sample[10:] if form != "clock" else sample)
    digits = len(frac.group(1)) if frac else 0
    sep = frac.group(0)[0] if frac else ""
    if form in ("iso", "iso-zone"):
        t = "T" if sample[10] == "T" else " "
        has_seconds = sample[16:17] == ":"
        zone = re.search(r"(Z|[+-]\d{2}:?\d{2})$", sample)
        date = f"%Y-%m-%d{t}%H:%M" + (":%S" if has_seconds else "")
        if not zone and sep == "," and digits == 3 and t == " " and has_seconds:
            return "%(asctime)s", None  # logging's default
        if not zone and digits == 3:
            return f"%(asctime)s{sep}%(msecs)03d", date
        datefmt = date + (f"{sep}%f" if digits else "")
        if zone:
            datefmt += (" " if form == "iso-zone" else "") + "%z"
        return "%(asctime)s", datefmt
    if form == "slash-ymd":
        t = sample[10]
        return _with_fraction(f"%Y/%m/%d{t}%H:%M:%S", sep, digits)
    if form == "clf":
        return "%(asctime)s", f"%d/%b/%Y{sample[11]}%H:%M:%S" + (" %z" if len(sample) > 20 else "")
    if form == "dmy":
        return _dmy(values, sep, digits)
    if form == "ctime":
        return "%(asctime)s", f"%a %b %e %H:%M:%S{sep + '%f' if digits else ''} %Y"
    if form == "bsd":
        year = " %Y" if re.match(r"[A-Z][a-z]{2} [ \d]\d \d{4} ", sample) else ""
        return _with_fraction(f"%b %e{year} %H:%M:%S", sep, digits)
    if form == "tornado":
        return _with_fraction("%y%m%d %H:%M:%S", sep, digits)
    if form == "compact":
        return _with_fraction(f"%Y%m%d{sample[8]}%H%M%S", sep, digits)
    if form == "md":
        seconds = ":%S" if sample[11:].count(":") >= 2 else ""
        return _with_fraction(f"%m{sample[2]}%d %H:%M{seconds}", sep, digits)
    if form == "clock":
        return _with_fraction("%H:%M:%S", sep, digits)
    if form == "epoch":
        return (f"%(created).{digits}f", None) if digits else ("%(created)d", None)
    raise FormatError(f"unknown time form {form!r}")  # pragma: no cover


def _with_fraction(datefmt: str, sep: str, digits: int) -> tuple[str, str | None]:
    if digits == 3:
        return f"%(asctime)s{sep}%(msecs)03d", datefmt
    if digits:
        return "%(asctime)s", f"{datefmt}{sep}%f"
    return "%(asctime)s", datefmt


def _dmy(values: list[str], sep: str, digits: int) -> tuple[str, str | None]:
    first = values[0]
    mark = first[2]
    long_year = len(first.split(" ")[0]) == 10
    year = "%Y" if long_year else "%y"
    a = [int(v[0:2]) for v in values if v[0:2].isdigit()]
    b = [int(v[3:5]) for v in values if v[3:5].isdigit()]
    day_first = (max(a, default=0) > 12 or mark == ".") and max(b, default=0) <= 12
    date = f"%d{mark}%m{mark}{year}" if day_first else f"%m{mark}%d{mark}{year}"
    ampm = first.rstrip()[-2:].upper() in ("AM", "PM")
    clock = "%I:%M:%S" if ampm else "%H:%M:%S"
    template, datefmt = _with_fraction(f"{date} {clock}", sep, digits)
    if ampm and datefmt is not None:
        if "%(msecs)" in template:  # the fraction sits between the seconds and AM/PM
            return "%(asctime)s", f"{date} {clock}{sep}%f %p"
        datefmt += " %p"
    return template, datefmt


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _write(columns: list[Column], end: int, suffix: str) -> tuple[str, str | None]:
    """The template (and datefmt) for the header columns, the message and a suffix."""
    paddings = {i: _padding(columns, i) for i in range(end)
                if columns[i].kind in _FIELD_KINDS and columns[i].attr}
    parts: list[str] = []
    datefmt: str | None = None
    for i in range(end):
        col = columns[i]
        if col.kind in ("ws", "punct", "open", "close"):
            parts.append(_escape(col.literal if col.kind != "ws" else _ws_literal(col)))
        elif col.kind == "time":
            piece, datefmt = _time_piece(col.values, col.form)
            parts.append(piece)
        elif col.kind == "level1":
            parts.append("%(levelname).1s")
        elif col.attr in ("lineno", "process", "thread", "levelno"):
            parts.append(f"%({col.attr}){paddings.get(i, '')}d")
        elif col.attr:
            parts.append(f"%({col.attr}){paddings.get(i, '')}s")
    parts.append("%(message)s")
    parts.append(suffix)
    return "".join(parts), datefmt


def _ws_literal(col: Column) -> str:
    if col.width >= 0 and col.form == "sep":  # decided by the padding of a field beside it
        return " " * col.width
    widths = [len(v) for v in col.values] or [1]
    return col.literal[:1] * min(widths) if col.literal else " "


#: The longest standard level name: a padded level column is at least this wide.
_LEVEL_WIDTH = len("CRITICAL")


def _padding(columns: list[Column], i: int) -> str:
    """How a field is padded: ``-W`` when spaces after it fill it to W characters
    (``%(levelname)-8s``), ``W`` when spaces before it do (``%(levelname)8s``).

    A sample need not hold the longest value (few logs start with a CRITICAL record), so a
    level column is taken to be at least 8 wide, and the separator beside a padded field at
    most one space: the rest is padding.
    """
    col = columns[i]
    for side, gap_col in (("-", _at(columns, i + 1)), ("", _at(columns, i - 1))):
        if gap_col is None or gap_col.kind != "ws" or len(gap_col.values) != len(col.values):
            continue
        gaps = [len(w) for w in gap_col.values]
        low = min(gaps)
        if max(gaps) == low:
            continue
        totals = Counter(len(v) + g for v, g in zip(col.values, gaps, strict=True) if g > low)
        total, count = totals.most_common(1)[0]
        if count < 0.9 * totals.total():  # the gap is some other field's padding
            continue
        sep = min(low, 1)
        if col.kind == "level" and total - sep < _LEVEL_WIDTH <= total - 1:
            sep = total - _LEVEL_WIDTH
        if side == "" and _at(columns, i - 2) is not None and columns[i - 2].kind == "open":
            sep = 0 if total - 0 >= _LEVEL_WIDTH or col.kind != "level" else sep
        width = total - sep
        if width > 1:
            gap_col.width, gap_col.form = sep, "sep"
            return f"{side}{width}"
    return ""


_SUFFIX_RE = re.compile(
    r"(?P<sep>\s+(?:[-|@]\s+)?)(?P<open>[\[({<]?)(?P<word>in |at )?"
    r"(?P<file>[\w./\\~<>-]+?)(?::(?P<func>[\w<>]+))?:(?P<line>\d+)(?P<close>[\])}>]?)$"
)


def _suffix(lines: list[str]) -> str:
    """A ``file:line`` suffix that most lines end with, as template text ("" when none)."""
    found: Counter[tuple[str, ...]] = Counter()
    for line in lines:
        m = _SUFFIX_RE.search(line)
        if m is None:
            continue
        pairs = {"[": "]", "(": ")", "{": "}", "<": ">", "": ""}
        if pairs[m["open"]] != m["close"]:
            continue
        path = m["file"]
        attr = "pathname" if "/" in path or "\\" in path else (
            "filename" if path.endswith(".py") else "module")
        key = (m["sep"], m["open"], m["word"] or "", attr, ":%(funcName)s" if m["func"] else "",
               m["close"])
        found[key] += 1
    if not found:
        return ""
    key, count = found.most_common(1)[0]
    if count < 0.6 * len(lines):
        return ""
    sep, open_, word, attr, func, close = key
    return _escape(f"{sep}{open_}{word}") + f"%({attr})s{func}:%(lineno)d" + _escape(close)


# ---------------------------------------------------------------------------------------------
# Entry point


def start_lines(lines: list[str]) -> list[str]:
    """The sample lines that may start a record (traceback and indented lines left out)."""
    return [line for line in lines if not is_continuation(line)]


def infer_template(lines: list[str]) -> Inference | None:
    """Infer the template of a log from its first lines; None when no header is shared.

    ``lines`` are sample lines (ANSI stripped, no newlines). The result fits at least
    ``MIN_FIT`` of the start lines (checked with the compiled template).
    """
    starts = start_lines(lines)[:MAX_LINES]
    if len(starts) < 1:
        return None
    heads = [tokenize_head(line) for line in starts]
    columns, alive = _align(heads)
    alive_lines = [starts[i] for i in alive]
    end = _header_end(columns, len(alive))
    if end == 0:
        return None
    _name_columns(columns, end)
    if not any(c.attr in ("asctime", "levelname", "created") for c in columns[:end]):
        return None  # no time and no level: nothing a template would add over plain lines
    suffix = _suffix(alive_lines) if alive_lines else ""
    template, datefmt = _write(columns, end, suffix)
    names = None
    if not template.startswith(("%(asctime)s", "[%(asctime)s", "%(created)")):
        seen = {v.strip() for c in columns[:end] if c.attr == "levelname" for v in c.values}
        names = tuple(sorted(seen | _STANDARD_LEVELS))
    return _checked(template, datefmt, starts, names)


def _checked(template: str, datefmt: str | None, starts: list[str],
             level_names: tuple[str, ...] | None = None) -> Inference | None:
    """The inference with its fit on the sample, or None when it compiles badly or fits little."""
    from logview.formats.template import TemplateFormat

    try:
        fmt = TemplateFormat(template, datefmt=datefmt, level_names=level_names)
    except FormatError:
        return None
    fitted = sum(1 for line in starts if fmt.score([line]) > 0)
    if fitted < MIN_FIT * len(starts):
        return None
    return Inference(template, datefmt, fitted, len(starts), level_names)


def time_pieces(lines: list[str]) -> list[tuple[str, str | None]]:
    """The ways the sample's lines write their first timestamp, most common first, each as
    (template text, datefmt): ``("%(asctime)s.%(msecs)03d", "%Y-%m-%d %H:%M:%S")``.

    A template given without a datefmt (``--format '%(asctime)s ...'``) takes its time
    shape from here, so any common timestamp works for ``asctime``.
    """
    found: dict[str, list[str]] = {}
    for line in start_lines(lines)[:MAX_LINES]:
        for token in tokenize_head(line):
            if token.kind == "time":
                found.setdefault(token.form, []).append(token.text)
                break
    ranked = sorted(found.items(), key=lambda item: len(item[1]), reverse=True)
    return [_time_piece(values, form) for form, values in ranked]
