"""How a sweep reuses work without changing a bit: a product grid's broadcastable axes
(``evaluation.grid``, ``evaluation.flat``), a scan's row groups (``evaluation.row_groups``)
and the attention cache kinds computed once (``attention.cache_kinds``)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel import attention, evaluation


@pytest.fixture(scope="module")
def catalog():
    return costmodel.load_catalog()


# --- row groups -------------------------------------------------------------------------


def test_row_groups_by_hand():
    # Rows (1, 5.0), (2, 5.0), (1, 5.0): the first and the third are one group, numbered
    # in order of first appearance.
    groups = evaluation.row_groups([np.array([1, 2, 1]), np.array([5.0, 5.0, 5.0])], 3)
    assert groups.tolist() == [0, 1, 0]
    # No columns: one group.
    assert evaluation.row_groups([], 4).tolist() == [0, 0, 0, 0]
    # NaN equals NaN (a family default left at None); it keeps its own group.
    groups = evaluation.row_groups([np.array([np.nan, 0.5, np.nan, 0.5])], 4)
    assert groups.tolist() == [0, 1, 0, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from([0.5, 1.0, np.nan]),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_row_groups_number_rows_as_groupby_ngroup_does(rows):
    frame = pd.DataFrame(rows, columns=["a", "b", "c"])
    expected = frame.groupby(["a", "b", "c"], sort=False, dropna=False).ngroup().to_numpy()
    columns = [frame[k].to_numpy() for k in frame]
    np.testing.assert_array_equal(evaluation.row_groups(columns, len(frame)), expected)


# --- product grid ---------------------------------------------------------------------------


def test_flat_lays_a_broadcast_axis_out_first_axis_slowest():
    # A grid of 2 x 3: the first axis's values [10, 20] repeat 3 times each, the second's
    # [1, 2, 3] cycle twice (np.repeat and np.tile, as rows are numbered).
    first = np.array([10, 20]).reshape(2, 1)
    second = np.array([1, 2, 3]).reshape(1, 3)
    assert evaluation.flat(first, (2, 3)).tolist() == [10, 10, 10, 20, 20, 20]
    assert evaluation.flat(second, (2, 3)).tolist() == [1, 2, 3, 1, 2, 3]
    assert evaluation.flat(first * second, (2, 3)).tolist() == [10, 20, 30, 20, 40, 60]
    assert evaluation.flat(7.5, (2, 3)) == 7.5


def test_a_grid_axis_holds_its_values_once(catalog):
    axes = evaluation._checked_axes({"batch_size": [1, 2, 3], "gpu": ["h100-sxm"]}, catalog)
    columns, n = evaluation.grid(costmodel.Scenario(), catalog, axes)
    assert n == 3
    assert columns["batch_size"].shape == (3, 1)
    assert columns["gpu"].shape == (1, 1)
    assert np.ndim(columns["n_gpus"]) == 0


#: Sweeps of dense, MoE, MLA, sliding-window and linear-attention models with expert
#: parallelism, speculation (MTP) and disaggregation, prices and GPUs among the axes:
#: (fixed fields, axes).
MIXED = [
    ({"model": "llama-3-70b"}, {"speculative": [False, True]}),
    ({"model": "mixtral-8x7b"}, {"expert_parallel": [False, True], "speculative": [False, True]}),
    ({"model": "gpt-oss-120b"}, {"expert_parallel": [False, True]}),
    ({"model": "qwen3.5-397b-a17b"}, {"kv_format": ["bf16", "fp8"]}),
    (
        {"model": "deepseek-v3", "speculative": True, "n_gpus": 16, "prefill_gpus": 16},
        {"expert_parallel": [True], "mtp": [False, True]},
    ),
]
AXES = {
    "gpu": ["h100-sxm", "mi300x"],
    "disaggregated": [False, True],
    "batch_size": [1, 48],
    "prompt_tokens": [256, 5000],
    "usd_per_gpu_hour": [0.0, 2.5],
    "routing_skew": [0.0, 1.0],
}


@pytest.mark.parametrize(("fixed", "axes"), MIXED)
def test_a_scan_equals_the_same_rows_of_a_sweep_bit_for_bit(catalog, fixed, axes):
    base = costmodel.Scenario(**({"n_gpus": 8, "prefill_gpus": 8} | fixed))
    axes = axes | AXES
    sweep = costmodel.sweep(base, catalog, **axes)
    picked = np.random.default_rng(0).permutation(len(sweep))[: len(sweep) // 3]
    columns = {k: sweep[k].iloc[picked].tolist() for k in axes}
    scan = costmodel.scan(base, catalog, **columns)
    assert (
        scan[list(axes)]
        .astype(object)
        .equals(sweep[list(axes)].iloc[picked].reset_index(drop=True).astype(object))
    )
    for column in costmodel.OUTPUT_COLUMNS:
        np.testing.assert_array_equal(
            scan[column].to_numpy(), sweep[column].to_numpy()[picked], err_msg=column
        )


def test_a_product_sweep_names_the_first_bad_row_as_a_scan_does(catalog):
    # 100,000 + 5,000 tokens exceed Mixtral's 32,768-token window; n_gpus 3 does not split
    # its 32 heads. The first bad row in row order (first axis slowest) is named, the same
    # as when the same rows are zipped.
    axes = {"n_gpus": [1, 2], "prompt_tokens": [100, 100_000], "output_tokens": [5, 5_000]}
    rows = list(itertools.product(*axes.values()))
    zipped = {k: [r[i] for r in rows] for i, k in enumerate(axes)}
    with pytest.raises(ValueError) as product_error:
        costmodel.sweep(costmodel.Scenario(), catalog, **axes)
    with pytest.raises(ValueError) as scan_error:
        costmodel.scan(costmodel.Scenario(), catalog, **zipped)
    assert str(product_error.value) == str(scan_error.value)
    assert "100 + 5,000" not in str(product_error.value)
    assert "100,000 + 5" in str(product_error.value)


# --- attention's cache kinds once -------------------------------------------------------------


def test_cache_kinds_by_hand(catalog):
    # Mixtral 8x7B: 8 KV heads of 128 values, K and V, in BF16: 2 x 8 x 128 x 2 = 4,096 B
    # per token and layer; no latent, no linear state.
    arch = {k: catalog.models.loc["mixtral-8x7b", k] for k in ("n_kv_heads", "head_dim")}
    kinds = attention.cache_kinds(arch, 2.0)
    assert kinds["gqa"] == 2 * 8 * 128 * 2
    assert kinds["latent"] == 0.0
    assert kinds["linear"] == 0.0


@pytest.mark.parametrize("model", ["mixtral-8x7b", "deepseek-v3", "llama-3-70b"])
def test_passing_cache_kinds_changes_no_bit(catalog, model):
    x = evaluation.lookup(evaluation.grid(costmodel.Scenario(model=model), catalog, {})[0], catalog)
    arch, kv_bytes = x["arch"], x["cache"]["kv_bytes"]
    kinds = attention.cache_kinds(arch, kv_bytes)
    tokens = np.array([1.0, 100.0, 4096.0, 30_000.0])
    for n in (1, 2, 8, 16):
        for f in (
            attention.kv_growth_bytes_per_token,
            attention.fixed_sequence_bytes,
            attention.kv_bytes_per_token,
        ):
            assert f(arch, kv_bytes, n, kinds=kinds) == f(arch, kv_bytes, n)
        for f in (attention.sequence_cache_bytes, attention.decode_cache_read_bytes):
            np.testing.assert_array_equal(
                f(arch, tokens, kv_bytes, n, kinds=kinds), f(arch, tokens, kv_bytes, n)
            )
