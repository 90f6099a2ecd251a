"""validation.compare: one scan of every measurement's points, the best one picked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costmodel import load_catalog, validation
from costmodel.evaluation import scan

OVERRIDES = [
    {},
    {"bandwidth_efficiency": 0.51},
    {"compute_efficiency": 0.4, "link_efficiency": 0.6},
    {"network_efficiency": 0.5, "alltoall_latency_us": 30.0},
]


def picked_one_by_one(row, catalog, overrides) -> pd.Series:
    """The row predict_all picks for one measurement, found as its docstring says: its
    own scan of its points, and (batch free) the first best metric among those that
    fit, else its first point."""
    s = validation.measurement_scenario(row, **overrides)
    points = validation._grid_points(row, s, catalog)
    grid = scan(s, catalog, n_gpus=[n for n, _ in points], batch_size=[b for _, b in points])
    if not pd.isna(row["batch_size"]):
        return grid.iloc[0]
    fitting = grid[grid["fits"].to_numpy(bool)]
    if fitting.empty:
        return grid.iloc[0]
    values = fitting[row["metric"]].to_numpy(float)
    lower = row["metric"] in validation.LOWER_IS_BETTER
    return fitting.iloc[int(np.argmin(values) if lower else np.argmax(values))]


@pytest.mark.parametrize("overrides", OVERRIDES, ids=lambda o: ",".join(o) or "defaults")
def test_each_prediction_is_its_measurements_own(overrides):
    catalog = load_catalog()
    compared = validation.compare(catalog, **overrides)
    table = catalog.measurements
    assert table["batch_size"].isna().sum() >= 5  # MLPerf Offline rows: a best point picked
    for i, (_, row) in enumerate(table.iterrows()):
        alone = picked_one_by_one(row, catalog, overrides)
        assert compared["predicted"].iloc[i] == float(alone[row["metric"]]), row["id"]
        assert compared["predicted_at_batch_size"].iloc[i] == alone["batch_size"], row["id"]
        assert compared["predicted_at_n_gpus"].iloc[i] == alone["n_gpus"], row["id"]
        assert compared["predicted_fits"].iloc[i] == bool(alone["fits"]), row["id"]
    listed = validation.predict_all(table, catalog, **overrides)
    assert [r["batch_size"] for r in listed] == compared["predicted_at_batch_size"].tolist()


def test_an_override_changes_the_predictions_and_nothing_else():
    defaults = validation.compare()
    slower = validation.compare(bandwidth_efficiency=0.3)
    assert list(slower.columns) == list(defaults.columns)
    assert slower.drop(columns=validation_columns()).equals(
        defaults.drop(columns=validation_columns())
    )
    # Less bandwidth: no batch-1 decode gets faster (memory-bound steps get slower).
    batch_1 = (defaults["batch_size"] == 1) & (defaults["metric"] == "tokens_per_s_per_user")
    assert (slower["predicted"][batch_1] < defaults["predicted"][batch_1]).all()


def validation_columns() -> list[str]:
    """The columns compare adds (what an override may change)."""
    return [
        "predicted",
        "predicted_at_batch_size",
        "predicted_at_n_gpus",
        "predicted_fits",
        "error_pct",
        "abs_error_pct",
        "within_tolerance",
    ]


def test_the_plan_is_kept_with_the_catalog():
    catalog = load_catalog()
    validation.compare(catalog, bandwidth_efficiency=0.6)
    plan = catalog.prepared(validation._measurements_plan)
    validation.compare(catalog, bandwidth_efficiency=0.7)
    assert catalog.prepared(validation._measurements_plan) is plan
    # One point per measurement with a batch, a batch grid per free one, in table order.
    assert len(plan["first"]) == len(catalog.measurements)
    assert np.all(np.diff(plan["owner"]) >= 0) and plan["first"][0] == 0


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"bandwidth_efficiency": 1.5}, ValueError),
        ({"n_gpus": 4}, TypeError),  # each measurement states its GPUs
        ({"batch_size": 8}, TypeError),
    ],
)
def test_bad_overrides_are_named(overrides, error):
    (name,) = overrides
    with pytest.raises(error, match=name):
        validation.compare(**overrides)
