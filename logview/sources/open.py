"""From command-line paths to sources: files, rotated sets, compressed files, FIFOs, stdin, dirs,
the journal (``journal:``, ``journal:/path``: ``logview.sources.journal``) and ClickHouse tables
(``clickhouse://...``: ``logview.sources.clickhouse``, imported only when one is named).

``open_sources`` decides what each path is by looking at it (``stat`` and the first bytes),
never by trusting its name alone, and turns a shell-expanded rotated set into one source. It
plans every input before opening any, so that the descriptors they take are budgeted first
(``descriptors.ensure_descriptors``): 300 files get a raised limit or a clear refusal, never
EMFILE half way through.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING

from logview.sources.base import ByteSource, SourceError, StaticFileSource
from logview.sources.clickhouse_url import is_clickhouse
from logview.sources.descriptors import ensure_descriptors
from logview.sources.journal import JournalOptions, JournalSource, is_journal
from logview.sources.pipe import FifoSource
from logview.sources.rotated import (
    RotatedSetSource,
    compression_of,
    find_rotated_set,
    open_member,
    order_rotated,
)
from logview.sources.stdin import StdinSource

if TYPE_CHECKING:
    from logview.sources.clickhouse import ClickHouseOptions

#: Names a directory listing treats as logs (rotations and compression included).
_LOG_NAME = re.compile(
    r"""^[^.].*?
    (?:\.(?:log|jsonl|ndjson|json|txt|out|err)   # app.log, events.jsonl
       |\.log[-.][0-9][0-9_T:-]*                 # app.log.1, app.log-20240102, app.log.2024-01-02
       |\.(?:jsonl|txt|out|err)\.[0-9]+)
    (?:\.(?:gz|bz2|xz))?$
    |^[^.]+(?:[-.][0-9]+)?(?:\.(?:gz|bz2|xz))?$     # syslog, messages.1, syslog.2.gz
    """,
    re.VERBOSE | re.IGNORECASE,
)
_SNIFF = 4096


#: Bytes that are no text (controls other than tab, newline, CR, ESC, form feed).
_NOT_TEXT = bytes(set(range(32)) - {9, 10, 12, 13, 27})


def _looks_binary(head: bytes) -> bool:
    """Mostly control bytes, or NULs with no line at all: not a log. (A log with a block of
    NULs in it, as a crash leaves them, is still a log.)"""
    if not head:
        return False
    controls = len(head) - len(head.translate(None, _NOT_TEXT))
    return controls > len(head) * 0.3 or (b"\0" in head and b"\n" not in head)


def _unreadable(path: str) -> str | None:
    """Why a file cannot be read (its error), or None when it can."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def is_log_file(path: str) -> bool:
    """Would a directory listing show this file (named like a log, not hidden, not binary)?
    An unreadable one counts: it is said rather than left out."""
    name = os.path.basename(path)
    if name.startswith(".") or not _LOG_NAME.match(name):
        return False
    if compression_of(path) is not None:
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF)
    except OSError:
        return True
    return not _looks_binary(head)


def _stat(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror}") from exc
    if not os.access(path, os.R_OK):
        raise SourceError(f"cannot open {path}: Permission denied")
    return st


def _open_set(members: list[str], *, follow: bool) -> ByteSource:
    if len(members) == 1:
        return _open_file(members[0], follow=follow)
    return RotatedSetSource(members, follow=follow)


def _open_file(path: str, *, follow: bool) -> ByteSource:
    if compression_of(path) is None and not follow:
        return StaticFileSource(path)
    return open_member(path, follow=follow)


def _directory_sets(path: str) -> tuple[list[list[str]], list[str]]:
    """The directory's logs as rotated sets, and what its unreadable logs are (said, not
    skipped without a word)."""
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror}") from exc
    files = [os.path.join(path, name) for name in names]
    logs = [f for f in files if os.path.isfile(f) and is_log_file(f)]
    refused = [(f, why) for f in logs if (why := _unreadable(f))]
    logs = [f for f in logs if f not in dict(refused)]
    said = [f"{name}: {why}" for name, why in refused]
    if not logs:
        if said:
            raise SourceError(f"no readable log files in {path}: " + "; ".join(said))
        raise SourceError(f"no log files in {path} (looked for *.log, *.jsonl, *.txt, "
                          "rotations and .gz/.bz2/.xz)")
    return order_rotated(logs), [f"left out {text}" for text in said]


#: Descriptors a stream input holds: the stream, its reader's stop pipe, the spool's file.
_STREAM_FDS = 4
#: Descriptors a compressed file holds: the file and the spool of its decompressed bytes.
_COMPRESSED_FDS = 2
#: Rotated-away files a followed file keeps open (``FileSource.keep_rotations``).
_KEPT_ROTATIONS = 16


def _plan(paths: list[str], *, rotated: bool) -> list[tuple[str, list[str]]]:
    """What each path becomes, in order, opening nothing: ``("stdin", [])``,
    ``("fifo", [path])``, ``("journal", [spec])``, ``("clickhouse", [url])``, ``("set", members)`` (a file, or a rotated
    set oldest first), or ``("note", [text])`` (what the source before it says: an unreadable
    log left out)."""
    plan: list[tuple[str, list[str]]] = []
    files: list[str] = []

    def flush_files() -> None:
        for members in order_rotated(files):
            if rotated and len(members) == 1:
                members = find_rotated_set(members[0])
            plan.append(("set", members))
        files.clear()

    seen: set[tuple[int, int]] = set()
    for path in paths:
        if path == "-":
            flush_files()
            plan.append(("stdin", []))
            continue
        if is_journal(path):
            flush_files()
            plan.append(("journal", [path]))
            continue
        if is_clickhouse(path):
            flush_files()
            plan.append(("clickhouse", [path]))
            continue
        st = _stat(path)
        if (st.st_dev, st.st_ino) in seen:  # the same file named twice (a.log ./a.log)
            continue
        seen.add((st.st_dev, st.st_ino))
        if stat.S_ISDIR(st.st_mode):
            flush_files()
            sets, notes = _directory_sets(path)
            plan.extend(("set", members) for members in sets)
            plan.extend(("note", [text]) for text in notes)  # told by the directory's last
        elif stat.S_ISFIFO(st.st_mode):
            flush_files()
            plan.append(("fifo", [path]))
        elif stat.S_ISREG(st.st_mode):
            files.append(path)
        else:
            raise SourceError(f"cannot open {path}: not a file, directory or named pipe")
    flush_files()
    return plan


def _budget(plan: list[tuple[str, list[str]]], *, follow: bool) -> None:
    """Room for the descriptors the plan takes (raising the soft limit if need be), or a
    ``SourceError`` naming the limit before anything is opened."""
    need = want = files = streams = 0
    for kind, members in plan:
        if kind == "note":
            continue
        if kind != "set":
            streams += 1
            need += _STREAM_FDS
            continue
        files += len(members)
        compressed = [compression_of(member) is not None for member in members]
        need += sum(_COMPRESSED_FDS if packed else 1 for packed in compressed)
        if follow and not compressed[-1]:  # the newest member is followed
            want += _KEPT_ROTATIONS
    what = f"{files} files" + (f" and {streams} streams" if streams else "")
    ensure_descriptors(need, need + want, what)


def open_sources(paths: list[str], *, follow: bool, rotated: bool,
                 journal: JournalOptions | None = None,
                 clickhouse: ClickHouseOptions | None = None) -> list[ByteSource]:
    """One source per input: ``-`` is stdin, a directory gives its logs, rotated sets merge,
    ``journal:...`` runs journalctl (with what ``journal`` pushes down), ``clickhouse://...``
    reads a table (as ``clickhouse`` says).

    Raises ``SourceError`` (closing whatever was opened) when a path cannot be read, and before
    opening anything when the inputs need more descriptors than the process may have.
    """
    plan = _plan(paths, rotated=rotated)
    _budget(plan, follow=follow)
    sources: list[ByteSource] = []
    try:
        for kind, members in plan:
            if kind == "stdin":
                sources.append(StdinSource())
            elif kind == "fifo":
                sources.append(FifoSource(members[0], follow=follow))
            elif kind == "journal":
                sources.append(JournalSource(members[0], follow=follow, options=journal))
            elif kind == "clickhouse":
                from logview.sources.clickhouse import ClickHouseSource

                sources.append(ClickHouseSource(members[0], follow=follow, options=clickhouse))
            elif kind == "note":
                sources[-1].note(members[0])
            else:
                sources.append(_open_set(members, follow=follow))
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources
