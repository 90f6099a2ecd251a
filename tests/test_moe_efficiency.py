"""MoE expert kernels stream better as each expert gets more tokens (issue 10 item 6).

``moe.moe_kernel_efficiency(t, e1) = min(1, e1 (g - (g - 1) h / (h + t - 1)))`` with
g = 1.09 (vLLM fused_moe on Mixtral's shape: 77.3 % of HBM bandwidth at batch 1, 84.2 %
at batch 32) and h = 1 token.
"""

import numpy as np
import pytest

from costmodel import Scenario, comparisons, evaluate, load_catalog, sweep
from costmodel.moe import MOE_STREAMING_GAIN, experts_read, moe_kernel_efficiency

#: The default stack's (vllm: the 2024 calibration) MoE kernel efficiency, 0.65.
OLD_FACTOR = evaluate(Scenario())["moe_kernel_efficiency"]


def test_gain_is_the_kernel_measurement():
    # 234.9 MB in 76 us and 939.5 MB in 279 us on a 4.0 TB/s H20.
    batch_1 = 2 * 14336 * 4096 * 2 / 76e-6 / 4.0e12
    batch_32 = 8 * 14336 * 4096 * 2 / 279e-6 / 4.0e12
    assert (batch_1, batch_32) == pytest.approx((0.773, 0.842), abs=5e-4)
    assert pytest.approx(batch_32 / batch_1, abs=5e-3) == MOE_STREAMING_GAIN


def test_one_token_per_expert_is_the_old_factor():
    # Batch-1 decode (P1, P2: one token in each of the 2 experts it touches) keeps 0.65.
    assert float(moe_kernel_efficiency(1, OLD_FACTOR)) == OLD_FACTOR
    assert float(moe_kernel_efficiency(0.5, OLD_FACTOR)) == OLD_FACTOR  # t below 1 counts as 1


def test_values_by_hand():
    # t = 2: 0.65 * (1.09 - 0.09 * 1 / 2) = 0.65 * 1.045 = 0.67925
    # t = 8: 0.65 * (1.09 - 0.09 / 8) = 0.65 * 1.07875 = 0.7011875
    # t -> infinity: 0.65 * 1.09 = 0.7085
    got = moe_kernel_efficiency(np.array([2.0, 8.0, 1e12]), OLD_FACTOR)
    np.testing.assert_allclose(got, [0.67925, 0.7011875, 0.7085], rtol=1e-9)


def test_monotone_and_bounded_by_one():
    t = np.geomspace(1, 1e6, 400)
    for at_one in (0.05, 0.3, 0.65, 0.95, 1.0):
        e = moe_kernel_efficiency(t, at_one)
        assert (np.diff(e) >= 0).all(), at_one
        assert e[0] == pytest.approx(at_one) and (e <= 1.0).all(), at_one
    # 0.95 * 1.09 = 1.0355 would exceed a dense kernel: capped at 1.
    assert float(moe_kernel_efficiency(1e6, 0.95)) == 1.0


def test_batch_32_decode_memory_time_by_hand():
    # Mixtral 8x7B, 2x H100 bf16, batch 32, 512 + 256 tokens (the seed's baseline).
    # 32 tokens x top-2 over 7.9992 experts read = 8.0008 tokens per expert, so the
    # experts stream at 0.65 * (1.09 - 0.09 / 8.0008) = 0.70119 of the dense rate.
    s = Scenario()
    r = evaluate(s)
    read = float(experts_read(32, 8, 2))
    efficiency = 0.65 * (1.09 - 0.09 / (32 * 2 / read))
    model = load_catalog().models.loc["mixtral-8x7b"]
    bandwidth = 2 * 3.35e12 * 0.8
    experts = model["expert_params"] * read / 8 * 2
    others = (model["attention_params"] + model["router_params"] + model["lm_head_params"]) * 2
    others += model["norm_params"] * 2
    kv = 32 * (512 + 128 + 1) * 131_072
    # The top-k combine (step.moe_combine_bytes): 32 tokens x 2 experts x 4,096 values x
    # 4 B x 32 layers on both GPUs of the tensor-parallel pair.
    combine = 32 * 2 * 4096 * 4 * 32 * 2
    expected_ms = ((others + kv + combine) / bandwidth + experts / (bandwidth * efficiency)) * 1e3
    assert efficiency == pytest.approx(0.70119, abs=5e-6)
    assert r["memory_time_ms"] == pytest.approx(expected_ms, rel=1e-9)


def test_dense_models_are_untouched():
    dense = evaluate(Scenario(model="llama-2-70b", n_gpus=4, batch_size=32))
    flat = evaluate(
        Scenario(model="llama-2-70b", n_gpus=4, batch_size=32, moe_kernel_efficiency=0.3)
    )
    assert dense["memory_time_ms"] == flat["memory_time_ms"]


def test_dense_same_total_cheaper_from_batch_4():
    # Why a dense 46.7 B model beats Mixtral from batch 4 on (before and after the rising
    # efficiency): both read about the same other bytes, and the MoE's expert bytes take
    # share / e(t) of the dense model's expert time, share = 1 - 0.75^B of its experts:
    #   B = 3: share 0.578, t = 6 / 4.625 = 1.30, e = 0.65 (1.09 - 0.09 / 1.30) = 0.6635:
    #          0.578 / 0.6635 = 0.87 < 1, the MoE is cheaper;
    #   B = 4: share 0.684, t = 8 / 5.469 = 1.46, e = 0.6685: 0.684 / 0.6685 = 1.02 > 1.
    # At batch 32: $0.877 vs $0.634 per million output tokens ($0.941 with a flat 0.65).
    catalog = comparisons.dense_equivalents(load_catalog(), "mixtral-8x7b")
    same_total = comparisons.dense_model_ids("mixtral-8x7b")["same_total"]
    cost = "usd_per_million_output_tokens"
    batches = [1, 2, 3, 4, 5, 6, 8, 32]
    moe = sweep(Scenario(), catalog, batch_size=batches)[cost].to_numpy()
    dense = sweep(Scenario(model=same_total), catalog, batch_size=batches)[cost].to_numpy()
    assert (moe[:3] < dense[:3]).all() and (moe[3:] > dense[3:]).all()
