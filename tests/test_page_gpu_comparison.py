"""GPU comparison page through AppTest: the numbers shown are the analysis's Result."""

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import APP_DEFAULT, app_scenario, ignored, markdown_text, open_page, shown

import costmodel
from app_pages.ui.text import escape
from costmodel import claims
from costmodel.analyses import gpu_comparison
from costmodel.pricing import PriceRule, price_gpus

PAGE = "app_pages/gpu_comparison.py"
COST = "usd_per_million_output_tokens"
CATALOG = costmodel.load_catalog()
SPECS = {"hbm_gb": 96, "bandwidth_tb_s": 4.0, "bf16_dense_tflops": 900, "usd_per_gpu_hour": 1.5}


def chart_data(chart) -> pd.DataFrame:
    """The data a chart draws (its first dataset, as Streamlit sends it: Arrow IPC)."""
    return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()


def same_table(at, result):
    """The page's setup table equals the Result's (the two timing columns are not shown)."""
    expected = result.table.drop(columns=["memory_time_ms", "compute_time_ms"])
    pd.testing.assert_frame_equal(shown(at, "setup"), expected, check_dtype=False)


def test_renders_defaults_as_the_analysis():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "GPU comparison"
    assert len(at.get("vega_lite_chart")) == 3  # cost versus batch, bandwidth per $, tornado
    result = gpu_comparison.run(APP_DEFAULT)
    same_table(at, result)
    # Every GPU with an on-demand price; GB300 and MI355X have none, and are left out.
    priced = price_gpus(rule=PriceRule()).dropna(subset=["usd_per_gpu_hour"])
    assert set(result.table["gpu"]) == set(priced["gpu"])
    assert {"b300", "gb200"} <= set(result.table["gpu"])
    assert {"GB300 NVL72 (per GPU)", "Instinct MI355X"} <= set(result.skipped)
    assert at.sidebar.selectbox(key="price_tier").value == "on_demand"
    assert at.toggle(key="optimize_batch").value is False
    assert at.number_input(key="change_pct").value == 20.0
    words = markdown_text(at)
    assert escape(result.winner_text) in words and escape(result.c5_text) in words
    verdicts = claims.check_all(APP_DEFAULT).set_index("id")
    for claim_id in ("C4", "C5", "C14"):
        row = verdicts.loc[claim_id]
        assert f"**{claim_id} {escape(row['status'])}**" in words
        assert escape(row["rule"]) in words and escape(row["evidence"]) in words


def test_url_keys_open_the_same_view():
    query = dict(gpu="a100-80gb-sxm", batch_size="64", price_tier="all_in_cost")
    query |= dict(optimize_batch="true", min_tokens_per_s_per_user="30", change_pct="30")
    at = open_page(PAGE, **query)
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="gpu").value == "a100-80gb-sxm"
    assert at.sidebar.selectbox(key="price_tier").value == "all_in_cost"
    assert at.toggle(key="optimize_batch").value is True
    assert at.number_input(key="min_tokens_per_s_per_user").value == 30.0
    assert at.number_input(key="change_pct").value == 30.0
    scen = app_scenario(PriceRule("all_in_cost"), gpu="a100-80gb-sxm", batch_size=64)
    options = gpu_comparison.Options(
        price_rule=PriceRule("all_in_cost"), optimize_batch=True, min_tokens_per_s_per_user=30.0
    )
    result = gpu_comparison.run(scen, options)
    same_table(at, result)
    assert "A100 80GB SXM4 ×2 (sidebar)" in set(result.table["setup"])


def test_an_old_gpu_price_link_names_what_changed():
    # gpu_price=lowest took the lowest price of any tier; the page now prices every GPU by
    # one tier (price_tier): the old key is named, and the default tier is used.
    note = ignored(open_page(PAGE, gpu_price="lowest"))
    assert "`gpu_price=lowest`" in note


def test_gpu_price_link_sets_c5_at_your_prices():
    at = open_page(PAGE, gpu_prices=["a100-80gb-sxm:0.90", "h100-sxm:2"])
    assert not at.exception and not at.warning
    rule = PriceRule(own={"a100-80gb-sxm": 0.9, "h100-sxm": 2.0})
    result = gpu_comparison.run(app_scenario(rule), gpu_comparison.Options(price_rule=rule))
    same_table(at, result)
    # A100: 2.039 TB/s / $0.90 = 2.266; H100: 3.35 / $2.00 = 1.675; +35%.
    assert result.a100_advantage_pct == pytest.approx(100 * (2.039 / 0.9 / (3.35 / 2) - 1))
    assert escape(result.c5_text) in markdown_text(at)
    bars = chart_data(at.get("vega_lite_chart")[1]).set_index("gpu")
    expected = result.bandwidth_per_dollar.set_index("gpu")
    assert bars.loc["a100-80gb-sxm", "price_source"] == "your price"
    np.testing.assert_allclose(
        bars["bandwidth_tb_s_per_usd_hour"], expected.loc[bars.index, "bandwidth_tb_s_per_usd_hour"]
    )


@pytest.mark.parametrize(
    "bad", ["nogpu:1", "h100-sxm:abc", "h100-sxm:-1", "h100-sxm:1e9", "h100-sxm", "custom-gpu:2"]
)
def test_bad_gpu_price_is_named_and_dropped(bad):
    """custom-gpu too: your own GPU's price is ``custom_gpu_usd_per_gpu_hour``; the price
    table (``gpu_prices``) lists the catalog's GPUs."""
    at = open_page(PAGE, gpu_prices=bad)
    note = ignored(at)
    # The warning shows the form of an entry with an example (a catalog GPU id, a price).
    assert "`gpu_prices=" in note and "e.g. a100-40gb-sxm:2" in note.replace("\\", "")
    same_table(at, gpu_comparison.run(APP_DEFAULT))


def test_custom_gpu_link_adds_your_gpu():
    at = open_page(PAGE, **{f"custom_gpu_{k}": str(v) for k, v in SPECS.items()})
    assert not at.exception and not at.warning and not at.error
    cat = CATALOG.with_gpu(
        "custom-gpu",
        name="Your GPU",
        family="hopper",
        scale_up_gb_s=900.0,
        scale_up_domain_gpus=8,
        scale_out_gb_s=50.0,
        **{k: float(v) for k, v in SPECS.items()},
    )
    result = gpu_comparison.run(APP_DEFAULT, None, cat)
    same_table(at, result)
    row = result.table.set_index("gpu").loc["custom-gpu"]
    assert row["usd_per_gpu_hour"] == 1.5 and row["price_source"].startswith("your price")


def test_custom_gpu_waits_for_its_needed_specs():
    at = open_page(PAGE, custom_gpu_hbm_gb="96")
    assert not at.exception and not at.warning
    same_table(at, gpu_comparison.run(APP_DEFAULT))


def test_fp4_format_on_blackwell():
    at = open_page(PAGE, weight_format="nvfp4")
    assert not at.exception and not at.error
    same_table(at, gpu_comparison.run(app_scenario(weight_format="nvfp4")))


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"price_tier": "latest"}, "price_tier"),
        ({"min_tokens_per_s_per_user": "9999"}, "min_tokens_per_s_per_user"),
        ({"change_pct": "abc"}, "change_pct"),
        ({"optimize_batch": "maybe"}, "optimize_batch"),
        ({"custom_gpu_hbm_gb": "-5"}, "custom_gpu_hbm_gb"),
    ],
)
def test_bad_page_parameter_is_named(params, bad):
    assert f"`{bad}=" in ignored(open_page(PAGE, **params))


def test_presets_and_reset():
    at = open_page(PAGE, batch_size="64")
    at.button(key="gpu_preset:Chat: ≥ 30 tokens/s").click().run()
    assert at.toggle(key="optimize_batch").value is True
    assert at.number_input(key="min_tokens_per_s_per_user").value == 30.0
    at.button(key="gpu_preset:Owners' all-in cost").click().run()
    assert at.sidebar.selectbox(key="price_tier").value == "all_in_cost"
    at.button(key="gpu_preset:December 2023 baseline").click().run()
    assert at.toggle(key="optimize_batch").value is False
    # The baseline sets the seed's H100 price as that GPU's own; the tier stays as chosen.
    assert at.sidebar.selectbox(key="price_tier").value == "all_in_cost"
    assert at.session_state["gpu_prices"] == (("h100-sxm", 1.95),)  # the seed's own price
    assert at.session_state["_ui_scenario"].usd_per_gpu_hour == 1.95
    at.button(key="gpu_preset:Owners' all-in cost").click().run()
    at.button(key="gpu_preset:reset").click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="price_tier").value == "all_in_cost"  # the sidebar's
    assert at.sidebar.number_input(key="batch_size").value == 64  # the page's Reset keeps it


def test_csv_downloads_hold_the_tables_shown(downloads):
    at = open_page(PAGE, change_pct="30")
    assert not at.exception
    for name, column in (("gpu_comparison.csv", "setup"), (f"tornado_{COST}.csv", "swing")):
        csv = pd.read_csv(io.BytesIO(downloads[name]))
        pd.testing.assert_frame_equal(csv, shown(at, column), check_dtype=False)
    result = gpu_comparison.run(APP_DEFAULT, gpu_comparison.Options(change_pct=30.0))
    tornado = shown(at, "swing")
    pd.testing.assert_frame_equal(tornado, result.tornado, check_dtype=False)


def test_a_batch_no_setup_holds_is_a_message_not_a_traceback():
    # 65,536 Mixtral sequences of 768 tokens need 65,536 * 768 * 131,072 B = 6.6 TB of KV
    # cache: no compared replica holds it, so the comparison has no curve to draw.
    at = open_page(PAGE, batch_size="65536")
    assert not at.exception
    assert any("No GPU setup in the comparison holds" in w.value for w in at.warning)


def scope(at) -> str:
    """The caption under "Who wins" that says what the comparison considers."""
    return next(c.value for c in at.caption if c.value.startswith(escape("Compared here:")))


def test_the_answer_states_its_restriction_and_the_price_rule():
    """The comparison considers fewer setups than the frontier: it says so beside the
    answer, with the batch it used and the sidebar's price rule, as the settings change."""
    at = open_page(PAGE)
    blocks = [e.value for e in at.main if hasattr(e, "value") and isinstance(e.value, str)]
    winner = blocks.index(escape(gpu_comparison.run(APP_DEFAULT).winner_text))
    assert blocks[winner + 1].startswith(escape("Compared here:"))  # right under the answer
    text = scope(at)
    for words in (
        "tensor parallelism over the fewest GPUs that hold the model",
        "aggregated serving",
        "the scenario's batch of 32",
        "throughput vs interactivity page also searches more GPU counts, expert parallelism",
        "costs prefill too",
        f"price rule (the sidebar's in the app): {PriceRule().text}",
    ):
        assert escape(words) in text, words
    at = open_page(
        PAGE,
        optimize_batch="true",
        min_tokens_per_s_per_user="30",
        expert_parallel="true",
        price_tier="all_in_cost",
    )
    text = scope(at)
    assert escape("the batch of most throughput still giving 30 tokens/s per user") in text
    assert escape("expert parallelism over the fewest GPUs") in text
    assert escape(PriceRule(tier="all_in_cost").text) in text
