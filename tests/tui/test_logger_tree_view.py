"""The logger tree as a newcomer meets it: two levels open, the cursor on the filtered node
(while new loggers arrive above it, and when the query is typed by hand)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from logview.tui.app import LogviewApp
from logview.tui.widgets.logger_tree import LoggerTree
from logview.tui.widgets.record_list import RecordList
from tui.conftest import type_text, until


class TreeApp(App):
    def compose(self) -> ComposeResult:
        yield LoggerTree(id="loggers")


async def test_top_level_loggers_open_so_two_levels_show():
    app = TreeApp()
    async with app.run_test(size=(60, 20)) as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"shop.cart": 3, "shop.payment.stripe": 2, "db": 1})
        await pilot.pause()
        assert tree.node_for("shop").is_expanded
        assert tree.node_for("shop.cart").line >= 0  # visible without pressing anything
        assert tree.node_for("shop.payment").line >= 0
        assert not tree.node_for("shop.payment").is_expanded  # deeper levels stay closed
        assert tree.node_for("shop.payment.stripe").line == -1


async def test_cursor_stays_on_its_node_while_loggers_arrive_above():
    app = TreeApp()
    async with app.run_test(size=(60, 20)) as pilot:
        tree = app.query_one(LoggerTree)
        tree.focus()
        tree.add_counts({"worker.jobs": 5, "shop.cart": 2})
        await pilot.pause()
        tree.set_active("worker.jobs")
        await pilot.pause()
        assert tree.cursor_node is tree.node_for("worker.jobs")
        before = tree.cursor_line
        tree.add_counts({"api.v1": 1, "api.v2": 1, "auth": 1, "shop.basket": 4})
        await pilot.pause()
        assert tree.cursor_line > before  # four lines were inserted above it
        assert tree.cursor_node is tree.node_for("worker.jobs")
        await pilot.press("enter")  # and Enter still means the node the user sees
        await pilot.pause()
        assert tree.active == "worker.jobs"


async def test_typed_logger_query_marks_the_tree_and_t_shows_it(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        tree = app.screen.query_one(LoggerTree)
        await until(pilot, lambda: records.length == 40 and tree.total == 40)
        await pilot.press("ampersand")
        await type_text(pilot, app, "logger:app.db")
        await pilot.press("enter")
        await until(pilot, lambda: records.positions is not None and records.row_count == 10)
        assert tree.active == "app.db" and not tree.active_exclude
        assert "● db" in str(tree.node_for("app.db").label)
        await pilot.press("t")
        await pilot.pause()
        assert app.focused is tree
        assert tree.cursor_node is tree.node_for("app.db")
        await pilot.press("ampersand", "ctrl+u", "enter")  # clearing the query clears the mark
        await until(pilot, lambda: records.positions is None)
        assert tree.active is None
        assert "●" not in str(tree.node_for("app.db").label)


async def test_tree_shows_children_of_top_level_loggers_in_the_app(make_store):
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.screen.query_one(LoggerTree)
        await until(pilot, lambda: tree.total == 40)
        await pilot.press("t")
        await pilot.pause()
        text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "db 10" in text and "http 10" in text  # children of "app", counted


async def test_hidden_loggers_accumulate_and_the_tree_keeps_the_focus(make_store):
    """x on a second logger keeps the first hidden (as lnav's filters stack); x on a hidden
    one shows it again; the tree keeps the focus so several can be hidden in a row."""
    app = LogviewApp(make_store(40))
    async with app.run_test(size=(100, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        tree = app.screen.query_one(LoggerTree)
        bar = app.screen.query_one("#query-bar")
        await until(pilot, lambda: records.length == 40 and tree.total == 40)
        await pilot.press("t")
        for name, query, rows in (("worker", "-logger:worker", 30),
                                  ("app.db", "-logger:worker -logger:app.db", 20),
                                  ("worker", "-logger:app.db", 30)):
            tree.move_cursor(tree.node_for(name))
            await pilot.press("x")
            await until(pilot, lambda query=query: bar.applied == query)
            await until(pilot, lambda rows=rows: records.positions is not None
                        and records.row_count == rows and app.screen._filter_progress is None)
            assert app.focused is tree
        assert tree.hidden == ["app.db"]
        assert "✗" in str(tree.node_for("app.db").label)
        assert "✗" not in str(tree.node_for("worker").label)
        tree.move_cursor(tree.node_for("app"))
        await pilot.press("enter")  # show one subtree alone: what is hidden in it stays hidden
        await until(pilot, lambda: bar.applied == "logger:app -logger:app.db")
        await until(pilot, lambda: records.positions is not None and records.row_count == 20
                    and app.screen._filter_progress is None)
