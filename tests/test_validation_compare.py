"""validation.compare: one scan of every measurement's points, the best one picked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def summary_by_pandas(compared: pd.DataFrame) -> pd.DataFrame:
    """validation.summary as pandas' groupby says it (the reference)."""
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
    return table.reindex([m for m in validation.METRICS if m in table.index])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*validation.METRICS[:4], "not_a_metric"]),
            st.one_of(st.floats(-90.0, 300.0), st.just(float("nan")), st.just(12.5)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_summary_equals_pandas_groupby(rows):
    # Medians over odd and even counts, missing errors, ties for the largest (12.5 drawn
    # often: the first wins), a metric outside METRICS (left out); every metric keeps
    # one error at least (pandas' idxmax has no answer for a group of NaN only).
    rows = rows + [(m, 1.0) for m in dict.fromkeys(m for m, _ in rows)]
    compared = pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(len(rows))],
            "metric": [m for m, _ in rows],
            "error_pct": [e for _, e in rows],
        }
    )
    compared["abs_error_pct"] = compared["error_pct"].abs()
    pd.testing.assert_frame_equal(
        validation.summary(compared), summary_by_pandas(compared), check_exact=True
    )
    shipped = validation.compare(bandwidth_efficiency=0.6)
    pd.testing.assert_frame_equal(
        validation.summary(shipped), summary_by_pandas(shipped), check_exact=True
    )
