"""The model beside published measurements: prediction, error, and which setup each used."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import sweep, tensor_parallel_sizes
from costmodel.scenario import Scenario

#: Measurement metrics the model predicts (each is a result column of ``sweep``).
METRICS = ("tokens_per_s_per_user", "output_tokens_per_s_per_gpu", "tpot_ms", "ttft_ms")

#: Parallelism a measurement row may use: ``tp`` (tensor parallelism within one replica).
#: Rows with expert parallelism (``ep``) wait for the model to express it.
PARALLELISMS = ("tp",)


def measurement_scenario(row, **overrides) -> Scenario:
    """The scenario of one measurement row (batch 1 where the batch was free)."""
    if row["parallelism"] not in PARALLELISMS:
        raise ValueError(
            f"parallelism must be one of {', '.join(PARALLELISMS)}; got {row['parallelism']!r}"
        )
    batch = row["batch_size"]
    return Scenario(
        model=row["model"],
        gpu=row["gpu"],
        n_gpus=int(row["n_gpus"]),
        weight_format=row["weight_format"],
        kv_format=row["kv_format"],
        batch_size=1 if pd.isna(batch) else int(batch),
        prompt_tokens=int(row["prompt_tokens"]),
        output_tokens=int(row["output_tokens"]),
        **overrides,
    )


def predict(row, catalog: Catalog | None = None, **overrides) -> pd.Series:
    """The model's result row (a ``sweep`` row) for the setup of one measurement.

    Where the measurement left the batch free (MLPerf Offline), the submitter also chose
    how to split the system into replicas: the row is the one with the best value of the
    metric over batches that fit and the model's allowed tensor-parallel sizes
    (``evaluation.tensor_parallel_sizes``) up to the system's GPU count.
    """
    scenario = measurement_scenario(row, **overrides)
    if not pd.isna(row["batch_size"]):
        return sweep(scenario, catalog).iloc[0]
    allowed = tensor_parallel_sizes(scenario.model, catalog or load_catalog())
    sizes = [n for n in allowed if n <= scenario.n_gpus]
    grid = sweep(scenario, catalog, n_gpus=sizes, batch_size=batch_grid())
    fitting = grid[grid["fits"]]
    return fitting.loc[fitting[row["metric"]].idxmax()] if len(fitting) else grid.iloc[0]


def compare(catalog: Catalog | None = None, **overrides) -> pd.DataFrame:
    """Every catalog measurement with the model's prediction and the error in percent.

    ``overrides`` are scenario fields applied to every prediction (for example
    ``bandwidth_efficiency=0.7``). Adds ``predicted``, ``predicted_at_batch_size``,
    ``predicted_at_n_gpus``, ``predicted_fits`` (whether the model finds the setup fits in
    memory), ``error_pct = 100 * (predicted - measured) / measured`` and its absolute value.
    """
    catalog = catalog or load_catalog()
    table = catalog.measurements.copy()
    rows = [predict(row, catalog, **overrides) for _, row in table.iterrows()]
    table["predicted"] = [float(r[m]) for r, m in zip(rows, table["metric"], strict=True)]
    table["predicted_at_batch_size"] = [int(r["batch_size"]) for r in rows]
    table["predicted_at_n_gpus"] = [int(r["n_gpus"]) for r in rows]
    table["predicted_fits"] = [bool(r["fits"]) for r in rows]
    table["error_pct"] = 100.0 * (table["predicted"] - table["value"]) / table["value"]
    table["abs_error_pct"] = np.abs(table["error_pct"])
    return table


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
    with the largest |error|). Full precision; round when showing."""
    grouped = compared.groupby("metric", sort=False)
    worst = compared.loc[grouped["abs_error_pct"].idxmax(), ["metric", "id"]].set_index("metric")
    table = pd.DataFrame(
        {
            "measurements": grouped.size(),
            "median_abs_error_pct": grouped["abs_error_pct"].median(),
            "median_error_pct": grouped["error_pct"].median(),
            "largest_error_id": worst["id"],
        }
    )
    return table.reindex([m for m in METRICS if m in table.index])
