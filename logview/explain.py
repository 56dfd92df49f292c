"""``logview --explain``: say what format each source was read as, and how well it fits.

For every source: the format's name or the inferred ``logging`` template and datefmt, how
many of the sample's record-start lines it reads, the runner-up, the first record as parsed,
and the ``--format`` line that pins the choice. For the journal: the journalctl command, what
of the query it filters itself (pushed down) and what only logview filters; for a ClickHouse
table the same, as SQL conditions (``explain_clickhouse``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from logview.formats.base import LogFormat
from logview.formats.detect import Detection, check_format, detect, sample_lines
from logview.formats.union import UnionFormat
from logview.query.pushdown import PushDown
from logview.record import printable
from logview.sources.base import ByteSource
from logview.sources.clickhouse import ClickHouseSource
from logview.sources.journal import JournalSource, journal_command, shell_command
from logview.store import with_its_end

if TYPE_CHECKING:
    from logview.redact import Redactor

#: Bytes of each source that detection looks at (the same as the store's).
EXPLAIN_BYTES = 64 * 1024


def explain_source(source: ByteSource, forced: LogFormat | None = None) -> Detection:
    """The detection for a source's first bytes (or how a forced format fits them)."""
    source.update()
    size = source.size()
    sample = source.read_at(0, min(EXPLAIN_BYTES, size))
    if forced is not None:
        return check_format(forced, sample)
    detection = detect(sample, hint=source.format_hint)
    return detection if source.format_hint is not None else with_its_end(detection, source, size)


def explain_lines(name: str, detection: Detection, first: str | None = None,
                  redactor: Redactor | None = None) -> list[str]:
    """The report for one source, as lines of text (log text made printable, and masked by
    ``redactor`` under ``--redact``)."""
    kind = {
        "inferred": "inferred logging template",
        "named": "known format",
        "forced": "forced with --format",
        "generic": "generic (time or level at the start of a line)",
        "plain": "plain text (no format fits: every line is a record)",
    }.get(detection.kind, detection.kind)
    prefix = getattr(detection.format, "prefix", None)
    if detection.kind == "plain" and getattr(prefix, "open_lines", False):
        kind = "plain text in a wrapper's lines (each line a record, tracebacks joined)"
    two = isinstance(detection.format, UnionFormat)  # two kinds of line: no one template says it
    # A wrapper's lines (CRI, docker, compose) read by an inferred template: no template
    # alone reads them, so the wrapper is named and no --format is offered.
    wrapped = detection.kind == "inferred" and getattr(detection.format, "inner", None) is not None
    out = [f"{name}: {kind}"]
    if detection.kind != "inferred" or two or wrapped:
        out.append(f"  format:    {detection.label}")
    lanes = getattr(detection.format, "lanes", None)
    if getattr(prefix, "open_lines", False) and detection.kind != "plain":
        out.append("  lines:     the wrapper's own, and the program's not read by its format: "
                   "each a record (with its traceback)")
    if lanes:
        out.append(f"  lanes:     {', '.join(sorted(lanes))}: no record of the program's format "
                   "there, each line (or traceback) a record of its own")
    if detection.template:
        out.append(f"  template:  {detection.template}")
    if detection.datefmt:
        out.append(f"  datefmt:   {detection.datefmt}")
    status = getattr(detection.format, "status_key", None)
    if status:
        out.append(f"  level:     from {status}, an HTTP status (5xx ERROR, 4xx WARNING, "
                   "else INFO): no object names a level")
    keys = getattr(detection.format, "keys", None)
    if keys and isinstance(keys, dict):
        # (the built-in JSON format holds keys only when detection read them from the values)
        how = " (read from the sample's values)" if detection.label == "jsonl" else ""
        out.append("  keys:      " + " ".join(f"{role}={key}" for role, key in keys.items())
                   + how)
    if detection.total:
        out.append(f"  fits:      {detection.fitted} of the {detection.total} unindented sample "
                   "lines start records (the others continue one)")
        if detection.kind == "forced" and detection.fitted == 0:
            out.append("  warning:   the format fits none of the first lines")
    else:
        out.append("  fits:      (the source is empty so far: detection waits for lines)")
    if detection.runner_up is not None:
        label, fitted = detection.runner_up
        out.append(f"  runner-up: {label} ({fitted} lines)")
    if first is not None:
        record = detection.format.parse(first)
        out.append(f"  first:     level={record.level} logger={record.logger!r} "
                   f"time={record.time.isoformat() if record.time else None}")
        message = record.message if redactor is None else redactor.text(record.message)
        out.append(f"             message={printable(message[:100])!r}")
    if detection.template and detection.kind == "inferred" and not two and not wrapped:
        pin = f"--format {shlex.quote(detection.template)}"
        if detection.datefmt:
            pin += f" --datefmt {shlex.quote(detection.datefmt)}"
        out.append(f"  pin it:    logview {pin} {shlex.quote(name)}")
    return [printable(line) for line in out]


def _pushdown_lines(pushdown: PushDown | None, store: str, gives: str = "returns") -> list[str]:
    """What was pushed (term -> what the store evaluates) and what stays local (and why)."""
    if pushdown is None or not (pushdown.pushed or pushdown.local):
        return ["  pushed:    nothing (no query)"]
    out = []
    width = min(40, max(len(text) for text, _ in pushdown.pushed + pushdown.local))
    for n, (text, argument) in enumerate(pushdown.pushed):
        out.append(f"  {'pushed:' if n == 0 else '':<10} {text:<{width}}  ->  {argument}")
    if not pushdown.pushed:
        out.append(f"  pushed:    nothing (no term of the query is one {store} evaluates)")
    for n, (text, why) in enumerate(pushdown.local):
        out.append(f"  {'local:' if n == 0 else '':<10} {text:<{width}}  ({why})")
    out.append(f"  then:      logview applies the whole query to what {store} {gives} (the "
               "pushed terms too)")
    return out


def explain_clickhouse(source: ClickHouseSource) -> list[str]:
    """The report for a ClickHouse table: how its rows become records, the conditions of
    ``--print`` (values shown in place; they are sent as bound parameters) and the viewer's
    window."""
    target, shape = source.target, source.shape
    kind = ("OpenTelemetry otel_logs (ScopeName -> logger, SeverityNumber/SeverityText -> "
            "level, Body -> message, exception.* -> traceback, service@host -> source)"
            if shape.otel else "columns mapped in clickhouse.toml: "
            + ", ".join(f"{role}={column}" for role, column in (target.mapping or {}).items()))
    out = [f"{source.name}: ClickHouse table over HTTP{'S' if target.secure else ''}",
           f"  table:     {kind}",
           ("  --print:   rows in keyset pages of (time, row hash), oldest first; with --follow, "
            f"polled every second, re-reading the last {target.overlap:g} s for late rows")]
    out += _pushdown_lines(source.pushdown, "ClickHouse")
    out.append(f"  viewer:    the newest {target.rows:,} rows, then new ones (nothing pushed "
               "down: the viewer's query can be widened)")
    return [printable(line) for line in out]


def explain_journal(source: JournalSource) -> list[str]:
    """The report for a journal: journalctl's command lines (``--print``, the viewer) and the
    push-down, term by term."""
    pushdown = source.pushdown
    printing = shell_command(journal_command(source.spec, follow=False, pushdown=pushdown))
    viewing = shell_command(journal_command(source.spec, follow=True))
    out = [f"{source.name}: journal entries through journalctl (each record's source: its host)",
           f"  --print:   {printing}",
           "             (--print --follow adds --follow --no-tail)"]
    out += _pushdown_lines(pushdown, "journalctl", "prints")
    out.append(f"  viewer:    {viewing}")
    out.append("             (nothing pushed down: the viewer's query can be widened)")
    return [printable(line) for line in out]


def explain(sources: Iterable[ByteSource], forced: LogFormat | None = None,
            redactor: Redactor | None = None) -> str:
    """The whole ``--explain`` report for several sources."""
    blocks: list[str] = []
    for source in sources:
        if isinstance(source, JournalSource):
            blocks.append("\n".join(explain_journal(source)))
            continue
        if isinstance(source, ClickHouseSource):
            blocks.append("\n".join(explain_clickhouse(source)))
            continue
        detection = explain_source(source, forced)
        sample = source.read_at(0, min(EXPLAIN_BYTES, source.size()))
        lines = sample_lines(sample)
        # The first record whole (a pretty-printed object is one over many lines).
        is_start = detection.format.is_start
        at = next((k for k, line in enumerate(lines) if is_start(line)), None)
        first = None
        if at is not None:
            end = next((k for k in range(at + 1, len(lines)) if is_start(lines[k])), len(lines))
            first = "\n".join(lines[at:end])
        blocks.append("\n".join(explain_lines(source.name, detection, first, redactor)))
    return "\n\n".join(blocks) + "\n"
