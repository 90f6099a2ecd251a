"""What a user waits for in chromium: the first page, a move to each page by the menu,
and each page's redraw after a change to a new value.

Run: ``python benchmarks/bench_browser.py [page stem ...]`` (default: every page; needs
Debian's ``/usr/bin/chromium`` and Playwright, as the browser tests do). One fresh
``streamlit run app.py`` (``tests/conftest.serve_app``) and one browser for the run:

- **first page**: a fresh browser context opens the app (Home) on the fresh server:
  from the start of navigation to the last change of the page (nothing cached but the
  imports and the catalog, as on a server's first visitor); beside it, the same for a
  hello-world page (``HELLO``: a title and one sidebar input) on a fresh server of its
  own, in the same browser: what Streamlit itself takes to start a page;
- per page, **menu**: in one context that started on Home and goes down the menu, the
  click on the page's menu link (from the page before it, after its new value), to the
  page's last change (the sidebar's scenario carried over, as a user moves);
- per page, **open**: the page opened by its URL in a fresh context, to its last change;
- per page, **new value**: the sidebar's batch size (the output length, or the
  bandwidth efficiency, where the page sweeps those) typed to a value no earlier step
  used, from the Enter key to the last change of the page after the rerun (the
  analyses run again: a new value is in no cache).

The library's and the pages' bytecode is compiled into ``__pycache__`` before the server
starts (:func:`compile_bytecode`), as on any machine where Python ran them once: this
one sets ``PYTHONDONTWRITEBYTECODE``, so without it every fresh server would compile the
app's modules from source first (0.15-0.2 s).

"The last change" is the time of the last DOM mutation before the page has been quiet
for ``QUIET_MS`` with the script not running (a chart drawn late counts). Each figure is
one measurement: the machine is small and shared, so the run is not repeated; the load
average is printed with it.
"""

from __future__ import annotations

import compileall
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import CHROMIUM, serve_app  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app_pages import ui  # noqa: E402

#: The page counts as drawn once its DOM has not changed for this long [ms].
QUIET_MS = 1_000
#: Longest wait for one step [ms].
TIMEOUT_MS = 60_000
#: Targets (issue 19) [s].
FIRST_PAGE_TARGET_S, NEW_VALUE_TARGET_S = 2.0, 1.0
#: Sidebar inputs a step changes, the first the page draws enabled: label, first new
#: value, step (each step takes the next value: one no earlier step used).
SIDEBAR_CHANGES = (
    ("Batch size [sequences]", 70, 3),
    ("Output length [tokens]", 310, 7),
    ("Bandwidth efficiency", 0.6, 0.01),  # its label goes on with a unit or a note
)
_STEPS = itertools.count()
#: The baseline page of the first-page figure.
HELLO = """import streamlit as st
st.sidebar.number_input("Batch size", 1, 16384, 32, key="batch_size")
st.title("Hello")
"""
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]

# Records the time of every DOM mutation (performance.now(), ms since navigation).
_WATCH_JS = """() => {
  window.__lastChange = performance.now();
  new MutationObserver(() => { window.__lastChange = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true,
                        characterData: true});
}"""
# Resolves with the last mutation's time once the page changed after ``after``, the script
# is not running and the DOM has been quiet for quietMs.
_SETTLED_JS = """([quietMs, maxMs, after]) => new Promise((resolve, reject) => {
  const start = performance.now();
  const check = () => {
    const idle = document.querySelector("[data-test-script-state='notRunning']");
    const quiet = performance.now() - window.__lastChange >= quietMs;
    if (idle && quiet && window.__lastChange > after) return resolve(window.__lastChange);
    if (performance.now() - start > maxMs) return reject(new Error("never settled"));
    setTimeout(check, 50);
  };
  check();
})"""


def _settled(page, after: float = 0.0) -> float:
    """Time [ms since navigation] of the page's last change after ``after`` [ms], once
    it has settled."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=TIMEOUT_MS
    )
    return page.evaluate(_SETTLED_JS, [QUIET_MS, TIMEOUT_MS, after])


def open_page(browser, url: str) -> tuple[object, float]:
    """A fresh context's page at ``url`` and the seconds until it was drawn."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.add_init_script(f"({_WATCH_JS})()")
    page.goto(url, timeout=TIMEOUT_MS)
    # The script has drawn the sidebar (before it starts, the page is quiet and idle too).
    page.wait_for_selector("[data-testid='stSidebar'] input[type='number']", timeout=TIMEOUT_MS)
    return page, _settled(page) / 1e3


def by_menu(page, title: str) -> float:
    """Seconds from a click on the menu's link to the page ``title`` to its last change."""
    menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
    link = menu.get_by_role("link", name=title, exact=True)
    start = page.evaluate("() => performance.now()")
    link.click()
    return (_settled(page, start) - start) / 1e3


def new_value(page) -> float:
    """Seconds from typing a new sidebar value (Enter) to the page's last change."""
    sidebar = page.get_by_test_id("stSidebar")
    step = next(_STEPS)
    for label, first, change in SIDEBAR_CHANGES:
        box = sidebar.get_by_role("spinbutton", name=label).first
        if box.count() and box.is_enabled():
            box.fill(str(round(first + change * step, 6)))
            start = page.evaluate("() => performance.now()")
            box.press("Enter")
            return (_settled(page, start) - start) / 1e3
    raise RuntimeError(f"{page.url}: no enabled input of SIDEBAR_CHANGES")


def compile_bytecode() -> None:
    """Write the bytecode of ``costmodel/`` and ``app_pages/`` (Python reads an existing
    ``__pycache__`` even where it does not write one)."""
    for folder in ("costmodel", "app_pages"):
        if not compileall.compile_dir(ROOT / folder, quiet=1):
            raise RuntimeError(f"{folder}: could not compile its bytecode")


def main() -> None:
    chosen = sys.argv[1:]
    pages = [p for p in ui.PAGES if not chosen or Path(p.path).stem in chosen]
    compile_bytecode()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        with tempfile.TemporaryDirectory() as folder:
            hello = Path(folder) / "hello.py"
            hello.write_text(HELLO)
            with serve_app(str(hello)) as hello_url:
                page, hello_s = open_page(browser, hello_url)
                page.context.close()
        with serve_app() as url:
            _tour(browser, url, pages, hello_s)
        browser.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"targets: first page < {FIRST_PAGE_TARGET_S:g} s, new value < {NEW_VALUE_TARGET_S:g} s")


def _tour(browser, url: str, pages: list, hello_s: float) -> None:
    """The first page, then each page by the menu, its new value and opened by URL."""
    tour, first = open_page(browser, url)
    mark = "ok" if first < FIRST_PAGE_TARGET_S else "SLOW"
    print(f"first page (Home, fresh server): {first:.2f} s  {mark}")
    print(f"first page of a hello-world app (fresh server): {hello_s:.2f} s")
    print(f"{'page':<30}{'menu [s]':>10}{'new value [s]':>15}{'open [s]':>10}")
    slow = 0
    for info in pages:
        moved = by_menu(tour, info.title)
        redraw = new_value(tour)
        page, opened = open_page(browser, f"{url}/{info.url_path}")
        page.context.close()
        slow += redraw >= NEW_VALUE_TARGET_S
        flag = "" if redraw < NEW_VALUE_TARGET_S else "  SLOW"
        print(f"{info.title:<30}{moved:>10.2f}{redraw:>15.2f}{opened:>10.2f}{flag}")
        time.sleep(0.5)  # let the server finish its bookkeeping between pages
    tour.context.close()
    print(f"pages over the new-value target: {slow} of {len(pages)}")


if __name__ == "__main__":
    main()
