"""The shape of `src/archlab` that keeps it changeable: no import cycles, no function over 60 lines.

The import graph is built from the source with `ast`, imports inside functions included (they run too, only
later) and `if TYPE_CHECKING:` blocks left out (they never run). A cycle means two modules cannot be understood,
tested or moved apart; a cycle through function-level imports also hides an upward import against the layering.
"""

from __future__ import annotations

import ast
from pathlib import Path

from scripts.stage_deps import imported_names
from tests.conftest import ROOT

SRC = ROOT / "src"
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / "archlab").rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported_names(ast.parse(path.read_text(encoding="utf-8"))) & set(known) - {name}
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others: the strongly connected
    components of more than one module (networkx, which DVC already brings)."""
    import networkx

    found = networkx.strongly_connected_components(networkx.DiGraph([(a, b) for a, bs in graph.items() for b in bs]))
    return sorted(sorted(component) for component in found if len(component) > 1)


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import_and_skips_type_checking():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import archlab.x\n"
                     "def f():\n    from archlab.y import z\n")
    assert imported_names(tree) == {"archlab.y", "archlab.y.z"}  # the graph's edges (scripts/stage_deps.py)


def test_archlab_has_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles in src/archlab (each line: modules that import each other, directly or " \
                      "through others):\n" + "\n".join(", ".join(component) for component in found)


def test_no_function_in_src_is_over_60_lines():
    long = []
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (def to last line); split them:\n" + "\n".join(long)
