"""Web server access lines: the Common and Combined Log Formats and their near relatives.

nginx's and Apache's default access logs, gunicorn's access log (``%(h)s %(l)s %(u)s %(t)s
"%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"``), aiohttp's (no ident or user), werkzeug's development
server (``127.0.0.1 - - [01/Dec/2026 18:48:35] "GET / HTTP/1.1" 200 -``) and Django's
``runserver`` (``[01/Dec/2026 18:48:35] "GET / HTTP/1.1" 200 12``) all write a client, an
optional ident and user, a bracketed time and the quoted request line, then the status.

Inference reads such a file as a template too, but takes the ident and user columns as
literals when the sample's first lines are all ``- -``: the first line with a user name then
stops starting records and is glued to the line before. This format reads every column, the
status and size as numbers (``status>=500``), and gives each line the level web tools give
it (5xx ERROR, 4xx WARNING, other INFO), so level filters and colours mean something.
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat
from logview.record import Record, decimal, level_from_name, split_exception
from logview.timeparse import parse_time

__all__ = ["AccessLogFormat", "level_of_status"]

#: ``%d/%b/%Y:%H:%M:%S %z`` (CLF), or werkzeug's and Django's ``%d/%b/%Y %H:%M:%S``.
_TIME = r"\d\d/[A-Z][a-z]{2}/\d{4}(?::\d\d:\d\d:\d\d [+-]\d{4}| \d\d:\d\d:\d\d)"
#: Client, ident and user (each one token, ``-`` when unknown; ident and user are left out
#: by aiohttp and Django leaves out all three), then the time.
_HEAD = (r"(?:(?P<client>[^\s\[\]\"]+) (?:(?P<ident>[^\s\[\]\"]+) (?P<user>[^\s\[\]\"]+) )?"
         r"\[(?P<time>" + _TIME + r")\] "
         # without a client only Django's request line, not a template's "[%(asctime)s] INFO"
         r"|\[(?P<time2>" + _TIME + r")\] (?=\"))")
_HEAD_RE = re.compile(_HEAD, re.ASCII)
#: What follows the head: the request line's rest, status, size, then referer and user agent
#: when written (combined); anything after them stays in the message.
_TAIL_RE = re.compile(
    r"\"(?P<request>(?:[^\"\\\n]|\\.)*)\" (?P<status>\d{3}) (?P<size>\d+|-)"
    r"(?: \"(?P<referer>(?:[^\"\\\n]|\\.)*)\" \"(?P<agent>(?:[^\"\\\n]|\\.)*)\")?",
    re.ASCII,
)
_REQUEST_RE = re.compile(r"(?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<protocol>HTTP/[\d.]+))?\Z")


def level_of_status(status: int) -> str:
    """The level web tools give an access line: server errors ERROR, client errors WARNING."""
    if status >= 500:
        return "ERROR"
    if status >= 400:
        return "WARNING"
    return "INFO"


class AccessLogFormat(LogFormat):
    """Common/Combined Log Format lines (nginx, Apache, gunicorn, aiohttp, werkzeug, Django)."""

    name = "access"
    #: The head without its group names, so it may sit in an alternation with other heads.
    start_pattern = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _HEAD).encode("ascii"))
    level_text = False  # the level comes from the status, not from a name in the text
    has_time = True

    def is_start(self, line: str) -> bool:
        return _HEAD_RE.match(line) is not None

    def parse(self, text: str) -> Record:
        head = _HEAD_RE.match(text)
        if head is None:
            message, exc = split_exception(text)
            return Record(message=message, exc=exc)
        message, exc = split_exception(text[head.end():])
        record = Record(message=message, exc=exc)
        record.time_text = head["time"] or head["time2"]
        record.time = parse_time(record.time_text)
        fields = record.fields
        for key in ("client", "ident", "user"):
            value = head[key]
            if value is not None and value != "-":
                fields[key] = value
        tail = _TAIL_RE.match(text, head.end())  # http.server's errors have no request
        if tail is None:
            return record
        request = _REQUEST_RE.match(tail["request"])
        if request is not None:
            fields["method"] = request["method"]
            fields["path"] = request["path"]
            if request["protocol"]:
                fields["protocol"] = request["protocol"]
        else:
            fields["request"] = tail["request"]
        status = int(tail["status"])
        fields["status"] = status
        size = decimal(tail["size"])
        if size is not None:
            fields["size"] = size
        if tail["referer"] is not None:
            fields["referer"] = tail["referer"]
            fields["user_agent"] = tail["agent"]
        record.level, record.levelno = level_from_name(level_of_status(status))
        return record
