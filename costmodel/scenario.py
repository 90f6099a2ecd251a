"""The scenario: every input of the cost model, with defaults, units and allowed ranges."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from costmodel.catalog import CUSTOM_PREFIX, load_catalog

#: Allowed closed range of every numeric field (ints for integer fields).
FIELD_RANGES: dict[str, tuple[float, float]] = {
    "n_gpus": (1, 64),
    "batch_size": (1, 16384),
    "prompt_tokens": (1, 131072),
    "output_tokens": (1, 32768),
    "usd_per_gpu_hour": (0.0, 100.0),
    "utilization": (0.01, 1.0),
    "temperature": (0.0, 2.0),
    "draft_tokens": (1, 16),
    "draft_cost_ratio": (0.0, 1.0),
    "acceptance_at_t0": (0.01, 0.99),
    "acceptance_at_t1": (0.0, 0.99),
    "routing_skew": (0.0, 3.0),
    "bandwidth_efficiency": (0.05, 1.0),
    "compute_efficiency": (0.05, 1.0),
    "moe_kernel_efficiency": (0.05, 1.0),
    "allreduce_latency_us": (0.0, 1000.0),
    "link_efficiency": (0.05, 1.0),
    "layer_overhead_us": (0.0, 1000.0),
    "memory_overhead_gb_per_gpu": (0.0, 64.0),
    "usable_memory_fraction": (0.5, 1.0),
}

#: One-line meaning and unit of every field (used for docs and the app's help texts).
FIELD_HELP: dict[str, str] = {
    "model": "Model id from assets/models.csv, or 'custom:<name>' for an uploaded config",
    "gpu": "GPU id from the catalog (assets/gpus.csv)",
    "n_gpus": "GPUs per model replica, joined by tensor parallelism [GPUs]",
    "weight_format": "Number format of the weights (assets/formats.csv)",
    "kv_format": "Number format of the KV cache: bf16 or fp8",
    "batch_size": "Concurrent sequences decoded together per replica [sequences]",
    "prompt_tokens": "Input (prompt) length per request [tokens]",
    "output_tokens": "Generated length per request [tokens]",
    "usd_per_gpu_hour": "Rental price of one GPU [$/GPU-hour]",
    "utilization": "Share of paid GPU time spent serving at this batch [0-1]",
    "temperature": "Sampling temperature; speculative acceptance falls as it rises [-]",
    "speculative": "Use speculative decoding with a draft model",
    "draft_tokens": "Draft tokens proposed per verification step, g [tokens]",
    "draft_cost_ratio": "Cost of one draft step relative to one target step, c [-]",
    "acceptance_at_t0": "Draft-token acceptance rate at temperature 0 [0-1]",
    "acceptance_at_t1": "Draft-token acceptance rate at temperature 1 [0-1]",
    "routing_skew": "Zipf exponent of expert popularity; 0 = uniform routing [-]",
    "bandwidth_efficiency": "Achieved share of peak memory bandwidth; empty = family default [0-1]",
    "compute_efficiency": "Achieved share of peak tensor throughput; empty = family default [0-1]",
    "moe_kernel_efficiency": "Efficiency of MoE expert kernels relative to dense ones [0-1]",
    "allreduce_latency_us": "One all-reduce on 2 GPUs, times log2(n); empty = family default [us]",
    "link_efficiency": "Achieved share of one-way GPU link bandwidth; empty = family default [0-1]",
    "layer_overhead_us": "Kernel-launch cost per layer per pass; empty = family default [us]",
    "memory_overhead_gb_per_gpu": "Memory besides weights and KV (activations, context) [GB/GPU]",
    "usable_memory_fraction": "Share of GPU memory the serving engine may use [0-1]",
}

#: Fields whose default (None) means: take the GPU family's value from assets/gpu_families.csv.
FAMILY_DEFAULT_FIELDS = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "allreduce_latency_us",
    "link_efficiency",
    "layer_overhead_us",
)

#: Formats a KV cache may be stored in.
KV_FORMATS = ("bf16", "fp8")

_INT_FIELDS = ("n_gpus", "batch_size", "prompt_tokens", "output_tokens", "draft_tokens")


@dataclass(frozen=True)
class Scenario:
    """One serving scenario. Defaults are the seed's December 2023 baseline.

    Mixtral 8x7B in bf16 on 2x H100 SXM at $1.95 per GPU-hour, busy 24/7, 32 concurrent
    sequences of 512 prompt and 256 output tokens, no speculative decoding.
    See ``FIELD_HELP`` for the unit of each field and ``FIELD_RANGES`` for its range.

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
    - efficiencies left at None take the GPU family's values in
      ``assets/gpu_families.csv``, each with its source.
    """

    model: str = "mixtral-8x7b"
    gpu: str = "h100-sxm"
    n_gpus: int = 2
    weight_format: str = "bf16"
    kv_format: str = "bf16"
    batch_size: int = 32
    prompt_tokens: int = 512
    output_tokens: int = 256
    usd_per_gpu_hour: float = 1.95
    utilization: float = 1.0
    temperature: float = 0.0
    speculative: bool = False
    draft_tokens: int = 4
    draft_cost_ratio: float = 0.05
    acceptance_at_t0: float = 0.75
    acceptance_at_t1: float = 0.62
    routing_skew: float = 0.0
    bandwidth_efficiency: float | None = None
    compute_efficiency: float | None = None
    moe_kernel_efficiency: float = 0.65
    allreduce_latency_us: float | None = None
    link_efficiency: float | None = None
    layer_overhead_us: float | None = None
    memory_overhead_gb_per_gpu: float = 2.0
    usable_memory_fraction: float = 0.9

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            check_field(name, value)
            if name in _INT_FIELDS:
                object.__setattr__(self, name, int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Scenario))


def _choices(name: str) -> tuple[str, ...]:
    catalog = load_catalog()
    return {
        "model": tuple(catalog.models.index),
        "gpu": tuple(catalog.gpus.index),
        "weight_format": tuple(catalog.formats.index),
        "kv_format": KV_FORMATS,
    }[name]


def check_field(name: str, value) -> None:
    """Raise ``ValueError`` naming ``name`` and its allowed values if ``value`` is invalid."""
    if name not in FIELD_NAMES:
        raise ValueError(f"unknown scenario field {name!r}; fields are {', '.join(FIELD_NAMES)}")
    if name in ("model", "gpu", "weight_format", "kv_format"):
        if name == "model" and isinstance(value, str) and value.startswith(CUSTOM_PREFIX):
            return
        choices = _choices(name)
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return
    if name == "speculative":
        if not isinstance(value, bool):
            raise ValueError(f"speculative must be True or False; got {value!r}")
        return
    if value is None and name in FAMILY_DEFAULT_FIELDS:
        return
    low, high = FIELD_RANGES[name]
    if name in _INT_FIELDS:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        kind = "an integer"
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        kind = "a number"
    if not ok or not low <= value <= high:
        raise ValueError(f"{name} must be {kind} in [{low}, {high}]; got {value!r}")
