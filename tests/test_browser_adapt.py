"""A change of model that makes a sidebar value invalid adapts it, in the browser (issue 21).

Expert parallelism on with Mixtral 8x7B on 8 GPUs, then Llama 3.1 70B (dense) chosen in
the sidebar: the page draws (no error, no exception, its charts), expert parallelism is
off, and one warning names the field that changed and why.
"""

from __future__ import annotations

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import expect
from test_browser_share_links import query

from costmodel import FIELDS

pytestmark = pytest.mark.browser

DENSE, DENSE_ID = "Llama 3.1 70B", "llama-3.1-70b"


def choose_model(page, name: str, model_id: str) -> None:
    """Pick ``name`` in the sidebar's Model box by typing it (the long list is drawn a
    screenful at a time, so the option may not exist until filtered)."""
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model", exact=True)
    box.click()
    page.keyboard.type(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_url(lambda url: query(url).get("model") == [model_id], timeout=10_000)
    wait_for_app(page)


@pytest.mark.parametrize("stem", ["", "gpu_comparison", "moe_batch_scaling"])
def test_expert_parallel_mixtral_then_a_dense_model_draws_with_a_warning(
    page, streamlit_server, stem
):
    page.goto(f"{streamlit_server}/{stem}?model=mixtral-8x7b&expert_parallel=true&n_gpus=8")
    wait_for_app(page)
    switch = page.get_by_role("switch", name=FIELDS["expert_parallel"].labelled, exact=True)
    expect(switch).to_be_checked(timeout=30_000)
    choose_model(page, DENSE, DENSE_ID)
    assert_page_works(page, charts=bool(stem))
    assert query(page.url).get("expert_parallel", ["false"]) == ["false"]
    expect(switch).not_to_be_checked()
    warning = page.get_by_test_id("stAlertContentWarning").filter(
        has_text=FIELDS["expert_parallel"].label
    )
    expect(warning.first).to_be_visible()
    expect(warning.first).to_contain_text("Llama 3.1 70B has no experts to spread")
