"""Side panel: the dotted logger names seen so far as a tree, with record counts per subtree.

API for the core::

    tree = LoggerTree(id="loggers")
    tree.add_counts({"app.db": 12, "app.web": 3, "": 1})   # counts of NEW records; "" = no logger
    tree.set_active("app.db")            # mark the node the query filters on (None: no filter)
    tree.set_active("app.db", exclude=True)
    tree.clear_counts()                  # the store restarted

Messages (handle as ``on_logger_tree_selected``):

- ``LoggerTree.Selected(logger, exclude)``: Enter / click on a node (exclude=False), or
  ``x`` / ``-`` on it (exclude=True). ``logger`` is the full dotted name, ``""`` for the
  "(none)" node (records without a logger) and ``None`` for the root (all loggers: drop the
  logger filter). The core turns it into a query edit (``logger:app.db`` /
  ``-logger:app.db``) so that what is shown always equals the query.

Updates are cheap: each batch touches only the nodes on the paths of the loggers it names
(a node's count includes its descendants) and relabels them in place. The number of nodes is
bounded (``MAX_NODES``); loggers beyond it still count in their deepest existing ancestor.
Top-level loggers open expanded (two levels of names show); the cursor stays on its node
while new loggers are inserted above it, and ``set_active`` / ``show_active`` put it on the
node the query filters on.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from logview.record import printable

#: Most nodes the tree creates; hostile logs with millions of logger names stay bounded.
MAX_NODES = 5_000

#: Label of the node for records without a logger.
NO_LOGGER_LABEL = "(none)"

#: Longest logger name part shown in a label (the query still uses the whole name).
_MAX_LABEL = 60


def format_count(count: int) -> str:
    """A compact count: 999, 12,345, 1.2M."""
    if count < 1_000_000:
        return f"{count:,}"
    if count < 1_000_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1_000_000_000:.1f}G"


def parent_name(name: str) -> str | None:
    """The parent logger's name (``"a.b"`` -> ``"a"``); None for a top-level name."""
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else None


class LoggerTree(Tree[str | None]):
    """Tree of logger names with subtree record counts; selecting a node posts ``Selected``."""

    DEFAULT_CSS = """
    LoggerTree { width: 32; min-width: 16; border-right: vkey $foreground 20%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,minus", "exclude_cursor", "Exclude logger"),
        Binding("right", "expand_cursor", "Expand", show=False),
        Binding("left", "collapse_cursor", "Collapse", show=False),
    ]

    class Selected(Message):
        """A logger was chosen as filter: show only it (and its children), or hide it."""

        def __init__(self, logger: str | None, exclude: bool = False) -> None:
            super().__init__()
            #: Full dotted name; "" = records without a logger; None = all loggers.
            self.logger = logger
            #: True to hide this logger instead of showing only it.
            self.exclude = exclude

        def __repr__(self) -> str:
            return f"LoggerTree.Selected({self.logger!r}, exclude={self.exclude})"

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(Text("all loggers"), data=None, name=name, id=id, classes=classes)
        self.auto_expand = False
        self.show_root = True
        self.root.expand()
        #: Records per subtree, by full logger name ("" for no logger).
        self.counts: dict[str, int] = {}
        self.total = 0
        self._by_name: dict[str, TreeNode[str | None]] = {}
        self._child_names: dict[str | None, list[str]] = {None: []}
        #: The logger the query shows alone (None: all), and the loggers it hides.
        self._shown: str | None = None
        self._hidden: list[str] = []
        self._relabel(None)

    # -- public API ------------------------------------------------------------------------

    def add_counts(self, counts: dict[str, int]) -> None:
        """Add the counts of newly seen records per logger name (``""``: no logger)."""
        dirty: set[str | None] = set()
        added = 0
        created = False
        cursor = self.cursor_node
        for logger, count in counts.items():
            if count <= 0:
                continue
            added += count
            for name in self._path(logger):
                if name not in self._by_name:
                    if not self._create(name):
                        break
                    created = True
                self.counts[name] = self.counts.get(name, 0) + count
                dirty.add(name)
        if not added:
            return
        self.total += added
        dirty.add(None)
        for name in dirty:
            self._relabel(name)
        if created:
            self._keep_cursor(cursor)

    def set_counts(self, counts: dict[str, int]) -> None:
        """Replace every count with these (a store's own counts of the whole table): the
        loggers stay where they are (the cursor with them), those not in ``counts`` show 0."""
        before = [*self._by_name, None]
        self.counts.clear()
        self.total = 0
        self.add_counts(counts)
        for name in before:
            self._relabel(name)

    def clear_counts(self) -> None:
        """Forget every logger and count (the store restarted from nothing)."""
        self.root.remove_children()
        self.counts.clear()
        self._by_name.clear()
        self._child_names = {None: []}
        self.total = 0
        self._relabel(None)

    def set_filter(self, shown: str | None, hidden: list[str]) -> None:
        """Mark what the query filters on: the logger shown alone (None: all) and the hidden
        ones; the cursor goes to the shown one (or the last hidden, or the root)."""
        before = {self._shown, *self._hidden}
        self._shown, self._hidden = shown, list(hidden)
        for name in before | {shown, *hidden}:
            if name is not None:
                self._relabel(name)
                node = self._by_name.get(name)
                parent = node.parent if node is not None and name in {shown, *hidden} else None
                while parent is not None:
                    parent.expand()
                    parent = parent.parent
        self._relabel(None)
        self.show_active()

    def set_active(self, logger: str | None, *, exclude: bool = False) -> None:
        """Mark one logger as shown alone, or (``exclude``) as the one hidden."""
        if exclude and logger is not None:
            self.set_filter(None, [logger])
        else:
            self.set_filter(logger, [])

    def show_active(self) -> None:
        """Put the cursor on the node the query filters on (the root when none)."""
        node = self.node_for(self.active) if self.active is not None else self.root
        self._keep_cursor(node or self.root)

    @property
    def active(self) -> str | None:
        """The logger the query shows alone, else the last one it hides (None: neither)."""
        if self._shown is not None:
            return self._shown
        return self._hidden[-1] if self._hidden else None

    @property
    def active_exclude(self) -> bool:
        """Whether ``active`` is hidden rather than shown alone."""
        return self._shown is None and bool(self._hidden)

    @property
    def shown(self) -> str | None:
        """The logger the query shows alone (None: all loggers)."""
        return self._shown

    @property
    def hidden(self) -> list[str]:
        """The loggers the query hides (``-logger:``), in the order they were hidden."""
        return list(self._hidden)

    def node_for(self, logger: str | None) -> TreeNode[str | None] | None:
        """The node of a logger name (None: the root), or None if not (yet) in the tree."""
        return self.root if logger is None else self._by_name.get(logger)

    # -- actions and events ----------------------------------------------------------------

    def action_exclude_cursor(self) -> None:
        """Post ``Selected(logger, exclude=True)`` for the node under the cursor."""
        node = self.cursor_node
        if node is not None and node is not self.root:
            self.post_message(self.Selected(node.data, exclude=True))

    def action_expand_cursor(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.expand()

    def action_collapse_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def on_tree_node_selected(self, event: Tree.NodeSelected[str | None]) -> None:
        event.stop()
        node = event.node
        self.post_message(self.Selected(None if node is self.root else node.data))

    # -- internals -------------------------------------------------------------------------

    def _keep_cursor(self, node: TreeNode[str | None] | None) -> None:
        """Move the cursor (a line number) back onto ``node`` after lines moved around it."""
        if node is None:
            return
        self._tree_lines  # noqa: B018 -- rebuilds the lines now, so node.line is current
        if node.line >= 0 and node.line != self.cursor_line:
            self.move_cursor(node)

    @staticmethod
    def _path(logger: str) -> list[str]:
        """Names from the top-level ancestor down to ``logger`` (``"a.b"`` -> a, a.b)."""
        if not logger:
            return [""]
        names = []
        start = 0
        while True:
            dot = logger.find(".", start)
            if dot <= 0:  # no further dot (or a leading one, which is part of the name)
                if dot == 0:
                    start = 1
                    continue
                names.append(logger)
                return names
            names.append(logger[:dot])
            start = dot + 1

    def _create(self, name: str) -> bool:
        """Add the node for ``name`` under its parent, in sorted order; False when full."""
        if len(self._by_name) >= MAX_NODES:
            return False
        parent = parent_name(name) if name else None
        parent_node = self.root if parent is None else self._by_name[parent]
        siblings = self._child_names.setdefault(parent, [])
        index = bisect_left(siblings, name)  # "" ("(none)") sorts first
        siblings.insert(index, name)
        before = index if index < len(parent_node.children) else None
        node = parent_node.add(Text(), data=name, before=before, allow_expand=False)
        if parent is None:
            node.expand()  # top-level loggers open: their children are the useful level
        self._by_name[name] = node
        self.counts.setdefault(name, 0)
        if parent is not None:
            parent_node.allow_expand = True
        return True

    def _label_name(self, name: str | None) -> str:
        if name is None:
            return "all loggers"
        if name == "":
            return NO_LOGGER_LABEL
        parent = parent_name(name)
        part = name[len(parent) + 1:] if parent is not None else name
        part = printable(part).replace("\n", "␤").replace("\t", " ") or "''"
        return part if len(part) <= _MAX_LABEL else part[: _MAX_LABEL - 1] + "…"

    def _relabel(self, name: str | None) -> None:
        node = self.node_for(name)
        if node is None:
            return
        count = self.total if name is None else self.counts.get(name, 0)
        shown = name is not None and name == self._shown
        hidden = name is not None and name in self._hidden
        active = shown or hidden
        label = Text()
        if active:
            label.append("✗ " if hidden else "● ", "bold")
        label.append(self._label_name(name), "bold" if active else "")
        label.append(f" {format_count(count)}", "dim")
        node.set_label(label)
