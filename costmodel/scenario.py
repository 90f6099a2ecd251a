"""The scenario: every input of the cost model, each field with its ``Spec`` (``spec.py``).

``Scenario`` is a plain frozen dataclass; each field is declared with ``spec.number``,
``integer``, ``flag`` or ``choice``, which carry its default, range, unit, label and help.
``fields.py`` derives the tables the rest of the library uses (ranges, labels, the
tornado's fields) from ``spec.specs(Scenario)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from costmodel import seed
from costmodel.spec import (
    ALWAYS,
    EXPERT_PARALLEL,
    SPECULATIVE,
    Checked,
    choice,
    flag,
    integer,
    number,
)

_C4 = seed.C4_SETUP

#: Formats a KV cache may be stored in (a subset of ``assets/formats.csv``).
KV_FORMATS = ("bf16", "fp8")
#: What an empty efficiency means.
FAMILY_DEFAULT = (
    "the GPU family and serving stack's default (assets/serving_stacks.csv where the stack "
    "sets it, else assets/gpu_families.csv)"
)


@dataclass(frozen=True)
class Scenario(Checked):
    """One serving scenario. Defaults are the seed's December 2023 baseline (C4).

    Mixtral 8x7B in its checkpoint's bf16 on 2x H100 SXM at $1.95 per GPU-hour, busy 24/7,
    32 concurrent sequences of 512 prompt and 256 output tokens, no speculative decoding.
    ``spec.specs(Scenario)`` (or ``fields.FIELDS``) gives each field's unit, range, label
    and help.

    A Scenario checks types and ranges only (wrong type, bool for a number, NaN or
    infinity: ``ValueError`` naming the field). Catalog ids and the rules that need the
    model (tensor-parallel size versus heads) are checked when it is evaluated, against
    the catalog used (``evaluation.check_ids``, ``evaluation.check_consistency``).

    Where the other defaults come from:

    - ``acceptance_at_t0`` 0.75, ``acceptance_at_t1`` 0.62: Leviathan et al. (2023),
      Table 3, T5-XXL with a T5-small draft; ``draft_cost_ratio`` 0.05: a draft about
      1/20 of the target's cost (their Table 4 uses 0.02 to 0.1).
    - ``moe_kernel_efficiency`` 0.65: fused-MoE kernels stream expert weights at about
      two thirds of a dense kernel's efficiency; with it the model meets the batch-1
      measurements P1 (vLLM) and P2 (gpt-fast) within 1 % and MLPerf's batch-650 P4
      within 3 % (tests/test_calibration.py).
    - ``usable_memory_fraction`` 0.9: vLLM's default ``gpu_memory_utilization``;
      ``memory_overhead_gb_per_gpu`` 2 GB: CUDA context, cuBLAS workspace and
      activations of a serving engine, an assumption.
    - ``prefix_cache_hit_rate`` 0: no prompt token is found in a prefix cache (the
      seed's assumption); DeepSeek reported 0.563 for its service in 2025-02
      (``presets.DEEPSEEK_2025``).
    - efficiencies left at None take the GPU family's values in
      ``assets/gpu_families.csv``, each with its source.
    - formats: ``weight_format`` is that of the routed experts (of every quantisable
      weight of a dense model) and ``attention_format`` that of attention, shared-expert
      and dense-FFN weights; ``attention_format`` None means "as ``weight_format``", so a
      single choice quantises the whole model as before. ``weight_format`` None means
      "as the checkpoint was released" (``quantization_config``: gpt-oss-120b MXFP4
      experts with the rest in bf16, DeepSeek-V3 fp8, no config bf16), and then an
      ``attention_format`` of None is the checkpoint's too
      (``evaluation.resolved_formats``). The default is the checkpoint's own (bf16 for
      the seed's Mixtral; gpt-oss's MXFP4 experts, DeepSeek's FP8); pass a format to
      quantise.
    """

    model: str = choice(
        _C4["model"],
        label="Model",
        help="Model id from assets/models.csv, or 'custom:<name>' for an uploaded config",
        catalog_table="models",
    )
    gpu: str = choice(
        _C4["gpu"],
        label="GPU",
        help="GPU id from the catalog (assets/gpus.csv)",
        catalog_table="gpus",
    )
    n_gpus: int = integer(
        _C4["n_gpus"],
        1,
        256,
        1,
        unit="GPUs",
        label="GPUs per replica",
        help=(
            "GPUs per model replica, joined by tensor parallelism (must divide the model's "
            "attention heads) or expert parallelism [GPUs]"
        ),
    )
    weight_format: str | None = choice(
        None,
        label="Weight format",
        help=(
            "Number format of the weights, of the routed experts where a model mixes formats "
            "(assets/formats.csv); empty = the checkpoint's own"
        ),
        catalog_table="formats",
        empty="the checkpoint's own (quantization_config)",
    )
    attention_format: str | None = choice(
        None,
        label="Attention format",
        help=(
            "Number format of attention, shared-expert and dense-FFN weights; empty = as the "
            "weight format (the checkpoint's own when that is empty too)"
        ),
        catalog_table="formats",
        empty="as the weight format",
    )
    kv_format: str = choice(
        _C4["kv_format"],
        label="KV-cache format",
        help="Number format of the KV cache: bf16 or fp8",
        catalog_table="formats",
        choices=KV_FORMATS,
    )
    serving_stack: str = choice(
        "vllm",
        label="Serving stack",
        help="Serving software whose achieved efficiencies the physics uses "
        "(assets/serving_stacks.csv): vllm, sglang, trt-llm, atom, or disaggregated "
        "dynamo-trt, dynamo-sglang, mori-sglang",
        catalog_table="stacks",
        names={
            "vllm": "vLLM",
            "sglang": "SGLang",
            "trt-llm": "TensorRT-LLM",
            "atom": "ATOM (AMD)",
            "dynamo-trt": "Dynamo + TensorRT-LLM (disaggregated)",
            "dynamo-sglang": "Dynamo + SGLang (disaggregated)",
            "mori-sglang": "MoRI + SGLang (AMD, disaggregated)",
        },
    )
    serving_stack_as_of: str | None = choice(
        None,
        label="Stack as of",
        help="Date of the serving stack's efficiencies: the newest catalog row on or before "
        "it (assets/serving_stacks.csv); empty = the newest",
        catalog_table="stack_dates",
        empty="the newest catalog row",
    )
    batch_size: int = integer(
        32,
        1,
        65536,
        1,
        unit="sequences",
        label="Batch size",
        help=(
            "Concurrent sequences (users) decoded together per replica (under expert "
            "parallelism over its GPUs: SGLang's 256 per GPU on 72 GPUs) [sequences]"
        ),
        sensitivity=ALWAYS,
    )
    prompt_tokens: int = integer(
        512,
        1,
        131072,
        1,
        unit="tokens",
        label="Prompt length",
        help="Input (prompt) length per request [tokens]",
        sensitivity=ALWAYS,
    )
    output_tokens: int = integer(
        256,
        1,
        32768,
        1,
        unit="tokens",
        label="Output length",
        help="Generated length per request [tokens]",
        sensitivity=ALWAYS,
    )
    prefix_cache_hit_rate: float = number(
        0.0,
        0.0,
        1.0,
        0.01,
        unit="0-1",
        label="Prefix-cache hit rate",
        help=(
            "Share of prompt tokens found in the prefix (KV) cache: they skip prefill and are"
            " billed at the cached-input price; the KV cache still holds the whole prompt "
            "[0-1]"
        ),
    )
    usd_per_gpu_hour: float = number(
        _C4["usd_per_gpu_hour"],
        0.0,
        100.0,
        0.05,
        unit="$/GPU-hour",
        label="GPU price",
        help="Rental price of one GPU; 0 gives a cost of $0 [$/GPU-hour]",
        sensitivity=ALWAYS,
    )
    utilization: float = number(
        _C4["utilization"],
        0.01,
        1.0,
        0.01,
        unit="0-1",
        label="Utilization",
        help="Share of paid GPU time spent serving at this batch [0-1]",
        sensitivity=ALWAYS,
    )
    temperature: float = number(
        0.0,
        0.0,
        2.0,
        0.1,
        unit="-",
        label="Temperature",
        help="Sampling temperature; speculative acceptance falls as it rises [-]",
    )
    speculative: bool = flag(False, label="Speculative decoding", help="Use a draft model")
    mtp: bool = flag(
        False,
        label="Draft is MTP",
        help=(
            "Speculative decoding drafts with the model's own multi-token-prediction layers "
            "(DeepSeek-V3/R1): draft cost ratio mtp_layers / n_layers instead of "
            "draft_cost_ratio; needs speculative and a model with mtp_layers"
        ),
    )
    draft_tokens: int = integer(
        4,
        1,
        16,
        1,
        unit="tokens",
        label="Draft tokens per step (g)",
        help="Draft tokens proposed per verification step, g [tokens]",
    )
    draft_cost_ratio: float = number(
        0.05,
        0.0,
        1.0,
        0.01,
        unit="-",
        label="Draft cost ratio (c)",
        help="Cost of one draft step relative to one target step, c [-]",
        sensitivity=SPECULATIVE,
    )
    acceptance_at_t0: float = number(
        0.75,
        0.01,
        0.99,
        0.01,
        unit="0-1",
        label="Acceptance at T = 0",
        help="Draft-token acceptance rate at temperature 0 [0-1]",
        sensitivity=SPECULATIVE,
    )
    acceptance_at_t1: float = number(
        0.62,
        0.0,
        0.99,
        0.01,
        unit="0-1",
        label="Acceptance at T = 1",
        help="Draft-token acceptance rate at temperature 1; at most the rate at T = 0 [0-1]",
        sensitivity=SPECULATIVE,
    )
    acceptance_decay: float = number(
        1.0,
        0.1,
        1.0,
        0.01,
        unit="-",
        label="Acceptance decay per draft position",
        help="Acceptance of each later draft position over the one before (1 = the same "
        "at every position, Leviathan et al.; DeepSeek-R1's MTP head on TensorRT-LLM: "
        "0.73) [-]",
    )
    routing_skew: float = number(
        0.0,
        0.0,
        3.0,
        0.1,
        unit="-",
        label="Routing skew",
        help="Zipf exponent of expert popularity; 0 = uniform routing [-]",
    )
    bandwidth_efficiency: float | None = number(
        None,
        0.05,
        1.0,
        0.01,
        unit="0-1",
        label="Bandwidth efficiency",
        help="Achieved share of peak memory bandwidth; empty = family default [0-1]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    compute_efficiency: float | None = number(
        None,
        0.05,
        1.0,
        0.01,
        unit="0-1",
        label="Compute efficiency",
        help="Achieved share of peak tensor throughput; empty = family default [0-1]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    moe_kernel_efficiency: float | None = number(
        None,
        0.05,
        1.0,
        0.01,
        unit="0-1",
        label="MoE kernel efficiency",
        help="Efficiency of MoE expert kernels relative to dense ones at one token per "
        "expert; empty = the serving stack's default (vllm: 0.65) [0-1]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    allreduce_latency_us: float | None = number(
        None,
        0.0,
        1000.0,
        1.0,
        unit="us",
        label="All-reduce latency",
        help="One all-reduce on 2 GPUs, times log2(n); empty = family default [us]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    link_efficiency: float | None = number(
        None,
        0.05,
        1.0,
        0.01,
        unit="0-1",
        label="Link efficiency",
        help="Achieved share of one-way GPU link bandwidth; empty = family default [0-1]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    layer_overhead_us: float | None = number(
        None,
        0.0,
        1000.0,
        0.5,
        unit="us",
        label="Layer overhead",
        help="Kernel-launch cost per layer per pass; empty = family default [us]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    kernel_us: float | None = number(
        None,
        0.0,
        100.0,
        0.1,
        unit="us",
        label="Kernel fixed time",
        help="Fixed time of each GPU kernel a layer launches (launch, ramp-up, tail), "
        "times the kernels of each layer kind (overheads.KERNELS_PER_LAYER); empty = "
        "the GPU family and serving stack default [us]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    moe_half_experts: float | None = number(
        None,
        0.0,
        256.0,
        1.0,
        unit="experts",
        label="MoE half-rate experts",
        help="Experts a GPU streams in one MoE layer at which the grouped expert GEMM "
        "reaches half its streaming rate (moe.expert_parallelism; 0 = full rate "
        "whatever the number); empty = the serving stack's default [experts]",
        empty=FAMILY_DEFAULT,
        sensitivity=ALWAYS,
    )
    memory_overhead_gb_per_gpu: float = number(
        2.0,
        0.0,
        64.0,
        0.5,
        unit="GB/GPU",
        label="Memory overhead",
        help="Memory besides weights and KV (activations, context) [GB/GPU]",
    )
    usable_memory_fraction: float = number(
        0.9,
        0.5,
        1.0,
        0.01,
        unit="0-1",
        label="Usable memory fraction",
        help="Share of GPU memory the serving engine may use [0-1]",
    )
    expert_parallel: bool = flag(
        False,
        label="Expert parallelism",
        help=(
            "Spread the experts over the replica's GPUs, each running attention for its own "
            "sequences (data-parallel attention), instead of tensor parallelism"
        ),
    )
    redundant_experts: int = integer(
        0,
        0,
        512,
        1,
        unit="experts",
        label="Redundant experts",
        help=(
            "Extra copies of the hottest experts under expert parallelism (DeepSeek's EPLB: "
            "32 over 256) [experts]"
        ),
    )
    network_efficiency: float = number(
        0.8,
        0.05,
        1.0,
        0.01,
        unit="0-1",
        label="Network efficiency",
        help=(
            "Achieved share of the scale-out NIC bandwidth per GPU in the expert-parallel "
            "all-to-all (DeepEP on 400 Gb/s: about 0.8) [0-1]"
        ),
        sensitivity=EXPERT_PARALLEL,
    )
    alltoall_latency_us: float = number(
        10.0,
        0.0,
        1000.0,
        1.0,
        unit="us",
        label="All-to-all latency",
        help="Fixed cost of one expert-parallel dispatch or combine (DeepEP: about 10) [us]",
        sensitivity=EXPERT_PARALLEL,
    )
    disaggregated: bool = flag(
        False,
        label="Disaggregated prefill",
        help=(
            "Prefill on a pool of its own (prefill_gpus GPUs, same parallelism), decode on "
            "n_gpus: TPOT without prefill interference, TTFT from the prefill pool"
        ),
    )
    prefill_gpus: int = integer(
        8,
        1,
        256,
        1,
        unit="GPUs",
        label="Prefill GPUs per replica",
        help=(
            "GPUs of the prefill pool per replica when disaggregated (SGLang: 32 prefill for "
            "72 decode GPUs) [GPUs]"
        ),
    )
    prefill_chunk_tokens: int = integer(
        16384,
        256,
        1048576,
        256,
        unit="tokens",
        label="Prefill tokens per GPU per pass",
        help=(
            "Prompt tokens each prefill-pool GPU processes in one forward pass (chunked "
            "prefill; SGLang's chunked_prefill_size is of this order) [tokens]"
        ),
    )
