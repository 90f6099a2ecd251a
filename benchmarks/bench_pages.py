"""Render time of each page under AppTest, against a hello-world page's first render.

Run: ``python benchmarks/bench_pages.py [page stem ...]`` (default: every page). For
each page, in one fresh session each:

- **first**: the first render (Streamlit's caches cleared, so every analysis is computed);
- **sidebar, cold**: the rerun after the sidebar's batch size (``SIDEBAR_CHANGES``:
  the output length or bandwidth efficiency where a page sweeps the batch) changes to a
  value no earlier session of the run saw (the page's analysis runs again, and no cache
  inside the library holds it);
- **sidebar, warm**: the rerun after it changes back (the analysis comes from
  ``st.cache_data``: what a user going back and forth between settings sees);
- **page-local, cold / warm**: the same for one of the page's own inputs
  (``tests/conftest.PAGE_LOCAL``; a dash where the page has none), rerunning only the
  page's ``url.fragment`` as a browser does (:func:`set_in_fragment`; AppTest alone
  would rerun the whole app).

Each figure is the best of ``REPEATS`` sessions, with its ratio to a hello-world page's
first render (the best of ``HELLO_REPEATS``) measured in the same run (issue 8's target
for the warm reruns: at most 1x).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import streamlit as st  # noqa: E402
from conftest import PAGE_LOCAL  # noqa: E402
from streamlit.testing.v1 import AppTest, local_script_runner  # noqa: E402

from app_pages import ui  # noqa: E402
from app_pages.ui import charts  # noqa: E402

charts.VALIDATE = False  # conftest validates every chart for the tests; the app does not

REPEATS = 3
#: Hello-world renders to take the best of: the baseline moves most from run to run.
HELLO_REPEATS = 10
TIMEOUT_S = 120
HELLO = """import streamlit as st
st.title("Hello")
st.number_input("Batch size", 1, 16384, 32, key="batch_size")
"""
#: The sidebar input a session changes, the first of these its page draws enabled (a
#: page that sweeps the batch size draws it disabled): key, first new value, step. Each
#: session takes the next value, one no earlier session saw, so no cache in the library
#: holds its answer.
SIDEBAR_CHANGES = (
    ("batch_size", 64, 3),
    ("output_tokens", 300, 7),
    ("bandwidth_efficiency", 0.6, 0.01),
)
_SESSIONS = itertools.count()
COLUMNS = ("first", "sidebar, cold", "sidebar, warm", "page-local, cold", "page-local, warm")


# --- Fragment reruns in AppTest ------------------------------------------------------------
# AppTest 1.67 reruns the whole script after any widget change; a browser reruns only the
# st.fragment that drew the widget. `set_in_fragment` does what the browser does, for this
# measurement only (no test relies on it: tests/test_browser_fragments.py checks fragment
# reruns in chromium). It touches two Streamlit internals: the runner's RerunData (given
# the fragment's id) and the deltas' fragment ids (recorded per widget as each run's tree
# is parsed).

_parse_tree = local_script_runner.parse_tree_from_messages


def _parse_and_record_fragments(messages):
    tree = _parse_tree(messages)
    tree.fragment_of = {}  # widget id -> id of the fragment that drew it
    for msg in messages:
        if msg.HasField("delta") and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            widget_id = getattr(getattr(element, element.WhichOneof("type")), "id", "")
            if widget_id and msg.delta.fragment_id:
                tree.fragment_of[widget_id] = msg.delta.fragment_id
    return tree


def set_in_fragment(at: AppTest, widget, value) -> AppTest:
    """Give ``widget`` ``value`` and rerun only the fragment that drew it, as a browser
    does; the whole app where no fragment drew it (as a browser does too)."""
    fragment_id = at._tree.fragment_of.get(widget.id)
    widget.set_value(value)
    if fragment_id is None:
        return at.run()
    rerun_data = local_script_runner.RerunData
    local_script_runner.RerunData = lambda **kw: dataclasses.replace(
        rerun_data(**kw), fragment_id=fragment_id
    )
    try:
        return at.run()
    finally:
        local_script_runner.RerunData = rerun_data


def _timed(run) -> float:
    start = time.perf_counter()
    at = run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].message}")
    return elapsed


def _there_and_back(at: AppTest, widget, new, fragment: bool = False) -> tuple[float, float]:
    """Rerun times [s] after ``widget`` is set to ``new`` (cold) and back (warm); with
    ``fragment``, only the fragment that drew it reruns."""
    old = widget.value

    def rerun(w, value):
        return set_in_fragment(at, w, value) if fragment else w.set_value(value).run()

    cold = _timed(lambda: rerun(widget, new))
    warm = _timed(lambda: rerun(at.get(widget.type)[_index(at, widget)], old))
    return cold, warm


def _index(at: AppTest, widget) -> int:
    return next(i for i, w in enumerate(at.get(widget.type)) if w.key == widget.key)


def _sidebar_change(at: AppTest, session_number: int) -> tuple:
    """The sidebar widget this session changes and its new value (``SIDEBAR_CHANGES``)."""
    for key, first, step in SIDEBAR_CHANGES:
        widget = at.number_input(key=key)
        if not widget.disabled:
            return widget, round(first + step * session_number, 6)
    raise RuntimeError("no SIDEBAR_CHANGES input is enabled on this page")


def session(app_path: Path, page: str | None) -> list[float]:
    """One fresh session's times [s], in ``COLUMNS`` order (NaN where not measured)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(app_path), default_timeout=TIMEOUT_S)
    if page:
        at.switch_page(page)
    times = [_timed(at.run)]
    widget, new = _sidebar_change(at, next(_SESSIONS))
    times += _there_and_back(at, widget, new)
    if page in PAGE_LOCAL:
        kind, key, new = PAGE_LOCAL[page]
        times += _there_and_back(at, getattr(at, kind)(key=key), new, fragment=True)
    else:
        times += [float("nan")] * 2
    return times


def measure(app_path: Path, page: str | None) -> list[float]:
    """Best of ``REPEATS`` sessions, per column."""
    runs = [session(app_path, page) for _ in range(REPEATS)]
    return [min(r[i] for r in runs) for i in range(len(COLUMNS))]


def main() -> None:
    local_script_runner.parse_tree_from_messages = _parse_and_record_fragments
    with tempfile.TemporaryDirectory() as folder:
        hello = Path(folder) / "hello.py"
        hello.write_text(HELLO)
        measure(ROOT / "app.py", None)  # warm imports once, as a running server has them
        base = min(
            _timed(AppTest.from_file(str(hello), default_timeout=TIMEOUT_S).run)
            for _ in range(HELLO_REPEATS)
        )
        pages = [(p.path, p.title) for p in ui.PAGES]
        chosen = sys.argv[1:]
        pages = [(p, t) for p, t in pages if not chosen or Path(p).stem in chosen]
        rows = [(title, measure(ROOT / "app.py", path)) for path, title in pages]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(f"hello-world first render: {base * 1e3:.0f} ms (AppTest)")
    print(f"{'page':<28}" + "".join(f"{c + ' ms':>20}{'x hello':>9}" for c in COLUMNS))
    for name, times in rows:
        cells = (
            f"{'—':>20}{'—':>9}" if t != t else f"{t * 1e3:>20.0f}{t / base:>9.1f}" for t in times
        )
        print(f"{name:<28}" + "".join(cells))


if __name__ == "__main__":
    main()
