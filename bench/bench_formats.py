"""How well ``logview FILE`` reads files that Python's own ``logging`` wrote, with no flags.

Usage: ``.venv/bin/python bench/bench_formats.py [--only SUBSTRING] [--records N] [--keep DIR]
[-v] [--forced]``

Each case is a ``logging.Formatter`` template, datefmt and style from a project's documentation
or defaults. The real ``logging`` module writes about 400 records of it through a
``FileHandler`` (loggers ``app``, ``app.db``, ``app.web.views``, ``urllib3.connectionpool``,
``__main__``; every level; multi-line, unicode and separator-laden messages; chained
tracebacks; ``stack_info``), while a second handler keeps the ground truth. Then
``python -m logview --print -o jsonl FILE`` reads the file as a user would.

A record is **exact** when it is aligned with its ground truth (same position; if the counts
differ, records are aligned on their messages and each one left over on either side is wrong)
and:

- level: equal after ``logview.record.level_from_name`` on both sides (WARN = WARNING; with
  ``%(levelname).5s`` only 5 letters count); skipped when the template writes no level;
- logger: equals ``record.name``; skipped when the template has no ``%(name)s``;
- message: equals ``record.getMessage()``, trailing whitespace stripped on both sides;
- traceback: with ``exc_info``/``stack_info``, ``exc`` contains the last line of each as the
  same Formatter wrote it; without, ``exc`` is empty (a traceback line read as a record of its
  own is a left-over record);
- time, when the template writes one (``asctime``/``created``): within 1 s of ``created`` (60 s
  when the datefmt has no seconds). Aware times compare as instants, naive ones as wall-clock
  time in the writer's zone; a datefmt without a year compares month, day and time, one
  without a date only the time of day (modulo midnight). A missing time is wrong.

``--forced`` passes each case's template as ``--format``/``--datefmt``: what is still wrong is
the parser's (or the template is ambiguous, noted at the case), not inference's. The writer
runs in CET/CEST (``%z`` is +0100), its clock starts on 2023-12-29 and jumps by random amounts
(days, a new year); runs are seeded, so the same options give the same files.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from format_writer import TZ, Truth, write_case

from logview.record import level_from_name


@dataclass
class Case:
    """One logging configuration to write and read back."""

    name: str
    fmt: str
    source: str  # where the template (and datefmt) come from
    datefmt: str | None = None
    style: str = "%"
    utc: bool = False  # Formatter.converter = time.gmtime
    custom_levels: bool = False  # also log TRACE (5) and SUCCESS (25)
    defaults: dict[str, Any] | None = None  # Formatter(defaults=...)
    # Record attributes a filter sets per record: a list to pick from, or f(record, rng).
    extra: dict[str, Any] = field(default_factory=dict)
    level_names: dict[int, str] | None = None  # levelname rewritten (supervisord's own names)


def _uvicorn_prefix(record: logging.LogRecord, _rng: random.Random) -> str:
    return record.levelname + ":" + " " * (8 - len(record.levelname))


PIDS = [4121, 4122, 17, 30817]
THREADS = ["MainThread", "Thread-1 (worker)", "ThreadPoolExecutor-0_0", "SyncWorker_3"]
NO_COLOR = {"color": "", "end_color": ""}
YMD = "%Y-%m-%d %H:%M:%S"
CASES = [
    Case("basicconfig", "%(levelname)s:%(name)s:%(message)s", "logging.BASIC_FORMAT"),
    Case("howto-dash", "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
         "logging HOWTO 'Configuring Logging'; python-telegram-bot examples"),
    Case("howto-level-message", "%(levelname)s:%(message)s",
         "logging HOWTO 'Changing the format of displayed messages'"),
    Case("howto-datefmt", "%(asctime)s %(message)s",
         "logging HOWTO 'Displaying the date/time in messages'", "%m/%d/%Y %I:%M:%S %p"),
    Case("cookbook-file", "%(asctime)s %(name)-12s %(levelname)-8s %(message)s",
         "logging cookbook 'Logging to multiple destinations' (file)", "%m-%d %H:%M"),
    Case("cookbook-console", "%(name)-12s: %(levelname)-8s %(message)s",
         "logging cookbook 'Logging to multiple destinations' (console)"),
    Case("cookbook-processes", "%(asctime)s %(processName)-10s %(name)s %(levelname)-8s "
         "%(message)s", "logging cookbook 'single file from multiple processes'",
         extra={"processName": ["MainProcess", "Process-1", "Process-2", "Process-10"]}),
    # Python 3.10+ names threads "Thread-1 (worker)": even the exact template cannot tell where
    # such a name ends and the message begins.
    Case("cookbook-threads", "%(relativeCreated)6d %(threadName)s %(message)s",
         "logging cookbook 'Logging from multiple threads'", extra={"threadName": THREADS}),
    Case("cookbook-brace", "{asctime} {name} {levelname:8s} {message}",
         "logging cookbook 'Use of alternative formatting styles' ({)", style="{"),
    Case("cookbook-dollar", "$asctime $name ${levelname} $message",
         "logging cookbook 'Use of alternative formatting styles' ($)", style="$"),
    Case("django-verbose", "{levelname} {asctime} {module} {process:d} {thread:d} {message}",
         "Django docs LOGGING example 'verbose'", style="{"),
    Case("django-simple", "{levelname} {message}", "Django docs LOGGING 'simple'", style="{"),
    Case("django-server", "[{asctime}] {message}", "Django DEFAULT_LOGGING 'django.server' "
         "([{server_time}] {message}), runserver's time", "%d/%b/%Y %H:%M:%S", "{"),
    Case("flask", "[%(asctime)s] %(levelname)s in %(module)s: %(message)s",
         "flask/logging.py default_handler (Flask docs 'Logging')"),
    Case("pytest-default", "%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s",
         "pytest DEFAULT_LOG_FORMAT (log_format / log_cli_format default)"),
    Case("pytest-live", "%(asctime)s [%(levelname)8s] %(message)s (%(filename)s:%(lineno)s)",
         "pytest docs 'Live Logs' log_cli_format example", YMD),
    Case("pytest-time-only", "%(asctime)s %(levelname)-8s %(name)s:%(filename)s:%(lineno)d "
         "%(message)s", "synthetic: pytest's format + asctime, its log_date_format", "%H:%M:%S"),
    Case("gunicorn", "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
         "gunicorn glogging CONFIG_DEFAULTS 'generic'", "[%Y-%m-%d %H:%M:%S %z]",
         extra={"process": PIDS}),
    # %(request)s is "GET http://..." (a space in a field): ambiguous even for the exact template.
    Case("sanic-access", "%(asctime)s - (%(name)s)[%(levelname)s][%(host)s]: %(request)s "
         "%(message)s %(status)d %(byte)d", "sanic LOGGING_CONFIG_DEFAULTS 'access'",
         "[%Y-%m-%d %H:%M:%S %z]", extra={
             "host": ["127.0.0.1:8000", "api.example.com"], "status": [200, 204, 404, 500],
             "request": ["GET http://api.example.com/v1/items", "POST /login"],
             "byte": [0, 512, 18342]}),
    Case("celery-worker", "[%(asctime)s: %(levelname)s/%(processName)s] %(message)s",
         "celery worker_log_format default",
         extra={"processName": ["MainProcess", "ForkPoolWorker-1", "ForkPoolWorker-2"]}),
    Case("celery-task", "[%(asctime)s: %(levelname)s/%(processName)s] %(task_name)s"
         "[%(task_id)s]: %(message)s", "celery worker_task_log_format default", extra={
             "processName": ["ForkPoolWorker-1", "ForkPoolWorker-2"],
             "task_name": ["tasks.add", "proj.billing.charge_card"],
             "task_id": ["0f3e5b8a-52cd-4e2b-9a1c-6f0c6f1d2e11", "9d1b2c3e-8c7d-123456789abc"]}),
    Case("scrapy", "%(asctime)s [%(name)s] %(levelname)s: %(message)s",
         "scrapy default_settings LOG_FORMAT / LOG_DATEFORMAT", YMD, custom_levels=True),
    Case("airflow", "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s",
         "airflow [logging] log_format, logging's asctime (before TimezoneAware)"),
    Case("tornado", "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s "
         "%(message)s", "tornado LogFormatter defaults, colours off", "%y%m%d %H:%M:%S",
         defaults=NO_COLOR),
    Case("jupyter-server", "%(color)s[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s]"
         "%(end_color)s %(message)s", "Jupyter Server/Notebook log_format, log_datefmt",
         "%H:%M:%S", defaults=NO_COLOR),
    Case("home-assistant", "%(asctime)s.%(msecs)03d %(levelname)s (%(threadName)s) [%(name)s] "
         "%(message)s", "Home Assistant bootstrap.py", YMD,
         extra={"threadName": ["MainThread", "SyncWorker_3", "Recorder"]}),
    Case("discord-py", "[{asctime}] [{levelname:<8}] {name}: {message}",
         "discord.py utils.setup_logging default formatter", YMD, "{", custom_levels=True),
    Case("uvicorn", "%(levelprefix)s %(message)s", "uvicorn DefaultFormatter, use_colors=False",
         extra={"levelprefix": _uvicorn_prefix}),
    # %(perf_info)s ("12 0.004 0.031" or "- - -") follows the message: ambiguous as above.
    Case("odoo", "%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s "
         "%(perf_info)s", "odoo netsvc.py init_logger (DBFormatter, PerfFilter)", extra={
             "pid": PIDS, "dbname": ["?", "prod", "odoo_test"],
             "perf_info": ["- - -", "12 0.004 0.031"]}),
    Case("ansible", "%(asctime)s p=%(process)d u=%(user)s n=%(name)s %(levelname)s| %(message)s",
         "ansible-core utils/display.py log_path format", extra={"user": ["deploy", "root"]}),
    Case("ansible-old", "%(asctime)s p=%(process)d u=%(user)s n=%(name)s | %(message)s",
         "Ansible 2.x utils/display.py log_path format", extra={"user": ["deploy", "root"]}),
    Case("supervisord", "%(asctime)s %(levelname)s %(message)s",
         "supervisord options.py format, supervisor/loggers.py level names",
         level_names={50: "CRIT", 40: "ERRO", 30: "WARN", 20: "INFO", 10: "DEBG"}),
    Case("mlflow", "%(asctime)s %(levelname)s %(name)s: %(message)s",
         "mlflow utils/logging_utils.py LOGGING_LINE_FORMAT", "%Y/%m/%d %H:%M:%S"),
    Case("logview-help", "%(asctime)s %(levelname)-8s %(name)s: %(message)s",
         "logview --help example", custom_levels=True),
    Case("log4j-style", "%(asctime)s %(levelname)s [%(threadName)s] %(name)s - %(message)s",
         "synthetic: log4j PatternLayout '%d %p [%t] %c - %m%n' look-alike",
         extra={"threadName": THREADS}, custom_levels=True),
    Case("realpython-console", "%(name)s - %(levelname)s - %(message)s",
         "Real Python 'Logging in Python' c_format"),
    Case("realpython-process", "%(process)d-%(levelname)s-%(message)s",
         "Real Python 'Logging in Python' format example", extra={"process": PIDS}),
    Case("superset", "%(asctime)s:%(levelname)s:%(name)s:%(message)s",
         "Apache Superset config.py LOG_FORMAT"),
    Case("ray", "%(asctime)s\t%(levelname)s %(filename)s:%(lineno)s -- %(message)s",
         "ray ray_constants.py LOGGER_FORMAT"),
    Case("transformers-explicit", "[%(levelname)s|%(filename)s:%(lineno)s] %(asctime)s >> "
         "%(message)s", "transformers utils/logging.py enable_explicit_format"),
    Case("salt-logfile", "%(asctime)s,%(msecs)03d [%(name)-17s:%(lineno)-4d][%(levelname)-8s]"
         "[%(process)d] %(message)s", "salt config _DFLT_LOG_FMT_LOGFILE / DATEFMT_LOGFILE", YMD),
    Case("salt-console", "[%(levelname)-8s] %(message)s", "salt config _DFLT_LOG_FMT_CONSOLE"),
    Case("prefect", "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s",
         "prefect logging.yml formatter 'standard'", "%H:%M:%S"),
    Case("streamlit", "%(asctime)s %(levelname) -7s %(name)s: %(message)s",
         "streamlit logger.py DEFAULT_LOG_MESSAGE"),
    Case("synapse", "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - "
         "%(message)s", "Synapse sample log config, formatter 'precise'",
         extra={"request": ["sentinel", "GET-1234", "PUT-88"]}),
    # %(instance)s is glued to the message and often empty: ambiguous as above.
    Case("oslo-log", "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] "
         "%(instance)s%(message)s", "oslo.log logging_default_format_string", YMD,
         extra={"process": PIDS, "instance": ["", "[instance: 5f1c2d3e-8a9b] "]}),
    Case("pyramid", "%(asctime)s %(levelname)-5.5s [%(name)s:%(lineno)s][%(threadName)s] "
         "%(message)s", "Pyramid cookiecutter development.ini formatter_generic",
         extra={"threadName": ["MainThread", "waitress-0", "waitress-1"]}),
    Case("locust", "[%(asctime)s] web-01/%(levelname)s/%(name)s: %(message)s",
         "locust log.py (HOSTNAME constant)"),
    Case("syslog-style", "%(asctime)s web-01 %(name)s[%(process)d]: %(levelname)s %(message)s",
         "synthetic: covers the syslog datefmt (no year) and a hostname", "%b %d %H:%M:%S"),
    Case("iso-utc", "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s",
         "synthetic: covers ISO 8601 T/Z (Formatter.converter = time.gmtime)",
         "%Y-%m-%dT%H:%M:%S", utc=True),
    Case("iso-offset", "%(asctime)s %(levelname)s [%(name)s] %(message)s",
         "synthetic: covers %z", "%Y-%m-%dT%H:%M:%S%z"),
    Case("clf-time", "[%(asctime)s] %(levelname)s %(name)s: %(message)s",
         "synthetic: covers the access-log time", "%d/%b/%Y:%H:%M:%S %z"),
    Case("epoch", "%(created)f %(levelname)s %(name)s %(message)s",
         "synthetic: covers epoch seconds %(created)f"),
    Case("loguru-like", "%(asctime)s.%(msecs)03d | %(levelname)-8s | %(name)s:%(funcName)s:"
         "%(lineno)d - %(message)s", "synthetic: loguru's default layout via logging (funcName)",
         YMD, custom_levels=True),
]

# ---------------------------------------------------------------------------------------------
# Reading it back and comparing.

_FIELD_RE = {
    "%": re.compile(r"%\((\w+)\)[#0+ -]*\d*(?:\.(\d+))?[a-zA-Z]"),
    "{": re.compile(r"\{(\w+)(?:![rsa])?(?::[^}]*?(?:\.(\d+))?[a-zA-Z]?)?\}"),
    "$": re.compile(r"\$\{?(\w+)()\}?"),
}


def template_fields(case: Case) -> dict[str, int | None]:
    """Attribute name -> precision (``%(levelname).1s`` -> 1) of each field the template uses."""
    return {m[1]: int(m[2]) if m[2] else None for m in _FIELD_RE[case.style].finditer(case.fmt)}


def time_rule(case: Case) -> tuple[str, float]:
    """How to compare times: ("full" | "noyear" | "timeonly" | "", tolerance in seconds)."""
    fields = template_fields(case)
    if "asctime" not in fields:
        return ("full", 1.0) if "created" in fields else ("", 0.0)
    datefmt = case.datefmt or "%Y-%m-%d %H:%M:%S"
    has = lambda codes: any(f"%{c}" in datefmt for c in codes)
    tolerance = 1.0 if has("Ss") else 60.0
    if has("s") or (has("Yy") and has("dejmbBh")):
        return "full", tolerance
    return ("noyear" if has("dejmbBh") else "timeonly"), tolerance


def time_ok(got_iso: str | None, created: float, rule: tuple[str, float], utc: bool) -> bool:
    """Whether logview's time is the record's time, by the rule in the module docstring."""
    kind, tolerance = rule
    if not got_iso:
        return False
    got = datetime.fromisoformat(got_iso)
    if kind == "full" and got.tzinfo is not None:
        return abs(got.timestamp() - created) < tolerance
    stamp = time.gmtime(created) if utc else time.localtime(created)
    wall = datetime(*stamp[:6]) + timedelta(milliseconds=round(created * 1000) % 1000)
    if got.tzinfo is not None:
        got = got.astimezone(UTC if utc else None).replace(tzinfo=None)
    if kind == "noyear":
        try:
            wall = wall.replace(year=got.year)
        except ValueError:  # 29 February
            return False
    if kind == "timeonly":
        day = lambda t: t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
        diff = abs(day(got) - day(wall)) % 86400
        return min(diff, 86400 - diff) < tolerance
    return abs((got - wall).total_seconds()) < tolerance


def _norm_level(name: str | None, precision: int | None) -> str:
    return (level_from_name(name or "")[0] or "")[:precision]


def compare(case: Case, truth: Truth, got: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The checks a record fails: (what, expected, got)."""
    fields, wrong = template_fields(case), []
    level_field = "levelname" if "levelname" in fields else "levelprefix"
    if level_field in fields:
        precision = fields[level_field]
        expected = _norm_level(truth.level, precision)
        if expected != _norm_level(got.get("level"), precision):
            wrong.append(("level", truth.level, str(got.get("level"))))
    if "name" in fields:
        expected = truth.logger[: fields["name"]] if fields["name"] else truth.logger
        if expected != (got.get("logger") or ""):
            wrong.append(("logger", truth.logger, str(got.get("logger"))))
    if truth.message.rstrip() != (got.get("message") or "").rstrip():
        wrong.append(("message", truth.message, str(got.get("message"))))
    exc = got.get("exc") or ""
    if truth.tails and not all(tail in exc for tail in truth.tails):
        wrong.append(("exc", " / ".join(truth.tails), exc[-160:] or "None"))
    elif not truth.tails and exc:
        wrong.append(("exc", "None", exc[:160]))
    rule = time_rule(case)
    if rule[0] and not time_ok(got.get("time"), truth.created, rule, case.utc):
        wrong.append(("time", datetime.fromtimestamp(truth.created).isoformat(),
                      str(got.get("time"))))
    return wrong


def align(truth: list[Truth], got: list[dict[str, Any]]) -> tuple[list[tuple[int, int]], int]:
    """Pairs (truth index, got index) and how many records on either side are left over."""
    if len(truth) == len(got):
        return [(i, i) for i in range(len(truth))], 0
    keys_t = [t.message.split("\n", 1)[0].rstrip() for t in truth]
    keys_g = [(g.get("message") or "").split("\n", 1)[0].rstrip() for g in got]
    pairs, left_over = [], 0
    matcher = difflib.SequenceMatcher(None, keys_t, keys_g, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            pairs.extend(zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            left_over += (i2 - i1) + (j2 - j1)
    return pairs, left_over


@dataclass
class Result:
    """One row of the table."""

    case: Case
    expected: int = 0
    got: int = 0
    exact: int = 0
    total: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    explain: str = ""  # how --explain says the file is read, in short
    explain_lines: list[str] = field(default_factory=list)  # its first line, template, datefmt
    first_line: str = ""
    error: str = ""

    @property
    def percent(self) -> float:
        return 100.0 * self.exact / self.total if self.total else 0.0


def _logview(*args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "logview", *args], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def _explain(path: Path, flags: list[str]) -> tuple[str, list[str]]:
    """``--explain`` in short ("inferred `%(asctime)s ...`", "known gunicorn") and in full."""
    out = _logview("--explain", *flags, str(path))
    lines = (out.stdout or out.stderr).strip().splitlines()
    if not lines:
        return "", []
    first = lines[0].removeprefix(f"{path}: ")
    info = {}
    for line in lines[1:]:
        key, sep, value = line.strip().partition(":")
        if sep and key.isalpha():
            info[key] = value.strip()
    what = info.get("format") or (f"`{info['template']}`" if "template" in info else "")
    kept = [lines[0]] + [f"{k}: {info[k]}" for k in ("template", "datefmt") if k in info]
    kind = first.split()[0]
    return (kind if what in ("", kind) else f"{kind} {what}"), kept


def run_case(name: str, records: int, directory: str, explain: bool, forced: bool) -> Result:
    """Write one case, read it with logview, compare (runs in a worker process)."""
    case = next(c for c in CASES if c.name == name)
    result = Result(case)
    path = Path(directory) / f"{case.name}.log"
    truth = write_case(case, path, records)
    with path.open(encoding="utf-8") as fh:
        result.first_line = fh.readline().rstrip("\n")
    result.expected = len(truth)
    flags = ["--format", case.fmt] if forced else []
    flags += ["--datefmt", case.datefmt] if forced and case.datefmt else []
    if explain:
        result.explain, result.explain_lines = _explain(path, flags)
    proc = _logview("--print", "-o", "jsonl", *flags, str(path))
    if proc.returncode not in (0, 1):
        result.error = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
        result.total = len(truth)
        return result
    got = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    result.got = len(got)
    pairs, left_over = align(truth, got)
    result.total = len(pairs) + left_over
    if left_over:
        result.reasons["unaligned"] += left_over
        result.examples.append(f"{len(truth)} records written, {len(got)} read "
                               f"({left_over} left over after alignment)")
    for ti, gi in pairs:
        wrong = compare(case, truth[ti], got[gi])
        if not wrong:
            result.exact += 1
            continue
        result.reasons.update({what for what, _, _ in wrong})
        if len(result.examples) < 4:
            lines = [f"record {ti + 1} (line {got[gi].get('line')}):"]
            lines += [f"    {what}: expected {exp[:100]!r}\n    {' ' * len(what)}  got      "
                      f"{val[:100]!r}" for what, exp, val in wrong]
            result.examples.append("\n".join(lines))
    return result


# ---------------------------------------------------------------------------------------------
# The table.


def _cell(text: str, width: int) -> str:
    text = text.replace("\t", "\\t")
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("|", "\\|")


def print_table(results: list[Result], explain: bool, verbose: bool) -> None:
    head = ["case", "source", "template", "records", "exact %"]
    head += ["explain"] if explain else []
    head += ["wrong (checks failed)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" if h in ("records", "exact %") else "---" for h in head) + "|")
    for r in results:
        wrong = r.error or ", ".join(f"{k} {v}" for k, v in r.reasons.most_common(4))
        row = [r.case.name, _cell(r.case.source, 60), f"`{_cell(r.case.fmt, 56)}`",
               f"{r.expected}/{r.got}", f"{r.percent:.1f}"]
        row += [_cell(r.explain, 60)] if explain else []
        row += [_cell(wrong, 60)]
        print("| " + " | ".join(row) + " |")
    good = sum(1 for r in results if r.percent >= 98.0)
    mean = sum(r.percent for r in results) / len(results) if results else 0.0
    print(f"\n{good}/{len(results)} cases >= 98% exact; mean exact {mean:.1f}% "
          "(records: written/read by logview)")
    if verbose:
        for r in results:
            if r.exact == r.total and not r.explain_lines:
                continue
            print(f"\n### {r.case.name} ({r.percent:.1f}%)\n    first line: {r.first_line[:160]!r}")
            for i, line in enumerate(r.explain_lines):
                print(f"    {'--explain:' if i == 0 else '':10} {line}")
            for example in r.examples[:4]:
                print("  " + example)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="run the cases whose name contains SUBSTRING")
    parser.add_argument("--records", type=int, default=400, help="records per file (400)")
    parser.add_argument("--keep", metavar="DIR", help="write the files to DIR and keep them")
    parser.add_argument("-v", "--verbose", action="store_true", help="show mismatches")
    parser.add_argument("--forced", action="store_true",
                        help="give logview each case's template (--format/--datefmt): checks the "
                        "measurement and the parser, without inference")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    if not cases:
        parser.error(f"no case name contains {args.only!r}")
    os.environ["TZ"] = TZ  # inherited by the workers and by logview
    time.tzset()
    explain = "--explain" in _logview("--help").stdout
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        directory = str(Path(args.keep or tmp).resolve())  # logview runs in the repository
        Path(directory).mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(run_case, c.name, args.records, directory, explain, args.forced)
                       for c in cases]
            results = [f.result() for f in futures]
    print_table(results, explain, args.verbose)


if __name__ == "__main__":
    main()
