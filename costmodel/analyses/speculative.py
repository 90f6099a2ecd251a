"""What does speculative decoding gain, by temperature and batch, MoE beside dense? (C9-C11)

The scenario's model and the dense model with its active parameters
(``comparisons.dense_equivalents``), each with and without speculation, over
``TEMPERATURES`` and over ``BATCHES`` (one ``sweep`` each); and the C9 reproduction:
the speculative MoE model's tokens/s per user at temperature 0 and 2 under
``C9_PRESET`` beside Together's reported 170 and 80.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import comparisons
from costmodel.adapt import derive
from costmodel.analyses.options import AnalysisOptions, scenario_field
from costmodel.catalog import load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import evaluate, sweep
from costmodel.scans import scan_many
from costmodel.scenario import Scenario
from costmodel.status import decide

TEMPERATURES = tuple(round(float(t), 2) for t in np.linspace(0.0, 2.0, 21))
BATCHES = batch_grid(512)
MOE, DENSE = "MoE", comparisons.DENSE_KINDS["same_active"]
#: Together's reported tokens/s per sequence at temperature 0 and 2 (seed claim C9).
C9_REPORTED = {0.0: 170.0, 2.0: 80.0}
#: Assumptions that reproduce C9 (Mixtral on 2x H100 in FP8 with a draft model): a
#: well-tuned draft accepted 85 % of the time greedily and 56 % at T = 1, 4 draft
#: tokens at 2 % of a target step. Other combinations would fit too. (56 % since the
#: experts' top-k combine is priced, step.moe_combine_bytes: at 55 % T = 2 reads 71.9
#: tokens/s per user, 10.2 % under Together's 80.)
C9_PRESET = {
    "model": "mixtral-8x7b",
    "gpu": "h100-sxm",
    "n_gpus": 2,
    "weight_format": "fp8",
    "kv_format": "bf16",
    "batch_size": 32,
    "prompt_tokens": 512,
    "output_tokens": 256,
    "acceptance_at_t0": 0.85,
    "acceptance_at_t1": 0.56,
    "draft_tokens": 4,
    "draft_cost_ratio": 0.02,
    "temperature": 0.0,
}
#: A reproduction within this many percent of a reported speed counts as matching [%].
C9_TOLERANCE_PCT = 10.0
C9_RULE = (
    "C9 holds when the C9 preset's speculative MoE model is within ±10% of Together's "
    "170 and 80 tokens/s per user at temperature 0 and 2."
)
C10_RULE = (
    "C10 holds when, at the scenario, speculation makes the MoE model read fewer bytes per "
    "output token than plain decoding and drafts are accepted more often at temperature 0 "
    "than at 2."
)
C11_RULE = (
    "The speculation half of C11 holds when, at batch 1, speculation speeds the MoE model "
    "up less than the dense model with the same active parameters."
)
#: The page's temperature step, finer than the sidebar's.
_TEMPERATURE_STEP = 0.05


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The speculative page's own inputs (``Scenario`` fields); names are its URL keys."""

    temperature: float = scenario_field("temperature", step=_TEMPERATURE_STEP)
    draft_tokens: int = scenario_field("draft_tokens")
    draft_cost_ratio: float = scenario_field("draft_cost_ratio")
    acceptance_at_t0: float = scenario_field("acceptance_at_t0")
    acceptance_at_t1: float = scenario_field("acceptance_at_t1")


@dataclass(frozen=True)
class Result:
    """Speed with and without speculation, and the C9, C10, C11 findings.

    ``by_temperature`` / ``by_batch``: MoE and dense same-active, speculative or not
    (``setup`` labels them: ``model_label`` and the decoding), over ``TEMPERATURES`` /
    ``BATCHES``. ``now``: the four at the scenario, indexed by (``model_label``,
    ``speculative``). ``c9``: the preset's
    settings beside the current ones and the speeds [tokens/s] (strings, for display).
    ``speedup_vs_batch``: speed-up per batch (rows) and model (columns, ``model_label``);
    ``experts_vs_batch``: the MoE model's experts read per layer, per batch (rows),
    with and without speculation (columns True / False). ``adaptations``: what was
    changed in the scenario and options to make them valid together (acceptance at
    T = 1 above that at T = 0, GPU counts under tensor parallelism), in words.
    """

    scenario: Scenario
    by_temperature: pd.DataFrame
    by_batch: pd.DataFrame
    now: pd.DataFrame
    speedup_vs_batch: pd.DataFrame
    experts_vs_batch: pd.DataFrame
    acceptance_rate: float
    moe_tokens_per_s_per_user: float
    moe_plain_tokens_per_s_per_user: float
    moe_speedup: float
    dense_speedup: float
    extrapolated: bool
    c9: pd.DataFrame
    c9_preset_tokens_per_s: dict
    c9_current_tokens_per_s: dict
    c9_status: str
    c9_text: str
    c10_status: str
    c10_text: str
    c11_status: str
    c11_text: str
    adaptations: str = ""


def setup_labels(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (of ``compare_models``) with ``setup`` first: the model's label (now
    ``model_label``) and whether it decodes speculatively."""
    kind = np.where(table["speculative"].to_numpy(bool), ", speculative", ", no speculation")
    labels = np.char.add(table["setup"].to_numpy(str), kind)
    table = table.copy(deep=False)  # ``rename``'s result at a third of its cost
    table.columns = ["model_label" if c == "setup" else c for c in table.columns]
    table.insert(0, "setup", labels, allow_duplicates=True)  # a new name: no look-up
    return table


def _rows(table: pd.DataFrame, label: str, speculative: bool) -> np.ndarray:
    """Positions of the rows of ``table`` (labelled by :func:`setup_labels`) of the model
    labelled ``label``, speculative or not, in order."""
    return np.flatnonzero(
        (table["model_label"].to_numpy(str) == label)
        & (table["speculative"].to_numpy(bool) == speculative)
    )


def _pivot(table: pd.DataFrame, rows: np.ndarray, index: str, columns: str, values: str):
    """``table.iloc[rows].pivot(index=index, columns=columns, values=values)`` from
    arrays: ``values`` by ``index`` (rows) and ``columns``, each sorted and named; NaN
    where a pair has no value."""
    row_keys, row = np.unique(table[index].to_numpy()[rows], return_inverse=True)
    column_keys, column = np.unique(table[columns].to_numpy()[rows], return_inverse=True)
    grid = np.full((len(row_keys), len(column_keys)), np.nan)
    grid[row, column] = table[values].to_numpy()[rows]
    return pd.DataFrame(
        grid,
        index=pd.Index(row_keys, name=index),
        columns=pd.Index(column_keys, name=columns),
    )


def _indexed(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``table.set_index(names)`` at a third of its cost: the other columns, indexed by
    a ``MultiIndex`` whose levels are the sorted values of ``names``."""
    levels, codes = zip(
        *(np.unique(table[name].to_numpy(), return_inverse=True) for name in names), strict=True
    )
    rest = [i for i, c in enumerate(table.columns) if c not in names]
    indexed = table.take(rest, axis=1)
    indexed.index = pd.MultiIndex(
        levels=levels, codes=[c.reshape(-1) for c in codes], names=names, verify_integrity=False
    )
    return indexed


def _at_temperatures(table: pd.DataFrame) -> dict:
    """Tokens/s per user by C9 temperature of ``table`` (a sweep over them)."""
    return dict(zip(C9_REPORTED, table["tokens_per_s_per_user"].astype(float), strict=True))


def _speeds(scenario, catalog) -> dict:
    """Tokens/s per user of the speculative model at the C9 temperatures (one sweep)."""
    return _at_temperatures(
        sweep(scenario.replace(speculative=True), catalog, temperature=list(C9_REPORTED))
    )


def _preset_speeds(catalog) -> tuple[dict, float]:
    """The C9 preset's speeds (:func:`_speeds`) and its tokens/s per user without
    speculation: they do not depend on the scenario, so once per catalog."""
    preset = Scenario().replace(**C9_PRESET)
    return _speeds(preset, catalog), evaluate(preset, catalog)["tokens_per_s_per_user"]


def _c9(scenario, catalog, current: dict) -> tuple[pd.DataFrame, dict, dict, str, str]:
    """The C9 preset against the current settings (``current``: :func:`_speeds` of the
    scenario) and Together's reported speeds."""
    preset = Scenario().replace(**C9_PRESET)
    ours, plain = catalog.prepared(_preset_speeds)
    rows = [(k, str(getattr(preset, k)), str(getattr(scenario, k)), "") for k in C9_PRESET]
    rows += [
        (
            f"tokens/s per user at T={t:g} [tokens/s]",
            f"{ours[t]:.1f}",
            f"{current[t]:.1f}",
            f"{r:g}",
        )
        for t, r in C9_REPORTED.items()
    ]
    table = pd.DataFrame(rows, columns=["setting", "preset", "current", "together"])
    off = {t: 100 * (ours[t] / r - 1) for t, r in C9_REPORTED.items()}
    status = decide(all(abs(v) <= C9_TOLERANCE_PCT for v in off.values()))
    text = (
        f"The C9 preset (speculative, acceptance {preset.acceptance_at_t0:g} at T=0 and "
        f"{preset.acceptance_at_t1:g} at T=1, g={preset.draft_tokens}) gives "
        f"{ours[0.0]:.1f} tokens/s per user at T=0 and {ours[2.0]:.1f} at T=2 against "
        f"Together's 170 and 80 ({off[0.0]:+.0f}%, {off[2.0]:+.0f}%); without speculation "
        f"it gives {plain:.1f} at every temperature."
    )
    return table, ours, current, status, text


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Speculative decoding of ``scenario``'s model with the draft settings of ``options``."""
    options = options or Options()
    base = catalog or load_catalog()
    scenario = scenario or Scenario()
    catalog = comparisons.dense_equivalents(base, scenario.model)
    # The options' acceptance rates may be out of order: adapted, and said (adapt.derive).
    derived = derive(scenario, catalog, **dataclasses.asdict(options))
    if derived.scenario is None:
        raise ValueError(derived.reason)
    scenario = derived.scenario
    dense = comparisons.tensor_parallel(scenario, catalog).text if scenario.expert_parallel else ""
    models = {
        MOE: scenario.model,
        DENSE: comparisons.dense_model_ids(scenario.model)["same_active"],
    }
    grids = (
        {"speculative": [False, True], "temperature": list(TEMPERATURES)},
        {"speculative": [False, True], "batch_size": BATCHES},
        {"speculative": [False, True]},
    )
    # Plain decoding drafts nothing, so MTP is off in it (mtp needs speculative).
    asked = [
        [
            (base, {**columns, "mtp": [scenario.mtp and s for s in columns["speculative"]]})
            for base, columns in comparisons.compare_models_calls(scenario, catalog, models, **axes)
        ]
        for axes in grids
    ]
    speeds = (scenario.replace(speculative=True), {"temperature": list(C9_REPORTED)})
    *frames, current = scan_many([*(c for calls in asked for c in calls), speeds], catalog)
    tables = []
    for calls, axes in zip(asked, grids, strict=True):
        parts, frames = frames[: len(calls)], frames[len(calls) :]
        tables.append(setup_labels(comparisons.compare_models_table(parts, models, axes)))
    by_t, by_batch, now = tables
    c9, ours, current, c9_status, c9_text = _c9(scenario, base, _at_temperatures(current))

    moe_spec, moe_plain, dense_spec = (
        _rows(now, label, drafted)[0]
        for label, drafted in ((MOE, True), (MOE, False), (DENSE, True))
    )
    per_token = now["bytes_read_per_step_gb"].to_numpy() / now["tokens_per_step"].to_numpy()
    acceptance = by_t["acceptance_rate"].to_numpy()[_rows(by_t, MOE, True)]
    a0, a2 = acceptance[0], acceptance[-1]
    fewer = per_token[moe_spec] < per_token[moe_plain]
    c10_text = (
        f"At batch {scenario.batch_size} the speculative MoE model reads "
        f"{per_token[moe_spec]:.2f} GB per output token against "
        f"{per_token[moe_plain]:.2f} GB without speculation; drafts are accepted "
        f"{a0:.2f} of the time at T=0 and {a2:.2f} at T=2."
    )
    c10 = decide(fewer and a0 > a2, fewer or a0 > a2)

    spec = np.flatnonzero(by_batch["speculative"].to_numpy(bool))
    gain = _pivot(by_batch, spec, "batch_size", "model_label", "speculative_speedup")
    moe_rows = np.flatnonzero(by_batch["model_label"].to_numpy(str) == MOE)
    experts_read = _pivot(by_batch, moe_rows, "batch_size", "speculative", "experts_read_per_layer")
    peak = int(gain[MOE].idxmax())
    c11_text = (
        f"At batch 1 speculation speeds the dense model up {gain.at[1, DENSE]:.2f}x but the "
        f"MoE model only {gain.at[1, MOE]:.2f}x: checking {scenario.draft_tokens + 1} tokens "
        f"per sequence reads {experts_read.at[1, True]:.1f} experts per layer instead of "
        f"{experts_read.at[1, False]:.0f}. The MoE gain peaks at {gain[MOE].max():.2f}x at batch "
        f"{peak}; at batch {BATCHES[-1]} the speed-ups are {gain.at[BATCHES[-1], DENSE]:.2f}x "
        f"(dense) and {gain.at[BATCHES[-1], MOE]:.2f}x (MoE)."
    )
    speed = now["tokens_per_s_per_user"]
    return Result(
        scenario=scenario,
        by_temperature=by_t,
        by_batch=by_batch,
        now=_indexed(now, ["model_label", "speculative"]),
        speedup_vs_batch=gain,
        experts_vs_batch=experts_read,
        acceptance_rate=float(now["acceptance_rate"].iat[moe_spec]),
        moe_tokens_per_s_per_user=float(speed.iat[moe_spec]),
        moe_plain_tokens_per_s_per_user=float(speed.iat[moe_plain]),
        moe_speedup=float(now["speculative_speedup"].iat[moe_spec]),
        dense_speedup=float(now["speculative_speedup"].iat[dense_spec]),
        extrapolated=scenario.temperature > 1,
        c9=c9,
        c9_preset_tokens_per_s=ours,
        c9_current_tokens_per_s=current,
        c9_status=c9_status,
        c9_text=c9_text,
        c10_status=c10,
        c10_text=c10_text,
        c11_status=decide(gain.at[1, MOE] < gain.at[1, DENSE]),
        c11_text=c11_text,
        adaptations="; ".join(
            t
            for t in (derived.text, dense and f"the dense model under tensor parallelism: {dense}")
            if t
        ),
    )
