"""costmodel.analyses.frontier: fronts per GPU, cheapest under targets, ranking, prices."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel import Scenario
from costmodel.analyses import frontier as analysis
from costmodel.spec import specs

R1 = Scenario(model="deepseek-r1", weight_format=None, prompt_tokens=1024, output_tokens=1024)
SMALL = analysis.Options(gpus=("h200-sxm", "b200"), batch_max=1024, max_gpus=16)


@pytest.fixture(scope="module")
def result():
    return analysis.run(R1, SMALL)


def test_cheapest_per_gpu_meets_the_targets_and_is_cheapest(result):
    assert set(result.cheapest.index) == {"h200-sxm", "b200"}
    for gpu, row in result.cheapest.iterrows():
        assert row["ttft_ms"] <= SMALL.ttft_ms_max and row["tpot_ms"] <= SMALL.tpot_ms_max
        rows = result.sweep[result.sweep["gpu"] == gpu]
        meets = rows[
            (rows["ttft_ms"] <= SMALL.ttft_ms_max) & (rows["tpot_ms"] <= SMALL.tpot_ms_max)
        ]
        assert row[analysis.COST] == meets[analysis.COST].min()
    assert result.best[analysis.COST] == result.cheapest[analysis.COST].min()
    assert result.best["setup"] in result.verdict and f"{result.best[analysis.COST]:,.3f}" in (
        result.verdict
    )


def test_ranking_at_a_target_interactivity(result):
    ranking = result.ranking
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    assert (ranking["tokens_per_s_per_user"] >= SMALL.min_tokens_per_s_per_user).all()
    # Every target the page draws beside the ranking holds for it (a ranking once listed a
    # setup with a 96 s TTFT under a 2 s TTFT target).
    assert (ranking["ttft_ms"] <= SMALL.ttft_ms_max).all()
    assert (ranking["tpot_ms"] <= SMALL.tpot_ms_max).all()
    loose = analysis.rank_gpus(result.sweep, SMALL.min_tokens_per_s_per_user)
    assert loose[analysis.COST].min() <= ranking[analysis.COST].min()
    assert np.all(np.diff(ranking[analysis.COST]) >= 0)
    assert analysis.rank_gpus(result.sweep, 1e5).empty  # nothing that fast


def test_fronts_are_per_gpu_pareto_sets(result):
    for _, front in result.fronts.groupby("gpu"):
        assert (np.diff(front["tokens_per_s_per_user"]) > 0).all()
        assert (np.diff(front["output_tokens_per_s_per_gpu"]) < 0).all()
    assert set(result.fronts["setup"]) <= set(result.sweep["setup"])


def test_provider_prices_on_the_cost_axis_by_hand(result):
    # Newest DeepSeek-R1 prices are LiteLLM's of 2026-11-20 (the sheet has each provider's
    # newest; Lambda's R1-0528 still 0.20 / 0.60).
    assert result.price_date == "2026-11-20"
    lambda_b200 = result.prices.query("provider == 'Lambda' and gpu == 'b200'").iloc[0]
    # Lambda 0.20 in / 0.60 out: (1024 x 0.20 + 1024 x 0.60) / 1024 = 0.80 $/M output.
    assert lambda_b200["usd_per_million_output_tokens_equivalent"] == pytest.approx(0.80)
    # Break-even at the B200's price p: p x 1e6 / (3600 x 0.80) tokens/s per GPU.
    p = lambda_b200["usd_per_gpu_hour"]
    assert lambda_b200["break_even_output_tokens_per_s_per_gpu"] == pytest.approx(
        p * 1e6 / (3600 * 0.80)
    )


def test_no_setup_meets_impossible_targets():
    r = analysis.run(R1, SMALL.replace(tpot_ms_max=0.1, gpus=("b200",)))
    assert r.best is None and r.cheapest.empty
    assert "no setup" in r.verdict


def test_options_checked_and_described():
    meta = specs(analysis.Options)
    assert meta["ttft_ms_max"].default == 2000.0 and "TTFT" in meta["ttft_ms_max"].label
    with pytest.raises(ValueError, match="batch_min"):
        analysis.Options(batch_min=64, batch_max=8)
    with pytest.raises(ValueError, match="gpus"):
        analysis.Options(gpus=("tpu-v9",))
    with pytest.raises(ValueError, match="serving"):
        analysis.Options(serving=())


def test_kept_sweep_gives_the_same_result_and_is_not_shared():
    """With the shipped catalog the sweep is kept for other targets: the same numbers as a
    fresh sweep on a given catalog, and a caller's change to it does not leak."""
    options = SMALL.replace(gpus=("b200",))
    first = analysis.run(R1, options)
    first.sweep.loc[:, "output_tokens_per_s_per_gpu"] = -1.0
    tighter = options.replace(tpot_ms_max=20.0)
    kept = analysis.run(R1, tighter)
    fresh = analysis.run(R1, tighter, catalog=costmodel.load_catalog())
    assert (kept.sweep["output_tokens_per_s_per_gpu"] > 0).all()
    pd.testing.assert_frame_equal(kept.sweep, fresh.sweep)
    pd.testing.assert_frame_equal(kept.cheapest, fresh.cheapest)
    assert kept.verdict == fresh.verdict


def test_a_single_batch_where_nothing_fits_gives_empty_tables_not_an_error():
    """batch_min == batch_max at 65,536: no setup of Mixtral fits on 16 GPUs, so no GPU is
    drawn and the provider prices have no GPU to sit on (pandas' "No objects to
    concatenate" before): empty tables with every column, and the verdict says so."""
    options = analysis.Options(batch_min=65536, batch_max=65536, max_gpus=16)
    r = analysis.run(Scenario(), options)
    assert r.sweep.empty and r.best is None
    assert r.prices.empty and "break_even_output_tokens_per_s_per_gpu" in r.prices.columns
    assert r.price_date is not None  # Mixtral has prices; they just have no GPU to sit on
    assert "no setup" in r.verdict


def test_a_new_sidebar_batch_reuses_the_kept_sweep_and_matches_a_fresh_one():
    options = analysis.Options(gpus=("h100-sxm",), batch_max=64, max_gpus=8)
    analysis._default_catalog_sweep.cache_clear()
    first = analysis.run(Scenario(batch_size=8), options)
    second = analysis.run(Scenario(batch_size=96), options)
    assert analysis._default_catalog_sweep.cache_info().hits == 1  # the batch is swept
    assert second.scenario.batch_size == 96
    copy = dataclasses.replace(costmodel.load_catalog())  # not the shipped one: not kept
    fresh = analysis.run(Scenario(batch_size=96), options, copy)
    pd.testing.assert_frame_equal(second.sweep, fresh.sweep)
    pd.testing.assert_frame_equal(first.sweep, second.sweep)
