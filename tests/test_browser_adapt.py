"""A change of model that makes a sidebar value invalid adapts it, in the browser (issue 21).

Expert parallelism on with Mixtral 8x7B on 8 GPUs, then Llama 3.1 70B (dense) chosen in
the sidebar: the page draws (no error, no exception, its charts), expert parallelism is
off, and one warning names the field that changed and why.
"""

from __future__ import annotations

import pytest
from conftest import assert_page_works, wait_for_app
from playwright.sync_api import expect
from test_browser_share_links import query, sidebar_select

from costmodel import FIELDS

pytestmark = pytest.mark.browser

DENSE = sidebar_select("Model", "model", "Llama 3.1 70B", url="llama-3.1-70b")


@pytest.mark.parametrize("stem", ["", "gpu_comparison", "moe_batch_scaling"])
def test_expert_parallel_mixtral_then_a_dense_model_draws_with_a_warning(
    page, streamlit_server, stem
):
    page.goto(f"{streamlit_server}/{stem}?model=mixtral-8x7b&expert_parallel=true&n_gpus=8")
    wait_for_app(page)
    switch = page.get_by_role("switch", name=FIELDS["expert_parallel"].labelled, exact=True)
    expect(switch).to_be_checked()
    DENSE.set(page)
    assert_page_works(page, charts=bool(stem))
    assert query(page.url).get("expert_parallel", ["false"]) == ["false"]
    expect(switch).not_to_be_checked()
    warning = page.get_by_test_id("stAlertContentWarning").filter(
        has_text=FIELDS["expert_parallel"].label
    )
    expect(warning.first).to_be_visible()
    expect(warning.first).to_contain_text("Llama 3.1 70B has no experts to spread")
