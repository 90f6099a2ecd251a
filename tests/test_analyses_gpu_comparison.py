"""costmodel.analyses.gpu_comparison under a GPU price rule: numbers by hand."""

import dataclasses

import numpy as np
import pytest

import costmodel
from costmodel.analyses import gpu_comparison as gc
from costmodel.pricing import PriceRule, price_gpus
from costmodel.spec import specs

CATALOG = costmodel.load_catalog()
COST = "usd_per_million_output_tokens"
RESULT = gc.run()


def test_the_other_gpus_are_priced_by_one_rule():
    # On-demand as of today: the A100 80GB's newest on-demand row is Lambda's $1.89 of
    # 2026-04 (CoreWeave's $2.70 is older, Fireworks's $3.89 is a managed price).
    table = RESULT.table.set_index("gpu")
    assert table.loc["a100-80gb-sxm", "usd_per_gpu_hour"] == 1.89
    assert table.loc["a100-80gb-sxm", "price_source"] == "Lambda on-demand (2026-04)"
    # The scenario's own GPU keeps the scenario's price.
    assert table.loc["h100-sxm", "price_source"] == "scenario price"
    # No GPU of another tier: MI355X has no on-demand price, so it is left out, named.
    assert "Instinct MI355X" in RESULT.skipped
    allin = gc.run(options=gc.Options(price_rule=PriceRule("all_in_cost")))
    b300 = allin.bandwidth_per_dollar.set_index("gpu").loc["b300"]
    assert b300["usd_per_gpu_hour"] == 2.34 and b300["price_source"].endswith(", placeholder")
    assert "A100 80GB SXM4" in allin.skipped  # SemiAnalysis prices no A100


def test_a_gpu_without_a_price_is_skipped():
    trimmed = dataclasses.replace(
        CATALOG, gpu_prices=CATALOG.gpu_prices[CATALOG.gpu_prices["gpu"] != "l40s"]
    )
    assert "L40S" in gc.run(catalog=trimmed).skipped


def test_gpu_counts_by_hand():
    # Mixtral bf16 weights 46.439e9 x 2 + 0.263e9 x 2 = 93.41 GB; 32 users x 768 tokens x
    # 131,072 B = 3.22 GB of KV; per GPU usable 0.9 x HBM - 2 GB overhead.
    # H200: 0.9 x 141 - 2 = 124.9 >= 96.6 -> 1.  H100: 70 < 96.6, 2 x 70 = 140 -> 2.
    # A100 40GB: 34, 68 < 96.6, 4 x 34 = 136 -> 4.
    n = RESULT.table.set_index("gpu")["n_gpus"]
    assert (n["h200-sxm"], n["h100-sxm"], n["a100-40gb-sxm"], n["mi300x"]) == (1, 2, 4, 1)


def test_rows_are_costmodel_at_their_setup():
    for row in RESULT.table.itertuples(index=False):
        out = costmodel.evaluate(
            costmodel.Scenario(
                gpu=row.gpu, n_gpus=row.n_gpus, usd_per_gpu_hour=row.usd_per_gpu_hour
            )
        )
        assert getattr(row, COST) == pytest.approx(out[COST]), row.gpu
        assert row.tokens_per_s_per_user == pytest.approx(out["tokens_per_s_per_user"])
        assert getattr(row, f"{COST}_low") <= getattr(row, COST) <= getattr(row, f"{COST}_high")
    assert RESULT.table[COST].is_monotonic_increasing
    # Every GPU with an on-demand price (the default rule) is compared, no other.
    priced = price_gpus(rule=PriceRule()).dropna(subset=["usd_per_gpu_hour"])
    assert set(RESULT.table["gpu"]) == set(priced["gpu"])


def test_winner_runner_up_and_overlap():
    table = RESULT.table
    assert RESULT.winner == table["setup"].iloc[0]
    assert RESULT.runner_up == table["setup"].iloc[1]
    best, second = table.iloc[0], table.iloc[1]
    assert RESULT.ranges_overlap == (best[f"{COST}_high"] >= second[f"{COST}_low"])
    saving = 100 * (1 - best[COST] / second[COST])
    assert RESULT.winner_saving_vs_runner_up_pct == pytest.approx(saving)
    assert f"{saving:.0f}% cheaper" in RESULT.winner_text
    assert RESULT.sidebar_setup == "H100 SXM5 80GB ×2 (sidebar)"
    assert not RESULT.tornado.empty and RESULT.best_range["central"] == pytest.approx(best[COST])


def test_c5_at_catalog_prices_by_hand():
    # A100: 2.039 TB/s / $1.89 = 1.0788; H100: 3.35 / $1.95 = 1.7179 TB/s per $/h.
    # 1.0788 / 1.7179 - 1 = -37.2 %; +32 % needs p_A = 2.039 x 1.95 / (3.35 x 1.32) = $0.899.
    assert RESULT.a100_advantage_pct == pytest.approx(-37.20, abs=0.01)
    assert RESULT.a100_price_for_seed_advantage == pytest.approx(0.8991, abs=1e-4)
    assert "37% less bandwidth per dollar" in RESULT.c5_text
    assert "$0.90/GPU-hour" in RESULT.c5_text
    per_usd = RESULT.bandwidth_per_dollar.set_index("gpu")
    assert per_usd.loc["h100-sxm", "vs_h100_pct"] == 0
    assert per_usd.loc["a100-80gb-sxm", "bandwidth_tb_s_per_usd_hour"] == pytest.approx(
        1.0788, 1e-4
    )


def test_c5_at_your_prices():
    # A100 at $0.90: 2.039 / 0.90 = 2.2656; / 1.7179 - 1 = +31.9 %.
    mine = gc.run(options=gc.Options(price_rule=PriceRule(own={"a100-80gb-sxm": 0.90})))
    assert mine.a100_advantage_pct == pytest.approx(31.88, abs=0.01)
    row = mine.table.set_index("gpu").loc["a100-80gb-sxm"]
    assert (row["usd_per_gpu_hour"], row["price_source"]) == (0.90, "your price")
    # Your price also replaces the scenario's for its own GPU: H100 at $3.35 -> 1 TB/s per $/h.
    h100 = gc.run(options=gc.Options(price_rule=PriceRule(own={"h100-sxm": 3.35})))
    assert (
        h100.bandwidth_per_dollar.set_index("gpu").loc["h100-sxm", "bandwidth_tb_s_per_usd_hour"]
        == 1.0
    )
    # The price for +32 % scales with the H100's: 2.039 x 3.35 / (3.35 x 1.32) = $1.545.
    assert h100.a100_price_for_seed_advantage == pytest.approx(2.039 / 1.32)


def test_bandwidth_per_dollar_falls_as_the_price_rises():
    values = [
        gc.run(
            options=gc.Options(price_rule=PriceRule(own={"a100-80gb-sxm": p}))
        ).a100_advantage_pct
        for p in (0.5, 1.0, 2.0, 4.0)
    ]
    assert np.all(np.diff(values) < 0)


def test_zero_price_is_stated_not_divided():
    free = gc.run(options=gc.Options(price_rule=PriceRule(own={"a100-80gb-sxm": 0.0})))
    assert free.a100_advantage_pct is None and "unbounded" in free.c5_text


def test_best_batch_for_speed():
    fast = gc.run(options=gc.Options(optimize_batch=True, min_tokens_per_s_per_user=30.0))
    rows = fast.table.dropna(subset=["batch_size"])
    assert (rows["tokens_per_s_per_user"] >= 30.0).all()
    assert set(rows["batch_size"].astype(int)) <= set(costmodel.batch_grid())
    none = gc.run(options=gc.Options(optimize_batch=True, min_tokens_per_s_per_user=500.0))
    assert none.table["batch_size"].isna().all() and none.winner is None
    assert none.winner_text.startswith("No GPU setup fits")


def test_c14_numbers():
    cost = RESULT.table.set_index("gpu")[COST]
    assert RESULT.c14_holds == bool(
        max(cost["h200-sxm"], cost["mi300x"]) < min(cost["h100-sxm"], cost["a100-80gb-sxm"])
    )
    saving = 100 * (1 - cost["mi300x"] / cost["a100-80gb-sxm"])
    assert f"{saving:.0f}% cheaper than A100 80GB SXM4 ×2" in RESULT.c14_text


def test_options_are_the_page_url_keys_with_its_defaults():
    fields = specs(gc.Options)
    # The price rule is a nested input of its own specs (the sidebar's, on every page).
    assert list(fields) == ["change_pct", "optimize_batch", "min_tokens_per_s_per_user"]
    assert gc.Options().price_rule == PriceRule("on_demand", "today")
    assert (
        fields["min_tokens_per_s_per_user"].low,
        fields["min_tokens_per_s_per_user"].high,
    ) == (1.0, 500.0)
    assert all(f.label and f.help for f in fields.values())


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"price_rule": "lowest"}, "price_rule"),
        ({"optimize_batch": "yes"}, "optimize_batch"),
        ({"min_tokens_per_s_per_user": 0.5}, "min_tokens_per_s_per_user"),
        ({"change_pct": float("nan")}, "change_pct"),
    ],
)
def test_bad_options_name_the_option(changes, name):
    with pytest.raises(ValueError, match=name):
        gc.Options(**changes)


def test_unknown_gpu_price_id_is_named():
    with pytest.raises(ValueError, match="price_rule.own: GPU ids must be one of"):
        gc.run(options=gc.Options(price_rule=PriceRule(own={"tpu": 1.0})))


def test_no_gpu_that_fits_gives_an_empty_table_and_says_so():
    # 10,456 sequences of Llama 3 70B: every GPU's KV cache overflows at any count
    result = gc.run(costmodel.Scenario(model="llama-3-70b", batch_size=10456), None, CATALOG)
    assert result.table.empty and result.tornado.empty and result.winner is None
    assert "H100 SXM5 80GB" in result.skipped and result.best_range is None
    assert result.winner_text == "No GPU setup fits and meets the target at these settings."


def test_a_count_the_model_cannot_use_is_skipped_with_the_reason():
    # Mixtral under expert parallelism at 4096 users: an A100 40GB needs 16 GPUs to hold
    # the cache, but 8 experts (no redundant copies) allow at most 8 expert-parallel GPUs.
    result = gc.run(costmodel.Scenario(expert_parallel=True, n_gpus=2, batch_size=4096))
    skipped = [s for s in result.skipped if s.startswith("A100 40GB SXM4 ×16 (")]
    assert len(skipped) == 1 and "8 experts" in skipped[0]
    assert not result.table["gpu"].isin(["a100-40gb-sxm"]).any()
    assert (result.table["n_gpus"] <= 8).all()
