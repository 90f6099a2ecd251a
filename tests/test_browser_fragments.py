"""A page's own inputs rerun only their ``url.fragment``, in a real browser: the sidebar's
share link still follows them (one link, holding the new value, that reopens the view),
and Back to the page after leaving it brings the value back.
"""

from __future__ import annotations

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import Page, expect
from test_browser_share_links import Input, query, share_link_query
from test_browser_state import nav

pytestmark = pytest.mark.browser

TPOT = Input("number", "TPOT target [ms]", "tpot_ms_max", "25.0")
CASES = {
    "gpu_comparison": [  # the page's fragment, then the tornado's (nested in it)
        Input("toggle", "Best batch for speed", "optimize_batch", "true"),
        Input("number", "Move each assumption by ± [%]", "change_pct", "30"),
    ],
    "moe_batch_scaling": [Input("number", "Routing skew [-]", "routing_skew", "1.5")],
    "frontier": [TPOT],
    "price_war": [Input("radio", "Margin shown in", "margin_unit", "$ per million requests")],
    "speculative_decoding": [
        Input("number", "Draft tokens per step (g) [tokens]", "draft_tokens", "6")
    ],
    "quantization_fit": [Input("number", "Concurrent users (target) [users]", "users", "60")],
    "timeline": [Input("select", "Floor at", "target", "The sidebar's batch", url="batch_size")],
    "compare": [Input("number", "Output length [tokens]", "b_output_tokens", "512")],
}
#: The sidebar's GPU count, which the GPU comparison's "December 2023 baseline" sets to 2.
N_GPUS = Input("select", "GPUs per replica [GPUs]", "n_gpus", "4", sidebar=True)


def share_links(page: Page):
    return page.get_by_test_id("stExpander").filter(has_text="Share this view")


@pytest.mark.parametrize("stem", CASES)
def test_a_fragment_change_reaches_the_one_share_link(page, new_context, streamlit_server, stem):
    page.goto(f"{streamlit_server}/{stem}")
    wait_for_app(page)
    for item in CASES[stem]:
        item.set(page)
        expect(share_links(page)).to_have_count(1)
        link = share_link_query(page)
        assert link == query(page.url), "the share link lags the page's input"
        assert item.param in link
    expect(page.get_by_test_id("stSidebar").get_by_test_id("stCode")).to_have_count(1)

    fresh = new_context().new_page()
    fresh.goto(page.url)
    wait_for_app(fresh)
    for item in CASES[stem]:
        item.expect_shown(fresh)
    assert_page_works(fresh)
    expect(share_links(fresh)).to_have_count(1)
    assert share_link_query(fresh) == query(page.url)


def test_back_brings_a_fragment_change_back(page, streamlit_server):
    page.goto(f"{streamlit_server}/frontier")
    wait_for_app(page)
    TPOT.set(page)  # a fragment rerun: only url.fragment remembers it for Back
    assert share_link_query(page) == query(page.url)  # the fragment's rerun has ended
    nav(page, "GPU comparison", "gpu_comparison")
    assert TPOT.param not in page.url

    page.go_back()
    page.wait_for_url(lambda url: "/frontier" in url and TPOT.in_url(url))
    wait_for_app(page)
    TPOT.expect_shown(page)
    assert share_link_query(page) == query(page.url)

    page.go_forward()
    page.wait_for_url(lambda url: "/gpu_comparison" in url)
    wait_for_app(page)
    assert TPOT.param not in page.url
    assert_page_works(page)


def test_a_preset_in_a_fragment_that_sets_sidebar_fields_redraws_the_sidebar(
    page, streamlit_server
):
    """The GPU comparison's presets live in its fragment; one that sets sidebar fields
    reruns the whole app, so the sidebar shows the preset's values (the seed's C4 setup:
    2 GPUs), and the share link holds them."""
    page.goto(f"{streamlit_server}/gpu_comparison")
    wait_for_app(page)
    N_GPUS.set(page)
    page.get_by_test_id("stMain").get_by_role("button", name="December 2023 baseline").click()
    page.wait_for_url(lambda url: "n_gpus=" not in url)  # 2 GPUs is the default: not in URL
    wait_for_app(page)
    N_GPUS.expect_shown(page, "2")
    assert share_link_query(page) == query(page.url)
    assert_page_works(page)
