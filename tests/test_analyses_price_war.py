"""costmodel.analyses.price_war and the catalog's dated price sheet: numbers by hand."""

import dataclasses
import datetime

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel import sensitivity
from costmodel.analyses import price_war as pw
from costmodel.pricing import price_sheet

RESULT = pw.run()
SEED_COST = costmodel.evaluate(costmodel.Scenario())["usd_per_request"]


def test_price_sheet_as_of_a_date():
    seed = price_sheet("mixtral-8x7b", "2023-12", reference="gpt-3.5").set_index("provider")
    assert list(seed.index) == [
        "OpenAI", "Mistral", "Together", "Perplexity", "Anyscale", "DeepInfra", "OpenRouter"
    ]  # fmt: skip
    assert tuple(seed.loc["Mistral", ["usd_per_million_input", "usd_per_million_output"]]) == (
        0.65,
        1.96,
    )
    # 2024-03-31: Mistral's 2024-03 price is in, DeepInfra's undated 2024 (2024-12-31) not.
    march = price_sheet("mixtral-8x7b", datetime.date(2024, 3, 31)).set_index("provider")
    assert march.loc["Mistral", "usd_per_million_output"] == 0.70
    assert march.loc["DeepInfra", "usd_per_million_output"] == 0.27
    assert "OpenAI" not in march.index  # no reference asked for
    assert price_sheet("mixtral-8x7b", "2023-11").empty


def test_price_sheet_rows_are_each_providers_newest():
    prices = costmodel.load_catalog().provider_prices
    rows = prices[prices["model"] == "mixtral-8x7b"]
    for as_of in ("2023-12", "2024-03", "2024"):
        sheet = price_sheet("mixtral-8x7b", as_of).set_index("provider")
        keys = rows["date"].map(costmodel.date_key)
        dated = rows[keys <= costmodel.date_key(as_of)]
        assert set(sheet.index) == set(dated["provider"])
        for provider, row in sheet.iterrows():
            newest = dated[dated["provider"] == provider]["date"].map(costmodel.date_key).max()
            assert costmodel.date_key(row["date"]) == newest


def test_mistral_margin_by_hand():
    # Revenue of 512 + 256 tokens at $0.65 / $1.96: (512 x 0.65 + 256 x 1.96) / 1e6
    # = (332.80 + 501.76) / 1e6 = $834.56e-6; margin = 1 - cost / revenue = +69 %.
    revenue = (512 * 0.65 + 256 * 1.96) / 1e6
    assert RESULT.mistral_margin_pct == pytest.approx(100 * (1 - SEED_COST / revenue))
    # (+69 % in the model of 2026-12-01, at $259.2e-6 per request.)
    # Break-even utilisation = u x cost / revenue = 1 x 259.2e-6 / 834.56e-6 = 0.31.
    assert RESULT.mistral_break_even_utilization == pytest.approx(SEED_COST / revenue)
    batch = costmodel.break_even_batch_size(costmodel.Scenario(), revenue)[0]
    assert RESULT.mistral_break_even_batch_size == batch
    assert f"{RESULT.mistral_margin_pct:+.0f}% of revenue" in RESULT.c4_text
    assert f"batch ≥ {batch:.0f}" in RESULT.c4_text


def test_verdict_band():
    rows = pd.DataFrame(
        {
            "revenue_per_request_usd": [1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
            "usd_per_request": [0.8, 0.9, 1.1, 1.2, 0.1, 0.0],
            "margin_pct": [20.0, 10.0, -10.0, -20.0, np.nan, np.nan],
        }
    )
    assert list(pw.verdicts(rows)) == [
        "profits",
        "roughly breaks even",
        "roughly breaks even",
        "loses money",
        "loses money",
        "roughly breaks even",
    ]


def test_c4_and_c6_at_the_seed_baseline():
    # Anyscale: revenue (512 + 256) x $0.50 / 1e6 = $384e-6 > cost $259e-6: +32.5 %, profits.
    seed = RESULT.margins[RESULT.margins["setup"] == RESULT.seed_setup].set_index("provider")
    anyscale = 100 * (1 - SEED_COST / 384e-6)
    assert seed.loc["Anyscale", "margin_pct"] == pytest.approx(anyscale)
    assert seed.loc["Anyscale", "verdict"] == (
        "profits" if anyscale > 10 else "roughly breaks even"
    )
    mistral_even = seed.loc["Mistral", "verdict"] == "roughly breaks even"
    others = seed.drop(index=["OpenAI", "Mistral"])
    all_lose = (others["verdict"] == "loses money").all()
    expected = (
        "holds"
        if mistral_even and all_lose
        else "partly"
        if mistral_even or all_lose
        else "does not hold"
    )
    assert RESULT.c4_status == expected
    a100 = RESULT.margins[
        (RESULT.margins["setup"] == RESULT.a100_setup)
        & ~RESULT.margins["provider"].isin(["OpenAI", "Mistral"])
    ]
    lose = (a100["verdict"] == "loses money").sum()
    assert RESULT.c6_status == (
        "holds" if lose == len(a100) else "partly" if lose else "does not hold"
    )
    assert f"{lose} of the {len(a100)} providers lose money" in RESULT.c6_text


def test_setups_and_costs():
    assert list(RESULT.setups) == ["Seed: 2x H100 SXM @ $1.95", "2x A100 80GB @ $1.89"]
    assert RESULT.sidebar_setup == RESULT.seed_setup  # the default scenario is the seed's
    assert RESULT.a100_usd_per_gpu_hour == 1.89  # the lowest catalog price
    costs = RESULT.costs.set_index("gpu")
    assert costs.loc["h100-sxm", "usd_per_request"] == pytest.approx(SEED_COST)
    other = pw.run(
        costmodel.Scenario(gpu="h200-sxm", n_gpus=1), pw.Options(a100_usd_per_gpu_hour=1.5)
    )
    assert list(other.setups)[1:] == ["2x A100 80GB @ $1.50", "Sidebar: 1x H200 SXM 141GB @ $1.95"]
    assert other.sidebar_setup == "Sidebar: 1x H200 SXM 141GB @ $1.95"
    assert other.sidebar_range == sensitivity.headline_range(other.setups[other.sidebar_setup])


def test_a100_margin_falls_as_its_price_rises():
    margins = []
    for price in (0.5, 1.0, 2.0, 4.0):
        table = pw.run(options=pw.Options(a100_usd_per_gpu_hour=price)).margins
        margins.append(table.loc[(table["provider"] == "Mistral"), "margin_pct"].iloc[1])
    assert np.all(np.diff(margins) < 0)


def test_edited_prices_and_fallback_model():
    free = pw.run(options=pw.Options(provider_prices=(("Mistral", 0.0, 0.0),)))
    assert free.sheet.set_index("provider").loc["Mistral", "usd_per_million_output"] == 0.0
    assert free.c4_text.count("Mistral loses money") == 1
    # A model without prices is not priced with another model's (Mixtral's, before).
    catalog = costmodel.load_catalog()
    unpriced = dataclasses.replace(
        catalog,
        provider_prices=catalog.provider_prices[catalog.provider_prices["model"] != "llama-2-70b"],
    )
    llama = pw.run(costmodel.Scenario(model="llama-2-70b", n_gpus=4), catalog=unpriced)
    assert llama.priced_model == "llama-2-70b" and not llama.has_prices
    assert llama.sheet.empty and llama.margins.empty and llama.cheapest_setup is None
    assert "The catalog has no provider prices for Llama 2 70B" in llama.verdict_text
    assert (llama.c4_status, llama.c6_status) == ("not applicable", "not applicable")
    assert (
        pw.run(options=pw.Options(price_date="2024"))
        .sheet.set_index("provider")
        .loc["Mistral", "usd_per_million_output"]
        == 0.70
    )


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"margin_unit": "%"}, "margin_unit"),
        ({"a100_usd_per_gpu_hour": 101.0}, "a100_usd_per_gpu_hour"),
        ({"change_pct": 95.0}, "change_pct"),
        ({"provider_prices": (("Mistral", -1.0, 1.0),)}, "provider_prices"),
    ],
)
def test_bad_options_name_the_option(changes, name):
    with pytest.raises(ValueError, match=name):
        pw.Options(**changes)


def test_unknown_date_and_provider_are_named():
    with pytest.raises(ValueError, match="price_date must be one of 2023-12.*, today"):
        pw.run(options=pw.Options(price_date="2025"))
    with pytest.raises(ValueError, match="provider_prices: provider must be one of"):
        pw.run(options=pw.Options(provider_prices=(("Nobody", 1.0, 1.0),)))
