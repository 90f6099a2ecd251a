"""State as a user expects it, and hostile links, in a real browser (issue 9).

- Back to a page restores its own inputs as the user left them.
- A page's Reset resets that page's inputs only; the sidebar's Reset the sidebar only.
- A URL with markup renders no image and no link in any alert, and fetches nothing.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import Page, expect
from test_browser_share_links import Input, batch, query, share_link_query

pytestmark = pytest.mark.browser

DRAFT = "Draft tokens per step (g) [tokens]"


def draft(value: str) -> Input:
    return Input("number", DRAFT, "draft_tokens", value)


def nav(page: Page, title: str, path: str, timeout: float = 30_000) -> None:
    """Click the menu's link to the page ``title`` and wait for its URL ``path`` and its run
    (``timeout`` ms)."""
    menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
    menu.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(re.compile(rf"/{path}(\?|$)"), timeout=timeout)
    wait_for_app(page, timeout=timeout)


def test_back_restores_a_page_input_after_leaving_the_page(page, streamlit_server):
    page.goto(f"{streamlit_server}/speculative_decoding")
    wait_for_app(page)
    draft("7").set(page)
    assert share_link_query(page) == query(page.url)  # the fragment's rerun has ended
    nav(page, "GPU comparison", "gpu_comparison")
    assert "draft_tokens" not in page.url  # a page's own inputs stay on its page

    page.go_back()
    page.wait_for_url(re.compile(r"/speculative_decoding\?(.*&)?draft_tokens=7\b"))
    wait_for_app(page)
    draft("7").expect_shown(page)
    assert_page_works(page)

    page.go_forward()
    page.wait_for_url(re.compile(r"/gpu_comparison"))
    wait_for_app(page)
    assert_page_works(page)

    nav(page, "Speculative decoding", "speculative_decoding")  # the menu link: the same
    draft("7").expect_shown(page)
    assert draft("7").in_url(page.url)


def test_page_reset_leaves_the_sidebar_and_sidebar_reset_the_page(page, streamlit_server):
    page.goto(f"{streamlit_server}/speculative_decoding?batch_size=64&draft_tokens=7")
    wait_for_app(page)
    page.get_by_test_id("stMain").get_by_role("button", name="Reset").click()
    page.wait_for_url(lambda url: "draft_tokens" not in url)
    wait_for_app(page)
    draft("4").expect_shown(page)
    batch("64").expect_shown(page)
    assert batch("64").in_url(page.url)

    draft("6").set(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Reset").click()
    page.wait_for_url(lambda url: "batch_size" not in url)
    wait_for_app(page)
    batch("32").expect_shown(page)
    draft("6").expect_shown(page)
    assert draft("6").in_url(page.url)


INJECTIONS = [
    # the URL: a backtick ends the code span, then an image and a link
    "/?batch_size=%60%20!%5Bi%5D(http%3A%2F%2F127.0.0.1%3A8712%2Fx.png)%20%60",
    "/speculative_decoding?draft_tokens="
    + quote("`` ![i](http://127.0.0.1:8712/y.png) [link](http://127.0.0.1:8712/) ``"),
    "/price_war?" + quote("` ![k](http://127.0.0.1:8712/k.png) `") + "=1&margin_unit="
    + quote("<img src=http://127.0.0.1:8712/z.png> :red[red] $x^2$ **b**"),
    "/quantization_fit?gpus=h100-sxm&gpus=" + quote("[a](http://127.0.0.1:8712/)`"),
]  # fmt: skip


@pytest.mark.parametrize("path", INJECTIONS, ids=range(len(INJECTIONS)))
def test_markup_in_a_link_renders_no_image_and_no_link(page, streamlit_server, path):
    fetched = []
    page.on(
        "request",
        lambda r: r.url.startswith("http://127.0.0.1:8712") and fetched.append(r.url),
    )
    page.goto(streamlit_server + path)
    wait_for_app(page)
    warning = page.get_by_test_id("stAlertContentWarning").filter(
        has_text="Some URL parameters were not used as given"
    )
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("127.0.0.1:8712")  # shown as text
    alerts = page.get_by_test_id("stAlert")
    assert alerts.locator("img, a, svg[data-testid='stMarkdownColoredText']").count() == 0
    # nor a formula, emphasis or colour in the warning (the pages' own alerts may use bold)
    assert warning.locator("[class*='katex'], strong, em, span[style*='color']").count() == 0
    assert not fetched, fetched
    assert_page_works(page, charts=not path.startswith("/?"))


def test_back_undoes_a_gpu_change(page, streamlit_server):
    """The model and GPU selectboxes write their ids into the URL themselves, with a
    history entry, so Back undoes a change there (unlike a bound input; see README)."""
    page.goto(f"{streamlit_server}/?gpu=a100-80gb-sxm")
    wait_for_app(page)
    Input("select", "GPU", "gpu", "A100 80GB SXM4", sidebar=True).expect_shown(page)
    Input("select", "GPU", "gpu", "H200 SXM 141GB", sidebar=True, url="h200-sxm").set(page)
    page.go_back()
    page.wait_for_url(re.compile(r"[?&]gpu=a100-80gb-sxm\b"))
    wait_for_app(page)
    Input("select", "GPU", "gpu", "A100 80GB SXM4", sidebar=True).expect_shown(page)


def test_back_to_a_bad_link_shows_the_page_not_an_error(page, streamlit_server):
    """Back to the bad link the session opened with: its keys are bound by now, so the
    gate reopens the page with its own values instead of letting a widget fail."""
    page.goto(
        f"{streamlit_server}/speculative_decoding?batch_size=64&n_gpus=inf&draft_tokens=1e400"
    )
    wait_for_app(page)
    page.wait_for_url(lambda url: "inf" not in url and "1e400" not in url)
    page.go_back()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    batch("64").expect_shown(page)
    Input("select", "GPUs per replica [GPUs]", "n_gpus", "2", sidebar=True).expect_shown(page)
    draft("4").expect_shown(page)
    assert_page_works(page)


def test_an_input_of_the_same_name_on_another_page_starts_at_that_pages_value(
    page, streamlit_server
):
    """``min_tokens_per_s_per_user`` is the frontier's (default 50) and the GPU
    comparison's (default 20): leaving one page for the other carries no value over, and
    Back brings the first page's value back."""
    page.goto(f"{streamlit_server}/frontier")
    wait_for_app(page)
    ranking = Input(
        "number",
        "Interactivity for the GPU ranking [tokens/s per user]",
        "min_tokens_per_s_per_user",
        "80.0",
    )
    ranking.set(page)
    nav(page, "GPU comparison", "gpu_comparison")
    assert ranking.param not in page.url
    Input("toggle", "Best batch for speed", "optimize_batch", "true").set(page)
    speed = Input("number", "Min tokens/s per user [tokens/s]", ranking.param, "20")
    speed.expect_shown(page)
    assert ranking.param not in page.url

    page.go_back()
    page.wait_for_url(lambda url: "/frontier" in url and ranking.in_url(url))
    wait_for_app(page)
    ranking.expect_shown(page)
