"""Shared test set-up: `open_page` and the other AppTest helpers, and the browser fixtures.

Browser tests (marker ``browser``, or any test using Playwright's ``page``) run the app
with ``streamlit run`` and drive Debian's chromium at /usr/bin/chromium. Without it they
are skipped locally; with CI=true they fail instead, so CI can never pass without them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import costmodel
from app_pages.ui import charts, tables
from costmodel import Scenario, pricing

#: Every chart a test draws is validated against Vega-Lite's schema (the app skips it).
charts.VALIDATE = True

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"


# --- AppTest ---------------------------------------------------------------------------

#: The scenario the app opens with: ``Scenario()``'s fields with its GPU priced by the
#: sidebar's default price rule (``pricing.PriceRule()``: on-demand rental, today).
APP_DEFAULT = pricing.priced(Scenario(), pricing.PriceRule())


def today() -> str:
    """Today's date as the app dates an uploaded price list, read when a test asserts (a
    module constant would compare two days on a run that crosses midnight)."""
    return datetime.date.today().isoformat()


def app_scenario(rule: pricing.PriceRule | None = None, **fields) -> Scenario:
    """The scenario the app's sidebar builds from ``fields``: its GPU priced by ``rule``
    (the sidebar's, default ``PriceRule()``) unless ``fields`` give ``usd_per_gpu_hour``."""
    scenario = Scenario(**fields)
    if "usd_per_gpu_hour" in fields:
        return scenario
    return pricing.priced(scenario, rule or pricing.PriceRule())


def open_page(page_path: str | None = None, **query_params: str | list[str]) -> AppTest:
    """Run app.py as a shared link would open it: on ``page_path`` with ``query_params``.

    ``page_path`` is relative to app.py (``"app_pages/price_war.py"``); None opens Home.
    """
    at = AppTest.from_file(str(APP), default_timeout=30)
    if page_path is not None:
        at.switch_page(page_path)
    at.query_params.update(query_params)
    return at.run()


def ignored(at: AppTest) -> str:
    """The page's one warning about URL parameters not used as given (no exception, no other
    warning), with its code spans' padding removed: ``n_gpus=abc`` reads "`n_gpus=abc`"."""
    assert not at.exception
    assert len(at.warning) == 1, [w.value for w in at.warning]
    return re.sub(r"(`+) (.*?) \1", lambda m: f"`{m[2]}`", at.warning[0].value)


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """File name -> bytes of every CSV a page offered for download during the test (what
    ``tables.download_csv`` gave its button)."""
    files: dict[str, bytes] = {}
    original = tables.download_csv

    def record(df, filename, *args, **kwargs):
        files[filename] = tables.csv_bytes(df)
        return original(df, filename, *args, **kwargs)

    monkeypatch.setattr(tables, "download_csv", record)
    return files


def shown(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe or table on the page that has ``column``, as numbers again.

    A numeric column with missing values is shown as text (4 significant digits, a dash
    where there is no value); it comes back here as floats with NaN for the dash. A dash
    in a text column comes back as a missing value.
    """
    df = next(df.value for df in [*at.dataframe, *at.table] if column in df.value.columns)
    return as_ids(df.apply(_as_numbers))


def as_shown(df: pd.DataFrame, at: AppTest, column: str) -> pd.DataFrame:
    """``df`` rounded as the page's table with ``column`` shows it: a numeric column
    with gaps is text, rounded to the column's decimals where it has its own
    (``costmodel.outputs``: tokens/s per user to 0.1); to compare with :func:`shown`."""
    page = next(d.value for d in [*at.dataframe, *at.table] if column in d.value.columns)
    texts = {c for c in page.columns if page[c].dtype == object}
    return df.apply(
        lambda c: (
            c.round(d) if c.name in texts and (d := tables.decimals(c.name)) is not None else c
        )
    )


#: Words -> the id they name, for the cells of ``tables.ID_COLUMNS`` (``tables.words`` of
#: the shipped catalog reversed; an input's name wins over an output's of the same words).
IDS_OF_WORDS = {
    **{words: key for key, words in tables.words(costmodel.load_catalog()).items()},
    **{spec.labelled: key for key, spec in costmodel.FIELDS.items()},
}


def as_ids(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as shown with the ids of its ``tables.ID_COLUMNS`` back (as the library has
    them): a table shows names (``tables.in_words``)."""
    columns = [c for c in tables.ID_COLUMNS if c in df.columns]
    df = df.assign(**{c: df[c].map(lambda v: IDS_OF_WORDS.get(v, v)) for c in columns})
    if df.index.name in tables.ID_COLUMNS:
        df.index = df.index.map(lambda v: IDS_OF_WORDS.get(v, v)).rename(df.index.name)
    return df


def _as_numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values
    text = values.astype(str).str.replace(",", "")
    numbers = pd.to_numeric(text.where(text != "—"), errors="coerce")
    has_dash = (text == "—").any()
    if has_dash and numbers.notna().sum() == (text != "—").sum():
        return numbers
    return values.where(text != "—") if has_dash else values


def metrics(at: AppTest) -> dict[str, str]:
    """Label -> value of every ``st.metric`` on the page."""
    return {m.label: m.value for m in at.metric}


def markdown_text(at: AppTest) -> str:
    """All markdown on the page, joined by spaces."""
    return " ".join(m.value for m in at.markdown)


def chart_specs(at: AppTest) -> list[dict]:
    """The Vega-Lite spec of every chart on the page."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


#: Page -> (AppTest widget kind, key, a value other than its default) of one of the page's
#: own inputs, drawn in its ``url.fragment`` (benchmarks/bench_pages.py uses it).
PAGE_LOCAL = {
    "app_pages/gpu_comparison.py": ("selectbox", "price_tier", "all_in_cost"),
    "app_pages/price_war.py": ("radio", "margin_unit", "$ per million requests"),
    "app_pages/moe_batch_scaling.py": ("number_input", "routing_skew", 1.5),
    "app_pages/speculative_decoding.py": ("number_input", "draft_tokens", 6),
    "app_pages/quantization_fit.py": ("number_input", "users", 60),
    "app_pages/frontier.py": ("number_input", "tpot_ms_max", 25.0),
    "app_pages/timeline.py": ("selectbox", "target", "batch_size"),
    "app_pages/compare.py": ("number_input", "b_output_tokens", 512),
    "app_pages/fleet_sizing.py": ("number_input", "headroom", 0.3),
    "app_pages/buy_or_rent.py": ("number_input", "depreciation_years", 4.0),
    "app_pages/calibration.py": ("toggle", "latest_only", False),
}


# --- Browser ---------------------------------------------------------------------------


def pytest_collection_modifyitems(items):
    """Mark every test that drives a browser page as ``browser``."""
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    """Skip browser tests without chromium, or fail them in CI (before any fixture runs)."""
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
        if IN_CI:
            pytest.fail(f"CI=true: browser tests must run, but {message}", pytrace=False)
        pytest.skip(f"browser test skipped: {message} to enable browser tests")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium (Playwright's own browsers are never downloaded)."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(script: str = "app.py") -> Iterator[str]:
    """Start a fresh ``streamlit run <script>`` (default: the app) on a free local port,
    from the repository's root (its ``.streamlit/config.toml``); yields its base URL.

    Its log goes to tests/artifacts/streamlit-<port>.log.
    """
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"streamlit-{port}.log"
    command = [
        *(sys.executable, "-m", "streamlit", "run", script),
        *("--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}"),
        *("--browser.gatherUsageStats=false", "--server.fileWatcherType=none"),
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(url, server, log_path)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[str]:
    """One app server for the whole session (per xdist worker); yields the base URL."""
    with serve_app() as url:
        yield url


def _wait_healthy(url: str, server: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Poll /_stcore/health until it answers "ok"; fail with the server log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit not healthy after {timeout} s:\n{log_path.read_text()}")


# Resolves once the DOM has not changed for quiet_ms (or after max_ms in all).
_DOM_QUIET_JS = """([quietMs, maxMs]) => new Promise((resolve) => {
  const start = performance.now();
  let timer;
  const finish = () => { observer.disconnect(); resolve(true); };
  const observer = new MutationObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(finish, performance.now() - start > maxMs ? 0 : quietMs);
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   characterData: true});
  timer = setTimeout(finish, quietMs);
})"""


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected, its script has finished and the page stopped changing.

    Streamlit renders a moment after the script state turns ``notRunning`` (a bound
    input first shows its default, then the URL's value), hence the quiet period. After
    changing an input, wait for its effect (``page.wait_for_url``, Playwright's
    ``expect``) rather than relying on this alone.
    """
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout
    )
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)
    page.evaluate(_DOM_QUIET_JS, [300, 5_000])


# What a broken page shows: an exception, or an ``st.error`` (an alert of kind error).
PROBLEMS = "[data-testid='stException'], [data-testid='stAlertContentError']"
CHARTS = "[data-testid='stVegaLiteChart']"  # st.altair_chart / st.vega_lite_chart in 1.67


def assert_page_works(page, charts: bool = True, timeout: float = 15_000) -> None:
    """No exception and no ``st.error`` on the page; with ``charts``, every chart is drawn.

    Vega-Lite draws a moment after the script has finished (its code loads lazily), so
    this waits for at least one drawn chart and then for all of them.
    """
    from playwright.sync_api import expect

    if charts:
        drawn = page.locator(f"{CHARTS} svg.marks, {CHARTS} canvas.marks")
        expect(drawn.first, "no chart drawn").to_be_visible(timeout=timeout)
        expect(drawn).to_have_count(page.locator(CHARTS).count(), timeout=timeout)
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, f"errors on {page.url}: {problems.all_inner_texts()}"


def screenshot(page, name: str) -> Path:
    """Save the whole app (main area and sidebar scroll inside the window) as a PNG.

    The viewport is stretched to the taller of the two scrolling areas for the shot,
    then restored. Returns tests/artifacts/<name>.png.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        """() => Math.max(window.innerHeight, ...[...document.querySelectorAll(
            "[data-testid='stMain'], [data-testid='stSidebarContent']")]
            .map((e) => e.scrollHeight))"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(height, 10_000)})
    try:
        wait_for_app(page)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
