"""The listener's lifecycle: bind the addresses, spool what arrives, follow the spool.

Records go listener thread -> ``ReceivedRecordsWriter`` (JSON lines, logview's own schema, so
each keeps its client as ``source``) -> a followed file -> a store, like any other log. The spool
is unlinked as soon as the reader has it open, before anything is bound, unless ``--save`` keeps
it: writer and reader hold it open, so nothing is left behind even when logview is killed.

When the spool cannot be written (the disk is full) the writer stops cleanly and the session
says so once, on stderr and as a notice of the source (the viewer shows it, counted on the
status line): what was received so far stays in the viewer; later records are refused
(counted by the listener as sink errors) while it keeps its ports open.
"""

from __future__ import annotations

import os
import stat
import sys
from contextlib import suppress

from logview.listen.address import describe_bound, parse_listen_address
from logview.listen.errors import SessionError
from logview.listen.received_writer import ReceivedRecordsError, ReceivedRecordsWriter
from logview.listen.server import LogListener
from logview.sources.base import SourceError
from logview.sources.file import FileSource


class ListenSession:
    """The running listener, the spool it writes and the source that follows that spool."""

    def __init__(self, listener: LogListener, writer: ReceivedRecordsWriter) -> None:
        self.listener = listener
        self.writer = writer
        self.source: FileSource | None = None
        self._stopped = False
        writer.on_error = self._spool_failed

    def _spool_failed(self, error: ReceivedRecordsError) -> None:
        """The spool cannot be written any more (writer's thread): say so, once."""
        saved, path = self.writer.saved, self.writer.path
        if self.writer.kept:
            what = f"stopped saving received records to {path} after {saved:,}"
        else:
            what = f"stopped keeping received records after {saved:,}"
        if error.disk_full:
            where = "" if self.writer.kept else f" in {os.path.dirname(path)}"
            text = f"disk full{where}: {what}"
        else:
            text = f"{error.strerror}: {what}"
        text += " (the viewer keeps those; later records are dropped)"
        sys.stderr.write(f"logview: warning: {text}\n")  # in the viewer, Textual captures it
        sys.stderr.flush()
        if self.source is not None:
            self.source.note(text)

    @property
    def where(self) -> str:
        """What is bound, e.g. ``tcp 127.0.0.1:9020, udp 127.0.0.1:9020``."""
        return describe_bound(self.listener.bound)

    def banner(self, saving: bool) -> str:
        """What stderr says once the listener runs: where, warnings, where records are kept."""
        lines = [f"logview: listening on {self.where}"]
        lines += [f"logview: warning: {warning}" for warning in self.listener.warnings]
        if saving:
            lines.append(f"logview: saving received records to {self.writer.path}")
        return "\n".join(lines) + "\n"

    def stop(self) -> None:
        """Stop receiving (what connections still hold is written) and flush the spool."""
        if self._stopped:
            return
        self._stopped = True
        self.listener.stop()
        self.writer.close()


def start_listening(listen: list[str], *, save: str | None, max_frame: int) -> ListenSession:
    """Bind every address of ``listen`` and start spooling what arrives.

    The session's ``source`` follows the spool; its name is what the viewer's status line
    shows (where to send, and whether it is open to the network).
    """
    try:
        addresses = [parse_listen_address(text) for text in listen]
    except ValueError as exc:
        raise SessionError(str(exc)) from exc
    if max_frame < 64:
        raise SessionError(f"--max-frame {max_frame}: give at least 64 bytes")
    if save:
        with suppress(FileNotFoundError):
            if not stat.S_ISREG(os.stat(save).st_mode):
                raise SessionError(f"--save {save}: not a regular file (the viewer follows the "
                                   "saved records)")
    try:
        writer = ReceivedRecordsWriter(save, flush_interval=0.02)
    except ReceivedRecordsError as exc:
        raise SessionError(f"--save: {exc.strerror or exc}") from exc
    try:
        source = FileSource(writer.path, follow=True, name="listening")
    except SourceError:
        writer.close()
        raise
    if not save:  # at once: a temporary spool with no name is never left behind
        with suppress(OSError):
            os.unlink(writer.path)
    source.format_hint = "jsonl"  # logview's own JSON lines
    listener = LogListener(addresses, writer.write, max_frame=max_frame)
    try:
        listener.start()
    except OSError as exc:
        source.close()
        writer.close()
        raise SessionError(exc.strerror or str(exc)) from exc
    session = ListenSession(listener, writer)
    source.name = f"listening on {session.where}"
    if listener.warnings:
        source.name += " (open to the network)"
    session.source = source
    return session
