"""Render time of each page under AppTest, next to a hello-world page's.

Run: ``python benchmarks/bench_pages.py``. For every page: the first render (Streamlit's
caches cleared, so every evaluation is computed) and a rerun after one input changes
(the sidebar's batch size, so the page's evaluations are computed again). The best of
``REPEATS`` runs is reported, with its ratio to the hello-world page's same figure.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from app_pages import ui  # noqa: E402

REPEATS = 3
TIMEOUT_S = 60
HELLO = """import streamlit as st
st.title("Hello")
st.number_input("Batch size", 1, 16384, 32, key="batch_size")
"""


def _timed(run) -> float:
    start = time.perf_counter()
    at = run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].message}")
    return elapsed


def measure(app_path: Path, page: str | None) -> tuple[float, float]:
    """Best first-render and rerun times [s] of one page over ``REPEATS`` fresh sessions."""
    firsts, reruns = [], []
    for _ in range(REPEATS):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(app_path), default_timeout=TIMEOUT_S)
        if page:
            at.switch_page(page)
        firsts.append(_timed(at.run))
        batch = at.number_input(key="batch_size")
        reruns.append(_timed(lambda at=at, batch=batch: batch.set_value(batch.value + 32).run()))
    return min(firsts), min(reruns)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        hello = Path(folder) / "hello.py"
        hello.write_text(HELLO)
        measure(ROOT / "app.py", None)  # warm imports once, as a running server has them
        base_first, base_rerun = measure(hello, None)
        rows = [("hello world", base_first, base_rerun)]
        pages = [("app_pages/home.py", "Home")] + [(p, t) for p, t, _ in ui.PAGES]
        rows += [(title, *measure(ROOT / "app.py", path)) for path, title in pages]
    print(f"{'page':<28}{'first ms':>10}{'x hello':>9}{'rerun ms':>10}{'x hello':>9}")
    for name, first, rerun in rows:
        print(
            f"{name:<28}{first * 1e3:>10.0f}{first / base_first:>9.1f}"
            f"{rerun * 1e3:>10.0f}{rerun / base_rerun:>9.1f}"
        )


if __name__ == "__main__":
    main()
