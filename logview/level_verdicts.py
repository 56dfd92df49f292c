"""A query's verdict on records of which only the level is known (the head path).

Records found by their heads (``level_heads``) come with the level name each head opens
with, and the parser reads one level number from each name. When every term of the query
is about levels, that number decides, without reading the records' columns: the query's
``column_mask`` is asked on a view that holds levels alone, and refuses (None) as soon as a
term asks for a logger (or a time, which a level-first template has not got). A verdict on
levels alone is one per level, so it is asked once for each name that occurs in a range (a
few), not once for each record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from logview.columns import ColumnView

if TYPE_CHECKING:
    from logview.level_heads import LevelHeads


class _NotLevels(Exception):
    """A query read more of a record than its level (``levels_keep``)."""


class _NoLoggers(list):
    """The logger names of a view that has only levels: asking for them is refused."""

    def __iter__(self):
        raise _NotLevels

    def __len__(self) -> int:
        raise _NotLevels


def levels_keep(query: Any, levelnos: np.ndarray) -> np.ndarray | None:
    """The query's ``column_mask`` on records of which only the level numbers are known,
    or None when it asks for more (a logger: refused; a time: there is none, so the
    columns do not answer)."""
    view = ColumnView(levelnos, np.zeros(len(levelnos), dtype=np.int32), _NoLoggers())
    try:
        return query.column_mask(view)
    except _NotLevels:
        return None


def keep_by_names(heads: LevelHeads, query: Any, names: list[bytes]
                  ) -> np.ndarray | bool | None:
    """``levels_keep`` for records known by the names their heads open with (``heads``'
    ``named_spans``): True when it keeps every one, or None when it reads more than levels
    or the parser reads no level from one of the names."""
    distinct = list(set(names))
    levelnos = heads.levelnos(distinct)
    verdict = None if levelnos is None else levels_keep(query, levelnos)
    if verdict is None:
        return None
    if verdict.all():
        return True
    by_name = dict(zip(distinct, verdict.tolist()))
    return np.fromiter((by_name[n] for n in names), dtype=bool, count=len(names))
