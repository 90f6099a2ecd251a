"""Compare page through AppTest: B from b_ parameters, copy and swap, the library's numbers."""

import json

import pytest
from conftest import app_scenario, ignored, markdown_text, metrics, open_page, shown
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from app_pages.ui import models
from app_pages.ui.text import escape
from costmodel import Scenario, load_catalog
from costmodel.catalog import ASSETS_DIR
from costmodel.shapley import compare

PAGE = "app_pages/compare.py"
LLAMA = (ASSETS_DIR / "models" / "llama-2-70b.json").read_bytes()
CATALOG = load_catalog()
COST = "usd_per_million_output_tokens"


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_b_from_a_link_and_the_librarys_numbers():
    at = open_page(PAGE, b_gpu="h200-sxm", b_weight_format="fp8", b_batch_size="64")
    assert not at.exception and not at.warning and not at.error
    assert at.selectbox(key="b_gpu").value == "h200-sxm"
    assert at.selectbox(key="b_weight_format").value == "fp8"
    assert at.number_input(key="b_batch_size").value == 64
    # B's GPU price is the sidebar's price rule's for the H200, as A's is for the H100.
    b = app_scenario(gpu="h200-sxm", weight_format="fp8", batch_size=64)
    want = compare(app_scenario(), b, CATALOG, COST)
    shown_metrics = metrics(at)
    name = "Cost [$/M output tokens]"  # the metric in words (costmodel.outputs)
    assert shown_metrics[f"A: {name}"] == f"{want.a_value:,.4g}"
    assert shown_metrics[f"B: {name}"] == f"{want.b_value:,.4g}"
    assert shown_metrics["Difference (B − A)"] == f"{want.difference:+,.4g}"
    assert escape(want.text) in markdown_text(at)
    assert want.driver == "batch_size"
    table = shown(at, "delta")
    assert list(table["field"]) == ["gpu", "weight_format", "batch_size", "usd_per_gpu_hour"]
    assert table["delta"].to_numpy() == pytest.approx(want.attribution["delta"], rel=5e-4)
    outputs = shown(at, "change_pct").set_index("output")
    assert outputs.loc[COST, "a"] == pytest.approx(want.a_value, rel=5e-4)
    assert outputs.loc[COST, "b"] == pytest.approx(want.b_value, rel=5e-4)
    assert len(at.get("vega_lite_chart")) == 1


def test_the_waterfall_runs_from_a_to_b():
    at = open_page(PAGE, b_gpu="h200-sxm", b_usd_per_gpu_hour="3")
    want = compare(app_scenario(), Scenario(gpu="h200-sxm", usd_per_gpu_hour=3.0), CATALOG, COST)
    (dataset,) = at.get("vega_lite_chart")[0].proto.datasets
    rows = convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records")
    assert [r["step"] for r in rows] == ["A", "GPU", "GPU price [$/GPU-hour]", "B"]
    assert rows[0]["end"] == pytest.approx(want.a_value)
    assert rows[-1]["end"] == pytest.approx(want.b_value)
    # Each field's bar floats from the running total: it ends where the next one starts.
    assert rows[1]["start"] == pytest.approx(want.a_value)
    assert rows[2]["start"] == pytest.approx(rows[1]["end"])
    assert rows[2]["end"] == pytest.approx(want.b_value)  # the deltas add up to B - A


def test_a_metric_from_the_url():
    at = open_page(PAGE, b_n_gpus="4", metric="ttft_ms")
    want = compare(app_scenario(), app_scenario(n_gpus=4), CATALOG, "ttft_ms")
    assert metrics(at)["B: Time to first token [ms]"] == f"{want.b_value:,.4g}"
    assert want.driver == "n_gpus" and escape(want.text) in markdown_text(at)


def test_copy_a_to_b():
    at = open_page(PAGE, batch_size="64", gpu="a100-80gb-sxm", b_gpu="h200-sxm")
    at = click(at, "Copy A to B")
    assert not at.exception
    assert at.selectbox(key="b_gpu").value == "a100-80gb-sxm"
    assert at.number_input(key="b_batch_size").value == 64
    assert "A and B are the same scenario" in at.info[0].value


def test_swap():
    at = open_page(PAGE, gpu="a100-80gb-sxm", b_gpu="h200-sxm", b_n_gpus="4")
    at = click(at, "Swap A and B")
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="gpu").value == "h200-sxm"
    assert at.sidebar.selectbox(key="n_gpus").value == 4
    assert at.selectbox(key="b_gpu").value == "a100-80gb-sxm"
    assert at.number_input(key="b_n_gpus").value == 2
    a, b = app_scenario(gpu="h200-sxm", n_gpus=4), app_scenario(gpu="a100-80gb-sxm")
    want = compare(a, b, CATALOG, COST)
    assert metrics(at)["A: Cost [$/M output tokens]"] == f"{want.a_value:,.4g}"


def test_bad_b_values_are_named_and_b_takes_the_defaults():
    at = open_page(PAGE, b_n_gpus="999", b_gpu="nope", b_batch_size="abc", metric="speed")
    text = ignored(at)
    for bad in ("`b_n_gpus=999`", "`b_gpu=nope`", "`b_batch_size=abc`", "`metric=speed`"):
        assert bad in text
    assert at.number_input(key="b_n_gpus").value == 2
    assert at.selectbox(key="b_gpu").value == "h100-sxm"
    assert "A and B are the same scenario" in at.info[0].value


def test_an_inconsistent_b_is_adapted_and_said():
    # Mixtral's context window is 32,768 tokens: a 32,000-token prompt and 1,000 output
    # tokens do not fit in it, so B's prompt is cut to 32,768 - 1,000 = 31,768 tokens.
    at = open_page(PAGE, b_prompt_tokens="32000", b_output_tokens="1000")
    assert not at.exception and not at.error
    (warning,) = [w.value for w in at.warning if w.value.startswith("B changed")]
    assert "Prompt length: 32,000 → 31,768" in warning.replace("\\", "")
    assert "context window is 32,768 tokens" in warning.replace("\\", "")


def test_a_b_that_does_not_fit_is_said():
    at = open_page(PAGE, b_model="deepseek-v3")
    assert not at.exception and not at.error
    assert "Scenario B does not fit in memory" in at.warning[0].value


def test_a_s_table_says_what_an_empty_choice_means():
    """A's attention_format is None in the Scenario: the table says what that means, as the
    sidebar's empty option does ("As weight_format"), not "None"."""
    table = open_page("app_pages/compare.py").dataframe[0].value.set_index("field")
    assert table.loc["attention_format", "value"] == "as the weight format"
    assert table.loc["batch_size", "value"] == "32"


def test_two_uploads_of_one_name_are_compared_apart():
    # Two configs named alike (meta-llama/Llama-2-70b-hf), one of half the layers: each
    # page shows its own model's numbers, not the other's from the cache.
    llama = json.loads(LLAMA)
    for layers in (llama["num_hidden_layers"], llama["num_hidden_layers"] // 2):
        data = json.dumps({**llama, "num_hidden_layers": layers}).encode()
        custom = models.from_upload(data, "config.json", load_catalog())
        query = {"model": custom.model_id, "b_model": custom.model_id, "b_batch_size": "64"}
        at = open_page(PAGE, custom_model=custom.url, **query)
        assert not at.exception and not at.error
        catalog = models.with_custom(load_catalog(), custom)
        a = app_scenario(model=custom.model_id)
        want = compare(a, a.replace(batch_size=64), catalog, COST)
        assert metrics(at)["A: Cost [$/M output tokens]"] == f"{want.a_value:,.4g}"
        assert metrics(at)["B: Cost [$/M output tokens]"] == f"{want.b_value:,.4g}"


def test_b_on_a_gpu_without_a_price_at_the_date_is_priced_at_the_default_and_said():
    # No tier prices the B200 as of 2025-07 (its first price is later): B takes the
    # default $1.95/GPU-hour, as the sidebar does for A, and a warning names the GPU.
    at = open_page(PAGE, model="kimi-k2.5", price_as_of="2025-07", b_gpu="b200")
    assert not at.exception and not at.error
    warned = " ".join(w.value for w in at.warning)
    assert "B200" in warned and "as of 2025-07" in warned and "1.95" in warned
    assert metrics(at)  # the comparison is drawn
