"""The app in headless chromium: Home and every page load, work and draw their charts.

Share links (a changed input reopening in a fresh browser) are in
test_browser_share_links.py; a link as a fresh server's first request in
test_browser_deep_link.py.
"""

from pathlib import Path

import pytest
from conftest import assert_page_works, screenshot, wait_for_app
from playwright.sync_api import expect

from app_pages import ui

pytestmark = pytest.mark.browser

HOME = ("", "What does it cost to serve Mixtral 8x7B?")
PAGES = [HOME, *((p.url_path, p.title) for p in ui.PAGES[1:])]


@pytest.mark.parametrize(("stem", "title"), PAGES, ids=[s or "home" for s, _ in PAGES])
def test_page_renders(page, streamlit_server, stem, title):
    """No exception or st.error, the shared sidebar, the charts; a screenshot in artifacts."""
    page.goto(f"{streamlit_server}/{stem}")
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Scenario", exact=True)).to_be_visible()
    if stem:  # a page's title is its menu title (Home's is the question)
        menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
        expect(menu.get_by_text(title, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible()
    assert_page_works(page, charts=bool(stem))
    if not stem:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    shot = screenshot(page, f"page-{stem}" if stem else "home")
    assert shot.stat().st_size > 0


def test_a_table_downloads_as_csv(page, streamlit_server):
    """A table's "Download CSV" gives the table's file (made on the click, on the server):
    the GPU comparison's first table, with a header row and one row per GPU setup."""
    page.goto(f"{streamlit_server}/gpu_comparison")
    wait_for_app(page)
    button = page.get_by_test_id("stMain").get_by_role("button", name="Download CSV").first
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "gpu_comparison.csv"
    lines = Path(download.value.path()).read_text().splitlines()
    header = lines[0].split(",")
    assert {"setup", "gpu", "usd_per_million_output_tokens"} <= set(header)
    assert len(lines) > 2 and all(len(line.split(",")) >= len(header) for line in lines[1:])
