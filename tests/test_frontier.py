"""Pareto front of (tokens/s per user, tokens/s per GPU) and the cheapest setup under targets."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel import Scenario
from costmodel.frontier import (
    candidates,
    cheapest_meeting,
    cheapest_meeting_position,
    frontier,
    frontier_for_gpus,
    gpu_groups,
    pareto_front,
    setup_labels,
)

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


def test_cheapest_meeting_position_per_group():
    # Groups [slow, middle] and [fast, too-big] at 500 ms TTFT and 50 ms TPOT: middle
    # (0.5) beats slow (TTFT 900 ms); fast's 150 ms meets both, too-big does not fit.
    groups = [np.array([0, 1]), np.array([2, 3]), np.array([], int)]
    assert cheapest_meeting_position(table(), 500, 50, groups=groups) == [1, 2, None]
    # Without groups: the position of cheapest_meeting's row.
    assert cheapest_meeting_position(table(), 1000, 100) == 0
    # Of equal costs the first: the tie at 0.2 goes to row 0.
    tied = table().assign(usd_per_million_output_tokens=[0.2, 0.2, 0.2, 0.1])
    assert cheapest_meeting_position(tied, 1000, 100) == 0


def test_gpu_groups_in_order_of_first_appearance():
    df = pd.DataFrame({"gpu": pd.Categorical(["b200", "h100", "b200", "a100"])})
    groups = gpu_groups(df)
    assert list(groups) == ["b200", "h100", "a100"]
    assert [g.tolist() for g in groups.values()] == [[0, 2], [1], [3]]


def test_setup_labels_by_hand():
    df = pd.DataFrame(
        {
            "expert_parallel": [True, False],
            "n_gpus": [8, 4],
            "batch_size": [64, 1],
            "disaggregated": [False, True],
            "prefill_gpus": [2, 4],
        },
        index=[7, 9],
    )
    labels = setup_labels(df)
    assert labels.tolist() == ["EP 8, batch 64", "TP 4, batch 1, disaggregated 4+4"]
    assert list(labels.index) == [7, 9] and labels.dtype == "str"
    assert setup_labels(df.iloc[:0]).dtype == "str"  # no rows: still text


def test_cheapest_meeting_rejects_bad_targets():
    with pytest.raises(ValueError, match="tpot_ms_max"):
        cheapest_meeting(table(), ttft_ms_max=100, tpot_ms_max=0)
    with pytest.raises(ValueError, match="usd_per_request"):
        cheapest_meeting(table(), ttft_ms_max=100, tpot_ms_max=10, cost="usd_per_request")


# --- frontier(): the sweep of configurations ------------------------------------------

R1 = Scenario(model="deepseek-r1", gpu="b200", weight_format=None, prompt_tokens=1024)
SMALL = {"batch_size": [1, 16, 256, 2048], "n_gpus": [1, 2, 3, 8, 16], "prefill_gpus": [8]}


def test_candidates_leave_out_invalid_setups_before_the_sweep():
    rows = candidates(R1, **SMALL)
    n, ep, dis = rows["n_gpus"], rows["expert_parallel"], rows["disaggregated"]
    # TP: 1, 2, 8 (3 does not divide 128 heads; 16 leaves the 8-GPU NVLink domain);
    # EP: 2, 3, 8, 16 (not 1). Each aggregated and disaggregated (8 prefill GPUs), 4 batches.
    assert sorted(set(n[~ep])) == [1, 2, 8]
    assert sorted(set(n[ep])) == [2, 3, 8, 16]
    assert len(n) == (3 + 4) * 2 * 4
    assert set(rows["prefill_gpus"][dis]) == {8}
    # A dense model has no expert-parallel rows.
    dense = candidates(Scenario(model="llama-3-70b", gpu="b200"), **SMALL)
    assert not dense["expert_parallel"].any()


def test_frontier_rows_and_labels():
    whole = frontier(R1, front_only=False, **SMALL)
    assert whole["fits"].all() and np.isfinite(whole["ttft_ms"]).all()
    front = whole[whole["on_front"]]
    assert list(frontier(R1, **SMALL)["setup"]) == list(
        front.sort_values("tokens_per_s_per_user")["setup"]
    )
    row = whole[(whole["setup"] == "EP 8, batch 256, disaggregated 8+8")].iloc[0]
    assert row["gpus_per_replica"] == 16 and row["prefill_gpus"] == 8
    tp = whole[whole["setup"] == "TP 8, batch 16"].iloc[0]
    assert tp["prefill_gpus"] == 0 and tp["gpus_per_replica"] == 8
    # All-in cost per output token = price / (3600 s x tokens/s per GPU) x 1e6.
    assert tp["usd_per_million_output_tokens_all_in"] == pytest.approx(
        tp["usd_per_gpu_hour"] * 1e6 / (3600 * tp["output_tokens_per_s_per_gpu"])
    )
    # 671 B parameters in FP8 (+ NVFP4-free checkpoint) do not fit on 1, 2 or 3 B200s
    # (3 x 180 x 0.9 = 486 GB): no such rows.
    assert (whole["n_gpus"] >= 8).all()


def test_cheapest_meeting_on_the_frontier_sweep():
    whole = frontier(R1, front_only=False, **SMALL)
    best = cheapest_meeting(whole, 2000.0, 50.0, cost="usd_per_million_output_tokens_all_in")
    meets = whole[(whole["ttft_ms"] <= 2000) & (whole["tpot_ms"] <= 50)]
    assert (
        best["usd_per_million_output_tokens_all_in"]
        == meets["usd_per_million_output_tokens_all_in"].min()
    )
    assert cheapest_meeting(whole, 1e-3, 50.0) is None


def test_frontier_for_gpus_one_front_each():
    fronts = frontier_for_gpus(
        R1, ["h200-sxm", "gb200"], usd_per_gpu_hour={"h200-sxm": 2.0}, **SMALL
    )
    assert set(fronts["gpu"]) == {"h200-sxm", "gb200"}
    assert (fronts.loc[fronts["gpu"] == "h200-sxm", "usd_per_gpu_hour"] == 2.0).all()
    for _, front in fronts.groupby("gpu"):
        assert len(front) == len(pareto_front(front))


@settings(max_examples=8, deadline=None)
@given(
    st.sampled_from(["h100-sxm", "b200", "gb200"]),
    st.sampled_from([128, 1024, 8192]),
    st.sampled_from([64, 1024]),
)
def test_frontier_is_monotone_and_undominated(gpu, prompt, output):
    s = R1.replace(gpu=gpu, prompt_tokens=prompt, output_tokens=output)
    whole = frontier(s, front_only=False, batch_size=[1, 8, 64, 512], n_gpus=[8, 16, 32])
    front = whole[whole["on_front"]].sort_values(X)
    # Faster users, fewer tokens per GPU along the front.
    assert (np.diff(front[X]) > 0).all() and (np.diff(front[Y]) < 0).all()
    # No row of the sweep beats a front point on both axes.
    for _, p in front.iterrows():
        assert not ((whole[X] >= p[X]) & (whole[Y] > p[Y])).any()
