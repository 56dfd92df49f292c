"""The real ClickHouse engine for the tests: chDB (ClickHouse in-process), through the same
clickhouse-connect client logview uses (chDB is one of its transports), an ``otel_logs`` table
made with the exact DDL of the OpenTelemetry collector's ClickHouse exporter, filled with rows
made by the OTel Python SDK's real ``LoggingHandler`` (mapped to columns as the exporter maps
them), and a small server of ClickHouse's HTTP interface over chDB for end-to-end runs of
``python -m logview clickhouse://...``. Tests that need chDB are marked ``needs_chdb``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    import chdb  # noqa: F401
    import clickhouse_connect
except ImportError:  # pragma: no cover - the tests that need them skip
    clickhouse_connect = None

needs_chdb = pytest.mark.skipif(clickhouse_connect is None,
                                reason="needs chdb and clickhouse-connect (pip install chdb "
                                       "clickhouse-connect)")

#: The exporter's ``otel_logs`` DDL (exporter/clickhouseexporter, logs_table.sql), engine and
#: TTL filled in as its defaults leave them.
OTEL_DDL = """CREATE TABLE IF NOT EXISTS {db}.otel_logs (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),

    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
    ) ENGINE = MergeTree()
    PARTITION BY toDate(TimestampTime)
    PRIMARY KEY (ServiceName, TimestampTime)
    ORDER BY (ServiceName, TimestampTime, Timestamp)
    SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""

#: The exporter's insert columns, in its order.
INSERT_COLUMNS = ["Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText",
                  "SeverityNumber", "ServiceName", "Body", "ResourceSchemaUrl",
                  "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion",
                  "ScopeAttributes", "LogAttributes"]

#: The columns of ``insert``'s JSON rows (the time in epoch nanoseconds).
_STRUCTURE = ("lv_ns Int64, TraceId String, SpanId String, TraceFlags UInt8, SeverityText String, "
              "SeverityNumber UInt8, ServiceName String, Body String, ResourceSchemaUrl String, "
              "ResourceAttributes Map(String, String), ScopeSchemaUrl String, ScopeName String, "
              "ScopeVersion String, ScopeAttributes Map(String, String), "
              "LogAttributes Map(String, String)")

T0 = 1704164645_123456789  # 2024-01-02 03:04:05.123456789 UTC, in nanoseconds
SECOND = 1_000_000_000

_client = None
_lock = threading.RLock()


def engine():
    """The one in-process chDB client of the test session (chDB holds one engine a process)."""
    global _client
    with _lock:
        if _client is None:
            _client = clickhouse_connect.get_client(dsn="chdb://memory")
        return _client


def raw_connection():
    """chDB's own connection under the client: it takes bound values as ClickHouse's HTTP
    interface receives them (the client's ``raw_query`` would escape them once more)."""
    client = engine()
    backend = getattr(client, "_backend", None)  # clickhouse-connect's chDB transport
    handle = getattr(backend, "_handle", None)
    connection = getattr(handle, "conn", None) or getattr(client, "_conn", None)
    if connection is None:
        pytest.skip("this clickhouse-connect keeps chDB's connection elsewhere")
    return connection


def make_table(database: str) -> None:
    client = engine()
    client.command(f"DROP DATABASE IF EXISTS {database}")
    client.command(f"CREATE DATABASE {database}")
    client.command(OTEL_DDL.format(db=database))


def as_string(value: Any) -> str:
    """An attribute value as the exporter writes it (pcommon ``Value.AsString``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return json.dumps(value, separators=(",", ":"))


def sdk_rows(emit, *, service: str = "shop", host: str = "web1",
             times: Iterator[int] | None = None) -> list[list[Any]]:
    """Rows for ``otel_logs`` of what ``emit(logging)`` logs through the OTel SDK's real
    ``LoggingHandler`` (in-memory exporter), mapped to columns as the collector's exporter
    does. ``times`` gives each record's Timestamp in nanoseconds (else the SDK's)."""
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )
    from opentelemetry.sdk.resources import Resource

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": service,
                                                        "host.name": host}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.NOTSET, logger_provider=provider)
    loggers: dict[str, logging.Logger] = {}

    def get(name: str) -> logging.Logger:
        if name not in loggers:
            # a logger of its own, not the process's (other tests configure those)
            logger = logging.Logger(name, logging.NOTSET)  # noqa: LOG001
            logger.addHandler(handler)
            loggers[name] = logger
        return loggers[name]

    emit(get)
    rows = []
    for readable in exporter.get_finished_logs():
        record = readable.log_record
        stamp = next(times) if times is not None else (record.timestamp
                                                       or record.observed_timestamp)
        resource = {k: as_string(v) for k, v in readable.resource.attributes.items()}
        rows.append([
            datetime.fromtimestamp(stamp // SECOND, UTC).replace(tzinfo=None),  # seconds
            f"{record.trace_id:032x}" if record.trace_id else "",
            f"{record.span_id:016x}" if record.span_id else "",
            int(record.trace_flags or 0),
            record.severity_text or "",
            int(record.severity_number.value if record.severity_number else 0),
            resource.get("service.name", ""),
            as_string(record.body) if record.body is not None else "",
            "", resource, "", readable.instrumentation_scope.name,
            readable.instrumentation_scope.version or "", {},
            {k: as_string(v) for k, v in (record.attributes or {}).items()},
            stamp,
        ])
    return rows


def insert(database: str, rows: list[list[Any]]) -> None:
    """Insert rows of ``sdk_rows`` (or made alike) with their nanosecond times."""
    if not rows:
        return
    names = ["lv_ns", *INSERT_COLUMNS[1:]]
    values = []
    for columns in rows:
        *columns, stamp = columns
        values.append(dict(zip(names, [stamp, *columns[1:]], strict=True)))
    engine().command(
        f"INSERT INTO {database}.otel_logs ({', '.join(INSERT_COLUMNS)}) "
        "SELECT fromUnixTimestamp64Nano(lv_ns), TraceId, SpanId, TraceFlags, SeverityText, "
        "SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, "
        "ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes "
        f"FROM format(JSONEachRow, '{_STRUCTURE}', {{data:String}})",
        parameters={"data": "\n".join(json.dumps(v) for v in values)})


def row(ns: int, body: str, *, level: str = "INFO", number: int = 9, scope: str = "app",
        attributes: dict[str, str] | None = None, resource: dict[str, str] | None = None,
        trace: str = "") -> list[Any]:
    """One row made by hand, in the shape ``sdk_rows`` gives."""
    resource = {"service.name": "shop", "host.name": "web1"} if resource is None else resource
    return [None, trace, "", 0, level, number, resource.get("service.name", ""), body, "",
            resource, "", scope, "", {}, dict(attributes or {}), ns]


# ---------------------------------------------------------------------------------------------
# ClickHouse's HTTP interface over chDB, for end-to-end runs


class HttpServer:
    """Serves ClickHouse's HTTP interface from chDB on 127.0.0.1: what clickhouse-connect
    sends (the query in the body, ``param_*`` bound values, ``database``, settings) is run by
    chDB with the parameters bound server-side, in the format asked. Checks the user and
    password; ``down`` makes it refuse requests (a dropped connection)."""

    def __init__(self, user: str = "default", password: str = "",
                 tls: ssl.SSLContext | None = None) -> None:
        raw_connection()  # (skips the test when it cannot be had)
        self.tls = tls
        self.user = user
        self.password = password
        self.down = False
        self.queries: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/ping":
                    self._reply(200, b"Ok.\n")
                    return
                self._query(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._query(self.rfile.read(length))

            def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _query(self, body: bytes) -> None:
                if server.down:
                    self.close_connection = True
                    self._reply(503, b"Code: 210. DB::NetException: down for the test")
                    return
                args = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                user, password = self._credentials(args)
                if (user, password) != (server.user, server.password):
                    self._reply(516, b"Code: 516. DB::Exception: " + user.encode()
                                + b": Authentication failed: password is incorrect",
                                {"X-ClickHouse-Exception-Code": "516"})
                    return
                sql = (args.get("query", "") + " " + body.decode()).strip()
                # the bound values go to chDB as they came, escaped as ClickHouse reads them
                params = {k[6:]: v for k, v in args.items() if k.startswith("param_")}
                server.queries.append((sql, params))
                fmt = args.get("default_format", "TabSeparated")
                try:
                    with _lock:
                        data = raw_connection().query(sql, fmt, params=params).bytes()
                except RuntimeError as exc:  # chDB's errors (ChdbError), as a server says them
                    self._reply(500, f"Code: 1. DB::Exception: {exc}".encode(),
                                {"X-ClickHouse-Exception-Code": "1"})
                    return
                self._reply(200, data, {"X-ClickHouse-Format": fmt,
                                        "X-ClickHouse-Timezone": "UTC",
                                        "X-ClickHouse-Server-Display-Name": "chdb"})

            def _credentials(self, args: dict[str, str]) -> tuple[str, str]:
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    return user, password
                return (self.headers.get("X-ClickHouse-User") or args.get("user", "default"),
                        self.headers.get("X-ClickHouse-Key") or args.get("password", ""))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            # The handshake happens on the first read, in the request's own thread: a client
            # that refuses the certificate never holds up the accepting loop.
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)
            self.httpd.handle_error = lambda request, address: None  # refused: the client says
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, database: str, table: str = "otel_logs", user: str | None = None) -> str:
        who = f"{user}@" if user else ""
        scheme = "clickhouses" if self.tls is not None else "clickhouse"
        return f"{scheme}://{who}127.0.0.1:{self.port}/{database}/{table}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_certificates(directory: str) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and another CA that signed
    nothing, made with the ``openssl`` command (skips the test without it): paths of
    ``ca``, ``other_ca``, ``cert`` and ``key`` (PEM) in ``directory``."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    paths = {name: os.path.join(directory, name + ".pem")
             for name in ("ca", "ca_key", "other_ca", "other_key", "cert", "key", "csr")}
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as handle:
        handle.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                     "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca, key, name in (("ca", "ca_key", "logview test CA"),
                          ("other_ca", "other_key", "some other CA")):
        _openssl("req", "-x509", *curve, "-keyout", paths[key], "-out", paths[ca],
                 "-days", "2", "-subj", f"/CN={name}")
    _openssl("req", *curve, "-keyout", paths["key"], "-out", paths["csr"],
             "-subj", "/CN=127.0.0.1")
    _openssl("x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"],
             "-CAcreateserial", "-out", paths["cert"], "-days", "2", "-extfile", ext)
    return paths


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


def server_tls(certificates: dict[str, str]) -> ssl.SSLContext:
    """The test server's TLS side, presenting the certificate ``make_certificates`` made."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["cert"], certificates["key"])
    return context
