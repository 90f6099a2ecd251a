"""InferenceX results (SemiAnalysis): the public CSV and the API's JSON rows.

Each row is one benchmark run of a serving stack's recommended configuration (columns
explained in ``shared/reference/inferencex/README.md``; the API
``SemiAnalysisAI/InferenceX-app`` serves the same fields as JSON objects, the metrics
nested under ``metrics``). How a row becomes a ``Scenario`` (``scenario_frame``):

- ``model``: ``MODELS`` (``dsr1`` is DeepSeek-R1); ``hardware``: ``GPUS``;
  ``framework``: ``STACKS`` (``trt`` is TensorRT-LLM);
- formats: ``fp8`` is DeepSeek's block-scaled FP8 everywhere; ``fp4`` is NVFP4 routed
  experts with the rest in FP8 on NVIDIA (nvidia/DeepSeek-R1-0528-FP4: ModelOpt
  quantises the experts) and MXFP4 experts with BF16 attention on AMD
  (amd/DeepSeek-R1-0528-MXFP4: AMD Quark with ``--exclude_layers "*self_attn*"`` on a
  BF16 copy; its shared experts and dense layers, MXFP4 too, are read as attention's
  BF16 here, a 5.6 GB over-count against 22.8 GB of attention); KV cache FP8 (every
  InferenceX DeepSeek-R1 script sets an FP8 KV cache);
- parallelism: a decode replica spans ``max(decode_tp, decode_ep)`` GPUs (MoRI rows
  write TP 1 with EP 8 over eight GPUs); ``decode_dp_attention`` is data-parallel
  attention with the experts spread (``expert_parallel=True``); EP without it is
  attention TP with experts spread, modelled as tensor parallelism (each GPU reads
  1/n of attention and experts either way, with TP's all-reduces);
- ``batch_size``: the requests a decode replica decodes at once, ``conc / decode
  replicas`` (aggregated rows write 0 replicas: one) less the share of their time spent
  queued or in prefill (:func:`decode_batch`, from the row's median TTFT and TPOT);
  under data-parallel attention the model's batch is the replica's total too;
- lengths: InferenceX draws each request's input and output length uniformly from
  ``[0.8 L, L]`` (``RANDOM_RANGE_RATIO: 0.8`` in .github/workflows/benchmark-tmpl.yml;
  ``sample_random_requests`` in utils/bench_serving/benchmark_serving.py), so the mean
  is ``LENGTH_MEAN_SHARE`` = 0.9 of ``isl``/``osl``;
- MTP (``spec_method`` ``mtp``): ``speculative`` and ``mtp`` with ``DRAFT_TOKENS``,
  acceptance by draft position as TensorRT-LLM measured it (``speculative.MTP_ACCEPTANCE``,
  ``MTP_DECAY``; the file does not say, so a calibration may fit the first draft's);
- ``workload``: the ``assets/workloads.csv`` shape of the row's lengths
  (``inferencex-1k1k``, ``-8k1k``, ``-1k8k``: :func:`workload_names`);
- scheduler settings of the launch scripts (aggregated rows, :func:`scheduler_settings`):
  ``poll_steps``, ``window_steps``, ``window_requests`` for
  ``planning.latency.admission_wait_steps``;
- disaggregated rows: ``prefill_gpus`` = ``max(prefill_tp, prefill_ep)`` GPUs per
  prefill worker, ``prefill_replicas`` workers, ``decode_replicas`` decode replicas.

Measured metrics: ``tokens_per_s_per_user`` = ``median_intvty``; ``tpot_ms``,
``ttft_ms`` from the medians [s], ``ttft_p99_ms`` from ``p99_ttft``;
``output_tokens_per_s_per_gpu`` over all GPUs of the system (both pools) =
``tput_per_gpu * osl / (isl + osl)`` (input and output lengths are drawn with the same
ratio). The file's ``output_tput_per_gpu`` is per *decode* GPU
on disaggregated rows (it equals ``tput_per_gpu`` there at 1k/1k), so it is not used.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.calibration.table import checked_given, measurement_table
from costmodel.catalog import ASSETS_DIR
from costmodel.speculative import MTP_DECAY

#: InferenceX model prefixes and the catalog models they are.
MODELS = {"dsr1": "deepseek-r1", "gptoss": "gpt-oss-120b", "qwen3.5": "qwen3.5-397b-a17b"}

#: InferenceX ``hardware`` and the catalog GPUs (SXM/OAM parts, 8 GPUs a node).
GPUS = {
    "h100": "h100-sxm",
    "h200": "h200-sxm",
    "b200": "b200",
    "b300": "b300",
    "gb200": "gb200",
    "gb300": "gb300",
    "mi300x": "mi300x",
    "mi325x": "mi325x",
    "mi355x": "mi355x",
}

#: InferenceX ``framework`` and the serving stacks (``serving_stack``).
STACKS = {
    "sglang": "sglang",
    "trt": "trt-llm",
    "vllm": "vllm",
    "atom": "atom",
    "dynamo-trt": "dynamo-trt",
    "dynamo-sglang": "dynamo-sglang",
    "mori-sglang": "mori-sglang",
}

#: Mean of a length drawn uniformly from ``[0.8 L, L]``: (0.8 + 1) / 2.
LENGTH_MEAN_SHARE = 0.9

#: Requests each user sends in a measured InferenceX run: ``--num-prompts $((CONC * 10))``
#: with ``--max-concurrency $CONC`` (benchmarks/*.sh of SemiAnalysisAI/InferenceX), after
#: ``2 x CONC`` warm-up requests that end before it starts; so 1/10 of the requests
#: measured are the burst of every user's first request at t = 0.
PROMPTS_PER_USER = 10

#: SGLang's ``--scheduler-recv-interval`` in InferenceX's single-node DeepSeek-R1 scripts
#: for B200 and B300 (benchmarks/single_node/fixed_seq_len/dsr1_*_b200*.sh, _b300*.sh,
#: SemiAnalysisAI/InferenceX at 843c6254f): 10 below 16 in flight, 30 from 16; 1 (every
#: step) with DP attention; the other GPUs' scripts leave SGLang's default, 1.
SGLANG_RECV_INTERVAL = {"low": 10, "high": 30, "from_concurrency": 16}
SGLANG_RECV_INTERVAL_GPUS = ("b200", "b300")

#: TensorRT-LLM's attention-DP balance in the same scripts (``attention_dp_config:
#: enable_balance: true, timeout_iters: 60, batching_wait_iters: 0``): prompts wait until
#: every DP rank has one, at most 60 iterations.
TRT_DP_BALANCE_TIMEOUT_STEPS = 60

#: TensorRT-LLM's delayed batching in dsr1_fp8_b200_trt.sh at 1k/1k from 64 in flight
#: (``batch_wait_timeout_iters: 40``, ``batch_wait_max_tokens_ratio: 0.8``): prompts
#: gather until 0.8 x ``max_num_tokens`` (``max(8192, ceil((conc + isl + 64) / 64) x
#: 64)``) tokens or 40 iterations.
TRT_DELAY_BATCHING = {
    "timeout_steps": 40,
    "tokens_ratio": 0.8,
    "min_tokens": 8192,
    "from_concurrency": 64,
}

#: First-draft acceptance of DeepSeek-R1's MTP head on InferenceX's random prompts in
#: a chat template, which its rows do not state: fitted once over them
#: (``calibration.fit``, level ``all``; ``benchmarks/bench_calibration.py`` prints it).
#: TensorRT-LLM's blog measured 0.926 on real prompts (``speculative.MTP_ACCEPTANCE``).
INFERENCEX_MTP_ACCEPTANCE = 0.76

#: The InferenceX DeepSeek-R1 runs shipped with the app (``shared/reference/inferencex``'s
#: ``dsr1-public.csv``, its ``run_url`` column named ``source``).
INFERENCEX_FILE = ASSETS_DIR / "inferencex_dsr1.csv"

#: MTP draft tokens per step by stack, from the InferenceX launch scripts
#: (benchmarks/single_node/fixed_seq_len/dsr1_*_mtp.sh and the srt-slurm recipes):
#: TensorRT-LLM ``num_nextn_predict_layers`` 3, 1 with attention DP; SGLang on NVIDIA
#: ``--speculative-num-steps 2``; SGLang on AMD and ATOM 3. Keyed (stack, DP attention).
DRAFT_TOKENS = {
    ("trt-llm", False): 3,
    ("trt-llm", True): 1,
    ("dynamo-trt", False): 3,
    ("dynamo-trt", True): 1,
}
#: Draft tokens of the other stacks, by vendor.
DRAFT_TOKENS_NVIDIA, DRAFT_TOKENS_AMD = 2, 3

#: Columns a row must have (``metrics`` may hold the measured ones in the API's JSON).
REQUIRED_COLUMNS = (
    "hardware",
    "framework",
    "model",
    "precision",
    "spec_method",
    "disagg",
    "prefill_tp",
    "prefill_ep",
    "prefill_num_workers",
    "decode_tp",
    "decode_ep",
    "decode_dp_attention",
    "decode_num_workers",
    "isl",
    "osl",
    "conc",
)


def read_rows(data) -> pd.DataFrame:
    """The raw InferenceX rows of ``data``: a CSV or JSON path, bytes or text, a list of
    dicts (API rows, ``metrics`` flattened) or a DataFrame."""
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, list):
        return _flattened(data)
    if isinstance(data, Path):
        data = data.read_bytes()
    if isinstance(data, str) and not data.lstrip().startswith(("[", "{", "snapshot", "date")):
        path = Path(data)
        if path.suffix in (".csv", ".json") and path.exists():
            data = path.read_bytes()
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    if text.lstrip().startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"InferenceX JSON: not valid JSON ({err.msg}, line {err.lineno})"
            ) from None
        return _flattened(parsed if isinstance(parsed, list) else [parsed])
    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"InferenceX CSV: cannot read it ({err})") from None


def _flattened(rows: list) -> pd.DataFrame:
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError("InferenceX JSON: expected a list of objects (one per benchmark run)")
    flat = [
        {**{k: v for k, v in r.items() if k != "metrics"}, **(r.get("metrics") or {})} for r in rows
    ]
    return pd.DataFrame(flat)


def read_inferencex(
    data, given: dict | None = None, latest_only: bool = False, catalog=None
) -> pd.DataFrame:
    """InferenceX rows as the common measurement table (``calibration.table``).

    ``given``: Scenario fields that override the mapping for every row (a model the
    file names differently, another KV format...). ``latest_only``: only rows whose
    ``snapshot`` is ``latest`` (the newest run of each configuration). Adds
    ``consistent`` (:func:`consistent`) and keeps ``snapshot``, ``precision`` and the
    run's URL as ``source``. A missing column or an unknown model, GPU or stack raises
    ``ValueError`` naming it.
    """
    raw = read_rows(data)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw]
    metrics = ("median_intvty", "tput_per_gpu", "median_tpot", "median_ttft")
    if not any(m in raw for m in metrics):
        missing.append(f"one of {', '.join(metrics)}")
    if missing:
        raise ValueError(f"InferenceX file: missing column(s) {', '.join(missing)}")
    if latest_only and "snapshot" in raw:
        raw = raw[raw["snapshot"] == "latest"]
    frame = scenario_frame(raw, checked_given(given))
    table = measurement_table(frame, "InferenceX file", catalog)
    table["consistent"] = consistent(table, raw.reset_index(drop=True))
    return table


def _mapped(raw: pd.DataFrame, column: str, mapping: dict, given: dict, field: str):
    if field in given:
        return pd.Series(given[field], index=raw.index)
    values = raw[column].astype(str).str.lower()
    unknown = sorted(set(values) - set(mapping))
    if unknown:
        raise ValueError(
            f"InferenceX {column} {', '.join(unknown)} not known (known: "
            f"{', '.join(mapping)}); pass given={{'{field}': ...}}"
        )
    return values.map(mapping)


def _flag(series) -> np.ndarray:
    return series.astype(str).str.lower().isin(("true", "1", "1.0")).to_numpy()


def scenario_frame(raw: pd.DataFrame, given: dict) -> pd.DataFrame:
    """Scenario fields, system columns, metrics and meta of InferenceX rows (see the
    module docstring for each mapping choice); ``given`` fields override."""
    raw = raw.reset_index(drop=True)
    num = {c: pd.to_numeric(raw[c], errors="coerce") for c in REQUIRED_COLUMNS[5:] if c != "disagg"}
    gpu = _mapped(raw, "hardware", GPUS, given, "gpu")
    stack = _mapped(raw, "framework", STACKS, given, "serving_stack")
    amd = gpu.str.startswith("mi").to_numpy()
    fp4 = (raw["precision"].astype(str).str.lower() == "fp4").to_numpy()
    dp = _flag(raw["decode_dp_attention"])
    disagg = _flag(raw["disagg"])
    mtp = (raw["spec_method"].astype(str).str.lower() == "mtp").to_numpy()
    decode_replicas = np.maximum(num["decode_num_workers"].fillna(0), 1).astype(int)
    n_gpus = np.maximum(num["decode_tp"], num["decode_ep"]).astype(int)
    prefill_gpus = np.maximum(num["prefill_tp"], num["prefill_ep"]).astype(int)
    isl, osl, conc = num["isl"], num["osl"], num["conc"]
    draft = np.where(amd, DRAFT_TOKENS_AMD, DRAFT_TOKENS_NVIDIA)
    for (name, with_dp), tokens in DRAFT_TOKENS.items():
        draft = np.where((stack == name).to_numpy() & (dp == with_dp), tokens, draft)
    frame = pd.DataFrame(
        {
            "model": _mapped(raw, "model", MODELS, given, "model"),
            "gpu": gpu,
            "serving_stack": stack,
            "n_gpus": n_gpus,
            "weight_format": np.where(fp4, np.where(amd, "mxfp4", "nvfp4"), "fp8"),
            "attention_format": np.where(fp4 & amd, "bf16", "fp8"),
            "kv_format": "fp8",
            "batch_size": decode_batch(conc / decode_replicas, raw, osl),
            "prompt_tokens": np.round(LENGTH_MEAN_SHARE * isl).astype(int),
            "output_tokens": np.round(LENGTH_MEAN_SHARE * osl).astype(int),
            "expert_parallel": dp,
            "speculative": mtp,
            "mtp": mtp,
            "draft_tokens": draft.astype(int),
            "acceptance_at_t0": INFERENCEX_MTP_ACCEPTANCE,
            "acceptance_at_t1": INFERENCEX_MTP_ACCEPTANCE,
            "acceptance_decay": MTP_DECAY,
            "disaggregated": disagg,
            "prefill_gpus": np.where(disagg, prefill_gpus, 8).astype(int),
            "decode_replicas": decode_replicas,
            "prefill_replicas": np.where(disagg, num["prefill_num_workers"].fillna(1), 0).astype(
                int
            ),
            "concurrency": conc.astype(int),
            "workload": workload_names(isl, osl),
            "decoding_requests": conc * decoding_share(raw, osl),
            "precision": raw["precision"].astype(str),
            "snapshot": raw.get("snapshot", pd.Series("", index=raw.index)).astype(str),
            "date": raw.get("date", pd.Series("", index=raw.index)).astype(str),
            "source": raw.get(
                "run_url", raw.get("source", pd.Series("InferenceX", index=raw.index))
            ).astype(str),
        }
    )
    frame = frame.join(scheduler_settings(frame, raw["precision"], isl))
    frame["measurement"] = [f"inferencex-{i}" for i in raw.index]
    for name, value in given.items():
        frame[name] = [value] * len(frame)
    _metrics(frame, raw, isl, osl)
    return frame


def scheduler_settings(frame: pd.DataFrame, precision, isl) -> pd.DataFrame:
    """The admission settings of each row's launch script: ``poll_steps`` (SGLang's
    recv interval, ``SGLANG_RECV_INTERVAL`` on B200/B300), ``window_steps`` and
    ``window_requests`` (TensorRT-LLM's attention-DP balance, one prompt per DP rank
    within ``TRT_DP_BALANCE_TIMEOUT_STEPS``, and its delayed batching,
    ``TRT_DELAY_BATCHING``; the longer of the two where both apply). Disaggregated rows
    and other stacks: 1, 0, 1 (none)."""
    single = ~frame["disaggregated"].to_numpy(bool)
    dp = frame["expert_parallel"].to_numpy(bool)
    conc = frame["concurrency"].to_numpy(float)
    sglang = single & (frame["serving_stack"] == "sglang").to_numpy()
    polled = sglang & frame["gpu"].isin(SGLANG_RECV_INTERVAL_GPUS).to_numpy() & ~dp
    rule = SGLANG_RECV_INTERVAL
    interval = np.where(conc >= rule["from_concurrency"], rule["high"], rule["low"])
    trt = single & (frame["serving_stack"] == "trt-llm").to_numpy()
    balance = trt & dp
    delay = TRT_DELAY_BATCHING
    delayed = (
        trt
        & (frame["gpu"] == "b200").to_numpy()
        & (np.asarray(precision).astype(str) == "fp8")
        & ~frame["mtp"].to_numpy(bool)
        & (np.asarray(isl) == 1024)
        & (frame["output_tokens"].to_numpy() == round(LENGTH_MEAN_SHARE * 1024))
        & (conc >= delay["from_concurrency"])
    )
    max_tokens = np.maximum(np.ceil((conc + np.asarray(isl) + 64) / 64) * 64, delay["min_tokens"])
    gathered = np.ceil(delay["tokens_ratio"] * max_tokens / frame["prompt_tokens"].to_numpy())
    return pd.DataFrame(
        {
            "poll_steps": np.where(polled, interval, 1).astype(int),
            "window_steps": np.maximum(
                np.where(balance, TRT_DP_BALANCE_TIMEOUT_STEPS, 0),
                np.where(delayed, delay["timeout_steps"], 0),
            ).astype(int),
            "window_requests": np.maximum(
                np.where(balance, frame["n_gpus"], 1), np.where(delayed, gathered, 1)
            ).astype(int),
        },
        index=frame.index,
    )


def workload_names(isl, osl) -> pd.Series:
    """The ``assets/workloads.csv`` workload of each row's lengths: ``inferencex-1k1k``
    for ``isl`` = ``osl`` = 1,024 (lengths in units of 1,024 tokens)."""
    return (
        "inferencex-"
        + (isl // 1024).astype(int).astype(str)
        + "k"
        + (osl // 1024).astype(int).astype(str)
        + "k"
    )


def decoding_share(raw: pd.DataFrame, osl):
    """Share of a request's time in the system spent decoding (medians; 1 without them)."""
    output = LENGTH_MEAN_SHARE * osl - 1.0
    if "median_tpot" not in raw or "median_ttft" not in raw:
        return pd.Series(1.0, index=raw.index)
    decoding = output * pd.to_numeric(raw["median_tpot"], errors="coerce")
    share = decoding / (decoding + pd.to_numeric(raw["median_ttft"], errors="coerce"))
    return share.fillna(1.0)


def decode_batch(in_flight_per_replica, raw: pd.DataFrame, osl):
    """Requests a decode replica decodes at once: those in flight, less those waiting.

    A closed-loop benchmark keeps ``conc`` requests in flight; each spends its TTFT
    queued or in prefill and ``(O - 1) TPOT`` decoding, so by Little's law the decode
    batch is ``conc / replicas * (O - 1) TPOT / (TTFT + (O - 1) TPOT)`` (medians, O the
    mean output length). Where the server admits fewer requests than are in flight (a
    ``max_running_requests`` cap, a prefill pool that cannot keep up) the wait shows in
    the TTFT: MoRI-SGLang's 2,048 in flight with a 51 s TTFT decode about 350 at once.
    Rows without the medians keep ``conc / replicas``. At least 1.
    """
    share = decoding_share(raw, osl)
    return np.maximum(np.round(in_flight_per_replica * share), 1).astype(int)


def _metrics(frame: pd.DataFrame, raw: pd.DataFrame, isl, osl) -> None:
    def column(name):
        return pd.to_numeric(raw[name], errors="coerce") if name in raw else np.nan

    frame["tokens_per_s_per_user"] = column("median_intvty")
    frame["tpot_ms"] = column("median_tpot") * 1e3
    frame["ttft_ms"] = column("median_ttft") * 1e3
    frame["ttft_p99_ms"] = column("p99_ttft") * 1e3
    frame["output_tokens_per_s_per_gpu"] = column("tput_per_gpu") * osl / (isl + osl)


#: Little's law band a consistent row falls in: the concurrency implied by its own
#: throughput and latency over the stated ``conc``.
CONSISTENT_BAND = (0.5, 2.0)


def system_gpus(table: pd.DataFrame):
    """GPUs of the whole measured system: decode replicas plus prefill workers."""
    decode = table["decode_replicas"] * table["n_gpus"]
    prefill = np.where(
        table["disaggregated"].astype(bool), table["prefill_replicas"] * table["prefill_gpus"], 0
    )
    return decode + prefill


def consistent(table: pd.DataFrame, raw: pd.DataFrame):
    """Whether a row's numbers agree with each other (Little's law), per row.

    The requests in flight implied by the row, output tokens/s of the system times the
    median end-to-end latency over the mean output length, must be within
    ``CONSISTENT_BAND`` of its ``conc``. One MI355X ATOM run at concurrency 512 reports
    25 output tokens/s per GPU at 16 tokens/s per user: 13 requests in flight, not 512.
    Rows without ``median_e2el`` count as consistent.
    """
    if "median_e2el" not in raw:
        return np.ones(len(table), bool)
    rate = table["output_tokens_per_s_per_gpu"] * system_gpus(table)
    implied = rate * pd.to_numeric(raw["median_e2el"], errors="coerce") / table["output_tokens"]
    ratio = implied / table["concurrency"]
    low, high = CONSISTENT_BAND
    return (ratio.between(low, high) | ratio.isna()).to_numpy()


def inferencex_table(path=INFERENCEX_FILE) -> pd.DataFrame:
    """The shipped InferenceX rows to calibrate and validate on: the latest run of each
    configuration whose numbers agree with each other (:func:`consistent`)."""
    table = read_inferencex(Path(path), latest_only=True)
    return table[table["consistent"]].reset_index(drop=True)
