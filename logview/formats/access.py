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

__all__ = ["AccessLogFormat", "RequestLineFormat", "level_of_status", "request_fields",
           "request_line_fields", "uwsgi_request"]

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
#: (hypercorn writes the protocol's version alone: ``"GET / 1.1"``)
_REQUEST_RE = re.compile(
    r"(?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<protocol>(?:HTTP/)?\d(?:\.\d)?))?\Z")


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
        request_fields(tail["request"], fields)
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


def access_fields(message: str) -> dict | None:
    """The fields of an access line that is another format's message (hypercorn's and
    aiohttp's access loggers write one after their own head; uvicorn's worker under
    gunicorn writes its short form), or None when ``message`` is none: what lets
    ``status>=500`` find their failed requests."""
    head = _HEAD_RE.match(message)
    if head is None:
        return request_line_fields(message)
    tail = _TAIL_RE.match(message, head.end())
    if tail is None:
        return None
    fields = AccessLogFormat().parse(message).fields
    return fields if "status" in fields else None


def request_fields(request: str, fields: dict) -> None:
    """The method, path and protocol of a request line (else the line as ``request``)."""
    found = _REQUEST_RE.match(request)
    if found is not None:
        fields["method"] = found["method"]
        fields["path"] = found["path"]
        if found["protocol"]:
            fields["protocol"] = found["protocol"]
    else:
        fields["request"] = request


#: uvicorn's access message (``%s - "%s %s HTTP/%s" %d``, the status's phrase after it):
#: the client with its port, the quoted request line, the status.
_CLIENT_LINE = (r'(?P<client>[^\s"]+:\d{1,5}) - "(?P<request>[A-Z]{3,10} [^"\s]+'
                r'(?: HTTP/[\d.]{1,3})?)" (?P<status>\d{3})(?: [A-Za-z][A-Za-z\' -]{0,40})?')
_CLIENT_LINE_RE = re.compile(_CLIENT_LINE + r"\Z", re.ASCII)


def request_line_fields(message: str) -> dict | None:
    """The fields of uvicorn's access message (client, method, path, protocol, status), or
    None when ``message`` is not one."""
    found = _CLIENT_LINE_RE.match(message)
    if found is None:
        return None
    fields: dict = {"client": found["client"]}
    request_fields(found["request"], fields)
    fields["status"] = int(found["status"])
    return fields


class RequestLineFormat(LogFormat):
    """uvicorn's access lines without a level prefix (``127.0.0.1:5000 - "GET / HTTP/1.1"
    200``): what gunicorn's access log holds with ``uvicorn_worker.UvicornWorker``, between
    gunicorn's own lines. No time; the level is the status's, as for access lines. The shape
    leaves no doubt, so such a line is a record of its own even among another format's
    lines (``union.second_format``)."""

    name = "request-lines"
    start_pattern = re.compile(_CLIENT_LINE.replace("(?P<client>", "(?:").replace(
        "(?P<request>", "(?:").replace("(?P<status>", "(?:").encode("ascii") + rb"[\r]?$")
    level_text = False
    has_time = False
    certain_lines = True

    def is_start(self, line: str) -> bool:
        return _CLIENT_LINE_RE.match(line.rstrip("\r")) is not None

    def parse(self, text: str) -> Record:
        line = text.rstrip("\r\n")
        fields = request_line_fields(line) if "\n" not in line else None
        if fields is None:
            message, exc = split_exception(text)
            return Record(message=message, exc=exc)
        record = Record(message=line, fields=fields)
        record.level, record.levelno = level_from_name(level_of_status(fields["status"]))
        return record


#: uWSGI's request log line (its default ``--log-format``), among the app's own lines in
#: uWSGI's log: worker pid, app, request counts, client, user, the request's variables,
#: time, method and path, then the response: size, duration, protocol and status.
_UWSGI = re.compile(
    r"\[pid: (?P<pid>\d+)\|app: (?P<app>-?\d+)\|req: (?P<req>\d+)/\d+\] (?P<client>\S+) "
    r"\((?P<user>[^)]*)\) \{\d+ vars in \d+ bytes\} \[(?P<time>[^\]]{1,40})\] "
    r"(?P<method>[A-Z]{1,16}) (?P<path>\S+) => generated (?P<size>\d+) bytes in "
    r"(?P<duration>\d+) (?P<unit>msecs|micros)\b[^(]*\((?P<protocol>[^\s)]+) (?P<status>\d{3})\)",
    re.ASCII)


def uwsgi_request(text: str) -> Record | None:
    """The record of a uWSGI request log line (``[pid: 9|app: 0|req: 1/1] 127.0.0.1 () {24
    vars in 250 bytes} [Wed Dec  2 11:03:14 2026] GET /ok => generated 2 bytes in 0 msecs
    (HTTP/1.1 200) ...``): its time, fields (``status>=500``, ``msecs>100``) and the level
    of its status; None for any other text."""
    found = _UWSGI.match(text)
    if found is None or "\n" in text[: found.end()]:
        return None
    message, exc = split_exception(text)
    record = Record(message=message, exc=exc)
    record.time_text = found["time"]
    record.time = parse_time(found["time"])
    fields = record.fields
    fields["pid"] = int(found["pid"])
    fields["client"] = found["client"]
    if found["user"]:
        fields["user"] = found["user"]
    fields["method"], fields["path"] = found["method"], found["path"]
    fields["protocol"] = found["protocol"]
    status = int(found["status"])
    fields["status"] = status
    fields["size"] = int(found["size"])
    duration = int(found["duration"])
    fields["msecs"] = duration if found["unit"] == "msecs" else duration / 1000
    record.level, record.levelno = level_from_name(level_of_status(status))
    return record
