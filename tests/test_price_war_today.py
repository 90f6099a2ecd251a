"""The price war for any model with prices, at any date or "today", on today's GPUs."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel.analyses import price_war as pw
from costmodel.pricing import PriceRule, price_gpus

CATALOG = costmodel.load_catalog()
TODAY = pw.run(costmodel.Scenario(prefix_cache_hit_rate=0.5), pw.Options(price_date="today"))
#: The newest provider prices in the catalog: LiteLLM's price file of 2026-11-20.
NEWEST = "2026-11-20"


def test_price_date_defaults_and_today():
    # Mixtral 8x7B is priced from 2023-12 on: the default is the seed's sheet, "today" its
    # newest date (LiteLLM's file of 2026-11-20).
    assert pw.resolved_price_date("mixtral-8x7b", None, CATALOG) == "2023-12"
    assert pw.resolved_price_date("mixtral-8x7b", "today", CATALOG) == NEWEST
    assert pw.resolved_price_date("mixtral-8x7b", "2024-03", CATALOG) == "2024-03"
    # Mixtral 8x22B's prices begin after 2023-12: the default is its today.
    assert pw.resolved_price_date("mixtral-8x22b", None, CATALOG) == NEWEST
    assert TODAY.price_date == NEWEST and TODAY.price_dates[-1] == "today"
    assert TODAY.price_date_note == ""


def test_the_date_follows_the_model():
    # DeepSeek-R1's prices begin 2025-01: asked for 2023-12, the sheet is its newest and
    # the result says so (it used to strand the user at 2023-12 with an empty sheet).
    scenario = costmodel.Scenario(model="deepseek-r1", n_gpus=8, weight_format=None)
    result = pw.run(scenario, pw.Options(price_date="2023-12"))
    assert result.price_date == NEWEST and len(result.sheet) > 5
    assert result.price_date_note == (
        "No provider priced DeepSeek-R1 on or before 2023-12 (its prices begin 2025-01-20): "
        f"shown at its newest prices, of {NEWEST}."
    )
    assert result.cheapest_setup is not None


def test_market_setups_are_each_gpus_cheapest_one_meeting_the_target():
    market = TODAY.market.set_index("gpu")
    assert list(market.index) == list(pw.MARKET_GPUS)
    assert (market["note"] == "").all()
    # SemiAnalysis's all-in costs of 2026-04: B200 $1.95, MI355X $1.48; B300's $2.34 is
    # its placeholder (1.2x B200), and the table says so.
    assert market.loc["b200", "usd_per_gpu_hour"] == 1.95
    assert market.loc["mi355x", "usd_per_gpu_hour"] == 1.48
    assert market.loc["b300", "price_basis"] == "placeholder"
    scenario = costmodel.Scenario(prefix_cache_hit_rate=0.5)
    for gpu, row in market.iterrows():
        # Every size of up to 8 GPUs, format and batch of the grid: the chosen one fits,
        # gives every user 20 tokens/s, and none that does is cheaper per request.
        grid = costmodel.sweep(
            scenario.replace(gpu=gpu, usd_per_gpu_hour=row["usd_per_gpu_hour"]),
            n_gpus=[1, 2, 4, 8],
            weight_format=["bf16", "fp8"],
            batch_size=costmodel.batch_grid(),
        )
        ok = grid[grid["fits"] & (grid["tokens_per_s_per_user"] >= 20.0)]
        assert row["usd_per_request"] == pytest.approx(ok["usd_per_request"].min())
        assert row["tokens_per_s_per_user"] >= 20.0
        label = next(k for k, s in TODAY.setups.items() if k.startswith("Market") and s.gpu == gpu)
        setup = TODAY.setups[label]
        assert (setup.n_gpus, setup.weight_format, setup.batch_size) == (
            row["n_gpus"],
            row["weight_format"],
            row["batch_size"],
        )
        assert costmodel.evaluate(setup)["usd_per_request"] == pytest.approx(row["usd_per_request"])
    # The seed's two setups stay for Mixtral, first, at the sidebar's batch.
    assert list(TODAY.setups)[:2] == ["Seed: 2x H100 SXM @ $1.95", "2x A100 80GB @ $1.89"]
    assert TODAY.setups["Seed: 2x H100 SXM @ $1.95"].batch_size == 32


def test_the_operating_point_is_chosen_and_named():
    costs = TODAY.costs.set_index("setup")
    meeting = costs[costs["fits"] & costs["meets_target"]]
    assert TODAY.cheapest_setup == meeting["usd_per_request"].idxmin()
    best = meeting.loc[TODAY.cheapest_setup]
    text = TODAY.verdict_text
    assert text.startswith(f"Who makes money serving Mixtral 8x7B at the prices of {NEWEST}?")
    assert "Decided on the cheapest setup that gives every user at least 20 tokens/s" in text
    assert (
        f"at batch {int(best['batch_size'])} ({best['tokens_per_s_per_user']:,.0f} tokens" in text
    )
    assert f"${best['usd_per_request'] * 1000:.3f} per 1,000 requests of 512 + 256 tokens" in text
    rows = TODAY.margins[TODAY.margins["setup"] == TODAY.cheapest_setup]
    rows = rows[rows["model"] == "mixtral-8x7b"]  # OpenAI's GPT-3.5 bar is not a Mixtral seller
    for row in rows.itertuples():
        assert f"{row.provider} ({row.margin_pct:+.0f}%)" in text
    # At the sidebar's batch instead, every setup is at batch 32, and the text says so.
    at_batch = pw.run(
        costmodel.Scenario(prefix_cache_hit_rate=0.5),
        pw.Options(price_date="today", operating_point="batch_size"),
    )
    assert set(at_batch.costs["batch_size"]) == {32}
    assert "every setup at the sidebar's batch" in at_batch.verdict_text
    # A tighter target can only raise the cost of the setup that decides.
    fast = pw.run(
        costmodel.Scenario(prefix_cache_hit_rate=0.5),
        pw.Options(price_date="today", min_tokens_per_s_per_user=60.0),
    )
    fast_cost = fast.costs.set_index("setup").loc[fast.cheapest_setup, "usd_per_request"]
    assert fast_cost >= best["usd_per_request"]


def test_cached_input_revenue_in_the_margins_by_hand():
    # A provider of Mixtral at $0.60 in / $0.15 cached / $1.20 out (2026-11-20), h = 0.5:
    # (256 x 0.60 + 256 x 0.15 + 256 x 1.20) / 1e6 = (153.6 + 38.4 + 307.2) / 1e6 = $499.2e-6.
    extra = pd.DataFrame(
        [["Cachy", "mixtral-8x7b", 0.60, 1.20, 0.15, NEWEST, "test", "", "all_day", ""]],
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
    result = pw.run(scenario, pw.Options(price_date="today", price_rule=PriceRule("on_demand")))
    assert result.priced_model == "mixtral-8x22b" and result.has_prices
    assert result.seed_setup is None and result.a100_setup is None
    assert set(result.sheet["model"]) == {"mixtral-8x22b"}  # no GPT-3.5 bar beside it
    assert result.c4_status == "not applicable"
    assert "C4 is about Mixtral 8x7B on the seed's setups" in result.c4_text
    assert any(label.startswith("Market") for label in result.setups)
    assert "Who makes money serving Mixtral 8x22B" in result.verdict_text


def test_gpus_without_a_price_of_the_tier_or_not_launched_are_named():
    on_demand = pw.run(
        options=pw.Options(price_date="today", price_rule=PriceRule("on_demand"))
    ).market.set_index("gpu")
    # No on-demand MI355X price anywhere (shared/reference/gpu-prices-2026.csv: "no dated
    # public on-demand rate found"): left out, not priced from another tier.
    assert on_demand.loc["mi355x", "note"] == f"no on_demand price dated on or before {NEWEST}"
    assert np.isnan(on_demand.loc["mi355x", "usd_per_gpu_hour"])
    # H100 on demand by 2026-11-20: RunPod $2.69 of 2026-05 (read as 2026-05-31) is newer
    # than Lambda's $2.99 and RunPod's $3.49 of 2026-05-18.
    assert on_demand.loc["h100-sxm", "usd_per_gpu_hour"] == 2.69
    seed = pw.run().market.set_index("gpu")
    assert seed.loc["b200", "note"] == "launched after 2023-12"
    assert np.isnan(seed.loc["b200", "usd_per_gpu_hour"])
    assert "Market GPUs left out: H100 SXM5 80GB, H200 SXM 141GB (no all_in_cost" in (
        pw.run().verdict_text
    )


def test_announced_gpus_only_when_asked():
    # Vera Rubin is in gpus.csv as announced: not a market GPU of today, unless asked.
    assert "vr200" not in CATALOG.gpus.index and "vr200" in CATALOG.announced_gpus.index
    with pytest.raises(ValueError, match="announced GPUs need include_announced"):
        pw.run(options=pw.Options(market_gpus=("h100-sxm", "vr200")))
    asked = pw.run(
        options=pw.Options(
            price_date="today", market_gpus=("h100-sxm", "vr200"), include_announced=True
        )
    ).market.set_index("gpu")
    # It has no rental price: named, never priced from another GPU.
    assert asked.loc["vr200", "note"] == f"no all_in_cost price dated on or before {NEWEST}"


def test_unknown_market_ids_and_bad_options_are_named():
    with pytest.raises(ValueError, match="market_gpus must hold only"):
        pw.run(options=pw.Options(market_gpus=("h100-sxm", "tpu-v5")))
    with pytest.raises(ValueError, match="price_rule must be a pricing.PriceRule"):
        pw.Options(price_rule="spot")
    with pytest.raises(ValueError, match="weight_formats must hold at least one"):
        pw.Options(weight_formats=())
    with pytest.raises(ValueError, match="time_of_day must be one of peak, off_peak or a UTC"):
        pw.Options(time_of_day="noon")
    with pytest.raises(ValueError, match="operating_point must be one of"):
        pw.Options(operating_point="cheapest")


def test_losers_break_even_batch_is_stated():
    seed = pw.run()
    rows = seed.margins[seed.margins["setup"] == seed.cheapest_setup].set_index("provider")
    assert rows.loc["Together", "verdict"] == "loses money"
    batch = rows.loc["Together", "break_even_batch_size"]
    assert batch == costmodel.break_even_batch_size(costmodel.Scenario(), 256 * 0.60 / 1e6)[0]
    assert f"losers would break even from batch {batch:.0f} (Together)" in seed.verdict_text


# --- November 2026: who makes money on today's models (issue 18 acceptance) ----------------


def _run(model: str, time_of_day: str = "peak", **options):
    scenario = costmodel.Scenario(model=model, n_gpus=8, weight_format=None)
    return pw.run(scenario, pw.Options(price_date="today", time_of_day=time_of_day, **options))


@pytest.mark.parametrize("model", ["deepseek-v4-flash", "glm-5.2", "gpt-oss-120b"])
def test_who_makes_money_on_todays_models_at_november_2026_prices(model):
    result = _run(model)
    assert result.price_date == NEWEST
    # Priced by many providers (LiteLLM 1.110.2 prices each at 20 or more), each margin on
    # the setup that decides is in the text.
    assert len(result.sheet) >= 20
    name = CATALOG.models.loc[model, "name"]
    assert result.verdict_text.startswith(f"Who makes money serving {name} at the prices of")
    rows = result.margins[result.margins["setup"] == result.cheapest_setup]
    assert len(rows) == len(result.sheet)
    assert set(rows["verdict"]) <= set(pw.VERDICTS)
    for row in rows.itertuples():
        assert f"{row.provider} (" in result.verdict_text
    # The setup that decides gives every user 20 tokens/s and is costed by evaluate.
    best = result.costs.set_index("setup").loc[result.cheapest_setup]
    assert best["meets_target"] and best["fits"]
    again = costmodel.evaluate(result.setups[result.cheapest_setup])
    assert again["usd_per_request"] == pytest.approx(best["usd_per_request"])


def test_deepseek_peak_and_off_peak_are_two_prices_of_one_provider():
    # DeepSeek-V4.1-Flash, DeepSeek's flash model by 2026-11: peak $0.30 in / $0.006 cached
    # / $1.20 out, off-peak half that ($0.15 / $0.003 / $0.60), one provider "DeepSeek".
    peak, off = _run("deepseek-v4.1-flash", "peak"), _run("deepseek-v4.1-flash", "off_peak")
    by_hand = {}
    for result, (usd_in, usd_out) in ((peak, (0.30, 1.20)), (off, (0.15, 0.60))):
        sheet = result.sheet.set_index("provider")
        assert list(sheet.index).count("DeepSeek") == 1
        assert tuple(
            sheet.loc["DeepSeek", ["usd_per_million_input", "usd_per_million_output"]]
        ) == (
            usd_in,
            usd_out,
        )
        # Revenue of 512 + 256 tokens, no cache hits: (512 in + 256 out) / 1e6.
        row = result.margins[
            (result.margins["setup"] == result.cheapest_setup)
            & (result.margins["provider"] == "DeepSeek")
        ].iloc[0]
        by_hand[result.time_of_day] = (512 * usd_in + 256 * usd_out) / 1e6
        assert row["revenue_per_request_usd"] == pytest.approx(by_hand[result.time_of_day])
    assert by_hand["off_peak"] == pytest.approx(by_hand["peak"] / 2)
    assert "(off-peak prices)" in off.verdict_text and "(off-peak" not in peak.verdict_text
    # The sheet says who bills by time of day, and which price it holds.
    assert off.sheet_note.startswith("DeepSeek, Tencent Cloud bill DeepSeek-V4.1-Flash by time")
    assert off.sheet_note.endswith("the sheet holds their off-peak prices.")
    at_three = _run("deepseek-v4.1-flash", "03:00")
    assert "DeepSeek (peak)" in at_three.sheet_note and "03:00 UTC" in at_three.verdict_text
    # A UTC time picks by DeepSeek's peak hours (01:00-04:00 and 06:00-10:00 on weekdays).
    assert _run("deepseek-v4.1-flash", "03:00").sheet.equals(peak.sheet)
    assert _run("deepseek-v4.1-flash", "05:00").sheet.equals(off.sheet)
    # DeepSeek-V4-Pro likewise: $3.96 peak, $1.98 off-peak per million output tokens.
    pro = {t: _run("deepseek-v4-pro", t).sheet.set_index("provider") for t in ("peak", "off_peak")}
    assert pro["peak"].loc["DeepSeek", "usd_per_million_output"] == 3.96
    assert pro["off_peak"].loc["DeepSeek", "usd_per_million_output"] == 1.98


def test_deepseek_v4_flash_own_price_between_its_rise_and_its_retirement():
    # On 2026-08-16 DeepSeek moved V4-Flash to peak ($1.32 out) and off-peak ($0.66) from a
    # flat $0.28; its legacy V4-Flash retired about 2026-09-10, so by 2026-11 DeepSeek no
    # longer sells it (the price war names the other providers only).
    late_august = {
        t: costmodel.pricing.price_sheet("deepseek-v4-flash", "2026-08-31", time_of_day=t)
        for t in ("peak", "off_peak")
    }
    assert (
        late_august["peak"].set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 1.32
    )
    assert (
        late_august["off_peak"].set_index("provider").loc["DeepSeek", "usd_per_million_output"]
        == 0.66
    )
    assert "DeepSeek" not in set(_run("deepseek-v4-flash").sheet["provider"])
    # ... and the sheet says so; off-peak changes nothing on it, and it says that too.
    late = _run("deepseek-v4-flash", "off_peak")
    assert late.sheet.equals(_run("deepseek-v4-flash").sheet)
    assert late.sheet_note == (
        "No provider on this sheet bills DeepSeek-V4-Flash by time of day: peak and off-peak "
        "give the same prices. Withdrawn by 2026-11-20: DeepSeek (on 2026-09-10); it is not "
        "on the sheet."
    )


def test_the_disclosure_and_the_price_war_say_what_differs():
    # DeepSeek's own 545 % (profit over cost) is a margin of 5.45 / 6.45 = 84.5 % of
    # revenue; the price war's margin for DeepSeek is on another setup: the text names
    # the parallelism, batch per GPU, prefix-cache hits, GPU price and prices compared.
    result = _run("deepseek-v3.2")
    text = result.disclosure_text
    assert "cost-profit ratio of 545%" in text and "84.5% of revenue" in text
    assert "144-GPU expert-parallel units at about 88 sequences per GPU" in text
    assert "56.3% of their prompt tokens hit the prefix cache, here 0.0%" in text
    assert "$2.00 per H800 SXM 80GB-hour" in text
    mine = result.margins[
        (result.margins["setup"] == result.cheapest_setup)
        & (result.margins["provider"] == "DeepSeek")
    ].iloc[0]
    assert f"DeepSeek at {mine['margin_pct']:+.0f}% of revenue" in text
    # No provider with a disclosure on the sheet: no such text.
    assert _run("glm-5.2").disclosure_text == ""


def test_no_sentence_shows_inf_or_nan_at_a_near_zero_price():
    # A price of 1e-320 $/M: revenue ~1e-327 $, margin (r - c) / r overflows to -inf.
    tiny = pw.run(options=pw.Options(provider_prices=(("Mistral", 1e-320, 1e-320),)))
    mistral = tiny.margins[
        (tiny.margins["provider"] == "Mistral") & (tiny.margins["setup"] == tiny.seed_setup)
    ]
    assert not np.isfinite(mistral["margin_pct"].iloc[0]) or mistral["margin_pct"].iloc[0] < -1e4
    for text in (tiny.verdict_text, tiny.c4_text, tiny.c6_text, tiny.disclosure_text):
        assert not re.search(r"\binf|\bnan\b", text.lower()), text
    assert "Mistral (a loss over 100x revenue)" in tiny.verdict_text
    assert "the margin is a loss of over 100x the revenue" in tiny.c4_text
    # A GPU priced at $1e-320 costs nothing in words either.
    free_gpu = pw.run(costmodel.Scenario(usd_per_gpu_hour=1e-300))
    assert not re.search(r"\binf|\bnan\b", free_gpu.verdict_text.lower())


def test_margin_words_by_hand():
    # Revenue $1.00, cost $0.31: 100 x (1 - 0.31) = +69 %.
    assert pw.margin_words(1.0, 100 * (1 - 0.31 / 1.0)) == "+69% of revenue"
    assert pw.margin_words(1.0, 69.0, short=True) == "+69%"
    assert pw.margin_words(0.0, np.nan) == "nothing: the price is free"
    assert pw.margin_words(1e-320, -np.inf, short=True) == "a loss over 100x revenue"
    assert pw.margin_words(1.0, -9_999.0, short=True) == "-9999%"
    assert pw.margin_words(1.0, -10_001.0) == "a loss of over 100x the revenue"


def test_market_gpu_prices_are_the_rules_as_of_the_sheets_date():
    # The market's rule is the page's tier as of the sheet's date: one price_gpus call.
    rule = TODAY.price_rule
    assert (rule.tier, rule.as_of) == ("all_in_cost", NEWEST)
    table = price_gpus(list(pw.MARKET_GPUS), rule)
    market = TODAY.market.set_index("gpu")
    assert market["usd_per_gpu_hour"].tolist() == table["usd_per_gpu_hour"].tolist()


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.floats(0.0, 50.0), min_size=2, max_size=6, unique=True),
    st.floats(0.0, 1.0),
)
def test_the_margin_rises_with_the_price(prices, hit_rate):
    # One setup, providers differing only in their output price: a dearer price never has
    # a lower margin (in $ per request, and in % of revenue where revenue is positive).
    scenario = costmodel.Scenario(prefix_cache_hit_rate=hit_rate)
    sheet = pd.DataFrame(
        {
            "provider": [f"P{i}" for i in range(len(prices))],
            "usd_per_million_input": 0.2,
            "usd_per_million_output": sorted(prices),
            "usd_per_million_cached_input": 0.05,
        }
    )
    margins = costmodel.provider_margins(scenario, sheet)
    # Margin per million requests = P in + O out - 1e6 cost: a step of the output price
    # moves it by O = 256 tokens times the step.
    steps = np.diff(margins["margin_usd_per_million_requests"])
    assert steps == pytest.approx(256 * np.diff(sorted(prices)), abs=1e-9)
    assert np.all(steps >= 0)
    assert np.all(np.diff(margins["margin_pct"].dropna()) >= -1e-9)
    # The words follow the numbers: never 'inf' or 'nan'.
    for row in margins.itertuples():
        words = pw.margin_words(row.revenue_per_request_usd, row.margin_pct)
        assert not re.search(r"\binf|\bnan\b", words)


def test_deepseeks_own_economics_beside_a_price_list_of_the_users_own():
    # A LiteLLM file's prices (DeepSeek's V4-Flash at $1.20 peak) hold no DeepSeek price of
    # 2025: the disclosure is restated at the project's catalog's, the margin at the file's.
    data = (Path(__file__).parent / "data" / "litellm-model-prices-sample.json").read_bytes()
    catalog = costmodel.load_catalog()
    prices = costmodel.price_files.read_litellm(data, "2026-12-07", catalog).prices
    mine = costmodel.price_files.use_prices(catalog, prices)
    scenario = costmodel.Scenario(model="deepseek-v4-flash", n_gpus=8, weight_format=None)
    result = pw.run(scenario, pw.Options(price_date="today"), mine)
    assert result.price_date == "2026-12-07"
    assert result.sheet.set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 1.20
    assert result.disclosure_text.startswith(
        "DeepSeek's own published economics (2025-03-01, deepseek-v3 and deepseek-r1) give a "
        "cost-profit ratio of 545%"
    )
    assert "here deepseek-v4-flash's of 2026-12-07" in result.disclosure_text
