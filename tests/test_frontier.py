"""Pareto front of (tokens/s per user, tokens/s per GPU) and the cheapest setup under targets."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.frontier import cheapest_meeting, pareto_front

X, Y = "tokens_per_s_per_user", "output_tokens_per_s_per_gpu"


def test_front_by_hand():
    # (user, gpu): a (10, 900), b (20, 700), c (20, 500) beaten by b, d (15, 600) beaten by
    # b, e (40, 300), f (40, 300) duplicate of e, g (5, 800) beaten by a, h (NaN, 5000).
    df = pd.DataFrame(
        {
            X: [10, 20, 20, 15, 40, 40, 5, np.nan],
            Y: [900, 700, 500, 600, 300, 300, 800, 5000],
        },
        index=list("abcdefgh"),
    )
    front = pareto_front(df)
    assert list(front.index) == ["a", "b", "e"]
    assert list(front[X]) == [10, 20, 40]


def test_front_on_other_axes_and_missing_columns():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    assert list(pareto_front(df, x="a", y="b").index) == [0, 2]
    with pytest.raises(ValueError, match=X):
        pareto_front(df)


# Small integers as well as floats, so that ties in either axis and duplicates occur.
def axis(high):
    return st.one_of(st.floats(0.1, high, allow_nan=False), st.integers(1, 5).map(float))


rows = st.lists(st.tuples(axis(1e4), axis(1e5)), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rows)
def test_front_is_monotone_and_undominated(points):
    df = pd.DataFrame(points, columns=[X, Y])
    front = pareto_front(df)
    fx, fy = front[X].to_numpy(), front[Y].to_numpy()
    # Faster users, fewer tokens per GPU along the front.
    assert np.all(np.diff(fx) > 0)
    assert np.all(np.diff(fy) < 0)
    # No row beats a front row on both axes (and at least one strictly).
    x, y = df[X].to_numpy(), df[Y].to_numpy()
    for px, py in zip(fx, fy, strict=True):
        assert not np.any((x >= px) & (y >= py) & ((x > px) | (y > py)))
    # Every row is matched or beaten by a front row.
    covered = (fx[None, :] >= x[:, None]) & (fy[None, :] >= y[:, None])
    assert covered.any(axis=1).all()
    # Filtering the front again changes nothing.
    assert list(pareto_front(front).index) == list(front.index)


def table():
    # Three setups: cheap and slow, middling, fast and dear; one that does not fit.
    return pd.DataFrame(
        {
            "ttft_ms": [900.0, 400.0, 150.0, 50.0],
            "tpot_ms": [60.0, 30.0, 10.0, 5.0],
            "usd_per_million_output_tokens": [0.2, 0.5, 1.5, 0.1],
            "fits": [True, True, True, False],
        },
        index=["slow", "middle", "fast", "too-big"],
    )


def test_cheapest_meeting_targets():
    df = table()
    assert cheapest_meeting(df, ttft_ms_max=1000, tpot_ms_max=100).name == "slow"
    assert cheapest_meeting(df, ttft_ms_max=500, tpot_ms_max=50).name == "middle"
    assert cheapest_meeting(df, ttft_ms_max=200, tpot_ms_max=50).name == "fast"
    # The row that does not fit is never chosen: nothing else meets 100 ms TTFT.
    assert cheapest_meeting(df, ttft_ms_max=100, tpot_ms_max=50) is None
    assert cheapest_meeting(df.drop(columns="fits"), ttft_ms_max=100, tpot_ms_max=50).name == (
        "too-big"
    )


def test_cheapest_meeting_rejects_bad_targets():
    with pytest.raises(ValueError, match="tpot_ms_max"):
        cheapest_meeting(table(), ttft_ms_max=100, tpot_ms_max=0)
    with pytest.raises(ValueError, match="usd_per_request"):
        cheapest_meeting(table(), ttft_ms_max=100, tpot_ms_max=10, cost="usd_per_request")
