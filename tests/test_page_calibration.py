"""The "Calibrate to your benchmark" page (AppTest): upload a result file in each
documented schema, see it read and fitted, apply the fit to the sidebar; bad files get a
message, never a traceback. The numbers are the library's (tests/test_analyses_calibration.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import open_page

from app_pages.ui import tables
from app_pages.ui.text import escape
from costmodel import Scenario
from costmodel.analyses import calibration as analysis

PAGE = "app_pages/calibration.py"
DATA = Path(__file__).parent / "data"
FILES = {
    "vllm_bench_serve_result.json": "vLLM serving benchmark result",
    "sglang_bench_serving.jsonl": "SGLang bench_serving output",
    "aiperf_profile_export_aiperf.json": "NVIDIA AIPerf / GenAI-Perf profile export",
    "genai_perf_profile_export.json": "NVIDIA AIPerf / GenAI-Perf profile export",
    "inferencex_h200_sglang.csv": "InferenceX results",
    "inferencex_api_rows.json": "InferenceX results",
}


def upload(at, name: str, data: bytes):
    at.file_uploader(key="benchmark_file").set_value((name, data, "application/octet-stream"))
    return at.run()


def test_without_a_file_the_page_says_what_to_upload():
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert at.title[0].value == "Calibrate to your benchmark"
    assert any("Upload a result file" in i.value for i in at.info)
    assert any("Your scenario's efficiencies: the defaults" in m.value for m in at.markdown)
    # The sidebar's efficiencies are the page's subject: a link that sets one shows it.
    at = open_page(PAGE, kernel_us="3.5")
    assert any("Kernel fixed time \\[us\\] 3\\.5" in m.value for m in at.markdown)


@pytest.mark.parametrize("name", FILES)
def test_each_format_is_detected_read_and_fitted(name):
    at = upload(open_page(PAGE), name, (DATA / name).read_bytes())
    assert not at.exception and not at.error
    success = at.success[0].value
    assert escape(FILES[name]) in success and f"` {name} `" in success  # format, file name
    assert any(m.value.startswith("**Verdict.** As shipped") for m in at.markdown)
    assert at.subheader.values[:3] == ["Runs read from the file", "The fit", "Use the fit"]
    assert at.button(key="calibration_apply_0").label == "Apply"


def test_the_page_table_is_the_analysis(downloads):
    data = (DATA / "sglang_bench_serving.jsonl").read_bytes()
    at = upload(open_page(PAGE, n_gpus="8"), "run.jsonl", data)
    assert not at.exception
    scenario = Scenario(n_gpus=8)  # the sidebar's, whose model, GPU and count fill the gaps
    result = analysis.run(data, scenario)
    assert downloads["calibration_runs.csv"] == tables.csv_bytes(result.table)
    assert downloads["calibration_fit.csv"] == tables.csv_bytes(
        result.values[
            [
                "label",
                "family",
                "serving_stack",
                "shipped",
                "value",
                "std_error",
                "low",
                "high",
                "at_bound",
                "rows",
            ]
        ]
    )
    assert downloads["calibration_errors.csv"] == tables.csv_bytes(result.errors)
    runs = pd.read_csv(io.BytesIO(downloads["calibration_runs.csv"]))
    assert len(runs) == 2 and set(runs["assumed"]) == {"model, gpu, n_gpus"}
    # What the file lacks is said, with the sidebar's values.
    (info,) = at.info
    said = "The file does not say Model Mixtral 8x7B, GPU H100 SXM5 80GB, GPUs per replica 8:"
    assert said in info.value


def test_apply_sets_the_sidebar_and_the_url():
    data = (DATA / "inferencex_h200_sglang.csv").read_bytes()
    at = upload(open_page(PAGE), "runs.csv", data)
    (setting,) = analysis.run(data, Scenario()).settings
    at.button(key="calibration_apply_0").click().run()
    assert not at.exception
    assert at.session_state["gpu"] == "h200-sxm" and at.session_state["serving_stack"] == "sglang"
    for name in ("moe_kernel_efficiency", "kernel_us"):
        assert at.sidebar.number_input(key=name).value == setting.fields[name]
        assert float(at.query_params[name]) == setting.fields[name]
    assert at.query_params["gpu"] in ("h200-sxm", ["h200-sxm"])
    assert any("Applied" in s.value for s in at.success)
    assert at.button(key="calibration_apply_0").disabled

    # The link without the file: the calibrated efficiencies are the sidebar's.
    link = {k: v for k, v in at.query_params.items()}
    fresh = open_page(PAGE, **link)
    assert not fresh.exception and not fresh.warning
    for name in ("moe_kernel_efficiency", "kernel_us"):
        assert fresh.sidebar.number_input(key=name).value == setting.fields[name]
    assert fresh.session_state["gpu"] == "h200-sxm"


def test_latest_only_is_a_url_input():
    data = (DATA / "inferencex_h200_sglang.csv").read_bytes()
    at = upload(open_page(PAGE, latest_only="false"), "runs.csv", data)
    assert not at.exception and "7 runs" in at.success[0].value
    at.toggle(key="latest_only").set_value(True).run()
    assert "6 runs" in at.success[0].value


VLLM = (DATA / "vllm_bench_serve_result.json").read_bytes()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"", "the file is empty"),
        (b'{"hello": 1}', "unknown result format"),
        (VLLM.replace(b'"completed"', b'"finished"'), "missing 'completed'"),
        (b"\xff\xfe\x00\x01", "not UTF-8 text"),
        (b" " * (analysis.MAX_FILE_BYTES + 1), "at most 5,000,000 are read"),
        (b"hardware,framework\nh200,sglang\n", "missing column(s) model"),
    ],
)
def test_a_bad_file_gets_a_message_naming_what_is_wrong(data, named):
    at = upload(open_page(PAGE), "bad.json", data)
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("Could not use ` bad.json `: ") and named in error.value
    assert not at.subheader  # nothing drawn from it


def test_text_from_the_file_is_shown_literally():
    name = "[click](https://example.com) *x*.json"
    at = upload(open_page(PAGE), name, b'{"<b>evil</b>": "[a](b)"}')
    (error,) = at.error
    assert "` [click](https://example.com) *x*.json `" in error.value  # a code span
    assert "\\<b\\>evil\\</b\\>" in error.value  # escaped in running text
