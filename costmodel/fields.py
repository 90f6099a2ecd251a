"""Every ``Scenario`` field stated once: kind, default, range, unit, label, help, step.

``FIELDS`` is the single source; ``FIELD_RANGES``, ``FIELD_HELP``, ``FIELD_LABELS``,
``FIELD_STEPS``, ``INTEGER_FIELDS``, ``FAMILY_DEFAULT_FIELDS`` and ``SENSITIVITY_FIELDS``
are derived from it, and ``Scenario`` takes its defaults from it. ``check_field`` checks
type and range only; catalog ids (model, GPU, formats) are checked against the catalog
actually used, when a scenario is evaluated (``evaluation.check_ids``).

Kinds: ``int`` (an integer, never a bool or a float), ``float`` (a finite real, never a
bool), ``bool``, ``choice`` (a string id: ``catalog_table`` names the catalog table that
lists the allowed ids, or ``choices`` lists them), ``family_float`` (a finite real, or
None meaning the default for the GPU family and serving stack:
``assets/serving_stacks.csv``'s value where the stack has one, else the family's in
``assets/gpu_families.csv``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from costmodel import seed

INT, FLOAT, BOOL, CHOICE, FAMILY_FLOAT = "int", "float", "bool", "choice", "family_float"
KINDS = (INT, FLOAT, BOOL, CHOICE, FAMILY_FLOAT)
ALWAYS, SPECULATIVE, EXPERT_PARALLEL = "always", "speculative", "expert_parallel"

#: Formats a KV cache may be stored in (a subset of ``assets/formats.csv``).
KV_FORMATS = ("bf16", "fp8")


@dataclass(frozen=True)
class FieldSpec:
    """One scenario field. ``label`` is the short UI label with its unit in brackets."""

    name: str
    kind: str
    default: Any
    unit: str
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    catalog_table: str | None = None
    choices: tuple[str, ...] = ()
    #: Whether the tornado moves it: "always", "speculative" (only with speculative
    #: decoding), "expert_parallel" (only under expert parallelism) or "".
    sensitivity: str = ""
    #: For a choice field that may be None: what None means (empty: None not allowed).
    none_means: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {', '.join(KINDS)}")
        numeric = self.kind in (INT, FLOAT, FAMILY_FLOAT)
        if numeric != (self.low is not None and self.high is not None and self.step is not None):
            raise ValueError(f"{self.name}: numeric fields (only) need low, high and step")

    @property
    def range(self) -> tuple[float, float]:
        """``(low, high)``, the closed allowed range."""
        return (self.low, self.high)


def _spec(name, kind, default, unit, label, help, *range_step, **extra) -> FieldSpec:
    low, high, step = range_step or (None, None, None)
    return FieldSpec(name, kind, default, unit, label, help, low, high, step, **extra)


_C4 = seed.C4_SETUP

#: Every Scenario field, in Scenario's order.
FIELDS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        _spec(
            "model",
            CHOICE,
            _C4["model"],
            "",
            "Model",
            "Model id from assets/models.csv, or 'custom:<name>' for an uploaded config",
            catalog_table="models",
        ),
        _spec(
            "gpu",
            CHOICE,
            _C4["gpu"],
            "",
            "GPU",
            "GPU id from the catalog (assets/gpus.csv)",
            catalog_table="gpus",
        ),
        _spec(
            "n_gpus",
            INT,
            _C4["n_gpus"],
            "GPUs",
            "GPUs per replica",
            "GPUs per model replica, joined by tensor parallelism (must divide the "
            "model's attention heads) or expert parallelism [GPUs]",
            1,
            256,
            1,
        ),
        _spec(
            "weight_format",
            CHOICE,
            _C4["weight_format"],
            "",
            "Weight format",
            "Number format of the weights, of the routed experts where a model mixes "
            "formats (assets/formats.csv); empty = the checkpoint's own",
            catalog_table="formats",
            none_means="the checkpoint's own (quantization_config)",
        ),
        _spec(
            "attention_format",
            CHOICE,
            None,
            "",
            "Attention format",
            "Number format of attention, shared-expert and dense-FFN weights; empty = as "
            "weight_format (the checkpoint's own when that is empty too)",
            catalog_table="formats",
            none_means="as weight_format",
        ),
        _spec(
            "kv_format",
            CHOICE,
            _C4["kv_format"],
            "",
            "KV-cache format",
            "Number format of the KV cache: bf16 or fp8",
            catalog_table="formats",
            choices=KV_FORMATS,
        ),
        _spec(
            "serving_stack",
            CHOICE,
            "vllm",
            "",
            "Serving stack",
            "Serving software whose achieved efficiencies the physics uses "
            "(assets/serving_stacks.csv): vllm, sglang, trt-llm, atom, or disaggregated "
            "dynamo-trt, dynamo-sglang, mori-sglang",
            catalog_table="stacks",
        ),
        _spec(
            "serving_stack_as_of",
            CHOICE,
            None,
            "",
            "Stack as of",
            "Date of the serving stack's efficiencies: the newest catalog row on or before "
            "it (assets/serving_stacks.csv); empty = the newest",
            catalog_table="stack_dates",
            none_means="the newest catalog row",
        ),
        _spec(
            "batch_size",
            INT,
            32,
            "sequences",
            "Batch size",
            "Concurrent sequences (users) decoded together per replica (under expert "
            "parallelism over its GPUs: SGLang's 256 per GPU on 72 GPUs) [sequences]",
            1,
            65536,
            1,
            sensitivity=ALWAYS,
        ),
        _spec(
            "prompt_tokens",
            INT,
            512,
            "tokens",
            "Prompt length",
            "Input (prompt) length per request [tokens]",
            1,
            131072,
            1,
            sensitivity=ALWAYS,
        ),
        _spec(
            "output_tokens",
            INT,
            256,
            "tokens",
            "Output length",
            "Generated length per request [tokens]",
            1,
            32768,
            1,
            sensitivity=ALWAYS,
        ),
        _spec(
            "prefix_cache_hit_rate",
            FLOAT,
            0.0,
            "0-1",
            "Prefix-cache hit rate",
            "Share of prompt tokens found in the prefix (KV) cache: they skip prefill and "
            "are billed at the cached-input price; the KV cache still holds the whole "
            "prompt [0-1]",
            0.0,
            1.0,
            0.01,
        ),
        _spec(
            "usd_per_gpu_hour",
            FLOAT,
            _C4["usd_per_gpu_hour"],
            "$/GPU-hour",
            "GPU price",
            "Rental price of one GPU; 0 gives a cost of $0 [$/GPU-hour]",
            0.0,
            100.0,
            0.05,
            sensitivity=ALWAYS,
        ),
        _spec(
            "utilization",
            FLOAT,
            _C4["utilization"],
            "0-1",
            "Utilization",
            "Share of paid GPU time spent serving at this batch [0-1]",
            0.01,
            1.0,
            0.01,
            sensitivity=ALWAYS,
        ),
        _spec(
            "temperature",
            FLOAT,
            0.0,
            "-",
            "Temperature",
            "Sampling temperature; speculative acceptance falls as it rises [-]",
            0.0,
            2.0,
            0.1,
        ),
        _spec("speculative", BOOL, False, "", "Speculative decoding", "Use a draft model"),
        _spec(
            "mtp",
            BOOL,
            False,
            "",
            "Draft is MTP",
            "Speculative decoding drafts with the model's own multi-token-prediction "
            "layers (DeepSeek-V3/R1): draft cost ratio mtp_layers / n_layers instead of "
            "draft_cost_ratio; needs speculative and a model with mtp_layers",
        ),
        _spec(
            "draft_tokens",
            INT,
            4,
            "tokens",
            "Draft tokens per step (g)",
            "Draft tokens proposed per verification step, g [tokens]",
            1,
            16,
            1,
        ),
        _spec(
            "draft_cost_ratio",
            FLOAT,
            0.05,
            "-",
            "Draft cost ratio (c)",
            "Cost of one draft step relative to one target step, c [-]",
            0.0,
            1.0,
            0.01,
            sensitivity=SPECULATIVE,
        ),
        _spec(
            "acceptance_at_t0",
            FLOAT,
            0.75,
            "0-1",
            "Acceptance at T = 0",
            "Draft-token acceptance rate at temperature 0 [0-1]",
            0.01,
            0.99,
            0.01,
            sensitivity=SPECULATIVE,
        ),
        _spec(
            "acceptance_at_t1",
            FLOAT,
            0.62,
            "0-1",
            "Acceptance at T = 1",
            "Draft-token acceptance rate at temperature 1; at most the rate at T = 0 [0-1]",
            0.0,
            0.99,
            0.01,
            sensitivity=SPECULATIVE,
        ),
        _spec(
            "acceptance_decay",
            FLOAT,
            1.0,
            "-",
            "Acceptance decay per draft position",
            "Acceptance of each later draft position over the one before (1 = the same "
            "at every position, Leviathan et al.; DeepSeek-R1's MTP head on TensorRT-LLM: "
            "0.73) [-]",
            0.1,
            1.0,
            0.01,
        ),
        _spec(
            "routing_skew",
            FLOAT,
            0.0,
            "-",
            "Routing skew",
            "Zipf exponent of expert popularity; 0 = uniform routing [-]",
            0.0,
            3.0,
            0.1,
        ),
        _spec(
            "bandwidth_efficiency",
            FAMILY_FLOAT,
            None,
            "0-1",
            "Bandwidth efficiency",
            "Achieved share of peak memory bandwidth; empty = family default [0-1]",
            0.05,
            1.0,
            0.01,
            sensitivity=ALWAYS,
        ),
        _spec(
            "compute_efficiency",
            FAMILY_FLOAT,
            None,
            "0-1",
            "Compute efficiency",
            "Achieved share of peak tensor throughput; empty = family default [0-1]",
            0.05,
            1.0,
            0.01,
            sensitivity=ALWAYS,
        ),
        _spec(
            "moe_kernel_efficiency",
            FAMILY_FLOAT,
            None,
            "0-1",
            "MoE kernel efficiency",
            "Efficiency of MoE expert kernels relative to dense ones at one token per "
            "expert; empty = the serving stack's default (vllm: 0.65) [0-1]",
            0.05,
            1.0,
            0.01,
            sensitivity=ALWAYS,
        ),
        _spec(
            "allreduce_latency_us",
            FAMILY_FLOAT,
            None,
            "us",
            "All-reduce latency",
            "One all-reduce on 2 GPUs, times log2(n); empty = family default [us]",
            0.0,
            1000.0,
            1.0,
            sensitivity=ALWAYS,
        ),
        _spec(
            "link_efficiency",
            FAMILY_FLOAT,
            None,
            "0-1",
            "Link efficiency",
            "Achieved share of one-way GPU link bandwidth; empty = family default [0-1]",
            0.05,
            1.0,
            0.01,
            sensitivity=ALWAYS,
        ),
        _spec(
            "layer_overhead_us",
            FAMILY_FLOAT,
            None,
            "us",
            "Layer overhead",
            "Kernel-launch cost per layer per pass; empty = family default [us]",
            0.0,
            1000.0,
            0.5,
            sensitivity=ALWAYS,
        ),
        _spec(
            "kernel_us",
            FAMILY_FLOAT,
            None,
            "us",
            "Kernel fixed time",
            "Fixed time of each GPU kernel a layer launches (launch, ramp-up, tail), "
            "times the kernels of each layer kind (overheads.KERNELS_PER_LAYER); empty = "
            "the GPU family and serving stack default [us]",
            0.0,
            100.0,
            0.1,
            sensitivity=ALWAYS,
        ),
        _spec(
            "moe_half_experts",
            FAMILY_FLOAT,
            None,
            "experts",
            "MoE half-rate experts",
            "Experts a GPU streams in one MoE layer at which the grouped expert GEMM "
            "reaches half its streaming rate (moe.expert_parallelism; 0 = full rate "
            "whatever the number); empty = the serving stack's default [experts]",
            0.0,
            256.0,
            1.0,
            sensitivity=ALWAYS,
        ),
        _spec(
            "memory_overhead_gb_per_gpu",
            FLOAT,
            2.0,
            "GB/GPU",
            "Memory overhead",
            "Memory besides weights and KV (activations, context) [GB/GPU]",
            0.0,
            64.0,
            0.5,
        ),
        _spec(
            "usable_memory_fraction",
            FLOAT,
            0.9,
            "0-1",
            "Usable memory fraction",
            "Share of GPU memory the serving engine may use [0-1]",
            0.5,
            1.0,
            0.01,
        ),
        _spec(
            "expert_parallel",
            BOOL,
            False,
            "",
            "Expert parallelism",
            "Spread the experts over the replica's GPUs, each running attention for its own "
            "sequences (data-parallel attention), instead of tensor parallelism",
        ),
        _spec(
            "redundant_experts",
            INT,
            0,
            "experts",
            "Redundant experts",
            "Extra copies of the hottest experts under expert parallelism (DeepSeek's "
            "EPLB: 32 over 256) [experts]",
            0,
            512,
            1,
        ),
        _spec(
            "network_efficiency",
            FLOAT,
            0.8,
            "0-1",
            "Network efficiency",
            "Achieved share of the scale-out NIC bandwidth per GPU in the expert-parallel "
            "all-to-all (DeepEP on 400 Gb/s: about 0.8) [0-1]",
            0.05,
            1.0,
            0.01,
            sensitivity=EXPERT_PARALLEL,
        ),
        _spec(
            "alltoall_latency_us",
            FLOAT,
            10.0,
            "us",
            "All-to-all latency",
            "Fixed cost of one expert-parallel dispatch or combine (DeepEP: about 10) [us]",
            0.0,
            1000.0,
            1.0,
            sensitivity=EXPERT_PARALLEL,
        ),
        _spec(
            "disaggregated",
            BOOL,
            False,
            "",
            "Disaggregated prefill",
            "Prefill on a pool of its own (prefill_gpus GPUs, same parallelism), decode "
            "on n_gpus: TPOT without prefill interference, TTFT from the prefill pool",
        ),
        _spec(
            "prefill_gpus",
            INT,
            8,
            "GPUs",
            "Prefill GPUs per replica",
            "GPUs of the prefill pool per replica when disaggregated (SGLang: 32 prefill "
            "for 72 decode GPUs) [GPUs]",
            1,
            256,
            1,
        ),
        _spec(
            "prefill_chunk_tokens",
            INT,
            16384,
            "tokens",
            "Prefill tokens per GPU per pass",
            "Prompt tokens each prefill-pool GPU processes in one forward pass (chunked "
            "prefill; SGLang's chunked_prefill_size is of this order) [tokens]",
            256,
            1048576,
            256,
        ),
    )
}


def _with_unit(spec: FieldSpec) -> str:
    return f"{spec.label} [{spec.unit}]" if spec.unit else spec.label


FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
#: Allowed closed range of every numeric field (ints for integer fields).
FIELD_RANGES: dict[str, tuple[float, float]] = {
    n: s.range for n, s in FIELDS.items() if s.low is not None
}
#: One-line meaning and unit of every field (docs and the app's help texts).
FIELD_HELP: dict[str, str] = {n: s.help for n, s in FIELDS.items()}
#: Short UI label with the unit, e.g. "GPU price [$/GPU-hour]".
FIELD_LABELS: dict[str, str] = {n: _with_unit(s) for n, s in FIELDS.items()}
#: Widget step of every numeric field.
FIELD_STEPS: dict[str, float] = {n: s.step for n, s in FIELDS.items() if s.step is not None}
INTEGER_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.kind == INT)
#: Fields whose default (None) means: take the GPU family and serving stack's value.
FAMILY_DEFAULT_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.kind == FAMILY_FLOAT
)
#: Assumptions the cost depends on only under expert parallelism (the all-to-all).
EXPERT_PARALLEL_SENSITIVITY_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.sensitivity == EXPERT_PARALLEL
)
#: Every achieved efficiency and fixed latency of the step-time model (what Validation
#: calibrates, the sidebar's "Efficiencies" box): per GPU, then its links, then the
#: expert-parallel network.
EFFICIENCY_FIELDS: tuple[str, ...] = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "moe_kernel_efficiency",
    "moe_half_experts",
    "layer_overhead_us",
    "kernel_us",
    "allreduce_latency_us",
    "link_efficiency",
    *EXPERT_PARALLEL_SENSITIVITY_FIELDS,
)
CHOICE_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.kind == CHOICE)
#: Choice fields that may be None (``FieldSpec.none_means`` says what None means).
OPTIONAL_CHOICE_FIELDS: tuple[str, ...] = tuple(n for n in CHOICE_FIELDS if FIELDS[n].none_means)
#: Named assumptions the cost depends on, moved one at a time by ``sensitivity.tornado``.
SENSITIVITY_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.sensitivity == ALWAYS)
#: Assumptions the cost depends on only with speculative decoding.
SPECULATIVE_SENSITIVITY_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.sensitivity == SPECULATIVE
)


def check_field(name: str, value) -> None:
    """Raise ``ValueError`` naming ``name`` if ``value`` has the wrong type or range.

    Catalog ids are only checked to be strings here (and ``kv_format`` one of
    ``KV_FORMATS``); ``evaluation.check_ids`` checks them against a catalog.
    """
    spec = FIELDS.get(name)
    if spec is None:
        raise ValueError(f"unknown scenario field {name!r}; fields are {', '.join(FIELD_NAMES)}")
    if spec.kind == CHOICE:
        if value is None and spec.none_means:
            return
        if not isinstance(value, str):
            raise ValueError(f"{name} must be an id (a string); got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ValueError(f"{name} must be one of {', '.join(spec.choices)}; got {value!r}")
        return
    if spec.kind == BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")
        return
    if value is None and spec.kind == FAMILY_FLOAT:
        return
    if spec.kind == INT:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        kind = "an integer"
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        kind = "a number"
    if not ok or not spec.low <= value <= spec.high:
        raise ValueError(f"{name} must be {kind} in [{spec.low}, {spec.high}]; got {value!r}")


def check_values(name: str, values) -> None:
    """``check_field`` for each of ``values``; long numeric lists are checked as one array.

    The array path accepts only integer (or, for real fields, integer and float) dtypes
    and no bools; anything else is checked value by value. A bad value raises the same
    ``ValueError`` as ``check_field``.
    """
    spec = FIELDS.get(name)
    kinds = {INT: "iu", FLOAT: "iuf", FAMILY_FLOAT: "iuf"}.get(spec.kind) if spec else None
    if kinds and len(values) > 16 and not any(isinstance(v, bool) for v in values):
        array = np.asarray(values)
        if array.dtype.kind in kinds:
            bad = ~((array >= spec.low) & (array <= spec.high))
            if bad.any():
                check_field(name, values[int(np.argmax(bad))])
            return
    for value in values:
        check_field(name, value)


def normalized(name: str, value):
    """``value`` checked and as the field's Python type (int, float, bool, str or None)."""
    check_field(name, value)
    kind = FIELDS[name].kind
    if value is None:
        return None
    return int(value) if kind == INT else float(value) if kind in (FLOAT, FAMILY_FLOAT) else value
