"""Choosing a format: from a sample of a source's first lines, or from ``--format``.

Detection scores every candidate on the sample's record-start lines (traceback and indented
continuation lines are left out, so a sample that begins mid-traceback still works) and takes
the best; ties go to the more specific format: JSON, then the known text formats in the order
``logview.formats.known`` lists them (most specific first), syslog, logfmt; plain is the
fallback when nothing fits well enough.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from logview.formats.base import FormatError, LogFormat, PlainFormat
from logview.formats.jsonl import JsonFormat
from logview.formats.linewise import is_continuation
from logview.formats.logfmt import LogfmtFormat
from logview.record import strip_ansi

#: How much of a source detection looks at.
SAMPLE_LINES = 200
SAMPLE_BYTES = 256 * 1024

#: Below this score (fraction of start lines recognised) a format is not trusted: a wrong
#: format joins unrecognised lines into the record before, plain at least keeps every line.
MIN_SCORE = 0.3

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


def _syslog_class() -> type[LogFormat] | None:
    """``SyslogFormat`` when it exists and builds without arguments (as detection needs)."""
    try:
        from logview.formats.syslog import SyslogFormat
    except ImportError:
        return None
    try:
        SyslogFormat()
    except TypeError:  # a different constructor: --format syslog and detection leave it out
        return None
    return SyslogFormat


def _known_text() -> list[LogFormat]:
    """Fresh instances of the ready-made text formats (``logview.formats.known``), most
    specific first; none when that module is not there."""
    try:
        from logview.formats import known
    except ImportError:
        return []
    source = getattr(known, "known_text_formats", None)
    items = source() if callable(source) else getattr(known, "KNOWN_TEXT_FORMATS", [])
    out: list[LogFormat] = []
    for item in items:
        fmt = item() if callable(item) and not isinstance(item, LogFormat) else item
        if isinstance(fmt, LogFormat):
            out.append(fmt)
    return out


def _known_factory(name: str) -> Callable[[str | None], LogFormat]:
    """Makes a fresh known format; with a ``--datefmt``, its template rebuilt with that."""

    def make(datefmt: str | None) -> LogFormat:
        fresh = next(f for f in _known_text() if f.name == name)
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


def _all_candidates() -> list[_Candidate]:
    """Every detectable format, built once (compiling templates is not free)."""
    global _candidates
    with _candidates_lock:
        if _candidates is None:
            found = [_Candidate("jsonl", JsonFormat(), _fresh(JsonFormat), 4, 0)]
            known = _known_text()
            for position, scorer in enumerate(known):  # listed most specific first
                make = _known_factory(scorer.name)
                found.append(_Candidate(scorer.name, scorer, make, 3, len(known) - position))
            syslog = _syslog_class()
            if syslog is not None:
                found.append(_Candidate(syslog.name, syslog(), _fresh(syslog), 2, 0))
            found.append(_Candidate("logfmt", LogfmtFormat(), _fresh(LogfmtFormat), 1, 0))
            found.append(_Candidate("plain", PlainFormat(), _fresh(PlainFormat), 0, 0))
            _candidates = found
        return _candidates


def format_names() -> tuple[str, ...]:
    """Every name ``--format`` accepts (besides logging format strings)."""
    return tuple(c.name for c in _all_candidates())


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
        line = strip_ansi(line.rstrip("\r\n"))
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


def detect(sample: bytes | list[str], *, hint: str | None = None) -> Detection:
    """Detect a sample's format and say how well it fits (see ``Detection``)."""
    fmt = detect_format(sample, hint=hint)
    lines = sample_lines(sample)
    starts = [line for line in lines if not is_continuation(line)] or lines
    fitted = sum(1 for line in starts if fmt.is_start(line))
    kind = "plain" if isinstance(fmt, PlainFormat) else "named"
    return Detection(fmt, kind, fmt.name, getattr(fmt, "template", None),
                     getattr(fmt, "datefmt", None), fitted, len(starts))


def check_format(fmt: LogFormat, sample: bytes | list[str]) -> Detection:
    """How well a forced format (``--format``) reads a sample: ``fitted == 0`` with
    ``total > 0`` means it fits none of the first lines (say so instead of one giant record)."""
    lines = sample_lines(sample)
    starts = [line for line in lines if not is_continuation(line)] or lines
    fitted = sum(1 for line in starts if fmt.is_start(line))
    return Detection(fmt, "forced", fmt.name, getattr(fmt, "template", None),
                     getattr(fmt, "datefmt", None), fitted, len(starts))


def detect_format(sample: bytes | list[str], *, hint: str | None = None) -> LogFormat:
    """The format that recognises most of a source's first lines; ``PlainFormat`` if none fits.

    ``hint`` is a format name (used as is when it is one) or the source's file name (a
    ``.json``/``.jsonl``/``.ndjson`` name favours JSON).
    """
    if hint and (hint.strip().lower() in _ALIASES or hint.strip() in format_names()):
        return format_from_option(hint)
    scored = score_formats(sample)
    json_hint = bool(hint) and hint.lower().endswith(_JSON_SUFFIXES)  # type: ignore[union-attr]
    best: _Candidate | None = None
    best_key: tuple[float, int, int] | None = None
    for candidate, score in scored:
        if json_hint and candidate.name == "jsonl":
            score += 0.2
        key = (score, candidate.tier, candidate.specificity)
        if best_key is None or _better(key, best_key):
            best, best_key = candidate, key
    if best is None or best_key is None or best_key[0] < MIN_SCORE:
        return PlainFormat()
    return best.make(None)


def _better(key: tuple[float, int, int], than: tuple[float, int, int]) -> bool:
    if abs(key[0] - than[0]) > _TIE:
        return key[0] > than[0]
    return key[1:] > than[1:]


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
    if "%(" in text or "{" in text or "$" in text:
        try:
            from logview.formats.template import TemplateFormat
        except ImportError as exc:
            raise FormatError("logging format strings are not supported in this build") from exc
        try:
            return TemplateFormat(text, datefmt=datefmt)
        except FormatError as exc:  # say which option it came from
            raise FormatError(f"bad --format: {exc}") from exc
    names = ", ".join(format_names())
    raise FormatError(
        f"unknown format {value!r}: use one of {names}, or a logging format string such as "
        f"'%(asctime)s %(levelname)s %(name)s %(message)s'"
    )
