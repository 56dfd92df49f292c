"""The filter list (F): the applied query's top-level terms as rows with on/off boxes; space
switches one off and on (the query text round-trips), d deletes one, Enter edits the query."""

from __future__ import annotations

import pytest

from logview.query import parse_query
from logview.query.spans import conjunct_spans
from logview.tui.app import LogviewApp
from logview.tui.filter_terms import FilterTerms
from logview.tui.query_edit import with_logger, with_min_level, with_time_range
from logview.tui.widgets.filter_list import FilterList
from logview.tui.widgets.level_bar import LevelBar
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import screen_text, until


@pytest.mark.parametrize(("query", "parts"), [
    ("", []),
    ("level>=WARNING logger:app.db -logger:urllib3 /timeout/ since:-5m",
     ["level>=WARNING", "logger:app.db", "-logger:urllib3", "/timeout/", "since:-5m"]),
    ("a and NOT b", ["a", "NOT b"]),
    ("(a or b) -(c d) x", ["(a or b)", "-(c d)", "x"]),
    ("not(a or b) x", ["not(a or b)", "x"]),
    ('msg:"a b" "c d"', ['msg:"a b"', '"c d"']),
    ("a b or c", ["a b or c"]),  # a top-level or is one part
])
def test_top_level_parts_are_spans_of_the_text(query, parts):
    spans = conjunct_spans(query)
    assert [span.text for span in spans] == parts
    assert all(query[span.start:span.end] == span.text for span in spans)
    assert [span.any_of for span in spans] == [query == "a b or c"] * len(parts)


QUERIES = [
    "level>=WARNING logger:app.db -logger:urllib3",
    "  a  and  b  NOT c /x y/i ",
    '(a or b) and -(c d) msg:"x y"',
    "a b or c",
    'user=alice "quoted phrase" -has:exc',
]


@pytest.mark.parametrize("query", QUERIES)
def test_switching_any_term_off_and_on_gives_back_the_text(query):
    terms = FilterTerms()
    assert terms.sync(query)
    for index in range(len(terms)):
        without = terms.toggle(index)
        parse_query(without)  # what is applied always parses
        assert terms.terms[index].text not in [t.text for t in terms.terms if t.enabled]
        assert terms.toggle(index) == query
    # Two off at once, put back in the other order.
    if len(terms) > 1:
        terms.toggle(0)
        terms.toggle(len(terms) - 1)
        terms.toggle(0)
        assert terms.toggle(len(terms) - 1) == query


def test_terms_switched_off_stay_when_the_query_is_edited_elsewhere():
    terms = FilterTerms()
    terms.sync("a b or c")
    terms.toggle(0)
    assert terms.text() == ""
    assert terms.sync("level>=ERROR")  # typed in the bar, or a level key
    assert [(t.text, t.enabled) for t in terms.terms] == [("level>=ERROR", True),
                                                          ("a b or c", False)]
    assert terms.toggle(1) == "level>=ERROR (a b or c)"  # grouped: it still means the same
    assert not terms.sync("level>=ERROR (a b or c)")  # our own query coming back: no change


async def test_f_shows_the_list_focused_and_says_how_to_add_filters(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        await until(pilot, lambda: records.length == 40)
        filters = screen.query_one(FilterList)
        assert not filters.display
        await pilot.press("F")
        await until(pilot, lambda: app.focused is filters)
        assert filters.display
        assert "No filters yet" in screen_text(app)
        await pilot.press("F")
        await until(pilot, lambda: not filters.display and app.focused is records)


async def test_space_toggles_a_term_and_d_deletes_one(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        bar = screen.query_one(QueryBar)
        filters = screen.query_one(FilterList)
        await until(pilot, lambda: records.length == 40)
        query = "logger:app.db  and -event"
        bar.submit("logger:app.db  and -event")
        await until(pilot, lambda: records.positions is not None and records.row_count == 0)
        await pilot.press("F")
        await until(pilot, lambda: app.focused is filters)
        assert filters.terms == [("logger:app.db", True), ("-event", True)]
        assert "[x] -event" in screen_text(app)
        await pilot.press("down", "space")  # -event off: the ten app.db records come back
        await until(pilot, lambda: bar.applied == "logger:app.db" and records.row_count == 10)
        assert filters.terms == [("logger:app.db", True), ("-event", False)]
        assert "[ ] -event" in screen_text(app)
        assert app.focused is filters  # the list keeps the focus for the next term
        await pilot.press("space")  # and on again: the text as typed
        await until(pilot, lambda: bar.applied == query and records.row_count == 0)
        await pilot.click(FilterList, offset=(2, 1))  # a click switches a term too
        await until(pilot, lambda: bar.applied == "logger:app.db" and records.row_count == 10)
        await pilot.click(FilterList, offset=(2, 1))
        await until(pilot, lambda: bar.applied == query)
        await pilot.press("up", "d")
        await until(pilot, lambda: bar.applied == "-event")
        assert filters.terms == [("-event", True)]
        await pilot.press("delete")
        await until(pilot, lambda: bar.applied == "" and records.positions is None)
        assert "No filters yet" in screen_text(app)


async def test_level_keys_and_logger_tree_terms_appear_and_toggle(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        bar = screen.query_one(QueryBar)
        filters = screen.query_one(FilterList)
        tree = screen.query_one(LoggerTree)
        await until(pilot, lambda: records.length == 40 and tree.total == 40)
        await pilot.press("4")  # ERROR and worse
        await until(pilot, lambda: bar.applied == "level>=ERROR")
        await pilot.press("t")
        await until(pilot, lambda: app.focused is tree)
        tree.move_cursor(tree.node_for("worker"))
        await pilot.press("x")
        await until(pilot, lambda: bar.applied == "level>=ERROR -logger:worker")
        assert filters.terms == [("level>=ERROR", True), ("-logger:worker", True)]
        await pilot.press("F")
        await until(pilot, lambda: app.focused is filters)
        await pilot.press("home", "space")  # the level term off: every level again
        await until(pilot, lambda: bar.applied == "-logger:worker")
        assert screen.query_one(LevelBar).min_level is None
        await pilot.press("space")
        await until(pilot, lambda: bar.applied == "level>=ERROR -logger:worker")
        assert screen.query_one(LevelBar).min_level == "ERROR"


async def test_enter_in_the_list_edits_the_whole_query(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        records = screen.query_one(RecordList)
        bar = screen.query_one(QueryBar)
        await until(pilot, lambda: records.length == 40)
        bar.submit("app level>=INFO")
        # (the filter applied first, so nothing it does later races the keys below: in one
        # loaded full run Enter did not reach the list)
        await until(pilot, lambda: records.positions is not None)
        await pilot.press("F")
        await until(pilot, lambda: app.focused is screen.query_one(FilterList))
        await pilot.press("enter")
        await until(pilot, lambda: app.focused is bar.input)
        assert bar.input.value == "app level>=INFO"


def test_terms_added_beside_a_top_level_or_keep_their_meaning():
    """A level key, the logger tree or a histogram range add a term to the query: beside
    ``a or b`` it must not become ``(level>=ERROR a) or b``."""
    assert with_min_level("a or b", "ERROR") == "level>=ERROR (a or b)"
    assert with_logger("a or b", "app.db", exclude=True) == "(a or b) -logger:app.db"
    assert with_time_range("a or b", 0.0, 1.0).startswith("(a or b) since:")
    terms = FilterTerms()
    terms.sync(with_min_level("a or b", "ERROR"))
    assert [t.text for t in terms.terms] == ["level>=ERROR", "(a or b)"]
