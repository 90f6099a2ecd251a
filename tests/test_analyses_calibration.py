"""Calibrate to your benchmark as a library call: ``costmodel.analyses.calibration.run``.

Numbers are worked out by hand from the fixture files in ``tests/data`` (each in its
tool's documented schema; see ``tests/test_calibration_readers.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costmodel import FIELDS, Scenario, calibration
from costmodel.analyses import calibration as analysis
from costmodel.calibration.fit import MAX_PARAMETERS_PER_GROUP, robust_cost

DATA = Path(__file__).parent / "data"
VLLM = (DATA / "vllm_bench_serve_result.json").read_bytes()
SGLANG = (DATA / "sglang_bench_serving.jsonl").read_bytes()
AIPERF = (DATA / "aiperf_profile_export_aiperf.json").read_bytes()
INFERENCEX = (DATA / "inferencex_h200_sglang.csv").read_bytes()


@pytest.fixture(scope="module")
def vllm() -> analysis.Result:
    return analysis.run(VLLM)


@pytest.fixture(scope="module")
def inferencex() -> analysis.Result:
    return analysis.run(INFERENCEX)


def test_a_vllm_result_is_read_measured_and_modelled(vllm):
    assert vllm.format == "vllm" and vllm.format_name.startswith("vLLM")
    row = vllm.table.iloc[0]
    # The file: 320 requests, 294,400 output tokens, median TPOT 25.6 ms, 1,198.2 output
    # tokens/s on 8 H200 (its --metadata gpu=h200-sxm n_gpus=8).
    assert row["measured_tokens_per_s_per_user"] == pytest.approx(1000 / 25.6)
    assert row["measured_output_tokens_per_s_per_gpu"] == pytest.approx(1198.2 / 8)
    assert row["output_tokens"] == 294400 / 320 and row["concurrency"] == 32
    assert (row["model"], row["gpu"], row["serving_stack"]) == (
        "DeepSeek-R1",
        "H200 SXM 141GB",
        "vLLM",
    )
    assert row["parallelism"] == "TP 8"
    assert vllm.assumed == {}  # the file says model, GPU, count and stack


def test_errors_are_the_modelled_over_measured(inferencex):
    t = inferencex.table
    for metric in analysis.FIT_METRICS:
        for stage in ("shipped", "fitted"):
            expected = 100 * (t[f"{stage}_{metric}"] / t[f"measured_{metric}"] - 1)
            np.testing.assert_allclose(t[f"{stage}_error_{metric}"], expected)
    # Row 2 of the file: median interactivity 85.40 tokens/s per user, 164.13 tokens/s per
    # GPU at 1k/1k, of which output is 1024 / (1024 + 1024).
    assert t.loc[1, "measured_tokens_per_s_per_user"] == pytest.approx(85.404849)
    assert t.loc[1, "measured_output_tokens_per_s_per_gpu"] == pytest.approx(164.134603 / 2)


def test_the_fit_stays_in_its_ranges_and_the_limit_per_group(inferencex):
    values = inferencex.values
    assert ((values["value"] >= values["low"]) & (values["value"] <= values["high"])).all()
    assert (inferencex.parameter_counts <= MAX_PARAMETERS_PER_GROUP).all()
    # Six runs at two batch sizes or more pin the streaming rate and the fixed time.
    assert set(values["parameter"]) == {"moe_kernel_efficiency", "kernel_us"}
    assert values.at_bound.tolist() == [
        abs(v - lo) < 1e-3 * (hi - lo) or abs(hi - v) < 1e-3 * (hi - lo)
        for v, lo, hi in zip(values["value"], values["low"], values["high"], strict=True)
    ]


def test_the_fit_does_not_do_worse_than_the_catalog(inferencex, vllm):
    for result in (inferencex, vllm):
        t = result.table
        before = np.log1p(t[[f"shipped_error_{m}" for m in analysis.FIT_METRICS]] / 100)
        after = np.log1p(t[[f"fitted_error_{m}" for m in analysis.FIT_METRICS]] / 100)
        # The fit starts where the catalog is and takes only steps that lower its loss.
        assert robust_cost(after.to_numpy()) <= robust_cost(before.to_numpy()) * (1 + 1e-9)


def test_settings_are_the_fit_on_the_inputs_steps(inferencex):
    (setting,) = inferencex.settings
    assert (setting.family, setting.serving_stack, setting.rows) == ("hopper", "sglang", 6)
    assert setting.fields["gpu"] == "h200-sxm" and setting.fields["serving_stack"] == "sglang"
    fitted = inferencex.values.set_index("parameter")["value"]
    for name in ("moe_kernel_efficiency", "kernel_us"):
        step = FIELDS[name].step
        assert setting.fields[name] == pytest.approx(fitted[name], abs=step / 2)
        assert setting.fields[name] / step == pytest.approx(round(setting.fields[name] / step))
    assert not setting.applied
    again = analysis.run(INFERENCEX, Scenario(**setting.fields))
    assert again.settings[0].applied


def test_what_the_file_lacks_comes_from_the_scenario():
    # An AIPerf export names the model and the load, not the GPU, the count or the stack.
    result = analysis.run(AIPERF, Scenario(gpu="b200", n_gpus=8, serving_stack="trt-llm"))
    assert result.assumed == {"gpu": "b200", "n_gpus": 8, "serving_stack": "trt-llm"}
    assert (
        result.assumed_text
        == "GPU B200 (HGX) 180GB, GPUs per replica 8, Serving stack TensorRT-LLM"
    )
    assert result.table["gpu"].tolist() == ["B200 (HGX) 180GB"]
    assert result.table["assumed"].tolist() == ["gpu, n_gpus, serving_stack"]
    assert result.table["model"].tolist() == ["DeepSeek-R1"]  # the file's, not Mixtral
    # SGLang's backend says its stack: the scenario's does not override it.
    sglang = analysis.run(SGLANG, Scenario(serving_stack="trt-llm", n_gpus=8))
    assert set(sglang.table["serving_stack"]) == {"SGLang"}
    assert "serving_stack" not in sglang.assumed


def test_latest_only_keeps_the_newest_run_of_each_configuration():
    assert len(analysis.run(INFERENCEX).table) == 6  # the file has one older run too
    assert len(analysis.run(INFERENCEX, options=analysis.Options(latest_only=False)).table) == 7


def test_parallelism_in_words():
    rows = calibration.read_measurements((DATA / "inferencex_api_rows.json").read_bytes())
    assert analysis.parallelism(rows).tolist() == [
        "TP 8",
        "disaggregated: 1 x 4 prefill, 5 x 8 decode (TP)",
    ]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe{\x00", "not UTF-8 text (byte 0xff at position 0)"),
        (b"x" * (analysis.MAX_FILE_BYTES + 1), "at most 5,000,000"),
        (b'{"hello": 1}', "unknown result format"),
        (b'{"hello": 1}', "the file has hello"),
        (VLLM.replace(b'"completed"', b'"finished"'), "missing 'completed'"),
        (VLLM.replace(b'"median_tpot_ms": 25.6', b'"median_tpot_ms": "fast"'), "must be a number"),
        (SGLANG + b"{not json\n", "line 3 is not JSON"),
        (INFERENCEX.replace(b",conc,", b",concurrency,"), "missing column(s) conc"),
        (b'{"input_config": [1, 2], "time_to_first_token": 3}', "unexpected structure"),
        ("a,b\n1,2\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_a_bad_file_is_named_in_a_value_error(data, named):
    with pytest.raises(ValueError) as err:
        analysis.run(data)
    assert named in str(err.value)


def test_too_many_runs_are_refused_naming_the_limit(monkeypatch):
    monkeypatch.setattr(analysis, "MAX_ROWS", 5)
    with pytest.raises(ValueError, match="holds 6 runs; at most 5"):
        analysis.run(INFERENCEX)
    with pytest.raises(ValueError, match="Latest run of each configuration"):
        analysis.run(INFERENCEX, options=analysis.Options(latest_only=False))


def test_a_byte_order_mark_is_no_obstacle(vllm):
    result = analysis.run(b"\xef\xbb\xbf" + VLLM)
    assert math.isclose(
        result.table["fitted_tokens_per_s_per_user"][0],
        vllm.table["fitted_tokens_per_s_per_user"][0],
    )


def test_parallelism_of_replicas_and_expert_parallelism():
    table = pd.DataFrame(
        {
            "n_gpus": [8, 16, 8],
            "decode_replicas": [1, 2, 5],
            "expert_parallel": [False, True, None],
            "disaggregated": [False, False, True],
            "prefill_replicas": [0, 0, 1],
            "prefill_gpus": [8, 8, 4],
        }
    )
    assert analysis.parallelism(table).tolist() == [
        "TP 8",
        "EP 16 x 2 replicas",
        "disaggregated: 1 x 4 prefill, 5 x 8 decode (TP)",
    ]
