"""API, rent or buy page through AppTest: the numbers shown are the analysis's Result."""

import json

import pandas as pd
import pyarrow as pa
import pytest
from conftest import APP_DEFAULT, chart_specs, ignored, markdown_text, open_page, shown

from app_pages.buy_or_rent import MOST_POINTS
from app_pages.ui.text import escape
from costmodel.analyses import buy_or_rent
from costmodel.planning import get_workload
from costmodel.planning.buy_rent_api import NO_API_PRICES
from costmodel.pricing import PriceRule

PAGE = "app_pages/buy_or_rent.py"
#: A smaller grid than the page's default (25 volumes from 1e8 to 1e13) for quicker tests.
SMALL = {"tokens_min": "1e9", "tokens_max": "1e12", "points": "6"}


def options(**changes) -> buy_or_rent.Options:
    return buy_or_rent.Options(price_rule=PriceRule(), **changes)


def same_bills(at, result: buy_or_rent.Result) -> None:
    """The bills table is the Result's, every column; the verdict is the Result's."""
    pd.testing.assert_frame_equal(shown(at, "tokens_per_month"), result.table, check_dtype=False)
    assert escape(result.verdict) in markdown_text(at)


def chart_rows(chart) -> pd.DataFrame:
    """The rows a drawn chart plots (its datasets, as Streamlit sends them: Arrow)."""
    return pd.concat(
        [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets],
        ignore_index=True,
    )


def test_renders_defaults_as_the_analysis(downloads):
    at = open_page(PAGE)
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "API, rent or buy"
    result = buy_or_rent.run(APP_DEFAULT, options())
    same_bills(at, result)
    assert len(result.table) == 25 and result.table["tokens_per_month"].iloc[-1] == 1e13
    # Each answer is the cheapest somewhere on the default grid: the API at small volumes,
    # a fleet at large ones.
    assert result.table["cheapest"].iloc[0] == "api"
    assert result.table["cheapest"].iloc[-1] in ("rent", "buy")
    assert downloads["api_rent_buy.csv"] == result.table.to_csv(index=False).encode()
    # What owning costs, by part, and each system's purchase price beside it.
    owned = shown(at, "capital_usd_per_gpu_hour")
    assert list(owned["owning_usd_per_gpu_hour"]) == pytest.approx(
        list(result.ownership["owning_usd_per_gpu_hour"]), rel=1e-12
    )
    assert list(owned["usd_per_server"]) == [515_000, 270_000, 310_000]  # B200, H100, H200
    # How each pays for electricity: a bought H100 draws 1.275 kW all-in (DGX H100: 10.2 kW
    # / 8), x PUE 1.56 x $0.081/kWh = $0.1611 an hour, a cost line of its own.
    h100 = owned.set_index("gpu").loc["h100-sxm", "electricity_usd_per_gpu_hour"]
    assert h100 == pytest.approx(1.275 * 1.56 * 0.081)
    words = markdown_text(at)
    assert "*Renting*: inside the rental price" in words
    assert "H100 SXM5 80GB \\$0.161" in words
    # The API price compared: the provider with the lowest bill for the workload.
    api = shown(at, "usd_per_million_input")
    assert list(api["provider"]) == [result.api_price["provider"]]


def test_the_chart_draws_each_answer_over_volume_log_log():
    at = open_page(PAGE, **SMALL)
    assert not at.exception and not at.error
    result = buy_or_rent.run(APP_DEFAULT, options(tokens_min=1e9, tokens_max=1e12, points=6))
    same_bills(at, result)
    month, per_million = chart_specs(at)
    for spec in (month, per_million):
        encoding = spec["layer"][0]["encoding"]
        assert encoding["x"]["scale"] == {"type": "log"} == encoding["y"]["scale"]
        assert encoding["x"]["title"] == "Tokens a month, prompt + output [tokens, log scale]"
        assert encoding["x"]["axis"]["values"] == [1e9, 1e10, 1e11, 1e12]  # a tick a decade
        assert encoding["color"]["scale"]["domain"] == ["API", "Rent", "Buy"]
        titles = {t["title"] for t in encoding["tooltip"]}
        assert {"Answer", "Tokens a month", "Fleet", "Cheapest here"} <= titles
    assert month["layer"][0]["encoding"]["y"]["title"] == "$ a month [log scale]"
    # One line per answer: its bill at each volume, as in the table.
    rows = chart_rows(at.get("vega_lite_chart")[0])
    for answer, key in (("API", "api"), ("Rent", "rent"), ("Buy", "buy")):
        line = rows[rows["answer"] == answer]
        assert list(line["value"]) == pytest.approx(list(result.table[f"{key}_usd_per_month"]))
        assert list(line["cheapest"]) == list(result.table["cheapest"] == key)


def test_url_keys_open_the_same_view():
    query = {
        **SMALL,
        "workload": "mlperf-mixtral-8x7b",
        "api_provider": "DeepInfra",
        "gpus": ["h100-sxm", "b200"],
        "depreciation_years": "3",
        "cost_of_capital": "0.15",
        "hosting_usd_per_kw_month": "150",
        "batch_size": "64",  # the sidebar's batch: not used here
    }
    at = open_page(PAGE, **query)
    assert not at.exception and not at.error and not at.warning
    assert at.selectbox(key="api_provider").value == "DeepInfra"
    assert at.number_input(key="depreciation_years").value == 3.0
    changes = {
        "workload": "mlperf-mixtral-8x7b",
        "api_provider": "DeepInfra",
        "gpus": ("h100-sxm", "b200"),
        "depreciation_years": 3.0,
        "cost_of_capital": 0.15,
        "hosting_usd_per_kw_month": 150.0,
        "tokens_min": 1e9,
        "tokens_max": 1e12,
        "points": 6,
    }
    result = buy_or_rent.run(APP_DEFAULT, options(**changes))
    same_bills(at, result)
    # The API bill per million tokens, by hand: MLPerf's Mixtral shape has no prefix hits,
    # so (E[prompt] x input price + E[output] x output price) / (E[prompt] + E[output]).
    api = result.api_price
    assert api["provider"] == "DeepInfra"
    means = get_workload("mlperf-mixtral-8x7b").mean_tokens()
    per_million = (
        means["prompt"] * api["usd_per_million_input"]
        + means["output"] * api["usd_per_million_output"]
    ) / (means["prompt"] + means["output"])
    bills = shown(at, "tokens_per_month")
    assert list(bills["api_usd_per_million_tokens"]) == pytest.approx([per_million] * 6)
    assert set(bills["rent_gpu"].dropna()) <= {"h100-sxm", "b200"}


@pytest.mark.parametrize(
    "params",
    [
        {"tokens_min": "abc"},
        {"api_provider": "Nobody"},
        {"points": str(MOST_POINTS + 1)},  # the page compares at most 40 volumes
        {"tokens_max": "1e15"},  # the page goes up to 1e14 tokens a month
        {"hosting_usd_per_kw_month": "-1"},
        {"workload": "poetry"},
    ],
)
def test_bad_value_is_named_and_the_default_used(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    default = getattr(buy_or_rent.Options(), name)
    if name in ("api_provider", "workload"):
        assert at.selectbox(key=name).value in (default, "")  # "": the empty option
    else:
        assert at.number_input(key=name).value == default


def test_volumes_the_wrong_way_round_are_named_and_the_defaults_shown():
    at = open_page(PAGE, tokens_min="1e12", tokens_max="1e9")
    assert not at.exception and not at.error  # a warning: the page draws, at its defaults
    said = " ".join(w.value for w in at.warning)
    assert "tokens_min (1e+12) must be below tokens_max (1e+09)" in said
    same_bills(at, buy_or_rent.run(APP_DEFAULT, options()))


def test_reset_restores_the_page_inputs():
    at = open_page(PAGE, **SMALL, cost_of_capital="0.2")
    at.button(key="buy_or_rent:reset").click().run()
    assert not at.exception and not at.error
    assert at.number_input(key="points").value == 25
    assert at.number_input(key="cost_of_capital").value == 0.1
    assert not {"points", "cost_of_capital", "tokens_min"} & set(at.query_params)


def test_the_providers_offered_are_those_pricing_the_model():
    at = open_page(PAGE, **SMALL)
    offered = at.selectbox(key="api_provider").options
    assert offered[0] == "The provider with the lowest bill"
    assert {"Perplexity", "DeepInfra", "Mistral"} <= set(offered)
    labels = json.loads(at.dataframe[0].proto.columns)
    assert labels["tokens_per_month"]["label"] == "Tokens a month"


def test_a_model_without_provider_prices_compares_rent_and_buy():
    # An uploaded model has no provider prices: the API is left out (no bill, said in the
    # verdict), rent and buy are still compared.
    from fuzz_pages import UPLOAD

    at = open_page(PAGE, model=UPLOAD.model_id, custom_model=UPLOAD.url, **SMALL)
    assert not at.exception and not at.error
    table = shown(at, "tokens_per_month")
    assert table["api_usd_per_month"].isna().all()
    assert table["rent_usd_per_month"].notna().any() and table["buy_usd_per_month"].notna().any()
    assert escape(NO_API_PRICES.strip()) in markdown_text(at)
    assert "The catalog has no provider prices for this model." in [i.value for i in at.info]


def test_settings_that_do_not_fit_and_a_workload_too_long_for_the_model_end_in_a_page():
    # Llama 3 70B's window is 8,192 tokens, shorter than the default chat workload's prompts;
    # the volumes are inverted too. The page names both, and answers with the defaults on
    # the sidebar's lengths (a link like this used to recurse without end).
    at = open_page(PAGE, model="llama-3-70b", tokens_min="1e12", tokens_max="1e9")
    assert not at.exception and not at.error
    warned = " ".join(w.value for w in at.warning)
    assert "tokens_min" in warned and "Showing the page's defaults" in warned
    assert "the sidebar's lengths" in warned
    assert len(shown(at, "tokens_per_month")) == buy_or_rent.Options().points
