"""Your price list in a real browser: upload a price file, see the price sheet change, and
a share link that reproduces it; a malformed file gets a message. And the timeline shows
DeepSeek's 2026 rise.

AppTest checks the numbers (tests/test_page_price_war.py, tests/test_page_timeline.py);
these check what only a browser does: the file input, the URL and the share link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_page_works, today, wait_for_app
from playwright.sync_api import Page, expect
from test_browser_share_links import query, share_link_query

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).parent / "data" / "litellm-model-prices-sample.json"


LOAD_TIMEOUT = 60_000  # ms: a cold server computes the page's market setups first


def verdict(page: Page) -> str:
    """The page's "who makes money" paragraph."""
    found = page.get_by_test_id("stMarkdown").filter(has_text="? Decided on ")
    expect(found).to_have_count(1)
    return found.inner_text()


def sheet_title(page: Page) -> str:
    return page.get_by_role("heading", name="Provider prices as of").inner_text()


def upload(page: Page, **file) -> None:
    """Open "Your price list" and give its file input ``file`` (a path or a buffer)."""
    page.get_by_test_id("stMain").get_by_text("Your price list", exact=True).click()
    box = page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput")
    box.set_input_files(**file)


def test_an_uploaded_price_file_changes_the_sheet_and_the_link_reproduces_it(
    page: Page, new_context, streamlit_server
):
    page.goto(f"{streamlit_server}/price_war?model=deepseek-v4-flash&price_date=today")
    wait_for_app(page, timeout=LOAD_TIMEOUT)
    assert sheet_title(page) == "Provider prices as of 2026-11-20"
    before = verdict(page)
    assert "DeepInfra" in before and "Azure AI" in before

    upload(page, files=str(SAMPLE))
    page.wait_for_url(lambda url: "price_list=" in url, timeout=LOAD_TIMEOUT)
    wait_for_app(page, timeout=LOAD_TIMEOUT)
    expect(page.get_by_role("heading", name="(your list)")).to_have_text(
        f"Provider prices as of {today()} (your list)"
    )
    after = verdict(page)
    assert after != before
    # LiteLLM's sample lists DeepSeek (its peak price), Azure AI and Novita for V4-Flash.
    assert f"at the prices of {today()}?" in after and "DeepInfra" not in after
    for provider in ("DeepSeek (", "Azure AI (", "Novita ("):
        assert provider in after
    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_contain_text("The share link carries them")
    expect(success).to_contain_text("so it reproduces this sheet")
    assert_page_works(page)

    # The share link holds the list and its date; a new browser shows the same sheet.
    link = share_link_query(page)
    assert link == query(page.url)
    assert link["price_file_date"] == [today()] and len(link["price_list"][0]) > 100
    fresh = new_context().new_page()
    fresh.goto(page.url)
    wait_for_app(fresh, timeout=LOAD_TIMEOUT)
    assert sheet_title(fresh) == f"Provider prices as of {today()} (your list)"
    assert verdict(fresh) == after
    assert_page_works(fresh)
    assert share_link_query(fresh) == link


def test_a_malformed_price_file_gets_a_message(page: Page, streamlit_server):
    page.goto(f"{streamlit_server}/price_war?model=glm-5.2&price_date=today")
    wait_for_app(page, timeout=LOAD_TIMEOUT)
    bad = {"name": "prices.json", "mimeType": "application/json", "buffer": b'{"oops": 1'}
    upload(page, files=bad)
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("Could not read", timeout=LOAD_TIMEOUT)
    expect(error).to_contain_text("is neither LiteLLM")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "price_list" not in query(page.url)
    assert sheet_title(page) == "Provider prices as of 2026-11-20"


def test_the_timeline_shows_deepseeks_2026_rise(page: Page, streamlit_server):
    page.goto(f"{streamlit_server}/timeline?model=deepseek-v4-flash")
    wait_for_app(page, timeout=LOAD_TIMEOUT)
    assert_page_works(page)
    changes = page.get_by_test_id("stMarkdown").filter(has_text="Price changes.")
    expect(changes).to_contain_text("2 price rises")
    expect(changes).to_contain_text(
        "DeepSeek (peak) raised it 4.7x on 2026-08-16 ($0.28 to $1.32 per million output tokens)"
    )
    expect(
        page.get_by_test_id("stCaptionContainer").filter(has_text="Orange triangles: a price rise")
    ).to_have_count(1)
