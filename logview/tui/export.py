"""Writing records of the view to a file (``s``): the export dialog's worker, without a screen.

Each record is rendered by the headless printer (``logview.printer.RecordPrinter``): as text,
what ``--print`` writes into a file (a text record's bytes exactly as read); as JSON lines,
the ``--print -o jsonl`` object. Records are written to a hidden file beside the target and
put in its place at the end, so a cancelled or failed export leaves nothing half-written, an
existing file is replaced only when the caller says so (``overwrite``), and a file that
appeared meanwhile is never overwritten.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from logview.printer import RecordPrinter, known_original_bytes
from logview.store import Store

#: Bytes of rendered records gathered before one write.
WRITE_CHUNK = 1 << 20
#: Least time between two progress reports.
PROGRESS_INTERVAL = 0.1


class ExportError(Exception):
    """The export failed; the message says why in words a user can act on."""


class TargetExists(ExportError):
    """The file is there already and the caller did not say to overwrite it."""


class ExportCancelled(ExportError):
    """The user cancelled: nothing was written."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    records: int
    size: int


def target_path(text: str, cwd: Path | None = None) -> Path:
    """The file a path typed in the dialog names (``~`` expanded, relative to ``cwd``)."""
    path = Path(os.path.expanduser(text.strip()))
    return path if path.is_absolute() else (cwd or Path.cwd()) / path


def json_by_name(path: str) -> bool | None:
    """JSON lines for a ``.jsonl``/``.json`` name, text for ``.log``/``.txt``, else None."""
    suffix = Path(path.strip()).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return True
    if suffix in (".log", ".txt", ".text"):
        return False
    return None


def describe_error(exc: OSError, path: Path) -> str:
    """What went wrong writing ``path``, said plainly (permission, disk full, no folder...)."""
    folder = path.parent
    code = exc.errno
    if code == errno.ENOENT:
        return f"the folder {folder} does not exist"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: cannot write in {folder}"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device of {folder}"
    if code == errno.EROFS:
        return f"{folder} is on a read-only file system"
    if code == errno.EISDIR:
        return f"{path} is a folder"
    if code == errno.ENOTDIR:
        return f"{folder} is not a folder"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"{exc.strerror or exc} ({path})"


def check_target(path: Path, overwrite: bool) -> None:
    """Raise ``ExportError`` when ``path`` cannot be written (``TargetExists`` when it is
    there and ``overwrite`` is False)."""
    if path.is_dir():
        raise ExportError(f"{path} is a folder")
    if not path.parent.is_dir():
        code = errno.ENOTDIR if path.parent.exists() else errno.ENOENT
        raise ExportError(describe_error(OSError(code, os.strerror(code)), path))
    if not overwrite and (path.exists() or path.is_symlink()):
        raise TargetExists(f"{path} exists")


def export_records(
    store: Store,
    rows: Sequence[int],
    path: Path,
    *,
    jsonl: bool,
    generation: int,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    pace: Callable[[], None] | None = None,
) -> ExportResult:
    """Write the records at store positions ``rows`` to ``path``; raises ``ExportError``.

    ``generation``: the store's generation the positions belong to (a restart meanwhile
    makes them name other records: the export fails). ``progress(done, total)`` is called
    now and then from the calling thread; ``pace()`` after each record (a worker leaving the
    interpreter to the UI now and then).
    """
    check_target(path, overwrite)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        out = open(partial, "xb")  # noqa: SIM115 - closed below, removed on failure
    except OSError as exc:
        raise ExportError(describe_error(exc, path)) from exc
    try:
        with out:
            printer = RecordPrinter(out, output="jsonl" if jsonl else "text", original=True)
            written = _write(store, rows, printer, path, generation, progress, cancelled,
                             pace)
            try:
                out.flush()
                size = out.tell()
            except OSError as exc:
                raise ExportError(describe_error(exc, path)) from exc
        if cancelled():
            raise ExportCancelled("export cancelled: nothing written")
        _put_in_place(partial, path, overwrite)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(path, written, size)


def _write(store: Store, rows: Sequence[int], printer: RecordPrinter, path: Path,
           generation: int, progress: Callable[[int, int], None] | None,
           cancelled: Callable[[], bool], pace: Callable[[], None] | None) -> int:
    total = len(rows)
    as_read = printer.original and all(part.format.prints_raw for part in store.parts())
    chunk: list[bytes] = []
    size = count = 0
    last = time.monotonic()

    def flush() -> None:
        nonlocal chunk, size
        try:
            printer.write_rendered(b"".join(chunk), len(chunk))
        except OSError as exc:
            raise ExportError(describe_error(exc, path)) from exc
        chunk, size = [], 0

    for position in rows:
        if cancelled():
            raise ExportCancelled("export cancelled: nothing written")
        if store.generation != generation:
            raise ExportError("the input restarted (truncated?) while exporting: nothing written")
        try:
            # Text records print as their bytes: most are known without parsing them.
            data = known_original_bytes(store.raw(int(position))) if as_read else None
            if data is None:
                data = printer.render(store.parse(int(position)))
        except (IndexError, OSError) as exc:
            raise ExportError(f"reading record {position} failed ({exc}): nothing written"
                              ) from exc
        chunk.append(data)
        size += len(data)
        count += 1
        if size >= WRITE_CHUNK:
            flush()
        if pace is not None:
            pace()
        if progress is not None and time.monotonic() - last >= PROGRESS_INTERVAL:
            progress(count, total)
            last = time.monotonic()
    flush()
    if progress is not None:
        progress(count, total)
    return count


def _put_in_place(partial: Path, path: Path, overwrite: bool) -> None:
    """Give the written file its name; without ``overwrite`` never replace a file there."""
    try:
        if overwrite:
            os.replace(partial, path)
            return
        try:
            os.link(partial, path)  # fails when the name is taken: no race with another writer
        except FileExistsError:
            raise TargetExists(f"{path} exists") from None
        except OSError:  # a file system without hard links
            if path.exists() or path.is_symlink():
                raise TargetExists(f"{path} exists") from None
            os.rename(partial, path)
            return
        partial.unlink()
    except OSError as exc:
        raise ExportError(describe_error(exc, path)) from exc
