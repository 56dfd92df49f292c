"""Ready-made formats for the plain-text logs Python programs write by default.

Most are ``logging`` templates (the same strings the libraries configure); uvicorn, celery and
structlog need a little more: uvicorn pads ``LEVEL:`` to a fixed column and writes access
lines, celery puts the task name and id in front of task messages, structlog's console
renderer pads the event and ends the line with ``[logger]`` and ``key=value`` pairs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from logview.formats.access import AccessLogFormat, RequestLineFormat, request_line_fields
from logview.formats.base import LogFormat, PlainFormat
from logview.formats.haproxy import HaproxyFormat
from logview.formats.klog import KlogFormat
from logview.formats.lambda_platform import LambdaPlatformFormat
from logview.formats.linewise import ANSI_HINT_RE
from logview.formats.logcat import LogcatFormat
from logview.formats.oslo import OsloFormat
from logview.formats.postgres import PostgresFormat
from logview.formats.redis import RedisFormat
from logview.formats.rich_console import RichConsoleFormat
from logview.formats.signature import StartSignature
from logview.formats.template import TemplateFormat
from logview.record import Record, level_from_name, split_exception, strip_ansi

#: ``logging.basicConfig()``'s default.
BASIC_CONFIG = "%(levelname)s:%(name)s:%(message)s"
#: The template from the logging HOWTO and countless tutorials.
PYTHON_DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
PYTHON_SPACE = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: The same with a colon after the logger (a common LOGGING "verbose"): python-space would
#: read the logger with its colon.
PYTHON_COLON = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PYTHON_BRACKET = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"
#: gunicorn/glogging.py: CONFIG_DEFAULTS formatter "generic".
GUNICORN = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
GUNICORN_DATEFMT = "[%Y-%m-%d %H:%M:%S %z]"
#: celery/app/defaults.py: worker_log_format (task_log_format adds task_name[task_id]: ).
CELERY = "[%(asctime)s: %(levelname)s/%(processName)s] %(message)s"
#: flask/logging.py: default_handler's formatter.
FLASK = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
#: scrapy/settings/default_settings.py: LOG_FORMAT and LOG_DATEFORMAT.
SCRAPY = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
SCRAPY_DATEFMT = "%Y-%m-%d %H:%M:%S"
#: airflow/config_templates: LOG_FORMAT; its formatter writes ISO times with milliseconds.
AIRFLOW = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"
AIRFLOW_DATEFMT = "%Y-%m-%dT%H:%M:%S.%f%z"
#: loguru's default sink format, colour markup removed.
LOGURU = "{asctime} | {levelname:<8} | {name}:{funcName}:{lineno} - {message}"
LOGURU_DATEFMT = "%Y-%m-%d %H:%M:%S.%f"
LOGURU_LEVELS = {"TRACE": 5, "SUCCESS": 25}
#: structlog.dev.ConsoleRenderer under structlog's default configuration: TimeStamper's
#: "%Y-%m-%d %H:%M:%S", the level padded to its longest name ("exception"), then the event
#: padded to 30 columns, ``[logger]`` when one is bound and the sorted ``key=value`` pairs
#: (read by ``StructlogConsoleFormat``, which also takes ISO, epoch and no times).
STRUCTLOG_CONSOLE = "%(asctime)s [%(levelname)-9s] %(message)s"
STRUCTLOG_DATEFMT = "%Y-%m-%d %H:%M:%S"
#: ConsoleRenderer's ``pad_event_to`` default.
STRUCTLOG_EVENT_WIDTH = 30


class CeleryFormat(TemplateFormat):
    """celery worker logs: task lines (``task[id]: ...``) get ``task_name``/``task_id`` fields,
    and so do the worker's own lines about a task (``Task tasks.add[id] received``,
    ``... succeeded in 0.01s``, ``... retry: ...``, ``... raised unexpected: ...``), so a
    query for a task id finds its failure too."""

    _task = re.compile(r"([\w.:-]+)\[([0-9A-Fa-f-]{8,})\]: ")
    _about_task = re.compile(r"Task ([\w.:-]+)\[([0-9A-Fa-f-]{8,})\] ")

    def __init__(self) -> None:
        super().__init__(CELERY, name="celery")

    def parse(self, text: str) -> Record:
        record = super().parse(text)
        m = self._task.match(record.message)
        if m is not None and record.level is not None:
            record.fields["task_name"] = m[1]
            record.fields["task_id"] = m[2]
            record.message = record.message[m.end() :]
        elif record.level is not None:
            m = self._about_task.match(record.message)
            if m is not None:
                record.fields["task_name"] = m[1]
                record.fields["task_id"] = m[2]
        return record


#: The level names structlog writes (the logging method called, lower-case; "exception" until
#: structlog 24.1 mapped it to "error"), longest first.
_STRUCTLOG_LEVELS = "exception|critical|warning|notset|debug|error|fatal|trace|info|warn"
_STRUCTLOG_LEVEL_OF = {name: ("ERROR", 40) if name == "exception" else level_from_name(name)
                       for name in _STRUCTLOG_LEVELS.split("|")}
#: TimeStamper's output: ``fmt="iso"`` (``T``, microseconds when not zero, ``Z`` when UTC), a
#: strftime such as the default "%Y-%m-%d %H:%M:%S", or ``time.time()`` without ``fmt``.
_STRUCTLOG_TIME = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{9,10}\.\d+"
)
#: The time and the level column (after a time, in any case: ``STRUCTLOG_CONSOLE``'s own
#: output says ``INFO``). Without a time only structlog's own padding (9 columns) around a
#: level name it writes starts a record: ``[INFO] x`` or ``[note] x`` do not.
_STRUCTLOG_HEAD = (
    rf"(?:(?P<time>{_STRUCTLOG_TIME}) \[(?P<level>(?i:{_STRUCTLOG_LEVELS})) *\]"
    rf"|\[(?=[a-z ]{{9}}\])(?P<bare>{_STRUCTLOG_LEVELS}) *\])"
)
#: One source for both start tests (text and bytes), so the splitter and the index agree.
_STRUCTLOG_START = re.sub(r"\(\?P<\w+>", "(?:", _STRUCTLOG_HEAD) + r"(?: |\r?$)"
#: Lines of rich's traceback panel (structlog's exception formatter when rich is installed).
_RICH_PANEL = re.compile("[\u256d\u2502\u2570]")
#: Where the exception text starts: a plain or better-exceptions traceback, ``stack_info``'s
#: stack, or rich's panel.
_STRUCTLOG_EXC = re.compile(
    r"^(?:[ \t]*(?:\+ )?(?:Traceback|Stack|Exception Group Traceback) \(most recent call last\):"
    "|\u256d\u2500+ Traceback \\(most recent call last\\) \u2500+\u256e)",
    re.MULTILINE,
)
#: A bound logger's name as ConsoleRenderer writes it: ``[app.db]``.
_LOGGER_NAME = re.compile(r"[^\s\[\]]+")
#: Keys of the pairs: Python identifiers, and the dotted or dashed names bound contexts use.
_KEY = re.compile(r"\w[\w.-]*")
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_QUOTES = ("'", '"')
#: What a bare value (or the prefix of a quoted or bracketed one) never holds.
_NOT_BARE = re.compile("[ '\"]")
_PY_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_PY_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"', "0": "\0",
               "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _string_start(text: str, close: int, lo: int) -> int:
    """Where the Python string literal closed by the quote at ``close`` opens; -1 if nowhere.

    In a ``repr`` its own quote appears only escaped (after an odd run of backslashes).
    """
    quote = text[close]
    i = close
    while True:
        i = text.rfind(quote, lo, i)
        if i < 0:
            return -1
        k = i
        while k > lo and text[k - 1] == "\\":
            k -= 1
        if not (i - k) % 2:
            return i


def _group_start(text: str, close: int, lo: int) -> int:
    """Where the bracket closed at ``close`` opens, strings inside skipped; -1 if nowhere.

    ``()[]{}`` nest with each other (lists, dicts, ``datetime.datetime(...)``); ``<...>``, an
    object's default repr, nests only with itself.
    """
    angle = text[close] == ">"
    want = ["<" if angle else _BRACKETS[text[close]]]
    i = close - 1
    while i >= lo:
        c = text[i]
        if c == "'" or c == '"':
            i = _string_start(text, i, lo)
            if i < 0:
                return -1
        elif angle:
            if c == ">":
                want.append("<")
            elif c == "<":
                want.pop()
                if not want:
                    return i
        elif c in _BRACKETS:
            want.append(_BRACKETS[c])
        elif c in "([{":
            if want.pop() != c:
                return -1
            if not want:
                return i
        i -= 1
    return -1


def _value_start(text: str, end: int, lo: int) -> int:
    """Start of the value ending at ``end`` (exclusive) just after a ``key=``; -1 if none.

    ConsoleRenderer writes a string that holds a space, a quote or ``=`` as its ``repr`` and
    other values as their ``repr``: a value has spaces and quotes only inside quotes or
    brackets, which can only close it. Each value scans its own characters once, so a line
    costs linear time.
    """
    last = end - 1
    if last < lo:
        return -1
    i = end
    c = text[last]
    if c == "'" or c == '"':
        i = _string_start(text, last, lo)
    elif c in ")]}>":
        i = _group_start(text, last, lo)
    if i < 0:
        return -1
    eq = text.rfind("=", lo, i)  # what is left of a quote or bracket is a prefix: b'', Decimal(
    if eq < 0 or _NOT_BARE.search(text, eq, i) is not None:
        return -1
    return eq + 1


def _pairs_from_right(text: str, lo: int) -> list[tuple[int, str, str]]:
    """The ``key=value`` pairs ending ``text`` (from ``lo`` on), last first: (start, key, raw)."""
    pairs: list[tuple[int, str, str]] = []
    end = len(text)
    while end > lo:
        value = _value_start(text, end, lo)
        if value < 0:
            break
        space = text.rfind(" ", lo, value - 1)
        if space < 0 or _KEY.fullmatch(text, space + 1, value - 1) is None:
            break
        pairs.append((space + 1, text[space + 1 : value - 1], text[value:end]))
        end = space
    return pairs


def _unescape_one(match: re.Match[str]) -> str:
    code = match[1]
    if len(code) > 1:
        number = int(code[1:], 16)
        return "\ufffd" if 0xD800 <= number <= 0xDFFF or number > 0x10FFFF else chr(number)
    return _PY_ESCAPES.get(code, "\\" + code)


def _field_value(raw: str) -> str:
    """A pair's value as text: a quoted ``repr`` unquoted, anything else as written."""
    quoted = len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]
    if not quoted or _string_start(raw, len(raw) - 1, 0) != 0:
        return raw
    inner = raw[1:-1]
    if "\\" not in inner:
        return inner
    value = _PY_ESCAPE.sub(_unescape_one, inner)
    # A value spelled '\x1b[31m' is an escape sequence once read: parsed text has none.
    return strip_ansi(value) if ANSI_HINT_RE.search(value) else value


def _event_and_logger(text: str, start: int, cut: int, last: bool) -> tuple[str, str] | None:
    """The event and logger in ``text[start:cut]`` when it is ConsoleRenderer's event column
    (padded to ``STRUCTLOG_EVENT_WIDTH``) and optional ``[logger]``; None when it is not.

    ``last``: nothing follows (structlog strips the padding off the end of a line).
    """
    region = text[start:cut]
    if region.endswith("]"):
        bracket = region.rfind(" [")
        if bracket >= STRUCTLOG_EVENT_WIDTH and _LOGGER_NAME.fullmatch(region, bracket + 2,
                                                                      len(region) - 1):
            return region[:bracket].rstrip(" "), region[bracket + 2 : -1]
    if last or len(region) >= STRUCTLOG_EVENT_WIDTH:
        return region.rstrip(" "), ""
    return None


#: A pair whose value is bare or one quoted string (most pairs), as a regex: one match reads a
#: whole line of them at C speed; lists, dicts and objects take ``_pairs_from_right``.
_PLAIN_KEY = r"\w[\w.-]*+"
_PLAIN_VALUE = (r"'(?:[^'\\\n]++|\\.)*+'|\"(?:[^\"\\\n]++|\\.)*+\""
                r"|[^\s'\"=()\[\]{}<>]*+")
_PAIR = re.compile(rf"({_PLAIN_KEY})=({_PLAIN_VALUE})")
_PLAIN_PAIR = rf"{_PLAIN_KEY}=(?:{_PLAIN_VALUE})"
_PLAIN_TAIL = re.compile(
    rf"(?:\[([^\s\[\]]++)\](?: |\Z))?(?:{_PLAIN_PAIR}(?: {_PLAIN_PAIR})*+)?\Z"
)
#: Where the logger or the pairs may begin: a space, then "[" or a key and "=".
_TAIL_START = re.compile(r" (?=\[|\w[\w.-]*+=)")


def read_console_tail(text: str, start: int) -> tuple[str, str, dict[str, str]]:
    """(event, logger, fields) of what follows ConsoleRenderer's level column in ``text``.

    The pairs end the last line; the most of them whose left part is a padded event wins, so
    an event that ends in ``x=1`` keeps it unless padding or its length says otherwise, and a
    tail that is not pairs stays in the event. The event is a slice of ``text``.
    """
    lo = max(start, text.rfind("\n") + 1)
    # The event column is at least STRUCTLOG_EVENT_WIDTH wide: what follows it starts after.
    first = _TAIL_START.search(text, max(start + STRUCTLOG_EVENT_WIDTH, lo))
    if first is None:
        return text[start:].rstrip(" "), "", {}
    tail = _PLAIN_TAIL.match(text, first.end())
    if tail is not None:  # the first place pairs may start holds plain ones to the end
        pos = tail.end(1) + 1 if tail[1] is not None else first.end()
        fields = {m[1]: _field_value(v) if v[:1] in _QUOTES else v
                  for m in _PAIR.finditer(text, pos) for v in (m[2],)}
        return text[start : first.start()].rstrip(" "), tail[1] or "", fields
    pairs = _pairs_from_right(text, lo)
    for taken in range(len(pairs), 0, -1):
        found = _event_and_logger(text, start, pairs[taken - 1][0] - 1, False)
        if found is not None:
            fields = {key: _field_value(raw) for _, key, raw in reversed(pairs[:taken])}
            return found[0], found[1], fields
    event, logger = _event_and_logger(text, start, len(text), True) or (text[start:], "")
    return event, logger, {}


class StructlogConsoleFormat(TemplateFormat):
    """structlog's ``ConsoleRenderer``: ``TIME [level    ] event   [logger] key=value ...``.

    One format for every time TimeStamper writes (ISO, a strftime like the default, epoch
    seconds) and for none. ``[logger]`` becomes the logger, the pairs become ``fields`` (text:
    quoted ``repr`` strings unquoted, numbers and other reprs as written), the event without
    its padding is the message. An exception (a plain traceback, or rich's panel) is ``exc``.
    """

    _record_head = re.compile(_STRUCTLOG_HEAD + r"(?: |(?=\n)|\Z)", re.ASCII)
    _record_start = re.compile(_STRUCTLOG_START, re.ASCII)
    #: A record starts with a digit (the time) or "[" (the level): rich's panel lines and
    #: indented traceback lines are skipped before the regex runs.
    _signature = StartSignature((frozenset(b"0123456789["),), exact=False)

    def __init__(self) -> None:
        # Custom levels: the names are lower-case (not logging's), so a query's prefilter
        # must look for every spelling (engine.level_case_of), and "exception" is an error.
        super().__init__(STRUCTLOG_CONSOLE, STRUCTLOG_DATEFMT, name="structlog-console",
                         levels={"exception": 40})
        self.start_pattern = re.compile(_STRUCTLOG_START.encode("ascii"), re.ASCII)

    def start_signature(self) -> StartSignature | None:
        return self._signature

    def is_start(self, line: str) -> bool:
        return self._record_start.match(line) is not None

    def score(self, lines: list[str]) -> float:
        """Record starts, and the lines of rich's traceback panels among them, per sample line.

        Detection leaves Python's plain traceback lines out of the sample but not rich's
        panel (``╭``, ``│``, ``╰``), which structlog prints when rich is installed: one
        exception with its locals is dozens of such lines, all continuing one record.
        """
        starts = panel = 0
        for line in lines:
            if self._record_start.match(line) is not None:
                starts += 1
            elif _RICH_PANEL.match(line) is not None:
                panel += 1
        return (starts + panel) / len(lines) if starts else 0.0

    def parse(self, text: str) -> Record:
        m = self._record_head.match(text)
        if m is None:
            return self._unparsed(text)
        body, exc = text, None
        nl = text.find("\n")
        found = _STRUCTLOG_EXC.search(text, nl + 1) if nl >= 0 else None
        if found is not None:
            body, exc = text[: found.start()].rstrip("\n"), text[found.start() :].rstrip("\n")
        event, logger, fields = read_console_tail(body, min(m.end(), len(body)))
        level, levelno = _STRUCTLOG_LEVEL_OF[(m["level"] or m["bare"]).lower()]
        time_text = m["time"]
        time = self._structlog_time(time_text) if time_text else None
        return Record(event, time, time_text, level, levelno, logger, exc, fields)

    def _structlog_time(self, text: str) -> datetime | None:
        times = self._times
        if text in times:
            return times[text]
        try:
            if "-" in text:
                value: datetime | None = datetime.fromisoformat(text)
            else:
                value = datetime.fromtimestamp(float(text), tz=UTC)
        except (ValueError, OverflowError, OSError):
            value = None
        if len(times) > 4096:
            times.clear()
        times[text] = value
        return value


class UvicornFormat(LogFormat):
    """uvicorn's default ``%(levelprefix)s %(message)s``: ``"INFO:"`` padded to 9 columns.

    Access lines (``127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK``) get logger ``uvicorn.access``
    and their parts as fields; everything else is ``uvicorn.error`` (uvicorn's own logger).
    """

    name = "uvicorn"
    made_loggers = frozenset({"uvicorn.error", "uvicorn.access"})
    level_text = True
    has_time = False
    # A line uvicorn wrote (levelname + ":" + spaces up to column 9 + " ": the padding is
    # exact), or any other line but a traceback's: uvicorn's output is a console's, where a
    # print(), a warning or an app's bare message (logging's last-resort handler) is a line
    # of its own, not more of the access line before it.
    start_pattern = PlainFormat.start_pattern
    starts_any_line = True
    _start = re.compile(r"(INFO): {5}|(TRACE|DEBUG|ERROR): {4}|(WARNING): {2}|(CRITICAL): ")
    _plain = PlainFormat()

    def score(self, lines: list[str]) -> float:
        """The share of lines uvicorn wrote (the others start records too)."""
        if not lines:
            return 0.0
        return sum(1 for line in lines if self._start.match(line) is not None) / len(lines)

    def is_start(self, line: str) -> bool:
        return self._start.match(line) is not None or self._plain.is_start(line)

    def parse(self, text: str) -> Record:
        m = self._start.match(text)
        if m is None:
            message, exc = split_exception(text)
            return Record(message=message, exc=exc)
        message, exc = split_exception(text[m.end() :])
        level, levelno = level_from_name(m[m.lastindex or 1])
        record = Record(message=message, level=level, levelno=levelno, exc=exc)
        access = request_line_fields(message)
        if access is not None:
            record.logger = "uvicorn.access"
            record.fields = access  # (the names access lines' fields have: status>=500)
        else:
            record.logger = "uvicorn.error"
        return record


def known_text_formats() -> list[LogFormat]:
    """Fresh instances of every known plain-text format, most specific first."""
    return [
        CeleryFormat(),
        TemplateFormat(GUNICORN, GUNICORN_DATEFMT, name="gunicorn"),
        TemplateFormat(AIRFLOW, AIRFLOW_DATEFMT, name="airflow"),
        TemplateFormat(FLASK, name="flask"),
        StructlogConsoleFormat(),
        TemplateFormat(SCRAPY, SCRAPY_DATEFMT, name="scrapy"),
        TemplateFormat(LOGURU, LOGURU_DATEFMT, style="{", name="loguru-text", levels=LOGURU_LEVELS),
        UvicornFormat(),
        RichConsoleFormat(),
        AccessLogFormat(),
        RequestLineFormat(),
        LambdaPlatformFormat(),
        HaproxyFormat(),
        KlogFormat(),
        LogcatFormat(),
        OsloFormat(),
        PostgresFormat(),
        RedisFormat(),
        TemplateFormat(PYTHON_DASH, name="python-dash"),
        TemplateFormat(PYTHON_BRACKET, name="python-bracket"),
        TemplateFormat(PYTHON_COLON, name="python-colon"),
        TemplateFormat(PYTHON_SPACE, name="python-space"),
        TemplateFormat(BASIC_CONFIG, name="basicconfig"),
    ]


def known_text_format(name: str) -> LogFormat | None:
    """The known format called ``name`` (``--format gunicorn``), or None."""
    for fmt in known_text_formats():
        if fmt.name == name:
            return fmt
    return None


def __getattr__(attr: str) -> list[LogFormat]:
    # KNOWN_TEXT_FORMATS is built on first use so importing this module compiles nothing.
    if attr == "KNOWN_TEXT_FORMATS":
        value = known_text_formats()
        globals()["KNOWN_TEXT_FORMATS"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
