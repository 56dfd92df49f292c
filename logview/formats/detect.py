"""Choosing a format: from a sample of a source's first lines, or from ``--format``.

Detection scores every candidate on the sample's record-start lines (traceback and indented
continuation lines are left out, so a sample that begins mid-traceback still works) and takes
the best; ties go to the more specific format: JSON, then the known text formats in the order
``logview.formats.presets`` lists them (most specific first), syslog, logfmt; plain is the
fallback when nothing fits well enough.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from logview.formats.base import FormatError, LogFormat, PlainFormat, plain_for
from logview.formats.json_infer import infer_keys, pretty_objects
from logview.formats.jsonl import JsonFormat, _load
from logview.formats.linewise import is_continuation
from logview.formats.logfmt import LogfmtFormat, cuts_messages
from logview.formats.presets import known_text_formats
from logview.formats.syslog import SyslogFormat
from logview.record import LEVEL_SPELLINGS, strip_ansi, undecorated

#: How much of a source detection looks at.
SAMPLE_LINES = 200
SAMPLE_BYTES = 256 * 1024

#: Below this score (fraction of start lines recognised) a format is not trusted: a wrong
#: format joins unrecognised lines into the record before, plain at least keeps every line.
MIN_SCORE = 0.3

#: The tier of the ready-made text formats (``logview.formats.presets``).
_KNOWN_TIER = KNOWN_TIER = 3
_SYSLOG_TIER = SYSLOG_TIER = 2

#: Scores closer than this count as a tie and specificity decides.
_TIE = 1e-9

_ALIASES = {
    "json": "jsonl", "ndjson": "jsonl", "json-lines": "jsonl", "jsonlines": "jsonl",
    "text": "plain", "raw": "plain", "none": "plain", "lines": "plain",
    "kv": "logfmt", "key-value": "logfmt",
}
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")


@dataclass(slots=True)
class _Candidate:
    """A format detection may pick: a scoring instance, how to make a fresh one, a tie rank."""

    name: str
    scorer: LogFormat
    make: Callable[[str | None], LogFormat]  # datefmt -> a new instance
    tier: int
    specificity: int


def _fresh(cls: type[LogFormat]) -> Callable[[str | None], LogFormat]:
    return lambda _datefmt: cls()


def _known_factory(name: str) -> Callable[[str | None], LogFormat]:
    """Makes a fresh known format; with a ``--datefmt``, its template rebuilt with that."""

    def make(datefmt: str | None) -> LogFormat:
        fresh = next(f for f in known_text_formats() if f.name == name)
        if datefmt is None or datefmt == getattr(fresh, "datefmt", None):
            return fresh
        template = getattr(fresh, "template", None)
        if not isinstance(template, str):
            raise FormatError(f"--datefmt does not apply to --format {name}")
        from logview.formats.template import TemplateFormat

        levels = dict(getattr(fresh, "custom_levels", {}))  # loguru's SUCCESS and the like
        if type(fresh) is not TemplateFormat:
            raise FormatError(f"--datefmt does not apply to --format {name}: give its "
                              f"logging format string instead ({template!r})")
        return TemplateFormat(template, datefmt=datefmt, style=getattr(fresh, "style", None),
                              name=name, levels=levels or None)

    return make


_candidates: list[_Candidate] | None = None
_candidates_lock = threading.Lock()
#: What was wrong with the user's formats file when the candidates were built.
_user_warnings: list[str] = []
#: The user's formats (``formats/config.py``) rank above every built-in one: the most specific.
_USER_TIER = USER_TIER = 5


def _user_candidates(taken: set[str]) -> tuple[list[_Candidate], list[str]]:
    """The user's formats as candidates, most specific first as the file lists them; a name
    that a built-in format or an earlier entry has is left out with a warning."""
    from logview.formats.config import CONFIG_FILE, default_config_dir, format_factory, user_formats

    formats, warnings = user_formats()
    found: list[_Candidate] = []
    for position, fmt in enumerate(formats):
        if fmt.name.lower() in taken:
            warnings.append(f"{default_config_dir() / CONFIG_FILE}: format {fmt.name!r}: the "
                            f"name is taken (a built-in format, or given twice): rename it")
            continue
        taken.add(fmt.name.lower())
        found.append(_Candidate(fmt.name, fmt, format_factory(fmt), _USER_TIER,
                                len(formats) - position))
    return found, warnings


def reset_candidates() -> None:
    """Forget the built candidates, so the next use reads the user's formats file again."""
    global _candidates
    with _candidates_lock:
        _candidates = None
        _user_warnings.clear()


def user_format_warnings() -> list[str]:
    """What could not be used in the user's formats file (each a message for stderr)."""
    _all_candidates()
    return list(_user_warnings)


def _all_candidates() -> list[_Candidate]:
    """Every detectable format, built once (compiling templates is not free)."""
    global _candidates
    with _candidates_lock:
        if _candidates is None:
            found = [_Candidate("jsonl", JsonFormat(), _fresh(JsonFormat), 4, 0)]
            known = known_text_formats()
            for position, scorer in enumerate(known):  # listed most specific first
                make = _known_factory(scorer.name)
                found.append(_Candidate(scorer.name, scorer, make, 3, len(known) - position))
            found.append(_Candidate("syslog", SyslogFormat(), _fresh(SyslogFormat), 2, 0))
            found.append(_Candidate("logfmt", LogfmtFormat(), _fresh(LogfmtFormat), 1, 0))
            found.append(_Candidate("plain", PlainFormat(), _fresh(PlainFormat), 0, 0))
            taken = {c.name.lower() for c in found} | set(_ALIASES)
            user, warnings = _user_candidates(taken)
            _user_warnings[:] = warnings
            _candidates = user + found
        return _candidates


def all_candidates() -> list[_Candidate]:
    """Every detectable format (named, the user's, plain), for ``formats.detect_union``."""
    return _all_candidates()


def format_names() -> tuple[str, ...]:
    """Every name ``--format`` accepts (besides logging format strings)."""
    return (*(c.name for c in _all_candidates()), "generic")


def __getattr__(name: str) -> object:  # FORMAT_NAMES is computed on first use
    if name == "FORMAT_NAMES":
        return format_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# Detection


def sample_lines(sample: bytes | str | list[str]) -> list[str]:
    """The non-blank lines of a sample, ANSI stripped, CR removed, bounded in count and size."""
    if isinstance(sample, (bytes, bytearray, memoryview)):
        data = bytes(sample[:SAMPLE_BYTES])
        cut = len(sample) > SAMPLE_BYTES or not data.endswith(b"\n")
        text = data.decode("utf-8", "replace")
        raw_lines = text.split("\n")
        if cut and len(raw_lines) > 1:
            raw_lines.pop()  # a line cut short at the end of the sample is not evidence
    elif isinstance(sample, str):
        raw_lines = sample[:SAMPLE_BYTES].split("\n")
    else:
        raw_lines = []
        size = 0
        for item in sample:
            raw_lines.extend(item.split("\n"))
            size += len(item)
            if len(raw_lines) >= SAMPLE_LINES * 4 or size >= SAMPLE_BYTES:
                break
    lines: list[str] = []
    if raw_lines:
        raw_lines[0] = raw_lines[0].lstrip("\ufeff")  # a byte order mark
    for line in raw_lines:
        # (a box's corner before a line is no part of the record's head: ``undecorated``)
        line = undecorated(strip_ansi(line.rstrip("\r\n")))
        if line.strip():
            lines.append(line)
            if len(lines) >= SAMPLE_LINES:
                break
    return lines


@dataclass(slots=True)
class Detection:
    """What detection chose for a sample, and how sure it is (``--explain``, the status line).

    ``fitted`` of ``total`` sample start lines are read by the chosen format; ``runner_up`` is
    the next best candidate's label and fitted count (None when there was none).
    """

    format: LogFormat
    kind: str  # "named" (a built-in or user format), "inferred", "generic", "plain", "forced"
    label: str  # the format's name, or the inferred logging template
    template: str | None = None
    datefmt: str | None = None
    fitted: int = 0
    total: int = 0
    runner_up: tuple[str, int] | None = None

    def describe(self) -> str:
        """One line for a status bar: ``inferred '%(asctime)s ...' (198/200 lines)``."""
        what = self.label if self.kind == "named" else f"{self.kind} {self.label!r}"
        if self.kind in ("plain",):
            what = "plain text"
        return f"{what} ({self.fitted}/{self.total} lines)" if self.total else what


def detect(sample: bytes | list[str], *, hint: str | None = None,
           _wrapped: bool = False, _union: bool = True, _nested: bool = False) -> Detection:
    """Detect a sample's format and say how well it fits (see ``Detection``).

    The candidates are the named formats (JSON, the user's, the known text formats, syslog,
    logfmt) and a logging template inferred from the sample itself (``formats.infer``).
    Structured formats and the user's own win when they read at least as many lines; a
    known template wins over the inferred one only when it reads the sample the same way
    (it has a name people know, and some parse more, like celery's task ids).
    """
    if hint and (hint.strip().lower() in _ALIASES or hint.strip() in format_names()):
        return check_format(format_from_option(hint), sample, kind="named")
    lines = sample_lines(sample)
    starts = [line for line in lines if not is_continuation(line)] or lines
    total = len(starts)
    json_hint = bool(hint) and hint.lower().endswith(_JSON_SUFFIXES)  # type: ignore[union-attr]
    if not _wrapped:
        from logview.formats.detect_wrapped import unwrapped as _unwrapped

        unwrapped = _unwrapped(lines)
        if unwrapped is not None:
            return unwrapped
    pretty = pretty_objects(lines)
    if pretty is not None:  # (python-json-logger's json_indent, ``jq .``, json-pretty)
        return _with_inferred_keys(Detection(JsonFormat(), "named", "jsonl",
                                             fitted=len(pretty), total=len(pretty)), pretty)
    if not json_hint and any(line[:1] == "{" for line in starts):
        from logview.formats.mixed import mixed_candidate, mixed_text_lines

        text_lines = mixed_text_lines(lines)
        if text_lines is not None:  # JSON objects and text lines, each a tenth or more
            mixed = mixed_candidate(lines, detect(text_lines).format)
            if mixed is not None:
                return Detection(mixed, "named", mixed.name, getattr(mixed, "template", None),
                                 getattr(mixed, "datefmt", None),
                                 round(mixed.score(starts) * total), total)
    ranked: list[tuple[tuple[float, int, int], _Candidate]] = []
    for candidate, score in score_formats(lines):
        if json_hint and candidate.name == "jsonl":
            score += 0.2
        ranked.append(((score, candidate.tier, candidate.specificity), candidate))
    ranked.sort(key=_rank_key, reverse=True)
    inferred = _inferred(lines) if lines else None
    named = [(key[0], c) for key, c in ranked if key[0] >= MIN_SCORE]
    options = [_named(c, score, total) for score, c in named]
    if not _nested:  # syslog's messages may be a program's own lines: read them by their format
        from logview.formats.detect_wrapped import syslog_messages_read

        options = [syslog_messages_read(o, starts) if o.label == "syslog" else o
                   for o in options]
    best: Detection | None = options[0] if options else None
    if inferred is not None:
        fmt, inference = inferred
        guess = Detection(fmt, "inferred", inference.template, inference.template,
                          inference.datefmt, inference.fitted, total)
        best = guess
        for (score, candidate), option in zip(named, options, strict=True):
            if score + _NEAR < inference.share:
                break
            if score > inference.share + _NEAR or _keeps_name(candidate, fmt, starts,
                                                               option.format):
                best = option
                break
        options.append(guess)
    best = _or_generic(best, starts)
    if best is not None and best.kind == "named":
        _note_level_spelling(best.format, starts)  # (supervisord's WARN in python-space)
        if type(best.format) is JsonFormat:
            best = _with_inferred_keys(best, (_load(line.strip()) for line in starts
                                              if line.lstrip()[:1] == "{"))
    if best is None:
        plain = Detection(plain_for(lines), "plain", "plain", total=total)
        if not _union:
            return plain
        from logview.formats.detect_union import plain_with_template

        return plain_with_template(plain, starts)
    if _union:
        from logview.formats.detect_union import lines_between_access_lines, with_second

        best = lines_between_access_lines(with_second(best, starts), starts)
    runner = max((d for d in options
                  if d.label != best.label and (d.template is None or d.template != best.template)),
                 key=lambda d: d.fitted, default=None)
    if runner is not None:
        best.runner_up = (runner.label, runner.fitted)
    return best


#: The generic format replaces a weak best guess when it starts at least this share of lines.
GENERIC_SCORE = 0.6


def _or_generic(best: Detection | None, starts: list[str]) -> Detection | None:
    """The generic format (a time or a level at the start of a line) when no template or
    named format starts records where it does: logs whose lines share no single header."""
    total = len(starts)
    if not total:
        return best
    best_share = best.fitted / total if best is not None else 0.0
    if best_share >= 1.0 - _NEAR:
        if best is None or not _levels_left_in_messages(best.format, starts):
            return best  # generic cannot read more (and need not be loaded)
        from logview.formats.generic import GenericFormat

        found = Detection(GenericFormat.for_sample(starts), "generic", "generic",
                          fitted=best.fitted, total=total)
        found.runner_up = (best.label, best.fitted)
        return found
    from logview.formats.generic import GenericFormat

    share = GenericFormat().score(starts)
    if best is not None and best_share >= MIN_SCORE and best_share >= share - _NEAR:
        return best
    if share >= GENERIC_SCORE:
        found = Detection(GenericFormat.for_sample(starts), "generic", "generic",
                          fitted=round(share * total), total=total)
        if best is not None:
            found.runner_up = (best.label, best.fitted)
        return found
    return best


#: Least sample lines whose level only the generic format reads (``_levels_left_in_messages``).
_LEFT_LEVELS = 2
#: A level name that opens a message, then a colon (pip's ``WARNING: Location ...``).
_MESSAGE_LEVEL = re.compile(
    r"(?:{}):\s".format("|".join(sorted(LEVEL_SPELLINGS, key=len, reverse=True))))


def _levels_left_in_messages(fmt: LogFormat, starts: list[str]) -> bool:
    """Whether ``fmt`` (which reads every start line) reads no level at all while some
    messages open with one and a colon (``2024-01-02T03:04:05,678 ERROR: No matching
    distribution``: pip writes a level only on its warnings and errors): the generic format,
    which reads a level after the time, reads those."""
    if getattr(fmt, "has_time", False) is False:
        return False  # (the generic format reads a level after a time)
    left = 0
    for line in starts[:200]:
        record = fmt.parse(line)
        if record.level is not None:
            return False
        if _MESSAGE_LEVEL.match(record.message):
            left += 1
    return left >= _LEFT_LEVELS


#: A named format this close to the inferred template's share still counts as as good.
_NEAR = 0.02


def _rank_key(item: tuple[tuple[float, int, int], _Candidate]) -> tuple[float, int, int]:
    (score, tier, specificity), _ = item
    return (round(score / _TIE) * _TIE if score else 0.0, tier, specificity)


def _named(candidate: _Candidate, score: float, total: int) -> Detection:
    fmt = candidate.make(None)
    return Detection(fmt, "named", candidate.name, getattr(fmt, "template", None),
                     getattr(fmt, "datefmt", None), round(min(score, 1.0) * total), total)


def _inferred(lines: list[str]):
    """The inferred template as a format, with its inference; None when none was found."""
    from logview.formats.infer import infer_template
    from logview.formats.template import TemplateFormat

    inference = infer_template(lines)
    if inference is None or inference.share < MIN_SCORE:
        return None
    try:
        fmt = TemplateFormat(inference.template, datefmt=inference.datefmt,
                             level_names=inference.level_names)
    except FormatError:  # pragma: no cover - infer_template compiled it already
        return None
    fmt.python_levels = inference.python_levels
    return fmt, inference


def _keeps_name(candidate: _Candidate, inferred: LogFormat, starts: list[str],
                own: LogFormat | None = None) -> bool:
    """A named format beats the inferred template: any structured or user format that reads
    as many lines, and a known template that reads the sample's records the same way.
    ``own``: the candidate's format as detection built it (syslog with its messages')."""
    from logview.formats.template import TemplateFormat

    scorer = candidate.scorer
    if candidate.tier == _KNOWN_TIER and not isinstance(scorer, TemplateFormat):
        return True  # uvicorn's fixed columns and access lines: no template says that better
    if candidate.name == "logfmt" and cuts_messages(own or scorer, inferred, starts):
        return False
    if candidate.tier not in (_KNOWN_TIER, _SYSLOG_TIER):
        return True  # JSON, logfmt and the user's own formats
    taken: list[str] = []  # loggers the known template reads where the inferred reads none
    for line in starts[:64]:
        if not scorer.score([line]):
            continue
        a, b = (own or scorer).parse(line), inferred.parse(line)
        if candidate.tier == _SYSLOG_TIER:
            # syslog's host and app[pid] are read by its own rules; the inferred template
            # wins only where it finds a level syslog does not (a Python app's "INFO ...").
            if (b.level is not None and a.level is None) or (b.logger and not a.logger):
                return False  # (or a logger: "TIME app.db WARNING ...", whose host it is not)
            continue
        if (a.level, a.time) != (b.level, b.time):
            return False
        if a.logger and a.logger != b.logger and not (not b.logger and a.logger in b.message):
            return False  # (a known template without a logger may call its module one; one
            # that reads a logger the inferred template left in the message reads more)
        if a.message not in b.message or (b.message and not a.message):
            return False  # (celery reads task ids off the front, structlog pairs off the end)
        if a.logger and not b.logger:
            taken.append(a.logger)
    return not _message_words(taken)


def _message_words(loggers: list[str]) -> bool:
    """Whether what a known template reads as loggers, where the inferred template found no
    logger column, are the first words of messages (supervisord's ``spawned:``,
    ``exited:``, ``daemonizing``): a word glued to a colon, or hardly any repeats."""
    if any(name.endswith((":", ",", ";")) for name in loggers):
        return True
    return len(loggers) >= 8 and len(set(loggers)) > len(loggers) // 2


def check_format(fmt: LogFormat, sample: bytes | list[str], *, kind: str = "forced") -> Detection:
    """How well a given format (``--format``) reads a sample: ``fitted == 0`` with
    ``total > 0`` means it fits none of the first lines (say so instead of one giant record).

    A template given without a datefmt whose ``asctime`` is not logging's default shape
    takes the sample's time shape: the result's ``format`` is then that adapted template.
    """
    lines = sample_lines(sample)
    starts = [line for line in lines if not is_continuation(line)] or lines
    fitted = round(fmt.score(starts) * len(starts)) if starts else 0
    if fitted < len(starts):
        fmt, fitted = _with_sample_time(fmt, starts, fitted)
    _note_level_spelling(fmt, starts)
    return Detection(fmt, kind, fmt.name, getattr(fmt, "template", None),
                     getattr(fmt, "datefmt", None), fitted, len(starts))


def _with_inferred_keys(found: Detection, objects) -> Detection:
    """JSON lines whose objects keep a role under a key of their own (``json_infer``): the
    format with those keys mapped, as a user's mapping would."""
    fmt = found.format
    if type(fmt) is not JsonFormat or fmt.keys:
        return found
    keys = infer_keys(objects)
    if not keys:
        return found
    status = keys.pop("status", None)
    if status is not None:
        from logview.formats.json_status import StatusJsonFormat

        mapped: JsonFormat = StatusJsonFormat(keys, status)
    else:
        mapped = JsonFormat(keys=keys)
    return Detection(mapped, found.kind, found.label, fitted=found.fitted, total=found.total)


def _note_level_spelling(fmt: LogFormat, starts: list[str]) -> None:
    """A given or known template whose sample spells levels otherwise than ``logging``
    does (``warning``, ``WARN``) says so, so level queries look for every spelling."""
    if not getattr(fmt, "python_levels", False):
        return
    for line in starts[:64]:
        record = fmt.parse(line)
        if record.level is not None and record.level not in line:
            fmt.python_levels = False  # type: ignore[attr-defined]
            return


def _with_sample_time(fmt: LogFormat, starts: list[str], fitted: int) -> tuple[LogFormat, int]:
    """``fmt`` with its ``%(asctime)s`` written the way the sample writes times, when that
    reads more lines (only for templates given without a datefmt)."""
    from logview.formats.head_tokens import time_pieces
    from logview.formats.template import TemplateFormat

    template = getattr(fmt, "template", None)
    if (type(fmt) is not TemplateFormat or fmt.datefmt is not None or fmt.style != "%"
            or not isinstance(template, str) or "%(asctime)s" not in template):
        return fmt, fitted
    best, best_fitted = fmt, fitted
    for piece, datefmt in time_pieces(starts)[:3]:
        try:
            other = TemplateFormat(template.replace("%(asctime)s", piece, 1), datefmt=datefmt,
                                   levels=fmt.custom_levels or None)
        except FormatError:
            continue
        score = round(other.score(starts) * len(starts))
        if score > best_fitted:
            best, best_fitted = other, score
    return best, best_fitted


def detect_format(sample: bytes | list[str], *, hint: str | None = None) -> LogFormat:
    """The format that reads most of a source's first lines; ``PlainFormat`` if none fits.

    ``hint`` is a format name (used as is when it is one) or the source's file name (a
    ``.json``/``.jsonl``/``.ndjson`` name favours JSON). See ``detect``.
    """
    return detect(sample, hint=hint).format


def score_formats(sample: bytes | list[str]) -> list[tuple[_Candidate, float]]:
    """Each candidate with its score on the sample's start lines (for diagnostics and tests)."""
    lines = sample_lines(sample)
    starts = [line for line in lines if not is_continuation(line)] or lines
    out = []
    for candidate in _all_candidates():
        if candidate.tier == 0:
            continue  # plain is the fallback, not a competitor
        out.append((candidate, candidate.scorer.score(starts)))
    return out


# ---------------------------------------------------------------------------------------------
# --format


def format_from_option(value: str, datefmt: str | None = None) -> LogFormat:
    """The format ``--format VALUE`` asks for: a known name or a logging format string.

    Raises ``FormatError`` (listing the known names) when the value is neither.
    """
    text = value.strip()
    name = _ALIASES.get(text.lower(), text)
    for candidate in _all_candidates():
        if candidate.name == name or candidate.name.lower() == name.lower():
            return candidate.make(datefmt)
    if name.lower() == "generic":
        from logview.formats.generic import GenericFormat

        return GenericFormat()
    if "%(" in text or "{" in text or "$" in text:
        from logview.formats.template import TemplateFormat

        try:
            return TemplateFormat(text, datefmt=datefmt)
        except FormatError as exc:  # say which option it came from
            raise FormatError(f"bad --format: {exc}") from exc
    names = ", ".join(format_names())
    raise FormatError(
        f"unknown format {value!r}: use one of {names}, or a logging format string such as "
        f"'%(asctime)s %(levelname)s %(name)s %(message)s'"
    )
