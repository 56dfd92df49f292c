"""Detecting wrapped lines: a container's or CI runner's wrapper (``web-1  | ...``, an RFC 3339
stamp, docker's json-file objects, CRI's stamp and stream) comes off, and what is left is
detected like any log (``detect``), per compose service when services write differently.
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat
from logview.formats.detect import Detection, detect
from logview.formats.linewise import is_continuation


def unwrapped(lines: list[str]) -> Detection | None:
    """The detection for lines a container or CI runner wrapped (``web-1  | ...``, an RFC
    3339 stamp, docker's json-file objects, CRI's stamp and stream): the wrapper comes off
    and the rest is detected, per compose service when services write differently. None
    when the lines carry no wrapper, or only a prefix before plain text (then the prefix is
    all there is to read)."""
    from logview.formats.prefixed import (
        DockerJsonFormat,
        PrefixedFormat,
        docker_lines,
        plain_lanes,
        split_prefix,
    )

    in_docker = docker_lines(lines) if lines and lines[0][:1] == "{" else None
    if in_docker is not None:  # docker's json-file: the wrapper is certain, plain inside too
        inner = detect([log for _, log in in_docker], _wrapped=True)
        fmt = DockerJsonFormat(inner.format, plain_lanes(in_docker, inner.format))
        return Detection(fmt, inner.kind, f"docker+{inner.label}",
                         inner.template, inner.datefmt, inner.fitted, inner.total,
                         inner.runner_up)
    found = split_prefix(lines)
    if found is None:
        return None
    prefix, groups, inner_lines = found
    if prefix.name == "timestamped" and _syslog_lines(lines):
        return None  # (rsyslog's ISO stamp, then host and tag: syslog reads the whole line)
    if prefix.name == "timestamped" and _unstamped_continuation(lines, prefix.compiled().match):
        # A wrapper stamps every line it passes on: a traceback line without the stamp
        # continues a record whose stamp is the program's own time (``%(asctime)s.%(msecs)
        # 03dZ``); read as a wrapper, each such line was a record of its own.
        return None
    if (prefix.name == "timestamped" and not _zoned(lines)
            and not any(_stamped_continuation(line) for line in inner_lines)):
        # An ISO time without a zone is most often a program's own asctime: a wrapper's
        # only when it stamps continuation lines too (pip's --log file stamps every line of
        # a traceback). Decided before the inner lines' detection, which costs as much again.
        return None
    inner = detect(inner_lines, _wrapped=True)
    if inner.kind == "plain" and prefix.name != "cri":
        return None
    if (prefix.name == "timestamped" and not _own_time(inner, inner_lines)
            and not _wrapper_reads_more(inner, inner_lines, lines)):
        return None  # the stamp is the record's own time (an ISO asctime), not a wrapper's
    by_key: dict[str, LogFormat] = {}
    if len(groups) > 1:
        for key, group in groups.items():
            own = detect(group, _wrapped=True) if len(group) >= 3 else inner
            if own.kind != "plain" and own.format.name != inner.format.name:
                by_key[key] = own.format
    lanes = frozenset()
    if prefix.name == "cri":
        match = prefix.compiled().match
        pairs = [(m["stream"], line[m.end():]) for line in lines
                 if (m := match(line)) and m["_tag"] == "F"]  # a P piece: part of a line
        lanes = plain_lanes(pairs, inner.format)
    fmt = PrefixedFormat(prefix, inner.format, by_key, lanes)
    return Detection(fmt, inner.kind, f"{prefix.name}+{inner.label}", inner.template,
                     inner.datefmt, inner.fitted, inner.total, inner.runner_up)


def _own_time(inner: Detection, lines: list[str]) -> bool:
    """The lines after a leading time stamp carry a time of their own (a wrapped record),
    or are structured records, which carry theirs in fields."""
    from logview.formats.head_tokens import time_pieces

    if inner.format.name.startswith(("jsonl", "logfmt")):
        return True
    starts = [line for line in lines if not is_continuation(line)][:50]
    return bool(time_pieces(starts))


def _wrapper_reads_more(inner: Detection, inner_lines: list[str], lines: list[str]) -> bool:
    """Stamped lines whose rest has no time of its own are still a wrapper's (``kubectl logs
    --timestamps`` of uvicorn's ``INFO:     ...``) when reading them unwrapped keeps more:
    a stamped traceback or indented line (a program never stamps its own continuation
    lines, a wrapper stamps every line; read flat, each would be a record), or more levels
    than the stamp read as the program's own time does."""
    if any(_stamped_continuation(line) for line in inner_lines):
        return True
    if inner.kind == "plain":
        return False
    flat = detect(lines, _wrapped=True)
    inner_starts = [line for line in inner_lines if not is_continuation(line)][:64]
    flat_starts = [line for line in lines if not is_continuation(line)][:64]
    inner_levels = sum(inner.format.parse(line).level is not None for line in inner_starts)
    flat_levels = sum(flat.format.parse(line).level is not None for line in flat_starts)
    return inner_levels > flat_levels


def _syslog_lines(lines: list[str]) -> bool:
    """Whether most stamped lines go on as syslog's do: a host, then a program's tag
    (``vm sshd[4300]: ...``, rsyslog's files since Debian 12)."""
    from logview.formats.syslog import SyslogFormat

    starts = [line for line in lines if not is_continuation(line)][:64]
    tagged = SyslogFormat().tagged(starts)
    return bool(starts) and tagged * 5 >= len(starts) * 4


def _unstamped_continuation(lines: list[str], stamped) -> bool:
    """Whether a line that continues a record for certain (a traceback's) comes without the
    stamp the other lines open with."""
    return any(stamped(line) is None and _stamped_continuation(line) for line in lines)


def _stamped_continuation(line: str) -> bool:
    """A line that continues a record for certain: a traceback's or stack trace's (indented
    by a tab or two spaces, or unindented ``Traceback``, ``File "..."``, ``...Error:``); not
    a level padded by one space (``%5s``: `` INFO``) after a program's own time."""
    if line[:1] == "\t" or line[:2] == "  ":
        return True
    return line[:1] not in (" ", "") and is_continuation(line)


_ZONED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d) ")


def _zoned(lines: list[str]) -> bool:
    """Whether the stamps carry a zone (what ``docker logs -t``, ``kubectl logs --timestamps``
    and CI runners write), judged on the first stamped lines (a banner may come first)."""
    return any(_ZONED.match(line) is not None for line in lines[:64])
