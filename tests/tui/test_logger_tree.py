"""LoggerTree: subtree counts after live updates, Selected messages, active marker, bounds."""

from __future__ import annotations

import asyncio
import functools
import logging

from textual.app import App, ComposeResult

from logview.tui.widgets import logger_tree as logger_tree_module
from logview.tui.widgets.logger_tree import LoggerTree, format_count


def sync(test):
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


class TreeApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[tuple[str | None, bool]] = []

    def compose(self) -> ComposeResult:
        yield LoggerTree(id="loggers")

    def on_logger_tree_selected(self, event: LoggerTree.Selected) -> None:
        self.selected.append((event.logger, event.exclude))


def _label(tree: LoggerTree, logger: str | None) -> str:
    node = tree.node_for(logger)
    assert node is not None, logger
    return str(node.label)


@sync
async def test_counts_include_descendants_and_update_in_place():
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"app.db": 5, "app.web.auth": 2, "worker": 1, "": 3})
        await pilot.pause()
        assert tree.counts["app"] == 7
        assert tree.counts["app.db"] == 5
        assert tree.counts["app.web"] == 2
        assert tree.counts["app.web.auth"] == 2
        assert tree.counts[""] == 3
        assert tree.total == 11
        assert _label(tree, None) == "all loggers 11"
        assert _label(tree, "app") == "app 7"
        assert _label(tree, "app.web.auth") == "auth 2"
        assert _label(tree, "") == "(none) 3"

        db_node = tree.node_for("app.db")
        tree.add_counts({"app.db": 10, "app.cache": 1})
        await pilot.pause()
        assert tree.node_for("app.db") is db_node  # relabelled, not rebuilt
        assert _label(tree, "app") == "app 18"
        assert _label(tree, "app.db") == "db 15"
        assert tree.total == 22
        # children stay sorted, "(none)" first
        assert [str(n.data) for n in tree.root.children] == ["", "app", "worker"]
        assert [n.data for n in tree.node_for("app").children] == [
            "app.cache", "app.db", "app.web"]


@sync
async def test_counts_from_real_logging_records():
    """Logger names as the logging module makes them, counted per record."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    names = ["shop.api", "shop.api.orders", "shop.db", "shop.api.orders", "audit"]
    for name in names:
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.propagate = False
        log.warning("hello")
        log.removeHandler(handler)
    counts: dict[str, int] = {}
    for rec in records:
        counts[rec.name] = counts.get(rec.name, 0) + 1
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts(counts)
        await pilot.pause()
        assert tree.counts["shop"] == 4
        assert tree.counts["shop.api"] == 3
        assert tree.counts["shop.api.orders"] == 2
        assert tree.counts["audit"] == 1


@sync
async def test_enter_selects_and_x_excludes():
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"app.db": 2, "app.web": 1, "": 1})
        tree.node_for("app").expand()
        tree.focus()
        await pilot.pause()
        tree.move_cursor(tree.node_for("app.db"))
        await pilot.press("enter")
        await pilot.press("x")
        tree.move_cursor(tree.node_for(""))
        await pilot.press("minus")
        tree.move_cursor(tree.root)
        await pilot.press("enter")
        await pilot.press("x")  # the root cannot be excluded: nothing posted
        await pilot.pause()
        assert app.selected == [("app.db", False), ("app.db", True), ("", True), (None, False)]


@sync
async def test_click_selects_node():
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"alpha": 1, "beta": 2})
        await pilot.pause()
        line = tree.node_for("beta").line
        assert line >= 0
        await pilot.click(LoggerTree, offset=(6, line))
        await pilot.pause()
        assert app.selected == [("beta", False)]


@sync
async def test_set_active_marks_node_and_expands_ancestors():
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"app.web.auth": 4, "app.db": 1})
        tree.set_active("app.web.auth")
        await pilot.pause()
        assert _label(tree, "app.web.auth").startswith("● auth")
        assert tree.node_for("app.web").is_expanded and tree.node_for("app").is_expanded
        tree.set_active("app.db", exclude=True)
        await pilot.pause()
        assert _label(tree, "app.web.auth") == "auth 4"
        assert _label(tree, "app.db") == "✗ db 1"
        tree.set_active(None)
        await pilot.pause()
        assert _label(tree, "app.db") == "db 1"


@sync
async def test_hostile_names_and_bounded_nodes(monkeypatch):
    monkeypatch.setattr(logger_tree_module, "MAX_NODES", 50)
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(LoggerTree)
        tree.add_counts({"evil\x1b[2J.\x1b]0;t\x07": 1, "[bold]x[/]": 1, "a..b": 1, ".lead": 1})
        await pilot.pause()
        for name in tree.counts:
            label = _label(tree, name)
            assert "\x1b" not in label and "\x07" not in label
        assert _label(tree, "[bold]x[/]") == "[bold]x[/] 1"
        assert tree.counts["a."] == 1 and tree.counts["a"] == 1
        tree.add_counts({f"flood.n{i}": 1 for i in range(500)})
        await pilot.pause()
        assert len(tree.counts) <= 50
        assert tree.counts["flood"] == 500  # beyond the bound, counts land on the ancestor
        assert tree.total == 504
        tree.clear_counts()
        await pilot.pause()
        assert tree.total == 0 and not tree.counts and not tree.root.children


def test_format_count():
    assert format_count(999) == "999"
    assert format_count(12_345) == "12,345"
    assert format_count(11_500_000) == "11.5M"
