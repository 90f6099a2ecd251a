"""Step time by hand: all-reduce, bus bandwidth of switched and meshed GPUs, the roofline."""

import numpy as np
import pytest

from costmodel import Scenario, evaluate
from costmodel.step import allreduce_ms, bus_bandwidth_gb_s


def test_allreduce_by_hand():
    # Mixtral decode at batch 32 on 2x H100: message 32 tokens * 4096 * 2 B = 262,144 B.
    # Bus: 900 GB/s bidirectional / 2 * 0.8 link efficiency = 360 GB/s one way.
    # One all-reduce: 10 us * log2(2) + 2 * (1/2) * 262,144e-9 GB / 360 GB/s = 10.728 us;
    # two per layer, 32 layers: 64 * 10.728 us = 0.6866 ms.
    bus = bus_bandwidth_gb_s(900, 0.8, 2, np.nan)
    assert bus == pytest.approx(360.0)
    expected_ms = 64 * (10e-6 + 262_144e-9 / 360) * 1e3
    assert allreduce_ms(32, 4096, 32, 2, 10.0, bus) == pytest.approx(expected_ms)
    assert evaluate(Scenario())["allreduce_time_ms"] == pytest.approx(expected_ms)


def test_no_allreduce_on_one_gpu():
    assert allreduce_ms(32, 4096, 32, 1, 10.0, 360.0) == 0.0


def test_allreduce_latency_grows_with_gpu_count():
    tiny = [allreduce_ms(1, 4096, 32, n, 10.0, 360.0) for n in (2, 4, 8)]
    # Latency dominates a 1-token message: 64 * 10 us * log2(n) = 0.64, 1.28, 1.92 ms, plus
    # 64 * 2 (n-1)/n * 8,192e-9 GB / 360 GB/s = 1.46, 2.18, 2.55 us of transfer.
    transfer = [64 * 2 * (n - 1) / n * 8192e-9 / 360 * 1e3 for n in (2, 4, 8)]
    latency = [0.64, 1.28, 1.92]
    assert tiny == pytest.approx([a + b for a, b in zip(latency, transfer, strict=True)])


def test_mesh_shares_links_between_fewer_gpus():
    # MI300X: 7 Infinity Fabric links, 896 GB/s in all (128 GB/s each, both directions).
    # Two GPUs use one link: 896 / 2 * 0.7 / 7 = 44.8 GB/s; eight GPUs use all seven.
    assert bus_bandwidth_gb_s(896, 0.7, 2, 7) == pytest.approx(44.8)
    assert bus_bandwidth_gb_s(896, 0.7, 4, 7) == pytest.approx(44.8 * 3)
    assert bus_bandwidth_gb_s(896, 0.7, 8, 7) == pytest.approx(313.6)
    # An NVSwitch GPU gets the whole bandwidth at any count.
    assert bus_bandwidth_gb_s(900, 0.8, 2, np.nan) == bus_bandwidth_gb_s(900, 0.8, 8, np.nan)


def test_tensor_parallel_costs_mi300x_more_than_h100():
    # Same 2-GPU split, same message: the MI300X pair talks over one link (C14).
    mi300x = evaluate(Scenario(gpu="mi300x", batch_size=256))
    h100 = evaluate(Scenario(gpu="h100-sxm", batch_size=256))
    assert mi300x["allreduce_time_ms"] > 3 * h100["allreduce_time_ms"]


def test_batch_one_decode_is_the_weight_read_by_hand():
    # P1 setup: 2x H100, bf16, batch 1, 128 + 128 tokens. Bytes per step: attention
    # 1.342e9 * 2 B + 2 of 8 experts of 45.10e9 params * 2 B + (router + lm_head + norms) * 2
    # B, plus the KV cache at 192 tokens * 131,072 B. Expert bytes stream at
    # bandwidth * 0.8 * moe_kernel_efficiency 0.65; the rest at bandwidth * 0.8.
    r = evaluate(Scenario(batch_size=1, prompt_tokens=128, output_tokens=128))
    attention = 32 * 4096 * 128 * (2 * 32 + 2 * 8) * 2
    experts = 32 * 8 * 3 * 4096 * 14336 * 2 * 2 / 8
    sixteen_bit = (32 * 4096 * 8 + 32000 * 4096 + 65 * 4096) * 2
    kv = (192 + 1) * 131_072
    # The top-k combine (step.moe_combine_bytes): 1 token x 2 experts x 4,096 values x 4 B
    # x 32 MoE layers, on both GPUs of the tensor-parallel pair.
    combine = 1 * 2 * 4096 * 4 * 32 * 2
    bandwidth = 2 * 3.35e12 * 0.8
    memory_ms = (attention + sixteen_bit + kv + combine) / bandwidth
    memory_ms = (memory_ms + experts / (bandwidth * 0.65)) * 1e3
    assert r["experts_read_per_layer"] == pytest.approx(2.0)
    assert r["memory_time_ms"] == pytest.approx(memory_ms, rel=1e-9)
    assert r["memory_time_ms"] > 10 * r["compute_time_ms"]
    # Step = memory + all-reduce + 32 layers * 5 us overhead.
    expected = memory_ms + r["allreduce_time_ms"] + 32 * 5e-3
    assert r["decode_step_ms"] == pytest.approx(expected, rel=1e-9)
