"""Python ``logging.Formatter`` templates turned into one anchored regex and a fast parser.

A template like ``%(asctime)s - %(name)s - %(levelname)s - %(message)s`` compiles
(``template_compile``) to a regex for the text *before* the message (that is what recognises
a record start) and, when fields follow the message, one more regex for the whole record
body; ``TemplateFormat`` reads records with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from logview.formats.access import access_fields
from logview.formats.base import FormatError, LogFormat
from logview.formats.signature import StartSignature, VocabularyHead
from logview.formats.template_columns import ColumnWalker, plan_steps, time_layout
from logview.formats.template_compile import CompiledTemplate, compile_template
from logview.formats.template_lines import TemplateLines
from logview.formats.template_start import TRACEBACK_GUARD
from logview.formats.template_syntax import TemplateField, detect_style, tokenize
from logview.formats.timefmt import datetime_from_parts
from logview.record import (
    LEVEL_SPELLINGS,
    Record,
    level_from_name,
    level_from_python_number,
    split_exception,
)

#: Attributes that become Record attributes rather than ``fields``.
_CORE = frozenset({"asctime", "levelname", "levelno", "name", "message"})
_TRACEBACK_GUARD = re.compile(TRACEBACK_GUARD)

#: One-letter level abbreviations (``%(levelname).1s``).
_LEVEL_PREFIX = {
    "T": "TRACE",
    "V": "VERBOSE",  # Android's logcat
    "D": "DEBUG",
    "I": "INFO",
    "N": "NOTICE",
    "W": "WARNING",
    "E": "ERROR",
    "C": "CRITICAL",
    "F": "CRITICAL",
}


# ---------------------------------------------------------------------------------------------
# The format.


def _convert(value: str, how: str) -> Any:
    if how == "str":
        return None if value == "None" else value
    try:
        if how == "int":
            return int(value)
        if how == "float":
            return float(value)
        if how == "hex":
            return int(value, 16)
        if how == "oct":
            return int(value, 8)
        if how == "num":
            if value == "None":
                return None
            try:
                return int(value)
            except ValueError:
                return float(value)
        if how == "repr":
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                return value[1:-1]
            return value
    except ValueError:
        return value
    return value


@dataclass(slots=True)
class _ReadPlan:
    """Group numbers (0-based into ``Match.groups()``) of what a record is made of."""

    level: int | None = None
    levelno: int | None = None
    logger: int | None = None
    time: int | None = None
    created: int | None = None
    msecs: int | None = None
    message: int | None = None
    strips: dict[int, str] | None = None
    extras: tuple[tuple[int, str, str], ...] = ()  # (group, attribute, conversion)


def _read_plan(compiled: CompiledTemplate) -> _ReadPlan:
    pattern = compiled.body or compiled.prefix
    index = pattern.groupindex
    plan = _ReadPlan(strips={})
    for cap in compiled.captures:
        gi = index[cap.group] - 1
        if cap.strip:
            plan.strips[gi] = cap.strip
        slot = {"levelname": "level", "levelno": "levelno", "name": "logger", "asctime": "time"}
        if cap.attr in slot:
            setattr(plan, slot[cap.attr], gi)
            if cap.attr == "levelno":
                continue
        if cap.attr == "created":
            plan.created = gi
        elif cap.attr == "msecs":
            plan.msecs = gi
        if cap.attr not in _CORE:
            plan.extras += ((gi, cap.attr, cap.convert),)
    for i, tok in enumerate(compiled.tokens):
        if isinstance(tok, TemplateField) and tok.attr == "message" and f"g{i}" in index:
            plan.message = index[f"g{i}"] - 1
            break
    if plan.levelno is not None and plan.level is None:
        pass
    plan.extras = plan.extras
    return plan


def _starts_without_time(fmt: str, style: str) -> bool:
    """The template's first field is not a time (so its head is no timestamp)."""
    try:
        tokens = tokenize(fmt, style)
    except FormatError:
        return False  # compile_template says what is wrong
    first = next((t for t in tokens if isinstance(t, TemplateField)), None)
    return first is not None and first.attr not in ("asctime", "created")


#: ``TemplateFormat.start_pattern`` when no one set another: the template's own.
_TEMPLATE_START = object()


class TemplateFormat(LogFormat):
    """Records written by ``logging.Formatter(fmt, datefmt, style)``."""

    def __init__(
        self,
        fmt: str,
        datefmt: str | None = None,
        style: str | None = None,
        name: str | None = None,
        levels: dict[str, int] | None = None,
        level_names: tuple[str, ...] | None = None,
    ) -> None:
        """``levels`` adds level numbers for custom names (loguru's ``SUCCESS``: 25);
        ``level_names`` limits what a level may be spelled as (see ``compile_template``).

        A template that does not open with a time recognises records by their level alone,
        so its level is one of the names ``level_from_name`` knows or ``levels`` adds: a
        message line such as ``Details: 3 errors`` never passes for a record start.
        """
        self.template = fmt
        self.datefmt = datefmt
        self.style = style or detect_style(fmt)
        self.name = name or fmt
        if level_names is None and _starts_without_time(fmt, self.style):
            custom = {s for n in (levels or {}) for s in (n.upper(), n.lower(), n.title())}
            level_names = tuple(sorted(LEVEL_SPELLINGS | custom))
        compiled = compile_template(fmt, datefmt, self.style, level_names)
        self._compiled = compiled
        self._level_names = frozenset(level_names) if level_names is not None else None
        self._walker: ColumnWalker | None | bool = False  # False: not built yet
        attrs = {f.attr for f in compiled.tokens if isinstance(f, TemplateField)}
        cuts = [f.precision for f in compiled.tokens
                if isinstance(f, TemplateField) and f.attr == "levelname"]
        #: ``%(levelname).1s``: a level is written as its first letter (``W`` is WARNING).
        self._one_letter = 1 in cuts
        #: Level names appear literally in the raw text (the query prefilter relies on it):
        #: not when they are cut shorter than every spelling of theirs (``.1s``: ``W``).
        self.level_text = bool(cuts) and all(cut is None or cut >= 4 for cut in cuts)
        self.has_time = "asctime" in attrs or "created" in attrs
        self._prefix = compiled.prefix.match
        self._lenient = compiled.lenient_prefix.match if compiled.lenient_prefix else None
        self._head = compiled.literal_head
        self._guard = _TRACEBACK_GUARD.match
        #: Level names are written as ``logging`` writes them (``ERROR``, ``Level 45``); an
        #: inferred template whose sample spells them otherwise (``error``, ``WARN``) says not.
        self.python_levels = True
        #: Level names the user registered (``levels=``); the query prefilter must know them.
        self.custom_levels: dict[str, int] = dict(levels or {})
        # Name -> (level, number): the custom levels, then a memo of the names seen.
        self._levels: dict[str, tuple[str | None, int]] = {
            name.upper(): (name.upper(), number) for name, number in (levels or {}).items()
        }
        self._times: dict[str, datetime | None] = {}
        #: What places a time without a date or year (the file's mtime; None: now).
        self.reference: datetime | None = None
        self._shape = compiled.time_shape

    #: Set on first use by ``_read_back``: detection scores every known template with its
    #: prefixes alone, so only the template chosen compiles its body and start test.
    _DEFERRED = frozenset({"_body", "_lenient_body", "_start_head", "_plan", "_time_parts",
                           "_msecs_add"})

    def __getattr__(self, name: str):
        if name not in TemplateFormat._DEFERRED or "_compiled" not in self.__dict__:
            raise AttributeError(name)
        self._read_back()
        return self.__dict__[name]

    def _read_back(self) -> None:
        """What parsing reads a record with (plain attributes after this: no cost per use)."""
        compiled = self._compiled
        plan = _read_plan(compiled)
        index = (compiled.body or compiled.prefix).groupindex
        shape = self._shape
        self.__dict__.update(
            _body=compiled.body,
            _lenient_body=compiled.lenient_body,
            _start_head=compiled.head.match if compiled.head is not None else None,
            _plan=plan,
            _time_parts=({c: index[group] - 1 for c, group in shape.components.items()}
                         if shape is not None else {}),
            # A datefmt without a fraction plus %(msecs)d: the milliseconds come from msecs.
            _msecs_add=plan.msecs is not None and shape is not None and not shape.has_fraction,
        )

    @property
    def start_pattern(self) -> re.Pattern[bytes] | None:  # type: ignore[override]
        own = self.__dict__.get("_own_start", _TEMPLATE_START)
        return self._compiled.start_pattern if own is _TEMPLATE_START else own

    @start_pattern.setter
    def start_pattern(self, value: re.Pattern[bytes] | None) -> None:
        self.__dict__["_own_start"] = value

    def __repr__(self) -> str:
        return f"TemplateFormat({self.template!r}, datefmt={self.datefmt!r}, name={self.name!r})"

    @property
    def level_case(self) -> str | None:
        """``"python"`` when the levels are ``logging``'s own names, written whole: a
        ``%(levelname)s`` (no precision cutting it short), no custom level names, and (when
        inferred) a sample that spells them as ``logging`` does."""
        if not self.level_text or self.custom_levels or not self.python_levels:
            return None
        fields = [t for t in self._compiled.tokens
                  if isinstance(t, TemplateField) and t.attr == "levelname"]
        return "python" if fields and all(f.precision is None for f in fields) else None

    def start_signature(self) -> StartSignature | None:
        """The exact byte-class test for record starts when the template has a fixed head.

        None means: no fixed head, use ``start_pattern`` (the index derives a rough
        signature from it and confirms candidates with the regex).
        """
        return self._compiled.head_signature

    def start_vocabulary(self) -> VocabularyHead | None:
        """A start made of a level name between literals (``%(levelname)s:%(name)s:``), as
        ``start_pattern`` reads it; None for other templates and subclasses with starts of
        their own."""
        if (self.start_pattern is not self._compiled.start_pattern
                or type(self).start_signature is not TemplateFormat.start_signature):
            return None
        return self._compiled.vocabulary

    def is_start(self, line: str) -> bool:
        if self._start_head is not None:  # a fixed head (a timestamp) is the whole test
            return self._start_head(line) is not None
        return self._fits_prefix(line)

    def _fits_prefix(self, line: str) -> bool:
        if self._head and not line.startswith(self._head):
            return False
        if self._guard(line) is None:  # a traceback line, never a record start
            return False
        if self._prefix(line) is not None:
            return True
        return self._lenient is not None and self._lenient(line) is not None

    def score(self, lines: list[str]) -> float:
        """Fraction of lines the whole prefix fits (stricter than ``is_start`` for detection).

        Templates that share a head (a timestamp) differ in what follows it; detection must
        see that, while record boundaries only need the head.
        """
        if not lines:
            return 0.0
        return sum(1 for line in lines if self._fits_prefix(line)) / len(lines)

    def parse(self, text: str) -> Record:
        if self._body is not None:
            return self._parse_with_suffix(text)
        nl = text.find("\n")
        first = text if nl < 0 else text[:nl]
        m = self._prefix(first)
        if m is None and self._lenient is not None:
            m = self._lenient(first)
        if m is None:
            return self._unparsed(text)
        if nl < 0:
            return self._record(m.groups(), first[m.end() :], None)
        message, exc = split_exception(first[m.end() :] + text[nl:])
        return self._record(m.groups(), message, exc)

    def _parse_with_suffix(self, text: str) -> Record:
        body, exc = split_exception(text)
        msg = self._plan.message
        for pattern in (self._body, self._lenient_body):
            if pattern is None:
                continue
            m = pattern.fullmatch(body)
            if m is not None:
                g = m.groups()
                return self._record(g, g[msg] or "" if msg is not None else "", exc)
            nl = body.find("\n")
            if nl >= 0:  # the suffix sits on the first line, more message lines follow
                m = pattern.fullmatch(body, 0, nl)
                if m is not None:
                    g = m.groups()
                    first = g[msg] or "" if msg is not None else ""
                    return self._record(g, first + body[nl:], exc)
        return self._unparsed(text)

    @staticmethod
    def _unparsed(text: str) -> Record:
        message, exc = split_exception(text)
        return Record(message=message, exc=exc)

    def _record(self, g: tuple[str | None, ...], message: str, exc: str | None) -> Record:
        level, levelno, logger, fields = self.head_values(g)
        if '" ' in message:  # (cheap: a quoted request line, then the status)
            access = access_fields(message.partition("\n")[0])
            if access is not None:  # an access line logged by a program's logger
                for key, value in access.items():
                    fields.setdefault(key, value)
        time, time_text = self.time_value(g)
        return Record(message, time, time_text, level, levelno, logger, exc, fields)

    def head_values(self, g: tuple[str | None, ...]
                    ) -> tuple[str | None, int, str, dict[str, Any]]:
        """(level, level number, logger, extra fields) of a record from the groups of its
        prefix (or body) match: everything its head says but the time."""
        plan = self._plan
        strips = plan.strips
        level: str | None = None
        levelno = 0
        logger = ""
        i = plan.level
        if i is not None:
            name = g[i] or ""
            if strips and i in strips:
                name = name.strip(strips[i])
            hit = self._levels.get(name)
            if hit is None:
                hit = self._level_of(name)
                if len(self._levels) < 256:
                    self._levels[name] = hit
            level, levelno = hit
        elif plan.levelno is not None:
            number = _convert((g[plan.levelno] or "").strip(), "int")
            if isinstance(number, int):
                level, levelno = level_from_python_number(number)
        i = plan.logger
        if i is not None:
            logger = g[i] or ""
            if strips and i in strips:
                logger = logger.strip(strips[i])
        fields: dict[str, Any] = {}
        for gi, attr, how in plan.extras:
            value = g[gi] or ""
            if strips and gi in strips:
                value = value.strip(strips[gi])
            fields[attr] = _convert(value, how)
        return level, levelno, logger, fields

    def time_value(self, g: tuple[str | None, ...]) -> tuple[datetime | None, str | None]:
        """(time, its text as written) of a record from the groups of its match."""
        plan = self._plan
        strips = plan.strips
        i = plan.time
        if i is not None:
            time_text = g[i] or ""
            if strips and i in strips:
                time_text = time_text.strip(strips[i])
            return self._time_of(g, time_text), time_text
        if plan.created is not None:
            time_text = (g[plan.created] or "").strip()
            try:
                return datetime.fromtimestamp(float(time_text), tz=UTC), time_text
            except (ValueError, OverflowError, OSError):
                return None, time_text
        return None, None

    def __getstate__(self) -> dict[str, object]:
        """Pickled for the index's range workers (``range_columns``): the walker holds a
        closure and is built again there."""
        return {**self.__dict__, "_walker": False}

    def column_walker(self) -> ColumnWalker | None:
        """Reads level, logger and time of many records at once (None: this template's head
        cannot be walked; its records are parsed)."""
        if self._walker is False:
            steps = plan_steps(self._compiled.tokens, self.datefmt)
            self._walker = None if steps is None else ColumnWalker(
                steps, time_layout(self.datefmt), self._named_level,
                lambda parts: datetime_from_parts(parts, self.reference), self._msecs_add)
        return self._walker or None

    def line_reader(self) -> TemplateLines | None:
        """What reads the heads of a chunk's records with one regex call (``-o jsonl`` of a
        whole file), or None: this template's records are parsed one by one (a suffix after
        the message, a prefix that reads differently inside a bigger pattern, a subclass
        that parses in its own way)."""
        cls = type(self)
        if (self._body is not None or cls.parse is not TemplateFormat.parse
                or cls.parse_raw is not LogFormat.parse_raw
                or cls._record is not TemplateFormat._record
                or cls.head_values is not TemplateFormat.head_values
                or cls.time_value is not TemplateFormat.time_value
                or not TemplateLines.usable(self._compiled.prefix)):
            return None
        plan = self._plan
        heads = [i for i in (plan.level, plan.levelno, plan.logger) if i is not None]
        heads += [gi for gi, _attr, _how in plan.extras]
        if plan.time is not None:
            times = (plan.time, plan.msecs) if self._msecs_add else (plan.time,)
        else:
            times = (plan.created,) if plan.created is not None else ()
        default = (plan.time is not None and self._shape is None
                   and plan.time not in (plan.strips or {}))
        return TemplateLines(self._compiled.prefix, self.head_values, self.time_value,
                             tuple(sorted(set(heads))), times, default)  # type: ignore[arg-type]

    def _named_level(self, name: str) -> tuple[str | None, int]:
        """A level name as ``_record`` reads it (a name this template cannot write: none)."""
        if self._level_names is not None and name not in self._level_names and not (
                name.startswith("Level ")):
            return None, 0
        hit = self._levels.get(name)
        return hit if hit is not None else self._level_of(name)

    def _level_of(self, name: str) -> tuple[str | None, int]:
        """A level as written; one letter stands for a level only in a template that cuts
        levels to one (elsewhere ``W`` is no WARNING: the raw text must name the level)."""
        if self._one_letter and len(name) == 1 and name.upper() in _LEVEL_PREFIX:
            return level_from_name(_LEVEL_PREFIX[name.upper()])
        return level_from_name(name)

    def _time_of(self, g: tuple[str | None, ...], text: str) -> datetime | None:
        shape = self._shape
        if shape is None:  # logging's default "2024-01-02 03:04:05,123"
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                return None
        times = self._times
        if text in times:
            value = times[text]
        else:
            value = datetime_from_parts({c: g[i] for c, i in self._time_parts.items()},
                                        self.reference)
            if len(times) > 4096:
                times.clear()
            times[text] = value
        if value is not None and self._msecs_add and self._plan.msecs is not None:
            msecs = _convert((g[self._plan.msecs] or "").strip(), "float")
            if isinstance(msecs, (int, float)) and 0 <= msecs < 1000:
                value = value + timedelta(microseconds=int(msecs * 1000))
        return value
