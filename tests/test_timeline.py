"""The price-war timeline: the cost floor at a date by hand, the trend, and properties.

Most tests use a small catalog built here (the project's GPUs and models, made-up GPU and
provider prices), so that the answer at each date can be worked out by hand.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel import Scenario, evaluate, load_catalog
from costmodel.analyses.timeline import (
    FLOOR_COLUMNS,
    Options,
    floor_bands,
    period_end,
    price_steps,
    run,
)
from costmodel.pricing import PriceRule

BASE = load_catalog()
COST = "usd_per_million_output_tokens"
GPU_PRICE_COLUMNS = ["gpu", "usd_per_gpu_hour", "kind", "tier", "date", "source", "basis"]
PROVIDER_COLUMNS = ["provider", "model", "usd_per_million_input", "usd_per_million_output", "date"]


#: Launch and release dates the hand-worked tests rely on, pinned here.
LAUNCHES = {"h100-sxm": "2022-03", "h200-sxm": "2023-11", "b200": "2024-03"}
RELEASES = {"mixtral-8x7b": "2023-12"}


def catalog_with(gpu_prices, provider_prices):
    """The project's catalog with these GPU and provider prices (and the dates above)."""
    gpu = pd.DataFrame(gpu_prices, columns=GPU_PRICE_COLUMNS[:5]).assign(source="test")
    provider = pd.DataFrame(provider_prices, columns=PROVIDER_COLUMNS).assign(source="test")
    gpus, models = BASE.gpus.copy(), BASE.models.copy()
    gpus.loc[list(LAUNCHES), "date"] = list(LAUNCHES.values())
    models.loc[list(RELEASES), "date"] = list(RELEASES.values())
    return dataclasses.replace(
        BASE, gpus=gpus, models=models, gpu_prices=gpu, provider_prices=provider
    )


# H100 (launched 2022-03) at $2 from 2024-01 and $1 from 2024-06; B200 priced at $0.10 from
# 2023-06 but launched only in 2024-03; H200 at $0.01 in another tier.
HAND = catalog_with(
    [
        ("h100-sxm", 2.00, "test on-demand", "on_demand", "2024-01"),
        ("h100-sxm", 1.00, "test on-demand", "on_demand", "2024-06"),
        ("b200", 0.10, "test on-demand", "on_demand", "2023-06"),
        ("h200-sxm", 0.01, "test reserved", "contract_1y", "2024-01"),
    ],
    [
        ("P", "mixtral-8x7b", 0.50, 1.00, "2023-12"),
        ("Q", "mixtral-8x7b", 0.00, 0.00, "2023-12"),  # a free tier
        ("Q", "mixtral-8x7b", 0.10, 0.01, "2024-02"),
        ("P", "mixtral-8x7b", 0.30, 0.40, "2024-06"),
        ("P", "gpt-3.5-turbo", 1.00, 2.00, "2024-06"),  # not a catalog model: no floor
    ],
)
ON_DEMAND_BF16 = Options(price_rule=PriceRule("on_demand"), weight_formats=("bf16",))


@pytest.fixture(scope="module")
def hand():
    return run(Scenario(), ON_DEMAND_BF16, HAND)


def _at(table: pd.DataFrame, date: str) -> pd.DataFrame:
    return table[table["date"] == pd.Timestamp(date)]


def test_floor_at_a_date_by_hand(hand):
    # On 2024-01-31 only the H100 at $2 is on offer in the on-demand tier (the B200 is not
    # launched yet, the H200's price is another tier). Mixtral in bf16 needs
    # 93.4 GB of weights + 32 * 768 tokens * 131,072 B of KV + 2 GB = 98.6 GB > 80 * 0.9 =
    # 72 GB of one H100, so 1 GPU does not fit. With n GPUs at $2/h and batch 32:
    #   cost = n * 2 / 3600 [$/s] * t_step [ms] / 1000 / 32 * 1e6 per million tokens.
    assert evaluate(Scenario(n_gpus=1))["memory_required_gb"] == pytest.approx(98.6, abs=0.05)
    costs = {}
    for n in (2, 4, 8):
        step_ms = evaluate(Scenario(n_gpus=n))["decode_step_ms"]
        costs[n] = n * 2.00 / 3600 * step_ms / 1e3 / 32 * 1e6
    # 2 GPUs: 2 * 2 / 3600 * 25.91 / 1000 / 32 * 1e6 = 0.8995 (the experts' top-k combine,
    # 32 x 2 x 4,096 x 4 B x 32 layers on each GPU, adds 0.0125 ms to 25.89); 4: 0.975;
    # 8: 1.172.
    assert costs[2] == pytest.approx(0.8995, abs=1e-4)
    assert min(costs, key=costs.get) == 2
    row = _at(hand.floor, "2024-01-31").iloc[0]
    assert (row["gpu"], row["n_gpus"], row["weight_format"]) == ("h100-sxm", 2, "bf16")
    assert (row["usd_per_gpu_hour"], row["price_kind"]) == (2.00, "test on-demand")
    assert row[COST] == pytest.approx(costs[2], rel=1e-12)
    # The same setup through evaluate at that price.
    assert row[COST] == pytest.approx(evaluate(Scenario(usd_per_gpu_hour=2.0))[COST], rel=1e-12)


def test_a_gpu_priced_before_its_launch_waits_for_it(hand):
    # The B200's $0.10 is dated 2023-06 but the GPU launched in 2024-03 (available from
    # 2024-03-31): it sets no floor before, and from then on one B200 (180 GB * 0.9 = 162 GB
    # holds the 98.6 GB) costs 0.10 / 3600 * 22.46 ms / 1000 / 32 * 1e6 = $0.0195.
    assert "b200" not in set(hand.floor_by_gpu.loc[hand.floor_by_gpu["date"] < "2024-03-31", "gpu"])
    step_ms = evaluate(Scenario(gpu="b200", n_gpus=1))["decode_step_ms"]
    row = _at(hand.floor, "2024-03-31").iloc[0]
    assert (row["gpu"], row["n_gpus"]) == ("b200", 1)
    assert row[COST] == pytest.approx(0.10 / 3600 * step_ms / 1e3 / 32 * 1e6, rel=1e-12)
    assert row[COST] == pytest.approx(0.0195, abs=1e-4)
    # The H100 stays in floor_by_gpu; at $1 from 2024-06 its cost halves exactly.
    h100 = hand.floor_by_gpu[hand.floor_by_gpu["gpu"] == "h100-sxm"].set_index("date")[COST]
    assert h100[pd.Timestamp("2024-06-30")] == pytest.approx(h100[pd.Timestamp("2024-01-31")] / 2)


def test_dates_run_from_the_start_to_the_newest_price_and_no_gpu_means_no_floor(hand):
    # Dates: the start (2023-12-31), price and launch dates up to the newest provider row
    # (2024-06-30): 2024-01-31 (H100 price, H200 reserved price), 2024-02-29, 2024-03-31
    # (B200 launch), 2024-06-30. On 2023-12-31 no on-demand GPU has a price yet.
    assert (hand.start, hand.end) == (pd.Timestamp("2023-12-31"), pd.Timestamp("2024-06-30"))
    assert list(hand.floor["date"].dt.strftime("%Y-%m-%d")) == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-06-30",
    ]
    assert list(hand.floor.columns) == list(FLOOR_COLUMNS)
    december = _at(hand.prices, "2023-12-31")
    assert december["floor_usd_per_million_output_tokens"].isna().all()
    assert not december["below_floor"].any()


def test_prices_below_the_floor_are_marked(hand):
    # Q's $0.01 on 2024-02-29 is under the H100 floor of $0.9647; P's $0.40 on 2024-06-30
    # is above the B200 floor of $0.021.
    prices = hand.prices.set_index(["provider", "catalog_date"])
    assert set(hand.prices["model"]) == {"mixtral-8x7b"}
    assert prices.loc[("Q", "2024-02"), "below_floor"]
    assert prices.loc[("Q", "2024-02"), "floor_gpu"] == "h100-sxm"
    assert prices.loc[("Q", "2024-02"), "floor_n_gpus"] == 2
    assert not prices.loc[("P", "2024-06"), "below_floor"]
    assert prices.loc[("P", "2024-06"), "floor_usd_per_million_output_tokens"] == pytest.approx(
        _at(hand.floor, "2024-06-30").iloc[0][COST]
    )


def test_the_price_rule_picks_the_prices(hand):
    # Only the H200's "test reserved" price is in the 1-year tier: $0.01 from 2024-01.
    reserved = run(Scenario(), ON_DEMAND_BF16.replace(price_rule=PriceRule("contract_1y")), HAND)
    assert set(reserved.floor["gpu"]) == {"h200-sxm"}
    assert set(reserved.floor["usd_per_gpu_hour"]) == {0.01}
    # No tier is mixed in: on demand, the H200 never sets the floor.
    assert "h200-sxm" not in set(hand.floor_by_gpu["gpu"])
    # Your own price of a GPU counts at every date from its launch: the H200 at $0.50 sets
    # the floor from the start (one H200 holds Mixtral in bf16), before any on-demand price.
    mine = run(
        Scenario(),
        ON_DEMAND_BF16.replace(price_rule=PriceRule("on_demand", own={"h200-sxm": 0.5})),
        HAND,
    )
    start = _at(mine.floor, "2023-12-31").iloc[0]
    assert (start["gpu"], start["usd_per_gpu_hour"], start["price_basis"]) == (
        "h200-sxm",
        0.5,
        "your price",
    )
    # A tier without a price in time: no floor, and the notes say so.
    none = run(Scenario(), ON_DEMAND_BF16.replace(price_rule=PriceRule("all_in_cost")), HAND)
    assert (
        none.floor.empty
        and "has a price of tier all-in cost of an owner (SemiAnalysis): no floor" in none.notes
    )


def test_cheapest_price_on_offer_and_its_trend_by_hand(hand):
    # On offer: 2023-12-31 P $1.00 (Q's free tier left out), 2024-02-29 Q $0.01,
    # 2024-06-30 Q $0.01 (P's $0.40 is dearer).
    assert list(hand.cheapest["usd_per_million_output"]) == [1.00, 0.01, 0.01]
    assert list(hand.cheapest["provider"]) == ["P", "Q", "Q"]
    # Least squares of ln(price) on years: x = 0, 60, 182 days / 365.25, y = 0, ln .01, ln .01.
    x = np.array([0, 60, 182]) / 365.25
    y = np.log([1.00, 0.01, 0.01])
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    trend = hand.trend.set_index("model").loc["mixtral-8x7b"]
    assert trend["factor_per_year"] == pytest.approx(math.exp(slope), rel=1e-12)
    assert trend["fold_drop_per_year"] == pytest.approx(math.exp(-slope), rel=1e-12)
    assert trend["n_dates"] == 3


def test_a_two_point_trend_is_the_ratio_per_year():
    # $1.00 on 2025-01-01 and $0.10 on 2026-01-01 (365 days): 10x cheaper in 365/365.25 years,
    # so the price falls 10^(365.25/365) = 10.0070x a year.
    catalog = catalog_with(
        [("h100-sxm", 2.0, "test", "on_demand", "2024-01")],
        [
            ("R", "mixtral-8x7b", 0.1, 1.00, "2025-01-01"),
            ("R", "mixtral-8x7b", 0.1, 0.10, "2026-01-01"),
        ],
    )
    trend = run(Scenario(), Options(), catalog).trend.iloc[0]
    assert trend["fold_drop_per_year"] == pytest.approx(10 ** (365.25 / 365), rel=1e-12)
    assert trend["text"].startswith("Mixtral 8x7B: the cheapest output price fell 10x a year")
    one = catalog_with(
        [("h100-sxm", 2.0, "test", "on_demand", "2024-01")], [("R", "mixtral-8x7b", 1, 1, "2024")]
    )
    assert "one price date only" in run(Scenario(), Options(), one).trend.iloc[0]["text"]


def test_the_trend_lines_ends_are_the_fit_by_hand(hand):
    # ln(price) = a + b * years through x = 0, 60, 182 days / 365.25 and the cheapest
    # prices 1.00, 0.01, 0.01: the line's ends are e^(a + b x) at the first and last x.
    x = np.array([0, 60, 182]) / 365.25
    y = np.log([1.00, 0.01, 0.01])
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    intercept = y.mean() - slope * x.mean()
    trend = hand.trend.set_index("model").loc["mixtral-8x7b"]
    assert trend["fit_first_usd_per_million_output"] == pytest.approx(math.exp(intercept))
    assert trend["fit_last_usd_per_million_output"] == pytest.approx(
        math.exp(intercept + slope * x[-1])
    )
    # Half a year (2023-12-31 to 2024-06-30) is too short for a rate per year: the words
    # give the move from the first cheapest price to the last, 1.00 to 0.01 = 100x.
    assert trend["text"] == (
        "Mixtral 8x7B: the cheapest output price fell 100x in 6 months (2023-12 to "
        "2024-06, $1 to $0.01 per million output tokens); too short a time for a rate per year."
    )


def test_a_steady_price_held_and_a_rising_one_rose():
    gpu = [("h100-sxm", 2.0, "test", "on_demand", "2024-01")]
    steady = catalog_with(
        gpu,
        [
            ("R", "mixtral-8x7b", 0.1, 1.0, "2024-01-01"),
            ("R", "mixtral-8x7b", 0.1, 1.0, "2026-01-01"),
        ],
    )
    text = run(Scenario(), Options(), steady).trend.iloc[0]["text"]
    assert text.startswith("Mixtral 8x7B: the cheapest output price held steady (log-linear")
    # $0.28 to $1.32 in two years: a rise of sqrt(1.32 / 0.28) = 2.17x a year.
    rising = catalog_with(
        gpu,
        [
            ("R", "mixtral-8x7b", 0.1, 0.28, "2024-01-01"),
            ("R", "mixtral-8x7b", 0.1, 1.32, "2026-01-01"),
        ],
    )
    trend = run(Scenario(), Options(), rising).trend.iloc[0]
    assert trend["factor_per_year"] == pytest.approx((1.32 / 0.28) ** (365.25 / 731))
    assert "rose 2.2x a year" in trend["text"]


def test_a_month_of_cuts_is_no_rate_per_year():
    # DeepSeek-V4.1-Flash's cheapest price went from $1.20 (2026-10-27) to $0.30
    # (2026-11-20): 4x lower in under a month, never "more than a million-fold a year".
    text = run(Scenario(), Options(model="deepseek-v4.1-flash")).trend.iloc[0]["text"]
    assert "fell 4x in 1 month" in text and "a year" not in text.replace("rate per year", "")


def test_a_model_has_no_floor_before_its_release():
    # Mixtral 8x22B was released in 2024-04: its floor starts on 2024-04-30 (an H100 at your
    # own price from the start; no on-demand price is that old).
    rule = PriceRule("on_demand", own={"h100-sxm": 1.95})
    result = run(Scenario(), Options(model="mixtral-8x22b", price_rule=rule))
    assert result.floor["date"].min() == pd.Timestamp("2024-04-30")
    assert set(result.floor["model"]) == {"mixtral-8x22b"}


def test_the_interactivity_target_holds_and_only_raises_the_floor():
    slow = run(Scenario(), Options(target="interactivity", min_tokens_per_s_per_user=20))
    fast = run(Scenario(), Options(target="interactivity", min_tokens_per_s_per_user=100))
    assert (fast.floor_by_gpu["tokens_per_s_per_user"] >= 100).all()
    both = slow.floor.merge(fast.floor, on=["model", "date"], suffixes=("_slow", "_fast"))
    assert len(both) == len(fast.floor)  # where 100 tokens/s is possible, 20 is too
    assert (both[f"{COST}_fast"] >= both[f"{COST}_slow"]).all()
    # Checked against evaluate: the faster target's best setup meets it at that cost.
    row = fast.floor.iloc[0]
    setup = Scenario(
        model=row["model"],
        gpu=row["gpu"],
        n_gpus=int(row["n_gpus"]),
        weight_format=row["weight_format"],
        batch_size=int(row["batch_size"]),
        usd_per_gpu_hour=row["usd_per_gpu_hour"],
    )
    result = evaluate(setup)
    assert result["fits"] and result["tokens_per_s_per_user"] >= 100
    assert result[COST] == pytest.approx(row[COST], rel=1e-12)


def test_options_are_checked_by_name():
    with pytest.raises(ValueError, match="target must be one of batch_size, interactivity"):
        Options(target="speed")
    with pytest.raises(ValueError, match=r"min_tokens_per_s_per_user must be a number in \[1.0"):
        Options(min_tokens_per_s_per_user=0.0)
    with pytest.raises(ValueError, match="weight_formats must be a non-empty list"):
        Options(weight_formats=())
    with pytest.raises(ValueError, match=r"model must be one of .*mixtral-8x7b.*got \['gpt-9'\]"):
        run(Scenario(), Options(model="gpt-9"), HAND)
    with pytest.raises(ValueError, match="time_of_day must be one of peak, off_peak"):
        Options(time_of_day="noon")
    with pytest.raises(ValueError, match="active_params_min_b and active_params_max_b must"):
        Options(active_params_min_b=20.0, active_params_max_b=10.0)
    with pytest.raises(ValueError, match="active_params_min_b and active_params_max_b must"):
        Options(active_params_min_b=20.0)
    with pytest.raises(ValueError, match="price_rule must be a pricing.PriceRule"):
        Options(price_rule="on-demand")
    with pytest.raises(ValueError, match="weight_formats must hold only bf16, fp8"):
        run(Scenario(), Options(weight_formats=("fp2",)), HAND)


MONTHS = [f"{y}-{m:02d}" for y in (2022, 2023, 2024, 2025) for m in (1, 4, 7, 10)]
gpu_price_rows = st.lists(
    st.tuples(
        st.sampled_from(list(BASE.gpus.index)),
        st.floats(0.2, 10.0),
        st.just("test"),
        st.sampled_from(["on_demand", "contract_1y"]),
        st.sampled_from(MONTHS),
    ),
    min_size=1,
    max_size=6,
)
PROVIDERS = [
    ("P", "mixtral-8x7b", 0.5, 0.6, "2023-12"),
    ("P", "mixtral-8x7b", 0.2, 0.3, "2024-07"),
    ("Q", "llama-2-70b", 0.5, 0.9, "2025-04"),
]


@settings(max_examples=15, deadline=None)
@given(gpu_price_rows, st.sampled_from(["on_demand", "contract_1y"]))
def test_floor_properties_for_any_gpu_prices(rows, tier):
    catalog = catalog_with(rows, PROVIDERS)
    result = run(Scenario(), Options(price_rule=PriceRule(tier)), catalog)
    if result.floor.empty:  # no GPU of the tier priced (and launched) in time
        assert "no floor" in result.notes
        return
    # One tier only: every price on the floor is one of its rows (a GPU may have the
    # same price in both tiers: then the price is the tier's too).
    prices = catalog.gpu_prices
    used = result.floor_by_gpu[["gpu", "usd_per_gpu_hour"]].drop_duplicates()
    for gpu, price in used.itertuples(index=False):
        same = prices[(prices["gpu"] == gpu) & (prices["usd_per_gpu_hour"] == price)]
        assert tier in set(same["tier"]), (gpu, price)
    by_gpu = result.floor_by_gpu
    launch = period_end(catalog.gpus.loc[by_gpu["gpu"], "date"]).to_numpy()
    assert (by_gpu["date"].to_numpy() >= launch).all()  # never before its launch
    assert (by_gpu["date"] >= by_gpu["price_date"]).all()  # nor before its price
    assert (by_gpu[COST] >= 0).all() and np.isfinite(by_gpu[COST]).all()
    assert (by_gpu["date"] >= result.start).all() and (by_gpu["date"] <= result.end).all()
    # The floor is the cheapest GPU's cost at each date.
    lowest = by_gpu.groupby(["model", "date"])[COST].min()
    assert result.floor.set_index(["model", "date"])[COST].to_numpy() == pytest.approx(
        lowest.to_numpy()
    )
    # Twice every GPU price: twice every floor, from the same setups.
    doubled = dataclasses.replace(
        catalog,
        gpu_prices=catalog.gpu_prices.assign(usd_per_gpu_hour=lambda t: 2 * t.usd_per_gpu_hour),
    )
    twice = run(Scenario(), Options(price_rule=PriceRule(tier)), doubled).floor
    assert twice[COST].to_numpy() == pytest.approx(2 * result.floor[COST].to_numpy(), rel=1e-12)
    assert list(twice["gpu"]) == list(result.floor["gpu"])


def test_the_project_catalog_covers_its_priced_models():
    result = run()
    priced = set(BASE.provider_prices["model"]) & set(BASE.models.index)
    # Every priced model has a floor but Kimi K3: 2.78 T parameters in FP8 are 2.78 TB, more
    # than 8 GPUs of 288 GB hold (the floor stays within one 8-GPU node).
    assert set(result.floor["model"]) == priced - {"kimi-k3"}
    assert BASE.models.loc["kimi-k3", "total_params"] > 8 * 288e9
    assert set(result.trend["model"]) == priced
    # No on-demand price is older than 2024-06 (AWS's A100 40GB): the floor starts then.
    assert result.floor["date"].min() == pd.Timestamp("2024-06-30")
    assert "The floor starts on 2024-06-30" in result.notes
    assert result.start == pd.Timestamp("2023-12-31")
    assert result.end == period_end(BASE.provider_prices["date"]).max()
    # December 2023 at the seed's $1.95 for an H100 (your price): the floor's setup costs
    # what evaluate gives it, and on the H100 it is no dearer than the seed's own setup
    # (2 GPUs in bf16) at the same price.
    result = run(Scenario(), Options(price_rule=PriceRule("on_demand", own={"h100-sxm": 1.95})))
    december = _at(result.floor, "2023-12-31").set_index("model").loc["mixtral-8x7b"]
    setup = Scenario(
        gpu=december["gpu"],
        n_gpus=int(december["n_gpus"]),
        weight_format=december["weight_format"],
        usd_per_gpu_hour=december["usd_per_gpu_hour"],
    )
    assert december[COST] == pytest.approx(evaluate(setup)[COST], rel=1e-12)
    h100 = _at(result.floor_by_gpu, "2023-12-31").set_index(["model", "gpu"])
    h100 = h100.loc[("mixtral-8x7b", "h100-sxm")]
    seed_setup = Scenario(n_gpus=2, weight_format="bf16", usd_per_gpu_hour=h100["usd_per_gpu_hour"])
    assert december[COST] <= h100[COST] <= evaluate(seed_setup)[COST]


#: The models issue 12 asks the timeline to cover, with the first date of each one's prices.
COVERED = {
    "mixtral-8x7b": "2023-12-31",  # the seed's price war
    "llama-3.1-70b": "2024-12-31",
    "deepseek-v3": "2024-12-26",
    "deepseek-r1": "2025-01-20",
    "gpt-oss-120b": "2025-08-05",
    "qwen3-235b-a22b": "2026-08-31",
}


@pytest.mark.parametrize("target", ["batch_size", "interactivity"])
def test_the_timeline_covers_the_price_war_models_from_2023_12_to_2026(target):
    # The H100 at the seed's $1.95 (your price) at every date, so every date has a floor.
    rule = PriceRule("on_demand", own={"h100-sxm": 1.95})
    result = run(Scenario(), Options(target=target, price_rule=rule))
    assert result.start == pd.Timestamp("2023-12-31")
    assert result.end.year == 2026
    for model, first in COVERED.items():
        prices = result.prices[result.prices["model"] == model]
        assert prices["date"].min() == pd.Timestamp(first), model
        assert prices["date"].max().year == 2026, model
        # Every price from the model's release on has a finite, positive floor beside it. A
        # release month counts from its last day, or from the model's first price where
        # that is earlier (a model on sale is released): DeepSeek-V3's launch price of
        # 2024-12-26 (release '2024-12', i.e. 2024-12-31) has one.
        released = min(period_end([BASE.models.loc[model, "date"]])[0], pd.Timestamp(first))
        floor = prices.loc[prices["date"] >= released, "floor_usd_per_million_output_tokens"]
        assert len(floor) and (floor > 0).all() and np.isfinite(floor).all(), model
        assert prices.loc[prices["date"] < released, "floor_gpu"].isna().all(), model
        assert model in set(result.trend["model"]), model
    assert set(result.floor.loc[result.floor["date"] == result.end, "model"]) >= set(COVERED)


def test_price_steps_hold_each_paid_price_to_the_end_and_bands_span_a_family():
    """Three series, one free, one withdrawn; two GPUs of one family. Steps: A's 2.0
    (2024-01) and 1.0 (2024-06) and its 1.0 again at the end; B's free tier is not drawn;
    C's 3.0 (2024-01) ends where C withdrew (2024-09, no price). Band at 2024-06: the
    family's GPUs cost 3.0 and 5.0, so low 3.0 and high 5.0; at 2024-01 one GPU, 4.0."""
    day = pd.Timestamp
    prices = pd.DataFrame(
        {
            "series": ["A", "A", "B", "C", "C"],
            "date": [day("2024-01-31"), day("2024-06-30"), day("2024-06-30")]
            + [day("2024-01-31"), day("2024-09-30")],
            "usd_per_million_output": [2.0, 1.0, 0.0, 3.0, np.nan],
        }
    )
    by_gpu = pd.DataFrame(
        {
            "family": ["hopper"] * 3,
            "date": [day("2024-01-31"), day("2024-06-30"), day("2024-06-30")],
            COST: [4.0, 5.0, 3.0],
        }
    )
    steps = price_steps(prices, end=day("2025-12-31"))
    assert steps["series"].tolist() == ["A", "A", "A", "C", "C"]
    assert steps["date"].tolist() == [
        day("2024-01-31"),
        day("2024-06-30"),
        day("2025-12-31"),
        day("2024-01-31"),
        day("2024-09-30"),
    ]
    assert steps["usd_per_million_output"].tolist() == [2.0, 1.0, 1.0, 3.0, 3.0]
    bands = floor_bands(by_gpu)
    assert bands[["low", "high"]].to_numpy().tolist() == [[4.0, 4.0], [3.0, 5.0]]


def test_the_timeline_shows_deepseeks_2026_rise():
    # DeepSeek-V4-Flash on DeepSeek's own API: $0.28 per million output tokens flat
    # (2026-08-13), then from 2026-08-16 $1.32 at peak (1.32 / 0.28 = 4.7x) and $0.66
    # off-peak (2.4x); retired about 2026-09-10. Two series, each with the flat price.
    result = run(Scenario(), Options(model="deepseek-v4-flash"))
    deepseek = result.changes[result.changes["series"].str.startswith("DeepSeek")]
    rises = deepseek.set_index("series")
    assert set(rises.index) == {"DeepSeek (peak)", "DeepSeek (off-peak)"}
    assert (rises["direction"] == "rise").all()
    assert (rises["date"] == pd.Timestamp("2026-08-16")).all()
    assert rises.loc["DeepSeek (peak)", "change_pct"] == pytest.approx(100 * (1.32 / 0.28 - 1))
    assert rises.loc["DeepSeek (off-peak)", "change_pct"] == pytest.approx(100 * (0.66 / 0.28 - 1))
    assert "DeepSeek (peak) raised it 4.7x on 2026-08-16 ($0.28 to $1.32" in result.changes_text
    # The step line of each DeepSeek series ends at the retirement, not at the timeline's end.
    steps = price_steps(result.prices, result.end)
    peak = steps[steps["series"] == "DeepSeek (peak)"]
    assert peak["date"].max() == pd.Timestamp("2026-09-10")
    assert peak["usd_per_million_output"].tolist() == [0.28, 1.32, 1.32]
    # The off-peak time of day counts DeepSeek's off-peak price as the cheapest on offer.
    off = run(Scenario(), Options(model="deepseek-v4-flash", time_of_day="off_peak"))
    at = off.cheapest.set_index("date")
    assert at.loc[pd.Timestamp("2026-08-16"), "usd_per_million_output"] <= 0.66


def test_a_falling_step_is_a_fall():
    catalog = catalog_with(
        [("h100-sxm", 2.0, "test", "on_demand", "2024-01")],
        [
            ("R", "mixtral-8x7b", 0.5, 1.00, "2024-01"),
            ("R", "mixtral-8x7b", 0.5, 0.50, "2024-06"),  # -50 %
            ("R", "mixtral-8x7b", 0.5, 0.501, "2024-09"),  # +0.2 %: within UNCHANGED_SHARE
        ],
    )
    result = run(Scenario(), Options(), catalog)
    assert result.changes[["direction", "change_pct"]].to_numpy().tolist() == [["fall", -50.0]]
    assert result.changes_text == "Mixtral 8x7B: 0 price rises and 1 fall."


def test_several_models_on_one_chart_and_how_far_their_prices_fell():
    # Models of Mixtral 8x7B's size by active parameters, 10-20 B: the cheapest price of any
    # of them at each date, first to last.
    result = run(
        Scenario(),
        Options(model="mixtral-8x7b", active_params_min_b=10.0, active_params_max_b=20.0),
    )
    active = BASE.models.loc[list(result.models), "active_params"] / 1e9
    assert result.models[0] == "mixtral-8x7b" and len(result.models) > 2
    assert ((active >= 10) & (active <= 20)).all()
    assert set(result.floor["model"]) == set(result.models)
    group = result.group
    assert group["date"].is_monotonic_increasing
    # At each date the group's price is the lowest of the models' own cheapest then.
    for row in group.itertuples():
        own = result.cheapest[result.cheapest["date"] <= row.date]
        newest = own.sort_values("date").groupby("model").tail(1)
        assert row.usd_per_million_output == pytest.approx(newest["usd_per_million_output"].min())
    first, last = group.iloc[0], group.iloc[-1]
    fold = first["usd_per_million_output"] / last["usd_per_million_output"]
    assert result.group_text.startswith("Across Mixtral 8x7B, ")
    assert f"{fold:.2g}x lower" in result.group_text
    # models= adds named ones; one model alone has no group sentence.
    two = run(Scenario(), Options(model="mixtral-8x7b", models=("gpt-oss-120b",)))
    assert two.models == ("mixtral-8x7b", "gpt-oss-120b") and two.group_text
    assert run(Scenario(), Options(model="mixtral-8x7b")).group_text == ""
    assert run(Scenario(), Options(model="mixtral-8x7b")).group_trend.empty
    # The group's trend is the fit of its cheapest prices, as a model's is.
    trend = result.group_trend.iloc[0]
    x = (group["date"] - group["date"].min()).dt.days.to_numpy() / 365.25
    y = np.log(group["usd_per_million_output"].to_numpy())
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    assert trend["factor_per_year"] == pytest.approx(math.exp(slope))
    assert trend["n_dates"] == len(group)
    assert trend["text"].startswith("The cheapest of the drawn models: the cheapest output price")


def test_a_model_without_prices_still_gets_its_floor():
    # Llama 2 70B without provider prices: its cost floor from its release, and a note.
    result = run(Scenario(n_gpus=4), Options(model="llama-2-70b"), HAND)
    assert result.prices.empty and result.cheapest.empty and result.trend.empty
    assert set(result.floor["model"]) == {"llama-2-70b"} and len(result.floor) > 0
    assert result.notes.startswith(
        "The catalog has no provider prices for Llama 2 70B from 2023-12: only the cost "
        "floor is shown."
    )
    # The floor runs to the timeline's last date, another model's newest price (2024-09-17),
    # though no price of this model and no GPU price or launch is dated then.
    later = catalog_with(
        [("h100-sxm", 2.0, "test", "on_demand", "2024-01")],
        [("R", "mixtral-8x7b", 0.1, 1.0, "2024-09-17")],
    )
    result = run(Scenario(n_gpus=4), Options(model="llama-2-70b"), later)
    assert result.end == pd.Timestamp("2024-09-17")
    assert result.floor["date"].max() == result.end


def test_no_trend_or_change_text_shows_inf():
    # A price of 1e-320 $/M after $1: the fold is beyond any number a sentence should hold.
    catalog = catalog_with(
        [("h100-sxm", 2.0, "test", "on_demand", "2024-01")],
        [
            ("R", "mixtral-8x7b", 0.5, 1e-320, "2024-01"),
            ("R", "mixtral-8x7b", 0.5, 1.0, "2024-06"),
        ],
    )
    result = run(Scenario(), Options(), catalog)
    for text in (result.changes_text, *result.trend["text"]):
        assert "inf" not in text and "nan" not in text, text
    assert "more than a million-fold" in result.changes_text


def test_expert_parallelism_applies_to_the_mixtures_of_experts_among_the_models():
    # Under the scenario's expert parallelism the timeline compares a dense model (Qwen3.6
    # 27B) with mixtures of experts: the dense one is costed under tensor parallelism, the
    # others under expert parallelism on GPU counts their experts allow (8 for Mixtral's 8).
    from costmodel.analyses.timeline import GPU_COUNTS, Options, _best_setups

    catalog = load_catalog()
    scenario = Scenario(model="qwen3-235b-a22b", expert_parallel=True, n_gpus=8)
    options = Options(models=("qwen3.6-27b", "mixtral-8x7b"))
    best = _best_setups(scenario, catalog, ["qwen3.6-27b", "mixtral-8x7b"], ["h200-sxm"], options)
    assert set(best["model"]) == {"qwen3.6-27b", "mixtral-8x7b"}
    assert np.isin(best["n_gpus"], GPU_COUNTS).all()
    assert (best["n_gpus"][np.asarray(best["model"]) == "mixtral-8x7b"] <= 8).all()
    # one entry per (model, GPU) pair: model i on GPU j at i * len(gpus) + j
    assert best["pair"].tolist() == [0, 1]


def test_the_catalogs_price_history_is_kept_and_each_result_has_its_own_frames():
    catalog = dataclasses.replace(HAND)  # a fresh copy: nothing kept yet
    first = run(Scenario(batch_size=8), ON_DEMAND_BF16, catalog)
    first.cheapest["usd_per_million_output"] = -1.0  # a caller changing its Result...
    first.trend.loc[:, "text"] = ""
    second = run(Scenario(batch_size=64), ON_DEMAND_BF16, catalog)
    # ...changes neither the kept history nor the next Result, which matches a fresh run
    fresh = run(Scenario(batch_size=64), ON_DEMAND_BF16, dataclasses.replace(HAND))
    for name in ("cheapest", "trend", "changes", "group", "group_trend", "prices", "floor"):
        pd.testing.assert_frame_equal(getattr(second, name), getattr(fresh, name))
    assert (second.cheapest["usd_per_million_output"] > 0).all()
    # the floor follows the batch: batch 8 costs more per token than batch 64 at the date
    assert (first.floor[COST].to_numpy() > second.floor[COST].to_numpy()).all()
