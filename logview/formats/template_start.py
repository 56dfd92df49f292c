"""Where records of a logging template start: a fixed-shape head, or the prefix regexes.

A template that opens with a timestamp (``%(asctime)s ...``, ``[%(asctime)s] ...``) starts a
record exactly where a line opens with that timestamp's shape. The index then tests every line
with one vectorised byte-class check (``StartSignature``), and the splitter, via ``is_start``,
decides the same with a regex made of the same classes. A line that has the head but not the
rest of the template is still a record start; it parses as an unmatched record, so nothing is
lost and a message can never swallow the next timestamped line.

Templates without such a head (``%(levelname)s:%(name)s:%(message)s``) start a record where
their strict or lenient prefix regex matches; ``start_source`` joins both into one bytes
pattern so the index and ``is_start`` agree. When that prefix is a level name (a closed
vocabulary) between literals and at most one word, ``vocabulary_head`` describes it so the
index can decide most lines in bulk as the pattern would (``logview.level_starts``).
"""

from __future__ import annotations

import re

from logview.formats.signature import StartSignature, VocabularyHead, start_signature
from logview.formats.template_syntax import TemplateField

#: A head must pin at least this many digit positions (a time, not just a bracket).
HEAD_MIN_DIGITS = 4
_DIGITS = frozenset(range(0x30, 0x3A))
#: Bytes a head class may hold: printable ASCII and tab. Anything else (non-ASCII, CR) would
#: let the bytes test and the decoded-text test disagree, so the head stops before it.
_HEAD_BYTES = frozenset(range(0x20, 0x7F)) | {0x09}


def fixed_head(
    tokens: list[str | TemplateField], parts: list[str], lenient_parts: list[str]
) -> StartSignature | None:
    """The exact signature of a template's fixed-shape head, or None when it has none.

    ``parts``/``lenient_parts`` are the strict and lenient regex sources of ``tokens``, one
    each. Only templates whose first field is ``asctime`` qualify (a level name or logger first
    is not fixed-shape). The head is the fixed-width part of the literals, the time and the
    literals after it, plus the first character class of the next field (both prefixes
    admit it) so that templates sharing a time shape still tell their lines apart; it is cut
    before any class that holds a byte outside printable ASCII.
    """
    fields = [i for i, t in enumerate(tokens) if isinstance(t, TemplateField)]
    if not fields or tokens[fields[0]].attr != "asctime":  # type: ignore[union-attr]
        return None
    end = fields[1] if len(fields) > 1 else len(tokens)
    base = _signature("".join(parts[:end]))
    if base is None:
        return None
    classes = list(base.classes)
    if base.exact and end < len(tokens):
        width = len(classes)
        strict = _signature("".join(parts[: end + 1]))
        lenient = _signature("".join(lenient_parts[: end + 1]))
        if strict and lenient and len(strict.classes) > width and len(lenient.classes) > width:
            classes.append(strict.classes[width] | lenient.classes[width])
    head: list[frozenset[int]] = []
    for cls in classes:
        if not cls or not cls <= _HEAD_BYTES:
            break
        head.append(cls)
    if sum(1 for cls in head if cls <= _DIGITS) < HEAD_MIN_DIGITS:
        return None
    return StartSignature(tuple(head), exact=True)


def _signature(source: str) -> StartSignature | None:
    try:
        pattern = re.compile(source.encode("utf-8"), re.ASCII)
    except re.error:  # pragma: no cover - the builder escapes everything
        return None
    return start_signature(pattern)


def _class_source(cls: frozenset[int]) -> str:
    """A regex character class (ASCII escapes) for a set of byte values."""
    values = sorted(cls)
    if len(values) == 1:
        return re.escape(chr(values[0]))
    if cls == _DIGITS:
        return r"\d"  # ASCII digits under re.ASCII
    runs: list[str] = []
    lo = prev = values[0]
    for v in values[1:] + [-1]:
        if v == prev + 1:
            prev = v
            continue
        runs.append(f"\\x{lo:02x}" if lo == prev else f"\\x{lo:02x}-\\x{prev:02x}")
        lo = prev = v
    return "[" + "".join(runs) + "]"


def head_source(signature: StartSignature) -> str:
    """Regex source matching exactly what ``signature`` admits (use with ``re.ASCII``)."""
    return "".join(_class_source(cls) for cls in signature.classes)


_GROUP = re.compile(r"\(\?P([<=])(\w+)")


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def start_source(strict_src: str, lenient_src: str | None) -> str:
    """One pattern that matches where the strict or the lenient prefix matches.

    Groups become non-capturing (a start test reads nothing back, and captures cost a third
    of the match time); with backreferences they stay, and the lenient copy's names get an
    ``l`` prefix (names must be unique; backreferences follow their group).
    """
    both = [strict_src] if lenient_src is None or lenient_src == strict_src else [
        strict_src, lenient_src]
    if not any("(?P=" in src for src in both):
        both = [_NAMED_GROUP.sub("(?:", src) for src in both]
    elif len(both) == 2:
        both[1] = _GROUP.sub(lambda m: f"(?P{m.group(1)}l{m.group(2)}", both[1])
    body = both[0] if len(both) == 1 else f"(?:{both[0]})|(?:{both[1]})"
    # A lenient level name would take "Traceback (most recent call last):" for a level and a
    # logger: traceback lines never start a record, whatever the template.
    return f"{TRACEBACK_GUARD}(?:{body})"


#: Lines of a Python traceback that a template without a fixed head must not take for a start.
TRACEBACK_GUARD = (r"(?!Traceback \(most recent call last\):|Stack \(most recent call last\):"
                   r"|During handling of the above|The above exception was)")


#: The literal texts ``TRACEBACK_GUARD`` turns away (a vocabulary head must not overlap one).
_GUARDED = ("Traceback (most recent call last):", "Stack (most recent call last):",
            "During handling of the above", "The above exception was")
#: Longest head, name and literals a ``VocabularyHead`` holds (bytes).
_MAX_LITERAL = 8
_MAX_NAME = 16


def vocabulary_head(tokens: list[str | TemplateField], level_names: tuple[str, ...] | None,
                    word_attrs: frozenset[str]) -> VocabularyHead | None:
    """The ``VocabularyHead`` of a template whose start pattern is its strict prefix with the
    level names ``level_names`` (a template without a time), or None when the prefix has
    another shape or the bulk test could read it differently from the pattern.

    The prefix must be: an optional literal, ``%(levelname)s`` (not cut; padded to the left
    or to the right, which the pattern reads as any run of spaces before or after it), a
    literal, then optionally a word field (``word_attrs``, not padded) and a literal, then
    the message.
    """
    if level_names is None:
        return None
    end = next((i for i, t in enumerate(tokens)
                if isinstance(t, TemplateField) and t.attr == "message"), None)
    if end is None:
        return None
    parts = list(tokens[:end])
    head = parts.pop(0) if parts and isinstance(parts[0], str) else ""
    if len(parts) not in (2, 4) or not all(isinstance(p, str) for p in parts[1::2]):
        return None
    level, after = parts[0], parts[1]
    if (not isinstance(level, TemplateField) or level.attr != "levelname"
            or level.align not in ("", "<", ">") or level.precision is not None):
        return None
    pad_left, pad_right = level.align == ">", level.align == "<"
    word_end = None
    if len(parts) == 4:
        word, word_end = parts[2], parts[3]
        if not isinstance(word, TemplateField) or word.attr not in word_attrs or word.align:
            return None
    texts = [head, after, word_end or "x", *level_names]
    if (not all(t.isascii() and "\n" not in t for t in texts) or not after or word_end == ""
            or (level.align and any(" " in n for n in level_names))):
        return None
    if (len(head) > _MAX_LITERAL or len(after) > _MAX_LITERAL
            or len(word_end or "") > _MAX_LITERAL
            or not all(0 < len(n) <= _MAX_NAME and after[0] not in n for n in level_names)):
        return None
    for name in level_names:  # a start the traceback guard turns away must not be accepted
        # (a padded name is followed by a space or ``after``: both openings are checked)
        for opening in {head + name + after, head + name + (" " if pad_right else after)}:
            if any(g.startswith(opening) or opening.startswith(g) for g in _GUARDED):
                return None
    return VocabularyHead(head.encode(), tuple(n.encode() for n in level_names),
                          after.encode(), None if word_end is None else word_end.encode(),
                          pad_left=pad_left, pad_right=pad_right)
