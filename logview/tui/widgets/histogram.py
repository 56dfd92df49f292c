"""Records per time bucket, coloured by the worst level in each bucket, with the span labelled.

API for the core::

    hist = TimeHistogram(id="histogram")
    hist.set_data(times, levelnos)   # numpy arrays: float epoch seconds, level numbers
    hist.add(times, levelnos)        # more records (live input); cheap, O(batch)
    hist.set_all_bins(bins)          # the counts of every record, binned by the counter
    hist.clear()
    hist.set_hits(times)             # the find's hits: their buckets are marked (None: none)
    hist.show_filtered(answerable)   # a filter applied: its records' times (add_filtered)
    hist.add_filtered(times, levelnos)  # more of the filtered records
    hist.show_all()                  # no filter: every record again

Message (handle as ``on_time_histogram_bucket_selected``):

- ``TimeHistogram.BucketSelected(start, end)``: a bucket was clicked, or chosen with
  left/right + Enter while focused; the core jumps to the first record at/after ``start``.
- ``TimeHistogram.RangeSelected(start, end)``: space on a bucket, left/right, space again
  (or a mouse drag across buckets) chose the buckets from one to the other; the core keeps
  the records of ``[start, end)`` (``since:``/``until:``). Escape drops a range begun.
  ``set_range(since, until)`` draws the range the query keeps.

A filter the record columns answer (levels, loggers, times) has a histogram of its own,
filled from the columns (``stats.FilteredTimes``); the counts of all records are kept on the
side and shown again when the filter goes. Under any other filter the histogram shows every
record and says so ("all N records, not filtered").

Memory is bounded whatever the input: records are counted into ``TimeBins`` (4096 fine bins
per level class, power-of-two seconds wide, widened by merging as the span grows), and the
columns on screen are whole groups of fine bins, so the counts shown and the time range a
click reports are exact for each other. Times that are NaN or absurd are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click, MouseDown, MouseMove, MouseUp
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from logview.time_bins import TimeBins
from logview.tui.widgets.status_bar import count_of

#: Level classes counted separately: below WARNING, WARNING, ERROR and worse.
REST, WARN, ERR = 0, 1, 2
_BLOCKS = " ▁▂▃▄▅▆▇█"

__all__ = ["ERR", "REST", "WARN", "TimeBins", "TimeHistogram", "format_duration"]


def _runs(kinds: list[int]) -> list[tuple[int, int, int]]:
    """``(start, end, kind)`` of each run of equal values in ``kinds``."""
    runs: list[tuple[int, int, int]] = []
    start = 0
    for col in range(1, len(kinds) + 1):
        if col == len(kinds) or kinds[col] != kinds[start]:
            runs.append((start, col, kinds[start]))
            start = col
    return runs


def _format_time(ts: float, *, with_date: bool) -> str:
    try:
        moment = datetime.fromtimestamp(ts)
    except (OverflowError, OSError, ValueError):
        return "?"
    return moment.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def format_duration(seconds: float) -> str:
    """A compact duration: 250ms, 30s, 5m, 2h, 3d."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(
                ".") + unit
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}".rstrip("0").rstrip(".") + "s"


class TimeHistogram(Widget, can_focus=True):
    """Bars of records per time bucket (colour: worst level in the bucket) and a time axis."""

    DEFAULT_CSS = """
    TimeHistogram { height: 3; width: 1fr; }
    TimeHistogram > .histogram--rest { color: $primary; }
    TimeHistogram > .histogram--warning { color: $warning; }
    TimeHistogram > .histogram--error { color: $error; }
    TimeHistogram > .histogram--cursor { background: $accent 40%; }
    TimeHistogram > .histogram--label { color: $text-muted; }
    TimeHistogram > .histogram--hit { background: $success 45%; }
    TimeHistogram > .histogram--range { background: $accent 25%; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "histogram--rest",
        "histogram--warning",
        "histogram--error",
        "histogram--cursor",
        "histogram--label",
        "histogram--hit",
        "histogram--range",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("home", "move_to(0)", "First", show=False),
        Binding("end", "move_to(-1)", "Last", show=False),
        Binding("enter", "select", "Jump to bucket"),
        Binding("space", "mark", "Time range"),
        Binding("escape", "cancel_range", "Cancel range", show=False),
    ]

    #: Column under the keyboard cursor, or -1 when none.
    cursor: reactive[int] = reactive(-1)
    #: Column where a range being chosen begins (space), or -1 when none is.
    anchor: reactive[int] = reactive(-1)

    class BucketSelected(Message):
        """A bucket was chosen: jump to the first record at/after ``start``."""

        def __init__(self, start: float, end: float) -> None:
            super().__init__()
            #: Epoch seconds where the bucket starts (inclusive) and ends (exclusive).
            self.start = start
            self.end = end

        def __repr__(self) -> str:
            return f"TimeHistogram.BucketSelected({self.start!r}, {self.end!r})"

    class RangeSelected(Message):
        """Buckets from one to another were chosen: keep the records of ``[start, end)``."""

        def __init__(self, start: float, end: float) -> None:
            super().__init__()
            self.start = start
            self.end = end

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        #: Every record's counts, and the filtered records' (None: no filter drawn).
        self.all_bins = TimeBins()
        self.filtered_bins: TimeBins | None = None
        #: A filter is applied that the columns cannot answer: every record is drawn.
        self.unfiltered = False
        self._cache_key: tuple[int, int, int] | None = None
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        #: Times of the find's hits (epoch seconds; None: no find).
        self._hits: np.ndarray | None = None
        self._hit_key: tuple[int, int, int, int] | None = None
        self._hit_columns: np.ndarray = np.zeros(0, dtype=bool)
        #: The time range the query keeps (since, until), drawn highlighted; None: open.
        self.kept: tuple[float | None, float | None] = (None, None)
        #: Column where a mouse drag began (-1: none), and whether it crossed buckets.
        self._drag_from = -1
        self._dragged = False

    # -- data ------------------------------------------------------------------------------

    @property
    def bins(self) -> TimeBins:
        """The counts drawn: the filtered records' when a filter has its own, else all."""
        return self.all_bins if self.filtered_bins is None else self.filtered_bins

    def set_data(self, times: np.ndarray, levelnos: np.ndarray) -> None:
        """Replace every record's data with these records."""
        self.all_bins.clear()
        self.cursor = self.anchor = -1
        self.all_bins.add(times, levelnos)
        self.refresh()

    def set_weighted(self, times: np.ndarray, levelnos: np.ndarray,
                     weights: np.ndarray) -> None:
        """Replace all data with counts grouped by a server: ``weights[i]`` records at
        ``times[i]`` with ``levelnos[i]``."""
        self.bins.clear()
        self.cursor = self.anchor = -1
        self.bins.add(times, levelnos, weights)
        self.refresh()

    def add(self, times: np.ndarray, levelnos: np.ndarray) -> None:
        """Count more records (live input)."""
        if self.all_bins.add(times, levelnos) and self.filtered_bins is None:
            self.refresh()

    def set_all_bins(self, bins: TimeBins) -> None:
        """Hold ``bins`` as the counts of every record (the counting thread's, copied)."""
        self.all_bins.copy_from(bins)
        if self.filtered_bins is None:
            self.refresh()

    def show_filtered(self, answerable: bool) -> None:
        """A filter was applied: draw its records (given by ``add_filtered``) when the columns
        answer it (``answerable``), else every record, saying so."""
        self.filtered_bins = TimeBins() if answerable else None
        self.unfiltered = not answerable
        self.cursor = self.anchor = -1
        self.refresh()

    def add_filtered(self, times: np.ndarray, levelnos: np.ndarray) -> None:
        """Count more records of the filter drawn."""
        if self.filtered_bins is not None and self.filtered_bins.add(times, levelnos):
            self.refresh()

    def show_all(self) -> None:
        """No filter: draw every record."""
        if self.filtered_bins is not None:
            self.cursor = self.anchor = -1
        self.filtered_bins = None
        self.unfiltered = False
        self.refresh()

    def clear(self) -> None:
        """Show nothing (the filter's counts too: they are counted again)."""
        self.all_bins.clear()
        if self.filtered_bins is not None:
            self.filtered_bins.clear()
        self.cursor = self.anchor = -1
        self.refresh()

    def set_hits(self, times: np.ndarray | None) -> None:
        """The find's hits at ``times`` (epoch seconds): buckets holding one are marked."""
        if times is None and self._hits is None:
            return
        self._hits = times
        self._hit_key = None
        self.refresh()

    def hit_columns(self) -> np.ndarray:
        """For each bucket as drawn: whether it holds a hit of the find."""
        starts, ends, _ = self.buckets()
        hits = self._hits
        key = (id(self.bins), self.bins.version, self.size.width,
               -1 if hits is None else len(hits))
        if key != self._hit_key:
            self._hit_key = key
            marked = np.zeros(len(starts), dtype=bool)
            if hits is not None and len(hits) and len(starts):
                edges = np.append(starts, ends[-1])
                inside = hits[(hits >= edges[0]) & (hits < edges[-1])]
                marked[np.unique(np.searchsorted(edges, inside, side="right") - 1)] = True
            self._hit_columns = marked
        return self._hit_columns

    def buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The buckets as drawn at the current width: (starts, ends, counts[3, n])."""
        key = (id(self.bins), self.bins.version, self.size.width)
        if self._cache_key != key or self._cache is None:
            self._cache = self.bins.buckets(self.size.width)
            self._cache_key = key
        return self._cache

    # -- input -----------------------------------------------------------------------------

    def _post_bucket(self, column: int) -> None:
        starts, ends, _ = self.buckets()
        if 0 <= column < len(starts):
            self.post_message(self.BucketSelected(float(starts[column]), float(ends[column])))

    def on_click(self, event: Click) -> None:
        if self._dragged:  # the end of a drag across buckets, not a click on one
            self._dragged = False
            return
        starts, _, _ = self.buckets()
        if 0 <= event.x < len(starts):
            self.cursor = event.x
            self._post_bucket(event.x)

    def action_move(self, step: int) -> None:
        count = len(self.buckets()[0])
        if count:
            start = self.cursor if self.cursor >= 0 else (count if step < 0 else -1)
            self.cursor = max(0, min(count - 1, start + step))

    def action_move_to(self, column: int) -> None:
        count = len(self.buckets()[0])
        if count:
            self.cursor = column if column >= 0 else count - 1

    def action_select(self) -> None:
        self._post_bucket(self.cursor)

    # -- choosing a time range -------------------------------------------------------------

    def set_range(self, since: float | None, until: float | None) -> None:
        """Draw ``[since, until)`` (the range the query keeps) highlighted; Nones: open ends."""
        if (since, until) != self.kept:
            self.kept = (since, until)
            self.refresh()

    def action_mark(self) -> None:
        """Space: begin a range at the cursor bucket, or end it there and post it."""
        count = len(self.buckets()[0])
        if not count:
            return
        if self.cursor < 0:
            self.cursor = count - 1
        if self.anchor < 0:
            self.anchor = self.cursor
            self.notify("Range begun: move with ← → and press space at its other end "
                        "(Escape cancels)", timeout=4)
            return
        self._post_range(self.anchor, self.cursor)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape without a range begun goes on to the screen (it stops a running filter).
        return action != "cancel_range" or self.anchor >= 0

    def action_cancel_range(self) -> None:
        self.anchor = -1

    def _post_range(self, first: int, last: int) -> None:
        starts, ends, _ = self.buckets()
        first, last = sorted((first, last))
        self.anchor = -1
        if 0 <= first and last < len(starts):
            self.post_message(self.RangeSelected(float(starts[first]), float(ends[last])))

    def on_mouse_down(self, event: MouseDown) -> None:
        if event.button == 1 and 0 <= event.x < len(self.buckets()[0]):
            self._drag_from = event.x
            self._dragged = False
            self.capture_mouse()

    def on_mouse_move(self, event: MouseMove) -> None:
        if self._drag_from < 0:
            return
        count = len(self.buckets()[0])
        column = max(0, min(count - 1, event.x))
        if column != self._drag_from or self._dragged:
            self._dragged = True
            self.anchor = self._drag_from
            self.cursor = column

    def on_mouse_up(self, event: MouseUp) -> None:
        if self._drag_from < 0:
            return
        self.release_mouse()
        start, self._drag_from = self._drag_from, -1
        if self._dragged:
            self._post_range(start, self.cursor)

    def _range_columns(self, starts: np.ndarray, ends: np.ndarray) -> tuple[int, int]:
        """Columns [first, last) drawn as the range: the one being chosen, else the kept one."""
        if self.anchor >= 0 and self.cursor >= 0:
            first, last = sorted((self.anchor, self.cursor))
            return first, last + 1
        since, until = self.kept
        if since is None and until is None:
            return 0, 0
        first = 0 if since is None else int(np.searchsorted(ends, since, side="right"))
        last = len(starts) if until is None else int(np.searchsorted(starts, until, side="left"))
        return first, max(first, last)

    # -- drawing ---------------------------------------------------------------------------

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        starts, ends, counts = self.buckets()
        bar_rows = max(1, height - 1)
        label_style = self.get_component_rich_style("histogram--label")
        if not len(starts):
            empty = "no timestamps" if self.filtered_bins is None else "no matching timestamps"
            return Text("\n" * (height - 1) + empty, style=label_style)
        totals = counts.sum(axis=0)
        peak = int(totals.max()) or 1
        eighths = np.ceil(totals * (bar_rows * 8) / peak).astype(np.int64)
        styles = [self.get_component_rich_style(name) for name in
                  ("histogram--rest", "histogram--warning", "histogram--error")]
        worst = np.where(counts[ERR] > 0, ERR, np.where(counts[WARN] > 0, WARN, REST))
        cursor_style = self.get_component_rich_style("histogram--cursor")
        # One span per run of columns coloured alike, not one per column: Textual turns each
        # span into a style of its own when it draws (a few hundred took ~10 ms a drawing).
        # The hit background only: the bars keep the colour of their worst level. A column's
        # kind is its worst level plus 3 x flags (1 cursor, 2 kept range, 4 hit): runs of their
        # own.
        hit_style = Style(bgcolor=self.get_component_rich_style("histogram--hit").bgcolor)
        flags = 4 * self.hit_columns().astype(np.int64)
        first, last = self._range_columns(starts, ends)
        flags[first:max(first, min(last, len(flags)))] |= 2
        kinds = (worst + 3 * flags).tolist()
        if 0 <= self.cursor < len(kinds):
            kinds[self.cursor] += 3  # the cursor column (flag 1)
        runs = _runs(kinds)
        range_style = self.get_component_rich_style("histogram--range")
        none = Style()
        run_styles = [styles[kind % 3] + (range_style if kind // 3 & 2 else none)
                      + (hit_style if kind // 3 & 4 else none)
                      + (cursor_style if kind // 3 & 1 else none)
                      for _, _, kind in runs]
        lines = []
        for row in range(bar_rows):
            floor = (bar_rows - 1 - row) * 8
            bars = "".join([_BLOCKS[level] for level in np.clip(eighths - floor, 0, 8).tolist()])
            line = Text(no_wrap=True, overflow="crop")
            for (start, end, _), style in zip(runs, run_styles, strict=True):
                line.append(bars[start:end], style)
            lines.append(line)
        lines.append(self._axis(width, starts, ends, counts, label_style))
        return Text("\n").join(lines[-height:])

    def _axis(self, width: int, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray,
              style: Style) -> Text:
        """First time left, last time right, and the cursor bucket (or bucket size) between."""
        first, last = self.bins.tmin, self.bins.tmax
        same_day = _format_time(first, with_date=True)[:5] == _format_time(last, with_date=True)[:5]
        left = _format_time(first, with_date=True)
        right = _format_time(last, with_date=not same_day)
        if 0 <= self.anchor < len(starts) and 0 <= self.cursor < len(starts):
            lo, hi = sorted((self.anchor, self.cursor))
            middle = (f"{_format_time(float(starts[lo]), with_date=False)} to "
                      f"{_format_time(float(ends[hi]), with_date=False)}: "
                      f"{int(counts[:, lo:hi + 1].sum()):,} (space: keep)")
        elif 0 <= self.cursor < len(starts):
            c = self.cursor
            middle = (f"{_format_time(float(starts[c]), with_date=False)} "
                      f"+{format_duration(float(ends[c] - starts[c]))}: "
                      f"{int(counts[:, c].sum()):,}")
            if counts[ERR, c]:
                middle += f" ({int(counts[ERR, c]):,} err)"
        else:
            counted = count_of(self.bins.total, "record")
            if self.filtered_bins is not None:
                counted += " matching"
            elif self.unfiltered:
                counted = f"all {counted}, not filtered"
            middle = f"{counted} · {format_duration(float(ends[0] - starts[0]))}/col"
        room = width - len(left) - len(right)
        if room < len(middle) + 2:
            middle = ""
        if room < 1:
            return Text(left[:width], style=style, no_wrap=True, overflow="crop")
        pad = room - len(middle)
        return Text(f"{left}{' ' * (pad // 2)}{middle}{' ' * (pad - pad // 2)}{right}",
                    style=style, no_wrap=True, overflow="crop")
