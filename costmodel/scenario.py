"""The scenario: every input of the cost model. Fields, ranges and units: ``fields.FIELDS``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from costmodel.fields import (
    FAMILY_DEFAULT_FIELDS,
    FIELD_HELP,
    FIELD_NAMES,
    FIELD_RANGES,
    FIELDS,
    KV_FORMATS,
    check_field,
    normalized,
)

__all__ = [
    "FAMILY_DEFAULT_FIELDS",
    "FIELD_HELP",
    "FIELD_NAMES",
    "FIELD_RANGES",
    "KV_FORMATS",
    "Scenario",
    "check_field",
]


def _default(name: str):
    return FIELDS[name].default


@dataclass(frozen=True)
class Scenario:
    """One serving scenario. Defaults are the seed's December 2023 baseline (C4).

    Mixtral 8x7B in bf16 on 2x H100 SXM at $1.95 per GPU-hour, busy 24/7, 32 concurrent
    sequences of 512 prompt and 256 output tokens, no speculative decoding.
    ``fields.FIELDS`` gives each field's unit, range, label and help.

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
      (``evaluation.resolved_formats``). The default stays bf16, the seed's Mixtral
      baseline; pass ``weight_format=None`` for a model's own.
    """

    model: str = _default("model")
    gpu: str = _default("gpu")
    n_gpus: int = _default("n_gpus")
    weight_format: str | None = _default("weight_format")
    attention_format: str | None = _default("attention_format")
    kv_format: str = _default("kv_format")
    batch_size: int = _default("batch_size")
    prompt_tokens: int = _default("prompt_tokens")
    output_tokens: int = _default("output_tokens")
    prefix_cache_hit_rate: float = _default("prefix_cache_hit_rate")
    usd_per_gpu_hour: float = _default("usd_per_gpu_hour")
    utilization: float = _default("utilization")
    temperature: float = _default("temperature")
    speculative: bool = _default("speculative")
    mtp: bool = _default("mtp")
    draft_tokens: int = _default("draft_tokens")
    draft_cost_ratio: float = _default("draft_cost_ratio")
    acceptance_at_t0: float = _default("acceptance_at_t0")
    acceptance_at_t1: float = _default("acceptance_at_t1")
    routing_skew: float = _default("routing_skew")
    bandwidth_efficiency: float | None = _default("bandwidth_efficiency")
    compute_efficiency: float | None = _default("compute_efficiency")
    moe_kernel_efficiency: float = _default("moe_kernel_efficiency")
    allreduce_latency_us: float | None = _default("allreduce_latency_us")
    link_efficiency: float | None = _default("link_efficiency")
    layer_overhead_us: float | None = _default("layer_overhead_us")
    memory_overhead_gb_per_gpu: float = _default("memory_overhead_gb_per_gpu")
    usable_memory_fraction: float = _default("usable_memory_fraction")
    expert_parallel: bool = _default("expert_parallel")
    redundant_experts: int = _default("redundant_experts")
    network_efficiency: float = _default("network_efficiency")
    alltoall_latency_us: float = _default("alltoall_latency_us")
    disaggregated: bool = _default("disaggregated")
    prefill_gpus: int = _default("prefill_gpus")
    prefill_chunk_tokens: int = _default("prefill_chunk_tokens")

    def __post_init__(self):
        for name in FIELD_NAMES:
            object.__setattr__(self, name, normalized(name, getattr(self, name)))

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)
