"""Records that something else has wrapped: a prefix on every line before the program's own.

``docker compose logs`` writes ``web-1  | `` before each line, ``kubectl logs --timestamps``,
``docker logs -t`` and CI runners an RFC 3339 time, ``kubectl logs --prefix`` the pod and
container, Kubernetes' CRI log files a time and the stream. Docker's json-file driver puts each
line in a JSON object (``{"log": "...\\n", "stream": ..., "time": ...}``): ``DockerJsonFormat``
reads the ``log`` strings the same way. The program's own record (a logging template, JSON, ...) follows, and its
traceback lines carry the prefix too. ``PrefixedFormat`` takes the prefix off every line,
reads what is left with the inner format (one per compose service when they differ), and
keeps the prefix as fields (``service``, ``stamp``, ``pod``); a record the inner format gives
no time takes the prefix's.

Docker and CRI name the stream (stdout, stderr) of every line. A stream on which the sample shows
no record start of the inner format (``print()`` output beside ``logging`` on stderr) is a
*plain lane*: its lines are records of their own (a traceback header opens one, traceback lines
continue it), so they are never glued into a record of the other stream. The start test sees
one line (the index, the direct scan and the splitter cut records with it anywhere in a file),
so it cannot know the stream of the line before: a lane is decided for the whole file.
The runtimes split a long line into pieces (CRI: ``P`` tags before the last ``F`` piece;
json-file: a ``log`` string without its final newline, every 16 KB): the pieces of a record are
joined into one line before the inner format reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from logview.formats.base import CONTINUATION_PATTERN, LogFormat, PlainFormat, head_undecorated
from logview.formats.linewise import is_continuation
from logview.record import CORNER_BYTES, CORNERS, Record, level_from_name, strip_ansi, undecorated
from logview.timeparse import parse_time


@dataclass(frozen=True, slots=True)
class Prefix:
    """One kind of wrapper: its name and the regex of what it puts before each line."""

    name: str
    source: str  # regex source, ASCII only, named groups become fields
    #: The group whose value may have a format of its own (a compose service, an Apache
    #: module): the sample's lines are detected per value too.
    key: str = ""
    #: The wrapper writes lines of its own and a program's output line by line (Apache's
    #: error log): a line that does not continue a record (a traceback's) starts one,
    #: whatever the inner format says of it; with ``certain``, the wrapper is read even
    #: around plain text.
    open_lines: bool = False
    certain: bool = False
    #: The wrapper puts its prefix before an event's first line only (``aws logs tail``):
    #: a line without it continues the event before it.
    continued: bool = False
    #: The logger of a record that names none, from the prefix's groups (``str.format``
    #: fields; empty: none).
    logger: str = ""

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.source, re.ASCII)


#: The wrappers logview recognises. A compose service is ``name-1`` or ``name_1`` (compose
#: numbers its containers), so a template that opens with ``%(name)s | `` is not taken for one.
PREFIXES = (
    # Kubernetes' CRI log files (/var/log/containers/*.log): time, stream, full/partial tag.
    # Groups named with a leading ``_`` are no fields (the piece tag).
    Prefix("cri", r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?"
                  r"(?:Z|[+-]\d\d:?\d\d)) (?P<stream>stdout|stderr) (?P<_tag>[FP]) ", certain=True),
    Prefix("compose", r"(?P<service>[A-Za-z0-9][\w.-]*[-_]\d+) *\| ", key="service"),
    # ``aws logs tail`` (its default ``--format detailed``): the event's time in UTC to the
    # microsecond, its log stream (Lambda's ``2026/12/02/[$LATEST]<id>``, ECS's
    # ``prefix/container/<task>``: a path; an EC2 instance's id), the message, whose further
    # lines come as they are.
    Prefix("cloudwatch", r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) "
                         r"(?P<log_stream>[^\s/]+(?:/[^\s/]+)+|i-[0-9a-f]{8,17}) ",
           certain=True, continued=True),
    # ``heroku logs``: the time, where the line came from (``app`` for the program's output,
    # ``heroku`` for the platform's own: the router, a dyno's state) and the dyno or process
    # in brackets; every line of the program's output is stamped so, a traceback's too.
    Prefix("heroku", r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) "
                     r"(?P<log_source>app|heroku)\[(?P<dyno>[\w.-]{1,64})\]: ?",
           key="log_source", certain=True, logger="{log_source}[{dyno}]"),
    Prefix("timestamped", r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?"
                          r"(?:Z|[+-]\d\d:?\d\d)?) "),
    Prefix("kubectl", r"\[(?P<pod>pod/[^\]\s]+)\] "),
    # Apache httpd's error log (2.4's default ErrorLogFormat, 2.2's), which mod_wsgi writes a
    # Python program's stderr into, one line each: time, module and severity (the record's
    # level unless its own text has one: every stderr line is ``wsgi:error``), pid and
    # thread, the client. (Possessive: the start pattern must not find a shorter head whose
    # rest, ``[client ...] Traceback``, would read as no traceback line.)
    Prefix("apache", r"\[(?P<stamp>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d "
                     r"\d\d:\d\d:\d\d(?:\.\d{1,6})? \d{4})\] "
                     r"\[(?:(?P<module>[\w-]+):)?(?P<_level>emerg|alert|crit|error|warn|notice"
                     r"|info|debug|trace[1-8])\]"
                     r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?+"
                     r"(?: \[(?:client|remote) (?P<client>[^\]\s]+)\])?+ ?+",
           key="module", open_lines=True, certain=True, logger="{module}"),
)
#: A ``{group}`` field of ``Prefix.logger``.
_FORMAT_FIELD = re.compile(r"\{(\w+)\}")
#: A sample is wrapped when at least this share of its lines carry one prefix.
MIN_SHARE = 0.8

#: What continues a record on a plain lane: traceback lines (``CONTINUATION_PATTERN``) but a
#: traceback's header, which opens a record there (an uncaught exception printed on stderr).
_LANE_CONTINUES = (r"(?!Traceback \(most recent call last\):)(?:" + CONTINUATION_PATTERN + ")")
_lane_continues = re.compile(_LANE_CONTINUES, re.ASCII).match
#: What continues a record on an open wrapper's line (``Prefix.open_lines``): a traceback,
#: its header included (logging's ``exception()`` writes it after the record's line).
_continues = re.compile(CONTINUATION_PATTERN, re.ASCII).match
#: The named group of a prefix that says the line's stream.
_LANE_GROUP = re.compile(r"\(\?P<stream>[^)]*\)")


def plain_lanes(pairs: list[tuple[str, str]], inner: LogFormat) -> frozenset[str]:
    """The streams of ``(stream, inner line)`` sample pairs on which ``inner`` finds no record
    start while another stream has some: their lines are not the program's records."""
    starts: dict[str, int] = {}
    for lane, line in pairs:
        starts[lane] = starts.get(lane, 0) + bool(inner.is_start(line))
    if not any(starts.values()):
        return frozenset()
    return frozenset(lane for lane, n in starts.items() if n == 0)


def _lane_start(rest: str) -> bool:
    return _lane_continues(rest) is None


class PrefixedFormat(LogFormat):
    """Lines ``PREFIX + inner line``: the inner format reads what follows the prefix."""

    def __init__(self, prefix: Prefix, inner: LogFormat,
                 by_key: dict[str, LogFormat] | None = None,
                 lanes: frozenset[str] = frozenset()) -> None:
        """``by_key`` gives a compose service its own format (``inner`` serves the rest);
        ``lanes`` are the plain lanes (streams whose lines are records of their own)."""
        self.prefix = prefix
        self.lanes = lanes
        if prefix.name == "cri":
            inner = objects_only(inner)
        self.inner = inner
        self.by_key = dict(by_key or {})
        self.name = f"{prefix.name}+{inner.name}"
        self.template = getattr(inner, "template", None)
        self.datefmt = getattr(inner, "datefmt", None)
        self._match = prefix.compiled().match
        formats = [inner, *(f for f in self.by_key.values() if f is not inner)]
        self._formats = formats
        self._starts: list[Callable[[str], bool]] = [f.is_start for f in formats]
        self.start_pattern = _start_pattern(prefix, formats, lanes)
        #: Level names appear as written only if every inner format says so (and not when
        #: the wrapper gives levels: Apache's are lower case, ``crit``, ``warn``).
        self.level_text = (all(getattr(f, "level_text", False) for f in formats)
                           and "(?P<_level>" not in prefix.source)
        self.made_loggers = frozenset().union(*(f.made_loggers for f in formats))

    def __repr__(self) -> str:
        return (f"PrefixedFormat({self.prefix.name!r}, {self.inner!r}, {self.by_key!r}, "
                f"{self.lanes!r})")

    def _format_for(self, match: re.Match[str]) -> LogFormat:
        key = match.groupdict().get(self.prefix.key) if self.prefix.key else None
        return self.by_key.get(key, self.inner) if key else self.inner

    def is_start(self, line: str) -> bool:
        m = self._match(line)
        if m is None:
            # A line the wrapper did not write ("Attaching to web-1") stands alone, but an
            # event's further line (``Prefix.continued``).
            return not self.prefix.continued
        rest = line[m.end():]
        if any(start(rest) for start in self._starts):
            return True
        if rest[:1] in CORNERS and any(start(undecorated(rest)) for start in self._starts):
            return True  # (a box's corner before the inner line: ``record.undecorated``)
        if self.prefix.open_lines:
            return _continues(rest) is None
        return bool(self.lanes) and m.groupdict().get("stream") in self.lanes and _lane_start(rest)

    def parse(self, text: str) -> Record:
        lines = text.split("\n")
        first = self._match(lines[0])
        if first is None:
            return self.inner.parse(text)
        inner_lines: list[str] = []
        piece = False  # the line before was a piece a runtime cut off a longer line (CRI P)
        for line in lines:
            m = self._match(line)
            rest = line[m.end():] if m is not None else line
            if piece and inner_lines:
                inner_lines[-1] += rest
            else:
                inner_lines.append(rest)
            piece = m is not None and m.groupdict().get("_tag") == "P"
        fmt = self._format_for(first)
        if ((self.prefix.open_lines or first.groupdict().get("stream") in self.lanes)
                and not fmt.is_start(inner_lines[0])):
            fmt = _PLAIN  # a plain lane's line (or traceback) is no record of the inner format
        record = fmt.parse(head_undecorated(fmt, "\n".join(inner_lines)))
        if self.prefix.logger and not record.logger:
            # The wrapper's own line, or one of the program's that names no logger: the part
            # of the wrapper that wrote it is its logger (Apache's ``core``, ``wsgi``;
            # Heroku's ``heroku[router]``), when the prefix holds every group it names.
            groups = first.groupdict()
            if all(groups.get(name) for name in _FORMAT_FIELD.findall(self.prefix.logger)):
                record.logger = self.prefix.logger.format(**groups)
        return _with_wrapper(record, first.groupdict())

    def score(self, lines: list[str]) -> float:
        if not lines:
            return 0.0
        read = 0
        for line in lines:
            m = self._match(line)
            if m is not None and self._format_for(m).score([line[m.end():]]):
                read += 1
        return read / len(lines)


def _with_wrapper(record: Record, wrapper: dict[str, object]) -> Record:
    """What the wrapper said becomes fields the record does not have yet; its ``stamp`` is
    the time of a record that has none of its own."""
    for key, value in wrapper.items():
        if isinstance(value, str) and not key.startswith("_"):
            record.fields.setdefault(key, value)
    level = wrapper.get("_level")
    if record.level is None and isinstance(level, str):
        record.level, record.levelno = level_from_name(level)
    stamp = wrapper.get("stamp")
    if record.time is None and isinstance(stamp, str):
        record.time = parse_time(stamp)
        record.time_text = record.time_text or stamp
    return record


class _LaneFormat(PlainFormat):
    """A plain lane's records: a line and its traceback, or a traceback of its own (whose
    last line, the exception, is the message)."""

    def parse(self, text: str) -> Record:
        if text.startswith("Traceback (most recent call last):"):
            last = text.rstrip("\n").rsplit("\n", 1)[-1].strip()
            return Record(message=last, exc=text.rstrip("\n"))
        return super().parse(text)


_PLAIN = _LaneFormat()


class _ObjectStarts(LogFormat):
    """JSON lines inside a runtime that cuts long lines (CRI, docker's json-file): only an
    object line starts a record, so the pieces after a cut line's first (text from the
    middle of an object) continue its record and are joined to it. A text line among the
    objects continues one too: the sample held none (or detection would have read the lane
    as JSON and text, ``MixedFormat``)."""

    start_pattern = re.compile(rb"\x1e?\{|\x1e[ \t]*\{|[ \t]+\{.*\}[ \t\r]*\Z")

    def __init__(self, inner: LogFormat) -> None:
        self.inner = inner
        self.name = inner.name
        self.level_text = inner.level_text
        self.custom_levels = inner.custom_levels
        self.made_loggers = inner.made_loggers

    def __repr__(self) -> str:
        return f"_ObjectStarts({self.inner!r})"

    def is_start(self, line: str) -> bool:
        head = line[:1]
        if head == "{" or (head == "\x1e" and line[1:].lstrip(" \t")[:1] == "{"):
            return True
        return (head in (" ", "\t") and line.lstrip(" \t")[:1] == "{"
                and line.rstrip(" \t\r")[-1:] == "}")

    def parse(self, text: str) -> Record:
        return self.inner.parse(text)

    def score(self, lines: list[str]) -> float:
        return self.inner.score(lines)


def objects_only(fmt: LogFormat) -> LogFormat:
    """``fmt`` inside a runtime that cuts long lines: JSON lines start records only at an
    object (``_ObjectStarts``); other formats as they are."""
    from logview.formats.jsonl import JsonFormat

    return _ObjectStarts(fmt) if isinstance(fmt, JsonFormat) else fmt


def _start_pattern(prefix: Prefix, formats: list[LogFormat], lanes: frozenset[str] = frozenset()
                   ) -> re.Pattern[bytes] | None:
    """``PREFIX (inner start | ...) | PLAIN-LANE PREFIX lane start | a line without the
    prefix``, over bytes."""
    source = prefix.source
    lane_head = None
    if lanes and _LANE_GROUP.search(source):
        only = "|".join(re.escape(lane) for lane in sorted(lanes))
        lane_head = _LANE_GROUP.sub(lambda _: f"(?:{only})", source)
    head = re.sub(rb"\(\?P<\w+>", b"(?:", source.encode("ascii"))  # no captures
    if lane_head is not None:
        lane_head = re.sub(rb"\(\?P<\w+>", b"(?:", lane_head.encode("ascii"))
    if prefix.open_lines:  # every line of the wrapper's is a lane whose header starts too
        return _wrapped_pattern(head, formats, head, CONTINUATION_PATTERN)
    return _wrapped_pattern(head, formats, lane_head, alone=not prefix.continued)


def _wrapped_pattern(head: bytes, formats: list[LogFormat], lane_head: bytes | None = None,
                     continues: str = _LANE_CONTINUES, *, alone: bool = True
                     ) -> re.Pattern[bytes]:
    """``HEAD (inner start | ...) | LANE-HEAD lane start | a line without HEAD``: the inner
    formats' start patterns (global flags lifted, group names made unique) after a wrapper's
    own head; ``LANE-HEAD`` is the head of a plain lane's lines (None: no plain lane), whose
    lines start a record unless ``continues`` matches them; a line without HEAD starts one
    when ``alone``."""
    inner: list[bytes] = []
    flags = re.ASCII
    for k, fmt in enumerate(formats):
        pattern = fmt.start_pattern
        if pattern is None:
            inner = [b""]  # the inner format starts a record on every line
            break
        source = _without_global_flags(pattern.pattern)
        source = _GROUP_NAME.sub(rb"(?P\1f%d_\2" % k, source)  # names must stay unique
        inner.append(b"(?:" + source + b")")
        flags |= pattern.flags & (re.IGNORECASE | re.DOTALL)
    body = b"|".join(inner)
    lane = b""
    if lane_head is not None:
        # (?-i: an inner format's ignore-case flag must not reach the traceback test)
        lane = b"|(?-i:" + lane_head + b"(?!" + continues.encode("ascii") + b"))"
    # (a box's corner may stand before the inner line: ``record.undecorated``)
    corner = b"(?:" + CORNER_BYTES + b" ?)?"
    bare = b"|(?!" + head + b")" if alone else b""
    return re.compile(b"(?:" + head + corner + b"(?:" + body + b"))" + lane + bare, flags)


_GLOBAL_FLAGS = re.compile(rb"\A\(\?[aiLmsux]+\)")
_GROUP_NAME = re.compile(rb"\(\?P([<=])(\w+)")


def _without_global_flags(source: bytes) -> bytes:
    return _GLOBAL_FLAGS.sub(b"", source)


def split_prefix(lines: list[str]) -> tuple[Prefix, dict[str, list[str]], list[str]] | None:
    """The wrapper most sample lines carry, the inner lines per compose service (one group
    ``""`` for the other wrappers), and all inner lines; None when the sample is not wrapped."""
    if not lines:
        return None
    for prefix in PREFIXES:
        match = prefix.compiled().match
        groups: dict[str, list[str]] = {}
        inner: list[str] = []
        hits = 0
        piece = False
        for line in lines:
            m = match(line)
            if m is None:
                if prefix.continued and inner and is_continuation(line):
                    hits += 1  # an event's further line: the wrapper's too, as it is
                    inner.append(line)
                    groups.setdefault("", []).append(line)
                continue
            hits += 1
            rest = line[m.end():]
            if piece and inner:  # the rest of a line the runtime cut (CRI ``P``)
                inner[-1] += rest
            else:
                inner.append(rest)
                key = m.groupdict().get(prefix.key) if prefix.key else None
                groups.setdefault(key or "", []).append(rest)
            piece = m.groupdict().get("_tag") == "P"
        if hits >= MIN_SHARE * len(lines):
            return prefix, groups, inner
    return None


_DOCKER_HEAD = rb'\{\s*"log"\s*:\s*"'
_DOCKER_LINE = re.compile(r'\{\s*"log"\s*:')


class DockerJsonFormat(LogFormat):
    """Docker's json-file lines: the ``log`` strings are the program's lines, read by ``inner``.

    A record is the JSON lines whose ``log`` strings make one inner record (a traceback spans
    several). The start test runs the inner one on the bytes right after ``{"log":"``, so the
    index and the splitter agree (a head with characters JSON escapes reads as not a start).
    """

    #: Text in the raw bytes is JSON-escaped; levels are inside the strings, as written.
    json_escaped = True
    level_text = False
    prints_raw = False  # records are JSON objects: shown from their fields

    def __init__(self, inner: LogFormat, lanes: frozenset[str] = frozenset()) -> None:
        """``lanes``: the plain lanes (streams whose lines are records of their own)."""
        inner = objects_only(inner)
        self.inner = inner
        self.lanes = lanes
        self.made_loggers = inner.made_loggers
        self.name = f"docker+{inner.name}"
        self.template = getattr(inner, "template", None)
        self.datefmt = getattr(inner, "datefmt", None)
        lane_head = None
        if lanes:
            # docker writes "stream" after "log"; ``,"`` cannot occur inside the escaped log
            # string (its quotes are ``\"``), so this finds the key, never the text.
            only = b"|".join(re.escape(lane.encode()) for lane in sorted(lanes))
            lane_head = (_DOCKER_HEAD + rb'(?=[^\n]*,\s*"stream"\s*:\s*"(?:' + only
                         + rb')")')
        self.start_pattern = _wrapped_pattern(_DOCKER_HEAD, [inner], lane_head)

    def __repr__(self) -> str:
        return f"DockerJsonFormat({self.inner!r}, {self.lanes!r})"

    def is_start(self, line: str) -> bool:
        return self.start_pattern.match(line.encode("utf-8", "surrogatepass")) is not None

    def parse(self, text: str) -> Record:
        parts: list[str] = []
        first: dict | None = None
        piece = False  # the line before was a piece of a longer line (no final newline)
        for line in text.split("\n"):
            obj = docker_object(line)
            log = line if obj is None else obj["log"]
            first = first or obj
            if piece and parts:
                parts[-1] += log.rstrip("\n")
            else:
                parts.append(log.rstrip("\n"))
            piece = obj is not None and not log.endswith("\n")
        inner_text = strip_ansi("\n".join(parts))
        fmt = self.inner
        if first is not None and first.get("stream") in self.lanes and not fmt.is_start(parts[0]):
            fmt = _PLAIN  # a plain lane's line (or traceback) is no record of the inner format
        record = fmt.parse(head_undecorated(fmt, inner_text))
        if first is None:
            return record
        return _with_wrapper(record, {"stream": first.get("stream"), "stamp": first.get("time")})

    def score(self, lines: list[str]) -> float:
        if not lines:
            return 0.0
        return sum(1 for line in lines if docker_object(line) is not None) / len(lines)


def docker_object(line: str) -> dict | None:
    """The json-file object a line holds (``log`` a string), or None."""
    if _DOCKER_LINE.match(line) is None:
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("log"), str) else None


def docker_lines(lines: list[str]) -> list[tuple[str, str]] | None:
    """The programs' lines inside a sample of json-file lines, each with its stream, or None
    when it is not one."""
    inner: list[tuple[str, str]] = []
    piece = False
    found = 0
    for line in lines:
        obj = docker_object(line)
        if obj is None:
            continue
        found += 1
        log = obj["log"]
        if piece and inner:  # the rest of a line docker cut (every 16 KB)
            inner[-1] = (inner[-1][0], inner[-1][1] + log.rstrip("\n"))
        else:
            inner.append((str(obj.get("stream")), log.rstrip("\n")))
        piece = not log.endswith("\n")
    return inner if lines and found >= MIN_SHARE * len(lines) else None
