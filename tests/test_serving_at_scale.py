"""Serving at scale in the evaluation: MoE-only all-to-all, MLA under TP vs DP attention,
disaggregated prefill/decode, MTP drafts. Numbers by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costmodel import OUTPUT_COLUMNS, Scenario, evaluate, presets, step, sweep
from costmodel.imbalance import busiest_gpu_factor
from costmodel.overheads import scheduler_ms
from costmodel.speculative import acceptance_for_tokens_per_step, expected_tokens_per_step

# DeepSeek-V3 in FP8 with a BF16 cache on one HGX H200 node, 64 users of 1,000 + 1,000.
V3 = Scenario(
    model="deepseek-v3",
    gpu="h200-sxm",
    n_gpus=8,
    weight_format="fp8",
    kv_format="bf16",
    batch_size=64,
    prompt_tokens=1000,
    output_tokens=1000,
)
GOLDEN = Path(__file__).parent / "data" / "aggregated_sweep_before_disaggregation.csv"


def test_alltoall_counts_the_moe_layers_only():
    # 58 of DeepSeek-V3's 61 layers are MoE (3 dense first). EP 8, 64 tokens: per GPU
    # 8 tokens * 8 experts * 7,168 values, 7/8 remote = 401,408 values; FP8 dispatch with
    # scales 413,952 B + BF16 combine 802,816 B = 1,216,768 B at 900 / 2 * 0.8 = 360 GB/s
    # (= 360e3 B/us), times the busiest GPU, + 2 x 10 us latency per layer.
    r = evaluate(V3.replace(expert_parallel=True))
    f = float(busiest_gpu_factor(tokens=64, n_experts=256, experts_per_token=8, n_gpus=8))
    per_layer_us = 20 + 1_216_768 * f / 360e3
    assert r["alltoall_time_ms"] == pytest.approx(58 * per_layer_us * 1e-3)
    assert r["alltoall_time_ms"] < 61 * per_layer_us * 1e-3 * 0.96  # not all 61 layers
    assert r["alltoall_time_ms"] == pytest.approx(1.3904, abs=1e-3)


def test_mla_latent_is_copied_under_tp_and_held_once_under_dp_attention():
    # BF16 latent per token: 61 layers x (512 + 64) x 2 B = 70,272 B. Under TP 8 every GPU
    # holds every sequence's whole latent: 70,272 B per GPU per token (562,176 per replica);
    # under EP 8 with DP attention each sequence lives on one GPU: 70,272 per replica.
    tp = evaluate(V3)
    ep = evaluate(V3.replace(expert_parallel=True))
    tokens = 64 * 2000
    assert tp["kv_cache_gb"] == pytest.approx(tokens * 8 * 70_272 / 1e9)  # 71.96 GB
    assert ep["kv_cache_gb"] == pytest.approx(tokens * 70_272 / 1e9)  # 8.99 GB
    # Largest batch: 8 x 141 x 0.9 = 1,015.2 GB usable, 8 x 2 GB overhead.
    # TP: weights 672.99 GB -> (1015.2 - 672.99 - 16) / (2000 x 562,176 / 1e9) = 290.1.
    assert tp["weights_gb"] == pytest.approx(672.987, abs=1e-3)
    assert tp["max_batch_size"] == 290
    # EP: every GPU also holds the non-expert weights (7 more copies of 19.08 GB):
    # (1015.2 - 806.53 - 16) / (2000 x 70,272 / 1e9) = 1,370.9.
    assert ep["weights_gb"] == pytest.approx(806.534, abs=1e-3)
    assert ep["max_batch_size"] == 1370
    assert ep["max_batch_size"] > 4 * tp["max_batch_size"]


#: The Blackwell family's per-layer overhead when the golden table was written [us].
BLACKWELL_OVERHEAD_THEN_US = 5.0


#: The experts' top-k combine when the golden table was written: not counted [B].
MOE_COMBINE_BYTES_THEN = 0.0


def test_aggregated_numbers_unchanged_bit_for_bit(monkeypatch):
    # The golden table was written by main before disaggregation and MTP existed
    # (tests/data/aggregated_sweep_before_disaggregation.csv, floats at 17 digits), and
    # before the experts' top-k combine was priced (step.MOE_COMBINE_BYTES, issue 17): it
    # is evaluated without it.
    monkeypatch.setattr(step, "MOE_COMBINE_BYTES", MOE_COMBINE_BYTES_THEN)
    golden = pd.read_csv(GOLDEN)
    cases = golden.drop_duplicates(["model", "gpu", "expert_parallel"])
    frames = []
    for _, row in cases.iterrows():
        ns = sorted(golden.loc[golden["model"] == row["model"], "n_gpus"].unique())
        weight_format = None if row["model"] in ("deepseek-v3", "gpt-oss-120b") else "fp8"
        s = Scenario(
            model=row["model"],
            gpu=row["gpu"],
            weight_format=weight_format,
            expert_parallel=bool(row["expert_parallel"]),
            n_gpus=int(ns[-1]),
            # The golden rows were written when every family's per-layer overhead was a
            # copy of 5 us; the catalog's Blackwell value is 2.7 us since (issue 17).
            layer_overhead_us=BLACKWELL_OVERHEAD_THEN_US if row["gpu"] == "b200" else None,
        )
        frames.append(
            sweep(
                s,
                n_gpus=[int(n) for n in ns],
                batch_size=[1, 64, 512],
                prompt_tokens=[128, 2048],
                speculative=[False, True],
            )
        )
    now = pd.concat(frames, ignore_index=True)
    assert len(now) == len(golden)
    # Two changes on purpose since. The speed-up is what a user sees, the prefill share
    # included: from the golden row, plain = old speed-up * time per token. And a
    # speculative step also waits for the scheduler's CPU time (overheads.scheduler_ms: the
    # B sequences of one tensor-parallel scheduler, ceil(B / n) per rank under data-parallel
    # attention), which plain steps overlap: step' = step + s, time per token
    # t' = step' / tokens per step, tpot = (O t' + prefill) / O, ttft = prompt prefill +
    # step', tokens/s per user = 1000 / tpot, output tokens/s = B 1000 / tpot (per GPU over
    # n), $ per million output tokens in proportion to t', $ per request =
    # (O $out + P $in) / 1e6, speed-up = (O plain + prefill) / (O t' + prefill).
    output = Scenario().output_tokens  # every golden row has the default 256
    old_per_token = golden["decode_step_ms"] / golden["tokens_per_step"]
    plain = golden["speculative_speedup"] * old_per_token
    spec = golden["speculative"].astype(bool).to_numpy()
    ranks = np.where(golden["expert_parallel"].astype(bool), golden["n_gpus"], 1)
    cpu = np.where(spec, scheduler_ms(golden["batch_size"], ranks), 0.0)
    golden["decode_step_ms"] += cpu
    golden["ttft_ms"] += cpu
    per_token = golden["decode_step_ms"] / golden["tokens_per_step"]
    golden["tpot_ms"] = (output * per_token + golden["prefill_ms"]) / output
    golden["tokens_per_s_per_user"] = 1e3 / golden["tpot_ms"]
    golden["output_tokens_per_s"] = golden["batch_size"] * 1e3 / golden["tpot_ms"]
    golden["output_tokens_per_s_per_gpu"] = golden["output_tokens_per_s"] / golden["n_gpus"]
    golden["usd_per_million_output_tokens"] *= per_token / old_per_token
    golden["usd_per_request"] = (
        output * golden["usd_per_million_output_tokens"]
        + golden["prompt_tokens"] * golden["usd_per_million_input_tokens"]
    ) / 1e6
    golden["speculative_speedup"] = (output * plain + golden["prefill_ms"]) / (
        output * per_token + golden["prefill_ms"]
    )
    rebuilt = [  # from rounded columns: to 1e-12
        "speculative_speedup",
        "decode_step_ms",
        "ttft_ms",
        "tpot_ms",
        "tokens_per_s_per_user",
        "output_tokens_per_s",
        "output_tokens_per_s_per_gpu",
        "usd_per_million_output_tokens",
        "usd_per_request",
    ]
    for name in rebuilt:
        np.testing.assert_allclose(now[name], golden[name], rtol=1e-12, err_msg=name)
    for name in golden.columns[7:].drop(rebuilt):
        assert np.array_equal(
            now[name].to_numpy(float), golden[name].to_numpy(float), equal_nan=True
        ), name


def test_disaggregated_rows_leave_the_aggregated_rows_alone():
    both = sweep(V3.replace(expert_parallel=True), disaggregated=[False, True])
    alone = sweep(V3.replace(expert_parallel=True))
    for name in OUTPUT_COLUMNS:
        assert both[name].iloc[0] == alone[name].iloc[0], name
    # Aggregated throughputs per phase, by their definitions.
    r = alone.iloc[0]
    assert r["decode_tokens_per_s_per_gpu"] == pytest.approx(64 * 1e3 / r["decode_step_ms"] / 8)
    assert r["prefill_tokens_per_s_per_gpu"] == pytest.approx(64 * 1000 * 1e3 / r["prefill_ms"] / 8)
    assert r["balanced_prefill_gpus"] == pytest.approx(
        8 * (1000 / r["prefill_tokens_per_s_per_gpu"]) / (1000 / r["decode_tokens_per_s_per_gpu"])
    )


def test_disaggregated_cost_split_by_hand():
    # EP 8 decode at batch 256 and an EP 8 prefill pool of 4,096 tokens per GPU per pass.
    s = V3.replace(
        expert_parallel=True,
        batch_size=256,
        disaggregated=True,
        prefill_gpus=8,
        prefill_chunk_tokens=4096,
        usd_per_gpu_hour=2.0,
        utilization=0.5,
    )
    r = evaluate(s)
    decode, prefill = r["decode_tokens_per_s_per_gpu"], r["prefill_tokens_per_s_per_gpu"]
    # The decode pool alone sets TPOT: 256 users / (8 GPUs x decode tokens/s per GPU).
    assert r["tpot_ms"] == pytest.approx(r["decode_step_ms"])
    assert decode == pytest.approx(256 * 1e3 / r["decode_step_ms"] / 8)
    # Prefill pool: one pass of 8 x 4,096 = 32,768 tokens takes prefill_ms.
    assert prefill == pytest.approx(32_768 * 1e3 / r["prefill_ms"] / 8)
    # Capacities [requests/s]: prefill 8 x prefill / 1000, decode 8 x decode / 1000; the
    # smaller one serves. Each pool costs 8 GPUs x $2 / 3600 s, over utilisation 0.5.
    requests = min(8 * prefill / 1000, 8 * decode / 1000)
    assert requests == 8 * decode / 1000  # here the decode pool is the bottleneck
    pool_usd_per_request = 8 * 2.0 / 3600 / (requests * 0.5)
    assert r["usd_per_million_output_tokens"] == pytest.approx(pool_usd_per_request / 1000 * 1e6)
    assert r["usd_per_million_input_tokens"] == pytest.approx(pool_usd_per_request / 1000 * 1e6)
    assert r["usd_per_request"] == pytest.approx(2 * pool_usd_per_request)
    assert r["output_tokens_per_s_per_gpu"] == pytest.approx(requests * 1000 / 16)
    # Balance: 8 x (1000 / prefill) / (1000 / decode) prefill GPUs would do.
    assert r["balanced_prefill_gpus"] == pytest.approx(8 * decode / prefill)
    assert r["balanced_prefill_gpus"] < 8
    # TTFT: M/D/1 wait at busy share rho + the whole pass + the prompt's latent cache
    # (1,000 x 70,272 B) over one 50 GB/s NIC at 0.8.
    rho = requests / (8 * prefill / 1000)
    expected = r["prefill_ms"] * (1 + rho / (2 * (1 - rho))) + 1000 * 70_272 / 40e9 * 1e3
    assert r["ttft_ms"] == pytest.approx(expected)


def test_a_saturated_prefill_pool_never_reaches_the_first_token():
    # One prefill GPU for 8 decode GPUs at a 16k-token prompt cannot keep up: TTFT inf.
    s = V3.replace(
        expert_parallel=True,
        disaggregated=True,
        prefill_gpus=1,
        prompt_tokens=16000,
        output_tokens=100,
        batch_size=512,
        redundant_experts=0,
    )
    r = evaluate(s.replace(weight_format="nvfp4", gpu="b300"))
    assert r["balanced_prefill_gpus"] > 1
    assert r["ttft_ms"] == np.inf


def test_prefill_pool_must_suit_the_parallelism():
    with pytest.raises(ValueError, match="prefill_gpus=3"):
        evaluate(V3.replace(disaggregated=True, prefill_gpus=3))  # 3 does not divide 128 heads


def test_mtp_acceptance_solved_by_hand():
    # g = 3 drafts, 2.82 tokens per step: 1 + a + a^2 + a^3 = 2.82.
    a = float(acceptance_for_tokens_per_step(2.82, 3))
    assert 1 + a + a**2 + a**3 == pytest.approx(2.82, abs=1e-9)
    assert a == pytest.approx(0.7701, abs=1e-4)
    assert expected_tokens_per_step(a, 3) == pytest.approx(2.82)
    with pytest.raises(ValueError, match="tokens_per_step"):
        acceptance_for_tokens_per_step(4.0, 3)


def test_mtp_draft_costs_one_layer_of_the_step():
    preset = presets.DEEPSEEK_R1_MTP_B200
    r = evaluate(preset.apply(Scenario()))
    # DeepSeek-R1: 1 MTP layer of 61.
    assert r["draft_cost_ratio"] == pytest.approx(1 / 61)
    assert r["tokens_per_step"] == pytest.approx(2.82, abs=1e-3)
    plain = evaluate(preset.apply(Scenario()).replace(speculative=False, mtp=False))
    # Step = verification of 4 tokens + 3 drafts at 1/61 of a plain step each.
    spec = sweep(preset.apply(Scenario()).replace(mtp=False, draft_cost_ratio=0.0)).iloc[0]
    assert r["decode_step_ms"] == pytest.approx(
        spec["decode_step_ms"] + 3 / 61 * plain["decode_step_ms"]
    )
    # Measured: 253 / 111 = 2.28x faster per user; the model's speed-up is near it.
    assert 1.9 < r["tokens_per_s_per_user"] / plain["tokens_per_s_per_user"] < 2.82


def test_mtp_needs_speculative_and_mtp_layers():
    with pytest.raises(ValueError, match="mtp"):
        evaluate(Scenario(mtp=True, speculative=True))  # Mixtral has no MTP layers
    with pytest.raises(ValueError, match="mtp"):
        evaluate(presets.DEEPSEEK_R1_MTP_B200.apply(Scenario()).replace(speculative=False))


def test_prefix_cache_hits_shrink_the_prefill_pool_needed():
    # Half of each 1,000-token prompt cached: the prefill pool runs 500 tokens a request,
    # so fewer prefill GPUs keep pace, and input GPU-hours are per prefilled token.
    s = V3.replace(expert_parallel=True, batch_size=256, disaggregated=True)
    cold, warm = evaluate(s), evaluate(s.replace(prefix_cache_hit_rate=0.5))
    assert warm["prefilled_tokens"] == 500
    assert warm["balanced_prefill_gpus"] < 0.6 * cold["balanced_prefill_gpus"]
    assert warm["decode_tokens_per_s_per_gpu"] == pytest.approx(cold["decode_tokens_per_s_per_gpu"])
    assert warm["usd_per_request"] <= cold["usd_per_request"]
