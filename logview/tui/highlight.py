"""Syntax highlighting of log text (tracebacks, JSON) into Rich ``Text``, safely.

Log text is hostile: it is made printable (control characters become visible symbols) before
it is lexed, and the result is built as ``Text`` spans, never parsed as markup, so nothing in a
log line can style the screen or send escape sequences to the terminal.
"""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import JsonLexer, PythonTracebackLexer
from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from rich.style import Style
from rich.text import Text

from logview.record import printable

#: Pygments styles used for dark and light Textual themes.
DARK_STYLE = "monokai"
LIGHT_STYLE = "default"

#: Text longer than this is not lexed (pygments is slow on megabytes); it is shown plain.
MAX_HIGHLIGHT_CHARS = 200_000


@lru_cache(maxsize=4)
def _pygments_style(name: str) -> StyleMeta:
    return get_style_by_name(name)


@lru_cache(maxsize=512)
def _rich_style(style_name: str, token: _TokenType) -> Style:
    spec = _pygments_style(style_name).style_for_token(token)
    return Style(
        color=f"#{spec['color']}" if spec["color"] else None,
        bold=spec["bold"] or None,
        italic=spec["italic"] or None,
        underline=spec["underline"] or None,
    )


def style_name_for(dark: bool) -> str:
    """The pygments style that reads well on a dark or a light background."""
    return DARK_STYLE if dark else LIGHT_STYLE


def highlight(text: str, lexer: Lexer, *, dark: bool = True) -> Text:
    """``text`` made printable and coloured by ``lexer``'s tokens, as a Rich ``Text``.

    The text's characters are kept exactly (the lexer does not strip or add newlines), so
    what is shown is what the log holds, only coloured.
    """
    safe = printable(text)
    if len(safe) > MAX_HIGHLIGHT_CHARS:
        return Text(safe)
    style_name = style_name_for(dark)
    out = Text()
    for token, value in lexer.get_tokens(safe):
        out.append(value, _rich_style(style_name, token))
    return out


def _lexer(kind: type[Lexer]) -> Lexer:
    return kind(stripnl=False, ensurenl=False, stripall=False)


def highlight_traceback(text: str, *, dark: bool = True) -> Text:
    """A Python traceback (chained, exception groups) coloured with pygments' ``pytb`` lexer."""
    return highlight(text, _lexer(PythonTracebackLexer), dark=dark)


def highlight_json(text: str, *, dark: bool = True) -> Text:
    """JSON text coloured with pygments' JSON lexer."""
    return highlight(text, _lexer(JsonLexer), dark=dark)
