"""structlog's ``dict_tracebacks`` (a list of stacks as dicts) back to the text Python prints."""

from __future__ import annotations

from typing import Any

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n"


def render_structlog_traceback(stacks: list[dict[str, Any]], indent: str = "") -> str:
    """Render structlog's ``dict_tracebacks`` (outermost exception first) as Python would.

    Python prints the innermost cause first, then each exception that followed with the
    sentence saying how they are linked (``is_cause`` on the inner one).
    """
    blocks: list[str] = []
    for i in range(len(stacks) - 1, -1, -1):
        stack = stacks[i]
        if i < len(stacks) - 1:
            blocks.append(_CAUSE if stacks[i + 1].get("is_cause") else _CONTEXT)
        blocks.append(_render_stack(stack))
    text = "\n".join(blocks)
    if indent:
        text = "\n".join(indent + line for line in text.split("\n"))
    return text


def _render_stack(stack: dict[str, Any]) -> str:
    lines: list[str] = []
    frames = stack.get("frames")
    group = bool(stack.get("is_group"))
    if isinstance(frames, list) and frames:
        lines.append(("Exception Group " if group else "") + "Traceback (most recent call last):")
        for frame in frames:
            if not isinstance(frame, dict):
                continue
            lines.append(f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", "?")}'
                         f', in {frame.get("name", "?")}')
            source_line = frame.get("line")
            if isinstance(source_line, str) and source_line.strip():
                lines.append("    " + source_line.strip())
    syntax = stack.get("syntax_error")
    if isinstance(syntax, dict):
        lines.append(f'  File "{syntax.get("filename", "?")}", line {syntax.get("lineno", "?")}')
        code = syntax.get("line")
        if isinstance(code, str) and code.strip():
            lines.append("    " + code.strip())
    exc_type = stack.get("exc_type") or "Exception"
    exc_value = stack.get("exc_value")
    lines.append(f"{exc_type}: {exc_value}" if exc_value not in (None, "") else str(exc_type))
    notes = stack.get("exc_notes")
    if isinstance(notes, list):
        lines.extend(str(note) for note in notes)
    if group and isinstance(stack.get("exceptions"), list):
        for n, sub in enumerate(stack["exceptions"], 1):
            if isinstance(sub, list) and all(isinstance(s, dict) for s in sub):
                lines.append(f"  +---------------- {n} ----------------")
                lines.append(render_structlog_traceback(sub, indent="    | "))
    return "\n".join(lines)
