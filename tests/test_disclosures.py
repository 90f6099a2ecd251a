"""costmodel.analyses.disclosures: DeepSeek's published economics redone by hand."""

import pytest

import costmodel
from costmodel import presets
from costmodel.analyses import disclosures as d

THEIRS = d.restate()
#: A stand-in for the preset's setup that every catalog can evaluate: Mixtral (8 experts)
#: by tensor parallelism on one H800 node.
TENSOR_PARALLEL = {"expert_parallel": False, "redundant_experts": 0}


def test_deepseek_gpus_and_nodes_by_hand():
    # $87,072 a day / 24 h / $2 per GPU-hour = 1,814 GPUs = 226.75 nodes of 8 (the average
    # occupancy DeepSeek states).
    assert THEIRS["gpus"] == pytest.approx(1814.0)
    assert THEIRS["nodes"] == pytest.approx(226.75)
    # The day's tokens at the stated throughputs: 608e9 / (86,400 x 73,700) = 95.48 prefill
    # nodes and 168e9 / (86,400 x 14,800) = 131.38 decode nodes: 226.86, within 0.05 % of
    # the nodes paid for, so the throughputs are averages over the occupied nodes.
    assert THEIRS["prefill_nodes"] == pytest.approx(608e9 / 86_400 / 73_700)
    assert THEIRS["prefill_nodes"] == pytest.approx(95.48, abs=0.005)
    assert THEIRS["decode_nodes"] == pytest.approx(131.38, abs=0.005)
    assert THEIRS["nodes_from_throughput"] / THEIRS["nodes"] == pytest.approx(1.0005, abs=1e-4)


def test_deepseek_revenue_from_the_catalogs_r1_prices():
    # The catalog's DeepSeek-R1 row (2025-01-20): $0.55 input, $0.14 cached, $2.19 output.
    assert (
        THEIRS["usd_per_million_input"],
        THEIRS["usd_per_million_cached_input"],
        THEIRS["usd_per_million_output"],
        THEIRS["price_date"],
    ) == (0.55, 0.14, 2.19, "2025-01-20")
    # 342e9 of the 608e9 input tokens hit the cache (56.25 %, stated as 56.3 %):
    # (266e9 x 0.55 + 342e9 x 0.14 + 168e9 x 2.19) / 1e6 = 146,300 + 47,880 + 367,920
    # = $562,100 against their $562,027 (rounded token counts): 1.00013x.
    assert THEIRS["cached_share"] == pytest.approx(0.5625)
    assert THEIRS["revenue_usd_per_day"] == pytest.approx(562_100.0)
    assert THEIRS["revenue_over_disclosed"] == pytest.approx(562_100 / 562_027)
    # Cost-profit ratio: (562,027 - 87,072) / 87,072 = 545.5 % (their "545%").
    assert THEIRS["disclosed_cost_profit_ratio_pct"] == pytest.approx(545.47, abs=0.01)
    assert THEIRS["cost_profit_ratio_pct"] == pytest.approx(545.56, abs=0.01)


def test_deepseek_cost_per_million_tokens_by_hand():
    # A node: 8 x $2 = $16 an hour. Decode: 16 / 3,600 / 14,800 x 1e6 = $0.3003 per million
    # output tokens; prefill: 16 / 3,600 / 73,700 x 1e6 = $0.06030 per million input tokens
    # (cache hits included); the day: 87,072 / (608e3 + 168e3) million tokens = $0.1122.
    assert THEIRS["usd_per_million_output_tokens"] == pytest.approx(0.3003, abs=1e-4)
    assert THEIRS["usd_per_million_input_tokens"] == pytest.approx(0.06030, abs=1e-5)
    assert THEIRS["usd_per_million_tokens"] == pytest.approx(0.1122, abs=1e-4)
    assert d.usd_per_million_tokens(14_800, 8, 2.0) == pytest.approx(16 / 3600 / 14_800 * 1e6)


def test_workload_and_the_preset_follow_the_disclosure():
    # r = 608 / 168 = 3.619; O = 4,989 / (r + 0.5) = 1,211.2; P = r O = 4,383.4;
    # sequences per GPU 14,800 / 21 / 8 = 88.1, x 144 GPUs = 12,686.
    w = d.workload()
    assert w["input_over_output"] == pytest.approx(3.619, abs=1e-3)
    assert (w["output_tokens"], w["prompt_tokens"]) == pytest.approx((1211.2, 4383.4), abs=0.05)
    assert w["prompt_tokens"] + w["output_tokens"] / 2 == pytest.approx(4989)
    preset = presets.DEEPSEEK_2025
    assert preset["prompt_tokens"] == round(w["prompt_tokens"])
    assert preset["output_tokens"] == round(w["output_tokens"])
    assert preset["batch_size"] == round(w["sequences_per_gpu"] * preset["n_gpus"])
    row = d.load_disclosures().loc[d.DEEPSEEK]
    assert preset["prefix_cache_hit_rate"] == row["prefix_cache_hit_rate"] == 0.563
    assert (preset["gpu"], preset["usd_per_gpu_hour"]) == (row["gpu"], row["usd_per_gpu_hour"])
    assert preset["weight_format"] == "fp8" and preset["model"] == "deepseek-r1"
    # DeepSeek's decode unit: EP144 (18 nodes of 8) with 32 redundant experts.
    assert (preset["n_gpus"], preset["expert_parallel"], preset["redundant_experts"]) == (
        144,
        True,
        32,
    )


def test_model_side_uses_the_disclosures_formulas():
    # A stand-in for the same setup that every catalog has: Mixtral on 8 H800s with the
    # preset's lengths, hits and price. The formulas must agree with the evaluation's own
    # dollars: decode node time per million output tokens is usd_per_million_output_tokens
    # at utilisation 1, and prefill per million prompt tokens (hits included) is
    # usd_per_million_input_tokens, or usd_per_million_uncached_input_tokens x prefilled / P.
    scenario = presets.DEEPSEEK_2025.apply(costmodel.Scenario()).replace(
        model="mixtral-8x7b", n_gpus=8, batch_size=256, **TENSOR_PARALLEL
    )
    ours = d.model_side(scenario)
    out = ours["evaluation"]
    assert ours["fits"] and ours["batch_size"] == 256
    assert ours["decode_tokens_per_s_per_node"] == pytest.approx(256e3 / out["decode_step_ms"])
    assert ours["usd_per_million_output_tokens"] == pytest.approx(
        out["usd_per_million_output_tokens"], rel=1e-12
    )
    assert ours["usd_per_million_input_tokens"] == pytest.approx(
        out["usd_per_million_input_tokens"], rel=1e-12
    )
    assert ours["usd_per_million_input_tokens"] == pytest.approx(
        out["usd_per_million_uncached_input_tokens"] * out["prefilled_tokens"] / 4383, rel=1e-12
    )
    # Their day at the model's rates: 608e9 / 86,400 / prefill rate + 168e9 / 86,400 /
    # decode rate nodes, each 8 x 24 x $2 = $384 a day.
    nodes = 608e9 / 86_400 / ours["prefill_tokens_per_s_per_node"]
    nodes += 168e9 / 86_400 / ours["decode_tokens_per_s_per_node"]
    assert ours["usd_per_day"] == pytest.approx(nodes * 384)


def test_model_side_takes_the_largest_batch_that_fits():
    scenario = presets.DEEPSEEK_2025.apply(costmodel.Scenario()).replace(
        model="mixtral-8x7b", n_gpus=8, **TENSOR_PARALLEL
    )
    full = costmodel.evaluate(scenario)
    assert not full["fits"]  # 12,686 sequences of 5,594 tokens do not fit on 8 H800s
    ours = d.model_side(scenario)
    assert ours["fits"] and ours["batch_size"] == int(full["max_batch_size"]) < 1410


def test_missing_ids_are_named():
    scenario = costmodel.Scenario(model="no-such-model")
    with pytest.raises(ValueError, match="model 'no-such-model' is not in the catalog"):
        d.model_side(scenario)
    with pytest.raises(ValueError, match="disclosure must be one of deepseek-2025-02"):
        d.restate("nobody")


def test_run_puts_both_sides_in_one_table():
    scenario = presets.DEEPSEEK_2025.apply(costmodel.Scenario()).replace(
        model="mixtral-8x7b", n_gpus=8, batch_size=256, **TENSOR_PARALLEL
    )
    result = d.run(scenario)
    table = result.comparison.set_index("metric")
    assert list(result.comparison.columns) == list(d.COMPARISON_COLUMNS)
    assert table.loc["decode throughput per node", "disclosed"] == 14_800
    assert table.loc["cost of the day", "disclosed"] == 87_072
    assert table.loc["decode speed per user (decode steps only)", "disclosed"] == 21
    speed = table.loc["decode speed per user (decode steps only)", "model"]
    out = result.model["evaluation"]
    assert speed == pytest.approx(1e3 / out["decode_step_ms"])  # no speculation: 1 per step
    ratio = result.model["decode_tokens_per_s_per_node"] / 14_800
    assert table.loc["decode throughput per node", "model_over_disclosed"] == pytest.approx(ratio)
    assert "1,814 H800 SXM 80GB GPUs (226.75 nodes of 8)" in result.text
    assert "revenue is $562,100 a day (theirs $562,027)" in result.text
    assert f"({ratio:.2f}x and" in result.text
