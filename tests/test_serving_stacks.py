"""The serving stack as an input: assets/serving_stacks.csv and how a value resolves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costmodel import Scenario, evaluate, load_catalog, sweep
from costmodel.catalog import STACK_FALLBACK, STACK_PARAMETERS, stack_value, stack_values
from costmodel.overheads import LAUNCH_SHARE, fixed_time_scale

CATALOG = load_catalog()


def test_stacks_and_dates_are_choice_tables():
    assert {"vllm", "sglang", "trt-llm", "atom", "dynamo-trt", "dynamo-sglang"} <= set(
        CATALOG.stacks.index
    )
    assert "any" not in CATALOG.stacks.index
    dates = list(CATALOG.stack_dates.index)
    assert dates == sorted(dates)


def test_every_value_lies_in_its_stated_range():
    ranges = CATALOG.serving_stack_parameters.set_index("parameter")
    for name in STACK_PARAMETERS:
        values = CATALOG.serving_stacks[name].dropna()
        low, high = ranges.loc[name, ["low", "high"]]
        assert values.between(low, high).all(), name
    assert set(ranges.index) == set(STACK_PARAMETERS)


def test_at_most_four_fitted_values_per_family_and_stack():
    fitted = CATALOG.serving_stacks[CATALOG.serving_stacks["source"] == "costmodel.calibration.fit"]
    assert len(fitted)
    assert (fitted[list(STACK_PARAMETERS)].notna().sum(axis=1) <= 4).all()
    assert fitted["fitted_on"].str.contains("rows").all()


def test_default_stack_keeps_the_2024_calibration():
    # vllm sets only the MoE kernel efficiency (0.65); the rest are the family's.
    r = evaluate(Scenario())
    assert r["serving_stack"] == "vllm"
    assert r["moe_kernel_efficiency"] == 0.65
    assert r["kernel_us"] == 0.0 and r["moe_half_experts"] == 0.0
    hopper = CATALOG.gpu_families.loc["hopper"]
    assert r["bandwidth_efficiency"] == hopper["bandwidth_efficiency"]
    assert r["allreduce_latency_us"] == hopper["allreduce_latency_us"]


def test_a_family_row_beats_the_pooled_row_and_fallback_stacks():
    table = CATALOG.serving_stacks
    own = table[(table.serving_stack == "trt-llm") & (table.family == "blackwell")]
    assert stack_value(CATALOG, "b200", "trt-llm", "kernel_us", "2026-06") == pytest.approx(
        own["kernel_us"].iloc[-1]
    )
    # GB200 (blackwell) takes the blackwell row; an H20 (hopper) the hopper row.
    assert (
        stack_value(CATALOG, "gb200", "trt-llm", "kernel_us", "2026-06")
        == own["kernel_us"].iloc[-1]
    )
    # ATOM on a family it was never fitted on falls back to SGLang's values there.
    assert STACK_FALLBACK["atom"] == "sglang"
    pooled_atom = table[(table.serving_stack == "atom") & (table.family == "any")]
    assert stack_value(CATALOG, "h200-sxm", "atom", "kernel_us", "2026-06") == pytest.approx(
        pooled_atom["kernel_us"].dropna().iloc[-1]
    )


def test_resolution_arrays_match_the_scalar_rule():
    values = stack_values(CATALOG)
    stacks, dates = list(CATALOG.stacks.index), list(CATALOG.stack_dates.index)
    for gpu in ("b200", "mi300x", "a100-80gb-sxm"):
        g = list(CATALOG.gpus.index).index(gpu)
        for s, stack in enumerate(stacks):
            for d, date in enumerate(dates):
                for name in STACK_PARAMETERS:
                    assert values[name][g, s, d] == pytest.approx(
                        stack_value(CATALOG, gpu, stack, name, date)
                    ), (gpu, stack, date, name)


def test_as_of_picks_the_newest_row_on_or_before_it():
    rows = pd.DataFrame(
        [
            {
                "serving_stack": "sglang",
                "family": "hopper",
                "date": "2026-01",
                "kernel_us": 5.0,
                "fitted_on": "",
                "source": "test",
                "note": "",
            },
            {
                "serving_stack": "sglang",
                "family": "hopper",
                "date": "2026-04",
                "kernel_us": 3.0,
                "fitted_on": "",
                "source": "test",
                "note": "",
            },
        ]
    )
    catalog = CATALOG.with_serving_stacks(pd.concat([CATALOG.serving_stacks, rows]))
    base = Scenario(
        model="deepseek-r1", gpu="h200-sxm", n_gpus=8, weight_format=None, serving_stack="sglang"
    )
    got = sweep(base, catalog, serving_stack_as_of=["2026-01", "2026-04"])["kernel_us"]
    assert list(got) == [5.0, 3.0]
    # Before every row: the oldest, here the shipped fitted row (older than both).
    assert stack_value(catalog, "h200-sxm", "sglang", "kernel_us", "2025-01") == stack_value(
        CATALOG, "h200-sxm", "sglang", "kernel_us", "2025-01"
    )


def test_the_own_family_row_wins_over_the_pooled_row_of_the_same_date():
    table = CATALOG.serving_stacks
    fitted = table[table["source"] == "costmodel.calibration.fit"]
    own = fitted[(fitted["serving_stack"] == "sglang") & (fitted["family"] == "hopper")]
    pooled = fitted[(fitted["serving_stack"] == "sglang") & (fitted["family"] == "any")]
    assert own["date"].iloc[0] == pooled["date"].iloc[0]
    got = stack_value(CATALOG, "h200-sxm", "sglang", "kernel_us", str(own["date"].iloc[0]))
    assert got == own["kernel_us"].iloc[0]
    # A family without its own row takes the pooled one; a pooled fixed time is stated at
    # H200's 4.8 TB/s and carries to the A100 80GB's 2.039 TB/s as 0.2 + 0.8 x 4.8 / 2.039.
    got = stack_value(CATALOG, "a100-80gb-sxm", "sglang", "kernel_us", str(own["date"].iloc[0]))
    assert got == pytest.approx(pooled["kernel_us"].iloc[0] * (0.2 + 0.8 * 4.8 / 2.039))
    got = stack_value(
        CATALOG, "a100-80gb-sxm", "sglang", "moe_kernel_efficiency", str(own["date"].iloc[0])
    )
    assert got == pooled["moe_kernel_efficiency"].iloc[0]  # an efficiency carries as it is


def test_a_pooled_fixed_time_is_shorter_on_a_faster_memory_system():
    # B200 (8 TB/s): 0.2 + 0.8 x 4.8 / 8 = 0.68 of the value at H200's 4.8 TB/s;
    # H100 (3.35 TB/s): 0.2 + 0.8 x 4.8 / 3.35 = 1.3463.
    assert fixed_time_scale(8.0) == pytest.approx(0.68)
    assert fixed_time_scale(3.35) == pytest.approx(1.3463, abs=1e-4)
    assert fixed_time_scale(4.8) == pytest.approx(1.0)
    speeds = np.linspace(1.0, 20.0, 50)
    assert (np.diff(fixed_time_scale(speeds)) < 0).all()
    assert (fixed_time_scale(speeds) > LAUNCH_SHARE).all()  # the launch never shrinks


def test_an_out_of_range_value_is_refused():
    bad = CATALOG.serving_stacks.iloc[:1].assign(kernel_us=50.0, serving_stack="sglang")
    with pytest.raises(ValueError, match="kernel_us of sglang"):
        CATALOG.with_serving_stacks(pd.concat([CATALOG.serving_stacks, bad]))


def test_a_scenario_value_overrides_the_stack():
    base = Scenario(
        model="deepseek-r1", gpu="b200", n_gpus=8, weight_format=None, serving_stack="sglang"
    )
    assert evaluate(base.replace(kernel_us=7.5))["kernel_us"] == 7.5
    with pytest.raises(ValueError, match="serving_stack"):
        evaluate(base.replace(serving_stack="ollama"))
