"""Counts of a ClickHouse table computed by the server (``GROUP BY``), for the level bar, the
logger tree and the histogram of a table that is never downloaded: per level bucket, per logger
and per (time bucket, level bucket), over the rows a push-down admits.

The counts are the ones logview would make from the records: a severity number of 1-24 gives
the level bucket in SQL (a text can only refine a level within its band, ``otel.record_level``);
rows without one are grouped by their ``SeverityText`` and read with ``level_from_name`` here,
as the records are; loggers are grouped by ``ScopeName`` and cleaned of ANSI codes here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from logview.record import LEVEL_BUCKETS, level_bucket, strip_ansi
from logview.sources.clickhouse_feed import RowFeed
from logview.sources.clickhouse_table import EMPTY
from logview.sources.otel import BANDS, MAX_SEVERITY, record_level

#: The level bucket of each OTel band (TRACE and DEBUG are both DEBUG).
_BAND_BUCKETS = [level_bucket(base) for _first, _name, base in BANDS]


@dataclass(slots=True)
class TableCounts:
    """Counts per level bucket (``LEVEL_BUCKETS``), without a level, in all, per logger."""

    levels: list[int] = field(default_factory=lambda: [0] * len(LEVEL_BUCKETS))
    unknown: int = 0
    total: int = 0
    loggers: dict[str, int] = field(default_factory=dict)


def _number_sql(shape) -> str:
    return shape.number or "0"


def _text_sql(shape) -> str:
    """The severity text where the number does not decide the level ('' elsewhere: fewer
    groups)."""
    number = _number_sql(shape)
    return f"if({number} BETWEEN 1 AND {MAX_SEVERITY}, '', {shape.text or EMPTY})"


def _bucket(number: int, text: str) -> int:
    """The level bucket of a row: its severity band's, or its text's when it has no valid
    number (as ``otel.record_level``: a text refines a level within its band only)."""
    if 1 <= number <= MAX_SEVERITY:
        return _BAND_BUCKETS[(number - 1) // 4]
    return level_bucket(record_level(text, 0)[1])


def level_and_logger_counts(feed: RowFeed) -> TableCounts:
    """Level buckets and loggers of the rows ``feed`` admits, in one grouped query."""
    shape = feed.shape
    rows = feed.aggregate(f"{shape.logger} AS lv_logger, {_number_sql(shape)} AS lv_number, "
                          f"{_text_sql(shape)} AS lv_text, count() AS lv_n",
                          "GROUP BY lv_logger, lv_number, lv_text")
    counts = TableCounts()
    loggers: Counter[str] = Counter()
    for logger, number, level_text, count in rows:
        count = int(count)
        bucket = _bucket(int(number), str(level_text))
        if bucket < 0:
            counts.unknown += count
        else:
            counts.levels[bucket] += count
        counts.total += count
        loggers[strip_ansi(str(logger))] += count
    counts.loggers = dict(loggers)
    return counts


def histogram(feed: RowFeed, seconds: int) -> list[tuple[int, int, int]]:
    """(bucket start in epoch seconds, level bucket or -1, rows) per ``seconds``-wide time
    bucket and level bucket, in time order."""
    shape = feed.shape
    rows = feed.aggregate(
        f"intDiv(toUnixTimestamp64Nano(toDateTime64({shape.time}, 9)), "
        "{lv_width:Int64}) AS lv_slot, "
        f"{_number_sql(shape)} AS lv_number, {_text_sql(shape)} AS lv_text, count() AS lv_n",
        "GROUP BY lv_slot, lv_number, lv_text", {"lv_width": seconds * 1_000_000_000})
    merged: Counter[tuple[int, int]] = Counter()
    for slot, number, level_text, count in rows:
        merged[int(slot) * seconds, _bucket(int(number), str(level_text))] += int(count)
    return sorted((start, bucket, count) for (start, bucket), count in merged.items())


def time_span(feed: RowFeed) -> tuple[int, int] | None:
    """(oldest, newest) time in epoch ns of the rows ``feed`` admits; None when there are
    none."""
    ns = f"toUnixTimestamp64Nano(toDateTime64({feed.shape.time}, 9))"
    ((low, high, count),) = feed.aggregate(f"min({ns}), max({ns}), count()")
    return None if not int(count) else (int(low), int(high))
