"""The data catalogs: every row sourced and dated, ids consistent, bad files rejected."""

import shutil

import pytest

from costmodel import Scenario, date_key, evaluate, load_catalog
from costmodel.catalog import ASSETS_DIR, read_table

CATALOG = load_catalog()
TABLES = ("gpus", "gpu_families", "gpu_prices", "provider_prices", "measurements", "formats")


@pytest.mark.parametrize("name", TABLES)
def test_every_row_has_a_source_and_a_date(name):
    table = getattr(CATALOG, name)
    assert len(table) > 0
    assert table["source"].notna().all() and (table["source"].str.strip() != "").all()
    assert table["date"].notna().all()


def test_models_have_sources_and_configs():
    assert set(CATALOG.models.index) >= {
        "mixtral-8x7b",
        "mixtral-8x22b",
        "llama-2-70b",
        "llama-3-70b",
        "dbrx",
    }
    assert CATALOG.models["source"].str.startswith("https://huggingface.co/").all()


def test_ids_used_elsewhere_exist():
    gpus, models = set(CATALOG.gpus.index), set(CATALOG.models.index)
    assert set(CATALOG.gpu_prices["gpu"]) <= gpus
    assert set(CATALOG.measurements["gpu"]) <= gpus
    assert set(CATALOG.measurements["model"]) <= models
    assert set(CATALOG.measurements["weight_format"]) <= set(CATALOG.formats.index)
    assert set(CATALOG.gpus["family"]) <= set(CATALOG.gpu_families.index)


def test_required_gpus_and_seed_prices():
    assert set(CATALOG.gpus.index) >= {
        "a100-40gb-sxm",
        "a100-80gb-sxm",
        "h100-sxm",
        "h100-pcie",
        "h200-sxm",
        "b200",
        "mi300x",
        "mi325x",
        "l40s",
    }
    # Seed C4: the optimistic all-in H100 price of December 2023.
    seed = CATALOG.gpu_prices.query("gpu == 'h100-sxm' and date == '2023-12'")
    assert seed["usd_per_gpu_hour"].tolist() == [1.95]


def test_family_defaults_are_joined_onto_gpus():
    h100 = CATALOG.gpus.loc["h100-sxm"]
    assert h100["family"] == "hopper"
    assert (
        h100["bandwidth_efficiency"] == CATALOG.gpu_families.loc["hopper", "bandwidth_efficiency"]
    )


@pytest.mark.parametrize(
    ("date", "key"),
    [("2024", "2024-12-31"), ("2024-03", "2024-03-31"), ("2026-03-17", "2026-03-17")],
)
def test_date_key(date, key):
    assert date_key(date) == key


def test_date_key_orders_mixed_precision():
    dates = ["2024", "2023-12", "2024-03", "2024-12-01"]
    assert sorted(dates, key=date_key) == ["2023-12", "2024-03", "2024-12-01", "2024"]


def test_a_row_without_a_source_is_rejected(tmp_path):
    path = tmp_path / "gpu_prices.csv"
    path.write_text(
        "gpu,usd_per_gpu_hour,kind,tier,basis,date,source\nh100-sxm,2.0,x,on_demand,listed,2024,\n"
    )
    with pytest.raises(ValueError, match="source"):
        read_table(path)


def test_a_missing_column_is_named(tmp_path):
    path = tmp_path / "gpu_prices.csv"
    path.write_text("gpu,kind,date,source\nh100-sxm,x,2024,somewhere\n")
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        read_table(path)


def test_unknown_family_is_rejected(tmp_path):
    folder = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, folder)
    gpus = folder / "gpus.csv"
    gpus.write_text(gpus.read_text().replace(",hopper,", ",volta,", 1))
    with pytest.raises(ValueError, match="volta"):
        load_catalog(folder)


SMALL_GPU = dict(
    family="hopper",
    hbm_gb=1,
    bandwidth_tb_s=1,
    bf16_dense_tflops=1,
    scale_up_gb_s=1,
    scale_out_gb_s=1,
    scale_up_domain_gpus=1,
)


def test_with_gpu_adds_a_typed_gpu_with_its_familys_efficiencies():
    base = load_catalog()
    specs = {**SMALL_GPU, "hbm_gb": 96, "bandwidth_tb_s": 4.0, "bf16_dense_tflops": 900}
    specs |= {"fp8_dense_tflops": 1800, "scale_up_gb_s": 900, "scale_out_gb_s": 50}
    cat = base.with_gpu("my-gpu", **specs, usd_per_gpu_hour=1.5)
    row = cat.gpus.loc["my-gpu"]
    assert row["source"] == "user input"
    hopper = base.gpu_families.loc["hopper"]
    for col in ("bandwidth_efficiency", "compute_efficiency", "allreduce_latency_us"):
        assert row[col] == hopper[col]
    assert "my-gpu" not in base.gpus.index  # a copy
    price = cat.gpu_prices[cat.gpu_prices["gpu"] == "my-gpu"]
    assert list(price["usd_per_gpu_hour"]) == [1.5]
    # Same family and price as an H100 SXM (3.35 TB/s), more bandwidth: a cheaper decode
    # step, so a lower cost per output token on the same setup.
    ours = evaluate(Scenario(gpu="my-gpu", usd_per_gpu_hour=1.95), cat)
    h100 = evaluate(Scenario(gpu="h100-sxm", usd_per_gpu_hour=1.95), cat)
    assert ours["usd_per_million_output_tokens"] < h100["usd_per_million_output_tokens"]


@pytest.mark.parametrize(
    ("gpu_id", "changes", "named"),
    [
        ("x", {"family": "nope"}, "family"),
        ("x", {"hbm_gb": 0}, "hbm_gb"),
        ("x", {"scale_out_gb_s": float("nan")}, "scale_out_gb_s"),
        ("h100-sxm", {}, "gpu_id"),
    ],
)
def test_with_gpu_refuses_what_it_cannot_use(gpu_id, changes, named):
    with pytest.raises(ValueError, match=named):
        load_catalog().with_gpu(gpu_id, **{**SMALL_GPU, **changes})
