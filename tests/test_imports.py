"""No import circle: among the modules of ``costmodel``, among those of ``app_pages``, and
between the packages (costmodel, the pages, ``app_pages/ui``); the library never imports
Streamlit or the app; ``costmodel/__init__.py`` only hands names on.

The import graph is read from the source with :mod:`ast`, so nothing is imported here.
An edge ``a -> b`` means module ``a`` imports module ``b``: ``import b``, ``from b import
name``, or ``from p import b`` where ``p.b`` is a module. A package's ``__init__`` that
Python runs before ``p.b`` is no edge (that is Python's order, not a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("costmodel", "app_pages")


def module_name(path: Path) -> str:
    """``costmodel/analyses/__init__.py`` -> "costmodel.analyses"."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the packages and app.py."""
    found = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    return {**found, "app": ROOT / "app.py"}


def _resolve(importer: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module named by a ``from ... import`` (relative imports included)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(name: str, path: Path, known: set[str], module_level: bool) -> set[str]:
    """Every module ``name`` imports (with ``module_level``: only its top-level statements,
    ``if TYPE_CHECKING`` blocks left out; else anywhere, functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    if module_level:
        nodes = []
        for statement in tree.body:
            if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
                continue
            nodes.extend(
                ast.walk(statement) if isinstance(statement, ast.If | ast.Try) else [statement]
            )
    else:
        nodes = list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, node, path.name == "__init__.py")
            submodules = {f"{source}.{alias.name}" for alias in node.names} & known
            names = [a for a in node.names if f"{source}.{a.name}" not in known]
            found.update(submodules)
            if names:
                found.add(source)
    return found


def graph(module_level: bool = True) -> dict[str, set[str]]:
    """Module -> the modules of the project it imports."""
    every = modules()
    known = set(every)
    return {
        name: {m for m in imports(name, path, known, module_level) if m in known}
        for name, path in every.items()
    }


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``edges`` (its nodes in order, the first repeated last), or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def package_of(module: str) -> str:
    """The package a module belongs to, at the level the rule speaks of."""
    if module.startswith("app_pages.ui"):
        return "app_pages.ui"
    return module.split(".")[0]


def test_the_cycle_finder_finds_a_circle_and_only_a_circle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert cycle({"a": {"a"}}) == ["a", "a"]


def test_the_graph_sees_relative_absolute_and_submodule_imports():
    edges = graph()
    assert "costmodel.scenario" in edges["costmodel"]  # from costmodel.scenario import Scenario
    assert "costmodel.analyses" in edges["costmodel"]  # from costmodel import analyses
    assert "app_pages.ui.sidebar" in edges["app"]  # from app_pages.ui import sidebar
    assert "app_pages.ui" in edges["app"]  # from app_pages import ui


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_within_a_package(package):
    edges = graph()
    inside = {
        m: {t for t in targets if t.split(".")[0] == package}
        for m, targets in edges.items()
        if m.split(".")[0] == package
    }
    assert cycle(inside) is None, " -> ".join(cycle(inside))


def test_no_import_circle_between_packages():
    """Any import, even inside a function, counts between packages."""
    between: dict[str, set[str]] = {}
    for module, targets in graph(module_level=False).items():
        source = package_of(module)
        between.setdefault(source, set()).update(
            package_of(t) for t in targets if package_of(t) != source
        )
    assert cycle(between) is None, " -> ".join(cycle(between))
    assert between["costmodel"] == set()
    assert "app_pages" not in between["app_pages.ui"]


def test_the_library_never_imports_streamlit_or_the_app():
    every = modules()
    for name, path in every.items():
        if package_of(name) != "costmodel":
            continue
        roots = {m.split(".")[0] for m in imports(name, path, set(every), module_level=False)}
        assert not roots & {"streamlit", "app_pages", "app", "altair"}, name


def test_no_module_of_the_library_imports_its_init():
    """``costmodel/__init__.py`` only hands names on: nothing inside reads a name from it."""
    importers = [m for m, targets in graph(module_level=False).items() if "costmodel" in targets]
    assert [m for m in importers if package_of(m) == "costmodel"] == []


def test_costmodel_init_only_hands_names_on():
    """Imports, ``__all__`` and the docstring; no function, class or computed value."""
    tree = ast.parse((ROOT / "costmodel" / "__init__.py").read_text())
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        assert isinstance(statement, ast.Assign), ast.unparse(statement)
        assert [t.id for t in statement.targets] == ["__all__"], ast.unparse(statement)
        assert all(isinstance(e, ast.Constant) for e in statement.value.elts)
