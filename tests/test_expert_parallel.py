"""Expert parallelism in the evaluation: all-to-all, busiest GPU, memory, rules; TP unchanged."""

import pytest

from costmodel import Scenario, evaluate, sweep
from costmodel.imbalance import busiest_gpu_factor

# Mixtral 8x7B in FP8 on 8x H100, 256 sequences: expert parallelism over the 8 GPUs.
EP8 = Scenario(weight_format="fp8", n_gpus=8, batch_size=256, expert_parallel=True)


def test_tensor_parallel_rows_have_no_alltoall():
    r = evaluate(Scenario())
    assert r["alltoall_time_ms"] == 0.0
    assert r["busiest_gpu_factor"] == 1.0
    assert r["allreduce_time_ms"] > 0


def test_alltoall_of_mixtral_ep8_by_hand():
    r = evaluate(EP8)
    # Busiest GPU: 256 tokens * 2 of 8 experts over 8 GPUs (imbalance.busiest_gpu_factor).
    f = busiest_gpu_factor(tokens=256, n_experts=8, experts_per_token=2, n_gpus=8)
    assert r["busiest_gpu_factor"] == pytest.approx(f)
    assert 1.1 < f < 1.2
    # Per GPU 32 tokens * 2 copies * 4096 values, 7/8 to other GPUs: 229,376 values;
    # FP8 dispatch with block scales (1.03125 B): 236,544 B; BF16 combine 458,752 B. All
    # inside the HGX node at 900 / 2 * 0.8 = 360 GB/s, times the busiest GPU's factor,
    # plus 10 us per all-to-all: per layer 20 us + 695,296 B * f / 360 GB/s; 32 layers.
    per_layer_us = 20 + (236_544 + 458_752) * f / 360e3
    assert r["alltoall_time_ms"] == pytest.approx(32 * per_layer_us * 1e-3)
    assert r["alltoall_time_ms"] == pytest.approx(0.7113, abs=1e-3)


def test_ep_step_is_roofline_plus_alltoall_without_allreduce():
    r = evaluate(EP8)
    assert r["allreduce_time_ms"] == 0.0
    step = max(r["memory_time_ms"], r["compute_time_ms"]) + r["alltoall_time_ms"]
    assert r["decode_step_ms"] == pytest.approx(step + r["overhead_time_ms"])
    # Every GPU reads the whole attention and 16-bit weights: more bytes than under TP.
    tp = evaluate(EP8.replace(expert_parallel=False))
    assert r["weight_bytes_read_per_step_gb"] > tp["weight_bytes_read_per_step_gb"]


def test_ep_memory_replicates_the_non_expert_weights_by_hand():
    # BF16: non-expert weights (attention 1,342,177,280 + 16-bit 263,458,816 params) * 2 B
    # = 3.2113 GB on each of the 8 GPUs instead of once: 7 * 3.2113 = 22.479 GB more.
    # Two redundant experts add 2/8 of the 45,097,156,608 expert params * 2 B = 22.549 GB.
    bf16 = EP8.replace(weight_format="bf16")
    ep = evaluate(bf16)
    tp = evaluate(bf16.replace(expert_parallel=False))
    assert ep["weights_gb"] - tp["weights_gb"] == pytest.approx(
        7 * (1_342_177_280 + 263_458_816) * 2 / 1e9
    )
    copies = evaluate(bf16.replace(redundant_experts=2))
    assert copies["weights_gb"] - ep["weights_gb"] == pytest.approx(
        2 / 8 * 45_097_156_608 * 2 / 1e9
    )


def test_data_parallel_attention_stores_each_kv_head_once():
    # At 16 GPUs tensor parallelism replicates Mixtral's 8 KV heads (16 stored per token);
    # expert parallelism over 16 GPUs (8 experts + 8 copies) keeps 8: half the cache.
    tp = evaluate(EP8.replace(expert_parallel=False, n_gpus=16))
    ep = evaluate(EP8.replace(n_gpus=16, redundant_experts=8))
    assert ep["kv_cache_gb"] == pytest.approx(tp["kv_cache_gb"] / 2)


def test_leaving_the_nvlink_domain_costs_more_than_nvl72_by_hand():
    # DBRX (16 experts, top-4, hidden 6144, 40 layers) at EP 16, 512 sequences: per GPU 32
    # tokens * 4 * 6144 = 786,432 values, 15/16 remote = 737,280.
    s = Scenario(model="dbrx", weight_format="fp8", n_gpus=16, batch_size=512)
    rows = sweep(s.replace(expert_parallel=True), gpu=["h100-sxm", "gb200"])
    h100, gb200 = rows["alltoall_time_ms"]
    f = float(busiest_gpu_factor(tokens=512, n_experts=16, experts_per_token=4, n_gpus=16))
    assert list(rows["busiest_gpu_factor"]) == pytest.approx([f, f])
    # Two HGX H100 nodes: 8 of the 15 peers are behind the 50 GB/s NIC (at 0.8: 40 GB/s):
    # 393,216 values out, dispatch 405,504 B (FP8 + scales) and combine 786,432 B; the
    # NVLink part (7/15) is shorter and overlaps. Per layer 20 us + 1,191,936 B * f / 40e3.
    assert h100 == pytest.approx(40 * (20 + 1_191_936 * f / 40e3) * 1e-3)
    # One NVL72 domain: all 737,280 values over NVLink at 1800 / 2 * 0.8 = 720 GB/s:
    # dispatch 760,320 B, combine 1,474,560 B. Per layer 20 us + 2,234,880 B * f / 720e3.
    assert gb200 == pytest.approx(40 * (20 + 2_234_880 * f / 720e3) * 1e-3)
    assert h100 > 2 * gb200


def test_redundant_experts_lower_the_busiest_gpu_under_skew():
    skewed = EP8.replace(routing_skew=1.0)
    without = evaluate(skewed)
    with_copies = evaluate(skewed.replace(redundant_experts=8))
    assert with_copies["busiest_gpu_factor"] < without["busiest_gpu_factor"]
    assert with_copies["compute_time_ms"] < without["compute_time_ms"]


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(model="llama-2-70b", expert_parallel=True),  # dense: no experts to spread
        EP8.replace(n_gpus=16),  # 8 experts cannot fill 16 GPUs without copies
    ],
)
def test_expert_parallel_rules(scenario):
    with pytest.raises(ValueError, match="expert_parallel"):
        evaluate(scenario)
