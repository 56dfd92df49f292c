"""Detecting wrapped lines: a container's or CI runner's wrapper (``web-1  | ...``, an RFC 3339
stamp, docker's json-file objects, CRI's stamp and stream) comes off, and what is left is
detected like any log (``detect``), per compose service when services write differently.
Syslog's messages are wrapped lines too: a program's own formatted lines after syslog's
header, read by the format found for them (``message_format``), each app's own when the
programs of a system's log write differently (``syslog_messages_read``).
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat, PlainFormat
from logview.formats.detect import Detection, detect
from logview.formats.linewise import is_continuation
from logview.formats.syslog import SyslogFormat


def unwrapped(lines: list[str], *, nested: bool = False) -> Detection | None:
    """The detection for lines a container or CI runner wrapped (``web-1  | ...``, an RFC
    3339 stamp, docker's json-file objects, CRI's stamp and stream): the wrapper comes off
    and the rest is detected, per compose service when services write differently. None
    when the lines carry no wrapper, or only a prefix before plain text (then the prefix is
    all there is to read). A compose service's or a pod's lines may carry a runtime's stamp
    in turn (``docker compose logs -t``, ``kubectl logs --prefix --timestamps``): it comes
    off too (``nested``: the lines are such a wrapper's already, no third one is looked
    for)."""
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
    if nested and prefix.name != "timestamped":
        return None
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
    def inner_detect(inner: list[str]) -> Detection:
        stamped = None if nested or prefix.name not in ("compose", "kubectl") else unwrapped(
            inner, nested=True)
        return stamped or detect(inner, _wrapped=True)

    inner = inner_detect(inner_lines)
    if prefix.certain and inner.kind in ("inferred", "generic") and 2 * inner.fitted < inner.total:
        # A wrapper's own lines may outnumber the program's (Apache's beside mod_wsgi's): a
        # known format may read a few of them, a template guessed from a few is noise.
        inner = Detection(PlainFormat(), "plain", "plain", total=inner.total)
    if inner.kind == "plain" and not prefix.certain:
        return None
    if (prefix.name == "timestamped" and not _own_time(inner, inner_lines)
            and not _wrapper_reads_more(inner, inner_lines, lines)):
        return None  # the stamp is the record's own time (an ISO asctime), not a wrapper's
    by_key: dict[str, LogFormat] = {}
    if len(groups) > 1:
        for key, group in groups.items():
            own = inner_detect(group) if len(group) >= 3 else inner
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


def syslog_messages_read(option: Detection, starts: list[str]) -> Detection:
    """Syslog whose messages are a program's formatted lines, with the format that reads
    them (``message_format``): all of them, or else each app's own (a system's log mixes
    programs: a Python service's lines among sshd's and cron's); the option as it was
    otherwise."""
    syslog = option.format
    assert isinstance(syslog, SyslogFormat)
    # (64 messages: enough to infer a template; detection stays fast)
    inner = message_format(syslog.messages(starts[:64]))
    if inner is not None:
        # The apps seen writing its records (their traceback lines continue them).
        apps = frozenset(app for app, messages in syslog.messages_by_app(starts[:_APP_SAMPLE]).items()
                         if any(inner.format.is_start(m) and not is_continuation(m)
                                for m in messages))
        return Detection(SyslogFormat(inner.format, apps=apps or None), option.kind,
                         f"syslog+{inner.label}", None, None, option.fitted, option.total)
    by_app: dict[str, LogFormat] = {}
    labels: dict[LogFormat, str] = {}
    apps = syslog.messages_by_app(starts[:_APP_SAMPLE])
    ranked = sorted(apps.items(), key=lambda item: -len(item[1]))
    for app, messages in ranked[:_MAX_APPS]:
        found = message_format(messages[:64])
        if found is not None:
            by_app[app] = found.format
            labels[found.format] = found.label
    if not by_app:
        return option
    # An app with too few messages to infer from takes a format found for another app
    # when it reads a level in each of them (services of one code base log alike).
    for app, messages in ranked:
        if app in by_app:
            continue
        for fmt in labels:
            if all(fmt.is_start(m) and fmt.parse(m).level is not None for m in messages[:16]):
                by_app[app] = fmt
                break
    label = "; ".join(", ".join(app for app, f in by_app.items() if f is fmt) + ": " + text
                      for fmt, text in labels.items())
    return Detection(SyslogFormat(None, by_app), option.kind, f"syslog+{label}",
                     None, None, option.fitted, option.total)


#: Syslog lines whose messages are grouped by app to find each app's format, and the apps
#: (those with the most messages) whose format is looked for.
_APP_SAMPLE = 512
_MAX_APPS = 8


def message_format(messages: list[str], least: int = 3) -> Detection | None:
    """The format of syslog messages that are a program's formatted lines (``SysLogHandler``
    with a ``%(levelname)s %(name)s: %(message)s`` Formatter), or None: fewer than ``least``
    messages, plain text, or a format that reads no level in most of them (a level read is
    what tells a program's own head from words that happen to line up)."""
    if len(messages) < least:
        return None
    inner = detect(messages, _wrapped=True, _union=False, _nested=True)
    fmt = inner.format
    if inner.kind == "plain" or isinstance(fmt, PlainFormat):
        return None
    # (a traceback's lines, each a message of their own in a journal, read no level)
    heads = [m for m in messages if not is_continuation(m)]
    levels = sum(1 for m in heads if fmt.is_start(m) and fmt.parse(m).level is not None)
    return None if not heads or 2 * levels < len(heads) else inner
