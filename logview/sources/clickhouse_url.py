"""``clickhouse://`` URLs, and what the config file adds to them: the password (never on the
command line, where ``ps`` shows it) and the column mappings of tables that are not
``otel_logs``.

The password comes from ``LOGVIEW_CLICKHOUSE_PASSWORD``, else the config file
(``$XDG_CONFIG_HOME/logview/clickhouse.toml``), which also maps columns::

    [servers."ch.example.com"]
    user = "reader"
    password = "..."
    secure = true                 # HTTPS (as clickhouses://)
    ca = "/etc/ssl/our-ca.pem"    # the CA that signed the server's certificate (as ?ca=PATH)

    [tables."logs.app_logs"]      # database.table
    time = "ts"
    level = "level"
    logger = "logger"
    message = "message"
    fields = "attrs"              # a Map(String, String) or a JSON object in a String
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from logview.formats.config import ConfigFileError, default_config_dir, read_toml
from logview.sources.base import SourceError

#: Seconds a poll looks back for late rows, by default (``?overlap=SECONDS``).
DEFAULT_OVERLAP = 30.0
PREFIXES = ("clickhouse://", "clickhouses://")
PASSWORD_VARIABLE = "LOGVIEW_CLICKHOUSE_PASSWORD"
CONFIG_FILE = "clickhouse.toml"
DEFAULT_TABLE = "otel_logs"
#: Rows the viewer reads (the newest): it never downloads the table.
VIEWER_ROWS = 50_000


def is_clickhouse(name: str) -> bool:
    """Whether an input names a ClickHouse table."""
    return name.startswith(PREFIXES)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the table is, parsed from the URL (and the config file for what it leaves out)."""

    host: str
    port: int
    database: str
    table: str
    user: str = "default"
    password: str = field(default="", repr=False)
    secure: bool = False
    overlap: float = DEFAULT_OVERLAP
    rows: int = VIEWER_ROWS
    #: A PEM file of the CA(s) to trust for HTTPS instead of the system's (``?ca=PATH``).
    ca: str | None = None
    mapping: dict[str, str] | None = None
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The URL without a password (what records name as their input)."""
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.database}/{self.table}"


def parse_target(spec: str, *, environ: dict[str, str] | None = None,
                 config_dir: str | None = None) -> Target:
    """The ``Target`` of a ``clickhouse://`` URL; a ``SourceError`` saying what is wrong."""
    environ = dict(os.environ) if environ is None else environ
    parts = urlsplit(spec)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"secure", "overlap", "rows", "ca"})
    if unknown:
        raise SourceError(f"{spec}: unknown option {', '.join(unknown)} (use secure, ca, "
                          "overlap, rows)")
    secure = parts.scheme == "clickhouses" or query.get("secure", "0") in ("1", "true", "yes")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:
        raise SourceError(f"{spec}: {exc}") from exc
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not host or len(path) > 2:
        raise SourceError(f"{spec}: give clickhouse://[user@]host[:port]/database[/table]")
    database = path[0] if path else "default"
    table = path[1] if len(path) > 1 else DEFAULT_TABLE
    config, config_warnings = _config(config_dir)
    server = _server_entry(config, host, port)
    warnings = list(config_warnings)
    user = unquote(parts.username) if parts.username else str(server.get("user", "default"))
    password = environ.get(PASSWORD_VARIABLE) or str(server.get("password", ""))
    if parts.password:
        password = unquote(parts.password)
        warnings.append("a password in the URL is visible to every user (ps): set "
                        f"{PASSWORD_VARIABLE} or put it in {CONFIG_FILE}")
    if server.get("secure") is True:
        secure = True
    ca = _ca_file(spec, query.get("ca") or server.get("ca"), secure)
    mapping = config.get("tables", {}).get(f"{database}.{table}")
    try:
        overlap = float(query.get("overlap", DEFAULT_OVERLAP))
        rows = int(query.get("rows", VIEWER_ROWS))
    except ValueError as exc:
        raise SourceError(f"{spec}: overlap and rows take numbers ({exc})") from exc
    if overlap < 0 or rows < 1:
        raise SourceError(f"{spec}: overlap must be 0 or more, rows 1 or more")
    return Target(host=host, port=port or (8443 if secure else 8123), database=database,
                  table=table, user=user, password=password, secure=secure, overlap=overlap,
                  rows=rows, ca=ca, mapping=dict(mapping) if isinstance(mapping, dict) else None,
                  warnings=tuple(warnings))


def _ca_file(spec: str, value: Any, secure: bool) -> str | None:
    """The CA file to trust (``?ca=`` or the server's ``ca`` key), checked to be readable now
    rather than failing later as a TLS error."""
    if value is None or value == "":
        return None
    if not secure:
        raise SourceError(f"{spec}: a CA file (ca) is for HTTPS: use clickhouses:// or "
                          "?secure=1")
    path = os.path.expanduser(str(value))
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise SourceError(f"{spec}: cannot read the CA file {path}: {exc.strerror}") from exc
    return path


def _config(config_dir: str | None) -> tuple[dict[str, Any], list[str]]:
    """The config file's content (empty when there is none) and what is wrong with it."""
    directory = config_dir if config_dir is not None else str(default_config_dir())
    path = os.path.join(directory, CONFIG_FILE)
    try:
        data = read_toml(Path(path))
        if data is None:
            return {}, []
        mode = os.stat(path).st_mode
    except ConfigFileError as exc:
        return {}, [f"not read: {exc}"]
    except OSError as exc:
        return {}, [f"{path} not read: {exc}"]
    warnings = []
    if mode & 0o077 and any("password" in entry for entry in data.get("servers", {}).values()
                            if isinstance(entry, dict)):
        warnings.append(f"{path} holds a password and others may read it (chmod 600 it)")
    return data, warnings


def _server_entry(config: dict[str, Any], host: str, port: int | None) -> dict[str, Any]:
    servers = config.get("servers", {})
    if not isinstance(servers, dict):
        return {}
    found = servers.get(f"{host}:{port}") if port else None
    found = found or servers.get(host) or {}
    return found if isinstance(found, dict) else {}
