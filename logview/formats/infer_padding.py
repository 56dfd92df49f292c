"""How a field of an inferred template is padded (``%(levelname)-8s``, ``%(name)-12s``,
``%(process)5d``), from the spaces beside its values in the aligned sample lines."""

from __future__ import annotations

from collections import Counter

from logview.formats.align import Column, column_at

#: The longest standard level name: a padded level column is at least this wide.
LEVEL_WIDTH = len("CRITICAL")


def padding(columns: list[Column], i: int) -> str:
    """How a field is padded: ``-W`` when spaces after it fill it to W characters
    (``%(levelname)-8s``), ``W`` when spaces before it do (``%(levelname)8s``).

    A sample need not hold the longest value (few logs start with a CRITICAL record), so a
    level column is taken to be at least 8 wide, and the separator beside a padded field at
    most one space: the rest is padding.
    """
    col = columns[i]
    sides = (("-", column_at(columns, i + 1)), ("", column_at(columns, i - 1)))
    if col.kind in ("number", "level"):
        # numbers are padded on the left (``%(process)5d``); a level only when it has two
        # spaces or more before it in every line (``%(levelname)8s``, else it is on the right)
        sides = sides[::-1]
    for side, gap_col in sides:
        if gap_col is None or gap_col.kind != "ws" or len(gap_col.values) != len(col.values):
            continue
        beyond = column_at(columns, i + 2)
        if side == "-" and col.kind == "number" and beyond is not None and beyond.kind == "number":
            continue  # "1702  2395": the second number's left padding, not the first's right
        gaps = [len(w) for w in gap_col.values]
        low = min(gaps)
        if max(gaps) == low:
            # (spaces before a level after a word are that word's padding: %(name)-12s)
            before = column_at(columns, i - 2) if side == "" else None
            found = None if before is not None and before.kind == "word" else (
                _one_width_padding(col, side, low, beyond))
            if found is None:
                continue
            gap_col.width, gap_col.form = found[1], "sep"
            return found[0]
        totals = Counter(len(v) + g for v, g in zip(col.values, gaps, strict=True) if g > low)
        total, count = totals.most_common(1)[0]
        if count < 0.9 * totals.total():  # the gap is some other field's padding
            continue
        sep = min(low, 1)
        if col.kind == "level" and total - sep < LEVEL_WIDTH <= total - 1:
            sep = total - LEVEL_WIDTH
        if side == "" and column_at(columns, i - 2) is not None and columns[i - 2].kind == "open":
            sep = 0 if total - 0 >= LEVEL_WIDTH or col.kind != "level" else sep
        width = total - sep
        if width > 1:
            gap_col.width, gap_col.form = sep, "sep"
            return f"{side}{width}"
    return ""


def _one_width_padding(col: Column, side: str, gap: int, beyond: Column | None
                       ) -> tuple[str, int] | None:
    """The padding of a field whose sampled values all have one length and the same gap
    beside them (a program's first hundreds of lines: INFO from one logger), as (padding,
    separator), or None: a literal.

    Spaces after a level are padding when they make it at least as wide as CRITICAL
    (``INFO`` and five spaces: ``%(levelname)-8s``; ``INFO  app`` stays a literal). Spaces
    before a level, and after any other word (``%(name)-12s``: ``app`` and ten spaces), are
    padding when there are two or more. The separator is one space, or none before a
    closing bracket."""
    if col.kind == "number" or len({len(v) for v in col.values}) != 1:
        return None
    total = len(col.values[0]) + gap
    closing = beyond is not None and beyond.kind == "close"
    if side == "-" and col.kind == "level":
        if total < LEVEL_WIDTH:  # "INFO  app": a literal (%(levelname)-5s is rare)
            return None
        sep = 0 if closing else 1
    elif gap >= 2 and (side == "-" or col.kind == "level"):
        sep = 0 if closing and side == "-" else 1
    else:
        return None
    width = total - sep
    return (f"{side}{width}", sep) if width > 1 else None
