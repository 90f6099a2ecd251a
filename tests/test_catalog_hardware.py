"""Today's GPUs, their FP4 peaks and networks, 2025-2026 prices and the new measurement rows.

Figures come from shared/reference/gpus-2025.csv, gpu-prices-2025.csv,
provider-prices-2024-2026.csv and measurements-2025.csv (sources in each catalog row).
"""

import numpy as np
import pandas as pd
import pytest

from costmodel import load_catalog
from costmodel.catalog import Catalog, peak_tflops
from costmodel.step import bus_bandwidth_gb_s
from costmodel.validation import measurement_scenario

CATALOG = load_catalog()
GPUS = CATALOG.gpus
NEW_GPUS = ("b300", "gb200", "gb300", "mi355x", "h20", "h800-sxm", "rtx-pro-6000")
#: Vocabulary of gpu_prices.csv ``tier`` (README, "Data catalogs").
PRICE_TIERS = {
    "on_demand",
    "contract_1y",
    "contract_3y",
    "all_in_cost",
    "spot",
    "market_index",
    "managed",
    "assumption",
}


@pytest.mark.parametrize("gpu", NEW_GPUS)
def test_new_gpus_load_with_sources_and_families(gpu):
    row = GPUS.loc[gpu]
    assert isinstance(row["source"], str) and len(row["source"]) > 20
    assert isinstance(row["date"], str) and row["date"][:2] == "20"
    assert row["family"] in CATALOG.gpu_families.index
    for column in ("hbm_gb", "bandwidth_tb_s", "bf16_dense_tflops", "fp8_dense_tflops"):
        assert row[column] > 0, column
    # Family defaults are joined onto the GPU row.
    family = CATALOG.gpu_families.loc[row["family"]]
    assert row["bandwidth_efficiency"] == family["bandwidth_efficiency"]


def test_uncalibrated_families_say_so():
    # Families without a measurement carry a larger uncertainty than calibrated Hopper.
    families = CATALOG.gpu_families
    hopper = families.loc["hopper", "efficiency_uncertainty"]
    for family in ("blackwell", "cdna4", "blackwell_pcie"):
        assert pd.isna(families.loc[family, "calibrated_on"]), family
        assert families.loc[family, "efficiency_uncertainty"] > hopper, family
        assert "ssumption" in families.loc[family, "source"], family


def test_fp4_only_where_the_gpu_has_fp4_units():
    fp4 = GPUS["fp4_dense_tflops"]
    with_fp4 = {"b200", "b300", "gb200", "gb300", "mi355x", "rtx-pro-6000"}
    assert set(fp4.dropna().index) == with_fp4
    # Dense FP4 is twice dense FP8 on B200 (9,000 = 2 x 4,500) and MI355X (10,066 = 2 x 5,033);
    # Blackwell Ultra adds 50 % more FP4 (GB300 15,000 = 1.5 x GB200's 10,000).
    assert fp4["b200"] == 2 * GPUS.loc["b200", "fp8_dense_tflops"] == 9000
    assert fp4["mi355x"] == 2 * GPUS.loc["mi355x", "fp8_dense_tflops"] == 10066
    assert fp4["gb300"] == 1.5 * fp4["gb200"] == 15000


def test_peak_lookup_fp4_and_its_fallback():
    peaks = pd.DataFrame(
        peak_tflops(GPUS, ["fp4", "fp8", "bf16"]), index=GPUS.index, columns=["fp4", "fp8", "bf16"]
    )
    # B200 running NVFP4 computes on its FP4 units: 9,000 TFLOP/s.
    assert peaks.loc["b200", "fp4"] == 9000
    # H100 running MXFP4 has no FP4 units: it dequantises and computes in FP8 (1,978.9).
    assert peaks.loc["h100-sxm", "fp4"] == 1978.9 == peaks.loc["h100-sxm", "fp8"]
    # A100 has neither FP4 nor FP8: BF16 (312) for both.
    assert peaks.loc["a100-80gb-sxm", "fp4"] == peaks.loc["a100-80gb-sxm", "fp8"] == 312
    # The fallback never exceeds the GPU's own FP4 figure and never reads a missing one.
    assert peaks.notna().all().all()
    assert (peaks["fp4"] >= peaks["fp8"]).all() and (peaks["fp8"] >= peaks["bf16"]).all()


def test_peak_lookup_names_an_unknown_compute_type():
    with pytest.raises(ValueError, match="compute_dtype must be one of bf16, fp8, int8, fp4"):
        peak_tflops(GPUS, ["fp6"])


def test_a_format_computing_in_fp4_reads_the_fp4_peak_in_the_lookup_arrays():
    # A 4-bit format (weight_bits 4, compute fp4) added to the formats table: the catalog's
    # gpu x format peak array gives B200 its FP4 figure and H100 its FP8 one.
    fp4 = CATALOG.formats.loc[["fp8"]].assign(weight_bits=4, compute_dtype="fp4")
    formats = pd.concat([CATALOG.formats, fp4.set_axis(["fp4-test"])])
    catalog = Catalog(
        CATALOG.gpus,
        CATALOG.models,
        formats,
        CATALOG.gpu_families,
        CATALOG.gpu_prices,
        CATALOG.provider_prices,
        CATALOG.measurements,
    )
    f = formats.index.get_loc("fp4-test")
    peak = catalog.arrays["peak_tflops"]
    assert peak[GPUS.index.get_loc("b200"), f] == 9000
    assert peak[GPUS.index.get_loc("h100-sxm"), f] == 1978.9
    assert peak[GPUS.index.get_loc("mi355x"), f] == 10066


def test_scale_out_is_gigabytes_per_second_per_gpu():
    # NICs are sold in gigabits: 400 Gb/s / 8 bits per byte = 50 GB/s (ConnectX-7 per GPU
    # on HGX H100/H200/B200, GB200), 800 Gb/s = 100 GB/s (ConnectX-8 on B300, GB300),
    # 200 Gb/s = 25 GB/s (ConnectX-6 HDR on DGX A100).
    out = GPUS["scale_out_gb_s"]
    assert out["h100-sxm"] == 400 / 8 == 50
    assert out["gb200"] == 50 and out["h800-sxm"] == 50
    assert out["b300"] == out["gb300"] == 800 / 8 == 100
    assert out["a100-80gb-sxm"] == 200 / 8 == 25
    assert set(out * 8) <= {200, 400, 800}
    np.testing.assert_array_equal(CATALOG.arrays["gpu.scale_out_gb_s"], out.to_numpy(float))


def test_scale_up_domain():
    domain = GPUS["scale_up_domain_gpus"]
    assert domain["gb200"] == domain["gb300"] == 72  # NVL72 racks
    assert (domain.drop(["gb200", "gb300"]) == 8).all()  # HGX boards and 8-GPU PCIe servers
    np.testing.assert_array_equal(
        CATALOG.arrays["gpu.scale_up_domain_gpus"], domain.to_numpy(float)
    )


def test_scale_up_bandwidth_is_total_bidirectional():
    # One meaning for scale_up_gb_s: both directions together, per GPU. NVLink5 (B200, B300,
    # GB200, GB300): 18 links x 100 GB/s = 1,800 (900 per direction); the H800's cut NVLink
    # 400 (200 per direction); RTX PRO 6000 over PCIe Gen5 x16: 2 x 64 = 128.
    up = GPUS["scale_up_gb_s"]
    assert (up[["b200", "b300", "gb200", "gb300"]] == 18 * 100).all()
    assert up["h800-sxm"] == 2 * 200 and up["rtx-pro-6000"] == 2 * 64
    # MI355X: 7 Infinity Fabric links x 153.6 GB/s = 1,075.2, one link per peer pair.
    assert up["mi355x"] == pytest.approx(7 * 153.6) and GPUS.loc["mi355x", "mesh_links"] == 7
    # The all-reduce reads one direction: 1,800 / 2 = 900 GB/s at link efficiency 1.
    assert bus_bandwidth_gb_s(up["b200"], 1.0, 8, np.nan) == 900


def test_every_gpu_has_a_price_with_a_known_tier():
    prices = CATALOG.gpu_prices
    assert set(prices["tier"]) <= PRICE_TIERS
    assert set(GPUS.index) <= set(prices["gpu"])


def test_semianalysis_cost_tiers_order():
    # B200 (2026-04): hyperscaler all-in 1.95 < neocloud all-in 2.34 < 3-year rental 2.90,
    # and the 3-year rental below CoreWeave's on-demand list price (68.80 / 8 = 8.60).
    b200 = CATALOG.gpu_prices.query("gpu == 'b200'").set_index("kind")["usd_per_gpu_hour"]
    hyperscaler = b200["SemiAnalysis hyperscaler all-in cost"]
    neocloud = b200["SemiAnalysis neocloud all-in cost"]
    rental = b200["SemiAnalysis 3-year rental"]
    assert hyperscaler < neocloud < rental < b200.filter(like="CoreWeave").iloc[0] == 68.80 / 8


def test_provider_prices_name_catalog_models():
    models = set(CATALOG.provider_prices["model"])
    reference = {m for m in models if m.startswith("gpt-3.5")}
    assert models - reference <= set(CATALOG.models.index)


def test_cached_input_prices():
    prices = CATALOG.provider_prices
    cached = prices.dropna(subset=["usd_per_million_cached_input"])
    # A cache hit never costs more than a miss.
    assert (cached["usd_per_million_cached_input"] <= cached["usd_per_million_input"]).all()
    # DeepSeek-V3.2 (2025-09-29): 0.28 in, 0.42 out, 0.028 on a cache hit (a tenth of 0.28).
    v32 = prices.query("provider == 'DeepSeek' and model == 'deepseek-v3.2'").iloc[0]
    values = v32[["usd_per_million_input", "usd_per_million_output"]].tolist()
    assert values == [0.28, 0.42]
    assert v32["usd_per_million_cached_input"] == pytest.approx(0.28 / 10)
    # The seed's rows have no published cached price.
    assert prices.query("date == '2023-12'")["usd_per_million_cached_input"].isna().all()


def test_measurement_rows_name_their_parallelism():
    measured = CATALOG.measurements.set_index("id")
    assert set(measured["parallelism"]) == {"tp", "ep", "tp+ep"}
    assert set(measured.index[measured["parallelism"] == "ep"]) == {"R6", "R7", "R8", "R10"}
    r1 = measured.loc["R1"]
    # MLPerf v5.1 Offline, 8x H200, llama-2-70b: 35,317 tok/s per system / 8 = 4,414.6.
    assert r1["value"] == round(35317 / 8) and r1["n_gpus"] == 8
    assert (r1["prompt_tokens"], r1["output_tokens"]) == (222, 301)
    # SGLang R6: 22,282 tok/s per 8-GPU decode node / 8 = 2,785 per GPU, 256 per GPU x 72.
    r6 = measured.loc["R6"]
    assert r6["value"] == round(22282 / 8) and r6["batch_size"] == 256 * 72
    s6 = measurement_scenario(r6)
    assert s6.expert_parallel and s6.redundant_experts == 32 and s6.disaggregated
    assert s6.prompt_tokens + s6.output_tokens / 2 == 2000  # mean cached context
    # R8: 96 decode GPUs x 2.3 USD / (288k tok/s x 3,600 s) = 0.213 USD per million.
    assert measured.loc["R8", "value"] == round(96 * 2.3 / (288e3 * 3600) * 1e6, 2)


def test_an_unknown_parallelism_or_field_is_refused_by_name():
    row = CATALOG.measurements.set_index("id").loc["R1"].copy()
    row["parallelism"] = "pp"
    with pytest.raises(ValueError, match="parallelism must be one of tp, ep, tp\\+ep"):
        measurement_scenario(row)
    row["parallelism"], row["scenario_fields"] = "tp", "speculative=yes"
    with pytest.raises(ValueError, match="speculative must be True or False"):
        measurement_scenario(row)
    row["scenario_fields"] = "draft_tokens=99"
    with pytest.raises(ValueError, match="draft_tokens"):
        measurement_scenario(row)
