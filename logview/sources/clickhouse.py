"""A ClickHouse log table as a source: ``clickhouse://[user@]host[:port]/database[/table]``
(``clickhouses://`` or ``?secure=1`` for HTTPS), read through the official client
(``clickhouse-connect``, the optional extra ``logview-tui[clickhouse]``) over the HTTP interface.

Rows are fetched in keyset pages (``clickhouse_feed``) and written into a spool as JSON lines of
logview's own schema (``otel.row_object``), which the index, the query, the viewer and the
printer read like any other input. The query is pushed down (``clickhouse_pushdown``): with
``--print`` every matching row is read, oldest first; the viewer reads only the newest ``rows``
(50,000 by default) and asks again when its query changes (``narrow``, a new request into a new
spool: ``narrowing``), pages back before them (``page_back``) and has the server count the
whole table (``counts``, ``histogram_over``). Following polls every ``POLL_SECONDS`` with an
overlap window (``?overlap=SECONDS``); a failed poll is said once and retried, resuming from
the last row read.

The URL, the password and the column mappings: ``clickhouse_url``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from logview.query.plan import Query
from logview.sources.base import SourceError
from logview.sources.clickhouse_counts import (
    TableCounts,
    histogram,
    level_and_logger_counts,
    time_span,
)
from logview.sources.clickhouse_feed import Client, RowFeed
from logview.sources.clickhouse_pushdown import SqlPushDown, clickhouse_pushdown
from logview.sources.clickhouse_table import TableError, TableShape, mapped_shape, otel_shape
from logview.sources.clickhouse_url import Target, parse_target
from logview.sources.narrowing import RestartableSpoolSource, SpoolRun
from logview.sources.spool import InputSpool, stream_spool

#: Seconds between two polls when following.
POLL_SECONDS = 1.0
#: Seconds the connection and each request may take.
CONNECT_TIMEOUT = 10
REQUEST_TIMEOUT = 120
#: Bytes copied at a time when older rows are put in front of those loaded.
_COPY_CHUNK = 1 << 20
_INSTALL = "pip install 'logview-tui[clickhouse]'"
_OS_ERROR = re.compile(r"\[Errno -?\d+\] [^\"')]+|Read timed out[^\"')]*")
#: OpenSSL's words in a failed handshake (``[SSL: CERTIFICATE_VERIFY_FAILED] certificate
#: verify failed: self-signed certificate (_ssl.c:1006)``).
_TLS_ERROR = re.compile(r"\[SSL: (?P<code>[A-Z0-9_]+)\] (?P<text>[^\"'(]+)")


def connect(target: Target) -> Client:
    """A clickhouse-connect client for the target (HTTP or HTTPS), connected."""
    try:
        import clickhouse_connect
    except ImportError:
        raise SourceError(f"cannot read {target.name}: the ClickHouse client is not installed "
                          f"({_INSTALL})") from None
    # Its logger would print its own warnings on stderr (and over the viewer): logview says
    # what went wrong itself, from the exceptions.
    quiet = logging.getLogger("clickhouse_connect")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    try:
        return clickhouse_connect.get_client(
            host=target.host, port=target.port, username=target.user, password=target.password,
            secure=target.secure, ca_cert=target.ca, connect_timeout=CONNECT_TIMEOUT,
            send_receive_timeout=REQUEST_TIMEOUT, autogenerate_session_id=False)
    except client_errors() as exc:
        raise SourceError(f"cannot connect to {target.name}: {one_line(exc)}") from exc


def client_errors() -> tuple[type[BaseException], ...]:
    """What the client raises when the server or the network fails (not logview's bugs)."""
    try:
        from clickhouse_connect.driver.exceptions import ClickHouseError
    except ImportError:
        return (OSError,)
    return (ClickHouseError, OSError)


def one_line(exc: BaseException) -> str:
    """An error of the client or the server as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    tls = _TLS_ERROR.search(text)
    if tls is not None:
        words = tls["text"].strip().rstrip(".")
        if tls["code"] == "CERTIFICATE_VERIFY_FAILED":
            return (f"TLS {words} (give the CA that signed the server's certificate: "
                    "?ca=PATH, ca in clickhouse.toml, or SSL_CERT_FILE)")
        return f"TLS failed: {words}"
    refused = _OS_ERROR.search(text)  # the network's own words, not the HTTP library's story
    if refused is not None:
        return refused.group(0).rstrip(". ")
    return text if len(text) <= 300 else text[:299] + "…"


def table_shape(client: Client, target: Target) -> TableShape:
    """The table's shape: its columns, read from ``system.columns``."""
    try:
        result = client.query("SELECT name, type FROM system.columns WHERE database = "
                              "{lv_db:String} AND table = {lv_table:String}",
                              parameters={"lv_db": target.database, "lv_table": target.table})
    except client_errors() as exc:  # auth, network, a server error: one line
        raise SourceError(f"cannot read {target.name}: {one_line(exc)}") from exc
    columns = {str(name): str(kind) for name, kind in result.result_rows}
    if not columns:
        raise SourceError(f"cannot read {target.name}: no table {target.database}."
                          f"{target.table} (or no right to see it)")
    try:
        if target.mapping is not None:
            return mapped_shape(target.mapping, columns)
        return otel_shape(columns)
    except TableError as exc:
        raise SourceError(f"cannot read {target.name}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ClickHouseOptions:
    """How ``clickhouse://`` inputs are read: the query to push down (``None``: nothing; the
    viewer's newest rows of the whole table), whether a failure ends the input, and
    (for tests) the client to use instead of connecting, the environment and the config
    directory."""

    query: Query | None = None
    #: The viewer's newest window (of what ``query`` admits) even with a query.
    viewer: bool = False
    fatal_errors: bool = True
    #: False: connect and read the table's columns only (``--explain``).
    fetch: bool = True
    client: Callable[[Target], Client] | None = None
    environ: dict[str, str] | None = None
    config_dir: str | None = None


class ClickHouseSource(RestartableSpoolSource):
    """The rows of a ClickHouse table as logview JSON lines, fetched by a thread."""

    format_hint = "jsonl"
    #: What a request may raise (the server, the network): for callers of ``counts``.
    errors = staticmethod(client_errors)

    def __init__(self, spec: str, *, follow: bool, options: ClickHouseOptions | None = None,
                 spool: InputSpool | None = None) -> None:
        options = options or ClickHouseOptions()
        target = parse_target(spec, environ=options.environ, config_dir=options.config_dir)
        client = (options.client or connect)(target)
        self.target = target
        self.shape = table_shape(client, target)
        self.viewer = options.viewer or options.query is None
        self.pushdown: SqlPushDown | None = (
            None if options.query is None else clickhouse_pushdown(options.query, self.shape))
        self.feed = RowFeed(client, self.shape, target.database, target.table,
                            pushdown=self.pushdown, overlap=int(target.overlap * 1e9))
        self._fetch = options.fetch
        self.closed = False
        self.follow = follow
        self.fatal_errors = options.fatal_errors
        super().__init__(target.name, spool or stream_spool())
        self._pending: list[str] = list(target.warnings)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fetching = _Fetch(self.run)
        self._paging = threading.Lock()  # one restart at a time: a new query, a page back
        self._thread = self._start(self._fetching, self.feed)
        if not options.fetch:
            self.finish()

    def _start(self, fetch: _Fetch, feed: RowFeed) -> threading.Thread | None:
        """A thread that fetches ``feed``'s rows into ``fetch`` (None: --explain, no rows)."""
        if self._stop.is_set() or not self._fetch:
            return None
        thread = threading.Thread(target=self._run, args=(fetch, feed),
                                  name=f"logview-{self.target.name}", daemon=True)
        thread.start()
        return thread

    def _say(self, fetch: _Fetch, text: str) -> None:
        """A notice from the fetching thread, handed over at the next ``update`` (none from a
        request that was superseded)."""
        with self._lock:
            if not fetch.stopped:
                self._pending.append(text)

    @staticmethod
    def _write(fetch: _Fetch, rows: list[dict[str, Any]]) -> bool:
        if not rows:
            return not fetch.stopped
        return fetch.write(_json_lines(rows))

    def _run(self, fetch: _Fetch, feed: RowFeed) -> None:
        error = None
        try:
            if self._read_history(fetch, feed) and self.follow:
                self._poll(fetch, feed)
        except client_errors() as exc:  # the client's errors end the input, in one line
            error = f"{self.name}: {one_line(exc)}"
        except Exception as exc:  # noqa: BLE001 - anything else must end the input too (said):
            # a reader thread that died silently would leave --print waiting for good
            error = f"{self.name}: {type(exc).__name__}: {one_line(exc)}"
        fetch.finish(error)

    def _read_history(self, fetch: _Fetch, feed: RowFeed) -> bool:
        """What is there now: every matching row (--print), or the newest ``rows`` (the
        viewer). False when reading must stop (closed, superseded, or the spool takes no
        more)."""
        if self.viewer:
            total = feed.count()
            rows = feed.newest(self.target.rows)
            if total > len(rows):
                what = "matching rows" if feed.pushed else "rows"
                self._say(fetch, f"showing the newest {len(rows):,} of {total:,} {what}: older "
                          "rows are not loaded (a query is asked of the server)")
            return self._write(fetch, rows) and not self._stop.is_set()
        for page in feed.pages():
            if not self._write(fetch, page) or self._stop.is_set():
                return False
        return True

    def narrow(self, query: Query | None) -> str | None:
        """The viewer's query changed: the newest window of the rows its push-down admits,
        fetched by a new thread into a new run (the request in flight is abandoned: its rows
        go nowhere); None when the push-down is the one in use."""
        pushdown = None if query is None or query.is_empty else clickhouse_pushdown(
            query, self.shape)
        with self._paging:
            if _same(pushdown, self.pushdown):
                return None
            self.pushdown = pushdown
            feed = RowFeed(self.feed.client, self.shape, self.target.database,
                           self.target.table, pushdown=pushdown,
                           overlap=int(self.target.overlap * 1e9))
            self.feed = feed
            self._fetching.cancelled.set()
            self._fetching = _Fetch(self.start_run(stream_spool()))
            self._thread = self._start(self._fetching, feed)
        pushed = ", ".join(text for text, _sql in pushdown.pushed) if pushdown else ""
        local = ("; only here: " + ", ".join(pushdown.remaining)
                 if pushdown is not None and pushdown.local else "")
        return f"ClickHouse asked again for the newest rows of {pushed or 'the whole table'}{local}"

    def page_back(self, limit: int) -> int:
        """The ``limit`` rows before the oldest one loaded (keyset, ``RowFeed.older``, of the
        query pushed down), put in front of those loaded; returns how many (0: none older).

        The spool is append-only, so the space restarts (``start_run``) on a new spool that
        holds them and then a copy of the old one, and the fetching thread writes on into it:
        the switch happens under its write lock, so no row is lost or doubled between the copy
        and the switch. ``shifts`` tells a viewer how far its records moved. Blocking: call
        it off the UI."""
        feed = self.feed
        if not self.viewer:
            return 0
        rows = feed.older(limit)  # (not under the lock: a new query need not wait for it)
        if not rows:
            return 0
        with self._paging:
            fetch = self._fetching
            if feed is not self.feed or self.closed:  # a new query came meanwhile
                return 0
            with fetch.lock:
                old = fetch.run
                if fetch.stopped or old.spool.first_kept() > 0:
                    return 0  # superseded, or bytes dropped by the cap: nothing to copy whole
                spool = stream_spool()
                spool.append(_json_lines(rows))
                size, offset = old.spool.size(), 0
                while offset < size:
                    chunk = old.spool.read_at(offset, min(_COPY_CHUNK, size - offset))
                    if not chunk or not spool.append(chunk):
                        spool.close()
                        return 0
                    offset += len(chunk)
                run = self.start_run(spool, shift=len(rows))
                if old.eof:
                    run.finish(old.error)
                fetch.run = run
        return len(rows)

    def _poll(self, fetch: _Fetch, feed: RowFeed) -> None:
        """Follow: late rows of the overlap window, then the new ones, every poll; a failed
        poll is said once and retried from the same key."""
        failing = False
        while not fetch.cancelled.wait(POLL_SECONDS) and not self._stop.is_set():
            try:
                if not self._write(fetch, feed.late()):
                    return
                for page in feed.pages():
                    if not self._write(fetch, page) or self._stop.is_set():
                        return
            except client_errors() as exc:  # a dropped connection: retried at the next poll
                if not failing:
                    self._say(fetch, f"lost the connection ({one_line(exc)}); retrying every "
                              f"{POLL_SECONDS:g} s, from the last row read")
                failing = True
                continue
            if failing:
                self._say(fetch, "connection back: reading on from the last row read")
                failing = False

    def counts(self, query: Query) -> TableCounts | None:
        """The level and logger counts of the rows of the whole table ``query`` matches,
        computed by the server; None when part of the query is only filtered locally (the
        server's counts would be those of a wider set). For the viewer's level bar and tree."""
        feed = self._query_feed(query)
        return None if feed is None else level_and_logger_counts(feed)

    def histogram(self, query: Query, seconds: int) -> list[tuple[int, int, int]] | None:
        """Rows per ``seconds``-wide time bucket and level bucket of the whole table that
        ``query`` matches (``clickhouse_counts.histogram``); None as for ``counts``."""
        feed = self._query_feed(query)
        return None if feed is None else histogram(feed, seconds)

    def histogram_over(self, query: Query,
                       buckets: int = 240) -> list[tuple[int, int, int]] | None:
        """``histogram`` with buckets as wide as it takes for the rows ``query`` matches to
        span about ``buckets`` of them (a whole second at least)."""
        feed = self._query_feed(query)
        if feed is None:
            return None
        span = time_span(feed)
        if span is None:
            return []
        seconds = max(1, -(-(span[1] - span[0]) // (buckets * 1_000_000_000)))
        return histogram(feed, seconds)

    def older(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` rows before the viewer's window (logview JSON objects, oldest first),
        for paging back; the spool holds only the window and what came after it."""
        return self.feed.older(limit)

    def _query_feed(self, query: Query) -> RowFeed | None:
        pushdown = clickhouse_pushdown(query, self.shape)
        if pushdown.local:
            return None
        return RowFeed(self.feed.client, self.shape, self.target.database, self.target.table,
                       pushdown=pushdown)

    def update(self) -> int:
        added = super().update()
        with self._lock:
            pending, self._pending = self._pending, []
        for text in pending:
            self.note(text)
        self.tell_error(self.fatal_errors)
        return added

    def close(self) -> None:
        self.closed = True
        self._stop.set()
        self._fetching.cancelled.set()
        self.spool.interrupt()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(2.0)  # a request in flight is not waited for (a daemon)
        super().close()


class _Fetch:
    """Where a fetching thread writes: its request's run, which paging back replaces by one
    with older rows in front (under ``lock``: no row is written between copy and switch);
    ``cancelled`` once a new query (or the end) made the request void."""

    def __init__(self, run: SpoolRun) -> None:
        self.run = run
        self.lock = threading.Lock()
        self.cancelled = threading.Event()

    @property
    def stopped(self) -> bool:
        return self.cancelled.is_set()

    def write(self, data: bytes) -> bool:
        with self.lock:
            return self.run.append(data)

    def finish(self, error: str | None) -> None:
        with self.lock:
            self.run.finish(error)


def _json_lines(rows: list[dict[str, Any]]) -> bytes:
    """Rows as logview JSON lines."""
    return b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE
                                 | orjson.OPT_NON_STR_KEYS) for row in rows)


def _same(one: SqlPushDown | None, other: SqlPushDown | None) -> bool:
    """Whether two push-downs ask the server the same (None: everything)."""
    def key(pushdown: SqlPushDown | None) -> tuple[str, list[tuple[str, str]]]:
        if pushdown is None or not pushdown.pushed:
            return "1", []
        return pushdown.where(), sorted((k, repr(v)) for k, v in pushdown.params.items())
    return key(one) == key(other)
