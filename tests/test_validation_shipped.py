"""Every measurement the app ships beside its prediction (costmodel.validation)."""

from __future__ import annotations

import pytest

from costmodel import validation
from costmodel.calibration import WITHIN_PCT


@pytest.fixture(scope="module")
def runs():
    return validation.inferencex()


@pytest.fixture(scope="module")
def every():
    return validation.shipped()


def test_inferencex_runs_with_their_errors(runs):
    assert len(runs) == 254  # the latest run of each configuration, consistent ones
    for metric in ("tokens_per_s_per_user", "output_tokens_per_s_per_gpu"):
        error = 100 * (runs[f"predicted_{metric}"] / runs[metric] - 1)
        assert (runs[f"error_{metric}_pct"] - error).abs().max() < 1e-9
    both = (
        runs[["error_tokens_per_s_per_user_pct", "error_output_tokens_per_s_per_gpu_pct"]]
        .abs()
        .le(WITHIN_PCT)
        .all(axis=1)
    )
    assert (runs["within_25_pct"] == both).all()
    assert set(runs["concurrency_band"].astype(str)) <= {"1-4", "5-16", "17-64", "65-256", "257+"}


def test_shipped_has_every_measured_value(every, runs):
    # 30 single numbers of measurements.csv and two numbers per InferenceX run.
    assert (every["set"] == "measurements.csv").sum() == 30
    assert (every["set"] == "InferenceX").sum() == 2 * len(runs)
    for column in validation.GROUP_COLUMNS:
        assert column in every
    singles = every[every["set"] == "measurements.csv"].set_index("id")
    assert singles.loc["R5", "serving_stack"] == "trt-llm" and singles.loc["R5", "speculative"]
    assert singles["within_tolerance"].all()
    assert (every["measured"] > 0).all() and (every["predicted"] > 0).all()


def test_frontier_points(runs):
    points = validation.frontier_points(runs, "b200", "trt-llm")
    mine = runs[(runs["gpu"] == "b200") & (runs["serving_stack"] == "trt-llm")]
    assert len(points) == 2 * len(mine)
    assert set(points["kind"]) == {"measured", "predicted"}
    measured = points[points["kind"] == "measured"]
    assert sorted(measured["tokens_per_s_per_user"]) == sorted(mine["tokens_per_s_per_user"])
    assert len(validation.frontier_points(runs)) == 2 * len(runs)
