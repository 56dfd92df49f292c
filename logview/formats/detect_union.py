"""Detection of two kinds of line in one log (``formats.union``).

A second format for the start lines the detected one leaves (gunicorn's access lines between
its error lines, a Flask error between werkzeug's request lines), and a template for the log
lines among plain program output (pytest's live log between its progress lines). Called by
``formats.detect.detect`` once it has chosen; kept apart so that module stays the chooser.
"""

from __future__ import annotations

from logview.formats.access import AccessLogFormat
from logview.formats.base import LogFormat, PlainFormat
from logview.formats.detect import (
    KNOWN_TIER,
    SYSLOG_TIER,
    USER_TIER,
    Detection,
    all_candidates,
    detect,
    score_formats,
)
from logview.formats.generic import GenericFormat
from logview.formats.python_stderr import PythonStderrFormat
from logview.formats.union import MIN_LINES, UnionFormat, second_format, union_pattern
from logview.record import strip_ansi

__all__ = ["lines_between_access_lines", "plain_with_template", "with_interpreter_lines",
           "with_second"]


def with_second(best: Detection, starts: list[str]) -> Detection:
    """``best`` and a second text format in one (``formats.union``) when the start lines
    ``best`` leaves are another format's records, each with a time or of a shape that
    leaves no doubt (gunicorn's access lines between its error lines, uvicorn's worker's
    request lines, the interpreter's warnings and crashes on a service's stderr); else
    ``best``."""
    fmt = best.format
    if best.kind not in ("named", "inferred", "generic") or best.fitted >= best.total:
        return best
    if fmt.start_pattern is None:
        return best
    rest = [line for line in starts if not fmt.is_start(line)]
    if not rest:
        return best
    found = detect(rest, _wrapped=True, _union=False)
    tried: list[tuple[LogFormat, str, bool]] = []
    if found.kind in ("named", "inferred"):
        tried.append((found.format, found.label, found.kind == "named"))
    # a known format that reads only a few of them (one Flask error among werkzeug's
    # request lines) loses the sample to generic, yet its one line is a record of its own
    ranked = sorted(((score, c.tier, c.specificity, c) for c, score in score_formats(rest)
                     if score > 0 and c.tier >= SYSLOG_TIER and c.name != found.label),
                    key=lambda item: item[:3], reverse=True)
    tried.extend((c.make(None), c.name, True) for *_, c in ranked)
    # the interpreter's own lines on a service's stderr (warnings, crashes): never a log's
    # main format, so not among the candidates above
    tried.append((PythonStderrFormat(), PythonStderrFormat.name, True))
    for candidate, label, named in tried:
        second = second_format(fmt, starts, named, candidate)
        if second is None or second.start_pattern is None:
            continue
        pattern = union_pattern(fmt.start_pattern, second.start_pattern)
        if pattern is None:
            continue
        union = UnionFormat(fmt, second, pattern)
        return Detection(union, best.kind, f"{best.label} + {label}", best.template,
                         best.datefmt, round(union.score(starts) * len(starts)), len(starts),
                         best.runner_up)
    return best


def interpreter_marks(best: Detection) -> tuple[bytes, ...]:
    """The literals one of which each of the interpreter's lines holds, when
    ``with_interpreter_lines`` may add them to ``best``; else ()."""
    fmt = best.format
    if (best.kind not in ("named", "inferred", "generic") or fmt.start_pattern is None
            or isinstance(fmt, UnionFormat)):
        return ()
    return PythonStderrFormat.start_marks


def with_interpreter_lines(best: Detection, tail: bytes) -> Detection:
    """``best`` with the interpreter's own lines (``formats.python_stderr``) as its second
    format when ``tail``, the end of a log bigger than the sample (or what a followed log
    added), holds one that ``best`` does not start: a crash comes at the end, where the
    sample (the start) cannot see it."""
    fmt = best.format
    if not interpreter_marks(best):
        return best
    second = PythonStderrFormat()
    marks = tuple(mark.decode() for mark in second.start_marks)
    lines = tail.decode("utf-8", "replace").split("\n")[1:]  # (the first may be cut)
    if not any(second.is_start(line) and not fmt.is_start(line)
               for line in (strip_ansi(line.rstrip("\r")) for line in lines
                            if any(mark in line for mark in marks))):
        return best
    pattern = union_pattern(fmt.start_pattern, second.start_pattern)  # type: ignore[arg-type]
    if pattern is None:
        return best
    return Detection(UnionFormat(fmt, second, pattern), best.kind,
                     f"{best.label} + {second.name}", best.template, best.datefmt, best.fitted,
                     best.total, best.runner_up)


def plain_with_template(plain: Detection, starts: list[str]) -> Detection:
    """Plain lines, with the few log lines among them read by their template (pytest's live
    log between its progress lines, Django's request lines among its printed messages).

    Every line still starts a record as in plain text (the union starts a record where
    either format does, and plain starts every line a traceback does not continue), so only
    what those lines say changes: their level, time and logger. The template is detected
    on the lines that open with a time or a level or that a named format starts, and must
    read a level or a time from at least ``MIN_LINES`` of them."""
    # (a format that starts a record at any line but a traceback's tells no log line apart)
    heads = [GenericFormat().is_start] + [c.scorer.is_start for c in all_candidates()
                                          if c.tier in (SYSLOG_TIER, KNOWN_TIER, USER_TIER)
                                          and not c.scorer.starts_any_line]
    headed = [line for line in starts if any(is_start(line) for is_start in heads)]
    if len(headed) < MIN_LINES:
        return plain
    found = detect(headed, _wrapped=True, _union=False)
    tried: list[tuple[LogFormat, str, str]] = []
    if found.kind in ("named", "inferred"):
        tried.append((found.format, found.kind, found.label))
    ranked = sorted(((score, c.tier, c.specificity, c) for c, score in score_formats(headed)
                     if score > 0 and c.tier >= SYSLOG_TIER and c.name != found.label),
                    key=lambda item: item[:3], reverse=True)  # generic took them all
    tried.extend((c.make(None), "named", c.name) for *_, c in ranked)
    plain_format = plain.format
    assert plain_format.start_pattern is not None
    for fmt, kind, label in tried:
        if fmt.start_pattern is None:
            continue
        taken = [fmt.parse(line) for line in starts if fmt.is_start(line)]
        if sum(1 for r in taken if r.level is not None or r.time is not None) < MIN_LINES:
            continue
        pattern = union_pattern(fmt.start_pattern, plain_format.start_pattern)
        if pattern is None:
            continue
        union = UnionFormat(fmt, plain_format, pattern)
        return Detection(union, kind, f"{label} + plain", getattr(fmt, "template", None),
                         getattr(fmt, "datefmt", None), len(starts), len(starts),
                         ("plain", len(starts)))
    return plain


def lines_between_access_lines(best: Detection, starts: list[str]) -> Detection:
    """Access lines with other output between them (Django's ``runserver``: its request
    lines, then ``Internal Server Error: /polls/`` and the traceback, ``Not Found: ...``)
    as plain lines with the access lines read as such: a request line is never more than a
    line, so the unindented lines after one are records of their own, not its message.
    ``best`` as it is when it is not bare access lines or starts every line."""
    if not isinstance(best.format, AccessLogFormat) or best.fitted >= best.total:
        return best
    plain = Detection(PlainFormat(), "plain", "plain", total=len(starts))
    found = plain_with_template(plain, starts)
    if not isinstance(found.format, UnionFormat):
        return best
    found.runner_up = (best.label, best.fitted)
    return found
