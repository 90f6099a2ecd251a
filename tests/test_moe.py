"""Experts touched per step, routing skew, and MoE batch scaling (claims C7, C8).

Expected values come from the closed form in shared/reference/README.md: with uniform
top-k routing, B tokens touch E * (1 - (1 - k/E)^B) distinct experts per layer, which
for Mixtral (E=8, k=2) is 8 * (1 - (3/4)^B): 2, 3.5, 5.47, 7.20, 7.92, 8.00 at
B = 1, 2, 4, 8, 16, 32.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from costmodel import Scenario, evaluate, load_catalog, sweep
from costmodel.moe import experts_read, routing_probabilities

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
MIXTRAL_CONFIG = json.loads((MODELS_DIR / "mixtral-8x7b.json").read_text())

TOKENS = [1, 2, 4, 8, 16, 32]
# 8 * (1 - 0.75^T):
#   T=1: 8 * 0.25 = 2            T=2: 8 * (1 - 0.5625) = 3.5
#   T=4: 8 * (1 - 0.31640625) = 5.46875
#   T=8: 8 * (1 - 0.100112915) = 7.19909668
#   T=16: 8 * (1 - 0.010022595) = 7.91981924
#   T=32: 8 * (1 - 0.000100452) = 7.99919638
UNIFORM = [8 * (1 - 0.75**t) for t in TOKENS]
SEED_ROUNDED = [2, 3.5, 5.47, 7.20, 7.92, 8.00]


def test_uniform_experts_read_closed_form():
    got = experts_read(np.array(TOKENS), 8, 2)
    np.testing.assert_allclose(got, UNIFORM, rtol=1e-12)
    # The reference README's rounded values (to 0.01).
    np.testing.assert_allclose(got, SEED_ROUNDED, atol=0.005)


def test_dense_model_touches_its_one_expert():
    # E=1, k=1: 1 * (1 - 0^T) = 1 for every T >= 1.
    np.testing.assert_allclose(experts_read(np.array(TOKENS), 1, 1), 1.0, rtol=1e-12)


def test_uniform_scalars_and_arrays_agree():
    for t, expected in zip(TOKENS, UNIFORM, strict=True):
        assert float(experts_read(t, 8, 2)) == pytest.approx(expected, rel=1e-12)
        assert float(experts_read(t, 8, 2, 0.0)) == pytest.approx(expected, rel=1e-12)


def test_skewed_scalars_and_arrays_agree():
    # BUG (costmodel/moe.py, experts_read, `touched[skewed] = ...`): with all-scalar
    # inputs and routing_skew > 0, `touched` is a numpy float64 scalar after .copy(), and
    # item assignment raises TypeError. evaluate(Scenario(routing_skew=0.5)) crashes the
    # same way (see test_evaluate_with_routing_skew below).
    arrays = experts_read(np.array(TOKENS, float), 8, 2, 0.5)
    scalars = [float(experts_read(t, 8, 2, 0.5)) for t in TOKENS]
    np.testing.assert_allclose(scalars, arrays, rtol=1e-12)


def test_evaluate_with_routing_skew():
    # BUG: same root cause as above. Only a sweep over routing_skew or model (which makes
    # the skew or the expert count an array) works; evaluate() passes only 0-d values and
    # raises TypeError. Batch 32: probabilities p_i of Zipf(0.5), sum 1 - (1 - p_i)^32.
    p = routing_probabilities(8, 2, 0.5)[0]
    expected = np.sum(1 - (1 - p) ** 32)
    swept = sweep(Scenario(routing_skew=0.5), routing_skew=[0.5])
    assert swept["experts_read_per_layer"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert evaluate(Scenario(routing_skew=0.5))["experts_read_per_layer"] == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize(
    "axis",
    [{"batch_size": [1, 32]}, {"usd_per_gpu_hour": [1.0, 2.0]}, {"prompt_tokens": [100, 1000]}],
)
def test_sweep_with_routing_skew(axis):
    # BUG: same root cause: with routing_skew > 0 every sweep that leaves both model and
    # routing_skew scalar raises TypeError (the prefill and time-to-first-token passes see
    # only scalars), so the skew input is unusable on any page that sweeps batch or price.
    rows = sweep(Scenario(routing_skew=0.5), **axis)
    assert (rows["experts_read_per_layer"] <= 8).all()


def test_skew_towards_zero_equals_uniform():
    np.testing.assert_allclose(
        experts_read(np.array(TOKENS, float), 8, 2, 1e-9), UNIFORM, rtol=1e-6
    )


@pytest.mark.parametrize("skew", [0.25, 0.5, 1.0, 2.0, 3.0])
def test_skew_touches_fewer_experts(skew):
    t = np.array(TOKENS, float)
    skewed = experts_read(t, 8, 2, skew)
    # T = 1: the probabilities add up to k, so one token still touches exactly 2 experts.
    assert skewed[0] == pytest.approx(2.0, rel=1e-12)
    # T > 1: popular experts are hit repeatedly, so fewer distinct ones than uniform.
    assert np.all(skewed[1:] < np.array(UNIFORM[1:]))
    # And more skew touches fewer still.
    assert np.all(experts_read(t[1:], 8, 2, skew + 0.5) < skewed[1:])


@pytest.mark.parametrize(
    ("n_experts", "experts_per_token", "skew"),
    [(8, 2, 0.0), (8, 2, 1.0), (8, 2, 3.0), (4, 3, 3.0), (16, 4, 3.0), (8, 7, 3.0), (64, 8, 3.0)],
)
def test_routing_probabilities_are_probabilities(n_experts, experts_per_token, skew):
    p = routing_probabilities(n_experts, experts_per_token, skew)
    assert p.shape == (1, n_experts)
    assert p.sum() == pytest.approx(experts_per_token, rel=1e-12)
    assert np.all(p >= 0) and np.all(p <= 1 + 1e-12)
    # Zipf order: expert 0 is the most popular.
    assert np.all(np.diff(p[0]) <= 1e-12)


def test_routing_probabilities_e4_k3_extreme_skew_by_hand():
    # Weights 1, 1/8, 1/27, 1/64 (skew 3). p_0 = 3 * 1 / 1.1777 > 1 -> capped at 1; the
    # other 2 among 1/8, 1/27, 1/64 (sum 0.17766): 1.407 -> capped; the last 1 among
    # 1/27 and 1/64: 0.7033 and 0.2967.
    p = routing_probabilities(4, 3, 3.0)[0]
    w = np.array([1 / 27, 1 / 64])
    np.testing.assert_allclose(p, [1.0, 1.0, *(w / w.sum())], rtol=1e-12)


@pytest.mark.parametrize(("n_experts", "experts_per_token"), [(8, 8), (16, 15), (32, 16)])
def test_routing_probabilities_capped_when_k_near_e(n_experts, experts_per_token):
    # BUG (costmodel/moe.py, `_CAP_ROUNDS = 4` and the loop in routing_probabilities):
    # water-filling stops after 4 rounds, but with skew 3 and k close to E more than 4
    # experts must be capped in turn; the result keeps probabilities above 1 (E=8, k=8
    # gives 1.198 and 0.802 instead of all ones), so experts_read is wrong for such
    # (custom) models: with k = E every token touches all E experts.
    p = routing_probabilities(n_experts, experts_per_token, 3.0)
    assert p.sum() == pytest.approx(experts_per_token, rel=1e-12)
    assert np.all(p <= 1 + 1e-12), p.max()


def test_routing_probabilities_rows_broadcast():
    # Several scenarios at once: rows sum to each row's k; columns past E are 0.
    p = routing_probabilities([8, 4, 16], [2, 3, 4], [0.0, 3.0, 1.0])
    assert p.shape == (3, 16)
    np.testing.assert_allclose(p.sum(axis=1), [2, 3, 4], rtol=1e-12)
    assert np.all(p[0, 8:] == 0) and np.all(p[1, 4:] == 0)
    assert np.all((p >= 0) & (p <= 1))


def test_skewed_arrays_match_expert_by_expert_sum():
    # sum_i 1 - (1 - p_i)^T with the probabilities above, for mixed rows.
    t = np.array([1, 3, 8, 8, 50], float)
    e = np.array([8, 8, 8, 16, 16], float)
    k = np.array([2, 2, 2, 4, 4], float)
    s = np.array([0.5, 0.5, 1.5, 1.5, 0.7])
    got = experts_read(t, e, k, s)
    for i in range(len(t)):
        p = routing_probabilities(int(e[i]), k[i], s[i])[0]
        assert got[i] == pytest.approx(np.sum(1 - (1 - p) ** t[i]), rel=1e-12)


# --- Claim C7: as the batch grows every forward pass reads all experts -------------------

BATCHES = [1, 2, 4, 8, 16, 32, 64]

# Bytes per decode step of Mixtral bf16 (2 B per weight):
#   attention 1,342,177,280 * 2 = 2.684 GB; lm_head 131,072,000 * 2 = 0.262 GB;
#   router 1,048,576 * 2 and norms 266,240 * 2 = 0.0026 GB;
#   experts 45,097,156,608 * 2 = 90.194 GB, of which touched/8 is read;
#   KV: (B * (prompt + output/2) + B) * 131,072 B = B * (512 + 128 + 1) * 131,072.
ATTN_GB = 1_342_177_280 * 2 / 1e9
LM_HEAD_GB = 131_072_000 * 2 / 1e9
SMALL_GB = (1_048_576 + 266_240) * 2 / 1e9
EXPERTS_GB = 45_097_156_608 * 2 / 1e9


def _bytes_per_step_gb(batch: int) -> float:
    touched = 8 * (1 - 0.75**batch)
    kv = batch * (512 + 256 / 2 + 1) * 131_072 / 1e9
    return ATTN_GB + LM_HEAD_GB + SMALL_GB + EXPERTS_GB * touched / 8 + kv


def test_c7_experts_read_rise_to_all_eight():
    rows = sweep(Scenario(), batch_size=BATCHES)
    touched = rows["experts_read_per_layer"].to_numpy()
    np.testing.assert_allclose(touched, [8 * (1 - 0.75**b) for b in BATCHES], rtol=1e-12)
    assert touched[0] == pytest.approx(2.0)  # 2 of 8 experts at batch 1
    assert np.all(np.diff(touched) > 0)
    assert touched[-1] == pytest.approx(8.0, abs=1e-6)  # 8 * (1 - 0.75^64) = 8 - 8e-8


def test_c7_bytes_read_per_step():
    rows = sweep(Scenario(), batch_size=BATCHES)
    got = rows["bytes_read_per_step_gb"].to_numpy()
    np.testing.assert_allclose(got, [_bytes_per_step_gb(b) for b in BATCHES], rtol=1e-9)
    # Batch 1: 2.684 + 0.262 + 0.003 + 90.194 * 2/8 + 0.084 (KV) = 25.58 GB, a quarter of the
    # 93.4 GB of weights (1% tolerance on the rounded 25.5).
    assert got[0] == pytest.approx(25.5, rel=1e-2)
    # Batch 64: all 93.14 GB of weights read (everything but the embedding table) + 5.38 GB KV.
    all_weights = ATTN_GB + LM_HEAD_GB + SMALL_GB + EXPERTS_GB
    assert all_weights == pytest.approx(93.14, abs=0.01)
    assert got[-1] >= all_weights
    assert got[-1] == pytest.approx(all_weights + 64 * 641 * 131_072 / 1e9, rel=1e-6)


DENSE_SAME_ACTIVE = {
    # A dense SwiGLU model with Mixtral's attention (32 layers, 4096 hidden, 32 heads, 8 kv
    # heads) and one FFN as wide as Mixtral's two active experts (2 * 14336): same active
    # parameters per token (12.88e9), same KV cache, only the routing differs.
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 2 * 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 32000,
}


def _cost_ratio_b1_over_b32(model: str, catalog) -> float:
    cost = sweep(Scenario(model=model), catalog, batch_size=[1, 32])
    per_m = cost["usd_per_million_output_tokens"].to_numpy()
    return per_m[0] / per_m[1]


def test_c7_batching_lowers_moe_cost_less_than_dense():
    catalog = load_catalog().with_model("custom:dense-13b", DENSE_SAME_ACTIVE)
    dense = catalog.models.loc["custom:dense-13b"]
    mixtral = catalog.models.loc["mixtral-8x7b"]
    # Same active parameters: 1.342e9 + 32 * 3 * 4096 * 28672 + 0.263e9 = 12.88e9
    # versus Mixtral's 1.342e9 + 45.10e9 * 2/8 + 0.263e9 = 12.88e9 (router aside).
    mixtral_active = (
        mixtral["attention_params"] + mixtral["expert_params"] / 4 + mixtral["sixteen_bit_params"]
    )
    assert dense["total_params"] == pytest.approx(mixtral_active, rel=1e-3)

    moe_ratio = _cost_ratio_b1_over_b32("mixtral-8x7b", catalog)
    dense_ratio = _cost_ratio_b1_over_b32("custom:dense-13b", catalog)
    llama70_ratio = _cost_ratio_b1_over_b32("llama-2-70b", catalog)
    # Today's model: Mixtral 8.49 -> 0.94 $/M (9.0x); same-active dense 6.04 -> 0.21 (29x);
    # Llama-2-70B 30.0 -> 0.99 (30x). Batch 32 divides a dense model's cost almost 32-fold
    # but Mixtral's only ~9-fold, because batch 32 reads ~4x the bytes of batch 1.
    assert moe_ratio < 0.5 * dense_ratio, (moe_ratio, dense_ratio)
    assert moe_ratio < 0.5 * llama70_ratio, (moe_ratio, llama70_ratio)
    assert dense_ratio > 20 and moe_ratio < 12


def test_c7_dense_reads_same_bytes_at_every_batch_up_to_kv():
    catalog = load_catalog().with_model("custom:dense-13b", DENSE_SAME_ACTIVE)
    rows = sweep(Scenario(model="custom:dense-13b"), catalog, batch_size=[1, 64])
    kv = rows["batch_size"].to_numpy() * 641 * 131_072 / 1e9
    weights_read = rows["bytes_read_per_step_gb"].to_numpy() - kv
    assert weights_read[0] == pytest.approx(weights_read[1], rel=1e-12)
    np.testing.assert_allclose(rows["experts_read_per_layer"], 1.0)


# --- Claim C8: more experts at the same top-k need more bandwidth ------------------------


def test_c8_more_experts_raise_bytes_per_step():
    config_16 = {**MIXTRAL_CONFIG, "num_local_experts": 16}
    catalog = load_catalog().with_model("custom:mixtral-16x7b", config_16)
    # Weights of 16 experts: 183.6 GB in bf16, so use 4 H100s (4 * 70 = 280 GB usable).
    rows = sweep(
        Scenario(n_gpus=4),
        catalog,
        model=["mixtral-8x7b", "custom:mixtral-16x7b"],
        batch_size=[1, 32],
    )
    rows = rows.set_index(["model", "batch_size"])
    assert rows["fits"].all()
    e8, e16 = rows.loc[("mixtral-8x7b", 32)], rows.loc[("custom:mixtral-16x7b", 32)]
    # Batch 32 touches 8 * (1 - (6/8)^32) = 7.999 of 8 but 16 * (1 - (14/16)^32) = 15.78 of
    # 16 experts: expert bytes 90.19 GB vs 90.19 * 2 * 15.78 / 16 = 177.9 GB.
    assert e8["experts_read_per_layer"] == pytest.approx(8 * (1 - 0.75**32), rel=1e-12)
    assert e16["experts_read_per_layer"] == pytest.approx(16 * (1 - (14 / 16) ** 32), rel=1e-12)
    assert e16["bytes_read_per_step_gb"] - e8["bytes_read_per_step_gb"] == pytest.approx(
        EXPERTS_GB * (2 * (1 - (14 / 16) ** 32) - (1 - 0.75**32)) + 32 * 4096 * 8 * 2 / 1e9,
        rel=1e-9,
    )
    assert e16["bytes_read_per_step_gb"] > 1.8 * e8["bytes_read_per_step_gb"]
    assert e16["usd_per_million_output_tokens"] > 1.5 * e8["usd_per_million_output_tokens"]
    # At batch 1 both read 2 experts' worth: almost the same bytes (router 1 MB larger).
    b1_8, b1_16 = rows.loc[("mixtral-8x7b", 1)], rows.loc[("custom:mixtral-16x7b", 1)]
    assert b1_16["bytes_read_per_step_gb"] == pytest.approx(
        b1_8["bytes_read_per_step_gb"], rel=1e-3
    )
