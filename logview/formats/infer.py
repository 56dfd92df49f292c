"""Infer a ``logging.Formatter`` template (and datefmt) from the first lines of a log.

Each sample line's head is cut into typed tokens (``head_tokens``: a time, a level name, a
number, a word, brackets, separators) and the heads are aligned into columns (``align``).
The columns shared by nearly every record line are the header; the first column where the
lines part ways is where the message starts. Columns are then named after what their values
look like (a level, a dotted logger, ``file.py:12``, a thread or process name, a pid) and the
result is written as an ordinary template such as
``%(asctime)s %(levelname)-8s %(name)s: %(message)s``, which ``TemplateFormat`` compiles like
any user-given one. The guess is checked on every sample line before it is used, so a wrong
guess is never worse than the fallback.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from logview.formats.align import FIELD_KINDS, Column, align, column_at, shape
from logview.formats.base import FormatError
from logview.formats.head_tokens import Token, time_piece, tokenize_head
from logview.formats.infer_padding import padding
from logview.formats.linewise import is_continuation
from logview.record import LEVEL_SPELLINGS

#: The inferred template must fit at least this share of the sample's start lines.
MIN_FIT = 0.3
#: A first guess that fits this share of the start lines is not second-guessed.
SURE_FIT = 0.9
#: Sample lines inference looks at.
MAX_LINES = 400
#: Bare words (a logger, a host) the header may hold after its last strong column.
MAX_LOOSE_WORDS = 2

_ONE_LETTER_LEVELS = frozenset("TDINWECFV")
_THREAD_RE = re.compile(
    r"(?:MainThread|Thread-\d+.*|Dummy-\d+|\w*(?:Executor|Worker|Pool|Thread)\w*[-_]\d+(?:_\d+)?"
    r"|asyncio_\d+|SyncWorker_\d+"
    # the JVM's: "main", Tomcat's "http-nio-8080-exec-1", "pool-1-thread-2", "scheduling-1"
    r"|main|[\w.-]*-(?:exec|thread|worker)-\d+|scheduling-\d+)$"
)
_PROCESS_RE = re.compile(r"(?:MainProcess|(?:Fork|Spawn)?(?:Pool)?(?:Worker|Process)-\d+[\w:-]*)$")
_LOGGERISH_RE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+$|root$|__main__$")
_SEPARATOR_WORDS = frozenset({"in", "at", "from", "on", "by", "-", "->", "=>", "|"})
_ADDRESS_RE = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}$|[0-9a-fA-F]*:[0-9a-fA-F:]+$")
_PYFILE_RE = re.compile(r"[\w.-]+\.py$")
_ID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
                    r"|(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{16,64}$")
_FUNC_RE = re.compile(r"<module>$|<lambda>$|<listcomp>$|[a-z_][a-z0-9_]*\(?\)?$")


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
    #: Every level in the sample is spelled as ``logging`` spells it (``ERROR``, ``Level 5``).
    python_levels: bool = True
    #: Words of the sample's level column that name no level logview knows (npm's ``silly``,
    #: a ``logging.addLevelName`` level): the program's own levels (``_with_level_words``).
    level_words: tuple[str, ...] = ()

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
    pending = False  # a bare word since then was not taken as a field
    seen: set[str] = set()
    for i, col in enumerate(columns):
        if col.kind == "open":
            depth += 1
        elif col.kind == "close":
            depth = max(0, depth - 1)
            last, loose = i, 0
            continue
        if depth:
            if col.kind in FIELD_KINDS:
                last = i
            continue
        if col.kind in ("time", "level"):
            if col.kind in seen:
                break  # a header has one time and one level: a second is in the message
            seen.add(col.kind)
            last, loose, pending = i, 0, False
        elif col.kind == "word" and not pending and loose == 0 and _ids(col.values):
            last = i  # a request's id on every line, right after the strong columns
        elif col.kind in ("number", "path") and (not pending or _few(col.values)):
            # (after a word not yet taken, only a number that hardly varies, like a pid,
            # still belongs to the header: "views 1234 5678", not "step 3")
            last, loose, pending = i, 0, False
        elif col.kind in ("number", "path"):  # after message words: message too ("step 3")
            loose += 1
            if loose > MAX_LOOSE_WORDS:
                break
        elif col.kind == "word":
            nxt = column_at(columns, i + 1)
            if nxt is not None and nxt.kind == "punct" and nxt.literal == "=":
                continue  # the key of a key=value pair
            loose += 1
            if loose > MAX_LOOSE_WORDS:
                break  # a run of words: the message has begun
            # A logger or a host may follow the strong columns; a run of words is a message.
            if _is_header_word(columns, i, nlines):
                last, pending = i, False
            else:
                pending = True
    if last < 0:
        return 0
    # Separators right after the last field belong to the header (": ", " - ", "] ").
    end = last + 1
    while end < len(columns) and columns[end].kind in ("punct", "ws"):
        if columns[end].kind == "punct" and columns[end].literal in "([{\"'<":
            break
        end += 1
    # The same key before every message (``msg=%(message)s`` after ``key=value`` fields).
    key, eq = column_at(columns, end), column_at(columns, end + 1)
    if (key is not None and eq is not None and key.kind == "word" and len(key.values) == nlines
            and len(set(key.values)) == 1 and eq.kind == "punct" and eq.literal == "="
            and any(c.kind == "punct" and c.literal == "=" for c in columns[:end])):
        key.kind, key.literal = "punct", key.values[0]
        end += 2
    return end


def _ids(values: list[str]) -> bool:
    """Values that are all ids (UUIDs, hex trace ids), not all one."""
    return all(_ID_RE.match(v) for v in values) and len(set(values)) > 1


def _few(values: list[str]) -> bool:
    """Few distinct values for many lines (a pid, a host), as a header column has."""
    return len(values) >= 4 and len(set(values)) <= max(2, len(values) // 10)


def _is_header_word(columns: list[Column], i: int, nlines: int) -> bool:
    col = columns[i]
    values = col.values
    if not values or i + 1 >= len(columns):
        return False  # nothing follows it: it is the message
    nxt = columns[i + 1] if i + 1 < len(columns) else None
    if nxt is not None and nxt.kind == "punct" and nxt.literal in ":|->/,;":
        return True  # "name:", "name -" (never "key=": that is a key, not a field)
    if nxt is not None and nxt.kind == "ws" and i + 2 < len(columns):
        after = columns[i + 2]
        if after.kind == "punct" and after.literal in "|-:>»":
            return True
    after = column_at(columns, i + 2)
    if (nxt is not None and nxt.kind == "open" and nxt.literal == "[" and after is not None
            and after.kind == "number"):
        return True  # syslog's "app[1234]:"
    values = [v.strip("<>") for v in values]  # "<MainProcess>"
    dotted = sum(1 for v in values if _LOGGERISH_RE.match(v))
    logger_before = any(c.kind == "word" and any(_LOGGERISH_RE.match(v) for v in c.values)
                        for c in columns[:i])
    # (after a logger column, a few dotted words are a message's: "spring.jpa.x is enabled")
    if dotted >= max(1, len(values) // 2 if logger_before else len(values) // 20):
        return True
    if all(_THREAD_RE.match(v) or _PROCESS_RE.match(v) for v in values):
        return True
    distinct = len(set(values))
    if logger_before:
        return False  # the logger came earlier: a plain word now begins the message
    before = column_at(columns, i - 2)
    if before is None or before.kind not in ("time", "level"):
        return False  # only right after the time or the level may a plain word be the logger
    if distinct <= max(3, len(values) // 6) and all(re.fullmatch(r"[\w.-]+", v) for v in values):
        # Few distinct identifiers: a logger or host, unless what follows varies no more.
        if len(values) < 4:
            return False
        if i + 2 >= len(columns):  # what follows differs in shape from line to line
            return True
        return len(set(columns[i + 2].values)) > 2 * distinct
    return False


def _name_columns(columns: list[Column], end: int) -> None:
    """Give each header field column the LogRecord attribute it most likely is."""
    fields = [i for i in range(end) if columns[i].kind in FIELD_KINDS]
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
        nxt = column_at(columns, i + 1)
        if col.kind == "word" and len(set(col.values)) == 1 and (
                col.values[0] in _SEPARATOR_WORDS
                or (nxt is not None and nxt.kind == "punct" and nxt.literal == "=")):
            col.kind, col.literal = "punct", col.values[0]
    fields = [i for i in fields if columns[i].kind in FIELD_KINDS]
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
        nxt, after = column_at(columns, i + 1), column_at(columns, i + 2)
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
    for i in [i for i in words if all(_ADDRESS_RE.match(v) for v in columns[i].values)]:
        take(i, "client")  # an access log's remote address is no logger
        words.remove(i)
    for i in [i for i in words if _ids(columns[i].values)]:
        take(i, "request_id")  # a UUID or a hex trace id a line (a filter's ``extra``)
        words.remove(i)
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
            nxt, after = column_at(columns, i + 1), column_at(columns, i + 2)
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
        elif "threadName" not in taken and any(_THREAD_RE.match(v) for v in values):
            take(i, "threadName")  # (a thread column cut to its width: "ionShutdownHook")
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


# ---------------------------------------------------------------------------------------------
# Writing the template


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _write(columns: list[Column], end: int, suffix: str) -> tuple[str, str | None]:
    """The template (and datefmt) for the header columns, the message and a suffix."""
    paddings = {i: padding(columns, i) for i in range(end)
                if columns[i].kind in FIELD_KINDS and columns[i].attr}
    parts: list[str] = []
    datefmt: str | None = None
    for i in range(end):
        col = columns[i]
        if col.kind in ("ws", "punct", "open", "close"):
            parts.append(_escape(col.literal if col.kind != "ws" else _ws_literal(col)))
        elif col.kind == "time":
            piece, datefmt = time_piece(col.values, col.form)
            parts.append(piece)
        elif col.kind == "level1":
            parts.append("%(levelname).1s")
        elif col.attr in ("lineno", "process", "thread", "levelno"):
            parts.append(f"%({col.attr}){paddings.get(i, '')}d")
        elif col.attr:
            pad = paddings.get(i, "")
            if not pad and col.values and all(len(v) > 2 and v[0] == "<" and v[-1] == ">"
                                              for v in col.values):
                parts.append(f"<%({col.attr})s>")  # (``<%(name)s>``: the name without them)
            else:
                parts.append(f"%({col.attr}){pad}s")
    parts.append("%(message)s")
    parts.append(suffix)
    return "".join(parts), datefmt


def _ws_literal(col: Column) -> str:
    if col.width >= 0 and col.form == "sep":  # decided by the padding of a field beside it
        return " " * col.width
    widths = [len(v) for v in col.values] or [1]
    return col.literal[:1] * min(widths) if col.literal else " "


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
    ``MIN_FIT`` of the start lines (checked with the compiled template). When the lines
    that open alike are not the records (a banner of several lines before a short log), the
    lines that open each other way are tried too and the best fit wins.
    """
    starts = start_lines(lines)[:MAX_LINES]
    if len(starts) < 1:
        return None
    heads = [tokenize_head(line) for line in starts]
    best = _infer_from(heads, starts, starts, heads)
    if best is not None and best.share >= SURE_FIT:
        return best
    openings = Counter(shape(head[0]) for head in heads if head)
    for opening, count in openings.most_common(4):
        if count < MIN_FIT * len(starts):
            break
        chosen = [i for i, head in enumerate(heads) if head and shape(head[0]) == opening]
        if len(chosen) == len(heads):
            continue
        other = _infer_from([heads[i] for i in chosen], [starts[i] for i in chosen], starts,
                            heads)
        if other is not None and (best is None or other.fitted > best.fitted):
            best = other
    return best


#: A level followed by the message with nothing between: no Formatter writes that; the
#: "levels" were the first words of lines (pip's "ERROR: ..." and "Exception information:").
_GLUED_LEVEL = re.compile(r"%\(levelname\)[-\d.]*s%\(message\)s")


def _infer_from(heads: list[list[Token]], lines: list[str], starts: list[str],
                start_heads: list[list[Token]]) -> Inference | None:
    """The template the aligned ``heads`` (of ``lines``) share, checked on all ``starts``
    (whose heads are ``start_heads``)."""
    columns, alive = align(heads)
    end = _header_end(columns, len(alive))
    if end == 0:
        return None
    _name_columns(columns, end)
    if not any(c.attr in ("asctime", "levelname", "created") for c in columns[:end]):
        return None  # no time and no level: nothing a template would add over plain lines
    alive_lines = [lines[i] for i in alive]
    suffix = _suffix(alive_lines) if alive_lines else ""
    template, datefmt = _write(columns, end, suffix)
    if _GLUED_LEVEL.search(template):
        return None  # no separator after the level: words that open messages, not a column
    names = None
    if not template.startswith(("%(asctime)s", "[%(asctime)s", "%(created)")):
        seen = {v.strip() for c in columns[:end] if c.attr == "levelname" for v in c.values}
        names = tuple(sorted(seen | LEVEL_SPELLINGS))
    inference = _checked(template, datefmt, starts, names)
    if inference is not None and names is not None and inference.fitted < len(starts):
        inference = _with_level_words(inference, starts, start_heads) or inference
    if inference is not None:
        seen = {v.strip() for c in columns[:end] if c.attr == "levelname" for v in c.values}
        seen.update(inference.level_words)
        inference.python_levels = all(v in _PYTHON_LEVELS or v.startswith("Level ")
                                      for v in seen)
    return inference


#: Most words a level column may add to the known level names (a closed vocabulary: more
#: different words there are messages, not levels).
MAX_LEVEL_WORDS = 8


def _with_level_words(inference: Inference, starts: list[str], heads: list[list[Token]]
                      ) -> Inference | None:
    """``inference`` (a template without a time, its level names closed) widened by the
    program's own level names: the start lines it does not fit that open as the fitted ones
    do, head token for head token, but for a plain word where their level is (npm's ``12
    silly ...`` among ``11 info ...``; a level added with ``logging.addLevelName``). Without
    them such lines were glued to the record before. The words must be few (at most
    ``MAX_LEVEL_WORDS``), letters only, each met twice, written in the case the known levels
    are, after a head token (a level that opens the line is not widened: a message line
    opens with a word as well), and make the template fit more lines; else None."""
    fmt_fits = _fitting(inference)
    if fmt_fits is None:
        return None
    shapes: Counter[tuple] = Counter()
    cases: set[str] = set()
    misfits = []
    for line, head in zip(starts, heads, strict=True):
        if fmt_fits(line):
            at = next((k for k, t in enumerate(head) if t.kind == "level"), None)
            # (a level that opens the line has nothing before it to tell a record's head
            # from a message line that opens with a word: ``second line`` of a message)
            if at and at + 1 < len(head):
                shapes[(at, _opening(head, at), head[at + 1].text)] += 1
                cases.add(_case(head[at].text))
        else:
            misfits.append(head)
    if not shapes or not misfits:
        return None
    (at, opening, after), _ = shapes.most_common(1)[0]
    words: Counter[str] = Counter()
    for head in misfits:
        if (len(head) > at + 1 and head[at].kind == "word" and head[at + 1].text == after
                and _opening(head, at) == opening):
            words[head[at].text] += 1
    # Written as the program writes its other levels (npm: all lower case; a Python
    # level: upper case), met twice, letters only.
    kept = sorted(w for w, n in words.items() if n >= 2 and w.isascii() and w.isalpha()
                  and len(w) <= 12 and _case(w) in cases)
    if not kept or len(kept) > MAX_LEVEL_WORDS:
        return None
    spellings = {v for w in kept for v in (w, w.lower(), w.upper(), w.title())}
    names = tuple(sorted(set(inference.level_names or ()) | spellings))
    wider = _checked(inference.template, inference.datefmt, starts, names)
    if wider is None or wider.fitted <= inference.fitted:
        return None
    wider.level_words = tuple(kept)
    return wider


def _case(word: str) -> str:
    """How a word is written: "upper", "lower", "title" or "mixed"."""
    return ("upper" if word.isupper() else "lower" if word.islower()
            else "title" if word.istitle() else "mixed")


def _opening(head: list[Token], at: int) -> tuple[tuple[str, str], ...]:
    """The head's first ``at`` tokens as kinds, the text of separators and brackets kept."""
    return tuple((t.kind, t.text if t.kind in ("punct", "open", "close", "ws") else "")
                 for t in head[:at])


def _fitting(inference: Inference):
    """The test of one line against the inference's template (None: it does not compile)."""
    from logview.formats.template import TemplateFormat

    try:
        fmt = TemplateFormat(inference.template, datefmt=inference.datefmt,
                             level_names=inference.level_names)
    except FormatError:
        return None
    return lambda line: fmt.score([line]) > 0


def _adjacent_fields(template: str) -> bool:
    """Two fields of free text with nothing between them (``%(name)s%(hostname)s``): such a
    template (from odd lines) cannot say where one ends, and its regex takes time quadratic in
    a line's length (seconds for one long hostile line)."""
    from logview.formats.template_syntax import TemplateField, tokenize

    tokens = tokenize(template, "%")
    fixed = ("asctime", "message")  # a time has a shape; the message takes the rest
    if any(isinstance(a, TemplateField) and isinstance(b, TemplateField)
           and a.attr not in fixed and b.attr not in fixed
           for a, b in pairwise(tokens)):
        return True
    # A word glued to the message (``%(name)s%(message)s``, from a column that some lines
    # end with a space and others with ``[``: celery's ``tasks.add[id]: ...`` messages) would
    # be one letter of the message; a padded field has a width and a level its names.
    return any(isinstance(a, TemplateField) and isinstance(b, TemplateField)
               and b.attr == "message" and a.attr not in ("asctime", "levelname")
               and a.kind == "s" and not a.width and a.precision is None
               for a, b in pairwise(tokens))


#: The names ``logging`` gives its levels.
_PYTHON_LEVELS = frozenset({"NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


def _checked(template: str, datefmt: str | None, starts: list[str],
             level_names: tuple[str, ...] | None = None) -> Inference | None:
    """The inference with its fit on the sample, or None when it compiles badly or fits little."""
    from logview.formats.template import TemplateFormat

    if _adjacent_fields(template):
        return None
    try:
        fmt = TemplateFormat(template, datefmt=datefmt, level_names=level_names)
    except FormatError:
        return None
    fitted = sum(1 for line in starts if fmt.score([line]) > 0)
    if fitted < MIN_FIT * len(starts):
        return None
    return Inference(template, datefmt, fitted, len(starts), level_names)
