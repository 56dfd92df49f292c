"""The built-in demo: a realistic live log stream made in-process by real ``logging`` calls.

An imaginary shop service logs through a logger hierarchy at every level, with request
extras, slow queries, retries and real tracebacks (chained, ``raise ... from``, exception
groups), formatted as JSON lines by a small stdlib ``Formatter``. Nothing to install.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from logview.sources.base import MemorySource

#: LogRecord attributes that are not "extra" fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class DemoJsonFormatter(logging.Formatter):
    """Formats a LogRecord as one JSON object, python-json-logger style."""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "levelname": record.levelname,
            "name": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                obj[key] = value
        if record.exc_info:
            obj["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(obj, default=str).decode()


class _SourceHandler(logging.Handler):
    """Appends each formatted record as a line to a MemorySource."""

    def __init__(self, source: MemorySource) -> None:
        super().__init__()
        self.source = source

    def emit(self, record: logging.LogRecord) -> None:
        self.source.append(self.format(record).encode() + b"\n")


class PaymentDeclined(Exception):
    """A business error the demo raises."""


def _nested_failure() -> None:
    try:
        {}["card_token"]
    except KeyError as exc:
        raise PaymentDeclined("card token missing for order") from exc


def _db_failure() -> None:
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError:
        raise TimeoutError("pool exhausted after 3 retries")


def _group_failure() -> None:
    raise ExceptionGroup(
        "2 notification jobs failed",
        [ValueError("invalid e-mail address 'bob@'"), TimeoutError("smtp timeout")],
    )


class DemoStream:
    """Generates demo records into ``source``; ``run`` for live output, ``burst`` for a batch."""

    def __init__(self, source: MemorySource, *, seed: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.rng = random.Random(seed)
        self._clock = clock
        self._stop = threading.Event()
        self._now = clock()
        self.root = logging.Logger("shop")  # noqa: LOG001 - private tree, never the root logger
        handler = _SourceHandler(source)
        handler.setFormatter(DemoJsonFormatter())
        self.root.addHandler(handler)
        self.root.setLevel(logging.DEBUG)
        self._loggers: dict[str, logging.Logger] = {}
        self._request = 1000

    def logger(self, name: str) -> logging.Logger:
        """A child of the demo's private ``shop`` logger (``shop.api.orders``...)."""
        log = self._loggers.get(name)
        if log is None:
            log = logging.Logger(f"shop.{name}")  # noqa: LOG001 - private, not in the global registry
            log.parent = self.root
            log.setLevel(logging.DEBUG)
            self._loggers[name] = log
        return log

    def _emit(self, name: str, level: int, msg: str, *args: object, exc: bool = False,
              **extra: object) -> None:
        log = self.logger(name)
        record = log.makeRecord(log.name, level, "demo.py", 0, msg, args,
                                None, extra=extra or None)
        record.created = self._now
        record.msecs = (self._now % 1) * 1000
        self._now += self.rng.uniform(0.0005, 0.02)
        if exc:
            import sys

            record.exc_info = sys.exc_info()
        log.handle(record)

    def step(self) -> None:
        """Log one small scene: a request with its queries, and now and then trouble."""
        r = self.rng
        self._request += 1
        rid = f"req-{self._request:06d}"
        path = r.choice(["/api/orders", "/api/cart", "/api/users/me", "/health", "/api/pay"])
        self._emit("api.http", logging.DEBUG, "request started %s %s", "GET", path,
                   request_id=rid, client_ip=f"10.0.{r.randint(0, 9)}.{r.randint(1, 250)}")
        ms = round(r.lognormvariate(2.5, 0.8), 1)
        if ms > 60:
            self._emit("db.pool", logging.WARNING, "slow query took %.1f ms", ms,
                       request_id=rid, query="SELECT * FROM orders WHERE user_id = $1",
                       duration_ms=ms)
        else:
            self._emit("db.pool", logging.DEBUG, "query ok in %.1f ms", ms, duration_ms=ms)
        roll = r.random()
        status = 200
        if roll < 0.03:
            status = 500
            try:
                _nested_failure()
            except PaymentDeclined:
                self._emit("api.payments", logging.ERROR, "payment failed for %s", rid,
                           exc=True, request_id=rid, user={"id": r.randint(1, 999),
                                                           "plan": r.choice(["free", "pro"])})
        elif roll < 0.05:
            status = 503
            try:
                _db_failure()
            except TimeoutError:
                self._emit("db.pool", logging.CRITICAL, "database unavailable", exc=True,
                           request_id=rid, pool={"size": 10, "in_use": 10})
        elif roll < 0.06:
            try:
                _group_failure()
            except ExceptionGroup:
                self._emit("worker.email", logging.ERROR, "notification batch failed",
                           exc=True, batch=r.randint(1, 500))
        elif roll < 0.12:
            self._emit("auth", logging.WARNING, "invalid token for user %d", r.randint(1, 999),
                       request_id=rid, reason=r.choice(["expired", "bad signature"]))
        elif roll < 0.14:
            self._emit("worker.email", logging.INFO, "sent %d e-mails\nqueue: %d left",
                       r.randint(1, 40), r.randint(0, 9))
        self._emit("api.http", logging.INFO, '%s %s -> %d', "GET", path, status,
                   request_id=rid, status=status, duration_ms=ms)
        self._now += r.expovariate(8.0)

    def burst(self, count: int) -> None:
        """Log ``count`` scenes at once, with times running up to now (for ``--print``)."""
        self._now = self._clock() - count * 0.15
        for _ in range(count):
            self.step()

    def run(self, rate: float = 6.0) -> None:
        """Log scenes live at about ``rate`` per second until ``stop``."""
        self.burst(40)
        while not self._stop.wait(self.rng.expovariate(rate)):
            self._now = self._clock()
            self.step()

    def stop(self) -> None:
        self._stop.set()


def demo_source(*, live: bool, scenes: int = 120, seed: int | None = None) -> MemorySource:
    """A source of demo JSON lines: a finished batch, or a live stream fed by a daemon thread."""
    source = MemorySource("demo")
    source.format_hint = "jsonl"
    stream = DemoStream(source, seed=seed)
    if live:
        thread = threading.Thread(target=stream.run, name="logview-demo", daemon=True)
        thread.start()
    else:
        stream.burst(scenes)
        source.finish()
    return source
