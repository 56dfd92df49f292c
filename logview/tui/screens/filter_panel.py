"""The main screen's filter list (F) and histogram range, mixed into ``MainScreen``.

Both edit the query text through the query bar, as the level keys and the logger tree do:
the list applies the terms still switched on, the histogram adds ``since:`` and ``until:``.
"""

from __future__ import annotations

from typing import Any

from logview.tui.query_edit import time_range_of, with_time_range
from logview.tui.widgets.filter_list import FilterList
from logview.tui.widgets.histogram import TimeHistogram
from logview.tui.widgets.query_bar import QueryBar


class FilterPanel:
    """F shows the filter list; its edits and the histogram's ranges become the query."""

    #: Provided by ``MainScreen``.
    _keep_tree_focus: bool
    records: Any
    query_one: Any

    def action_toggle_filters(self) -> None:
        """Show the filter list and focus it, or hide it."""
        filters = self.query_one(FilterList)
        filters.display = not filters.display
        if filters.display:
            filters.focus()
        else:
            self.records.focus()

    def show_filters(self, text: str) -> None:
        """The query bar applied ``text``: the list and the histogram's range follow it."""
        self.query_one(FilterList).show_query(text)
        self.query_one(TimeHistogram).set_range(*time_range_of(text))

    def on_filter_list_changed(self, message: FilterList.Changed) -> None:
        # The list keeps the focus: several terms are switched one after another.
        self._submit(message.text, keep_focus=True)

    def on_filter_list_edit(self, message: FilterList.Edit) -> None:
        self.query_one(QueryBar).edit()

    def on_time_histogram_range_selected(self, message: TimeHistogram.RangeSelected) -> None:
        bar = self.query_one(QueryBar)
        self._submit(with_time_range(bar.applied, message.start, message.end), keep_focus=True)

    def _submit(self, text: str, *, keep_focus: bool) -> None:
        self._keep_tree_focus = keep_focus
        if not self.query_one(QueryBar).submit(text):
            self._keep_tree_focus = False
