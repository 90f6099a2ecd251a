"""All-to-all of expert parallelism by hand: DeepSeek-V3 decode at EP 8 / 72, and DeepEP."""

import numpy as np
import pytest

from costmodel.comm import (
    FP8_BLOCK_SCALED_BYTES_PER_VALUE,
    alltoall_bytes,
    alltoall_ms,
    moe_layer_count,
    one_alltoall_ms,
)

# DeepSeek-V3 (hf-configs/deepseek-ai--DeepSeek-V3.json): hidden 7168, top-8 of 256
# experts, 61 layers of which the first 3 are dense (first_k_dense_replace).
HIDDEN, TOP_K = 7168, 8
MOE_LAYERS = 61 - 3
# A decode step of 256 sequences per GPU (the batch of R6, measurements-2025.csv).
PER_GPU = 256
# Efficiencies of the hopper/blackwell families (assets/gpu_families.csv: link 0.80), a
# NIC at 80 % of its line rate and 10 us per all-to-all (fitted to DeepEP, see below).
NET = dict(link_efficiency=0.8, network_efficiency=0.8, alltoall_latency_us=10.0)
# Per GPU, all k copies in FP8: 256 tokens * 8 * 7168 * 1 B = 14,680,064 B.
ALL_COPIES_FP8 = 256 * 8 * 7168


def deepseek_step(n_gpus, domain, scale_up_gb_s, scale_out_gb_s, **kw):
    return alltoall_ms(
        tokens=PER_GPU * n_gpus,
        n_gpus=n_gpus,
        scale_up_domain_gpus=domain,
        experts_per_token=TOP_K,
        hidden_size=HIDDEN,
        n_moe_layers=MOE_LAYERS,
        scale_up_gb_s=scale_up_gb_s,
        scale_out_gb_s=scale_out_gb_s,
        **(NET | kw),
    )


def deepseek_dispatch_bytes(n_gpus, domain):
    """FP8 dispatch bytes per GPU of 256 tokens per GPU (1 byte per value)."""
    return alltoall_bytes(
        tokens=PER_GPU * n_gpus,
        n_gpus=n_gpus,
        scale_up_domain_gpus=domain,
        experts_per_token=TOP_K,
        hidden_size=HIDDEN,
        bytes_per_value=1,
    )


def test_moe_layer_count():
    assert moe_layer_count(61, 3) == 58  # DeepSeek-V3
    assert moe_layer_count(61, 1) == 60  # Kimi K2
    assert moe_layer_count(48, 0, 2) == 24  # Llama 4 Maverick: every other layer
    assert list(moe_layer_count(np.array([94, 32]))) == [94, 32]
    with pytest.raises(ValueError, match="moe_layer_step"):
        moe_layer_count(48, 0, 0)
    with pytest.raises(ValueError, match="first_dense_layers"):
        moe_layer_count(3, 4)


def test_ep8_on_h200_stays_on_nvlink():
    # EP 8 in one HGX H200 (8-GPU NVLink domain): 7/8 of the copies leave the GPU, all
    # over NVLink: dispatch 14,680,064 * 7/8 = 12,845,056 B, combine (BF16) 25,690,112 B.
    b = deepseek_dispatch_bytes(8, 8)
    assert b["in_domain_bytes"] == pytest.approx(12_845_056)
    assert b["scale_out_bytes"] == 0
    # NVLink4 900 GB/s both ways (assets/gpus.csv) / 2 * 0.8 = 360 GB/s one way:
    # dispatch 12,845,056 / 360e9 = 35.681 us, combine 71.361 us, plus 2 * 10 us latency
    # = 127.04 us per MoE layer; * 58 layers = 7.368 ms per decode step.
    per_layer_us = 10 + 12_845_056 / 360e3 + 10 + 25_690_112 / 360e3
    assert per_layer_us == pytest.approx(127.04, abs=0.01)
    assert deepseek_step(8, 8, 900, 50) == pytest.approx(58 * per_layer_us * 1e-3)
    assert deepseek_step(8, 8, 900, 50) == pytest.approx(7.368, abs=1e-3)


def test_ep72_across_hgx_h100_nodes_is_bound_by_the_nic():
    # EP 72 over nine 8-GPU H100 nodes: 71/72 of the copies are remote, 7 of the 71 peers
    # share the node: in-domain 14,680,064 * 7/72 = 1,427,228.4 B, out 14,680,064 * 64/72
    # = 13,048,945.8 B for the FP8 dispatch (twice that for the BF16 combine).
    b = deepseek_dispatch_bytes(72, 8)
    assert b["in_domain_bytes"] == pytest.approx(ALL_COPIES_FP8 * 7 / 72)
    assert b["scale_out_bytes"] == pytest.approx(ALL_COPIES_FP8 * 64 / 72)
    # NVLink 360 GB/s: 3.96 us; the NIC, 400 Gb/s = 50 GB/s * 0.8 = 40 GB/s: 326.22 us.
    # They overlap: dispatch 10 + 326.22 us, combine 10 + 652.45 us: 998.67 us per
    # layer, * 58 = 57.92 ms, about half of R6's 92 ms step (256 seqs / 2,785 tok/s).
    per_layer_us = 10 + 13_048_945.8 / 40e3 + 10 + 2 * 13_048_945.8 / 40e3
    h100 = deepseek_step(72, 8, 900, 50)
    assert h100 == pytest.approx(58 * per_layer_us * 1e-3)
    assert h100 == pytest.approx(57.92, abs=0.01)
    # Without overlap the NVLink part adds 3 * 1,427,228.4 / 360e3 = 11.89 us per layer.
    serial = deepseek_step(72, 8, 900, 50, overlap_links=False)
    assert serial - h100 == pytest.approx(58 * 3 * 1_427_228.4 / 360e3 * 1e-3)


def test_ep72_inside_gb200_nvl72_is_far_cheaper_than_across_nodes():
    # All 72 GPUs in one NVLink domain: 14,476,174 B dispatch at 1,800 GB/s (900 per
    # direction, gpus-2025.csv) / 2 * 0.8 = 720 GB/s: 20.106 us; combine 40.212 us.
    # Per layer 20 + 60.318 = 80.318 us, * 58 = 4.658 ms: 12x less than on H100 nodes.
    remote = ALL_COPIES_FP8 * 71 / 72
    per_layer_us = 10 + remote / 720e3 + 10 + 2 * remote / 720e3
    gb200 = deepseek_step(72, 72, 1800, 50)
    assert gb200 == pytest.approx(58 * per_layer_us * 1e-3)
    assert gb200 == pytest.approx(4.658, abs=1e-3)
    assert gb200 < deepseek_step(72, 8, 900, 50) / 10


@pytest.mark.parametrize(
    ("n_gpus", "dispatch_us", "combine_us"),
    [(64, 173, 314), (128, 192, 369), (256, 194, 360)],
)
def test_matches_deepep_low_latency_kernels(n_gpus, dispatch_us, combine_us):
    # deepseek-ai/DeepEP README: H800 (400 GB/s NVLink both ways, gpus-2025.csv) with one
    # 400 Gb/s CX7 NIC per GPU; 128 tokens per GPU, hidden 7168, top-8, FP8 dispatch with
    # one FP32 scale per 128 values, BF16 combine. E.g. EP 256: 128 * 8 * 7168 * 1.03125
    # * 248/256 B = 7.33 MB over 40 GB/s = 183 us + 10 us = 193 us (measured 194).
    kw = dict(
        tokens=128 * n_gpus,
        n_gpus=n_gpus,
        scale_up_domain_gpus=8,
        experts_per_token=8,
        hidden_size=7168,
        scale_up_gb_s=400,
        scale_out_gb_s=50,
        **NET,
    )
    dispatch = one_alltoall_ms(bytes_per_value=FP8_BLOCK_SCALED_BYTES_PER_VALUE, **kw)
    combine = one_alltoall_ms(bytes_per_value=2, **kw)
    assert dispatch * 1e3 == pytest.approx(dispatch_us, rel=0.06)
    assert combine * 1e3 == pytest.approx(combine_us, rel=0.06)


def test_one_gpu_sends_nothing_and_costs_nothing():
    b = deepseek_dispatch_bytes(1, 8)
    assert b["in_domain_bytes"] == 0 and b["scale_out_bytes"] == 0
    assert deepseek_step(1, 8, 900, 50) == 0


def test_busiest_gpu_scales_the_transfer_not_the_latency():
    base = deepseek_step(72, 8, 900, 50, alltoall_latency_us=0.0)
    assert deepseek_step(
        72, 8, 900, 50, alltoall_latency_us=0.0, busiest_gpu_factor=1.25
    ) == pytest.approx(1.25 * base)


def test_time_is_vectorised_and_grows_with_gpus_leaving_the_domain():
    gpus = np.array([2, 4, 8, 16, 32, 72, 144])
    t = deepseek_step(gpus, 8, 900, 50)
    assert t.shape == gpus.shape
    assert np.all(np.diff(t) > 0)
    # A mesh (MI300X-like: 7 links of 128 GB/s) at EP 2 uses one link: 1/7 of the bandwidth.
    mesh = deepseek_step(2, 8, 896, 50, mesh_links=7, alltoall_latency_us=0.0)
    switch = deepseek_step(2, 8, 896, 50, alltoall_latency_us=0.0)
    assert mesh == pytest.approx(7 * switch)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("link_efficiency", 0.0),
        ("network_efficiency", 1.5),
        ("scale_out_gb_s", 0.0),
        ("alltoall_latency_us", -1.0),
        ("busiest_gpu_factor", 0.5),
        ("n_moe_layers", -1),
        ("tokens", 0),
    ],
)
def test_invalid_parameters_are_named(name, value):
    kw = dict(
        tokens=256,
        n_gpus=8,
        scale_up_domain_gpus=8,
        experts_per_token=8,
        hidden_size=7168,
        n_moe_layers=58,
        scale_up_gb_s=900,
        scale_out_gb_s=50,
        **NET,
    )
    kw[name] = value
    with pytest.raises(ValueError, match=name):
        alltoall_ms(**kw)
