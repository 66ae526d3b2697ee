"""The project's Python modules import each other without a cycle, and never a private name.

Every import is read from the source (at module level or inside a function: an import inside a
function that closes a loop is still a loop a reader has to follow). `from package import name`
counts as an import of the submodule when `name` is one, else of the package itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("loader", "sigma_impressions", "bench", "tests")


def _modules() -> dict[str, ast.Module]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return modules


MODULES = _modules()


def _imports(name: str, tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import of a project module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name in MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if node.level:  # relative: from . import x
                base = name.split(".")[: -node.level] if not name.endswith("__init__") else name.split(".")
                module = ".".join([*base, node.module])
            if module in MODULES:
                found.append((module, [alias.name for alias in node.names]))
    return found


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, tree in MODULES.items():
        for module, names in _imports(name, tree):
            submodules = {f"{module}.{n}" for n in names} & MODULES.keys()
            edges[name] |= submodules or {module}
            if len(submodules) < len(names):  # names defined in the package's __init__ itself
                edges[name].add(module)
    for name in edges:
        edges[name].discard(name)
    return edges


def test_no_module_imports_another_modules_private_name() -> None:
    private = [
        f"{name} imports {taken} from {module}"
        for name, tree in MODULES.items()
        for module, names in _imports(name, tree)
        for taken in names
        if taken.startswith("_") and not taken.startswith("__")
    ]
    assert private == []


def test_no_import_cycle() -> None:
    edges = _edges()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, "import cycle: " + " -> ".join([*path[path.index(name) :], name])
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


def test_the_walk_sees_the_project() -> None:
    edges = _edges()
    assert "loader.landing" in edges and "sigma_impressions.report.queries" in edges
    assert "loader.destinations.duckdb" in edges["loader.landing"] or any(
        target.startswith("loader.destinations") for target in edges["loader.landing"]
    )
