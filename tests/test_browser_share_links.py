"""Share links in a real browser: a page's URL reopens it exactly as the sender saw it.

Widget-to-URL sync happens in the browser, so AppTest cannot check it. For Home and every
page in ``ui.PAGES``: change sidebar and page inputs, open the resulting URL in a fresh
browser context and compare the inputs and the page's headline numbers. Also: browser
history, two users at once, and a malformed link.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app_pages import ui

pytestmark = pytest.mark.browser

URL_TIMEOUT = 10_000  # ms for a changed input to reach the URL (a rerun takes ~1 s)
SELECT_TRIES = 3  # openings of a selectbox before giving up
OPTION_TIMEOUT = 10_000  # ms for an opened selectbox to show the option


def query(url: str) -> dict[str, list[str]]:
    """The URL's query parameters (repeated keys as lists)."""
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@dataclass(frozen=True)
class Input:
    """One URL-bound input, found by its label, and a value to give it."""

    kind: str  # "number", "select", "radio" or "toggle"
    label: str
    param: str  # its URL key
    value: str  # as the widget shows it; "true"/"false" for a toggle
    sidebar: bool = False
    url: str = ""  # as the URL holds it, where that differs (an id for a name shown)

    def _scope(self, page: Page):
        return page.get_by_test_id("stSidebar" if self.sidebar else "stMain")

    def set(self, page: Page) -> None:
        """Give the input ``value``, wait for the URL to hold it and for the rerun to end."""
        scope = self._scope(page)
        if self.kind == "number":
            box = scope.get_by_role("spinbutton", name=self.label, exact=True)
            box.fill(self.value)
            box.press("Enter")
        elif self.kind == "select":
            box = scope.get_by_role("combobox", name=self.label, exact=True)
            option = page.get_by_role("option", name=self.value, exact=True)
            for attempt in range(SELECT_TRIES):  # a rerun can close the list as it opens
                box.focus()  # a click alone sometimes only focuses it; the keyboard opens it
                box.press("ArrowDown")
                try:
                    option.click(timeout=OPTION_TIMEOUT)
                    break
                except PlaywrightTimeoutError:
                    if attempt == SELECT_TRIES - 1:
                        raise
                    box.press("Escape")
        elif self.kind == "radio":
            group = scope.get_by_role("radiogroup", name=self.label, exact=True)
            group.get_by_text(self.value, exact=True).click()
        elif self.kind == "toggle":
            switch = page.get_by_role("switch", name=self.label, exact=True)
            if switch.is_checked() != (self.value == "true"):
                scope.get_by_test_id("stCheckbox").filter(has=switch).locator("label").click()
        else:
            raise ValueError(self.kind)
        try:
            page.wait_for_url(lambda url: self.in_url(url), timeout=URL_TIMEOUT)
            reached = True
        except PlaywrightTimeoutError:
            reached = False
        if not reached:
            pytest.fail(
                f"{self.label!r} set to {self.value!r}, but the URL never got "
                f"{self.param}={self.value}: {page.url} (is the input bound to the URL?)",
                pytrace=False,
            )
        wait_for_app(page)
        self.expect_shown(page)

    def expect_shown(self, page: Page, value: str | None = None) -> None:
        """The widget shows ``value`` (default: the one this Input sets)."""
        value = self.value if value is None else value
        scope = self._scope(page)
        if self.kind == "number":
            box = scope.get_by_role("spinbutton", name=self.label, exact=True)
            expect(box).to_have_value(value)
        elif self.kind == "select":
            box = scope.get_by_role("combobox", name=self.label, exact=True)
            expect(box).to_have_value(value)
        elif self.kind == "radio":
            group = scope.get_by_role("radiogroup", name=self.label, exact=True)
            expect(group.get_by_role("radio", name=value, exact=True)).to_be_checked()
        else:
            switch = scope.get_by_role("switch", name=self.label, exact=True)
            expect(switch).to_be_checked(checked=value == "true")

    def in_url(self, url: str) -> bool:
        """Whether ``url`` holds this input's value."""
        got = query(url).get(self.param)
        if not got or len(got) != 1:
            return False
        if self.kind == "number":
            return math.isclose(float(got[0]), float(self.value))
        return got[0] == (self.url or self.value)


@dataclass(frozen=True)
class Case:
    """A page, the inputs a share-link test changes there, and what it compares."""

    stem: str  # URL path of the page; "" is Home
    inputs: list[Input]
    headline: Callable[[Page], list[str]] | None = None  # texts to compare, None on Home
    bad: tuple[str, str] | None = None  # (param, value) the page rejects
    bad_default: Input | None = None  # that input at its default

    @property
    def id(self) -> str:
        return self.stem or "home"


def batch(value: str) -> Input:
    return Input("number", "Batch size [sequences]", "batch_size", value, sidebar=True)


def sidebar_select(label: str, param: str, value: str, url: str = "") -> Input:
    return Input("select", label, param, value, sidebar=True, url=url)


def metric_values(page: Page) -> list[str]:
    return page.get_by_test_id("stMain").get_by_test_id("stMetricValue").all_inner_texts()


def paragraphs(pattern: str) -> Callable[[Page], list[str]]:
    """Texts of the page's markdown blocks matching ``pattern``."""

    def read(page: Page) -> list[str]:
        blocks = page.get_by_test_id("stMain").get_by_test_id("stMarkdownContainer")
        return blocks.filter(has_text=re.compile(pattern)).all_inner_texts()

    return read


def first_table(page: Page) -> list[str]:
    """Cells of the page's first dataframe (its accessible table holds the text)."""
    return page.get_by_test_id("stDataFrame").first.locator("td").all_text_contents()


CASES = [
    Case(
        "",
        [batch("64"), sidebar_select("GPU", "gpu", "H200 SXM 141GB", "h200-sxm")],
    ),
    Case(
        "gpu_comparison",
        [
            batch("16"),
            sidebar_select("GPU", "gpu", "A100 80GB SXM4", "a100-80gb-sxm"),
            sidebar_select(  # the sidebar's price rule
                "Price tier", "price_tier", "all-in cost of an owner (SemiAnalysis)", "all_in_cost"
            ),
            Input("toggle", "Best batch for speed", "optimize_batch", "true"),
            Input("number", "Min tokens/s per user [tokens/s]", "min_tokens_per_s_per_user", "30"),
        ],
        paragraphs(r"is the cheapest:|No GPU setup fits"),
        ("min_tokens_per_s_per_user", "9999"),
        Input("number", "Min tokens/s per user [tokens/s]", "min_tokens_per_s_per_user", "20"),
    ),
    Case(
        "moe_batch_scaling",
        [
            batch("128"),
            Input("number", "Routing skew [-]", "routing_skew", "1.5"),
            Input("radio", "What if more experts: keep fixed", "keep_fixed", "total size"),
            Input("number", "What if: experts per layer [experts]", "n_experts", "32"),
        ],
        metric_values,
        ("top_k", "99"),
        Input("number", "What if: experts per token [experts]", "top_k", "2"),
    ),
    Case(
        "speculative_decoding",
        [
            batch("8"),
            Input("number", "Draft tokens per step (g) [tokens]", "draft_tokens", "6"),
            Input("number", "Acceptance at T = 0 [0-1]", "acceptance_at_t0", "0.85"),
        ],
        metric_values,
        ("draft_tokens", "99"),
        Input("number", "Draft tokens per step (g) [tokens]", "draft_tokens", "4"),
    ),
    Case(
        "quantization_fit",
        [
            sidebar_select("KV-cache format", "kv_format", "fp8"),
            Input("select", "GPUs per replica [GPUs]", "n_gpus", "1", sidebar=True),
            Input("number", "Concurrent users (target) [users]", "users", "60"),
            Input("radio", "Heatmap rows", "heatmap_rows", "GPU"),
        ],
        paragraphs(r"C14 (holds|partly|does not hold)|C13 in numbers"),
        ("heatmap_rows", "diagonal"),
        Input("radio", "Heatmap rows", "heatmap_rows", "format"),
    ),
    Case(
        "price_war",
        [
            batch("64"),
            Input("number", "2x A100 80GB price [$/GPU-hour]", "a100_usd_per_gpu_hour", "2.50"),
            Input("radio", "Margin shown in", "margin_unit", "$ per million requests"),
            Input("select", "Provider prices as of", "price_date", "2024-03"),
        ],
        paragraphs(r"our cost is"),
        ("margin_unit", "euros"),
        Input("radio", "Margin shown in", "margin_unit", "% of revenue"),
    ),
    Case(  # the frontier sweeps the batch: the sidebar's is disabled there, the lengths count
        "frontier",
        [
            Input("number", "Prompt length [tokens]", "prompt_tokens", "1024", sidebar=True),
            Input("number", "TPOT target [ms]", "tpot_ms_max", "25.0"),
            Input("number", "TTFT target [ms]", "ttft_ms_max", "1000.0"),
            Input(
                "number",
                "Interactivity for the GPU ranking [tokens/s per user]",
                "min_tokens_per_s_per_user",
                "30.0",
            ),
        ],
        paragraphs(r"^Verdict\."),
        ("tpot_ms_max", "-3"),
        Input("number", "TPOT target [ms]", "tpot_ms_max", "50.0"),
    ),
    Case(  # the sizer picks GPUs per replica and batch caps: the sidebar's are disabled there
        "fleet_sizing",
        [
            Input("number", "Traffic [requests/s]", "requests_per_s", "20.0"),
            Input("number", "TPOT p90 target [ms]", "tpot_p90_ms", "40"),
        ],
        metric_values,
        ("headroom", "-1"),
        Input("number", "Headroom [-]", "headroom", "0.20"),
    ),
    Case(
        "buy_or_rent",
        [
            Input("number", "Volumes compared", "points", "10"),
            Input("number", "TPOT p90 target [ms]", "tpot_p90_ms", "40"),
        ],
        paragraphs(r"^Answer\."),
        ("points", "500"),
        Input("number", "Volumes compared", "points", "25"),
    ),
    Case(
        "timeline",
        [
            sidebar_select("Model", "model", "DeepSeek-V3", "deepseek-v3"),
            Input("select", "Floor at", "target", "The sidebar's batch", url="batch_size"),
            sidebar_select(  # the sidebar's price rule prices the floor's GPUs
                "Price tier", "price_tier", "all-in cost of an owner (SemiAnalysis)", "all_in_cost"
            ),
        ],
        paragraphs(r"^(Trend|Below the floor)\."),
        ("target", "speed"),
        Input(
            "select",
            "Floor at",
            "target",
            "The cheapest batch at the interactivity target",
            url="interactivity",
        ),
    ),
    Case(  # the link holds scenario A (the sidebar's) and scenario B (b_ parameters)
        "compare",
        [
            batch("64"),
            Input("select", "GPU", "b_gpu", "H200 SXM 141GB", url="h200-sxm"),
            Input("select", "Weight format", "b_weight_format", "fp8"),
            Input("number", "Output length [tokens]", "b_output_tokens", "512"),
        ],
        metric_values,
        ("b_prompt_tokens", "abc"),
        Input("number", "Prompt length [tokens]", "b_prompt_tokens", "512"),
    ),
    Case(
        "validation",
        [
            # The efficiencies are the sidebar's (its Efficiencies box is open here); the
            # scenario's other inputs are disabled: each measurement brings its own setup.
            Input(
                "number", "Bandwidth efficiency [0-1]", "bandwidth_efficiency", "0.50", sidebar=True
            ),
            Input("number", "Layer overhead [us]", "layer_overhead_us", "20.0", sidebar=True),
        ],
        first_table,
        ("bandwidth_efficiency", "7"),
        Input("number", "Bandwidth efficiency [0-1]", "bandwidth_efficiency", "", sidebar=True),
    ),
    Case(  # the uploaded file does not travel in the link; the sidebar's efficiencies do
        "calibration",
        [
            Input("number", "Kernel fixed time [us]", "kernel_us", "3.5", sidebar=True),
            Input("toggle", "Latest run of each configuration", "latest_only", "false"),
        ],
        paragraphs(r"^Your scenario's efficiencies"),
        ("latest_only", "maybe"),
        Input("toggle", "Latest run of each configuration", "latest_only", "true"),
    ),
]
PAGE_STEMS = {p.url_path for p in ui.PAGES[1:]}


def test_every_page_has_a_case():
    """A page added to ui.PAGES needs its round trip here."""
    missing = PAGE_STEMS - {c.stem for c in CASES}
    assert not missing, f"add a Case to CASES for {sorted(missing)}"


def cases() -> list:
    """Home and every page that exists yet."""
    return [pytest.param(c, id=c.id) for c in CASES if not c.stem or c.stem in PAGE_STEMS]


def share_link_query(page: Page) -> dict[str, list[str]]:
    """The query of the link in the sidebar's 'Share this view' box, once it equals the
    page's URL or after ``URL_TIMEOUT`` (the rerun that redraws it may start a moment
    after the URL changed)."""
    box = page.get_by_test_id("stExpander").filter(has_text="Share this view")
    code = box.get_by_test_id("stCode")
    if not code.is_visible():
        box.get_by_text("Share this view").click()
    expect(code).to_contain_text(urlsplit(page.url).path)
    deadline = time.monotonic() + URL_TIMEOUT / 1000
    while (link := query(code.inner_text().strip())) != query(page.url):
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    return link


# --- Round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases())
def test_share_link_round_trip(page, new_context, streamlit_server, case):
    """Several inputs changed in one browser reopen, with the same numbers, in a fresh one."""
    page.goto(f"{streamlit_server}/{case.stem}")
    wait_for_app(page)
    at_defaults = case.headline(page) if case.headline else []
    for item in case.inputs:
        item.set(page)
    link = page.url
    assert all(item.in_url(link) for item in case.inputs), link
    assert share_link_query(page) == query(link)
    headline = case.headline(page) if case.headline else []
    if case.headline:
        assert headline, f"no headline found on {link}"
        assert headline != at_defaults, "the headline does not depend on the inputs changed"

    fresh = new_context().new_page()
    fresh.goto(link)
    wait_for_app(fresh)
    for item in case.inputs:
        item.expect_shown(fresh)
    wait_for_app(fresh)
    assert_page_works(fresh, charts=bool(case.stem))
    if case.headline:
        assert case.headline(fresh) == headline
    assert share_link_query(fresh) == query(link)


# --- History -----------------------------------------------------------------------------


def test_back_and_forward_between_pages_keep_the_scenario(page, streamlit_server):
    """Back returns to the previous page with its scenario; forward to the next with its own."""
    page.goto(streamlit_server)
    wait_for_app(page)
    batch("16").set(page)
    menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
    menu.get_by_role("link", name="GPU comparison", exact=True).click()
    page.wait_for_url(re.compile(r"/gpu_comparison\?(.*&)?batch_size=16\b"))
    wait_for_app(page)
    batch("16").expect_shown(page)
    batch("48").set(page)

    page.go_back()
    page.wait_for_url(lambda url: urlsplit(url).path == "/" and batch("16").in_url(url))
    wait_for_app(page)
    batch("16").expect_shown(page)
    expect(
        page.get_by_role("heading", name="What does it cost to serve Mixtral 8x7B?")
    ).to_be_visible()

    page.go_forward()
    page.wait_for_url(re.compile(r"/gpu_comparison\?(.*&)?batch_size=48\b"))
    wait_for_app(page)
    batch("48").expect_shown(page)
    assert_page_works(page)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="Streamlit 1.67 writes a bound widget's change into the URL with replaceState, so "
    "Back leaves the page instead of undoing the change (streamlit/streamlit#13853; README, "
    "'Back and Forward'). When this passes, Streamlit has fixed it: drop the xfail.",
)
def test_back_within_a_page_restores_the_previous_value(page, streamlit_server):
    page.goto(streamlit_server)
    wait_for_app(page)
    batch("16").set(page)
    batch("48").set(page)
    page.go_back(wait_until="commit")
    expect(page).to_have_url(re.compile(r"[?&]batch_size=16\b"), timeout=3_000)
    wait_for_app(page)
    batch("16").expect_shown(page)
    page.go_forward(wait_until="commit")
    expect(page).to_have_url(re.compile(r"[?&]batch_size=48\b"), timeout=3_000)
    batch("48").expect_shown(page)


# --- Two users ---------------------------------------------------------------------------


def test_two_users_never_see_each_others_scenario(page, new_context, streamlit_server):
    """Two sessions change the same inputs in turn; each keeps its own values and numbers."""
    url = f"{streamlit_server}/speculative_decoding"
    alice, bob = page, new_context().new_page()
    for user in (alice, bob):
        user.goto(url)
        wait_for_app(user)
    draft = "Draft tokens per step (g) [tokens]"
    mine = {
        alice: [batch("16"), Input("number", draft, "draft_tokens", "2")],
        bob: [batch("256"), Input("number", draft, "draft_tokens", "8")],
    }
    for step in range(2):  # interleaved: alice, bob, alice, bob
        for user, inputs in mine.items():
            inputs[step].set(user)
    headlines = {}
    for user, inputs in mine.items():
        for item in inputs:
            item.expect_shown(user)
            assert item.in_url(user.url), user.url
        headlines[user] = metric_values(user)
    assert headlines[alice] != headlines[bob]

    alice.reload()  # her link alone reproduces her view
    wait_for_app(alice)
    for item in mine[alice]:
        item.expect_shown(alice)
    wait_for_app(alice)
    assert metric_values(alice) == headlines[alice]
    assert metric_values(bob) == headlines[bob]


# --- Malformed link ----------------------------------------------------------------------


@pytest.mark.parametrize("case", cases())
def test_malformed_link_names_the_ignored_parameters(page, streamlit_server, case):
    """Unknown, non-numeric and out-of-range values: one warning, defaults, a working page."""
    bad = ["batch_size=abc", "n_gpus=999", "nonsense=1"]
    if case.bad:
        bad.append("=".join(case.bad))
    page.goto(f"{streamlit_server}/{case.stem}?{'&'.join(bad)}")
    wait_for_app(page)
    warning = page.get_by_test_id("stAlertContentWarning").filter(
        has_text="Some URL parameters were not used as given"
    )
    expect(warning).to_have_count(1)
    for item in bad:
        expect(warning).to_contain_text(item)
    expect(warning).to_contain_text("nonsense=1: not a setting on this page, dropped")
    batch("32").expect_shown(page)
    Input("select", "GPUs per replica [GPUs]", "n_gpus", "2", sidebar=True).expect_shown(page)
    if case.bad_default:
        case.bad_default.expect_shown(page)
    assert_page_works(page, charts=bool(case.stem))
