"""Benchmark files as the common measurement table, each on a file written in its schema.

Schemas followed (each file in tests/data/ names the fields it uses):

- ``vllm_bench_serve_result.json``: vllm-project/vllm ``vllm/benchmarks/serve.py`` (``vllm
  bench serve``) and ``benchmarks/benchmark_serving.py --save-result``: ``result_json``
  keys ``date`` (%Y%m%d-%H%M%S), ``backend``, ``model_id``, ``max_concurrency``, merged
  with the benchmark result ``completed``, ``total_input_tokens``,
  ``total_output_tokens``, ``output_throughput``, ``median_ttft_ms``,
  ``median_tpot_ms``...; ``--metadata gpu=h200-sxm n_gpus=8`` adds those two keys.
- ``sglang_bench_serving.jsonl``: sgl-project/sglang ``python/sglang/bench_serving.py``,
  the ``result`` dict appended per run to ``--output-file``: ``backend``,
  ``max_concurrency``, ``random_input_len``, ``completed``, ``total_input_tokens``,
  ``total_output_tokens``, ``output_throughput``, ``median_ttft_ms``,
  ``median_tpot_ms``, ``concurrency``, ``accept_length``.
- ``aiperf_profile_export_aiperf.json``: ai-dynamo/aiperf
  ``docs/tutorials/working-with-profile-exports.md`` ("Aggregated Statistics (JSON)"):
  metrics as ``{"unit", "avg", "p50", ...}`` (``time_to_first_token``,
  ``inter_token_latency``, ``output_token_throughput``, ``input_sequence_length``,
  ``output_sequence_length``) and ``input_config.endpoint.model_names``,
  ``input_config.loadgen.concurrency``.
- ``genai_perf_profile_export.json``: triton-inference-server genai-perf's
  ``profile_export_genai_perf.json``, the same metric objects with ``input_config.model``
  (a list) and ``input_config.concurrency``.
- ``inferencex_api_rows.json``: SemiAnalysisAI/InferenceX-app's API
  (``packages/app/cypress/fixtures/api/benchmarks.json``): the CSV's configuration
  fields at the top level, the measured ones under ``metrics``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costmodel import calibration
from costmodel.calibration.inferencex import INFERENCEX_FILE, read_inferencex
from costmodel.calibration.readers import (
    catalog_model,
    detect_format,
    read_aiperf,
    read_measurements,
    read_sglang,
    read_vllm,
)
from costmodel.catalog import load_catalog

DATA = Path(__file__).parent / "data"
VLLM = DATA / "vllm_bench_serve_result.json"
SGLANG = DATA / "sglang_bench_serving.jsonl"
AIPERF = DATA / "aiperf_profile_export_aiperf.json"
GENAI_PERF = DATA / "genai_perf_profile_export.json"
INFERENCEX_API = DATA / "inferencex_api_rows.json"
H200_SGLANG = {"gpu": "h200-sxm", "n_gpus": 8}


def test_vllm_result_by_hand():
    row = read_vllm(VLLM).iloc[0]
    # model_id deepseek-ai/DeepSeek-R1-0528 is the catalog's deepseek-r1; the GPU and its
    # count came as --metadata; backend vllm is the vllm stack.
    assert (row["model"], row["gpu"], row["n_gpus"], row["serving_stack"]) == (
        "deepseek-r1",
        "h200-sxm",
        8,
        "vllm",
    )
    # 294,400 tokens over 320 requests: 920 in and out.
    assert (row["prompt_tokens"], row["output_tokens"]) == (920, 920)
    assert row["tokens_per_s_per_user"] == pytest.approx(1000 / 25.6)
    assert row["output_tokens_per_s_per_gpu"] == pytest.approx(1198.2 / 8)
    assert row["ttft_ms"] == 380.1 and row["date"] == "2026-03-15"
    # 32 in flight, each 380.1 ms of its 380.1 + 919 x 25.6 ms waiting: 31.5 decoding.
    share = 919 * 25.6 / (919 * 25.6 + 380.1)
    assert row["decoding_requests"] == pytest.approx(32 * share)
    assert row["batch_size"] == round(32 * share)


def test_sglang_lines_by_hand():
    table = read_sglang(SGLANG, {**H200_SGLANG, "model": "deepseek-r1"})
    assert len(table) == 2
    assert list(table["serving_stack"]) == ["sglang", "sglang"]  # backend sglang
    assert list(table["concurrency"]) == [16, 64]
    assert table["tokens_per_s_per_user"].tolist() == pytest.approx([1000 / 15.5, 1000 / 28.7])
    assert table["output_tokens_per_s_per_gpu"].tolist() == pytest.approx([1008.9 / 8, 2177.3 / 8])
    assert table["prompt_tokens"].tolist() == [1024, 1024]


def test_sglang_accept_length_sets_the_acceptance():
    line = json.loads(SGLANG.read_text().splitlines()[0])
    line["accept_length"] = 2.5
    given = {
        **H200_SGLANG,
        "model": "deepseek-r1",
        "speculative": True,
        "mtp": True,
        "draft_tokens": 3,
    }
    row = read_sglang([line], given).iloc[0]
    # 1 + a + a^2 + a^3 = 2.5 at a = 0.6924 (constant acceptance, decay 1).
    assert row["acceptance_at_t0"] == pytest.approx(0.6924, abs=1e-3)


@pytest.mark.parametrize("path", [AIPERF, GENAI_PERF])
def test_profile_exports(path):
    given = {"gpu": "b200", "n_gpus": 8, "serving_stack": "trt-llm"}
    row = read_aiperf(path, given).iloc[0]
    record = json.loads(path.read_text())
    assert row["tokens_per_s_per_user"] == pytest.approx(
        1000 / record["inter_token_latency"]["p50"]
    )
    assert row["ttft_ms"] == record["time_to_first_token"]["p50"]
    assert row["output_tokens_per_s_per_gpu"] == pytest.approx(
        record["output_token_throughput"]["avg"] / 8
    )
    expected = "deepseek-r1" if path == AIPERF else "mixtral-8x7b"
    assert row["model"] == expected


def test_genai_perf_nanoseconds():
    record = json.loads(GENAI_PERF.read_text())
    record["inter_token_latency"] = {"unit": "ns", "avg": 29.6e6, "p50": 29.6e6}
    row = read_aiperf(record, {"gpu": "h100-sxm", "n_gpus": 2, "serving_stack": "vllm"}).iloc[0]
    assert row["tpot_ms"] == pytest.approx(29.6)


def test_inferencex_api_rows_match_the_csv_mapping():
    table = read_inferencex(INFERENCEX_API)
    assert list(table["gpu"]) == ["h200-sxm", "b200"]
    agg, disagg = table.iloc[0], table.iloc[1]
    # Aggregated 1k/1k at 8 in flight: 0.9 x 1,024 = 922 tokens each way; output per GPU
    # is tput_per_gpu x osl / (isl + osl).
    assert (agg["prompt_tokens"], agg["output_tokens"]) == (922, 922)
    assert agg["output_tokens_per_s_per_gpu"] == pytest.approx(164.13 / 2)
    # Dynamo over TensorRT-LLM: 5 decode replicas of TP8/EP8 (8 GPUs), one prefill worker
    # of 4, NVFP4 experts with FP8 attention, MTP with 3 drafts (no attention DP).
    assert (disagg["n_gpus"], disagg["decode_replicas"], disagg["prefill_gpus"]) == (8, 5, 4)
    assert (disagg["weight_format"], disagg["attention_format"]) == ("nvfp4", "fp8")
    assert disagg["mtp"] and disagg["draft_tokens"] == 3
    assert disagg["serving_stack"] == "dynamo-trt"
    # isl = osl = 1,024: the catalog's 1k/1k workload; the API rows carry no p99.
    assert list(table["workload"]) == ["inferencex-1k1k"] * 2
    assert table["ttft_p99_ms"].isna().all()


def test_shipped_inferencex_file():
    table = read_inferencex(INFERENCEX_FILE)
    assert len(table) == 1207
    latest = read_inferencex(INFERENCEX_FILE, latest_only=True)
    assert len(latest) == 255 and latest["snapshot"].eq("latest").all()
    # One latest ATOM run reports 25 output tokens/s per GPU at 512 in flight and 16
    # tokens/s per user: 13 requests in flight by Little's law, not 512.
    assert (~latest["consistent"]).sum() == 1
    assert len(calibration.inferencex_table()) == 254
    # The first row's p99 TTFT, 3.2417 s, in ms; its 1k/1k lengths name its workload.
    assert table["ttft_p99_ms"].iloc[0] == pytest.approx(3241.704617345239)
    assert set(table["workload"]) == {"inferencex-1k1k", "inferencex-8k1k", "inferencex-1k8k"}


@pytest.mark.parametrize(
    ("path", "format"),
    [
        (VLLM, "vllm"),
        (SGLANG, "sglang"),
        (AIPERF, "aiperf"),
        (GENAI_PERF, "aiperf"),
        (INFERENCEX_API, "inferencex"),
        (INFERENCEX_FILE, "inferencex"),
    ],
)
def test_formats_are_detected(path, format):
    assert detect_format(path) == format
    assert detect_format(path.read_bytes()) == format


def test_catalog_model_names():
    catalog = load_catalog()
    assert catalog_model("deepseek-ai/DeepSeek-R1-0528", catalog) == "deepseek-r1"
    assert catalog_model("mistralai/Mixtral-8x7B-Instruct-v0.1", catalog) == "mixtral-8x7b"
    assert catalog_model("meta-llama/Llama-3.1-70B-Instruct", catalog) == "llama-3.1-70b"
    assert catalog_model("some-org/unknown-model", catalog) is None


# --- bad files: a ValueError naming what is missing, never a deep traceback ------------------

BAD = [
    (b"", "empty"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON objects"),
    (b'{"hello": 1}', "unknown result format"),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_unreadable_files(data, message):
    with pytest.raises(ValueError, match=message):
        read_measurements(data, H200_SGLANG)


def _vllm(**changes) -> dict:
    record = json.loads(VLLM.read_text())
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


@pytest.mark.parametrize(
    ("record", "given", "message"),
    [
        (_vllm(median_tpot_ms=None), {}, "missing 'median_tpot_ms'"),
        (_vllm(output_throughput="fast"), {}, "'output_throughput' must be a number"),
        (_vllm(completed=0), {}, "no request finished"),
        (_vllm(gpu=None), {}, "missing gpu"),
        (_vllm(model_id="some-org/unknown"), {}, "missing model"),
        (_vllm(max_concurrency=None), {}, "missing batch_size"),
        (_vllm(gpu="tpu"), {}, "gpu must be one of"),
        (_vllm(), {"n_gpus": 0}, "n_gpus must be an integer"),
        (_vllm(), {"colour": "red"}, "unknown field"),
        (_vllm(backend="openai"), {}, "missing serving_stack"),
    ],
)
def test_bad_vllm_results(record, given, message):
    with pytest.raises(ValueError, match=message):
        read_vllm(record, given)


def test_bad_profile_export_names_the_metric():
    record = json.loads(AIPERF.read_text())
    record["inter_token_latency"] = 15.8  # a number, not a metric object
    with pytest.raises(ValueError, match="inter_token_latency"):
        read_aiperf(record, {"gpu": "b200", "n_gpus": 8, "serving_stack": "trt-llm"})
    with pytest.raises(ValueError, match="missing gpu"):
        read_aiperf(AIPERF, {"n_gpus": 8, "serving_stack": "trt-llm"})


def test_bad_inferencex_rows_name_the_column():
    rows = json.loads(INFERENCEX_API.read_text())
    with pytest.raises(ValueError, match="hardware tpu-v5 not known"):
        read_inferencex([{**rows[0], "hardware": "tpu-v5"}])
    with pytest.raises(ValueError, match="missing column"):
        read_inferencex([{k: v for k, v in rows[0].items() if k != "conc"}])
    # A model the file names differently: given by the caller.
    other = [{**rows[0], "model": "mystery"}]
    with pytest.raises(ValueError, match="model mystery not known"):
        read_inferencex(other)
    assert read_inferencex(other, {"model": "deepseek-v3"})["model"].iloc[0] == "deepseek-v3"
