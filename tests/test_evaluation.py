"""The evaluation path: catalog-checked ids, consistency rules, physics once per physical
row, the size guard, zero prices; and the tornado over n_gpus and the efficiencies."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel import evaluation, sensitivity
from costmodel.evaluation import tensor_parallel_ok
from costmodel.fields import EFFICIENCY_FIELDS, EXPERT_PARALLEL_SENSITIVITY_FIELDS

COST = "usd_per_million_output_tokens"


@pytest.fixture(scope="module")
def catalog():
    return costmodel.load_catalog()


# --- ids against the catalog actually used ------------------------------------------------


def test_ids_are_checked_against_the_catalog_passed(catalog):
    small = dataclasses.replace(catalog, gpus=catalog.gpus.drop(index="mi300x"))
    scenario = costmodel.Scenario(gpu="mi300x")  # a value object: no catalog inside
    assert costmodel.evaluate(scenario, catalog)["gpu"] == "mi300x"
    with pytest.raises(ValueError, match=r"gpu must be one of .*h100-sxm.*; got 'mi300x'") as err:
        costmodel.evaluate(scenario, small)
    assert "mi300x," not in str(err.value)
    with pytest.raises(ValueError, match="gpu"):
        costmodel.sweep(costmodel.Scenario(), small, gpu=["h100-sxm", "mi300x"])


def test_unknown_model_message_names_the_catalog_ids(catalog):
    with pytest.raises(ValueError, match=r"model must be one of mixtral-8x7b.*'llama-9'"):
        costmodel.evaluate(costmodel.Scenario(model="llama-9"), catalog)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: costmodel.evaluate("x"), "scenario"),
        (lambda: costmodel.sweep({"batch_size": 8}), "scenario"),
        (lambda: costmodel.sweep(costmodel.Scenario(), "catalog"), "catalog"),
        (lambda: costmodel.scan(costmodel.Scenario(), batch_size=[1, True]), "batch_size"),
        (lambda: costmodel.sweep(costmodel.Scenario(), gpu=[3]), "gpu"),
    ],
)
def test_wrong_types_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# --- consistency rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "heads", "kv_heads", "ok"),
    [
        (2, 32, 8, True),  # 32 % 2 = 0, 8 % 2 = 0
        (3, 32, 8, False),  # 32 % 3 = 2
        (16, 32, 8, True),  # 32 % 16 = 0; 16 > 8 and 16 % 8 = 0: each KV head on 2 GPUs
        (64, 32, 8, False),  # more GPUs than query heads
        (6, 48, 8, False),  # 48 % 6 = 0 but 6 <= 8 and 8 % 6 = 2
        (12, 48, 8, False),  # 48 % 12 = 0 but 12 > 8 and 12 % 8 = 4
        (24, 48, 8, True),  # 48 % 24 = 0, 24 % 8 = 0
    ],
)
def test_tensor_parallel_rule_by_hand(n, heads, kv_heads, ok):
    assert bool(tensor_parallel_ok(n, heads, kv_heads)) is ok


def test_tensor_parallel_sizes_of_catalog_models(catalog):
    assert costmodel.tensor_parallel_sizes("mixtral-8x7b", catalog) == [1, 2, 4, 8, 16, 32]
    assert costmodel.tensor_parallel_sizes("mixtral-8x22b", catalog) == [1, 2, 4, 8, 16, 24, 48]


def test_n_gpus_that_does_not_divide_the_heads_is_rejected(catalog):
    with pytest.raises(ValueError, match=r"n_gpus=3 .*mixtral-8x7b.*32 attention heads"):
        costmodel.evaluate(costmodel.Scenario(n_gpus=3), catalog)
    # In a sweep the first bad row is named and nothing is returned.
    with pytest.raises(ValueError, match=r"n_gpus=6 .*allowed: 1, 2, 4, 8, 16, 32"):
        costmodel.sweep(costmodel.Scenario(), catalog, n_gpus=[1, 2, 6, 64])


def test_replicated_kv_heads_are_stored_once_per_gpu(catalog):
    # KV bytes per token = L * 2 * heads * d * 2 B = 32 * 2 * 8 * 128 * 2 = 131,072 B at
    # 8 GPUs; at 16 GPUs each of the 8 KV heads is held by 2 GPUs: 16 heads, 262,144 B.
    # Batch 32 x (512 + 256) tokens: 32 * 768 * 131072 / 1e9 = 3.2212 GB, then 6.4425 GB.
    rows = costmodel.sweep(costmodel.Scenario(), catalog, n_gpus=[8, 16])
    assert rows["kv_cache_gb"].tolist() == pytest.approx([3.2212, 6.4425], abs=1e-4)


def test_min_gpus_is_an_allowed_tensor_parallel_size(catalog):
    # Mixtral 8x22B, bf16 weights 281.26 GB; KV per token on up to 8 GPUs 56 * 2 * 8 * 128
    # * 2 = 229,376 B, so batch 440 x (4096 + 256) tokens holds 440 * 4352 * 229376 =
    # 439.2 GB. Beyond 8 GPUs each of the 8 KV heads is copied on n / 8 GPUs, so n GPUs hold
    # 281.26 + 439.2 n / 8 GB against n * (80 * 0.9 - 2) = 70 n: 8 GPUs need 720 > 560,
    # 16 need 1,159.7 > 1,120, 24 need 1,599 <= 1,680. The fewest allowed size is 24
    # (48 heads, 8 KV heads), not the power of two 32, which cannot split the heads.
    row = costmodel.evaluate(
        costmodel.Scenario(model="mixtral-8x22b", n_gpus=8, batch_size=440, prompt_tokens=4096),
        catalog,
    )
    assert row["kv_cache_gb"] == pytest.approx(440 * 4352 * 229376 / 1e9)
    assert row["min_gpus"] == 24


def test_acceptance_at_t1_above_t0_is_rejected(catalog):
    costmodel.evaluate(costmodel.Scenario(acceptance_at_t0=0.6, acceptance_at_t1=0.6), catalog)
    scenario = costmodel.Scenario(acceptance_at_t0=0.6)  # t1 stays 0.62
    with pytest.raises(ValueError, match=r"acceptance_at_t1 \(0.62\) must be at most .*0.6\)"):
        costmodel.evaluate(scenario, catalog)
    with pytest.raises(ValueError, match=r"acceptance_at_t1 \(0.62\) .*\(0.5\)"):
        costmodel.sweep(costmodel.Scenario(), catalog, acceptance_at_t0=[0.9, 0.5, 0.4])


def test_zero_price_costs_nothing_and_has_no_bandwidth_per_dollar(catalog):
    row = costmodel.evaluate(costmodel.Scenario(usd_per_gpu_hour=0.0), catalog)
    assert row[COST] == 0.0 and row["usd_per_request"] == 0.0
    assert row["usd_per_million_input_tokens"] == 0.0
    assert math.isnan(row["bandwidth_tb_s_per_usd_hour"])
    # H100 SXM at $1.95: 3.35 TB/s / 1.95 = 1.718 TB/s per $/GPU-hour.
    paid = costmodel.evaluate(costmodel.Scenario(), catalog)["bandwidth_tb_s_per_usd_hour"]
    assert paid == pytest.approx(3.35 / 1.95)


# --- physics once per physical row --------------------------------------------------------


@pytest.fixture
def forward_sizes(monkeypatch):
    """The number of rows of every forward pass the evaluation makes (1 if constant)."""
    sizes = []
    real = evaluation.forward_ms

    def counting(**kwargs):
        result = real(**kwargs)
        sizes.append(int(np.size(result["total_ms"])))
        return result

    monkeypatch.setattr(evaluation, "forward_ms", counting)
    return sizes


def test_a_price_axis_needs_no_new_forward_pass(catalog, forward_sizes):
    prices = np.linspace(0.0, 10.0, 1000).tolist()
    rows = costmodel.sweep(costmodel.Scenario(), catalog, usd_per_gpu_hour=prices)
    assert len(rows) == 1000
    assert forward_sizes == [1, 1, 1]  # decode step, batch prefill, one prompt: one row each
    one = costmodel.evaluate(costmodel.Scenario(usd_per_gpu_hour=1.0), catalog)
    gpu_hours = one[COST] / 1.0
    assert rows[COST].to_numpy() == pytest.approx(gpu_hours * np.asarray(prices), rel=1e-12)


def test_price_and_utilization_axes_match_separate_evaluations(catalog, forward_sizes):
    axes = {
        "usd_per_gpu_hour": [0.0, 1.5, 3.0],
        "batch_size": [1, 64],
        "utilization": [0.5, 1.0],
        "gpu": ["h100-sxm", "mi300x"],
    }
    rows = costmodel.sweep(costmodel.Scenario(), catalog, **axes)
    assert len(rows) == 24
    assert max(forward_sizes) == 4  # 2 batches x 2 GPUs, not 24
    for _, row in rows.iloc[::5].iterrows():
        alone = costmodel.evaluate(
            costmodel.Scenario(**{k: row[k] for k in axes}, model="mixtral-8x7b"), catalog
        )
        for column in costmodel.OUTPUT_COLUMNS:
            assert row[column] == pytest.approx(alone[column], rel=1e-12, nan_ok=True), column


def test_scan_with_a_price_column_computes_each_physical_row_once(catalog, forward_sizes):
    scan = costmodel.scan(
        costmodel.Scenario(),
        catalog,
        batch_size=[8, 64, 8, 64],
        usd_per_gpu_hour=[1.0, 2.0, 3.0, 4.0],
    )
    assert max(forward_sizes) == 2  # batches 8 and 64, not 4 rows
    for i, (b, p) in enumerate([(8, 1.0), (64, 2.0), (8, 3.0), (64, 4.0)]):
        alone = costmodel.evaluate(costmodel.Scenario(batch_size=b, usd_per_gpu_hour=p), catalog)
        assert scan[COST].iloc[i] == pytest.approx(alone[COST], rel=1e-12)
        assert scan["tpot_ms"].iloc[i] == alone["tpot_ms"]


def test_scan_mixing_a_family_default_and_a_value_keeps_every_row(catalog):
    # A zipped scan whose efficiency is None (family default) in one row and a number in
    # the other, with a price column so the physics is grouped: the None row (NaN in the
    # grid) must keep its own group; it once fell out of groupby and raised IndexError.
    scan = costmodel.scan(
        costmodel.Scenario(),
        catalog,
        bandwidth_efficiency=[None, 0.5],
        usd_per_gpu_hour=[1.0, 2.0],
    )
    for i, (eff, price) in enumerate([(None, 1.0), (0.5, 2.0)]):
        alone = costmodel.evaluate(
            costmodel.Scenario(bandwidth_efficiency=eff, usd_per_gpu_hour=price), catalog
        )
        assert scan[COST].iloc[i] == pytest.approx(alone[COST], rel=1e-12)


def test_size_guard_names_rows_and_memory(catalog):
    # 3,000 batches x 2,000 prompt lengths = 6,000,000 rows > MAX_SWEEP_ROWS (5,000,000);
    # about 6e6 * BYTES_PER_ROW bytes.
    assert costmodel.MAX_SWEEP_ROWS == 5_000_000
    gb = 6_000_000 * evaluation.BYTES_PER_ROW / 1e9
    with pytest.raises(ValueError, match=rf"6,000,000 rows .*about {gb:,.1f} GB"):
        costmodel.sweep(
            costmodel.Scenario(),
            catalog,
            batch_size=list(range(1, 3001)),
            prompt_tokens=list(range(1, 2001)),
        )


def test_average_context_is_prompt_plus_half_the_output():
    assert costmodel.average_context_tokens(512, 256) == 640.0
    # The decode step reads B * (P + O/2 + 1) cached tokens: 32 * 641 * 131072 B = 2.6887 GB.
    row = costmodel.evaluate(costmodel.Scenario())
    assert row["kv_bytes_read_per_step_gb"] == pytest.approx(32 * 641 * 131072 / 1e9)


def test_readme_scan_is_costmodel_scan():
    rows = costmodel.scan(costmodel.Scenario(), batch_size=[8, 64], usd_per_gpu_hour=[2.0, 1.5])
    assert rows[["batch_size", "usd_per_gpu_hour"]].values.tolist() == [[8, 2.0], [64, 1.5]]
    assert costmodel.sensitivity is sensitivity and callable(costmodel.validation.compare)


# --- tornado over n_gpus and the efficiencies ----------------------------------------------


def test_tornado_moves_n_gpus_to_the_neighbouring_allowed_sizes(catalog):
    table = sensitivity.tornado(costmodel.Scenario(), fields=("n_gpus",), catalog=catalog)
    row = table.iloc[0]
    assert (row["value_low"], row["value_high"]) == (1, 4)
    at = costmodel.sweep(costmodel.Scenario(), catalog, n_gpus=[1, 4])[COST].tolist()
    assert [row["output_low"], row["output_high"]] == pytest.approx(at, rel=1e-12)


def test_tornado_moves_every_efficiency_from_its_family_default(catalog):
    base = costmodel.Scenario()
    resolved = costmodel.evaluate(base, catalog)
    table = sensitivity.tornado(base, catalog=catalog).set_index("field")
    for name in EFFICIENCY_FIELDS:
        if name in EXPERT_PARALLEL_SENSITIVITY_FIELDS:
            assert name not in table.index  # no all-to-all under tensor parallelism
            continue
        row = table.loc[name]
        assert row["value_base"] == resolved[name]
        assert row["value_low"] == pytest.approx(0.8 * resolved[name])
        high = costmodel.FIELD_RANGES[name][1]
        assert row["value_high"] == pytest.approx(min(1.2 * resolved[name], high))
    # Higher efficiency, lower cost; more latency or overhead, higher cost. At batch 32 the
    # step is memory-bound, so compute efficiency cannot move it.
    for name in ("bandwidth_efficiency", "moe_kernel_efficiency", "link_efficiency"):
        assert table.loc[name, "output_low"] > table.loc[name, "output_base"]
    for name in ("layer_overhead_us", "allreduce_latency_us"):
        assert table.loc[name, "output_high"] > table.loc[name, "output_base"]
    assert table.loc["compute_efficiency", "swing"] == 0.0


def test_tornado_keeps_acceptance_rates_ordered(catalog):
    table = sensitivity.tornado(costmodel.Scenario(speculative=True), catalog=catalog)
    table = table.set_index("field")
    # t0 = 0.75 down 20 % is 0.60, below t1 = 0.62: held at 0.62. t1 = 0.62 up is 0.744.
    assert table.loc["acceptance_at_t0", "value_low"] == pytest.approx(0.62)
    assert table.loc["acceptance_at_t1", "value_high"] == pytest.approx(0.744)
    assert "draft_cost_ratio" in table.index
    assert isinstance(table, pd.DataFrame) and (table["swing"] >= 0).all()


def test_check_scenario_names_what_evaluate_would_reject(catalog):
    # Mixtral 8x7B's window is 32,768 tokens: 32,700 + 256 = 32,956 is over it.
    with pytest.raises(ValueError, match="context window of mixtral-8x7b, 32,768"):
        costmodel.check_scenario(costmodel.Scenario(prompt_tokens=32_700), catalog)
    # 3 GPUs do not divide Mixtral's 32 query heads.
    with pytest.raises(ValueError, match="n_gpus"):
        costmodel.check_scenario(costmodel.Scenario(n_gpus=3), catalog)
    with pytest.raises(ValueError, match="gpu must be one of"):
        costmodel.check_scenario(costmodel.Scenario(gpu="tpu-v9"), catalog)
    assert costmodel.check_scenario(costmodel.Scenario(), catalog) is None


def test_tornado_moves_the_all_to_all_under_expert_parallelism(catalog):
    """DeepSeek-V3 in FP8 on 16x H100 (two nodes), EP 16, batch 64: the all-to-all's
    network efficiency (0.8) and latency (10 us) are moved by ±20 %.

    Latency 10 -> 12 us adds 2 us to each dispatch and combine of the 58 MoE layers:
    58 x 2 x 2 us = 0.232 ms per decode step, so the cost rises by 0.232 / t_step.
    """
    base = costmodel.Scenario(
        model="deepseek-v3",
        gpu="h100-sxm",
        n_gpus=16,
        weight_format="fp8",
        kv_format="fp8",
        expert_parallel=True,
        batch_size=64,
    )
    step_ms = costmodel.evaluate(base, catalog)["decode_step_ms"]
    table = sensitivity.tornado(base, catalog=catalog).set_index("field")
    latency, network = table.loc["alltoall_latency_us"], table.loc["network_efficiency"]
    assert (latency["value_low"], latency["value_high"]) == pytest.approx((8.0, 12.0))
    assert (network["value_low"], network["value_high"]) == pytest.approx((0.64, 0.96))
    assert latency["output_high"] / latency["output_base"] == pytest.approx(
        1 + 58 * 2 * 2e-3 / step_ms, rel=1e-9
    )
    assert network["output_low"] > network["output_base"] > network["output_high"]
    plain = sensitivity.tornado(dataclasses.replace(base, expert_parallel=False), catalog=catalog)
    assert not set(EXPERT_PARALLEL_SENSITIVITY_FIELDS) & set(plain["field"])


def test_small_frames_are_stacked_by_dtype_and_large_ones_are_not(catalog):
    """A scan's frame holds one block per dtype up to ``STACKED_FRAME_MAX_ROWS`` rows (row
    takes cost one numpy call per dtype) and one per column beyond; the values agree."""
    from costmodel.evaluation import STACKED_FRAME_MAX_ROWS

    base = costmodel.Scenario()
    small = costmodel.scan(base, catalog, batch_size=[1, 8, 64])
    dtypes = {str(t) for t in small.dtypes if not isinstance(t, pd.CategoricalDtype)}
    categoricals = sum(isinstance(t, pd.CategoricalDtype) for t in small.dtypes)
    assert small._mgr.nblocks == len(dtypes) + categoricals
    n = STACKED_FRAME_MAX_ROWS + 1
    large = costmodel.sweep(base, catalog, batch_size=list(range(1, n + 1)))
    assert large._mgr.nblocks == large.shape[1]
    pd.testing.assert_frame_equal(
        large.iloc[[0, 7, 63]].reset_index(drop=True), small, check_exact=True
    )
