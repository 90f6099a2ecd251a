"""A shared link to a page must work even as the first request a fresh server gets.

Community Cloud restarts sleeping apps, so the first visitor often arrives by a link.
Streamlit treats an app with a folder named ``pages/`` beside app.py as a legacy
pages-folder app until app.py has run once: the first link to a page then runs the
page file alone, without app.py's shared sidebar, and ignores the URL's scenario.
"""

from pathlib import Path

import pytest
from conftest import serve_app, wait_for_app
from playwright.sync_api import expect

from pages import ui

FIRST_PAGE = next((path for path, _, _ in ui.PAGES if ui.page_exists(path)), None)


@pytest.mark.skipif(FIRST_PAGE is None, reason="no page besides Home exists yet")
def test_link_to_a_page_on_a_fresh_server(page):
    with serve_app() as base:
        page.goto(f"{base}/{Path(FIRST_PAGE).stem}?batch_size=64")
        wait_for_app(page)
        expect(page.get_by_role("spinbutton", name="Batch size")).to_have_value("64")
        assert page.get_by_test_id("stSidebarNav").get_by_text("ui", exact=True).count() == 0
