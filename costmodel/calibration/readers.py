"""Benchmark result files as the common measurement table (``calibration.table``).

Each reader maps one tool's summary of a run; what the file does not say (the GPU, how
many, the serving stack when the client cannot tell it) comes from the caller's
``given`` Scenario fields, and a field neither in the file nor given raises
``ValueError`` naming it. Formats, as their projects write them:

- **vLLM** ``benchmarks/benchmark_serving.py --save-result`` and its successor ``vllm
  bench serve`` (``vllm/benchmarks/serve.py``): one JSON object with ``model_id``,
  ``backend``, ``max_concurrency``, ``completed``, ``total_input_tokens``,
  ``total_output_tokens``, ``output_throughput`` [tok/s], ``median_ttft_ms``,
  ``median_tpot_ms`` (and ``mean_*``, ``p99_*``), ``date`` (``%Y%m%d-%H%M%S``);
  ``--metadata KEY=VALUE`` pairs become top-level keys too, so Scenario fields written
  there (``gpu=h200-sxm``) are read as given.
- **SGLang** ``python -m sglang.bench_serving --output-file out.jsonl``
  (``python/sglang/bench_serving.py``): one JSON object per line (a run appends a
  line) with ``backend``, ``max_concurrency``, ``completed``, ``total_input_tokens``,
  ``total_output_tokens``, ``output_throughput``, ``median_ttft_ms``,
  ``median_tpot_ms``, ``concurrency`` (the mean requests in flight it measured) and
  ``accept_length`` (tokens per speculative step, when speculative).
- **NVIDIA AIPerf** ``profile_export_aiperf.json`` and its predecessor **GenAI-Perf**
  ``profile_export_genai_perf.json`` (ai-dynamo/aiperf docs/tutorials/
  working-with-profile-exports.md; triton-inference-server/perf_analyzer genai-perf):
  one JSON object whose metrics are objects ``{"unit": ..., "avg": ..., "p50": ...}``:
  ``time_to_first_token``, ``inter_token_latency`` [ms; ns in older genai-perf],
  ``output_token_throughput`` [tokens/sec], ``input_sequence_length``,
  ``output_sequence_length`` [tokens]; ``input_config`` holds the model
  (``endpoint.model_names`` or ``model``) and the concurrency (``loadgen.concurrency``
  or ``concurrency``).
- **InferenceX** CSV or API JSON rows: ``calibration.inferencex``.

A run's ``batch_size`` is the requests it decodes at once: its concurrency (``given``
``decode_replicas`` replicas share it) less the share of each request's time spent
waiting for its first token (``inferencex.decode_batch``'s Little's law on the medians).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.calibration.inferencex import read_inferencex
from costmodel.calibration.table import (
    checked_given,
    measurement_table,
    require,
    scenario_value,
)
from costmodel.catalog import Catalog, load_catalog
from costmodel.speculative import acceptance_for_tokens_per_step

#: Readers by format name (``read_measurements``' ``format``).
FORMATS = ("inferencex", "vllm", "sglang", "aiperf")

#: A client's ``backend`` and the serving stack it names (others need ``given``).
BACKEND_STACKS = {
    "vllm": "vllm",
    "vllm-chat": "vllm",
    "sglang": "sglang",
    "sglang-native": "sglang",
    "sglang-oai": "sglang",
    "sglang-oai-chat": "sglang",
    "trt": "trt-llm",
    "tensorrt-llm": "trt-llm",
}

#: Scenario fields a file's own numbers never set, that the caller may give.
RUN_FIELDS = ("model", "gpu", "n_gpus", "serving_stack")

#: Time units a profile export may use, in milliseconds.
MILLISECONDS = {"ms": 1.0, "ns": 1e-6, "us": 1e-3, "s": 1e3, "sec": 1e3}


def _text(data) -> str:
    if isinstance(data, Path):
        data = data.read_bytes()
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    if (
        isinstance(data, str)
        and len(data) < 4096
        and Path(data).suffix
        in (
            ".json",
            ".jsonl",
            ".csv",
        )
    ):
        path = Path(data)
        if path.exists():
            return path.read_text(encoding="utf-8", errors="replace")
    return str(data)


def _objects(data, what: str) -> list[dict]:
    """The JSON objects of ``data``: one object, a list of them, or JSON Lines."""
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    text = _text(data).strip()
    if not text:
        raise ValueError(f"{what}: the file is empty")
    try:
        parsed = json.loads(text)
        objects = parsed if isinstance(parsed, list) else [parsed]
    except json.JSONDecodeError:
        objects = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    objects.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(
                        f"{what}: line {number} is not JSON ({err.msg}, column {err.colno})"
                    ) from None
    if not objects or not all(isinstance(o, dict) for o in objects):
        raise ValueError(f"{what}: expected JSON objects (one per run)")
    return objects


def _number(record: dict, key: str, what: str, required: bool = True):
    """``record[key]`` as a finite float; ``ValueError`` naming the key if it is
    required and missing or not a number; None when optional and absent."""
    value = record.get(key)
    if value is None:
        if required:
            raise ValueError(f"{what}: missing {key!r}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {key!r} must be a number; got {value!r}") from None
    if not np.isfinite(number):
        raise ValueError(f"{what}: {key!r} must be finite; got {value!r}")
    return number


def _normalised(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def catalog_model(model_id, catalog: Catalog):
    """The catalog model a file's model name means, or None: the longest catalog id (or
    name) the name starts with, ignoring case, punctuation and an organisation prefix
    (``deepseek-ai/DeepSeek-R1-0528`` is ``deepseek-r1``;
    ``mistralai/Mixtral-8x7B-Instruct-v0.1`` is ``mixtral-8x7b``)."""
    if model_id is None:
        return None
    wanted = _normalised(str(model_id).rsplit("/", 1)[-1])
    best = None
    for model_key, name in zip(catalog.models.index, catalog.models["name"], strict=True):
        for candidate in (_normalised(model_key), _normalised(name)):
            longer = best is None or len(candidate) > best[0]
            if candidate and wanted.startswith(candidate) and longer:
                best = (len(candidate), model_key)
    return best[1] if best else None


def _run_row(
    given: dict,
    what: str,
    *,
    model_id,
    backend,
    concurrency,
    prompt_tokens,
    output_tokens,
    ttft_ms,
    tpot_ms,
    output_tokens_per_s,
    date,
    source,
    catalog: Catalog,
    tokens_per_step=None,
    defaults: dict | None = None,
) -> dict:
    """One run's table row: Scenario fields (``defaults`` where the file says nothing,
    the file's, then ``given``), system columns and metrics; ``assumed`` names the
    fields taken from ``defaults``."""
    fields = {
        "model": catalog_model(model_id, catalog),
        "serving_stack": BACKEND_STACKS.get(str(backend).lower()) if backend else None,
        "weight_format": None,
    }
    assumed = [k for k in defaults or {} if fields.get(k) is None and k not in given]
    fields.update({k: defaults[k] for k in assumed})
    fields.update({k: v for k, v in given.items()})
    require(fields, ("model", "gpu", "n_gpus", "serving_stack"), what)
    if concurrency is None and "batch_size" not in given:
        require({}, ("batch_size",), what)
    replicas = int(fields.pop("decode_replicas", 1))
    in_flight = float(concurrency if concurrency is not None else fields["batch_size"] * replicas)
    decoding = (output_tokens - 1.0) * tpot_ms
    share = decoding / (decoding + ttft_ms) if ttft_ms is not None else 1.0
    fields.setdefault("batch_size", max(int(round(in_flight * share / replicas)), 1))
    fields.setdefault("prompt_tokens", max(int(round(prompt_tokens)), 1))
    fields.setdefault("output_tokens", max(int(round(output_tokens)), 1))
    if tokens_per_step and fields.get("speculative") and "acceptance_at_t0" not in given:
        g = int(fields.get("draft_tokens", 4))
        decay = float(fields.get("acceptance_decay", 1.0))
        a = float(acceptance_for_tokens_per_step(min(tokens_per_step, g + 0.999), g, decay))
        fields.update(acceptance_at_t0=a, acceptance_at_t1=a)
    gpus = fields["n_gpus"] * replicas
    if fields.get("disaggregated"):
        gpus += fields.get("prefill_gpus", 8) * int(fields.get("prefill_replicas", 1))
    return {
        **fields,
        "decode_replicas": replicas,
        "concurrency": in_flight,
        "decoding_requests": in_flight * share,
        "tokens_per_s_per_user": 1e3 / tpot_ms,
        "tpot_ms": tpot_ms,
        "ttft_ms": ttft_ms if ttft_ms is not None else np.nan,
        "output_tokens_per_s_per_gpu": output_tokens_per_s / gpus,
        "date": date,
        "source": source,
        "assumed": ", ".join(assumed),
    }


def _vllm_date(text) -> str:
    try:
        return datetime.strptime(str(text), "%Y%m%d-%H%M%S").date().isoformat()
    except ValueError:
        return str(text or "")


#: Fields a vLLM ``--metadata KEY=VALUE`` pair may set (its values are text).
METADATA_FIELDS = (*RUN_FIELDS, "weight_format", "attention_format", "kv_format", "expert_parallel")


def _metadata_given(record: dict, given: dict) -> dict:
    """Scenario fields a vLLM ``--metadata`` pair set, under the caller's ``given``."""
    extra = {}
    for name in METADATA_FIELDS:
        if isinstance(record.get(name), str):
            extra[name] = scenario_value(name, record[name])
    if isinstance(record.get("decode_replicas"), str):
        extra["decode_replicas"] = int(record["decode_replicas"])
    return {**extra, **given}


def _serving_metrics(record: dict, what: str) -> dict:
    """The measured fields vLLM's ``benchmark_serving.py`` writes and SGLang's
    ``bench_serving.py`` (derived from it) writes alike: mean lengths from the totals
    over ``completed`` requests, median TTFT and TPOT [ms], ``output_throughput``
    [tokens/s]."""
    completed = _number(record, "completed", what)
    if completed <= 0:
        raise ValueError(f"{what}: 'completed' is {completed:g}: no request finished")
    return {
        "prompt_tokens": _number(record, "total_input_tokens", what) / completed,
        "output_tokens": _number(record, "total_output_tokens", what) / completed,
        "ttft_ms": _number(record, "median_ttft_ms", what),
        "tpot_ms": _number(record, "median_tpot_ms", what),
        "output_tokens_per_s": _number(record, "output_throughput", what),
    }


def read_vllm(
    data, given: dict | None = None, catalog: Catalog | None = None, defaults: dict | None = None
) -> pd.DataFrame:
    """A vLLM serving benchmark result (``--save-result`` JSON, ``vllm bench serve``) as
    the common table. ``ValueError`` naming what is missing."""
    catalog = catalog or load_catalog()
    given, defaults = checked_given(given), checked_given(defaults)
    rows = []
    for i, record in enumerate(_objects(data, "vLLM result")):
        what = f"vLLM result {i + 1}"
        rows.append(
            _run_row(
                _metadata_given(record, given),
                what,
                model_id=record.get("model_id"),
                backend=record.get("backend") or record.get("endpoint_type"),
                concurrency=_number(record, "max_concurrency", what, required=False),
                **_serving_metrics(record, what),
                date=_vllm_date(record.get("date")),
                source=f"vLLM serving benchmark {record.get('date', '')}".strip(),
                catalog=catalog,
                defaults=defaults,
            )
        )
    return measurement_table(pd.DataFrame(rows), "vLLM result", catalog)


def read_sglang(
    data, given: dict | None = None, catalog: Catalog | None = None, defaults: dict | None = None
) -> pd.DataFrame:
    """SGLang ``bench_serving`` JSON Lines (``--output-file``) as the common table, one
    row per line. Its measured ``concurrency`` (mean requests in flight) is the load
    where ``max_concurrency`` is not set; its ``accept_length`` sets the speculative
    acceptance of a ``given`` speculative setup."""
    catalog = catalog or load_catalog()
    given, defaults = checked_given(given), checked_given(defaults)
    rows = []
    for i, record in enumerate(_objects(data, "SGLang bench_serving output")):
        what = f"SGLang bench_serving line {i + 1}"
        concurrency = _number(record, "max_concurrency", what, required=False)
        if concurrency is None:
            concurrency = _number(record, "concurrency", what, required=False)
        rows.append(
            _run_row(
                given,
                what,
                model_id=record.get("model_id") or record.get("model"),
                backend=record.get("backend"),
                concurrency=concurrency,
                **_serving_metrics(record, what),
                date=str(record.get("date", "")),
                source="SGLang bench_serving",
                catalog=catalog,
                tokens_per_step=_number(record, "accept_length", what, required=False),
                defaults=defaults,
            )
        )
    return measurement_table(pd.DataFrame(rows), "SGLang bench_serving output", catalog)


def _stat(record: dict, key: str, what: str, statistic: str = "p50", required: bool = True):
    """A profile export's statistic of one metric, in its unit converted to ms for times."""
    metric = record.get(key)
    if not isinstance(metric, dict):
        if required:
            raise ValueError(f"{what}: missing {key!r} (an object with unit and avg/p50)")
        return None
    value = metric.get(statistic, metric.get("avg"))
    number = _number({key: value}, key, what, required)
    unit = str(metric.get("unit", "")).lower()
    if number is not None and unit in MILLISECONDS:
        number *= MILLISECONDS[unit]
    return number


def read_aiperf(
    data, given: dict | None = None, catalog: Catalog | None = None, defaults: dict | None = None
) -> pd.DataFrame:
    """An AIPerf ``profile_export_aiperf.json`` or GenAI-Perf
    ``profile_export_genai_perf.json`` summary as the common table (medians of TTFT and
    inter-token latency, the mean of output throughput and of the lengths)."""
    catalog = catalog or load_catalog()
    given, defaults = checked_given(given), checked_given(defaults)
    rows = []
    for i, record in enumerate(_objects(data, "AIPerf export")):
        what = f"AIPerf export {i + 1}"
        config = record.get("input_config") or {}
        endpoint = config.get("endpoint") or {}
        names = endpoint.get("model_names") or config.get("model") or []
        model_id = names[0] if isinstance(names, list) and names else names or None
        concurrency = (config.get("loadgen") or {}).get("concurrency", config.get("concurrency"))
        rows.append(
            _run_row(
                given,
                what,
                model_id=model_id,
                backend=None,
                concurrency=_number({"concurrency": concurrency}, "concurrency", what, False),
                prompt_tokens=_stat(record, "input_sequence_length", what, "avg"),
                output_tokens=_stat(record, "output_sequence_length", what, "avg"),
                ttft_ms=_stat(record, "time_to_first_token", what),
                tpot_ms=_stat(record, "inter_token_latency", what),
                output_tokens_per_s=_stat(record, "output_token_throughput", what, "avg"),
                date=str(record.get("start_time", ""))[:10],
                source="AIPerf profile export",
                catalog=catalog,
                defaults=defaults,
            )
        )
    return measurement_table(pd.DataFrame(rows), "AIPerf export", catalog)


def detect_format(data) -> str:
    """Which of ``FORMATS`` a file is, from its keys (JSON) or its header (CSV);
    ``ValueError`` for an empty, unreadable or unknown file."""
    if isinstance(data, (dict, list)):
        keys = set(_objects(data, "file")[0])
    else:
        text = _text(data).strip()
        if not text:
            raise ValueError("the file is empty")
        if text.startswith(("{", "[")):
            keys = set(_objects(text, "file")[0])
        else:
            keys = {k.strip() for k in text.splitlines()[0].split(",")}
    if {"hardware", "framework"} <= keys:  # its reader names any other missing column
        return "inferencex"
    if "input_config" in keys or "time_to_first_token" in keys:
        return "aiperf"
    sglang_keys = {"random_input_len", "accept_length", "total_output_tokens_retokenized"}
    if keys & sglang_keys:
        return "sglang"
    if "median_tpot_ms" in keys:
        return "vllm"
    found = ", ".join(sorted(map(str, keys))[:12]) or "none"
    raise ValueError(
        "unknown result format: expected an InferenceX CSV or JSON (columns hardware "
        "and framework), a vLLM serving benchmark result (median_tpot_ms), an SGLang "
        "bench_serving line (random_input_len or accept_length) or an AIPerf / GenAI-Perf "
        f"profile export (input_config or time_to_first_token); the file has {found}"
    )


def read_measurements(
    data,
    given: dict | None = None,
    format: str | None = None,
    catalog: Catalog | None = None,
    defaults: dict | None = None,
) -> pd.DataFrame:
    """Any supported result file (``FORMATS``; detected from its keys when ``format`` is
    None) as the common measurement table, ``given`` overriding what it says and
    ``defaults`` (``RUN_FIELDS``, e.g. the app's scenario) filling only what it does not
    say: its rows' ``assumed`` names the fields so taken (an InferenceX row says all)."""
    format = format or detect_format(data)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if format == "inferencex":
        return read_inferencex(data, given)
    reader = {"vllm": read_vllm, "sglang": read_sglang, "aiperf": read_aiperf}[format]
    return reader(data, given, catalog, defaults)
