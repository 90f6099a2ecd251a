"""Time of one forward pass on a tensor-parallel group: roofline + all-reduce + overhead.

A forward pass over ``tokens`` tokens (a decode step of B sequences, a verification of
B * (g+1) draft tokens, or a prefill of B prompts) costs

    t = sum over parts of max(t_memory, t_compute) + t_allreduce + t_overhead

(the parts: routed experts, dense weights, attention over the cache, one after another)

- ``t_memory``: bytes read (weights of the experts read, KV cache) over the achieved
  bandwidth of all GPUs, ``n * bandwidth * bandwidth_efficiency``; quantised weights are
  read at their format's ``bandwidth_efficiency_factor`` (routed experts in the weight
  format; attention, shared experts and dense FFN layers in the attention format) and
  routed expert weights at ``moe.moe_kernel_efficiency`` on top:
  the stack's ``moe_kernel_efficiency`` (0.65 for the 2024 calibration) at one token per
  expert, rising to 1.09 times that as each expert gets more tokens, times
  ``moe.expert_parallelism`` of the experts each GPU streams (few experts leave SMs idle).
- ``t_compute``: FLOPs over ``n * peak * compute_efficiency`` of each format's compute
  type, with the same factors (expert FLOPs at ``moe_kernel_efficiency`` and at the
  matrix efficiency of their tokens per expert, ``matmul``); attention scores and values
  at the bf16 peak.
- ``t_allreduce``: two all-reduces per layer of ``tokens * hidden * 2`` bytes,
  each ``latency * log2(n) + 2 (n-1)/n * bytes / bus_bandwidth``.
- ``t_overhead``: a fixed cost per layer and per kernel the layers launch
  (``overheads.fixed_ms``).
- ``t_combine``: the routed experts' top-k combine (:func:`moe_combine_bytes`): each
  expert's output row written and read back before the weighted sum, at the achieved
  bandwidth; a part of its own (the sum is a kernel of its own).
"""

from __future__ import annotations

import numpy as np

from costmodel.matmul import (
    ATTENTION_TILE_ROWS,
    attention_rows,
    expected_matrix_efficiency,
    matrix_efficiency,
)
from costmodel.memory import BYTES_16BIT
from costmodel.moe import expert_parallelism, experts_read, moe_kernel_efficiency
from costmodel.overheads import fixed_ms

#: All-reduces per transformer layer under tensor parallelism (after attention and MLP).
ALLREDUCES_PER_LAYER = 2

#: Bytes the top-k combine of a mixture of experts moves per (token, routed expert,
#: hidden value) on a GPU that computes that pair: the down projection writes each
#: expert's output row in the activations' BF16 (2 B) and the weighted sum over the top-k
#: reads it back (2 B). vLLM's fused MoE (vllm/model_executor/layers/fused_moe/
#: fused_moe.py) and SGLang's Triton MoE runner allocate ``intermediate_cache3`` of shape
#: (tokens, top_k, hidden) in the activations' dtype for the down projection's output and
#: reduce it with ``moe_sum`` / ``moe_sum_reduce``; TensorRT-LLM's CUTLASS MoE writes
#: the expanded rows and sums them in ``finalizeMoeRouting`` the same way [B].
MOE_COMBINE_BYTES = 4.0


def allreduce_ms(tokens, hidden_size, n_layers, n_gpus, latency_us, bus_gb_s):
    """Time of the tensor-parallel all-reduces of one forward pass [ms].

    ``2 L * (latency_us * 1e-3 * log2(n) + 2 (n-1)/n * tokens * hidden * 2 B / bus)``;
    zero on one GPU. ``bus_gb_s`` is the achieved one-way bus bandwidth per GPU [GB/s].
    """
    n = np.asarray(n_gpus, float)
    message_gb = np.asarray(tokens, float) * hidden_size * BYTES_16BIT / 1e9
    per_allreduce_s = latency_us * 1e-6 * np.log2(n) + 2.0 * (n - 1.0) / n * message_gb / bus_gb_s
    return ALLREDUCES_PER_LAYER * np.asarray(n_layers, float) * per_allreduce_s * 1e3


def bus_bandwidth_gb_s(scale_up_gb_s, link_efficiency, n_gpus, mesh_links):
    """Achieved one-way bus bandwidth per GPU for an all-reduce among ``n_gpus`` [GB/s].

    ``scale_up_gb_s / 2 * link_efficiency`` behind a switch (NVSwitch, PCIe: empty
    ``mesh_links``). In a fully connected mesh of ``mesh_links`` links per GPU (AMD
    Infinity Fabric: 7 links of 128 GB/s), n GPUs reach each other over only
    ``min(n - 1, mesh_links)`` of them: 2 MI300X share one 128 GB/s link, not 896 GB/s.
    """
    links = np.asarray(mesh_links, float)
    peers = np.maximum(np.asarray(n_gpus, float) - 1.0, 1.0)
    share = np.where(
        np.isnan(links), 1.0, np.minimum(peers, links) / np.where(links > 0, links, 1.0)
    )
    return np.asarray(scale_up_gb_s, float) / 2.0 * link_efficiency * share


def forward_ms(
    *,
    tokens,
    logit_tokens,
    kv_bytes_read,
    attention_flops,
    arch,
    hw,
    fmt,
    eff,
    expert_parallel=False,
    busiest_gpu_factor=1.0,
    query_tokens=1.0,
    rank_load_factor=1.0,
) -> dict:
    """Time of one forward pass over ``tokens`` tokens and its parts [ms].

    ``arch``: parameter counts (see ``architecture.parameter_counts``), ``n_experts``,
    ``experts_per_token``, ``n_layers``, ``hidden_size``, ``kv_bytes_per_token`` (cache
    bytes each new token writes), ``routing_skew``. ``hw``: ``n_gpus``,
    ``bandwidth_tb_s``, ``peak_tflops`` (the routed experts' format's compute type),
    ``attention_peak_tflops`` (the rest's), ``bf16_tflops``, ``bus_gb_s``. ``fmt``:
    ``bytes_per_weight``, ``bandwidth_factor``, ``compute_factor`` of the routed experts'
    format and the same with an ``attention_`` prefix for the format of attention,
    shared-expert and dense-FFN weights (read every step). ``eff``: ``bandwidth_efficiency``,
    ``compute_efficiency``, ``moe_kernel_efficiency``, ``allreduce_latency_us``,
    ``layer_overhead_us``, ``kernel_us``. ``logit_tokens`` are the tokens whose logits are
    computed; ``kv_bytes_read`` the cache bytes read (``attention.decode_cache_read_bytes``);
    ``attention_flops`` the score and value FLOPs; ``query_tokens`` the tokens of each
    sequence in the pass (1 for a decode step, g + 1 for a verification, the prompt for
    a prefill), which sets how full the attention kernel's tiles are.

    The pass runs three parts one after another, each at its own roofline (the routed
    experts; the dense weights: attention projections, shared experts, dense FFN, router,
    LM head; the attention over the cache):
    ``t = sum over parts of max(bytes / bandwidth, FLOPs / throughput)``, plus the
    experts' top-k combine at the bandwidth (:func:`moe_combine_bytes`). Expert FLOPs run
    at ``matmul.expected_matrix_efficiency`` of the tokens each expert gets, attention FLOPs at
    that of its query rows (``matmul.attention_rows``).
    ``expert_parallel`` rows split the experts over the GPUs and run attention data-
    parallel: every GPU reads the whole non-expert weights (their bytes count
    ``n_gpus`` times) and there is no all-reduce; their expert FLOPs wait for the
    busiest GPU, ``busiest_gpu_factor`` times the mean (``imbalance``). The all-to-all
    is added by the caller (``comm.alltoall_ms``).
    Returns ``total_ms`` and ``memory_ms``, ``compute_ms`` (sums over the parts),
    ``allreduce_ms``, ``overhead_ms``, ``experts_read_per_layer``, ``weight_bytes_read``,
    ``kv_bytes_read``.
    """
    E = arch["n_experts"]
    read = experts_read(tokens, E, arch["experts_per_token"], arch["routing_skew"])
    moe_factor = np.where(E > 1, eff["moe_kernel_efficiency"], 1.0)
    k = arch["experts_per_token"]
    per_expert = tokens * k / read
    experts_per_gpu = np.where(expert_parallel, read / hw["n_gpus"], read)
    moe_stream = np.where(
        E > 1,
        moe_kernel_efficiency(per_expert, moe_factor)
        * expert_parallelism(experts_per_gpu, eff["moe_half_experts"]),
        1.0,
    )
    quant_bw, always_bw = fmt["bandwidth_factor"], fmt["attention_bandwidth_factor"]

    always_params = arch["attention_params"] + arch["shared_expert_params"]
    always_params = always_params + arch["dense_ffn_params"]
    expert_bytes = arch["expert_params"] * read / E * fmt["bytes_per_weight"]
    attention_bytes = always_params * fmt["attention_bytes_per_weight"]
    other_bytes = (arch["router_params"] + arch["lm_head_params"] + arch["norm_params"]) * 2.0
    dense_copies = np.where(expert_parallel, hw["n_gpus"], 1.0)
    kv_bytes = np.asarray(kv_bytes_read, float) + tokens * arch["kv_bytes_per_token"]
    bandwidth_b_s = hw["n_gpus"] * hw["bandwidth_tb_s"] * 1e12 * eff["bandwidth_efficiency"]
    expert_memory_s = expert_bytes / (quant_bw * moe_stream) / bandwidth_b_s
    dense_memory_s = dense_copies * (attention_bytes / always_bw + other_bytes) / bandwidth_b_s
    attention_memory_s = kv_bytes * rank_load_factor / bandwidth_b_s

    dense_flops = 2.0 * tokens * (always_params + arch["router_params"])
    dense_flops = dense_flops + 2.0 * logit_tokens * arch["lm_head_params"]
    k_over_e = arch["experts_per_token"] / E
    expert_flops = 2.0 * tokens * arch["expert_params"] * k_over_e * busiest_gpu_factor
    flops_s = hw["n_gpus"] * 1e12 * eff["compute_efficiency"]
    expert_rate = fmt["compute_factor"] * moe_factor * hw["peak_tflops"]
    expert_rate = expert_rate * np.where(E > 1, expected_matrix_efficiency(per_expert), 1.0)
    expert_compute_s = expert_flops / expert_rate / flops_s
    dense_rate = fmt["attention_compute_factor"] * hw["attention_peak_tflops"]
    dense_compute_s = dense_flops * rank_load_factor / dense_rate / flops_s
    heads_split = np.where(expert_parallel, 1.0, hw["n_gpus"])
    rows = attention_rows(arch, heads_split, query_tokens)
    attention_rate = hw["bf16_tflops"] * matrix_efficiency(rows, ATTENTION_TILE_ROWS)
    attention_compute_s = attention_flops * rank_load_factor / attention_rate / flops_s

    combine_copies = np.where(expert_parallel, 1.0, hw["n_gpus"])
    combine_s = moe_combine_bytes(tokens, arch, combine_copies) / bandwidth_b_s
    parts_s = (
        combine_s
        + np.maximum(expert_memory_s, expert_compute_s)
        + np.maximum(dense_memory_s, dense_compute_s)
        + np.maximum(attention_memory_s, attention_compute_s)
    )
    memory_ms = (combine_s + expert_memory_s + dense_memory_s + attention_memory_s) * 1e3
    compute_ms = (expert_compute_s + dense_compute_s + attention_compute_s) * 1e3
    ar_ms = np.where(
        expert_parallel,
        0.0,
        allreduce_ms(
            tokens,
            arch["hidden_size"],
            arch["n_layers"],
            hw["n_gpus"],
            eff["allreduce_latency_us"],
            hw["bus_gb_s"],
        ),
    )
    overhead_ms = fixed_ms(arch, eff["layer_overhead_us"], eff["kernel_us"])
    return {
        "total_ms": parts_s * 1e3 + ar_ms + overhead_ms,
        "memory_ms": memory_ms,
        "compute_ms": compute_ms,
        "allreduce_ms": ar_ms,
        "overhead_ms": overhead_ms,
        "experts_read_per_layer": read,
        "weight_bytes_read": dense_copies * attention_bytes
        + expert_bytes
        + dense_copies * other_bytes,
        "kv_bytes_read": kv_bytes,
    }


def moe_combine_bytes(tokens, arch, copies):
    """Bytes of the routed experts' top-k combine in one forward pass, over all GPUs [B].

    ``tokens * k * hidden * MOE_COMBINE_BYTES * moe_layers * copies``: every (token,
    expert) pair's output row written and read back before the weighted sum, in each of
    the ``expert_ffn_layers`` (0 for a dense model). ``copies`` is the GPUs that compute
    each pair: under tensor parallelism every GPU holds a slice of every expert's
    intermediate dimension and writes a whole hidden-wide partial row for every pair (n
    copies); under expert parallelism a pair lives on one GPU (1). DeepSeek-R1 (k = 8,
    hidden 7,168, 58 MoE layers) prefilling 7,373 tokens under TP8: 7,373 x 8 x 7,168 x
    4 B x 58 = 98.1 GB per GPU, 16 ms at 8 TB/s x 0.75 on a B200; a decode step of 64
    tokens moves 0.85 GB per GPU.
    """
    E = np.asarray(arch["n_experts"])
    layers = arch["expert_ffn_layers"]
    pair_bytes = arch["experts_per_token"] * arch["hidden_size"] * MOE_COMBINE_BYTES
    per_copy = np.asarray(tokens, float) * pair_bytes * np.asarray(layers, float)
    return np.where(E > 1, per_copy * copies, 0.0)
