"""OpenStack's oslo.log lines (nova, neutron, cinder, glance, keystone, heat ...).

``2024-01-02 03:04:05.678 2931 ERROR nova.compute.manager [req-... user project - - -]
[instance: ...] Error updating resources``: the time with milliseconds, the process id, the
level, the logger, then the request context in brackets (``[-]`` without one) and the
message. oslo.log writes a traceback with that head on every line
(``logging_exception_prefix``): ``... 2931 ERROR nova.compute.manager Traceback (most recent
call last):``, ``...   File "..."``, ``... libvirtError: internal error``. Read as a template,
each of those lines was a record of its own.

Here an ERROR or TRACE line (oslo.log writes a traceback's lines at ERROR whatever the
record's level) whose message opens a traceback, is indented (a frame or its code), tells of
a chained exception, is empty, or names an exception the way a traceback's last line does (``libvirtError: ...``, ``nova.exception.InstanceNotFound``) continues the
record before: a traceback is one record, with its lines' heads taken off. The request id,
the user and project and the instance become fields (``request_id``, ``global_request_id``,
``user_identity``, ``instance``).
"""

from __future__ import annotations

import re
from datetime import datetime

from logview.formats.base import LogFormat
from logview.formats.linewise import plain_record
from logview.record import Record, level_from_name, split_exception

_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "TRACE", "AUDIT")
#: A message that continues a traceback, and the exception's own line: a dotted name ending
#: in Error/Exception/... then a colon or the line's end (``ValueError: x``, ``nova.exception.InstanceNotFound: ...``; not a bare ``Exception: x``,
#: which a program may well log as its message).
_TRACE_LINE = (r"Traceback \(most recent call last\):|  |During handling of the above"
               r"|The above exception was|\r?(?:\n|$)")
_EXC_LINE = (r"[A-Za-z_][\w.]*[A-Za-z0-9_](?:Error|Exception|Exit|Interrupt|Fault|Failure"
             r"|Timeout|NotFound|Conflict|Forbidden)\w*(?::|\r?(?:\n|$))")
_HEAD = (rf"(?P<time>{_TIME}) (?P<pid>\d+) (?P<level>{'|'.join(_LEVELS)}) (?P<name>[\w.-]+) ")
_START = (rf"{_TIME} \d+ (?:(?:ERROR|TRACE) [\w.-]+ (?!{_TRACE_LINE}|{_EXC_LINE})"
          rf"|(?:{'|'.join(L for L in _LEVELS if L not in ('ERROR', 'TRACE'))}) [\w.-]+ )")
_HEAD_RE = re.compile(_HEAD)
_START_RE = re.compile(_START)
#: The request context after the logger: ``[req-<id> <user identity>]`` or ``[-]``.
_CONTEXT = re.compile(r"\[(?!instance: )(?P<context>[^\]\n]*)\] ?")
_INSTANCE = re.compile(r"\[instance: (?P<instance>[^\]\n]+)\] ?")


class OsloFormat(LogFormat):
    """oslo.log's lines, a traceback spread over lines with the head one record."""

    name = "oslo"
    level_text = True
    start_pattern = re.compile(_START.encode("ascii"))

    def is_start(self, line: str) -> bool:
        return _START_RE.match(line) is not None

    def score(self, lines: list[str]) -> float:
        """The share of lines with oslo's head (a traceback's lines have it too, and do not
        start records: scored by their starts alone, a log with tracebacks would lose to a
        template that makes each of them a record)."""
        if not lines:
            return 0.0
        return sum(1 for line in lines if _HEAD_RE.match(line)) / len(lines)

    def parse(self, text: str) -> Record:
        m = _HEAD_RE.match(text)
        if m is None:
            return plain_record(text)
        lines = text[m.end():].split("\n")
        fields: dict[str, object] = {"process": int(m["pid"])}
        first = lines[0]
        context = _CONTEXT.match(first)
        if context is not None:  # [<global request id> <request id> <user identity>]
            first = first[context.end():]
            words = context["context"].split(" ")
            ids = 0
            while ids < len(words) and ids < 2 and (words[ids].startswith("req-")
                                                    or words[ids] == "None"):
                ids += 1
            if ids and words[ids - 1].startswith("req-"):
                fields["request_id"] = words[ids - 1]
                if ids == 2 and words[0].startswith("req-"):
                    fields["global_request_id"] = words[0]
                identity = " ".join(words[ids:])
                if identity.strip("- "):
                    fields["user_identity"] = identity
        instance = _INSTANCE.match(first)
        if instance is not None:
            first = first[instance.end():]
            fields["instance"] = instance["instance"]
        rest = []
        for line in lines[1:]:
            head = _HEAD_RE.match(line)
            if head is not None:  # a traceback's line under the same kind of head
                line = line[head.end():]
                line = line[_INSTANCE.match(line).end():] if _INSTANCE.match(line) else line
            rest.append(line)
        message, exc = split_exception("\n".join([first, *rest]).rstrip("\n"))
        level, levelno = level_from_name(m["level"])
        try:
            time = datetime.strptime(m["time"], "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            time = None
        return Record(message=message, time=time, time_text=m["time"], level=level,
                      levelno=levelno, logger=m["name"], exc=exc, fields=fields)
