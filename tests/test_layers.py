"""The layers of the package, enforced over the import graph (and written down in
ARCHITECTURE.md, which must name every module).

A module may import modules of its own layer or of lower ones, never of a higher one. Imports
inside ``if TYPE_CHECKING:`` are annotations only and do not count. A new module must be given a
layer here, so the picture stays complete.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "logview"

#: (layer name, module prefixes), lowest first. A module belongs to its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("model", ("logview.record", "logview.timeparse", "logview.growable", "logview.needles",
               "logview.number_patterns", "logview.time_bins",
               "logview.formats.signature", "logview.source_names", "logview.redact",
               "logview.fork_server", "logview.worker_procs")),
    ("formats, queries, sources", ("logview.formats", "logview.query", "logview.sources",
                                   "logview.redact_config")),
    ("boundaries, index", ("logview.boundaries", "logview.index", "logview.level_starts",
                            "logview.level_heads")),
    ("scan", ("logview.scan", "logview.scan_ranges", "logview.columns", "logview.column_store",
              "logview.level_verdicts",
              "logview.range_columns", "logview.ready_columns", "logview.filter_workers")),
    ("store, follow", ("logview.store", "logview.merge", "logview.follow", "logview.stats",
                       "logview.printer", "logview.jsonl_chunks",
                       "logview.record_chunks", "logview.json_shape_text")),
    ("headless, listen", ("logview.headless", "logview.listen", "logview.explain",
                          "logview.demo", "logview.session")),
    ("tui", ("logview.tui",)),
    ("cli", ("logview.cli", "logview.__main__", "logview")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``logview`` import outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.startswith("logview"))
        elif (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
              and node.module.startswith("logview")):
            found.append((node.lineno, node.module))
            # ``from logview import scan``: the submodule is what is imported.
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists():
                    found.append((node.lineno, sub))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert [module_name(p) for p in MODULES if layer_of(module_name(p)) < 0] == []


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_go_down_the_layers(path):
    here = module_name(path)
    mine = layer_of(here)
    upward = [f"line {line}: {target} ({LAYERS[layer_of(target)][0]})"
              for line, target in imports_of(path) if layer_of(target) > mine]
    assert upward == [], f"{here} ({LAYERS[mine][0]}) imports a higher layer"


def test_architecture_names_every_module():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/]+\.py)`", text))
    missing = [str(p.relative_to(PACKAGE)) for p in MODULES
               if p.name != "__init__.py" and str(p.relative_to(PACKAGE)) not in named]
    assert missing == [], "ARCHITECTURE.md does not describe these modules"
