"""Writing one case of ``bench_formats.py`` with the real ``logging`` module: the records, a
second handler keeping the ground truth, a fake clock that crosses a new year."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench_formats import Case

TZ = "CET-1CEST,M3.5.0,M10.5.0/3"  # POSIX rule: needs no tz database
START = datetime(2023, 12, 29, 20, 15, 7)  # local wall time; the file crosses a new year
SEED = 20240102
TRACE, SUCCESS = 5, 25
logging.addLevelName(TRACE, "TRACE")
logging.addLevelName(SUCCESS, "SUCCESS")
LOGGERS = {"app": 25, "app.db": 25, "app.web.views": 25, "urllib3.connectionpool": 15,
           "__main__": 10}
# Where each logger "calls from": %(filename)s, %(module)s, %(funcName)s and %(lineno)d vary
# like a real program's instead of all naming this script.
CALLSITES = {
    "app": ("app/__init__.py", "main", 42),
    "app.db": ("app/db/session.py", "execute", 214),
    "app.web.views": ("app/web/views.py", "order_detail", 88),
    "urllib3.connectionpool": ("urllib3/connectionpool.py", "_make_request", 546),
    "__main__": ("manage.py", "<module>", 17),
}


class UpstreamError(Exception):
    """A project exception, so tracebacks name a class of the program's own."""


def _lookup(key: str) -> int:
    return {"alpha": 1}[key]


def _parse_timeout(raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise UpstreamError(f"bad timeout {raw!r}: expected seconds - got text") from exc


def _rebuild_cache() -> None:
    try:
        _lookup("missing-key")
    except KeyError:
        raise RuntimeError("cache rebuild failed | ERROR state [x]")  # implicitly chained


def _fail(rng: random.Random) -> None:
    kind = rng.randrange(5)
    if kind == 0:
        _lookup(f"user:{rng.randint(1, 999)}")
    elif kind == 1:
        _parse_timeout("thirty")
    elif kind == 2:
        _rebuild_cache()
    elif kind == 3:
        raise ValueError("two-line reason:\nthe second line of the reason")
    raise ExceptionGroup("2 tasks failed", [ValueError("bad row"), KeyError("tenant")])


MESSAGES = [  # (weight, template, its arguments from a random number n and the generator)
    (40, "GET /api/v1/items/%d -> %d in %.1f ms",
     lambda n, r: (n, r.choice([200, 201, 304, 404]), r.uniform(0.2, 900))),
    (8, "cache miss - key=user:%d | shard [x] ratio: 0.%02d", lambda n, r: (n, n % 100)),
    (7, "upstream replied ERROR 503; WARNING: retry %d/5 in %ds", lambda n, r: (n % 5, n % 30)),
    (7, "utilisateur «%s» connecté — café ☕ 日本語 🚀 Привет", lambda n, r: (r.choice(["zoë", "李"]),)),
    (7, "query plan:\n  Seq Scan on orders  (cost=0.00..%d.00 rows=%d)\n    Filter: (id > 10)",
     lambda n, r: (n, n % 700)),
    (6, 'payload:\n{\n  "id": %d,\n  "tags": ["a - b", "c | d"],\n  "note": "x: y"\n}',
     lambda n, r: (n,)),
    (5, "[worker-%d] job %s done: %d rows", lambda n, r: (n % 8, f"{n:08x}", n % 1000)),
    (5, "user %(user)s logged in from %(ip)s",
     lambda n, r: ({"user": "ana", "ip": f"10.0.{n % 255}.7"},)),
    (4, "columns:\tid\tname\tstatus - %d", lambda n, r: (n,)),
    (4, "report ready\nDetails: %d errors, %d warnings\nsee /var/log/app/r-%d.txt\n",
     lambda n, r: (n % 9, n % 4, n)),
    (2, "long value: %s", lambda n, r: ("x" * r.randint(500, 3000),)),
    (5, "shutting down worker %d (signal %s)", lambda n, r: (n % 8, r.choice(["TERM", "INT"]))),
]


def _message(rng: random.Random) -> tuple[str, tuple[Any, ...]]:
    """A message template and its arguments, from ordinary to hostile."""
    _, template, arguments = rng.choices(MESSAGES, [m[0] for m in MESSAGES])[0]
    return template, arguments(rng.randint(1, 99999), rng)


@dataclass
class Truth:
    """What one record really was."""

    level: str
    logger: str
    message: str
    created: float
    tails: list[str]  # last line of the formatted exception and of the stack, when present


class TruthHandler(logging.Handler):
    """Keeps, for every record, what logview should find in the file."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(level=1)
        self.fmt = formatter
        self.rows: list[Truth] = []

    def emit(self, record: logging.LogRecord) -> None:
        tails = []
        if record.exc_info:
            tails.append(self.fmt.formatException(record.exc_info).rstrip().splitlines()[-1])
        if record.stack_info:
            tails.append(self.fmt.formatStack(record.stack_info).rstrip().splitlines()[-1])
        self.rows.append(Truth(record.levelname, record.name, record.getMessage(),
                               record.created, tails))


class FakeClock(logging.Filter):
    """Gives each record a time from a clock that jumps realistically; sets the case's extras."""

    def __init__(self, rng: random.Random, case: Case) -> None:
        super().__init__()
        self.rng, self.case = rng, case
        self.start_ms = self.now_ms = int(START.timestamp() * 1000)

    def filter(self, record: logging.LogRecord) -> bool:
        # Mostly a few records a second; now and then minutes, hours or days pass.
        jump = self.rng.choices([2_500, 900_000, 172_800_000], [85, 12, 3])[0]
        self.now_ms += self.rng.randint(0, jump)
        record.created = self.now_ms / 1000
        record.msecs = float(self.now_ms % 1000)
        record.relativeCreated = float(self.now_ms - self.start_ms)
        path, func, line = CALLSITES[record.name]
        record.pathname, record.filename = path, path.rsplit("/", 1)[-1]
        record.module, record.funcName = record.filename[:-3], func
        record.lineno = line + self.rng.randrange(40)
        for key, choices in self.case.extra.items():
            value = choices(record, self.rng) if callable(choices) else self.rng.choice(choices)
            setattr(record, key, value)
        if self.case.level_names:
            record.levelname = self.case.level_names.get(record.levelno, record.levelname)
        return True


def write_case(case: Case, path: Path, count: int) -> list[Truth]:
    """Write ``count`` records of ``case`` to ``path``; the ground truth of each, in order."""
    rng = random.Random(f"{SEED}:{case.name}")
    formatter = logging.Formatter(case.fmt, case.datefmt, case.style, defaults=case.defaults)
    if case.utc:
        formatter.converter = time.gmtime
    file_handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    file_handler.setFormatter(formatter)
    truth = TruthHandler(formatter)
    root, clock = logging.getLogger(), FakeClock(rng, case)
    root.setLevel(1)
    for handler in (file_handler, truth):
        root.addHandler(handler)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    weights = list(LOGGERS.values())
    for log in loggers:  # a logger's filters see the records logged through it
        log.addFilter(clock)
    levels = [10, 20, 30, 40, 50] + ([TRACE, SUCCESS] if case.custom_levels else [])
    level_weights = [30, 45, 12, 9, 2] + ([4, 3] if case.custom_levels else [])
    try:
        for _ in range(count):
            log = rng.choices(loggers, weights)[0]
            level = rng.choices(levels, level_weights)[0]
            msg, args = _message(rng)
            if level >= 40 and rng.random() < 0.4:
                try:
                    _fail(rng)
                except Exception:
                    if level == 40:
                        log.exception(msg, *args, stack_info=rng.random() < 0.1)
                    else:
                        log.log(level, msg, *args, exc_info=True)
            else:
                log.log(level, msg, *args, stack_info=rng.random() < 0.015)
    finally:
        for log in loggers:
            log.removeFilter(clock)
        for handler in (file_handler, truth):
            root.removeHandler(handler)
        file_handler.close()
    return truth.rows
