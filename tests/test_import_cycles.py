"""No import cycle between kplearn files, at module level or inside functions.

Every ``import`` / ``from ... import`` statement of every ``kplearn`` file is read
with :mod:`ast` (wherever it is: module level, functions, methods, ``try``
blocks), except those under ``if TYPE_CHECKING:``, which never run. An edge goes
from the importing file to the kplearn module it names: ``from a.b import c``
points at ``a/b/c.py`` when that is a module, else at ``a/b``. (The parent
packages that Python also runs are not edges: a package ``__init__`` that
re-exports its submodules would otherwise make every ``from pkg.sub import x``
inside ``pkg`` a cycle.) The test fails on every strongly connected group of
files, printing one cycle of each.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "kplearn"


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the package ``root``."""
    mods = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom node, skipping ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            children = node.orelse
        stack.extend(children)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The kplearn modules that file ``path`` (module ``name``) imports anywhere."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                targets.append(sub if sub in modules else mod)
        for target in targets:
            # ``import a.b.c`` names module a.b.c; keep the longest prefix that is a kplearn file.
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != name:
                found.add(".".join(parts))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import each other (Tarjan), each sorted."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = [0]

    def visit(v):  # recursion depth is bounded by the number of modules (~100)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def one_cycle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A shortest cycle through the first module of ``group`` (breadth-first inside it)."""
    start, members = group[0], set(group)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return (
                        [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
                    )
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return group  # pragma: no cover - a strongly connected group always has a cycle


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path):
    pkg = tmp_path / "kplearn"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("def f():\n    from kplearn.sub.b import g\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kplearn.c\n"
        "def g():\n    try:\n        from ..a import f\n    except ImportError:\n        pass\n"
    )
    (pkg / "c.py").write_text("import kplearn.a\nimport numpy\n")
    graph = import_graph(pkg)
    assert graph["kplearn.a"] == {"kplearn.sub.b"}
    assert graph["kplearn.sub.b"] == {"kplearn.a"}  # TYPE_CHECKING import skipped
    assert graph["kplearn.sub"] == {"kplearn.sub.b"}
    assert graph["kplearn.c"] == {"kplearn.a"}
    groups = strongly_connected(graph)
    assert groups == [["kplearn.a", "kplearn.sub.b"]]
    assert one_cycle(graph, groups[0]) == ["kplearn.a", "kplearn.sub.b", "kplearn.a"]


def test_three_module_cycle_is_reported_as_a_path(tmp_path):
    pkg = tmp_path / "kplearn"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "x.py").write_text("from kplearn import y\n")
    (pkg / "y.py").write_text("def h():\n    import kplearn.z\n")
    (pkg / "z.py").write_text("from kplearn.x import something\n")
    graph = import_graph(pkg)
    [group] = strongly_connected(graph)
    assert one_cycle(graph, group) == ["kplearn.x", "kplearn.y", "kplearn.z", "kplearn.x"]


def test_no_import_cycle_between_kplearn_files():
    graph = import_graph(PACKAGE_ROOT)
    assert len(graph) > 50, "the walk found too few kplearn modules"
    assert "kplearn.train.predict" in graph["kplearn.train.fit"]  # the walk sees real edges
    groups = strongly_connected(graph)
    if groups:
        lines = [" -> ".join(one_cycle(graph, g)) + f"   (group of {len(g)})" for g in groups]
        pytest.fail("import cycles between kplearn files:\n  " + "\n  ".join(lines))
