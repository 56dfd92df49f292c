"""A ``logging.Formatter`` template compiled to regexes: the head that recognises a record
start, the prefix before the message, the whole body when fields follow the message, and how
each captured group reads back.

Fields before the message are as specific as their values allow (digits, words, an exact time
shape, padding reproduced exactly), so a message may contain the template's own separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from logview.formats.base import FormatError
from logview.formats.signature import StartSignature, VocabularyHead
from logview.formats.template_start import (
    fixed_head,
    head_source,
    start_source,
    vocabulary_head,
)
from logview.formats.template_syntax import TemplateField, detect_style, tokenize
from logview.formats.timefmt import TimeShape, compile_datefmt

_INT_ATTRS = frozenset({"lineno", "process", "thread", "levelno"})
_FLOAT_ATTRS = frozenset({"msecs", "created", "relativeCreated"})
#: Attributes whose values never contain whitespace (so ``[^\s]`` is exact and specific).
_WORD_ATTRS = frozenset({"name", "module", "funcName", "filename", "processName"})

_NUMBER_KINDS = frozenset("diouxXeEfFgGn%")
_FLOAT_KINDS = frozenset("eEfFgG%")
_DEFAULT_ASCTIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}"
_LEVEL_STRICT = r"[A-Z][A-Z0-9_]*|Level \d+"
_LEVEL_LENIENT = r"[A-Za-z_][\w.-]*|Level \d+"
_LEVEL_NUMBERED = r"Level \d+"  # logging.getLevelName(15) for unnamed levels

# ---------------------------------------------------------------------------------------------
# Field regexes.


def _padded(cls: str, f: TemplateField, lazy: bool = False) -> str:
    """Regex for a value made of ``cls`` characters, padded to ``f.width`` exactly.

    ``lazy`` makes an over-long value the shortest possible (for a value that is followed by
    a literal its characters may contain).
    """
    w = f.width
    more = "?" if lazy else ""
    fill = re.escape(f.fill)
    min_len = 1
    if not f.align or w <= 1 or w > 48:
        return f"{cls}+{more}"
    alts = [f"{cls}{{{w},}}{more}"]
    for k in range(w - 1, min_len - 1, -1):
        pad = w - k
        body = f"{cls}{{{k}}}" if k else ""
        if f.align == "<":
            alts.append(f"{body}{fill}{{{pad}}}")
        elif f.align == ">":
            alts.append(f"{fill}{{{pad}}}{body}")
        else:
            left = pad // 2
            alts.append(f"{fill}{{{left}}}{body}{fill}{{{pad - left}}}")
    return "(?:" + "|".join(alts) + ")"


def _loose_padding(value: str, f: TemplateField) -> str:
    if not f.align or f.width <= 1:
        return value
    fill = re.escape(f.fill) + "*"
    if f.align == "<":
        return f"(?:{value}){fill}"
    if f.align == ">":
        return f"{fill}(?:{value})"
    return f"{fill}(?:{value}){fill}"


def _number_regex(f: TemplateField, is_float: bool) -> str:
    kind = f.kind
    if kind in ("x", "X"):
        return "[0-9a-fA-F]+"
    if kind == "o":
        return "[0-7]+"
    if kind in ("d", "i", "u", "n"):
        return r"[-+]?\d+"
    if kind in ("f", "F", "%"):
        p = 6 if f.precision is None else f.precision
        return rf"[-+]?\d+\.\d{{{p}}}" if p else r"[-+]?\d+"
    if kind in ("e", "E", "g", "G"):
        return r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|inf|nan)"
    if is_float:
        return r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
    return r"[-+]?\d+|None"


@dataclass(slots=True)
class _Capture:
    """How to read one captured group back."""

    group: str
    attr: str
    strip: str  # characters to strip from the padded value ("" when the regex is exact)
    convert: str  # "str", "int", "hex", "oct", "float", "num", "repr"


class _RegexBuilder:
    """Turns tokens into regex source, tracking group names and how to read them."""

    def __init__(self, datefmt: str | None, strict: bool,
                 level_names: tuple[str, ...] | None = None) -> None:
        self.datefmt = datefmt
        self.strict = strict
        self.level_names = level_names
        self.captures: list[_Capture] = []
        self.seen: dict[str, str] = {}
        self.time_shape: TimeShape | None = None
        self.time_group: str | None = None

    def field(self, f: TemplateField, next_literal: str | None, index: int) -> str:
        attr = f.attr
        if attr in self.seen:  # the same attribute twice: it must repeat exactly
            return f"(?P={self.seen[attr]})"
        group = f"g{index}"
        self.seen[attr] = group
        strip = ""
        convert = "str"
        # A value of non-space characters may be read possessively (no backtracking) when
        # whitespace or the end of the template follows it; otherwise the shortest one wins.
        stop = next_literal is None or next_literal[:1] not in ("", " ", "\t")
        if attr == "asctime":
            if self.datefmt is None:
                value = _DEFAULT_ASCTIME
            else:
                self.time_shape = compile_datefmt(self.datefmt, prefix=f"{group}_")
                value = self.time_shape.regex
            self.time_group = group
            value = _loose_padding(value, f)
            strip = f.fill if f.align else ""
        elif attr == "levelname":
            if f.precision is not None:
                value = _loose_padding(f"[A-Za-z]{{1,{f.precision}}}", f)
            elif self.level_names:  # only these names (a template inferred from a sample)
                names = sorted(self.level_names, key=len, reverse=True)
                value = _loose_padding("|".join(map(re.escape, names)) + r"|Level \d+", f)
            else:
                base = _LEVEL_STRICT if self.strict else _LEVEL_LENIENT
                if f.align and f.width > 1:
                    cls = "[A-Z0-9_]" if self.strict else r"[\w.-]"
                    value = _loose_padding(_LEVEL_NUMBERED, f) + "|" + _padded(cls, f)
                else:
                    value = base
            strip = f.fill if f.align else ""
        elif attr in _INT_ATTRS or attr in _FLOAT_ATTRS or f.kind in _NUMBER_KINDS:
            is_float = attr in _FLOAT_ATTRS or f.kind in _FLOAT_KINDS
            number = _number_regex(f, is_float)
            if f.align and number == r"[-+]?\d+":
                value = _padded(r"\d", f)
            else:
                value = _loose_padding(number, f)
            strip = f.fill if f.align else ""
            if f.kind in ("d", "i", "u", "n", "x", "X", "o"):
                convert = {"x": "hex", "X": "hex", "o": "oct"}.get(f.kind, "int")
            else:
                convert = "float" if is_float else "num"
        elif attr == "message":
            value = "(?s:.*)"
        else:
            if attr in _WORD_ATTRS:
                if f.align:
                    value = _padded(r"[^\s]", f, lazy=stop)
                else:  # possessive when a space ends it (no backtracking), else shortest
                    value = r"[^\s]+?" if stop else r"[^\s]++"
            else:  # may contain spaces (threadName "Thread-1 (worker)", paths, extras)
                value = _loose_padding(r"[^\n]*?", f)
            strip = f.fill if f.align else ""
            if f.kind in ("r", "a"):
                convert = "repr"
        if attr != "message":
            self.captures.append(_Capture(group, attr, strip, convert))
        return f"(?P<{group}>{value})"


class CompiledTemplate:
    """The regexes and read-back plan of one template (shared through a cache).

    Detection tries every known template on a sample with ``prefix`` and ``lenient_prefix``
    alone, so the rest (the whole body, the start test and its signatures) is compiled when
    first asked for: a command that reads one format does not compile the others'.
    """

    def __init__(self, tokens: list[str | TemplateField], prefix: re.Pattern[str],
                 lenient_prefix: re.Pattern[str] | None, builder: _RegexBuilder,
                 sources: _Sources, level_names: tuple[str, ...] | None) -> None:
        self.tokens = tokens
        self.prefix = prefix  # everything before the message, anchored at line start
        self.lenient_prefix = lenient_prefix  # same with a looser level name, or None
        self.captures: list[_Capture] = builder.captures
        self.time_group: str | None = builder.time_group
        self.time_shape: TimeShape | None = builder.time_shape
        self.has_message = any(isinstance(t, TemplateField) and t.attr == "message"
                               for t in tokens)
        #: Literal text every record starts with ("" when none).
        self.literal_head: str = tokens[0] if isinstance(tokens[0], str) else ""
        self._sources = sources
        self._level_names = level_names

    @cached_property
    def body(self) -> re.Pattern[str] | None:
        """The whole body when fields follow the message."""
        src = self._sources.body
        return re.compile(src, re.ASCII) if src is not None else None

    @cached_property
    def lenient_body(self) -> re.Pattern[str] | None:
        src = self._sources.lenient_body
        return re.compile(src, re.ASCII) if src is not None else None

    @cached_property
    def head_signature(self) -> StartSignature | None:
        """The exact record-start test when the template opens with a fixed-shape head."""
        return fixed_head(self.tokens, self._sources.parts, self._sources.lenient_parts)

    @cached_property
    def head(self) -> re.Pattern[str] | None:
        signature = self.head_signature
        return re.compile(head_source(signature), re.ASCII) if signature is not None else None

    @cached_property
    def _start_source(self) -> str:
        if self.head_signature is not None:
            # Records start exactly where a line opens with the head (see template_start).
            return head_source(self.head_signature)
        if self._sources.message_first:
            return self.prefix.pattern
        return start_source(self._sources.prefix, self._sources.lenient_prefix)

    @cached_property
    def start_pattern(self) -> re.Pattern[bytes]:
        try:
            return re.compile(self._start_source.encode("utf-8"), re.ASCII)
        except re.error:  # pragma: no cover - non-ASCII literals are escaped the same way
            return re.compile(re.escape(b""))

    @cached_property
    def vocabulary(self) -> VocabularyHead | None:
        """A start made of a level name between literals (no time head): the bulk test's
        shape."""
        if (self.head_signature is not None or self._sources.message_first
                or self.lenient_prefix is not None):
            return None
        return vocabulary_head(self.tokens, self._level_names, _WORD_ATTRS)


@dataclass(frozen=True, slots=True)
class _Sources:
    """The regex sources a ``CompiledTemplate`` compiles on demand."""

    parts: list[str]
    lenient_parts: list[str]
    prefix: str
    lenient_prefix: str | None  # None: no lenient variant
    body: str | None
    lenient_body: str | None
    message_first: bool  # ``%(message)s [%(filename)s]``: only the full line tells a start


def _build(tokens: list[str | TemplateField], datefmt: str | None, strict: bool,
           level_names: tuple[str, ...] | None = None):
    builder = _RegexBuilder(datefmt, strict, level_names)
    parts: list[str] = []
    msg_at = None
    for i, tok in enumerate(tokens):
        if isinstance(tok, str):
            parts.append(re.escape(tok))
            continue
        if tok.attr == "message" and msg_at is None:
            msg_at = len(parts)
        if i + 1 == len(tokens):
            nxt: str | None = ""  # the end of the template
        else:
            following = tokens[i + 1]
            nxt = following if isinstance(following, str) else None  # None: a field follows
        parts.append(builder.field(tok, nxt, i))
    return builder, parts, msg_at


@lru_cache(maxsize=64)
def compile_template(fmt: str, datefmt: str | None = None, style: str | None = None,
                     level_names: tuple[str, ...] | None = None):
    """Compile a template (cached); raises ``FormatError`` for templates that cannot work.

    ``level_names`` limits ``levelname`` to those names (no lenient variant): a template
    without a time head then never takes a message line such as ``note: x`` for a record.
    """
    if not isinstance(fmt, str) or not fmt:
        raise FormatError(
            "empty template: give a logging format such as '%(levelname)s %(message)s'"
        )
    style = style or detect_style(fmt)
    tokens = tokenize(fmt, style)
    fields = [t for t in tokens if isinstance(t, TemplateField)]
    if not fields:
        raise FormatError(f"template {fmt!r} has no fields such as %(message)s or {{message}}")
    if not isinstance(tokens[0], TemplateField) or tokens[0].attr != "message":
        pass
    flags = re.ASCII
    built = []
    for strict in (True, False):
        builder, parts, msg_at = _build(tokens, datefmt, strict, level_names)
        if msg_at is None:  # no message: the whole template is the prefix, leftovers are text
            prefix_src, body_src = "".join(parts), None
        else:
            prefix_src = "".join(parts[:msg_at])
            after = parts[msg_at + 1 :]
            body_src = "".join(parts[: msg_at + 1]) + "".join(after) if after else None
        built.append((builder, prefix_src, body_src, parts))
    (builder, prefix_src, body_src, parts), (_, lenient_src, lenient_body_src, lenient_parts) = (
        built)
    has_level = any(f.attr == "levelname" for f in fields)
    if not has_level or lenient_src == prefix_src:
        lenient_src, lenient_body_src = None, None
    message_first = not prefix_src and body_src is not None
    if message_first:  # ``%(message)s [%(filename)s]``: only the full line can tell
        prefix_src = body_src.replace("(?s:.*)", "[^\\n]*", 1) + r"\Z"  # type: ignore[union-attr]
    try:
        prefix = re.compile(prefix_src, flags)
        lenient = re.compile(lenient_src, flags) if lenient_src is not None else None
    except re.error as exc:  # pragma: no cover - the builder escapes everything
        raise FormatError(f"template {fmt!r} did not compile: {exc}") from None
    sources = _Sources(parts, lenient_parts, prefix_src, lenient_src, body_src,
                       lenient_body_src, message_first)
    return CompiledTemplate(tokens, prefix, lenient, builder, sources, level_names)
