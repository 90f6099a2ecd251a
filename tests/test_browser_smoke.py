"""The app in headless chromium: it loads, and a changed input lands in a working link."""

import re
from pathlib import Path

import pytest
from conftest import screenshot, wait_for_app
from playwright.sync_api import expect

from pages import ui

pytestmark = pytest.mark.browser


def test_home_loads(page, streamlit_server):
    page.goto(streamlit_server)
    wait_for_app(page)
    page.get_by_text("What does it cost to serve Mixtral 8x7B?").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    assert screenshot(page, "home").stat().st_size > 0


def test_changed_input_is_in_the_url_and_reopens(page, browser, streamlit_server):
    page.goto(streamlit_server)
    wait_for_app(page)
    batch = page.get_by_role("spinbutton", name="Batch size")
    batch.fill("64")
    batch.press("Enter")
    page.wait_for_url(re.compile(r"[?&]batch_size=64\b"))
    wait_for_app(page)
    link = page.url

    fresh = browser.new_context()
    try:
        other = fresh.new_page()
        other.goto(link)
        wait_for_app(other)
        expect(other.get_by_role("spinbutton", name="Batch size")).to_have_value("64")
        assert other.locator("[data-testid='stException']").count() == 0
        share = other.get_by_test_id("stExpander").filter(has_text="Share this view")
        share.get_by_text("Share this view").click()
        expect(share.get_by_test_id("stCode")).to_contain_text("batch_size=64")
        screenshot(other, "home-batch-64")
    finally:
        fresh.close()


@pytest.mark.parametrize("path", [p for p, _, _ in ui.PAGES if ui.page_exists(p)])
def test_page_renders(page, streamlit_server, path):
    page.goto(streamlit_server)  # see test_browser_deep_link.py for a page as first request
    wait_for_app(page)
    page.goto(f"{streamlit_server}/{Path(path).stem}")
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Scenario")).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, f"page-{Path(path).stem}")
