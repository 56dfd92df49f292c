"""The file-descriptor budget: the soft ``RLIMIT_NOFILE`` raised before many inputs are opened.

Every open input holds descriptors for as long as it is read, and a followed file also keeps
the files it rotated away from open (``FileSource.keep_rotations``). ``logview /var/log/app/``
with hundreds of files passes the usual soft limit of 1024, and then some open in the middle
fails with EMFILE. ``ensure_descriptors`` raises the soft limit toward the hard one before
anything is opened (to ``CEILING``, further only if the inputs need it: child processes inherit
the limit, and some programs loop over every possible descriptor); when even the hard limit is
too low it says so, naming the limit, instead of opening half the inputs.
"""

from __future__ import annotations

import os

from logview.sources.base import SourceError

try:
    import resource
except ImportError:  # not Unix: no limit to read or raise
    resource = None

#: The soft limit is raised at most this far, however high the hard limit is.
CEILING = 65536
#: Descriptors kept for everything but the inputs (terminal, pipes of the viewer and of the
#: scan workers, the inotify instance, files opened briefly to sniff them).
RESERVE = 64


def open_descriptors() -> int:
    """Descriptors this process has open now (0 where that cannot be counted)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(0, len(os.listdir(listing)) - 1)  # minus listdir's own descriptor
        except OSError:
            continue
    return 0


def _finite(value: int) -> int | None:
    return None if value == resource.RLIM_INFINITY or value < 0 else value


def ensure_descriptors(need: int, want: int, what: str) -> None:
    """Make room for ``need`` more descriptors (what opening ``what`` takes) and, if the hard
    limit allows, ``want`` (what they may grow to); raise ``SourceError`` if ``need`` cannot fit.
    """
    if resource is None:
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return
    in_use = open_descriptors() + RESERVE
    soft_limit = _finite(soft)
    if soft_limit is None or in_use + want <= soft_limit:
        return
    hard_limit = _finite(hard)
    target = max(CEILING, in_use + want)  # past CEILING only when the inputs need it
    if hard_limit is not None:
        target = min(target, hard_limit)
    if target > soft_limit:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft_limit = target
        except (OSError, ValueError):  # e.g. macOS refuses more than OPEN_MAX
            pass
    if in_use + need > soft_limit:
        shown = "unlimited" if hard_limit is None else str(hard_limit)
        raise SourceError(
            f"{what} need about {need} file descriptors, more than the open-file limit allows "
            f"(RLIMIT_NOFILE, `ulimit -n`: {soft_limit}, hard limit {shown}, about "
            f"{in_use} kept for the rest); raise it (`ulimit -n {in_use + want}`) or open "
            "fewer files")
