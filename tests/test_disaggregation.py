"""Disaggregated prefill/decode by hand, and against DeepSeek's disclosed day of serving."""

import numpy as np
import pytest

from costmodel import Scenario, evaluate, scan
from costmodel.disaggregation import (
    balanced_pool_ratio,
    disaggregated_cost,
    tpot_ms,
    ttft_ms,
)

# A workload of 2,000 prompt and 500 output tokens; prefill 10,000 tok/s per GPU, decode
# 2,000 tok/s per GPU, $2 per GPU-hour.
WORKLOAD = dict(
    prompt_tokens=2000,
    output_tokens=500,
    prefill_tokens_per_s_per_gpu=10_000,
    decode_tokens_per_s_per_gpu=2_000,
)


def test_balancing_ratio_by_hand():
    # Prefill 2,000 / 10,000 = 0.2 GPU-s per request, decode 500 / 2,000 = 0.25: 0.8
    # prefill GPUs per decode GPU (16 decode GPUs want 12.8 prefill GPUs).
    assert balanced_pool_ratio(**WORKLOAD) == pytest.approx(0.8)


def test_cost_split_of_unbalanced_pools_by_hand():
    # 8 prefill GPUs take 8 * 10,000 / 2,000 = 40 requests/s, 16 decode GPUs 16 * 2,000 /
    # 500 = 64: prefill is the bottleneck, decode is busy 40 / 64 = 62.5 % of the time.
    # Cost: 24 GPUs * $2 / 3600 s = $0.013333/s over 40 requests/s = $3.333e-4 a request,
    # 8/24 of it prefill ($1.111e-4), 16/24 decode ($2.222e-4); per million output tokens
    # $3.333e-4 / 500 * 1e6 = $0.6667; output 40 * 500 / 24 = 833.3 tok/s per GPU.
    c = disaggregated_cost(prefill_gpus=8, decode_gpus=16, usd_per_gpu_hour=2.0, **WORKLOAD)
    assert c["requests_per_s"] == pytest.approx(40)
    assert c["prefill_busy_share"] == pytest.approx(1.0)
    assert c["decode_busy_share"] == pytest.approx(0.625)
    assert c["prefill_usd_per_request"] == pytest.approx(8 * 2 / 3600 / 40)
    assert c["decode_usd_per_request"] == pytest.approx(16 * 2 / 3600 / 40)
    assert c["usd_per_request"] == pytest.approx(3.3333e-4, rel=1e-4)
    assert c["prefill_cost_share"] == pytest.approx(1 / 3)
    assert c["usd_per_million_output_tokens"] == pytest.approx(0.66667, rel=1e-4)
    assert c["output_tokens_per_s_per_gpu"] == pytest.approx(833.33, rel=1e-4)


def test_balanced_pools_cost_their_gpu_hours_per_request():
    # At the ratio both pools are busy; each request costs 0.2 + 0.25 GPU-s * $2 / 3600.
    # Cheaper prefill GPUs ($1) lower only the prefill part: (0.2 * 1 + 0.25 * 2) / 3600.
    c = disaggregated_cost(prefill_gpus=12.8, decode_gpus=16, usd_per_gpu_hour=2.0, **WORKLOAD)
    assert c["prefill_busy_share"] == pytest.approx(1.0)
    assert c["decode_busy_share"] == pytest.approx(1.0)
    assert c["usd_per_request"] == pytest.approx(0.45 * 2 / 3600)
    cheap = disaggregated_cost(
        prefill_gpus=12.8,
        decode_gpus=16,
        usd_per_gpu_hour=2.0,
        prefill_usd_per_gpu_hour=1.0,
        **WORKLOAD,
    )
    assert cheap["usd_per_request"] == pytest.approx((0.2 * 1 + 0.25 * 2) / 3600)
    # Half the paid time idle doubles the cost.
    idle = disaggregated_cost(
        prefill_gpus=12.8, decode_gpus=16, usd_per_gpu_hour=2.0, utilization=0.5, **WORKLOAD
    )
    assert idle["usd_per_request"] == pytest.approx(2 * c["usd_per_request"])


def test_balanced_ratio_is_the_cheapest_split():
    ratios = np.linspace(0.2, 2.0, 91)
    c = disaggregated_cost(
        prefill_gpus=16 * ratios, decode_gpus=16, usd_per_gpu_hour=2.0, **WORKLOAD
    )
    best = ratios[np.argmin(c["usd_per_request"])]
    assert best == pytest.approx(balanced_pool_ratio(**WORKLOAD), abs=0.021)


def test_deepseek_day_of_serving():
    # deepseek-ai/open-infra-index, 2025-03-01 (serving-disclosures.md, R7): in 24 h 608B
    # input and 168B output tokens; per H800 node 73.7k prefill tok/s (with cache hits)
    # and 14.8k decode tok/s: per GPU 9,212.5 and 1,850. Prefill 608e9 / 9,212.5 / 3600 =
    # 18,332.6 GPU-hours, decode 168e9 / 1,850 / 3600 = 25,225.2: 43,557.8 GPU-hours, an
    # average 43,557.8 / 24 / 8 = 226.86 nodes (disclosed: 226.75) and $87,116 a day at
    # $2 per GPU-hour (disclosed: $87,072); pools in the ratio 18,332.6 / 25,225.2 = 0.7268.
    day = dict(
        prompt_tokens=608e9,
        output_tokens=168e9,
        prefill_tokens_per_s_per_gpu=73.7e3 / 8,
        decode_tokens_per_s_per_gpu=14.8e3 / 8,
    )
    ratio = balanced_pool_ratio(**day)
    assert ratio == pytest.approx(18_332.6 / 25_225.2, rel=1e-4)
    # One "request" = the whole day: pools of 763.9 and 1,051.05 GPUs serve it in 24 h.
    decode_gpus = 25_225.2 / 24
    c = disaggregated_cost(
        prefill_gpus=ratio * decode_gpus, decode_gpus=decode_gpus, usd_per_gpu_hour=2.0, **day
    )
    assert 1 / c["requests_per_s"] == pytest.approx(86_400, rel=1e-4)
    assert c["usd_per_request"] == pytest.approx(87_072, rel=0.001)
    assert c["prefill_cost_share"] == pytest.approx(18_332.6 / 43_557.8, rel=1e-4)
    # $87,116 over 168,000 million output tokens = $0.5186 per million.
    assert c["usd_per_million_output_tokens"] == pytest.approx(0.5186, rel=1e-3)


def test_ttft_by_hand():
    # 2,000-token prompt on an 8-GPU prefill instance at 10,000 tok/s per GPU: 25 ms;
    # half busy, an M/D/1 queue waits 0.5 / (2 * 0.5) * 25 = 12.5 ms; DeepSeek's FP8 latent
    # cache, 61 * 576 B = 35,136 B/tok (theory-2025.md), 2,000 tokens = 70.272 MB over one
    # 400 Gb/s NIC at 80 % (40 GB/s): 1.7568 ms. TTFT 39.257 ms.
    t = ttft_ms(
        prompt_tokens=2000,
        prefill_tokens_per_s_per_gpu=10_000,
        prefill_gpus=8,
        prefill_busy_share=0.5,
        kv_bytes_per_token=35_136,
        scale_out_gb_s=50,
        network_efficiency=0.8,
    )
    assert t["service_ms"] == pytest.approx(25.0)
    assert t["queueing_ms"] == pytest.approx(12.5)
    assert t["kv_transfer_ms"] == pytest.approx(1.7568)
    assert t["ttft_ms"] == pytest.approx(39.2568)


def test_ttft_grows_without_bound_as_the_prefill_pool_fills():
    busy = np.array([0.0, 0.5, 0.9, 0.99])
    t = ttft_ms(
        prompt_tokens=2000,
        prefill_tokens_per_s_per_gpu=10_000,
        prefill_gpus=8,
        prefill_busy_share=busy,
        kv_bytes_per_token=0,
        scale_out_gb_s=50,
        network_efficiency=0.8,
    )
    assert t["queueing_ms"][0] == 0
    assert np.all(np.diff(t["ttft_ms"]) > 0)
    assert t["queueing_ms"][-1] == pytest.approx(0.99 / 0.02 * 25)


def test_tpot_is_the_decode_step():
    assert tpot_ms(20.0) == 20.0
    assert tpot_ms(20.0, 2.82) == pytest.approx(20.0 / 2.82)  # MTP, R5's acceptance


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: balanced_pool_ratio(**(WORKLOAD | {"prompt_tokens": 0})), "prompt_tokens"),
        (
            lambda: disaggregated_cost(
                prefill_gpus=8, decode_gpus=0, usd_per_gpu_hour=2.0, **WORKLOAD
            ),
            "decode_gpus",
        ),
        (
            lambda: disaggregated_cost(
                prefill_gpus=8, decode_gpus=8, usd_per_gpu_hour=2.0, utilization=0, **WORKLOAD
            ),
            "utilization",
        ),
        (
            lambda: ttft_ms(
                prompt_tokens=10,
                prefill_tokens_per_s_per_gpu=1,
                prefill_gpus=1,
                prefill_busy_share=1.0,
                kv_bytes_per_token=0,
                scale_out_gb_s=50,
                network_efficiency=0.8,
            ),
            "prefill_busy_share",
        ),
        (lambda: tpot_ms(10.0, 0.5), "tokens_per_step"),
    ],
)
def test_invalid_parameters_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_a_sweep_mixing_pools_keeps_each_row_its_own():
    # Mixtral 8x7B (8 experts) on 1 GPU with 16 prefill GPUs: the aggregated row under expert
    # parallelism is valid (prefill_gpus plays no part without disaggregation), the
    # disaggregated row under tensor parallelism too (16 GPUs split 32 heads). A scan of
    # both rows gives each row what it gives alone (the pool of the first row is not built
    # on 16 GPUs with 8 experts).
    base = Scenario(model="mixtral-8x7b", n_gpus=1, prefill_gpus=16)
    rows = scan(base, expert_parallel=[True, False], disaggregated=[False, True])
    for i, row in rows.iterrows():
        alone = evaluate(
            base.replace(expert_parallel=row["expert_parallel"], disaggregated=row["disaggregated"])
        )
        for name in ("ttft_ms", "usd_per_million_input_tokens", "prefill_ms"):
            assert row[name] == pytest.approx(alone[name], rel=1e-12), (i, name)
