"""Calibrate to your benchmark in a real browser: upload a result file, see the fit, apply
it, and a share link that reproduces the calibrated scenario in a fresh browser.

AppTest checks the numbers and the messages (tests/test_page_calibration.py); this checks
what only a browser does: the file input, the URL and the share link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import Page, expect
from test_browser_share_links import Input, query, share_link_query

from costmodel import Scenario
from costmodel.analyses import calibration as analysis

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).parent / "data" / "inferencex_h200_sglang.csv"
FIT_TIMEOUT = 90_000  # ms: a cold server reads and fits the six runs (about 5 s on one core)


def upload(page: Page, path: Path) -> None:
    box = page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput")
    box.set_input_files(str(path))


def efficiencies(page: Page) -> str:
    found = page.get_by_test_id("stMain").get_by_test_id("stMarkdownContainer")
    return found.filter(has_text="Your scenario's efficiencies").inner_text()


def same_values(a: dict, b: dict) -> bool:
    """Two queries with the same keys and values, numbers compared as numbers (a value
    set by a button reads "1" where the gate writes "1.0")."""

    def number(text: str):
        try:
            return float(text)
        except ValueError:
            return text

    return {k: [number(v) for v in vs] for k, vs in a.items()} == {
        k: [number(v) for v in vs] for k, vs in b.items()
    }


def test_upload_fit_apply_and_the_link_reproduces_the_calibrated_scenario(
    page: Page, new_context, streamlit_server
):
    (setting,) = analysis.run(SAMPLE.read_bytes(), Scenario()).settings
    shown = {
        "moe_kernel_efficiency": ("MoE kernel efficiency [0-1]", "%.2f"),
        "kernel_us": ("Kernel fixed time [us]", "%.1f"),
    }
    inputs = [
        Input("number", label, name, fmt % setting.fields[name], sidebar=True)
        for name, (label, fmt) in shown.items()
    ]
    page.goto(f"{streamlit_server}/calibration")
    wait_for_app(page)
    assert "the defaults" in efficiencies(page)

    upload(page, SAMPLE)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Verdict.", exact=False)).to_be_visible(timeout=FIT_TIMEOUT)
    wait_for_app(page, timeout=FIT_TIMEOUT)
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_contain_text(
        "as InferenceX results (CSV or API JSON): 6 runs"
    )
    expect(main.get_by_role("heading", name="The fit", exact=True)).to_be_visible()
    assert_page_works(page)  # the ranges and both measured-against-modelled charts

    main.get_by_role("button", name="Apply").click()
    page.wait_for_url(
        lambda url: (
            all(item.in_url(url) for item in inputs)
            and query(url).get("gpu") == ["h200-sxm"]
            and query(url).get("serving_stack") == ["sglang"]
        ),
        timeout=FIT_TIMEOUT,
    )
    wait_for_app(page, timeout=FIT_TIMEOUT)
    expect(main.get_by_text("Applied: the sidebar holds these values")).to_be_visible(
        timeout=FIT_TIMEOUT
    )
    for item in inputs:
        item.expect_shown(page)
    calibrated = efficiencies(page)
    assert "Kernel fixed time [us] " + inputs[1].value in calibrated
    link = share_link_query(page)
    assert link == query(page.url)

    # A fresh browser, without the file: the calibrated scenario is the sidebar's.
    fresh = new_context().new_page()
    fresh.goto(page.url)
    wait_for_app(fresh, timeout=FIT_TIMEOUT)
    for item in inputs:
        # The gate may rewrite a value's spelling ("1" -> "1.0") and rerun the app once.
        box = fresh.get_by_test_id("stSidebar").get_by_role("spinbutton", name=item.label)
        expect(box).to_be_visible(timeout=FIT_TIMEOUT)
        item.expect_shown(fresh)
    Input("select", "GPU", "gpu", "H200 SXM 141GB", sidebar=True).expect_shown(fresh)
    Input("select", "Serving stack", "serving_stack", "SGLang", sidebar=True).expect_shown(fresh)
    assert efficiencies(fresh) == calibrated
    assert_page_works(fresh)
    assert same_values(share_link_query(fresh), link)


def test_a_bad_file_gets_a_message_not_a_traceback(page: Page, streamlit_server, tmp_path):
    bad = tmp_path / "result.json"
    bad.write_text('{"model_id": "deepseek-ai/DeepSeek-R1", "median_tpot_ms": 20}')
    page.goto(f"{streamlit_server}/calibration")
    wait_for_app(page)
    upload(page, bad)
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("Could not use result.json", timeout=FIT_TIMEOUT)
    expect(error).to_contain_text("missing 'completed'")
    expect(page.get_by_test_id("stException")).to_have_count(0)
