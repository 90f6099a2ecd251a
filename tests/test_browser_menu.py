"""The sidebar's scenario follows the user through the menu, and Back and Forward (issue 16).

In one browser tab: set the model, the GPU, the weight format, a number (the batch) and a
toggle (expert parallelism) in the sidebar on Home; click every page's menu link in turn
(the link, never a typed URL) and check on each page that every value is still set, in
its widget and in the URL; then Back through every page to Home and Forward to the last
page, each page coming back with the same URL and values. Once: an uploaded model stays
selected, and in the URL, across a menu click.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PROBLEMS, wait_for_app
from playwright.sync_api import Page, expect
from test_browser_share_links import Input, batch, query, sidebar_select
from test_browser_state import nav

from app_pages import ui

pytestmark = pytest.mark.browser

#: ms for a page to load after a menu click, Back or Forward (the planning pages size
#: fleets for several GPUs on their first run: tens of seconds on a small machine).
LOAD_TIMEOUT = 120_000
#: The sidebar inputs set on Home, in the order set (the model first: the others follow it).
SCENARIO = [
    sidebar_select("Model", "model", "Qwen3-30B-A3B", "qwen3-30b-a3b"),
    sidebar_select("GPU", "gpu", "H200 SXM 141GB", "h200-sxm"),
    sidebar_select("Weight format", "weight_format", "fp8"),
    batch("64"),
    Input("toggle", "Expert parallelism", "expert_parallel", "true", sidebar=True),
]
CONFIG = Path("/work/shared/reference/hf-configs/Qwen--Qwen3-32B.json")


def path_of(url: str) -> str:
    """The page's URL path without its slashes ("" for Home)."""
    return urlsplit(url).path.strip("/")


def assert_scenario(page: Page, where: str) -> None:
    """Every input of :data:`SCENARIO` shows its value and the URL holds it; no error."""
    for item in SCENARIO:
        item.expect_shown(page)
        assert item.in_url(page.url), f"{item.param} lost on {where}: {page.url}"
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, f"errors on {where}: {problems.all_inner_texts()}"


def back_or_forward(page: Page, step, url: str) -> None:
    """``step`` (``page.go_back`` or ``page.go_forward``) until the page is ``url``'s."""
    step()
    page.wait_for_url(
        lambda now: path_of(now) == path_of(url) and query(now) == query(url),
        timeout=LOAD_TIMEOUT,
    )
    wait_for_app(page, timeout=LOAD_TIMEOUT)


def test_the_sidebar_follows_every_menu_link_and_back_and_forward(page, streamlit_server):
    page.goto(streamlit_server)
    wait_for_app(page)
    for item in SCENARIO:
        item.set(page)
    visited = [page.url]
    assert_scenario(page, "Home")
    for info in [*ui.PAGES[1:], ui.PAGES[0]]:  # every page, then Home again
        nav(page, info.title, info.url_path, LOAD_TIMEOUT)
        assert_scenario(page, info.title)
        expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible()
        visited.append(page.url)

    titles = [info.title for info in [ui.PAGES[0], *ui.PAGES[1:], ui.PAGES[0]]]
    for i in range(len(visited) - 2, -1, -1):
        back_or_forward(page, page.go_back, visited[i])
        assert_scenario(page, f"{titles[i]} after Back")
    for i in range(1, len(visited)):
        back_or_forward(page, page.go_forward, visited[i])
        assert_scenario(page, f"{titles[i]} after Forward")


def test_an_uploaded_model_stays_selected_across_a_menu_click(page, streamlit_server):
    page.goto(streamlit_server)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Your own model: upload a config.json").click()
    sidebar.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(CONFIG))
    page.wait_for_url(re.compile(r"[?&]model=custom%3A"))
    wait_for_app(page)
    model = sidebar.get_by_role("combobox", name="Model", exact=True)
    name = model.input_value()
    assert "Qwen3-32B" in name or "Qwen3ForCausalLM" in name, name
    uploaded = query(page.url)
    assert uploaded["model"][0].startswith("custom:") and uploaded["custom_model"]

    nav(page, "Speculative decoding", "speculative_decoding", LOAD_TIMEOUT)
    expect(model).to_have_value(name)
    now = query(page.url)
    assert (now["model"], now["custom_model"]) == (uploaded["model"], uploaded["custom_model"])
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, problems.all_inner_texts()

    nav(
        page, "Throughput vs interactivity", "frontier", LOAD_TIMEOUT
    )  # its analysis uses the upload
    expect(model).to_have_value(name)
    assert query(page.url)["model"] == uploaded["model"]
    assert page.locator(PROBLEMS).count() == 0, page.locator(PROBLEMS).all_inner_texts()
