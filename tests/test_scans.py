"""scans.scan_many: several scan calls as one, each frame as its own scan gives it."""

import pandas as pd
import pytest

import costmodel
from costmodel import sensitivity
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
