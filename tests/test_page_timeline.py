"""Price-war timeline page through AppTest: the library's numbers, URL inputs, bad values."""

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from conftest import APP_DEFAULT, app_scenario, ignored, markdown_text, open_page, shown

import costmodel
from app_pages.ui import models
from app_pages.ui.text import escape
from costmodel import Scenario
from costmodel.analyses import timeline
from costmodel.pricing import PriceRule

PAGE = "app_pages/timeline.py"
PAGE_DEFAULT = timeline.Options(model="mixtral-8x7b", target="interactivity")
PRICE, FLOOR = "usd_per_million_output", "usd_per_million_output_tokens"
CATALOG = costmodel.load_catalog()


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


def chart_data(chart) -> list[pd.DataFrame]:
    """The datasets of a drawn chart (Arrow tables, as ``charts.vega_lite`` keeps them)."""
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]


def test_models_of_a_size_on_one_chart_and_how_far_their_prices_fell():
    # Mixtral 8x7B (the sidebar's) and every model of 10-20 B active parameters.
    at = open_page(PAGE, active_params_min_b="10", active_params_max_b="20")
    assert not at.exception and not at.error and not at.warning
    options = PAGE_DEFAULT.replace(active_params_min_b=10.0, active_params_max_b=20.0)
    result = timeline.run(APP_DEFAULT, options)
    assert len(result.models) > 2
    text = markdown_text(at)
    assert f"**How far prices moved.** {escape(result.group_text)}" in text
    assert escape(result.group_trend.iloc[0]["text"]) in text
    assert escape(result.changes_text) in text  # rises as well as falls, every model's
    assert at.subheader[0].value == f"{len(result.models)} models on one chart"
    group, providers = at.get("vega_lite_chart")  # the models' chart, then the sidebar model's
    spec = json.loads(group.proto.spec)
    names = [CATALOG.models.loc[m, "name"] for m in result.models]
    assert names == next(
        layer["encoding"]["color"]["scale"]["domain"]
        for layer in spec["layer"]
        if "color" in layer["encoding"] and "scale" in layer["encoding"]["color"]
    )
    data = chart_data(group)
    # The cheapest of all (the thick black line): the group's prices, each held to the
    # last date.
    (thick,) = [layer for layer in spec["layer"] if layer["mark"].get("strokeWidth") == 3]
    datasets = dict(zip([d.name for d in group.proto.datasets], data, strict=True))
    best = datasets[thick["data"]["name"]]
    assert set(best[PRICE]) == set(result.group[PRICE])
    assert best["date"].max() == result.end
    # Its trend line: the fitted prices at the first and last date.
    fitted = next(d for d in data if "trend" in d.columns)
    trend = result.group_trend.iloc[0]
    assert list(fitted[PRICE]) == pytest.approx(
        [trend["fit_first_usd_per_million_output"], trend["fit_last_usd_per_million_output"]]
    )
    # Each model's cheapest price, one series per model.
    steps = next(d for d in data if "name" in d.columns and "provider" in d.columns)
    assert set(steps["name"]) <= set(names) and len(set(steps["name"])) == len(
        set(result.cheapest["model"])
    )


def test_more_models_by_id_and_a_half_given_band():
    at = open_page(PAGE, models=["gpt-oss-120b", "glm-5.2"], active_params_min_b="10")
    assert not at.exception and not at.error
    assert any("Give both ends of the size band" in i.value for i in at.info)
    result = timeline.run(APP_DEFAULT, PAGE_DEFAULT.replace(models=("gpt-oss-120b", "glm-5.2")))
    assert result.models == ("mixtral-8x7b", "gpt-oss-120b", "glm-5.2")
    assert escape(result.group_text) in markdown_text(at)
    assert len(at.get("vega_lite_chart")) == 2


def test_deepseeks_2026_rise_in_words_and_on_the_chart():
    # DeepSeek moved V4-Flash from a flat $0.28 to $1.32 peak / $0.66 off-peak on 2026-08-16.
    at = open_page(PAGE, model="deepseek-v4-flash")
    assert not at.exception and not at.error
    options = PAGE_DEFAULT.replace(model="deepseek-v4-flash")
    result = timeline.run(app_scenario(model="deepseek-v4-flash"), options)
    assert "DeepSeek (peak) raised it 4.7x on 2026-08-16 ($0.28 to $1.32" in result.changes_text
    assert f"**Price changes.** {escape(result.changes_text)}" in markdown_text(at)
    (chart,) = at.get("vega_lite_chart")
    data = chart_data(chart)
    rises = next(d for d in data if "change_pct" in d.columns)
    assert sorted(rises[PRICE]) == [0.66, 1.32]
    assert list(rises["previous_usd_per_million_output"]) == [0.28, 0.28]
    # Peak and off-peak are two series of one provider, both drawn.
    steps = next(d for d in data if "series" in d.columns and "change_pct" not in d.columns)
    assert {"DeepSeek (peak)", "DeepSeek (off-peak)"} <= set(steps["series"])
    # The table of every step holds the rises and their direction.
    changes = shown(at, "direction")
    assert set(changes.loc[changes["direction"] == "rise", "series"]) == {
        "DeepSeek (peak)",
        "DeepSeek (off-peak)",
    }


@pytest.mark.parametrize("model", ["llama-2-70b", "qwen3.5-397b-a17b"])
def test_an_uploaded_model_without_prices_gets_its_floor_and_a_note(model):
    # A copy of the catalog's config, uploaded: the catalog has no prices for it.
    config = (Path(costmodel.catalog.ASSETS_DIR) / "models" / f"{model}.json").read_bytes()
    custom = models.from_upload(config, "config.json", CATALOG)
    at = open_page(PAGE, model=custom.model_id, custom_model=custom.url, n_gpus="4")
    assert not at.exception and not at.error
    scen = app_scenario(model=custom.model_id, n_gpus=4)
    catalog = models.with_custom(CATALOG, custom)
    result = timeline.run(scen, PAGE_DEFAULT.replace(model=custom.model_id), catalog)
    assert result.prices.empty and len(result.floor)
    assert result.floor["date"].max() == result.end  # the floor runs to the last date
    assert any(escape(result.notes) == i.value for i in at.info)
    assert "Below the floor" not in markdown_text(at)
    floor = shown(at, "family")
    assert floor[FLOOR].to_numpy() == pytest.approx(result.floor[FLOOR].to_numpy(), rel=5e-4)
    assert len(at.get("vega_lite_chart")) == 1


def test_no_sentence_shows_inf_or_nan():
    for query in ({}, {"model": "deepseek-v4.1-flash"}, {"models": "kimi-k3"}):
        at = open_page(PAGE, **query)
        words = " ".join([markdown_text(at), *(i.value for i in at.info)])
        assert not re.search(r"\b(inf|nan)\b", words, re.IGNORECASE), query


def test_an_inverted_size_band_shows_the_defaults_with_a_warning():
    # A link's size band from 975 B down to 0 B cannot be drawn: the warning names it and
    # the page draws the model's timeline with the page's defaults.
    at = open_page(
        "app_pages/timeline.py",
        model="qwen3.6-27b",
        active_params_min_b="975",
        active_params_max_b="0",
    )
    assert not at.exception and not at.error
    warned = " ".join(w.value for w in at.warning)
    assert "active_params_min_b" in warned and "Showing the page's defaults" in warned


def test_the_caption_says_the_floors_batch_and_parallelism_as_set():
    # The floor's batch and how its replicas split the model follow the page and sidebar.
    captions = lambda at: " ".join(c.value for c in at.caption)  # noqa: E731
    default = captions(open_page(PAGE))
    assert "at least 20 tokens/s" in default and "tensor parallelism;" in default
    at = open_page(PAGE, target="batch_size", batch_size="64", expert_parallel="true", n_gpus="8")
    assert not at.exception and not at.error
    text = captions(at)
    assert "the sidebar's batch of 64" in text
    assert "expert parallelism for a mixture of experts" in text
    assert "batch of 32" not in text
