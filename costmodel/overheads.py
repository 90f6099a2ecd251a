"""Fixed time of a forward pass: the kernels each layer launches, whatever their size.

A GPU kernel costs its launch, the ramp-up of its thread blocks and its tail even when it
moves almost no bytes: a few microseconds with CUDA/HIP graphs. A layer runs a fixed
sequence of kernels that depends on its kind, so a pass pays

    t_fixed = kernel_us * sum over layer kinds of (layers of that kind * KERNELS_PER_LAYER)

on top of its bytes and FLOPs (``step.forward_ms``) and of the tensor-parallel
all-reduces (``step.allreduce_ms``, counted there). At batch 1 this is most of a
DeepSeek-R1 step: TensorRT-LLM's 8x B200 reaches 111 tokens/s (9.0 ms per step) where
its bytes take under 1 ms (NVIDIA/TensorRT-LLM docs/source/blogs/tech_blog/blog1,
"Pushing Latency Boundaries"; measurement R4).
"""

from __future__ import annotations

import numpy as np

#: CPU time a serving engine spends per running sequence in each decode step outside the
#: GPU's kernels: the scheduler's bookkeeping (KV-cache slots of the step's tokens),
#: sampling and acceptance of the step's tokens, stop checks and output processing, in
#: Python [us]. The whole loop costs milliseconds per step at serving batch sizes: vLLM
#: measured 5-13 ms of GPU idle per decode step before it overlapped it
#: (vllm-project/vllm issue 6854), SGLang "as much as half of its time" in an
#: unoptimised engine (SGLang v0.4 blog, zero-overhead batch scheduler); the part that
#: grows with the batch is tens of us per request once speculative bookkeeping is added
#: (vLLM's output update alone, 1.1 us per request, PR 46112; SGLang's speculative
#: decoding frees the rejected drafts' cache slots and tracks accepted lengths request
#: by request). 100 us: the level at which InferenceX's tensor-parallel MTP runs at
#: 256-512 requests (SGLang and ATOM on B200 and MI355X, TensorRT-LLM on B200, 2026) stop
#: gaining from their batch (``benchmarks/bench_calibration.py``: 60 us leaves them 40-120 %
#: too fast; leave-one-GPU-out has 70.5 % of rows within 25 % without the term, 73 % at
#: 60 us, 74 % at 100 us); within the 10-150 us these sources bound.
SCHEDULER_US_PER_SEQUENCE = 100.0

#: Stack parameters that are fixed times of a forward pass (a kernel's, an all-reduce's):
#: a value pooled over GPU families carries to a GPU by :func:`fixed_time_scale`.
FIXED_TIME_PARAMETERS = ("kernel_us", "allreduce_latency_us")

#: HBM bandwidth at which a serving stack's pooled fixed times are stated [TB/s]: the
#: H200's (the GPU with every NVIDIA stack in the InferenceX file).
REFERENCE_BANDWIDTH_TB_S = 4.8

#: Share of a small kernel's fixed time that does not scale with the GPU: the launch of
#: a CUDA/HIP graph node. A graph launches a tiny kernel in 0.5-0.9 us (NVIDIA's
#: "Getting Started with CUDA Graphs": 3.4 us per 2.9 us kernel in a graph; CUDA.jl's
#: graphs page: 80 tiny broadcast kernels in 70 us, 0.9 us each, their own work
#: included) of the ~3.7 us a DeepSeek-R1 kernel takes at batch 1 (TensorRT-LLM on
#: B200: ~40 kernels per layer, 61 layers, 9 ms per step, blog1): 0.15-0.25. The rest is
#: the kernel's ramp-up, its dependent memory round trips and its tail, and the flag
#: exchanges of a small all-reduce, which run at the GPU's memory system.
LAUNCH_SHARE = 0.2

#: Kernels on the critical path of one layer, by layer kind, all-reduces left out
#: (``step.allreduce_ms`` prices them). Counted from the kernels the serving stacks launch:
#:
#: - ``mla``: TensorRT-LLM's DeepSeek-R1 MLA decode (blog1's diagram, modules 1-8):
#:   fused down-projection GEMM (W_DQ, W_DKV, W_KR), the Q/K RMSNorms, up-projection GEMM
#:   (W_UQ, W_QR), W_UK batched GEMM, KV-cache concat + RoPE, attention, W_UV batched
#:   GEMM, output GEMM: 8.
#: - ``mla_indexer``: DeepSeek-V3.2's sparse-attention indexer on top of ``mla``: its
#:   query and key projections, the FP8 logits kernel and the top-k selection: 4.
#: - ``gqa``: vLLM's Llama/Mixtral attention (vllm/model_executor/models/llama.py):
#:   fused add + RMSNorm, QKV GEMM, rotary embedding + cache write, attention, output
#:   GEMM: 5 (sliding-window layers alike).
#: - ``linear``: a Gated DeltaNet layer (Qwen3-Next/Qwen3.5 in vLLM and SGLang):
#:   RMSNorm, the two input projections, the causal 1-D convolution, the gating, the
#:   delta-rule recurrence, the gated RMSNorm and the output projection: 8.
#: - ``moe``: a routed-expert block (blog1 modules 10, 12, 13): router GEMM, top-k, the
#:   grouped up-projection GEMM (activation fused), the grouped down-projection GEMM, the
#:   weighted reduction + RMSNorm: 5. Shared experts run on a second stream, hidden
#:   behind the routed ones (blog1 module 11, "multi-streams"): 0 more.
#: - ``dense_ffn``: a dense SwiGLU block: RMSNorm, gate-up GEMM, SiLU-and-multiply, down
#:   GEMM: 4.
KERNELS_PER_LAYER = {
    "mla": 8,
    "mla_indexer": 4,
    "gqa": 5,
    "linear": 8,
    "moe": 5,
    "dense_ffn": 4,
}


def kernels_per_pass(arch: dict):
    """Kernels one forward pass launches: the sum over layer kinds [-].

    ``arch``: the model's layer counts (``gqa_layers``, ``sliding_layers``,
    ``mla_layers``, ``linear_layers``, ``expert_ffn_layers``, ``dense_ffn_layers``),
    ``index_topk`` (above 0: sparse MLA with an indexer) and ``n_experts`` (1: the
    "expert" layers are a dense FFN). DeepSeek-R1 (61 MLA layers, 58 MoE, 3 dense):
    61 x 8 + 58 x 5 + 3 x 4 = 790; Llama-2-70B (80 GQA layers, dense): 80 x (5 + 4) = 720.
    """
    k = KERNELS_PER_LAYER
    attention = (arch["gqa_layers"] + arch["sliding_layers"]) * k["gqa"]
    attention = attention + arch["mla_layers"] * (
        k["mla"] + np.where(arch["index_topk"] > 0, k["mla_indexer"], 0)
    )
    attention = attention + arch["linear_layers"] * k["linear"]
    expert_kernels = np.where(arch["n_experts"] > 1, k["moe"], k["dense_ffn"])
    ffn = arch["expert_ffn_layers"] * expert_kernels + arch["dense_ffn_layers"] * k["dense_ffn"]
    return attention + ffn


def fixed_ms(arch: dict, layer_overhead_us, kernel_us):
    """Fixed time of one forward pass [ms]: ``L * layer_overhead_us + kernels * kernel_us``.

    ``layer_overhead_us``: the GPU family's fixed cost per layer (``gpu_families.csv``);
    ``kernel_us``: the serving stack's fixed time per kernel (``serving_stacks.csv``,
    0 for the 2024 calibration). DeepSeek-R1 at 5 us per layer and 6 us per kernel:
    (61 x 5 + 790 x 6) / 1000 = 5.045 ms.
    """
    per_pass_us = arch["n_layers"] * layer_overhead_us + kernels_per_pass(arch) * kernel_us
    return per_pass_us * 1e-3


def fixed_time_scale(bandwidth_tb_s):
    """How a stack's fixed time stated at ``REFERENCE_BANDWIDTH_TB_S`` carries to a GPU
    of HBM bandwidth ``bandwidth_tb_s`` [TB/s]: ``s + (1 - s) * 4.8 / bandwidth`` (s =
    ``LAUNCH_SHARE``) [-].

    The same stack's fixed time per step is about 1.45 times shorter on B200 than on H200
    and on MI355X than on MI300X at small batch (InferenceX, ``bench_calibration.py``): a
    small kernel's time past its launch is its ramp-up, dependent memory round trips and
    tail, which a GPU generation shortens with its memory system. B200 (8 TB/s):
    0.2 + 0.8 x 4.8 / 8 = 0.68; H100 (3.35 TB/s): 1.346; H200: 1.
    """
    bw = np.asarray(bandwidth_tb_s, float)
    return LAUNCH_SHARE + (1.0 - LAUNCH_SHARE) * REFERENCE_BANDWIDTH_TB_S / bw


def scheduler_ms(sequences, ranks):
    """CPU time of one decode step's scheduling that the GPU waits for [ms]:
    ``SCHEDULER_US_PER_SEQUENCE * ceil(B / ranks) / 1000``.

    Each scheduler process handles the sequences of its own GPU group: under tensor
    parallelism one process runs all B = ``sequences`` of the replica; under
    data-parallel attention each of the ``ranks`` GPUs runs its own over its share
    (the busiest has ``ceil(B / ranks)``). The GPU waits for it only where the engine
    does not overlap scheduling with the previous step: speculative decoding
    (``evaluation.decode_step``). 484 sequences on one TP8 scheduler at 100 us:
    48.4 ms per step; over 8 data-parallel ranks: ceil(60.5) = 61 x 0.1 = 6.1 ms.
    """
    b = np.maximum(np.asarray(sequences, float), 1.0)
    n = np.maximum(np.asarray(ranks, float), 1.0)
    return SCHEDULER_US_PER_SEQUENCE * np.ceil(b / n) * 1e-3
