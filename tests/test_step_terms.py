"""The physics terms of issue 17, each against numbers worked out by hand.

Fixed time per kernel by layer kind (overheads), matrix efficiency by tile fill
(matmul), the busiest data-parallel rank (imbalance.busiest_rank_factor), the grouped
GEMM's parallelism (moe.expert_parallelism), MTP acceptance by draft position
(speculative.expected_tokens_per_step), the part-by-part roofline (step.forward_ms) and
the experts' top-k combine (step.moe_combine_bytes).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costmodel import Scenario, evaluate, load_catalog, overheads, scan, step, sweep
from costmodel.imbalance import busiest_rank_factor
from costmodel.matmul import (
    ATTENTION_TILE_ROWS,
    attention_rows,
    expected_matrix_efficiency,
    matrix_efficiency,
)
from costmodel.moe import expert_parallelism
from costmodel.overheads import (
    KERNELS_PER_LAYER,
    SCHEDULER_US_PER_SEQUENCE,
    fixed_ms,
    kernels_per_pass,
    scheduler_ms,
)
from costmodel.speculative import (
    MTP_ACCEPTANCE,
    MTP_DECAY,
    acceptance_for_tokens_per_step,
    expected_tokens_per_step,
)

MODELS = load_catalog().models


# --- fixed time per kernel ---------------------------------------------------------------


def test_kernels_per_pass_by_layer_kind():
    # DeepSeek-R1: 61 MLA layers x 8 + 58 MoE x 5 + 3 dense FFN x 4 = 488 + 290 + 12 = 790.
    assert kernels_per_pass(MODELS.loc["deepseek-r1"]) == 790
    # Llama-2-70B: 80 GQA layers x 5 + 80 dense FFN (one "expert") x 4 = 720.
    assert kernels_per_pass(MODELS.loc["llama-2-70b"]) == 720
    # Mixtral: 32 x (5 + 5) = 320. DeepSeek-V3.2 adds the indexer, 4 per MLA layer: 1,034.
    assert kernels_per_pass(MODELS.loc["mixtral-8x7b"]) == 320
    assert kernels_per_pass(MODELS.loc["deepseek-v3.2"]) == 790 + 61 * 4
    # Qwen3.5: 15 GQA x 5 + 45 linear x 8 + 60 MoE x 5 = 75 + 360 + 300 = 735.
    assert kernels_per_pass(MODELS.loc["qwen3.5-397b-a17b"]) == 735
    assert set(KERNELS_PER_LAYER) == {"mla", "mla_indexer", "gqa", "linear", "moe", "dense_ffn"}


def test_fixed_ms_by_hand():
    # DeepSeek-R1 at 5 us per layer and 6 us per kernel: (61 x 5 + 790 x 6) / 1000 ms.
    arch = MODELS.loc["deepseek-r1"]
    assert fixed_ms(arch, 5.0, 6.0) == pytest.approx((61 * 5 + 790 * 6) / 1000)
    assert fixed_ms(arch, 5.0, 0.0) == pytest.approx(0.305)  # the 2024 calibration


def test_kernel_time_adds_to_every_pass():
    # One more us per kernel adds 790 us to DeepSeek-R1's decode step, whatever the batch.
    base = Scenario(model="deepseek-r1", gpu="b200", n_gpus=8, weight_format=None)
    rows = sweep(base, batch_size=[1, 64], kernel_us=[2.0, 3.0])
    step = rows.set_index(["batch_size", "kernel_us"])["decode_step_ms"]
    for batch in (1, 64):
        assert step[batch, 3.0] - step[batch, 2.0] == pytest.approx(0.790, rel=1e-9)


def test_scheduler_ms_by_hand():
    # One TP8 scheduler runs all 484 sequences; 8 data-parallel ranks run ceil(484 / 8) = 61
    # each (the busiest); 12 sequences over 8 ranks: ceil(1.5) = 2.
    us = SCHEDULER_US_PER_SEQUENCE
    assert scheduler_ms(484, 1) == pytest.approx(484 * us / 1000)
    assert scheduler_ms(484, 8) == pytest.approx(61 * us / 1000)
    assert scheduler_ms(12, 8) == pytest.approx(2 * us / 1000)
    assert scheduler_ms(0, 8) == pytest.approx(us / 1000)  # at least one sequence


@given(st.integers(1, 4096), st.integers(1, 4096), st.sampled_from([1, 2, 4, 8, 16]))
def test_scheduler_ms_grows_with_batch(a, b, ranks):
    low, high = sorted((a, b))
    assert 0 < scheduler_ms(low, ranks) <= scheduler_ms(high, ranks)
    assert scheduler_ms(high, ranks) <= scheduler_ms(high, 1)


def test_scheduler_time_adds_to_speculative_steps_only(monkeypatch):
    # DeepSeek-R1 with 2 MTP drafts at batch 256 on 8 B200: the speculative step waits for
    # the scheduler (256 sequences on one TP scheduler, 256 / 8 = 32 per data-parallel
    # rank); the plain step overlaps it and does not change.
    base = Scenario(model="deepseek-r1", gpu="b200", n_gpus=8, batch_size=256, draft_tokens=2)
    axes = {
        "speculative": [False, False, True, True],
        "mtp": [False, False, True, True],
        "expert_parallel": [False, True, False, True],
    }

    def steps():
        return scan(base, **axes)["decode_step_ms"].to_numpy()

    with_cpu = steps()
    monkeypatch.setattr(overheads, "SCHEDULER_US_PER_SEQUENCE", 0.0)
    added = with_cpu - steps()
    us = SCHEDULER_US_PER_SEQUENCE
    assert added[0] == added[1] == 0.0
    assert added[2] == pytest.approx(256 * us / 1000, rel=1e-9)
    assert added[3] == pytest.approx(32 * us / 1000, rel=1e-9)


# --- matrix efficiency ---------------------------------------------------------------------


def test_matrix_efficiency_by_hand():
    # 64-row tiles: 16 rows fill a quarter, 48 three quarters, 96 one and a half tiles of 2.
    got = matrix_efficiency([16, 48, 64, 96, 1000], 64)
    np.testing.assert_allclose(got, [0.25, 0.75, 1.0, 0.75, 1000 / 1024])
    # Expected over varying counts: m / (m + 8) with 16-row tiles.
    np.testing.assert_allclose(expected_matrix_efficiency([1, 8, 64]), [1 / 9, 0.5, 64 / 72])


@given(st.floats(1, 1e6), st.floats(1, 1e6))
def test_expected_matrix_efficiency_rises(a, b):
    low, high = sorted((a, b))
    assert expected_matrix_efficiency(low) <= expected_matrix_efficiency(high) <= 1.0


def test_attention_rows_by_parallelism():
    # DeepSeek-R1 (128 heads, MLA): TP8 16 rows per token; DP attention 128; a
    # verification of 3 tokens under TP8 48. Mixtral (32 heads, 8 KV heads): 4 per token.
    r1, mixtral = MODELS.loc["deepseek-r1"], MODELS.loc["mixtral-8x7b"]
    assert attention_rows(r1, 8, 1) == 16 and attention_rows(r1, 1, 1) == 128
    assert attention_rows(r1, 8, 3) == 48
    assert attention_rows(mixtral, 2, 1) == 4
    assert matrix_efficiency(attention_rows(r1, 8, 1), ATTENTION_TILE_ROWS) == 0.25


def _tp_and_dp_attention(**fields) -> tuple:
    """DeepSeek-R1 on 8x H200 at batch 64 under TP8 and under DP attention with EP8."""
    base = Scenario(
        model="deepseek-r1", gpu="h200-sxm", n_gpus=8, weight_format=None, batch_size=64, **fields
    )
    return evaluate(base), evaluate(base.replace(expert_parallel=True))


def test_tp_mla_attention_costs_four_times_dp_compute():
    # The same attention FLOPs under TP8 (16 of 64 tile rows used) and DP attention (128
    # rows, full tiles): 4x the compute time. A long-context, large batch makes attention
    # compute the longest part of the decode step.
    tp, dp = _tp_and_dp_attention(prompt_tokens=32_000, output_tokens=1_000, kv_format="fp8")
    assert tp["compute_time_ms"] > 2.5 * dp["compute_time_ms"]


# --- data-parallel ranks and grouped-GEMM parallelism -----------------------------------


def test_busiest_rank_by_hand():
    # Round-robin: 1 request on 8 ranks -> 8; 4 -> ceil(0.5) / 0.5 = 2; 12 -> 2 / 1.5;
    # 1,024 -> 1; 2 requests per GPU on 16 -> 1.
    got = busiest_rank_factor([1, 4, 8, 12, 1024, 32], [8, 8, 8, 8, 8, 16])
    np.testing.assert_allclose(got, [8, 2, 1, 4 / 3, 1, 1])
    assert busiest_rank_factor(5, 1) == 1.0  # no data parallelism


def test_one_prompt_prefills_on_one_rank():
    # Time to first token of one prompt under data-parallel attention on 8 GPUs: its
    # attention and dense layers run on one rank (8x their FLOPs per GPU of a balanced
    # pass), so the prompt's prefill is slower than under TP over the same GPUs.
    tp, dp = _tp_and_dp_attention(prompt_tokens=8_000)
    assert dp["ttft_ms"] > tp["ttft_ms"]


def test_expert_parallelism_by_hand():
    # 8 experts at h = 16: 8 / 24; 222 experts: 222 / 238; h = 0: off.
    np.testing.assert_allclose(expert_parallelism([8, 222], 16), [8 / 24, 222 / 238])
    assert expert_parallelism(8, 0.0) == 1.0


# --- MTP acceptance by position -----------------------------------------------------------


def test_tokens_per_step_by_position_by_hand():
    # a = 0.9, r = 0.5, g = 3: 1 + 0.9 + 0.9^2 x 0.5 + 0.9^3 x 0.5^3 = 2.396125.
    assert expected_tokens_per_step(0.9, 3, 0.5) == pytest.approx(2.396125)
    # r = 1 is Leviathan et al.'s constant acceptance: (1 - 0.75^8) / 0.25 = 3.5995.
    assert expected_tokens_per_step(0.75, 7, 1.0) == pytest.approx((1 - 0.75**8) / 0.25)


def test_mtp_decay_meets_tensorrt_llm_sweep():
    # TensorRT-LLM blog1: 1.92, 2.58, 2.82, 2.99, 3.01 tokens per step at 1..5 drafts; the
    # decay fits them all within 0.05 where one constant rate misses by up to 0.2.
    measured = np.array([1.92, 2.58, 2.82, 2.99, 3.01])
    drafts = np.arange(1, 6)
    model = expected_tokens_per_step(MTP_ACCEPTANCE, drafts, MTP_DECAY)
    assert np.abs(model - measured).max() < 0.05
    constant = expected_tokens_per_step(0.7388, drafts)
    assert np.abs(constant - measured).max() > 0.15


def test_acceptance_inverse_with_decay():
    a = acceptance_for_tokens_per_step(2.82, 3, MTP_DECAY)
    assert expected_tokens_per_step(a, 3, MTP_DECAY) == pytest.approx(2.82, abs=1e-9)


# --- the part-by-part roofline ------------------------------------------------------------


def test_parts_add_where_each_binds_differently():
    # A step where attention is compute-bound (long context, DP attention) and the
    # experts memory-bound costs more than the longer of the two totals.
    s = Scenario(
        model="deepseek-r1",
        gpu="b200",
        n_gpus=8,
        weight_format=None,
        expert_parallel=True,
        batch_size=256,
        prompt_tokens=16_000,
        kv_format="fp8",
    )
    r = evaluate(s)
    fixed = r["alltoall_time_ms"] + r["overhead_time_ms"] + r["allreduce_time_ms"]
    assert r["decode_step_ms"] - fixed > max(r["memory_time_ms"], r["compute_time_ms"])
    assert r["decode_step_ms"] - fixed <= r["memory_time_ms"] + r["compute_time_ms"] + 1e-9


# --- the experts' top-k combine -----------------------------------------------------------


def test_moe_combine_bytes_by_hand():
    # DeepSeek-R1 (k = 8, hidden 7,168, 58 MoE layers) prefilling 7,373 tokens: every
    # (token, expert) row written and read back in BF16, 4 B per value, on each of the 8
    # GPUs of a tensor-parallel group (98.1 GB each), once under expert parallelism.
    arch = MODELS.loc["deepseek-r1"]
    per_gpu = 7373 * 8 * 7168 * 4 * 58
    assert per_gpu == pytest.approx(98.09e9, rel=1e-3)
    assert step.moe_combine_bytes(7373, arch, 8) == pytest.approx(8 * per_gpu)
    assert step.moe_combine_bytes(7373, arch, 1) == pytest.approx(per_gpu)
    # Mixtral: 2 experts of 4,096 values in 32 layers; a dense model has no combine.
    assert step.moe_combine_bytes(64, MODELS.loc["mixtral-8x7b"], 2) == 64 * 2 * 4096 * 4 * 32 * 2
    assert step.moe_combine_bytes(64, MODELS.loc["llama-2-70b"], 8) == 0.0


def test_combine_adds_its_bytes_to_the_step(monkeypatch):
    # DeepSeek-R1 on 8 B200 at batch 256: the combine adds its bytes at the achieved
    # bandwidth, 8 x 8 TB/s x 0.75, to the step under TP8 (8 copies) and to the
    # expert-parallel step once; a prefill of 2,048-token prompts pays it per token.
    base = Scenario(model="deepseek-r1", gpu="b200", n_gpus=8, weight_format=None, batch_size=256)
    axes = {"expert_parallel": [False, True]}

    def run():
        return scan(base, **axes)[["decode_step_ms", "memory_time_ms", "prefill_ms"]].to_numpy()

    with_combine = run()
    monkeypatch.setattr(step, "MOE_COMBINE_BYTES", 0.0)
    added = with_combine - run()
    pair_ms = 256 * 8 * 7168 * 4 * 58 / (8 * 8e12 * 0.75) * 1e3
    assert added[0, 0] == pytest.approx(8 * pair_ms, rel=1e-9)
    assert added[1, 0] == pytest.approx(pair_ms, rel=1e-9)
    assert added[:, 1] == pytest.approx(added[:, 0], rel=1e-9)  # counted as memory time
    prompt = Scenario().prompt_tokens
    assert added[0, 2] == pytest.approx(8 * pair_ms * prompt, rel=1e-9)


@given(st.integers(1, 100_000), st.integers(1, 100_000))
def test_combine_grows_with_tokens(a, b):
    arch = MODELS.loc["deepseek-r1"]
    low, high = sorted((a, b))
    assert 0 < step.moe_combine_bytes(low, arch, 8) <= step.moe_combine_bytes(high, arch, 8)
