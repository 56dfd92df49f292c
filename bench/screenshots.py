"""Write screenshots of logview (SVG) from a realistic generated log, headless.

    .venv/bin/python bench/screenshots.py [--out screenshots] [--keep-log]

The log is written by the standard ``logging`` module with the classic dash template
(``%(asctime)s - %(name)s - %(levelname)s - %(message)s``), with fixed timestamps and a
seeded random generator so the screenshots are reproducible: requests, database and worker
loggers, JSON extras in messages, chained tracebacks (``raise ... from``, "During handling")
and an exception group. Scenes: main view on a traceback record, the detail view, the logger
tree (with its counts), a histogram bucket picked, two merged files (source column), 80x24,
an applied query, a find (`/`, hits counted), the errors expanded in place (`z`), the filter
list with marks and the time since the previous record (`F`, `m`, `T`), the help screen, and
the light theme.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
START = 1_714_564_800.0  # 2024-05-01 12:00:00 UTC
SIZE = (132, 38)
QUERY = "level>=WARNING logger:app.db"


class FixedClock(logging.Filter):
    """Stamps records with a made-up, steadily advancing time (reproducible output)."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.now = start

    def filter(self, record: logging.LogRecord) -> bool:
        record.created = self.now
        record.msecs = (self.now % 1) * 1000
        return True


def _db_failure() -> None:
    try:
        {"primary": "db-1"}["replica"]
    except KeyError as exc:
        raise ConnectionError("no replica available for read query") from exc


def _auth_failure(token: str) -> None:
    try:
        int(token)
    except ValueError:
        raise PermissionError(f"token {token!r} rejected by auth backend") from None


def _job_failure() -> None:
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        raise RuntimeError("job 'nightly-report' failed while computing ratios")  # implicit chain: "During handling..."


def _group_failure() -> None:
    raise ExceptionGroup("2 mail deliveries failed", [
        TimeoutError("smtp.example.com:587 timed out after 10s"),
        ConnectionRefusedError("mx2.example.com:25 refused the connection"),
    ])


def write_log(path: Path, count: int = 600, seed: int = 42) -> dict[str, int]:
    """Write the demo log; return how many records match ``QUERY`` and how many there are."""
    rng = random.Random(seed)
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter(TEMPLATE)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    clock = FixedClock(START)
    handler.addFilter(clock)
    names = ["app", "app.web", "app.web.auth", "app.db", "app.db.pool", "app.cache",
             "worker.jobs", "worker.mail", "urllib3.connectionpool"]
    loggers = {}
    for name in names:
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.DEBUG)
        log.propagate = False
        loggers[name] = log
    matches = 0
    paths = ["/api/orders", "/api/users/me", "/api/cart", "/healthz", "/api/search"]
    failures: list[tuple[str, Callable[[], None], str]] = [
        ("app.db", _db_failure, "read query failed, falling back to primary"),
        ("app.web.auth", lambda: _auth_failure("abc-123"), "login failed"),
        ("worker.jobs", _job_failure, "scheduled job crashed"),
        ("worker.mail", _group_failure, "newsletter batch incomplete"),
    ]
    for i in range(count):
        clock.now += rng.expovariate(1.5)
        roll = rng.random()
        if i % 97 == 60 or i == count - 25:
            which = 0 if i == count - 25 else (i // 97) % len(failures)
            name, fail, message = failures[which]
            try:
                fail()
            except (OSError, RuntimeError, ExceptionGroup):  # the generated failures
                loggers[name].exception(message)
            matches += name.startswith("app.db")
            continue
        if roll < 0.45:
            path = rng.choice(paths)
            status = rng.choices([200, 201, 304, 404, 500], [70, 8, 10, 8, 4])[0]
            ms = int(rng.lognormvariate(3.2, 0.8))
            extra = {"method": "GET", "path": path, "status": status, "ms": ms,
                     "user": rng.choice(["alice", "bob", "carol", None])}
            level = logging.ERROR if status >= 500 else logging.INFO
            loggers["app.web"].log(level, "request done %s", json.dumps(extra))
        elif roll < 0.65:
            ms = rng.lognormvariate(2.5, 1.1)
            table = rng.choice(["orders", "users", "carts", "inventory"])
            if ms > 120:
                loggers["app.db"].warning("slow query on %s took %.0f ms (rows=%d)", table, ms,
                                          rng.randint(1, 50_000))
                matches += 1
            else:
                loggers["app.db"].debug("SELECT * FROM %s WHERE id = $1 (%.1f ms)", table, ms)
        elif roll < 0.72:
            in_use = rng.randint(1, 20)
            if in_use > 17:
                loggers["app.db.pool"].warning("connection pool nearly exhausted: %d/20 in use",
                                               in_use)
                matches += 1
            else:
                loggers["app.db.pool"].debug("checked out connection (%d/20 in use)", in_use)
        elif roll < 0.82:
            key = f"user:{rng.randint(1, 500)}"
            loggers["app.cache"].debug("cache %s key=%s", rng.choice(["hit", "miss"]), key)
        elif roll < 0.90:
            job = rng.choice(["resize-images", "sync-inventory", "nightly-report"])
            loggers["worker.jobs"].info("job %s finished in %.2fs %s", job,
                                        rng.uniform(0.1, 30),
                                        json.dumps({"job": job, "attempt": rng.randint(1, 3)}))
        elif roll < 0.95:
            loggers["app.web.auth"].info("user %s logged in from %s",
                                         rng.choice(["alice", "bob", "carol"]),
                                         f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}")
        elif roll < 0.98:
            loggers["urllib3.connectionpool"].warning(
                "Retrying (Retry(total=2, connect=None)) after connection broken: "
                "'ReadTimeoutError(\"HTTPSConnectionPool(host='payments.example.com', "
                "port=443): Read timed out. (read timeout=5)\")'")
        else:
            loggers["app"].critical("disk usage at %d%% on /var/lib/app", rng.randint(95, 99))
    handler.close()
    for log in loggers.values():
        log.handlers[:] = []
    return {"records": count, "query_matches": matches}


def open_log(path: Path):
    """A store over the generated file, with the dash template as its format."""
    from logview.formats.template import TemplateFormat
    from logview.sources.base import StaticFileSource

    try:
        from logview.store import open_store
    except ImportError:  # older store API
        from logview.store import LogStore

        return LogStore(StaticFileSource(str(path), name=path.name), TemplateFormat(TEMPLATE))
    return open_store(StaticFileSource(str(path), name=path.name), TemplateFormat(TEMPLATE))


async def _until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (fails loudly after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshot scene not ready within {timeout} s")
        await pilot.pause(0.05)
    await pilot.pause()


async def _to_traceback(pilot, app, store) -> None:
    """From the newest record, step back over errors (E) to the last one with a traceback."""
    from logview.tui.widgets.record_list import RecordList

    await pilot.press("G")
    records = app.screen.query_one(RecordList)
    for _ in range(100):
        await pilot.press("E")
        await pilot.pause()
        position = records.cursor_position
        if position is not None and store.record(position).exc:
            return
    raise RuntimeError("no record with a traceback found for the main screenshot")


def _rows(app) -> int:
    from logview.tui.widgets.record_list import RecordList

    lists = app.screen.query(RecordList)
    return lists.first().row_count if lists else -1


def _tree_total(app) -> int:
    from logview.tui.widgets.logger_tree import LoggerTree

    trees = app.screen.query(LoggerTree)
    return trees.first().total if trees else -1


async def shoot(log: Path, out: Path, expected: dict[str, int]) -> list[Path]:
    """Run the app headless through each scene and save an SVG of it."""
    from logview.tui.app import LogviewApp
    from logview.tui.widgets.detail import DetailScreen

    written: list[Path] = []

    def save(app, name: str) -> None:
        written.append(Path(app.save_screenshot(f"{name}.svg", str(out))))

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await _to_traceback(pilot, app, store)
        save(app, "main")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, DetailScreen))
        save(app, "detail")
        await pilot.press("escape")
        await pilot.press("t")
        await _until(pilot, lambda: _tree_total(app) == expected["records"])
        save(app, "logger_tree")
        await pilot.press("t", "question_mark")
        await pilot.pause()
        save(app, "help")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:  # a time bucket picked in the histogram
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await pilot.press("tab", "tab")  # records -> histogram
        await pilot.press("end", *["left"] * 12, "enter")
        await pilot.pause()
        save(app, "histogram")
    store.close()

    other = log.with_name("worker.log")
    write_log(other, count=200, seed=7)
    stores = [open_log(log), open_log(other)]
    from logview.store import MergedStore

    merged = MergedStore(stores)
    app = LogviewApp(merged, title="logview app.log worker.log")
    async with app.run_test(size=SIZE) as pilot:  # two files: a source column
        await _until(pilot, lambda: _rows(app) == expected["records"] + 200)
        await pilot.press("home", *["down"] * 6)  # the start, where both files interleave
        await pilot.pause(0.3)
        save(app, "merged")
    merged.close()

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=(80, 24)) as pilot:  # the smallest usual terminal
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await _to_traceback(pilot, app, store)
        save(app, "small_80x24")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, query=QUERY, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: _rows(app) == expected["query_matches"])
        save(app, "query")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:  # a find: every record shown, hits counted
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await pilot.press("home", "slash", *"failed", "enter")
        await _until(pilot, lambda: " of " in app.screen.find_status()
                     and "…" not in app.screen.find_status())
        await pilot.press("n")
        await pilot.pause(0.3)
        save(app, "find")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:  # errors, every record expanded in place
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await pilot.press("4")
        await _until(pilot, lambda: app.screen.records.positions is not None
                     and app.screen._filter_progress is None and _rows(app) > 0)
        await pilot.press("z", "home")
        await pilot.pause(0.3)
        save(app, "expanded")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, query="level>=WARNING -logger:urllib3 /disk|failed/",
                     title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:  # the filter list, marks, elapsed time
        await _until(pilot, lambda: app.screen.records.positions is not None
                     and app.screen._filter_progress is None and _rows(app) > 4)
        await pilot.press("home", "down", "m", "down", "down", "m", "T", "F")
        await pilot.pause(0.3)
        save(app, "filters_marks")
    store.close()

    store = open_log(log)
    app = LogviewApp(store, title="logview app.log")
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await _until(pilot, lambda: _rows(app) == expected["records"])
        await _to_traceback(pilot, app, store)
        save(app, "light")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, DetailScreen))
        save(app, "light_detail")
    store.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="directory for SVGs")
    parser.add_argument("--keep-log", action="store_true", help="print and keep the log path")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="logview-shots-") as tmp:
        log = Path(tmp) / "app.log"
        expected = write_log(log)
        if args.keep_log:
            kept = out / "app.log"
            kept.write_bytes(log.read_bytes())
            print(f"log: {kept}")
        written = asyncio.run(shoot(log, out, expected))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
