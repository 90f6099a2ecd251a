"""How does a mixture of experts scale with batch? (claims C7, C8, C11's prefill half)

The scenario's model beside two dense models built from it (same active and same total
parameters, ``comparisons.dense_equivalents``) over ``BATCHES``; a what-if model with
more experts (``comparisons.more_experts``); prefill per prompt token. Each table is one
vectorised ``sweep`` (``comparisons.compare_models``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import comparisons
from costmodel.analyses.options import AnalysisOptions, count, scenario_field
from costmodel.catalog import load_catalog
from costmodel.economics import batch_grid
from costmodel.scans import scan_many
from costmodel.scenario import Scenario
from costmodel.spec import choice
from costmodel.status import NOT_APPLICABLE, decide

BATCHES = batch_grid(512)
PROMPTS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
MOE = "MoE"
ACTIVE, TOTAL = comparisons.DENSE_KINDS["same_active"], comparisons.DENSE_KINDS["same_total"]
#: "Every expert" in C7: at least this share of the experts read per layer [-].
ALL_EXPERTS_SHARE = 0.99
COST = "usd_per_million_output_tokens"
#: The columns the findings compare between the MoE and the dense same-active model.
_COMPARED = ("weight_bytes_read_per_step_gb", "decode_step_ms", "prefill_ms_per_prompt_token")
C7_RULE = (
    "C7 holds when the MoE model reads its top-k experts per layer at batch 1, at least 99% "
    f"of them at batch {BATCHES[-1]}, and batching (batch 1 to the scenario's) lowers its "
    "cost per token less than the dense model's with the same active parameters."
)
C8_RULE = (
    "C8 holds when, at the scenario's batch, the what-if model with more experts reads more "
    "weight bytes per step and costs more per output token than the model as built."
)
PREFILL_RULE = (
    "MoE prefill is dearer when its prefill time per prompt token at the scenario's batch "
    "and prompt exceeds the dense same-active model's."
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The MoE page's own inputs; names are its URL keys."""

    routing_skew: float = scenario_field(
        "routing_skew",
        help="Zipf exponent of expert popularity: expert i is chosen in proportion to "
        "(i+1)^-skew; 0 = uniform routing [-]. Applies to the MoE model and the what-if.",
    )
    n_experts: int = count(
        16,
        unit="experts",
        label="What if: experts per layer",
        help="Experts per layer E' of the what-if model [experts]; Mixtral 8x7B has 8.",
        most=256,
    )
    top_k: int = count(
        2,
        unit="experts",
        label="What if: experts per token",
        help="Experts each token is routed to (top-k) in the what-if model [experts]; "
        "Mixtral has 2. At most the expert count.",
        most=64,
    )
    keep_fixed: str = choice(
        comparisons.KEEP_FIXED[0],
        label="What if more experts: keep fixed",
        help="'expert size': each expert keeps its width, so total parameters grow with the "
        "expert count. 'total size': experts narrow so total parameters stay the same.",
        choices=comparisons.KEEP_FIXED,
    )

    def __post_init__(self):
        super().__post_init__()
        if self.top_k > self.n_experts:
            raise ValueError(
                f"top_k must be in [1, n_experts] = [1, {self.n_experts}]; got {self.top_k}"
            )


@dataclass(frozen=True)
class Result:
    """MoE versus dense over batch, the what-if, prefill, and the C7/C8 findings.

    ``batch``: every setup over ``BATCHES`` (MoE at uniform routing and at the skew;
    ``setup`` labels them). ``at_skew``: the rows at the chosen skew. ``point``: each
    setup at the scenario (index ``setup``: ``MOE``, ``ACTIVE``, ``TOTAL``) with
    ``usd_at_batch_1`` and ``gpu_ms_per_token`` = decode step / (batch x tokens per
    step) [replica-ms per output token] (also ``_at_batch_1``). ``cost_vs_batch_1``: that
    time at the scenario's batch over batch 1, per setup: the cost ratio at any price.
    ``what_if``/``what_if_models``: the model and its what-if model.
    ``prefill``: one prompt (batch 1) over ``PROMPTS`` within the context window (the
    scenario's prompt where none fits). ``adaptations``: what the comparison changed in
    the scenario to compare under tensor parallelism, in words ("" when nothing).
    """

    scenario: Scenario
    batch: pd.DataFrame
    at_skew: pd.DataFrame
    point: pd.DataFrame
    what_if: pd.DataFrame
    what_if_models: pd.DataFrame
    prefill: pd.DataFrame
    is_dense: bool
    n_experts: int
    experts_per_token: int
    experts_at_batch_1: float
    experts_at_largest_batch: float
    cost_vs_batch_1: dict
    step_time_vs_dense: float
    prefill_vs_dense: float
    what_if_bytes_ratio: float
    what_if_cost_ratio: float
    c7_status: str
    c7_text: str
    c8_status: str
    c8_text: str
    prefill_status: str
    prefill_text: str
    adaptations: str = ""


def skew_label(skew: float) -> str:
    """The MoE setup's label at a routing skew."""
    return "MoE, uniform routing" if skew == 0 else f"MoE, skew {skew:g}"


def _rows(table: pd.DataFrame, where: np.ndarray) -> pd.DataFrame:
    """The rows of ``table`` ``where`` is true, indexed from 0."""
    rows = np.flatnonzero(where)
    table = table.take(rows)
    table.index = pd.RangeIndex(len(rows))
    return table


def _batch_table(table: pd.DataFrame, scenario) -> pd.DataFrame:
    """Every setup over ``BATCHES`` (``table``: ``compare_models`` over skews and
    batches): MoE at skew 0 and the scenario's, dense at the latter."""
    setup = table["setup"].to_numpy(str)
    skew = table["routing_skew"].to_numpy()
    rows = (setup == MOE) | (skew == scenario.routing_skew)
    table = _rows(table, rows)
    skews, at = np.unique(skew[rows], return_inverse=True)
    moe = np.asarray([skew_label(s) for s in skews])[at.reshape(-1)]
    table["setup"] = np.where(setup[rows] == MOE, moe, setup[rows])
    return table


def _point(both: pd.DataFrame, scenario) -> pd.DataFrame:
    """Each setup at the scenario, with its cost at batch 1 (``usd_at_batch_1``), from
    ``both`` (``compare_models`` over batch 1 and the scenario's, each setup's rows in
    the same order)."""
    batch = both["batch_size"].to_numpy()
    at_b, at_1 = np.flatnonzero(batch == scenario.batch_size), np.flatnonzero(batch == 1)
    gpu_ms = both["decode_step_ms"].to_numpy() / (batch * both["tokens_per_step"].to_numpy())
    point = both.take(at_b).set_index("setup")
    added = {
        "gpu_ms_per_token": gpu_ms[at_b],
        "usd_at_batch_1": both[COST].to_numpy()[at_1],
        "gpu_ms_per_token_at_batch_1": gpu_ms[at_1],
    }
    for column, values in added.items():  # new names: no look-up of the others
        point.insert(point.shape[1], column, values, allow_duplicates=True)
    return point


def _tables(scenario, what_catalog, models: dict, what_models: dict) -> list:
    """The page's four ``compare_models`` tables in one ``scans.scan_many``: the setups
    over skews and ``BATCHES``, at batch 1 and the scenario's, the what-if model beside
    the model as built, and prefill over ``PROMPTS`` (those the window allows) at batch
    1. All on ``what_catalog`` (the catalog with the what-if model: the other models'
    rows are the same, and ``compare_models`` gives models as ids)."""
    window = what_catalog.models.loc[scenario.model, "context_window"]
    prompts = [p for p in PROMPTS if p + scenario.output_tokens <= window]
    asked = [
        (
            scenario,
            models,
            {"routing_skew": sorted({0.0, scenario.routing_skew}), "batch_size": BATCHES},
        ),
        (scenario, models, {"batch_size": sorted({1, scenario.batch_size})}),
        # Both as built under tensor parallelism: the what-if model may have too few
        # experts for the scenario's GPUs to spread them, and like is compared with like.
        (scenario.replace(expert_parallel=False), what_models, {"batch_size": BATCHES}),
        (
            scenario.replace(batch_size=1),
            models,
            {"prompt_tokens": prompts or [scenario.prompt_tokens]},
        ),
    ]
    calls = [
        comparisons.compare_models_calls(base, what_catalog, ids, **axes)
        for base, ids, axes in asked
    ]
    frames = scan_many([c for cs in calls for c in cs], what_catalog)
    tables = []
    for (_, ids, axes), cs in zip(asked, calls, strict=True):
        parts, frames = frames[: len(cs)], frames[len(cs) :]
        tables.append(comparisons.compare_models_table(parts, ids, axes))
    return tables


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """MoE batch scaling of ``scenario``'s model (routing skew from ``options``)."""
    options = options or Options()
    scenario = (scenario or Scenario()).replace(routing_skew=options.routing_skew)
    catalog = comparisons.dense_equivalents(catalog or load_catalog(), scenario.model)
    derived = comparisons.tensor_parallel(scenario, catalog)
    scenario = derived.scenario
    ids = comparisons.dense_model_ids(scenario.model)
    models = {MOE: scenario.model, ACTIVE: ids["same_active"], TOTAL: ids["same_total"]}
    what_catalog, what_if_id = comparisons.more_experts(
        catalog, scenario.model, options.n_experts, options.top_k, options.keep_fixed
    )
    label = f"{options.n_experts} experts, top-{options.top_k}, same {options.keep_fixed}"
    what_models = {f"{MOE} as built": scenario.model, label: what_if_id}
    batch, both, what_if, prefill = _tables(scenario, what_catalog, models, what_models)
    batch, point = _batch_table(batch, scenario), _point(both, scenario)
    summary = comparisons.model_summary(what_catalog, what_models).reset_index()
    arch = catalog.models
    E = int(arch.at[scenario.model, "n_experts"])
    k = int(arch.at[scenario.model, "experts_per_token"])
    moe = batch["setup"].to_numpy(str) == skew_label(scenario.routing_skew)
    experts = batch["experts_read_per_layer"].to_numpy()[moe]
    at_1, at_last = float(experts[0]), float(experts[-1])
    falls = point["gpu_ms_per_token"].to_numpy() / point["gpu_ms_per_token_at_batch_1"].to_numpy()
    ratios = dict(zip(point.index, falls.tolist(), strict=True))
    B = scenario.batch_size
    here, dense = ({c: point.at[setup, c] for c in _COMPARED} for setup in (MOE, ACTIVE))
    c7_parts = (
        np.isclose(at_1, k, rtol=0.01) and k < E,
        at_last >= ALL_EXPERTS_SHARE * E,
        ratios[MOE] > ratios[ACTIVE],
    )
    c7_text = (
        f"{arch.at[scenario.model, 'name']} is dense: it reads all its weights at every batch. "
        if E == 1
        else ""
    ) + (
        f"The MoE model reads {at_1:.2f} of {E} experts per layer at batch 1 (top-{k}) and "
        f"{at_last:.2f} at batch {BATCHES[-1]}. From batch 1 to batch {B} its cost per output "
        f"token falls to {100 * ratios[MOE]:.0f}% of its batch-1 value, the dense same-active "
        f"model's to {100 * ratios[ACTIVE]:.0f}% (dense same-total: "
        f"{100 * ratios[TOTAL]:.0f}%). At batch {B} a MoE decode step reads "
        f"{here['weight_bytes_read_per_step_gb']:.1f} GB of weights against "
        f"{dense['weight_bytes_read_per_step_gb']:.1f} GB for the dense same-active model and "
        f"takes {here['decode_step_ms'] / dense['decode_step_ms']:.2f}x its time."
    )
    setup, sizes = what_if["setup"].to_numpy(str), what_if["batch_size"].to_numpy()
    built = (setup == f"{MOE} as built") & (sizes == B)
    # the scenario's batch is not in BATCHES: the curve's nearest below
    at = B if built.any() else max(b for b in BATCHES if b <= B)
    built = np.flatnonzero((setup == f"{MOE} as built") & (sizes == at))[0]
    other = np.flatnonzero((setup == label) & (sizes == at))[0]
    weight_gb = what_if["weight_bytes_read_per_step_gb"].to_numpy()
    bytes_ratio = float(weight_gb[other] / weight_gb[built])
    # Same batch, price and tokens per step: the cost ratio is the step-time ratio.
    step_ms = what_if["decode_step_ms"].to_numpy()
    cost_ratio = float(step_ms[other] / step_ms[built])
    c8_text = (
        f"With {options.n_experts} experts, top-{options.top_k} (same {options.keep_fixed}), a "
        f"decode step at batch {at} reads {bytes_ratio:.2f}x the weight bytes of the model as "
        f"built and costs {cost_ratio:.2f}x per output token"
        + ("" if what_if["fits"].to_numpy()[other] else "; its weights and KV cache do not fit")
        + "."
    )
    prefill_ratio = float(
        here["prefill_ms_per_prompt_token"] / dense["prefill_ms_per_prompt_token"]
    )
    prefill_text = (
        f"At batch {B} and {scenario.prompt_tokens}-token prompts, prefill takes "
        f"{1e3 * here['prefill_ms_per_prompt_token']:.1f} µs per prompt token for the MoE model "
        f"against {1e3 * dense['prefill_ms_per_prompt_token']:.1f} µs for the dense same-active "
        f"model ({prefill_ratio:.2f}x)."
    )
    return Result(
        scenario=scenario,
        batch=batch,
        at_skew=_rows(batch, batch["routing_skew"].to_numpy() == scenario.routing_skew),
        point=point,
        what_if=what_if,
        what_if_models=summary,
        prefill=prefill,
        is_dense=E == 1,
        n_experts=E,
        experts_per_token=k,
        experts_at_batch_1=at_1,
        experts_at_largest_batch=at_last,
        cost_vs_batch_1=ratios,
        step_time_vs_dense=float(here["decode_step_ms"] / dense["decode_step_ms"]),
        prefill_vs_dense=prefill_ratio,
        what_if_bytes_ratio=bytes_ratio,
        what_if_cost_ratio=cost_ratio,
        c7_status=NOT_APPLICABLE if E == 1 else decide(all(c7_parts), any(c7_parts)),
        c7_text=c7_text,
        c8_status=decide(bytes_ratio > 1 and cost_ratio > 1, bytes_ratio > 1 or cost_ratio > 1),
        c8_text=c8_text,
        prefill_status=decide(prefill_ratio > 1),
        prefill_text=prefill_text,
        adaptations=derived.text,
    )
