"""The price war for any model with prices, at any date or "today", on today's GPUs."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel.analyses import price_war as pw
from costmodel.catalog import gpu_price

CATALOG = costmodel.load_catalog()
TODAY = pw.run(costmodel.Scenario(prefix_cache_hit_rate=0.5), pw.Options(price_date="today"))


def test_price_date_defaults_and_today():
    # Mixtral 8x7B is priced from 2023-12 on: the default is the seed's sheet, "today" its
    # newest date (Fireworks, DeepInfra, Bedrock snapshots of 2026-08).
    assert pw.resolved_price_date("mixtral-8x7b", None, CATALOG) == "2023-12"
    assert pw.resolved_price_date("mixtral-8x7b", "today", CATALOG) == "2026-08"
    assert pw.resolved_price_date("mixtral-8x7b", "2024-03", CATALOG) == "2024-03"
    # Mixtral 8x22B's prices begin after 2023-12: the default is its today.
    rows = CATALOG.provider_prices[CATALOG.provider_prices["model"] == "mixtral-8x22b"]
    newest = max(rows["date"], key=costmodel.date_key)
    assert pw.resolved_price_date("mixtral-8x22b", None, CATALOG) == newest
    assert TODAY.price_date == "2026-08" and TODAY.price_dates[-1] == "today"


def test_gpu_price_of_a_tier_as_of_a_date():
    # SemiAnalysis's 2026-04 all-in costs: B200 hyperscaler $1.95 (neocloud $2.34, same
    # date: the lower is taken); none of them dated on or before 2025-12.
    b200 = gpu_price("b200", tier="all_in_cost", as_of="2026-08")
    assert (b200.usd_per_gpu_hour, b200.date) == (1.95, "2026-04")
    assert gpu_price("b200", tier="all_in_cost", as_of="2025-12") is None
    # H100 on demand: 2026-05 (RunPod $2.69, read as 2026-05-31) is newer than Lambda's
    # 2026-05-18 $2.99; by 2024-12 only RunPod's 2024-08 $3.99.
    assert gpu_price("h100-sxm", tier="on_demand", as_of="2026-08").usd_per_gpu_hour == 2.69
    assert gpu_price("h100-sxm", tier="on_demand", as_of="2024").usd_per_gpu_hour == 3.99
    with pytest.raises(ValueError, match="tier must be one of all_in_cost"):
        gpu_price("b200", tier="spot")


def test_market_setups_are_each_gpus_cheapest_fitting_one_at_its_tier_price():
    market = TODAY.market.set_index("gpu")
    assert list(market.index) == list(pw.MARKET_GPUS)
    assert (market["note"] == "").all()
    assert market.loc["b200", "usd_per_gpu_hour"] == 1.95
    assert market.loc["mi355x", "usd_per_gpu_hour"] == 1.48
    scenario = costmodel.Scenario(prefix_cache_hit_rate=0.5)
    for gpu, row in market.iterrows():
        # Every size of up to 8 GPUs and format of the options: the chosen one fits and
        # none that fits is cheaper per request.
        grid = costmodel.sweep(
            scenario.replace(gpu=gpu, usd_per_gpu_hour=row["usd_per_gpu_hour"]),
            n_gpus=[1, 2, 4, 8],
            weight_format=["bf16", "fp8"],
        )
        fitting = grid[grid["fits"]]
        assert row["usd_per_request"] == pytest.approx(fitting["usd_per_request"].min())
        label = next(k for k, s in TODAY.setups.items() if k.startswith("Market") and s.gpu == gpu)
        setup = TODAY.setups[label]
        assert (setup.n_gpus, setup.weight_format) == (row["n_gpus"], row["weight_format"])
        assert costmodel.evaluate(setup)["usd_per_request"] == pytest.approx(row["usd_per_request"])
    # The seed's two setups stay for Mixtral, first.
    assert list(TODAY.setups)[:2] == ["Seed: 2x H100 SXM @ $1.95", "2x A100 80GB @ $1.89"]


def test_who_makes_money_on_the_cheapest_setup_in_words():
    costs = TODAY.costs.set_index("setup")
    fitting = costs[costs["fits"]]
    assert TODAY.cheapest_setup == fitting["usd_per_request"].idxmin()
    cost = fitting.loc[TODAY.cheapest_setup, "usd_per_request"]
    text = TODAY.verdict_text
    assert text.startswith("Who makes money serving Mixtral 8x7B at the prices of 2026-08?")
    assert f"${cost * 1000:.3f} per 1,000 requests of 512 + 256 tokens" in text
    rows = TODAY.margins[TODAY.margins["setup"] == TODAY.cheapest_setup]
    rows = rows[rows["model"] == "mixtral-8x7b"]  # OpenAI's GPT-3.5 bar is not a Mixtral seller
    assert len(rows) == 9
    for row in rows.itertuples():
        assert f"{row.provider} ({row.margin_pct:+.0f}%)" in text
    # No Mixtral provider publishes a cached price: all bill cached tokens at input price.
    assert "publish no cached-input price" in text
    assert not rows["cached_price_published"].any()


def test_cached_input_revenue_in_the_margins_by_hand():
    # A provider of Mixtral at $0.60 in / $0.15 cached / $1.20 out (2026-08), h = 0.5:
    # (256 x 0.60 + 256 x 0.15 + 256 x 1.20) / 1e6 = (153.6 + 38.4 + 307.2) / 1e6 = $499.2e-6.
    extra = pd.DataFrame(
        [["Cachy", "mixtral-8x7b", 0.60, 1.20, 0.15, "2026-08", "test", ""]],
        columns=CATALOG.provider_prices.columns,
    )
    catalog = dataclasses.replace(
        CATALOG, provider_prices=pd.concat([CATALOG.provider_prices, extra], ignore_index=True)
    )
    result = pw.run(
        costmodel.Scenario(prefix_cache_hit_rate=0.5), pw.Options(price_date="today"), catalog
    )
    rows = result.margins[result.margins["provider"] == "Cachy"]
    assert rows["revenue_per_request_usd"].tolist() == pytest.approx([499.2e-6] * len(rows))
    assert rows["cached_price_published"].all()
    costs = result.costs.set_index("setup")["usd_per_request"]
    expected = 100 * (1 - costs.loc[rows["setup"]].to_numpy() / 499.2e-6)
    assert rows["margin_pct"].to_numpy() == pytest.approx(expected)
    sentence = next(
        part for part in result.verdict_text.split(". ") if "publish no cached-input" in part
    )
    assert "Fireworks" in sentence and "Cachy" not in sentence


def test_another_model_has_no_seed_setups_and_its_own_prices():
    scenario = costmodel.Scenario(model="mixtral-8x22b", n_gpus=8, weight_format="fp8")
    result = pw.run(scenario, pw.Options(price_date="today", gpu_price_tier="any"))
    assert result.priced_model == "mixtral-8x22b" and result.has_prices
    assert result.seed_setup is None and result.a100_setup is None
    assert set(result.sheet["model"]) == {"mixtral-8x22b"}  # no GPT-3.5 bar beside it
    assert result.c4_status == "not applicable"
    assert "C4 is about Mixtral 8x7B on the seed's setups" in result.c4_text
    assert any(label.startswith("Market") for label in result.setups)
    assert "Who makes money serving Mixtral 8x22B" in result.verdict_text


def test_gpus_without_a_price_of_the_tier_or_not_launched_are_named():
    on_demand = pw.run(options=pw.Options(price_date="today", gpu_price_tier="on_demand"))
    market = on_demand.market.set_index("gpu")
    assert market.loc["b300", "note"] == "no on_demand price on or before 2026-08"
    assert market.loc["h100-sxm", "usd_per_gpu_hour"] == 2.69
    seed = pw.run().market.set_index("gpu")
    assert seed.loc["b200", "note"] == "launched after 2023-12"
    assert np.isnan(seed.loc["b200", "usd_per_gpu_hour"])
    assert "Market GPUs left out: H100 SXM5 80GB, H200 SXM 141GB (no all_in_cost" in (
        pw.run().verdict_text
    )


def test_unknown_market_ids_are_named():
    with pytest.raises(ValueError, match="market_gpus must hold only"):
        pw.run(options=pw.Options(market_gpus=("h100-sxm", "tpu-v5")))
    with pytest.raises(ValueError, match="gpu_price_tier must be one of"):
        pw.Options(gpu_price_tier="spot")
    with pytest.raises(ValueError, match="weight_formats must hold at least one"):
        pw.Options(weight_formats=())


def test_losers_break_even_batch_is_stated():
    seed = pw.run()
    rows = seed.margins[seed.margins["setup"] == seed.cheapest_setup].set_index("provider")
    assert rows.loc["Together", "verdict"] == "loses money"
    batch = rows.loc["Together", "break_even_batch_size"]
    assert batch == costmodel.break_even_batch_size(costmodel.Scenario(), 256 * 0.60 / 1e6)[0]
    assert f"losers would break even from batch {batch:.0f} (Together)" in seed.verdict_text
