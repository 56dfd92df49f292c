"""The three ``logging`` template styles (``%``, ``{``, ``$``) split into literals and fields."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from logview.formats.base import FormatError

_INT_ATTRS = frozenset({"lineno", "process", "thread", "levelno"})
_FLOAT_ATTRS = frozenset({"msecs", "created", "relativeCreated"})

_PERCENT_RE = re.compile(
    r"%(?:\((?P<key>[^)]*)\)(?P<flags>[#0+ -]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?"
    r"(?P<type>[diouxXeEfFgGcrsa])|(?P<pct>%))"
)
_SPEC_RE = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?(?P<zero>0)?(?P<width>\d+)?"
    r"[_,]?(?:\.(?P<prec>\d+))?(?P<type>[bcdeEfFgGnosxX%])?",
    re.DOTALL,
)


@dataclass(slots=True)
class TemplateField:
    """One ``%(attr)...`` placeholder: which attribute, and how it was formatted."""

    attr: str
    kind: str = "s"  # printf/format type letter; "s" for text, "r" for repr
    width: int = 0
    align: str = ""  # "<", ">", "^" or "" (no padding)
    fill: str = " "
    precision: int | None = None


# ---------------------------------------------------------------------------------------------
# Template tokenising for the three styles.


def detect_style(fmt: str) -> str:
    """The ``logging`` style a template is written in: ``%``, ``{`` or ``$``."""
    if _PERCENT_RE.search(fmt) and re.search(r"%\(\w+\)", fmt):
        return "%"
    if re.search(r"\$(?:\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)", fmt):
        return "$"
    if re.search(r"\{[A-Za-z_]\w*(?:![rsa])?(?::[^{}]*)?\}", fmt):
        return "{"
    return "%"


def _tokens_percent(fmt: str) -> list[str | TemplateField]:
    out: list[str | TemplateField] = []
    literals: list[str] = []
    pos = 0
    for m in _PERCENT_RE.finditer(fmt):
        literals.append(fmt[pos : m.start()])
        out.append(literals[-1])
        pos = m.end()
        if m["pct"]:
            out.append("%")
            continue
        flags = m["flags"] or ""
        width = int(m["width"] or 0)
        align = "<" if "-" in flags else ">"
        if "0" in flags and "-" not in flags and m["type"] not in "sra":
            align = ""  # zero padded numbers are still just digits
        out.append(
            TemplateField(
                m["key"],
                m["type"],
                width,
                align if width else "",
                " ",
                int(m["prec"]) if m["prec"] is not None else None,
            )
        )
    rest = fmt[pos:]
    if any("%" in t for t in [*literals, rest]):
        raise FormatError(
            f"template {fmt!r}: a '%' that is not '%(name)s'-style or '%%' "
            "(write a literal percent sign as '%%')"
        )
    out.append(rest)
    return out


def _tokens_brace(fmt: str) -> list[str | TemplateField]:
    out: list[str | TemplateField] = []
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise FormatError(f"template {fmt!r}: {exc}") from None
    for literal, field_name, spec, conversion in parsed:
        out.append(literal)
        if field_name is None:
            continue
        if not field_name or not field_name.isidentifier():
            raise FormatError(
                f"template {fmt!r}: '{{{field_name}}}' is not a record attribute name"
            )
        m = _SPEC_RE.fullmatch(spec or "")
        if m is None or "{" in (spec or ""):
            raise FormatError(f"template {fmt!r}: cannot read format spec {spec!r}")
        kind = m["type"] or ("r" if conversion in ("r", "a") else "")
        width = int(m["width"] or 0)
        align = m["align"] or ""
        numeric = kind != "" and kind in "dnbxXoeEfFgG%"
        if width and not align:
            is_number = numeric or (not kind and field_name in _INT_ATTRS | _FLOAT_ATTRS)
            align = "" if (m["zero"] and is_number) else (">" if is_number else "<")
        if align == "=":
            align = ">"
        out.append(
            TemplateField(
                field_name,
                kind,
                width,
                align if width else "",
                m["fill"] or " ",
                int(m["prec"]) if m["prec"] is not None else None,
            )
        )
    return out


def _tokens_dollar(fmt: str) -> list[str | TemplateField]:
    out: list[str | TemplateField] = []
    pos = 0
    pattern = re.compile(
        r"\$(?:(?P<esc>\$)|(?P<named>[_a-z][_a-z0-9]*)|\{(?P<braced>[_a-z][_a-z0-9]*)\}"
        r"|(?P<bad>))",
        re.IGNORECASE,
    )
    for m in pattern.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        if m["esc"]:
            out.append("$")
        elif m["bad"] is not None and not (m["named"] or m["braced"]):
            raise FormatError(
                f"template {fmt!r}: '$' must be followed by a name, '{{name}}' or '$'"
            )
        else:
            out.append(TemplateField(m["named"] or m["braced"]))
    out.append(fmt[pos:])
    return out


def tokenize(fmt: str, style: str) -> list[str | TemplateField]:
    """Split a template into literal text and fields; adjacent literals are merged."""
    if style == "%":
        raw = _tokens_percent(fmt)
    elif style == "{":
        raw = _tokens_brace(fmt)
    elif style == "$":
        raw = _tokens_dollar(fmt)
    else:
        raise FormatError(f"unknown template style {style!r}: use '%', '{{' or '$'")
    out: list[str | TemplateField] = []
    for tok in raw:
        if isinstance(tok, str):
            if not tok:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += tok
                continue
        out.append(tok)
    return out
