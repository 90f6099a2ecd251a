"""MoE batch scaling page, through AppTest (no browser)."""

import io
import json

import pandas as pd
import pytest
from conftest import app_scenario, as_ids, chart_specs, ignored, metrics, open_page

import costmodel
from costmodel import comparisons

PAGE = "app_pages/moe_batch_scaling.py"


def test_renders_with_defaults():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "MoE batch scaling"
    intro = at.markdown[0].value
    for claim in ("C7", "C8", "C11"):
        assert f"**{claim}**" in intro
    specs = chart_specs(at)
    assert len(specs) >= 6
    text = json.dumps(specs)
    for title in ("Batch size [sequences, log scale]", "Weights read per step [GB]"):
        assert title in text
    assert '"tooltip"' in text
    assert at.number_input(key="routing_skew").value == 0.0
    assert at.number_input(key="n_experts").value == 16
    assert at.radio(key="keep_fixed").value == "expert size"


def test_key_numbers_equal_costmodel():
    at = open_page(PAGE, batch_size="8")
    scen = app_scenario(batch_size=8)
    moe = costmodel.evaluate(scen)
    cat = comparisons.dense_equivalents(costmodel.load_catalog(), scen.model)
    dense = costmodel.evaluate(
        scen.replace(model=comparisons.dense_model_ids(scen.model)["same_active"]), cat
    )
    weights = moe["weight_bytes_read_per_step_gb"]
    shown = metrics(at)
    # Seed README: 7.20 experts at B = 8.
    assert shown["Experts read / layer"] == "7.20 of 8"
    assert moe["experts_read_per_layer"] == pytest.approx(7.20, abs=0.005)
    assert shown["MoE weights / step"] == f"{weights:.1f} GB"
    assert shown["Step time, MoE ÷ dense"] == (
        f"{moe['decode_step_ms'] / dense['decode_step_ms']:.2f}x"
    )
    table = at.dataframe[0].value
    row = table[(table["setup"] == "MoE, uniform routing") & (table["batch_size"] == 8)]
    assert row["usd_per_million_output_tokens"].item() == pytest.approx(
        moe["usd_per_million_output_tokens"]
    )
    assert row["decode_step_ms"].item() == pytest.approx(moe["decode_step_ms"])


def test_url_params_fill_sidebar_and_page_inputs():
    at = open_page(
        PAGE,
        gpu="a100-80gb-sxm",
        batch_size="64",
        routing_skew="1.5",
        n_experts="32",
        top_k="4",
        keep_fixed="total size",
    )
    assert not at.exception and not at.warning and not at.error
    assert at.sidebar.selectbox(key="gpu").value == "a100-80gb-sxm"
    assert at.sidebar.number_input(key="batch_size").value == 64
    assert at.number_input(key="routing_skew").value == 1.5
    assert at.number_input(key="n_experts").value == 32
    assert at.number_input(key="top_k").value == 4
    assert at.radio(key="keep_fixed").value == "total size"
    table = at.dataframe[0].value
    assert set(table["setup"]) >= {"MoE, uniform routing", "MoE, skew 1.5"}
    summary = at.dataframe[1].value
    assert summary["n_experts"].tolist() == [8, 32]
    assert summary["intermediate_size"].tolist() == [14336, 3584]


@pytest.mark.parametrize(
    ("params", "named"),
    [({"routing_skew": "9"}, "routing_skew"), ({"n_experts": "abc"}, "n_experts")],
)
def test_bad_page_param_is_named_in_a_warning(params, named):
    assert f"`{named}=" in ignored(open_page(PAGE, **params))


def test_top_k_above_experts_is_a_warning_not_a_traceback():
    at = open_page(PAGE, n_experts="4", top_k="8")
    assert not at.exception
    # The library says why (costmodel.analyses.moe_scaling.Options), escaped.
    assert "top\\_k must be in \\[1, n\\_experts\\] = \\[1, 4\\]; got 8" in at.warning[0].value
    assert at.dataframe[1].value["n_experts"].tolist() == [8, 16]


def test_presets_and_reset():
    at = open_page(PAGE, batch_size="64")
    at.button(key="moe_preset:Skewed routing (C7)").click().run()
    assert at.number_input(key="routing_skew").value == 1.0
    at.button(key="moe_preset:64 experts, top-8 (C8)").click().run()
    assert at.number_input(key="n_experts").value == 64
    assert at.number_input(key="top_k").value == 8
    assert at.radio(key="keep_fixed").value == "total size"
    assert at.dataframe[1].value["intermediate_size"].tolist() == [14336, 1792]
    assert not at.exception
    at.button(key="moe_preset:reset").click().run()
    assert at.number_input(key="routing_skew").value == 0.0
    assert at.number_input(key="n_experts").value == 16
    assert at.radio(key="keep_fixed").value == "expert size"
    assert at.sidebar.number_input(key="batch_size").value == 64  # the page's Reset keeps it


def test_csv_downloads_equal_tables_shown(downloads):
    at = open_page(PAGE, routing_skew="0.5")
    assert not at.exception
    shown = [df.value for df in at.dataframe]
    names = ["moe_batch_scaling.csv", "moe_what_if_models.csv", "moe_more_experts.csv"]
    names.append("moe_prefill.csv")
    assert set(names) <= set(downloads)
    assert len(shown) == len(names)
    for name, table in zip(names, shown, strict=True):
        csv = pd.read_csv(io.BytesIO(downloads[name]))
        expected = pd.read_csv(io.StringIO(as_ids(table).to_csv(index=False)))
        pd.testing.assert_frame_equal(csv, expected, check_exact=False, rtol=1e-12)


def test_dense_sidebar_model_says_so():
    at = open_page(PAGE, model="llama-2-70b", n_gpus="4")
    assert not at.exception
    assert "dense" in at.info[0].value
