"""Tornado sensitivity and the low/central/high headline, against hand-worked differences."""

import numpy as np
import pandas as pd
import pytest

from costmodel import Scenario, evaluate, load_catalog, sensitivity
from costmodel.sensitivity import TORNADO_FIELDS, headline_range, tornado

BASE = Scenario(utilization=0.8)  # below 1 so that utilisation can move both ways
COST = "usd_per_million_output_tokens"


@pytest.fixture(scope="module")
def table():
    return tornado(BASE, change_pct=20).set_index("field")


def test_cost_moves_in_proportion_to_price(table):
    # cost = n * price / 3600 / u * t_token / B * 1e6: price x0.8 and x1.2 give cost x0.8, x1.2.
    row = table.loc["usd_per_gpu_hour"]
    assert (row["value_low"], row["value_high"]) == pytest.approx((1.95 * 0.8, 1.95 * 1.2))
    assert row["change_low_pct"] == pytest.approx(-20.0, abs=1e-9)
    assert row["change_high_pct"] == pytest.approx(20.0, abs=1e-9)


def test_cost_moves_in_inverse_proportion_to_utilization(table):
    # u = 0.8 -> 0.64 and 0.96: cost x 0.8/0.64 = 1.25 (+25 %) and x 0.8/0.96 (-16.67 %).
    row = table.loc["utilization"]
    assert (row["value_low"], row["value_high"]) == pytest.approx((0.64, 0.96))
    assert row["change_low_pct"] == pytest.approx(25.0, abs=1e-9)
    assert row["change_high_pct"] == pytest.approx(100 * (0.8 / 0.96 - 1), abs=1e-9)


def test_bandwidth_efficiency_by_finite_difference(table):
    # At batch 32 the decode step is memory-bound (memory 26.9 ms vs compute 1.0 ms), so only
    # the memory term moves: t = t_mem(e) + t_allreduce + t_overhead with t_mem ~ 1/e.
    base = evaluate(BASE)
    assert base["memory_time_ms"] > 10 * base["compute_time_ms"]
    fixed = base["decode_step_ms"] - base["memory_time_ms"]
    e = base["bandwidth_efficiency"]  # the hopper default, 0.80
    for factor, column in ((0.8, "change_low_pct"), (1.2, "change_high_pct")):
        step = base["memory_time_ms"] * e / (e * factor) + fixed
        expected = 100 * (step / base["decode_step_ms"] - 1)
        assert table.loc["bandwidth_efficiency", column] == pytest.approx(expected, rel=1e-9)


def test_compute_efficiency_does_not_move_a_memory_bound_cost(table):
    assert table.loc["compute_efficiency", "swing"] == pytest.approx(0.0, abs=1e-12)


def test_batch_moves_are_rounded_and_cost_falls_with_batch(table):
    row = table.loc["batch_size"]
    assert (row["value_low"], row["value_high"]) == (26, 38)  # round(32 * 0.8), round(32 * 1.2)
    assert row["output_low"] > row["output_base"] > row["output_high"]


def test_each_row_equals_evaluate_of_the_moved_scenario(table):
    for field in TORNADO_FIELDS:
        for side in ("low", "high"):
            value = table.loc[field, f"value_{side}"]
            if isinstance(getattr(BASE, field), int):
                value = int(value)  # the table's value column is float for every field
            moved = BASE.replace(**{field: value})
            assert table.loc[field, f"output_{side}"] == pytest.approx(evaluate(moved)[COST])


def test_sorted_by_swing_and_acceptance_added_when_speculative():
    spec = tornado(Scenario(speculative=True), change_pct=10)
    assert list(spec["swing"]) == sorted(spec["swing"], reverse=True)
    assert {"acceptance_at_t0", "acceptance_at_t1"} <= set(spec["field"])
    assert not {"acceptance_at_t0"} & set(tornado(Scenario())["field"])


def test_clipped_at_the_field_range():
    # Utilisation 1.0 cannot go up: the high move is no move at all.
    row = tornado(Scenario(utilization=1.0)).set_index("field").loc["utilization"]
    assert row["value_high"] == 1.0
    assert row["change_high_pct"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("pct", [0, 100, -5])
def test_change_pct_out_of_range(pct):
    with pytest.raises(ValueError, match="change_pct"):
        tornado(BASE, change_pct=pct)


def test_headline_range_moves_both_efficiencies_by_the_family_uncertainty():
    spread = headline_range(BASE)
    family = load_catalog().gpu_families.loc["hopper"]
    assert spread["uncertainty"] == family["efficiency_uncertainty"] == 0.15
    assert spread["calibrated_on"] == "P1 P3 P4"
    assert spread["low"] < spread["central"] < spread["high"]
    assert spread["central"] == pytest.approx(evaluate(BASE)[COST])
    # The low end is both efficiencies x1.15, the high end both x0.85.
    low = evaluate(BASE.replace(bandwidth_efficiency=0.8 * 1.15, compute_efficiency=0.6 * 1.15))
    high = evaluate(BASE.replace(bandwidth_efficiency=0.8 * 0.85, compute_efficiency=0.6 * 0.85))
    assert (spread["low"], spread["high"]) == pytest.approx((low[COST], high[COST]))


def test_headline_range_for_an_uncalibrated_family():
    spread = headline_range(Scenario(gpu="b200", n_gpus=1))
    assert spread["uncertainty"] == 0.30 and spread["calibrated_on"] == ""
    assert np.isfinite([spread["low"], spread["high"]]).all()


def test_token_moves_stop_at_the_context_window():
    # Mixtral 8x22B at 65,280 + 256 tokens fills its 65,536-token window: +20 % prompt would
    # be 78,336, so the high move stays at 65,536 - 256 = 65,280; -20 % is 52,224.
    base = Scenario(model="mixtral-8x22b", gpu="mi300x", n_gpus=4, prompt_tokens=65_280)
    table = tornado(base, fields=("prompt_tokens",)).set_index("field")
    assert (table.loc["prompt_tokens", "value_low"], table.loc["prompt_tokens", "value_high"]) == (
        52_224,
        65_280,
    )


COST = "usd_per_million_output_tokens"


def test_headline_ranges_at_once_equal_one_at_a_time():
    # The vectorised path (two scans for all) against each scenario alone, and its
    # central value against evaluate: same numbers to 1e-9.
    catalog = load_catalog()
    bases = [
        Scenario(),
        Scenario(gpu="a100-80gb-sxm", n_gpus=4, batch_size=8, usd_per_gpu_hour=1.3),
        Scenario(gpu="mi300x", n_gpus=1, bandwidth_efficiency=0.7, speculative=True),
    ]
    together = sensitivity.headline_ranges(bases, catalog=catalog)
    for base, ranged in zip(bases, together, strict=True):
        alone = sensitivity.headline_range(base, catalog=catalog)
        assert ranged.keys() == alone.keys()
        for key in ("low", "central", "high", "uncertainty"):
            assert ranged[key] == pytest.approx(alone[key], rel=1e-9)
        central = evaluate(base, catalog)
        assert ranged["central"] == pytest.approx(central[COST], rel=1e-9)
        # One evaluate per end: both efficiencies moved by the family's uncertainty.
        u = ranged["uncertainty"]
        ends = [
            evaluate(
                base.replace(
                    **{
                        f: sensitivity._moved(f, central[f], factor)
                        for f in ("bandwidth_efficiency", "compute_efficiency")
                    }
                ),
                catalog,
            )[COST]
            for factor in (1 - u, 1 + u)
        ]
        assert ranged["low"] == pytest.approx(min(ends), rel=1e-9)
        assert ranged["high"] == pytest.approx(max(ends), rel=1e-9)
        assert ranged["low"] <= ranged["central"] <= ranged["high"]
    assert sensitivity.headline_ranges([], catalog=catalog) == []


def test_n_gpus_under_expert_parallelism_moves_within_the_experts():
    """Mixtral 8x7B on 8 GPUs by expert parallelism: 16 (the next tensor-parallel size)
    would leave GPUs without an expert (the library refuses it); 7 and 8 instead."""
    table = sensitivity.tornado(Scenario(expert_parallel=True, n_gpus=8), fields=("n_gpus",))
    assert (table.loc[0, "value_low"], table.loc[0, "value_high"]) == (7, 8)


def test_largest_first_is_the_order_of_a_descending_sort():
    # 3 > 2 > 1, NaN last; equal values in pandas' order (its sort of the reversed values).
    values = np.array([1.0, 3.0, np.nan, 2.0])
    assert sensitivity.largest_first(values).tolist() == [1, 3, 0, 2]
    rng = np.random.default_rng(0)
    for n in (0, 1, 5, 17, 40):  # past 16 values numpy's quicksort is not an insertion sort
        ties = rng.integers(0, 4, n).astype(float)
        ties[rng.random(n) < 0.2] = np.nan
        expected = pd.DataFrame({"v": ties}).sort_values("v", ascending=False).index
        assert sensitivity.largest_first(ties).tolist() == expected.tolist()
