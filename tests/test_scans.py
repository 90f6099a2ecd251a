"""scans.scan_many: several scan calls as one, each frame as its own scan gives it."""

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel import margins, scans, sensitivity
from costmodel.scans import scan_many


@pytest.fixture(scope="module")
def catalog():
    return costmodel.load_catalog()


def test_scan_many_equals_one_scan_per_call(catalog):
    calls = [
        (costmodel.Scenario(), {"batch_size": [1, 8, 64]}),
        (costmodel.Scenario(gpu="h200-sxm", n_gpus=1), {}),
        (costmodel.Scenario(expert_parallel=True, n_gpus=8), {"usd_per_gpu_hour": [1.0, 3.0]}),
    ]
    frames = scan_many(calls, catalog)
    # 3 + 1 + 2 rows, cut back into the calls' own frames, each indexed from 0
    assert [len(f) for f in frames] == [3, 1, 2]
    for (base, columns), frame in zip(calls, frames, strict=True):
        pd.testing.assert_frame_equal(frame, costmodel.scan(base, catalog, **columns))


def test_scan_many_of_equal_bases_without_columns_keeps_one_row_each(catalog):
    frames = scan_many([(costmodel.Scenario(), {})] * 2, catalog)
    alone = costmodel.scan(costmodel.Scenario(), catalog)
    for frame in frames:
        pd.testing.assert_frame_equal(frame, alone)
    assert scan_many([], catalog) == []


def test_tornado_and_ranges_from_a_sweep_row_equal_their_own_calls(catalog):
    base = costmodel.Scenario(batch_size=32)
    resolved = costmodel.evaluate(base, catalog)
    call = sensitivity.tornado_call(base, resolved, 20.0, None, catalog)
    other = base.replace(gpu="h200-sxm", n_gpus=1)
    central = sensitivity.scan_scenarios([base, other], catalog)
    ranges = sensitivity.ranges_call([base, other], central, catalog)
    tornado_rows, range_rows = scan_many([call, ranges], catalog)
    cost = "usd_per_million_output_tokens"
    pd.testing.assert_frame_equal(
        sensitivity.tornado_table(call[1], resolved, cost, tornado_rows),
        sensitivity.tornado(base, 20.0, cost, catalog=catalog),
    )
    assert sensitivity.ranges_from(
        [base, other], central, range_rows, cost, catalog
    ) == sensitivity.headline_ranges([base, other], cost, catalog)


def test_evaluated_row_is_what_evaluate_gives(catalog):
    base = costmodel.Scenario(batch_size=24)
    row = scans.evaluated_row(costmodel.scan(base, catalog, batch_size=[8, 24]), 1)
    assert row == costmodel.evaluate(base, catalog)
    assert all(not isinstance(v, np.generic) for v in row.values())


def test_first_break_even_is_the_first_fitting_batch_at_or_under_the_revenue():
    grid = pd.DataFrame(
        {
            "batch_size": [1, 8, 64, 256],
            "fits": [True, True, True, False],
            "usd_per_request": [0.02, 0.004, 0.001, 0.0001],
        }
    )
    # 0.01 $: batch 8 (0.004 <= 0.01); 0.001 $: batch 64 (equal); 0.0005 $: only the
    # batch of 256 is cheap enough, and it does not fit: none.
    found = margins.first_break_even(grid, [0.01, 0.001, 0.0005])
    np.testing.assert_array_equal(found, [8.0, 64.0, np.nan])


def test_product_columns_vary_the_first_axis_slowest():
    columns = scans.product_columns(a=[1, 2], b=[5, 6, 7])
    assert columns == {"a": [1, 1, 1, 2, 2, 2], "b": [5, 6, 7, 5, 6, 7]}
    assert scans.product_columns() == {}


def test_product_columns_scan_as_the_sweep(catalog):
    axes = {"gpu": ["h100-sxm", "h200-sxm"], "batch_size": [1, 16, 64]}
    base = costmodel.Scenario()
    pd.testing.assert_frame_equal(
        costmodel.scan(base, catalog, **scans.product_columns(**axes)),
        costmodel.sweep(base, catalog, **axes),
    )
