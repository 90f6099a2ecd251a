"""costmodel.comparisons: dense equivalents, more-experts what-if models, side-by-side sweeps."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import costmodel
from costmodel import comparisons
from costmodel.moe import experts_read

MIXTRAL = "mixtral-8x7b"


@pytest.fixture(scope="module")
def catalog():
    return comparisons.dense_equivalents(costmodel.load_catalog(), MIXTRAL)


def test_active_params_of_mixtral():
    # Seed README: about 46.7 B parameters in all and about 12.9 B active per token.
    models = costmodel.load_catalog().models
    assert comparisons.active_params(models).loc[MIXTRAL] == pytest.approx(12.88e9, rel=1e-3)
    assert models.loc[MIXTRAL, "total_params"] == pytest.approx(46.70e9, rel=1e-3)


def test_dense_equivalents_match_active_and_total_params(catalog):
    ids = comparisons.dense_model_ids(MIXTRAL)
    models = catalog.models
    moe = models.loc[MIXTRAL]
    active = comparisons.active_params(models)
    same_active, same_total = models.loc[ids["same_active"]], models.loc[ids["same_total"]]
    # One FFN unit is 3 L h = 393,216 parameters: the match is within half a unit.
    unit = 3 * moe["n_layers"] * moe["hidden_size"]
    assert abs(same_active["total_params"] - active.loc[MIXTRAL]) <= unit / 2
    assert abs(same_total["total_params"] - moe["total_params"]) <= unit / 2
    # 14336 * 2 (+ router spread over the layers) and 14336 * 8 (+ the same).
    assert same_active["intermediate_size"] == 28675
    assert same_total["intermediate_size"] == 114691
    for dense in (same_active, same_total):
        assert dense["n_experts"] == 1 and dense["experts_per_token"] == 1
        assert dense["router_params"] == 0
        for field in ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size"):
            assert dense[field] == moe[field]
        assert dense["attention_params"] == moe["attention_params"]


def test_dense_ids_are_valid_scenario_models(catalog):
    for model in comparisons.dense_model_ids(MIXTRAL).values():
        assert model.startswith(costmodel.CUSTOM_PREFIX)
        row = costmodel.evaluate(costmodel.Scenario(model=model), catalog)
        assert row["experts_read_per_layer"] == 1.0


def test_dense_equivalents_of_a_dense_model_are_itself():
    cat = comparisons.dense_equivalents(costmodel.load_catalog(), "llama-2-70b")
    ids = comparisons.dense_model_ids("llama-2-70b")
    for model in ids.values():
        assert cat.models.loc[model, "intermediate_size"] == 28672
        assert (
            cat.models.loc[model, "total_params"] == cat.models.loc["llama-2-70b", "total_params"]
        )


def test_unknown_model_raises():
    with pytest.raises(ValueError, match="model must be one of"):
        comparisons.dense_equivalents(costmodel.load_catalog(), "no-such-model")


@pytest.mark.parametrize(
    ("n_experts", "experts_per_token", "keep", "width", "total_b", "active_b"),
    [
        (16, 2, "expert size", 14336, 91.80, 12.88),
        (64, 8, "total size", 1792, 46.71, 7.25),
        (8, 2, "expert size", 14336, 46.70, 12.88),
    ],
)
def test_more_experts(n_experts, experts_per_token, keep, width, total_b, active_b):
    cat, what_if = comparisons.more_experts(
        costmodel.load_catalog(), MIXTRAL, n_experts, experts_per_token, keep
    )
    row = cat.models.loc[what_if]
    assert what_if == comparisons.more_experts_id(MIXTRAL, n_experts, experts_per_token, keep)
    assert (row["n_experts"], row["experts_per_token"]) == (n_experts, experts_per_token)
    assert row["intermediate_size"] == width
    assert row["total_params"] / 1e9 == pytest.approx(total_b, abs=0.01)
    assert comparisons.active_params(cat.models).loc[what_if] / 1e9 == pytest.approx(
        active_b, abs=0.01
    )


@pytest.mark.parametrize(
    ("n_experts", "experts_per_token", "keep", "match"),
    [
        (8, 9, "expert size", "experts_per_token"),
        (8, 0, "expert size", "experts_per_token"),
        (8, 2, "both", "keep"),
    ],
)
def test_more_experts_rejects_bad_input(n_experts, experts_per_token, keep, match):
    with pytest.raises(ValueError, match=match):
        comparisons.more_experts(
            costmodel.load_catalog(), MIXTRAL, n_experts, experts_per_token, keep
        )


def test_weight_and_kv_bytes_add_up_to_bytes_read(catalog):
    scen = costmodel.Scenario()
    frame = costmodel.sweep(scen, catalog, batch_size=[1, 2, 4, 8, 16, 32])
    weights = frame["weight_bytes_read_per_step_gb"].to_numpy(float)
    # Seed README: KV cache 131,072 bytes per token; a step reads B (P + O/2) cached tokens
    # and writes B new ones.
    B = frame["batch_size"].to_numpy(float)
    kv_gb = B * (scen.prompt_tokens + scen.output_tokens / 2 + 1) * 131072 / 1e9
    np.testing.assert_allclose(frame["kv_bytes_read_per_step_gb"], kv_gb, rtol=1e-12)
    np.testing.assert_allclose(weights + kv_gb, frame["bytes_read_per_step_gb"], rtol=1e-12)
    # Batch 1 reads 2 of 8 experts: attention + a quarter of the experts (+ 16-bit parts).
    moe = catalog.models.loc[MIXTRAL]
    expected = (moe["attention_params"] + moe["expert_params"] / 4) * 2 + 2 * (
        moe["router_params"] + moe["lm_head_params"] + moe["norm_params"]
    )
    assert weights[0] == pytest.approx(expected / 1e9)


def test_compare_models_stacks_setups(catalog):
    ids = comparisons.dense_model_ids(MIXTRAL)
    models = {"MoE": MIXTRAL, "dense": ids["same_active"]}
    batches = [1, 2, 4, 8, 16, 32]
    table = comparisons.compare_models(costmodel.Scenario(), catalog, models, batch_size=batches)
    assert list(table["setup"]) == ["MoE"] * 6 + ["dense"] * 6
    assert table.columns[0] == "setup"
    moe = table[table["setup"] == "MoE"]
    # Seed README: 2, 3.5, 5.47, 7.20, 7.92, 8.00 experts at B = 1, 2, 4, 8, 16, 32.
    np.testing.assert_allclose(
        moe["experts_read_per_layer"], [2, 3.5, 5.47, 7.20, 7.92, 8.00], atol=0.005
    )
    np.testing.assert_allclose(
        moe["experts_read_per_layer"], experts_read(np.array(batches), 8, 2), rtol=1e-12
    )
    direct = costmodel.sweep(costmodel.Scenario(), catalog, batch_size=batches)
    np.testing.assert_allclose(
        moe["usd_per_million_output_tokens"], direct["usd_per_million_output_tokens"]
    )
    ratio = moe["usd_per_million_output_tokens"] / moe["usd_per_million_output_tokens"].iloc[0]
    np.testing.assert_allclose(moe["cost_vs_batch_1"], ratio)
    np.testing.assert_allclose(
        table["prefill_ms_per_prompt_token"], table["prefill_ms"] / (table["batch_size"] * 512)
    )
    # C7: batching cuts the dense model's cost more than the MoE's.
    dense = table[table["setup"] == "dense"]
    assert dense["cost_vs_batch_1"].iloc[-1] < moe["cost_vs_batch_1"].iloc[-1]


def test_compare_models_batch_ratio_per_skew(catalog):
    table = comparisons.compare_models(
        costmodel.Scenario(), catalog, {"MoE": MIXTRAL}, batch_size=[1, 8], routing_skew=[0.0, 1.0]
    )
    assert (table[table["batch_size"] == 1]["cost_vs_batch_1"] == 1).all()
    skewed = table[(table["routing_skew"] == 1.0) & (table["batch_size"] == 8)]
    uniform = table[(table["routing_skew"] == 0.0) & (table["batch_size"] == 8)]
    # Popular experts: fewer distinct experts, so a cheaper step.
    assert skewed["experts_read_per_layer"].item() < uniform["experts_read_per_layer"].item()
    assert skewed["cost_vs_batch_1"].item() < uniform["cost_vs_batch_1"].item()


def test_model_summary(catalog):
    ids = comparisons.dense_model_ids(MIXTRAL)
    summary = comparisons.model_summary(catalog, {"MoE": MIXTRAL, "dense": ids["same_active"]})
    assert list(summary.index) == ["MoE", "dense"]
    assert summary.loc["MoE", "active_params_b"] == pytest.approx(12.88, abs=0.01)
    assert summary.loc["dense", "total_params_b"] == pytest.approx(12.88, abs=0.01)


def test_hf_config_round_trip():
    cat = costmodel.load_catalog()
    row = cat.models.loc["dbrx"]
    again = cat.with_model("custom:dbrx-copy", comparisons.hf_config(row)).models
    for field in ("total_params", "expert_params", "n_experts", "experts_per_token"):
        assert again.loc["custom:dbrx-copy", field] == row[field]


def test_compare_models_with_skew_and_no_axes(catalog):
    # All-scalar input with a skew above 0 (no sweep axis) must work as well.
    scen = costmodel.Scenario(routing_skew=0.5)
    table = comparisons.compare_models(scen, catalog, {"MoE": MIXTRAL})
    assert len(table) == 1
    expected = experts_read(np.array([32.0]), 8, 2, 0.5)[0]
    assert table["experts_read_per_layer"].item() == pytest.approx(expected)


def test_at_batch_1_by_hand():
    # Rows 0 and 1 share key 0 and row 0 is at batch 1: both read 4; key 1 has no batch-1 row.
    values, batch = np.array([4.0, 2.0, 3.0]), np.array([1, 8, 8])
    got = comparisons.at_batch_1(values, batch, [np.array([0, 0, 1])])
    np.testing.assert_array_equal(got, [4.0, 4.0, np.nan])
    # Two keys: (a, 0.5) and (a, 1.0) are different groups, each with its own batch 1.
    keys = [np.array(["a", "a", "a", "a"]), np.array([0.5, 1.0, 0.5, 1.0])]
    got = comparisons.at_batch_1(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 8, 8]), keys)
    np.testing.assert_array_equal(got, [1.0, 2.0, 1.0, 2.0])


@given(
    st.dictionaries(
        st.tuples(st.integers(0, 2), st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from([1, 4, 16])),
        st.floats(0.1, 10.0),
        min_size=1,
        max_size=20,
    )
)
def test_at_batch_1_looks_up_each_rows_key_at_batch_1(costs):
    # costs: (setup, temperature, batch) -> cost, each key once as in a product grid
    rows = list(costs)
    setup, temperature, batch = (np.array(column) for column in zip(*rows, strict=True))
    got = comparisons.at_batch_1(np.array(list(costs.values())), batch, [setup, temperature])
    expected = [costs.get((s, t, 1), np.nan) for s, t, _ in rows]
    np.testing.assert_array_equal(got, expected)
