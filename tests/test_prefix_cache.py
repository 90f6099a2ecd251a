"""prefix_cache_hit_rate: cached prompt tokens skip prefill and are billed at the cached price."""

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel import evaluation, presets
from costmodel.economics import billed_cached_input_price, revenue_per_request
from costmodel.margins import provider_margins

CATALOG = costmodel.load_catalog()
MODELS = CATALOG.models
MIXTRAL = MODELS.loc["mixtral-8x7b"]


@pytest.mark.parametrize(
    "h, prefilled, kv_read, score_flops",
    [
        # Mixtral: L = 32, H = 32, d_head = 128, so 2 L H d = 262,144; B = 32, P = 512.
        # h = 0: all 512 tokens run, no cached KV is read, scores 262,144 x 512^2 = 6.872e10
        # per prompt: exactly the prefill before the field existed.
        (0.0, 512, 0, 262_144 * 512**2),
        # h = 0.5: 256 tokens run and attend to the 256 cached ones: 262,144 x (512^2 - 256^2)
        # = 262,144 x 196,608 = 5.154e10 per prompt; the cached 256 tokens' KV is read.
        (0.5, 256, 256, 262_144 * (512**2 - 256**2)),
        # h = 1: the last token still runs (its logits give the first output token).
        (1.0, 1, 511, 262_144 * (512**2 - 511**2)),
    ],
)
def test_prefill_runs_only_the_uncached_tokens(monkeypatch, h, prefilled, kv_read, score_flops):
    calls = []

    def spy(x, sequences, **work):
        calls.append(work)
        return {"total_ms": 1.0}

    monkeypatch.setattr(evaluation, "_forward", spy)
    scenario = costmodel.Scenario(prefix_cache_hit_rate=h)
    c, _ = evaluation.grid(scenario, CATALOG, {})
    out = evaluation.prefill(evaluation.lookup(c, CATALOG))
    batch, one = calls
    assert out["prefilled_tokens"] == prefilled
    assert batch["tokens"] == 32 * prefilled and one["tokens"] == prefilled
    # The cached prefix's KV is read once: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 B
    # = 131,072 bytes per token.
    assert batch["kv_bytes_read"] == 32 * kv_read * 131_072
    assert one["kv_bytes_read"] == kv_read * 131_072
    assert one["attention_flops"] == pytest.approx(score_flops, rel=1e-12)
    assert batch["attention_flops"] == pytest.approx(32 * score_flops, rel=1e-12)
    assert (batch["logit_tokens"], one["logit_tokens"]) == (32, 1.0)


def test_cached_prefill_cost_by_hand_at_half_hits():
    # Ideal hardware on one H100 (989.4 bf16 TFLOP/s, no all-reduce, no overhead), batch 64
    # of 4,096-token prompts, half of each cached: 64 x 2,048 = 131,072 tokens run.
    # Mixtral's active weights per token: attention 1,342,177,280 + router 1,048,576 +
    # experts 45,097,156,608 x 2 / 8 = 12,617,515,008.
    # FLOPs: 2 x 131,072 x 12,617,515,008 = 3.30759e15; logits 2 x 64 x 131,072,000 =
    # 1.678e10; scores 262,144 x (4,096^2 - 2,048^2) x 64 = 2.11106e14; total 3.51871e15,
    # over 989.4e12 FLOP/s = 3,556.4 ms (compute-bound: the weights take ~38 ms to read).
    # The expert GEMMs waste half a 16-row tile each (matmul.expected_matrix_efficiency):
    # 131,072 x 2 / 8 = 32,768 tokens per expert fill 32,768 / 32,776 of their tiles, so
    # the experts' 2.95574e15 FLOPs take 2,987.4 ms x 8 / 32,768 = 0.73 ms more: 3,557.2 ms.
    # The experts' top-k combine (step.moe_combine_bytes) writes and reads back 131,072 x 2
    # rows of 4,096 values, 4 B each, in 32 layers: 137.4 GB at 3.35 TB/s = 41.0 ms more,
    # 3,598.2 ms.
    scenario = presets.IDEAL_HARDWARE.apply(
        costmodel.Scenario(n_gpus=1, batch_size=64, prompt_tokens=4096, prefix_cache_hit_rate=0.5)
    )
    out = costmodel.evaluate(scenario)
    active = MIXTRAL.attention_params + MIXTRAL.router_params + MIXTRAL.expert_params * 2 / 8
    assert active == 12_617_515_008
    flops = 2 * 131_072 * active + 2 * 64 * MIXTRAL.lm_head_params
    flops += 262_144 * (4096**2 - 2048**2) * 64
    expert_flops = 2 * 131_072 * MIXTRAL.expert_params * 2 / 8
    flops += expert_flops * (32_776 / 32_768 - 1)
    combine = 131_072 * 2 * 4096 * 4 * 32
    assert out["prefill_ms"] == pytest.approx(
        (flops / 989.4e12 + combine / 3.35e12) * 1e3, rel=1e-9
    )
    assert out["prefill_ms"] == pytest.approx(3598.2, abs=0.1)
    # Cost per million tokens actually prefilled (uncached): 1 GPU x 3,598.2 ms / 3.6e6 /
    # 131,072 x 1e6 x $1.95 = $0.014870; per million prompt tokens, the cached half
    # included (what an input price is set against): over 262,144 tokens, $0.0074349.
    assert out["usd_per_million_uncached_input_tokens"] == pytest.approx(
        out["prefill_ms"] / 3.6e6 / 131_072 * 1e6 * 1.95, rel=1e-12
    )
    assert out["usd_per_million_uncached_input_tokens"] == pytest.approx(0.014870, abs=1e-6)
    assert out["usd_per_million_input_tokens"] == pytest.approx(0.0074349, abs=1e-6)
    # With hits the cost per prompt token falls; without them the two are one number.
    # Without hits the whole 262,144 tokens run: 2 x 262,144 x 12,617,515,008 + 1.678e10 +
    # 262,144 x 4,096^2 x 64 = 6.89669e15 FLOPs = 6,970.6 ms, and the expert tiles'
    # waste: 65,536 tokens per expert, 5,974.7 ms x 8 / 65,536 = 0.73 ms more: 6,971.3 ms;
    # and twice the combine, 82.1 ms: 7,053.4 ms; the hits save 49 %.
    full = costmodel.evaluate(scenario.replace(prefix_cache_hit_rate=0.0))
    assert full["prefill_ms"] == pytest.approx(7053.4, abs=0.1)
    assert full["usd_per_million_input_tokens"] == full["usd_per_million_uncached_input_tokens"]
    assert out["usd_per_million_input_tokens"] < full["usd_per_million_input_tokens"]
    # The KV cache still holds whole prompts, so memory does not change.
    assert full["kv_cache_gb"] == out["kv_cache_gb"]
    assert full["max_batch_size"] == out["max_batch_size"]


def test_revenue_with_cached_input_by_hand():
    # DeepSeek-R1 at DeepSeek (2025-01-20): $0.55 input, $0.14 cached, $2.19 output.
    # P = 1,000, h = 0.5, O = 100: (500 x 0.55 + 500 x 0.14 + 100 x 2.19) / 1e6
    # = (275 + 70 + 219) / 1e6 = $564e-6.
    assert revenue_per_request(1000, 100, 0.55, 2.19, 0.14, 0.5) == pytest.approx(564e-6)
    # No cached price published (NaN): cached tokens at the input price, (1,000 x 0.55 +
    # 219) / 1e6 = $769e-6, as at h = 0.
    assert revenue_per_request(1000, 100, 0.55, 2.19, np.nan, 0.5) == pytest.approx(769e-6)
    assert revenue_per_request(1000, 100, 0.55, 2.19) == pytest.approx(769e-6)
    assert list(billed_cached_input_price([0.55, 0.55], [0.14, np.nan])) == [0.14, 0.55]


def test_margins_bill_cached_tokens_and_say_where_no_cached_price_is_published():
    prices = pd.DataFrame(
        {
            "provider": ["A", "B"],
            "model": ["mixtral-8x7b"] * 2,
            "usd_per_million_input": [0.60, 0.60],
            "usd_per_million_output": [1.20, 1.20],
            "usd_per_million_cached_input": [0.15, np.nan],
        }
    )
    scenario = costmodel.Scenario(prefix_cache_hit_rate=0.5)
    table = provider_margins(scenario, prices).set_index("provider")
    # A: (256 x 0.60 + 256 x 0.15 + 256 x 1.20) / 1e6 = (153.6 + 38.4 + 307.2) / 1e6
    # = $499.2e-6; B bills its cached tokens at its input price: (512 x 0.60 + 307.2) / 1e6
    # = $614.4e-6.
    assert table["revenue_per_request_usd"].tolist() == pytest.approx([499.2e-6, 614.4e-6])
    assert table["cached_price_published"].tolist() == [True, False]
    assert table["usd_per_million_cached_input_billed"].tolist() == [0.15, 0.60]
    cost = costmodel.evaluate(scenario)["usd_per_request"]
    assert table.loc["A", "margin_pct"] == pytest.approx(100 * (1 - cost / 499.2e-6))
    # A sheet without the column: every row at its input price.
    plain = provider_margins(scenario, prices.drop(columns="usd_per_million_cached_input"))
    assert plain["revenue_per_request_usd"].tolist() == pytest.approx([614.4e-6] * 2)


def test_zero_hit_rate_leaves_every_output_as_the_default():
    default = costmodel.evaluate(costmodel.Scenario())
    explicit = costmodel.evaluate(costmodel.Scenario(prefix_cache_hit_rate=0.0))
    assert default == explicit
    assert default["prefilled_tokens"] == 512
    # The cost per million input tokens is still per prompt token: prefill over B x P.
    assert default["usd_per_million_input_tokens"] == pytest.approx(
        2 * default["prefill_ms"] / 3.6e6 / (32 * 512) * 1e6 * 1.95, rel=1e-12
    )


@pytest.mark.parametrize(
    "base",
    [
        costmodel.Scenario(),
        costmodel.Scenario(batch_size=1, prompt_tokens=8192),
        costmodel.Scenario(gpu="a100-80gb-sxm", weight_format="fp8", prompt_tokens=2048),
        costmodel.Scenario(model="llama-3-70b", n_gpus=4, batch_size=128, speculative=True),
    ],
    ids=["seed", "long-prompt", "a100-fp8", "llama-speculative"],
)
def test_cost_falls_as_the_hit_rate_rises_and_is_never_negative(base):
    rates = np.linspace(0.0, 1.0, 21)
    rows = costmodel.sweep(base, prefix_cache_hit_rate=list(rates))
    for column in ("prefill_ms", "usd_per_request", "tpot_ms", "ttft_ms"):
        values = rows[column].to_numpy()
        assert np.all(values > 0), column
        # TTFT of one MoE prompt may rise a little as its last few dozen tokens are cached:
        # the same 8 experts are read for ~25 tokens as for ~50, and the MoE kernel's
        # efficiency falls with tokens per expert (step.py). Within 0.5 %; dense: never.
        moe = column == "ttft_ms" and MODELS.loc[base.model, "n_experts"] > 1
        rise = 5e-3 if moe else 1e-12
        assert np.all(values[1:] <= np.minimum.accumulate(values)[:-1] * (1 + rise)), column
    assert rows["usd_per_request"].iloc[-1] < rows["usd_per_request"].iloc[0]
    assert (rows["usd_per_million_input_tokens"] >= 0).all()
    # Decode and memory do not depend on the hit rate.
    for column in ("decode_step_ms", "kv_cache_gb", "usd_per_million_output_tokens"):
        assert rows[column].nunique() == 1, column
    # Revenue falls too where the cached price is below the input price.
    revenue = revenue_per_request(base.prompt_tokens, base.output_tokens, 0.55, 2.19, 0.14, rates)
    assert np.all(np.diff(revenue) < 0)


def test_hit_rate_range_is_checked():
    with pytest.raises(ValueError, match=r"prefix_cache_hit_rate must be a number in \[0.0, 1.0\]"):
        costmodel.Scenario(prefix_cache_hit_rate=1.2)
    assert costmodel.FIELDS["prefix_cache_hit_rate"].unit == "0-1"
