"""Quantization & memory fit page (C12-C14), through AppTest, checked against costmodel."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import ignored, open_page, shown

import costmodel
from app_pages import quantization_fit as qf
from app_pages.ui import params

PAGE = "app_pages/quantization_fit.py"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
LLAMA = (ASSETS / "models" / "llama-2-70b.json").read_bytes()


def min_table(at) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if df.value.index.name == "weight_format")


def test_renders_defaults_with_charts():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "Quantization and memory fit"
    intro = at.markdown[0].value
    for claim in ("C12", "C13", "C14"):
        assert claim in intro
    assert len(at.get("vega_lite_chart")) >= 2
    assert at.multiselect(key="gpus").value == qf.DEFAULT_GPUS
    assert at.number_input(key="users").value == 40
    assert at.number_input(key="context_tokens").value == 32768
    assert at.radio(key="heatmap_rows").value == "format"
    assert any("cannot live in the URL" in c.value for c in at.caption)


def test_url_parameters_show_values():
    at = open_page(
        PAGE,
        gpus=["h100-sxm", "mi300x"],
        users="50",
        context_tokens="16384",
        heatmap_rows="GPU",
        n_gpus="1",
    )
    assert not at.exception and not at.warning
    assert at.multiselect(key="gpus").value == ["h100-sxm", "mi300x"]
    assert at.number_input(key="users").value == 50
    assert at.number_input(key="context_tokens").value == 16384
    assert at.radio(key="heatmap_rows").value == "GPU"
    assert list(min_table(at).columns) == ["h100-sxm", "mi300x"]
    heat = shown(at, "16384_tokens")
    assert list(heat.index) == ["h100-sxm", "mi300x"]
    assert heat.columns[-1] == "16384_tokens"


@pytest.mark.parametrize(
    "params",
    [
        {"users": "abc"},
        {"users": "0"},
        {"context_tokens": "10"},
        {"heatmap_rows": "diagonal"},
        {"gpus": "no-such-gpu"},
    ],
)
def test_bad_page_parameter_is_named_in_a_warning(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    assert len(at.get("vega_lite_chart")) >= 2


def test_presets_and_reset():
    at = open_page(PAGE, users="64", gpus=["b200"])
    at.button(key="quant_preset:FP8 on one H100").click().run()
    assert not at.exception
    for key, value in qf.PRESETS["FP8 on one H100"].items():
        assert at.session_state[key] == value
    # 40 users of 5,120 tokens in FP8 do not fit on one H100: the C13 point.
    heat = shown(at, "4096_tokens")
    assert heat.loc["fp8", "4096_tokens"] >= 40
    assert heat.loc["fp8", "6144_tokens"] < 40

    at.button(key="quant_preset:One H200 or MI300X").click().run()
    assert at.multiselect(key="gpus").value == ["h100-sxm", "h200-sxm", "mi300x"]
    assert at.session_state["n_gpus"] == 1

    at.button(key="quant_preset:December 2023 baseline").click().run()
    for key, value in params.PRESETS["December 2023 baseline"].items():
        assert at.session_state[key] == value

    at.button(key="quant_preset:reset").click().run()
    assert not at.exception
    for param in qf.PARAMS:
        assert at.session_state[param.key] == param.default
    # the page's Reset leaves the sidebar as the presets set it
    assert at.session_state["gpu"] == params.PRESETS["December 2023 baseline"]["gpu"]
    assert at.session_state["prompt_tokens"] == 4096


def test_csv_downloads_equal_tables_shown(downloads):
    at = open_page(PAGE)
    tables = {
        "min_gpus.csv": min_table(at),
        "max_users_by_context.csv": shown(at, "32768_tokens"),
        "format_quality.csv": shown(at, "quality_note"),
    }
    for name, table in tables.items():
        csv = pd.read_csv(io.BytesIO(downloads[name]), index_col=0)
        assert csv.to_csv() == table.to_csv(), name


def test_numbers_equal_costmodel():
    at = open_page(PAGE, users="40")
    base = costmodel.Scenario(batch_size=40)
    direct = costmodel.sweep(base, gpu=qf.DEFAULT_GPUS, weight_format=qf.FORMATS)
    table = min_table(at)
    for row in direct.itertuples():
        assert table.loc[row.weight_format, row.gpu] == row.min_gpus
    # C14: bf16 Mixtral for 40 users fits on one H200 and one MI300X, not on one H100.
    assert table.loc["bf16", "h200-sxm"] == 1
    assert table.loc["bf16", "mi300x"] == 1
    assert table.loc["bf16", "h100-sxm"] == 2
    assert table.loc["fp8", "h100-sxm"] == 1

    heat = shown(at, "32768_tokens")
    context = 8192
    s = costmodel.Scenario(n_gpus=2, weight_format="fp8", prompt_tokens=context - 256)
    assert heat.loc["fp8", f"{context}_tokens"] == costmodel.evaluate(s)["max_batch_size"]


def test_c13_boundary_in_words_matches_costmodel():
    scenario = costmodel.Scenario(n_gpus=1, weight_format="fp8", kv_format="bf16")
    boundary = qf.longest_context_for(scenario, 40)

    def users_at(context: int) -> float:
        s = scenario.replace(prompt_tokens=context - 1, output_tokens=1)
        return costmodel.evaluate(s)["max_batch_size"]

    assert users_at(boundary) >= 40 > users_at(boundary + 1)
    assert 4000 < boundary < 5000  # about 4.4k tokens of context per user
    at = open_page(PAGE)
    text = at.info[0].value
    assert f"{boundary:,} tokens of context each" in text
    assert "one H100" in text


def test_longest_context_zero_when_weights_do_not_fit():
    scenario = costmodel.Scenario(n_gpus=1, weight_format="bf16", gpu="h100-sxm")
    assert qf.longest_context_for(scenario, 40) == 0


def test_read_upload_valid_llama_config():
    upload = qf.read_upload(LLAMA)
    assert upload.model_id == "custom:meta-llama/Llama-2-70b-hf"
    assert upload.arch["n_layers"] == 80 and upload.arch["n_kv_heads"] == 8
    catalog = qf.catalog_for(upload)
    reference = catalog.models.loc["llama-2-70b", "total_params"]
    assert catalog.models.loc[upload.model_id, "total_params"] == reference


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"model_type": "gpt2"}).encode(), "model_type"),
        (
            json.dumps({**json.loads(LLAMA), "hidden_size": -1}).encode(),
            "hidden_size",
        ),
        (b" " * 300_000, "limit"),
    ],
)
def test_read_upload_errors_are_value_errors(data, message):
    with pytest.raises(ValueError, match=message):
        qf.read_upload(data)


def test_upload_on_page_sizes_the_custom_model():
    at = open_page(PAGE)
    at.file_uploader(key="hf_config").set_value(("config.json", LLAMA, "application/json"))
    at.run()
    assert not at.exception and not at.error
    assert "custom:meta-llama/Llama-2-70b-hf" in at.success[0].value
    direct = costmodel.sweep(
        costmodel.Scenario(model="llama-2-70b", batch_size=40),
        gpu=qf.DEFAULT_GPUS,
        weight_format=qf.FORMATS,
    )
    table = min_table(at)
    for row in direct.itertuples():
        assert table.loc[row.weight_format, row.gpu] == row.min_gpus
    assert "C13 for custom:meta-llama/Llama-2-70b-hf" in at.info[0].value


def test_empty_gpu_selection_falls_back_to_the_sidebar_gpu():
    at = open_page(PAGE, heatmap_rows="GPU")
    at.multiselect(key="gpus").set_value([]).run()
    assert not at.exception
    assert any("h100-sxm" in i.value for i in at.info)
    assert list(min_table(at).columns) == ["h100-sxm"]
    assert list(shown(at, "32768_tokens").index) == ["h100-sxm"]


def test_bad_upload_shows_error_and_keeps_catalog_model():
    at = open_page(PAGE)
    at.file_uploader(key="hf_config").set_value(("config.json", b"{oops", "application/json"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "not valid JSON" in at.error[0].value
    assert not at.success
    assert len(at.get("vega_lite_chart")) >= 2
    assert any("mixtral-8x7b" in c.value for c in at.caption)
