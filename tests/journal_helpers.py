"""Real journal files for the tests: entries in the journal export format, written into
``.journal`` files by the real ``systemd-journal-remote`` (no running journald needed), read
back by the real ``journalctl``. Tests that need them are marked ``needs_journal``.
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path

import pytest
from logging_helpers import make_logger

BOOT = "0123456789abcdef0123456789abcdef"
T0 = 1704164645123456  # 2024-01-02 03:04:05.123456 UTC, in microseconds
SECOND = 1_000_000

REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote",
                           "/usr/lib/systemd/systemd-journal-remote") if Path(p).exists()),
              shutil.which("systemd-journal-remote"))
needs_journal = pytest.mark.skipif(
    REMOTE is None or shutil.which("journalctl") is None,
    reason="needs journalctl and systemd-journal-remote (apt-get install systemd-journal-remote)",
)

Entry = list[tuple[str, str | bytes]]


def export(entries: list[Entry], *, t0: int = T0, step: int = 1_000_000) -> bytes:
    """Entries in the journal export format (every user field in its binary-safe form).

    Entry ``n`` is at ``t0 + n * step`` microseconds unless it gives its own
    ``__REALTIME_TIMESTAMP``; address fields (``__...``) are written as text, as they must be.
    Every entry is of one boot (``BOOT``) that started at ``T0``.
    """
    out = bytearray()
    for n, fields in enumerate(entries):
        given = {key: value for key, value in fields if key.startswith("__")}
        realtime = given.get("__REALTIME_TIMESTAMP", str(t0 + n * step))
        # One boot whose clock started at T0: entries appended later sort after the others
        # (journalctl orders the entries of one boot by their monotonic time).
        monotonic = given.get("__MONOTONIC_TIMESTAMP", str(max(1, int(realtime) - T0 + 1)))
        out += f"__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP={monotonic}\n".encode()
        if not any(key == "_BOOT_ID" for key, _ in fields):
            out += f"_BOOT_ID={BOOT}\n".encode()
        for key, value in fields:
            if key.startswith("__"):
                continue
            data = value.encode() if isinstance(value, str) else value
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        out += b"\n"
    return bytes(out)


def write_journal(path: Path, entries: list[Entry], **times: int) -> Path:
    """Append ``entries`` to the journal file ``path`` (made if need be) with
    systemd-journal-remote; ``times``: ``t0`` and ``step`` of ``export``."""
    assert REMOTE is not None
    subprocess.run([REMOTE, "-o", str(path), "-"], input=export(entries, **times),
                   capture_output=True, check=True, timeout=60)
    return path


def journalctl(tmp_path: Path, entries: list[Entry], mode: str = "json") -> bytes:
    """What ``journalctl -o MODE`` prints for a journal file holding ``entries``."""
    journal = tmp_path / "test.journal"
    journal.unlink(missing_ok=True)
    write_journal(journal, entries)
    out = subprocess.run(["journalctl", "--file", str(journal), "-o", mode, "--no-pager"],
                         capture_output=True, check=True, timeout=60).stdout
    # (one line an entry; json-pretty's entries are objects over many lines)
    assert out.count(b"\n}\n" if mode == "json-pretty" else b"\n") == len(entries)
    return out


#: syslog priorities of Python levels, as python-systemd's ``JournalHandler.map_priority``.
def _priority(levelno: int) -> int:
    for limit, priority in ((10, 7), (20, 6), (30, 4), (40, 3), (50, 2)):
        if levelno <= limit:
            return priority
    return 1


class JournalEntryHandler(logging.Handler):
    """Keeps each record as the journal entry python-systemd's ``JournalHandler`` sends for it:
    the formatted message (traceback included), PRIORITY, LOGGER, THREAD_NAME, PROCESS_NAME,
    CODE_FILE/LINE/FUNC, EXCEPTION_TEXT, CODE_ARGS, the handler's own fields and the record's
    upper-case attributes (``extra=``; journald drops lower-case field names)."""

    def __init__(self, **fields: str) -> None:
        super().__init__()
        self.fields = fields
        self.entries: list[Entry] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        entry: Entry = [("MESSAGE", message), ("PRIORITY", str(_priority(record.levelno))),
                        ("LOGGER", record.name), ("THREAD_NAME", record.threadName or ""),
                        ("PROCESS_NAME", record.processName or ""),
                        ("CODE_FILE", record.pathname), ("CODE_LINE", str(record.lineno)),
                        ("CODE_FUNC", record.funcName)]
        if record.exc_text:
            entry.append(("EXCEPTION_TEXT", record.exc_text))
        if record.args:
            entry.append(("CODE_ARGS", str(record.args)))
        entry += [(key, str(value)) for key, value in self.fields.items()]
        entry += [(key, str(value)) for key, value in record.__dict__.items()
                  if key.isupper()]
        self.entries.append(entry)


# -------------------------------------------------------------------------------------------
# Journals of three hosts, as systemd-journal-remote gathers them


def _handler_entries(host: str, pid: str) -> list[Entry]:
    """What a Python service on ``host`` logs through a JournalHandler, with the fields
    journald adds (host, pid, unit)."""
    handler = JournalEntryHandler(SYSLOG_IDENTIFIER="shop", _HOSTNAME=host, _PID=pid,
                                  _COMM="python3", _SYSTEMD_UNIT="shop.service")
    web = make_logger(f"app.{host}", handler)
    pay = make_logger(f"app.{host}.pay", handler)
    web.info("started on %s", host)
    web.debug("cache warm")
    web.warning("slow request took %d ms", 900, extra={"REQUEST_ID": f"r-{host}"})
    try:
        raise ConnectionError("card service refused")
    except ConnectionError:
        pay.exception("payment failed")
    web.critical("out of memory")
    return handler.entries


def _db_entries() -> list[Entry]:
    """A program that is not Python: syslog identifier and unit, no LOGGER."""
    base = [("SYSLOG_IDENTIFIER", "postgres"), ("_SYSTEMD_UNIT", "postgresql.service"),
            ("_HOSTNAME", "db1"), ("_PID", "303"), ("_COMM", "postgres")]
    return [[("MESSAGE", text), ("PRIORITY", priority), *base] for text, priority in (
        ("database system is ready", "6"), ("checkpoint starting", "5"),
        ("could not connect to server timeout", "3"), ("autovacuum is slow", "4"),
        ("terminating connection", "2"))]


@cache
def hosts() -> tuple[tuple[str, list[Entry], int], ...]:
    """Host, entries, offset of the first entry (microseconds): the hosts interleave."""
    return (("web1", _handler_entries("web1", "101"), 0),
            ("web2", _handler_entries("web2", "202"), 300_000),
            ("db1", _db_entries(), 600_000))


def expected() -> list[tuple[str, str]]:
    """(host, message) of every entry of ``make_journals``, in time order."""
    rows = []
    for host, entries, offset in hosts():
        for n, entry in enumerate(entries):
            message = dict(entry)["MESSAGE"]
            rows.append((T0 + offset + n * SECOND, host, str(message).split("\n")[0]))
    return [(host, message) for _, host, message in sorted(rows)]


def make_journals(directory: Path) -> Path:
    """A directory with a journal file per host (``remote-HOST.journal``), 15 entries."""
    directory.mkdir(parents=True, exist_ok=True)
    for host, entries, offset in hosts():
        write_journal(directory / f"remote-{host}.journal", entries, t0=T0 + offset)
    return directory
