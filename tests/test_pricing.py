"""costmodel.pricing: one GPU price rule, the dated price sheet, tables prepared once."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel import pricing
from costmodel.pricing import PriceRule, price_gpus, price_sheet

CATALOG = costmodel.load_catalog()


def test_a_tier_as_of_a_date_by_hand():
    # SemiAnalysis's 2026-04 all-in costs: B200 hyperscaler $1.95 and neocloud $2.34 on the
    # same date: the lower is taken; none of them dated on or before 2025-12.
    rule = PriceRule("all_in_cost", "2026-08")
    b200 = price_gpus(["b200"], rule).iloc[0]
    assert (b200["usd_per_gpu_hour"], b200["date"], b200["tier"]) == (
        1.95,
        "2026-04",
        "all_in_cost",
    )
    assert b200["kind"] == "SemiAnalysis hyperscaler all-in cost" and b200["basis"] == "listed"
    early = price_gpus(["b200"], rule.replace(as_of="2025-12")).iloc[0]
    assert np.isnan(early["usd_per_gpu_hour"]) and early["basis"] == "unpriced"
    assert early["note"] == "no all_in_cost price dated on or before 2025-12"
    # H100 on demand: by 2024 only RunPod's $3.99 of 2024-08; by 2026-08 RunPod's $2.69
    # of 2026-05 (read as 2026-05-31) is newer than Lambda's $2.99 of 2026-05-18.
    h100 = PriceRule("on_demand")
    assert price_gpus(["h100-sxm"], h100.replace(as_of="2024"))["usd_per_gpu_hour"][0] == 3.99
    assert price_gpus(["h100-sxm"], h100.replace(as_of="2026-08"))["usd_per_gpu_hour"][0] == 2.69
    assert price_gpus(["h100-sxm"], h100.replace(as_of="2026-05-20"))["usd_per_gpu_hour"][0] == 2.99
    # A datetime.date is a date like another.
    day = price_gpus(["h100-sxm"], h100.replace(as_of=datetime.date(2026, 5, 20)))
    assert day["usd_per_gpu_hour"][0] == 2.99


def test_no_result_mixes_two_tiers():
    # The H100's on-demand price and its SemiAnalysis cost are never in one result: every
    # priced row is of the rule's tier, the others are unpriced (and say why).
    for tier in ("on_demand", "contract_1y", "contract_3y", "all_in_cost"):
        table = price_gpus(rule=PriceRule(tier))
        priced = table[table["basis"] != "unpriced"]
        assert set(priced["tier"]) == {tier}
        assert table.loc[table["basis"] == "unpriced", "note"].str.startswith(f"no {tier}").all()
    # Tiers that are not a way to pay for a GPU are no rule's.
    with pytest.raises(ValueError, match="tier must be one of on_demand, contract_1y"):
        PriceRule("assumption")


def test_placeholder_and_derived_prices_say_so():
    # SemiAnalysis priced the B300 at 1.2x the B200 ($1.95 x 1.2 = $2.34): a placeholder.
    table = price_gpus(["b300", "gb300", "b200"], PriceRule("all_in_cost")).set_index("gpu")
    assert table.loc["b300", "usd_per_gpu_hour"] == pytest.approx(1.2 * 1.95)
    assert table.loc["b300", "basis"] == table.loc["gb300", "basis"] == "placeholder"
    assert table.loc["b300", "label"].endswith(", placeholder")
    assert table.loc["b200", "label"] == "SemiAnalysis hyperscaler all-in cost (2026-04)"
    # The H20's $0.58 is derived by us (H100 all-in x server price ratio): 1.30 x 1.2 / 2.7.
    h20 = CATALOG.gpu_prices.query("gpu == 'h20' and tier == 'assumption'").iloc[0]
    assert h20["basis"] == "derived"
    assert h20["usd_per_gpu_hour"] == pytest.approx(1.30 * 1.2 / 2.7, abs=0.005)
    assert set(CATALOG.gpu_prices["basis"]) == set(pricing.PRICE_BASES)


def test_your_own_prices_replace_the_tiers_and_say_so():
    rule = PriceRule("all_in_cost", own={"a100-80gb-sxm": 0.9, "b200": 3.0})
    table = price_gpus(["a100-80gb-sxm", "b200", "h100-sxm"], rule).set_index("gpu")
    assert table["usd_per_gpu_hour"].tolist() == [0.9, 3.0, 1.30]
    assert table["tier"].tolist() == ["own", "own", "all_in_cost"]
    assert table.loc["b200", "label"] == "your price"
    # Only your prices: the other GPUs are unpriced.
    only = price_gpus(["a100-80gb-sxm", "h100-sxm"], PriceRule("own", own={"a100-80gb-sxm": 0.9}))
    assert only["usd_per_gpu_hour"].tolist()[0] == 0.9 and np.isnan(only["usd_per_gpu_hour"][1])
    assert only["note"][1] == "no price of yours"
    # A GPU of your own typed with its price (Catalog.with_gpu) is priced under any rule.
    specs = {"hbm_gb": 96, "bandwidth_tb_s": 4.0, "bf16_dense_tflops": 900, "scale_up_gb_s": 900}
    specs |= {"scale_out_gb_s": 50, "scale_up_domain_gpus": 8, "usd_per_gpu_hour": 1.5}
    mine = CATALOG.with_gpu("my-gpu", family="hopper", **specs)
    for tier in ("on_demand", "all_in_cost"):
        row = price_gpus(["my-gpu"], PriceRule(tier), mine).iloc[0]
        assert (row["usd_per_gpu_hour"], row["basis"]) == (1.5, "your price")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tier": "spot"}, "tier must be one of"),
        ({"as_of": "last year"}, "as_of must be 'today' or a date"),
        (
            {"own": {"h100-sxm": -1.0}},
            r"own\[h100-sxm\].usd_per_gpu_hour must be a number in \[0.0, 100.0\]",
        ),
        ({"own": {"h100-sxm": float("nan")}}, r"own\[h100-sxm\]"),
        ({"own": (("h100-sxm", 1.0), ("h100-sxm", 2.0))}, "own names a GPU twice"),
        ({"own": ("h100-sxm",)}, r"own\[0\] must be a row \(id, usd_per_gpu_hour\)"),
    ],
)
def test_a_bad_rule_names_its_field(fields, message):
    with pytest.raises(ValueError, match=message):
        PriceRule(**fields)


def test_a_rule_is_a_value():
    # Hashable and equal by value (pages cache on it); own prices in any order are one rule.
    a = PriceRule("on_demand", own={"b200": 3.0, "a100-80gb-sxm": 1.0})
    b = PriceRule("on_demand", own=(("a100-80gb-sxm", 1.0), ("b200", 3.0)))
    assert a == b and hash(a) == hash(b)
    assert a.text == "on-demand rental (your prices for a100-80gb-sxm, b200) as of today"
    with pytest.raises(ValueError, match="gpus must be among"):
        price_gpus(["tpu-v5"])


def test_many_dates_in_one_call_agree_with_one_date_at_a_time():
    dates = ["2024", "2024-08", "2025-10", "2026-03", "2026-06-26", "today"]
    gpus = ["h100-sxm", "a100-80gb-sxm", "b200", "mi355x"]
    rule = PriceRule("contract_1y")
    grid = price_gpus(gpus, rule, dates=dates)
    assert list(grid["as_of"]) == [d for d in dates for _ in gpus]
    for date in dates:
        one = price_gpus(gpus, rule.replace(as_of=date))
        both = grid[grid["as_of"] == date].drop(columns="as_of").reset_index(drop=True)
        pd.testing.assert_frame_equal(both, one)
    # The H100's 1-year contract index rose through 2026: 1.70 (2025-10), 2.35 (2026-03),
    # 2.65 (2026-06-26).
    h100 = grid[grid["gpu"] == "h100-sxm"].set_index("as_of")["usd_per_gpu_hour"]
    assert h100[["2025-10", "2026-03", "2026-06-26"]].tolist() == [1.70, 2.35, 2.65]


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["on_demand", "contract_1y", "contract_3y", "all_in_cost"]),
    st.sampled_from(["2024", "2024-06", "2025-03", "2025-12", "2026-04", "2026-07-15", "today"]),
)
def test_the_price_is_the_newest_of_the_tier_on_or_before_the_date(tier, as_of):
    # Against a plain filter of the catalog, row by row.
    table = price_gpus(rule=PriceRule(tier, as_of)).set_index("gpu")
    rows = CATALOG.gpu_prices[CATALOG.gpu_prices["tier"] == tier]
    cutoff = "9999" if as_of == "today" else costmodel.date_key(as_of)
    for gpu in CATALOG.gpus.index:
        mine = rows[(rows["gpu"] == gpu) & (rows["date"].map(costmodel.date_key) <= cutoff)]
        if mine.empty:
            assert np.isnan(table.loc[gpu, "usd_per_gpu_hour"]), gpu
            continue
        keys = mine["date"].map(costmodel.date_key)
        expected = mine.loc[keys == keys.max(), "usd_per_gpu_hour"].min()
        assert table.loc[gpu, "usd_per_gpu_hour"] == expected, gpu


def test_tables_are_prepared_once_per_catalog():
    catalog = dataclasses.replace(CATALOG)  # a fresh copy: nothing prepared yet
    calls = []

    def build(c):
        calls.append(c)
        return {"n": len(c.gpu_prices)}

    assert catalog.prepared(build) == catalog.prepared(build) == {"n": len(CATALOG.gpu_prices)}
    assert len(calls) == 1
    price_gpus(rule=PriceRule(), catalog=catalog)
    table = catalog.prepared(pricing._gpu_table)
    price_gpus(["b200"], PriceRule("all_in_cost"), catalog)
    assert catalog.prepared(pricing._gpu_table) is table  # not rebuilt by a second query
    # A changed copy prepares its own: twice the prices, twice every price.
    doubled = dataclasses.replace(
        catalog,
        gpu_prices=catalog.gpu_prices.assign(usd_per_gpu_hour=lambda t: 2 * t.usd_per_gpu_hour),
    )
    assert price_gpus(["b200"], PriceRule("all_in_cost"), doubled)["usd_per_gpu_hour"][0] == 3.90


def test_the_sheet_at_a_time_of_day():
    # DeepSeek-V3 in 2025-03: $1.10 per million output tokens at peak (the 2025-02-08
    # price), $0.55 off-peak (16:30-00:30 UTC, from 2025-02-26): one provider, two prices.
    for when, usd in (("peak", 1.10), ("off_peak", 0.55), ("17:00", 0.55), ("10:00", 1.10)):
        sheet = price_sheet("deepseek-v3", "2025-03", time_of_day=when).set_index("provider")
        assert sheet.loc["DeepSeek", "usd_per_million_output"] == usd, when
        assert list(sheet.index).count("DeepSeek") == 1
    # From 2025-09-05 DeepSeek priced V3.1 the same all day: off-peak is the all-day price.
    late = price_sheet("deepseek-v3", "2025-10", time_of_day="off_peak").set_index("provider")
    assert late.loc["DeepSeek", ["usd_per_million_output", "time_of_day"]].tolist() == [
        1.68,
        "all_day",
    ]
    # 2026: peak 01:00-04:00 and 06:00-10:00 UTC on weekdays; 00:30 is off-peak then.
    pro = {t: price_sheet("deepseek-v4-pro", "today", time_of_day=t) for t in ("03:30", "00:30")}
    assert pro["03:30"].set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 3.96
    assert pro["00:30"].set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 1.98
    with pytest.raises(ValueError, match="time_of_day must be one of peak, off_peak"):
        price_sheet("deepseek-v3", "2025-03", time_of_day="25:00")


def test_a_withdrawn_offer_leaves_the_sheet():
    # DeepSeek stopped selling R1 on its API on 2025-09-05 (deepseek-reasoner moved to V3.1).
    before = price_sheet("deepseek-r1", "2025-08")
    after = price_sheet("deepseek-r1", "2025-10")
    assert "DeepSeek" in set(before["provider"]) and "DeepSeek" not in set(after["provider"])
    assert after["usd_per_million_output"].notna().all()
    assert pricing.model_price_dates("deepseek-r1")[0] == "2025-01-20"
    assert pricing.model_price_dates("no-such-model") == []


def test_kept_price_tables_are_the_computed_ones_and_not_shared():
    catalog = dataclasses.replace(costmodel.load_catalog())  # nothing kept yet
    rule = PriceRule("on_demand", "2026-05")
    first = price_gpus(["h100-sxm", "b200"], rule, catalog)
    first.loc[:, "usd_per_gpu_hour"] = -1.0  # a caller's change stays its own
    again = price_gpus(["h100-sxm", "b200"], rule, catalog)
    fresh = pricing._price_gpus(("h100-sxm", "b200"), rule, catalog, None)
    pd.testing.assert_frame_equal(again, fresh)
    assert (again["usd_per_gpu_hour"] > 0).all()
    # the key holds the GPUs, the rule and the dates: another rule, another table
    assert (
        price_gpus(["h100-sxm"], rule.replace(as_of="2024"), catalog)["usd_per_gpu_hour"][0] == 3.99
    )


def test_withdrawn_offers_name_the_provider_and_the_day():
    # DeepSeek stopped selling R1 on 2025-09-05 (its newest R1 row then has no price);
    # before that day it sold it, and a model nobody withdrew has none.
    assert pricing.withdrawn_offers("deepseek-r1", "2025-10") == [("DeepSeek", "2025-09-05")]
    assert pricing.withdrawn_offers("deepseek-r1", "2025-08") == []
    assert pricing.withdrawn_offers("mixtral-8x7b", "today") == []
    assert pricing.withdrawn_offers("no-such-model", "today") == []


def test_withdrawn_offers_are_the_providers_the_sheet_leaves_out():
    # For every model and date: a provider is withdrawn exactly when its newest row on or
    # before the date has no price; the sheet holds none of them.
    prices = CATALOG.provider_prices
    for model in prices["model"].unique():
        for as_of in pricing.price_dates(CATALOG):
            gone = pricing.withdrawn_offers(model, as_of, CATALOG)
            rows = prices[prices["model"] == model]
            rows = rows[pricing.day_numbers(rows["date"]) <= pricing.day_numbers([as_of])[0]]
            days = pricing.day_numbers(rows["date"])
            newest = rows.iloc[np.argsort(days, kind="stable")].groupby("provider").tail(1)
            expected = set(newest.loc[newest["usd_per_million_output"].isna(), "provider"])
            assert {provider for provider, _ in gone} == expected, (model, as_of)
            sheet = price_sheet(model, as_of, CATALOG)
            assert not expected & set(sheet["provider"]), (model, as_of)


def test_kept_sheets_and_dates_are_not_shared():
    catalog = dataclasses.replace(costmodel.load_catalog())  # nothing kept yet
    first = price_sheet("mixtral-8x7b", "2023-12", catalog)
    first.loc[:, "usd_per_million_output"] = -1.0  # a caller's change stays its own
    again = price_sheet("mixtral-8x7b", "2023-12", catalog)
    fresh = pricing._price_sheet("mixtral-8x7b", "2023-12", catalog, None, "peak")
    pd.testing.assert_frame_equal(again, fresh)
    assert (again["usd_per_million_output"] >= 0).all()
    dates = pricing.price_dates(catalog)
    dates.append("9999")
    assert "9999" not in pricing.price_dates(catalog)
    r1 = pricing.model_price_dates("deepseek-r1", catalog)
    r1.clear()
    assert pricing.model_price_dates("deepseek-r1", catalog)[0] == "2025-01-20"
