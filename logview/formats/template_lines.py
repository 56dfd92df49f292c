"""The heads of a chunk's records of a ``logging`` template read with one regex call.

``-o jsonl`` of a whole file needs every record's values, but most records are one line whose
head repeats (a few loggers and levels, one time a second): ``TemplateLines.split`` runs the
template's own prefix regex over a chunk's text with one ``findall``, which gives every line's
prefix groups and the rest of the line (the message of a one-line record). Whoever walks the
rows (``logview.jsonl_chunks``) works the values out with the format's own code once per
distinct head and time (``head``, ``time_iso``: the prefix matched again on the line, as the
parser matches it). A line the strict prefix does not read comes back unread: its record is
parsed as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import Any

#: Regex syntax whose meaning changes once the prefix is one alternative of a multi-line
#: pattern run over a whole chunk (anchors, look-behind): such templates are parsed.
_CONTEXTUAL = re.compile(r"(?<![\\\[])\^|(?<!\\)\$|\\[AZbB]|\(\?<[=!]")

Row = tuple[str, ...]
Groups = tuple[str | None, ...]


class TemplateLines:
    """What ``split`` returns and how to read it, for one ``TemplateFormat``.

    A row is one line: the prefix's groups in order, then the rest of the line
    (``message_at``), then the whole line when the prefix did not match it (``unread_at``;
    "" when it did, or when the line is empty). Rows with equal ``head_key`` have equal
    ``head`` values (the key holds every group the format reads them from) and rows with
    equal ``time_key`` equal times (the time's own text, and msecs when they add to it).
    """

    def __init__(self, prefix: re.Pattern[str],
                 head_values: Callable[[Groups], tuple[str | None, int, str, dict[str, Any]]],
                 time_value: Callable[[Groups], tuple[datetime | None, str | None]],
                 head_groups: tuple[int, ...], time_groups: tuple[int, ...],
                 default_asctime: bool) -> None:
        """``head_groups``, ``time_groups``: the prefix's groups (0-based) the head's values
        and the time are read from; ``default_asctime``: the time is the group
        ``time_groups[0]``, written in logging's own form ``2024-01-02 03:04:05,678``."""
        self._prefix = prefix.match
        self.pattern = re.compile(f"^(?:{prefix.pattern}(.*)|(.*))", re.MULTILINE | re.ASCII)
        self.message_at = prefix.groups
        self.unread_at = prefix.groups + 1
        self.head_key = _getter(head_groups)
        self.time_key = _getter(time_groups)
        self._head_values = head_values
        self._time_value = time_value
        #: The position in a row of a time in logging's default form: the ISO text of such a
        #: time is that of its second (``second_iso``, which depends on its first 19
        #: characters only), then, unless its milliseconds (its last three digits) are
        #: ``000``, ``.`` + the milliseconds + ``000``. None: another form, ``time_iso``.
        self.default_time_at = time_groups[0] if default_asctime else None

    @staticmethod
    def usable(prefix: re.Pattern[str]) -> bool:
        """Whether a prefix regex reads the same as one alternative of ``pattern`` (no
        anchors or look-behind that would see the chunk around a line) and reads something
        (an empty match could not tell a read line from an unread empty one)."""
        return _CONTEXTUAL.search(prefix.pattern) is None and prefix.match("") is None

    def split(self, text: str) -> list[Row] | None:
        """One row per line of ``text`` (``text.count("\\n") + 1`` of them: after a last
        newline comes an empty line); None when the regex did not cut the text at its
        newlines (then none of it is read this way)."""
        rows = self.pattern.findall(text)
        return rows if len(rows) == text.count("\n") + 1 else None

    def _groups(self, line: str) -> Groups:
        """The groups of the prefix matched on a read row's line, as the parser matches it."""
        m = self._prefix(line)
        if m is None:  # pragma: no cover - the same regex on the same line
            raise ValueError("a line read differently on its own")
        return m.groups()

    def head(self, line: str) -> tuple[str | None, int, str, dict[str, Any]]:
        """(level, level number, logger, extra fields) of a read row's line."""
        return self._head_values(self._groups(line))

    def time_iso(self, line: str) -> str | None:
        """The ISO text of the time of a read row's line (None: it has none, or it is no
        valid time)."""
        value = self._time_value(self._groups(line))[0]
        return None if value is None else value.isoformat()

    def second_iso(self, line: str) -> str | None:
        """For a read row's line whose time is in logging's default form: the ISO text of
        its second."""
        iso = self.time_iso(line)
        return None if iso is None else iso[:19]


def _getter(indexes: tuple[int, ...]) -> Callable[[Row], Any]:
    if not indexes:
        return lambda row: ()
    return itemgetter(*indexes)
