"""The model beside published measurements: prediction, error, and which setup each used.

Two sets ship with the app: ``assets/measurements.csv`` (published single numbers, each
with its tolerance: :func:`compare`) and the InferenceX DeepSeek-R1 runs
(``assets/inferencex_dsr1.csv``: :func:`inferencex`, both tokens/s per user and output
tokens/s per GPU of each run). :func:`shipped` puts every measured value of both beside
its prediction in one long table, groupable by GPU, stack, MTP, disaggregation and
concurrency band; :func:`frontier_points` gives the runs of a GPU and stack as points
of the throughput-vs-interactivity plane, measured and predicted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel import calibration
from costmodel.calibration.table import scenario_value
from costmodel.catalog import Catalog, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import scan, tensor_parallel_sizes
from costmodel.fields import FIELDS
from costmodel.scenario import Scenario

#: Measurement metrics the model predicts (each is a result column of ``sweep``).
METRICS = (
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "decode_tokens_per_s_per_gpu",
    "usd_per_million_output_tokens",
    "tpot_ms",
    "ttft_ms",
)
#: Metrics where less is better: a free-batch row is compared with the lowest.
LOWER_IS_BETTER = ("usd_per_million_output_tokens", "tpot_ms", "ttft_ms")

#: Parallelism of a measurement row and the ``expert_parallel`` it maps to: ``tp``
#: (tensor parallelism within one replica); ``ep`` (experts spread over the replica's GPUs,
#: attention data-parallel: SGLang's and DeepSeek's large-scale EP); ``tp+ep``
#: (attention tensor-parallel with the experts spread over the same GPUs, TensorRT-LLM's
#: and SGLang's small-batch setups), modelled as tensor parallelism: each GPU reads 1/n
#: of the attention and of the experts either way, and the step has TP's all-reduces.
PARALLELISMS = {"tp": False, "ep": True, "tp+ep": False}


def scenario_fields(text) -> dict:
    """``"field=value; field=value"`` (a measurement's ``scenario_fields``) as a dict.

    Values are Python literals of the field's kind (``True``, ``3``, ``0.77``, ``fp8``);
    each is checked as a ``Scenario`` field (``ValueError`` naming it). Empty: ``{}``.
    """
    if not isinstance(text, str) or not text.strip():
        return {}
    fields = {}
    for part in text.split(";"):
        name, _, value = (x.strip() for x in part.partition("="))
        if name not in FIELDS:
            raise ValueError(f"scenario_fields: unknown field {name!r} in {text!r}")
        try:
            fields[name] = scenario_value(name, value)
        except ValueError as err:
            raise ValueError(f"scenario_fields: {err}") from None
    return fields


def measurement_scenario(row, **overrides) -> Scenario:
    """The scenario of one measurement row (batch 1 where the batch was free).

    ``parallelism`` sets ``expert_parallel`` (``PARALLELISMS``); the row's
    ``scenario_fields`` (when the catalog has that column) set further fields, and
    ``overrides`` come last.
    """
    extra = scenario_fields(row.get("scenario_fields"))
    return Scenario(**_setup(row), **{**extra, **overrides})


def _setup(row) -> dict:
    """The Scenario fields every measurement row states (an override cannot set them)."""
    if row["parallelism"] not in PARALLELISMS:
        raise ValueError(
            f"parallelism must be one of {', '.join(PARALLELISMS)}; got {row['parallelism']!r}"
        )
    batch = row["batch_size"]
    return {
        "model": row["model"],
        "gpu": row["gpu"],
        "n_gpus": int(row["n_gpus"]),
        "weight_format": row["weight_format"],
        "kv_format": row["kv_format"],
        "batch_size": 1 if pd.isna(batch) else int(batch),
        "prompt_tokens": int(row["prompt_tokens"]),
        "output_tokens": int(row["output_tokens"]),
        "expert_parallel": PARALLELISMS[row["parallelism"]],
    }


def _grid_points(row, scenario: Scenario, catalog: Catalog) -> list[tuple[int, int]]:
    """The (n_gpus, batch_size) points :func:`predict_all` looks at for one measurement."""
    if not pd.isna(row["batch_size"]):
        return [(scenario.n_gpus, scenario.batch_size)]
    if scenario.expert_parallel:  # one EP group of the stated size
        sizes = [scenario.n_gpus]
    else:
        allowed = tensor_parallel_sizes(scenario.model, catalog)
        sizes = [n for n in allowed if n <= scenario.n_gpus]
    return [(n, int(b)) for n in sizes for b in batch_grid()]


def _plan(table: pd.DataFrame, catalog: Catalog) -> dict:
    """The one ``scan`` behind :func:`predict_all` for the measurements of ``table``,
    before overrides: ``base`` (the first row's scenario), ``columns`` (the scan's
    columns: each field that differs between the rows, then ``n_gpus`` and
    ``batch_size`` of every point), ``stated`` (the fields a row states, ``_setup``),
    per point (NumPy arrays) its measurement (``owner``), that one's ``metric`` and
    whether its batch was free (``batch_free``), and each measurement's ``first`` point."""
    records = table.to_dict("records")
    scenarios = [measurement_scenario(row) for row in records]
    points = [_grid_points(row, s, catalog) for row, s in zip(records, scenarios, strict=True)]
    counts = [len(p) for p in points]
    owner = np.repeat(np.arange(len(scenarios)), counts)
    columns = {
        name: [values[i] for i in owner]
        for name in FIELDS
        if name not in ("n_gpus", "batch_size")
        and len(set(values := [getattr(s, name) for s in scenarios])) > 1
    }
    columns["n_gpus"] = [n for p in points for n, _ in p]
    columns["batch_size"] = [b for p in points for _, b in p]
    return {
        "base": scenarios[0],
        "columns": columns,
        "stated": _setup(records[0]).keys(),
        "owner": owner,
        "metric": table["metric"].to_numpy(object)[owner],
        "batch_free": table["batch_size"].isna().to_numpy()[owner],
        "first": np.cumsum([0, *counts[:-1]]),
    }


def _measurements_plan(catalog: Catalog) -> dict:
    """``_plan`` of the catalog's measurements (kept with the catalog)."""
    return _plan(catalog.measurements, catalog)


def _metric_values(grid: pd.DataFrame, metric: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``grid[metric[i]].iloc[rows[i]]`` for each i, as floats (one read per metric)."""
    values = np.empty(len(rows))
    for name in np.unique(metric):
        at = metric == name
        values[at] = grid[name].to_numpy(float)[rows[at]]
    return values


def _predict(plan: dict, catalog: Catalog, overrides: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``scan`` of ``plan`` with ``overrides`` on every row, and the grid row of each
    measurement (:func:`predict_all`): its point where the batch was given, else the
    first point with the best metric (highest; lowest for ``LOWER_IS_BETTER``) among
    those that fit, else its first point."""
    stated = sorted(overrides.keys() & plan["stated"])
    if stated:
        raise TypeError(f"overrides cannot set {', '.join(stated)}: each measurement states it")
    columns = {k: v for k, v in plan["columns"].items() if k not in overrides}
    grid = scan(plan["base"].replace(**overrides), catalog, **columns)
    metric = plan["metric"]
    values = _metric_values(grid, metric, np.arange(len(grid)))
    score = np.where(np.isin(metric, LOWER_IS_BETTER), -values, values)
    competes = (grid["fits"].to_numpy(bool) | ~plan["batch_free"]) & ~np.isnan(values)
    # Per measurement (its points are consecutive), best score first, ties in point order.
    order = np.lexsort((np.where(competes, -score, np.inf), plan["owner"]))
    return grid, order[plan["first"]]


def predict_all(table: pd.DataFrame, catalog: Catalog, **overrides) -> list[pd.Series]:
    """The model's result row (a ``scan`` row) for the setup of each measurement of
    ``table``, from one ``scan`` of all their points.

    Where the measurement left the batch free (MLPerf Offline), the submitter also chose
    how to split the system into replicas: the row is the one with the best value of the
    metric (highest, or lowest for ``LOWER_IS_BETTER``) over batches that fit and the
    model's allowed tensor-parallel sizes (``evaluation.tensor_parallel_sizes``) up to
    the system's GPU count; an expert-parallel row keeps its stated GPU count.
    """
    grid, rows = _predict(_plan(table, catalog), catalog, overrides)
    return [grid.iloc[i] for i in rows]


def compare(catalog: Catalog | None = None, **overrides) -> pd.DataFrame:
    """Every catalog measurement with the model's prediction and the error in percent.

    ``overrides`` are scenario fields applied to every prediction (for example
    ``bandwidth_efficiency=0.7``). Adds ``predicted``, ``predicted_at_batch_size``,
    ``predicted_at_n_gpus``, ``predicted_fits`` (whether the model finds the setup fits in
    memory), ``error_pct = 100 * (predicted - measured) / measured`` and its absolute value.
    All predictions come from one ``scan`` (:func:`predict_all`).
    """
    catalog = catalog or load_catalog()
    measurements = catalog.measurements
    grid, rows = _predict(catalog.prepared(_measurements_plan), catalog, overrides)
    predicted = _metric_values(grid, measurements["metric"].to_numpy(object), rows)
    measured = measurements["value"].to_numpy()
    error = 100.0 * (predicted - measured) / measured
    added = {
        "predicted": predicted,
        "predicted_at_batch_size": grid["batch_size"].to_numpy()[rows].astype(int),
        "predicted_at_n_gpus": grid["n_gpus"].to_numpy()[rows].astype(int),
        "predicted_fits": grid["fits"].to_numpy(bool)[rows],
        "error_pct": error,
        "abs_error_pct": np.abs(error),
    }
    table = pd.concat([measurements, pd.DataFrame(added, index=measurements.index)], axis=1)
    table["within_tolerance"] = within_tolerance(table)
    return table


#: How a measurement's tolerance applies (``comparison`` column): ``two_sided``, |error|
#: at most ``tolerance_pct``; ``model_at_most``, the prediction at most ``tolerance_pct``
#: above the measured value (a TTFT measured with queueing and network, which the model
#: leaves out: it is a lower bound).
COMPARISONS = ("two_sided", "model_at_most")


def within_tolerance(table: pd.DataFrame) -> pd.Series:
    """Whether each compared measurement lies within its ``tolerance_pct`` as its
    ``comparison`` says (``COMPARISONS``; rows without a tolerance: False)."""
    tolerance = pd.to_numeric(table.get("tolerance_pct"), errors="coerce")
    comparison = table.get("comparison", pd.Series("two_sided", index=table.index))
    unknown = set(comparison.dropna()) - set(COMPARISONS)
    if unknown:
        raise ValueError(f"comparison must be one of {', '.join(COMPARISONS)}; got {unknown}")
    below = table["error_pct"] <= tolerance
    two_sided = table["abs_error_pct"] <= tolerance
    return pd.Series(np.where(comparison == "model_at_most", below, two_sided), index=table.index)


#: Columns that group the shipped measurements (``shipped``, ``calibration.error_table``).
GROUP_COLUMNS = ("gpu", "serving_stack", "speculative", "disaggregated", "concurrency_band")


def inferencex(catalog: Catalog | None = None) -> pd.DataFrame:
    """The shipped InferenceX runs (``calibration.inferencex_table``) with the catalog's
    prediction: ``predicted_<metric>`` and ``error_<metric>_pct`` for tokens/s per user
    and output tokens/s per GPU, ``within_25_pct`` (both), and ``concurrency_band``."""
    rows = calibration.compare(calibration.inferencex_table(), catalog)
    rows["within_25_pct"] = calibration.within(rows)
    rows["concurrency_band"] = calibration.concurrency_band(rows["concurrency"])
    return rows


def shipped(catalog: Catalog | None = None) -> pd.DataFrame:
    """Every measured value the app ships beside its prediction, one row per value:
    ``set`` (``measurements.csv`` or ``InferenceX``), ``id``, ``model``, ``gpu``,
    ``serving_stack``, ``speculative``, ``disaggregated``, ``concurrency``,
    ``concurrency_band``, ``metric``, ``measured``, ``predicted``, ``error_pct``,
    ``within_tolerance`` (InferenceX: within ``calibration.WITHIN_PCT``)."""
    catalog = catalog or load_catalog()
    single = compare(catalog)
    scenarios = [measurement_scenario(row) for _, row in single.iterrows()]
    concurrency = single["batch_size"].fillna(single["predicted_at_batch_size"])
    first = pd.DataFrame(
        {
            "set": "measurements.csv",
            "id": single["id"],
            "model": single["model"],
            "gpu": single["gpu"],
            "serving_stack": [s.serving_stack for s in scenarios],
            "speculative": [s.speculative for s in scenarios],
            "disaggregated": [s.disaggregated for s in scenarios],
            "concurrency": concurrency.astype(float),
            "metric": single["metric"],
            "measured": single["value"].astype(float),
            "predicted": single["predicted"],
            "error_pct": single["error_pct"],
            "within_tolerance": single["within_tolerance"],
        }
    )
    runs = inferencex(catalog)
    second = []
    for metric in calibration.FIT_METRICS:
        second.append(
            pd.DataFrame(
                {
                    "set": "InferenceX",
                    "id": runs["measurement"],
                    "model": runs["model"],
                    "gpu": runs["gpu"],
                    "serving_stack": runs["serving_stack"],
                    "speculative": runs["speculative"].astype(bool),
                    "disaggregated": runs["disaggregated"].astype(bool),
                    "concurrency": runs["concurrency"].astype(float),
                    "metric": metric,
                    "measured": runs[metric],
                    "predicted": runs[f"predicted_{metric}"],
                    "error_pct": runs[f"error_{metric}_pct"],
                    "within_tolerance": runs[f"error_{metric}_pct"].abs() <= calibration.WITHIN_PCT,
                }
            )
        )
    out = pd.concat([first, *second], ignore_index=True)
    out["concurrency_band"] = calibration.concurrency_band(out["concurrency"])
    return out


def frontier_points(
    runs: pd.DataFrame, gpu: str | None = None, serving_stack: str | None = None
) -> pd.DataFrame:
    """The runs of ``inferencex()`` (of one GPU and stack where given) as points of the
    throughput-vs-interactivity plane: ``kind`` ``measured`` or ``predicted``,
    ``tokens_per_s_per_user``, ``output_tokens_per_s_per_gpu``, and the run's ``id``,
    ``gpu``, ``serving_stack``, ``speculative``, ``disaggregated``, ``concurrency``."""
    keep = pd.Series(True, index=runs.index)
    if gpu is not None:
        keep &= runs["gpu"] == gpu
    if serving_stack is not None:
        keep &= runs["serving_stack"] == serving_stack
    runs = runs[keep]
    common = {
        "id": runs["measurement"],
        "gpu": runs["gpu"],
        "serving_stack": runs["serving_stack"],
        "speculative": runs["speculative"].astype(bool),
        "disaggregated": runs["disaggregated"].astype(bool),
        "concurrency": runs["concurrency"],
    }
    measured = pd.DataFrame(
        {
            "kind": "measured",
            **common,
            "tokens_per_s_per_user": runs["tokens_per_s_per_user"],
            "output_tokens_per_s_per_gpu": runs["output_tokens_per_s_per_gpu"],
        }
    )
    predicted = pd.DataFrame(
        {
            "kind": "predicted",
            **common,
            "tokens_per_s_per_user": runs["predicted_tokens_per_s_per_user"],
            "output_tokens_per_s_per_gpu": runs["predicted_output_tokens_per_s_per_gpu"],
        }
    )
    return pd.concat([measured, predicted], ignore_index=True)


def setup_text(row) -> str:
    """One measurement's setup in words, e.g. "mixtral-8x7b on 2× h100-sxm, fp8 weights /
    bf16 KV, batch 32, 512 in + 256 out tokens" ("batch free" where the row has none)."""
    batch = "batch free" if pd.isna(row["batch_size"]) else f"batch {int(row['batch_size'])}"
    return (
        f"{row['model']} on {int(row['n_gpus'])}× {row['gpu']}, {row['weight_format']} "
        f"weights / {row['kv_format']} KV, {batch}, {int(row['prompt_tokens'])} in + "
        f"{int(row['output_tokens'])} out tokens"
    )


def summary(compared: pd.DataFrame) -> pd.DataFrame:
    """Per metric (rows, in ``METRICS`` order) of a :func:`compare` table: the number of
    ``measurements``, ``median_abs_error_pct`` = median |error| [%], ``median_error_pct``
    (signed: positive means the model predicts more) and ``largest_error_id`` (the row
    with the largest |error|, the first of equals). Full precision; round when showing.
    Missing errors are left out of the medians, as pandas' are."""
    metric = compared["metric"].to_numpy(object)
    error = compared["error_pct"].to_numpy(float)
    abs_error = compared["abs_error_pct"].to_numpy(float)
    shown = [m for m in METRICS if m in set(metric)]
    rows = [np.flatnonzero(metric == m) for m in shown]
    return pd.DataFrame(
        {
            "measurements": np.array([len(r) for r in rows], np.int64),
            "median_abs_error_pct": [np.nanmedian(abs_error[r]) for r in rows],
            "median_error_pct": [np.nanmedian(error[r]) for r in rows],
            "largest_error_id": compared["id"].array.take(
                np.array([r[np.nanargmax(abs_error[r])] for r in rows], np.intp)
            ),
        },
        index=pd.Index(shown, name="metric", dtype=compared["metric"].dtype),
    )
