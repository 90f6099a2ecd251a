"""Pages are thin views: a page file computes in at most two of its functions.

A function (module-level, nested or a method) *draws* when its body calls the UI: a
Streamlit element (``st.<name>``, except the state and caching helpers in
:data:`NOT_DRAWING`), Altair (``alt.``: it builds what is drawn) or one of the ui modules
that draw (``charts``, ``tables``, ``widgets``, ``url``, ``sidebar``, ``verdicts``).
Every other function only computes; what it computes (a table reshape, a price lookup, a
sentence) belongs in the library's analysis or in ``app_pages/ui``, so a page may keep at most
:data:`MOST_COMPUTING` of them (a cached call, a small adapter).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).parents[1] / "app_pages").glob("*.py"))
DRAWING_ROOTS = {"st", "alt", "charts", "tables", "widgets", "url", "sidebar", "verdicts"}
#: ``st.`` attributes that hold state or cache results rather than draw.
NOT_DRAWING = {"session_state", "query_params", "cache_data", "cache_resource", "context"}
MOST_COMPUTING = 2


def _root(node: ast.expr) -> tuple[str, str | None] | None:
    """(root name, first attribute) of a dotted call target: ``st.session_state.get`` ->
    ("st", "session_state"); None for other targets."""
    first = None
    while isinstance(node, ast.Attribute):
        first, node = node.attr, node.value
    return (node.id, first) if isinstance(node, ast.Name) else None


def draws(function: ast.FunctionDef) -> bool:
    """Whether ``function``'s body (decorators aside) calls the UI (see the module doc)."""
    for statement in function.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and (target := _root(node.func)):
                root, first = target
                if root in DRAWING_ROOTS and not (root == "st" and first in NOT_DRAWING):
                    return True
    return False


def computing(source: str) -> list[str]:
    """Names of the functions in ``source`` that do not draw."""
    tree = ast.parse(source)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return [f.name for f in functions if not draws(f)]


def test_the_rule_tells_drawing_from_computing():
    source = """
@st.cache_data
def cached(s):
    return run(s)                      # computes (the decorator does not count)

def lookup(s):
    return st.session_state.get(s)     # state, not drawing

def chart(df):
    return alt.Chart(df).mark_bar()    # builds a chart: drawing

def shown(df):
    tables.show_table(df, "x.csv")     # draws

class Entries(tuple):
    def __contains__(self, x):         # a method counts too
        return x in self.ids
"""
    assert computing(source) == ["cached", "lookup", "__contains__"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_computes_in_at_most_two_functions(page):
    found = computing(page.read_text())
    assert len(found) <= MOST_COMPUTING, (
        f"{page.name} computes in {found}: move the computation into the library's "
        "analysis or app_pages/ui"
    )
