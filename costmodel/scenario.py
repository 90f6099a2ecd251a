"""The scenario: every input of the cost model. Fields, ranges and units: ``fields.FIELDS``."""

from __future__ import annotations

import dataclasses

from costmodel.fields import (
    BOOL,
    CHOICE,
    FAMILY_DEFAULT_FIELDS,
    FAMILY_FLOAT,
    FIELD_HELP,
    FIELD_NAMES,
    FIELD_RANGES,
    FIELDS,
    FLOAT,
    INT,
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


#: The annotation of each field kind (``fields.KINDS``); a choice field that may be None
#: (``FieldSpec.none_means``) is ``str | None``.
_TYPES = {INT: "int", FLOAT: "float", BOOL: "bool", CHOICE: "str", FAMILY_FLOAT: "float | None"}


def _annotation(spec) -> str:
    return "str | None" if spec.none_means else _TYPES[spec.kind]


class _Scenario:
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

    def __post_init__(self):
        for name in FIELD_NAMES:
            object.__setattr__(self, name, normalized(name, getattr(self, name)))

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


#: The frozen dataclass of every field of ``fields.FIELDS``, in its order, with its default.
Scenario = dataclasses.make_dataclass(
    "Scenario",
    [(n, _annotation(s), dataclasses.field(default=s.default)) for n, s in FIELDS.items()],
    bases=(_Scenario,),
    namespace={"__module__": __name__, "__doc__": _Scenario.__doc__},
    frozen=True,
)
