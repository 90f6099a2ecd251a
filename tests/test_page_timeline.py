"""Price-war timeline page through AppTest: the library's numbers, URL inputs, bad values."""

from pathlib import Path

import pytest
from conftest import ignored, markdown_text, open_page, shown

import costmodel
from app_pages.ui import models
from app_pages.ui.text import escape
from costmodel import Scenario
from costmodel.analyses import timeline
from costmodel.pricing import PriceRule

PAGE = "app_pages/timeline.py"
PAGE_DEFAULT = timeline.Options(model="mixtral-8x7b", target="interactivity")


def below_text(result: timeline.Result) -> str:
    paid = result.prices[result.prices["usd_per_million_output"] > 0]
    return f"{int(paid['below_floor'].sum())} of {len(paid)} paid prices"


def test_renders_defaults_with_the_librarys_numbers():
    at = open_page(PAGE)
    assert not at.exception and not at.warning and not at.error
    assert at.title[0].value == "Price-war timeline"
    assert len(at.get("vega_lite_chart")) == 1
    assert at.selectbox(key="target").value == "interactivity"
    assert at.number_input(key="min_tokens_per_s_per_user").value == 20.0
    assert at.selectbox(key="price_tier").value == "on_demand"
    assert at.multiselect(key="weight_formats").value == ["bf16", "fp8"]
    result = timeline.run(Scenario(), PAGE_DEFAULT)
    text = markdown_text(at)
    assert escape(result.trend.iloc[0]["text"]) in text
    assert below_text(result) in text
    assert "Free tiers" in text and "OpenRouter" in text  # its $0 seed price
    prices = shown(at, "below_floor")
    assert len(prices) == len(result.prices)
    for column in ("usd_per_million_output", "floor_usd_per_million_output_tokens"):
        # shown to 4 significant digits
        assert prices[column].to_numpy() == pytest.approx(
            result.prices[column].to_numpy(), rel=5e-4, nan_ok=True
        )
    assert list(prices["below_floor"]) == list(result.prices["below_floor"])
    floor = shown(at, "family")
    assert list(floor["gpu"]) == list(result.floor["gpu"])


def test_at_the_sidebars_batch_more_prices_are_under_the_floor():
    # Batch 32 is a small batch: its floor is dearer than the cheapest batch at 20 tokens/s
    # per user (hence the page's default target), so at least as many prices sit under it.
    fair = timeline.run(Scenario(), PAGE_DEFAULT)
    small = timeline.run(Scenario(), PAGE_DEFAULT.replace(target="batch_size"))
    both = fair.prices.merge(small.prices, on=["series", "catalog_date"], suffixes=("", "_32"))
    floor = "floor_usd_per_million_output_tokens"
    both = both.dropna(subset=[floor, f"{floor}_32"])  # no on-demand GPU price before 2024-06
    assert len(both) > 10
    assert (both[f"{floor}_32"] >= both[floor] - 1e-12).all()
    assert small.prices["below_floor"].sum() >= fair.prices["below_floor"].sum()


def test_url_parameters_fill_the_inputs_and_the_numbers():
    at = open_page(
        PAGE,
        model="deepseek-v3",
        target="batch_size",
        price_tier="all_in_cost",
        weight_formats="fp8",
        batch_size="64",
    )
    assert not at.exception and not at.warning and not at.error
    assert at.selectbox(key="target").value == "batch_size"
    assert at.selectbox(key="price_tier").value == "all_in_cost"
    assert at.multiselect(key="weight_formats").value == ["fp8"]
    options = timeline.Options(
        model="deepseek-v3",
        target="batch_size",
        price_rule=PriceRule("all_in_cost"),
        weight_formats=("fp8",),
    )
    result = timeline.run(Scenario(model="deepseek-v3", batch_size=64), options)
    text = markdown_text(at)
    assert escape(result.trend.iloc[0]["text"]) in text
    assert below_text(result) in text and "the sidebar's batch of 64" in text
    floor = shown(at, "family")
    assert set(floor["weight_format"]) == {"fp8"}
    assert floor["usd_per_million_output_tokens"].to_numpy() == pytest.approx(
        result.floor["usd_per_million_output_tokens"].to_numpy(), rel=5e-4
    )


def test_bad_values_are_named_and_defaults_used():
    at = open_page(PAGE, target="speed", min_tokens_per_s_per_user="0", price_tier="spot")
    text = ignored(at)
    for bad in ("`target=speed`", "`min_tokens_per_s_per_user=0`", "`price_tier=spot`"):
        assert bad in text
    assert at.selectbox(key="target").value == "interactivity"
    assert not at.error and len(at.get("vega_lite_chart")) == 1


def test_a_model_without_prices_says_so_and_draws_its_floor():
    # An uploaded model (Llama 2 70B's config.json) has no provider prices in the catalog.
    config = (Path(costmodel.catalog.ASSETS_DIR) / "models" / "llama-2-70b.json").read_bytes()
    custom = models.from_upload(config, "config.json", costmodel.load_catalog())
    at = open_page(PAGE, model=custom.model_id, custom_model=custom.url, n_gpus="4")
    assert not at.exception and not at.error
    assert any("no provider prices for" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 1  # the cost floor


def test_the_csv_is_the_librarys_table(downloads):
    open_page(PAGE)
    result = timeline.run(Scenario(), PAGE_DEFAULT)
    assert downloads["timeline_mixtral-8x7b.csv"] == result.prices.to_csv(index=False).encode()
