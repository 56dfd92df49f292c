"""systemd's journal as a source: the real ``journalctl`` run as a child, its output read like
piped input (the spool of a stream, ``logview.sources.spool``).

``journal:`` is the local journal; ``journal:/path`` a directory of journal files (what
``systemd-journal-remote`` gathers from many hosts) or one ``.journal`` file. journalctl runs
with ``--output=json --all --no-pager`` (``--follow --no-tail`` when following: everything,
then what comes), plus the arguments of what it can filter of the query
(``logview.sources.journal_pushdown``); the format is JSON lines, no guessing.

The child never outlives the source: ``close`` (and, for a source nobody closed, the end of the
interpreter) terminates it and reaps it. journalctl missing, a path that is no journal, or
journalctl failing at once are a ``SourceError`` before anything is shown (its stderr, one
line); a failure later ends the input: a ``SourceError`` from ``update`` with ``fatal_errors``
(``--print``: status 2), a notice otherwise (the viewer keeps what it has). What journalctl
says on stderr while it works (hints about permissions) is noted.
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import IO

from logview.query.plan import Query
from logview.query.pushdown import PushDown
from logview.sources.base import SourceError
from logview.sources.narrowing import RestartableSpoolSource, SpoolRun
from logview.sources.pump import ReaderThread, pump_fd
from logview.sources.spool import InputSpool, stream_spool

#: How inputs name the journal.
PREFIX = "journal:"
#: The name of the local journal (``journal:``) in messages, and the source of its entries
#: that name no host.
LOCAL_NAME = "local journal"
#: Seconds the start waits for journalctl's first output or its end, so that a journalctl
#: that fails at once is an error before anything is shown (it returns as soon as either
#: comes; a filter that matches nothing yet only costs this much once).
START_WAIT = 1.0
#: Seconds journalctl has to end after SIGTERM before it is killed.
STOP_WAIT = 2.0
#: Signals whose end of journalctl is a normal one: the user's Ctrl-C reaches the whole
#: process group, a hangup or a shutdown ends both (SIGKILL from elsewhere is a failure).
_QUIET_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE})
#: The most of journalctl's stderr that an error repeats, and that is read at all.
_ERROR_CHARS = 300
_STDERR_BYTES = 64 * 1024

_live: weakref.WeakSet[JournalSource] = weakref.WeakSet()


def is_journal(name: str) -> bool:
    """Whether an input names the journal (``journal:`` or ``journal:/path``)."""
    return name.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class JournalOptions:
    """How ``journal:`` inputs are read: the pushed-down filters (``None``: read everything;
    the viewer changes them with ``JournalSource.narrow``) and whether a late failure is an
    error."""

    pushdown: PushDown | None = None
    fatal_errors: bool = True


def journal_command(spec: str, *, follow: bool, pushdown: PushDown | None = None,
                    journalctl: str = "journalctl") -> list[str]:
    """journalctl's command line for ``journal:`` or ``journal:PATH``."""
    command = [journalctl, "--output=json", "--all", "--no-pager"]
    path = spec[len(PREFIX):]
    if path:
        path = os.path.expanduser(path)
        command.append(f"--directory={path}" if os.path.isdir(path) else f"--file={path}")
    if follow:
        command += ["--follow", "--no-tail"]
    if pushdown is not None:
        command += pushdown.arguments
    return command


def shell_command(command: list[str]) -> str:
    """A journalctl command line as a shell would take it (``--explain``)."""
    return shlex.join(["journalctl", *command[1:]])


class _Child:
    """One journalctl run: the process, its stderr (a file: a pipe could fill up and stall
    it), the thread that pumps its output into ``run``, and how much stderr was told."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes],
                 run: SpoolRun) -> None:
        self.process = process
        self.stderr = stderr
        self.run = run
        self.reader: ReaderThread | None = None
        self.stopping = False
        self.told = 0


class JournalSource(RestartableSpoolSource):
    """The entries journalctl prints, as JSON lines; with ``follow`` it goes on printing.

    ``narrow`` (the viewer's query changed) runs journalctl again with the arguments of the
    query's push-down, stopping the one before.
    """

    format_hint = "jsonl"

    def __init__(self, spec: str, *, follow: bool, options: JournalOptions | None = None,
                 spool: InputSpool | None = None) -> None:
        options = options or JournalOptions()
        self.pushdown = options.pushdown
        self.fatal_errors = options.fatal_errors
        path = os.path.expanduser(spec[len(PREFIX):])
        journalctl = shutil.which("journalctl")
        if journalctl is None:
            raise SourceError(f"cannot read {spec if path else 'the local journal'}: journalctl "
                              "not found (it comes with systemd; install it or put it on PATH)")
        if path and not os.path.exists(path):
            raise SourceError(f"cannot open {path}: No such file or directory")
        self.spec = spec
        self.journalctl = journalctl
        self.command = journal_command(spec, follow=follow, pushdown=self.pushdown,
                                       journalctl=journalctl)
        super().__init__(spec if path else LOCAL_NAME, spool or stream_spool())
        self.follow = follow
        self._news = threading.Event()  # the first output, or the end
        self._closed = False
        self._child = self._spawn(self.command, self.run)
        _live.add(self)
        self._news.wait(START_WAIT)
        if self._eof and self.error and not self.spool.size():
            error = self.error
            self.close()
            raise SourceError(error)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The journalctl running now."""
        return self._child.process

    def _spawn(self, command: list[str], run: SpoolRun) -> _Child:
        """Start journalctl and the thread that reads its output into ``run``."""
        stderr = tempfile.TemporaryFile(prefix="logview-journalctl-")  # noqa: SIM115
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                close_fds=True, env={**os.environ, "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": ""})
        except OSError as exc:
            stderr.close()
            if run is self.run:
                super().close()
            raise SourceError(f"cannot run {command[0]}: {exc.strerror}") from exc
        child = _Child(process, stderr, run)
        child.reader = ReaderThread(f"logview-journal:{self.spec}",
                                    lambda stop_fd: self._run(child, stop_fd))
        child.reader.start()
        return child

    def narrow(self, query: Query | None) -> str | None:
        """Run journalctl again with the push-down of ``query`` (None: everything), the one
        before stopped and reaped; None when its arguments would be the same."""
        from logview.sources.journal_pushdown import journal_pushdown

        pushdown = None if query is None or query.is_empty else journal_pushdown(query)
        arguments = pushdown.arguments if pushdown is not None else []
        if arguments == (self.pushdown.arguments if self.pushdown is not None else []):
            return None
        if self._closed:
            return None
        self.pushdown = pushdown
        self.command = journal_command(self.spec, follow=self.follow, pushdown=pushdown,
                                       journalctl=self.journalctl)
        old = self._child
        run = self.start_run(stream_spool())
        self._stop_child(old)
        try:
            self._child = self._spawn(self.command, run)
        except SourceError as exc:
            run.finish(str(exc))
            return f"cannot run journalctl again: {exc}"
        return ("journalctl run again with " + " ".join(arguments) if arguments
                else "journalctl run again for every entry")

    def woken(self) -> None:
        super().woken()
        self._news.set()  # the first output (or the end) ends the start's wait

    def _run(self, child: _Child, stop_fd: int) -> None:
        error = None
        stdout = child.process.stdout
        assert stdout is not None
        try:
            pump_fd(stdout.fileno(), child.run, stop_fd)
        except OSError as exc:
            error = f"cannot read journalctl's output: {exc.strerror}"
        finally:
            if child.run.spool.full or child.run.stopped.is_set() or error:
                _terminate(child.process)  # no reader any more: journalctl must not wait
            status = _reap(child.process)
            if error is None and not child.stopping:
                error = self._failure(child, status)
            child.run.finish(error)

    def _failure(self, child: _Child, status: int | None) -> str | None:
        """What went wrong, from journalctl's exit status and stderr (None: nothing)."""
        if status is None or status == 0 or (status < 0 and -status in _QUIET_SIGNALS):
            return None
        how = (f"killed by signal {-status}" if status < 0 else f"exit status {status}")
        text = "; ".join(_stderr_lines(child.stderr)) or "no message"
        if len(text) > _ERROR_CHARS:
            text = text[: _ERROR_CHARS - 1] + "…"
        return f"{self.name}: journalctl failed ({how}): {text}"

    def _tell_stderr(self) -> None:
        """What journalctl says while it works (the permission hint) is a notice, as it
        comes: whole lines, each once."""
        child = self._child
        if child.run is not self.run:
            return  # the new journalctl is not shown yet
        try:  # (a journalctl stopped meanwhile by ``narrow`` has its stderr closed)
            size = os.fstat(child.stderr.fileno()).st_size
            if size <= child.told or child.told >= _STDERR_BYTES:
                return
            data = os.pread(child.stderr.fileno(), size - child.told, child.told)
        except (OSError, ValueError):
            return
        end = data.rfind(b"\n") + 1
        if self._eof:
            end = len(data)
        if not end:
            return
        child.told += end
        for line in data[:end].decode("utf-8", "replace").splitlines():
            if line.strip():
                self.note(f"journalctl: {line.strip()}")

    def update(self) -> int:
        added = super().update()
        if not (self.finished and self.error):
            self._tell_stderr()
        self.tell_error(self.fatal_errors)
        return added

    @staticmethod
    def _stop_child(child: _Child) -> None:
        """Stop a journalctl and its reader; reaped, its stderr closed."""
        child.stopping = True
        child.run.stop()  # a reader waiting for room in the spool returns
        _terminate(child.process)
        if child.reader is not None:
            child.reader.stop()
        stdout = child.process.stdout
        if stdout is not None:
            stdout.close()
        child.stderr.close()

    def close(self) -> None:
        self._closed = True
        self._stop_child(self._child)
        _live.discard(self)
        super().close()


def _reap(process: subprocess.Popen[bytes]) -> int | None:
    """Wait for journalctl to end (its output ended, or it was told to)."""
    try:
        return process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        _terminate(process)
        return process.wait()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ``STOP_WAIT``; reaps it (no zombie is left)."""
    if process.poll() is not None:
        return
    try:
        process.terminate()
        process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except ProcessLookupError:
        process.wait()


def _stderr_lines(stderr: IO[bytes]) -> list[str]:
    """journalctl's stderr, as lines (at most 64 KiB of it)."""
    try:
        data = os.pread(stderr.fileno(), _STDERR_BYTES, 0)
    except (OSError, ValueError):
        return []
    text = data.decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


@atexit.register
def _stop_children() -> None:
    """journalctl children of sources nobody closed (``--explain`` exits without closing
    them): a followed journal would otherwise outlive logview until its next entry."""
    for source in list(_live):
        source._child.stopping = True
        _terminate(source._child.process)
