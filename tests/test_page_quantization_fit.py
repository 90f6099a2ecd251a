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
from app_pages.ui import models, sidebar
from app_pages.ui.text import escape
from costmodel.analyses import memory_fit

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
    assert at.multiselect(key="gpus").value == list(memory_fit.DEFAULT_GPUS)
    assert at.number_input(key="users").value == 40
    assert at.number_input(key="context_tokens").value == 32768
    assert at.radio(key="heatmap_rows").value == "format"
    # The upload lives in the sidebar now, and says that its model travels in the link.
    assert any("share link carries its config" in c.value for c in at.sidebar.caption)


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
    for key, value in sidebar.PRESETS["December 2023 baseline"].items():
        assert at.session_state[key] == value

    at.button(key="quant_preset:reset").click().run()
    assert not at.exception
    for param in qf.PARAMS:
        value = at.session_state[param.name]
        assert (tuple(value) if isinstance(value, list) else value) == param.default
    # the page's Reset leaves the sidebar as the presets set it
    assert at.session_state["gpu"] == sidebar.PRESETS["December 2023 baseline"]["gpu"]
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


def verdict_text(at, claim_id: str) -> str:
    """The markdown of claim ``claim_id``'s verdict box on the page."""
    return next(m.value for m in at.markdown if f"[{claim_id} " in m.value)


def test_numbers_equal_the_analysis_result():
    at = open_page(PAGE, users="40")
    result = memory_fit.run(costmodel.Scenario(), memory_fit.Options(users=40))
    table = min_table(at)
    pd.testing.assert_frame_equal(table, result.min_gpus, check_dtype=False)
    # C14: bf16 Mixtral for 40 users fits on one H200 and one MI300X, not on one H100.
    assert table.loc["bf16", "h200-sxm"] == 1
    assert table.loc["bf16", "mi300x"] == 1
    assert table.loc["bf16", "h100-sxm"] == 2
    assert table.loc["fp8", "h100-sxm"] == 1
    heat = shown(at, "32768_tokens")
    assert heat.to_numpy().tolist() == result.heatmap_table.to_numpy().tolist()
    # One cell by hand from the library: 8,192 tokens = 7,936 prompt + 256 output.
    s = costmodel.Scenario(n_gpus=2, weight_format="fp8", prompt_tokens=8192 - 256)
    assert heat.loc["fp8", "8192_tokens"] == costmodel.evaluate(s)["max_batch_size"]


def test_c13_verdict_is_the_results_with_the_claims_rule():
    at = open_page(PAGE)
    result = memory_fit.run(costmodel.Scenario(), memory_fit.Options())
    text = verdict_text(at, "C13")
    assert f"C13 {result.c13_status}" in text
    assert escape(result.c13_text) in text
    assert "tokens of context each" in result.c13_text
    c14 = costmodel.claims.check("C14")
    assert f"C14 {c14.status}" in verdict_text(at, "C14")
    assert f"C12 {costmodel.claims.check('C12').status}" in verdict_text(at, "C12")


def test_fifty_users_is_not_a_traceback():
    # users = 50 is also C13's second case (50 users): both must be kept apart.
    at = open_page(PAGE, users="50")
    assert not at.exception and not at.error
    result = memory_fit.run(costmodel.Scenario(), memory_fit.Options(users=50))
    assert len(result.c13) == 5
    assert escape(result.c13_text) in verdict_text(at, "C13")


def test_from_upload_valid_llama_config():
    custom = models.from_upload(LLAMA, "config.json", costmodel.load_catalog())
    assert custom.model_id == "custom:meta-llama/Llama-2-70b-hf"
    catalog = models.with_custom(costmodel.load_catalog(), custom)
    reference = catalog.models.loc["llama-2-70b", "total_params"]
    assert catalog.models.loc[custom.model_id, "total_params"] == reference
    assert models.decode(custom.url) == custom.config


def test_upload_without_a_name_is_named_by_its_file_and_keeps_it_in_the_link():
    config = {k: v for k, v in json.loads(LLAMA).items() if k != "_name_or_path"}
    custom = models.from_upload(
        json.dumps(config).encode(), "my-llama.json", costmodel.load_catalog()
    )
    assert custom.model_id == "custom:my-llama"
    assert models.from_url(custom.url, costmodel.load_catalog()).model_id == "custom:my-llama"


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
        (b" " * (costmodel.hf_config.MAX_CONFIG_BYTES + 1), "limit"),
    ],
)
def test_upload_errors_are_value_errors(data, message):
    with pytest.raises(ValueError, match=message):
        models.from_upload(data, "config.json", costmodel.load_catalog())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not a model this app wrote"),
        ("eJzLSM3JyQcABiwCFQ", "not valid JSON"),  # zlib of "hello"
        ("A" * 30_000, "limit"),
        (models.encode({"model_type": "gpt2"}), "model_type"),
    ],
)
def test_bad_custom_model_in_the_url_is_a_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        models.from_url(text, costmodel.load_catalog())


def test_zip_bomb_in_the_url_is_refused():
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(b"{" + b" " * 10_000_000 + b"}", 9)).decode()
    with pytest.raises(ValueError, match="holds more than"):
        models.decode(bomb.rstrip("="))


def test_upload_in_the_sidebar_sizes_the_custom_model():
    at = open_page(PAGE)
    at.sidebar.file_uploader(key="hf_config").set_value(("config.json", LLAMA, "application/json"))
    at.run()
    assert not at.exception and not at.error
    assert at.query_params["model"] == "custom:meta-llama/Llama-2-70b-hf"
    custom = models.from_upload(LLAMA, "config.json", costmodel.load_catalog())
    assert at.query_params[models.KEY] == custom.url
    result = memory_fit.run(
        costmodel.Scenario(model=custom.model_id),
        memory_fit.Options(),
        models.with_custom(costmodel.load_catalog(), custom),
    )
    pd.testing.assert_frame_equal(min_table(at), result.min_gpus, check_dtype=False)
    assert "C13 for custom" in verdict_text(at, "C13")


def test_custom_model_link_reproduces_the_model_on_another_page():
    custom = models.from_upload(LLAMA, "config.json", costmodel.load_catalog())
    at = open_page("app_pages/moe_batch_scaling.py", model=custom.model_id, custom_model=custom.url)
    assert not at.exception and not at.error and not at.warning
    assert at.sidebar.selectbox(key="model").value == custom.model_id
    # Llama 2 70B is dense: the MoE page says so, for the uploaded model.
    assert any("is dense" in i.value for i in at.info)


def test_empty_gpu_selection_falls_back_to_the_sidebar_gpu():
    at = open_page(PAGE, heatmap_rows="GPU")
    at.multiselect(key="gpus").set_value([]).run()
    assert not at.exception
    assert any("h100" in i.value for i in at.info)
    assert list(min_table(at).columns) == ["h100-sxm"]
    assert list(shown(at, "32768_tokens").index) == ["h100-sxm"]


def test_bad_upload_shows_error_and_keeps_catalog_model():
    at = open_page(PAGE)
    at.sidebar.file_uploader(key="hf_config").set_value(
        ("config.json", b"{oops", "application/json")
    )
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "not valid JSON" in at.error[0].value
    assert models.KEY not in at.query_params
    assert len(at.get("vega_lite_chart")) >= 2
    assert any("Mixtral 8x7B" in c.value for c in at.caption)
