"""What each result column means on screen: its name in words, its unit and its rounding.

``OUTPUTS`` holds one :class:`Output` per column a page shows: every
``evaluation.OUTPUT_COLUMNS`` key (its ``help`` is that table's description) and the
analyses' own columns (margins, setups). :func:`label` gives a column's name with its
unit ("Time per output token [ms]"), also for a column it does not list, from the unit
its name ends in (``_ms``, ``_gb``, ...). The app shows every metric through it, so an
identifier never reaches the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from costmodel.evaluation import OUTPUT_COLUMNS


@dataclass(frozen=True)
class Output:
    """A column as a person reads it: ``label`` (words), ``unit`` ("" for none), ``help``
    and ``decimals`` (digits after the point it is rounded to on screen; None: four
    significant digits, as for dollars, which span $0.00001 per request to $60 per
    million tokens)."""

    label: str
    unit: str = ""
    help: str = ""
    decimals: int | None = None

    @property
    def labelled(self) -> str:
        """The label with its unit: "Time per output token [ms]"."""
        return f"{self.label} [{self.unit}]" if self.unit else self.label


def _o(label: str, unit: str = "", decimals: int | None = None) -> Output:
    return Output(label, unit, decimals=decimals)


#: The evaluation's outputs, in ``OUTPUT_COLUMNS`` order, with their descriptions as help.
_EVALUATION = {
    "fits": _o("Fits in memory"),
    "memory_required_gb": _o("Memory needed", "GB", 1),
    "memory_available_gb": _o("Memory usable", "GB", 1),
    "memory_headroom_gb": _o("Memory headroom", "GB", 1),
    "weights_gb": _o("Weights", "GB", 1),
    "kv_cache_gb": _o("KV cache", "GB", 1),
    "max_batch_size": _o("Largest batch that fits", "sequences", 0),
    "min_gpus": _o("Fewest GPUs that hold it", "GPUs", 0),
    "experts_read_per_layer": _o("Experts read per layer", "experts", 2),
    "shared_experts_per_layer": _o("Shared experts per layer", "experts", 0),
    "bytes_read_per_step_gb": _o("Bytes read per step", "GB", 2),
    "weight_bytes_read_per_step_gb": _o("Weight bytes read per step", "GB", 2),
    "kv_bytes_read_per_step_gb": _o("KV-cache bytes read per step", "GB", 2),
    "acceptance_rate": _o("Draft acceptance rate", "0-1", 3),
    "tokens_per_step": _o("Tokens per step", "tokens", 2),
    "speculative_speedup": _o("Speed-up from speculation", "x", 2),
    "decode_step_ms": _o("Decode step", "ms", 2),
    "memory_time_ms": _o("Memory time of a step", "ms", 2),
    "compute_time_ms": _o("Compute time of a step", "ms", 2),
    "allreduce_time_ms": _o("All-reduce time of a step", "ms", 3),
    "alltoall_time_ms": _o("All-to-all time of a step", "ms", 3),
    "busiest_gpu_factor": _o("Busiest GPU's expert load over the mean", "x", 2),
    "overhead_time_ms": _o("Fixed overhead of a step", "ms", 3),
    "prefill_ms": _o("Prefill", "ms", 1),
    "prefilled_tokens": _o("Prompt tokens prefilled per request", "tokens", 0),
    "tpot_ms": _o("Time per output token", "ms", 2),
    "ttft_ms": _o("Time to first token", "ms", 0),
    "kv_transfer_ms": _o("KV-cache transfer", "ms", 2),
    "prefill_tokens_per_s_per_gpu": _o("Prefill tokens/s per GPU", "tokens/s", 0),
    "decode_tokens_per_s_per_gpu": _o("Decode tokens/s per GPU", "tokens/s", 0),
    "balanced_prefill_gpus": _o("Prefill GPUs that keep pace", "GPUs", 1),
    "tokens_per_s_per_user": _o("Tokens/s per user", "tokens/s", 1),
    "output_tokens_per_s": _o("Output tokens/s per replica", "tokens/s", 0),
    "output_tokens_per_s_per_gpu": _o("Output tokens/s per GPU", "tokens/s", 0),
    "usd_per_million_output_tokens": _o("Cost", "$/M output tokens"),
    "usd_per_million_input_tokens": _o("Cost", "$/M prompt tokens"),
    "usd_per_million_uncached_input_tokens": _o("Cost", "$/M uncached prompt tokens"),
    "usd_per_request": _o("Cost per request", "$"),
    "bandwidth_tb_s_per_usd_hour": _o("Bandwidth per dollar", "TB/s per $/GPU-hour", 2),
}

#: Columns of the analyses' tables that are not evaluation outputs.
_TABLES = {
    "setup": _o("Setup"),
    "model_label": _o("Model"),
    "gpu": _o("GPU"),
    "gpu_name": _o("GPU"),
    "n_gpus": _o("GPUs", "GPUs", 0),
    "batch_size": _o("Batch", "sequences", 0),
    "usd_per_gpu_hour": _o("GPU price", "$/GPU-hour", 2),
    "price_source": _o("Price: where it is from"),
    "usd_per_million_input": _o("Input price", "$/M tokens"),
    "usd_per_million_output": _o("Output price", "$/M tokens"),
    "usd_per_million_cached_input": _o("Cached-input price", "$/M tokens"),
    "usd_per_million_output_tokens_all_in": _o("Cost, all-in", "$/M output tokens"),
    "revenue_per_request_usd": _o("Revenue per request", "$"),
    "margin_usd_per_request": _o("Margin per request", "$"),
    "margin_usd_per_million_requests": _o("Margin per million requests", "$"),
    "margin_pct": _o("Margin", "% of revenue"),
    "break_even_utilization": _o("Break-even utilization", "0-1"),
    "break_even_batch_size": _o("Break-even batch", "sequences", 0),
    "change_low_pct": _o("Change, low", "%", 1),
    "change_high_pct": _o("Change, high", "%", 1),
    "tokens_per_s_per_replica": _o("Tokens/s per replica", "tokens/s", 0),
}

OUTPUTS: dict[str, Output] = {
    **{
        name: Output(o.label, o.unit, OUTPUT_COLUMNS[name], o.decimals)
        for name, o in _EVALUATION.items()
    },
    **_TABLES,
}

#: Name endings that carry a unit, for a column ``OUTPUTS`` does not list.
UNIT_ENDINGS = {
    "_ms": "ms",
    "_us": "µs",
    "_gb": "GB",
    "_tb_s": "TB/s",
    "_pct": "%",
    "_tokens": "tokens",
    "_usd": "$",
}


def label(column) -> str:
    """``column``'s name in words with its unit: from ``OUTPUTS``, else from its unit-named
    form (``decode_step_ms`` -> "Decode step [ms]"); a name that is not snake_case is kept."""
    if column in OUTPUTS:
        return OUTPUTS[column].labelled
    if not isinstance(column, str) or column != column.lower() or " " in column:
        return str(column)
    ending = next((end for end in UNIT_ENDINGS if column.endswith(end)), None)
    words = column[: -len(ending)] if ending else column
    words = words.replace("usd_per_", "$ per ").replace("_per_", " per ").replace("_", " ")
    text = words[:1].upper() + words[1:]
    return f"{text} [{UNIT_ENDINGS[ending]}]" if ending else text
