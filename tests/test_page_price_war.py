"""Price-war margins page through AppTest: the numbers shown are the analysis's Result."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import APP_DEFAULT, app_scenario, as_shown, ignored, markdown_text, open_page, shown

import costmodel
from app_pages.ui.text import escape
from costmodel import claims, presets
from costmodel.analyses import disclosures, price_war
from costmodel.pricing import PriceRule

PAGE = "app_pages/price_war.py"
COST = "usd_per_million_output_tokens"
CATALOG = costmodel.load_catalog()
PRICES = CATALOG.provider_prices
A100_PRICE = CATALOG.gpu_prices.query("gpu == 'a100-80gb-sxm'")["usd_per_gpu_hour"].min()


def same_numbers(at, result):
    """Costs and margins on the page are the Result's (margins rounded as shown: a
    column with gaps is text, a dash for an infinite break-even)."""
    pd.testing.assert_frame_equal(shown(at, "setup"), result.costs, check_dtype=False)
    margins = result.margins.replace([np.inf, -np.inf], np.nan)
    pd.testing.assert_frame_equal(
        shown(at, "margin_pct"),
        as_shown(margins, at, "margin_pct"),
        check_dtype=False,
        check_exact=False,
        rtol=5e-4,
    )


def test_the_seeds_view_as_before():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "Price-war margins"
    for claim in ("**C1**", "**C2**", "**C3**", "**C4**", "**C6**"):
        assert claim in at.markdown[0].value
    # Margins on the two seed setups and the sidebar's (the seed's at today's H100 price),
    # and the tornado.
    assert len(at.get("vega_lite_chart")) == 4
    assert at.selectbox(key="price_date").value == "2023-12"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == pytest.approx(A100_PRICE)
    assert at.radio(key="margin_unit").value == "% of revenue"
    result = price_war.run(APP_DEFAULT, price_war.Options(price_rule=PriceRule()))
    same_numbers(at, result)
    # The sidebar is the seed's setup at the H100's on-demand price: it is costed beside
    # the two seed setups (the seed's own is at its $1.95).
    assert list(result.costs["gpu"]) == ["h100-sxm", "a100-80gb-sxm", "h100-sxm"]
    sheet = shown(at, "usd_per_million_output").set_index("provider")
    assert tuple(sheet.loc["Mistral", ["usd_per_million_input", "usd_per_million_output"]]) == (
        0.65,
        1.96,
    )
    words = markdown_text(at)
    assert escape(result.verdict_text) in words
    assert escape(result.c4_text) in words and escape(result.c6_text) in words
    verdicts = claims.check_all(APP_DEFAULT).set_index("id")
    for claim_id in ("C1", "C2", "C3", "C4", "C6"):
        row = verdicts.loc[claim_id]
        assert f"**{claim_id} {escape(row['status'])}**" in words
        assert escape(row["evidence"]) in words


def test_old_url_keys_open_the_same_view():
    query = dict(gpu="a100-80gb-sxm", batch_size="64", price_date="2024")
    query |= dict(a100_usd_per_gpu_hour="1.5", margin_unit="$ per million requests")
    at = open_page(PAGE, **query, change_pct="10")
    assert not at.exception and not at.warning
    assert at.selectbox(key="price_date").value == "2024"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == 1.5
    assert at.radio(key="margin_unit").value == "$ per million requests"
    assert at.number_input(key="change_pct").value == 10.0
    scen = app_scenario(gpu="a100-80gb-sxm", batch_size=64)
    options = price_war.Options(
        price_date="2024",
        a100_usd_per_gpu_hour=1.5,
        margin_unit="$ per million requests",
        price_rule=PriceRule(),
    )
    result = price_war.run(scen, options)
    same_numbers(at, result)
    setups = list(result.costs["setup"])
    assert setups[:2] == ["Seed: 2x H100 SXM @ $1.95", "2x A100 80GB @ $1.50"]
    assert setups[-1] == f"Sidebar: 2x A100 80GB SXM4 @ ${scen.usd_per_gpu_hour:.2f}"
    sheet = shown(at, "usd_per_million_output").set_index("provider")
    assert sheet.loc["Mistral", "usd_per_million_output"] == 0.70  # the 2024-03 price


@pytest.mark.parametrize(
    "model",
    [
        m
        for m in ("deepseek-v3.2", "gpt-oss-120b", "qwen3-235b-a22b")
        if m in PRICES["model"].values
    ],
)
def test_todays_models_today(model):
    at = open_page(PAGE, model=model, weight_format="fp8")
    assert not at.exception and not at.error
    assert at.selectbox(key="price_date").value == "today"  # the default for a model priced later
    scen = app_scenario(model=model, weight_format="fp8")
    result = price_war.run(scen, price_war.Options(price_rule=PriceRule()))
    same_numbers(at, result)
    assert "Who makes money serving" in result.verdict_text
    assert escape(result.verdict_text) in markdown_text(at)
    assert len(result.market)  # market setups on today's GPUs


def test_the_sidebars_price_tier_and_market_gpus_from_the_url():
    query = dict(model="gpt-oss-120b", weight_format="fp8", price_date="today")
    query["price_tier"] = "all_in_cost"  # the sidebar's price rule
    at = open_page(PAGE, **query, market_gpus=["h100-sxm", "b200"])
    assert not at.exception and not at.warning
    rule = PriceRule("all_in_cost")
    options = price_war.Options(
        price_date="today", price_rule=rule, market_gpus=("h100-sxm", "b200")
    )
    scen = app_scenario(rule, model="gpt-oss-120b", weight_format="fp8")
    same_numbers(at, price_war.run(scen, options))


def test_an_old_gpu_price_tier_link_names_what_changed():
    # The market setups' own tier is now the sidebar's price rule (price_tier).
    note = ignored(open_page(PAGE, gpu_price_tier="on_demand"))
    assert "`gpu_price_tier=on_demand`: not a setting on this page, dropped" in note


def test_deepseek_preset_shows_their_numbers_beside_the_model():
    at = open_page(PAGE)
    next(b for b in at.button if b.label == "DeepSeek's published economics").click().run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="model").value == "deepseek-r1"
    scen = presets.DEEPSEEK_2025.apply(costmodel.Scenario())
    shown_ = disclosures.run(scen)
    assert escape(shown_.text) in markdown_text(at)
    pd.testing.assert_frame_equal(
        shown(at, "model_over_disclosed"), shown_.comparison, check_dtype=False
    )


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"price_date": "1999-01"}, "price_date"),
        ({"a100_usd_per_gpu_hour": "-3"}, "a100_usd_per_gpu_hour"),
        ({"margin_unit": "euros"}, "margin_unit"),
        ({"change_pct": "95"}, "change_pct"),
        ({"price_tier": "free"}, "price_tier"),
    ],
)
def test_bad_page_parameter_is_named(params, bad):
    assert f"`{bad}=" in ignored(open_page(PAGE, **params))


def test_presets_and_reset():
    at = open_page(PAGE, price_date="2024-03", a100_usd_per_gpu_hour="2.5")
    at.button(key="price_preset:Large batch (256), 24/7").click().run()
    assert (shown(at, "setup")["batch_size"] == 256).all()
    at.button(key="price_preset:Today's prices").click().run()
    assert at.selectbox(key="price_date").value == "today"
    at.button(key="price_preset:December 2023 baseline").click().run()
    assert at.selectbox(key="price_date").value == "2023-12"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == pytest.approx(A100_PRICE)
    at.button(key="price_preset:reset").click().run()
    assert not at.exception
    assert at.sidebar.number_input(key="batch_size").value == 256  # the page's Reset keeps it
    assert at.selectbox(key="price_date").value == "2023-12"


def test_csv_downloads_hold_the_tables_shown(downloads):
    at = open_page(PAGE, gpu="h200-sxm", n_gpus="1")
    assert not at.exception
    for name, column in (
        ("provider_prices.csv", "usd_per_million_output"),
        ("cost_per_setup.csv", "setup"),
        ("provider_margins.csv", "margin_pct"),
        (f"tornado_{COST}.csv", "swing"),
    ):
        csv = pd.read_csv(io.BytesIO(downloads[name])).replace([np.inf, -np.inf], np.nan)
        pd.testing.assert_frame_equal(
            as_shown(csv, at, column),
            shown(at, column),
            check_dtype=False,
            check_exact=False,
            rtol=5e-4,
            obj=name,
        )


def test_tornado_and_range_are_the_sidebar_setups():
    at = open_page(PAGE, gpu="h200-sxm", n_gpus="1", gpu_prices="h200-sxm:2.6")
    scen = costmodel.Scenario(gpu="h200-sxm", n_gpus=1, usd_per_gpu_hour=2.6)
    rule = PriceRule(own={"h200-sxm": 2.6})
    result = price_war.run(scen, price_war.Options(price_rule=rule))
    pd.testing.assert_frame_equal(shown(at, "swing"), result.tornado, check_dtype=False)
    r = result.sidebar_range
    assert f"\\${r['low']:,.3f} / \\${r['central']:,.3f}" in markdown_text(at)


def test_a_missing_cached_price_is_a_dash_with_its_meaning():
    """DeepInfra lists a cached-input price for deepseek-r1 today; Together lists none: a
    dash (not "None"), and the column's help says what the dash means."""
    at = open_page(PAGE, model="deepseek-r1", price_date="today")
    assert not at.exception
    editor = next(d for d in at.dataframe if "usd_per_million_cached_input" in d.value.columns)
    cached = editor.value.set_index("provider")["usd_per_million_cached_input"].to_dict()
    options = price_war.Options(price_date=price_war.TODAY)
    sheet = price_war.run(costmodel.Scenario(model="deepseek-r1"), options).sheet
    listed = sheet.set_index("provider")["usd_per_million_cached_input"]
    assert listed["DeepInfra"] > 0 and cached["DeepInfra"] == f"{listed['DeepInfra']:g}"
    assert np.isnan(listed["Together"]) and cached["Together"] == "—"
    assert "None" not in cached.values()
    column = json.loads(editor.proto.columns)["usd_per_million_cached_input"]
    assert "—: none listed, the input price applies" in column["help"]
