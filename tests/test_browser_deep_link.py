"""A shared link to a page must work even as the first request a fresh server gets.

Community Cloud restarts sleeping apps, so the first visitor often arrives by a link. The
pages live in ``app_pages/`` (not ``pages/``, which Streamlit would take for a legacy
pages folder), so the link runs app.py's navigation, sidebar and URL gate like any other.
"""

from conftest import serve_app, wait_for_app
from playwright.sync_api import expect

from app_pages import ui


def test_link_to_a_page_on_a_fresh_server(page):
    first = ui.PAGES[1].url_path
    with serve_app() as base:
        page.goto(f"{base}/{first}?batch_size=64")
        wait_for_app(page)
        expect(page.get_by_role("spinbutton", name="Batch size [sequences]")).to_have_value("64")
        menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
        assert menu.get_by_text("ui", exact=True).count() == 0
        assert menu.count() == len(ui.PAGES)  # the menu lists the pages, nothing else
