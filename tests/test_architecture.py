"""The parts of `engine` import each other along the flow, never in a circle.

A part is a subpackage (`engine/sending`) or a top-level module (`engine/config.py`). Part A
depends on part B when a module of A imports from B at run time; imports under
`if TYPE_CHECKING:` are for annotations only and do not count. A cycle among parts means no part
of it can be understood, tested or changed without the others, so any cycle fails this test,
which names the parts and the imports that close it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# (importing part, imported part) -> where the first such import is, as "path:line".
Graph = dict[str, dict[str, str]]


def parts_of(root: Path) -> set[str]:
    return {
        path.stem
        for path in root.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
    }


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node under an `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imported_modules(tree: ast.Module, package: list[str]) -> Iterator[tuple[str, int]]:
    skipped = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module, node.lineno
            for alias in node.names:  # `from engine import config` names a part, too
                yield f"{module}.{alias.name}", node.lineno


def import_graph(root: Path) -> Graph:
    parts = parts_of(root)
    graph: Graph = {part: {} for part in parts}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        source = relative.parts[1].removesuffix(".py")
        if source not in parts:
            continue
        package = list(relative.with_suffix("").parts)
        if path.name != "__init__.py":
            package = package[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module, line in _imported_modules(tree, package):
            bits = module.split(".")
            if len(bits) < 2 or bits[0] != root.name or bits[1] not in parts:
                continue
            if bits[1] != source:
                graph[source].setdefault(bits[1], f"{relative}:{line}")
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one part (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(part: str) -> None:
        index[part] = low[part] = len(index)
        stack.append(part)
        on_stack.add(part)
        for other in sorted(graph[part]):
            if other not in index:
                visit(other)
                low[part] = min(low[part], low[other])
            elif other in on_stack:
                low[part] = min(low[part], index[other])
        if low[part] == index[part]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == part:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for part in sorted(graph):
        if part not in index:
            visit(part)
    return found


def describe(graph: Graph, component: list[str]) -> str:
    members = set(component)
    lines = [f"import cycle among {', '.join(component)}:"]
    for part in component:
        for other, where in sorted(graph[part].items()):
            if other in members:
                lines.append(f"  {part} -> {other} ({where})")
    return "\n".join(lines)


def test_no_import_cycle_among_the_parts_of_engine() -> None:
    graph = import_graph(ENGINE)
    assert {"store", "basics", "config", "sending", "replies", "service"} <= graph.keys()
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, component) for component in found)


def test_the_graph_sees_a_cycle_and_ignores_type_checking_imports(tmp_path: Path) -> None:
    root = tmp_path / "engine"
    for part in ("low", "high", "side"):
        (root / part).mkdir(parents=True)
        (root / part / "__init__.py").write_text("")
    (root / "top.py").write_text("from engine.high import thing\n")
    (root / "high" / "use.py").write_text("from engine.low.types import Kind\n")
    (root / "low" / "types.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from engine.high.use import Other\n"
    )
    assert cycles(import_graph(root)) == []

    (root / "low" / "run.py").write_text("from ..side import helper\n")
    (root / "side" / "helper.py").write_text("from engine import top\n")
    graph = import_graph(root)
    assert cycles(graph) == [["high", "low", "side", "top"]]
    assert "  low -> side (engine/low/run.py:1)" in describe(graph, ["high", "low", "side", "top"])
