"""Fitting named efficiencies to measurements, cross-validation, and the error tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costmodel import Scenario, evaluate, load_catalog
from costmodel import calibration as cal
from costmodel.calibration.fit import (
    MAX_PARAMETERS_PER_GROUP,
    bounds,
    robust_cost,
    robust_weights,
    shared_overrides,
    stack_rows,
)
from costmodel.calibration.table import measurement_table
from costmodel.fields import FIELD_NAMES
from costmodel.overheads import FIXED_TIME_PARAMETERS, fixed_time_scale

CATALOG = cal.without_fit(load_catalog())

#: A synthetic DeepSeek-R1 campaign on two GPUs and one stack: batch 1 to 256, TP4 and TP8.
SETUPS = [(gpu, n, b) for gpu in ("b200", "h200-sxm") for n in (4, 8) for b in (1, 4, 16, 64, 256)]


def synthetic(truth: dict) -> pd.DataFrame:
    """Rows measured as the model predicts them with ``truth`` set (no noise): a stack's
    values, its fixed times stated at H200's memory system and carried to each GPU by
    ``overheads.fixed_time_scale`` (B200: 0.68 of them), as a pooled catalog row is."""
    rows = []
    for i, (gpu, n, b) in enumerate(SETUPS):
        s = Scenario(
            model="deepseek-r1",
            gpu=gpu,
            n_gpus=n,
            weight_format=None,
            kv_format="fp8",
            batch_size=b,
            prompt_tokens=1000,
            output_tokens=1000,
            serving_stack="sglang",
        )
        rows.append({**{k: getattr(s, k) for k in FIELD_NAMES}, "measurement": f"s{i}"})
    table = measurement_table(pd.DataFrame(rows).assign(tokens_per_s_per_user=1.0))
    scale = fixed_time_scale(CATALOG.gpus.loc[table["gpu"], "bandwidth_tb_s"].to_numpy(float))
    overrides = {
        k: np.full(len(table), v) * (scale if k in FIXED_TIME_PARAMETERS else 1.0)
        for k, v in truth.items()
    }
    predicted = cal.predict(table, CATALOG, overrides)
    for name in cal.FIT_METRICS:
        table[name] = predicted[name].to_numpy()
    return table


TRUTH = {"kernel_us": 3.0, "moe_kernel_efficiency": 0.7, "allreduce_latency_us": 9.0}


def test_fit_recovers_the_values_that_made_the_rows():
    table = synthetic(TRUTH)
    result = cal.fit(table, {name: "stack" for name in TRUTH}, CATALOG)
    values = result.values.set_index("parameter")["value"]
    for name, truth in TRUTH.items():
        assert values[name] == pytest.approx(truth, rel=2e-3), name
    errors = result.rows[[f"error_{m}_pct" for m in cal.FIT_METRICS]].abs()
    assert errors.max().max() < 0.1
    # Uncertainty from the Jacobian: noise-free rows pin the values tightly.
    assert (result.values["std_error"] < 0.05 * result.values["value"]).all()


def test_fit_per_family_and_stack_and_scenario_fields():
    table = synthetic(TRUTH)
    result = cal.fit(
        table, {"kernel_us": "family_stack", "moe_kernel_efficiency": "stack"}, CATALOG
    )
    assert set(result.values["family"]) == {"blackwell", "hopper", "any"}
    fields = result.scenario_fields("blackwell", "sglang")
    assert set(fields) == {"kernel_us", "moe_kernel_efficiency"}
    # The fitted values are Scenario fields: set them and evaluate.
    r = evaluate(
        Scenario(
            model="deepseek-r1",
            gpu="b200",
            n_gpus=8,
            weight_format=None,
            serving_stack="sglang",
            **fields,
        )
    )
    assert r["kernel_us"] == fields["kernel_us"]
    assert result.parameter_counts(CATALOG).max() <= MAX_PARAMETERS_PER_GROUP


def test_a_pooled_fixed_time_is_set_on_a_scenario_for_its_gpu():
    result = cal.fit(synthetic(TRUTH), {name: "stack" for name in TRUTH}, CATALOG)
    fitted = result.values.set_index("parameter").at["kernel_us", "value"]
    assert fitted == pytest.approx(3.0, rel=2e-3)  # stated at H200's 4.8 TB/s
    # On a B200 (8 TB/s): 3.0 x (0.2 + 0.8 x 4.8 / 8) = 3.0 x 0.68 = 2.04 us per kernel.
    on_b200 = result.scenario_fields("blackwell", "sglang", 8.0)["kernel_us"]
    assert on_b200 == pytest.approx(fitted * 0.68, abs=1e-4)
    assert result.scenario_fields("hopper", "sglang")["kernel_us"] == round(fitted, 4)


def test_values_stay_in_their_physical_range():
    # Rows three times slower than any in-range kernel time explains: the value stops at
    # its upper bound (serving_stack_parameters.csv: 12 us).
    table = synthetic({"kernel_us": 12.0})
    table["tokens_per_s_per_user"] /= 3
    table["output_tokens_per_s_per_gpu"] /= 3
    result = cal.fit(table, {"kernel_us": "stack"}, CATALOG)
    low, high = bounds("kernel_us", CATALOG)
    assert result.values["value"].iloc[0] == pytest.approx(high)
    assert (low, high) == (0.5, 12.0)


def test_fitted_rows_reproduce_the_fit_through_the_catalog():
    table = synthetic(TRUTH)
    result = cal.fit(table, {name: "stack" for name in TRUTH}, CATALOG)
    rows = stack_rows(result, "2026-07", "synthetic")
    assert list(rows["family"]) == ["any"] and rows["fitted_on"].iloc[0] == "20 rows synthetic"
    fitted = cal.with_fit(CATALOG, result, "2026-07")
    again = cal.compare(table, fitted)
    pd.testing.assert_series_equal(
        again["predicted_tokens_per_s_per_user"],
        result.rows["predicted_tokens_per_s_per_user"],
        check_names=False,
        rtol=1e-3,
    )


def test_workload_values_are_shared_not_stack_rows():
    table = synthetic(TRUTH)
    table["speculative"] = table["mtp"] = True
    table["draft_tokens"] = 2
    result = cal.fit(table, {"kernel_us": "stack", "acceptance_at_t0": "all"}, CATALOG)
    assert set(result.shared()) == {"acceptance_at_t0"}
    assert "acceptance_at_t0" not in stack_rows(result, "2026-07").columns
    overrides = shared_overrides(result, 3)
    assert overrides["acceptance_at_t1"].tolist() == overrides["acceptance_at_t0"].tolist()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "at least one"),
        ({"colour": "stack"}, "must be one of"),
        ({"kernel_us": "galaxy"}, "must be one of all, stack"),
        (
            {
                p: "stack"
                for p in (
                    "kernel_us",
                    "moe_kernel_efficiency",
                    "moe_half_experts",
                    "allreduce_latency_us",
                    "compute_efficiency",
                )
            },
            "at most 4 values",
        ),
    ],
)
def test_bad_parameters(parameters, message):
    with pytest.raises(ValueError, match=message):
        cal.fit(synthetic(TRUTH), parameters, CATALOG)


def test_a_table_without_measurements_is_refused():
    table = synthetic(TRUTH)
    table[list(cal.FIT_METRICS)] = np.nan
    with pytest.raises(ValueError, match="no measured"):
        cal.fit(table, {"kernel_us": "stack"}, CATALOG)


def test_robust_loss_by_hand():
    # d = 0.15: r = 0.15 costs 2 d^2 (sqrt(2) - 1) = 0.018640; weight 1 / sqrt(2).
    assert robust_cost([0.15]) == pytest.approx(2 * 0.15**2 * (np.sqrt(2) - 1))
    assert robust_weights(0.15) == pytest.approx(1 / np.sqrt(2))
    assert robust_cost([0.001]) == pytest.approx(0.001**2, rel=1e-4)  # squares when small


def test_leave_one_gpu_out_predicts_each_gpu_from_the_other():
    table = synthetic(TRUTH)
    rows = cal.leave_one_gpu_out(table, {name: "stack" for name in TRUTH}, CATALOG)
    assert set(rows["held_out"]) == {"b200", "h200-sxm"}
    assert (rows["held_out"] == rows["gpu"]).all()
    # The same stack values made both GPUs' rows, so each transfers to the other.
    assert rows["error_tokens_per_s_per_user_pct"].abs().max() < 0.5


def test_suggested_parameters():
    table = synthetic(TRUTH)
    assert cal.suggested_parameters(table) == {
        "moe_kernel_efficiency": "family_stack",
        "kernel_us": "family_stack",
        "allreduce_latency_us": "family_stack",
    }
    one = table.iloc[:1]
    assert cal.suggested_parameters(one) == {"moe_kernel_efficiency": "family_stack"}
    dense = one.assign(model="llama-3.1-70b")
    assert cal.suggested_parameters(dense) == {"bandwidth_efficiency": "family_stack"}


def test_error_table_by_hand():
    rows = pd.DataFrame(
        {
            "gpu": ["a", "a", "b"],
            "error_tokens_per_s_per_user_pct": [10.0, -30.0, 5.0],
            "error_output_tokens_per_s_per_gpu_pct": [-20.0, 5.0, 40.0],
        }
    )
    total = cal.error_table(rows).iloc[0]
    assert total["rows"] == 3 and total["within_25_pct"] == pytest.approx(100 / 3)
    assert total["median_abs_error_tokens_per_s_per_user_pct"] == 10.0
    by_gpu = cal.error_table(rows, "gpu")
    assert by_gpu.loc["a", "within_25_pct"] == 50.0
    assert by_gpu.loc["b", "median_error_output_tokens_per_s_per_gpu_pct"] == 40.0


def test_concurrency_bands():
    got = cal.concurrency_band([1, 4, 5, 16, 17, 64, 65, 256, 257, 10_000])
    assert list(got) == [
        "1-4",
        "1-4",
        "5-16",
        "5-16",
        "17-64",
        "17-64",
        "65-256",
        "65-256",
        "257+",
        "257+",
    ]
