"""Named presets: a few Scenario fields set together, with a description built from them.

A ``Preset`` is a read-only mapping ``field -> value`` (so ``{**preset}`` and
``preset.items()`` work) with a ``name``, a ``source`` and a ``description`` written
from its own values and ``fields.FIELDS`` (label, unit), so the text always says exactly
what the preset sets. Applying one (``preset.apply(scenario)``) sets every field it is
about and leaves the others as they were.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from costmodel import seed
from costmodel.fields import FIELDS, normalized
from costmodel.scenario import Scenario
from costmodel.speculative import acceptance_for_tokens_per_step


def describe(values: Mapping[str, Any]) -> str:
    """``values`` in words, one ``label: value unit`` per field, in ``FIELDS`` order.

    ``describe({"n_gpus": 2, "usd_per_gpu_hour": 1.95})`` is
    ``"GPUs per replica: 2 GPUs; GPU price: 1.95 $/GPU-hour"``.
    """
    parts = []
    for name in (n for n in FIELDS if n in values):
        spec, value = FIELDS[name], values[name]
        unit = f" {spec.unit}" if spec.unit and spec.unit not in ("-", "0-1") else ""
        numeric = spec.low is not None
        empty = spec.empty
        shown = empty if value is None else f"{value:,}" if numeric else value
        parts.append(f"{spec.label}: {shown}{unit if value is not None else ''}")
    return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class Preset(Mapping):
    """Scenario fields set together. ``values`` are checked as ``Scenario`` fields.

    It compares equal to a dict of the same fields and values (``Mapping`` equality).
    """

    name: str
    values: dict[str, Any]
    source: str = ""

    def __post_init__(self):
        checked = {k: normalized(k, v) for k, v in self.values.items()}
        Scenario(**checked)  # the fields must also make a valid scenario together
        object.__setattr__(self, "values", checked)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def description(self) -> str:
        """What the preset sets, in words, then its source."""
        text = f"{self.name}: {describe(self.values)}."
        return f"{text} Source: {self.source}." if self.source else text

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with every field of this preset set; the others unchanged."""
        return scenario.replace(**self.values)


#: The seed's setup for claim C4 (``seed.C4_SETUP``); the Scenario defaults equal it.
DECEMBER_2023_BASELINE = Preset(
    "December 2023 baseline", seed.C4_SETUP, source=f"the seed document, C4: {seed.C4_TEXT}"
)

#: Together's December 2023 Mixtral service as far as the seed's C9 allows: 2x H100,
#: FP8 weights, speculative decoding with a cheap draft that is accepted well at T = 0
#: and much less at T = 1 (assumptions that bring the model to ~170 / ~80 tokens/s).
#: Prices stay as the user had them: the preset is about speed, not cost.
TOGETHER_C9 = Preset(
    "Together, Dec 2023 (C9)",
    {
        **{k: seed.C4_SETUP[k] for k in ("model", "gpu", "n_gpus", "kv_format")},
        "weight_format": "fp8",
        **{k: FIELDS[k].default for k in ("batch_size", "prompt_tokens", "output_tokens")},
        "acceptance_at_t0": 0.85,
        "acceptance_at_t1": 0.56,
        "draft_tokens": 4,
        "draft_cost_ratio": 0.02,
        "temperature": 0.0,
    },
    source="the seed, C9 (about 170 tokens/s at T = 0, 80 at T = 2); acceptance assumed",
)

#: Leviathan et al. (2023), Table 3: T5-XXL with a T5-small draft, g = 7, c = 0.02.
LEVIATHAN_T5 = Preset(
    "Leviathan et al., T5 anchors",
    {
        # The Scenario's acceptance defaults are these anchors (fields.FIELDS).
        **{k: FIELDS[k].default for k in ("acceptance_at_t0", "acceptance_at_t1")},
        "draft_tokens": 7,
        "draft_cost_ratio": 0.02,
    },
    source="Leviathan, Kalman and Matias (2023), arXiv:2211.17192, Tables 3 and 4",
)

#: Every efficiency at its ideal: peak bandwidth and FLOPs, no latency, no overhead.
IDEAL_HARDWARE = Preset(
    "Ideal hardware",
    {
        "bandwidth_efficiency": 1.0,
        "compute_efficiency": 1.0,
        "moe_kernel_efficiency": 1.0,
        "allreduce_latency_us": 0.0,
        "link_efficiency": 1.0,
        "layer_overhead_us": 0.0,
        "kernel_us": 0.0,
        "moe_half_experts": 0.0,
    },
    source="the roofline bound, an upper limit no serving engine reaches",
)

#: Every efficiency back at its default (the GPU family's, from assets/gpu_families.csv).
FAMILY_DEFAULTS = Preset("Family defaults", {name: FIELDS[name].default for name in IDEAL_HARDWARE})

#: Uniform and skewed expert routing (C7).
UNIFORM_ROUTING = Preset("Uniform routing (C7)", {"routing_skew": 0.0})
SKEWED_ROUTING = Preset("Skewed routing (C7)", {"routing_skew": 1.0})

#: DeepSeek's own serving of V3/R1 (2025-02, assets/serving_disclosures.csv;
#: ``analyses.disclosures`` compares the two): H800s at their $2 per GPU-hour, busy all
#: the time they are paid for (their cost counts occupied node-hours), FP8 weights
#: ("precision consistent with training"), BF16 KV ("core MLA computations ... use the
#: BF16 format"), 56.3 % prefix-cache hits. GPUs: DeepSeek's decode unit, 144 GPUs (18
#: nodes) with expert parallelism, data-parallel attention and 32 redundant experts
#: (decode takes 131 of the 227 nodes; their prefill units are 4-node EP32, and the
#: model runs prefill on the same replica). Lengths: the day's input : output ratio
#: 608 : 168 = 3.619 and the stated KV length per output token 4,989 = P + O / 2 give
#: O = 4,989 / 4.119 = 1,211 and P = 4,383 (``disclosures.workload``). Batch: 14,800
#: decode tokens/s per node at 21 tokens/s per user (20-22) is 88.1 sequences per GPU,
#: x 144 = 12,686.
DEEPSEEK_2025 = Preset(
    "DeepSeek, Feb 2025 (disclosed)",
    {
        "model": "deepseek-r1",
        "gpu": "h800-sxm",
        "n_gpus": 144,
        "weight_format": "fp8",
        "kv_format": "bf16",
        "batch_size": 12686,
        "prompt_tokens": 4383,
        "output_tokens": 1211,
        "prefix_cache_hit_rate": 0.563,
        "usd_per_gpu_hour": 2.0,
        "utilization": 1.0,
        "expert_parallel": True,
        "redundant_experts": 32,
    },
    source="DeepSeek, open-infra-index, 202502OpenSourceWeek day 6 (2025-03-01): "
    "https://github.com/deepseek-ai/open-infra-index",
)

#: TensorRT-LLM's DeepSeek-R1 minimum-latency setup on 8x B200 (measurements R4/R5):
#: NVFP4 experts, FP8 attention, batch 1, 1,024 in / 2,048 out, on TensorRT-LLM as of the
#: blog (2025-05, assets/serving_stacks.csv), MTP with 3 draft tokens of which 2.82 are
#: accepted per step on average: the constant per-token acceptance solved from
#: ``(1 - a^4) / (1 - a) = 2.82`` (the same at any temperature: the blog's greedy run).
#: Measurement R5 states the same 2.82 by draft position (speculative.MTP_ACCEPTANCE 0.926
#: falling by MTP_DECAY 0.73 per draft), which also meets the blog's other draft counts;
#: the preset keeps the constant rate, which the speculative page's inputs can hold.
_MTP_DRAFT_TOKENS, _MTP_TOKENS_PER_STEP = 3, 2.82
_MTP_ACCEPTANCE = round(
    float(acceptance_for_tokens_per_step(_MTP_TOKENS_PER_STEP, _MTP_DRAFT_TOKENS)), 4
)
DEEPSEEK_R1_MTP_B200 = Preset(
    "DeepSeek-R1 MTP, 8x B200",
    {
        "model": "deepseek-r1",
        "gpu": "b200",
        "n_gpus": 8,
        "weight_format": "nvfp4",
        "attention_format": "fp8",
        "kv_format": "fp8",
        "serving_stack": "trt-llm",
        "serving_stack_as_of": "2025-05",
        "batch_size": 1,
        "prompt_tokens": 1024,
        "output_tokens": 2048,
        "temperature": 0.0,
        "speculative": True,
        "mtp": True,
        "draft_tokens": _MTP_DRAFT_TOKENS,
        "acceptance_at_t0": _MTP_ACCEPTANCE,
        "acceptance_at_t1": _MTP_ACCEPTANCE,
    },
    source="NVIDIA TensorRT-LLM tech blog 1 (2025-05): 111 tokens/s per user without MTP, "
    "253 with 3 MTP drafts, 2.82 accepted per step (reference/measurements-2025.csv R4/R5)",
)

#: Every preset by name.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        DECEMBER_2023_BASELINE,
        TOGETHER_C9,
        LEVIATHAN_T5,
        IDEAL_HARDWARE,
        FAMILY_DEFAULTS,
        UNIFORM_ROUTING,
        SKEWED_ROUTING,
        DEEPSEEK_2025,
        DEEPSEEK_R1_MTP_B200,
    )
}
