"""One evaluation path: ``sweep`` over a grid of scenarios; ``evaluate`` is a 1-row sweep.

The grid is built once as arrays (catalog rows as integer codes) and evaluated in named
stages, each vectorised over all rows:

1. :func:`grid`: field arrays (varied fields) or scalars (fixed fields);
   :func:`check_ids` and :func:`check_consistency` reject what needs the catalog.
2. :func:`lookup`: architecture, hardware, format and efficiency arrays of each row.
3. :func:`memory_fit`: weights, KV cache, headroom, largest batch, fewest GPUs.
4. :func:`decode_step`: one decode step, or a speculative verification plus drafting.
5. :func:`prefill`: the batch's prompts, and one prompt alone (time to first token).
6. :func:`prefill_pool`: disaggregated rows' prefill on a pool of its own.
7. :func:`latency`: time per output token, throughput, speed-up (the two pools' on
   disaggregated rows); :func:`throughputs`: each phase per GPU, the balancing pool.
8. ``economics``: GPU-hours per unit of work (physics), then dollars (price and
   utilisation).

Stages 2-7 and the GPU-hours are the physics. A product sweep keeps each axis as an
array of its own dimension (:func:`grid`), so numpy computes every quantity once per
combination of the axes it depends on (a GPU's bandwidth once per GPU, one prompt's
prefill once per GPU, format, GPU count and prompt length, whatever the batch sizes) and
the rows are laid out only at the end (:func:`flat`). A zipped scan computes each
distinct physical row once (:func:`row_groups`), and a stage only some rows need (the
all-to-all, the speculative verification, the disaggregated pools) on those rows alone
(:func:`on_rows`). The economic fields (``ECONOMIC_FIELDS``: price, utilisation) only
scale the dollars, so a sweep over them reuses the physics (1,000 prices at one batch:
one forward pass). ``prefix_cache_hit_rate`` is a physical field, not an economic one: the
cached share of each prompt skips prefill, which changes prefill time, time to first
token and the cycle (its billing at the cached-input price is in ``economics``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from costmodel import attention, comm, disaggregation, economics
from costmodel.catalog import (
    CUSTOM_PREFIX,
    MODEL_NUMERIC_FIELDS,
    STACK_PARAMETERS,
    Catalog,
    load_catalog,
)
from costmodel.disaggregation import balanced_pool_ratio, disaggregated_cost
from costmodel.fields import (
    CHOICE_FIELDS,
    FAMILY_DEFAULT_FIELDS,
    FIELD_NAMES,
    FIELDS,
    OPTIONAL_CHOICE_FIELDS,
    check_field,
    check_values,
)
from costmodel.imbalance import busiest_gpu_factor, busiest_rank_factor
from costmodel.memory import (
    BYTES_16BIT,
    max_batch_size,
    memory_available_gb,
    min_gpus_to_fit,
    weight_bytes_by_format,
)
from costmodel.overheads import scheduler_ms
from costmodel.scenario import Scenario
from costmodel.speculative import acceptance_rate, expected_tokens_per_step
from costmodel.step import bus_bandwidth_gb_s, forward_ms

#: Categorical fields and the catalog table whose index gives their codes.
CATEGORICAL_FIELDS = {name: FIELDS[name].catalog_table for name in CHOICE_FIELDS}

#: Fields that change only the dollars, never the physics (time, bytes, memory).
ECONOMIC_FIELDS = ("usd_per_gpu_hour", "utilization")

#: Most rows one sweep may have; above it ``sweep`` raises before allocating anything.
MAX_SWEEP_ROWS = 5_000_000

#: Result columns and their meaning (units in the names).
OUTPUT_COLUMNS = {
    "fits": "weights + KV cache + overhead fit in the replica's usable memory",
    "memory_required_gb": "weights + KV cache at full context + runtime overhead [GB]",
    "memory_available_gb": "n_gpus * hbm_gb * usable_memory_fraction [GB]",
    "memory_headroom_gb": "available minus required memory [GB]",
    "weights_gb": "stored weight bytes in the chosen format [GB]",
    "kv_cache_gb": "KV cache and fixed state of the batch at prompt + output tokens, with "
    "copies across tensor-parallel GPUs (MLA latent on every GPU) [GB]",
    "max_batch_size": "most concurrent sequences that fit at prompt + output tokens",
    "min_gpus": "fewest GPUs (an allowed tensor-parallel size) holding weights, KV, overhead",
    "experts_read_per_layer": "expected distinct routed experts read per MoE layer per decode step",
    "shared_experts_per_layer": "shared experts every token uses, read every step, per MoE layer",
    "bytes_read_per_step_gb": "bytes read by one decode (or verification) step [GB]",
    "weight_bytes_read_per_step_gb": "weight bytes of bytes_read_per_step_gb [GB]",
    "kv_bytes_read_per_step_gb": "KV-cache bytes of bytes_read_per_step_gb [GB]",
    "acceptance_rate": "draft-token acceptance rate at this temperature",
    "tokens_per_step": "tokens produced per sequence per decode step",
    "speculative_speedup": "tokens/s per user with speculation over without, same batch "
    "(the share of prefill included; disaggregated: the decode pool's step)",
    "decode_step_ms": "one decode step (verification + draft when speculative) [ms]",
    "memory_time_ms": "bytes over achieved bandwidth, plain decode step [ms]",
    "compute_time_ms": "FLOPs over achieved throughput, plain decode step [ms]",
    "allreduce_time_ms": "tensor-parallel all-reduces, plain decode step [ms]",
    "alltoall_time_ms": "expert-parallel dispatch + combine all-to-alls, plain decode step [ms]",
    "busiest_gpu_factor": "expert load of the busiest GPU over the mean, plain decode step "
    "(1 without expert parallelism)",
    "overhead_time_ms": "per-layer fixed overhead, plain decode step [ms]",
    "prefill_ms": "prefill of the batch's uncached prompt tokens, once per output_tokens "
    "steps; disaggregated: one pass of the prefill pool [ms]",
    "prefilled_tokens": "prompt tokens per request that run through prefill: "
    "max((1 - prefix_cache_hit_rate) * prompt_tokens, 1) [tokens]",
    "tpot_ms": "time per output token a user sees, with the share of others' prefill "
    "(disaggregated: the decode pool's own step) [ms]",
    "ttft_ms": "time to first token: prefill of one prompt's uncached tokens + one decode "
    "step, no queueing; disaggregated: the prefill pool's queue + pass + KV transfer (inf "
    "if it is saturated) [ms]",
    "kv_transfer_ms": "time to send one prompt's KV cache (all its tokens) over the scale-out "
    "NICs of the GPUs holding it (one under expert parallelism): what disaggregation adds "
    "to TTFT; disaggregated: from the prefill pool [ms]",
    "prefill_tokens_per_s_per_gpu": "prefilled (uncached) prompt tokens/s per GPU of "
    "prefill alone: the batch's prompts on the replica, or the prefill pool's pass when "
    "disaggregated",
    "decode_tokens_per_s_per_gpu": "output tokens/s per decode GPU while decoding, no prefill "
    "in between: batch_size / time per token / n_gpus",
    "balanced_prefill_gpus": "prefill GPUs that keep pace with this replica's decode at these "
    "throughputs: n_gpus * (prefilled / prefill tokens/s) / (O / decode tokens/s) [GPUs]",
    "tokens_per_s_per_user": "1000 / tpot_ms [tokens/s]",
    "output_tokens_per_s": "sustained output tokens/s of the replica (all its GPUs)",
    "output_tokens_per_s_per_gpu": "output_tokens_per_s / n_gpus (disaggregated: over the "
    "n_gpus + prefill_gpus GPUs of both pools)",
    "usd_per_million_output_tokens": "GPU cost of decode time (disaggregated: of the decode "
    "pool) per million output tokens [$]",
    "usd_per_million_input_tokens": "GPU cost of prefill time (disaggregated: of the prefill "
    "pool) per million prompt tokens, cached ones included (what an input price is set "
    "against) [$]",
    "usd_per_million_uncached_input_tokens": "GPU cost of prefill time per million uncached "
    "prompt tokens, those actually prefilled; a cached token costs only its share of "
    "reading the prefix, inside that prefill [$]",
    "usd_per_request": "GPU cost of one request, prefill and decode [$]",
    "bandwidth_tb_s_per_usd_hour": "memory bandwidth per GPU-hour price; NaN at $0 [TB/s per $/h]",
}

#: Estimated bytes per result row: one 8-byte value per column, twice (the stages'
#: working arrays and the returned DataFrame).
BYTES_PER_ROW = 2 * 8 * (len(FIELD_NAMES) + len(OUTPUT_COLUMNS))


#: Prompt tokens a fully cached prompt still runs: its last one, whose logits give the
#: first output token (vLLM and SGLang recompute it on a full prefix-cache hit) [tokens].
MIN_PREFILLED_TOKENS = 1.0


def prefilled_tokens(prompt_tokens, prefix_cache_hit_rate):
    """Prompt tokens of a request that run through prefill: ``max((1 - h) P, 1)`` [tokens].

    The other ``P - prefilled`` are prefix-cache hits: their KV is already cached. 512
    tokens at h = 0.5: 256 prefilled; at h = 1: 1 (``MIN_PREFILLED_TOKENS``).
    """
    uncached = (1.0 - np.asarray(prefix_cache_hit_rate, float)) * prompt_tokens
    return np.maximum(uncached, MIN_PREFILLED_TOKENS)


def average_context_tokens(prompt_tokens, output_tokens):
    """Cached tokens a decode step reads on average over a request: ``P + O / 2`` [tokens]."""
    return prompt_tokens + output_tokens / 2.0


# --- 1. grid and the checks that need the catalog --------------------------------------


def _allowed_ids(name: str, catalog: Catalog) -> tuple[str, ...]:
    return catalog.prepared(_choice_tables)[name][0]


def _choice_tables(catalog: Catalog) -> dict:
    """Per categorical field: its allowed ids, their integer codes (``{id: code}``) and
    the categorical dtype of its result column, prepared once per catalog."""
    tables = {}
    for name, table in CATEGORICAL_FIELDS.items():
        index = getattr(catalog, table).index
        choices = FIELDS[name].choices
        allowed = tuple(i for i in index if not choices or i in choices)
        codes = {value: code for code, value in enumerate(index)}
        tables[name] = (allowed, codes, pd.CategoricalDtype(index))
    return tables


def check_id(name: str, value, catalog: Catalog) -> None:
    """Raise ``ValueError`` naming ``name`` and the allowed ids unless ``catalog`` has ``value``."""
    check_field(name, value)
    if value is None and name in OPTIONAL_CHOICE_FIELDS:
        return
    allowed = _allowed_ids(name, catalog)
    if value not in allowed:
        hint = f" (a {CUSTOM_PREFIX} model needs Catalog.with_model)" if name == "model" else ""
        raise ValueError(f"{name} must be one of {', '.join(allowed)}{hint}; got {value!r}")


def check_ids(scenario: Scenario, catalog: Catalog) -> None:
    """Check the scenario's model, GPU and formats against ``catalog`` (``ValueError``)."""
    for name in CHOICE_FIELDS:
        check_id(name, getattr(scenario, name), catalog)


def tensor_parallel_ok(n_gpus, n_heads, n_kv_heads):
    """Whether ``n_gpus`` GPUs can split a model's attention by tensor parallelism.

    ``n_gpus`` must divide the query heads. The KV heads follow vLLM's rule: with
    ``n_gpus <= n_kv_heads`` each GPU holds ``n_kv_heads / n_gpus`` of them (so
    ``n_gpus`` divides ``n_kv_heads``); with more GPUs than KV heads each KV head is
    replicated on ``n_gpus / n_kv_heads`` GPUs (so ``n_kv_heads`` divides ``n_gpus``).
    Mixtral 8x7B (32 heads, 8 KV heads): 1, 2, 4, 8, 16, 32 GPUs; not 3, 6 or 64.
    """
    n = np.asarray(n_gpus, np.int64)
    h = np.asarray(n_heads, np.int64)
    kv = np.asarray(n_kv_heads, np.int64)
    kv_ok = np.where(n <= kv, kv % np.maximum(n, 1) == 0, n % np.maximum(kv, 1) == 0)
    return (h % n == 0) & kv_ok


def tensor_parallel_sizes(model: str, catalog: Catalog) -> list[int]:
    """Every allowed ``n_gpus`` for ``model`` (:func:`tensor_parallel_ok`, within its range)."""
    check_id("model", model, catalog)
    return list(catalog.prepared(_tensor_parallel_table)[model])


def _tensor_parallel_table(catalog: Catalog) -> dict[str, tuple[int, ...]]:
    """Model id -> its allowed tensor-parallel sizes, prepared once per catalog."""
    low, high = FIELDS["n_gpus"].range
    sizes = np.arange(int(low), int(high) + 1)
    models = catalog.models
    ok = tensor_parallel_ok(
        sizes[None, :],
        models["n_heads"].to_numpy()[:, None],
        models["n_kv_heads"].to_numpy()[:, None],
    )
    return {
        model: tuple(int(n) for n in sizes[row])
        for model, row in zip(models.index, ok, strict=True)
    }


def _first_bad(bad, *arrays):
    """Values of ``arrays`` at the first True of ``bad`` (arrays may be scalars, or the
    broadcastable axes of a product grid: the first in row order is the first in C order)."""
    bad, *arrays = np.broadcast_arrays(np.atleast_1d(bad), *arrays)
    i = int(np.argmax(bad))
    return [a.reshape(-1)[i] for a in arrays]


def _parallel_bad(c: dict, catalog: Catalog, field: str, rows) -> list[tuple]:
    """The rows (of ``rows``) whose ``c[field]`` GPUs cannot split the model, as
    ``(bad, message)`` pairs: expert-parallel rows need a mixture of experts with at least
    one expert per GPU (``n_experts + redundant_experts >= GPUs``); the others a
    tensor-parallel size (:func:`tensor_parallel_ok`). ``message(bad)`` names the first.
    """
    A = catalog.arrays
    heads, kv_heads = A["model.n_heads"][c["model"]], A["model.n_kv_heads"][c["model"]]
    ep = np.asarray(c["expert_parallel"], bool)
    experts = A["model.n_experts"][c["model"]]
    gpus = c[field]

    def expert_message(bad) -> str:
        n, code, r = _first_bad(bad, gpus, c["model"], c["redundant_experts"])
        model = catalog.models.index[int(code)]
        e = int(catalog.models.loc[model, "n_experts"])
        return (
            f"expert_parallel needs a mixture-of-experts model with at least one expert "
            f"per GPU: {model} has {e} experts + redundant_experts={int(r)} for "
            f"{field}={int(n)}"
        )

    def tensor_message(bad) -> str:
        n, code = _first_bad(bad, gpus, c["model"])
        model = catalog.models.index[int(code)]
        allowed = ", ".join(map(str, tensor_parallel_sizes(model, catalog)))
        return (
            f"{field}={int(n)} cannot split {model} by tensor parallelism: it must divide the "
            f"{int(catalog.models.loc[model, 'n_heads'])} attention heads and suit the "
            f"{int(catalog.models.loc[model, 'n_kv_heads'])} KV heads; allowed: {allowed}"
        )

    return [
        (rows & ep & ((experts <= 1) | (experts + c["redundant_experts"] < gpus)), expert_message),
        (rows & ~ep & ~tensor_parallel_ok(gpus, heads, kv_heads), tensor_message),
    ]


#: The fields :func:`check_consistency`'s rules read (a mix of two valid scenarios that
#: differ only in other fields is always valid; tests/test_shapley.py checks it).
CONSISTENCY_FIELDS = frozenset(
    {
        "model",
        "n_gpus",
        "prefill_gpus",
        "disaggregated",
        "expert_parallel",
        "redundant_experts",
        "mtp",
        "speculative",
        "acceptance_at_t0",
        "acceptance_at_t1",
        "prompt_tokens",
        "output_tokens",
    }
)


def _consistency_rules(c: dict, catalog: Catalog) -> list[tuple]:
    """``(bad, message)`` per rule of :func:`check_consistency`: ``bad`` the rows that
    break it (array or scalar), ``message(bad)`` the error naming the first of them."""
    rules = _parallel_bad(c, catalog, "n_gpus", True)
    rules += _parallel_bad(c, catalog, "prefill_gpus", np.asarray(c["disaggregated"], bool))
    layers = catalog.arrays["model.mtp_layers"][c["model"]]

    def mtp_message(bad) -> str:
        (code,) = _first_bad(bad, c["model"])
        return (
            "mtp needs speculative=True and a model with multi-token-prediction layers "
            f"(mtp_layers > 0); {catalog.models.index[int(code)]} has "
            f"{int(catalog.models.iloc[int(code)]['mtp_layers'])}"
        )

    def acceptance_message(bad) -> str:
        t0, t1 = _first_bad(bad, c["acceptance_at_t0"], c["acceptance_at_t1"])
        return (
            f"acceptance_at_t1 ({float(t1)}) must be at most acceptance_at_t0 ({float(t0)}): "
            "draft tokens are accepted less often at a higher temperature"
        )

    window = catalog.arrays["model.context_window"][c["model"]]

    def window_message(bad) -> str:
        p, o, code, w = _first_bad(bad, c["prompt_tokens"], c["output_tokens"], c["model"], window)
        return (
            f"prompt_tokens + output_tokens ({int(p):,} + {int(o):,}) must be at most the "
            f"context window of {catalog.models.index[int(code)]}, {int(w):,} tokens"
        )

    mtp = np.asarray(c["mtp"], bool)
    return [
        *rules,
        (mtp & (~np.asarray(c["speculative"], bool) | ~(layers > 0)), mtp_message),
        (np.asarray(c["acceptance_at_t1"]) > np.asarray(c["acceptance_at_t0"]), acceptance_message),
        (np.asarray(c["prompt_tokens"]) + np.asarray(c["output_tokens"]) > window, window_message),
    ]


def consistent(c: dict, catalog: Catalog) -> np.ndarray:
    """Which rows keep every rule of :func:`check_consistency` (bool array, one per row;
    shape () when every column is a scalar)."""
    bad = np.zeros((), bool)
    for rule_bad, _ in _consistency_rules(c, catalog):
        bad = bad | np.asarray(rule_bad, bool)
    return ~bad


def valid_rows(base: Scenario, catalog: Catalog, **columns) -> np.ndarray:
    """Which rows of the zipped ``columns`` (as ``scan`` takes them, the rest from
    ``base``) keep every rule of :func:`check_consistency` [bool, one per row]: a sweep
    can then evaluate only those. Ids and values must be valid (``ValueError`` names them).
    """
    check_ids(base, catalog)
    c, n = grid(base, catalog, _checked_axes(columns, catalog), product=False)
    return np.broadcast_to(consistent(c, catalog), (n,))


def check_consistency(c: dict, catalog: Catalog) -> None:
    """Reject rows whose fields contradict each other or the model (``ValueError``).

    - ``n_gpus`` must suit the model's heads (:func:`tensor_parallel_ok`), unless
      ``expert_parallel``: then the model must have experts, at least one per GPU
      (``n_experts + redundant_experts >= n_gpus``); the same for ``prefill_gpus`` on
      ``disaggregated`` rows (the prefill pool uses the replica's parallelism);
    - ``mtp`` needs ``speculative`` and a model with ``mtp_layers`` > 0;
    - ``acceptance_at_t1 <= acceptance_at_t0`` (acceptance falls as temperature rises);
    - ``prompt_tokens + output_tokens`` within the model's context window
      (``context_window``, from ``max_position_embeddings``).

    In a sweep where only some rows break a rule, the error names the field and the
    first bad row's values; nothing is evaluated. :func:`consistent` says which rows pass.
    """
    for bad, message in _consistency_rules(c, catalog):
        if np.any(bad):
            raise ValueError(message(bad))


def _axis_values(name: str, values, catalog: Catalog):
    """``values`` checked, as a list (a one-dimensional array as it is)."""
    if not (isinstance(values, np.ndarray) and values.ndim == 1):
        values = (
            list(values) if isinstance(values, list | tuple | np.ndarray | pd.Index) else [values]
        )
    if len(values) == 0:
        raise ValueError(f"{name}: a sweep axis needs at least one value")
    if name in CATEGORICAL_FIELDS:
        for value in dict.fromkeys(values):  # each distinct id once
            check_id(name, value, catalog)
    else:
        check_values(name, values)
    return values


def _encode(name: str, values, catalog: Catalog) -> np.ndarray:
    if name in CATEGORICAL_FIELDS:
        codes = catalog.prepared(_choice_tables)[name][1]
        return np.fromiter((codes.get(v, -1) for v in values), np.intp, len(values))
    if name in FAMILY_DEFAULT_FIELDS:
        return np.array(values, dtype=float)  # None becomes NaN
    return np.asarray(values)


def _checked_axes(axes: dict, catalog: Catalog) -> dict:
    for name in axes:
        if name not in FIELD_NAMES:
            raise ValueError(f"unknown sweep axis {name!r}; fields are {', '.join(FIELD_NAMES)}")
    return {name: _axis_values(name, v, catalog) for name, v in axes.items()}


def _rows(axes: dict, product: bool) -> int:
    sizes = [len(v) for v in axes.values()]
    if not product and len(set(sizes)) > 1:
        raise ValueError(
            f"zipped axes must have equal lengths; got {dict(zip(axes, sizes, strict=True))}"
        )
    n = math.prod(sizes) if product else (sizes[0] if sizes else 1)
    if n > MAX_SWEEP_ROWS:
        raise ValueError(
            f"a sweep of {n:,} rows is above MAX_SWEEP_ROWS ({MAX_SWEEP_ROWS:,}); it would "
            f"need about {n * BYTES_PER_ROW / 1e9:,.1f} GB of memory. Sweep fewer values."
        )
    return n


def grid(base: Scenario, catalog: Catalog, axes: dict, product: bool = True) -> tuple[dict, int]:
    """Field -> its values (varied fields) or scalar (fixed fields); and n.

    Categorical values become integer codes into the catalog; None becomes NaN. With
    ``product`` the rows are the Cartesian product of the axes, first axis varying
    slowest: axis i is an array of shape ``(1, ..., len_i, ..., 1)`` (one dimension per
    axis), so every stage computes a quantity once per combination of the axes it
    depends on and numpy broadcasts the rest (:func:`flat` gives the n rows, in C order).
    Without ``product`` the axes are zipped (all must have the same length) and each is
    an array of length n. ``axes`` must already be checked (as ``sweep`` does).
    """
    n = _rows(axes, product)
    columns = {name: _encode(name, [getattr(base, name)], catalog)[0] for name in FIELD_NAMES}
    encoded = {name: _encode(name, v, catalog) for name, v in axes.items()}
    if not product:
        columns.update(encoded)
        return columns, n
    for i, (name, values) in enumerate(encoded.items()):
        shape = [1] * len(encoded)
        shape[i] = len(values)
        columns[name] = values.reshape(shape)
    return columns, n


def flat(value, shape: tuple):
    """A stage's value on a product grid of ``shape`` as its rows: a scalar as it is, an
    array broadcast to ``shape`` and laid out in C order (first axis slowest)."""
    if np.ndim(value) == 0:
        return value
    return np.broadcast_to(value, shape).reshape(-1)


# --- 2. lookups -------------------------------------------------------------------------


def lookup(c: dict, catalog: Catalog) -> dict:
    """Each row's inputs for the physics: ``arch``, ``hw``, ``fmt``, ``eff`` and ``c``.

    Efficiencies left at None (NaN) take the GPU family's value; formats left at None
    the model's checkpoint formats (:func:`resolved_formats`). The cache bytes count the
    copies tensor parallelism makes (``costmodel.attention``, over ``cache_gpus``): with
    more GPUs than KV heads each head is stored once per GPU that uses it
    (:func:`tensor_parallel_ok`), and an MLA latent cache is stored whole on every GPU.
    Data-parallel attention (``expert_parallel``) keeps each sequence's cache once, on its
    own GPU (``cache_gpus`` 1).
    """
    A = catalog.arrays
    m, g, kvf = c["model"], c["gpu"], c["kv_format"]
    f, fa = resolved_formats(c, catalog)
    n = c["n_gpus"]
    arch = {k: A[f"model.{k}"][m] for k in MODEL_NUMERIC_FIELDS}
    arch["routing_skew"] = c["routing_skew"]
    ep = np.asarray(c["expert_parallel"], bool)
    cache_gpus = np.where(ep, 1, n)
    kv_bytes = A["format.weight_bits"][kvf] / 8.0
    kinds = attention.cache_kinds(arch, kv_bytes)
    arch["kv_bytes_per_token"] = attention.kv_bytes_per_token(arch, kv_bytes, cache_gpus, kinds)
    stack, as_of = c["serving_stack"], stack_date_code(c, catalog)
    eff = {
        name: np.where(
            np.isnan(c[name]),
            A[f"stack.{name}"][g, stack, as_of]
            if name in STACK_PARAMETERS
            else A[f"gpu.{name}"][g],
            c[name],
        )
        for name in FAMILY_DEFAULT_FIELDS
    }
    hw = {
        "n_gpus": n,
        "hbm_gb": A["gpu.hbm_gb"][g],
        "bandwidth_tb_s": A["gpu.bandwidth_tb_s"][g],
        "peak_tflops": A["peak_tflops"][g, f],
        "attention_peak_tflops": A["peak_tflops"][g, fa],
        "bf16_tflops": A["gpu.bf16_dense_tflops"][g],
        "bus_gb_s": bus_bandwidth_gb_s(
            A["gpu.scale_up_gb_s"][g], eff["link_efficiency"], n, A["gpu.mesh_links"][g]
        ),
    }
    has_fp8 = ~np.isnan(A["gpu.fp8_dense_tflops"][g])
    ep_inputs = {
        "expert_parallel": ep,
        "redundant_experts": c["redundant_experts"],
        # DeepEP's FP8 dispatch (with its block scales) where the GPU has FP8, else BF16.
        "dispatch_bytes_per_value": np.where(
            has_fp8, comm.FP8_BLOCK_SCALED_BYTES_PER_VALUE, BYTES_16BIT
        ),
        "network": {
            "n_gpus": n,
            "scale_up_domain_gpus": A["gpu.scale_up_domain_gpus"][g],
            "experts_per_token": arch["experts_per_token"],
            "hidden_size": arch["hidden_size"],
            "scale_up_gb_s": A["gpu.scale_up_gb_s"][g],
            "mesh_links": A["gpu.mesh_links"][g],
            "link_efficiency": eff["link_efficiency"],
            "scale_out_gb_s": A["gpu.scale_out_gb_s"][g],
            "network_efficiency": c["network_efficiency"],
            "alltoall_latency_us": c["alltoall_latency_us"],
        },
    }
    fmt = {
        "bytes_per_weight": A["format.bytes_per_weight"][f],
        "bandwidth_factor": A["format.bandwidth_efficiency_factor"][f],
        "compute_factor": A["compute_factor"][g, f],
        "attention_bytes_per_weight": A["format.bytes_per_weight"][fa],
        "attention_bandwidth_factor": A["format.bandwidth_efficiency_factor"][fa],
        "attention_compute_factor": A["compute_factor"][g, fa],
    }
    cache = {"kv_bytes": kv_bytes, "cache_gpus": cache_gpus, "kinds": kinds}
    return {
        "formats": {"weight_format": f, "attention_format": fa},
        "cache": cache,
        "arch": arch,
        "hw": hw,
        "fmt": fmt,
        "eff": eff,
        "ep": ep_inputs,
        "c": c,
        "catalog": catalog,
    }


def stack_date_code(c: dict, catalog: Catalog):
    """Code of each row's ``serving_stack_as_of``, None (code -1) resolved to the newest."""
    code = np.asarray(c["serving_stack_as_of"])
    return np.where(code >= 0, code, len(catalog.stack_dates) - 1)


def resolved_formats(c: dict, catalog: Catalog) -> tuple:
    """Format codes of the routed experts and of the rest, defaults resolved.

    ``weight_format`` None (code -1): the model's ``checkpoint_weight_format``.
    ``attention_format`` None: ``weight_format`` when that was given, else the model's
    ``checkpoint_attention_format``.
    """
    A, m = catalog.arrays, c["model"]
    given = np.asarray(c["weight_format"]) >= 0
    f = np.where(given, c["weight_format"], A["model.checkpoint_weight_format"][m])
    rest = np.where(given, f, A["model.checkpoint_attention_format"][m])
    fa = np.where(np.asarray(c["attention_format"]) >= 0, c["attention_format"], rest)
    return f, fa


def _busiest_gpu_factor(x: dict, tokens):
    """``imbalance.busiest_gpu_factor`` on the expert-parallel rows, 1 on the others."""
    ep, arch, c = x["ep"], x["arch"], x["c"]
    rows = np.broadcast_arrays(
        ep["expert_parallel"],
        np.asarray(tokens, float),
        arch["n_experts"],
        arch["experts_per_token"],
        c["n_gpus"],
        c["redundant_experts"],
        c["routing_skew"],
    )
    on, B, E, k, n, R, skew = (np.atleast_1d(a) for a in rows)
    factor = np.ones(on.shape)
    if on.any():
        factor[on] = busiest_gpu_factor(
            tokens=B[on],
            n_experts=E[on].astype(int),
            experts_per_token=k[on],
            n_gpus=n[on].astype(int),
            redundant_experts=R[on].astype(int),
            routing_skew=skew[on],
        )
    return factor.reshape(rows[0].shape)


def _alltoall(x: dict, tokens, factor) -> dict:
    """``comm.alltoall_ms`` of a pass over ``tokens`` on the model's MoE layers, as ``ms``."""
    ep, arch = x["ep"], x["arch"]
    return {
        "ms": comm.alltoall_ms(
            tokens=tokens,
            n_moe_layers=np.where(arch["n_experts"] > 1, arch["expert_ffn_layers"], 0),
            dispatch_bytes_per_value=ep["dispatch_bytes_per_value"],
            busiest_gpu_factor=factor,
            **ep["network"],
        )
    }


def _forward(x: dict, sequences, **work) -> dict:
    """One forward pass (``step.forward_ms``) plus, on expert-parallel rows, the all-to-all.

    The all-to-all covers the model's MoE layers (``expert_ffn_layers``: DeepSeek-V3's
    58 of 61), at the busiest GPU's share of the bytes. ``sequences``: the requests in
    the pass (a decode batch, a prefill's prompts); on expert-parallel rows their
    attention waits for the busiest data-parallel rank (``busiest_rank_factor``).
    """
    ep = x["ep"]
    factor = _busiest_gpu_factor(x, work["tokens"])
    ranks = np.where(ep["expert_parallel"], x["hw"]["n_gpus"], 1)
    out = forward_ms(
        **work,
        rank_load_factor=busiest_rank_factor(sequences, ranks),
        arch=x["arch"],
        hw=x["hw"],
        fmt=x["fmt"],
        eff=x["eff"],
        expert_parallel=ep["expert_parallel"],
        busiest_gpu_factor=factor,
    )
    a2a_ms = np.zeros(np.shape(out["total_ms"]))  # no all-to-all without expert parallelism
    if np.any(ep["expert_parallel"]):
        a2a_ms = on_rows(
            ep["expert_parallel"], _alltoall, (x, work["tokens"], factor), {"ms": 0.0}
        )["ms"]
    out["total_ms"] = out["total_ms"] + a2a_ms
    out["alltoall_ms"] = a2a_ms
    out["busiest_gpu_factor"] = factor
    return out


def _take(tree, rows):
    """``tree`` (arrays, scalars, dicts and tuples of them, as :func:`lookup` gives) at the
    rows ``rows`` of a one-dimensional evaluation: each 1-D array indexed, the rest kept."""
    if isinstance(tree, dict):
        return {k: _take(v, rows) for k, v in tree.items()}
    if isinstance(tree, tuple):
        return tuple(_take(v, rows) for v in tree)
    return tree[rows] if isinstance(tree, np.ndarray) and tree.ndim == 1 else tree


def on_rows(rows, f, args: tuple, otherwise: dict) -> dict:
    """``np.where(rows, f(*args)[k], otherwise[k])`` for each key k of ``otherwise``.

    A stage only some rows need (the all-to-all of expert-parallel rows, the
    verification of speculative ones, the pools of disaggregated ones): on a zipped scan
    (``rows`` one-dimensional, some False) ``f`` runs on those rows alone (:func:`_take`)
    and its values are put in place; elsewhere (every row, or a product grid's
    broadcastable axes) on all rows. Each row's value is the same either way.
    """
    rows = np.asarray(rows, bool)
    if rows.ndim != 1 or rows.all():
        value = f(*args)
        return {k: np.where(rows, value[k], v) for k, v in otherwise.items()}
    value = f(*_take(args, rows))
    out = {}
    for k, v in otherwise.items():
        full = np.broadcast_to(v, rows.shape).astype(np.result_type(value[k], v))
        full[rows] = value[k]
        out[k] = full
    return out


# --- 3. memory fit ----------------------------------------------------------------------


def replica_weights_gb(x: dict):
    """Stored weights of one replica over its ``hw["n_gpus"]`` GPUs [GB].

    Tensor parallelism stores them once; expert parallelism stores the non-expert
    weights on every GPU and the ``redundant_experts`` as extra copies of R of the E
    experts.
    """
    arch, ep, n = x["arch"], x["ep"], x["hw"]["n_gpus"]
    bytes_per_weight = x["fmt"]["bytes_per_weight"]
    rest_bytes_per_weight = x["fmt"]["attention_bytes_per_weight"]
    weights_gb = weight_bytes_by_format(arch, bytes_per_weight, rest_bytes_per_weight) / 1e9
    non_expert_gb = weight_bytes_by_format(arch, 0.0, rest_bytes_per_weight) / 1e9
    copies_gb = (
        arch["expert_params"]
        * ep["redundant_experts"]
        / np.maximum(arch["n_experts"], 1)
        * bytes_per_weight
        / 1e9
    )
    return np.where(
        ep["expert_parallel"], weights_gb + (n - 1) * non_expert_gb + copies_gb, weights_gb
    )


def memory_fit(x: dict) -> dict:
    """Weights + batch KV cache at full context + overhead against usable memory [GB]."""
    arch, hw, c = x["arch"], x["hw"], x["c"]
    B, n = c["batch_size"], c["n_gpus"]
    weights_gb = replica_weights_gb(x)
    tokens, cache = c["prompt_tokens"] + c["output_tokens"], x["cache"]
    kv_bytes, cache_gpus, kinds = cache["kv_bytes"], cache["cache_gpus"], cache["kinds"]
    kv_gb_per_sequence = (
        attention.sequence_cache_bytes(arch, tokens, kv_bytes, cache_gpus, kinds) / 1e9
    )
    overhead_gb = c["memory_overhead_gb_per_gpu"] * n
    required = weights_gb + B * kv_gb_per_sequence + overhead_gb
    available = memory_available_gb(n, hw["hbm_gb"], c["usable_memory_fraction"])
    return {
        "fits": required <= available,
        "memory_required_gb": required,
        "memory_available_gb": available,
        "memory_headroom_gb": available - required,
        "weights_gb": weights_gb,
        "kv_cache_gb": B * kv_gb_per_sequence,
        "max_batch_size": max_batch_size(available, weights_gb, overhead_gb, kv_gb_per_sequence),
        "min_gpus": _min_gpus(
            x,
            weights_gb,
            lambda gpus: (
                B
                * attention.sequence_cache_bytes(
                    arch, tokens, kv_bytes, np.where(x["ep"]["expert_parallel"], 1, gpus), kinds
                )
                / 1e9
            ),
        ),
    }


def _min_gpus(x: dict, weights_gb, kv_gb):
    """``memory.min_gpus_to_fit`` over the allowed tensor-parallel sizes of each row's model.

    ``kv_gb(n)``: the batch's cache on n GPUs, with its tensor-parallel copies.
    """
    c, catalog = x["c"], x["catalog"]
    models = np.asarray(c["model"])
    fewest = np.nan
    kv_at = functools.cache(kv_gb)  # each size's cache once, for every model that allows it
    for code in np.unique(models):
        sizes = tensor_parallel_sizes(catalog.models.index[int(code)], catalog)
        rows = min_gpus_to_fit(
            weights_gb,
            kv_at,
            x["hw"]["hbm_gb"],
            c["usable_memory_fraction"],
            c["memory_overhead_gb_per_gpu"],
            candidates=sizes,
        )
        fewest = np.where(models == code, rows, fewest)
    return fewest


# --- 4. decode step (plain, or speculative verification) --------------------------------


def decode_step(x: dict) -> dict:
    """One decode step of B sequences at the average context [ms], and what it reads.

    Plain: a forward pass over B tokens reading each sequence's cache at
    ``average_context_tokens`` (``attention.decode_cache_read_bytes``: MLA latents,
    sliding windows, sparse top-k, linear states) with ``attention.decode_attention_flops``
    per token (``4 L H d_head * context`` for GQA). Speculative
    rows verify ``B (g + 1)`` tokens in one pass and draft g tokens at ``c`` times a
    plain step each, and wait for the scheduler's CPU time (``overheads.scheduler_ms``:
    engines run speculative decoding without their overlap scheduler, SGLang's overlap
    for it being the experimental Spec V2); a step then yields ``tokens_per_step``
    tokens per sequence.
    Returns the output columns of this stage plus ``plain_ms`` and
    ``decode_ms_per_token`` (step time over tokens per step).
    """
    arch, c = x["arch"], x["c"]
    B = c["batch_size"]
    context = average_context_tokens(c["prompt_tokens"], c["output_tokens"])
    score_flops_per_token = attention.decode_attention_flops(arch, context)
    cache = x["cache"]
    per_sequence = attention.decode_cache_read_bytes(
        arch, context, cache["kv_bytes"], cache["cache_gpus"], cache["kinds"]
    )
    plain = _forward(
        x,
        B,
        tokens=B,
        logit_tokens=B,
        kv_bytes_read=B * per_sequence,
        attention_flops=score_flops_per_token * B,
    )
    speculative = np.asarray(c["speculative"], bool)
    acceptance = acceptance_rate(c["temperature"], c["acceptance_at_t0"], c["acceptance_at_t1"])
    tokens_per_step = np.where(
        speculative,
        expected_tokens_per_step(acceptance, c["draft_tokens"], c["acceptance_decay"]),
        1.0,
    )
    step = {**plain, "step_ms": plain["total_ms"]}
    if speculative.any():
        args = (x, plain, per_sequence, score_flops_per_token)
        kept = {k: step[k] for k in SPECULATIVE_STEP_OUTPUTS}
        step = on_rows(speculative, _speculative_step, args, kept)
    step_ms = step["step_ms"]
    return {
        "experts_read_per_layer": step["experts_read_per_layer"],
        "shared_experts_per_layer": arch["n_shared_experts"],
        "bytes_read_per_step_gb": (step["weight_bytes_read"] + step["kv_bytes_read"]) / 1e9,
        "weight_bytes_read_per_step_gb": step["weight_bytes_read"] / 1e9,
        "kv_bytes_read_per_step_gb": step["kv_bytes_read"] / 1e9,
        "acceptance_rate": acceptance,
        "tokens_per_step": tokens_per_step,
        "decode_step_ms": step_ms,
        "memory_time_ms": plain["memory_ms"],
        "compute_time_ms": plain["compute_ms"],
        "allreduce_time_ms": plain["allreduce_ms"],
        "alltoall_time_ms": plain["alltoall_ms"],
        "busiest_gpu_factor": plain["busiest_gpu_factor"],
        "overhead_time_ms": plain["overhead_ms"],
        "plain_ms": plain["total_ms"],
        "decode_ms_per_token": step_ms / tokens_per_step,
    }


#: What a speculative row takes from its verification step (:func:`_speculative_step`).
SPECULATIVE_STEP_OUTPUTS = (
    "step_ms",
    "experts_read_per_layer",
    "weight_bytes_read",
    "kv_bytes_read",
)


def _speculative_step(x: dict, plain: dict, per_sequence, score_flops_per_token) -> dict:
    """A speculative decode step (:func:`decode_step`): verification of ``B (g + 1)``
    tokens, g drafts at ``draft_cost_ratio`` times the ``plain`` step, the scheduler;
    ``step_ms`` and what the verification reads."""
    c = x["c"]
    B = c["batch_size"]
    verified = B * (c["draft_tokens"] + 1.0)
    verify = _forward(
        x,
        B,
        tokens=verified,
        logit_tokens=verified,
        kv_bytes_read=B * per_sequence,
        attention_flops=score_flops_per_token * verified,
        query_tokens=c["draft_tokens"] + 1.0,
    )
    draft_ms = c["draft_tokens"] * draft_cost_ratio(x) * plain["total_ms"]
    ranks = np.where(x["ep"]["expert_parallel"], c["n_gpus"], 1)
    return {
        "step_ms": verify["total_ms"] + draft_ms + scheduler_ms(B, ranks),
        **{k: verify[k] for k in SPECULATIVE_STEP_OUTPUTS[1:]},
    }


def draft_cost_ratio(x: dict):
    """Cost of one draft step over one plain step: ``mtp_layers / n_layers`` for an MTP
    draft (the model's own multi-token-prediction layer runs one layer's share of the
    step: DeepSeek-R1 1 / 61), else the scenario's ``draft_cost_ratio``."""
    arch, c = x["arch"], x["c"]
    mtp_ratio = arch["mtp_layers"] / arch["n_layers"]
    return np.where(np.asarray(c["mtp"], bool), mtp_ratio, c["draft_cost_ratio"])


# --- 5. prefill -------------------------------------------------------------------------


def prompt_work(x: dict) -> tuple:
    """One prompt's prefill work: prefilled tokens, attention FLOPs, cached bytes read.

    See :func:`prefill`; ``x`` may be the prefill pool's lookups (:func:`prefill_pool`).
    """
    arch, c, cache = x["arch"], x["c"], x["cache"]
    P = c["prompt_tokens"]
    prefilled = prefilled_tokens(P, c["prefix_cache_hit_rate"])
    cached = P - prefilled
    flops = attention.prefill_attention_flops(arch, P)
    flops = flops - attention.prefill_attention_flops(arch, cached)
    read = attention.decode_cache_read_bytes(
        arch, cached, cache["kv_bytes"], cache["cache_gpus"], cache["kinds"]
    )
    return prefilled, flops, np.where(cached > 0, read, 0.0)


def prefill(x: dict) -> dict:
    """Prefill of the batch's B prompts of P tokens, and of one prompt alone [ms].

    With a prefix-cache hit rate h only ``u = prefilled_tokens(P, h)`` tokens of each
    prompt run; they attend to the cached ``P - u`` too, so the attention FLOPs are the
    prefill of P minus that of the cached prefix (``attention.prefill_attention_flops``:
    ``2 L H d_head (P^2 - (P - u)^2)`` for GQA), and the prefix's cache is read once
    (``attention.decode_cache_read_bytes`` at the prefix's length; nothing without hits).
    Logits only for each prompt's last token. Loading a cache held off the GPU
    (DeepSeek's on-disk cache) is not modelled. Returns ``prefill_ms``,
    ``prompt_prefill_ms`` and ``prefilled_tokens``.
    """
    B = x["c"]["batch_size"]
    prefilled, flops, read = prompt_work(x)
    batch = _forward(
        x,
        B,
        tokens=B * prefilled,
        logit_tokens=B,
        kv_bytes_read=B * read,
        attention_flops=flops * B,
        query_tokens=prefilled,
    )
    one = _forward(
        x,
        1.0,
        tokens=prefilled,
        logit_tokens=1.0,
        kv_bytes_read=read,
        attention_flops=flops,
        query_tokens=prefilled,
    )
    return {
        "prefill_ms": batch["total_ms"],
        "prompt_prefill_ms": one["total_ms"],
        "prefilled_tokens": prefilled,
    }


# --- 6. the prefill pool of a disaggregated replica ---------------------------------------


def prefill_pool(x: dict) -> dict:
    """Prefill on a pool of its own: ``prefill_gpus`` GPUs, the replica's parallelism [ms].

    One pass of the pool processes ``prefill_chunk_tokens`` prompt tokens per GPU,
    ``pass_tokens = prefill_chunk_tokens * prefill_gpus`` (``pass_tokens / u`` prompts of
    u prefilled tokens each, :func:`prompt_work`; a fraction of one when u is longer:
    chunked prefill). The pool fits if its
    weights (``replica_weights_gb`` on ``prefill_gpus``), runtime overhead and the
    pass's cache fit its usable memory. Returns ``pass_ms``, ``pass_tokens``,
    ``prefill_tokens_per_s_per_gpu`` (``pass_tokens / pass_ms / prefill_gpus``),
    ``fits`` and the pool's lookups ``x``. Rows that are not disaggregated (a sweep mixing
    both; their pool is discarded) size it with the replica's ``n_gpus``, which the rules
    allow, as their ``prefill_gpus`` may not split the model.
    """
    c = x["c"]
    Np = np.where(c["disaggregated"], c["prefill_gpus"], c["n_gpus"])
    xp = lookup({**c, "n_gpus": Np}, x["catalog"])
    pass_tokens = c["prefill_chunk_tokens"] * np.asarray(Np, float)
    prefilled, flops, read = prompt_work(xp)
    prompts = pass_tokens / prefilled
    pool = _forward(
        xp,
        prompts,
        tokens=pass_tokens,
        logit_tokens=prompts,
        kv_bytes_read=read * prompts,
        attention_flops=flops * prompts,
        query_tokens=prefilled,
    )
    cache_gb = pass_tokens * xp["arch"]["kv_bytes_per_token"] / 1e9
    required = replica_weights_gb(xp) + cache_gb + c["memory_overhead_gb_per_gpu"] * Np
    available = memory_available_gb(Np, xp["hw"]["hbm_gb"], c["usable_memory_fraction"])
    return {
        "pass_ms": pool["total_ms"],
        "pass_tokens": pass_tokens,
        "prefill_tokens_per_s_per_gpu": pass_tokens * 1e3 / pool["total_ms"] / Np,
        "fits": required <= available,
        "x": xp,
    }


def _disaggregated(x: dict, decode: dict, pool: dict, prefilled) -> dict:
    """Latency, throughput and GPU-hours of the two pools (``disaggregation``).

    TPOT is the decode pool's own ``decode_ms_per_token``; the pools serve
    ``min(prefill capacity, decode capacity)`` requests/s
    (``disaggregation.disaggregated_cost`` at $1 per GPU-hour gives GPU-hours: the
    decode pool's per output token, the prefill pool's per input token, both per
    request); TTFT is ``disaggregation.ttft_ms`` at the pool's busy share (infinite when
    the prefill pool is the bottleneck: its queue grows without bound), the prompt
    riding in one pass, its cache sent from one GPU under data-parallel attention, else
    from each of the ``prefill_gpus``. The pool's work per request is its ``prefilled``
    (uncached) tokens; the transfer carries the whole prompt's cache.
    """
    c, xp = x["c"], pool["x"]
    B, O, P, n, Np = (
        c["batch_size"],
        c["output_tokens"],
        c["prompt_tokens"],
        c["n_gpus"],
        c["prefill_gpus"],
    )
    decode_tps = B * 1e3 / decode["decode_ms_per_token"] / n
    split = disaggregated_cost(
        prefill_gpus=Np,
        decode_gpus=n,
        prompt_tokens=prefilled,
        output_tokens=O,
        prefill_tokens_per_s_per_gpu=pool["prefill_tokens_per_s_per_gpu"],
        decode_tokens_per_s_per_gpu=decode_tps,
        usd_per_gpu_hour=1.0,
    )
    rho = split["prefill_busy_share"]
    saturated = rho >= 1.0
    parts = disaggregation.ttft_ms(
        prompt_tokens=prefilled,
        prefill_tokens_per_s_per_gpu=pool["prefill_tokens_per_s_per_gpu"],
        prefill_gpus=Np,
        prefill_busy_share=np.where(saturated, 0.0, rho),
        kv_bytes_per_token=attention.kv_bytes_per_token(
            xp["arch"], xp["cache"]["kv_bytes"], kinds=xp["cache"]["kinds"]
        )
        * P
        / prefilled,
        scale_out_gb_s=xp["ep"]["network"]["scale_out_gb_s"],
        network_efficiency=c["network_efficiency"],
        kv_transfer_gpus=np.where(xp["ep"]["expert_parallel"], 1, Np),
        pass_tokens=pool["pass_tokens"],
    )
    tpot = decode["decode_ms_per_token"]
    return {
        "tpot_ms": tpot,
        "speculative_speedup": decode["plain_ms"] / tpot,
        "ttft_ms": np.where(saturated, np.inf, parts["ttft_ms"]),
        "kv_transfer_ms": parts["kv_transfer_ms"],
        "tokens_per_s_per_user": 1e3 / tpot,
        "output_tokens_per_s": split["requests_per_s"] * O,
        "output_tokens_per_s_per_gpu": split["output_tokens_per_s_per_gpu"],
        "gpu_hours_per_million_output_tokens": split["decode_usd_per_request"] / O * 1e6,
        "gpu_hours_per_million_input_tokens": split["prefill_usd_per_request"] / P * 1e6,
        "gpu_hours_per_million_uncached_input_tokens": split["prefill_usd_per_request"]
        / prefilled
        * 1e6,
        "gpu_hours_per_request": split["usd_per_request"],
    }


#: What a disaggregated row takes from its two pools (:func:`_pools`) [ms, tokens/s, GPU-h].
DISAGGREGATED_OUTPUTS = (
    "tpot_ms",
    "speculative_speedup",
    "ttft_ms",
    "kv_transfer_ms",
    "tokens_per_s_per_user",
    "output_tokens_per_s",
    "output_tokens_per_s_per_gpu",
    "gpu_hours_per_million_output_tokens",
    "gpu_hours_per_million_input_tokens",
    "gpu_hours_per_million_uncached_input_tokens",
    "gpu_hours_per_request",
    "prefill_ms",
)


def _pools(x: dict, decode: dict, prefilled) -> dict:
    """A disaggregated row's numbers from its prefill pool (:func:`prefill_pool`) and
    decode pool (:func:`_disaggregated`): ``DISAGGREGATED_OUTPUTS``, the pool's
    ``prefill_tokens_per_s_per_gpu`` and whether it fits (``pool_fits``)."""
    pool = prefill_pool(x)
    return {
        **_disaggregated(x, decode, pool, prefilled),
        "prefill_ms": pool["pass_ms"],
        "prefill_tokens_per_s_per_gpu": pool["prefill_tokens_per_s_per_gpu"],
        "pool_fits": pool["fits"],
    }


# --- 7. latency -------------------------------------------------------------------------


def latency(x: dict, decode: dict, pre: dict) -> dict:
    """What a user and the replica see, with continuous batching [ms, tokens/s].

    One request cycle of O output tokens takes ``O * decode_ms_per_token + prefill_ms``
    (the batch's prompts are prefilled once per cycle), so ``tpot = cycle / O``;
    ``ttft`` = one prompt's prefill + one decode step (no queueing, no network). The
    speculative speed-up is what a user sees: tokens/s per user with speculation over
    without, ``(O * plain_ms + prefill_ms) / cycle_ms`` (1 without speculation).
    """
    c = x["c"]
    B, O = c["batch_size"], c["output_tokens"]
    cycle_ms = O * decode["decode_ms_per_token"] + pre["prefill_ms"]
    tpot_ms = cycle_ms / O
    return {
        "speculative_speedup": (O * decode["plain_ms"] + pre["prefill_ms"]) / cycle_ms,
        "tpot_ms": tpot_ms,
        "ttft_ms": pre["prompt_prefill_ms"] + decode["decode_step_ms"],
        "tokens_per_s_per_user": 1e3 / tpot_ms,
        "output_tokens_per_s": B * 1e3 / tpot_ms,
        "output_tokens_per_s_per_gpu": B * 1e3 / tpot_ms / c["n_gpus"],
        "cycle_ms": cycle_ms,
    }


def kv_transfer(x: dict):
    """One prompt's KV cache sent off the replica (``disaggregation.kv_transfer_ms``) [ms]:
    from each of its ``n_gpus`` under tensor parallelism, from one GPU under expert
    parallelism (data-parallel attention: one GPU holds a sequence)."""
    return disaggregation.kv_transfer_ms(
        prompt_tokens=x["c"]["prompt_tokens"],
        kv_bytes_per_token=attention.kv_bytes_per_token(
            x["arch"], x["cache"]["kv_bytes"], kinds=x["cache"]["kinds"]
        ),
        scale_out_gb_s=x["ep"]["network"]["scale_out_gb_s"],
        network_efficiency=x["c"]["network_efficiency"],
        kv_transfer_gpus=np.where(x["ep"]["expert_parallel"], 1, x["c"]["n_gpus"]),
    )


def throughputs(x: dict, decode: dict, prefill_tps, prefilled) -> dict:
    """Each phase's own throughput per GPU, and the prefill pool that balances the decode.

    - ``decode_tokens_per_s_per_gpu = B / decode_ms_per_token / n_gpus``: decoding
      alone, no prefill in between (aggregated too: the rate between prefills);
    - ``prefill_tps``: ``prefill_tokens_per_s_per_gpu``, ``B u / prefill_ms / n_gpus``
      aggregated (the batch's prompts on the replica), the prefill pool's pass on
      disaggregated rows (:func:`prefill_pool`);
    - ``balanced_prefill_gpus = n_gpus * disaggregation.balanced_pool_ratio``: prefill
      GPUs that keep pace with this decode replica at those throughputs, with u the
      ``prefilled`` (uncached) tokens of a prompt.
    """
    c = x["c"]
    B, n = c["batch_size"], c["n_gpus"]
    decode_tps = B * 1e3 / decode["decode_ms_per_token"] / n
    return {
        "decode_tokens_per_s_per_gpu": decode_tps,
        "prefill_tokens_per_s_per_gpu": prefill_tps,
        "balanced_prefill_gpus": n
        * balanced_pool_ratio(
            prompt_tokens=prefilled,
            output_tokens=c["output_tokens"],
            prefill_tokens_per_s_per_gpu=prefill_tps,
            decode_tokens_per_s_per_gpu=decode_tps,
        ),
    }


def physics(c: dict, catalog: Catalog) -> dict:
    """Stages 2-7 and the GPU-hours of each row: everything but the dollars.

    Disaggregated rows (``disaggregated``) take their prefill, TTFT, TPOT, throughput
    and GPU-hours from the two pools (:func:`prefill_pool`, :func:`_disaggregated`);
    the other rows' numbers are those of the aggregated replica, unchanged.
    """
    x = lookup(c, catalog)
    decode, pre = decode_step(x), prefill(x)
    out = {**memory_fit(x), **decode, **pre, **latency(x, decode, pre)}
    out["kv_transfer_ms"] = kv_transfer(x)
    out.update(
        economics.gpu_hours(
            c["n_gpus"],
            c["batch_size"],
            c["prompt_tokens"],
            out["prefilled_tokens"],
            out["decode_ms_per_token"],
            out["prefill_ms"],
            out["cycle_ms"],
        )
    )
    prefilled = out["prefilled_tokens"]
    prefill_tps = c["batch_size"] * prefilled * 1e3 / pre["prefill_ms"] / c["n_gpus"]
    split = np.asarray(c["disaggregated"], bool)
    if split.any():
        aggregated = {name: out[name] for name in DISAGGREGATED_OUTPUTS}
        aggregated |= {"pool_fits": True, "prefill_tokens_per_s_per_gpu": prefill_tps}
        pools = on_rows(split, _pools, (x, decode, prefilled), aggregated)
        prefill_tps = pools.pop("prefill_tokens_per_s_per_gpu")
        out["fits"] = out["fits"] & pools.pop("pool_fits")
        out.update(pools)
    out.update(throughputs(x, decode, prefill_tps, prefilled))
    out["draft_cost_ratio"] = draft_cost_ratio(x)
    out["bandwidth_tb_s"] = x["hw"]["bandwidth_tb_s"]
    out.update({name: x["eff"][name] for name in FAMILY_DEFAULT_FIELDS})
    out.update(x["formats"])
    out["serving_stack_as_of"] = stack_date_code(c, catalog)
    return out


# --- physics once per physical row ----------------------------------------------------


def _expander(full: dict, n: int, axes: dict, product: bool):
    """Physical field arrays, every field's n rows, and a function expanding physics
    arrays to all n rows.

    Product grid: the physics runs on the grid's broadcastable axes (:func:`grid`), each
    quantity once per combination of the axes it depends on (the economic axes are never
    read by it), and is laid out in rows at the end (:func:`flat`). Zipped grid: rows with
    equal physical fields are computed once (:func:`row_groups`) when an economic axis
    varies.
    """
    if product:
        expand = functools.partial(flat, shape=tuple(len(v) for v in axes.values()))
        return full, {k: expand(v) for k, v in full.items()}, expand
    physical = [k for k in axes if k not in ECONOMIC_FIELDS]
    if len(physical) == len(axes):
        return full, full, lambda v: v
    group = row_groups([full[k] for k in physical], n)
    first = np.unique(group, return_index=True)[1]
    c = {k: (v[first] if np.ndim(v) else v) for k, v in full.items()}

    def expand(v):
        return v if np.ndim(v) == 0 else np.asarray(v)[group]

    return c, full, expand


def row_groups(columns: list, n: int) -> np.ndarray:
    """Group code of each of n rows: rows equal in every one of ``columns`` share one,
    numbered in order of first appearance (NaN equals NaN) [int64, length n].

    Each column is coded by ``np.unique`` and the codes are combined column by column
    (each step renumbered, so they stay below n**2). ``[1, 2, 1], [5., 5., 5.]``:
    ``[0, 1, 0]``.
    """
    group = np.zeros(n, np.int64)
    for column in columns:
        codes = np.unique(column, return_inverse=True)[1].reshape(n)
        group = np.unique(group * n + codes, return_inverse=True)[1].reshape(n)
    first = np.unique(group, return_index=True)[1]
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[group]


def _n_values(value, n: int):
    """``value`` as n values: an array of n as it is; a scalar repeated, broadcast (no
    copy) beyond ``STACKED_FRAME_MAX_ROWS`` rows (below, ``_frame`` copies it anyway and
    ``np.full`` costs a tenth of ``np.broadcast_to``)."""
    if isinstance(value, np.ndarray) and value.shape == (n,):
        return value
    if n <= STACKED_FRAME_MAX_ROWS and np.ndim(value) == 0:
        return np.full(n, value)
    return value if np.shape(value) == (n,) else np.broadcast_to(value, (n,))


def _columns(columns: dict, results: dict, n: int, catalog: Catalog) -> dict:
    """Column name -> its n values: every field (ids as categoricals), every output."""
    data = {}
    for name in FIELD_NAMES:
        value = results.get(name, columns[name])
        if name in CATEGORICAL_FIELDS:
            codes = _n_values(np.asarray(value, np.int64), n)
            dtype = catalog.prepared(_choice_tables)[name][2]
            data[name] = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
        else:
            data[name] = _n_values(value, n)
    for name in OUTPUT_COLUMNS:
        data[name] = _n_values(results[name], n)
    return data


#: Column labels of a sweep's frame, built once (every field, then every output).
_FRAME_COLUMNS = pd.Index([*FIELD_NAMES, *OUTPUT_COLUMNS])


#: Frames of at most this many rows are built with one block per dtype, larger ones with
#: one block per column. pandas takes, filters and sorts a frame block by block: on a
#: scan's 79 columns a row take costs about 0.1 ms from 10 blocks against 0.5 ms from 79
#: (pandas 3.1, this machine), and the analyses make hundreds. Stacking copies each
#: column, which a large sweep's broadcast columns (no memory of their own) must not pay.
STACKED_FRAME_MAX_ROWS = 4096


def _frame(data: dict) -> pd.DataFrame:
    """The columns of :func:`_columns` as a frame, without ``pd.DataFrame(dict)``'s
    per-column checks (the arrays are already 1-D and of length n): numeric columns of a
    dtype stacked into one block up to ``STACKED_FRAME_MAX_ROWS`` rows, else each its own
    block (no copy); categoricals each their own block."""
    n = len(data[FIELD_NAMES[0]])
    stacked = n <= STACKED_FRAME_MAX_ROWS
    by_dtype, blocks = {}, []
    for i, v in enumerate(data.values()):
        if not isinstance(v, np.ndarray):
            blocks.append((v, np.array([i])))
        elif stacked:
            by_dtype.setdefault(v.dtype, []).append((i, v))
        else:
            blocks.append((v.reshape(1, n), np.array([i])))
    for columns in by_dtype.values():
        where, values = zip(*columns, strict=True)
        blocks.append((np.stack(values), np.array(where)))
    return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(n), columns=_FRAME_COLUMNS)


#: Physics results a sweep keeps: output columns, resolved efficiencies, the dollars' inputs.
_KEPT = {
    *OUTPUT_COLUMNS,
    *FAMILY_DEFAULT_FIELDS,
    *OPTIONAL_CHOICE_FIELDS,
    "draft_cost_ratio",
    *economics.PHYSICAL_INPUTS,
}


def check_scenario(scenario: Scenario, catalog: Catalog | None = None) -> None:
    """Raise ``ValueError`` naming the field(s) if ``scenario`` cannot be evaluated.

    The checks ``evaluate`` makes before any physics (ids in ``catalog``, tensor-parallel
    sizes, acceptance ordering, the model's context window), for a view that wants to
    say what is wrong before it draws anything.
    """
    catalog = catalog or load_catalog()
    check_ids(scenario, catalog)
    full, _ = grid(scenario, catalog, {}, True)
    check_consistency(full, catalog)


def _run(base: Scenario | None, catalog: Catalog | None, axes: dict, product: bool):
    """Check, build the grid, physics once per physical row, dollars on every row."""
    base = Scenario() if base is None else base
    if not isinstance(base, Scenario):
        raise ValueError(f"scenario must be a costmodel.Scenario; got {base!r}")
    if catalog is not None and not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a costmodel.Catalog or None; got {type(catalog)}")
    catalog = catalog or load_catalog()
    check_ids(base, catalog)
    axes = _checked_axes(axes, catalog)
    full, n = grid(base, catalog, axes, product)
    c, rows, expand = _expander(full, n, axes, product)
    check_consistency(c, catalog)
    out = {k: expand(v) for k, v in physics(c, catalog).items() if k in _KEPT}
    out.update(economics.dollars(out, rows["usd_per_gpu_hour"], rows["utilization"]))
    return _columns(rows, out, n, catalog)


def sweep(base: Scenario | None = None, catalog: Catalog | None = None, **axes) -> pd.DataFrame:
    """Evaluate the grid of ``base`` with each field in ``axes`` taking a list of values.

    ``sweep(Scenario(), batch_size=[1, 8, 64], gpu=["h100-sxm", "a100-80gb-sxm"])`` gives
    6 rows; columns are every ``Scenario`` field (efficiency defaults resolved to the
    GPU family's values) and every key of ``OUTPUT_COLUMNS``. ``catalog`` (default
    ``load_catalog()``) is the one ids are checked against. Invalid values raise
    ``ValueError`` naming the field; so does a grid above ``MAX_SWEEP_ROWS`` rows.
    """
    return _frame(_run(base, catalog, axes, product=True))


def scan(base: Scenario | None = None, catalog: Catalog | None = None, **columns) -> pd.DataFrame:
    """Like ``sweep`` but the lists are zipped, not crossed: row i takes the i-th value of each.

    ``scan(s, batch_size=[8, 64], usd_per_gpu_hour=[2.0, 1.5])`` gives 2 rows.
    """
    return _frame(_run(base, catalog, columns, product=False))


def memory_outputs(base: Scenario, catalog: Catalog, **columns) -> dict:
    """The memory stage alone (:func:`memory_fit`) of the rows ``scan(base, catalog,
    **columns)`` evaluates: ``max_batch_size``, ``min_gpus``, ``weights_gb``, ...
    by name, each an array of one value per row (or one value for all rows).

    For a search that asks only what memory holds: no decode, prefill or dollars. The
    base's ids and every row's consistency are checked as ``scan`` checks them
    (``ValueError``); the columns' ids and ranges are not (a ``scan`` of the same values
    checks them). ``fits`` is the replica's alone (a disaggregated row's ``scan`` also
    asks its prefill pool).
    """
    check_ids(base, catalog)
    c, _ = grid(base, catalog, columns, product=False)
    check_consistency(c, catalog)
    return memory_fit(lookup(c, catalog))


def evaluate(scenario: Scenario | None = None, catalog: Catalog | None = None) -> dict:
    """All outputs for one scenario: ``sweep(scenario)``'s single row as a dict."""
    row = {k: v[0] for k, v in _run(scenario, catalog, {}, product=True).items()}
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
