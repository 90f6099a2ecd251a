"""costmodel.analyses.moe_scaling: experts touched by hand, C7, C8, prefill, options."""

import numpy as np
import pytest

import costmodel
from costmodel import comparisons
from costmodel.analyses import moe_scaling as ms

RESULT = ms.run()


def test_experts_touched_by_hand():
    # Uniform top-2 of 8: E (1 - (1 - k/E)^B) = 8 (1 - 0.75^B): 2 at B = 1,
    # 8 (1 - 0.75^32) = 7.99920 at B = 32.
    assert RESULT.experts_at_batch_1 == pytest.approx(2.0)
    assert RESULT.point.loc[ms.MOE, "experts_read_per_layer"] == pytest.approx(8 * (1 - 0.75**32))
    assert RESULT.experts_at_largest_batch == pytest.approx(8.0, abs=1e-6)
    assert RESULT.c7_status == "holds" and "2.00 of 8 experts" in RESULT.c7_text


def test_batching_lowers_moe_cost_less():
    ratio = RESULT.cost_vs_batch_1
    assert ratio[ms.MOE] > ratio[ms.ACTIVE]
    point = RESULT.point
    assert ratio[ms.MOE] == pytest.approx(
        point.loc[ms.MOE, "usd_per_million_output_tokens"] / point.loc[ms.MOE, "usd_at_batch_1"]
    )


def test_more_experts_of_the_same_size():
    # 16 experts, top-2, same size: at batch 1 the step reads 2 experts either way, so the
    # weight bytes are nearly equal (only the router grows); at batch 32 it reads
    # 16 (1 - (7/8)^32) = 15.78 experts instead of 8: about twice the expert bytes.
    what = RESULT.what_if
    one = what[what["batch_size"] == 1].set_index("setup")["weight_bytes_read_per_step_gb"]
    assert one.iloc[1] / one.iloc[0] == pytest.approx(1.0, abs=0.01)
    at_32 = what[what["batch_size"] == 32].set_index("setup")["experts_read_per_layer"]
    assert at_32.iloc[1] == pytest.approx(16 * (1 - (7 / 8) ** 32))
    assert 1.8 < RESULT.what_if_bytes_ratio < 2.0 and RESULT.c8_status == "holds"


def test_prefill_dearer_for_moe():
    assert RESULT.prefill_vs_dense > 1 and RESULT.prefill_status == "holds"
    assert f"({RESULT.prefill_vs_dense:.2f}x)" in RESULT.prefill_text


def test_skewed_routing_touches_fewer_experts():
    skewed = ms.run(options=ms.Options(routing_skew=1.0))
    assert set(skewed.batch["setup"]) >= {"MoE, uniform routing", "MoE, skew 1"}
    at_8 = skewed.batch[skewed.batch["batch_size"] == 8].set_index("setup")
    assert (
        at_8.loc["MoE, skew 1", "experts_read_per_layer"]
        < at_8.loc["MoE, uniform routing", "experts_read_per_layer"]
    )
    assert (skewed.at_skew["routing_skew"] == 1.0).all()


def test_dense_model_is_not_applicable():
    dense = ms.run(costmodel.Scenario(model="llama-2-70b", n_gpus=4))
    assert dense.is_dense and dense.c7_status == "not applicable"


def test_compare_models_is_each_models_sweep():
    catalog = comparisons.dense_equivalents(costmodel.load_catalog(), "mixtral-8x7b")
    ids = comparisons.dense_model_ids("mixtral-8x7b")
    table = comparisons.compare_models(
        costmodel.Scenario(),
        catalog,
        {"a": "mixtral-8x7b", "b": ids["same_active"]},
        batch_size=[1, 8],
    )
    for label, model in (("a", "mixtral-8x7b"), ("b", ids["same_active"])):
        alone = costmodel.sweep(costmodel.Scenario(model=model), catalog, batch_size=[1, 8])
        mine = table[table["setup"] == label]
        np.testing.assert_allclose(mine["decode_step_ms"], alone["decode_step_ms"])


def test_compare_models_keeps_the_scenarios_expert_parallelism_for_its_model():
    """The scenario's model is compared as the scenario runs it (expert parallel here, as
    every other page shows it); its dense equivalents under tensor parallelism."""
    scenario = costmodel.Scenario(model="dbrx", gpu="h200-sxm", n_gpus=2, expert_parallel=True)
    catalog = comparisons.dense_equivalents(costmodel.load_catalog(), "dbrx")
    ids = comparisons.dense_model_ids("dbrx")
    table = comparisons.compare_models(
        scenario, catalog, {"moe": "dbrx", "dense": ids["same_active"]}, batch_size=[1, 8]
    )
    assert list(table["setup"]) == ["moe", "moe", "dense", "dense"]
    moe = table[table["setup"] == "moe"]
    alone = costmodel.sweep(scenario, catalog, batch_size=[1, 8])
    np.testing.assert_allclose(moe["tokens_per_s_per_user"], alone["tokens_per_s_per_user"])
    assert moe["expert_parallel"].all() and moe["alltoall_time_ms"].gt(0).all()
    dense = table[table["setup"] == "dense"]
    assert not dense["expert_parallel"].any()
    tp = costmodel.sweep(
        scenario.replace(model=ids["same_active"], expert_parallel=False),
        catalog,
        batch_size=[1, 8],
    )
    np.testing.assert_allclose(dense["decode_step_ms"], tp["decode_step_ms"])


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"top_k": 20, "n_experts": 16}, "top_k"),
        ({"n_experts": 0}, "n_experts"),
        ({"routing_skew": 3.5}, "routing_skew"),
        ({"keep_fixed": "size"}, "keep_fixed"),
    ],
)
def test_bad_options_name_the_option(changes, name):
    with pytest.raises(ValueError, match=name):
        ms.Options(**changes)
