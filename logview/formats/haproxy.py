"""HAProxy's log lines, the load balancer in front of many Python services.

``option httplog`` writes ``client:port [accept date] frontend backend/server
TR/Tw/Tc/Tr/Ta status bytes cookies termination conns queues {headers} "request"``;
``option tcplog`` the same up to the timers (``Tw/Tc/Tt``), then bytes, the termination
state, conns and queues. They come to a file through syslog (syslog reads the header and hands
the message here, ``formats.syslog``) or, in a container, straight to standard output
(``log stdout format raw``), where HAProxy's own messages go too: ``[WARNING]  (pid) :
message`` on standard error, and the same message bare from the log. Read as a template, the
client's address became a module and its port a line number, the milliseconds a logger, and
the messages between the request lines were glued to them.

An HTTP line's level is its status's (5xx ERROR, 4xx WARNING, as for access lines); a
message's is its bracketed word (``NOTICE``, ``WARNING``, ``ALERT``). Every other line but a
traceback's starts a record of its own (a bare message, another program's line), as in plain
text; detection scores the format by its own lines.
"""

from __future__ import annotations

import re
from datetime import datetime

from logview.formats.access import level_of_status, request_fields
from logview.formats.base import LogFormat, PlainFormat
from logview.record import Record, level_from_name
from logview.timeparse import MONTH_NUMBERS

__all__ = ["HaproxyFormat"]

_LOG = re.compile(
    r"(?P<client>[^\s\[]+):(?P<port>\d{1,5}) \[(?P<day>\d\d)/(?P<month>[A-Z][a-z]{2})/"
    r"(?P<year>\d{4}):(?P<clock>\d\d:\d\d:\d\d)(?:\.(?P<ms>\d{3}))?\] "
    r"(?P<frontend>\S+) (?P<backend>[^\s/]+)/(?P<server>\S+) (?P<timers>-?\d+(?:/-?\+?\d+){2,4}) "
    r"(?:(?P<status>-?\d{1,3}) (?P<bytes>\+?\d+) (?P<cookies>\S+ \S+) (?P<state>\S{4}) "
    r"|(?P<tcp_bytes>\+?\d+) (?P<tcp_state>\S{2}) )"
    r"(?P<conns>\+?\d+(?:/\+?\d+){4}) (?P<queues>\d+/\d+)"
    r'(?: \{[^}\n]*\})*(?: "(?P<request>[^"\n]*)")?')
_MESSAGE = re.compile(r"\[(?P<level>NOTICE|WARNING|ALERT|EMERG|INFO|DEBUG)\] +\((?P<pid>\d+)\) : ")
_OWN = re.compile(f"{_LOG.pattern}|{_MESSAGE.pattern}")
_PLAIN = PlainFormat()


class HaproxyFormat(LogFormat):
    """HAProxy's HTTP and TCP log lines and its own bracketed messages."""

    name = "haproxy"
    start_pattern = PlainFormat.start_pattern
    starts_any_line = True
    level_text = False  # an HTTP line's level is its status's
    made_loggers = frozenset({"haproxy"})

    def is_start(self, line: str) -> bool:
        return _PLAIN.is_start(line)

    def score(self, lines: list[str]) -> float:
        """The share of lines HAProxy wrote as log lines or as its own messages."""
        if not lines:
            return 0.0
        return sum(1 for line in lines if _OWN.match(line) is not None) / len(lines)

    def parse(self, text: str) -> Record:
        line, _, rest = text.partition("\n")
        m = _LOG.match(line)
        if m is not None:
            return _log_record(m, line, rest)
        m = _MESSAGE.match(line)
        if m is None:
            return _PLAIN.parse(text)
        record = _PLAIN.parse(text[m.end():])
        record.level, record.levelno = level_from_name(m["level"])
        record.logger = "haproxy"
        record.fields["pid"] = int(m["pid"])
        return record


def _log_record(m: re.Match[str], line: str, rest: str) -> Record:
    record = Record(message=line if not rest else f"{line}\n{rest}")
    record.logger = "haproxy"
    fields = record.fields
    fields["client"] = m["client"]
    fields["port"] = int(m["port"])
    for key in ("frontend", "backend", "server", "timers"):
        fields[key] = m[key]
    duration = m["timers"].rsplit("/", 1)[-1].lstrip("+")
    if duration.lstrip("-").isdigit():
        fields["duration_ms"] = int(duration)
    if m["status"] is not None:
        status = int(m["status"])
        fields["status"] = status
        fields["bytes"] = int(m["bytes"].lstrip("+"))
        fields["termination"] = m["state"]
        if status > 0:
            record.level, record.levelno = level_from_name(level_of_status(status))
    else:
        fields["bytes"] = int(m["tcp_bytes"].lstrip("+"))
        fields["termination"] = m["tcp_state"]
    if m["request"] is not None:
        request_fields(m["request"], fields)
    record.time_text = line[m.start("day"):m.end("ms") if m["ms"] else m.end("clock")]
    try:
        hour, minute, second = (int(part) for part in m["clock"].split(":"))
        month = MONTH_NUMBERS[m["month"].lower()]
        record.time = datetime(int(m["year"]), month, int(m["day"]), hour,
                               minute, second, int(m["ms"] or 0) * 1000)
    except (KeyError, ValueError):
        record.time = None
    return record
