"""The model against published measurements (assets/measurements.csv).

The bar: P1 (vLLM, 2x H100, Mixtral bf16, batch 1) and P2 (gpt-fast, 2x A100 80GB,
Mixtral bf16, batch 1) within 15%, P3 (MLPerf v4.1 Offline, 8x H100, fp8, tokens/s per
GPU) within 30%, R6 (SGLang, DeepSeek-V3 decode on 72 H100 with expert parallelism,
tokens/s per GPU) within 40%. Every other row is guarded against regressions.
"""

from __future__ import annotations

import pytest

from costmodel import load_catalog
from costmodel.validation import compare

#: abs_error_pct of every measurement, from compare() on the calibration of 2024-08
#: (assets/gpu_families.csv). Update these deliberately, in the same change, whenever the
#: calibration, a measurement row or the step-time model changes; never just to go green.
#: MLPerf rows use their datasets' published mean input lengths (reference/mlperf-workloads.csv:
#: Mixtral 427, llama-2-70b OpenOrca 222 tokens) instead of the 400 and 300 once assumed.
#: That moved P3 6.26 -> 1.26, P4 2.81 -> 1.75 and P21 13.12 -> 0.15, and uncovered how
#: optimistic the uncalibrated cdna3 efficiencies are on MI300X: P18 28.25 -> 47.79,
#: P19 32.71 -> 41.58, P20 77.34 -> 79.91 (shorter prompts, less prefill per output token).
#: Expert weights stream better as each expert gets more tokens (moe.moe_kernel_efficiency:
#: 0.65 at one token, 0.709 at many). Batch-1 decode (one token per expert) is unchanged;
#: prompts and large batches get faster: P1 0.43 -> 0.64 (its 128-token prompt), P4 1.75 ->
#: 0.55, and P17 62.70 -> 65.32: P17's TTFT includes one decode step at batch 650, which the
#: model now finds faster, while the measurement includes queueing the model leaves out.
TODAY_ABS_ERROR_PCT = {
    "P1": 0.64,
    "P2": 1.03,
    "P3": 1.26,
    "P4": 0.55,
    "P5": 6.46,
    "P6": 17.97,
    "P7": 27.47,
    "P8": 24.38,
    "P9": 20.42,
    "P10": 4.42,
    "P11": 3.84,
    "P12": 12.30,
    "P13": 3.79,
    "P14": 32.18,
    "P15": 13.79,
    "P16": 41.33,
    "P17": 65.32,
    "P18": 47.79,
    "P19": 41.58,
    "P20": 79.91,
    "P21": 0.15,
    # MLPerf Offline rows of reference/measurements-2025.csv with the workloads' published
    # mean lengths (222 / 301 and 427 / 144 tokens): llama-2-70b on 8x H200 (v5.1),
    # Mixtral on 8x H200 (v5.1), llama-2-70b on 8x H100 (v4.1).
    "R1": 0.27,
    "R2": 8.01,
    "R3": 27.59,
    # Serving at scale (reference/measurements-2025.csv; setups in assets/measurements.csv):
    # R4/R5 DeepSeek-R1 batch 1 on 8x B200 without / with MTP: the model is twice as fast
    # as TensorRT-LLM (its per-layer overhead, 5 us on Blackwell, is far below the ~100 us
    # per layer a 9 ms step at batch 1 implies); the MTP speed-up itself, 2.11x against the
    # measured 2.28x, is close. R6 SGLang EP72 decode on H100 (the acceptance bar, 40 %),
    # R7 DeepSeek's production decode (free batch: an upper bound), R8 SGLang's Kimi K2
    # decode cost, R10 SGLang's long-context EP16 decode.
    "R4": 121.77,
    "R5": 104.94,
    "R6": 14.67,
    "R7": 16.30,
    "R8": 10.57,
    "R10": 8.54,
}
#: Allowed worsening before the guard fails [percentage points].
SLACK_PP = 2.0

BAR_PCT = {"P1": 15.0, "P2": 15.0, "P3": 30.0, "R6": 40.0}


@pytest.fixture(scope="module")
def table():
    return compare().set_index("id")


def _line(row) -> str:
    return (
        f"{row.name}: {row['model']} {row['n_gpus']}x {row['gpu']} {row['weight_format']} "
        f"{row['metric']}: predicted {row['predicted']:.1f} vs measured {row['value']:.1f} "
        f"({row['error_pct']:+.1f}%, at batch {row['predicted_at_batch_size']}, "
        f"{row['predicted_at_n_gpus']} GPUs)"
    )


@pytest.mark.parametrize("measurement", sorted(BAR_PCT))
def test_headline_measurements_within_bar(table, measurement):
    row = table.loc[measurement]
    assert row["abs_error_pct"] <= BAR_PCT[measurement], _line(row)


def test_every_measurement_has_a_guard(table):
    assert sorted(table.index) == sorted(TODAY_ABS_ERROR_PCT), (
        "measurements.csv changed: add or remove entries in TODAY_ABS_ERROR_PCT"
    )


@pytest.mark.parametrize("measurement", sorted(TODAY_ABS_ERROR_PCT))
def test_no_regression(table, measurement):
    row = table.loc[measurement]
    limit = TODAY_ABS_ERROR_PCT[measurement] + SLACK_PP
    assert row["abs_error_pct"] <= limit, f"{_line(row)}; limit {limit:.1f}%"


def test_compare_columns_and_arithmetic(table):
    for _, row in table.iterrows():
        expected = 100 * (row["predicted"] - row["value"]) / row["value"]
        assert row["error_pct"] == pytest.approx(expected, rel=1e-12), _line(row)
        assert row["abs_error_pct"] == pytest.approx(abs(expected), rel=1e-12)
    # Fixed-batch rows are predicted at their own batch and GPU count.
    measured = load_catalog().measurements.set_index("id")
    fixed = measured["batch_size"].notna()
    for measurement in measured.index[fixed]:
        row = table.loc[measurement]
        assert row["predicted_at_batch_size"] == measured.loc[measurement, "batch_size"]
        assert row["predicted_at_n_gpus"] == measured.loc[measurement, "n_gpus"]
    # Free-batch rows (MLPerf Offline) use at most the system's GPUs per replica.
    for measurement in measured.index[~fixed]:
        row = table.loc[measurement]
        assert row["predicted_at_n_gpus"] <= measured.loc[measurement, "n_gpus"]


def test_overrides_move_predictions(table):
    # Halving the achieved bandwidth makes batch-1 decoding (memory bound) slower:
    # P1's predicted tokens/s falls by roughly half (all-reduce and overhead do not scale).
    slow = compare(bandwidth_efficiency=0.4).set_index("id")
    ratio = slow.loc["P1", "predicted"] / table.loc["P1", "predicted"]
    assert 0.5 < ratio < 0.6, ratio
