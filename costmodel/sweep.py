"""One evaluation path: ``sweep`` over a grid of scenarios; ``evaluate`` is a 1-row sweep.

The grid is built once as arrays (catalog rows as integer codes), every formula runs
vectorised over all rows, and the result is one DataFrame with unit-named columns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.memory import (
    kv_bytes_per_token,
    max_batch_size,
    memory_available_gb,
    min_gpus_to_fit,
    weight_bytes,
)
from costmodel.scenario import FAMILY_DEFAULT_FIELDS, FIELD_NAMES, Scenario, check_field
from costmodel.speculative import acceptance_rate, expected_tokens_per_step
from costmodel.step import bus_bandwidth_gb_s, forward_ms

#: Categorical fields and the catalog table whose index gives their codes.
CATEGORICAL_FIELDS = {
    "model": "models",
    "gpu": "gpus",
    "weight_format": "formats",
    "kv_format": "formats",
}

#: Result columns and their meaning (units in the names).
OUTPUT_COLUMNS = {
    "fits": "weights + KV cache + overhead fit in the replica's usable memory",
    "memory_required_gb": "weights + KV cache at full context + runtime overhead [GB]",
    "memory_available_gb": "n_gpus * hbm_gb * usable_memory_fraction [GB]",
    "memory_headroom_gb": "available minus required memory [GB]",
    "weights_gb": "stored weight bytes in the chosen format [GB]",
    "kv_cache_gb": "KV cache of the batch at prompt + output tokens [GB]",
    "max_batch_size": "most concurrent sequences that fit at prompt + output tokens",
    "min_gpus": "fewest GPUs (power of two) that hold weights, KV cache and overhead",
    "experts_read_per_layer": "expected distinct experts read per layer per decode step",
    "bytes_read_per_step_gb": "bytes read by one decode (or verification) step [GB]",
    "weight_bytes_read_per_step_gb": "weight bytes of bytes_read_per_step_gb [GB]",
    "kv_bytes_read_per_step_gb": "KV-cache bytes of bytes_read_per_step_gb [GB]",
    "acceptance_rate": "draft-token acceptance rate at this temperature",
    "tokens_per_step": "tokens produced per sequence per decode step",
    "speculative_speedup": "decode speed with speculation over without, same batch",
    "decode_step_ms": "one decode step (verification + draft when speculative) [ms]",
    "memory_time_ms": "bytes over achieved bandwidth, plain decode step [ms]",
    "compute_time_ms": "FLOPs over achieved throughput, plain decode step [ms]",
    "allreduce_time_ms": "tensor-parallel all-reduces, plain decode step [ms]",
    "overhead_time_ms": "per-layer fixed overhead, plain decode step [ms]",
    "prefill_ms": "prefill of the batch's prompts, once per output_tokens steps [ms]",
    "tpot_ms": "time per output token a user sees, with the share of others' prefill [ms]",
    "ttft_ms": "time to first token: prefill of one prompt + one decode step, no queueing [ms]",
    "tokens_per_s_per_user": "1000 / tpot_ms [tokens/s]",
    "output_tokens_per_s": "sustained output tokens/s of the replica (all its GPUs)",
    "output_tokens_per_s_per_gpu": "output_tokens_per_s / n_gpus",
    "usd_per_million_output_tokens": "GPU cost of decode time per million output tokens [$]",
    "usd_per_million_input_tokens": "GPU cost of prefill time per million input tokens [$]",
    "usd_per_request": "GPU cost of one request, prefill and decode [$]",
    "bandwidth_tb_s_per_usd_hour": "memory bandwidth per GPU-hour price [TB/s per $/h]",
}


def _axis_values(name: str, values, catalog: Catalog) -> list:
    values = list(values) if isinstance(values, list | tuple | np.ndarray | pd.Index) else [values]
    if not values:
        raise ValueError(f"{name}: a sweep axis needs at least one value")
    for value in values:
        check_field(name, value)
        table = CATEGORICAL_FIELDS.get(name)
        if table and value not in getattr(catalog, table).index:
            choices = ", ".join(getattr(catalog, table).index)
            raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return values


def _encode(name: str, values: list, catalog: Catalog) -> np.ndarray:
    table = CATEGORICAL_FIELDS.get(name)
    if table:
        return getattr(catalog, table).index.get_indexer(values)
    if name in FAMILY_DEFAULT_FIELDS:
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.asarray(values)


def grid(base: Scenario, catalog: Catalog, axes: dict, product: bool = True) -> tuple[dict, int]:
    """Field -> array of length n (varied fields) or scalar (fixed fields); and n.

    Categorical values become integer codes into the catalog; None becomes NaN. With
    ``product`` the rows are the Cartesian product of the axes, first axis varying
    slowest; without it the axes are zipped (all must have the same length).
    """
    for name in axes:
        if name not in FIELD_NAMES:
            raise ValueError(f"unknown sweep axis {name!r}; fields are {', '.join(FIELD_NAMES)}")
    columns = {name: _encode(name, [getattr(base, name)], catalog)[0] for name in FIELD_NAMES}
    _axis_values("model", [base.model], catalog)
    encoded = {
        name: _encode(name, _axis_values(name, v, catalog), catalog) for name, v in axes.items()
    }
    sizes = [len(v) for v in encoded.values()]
    if not product:
        if len(set(sizes)) > 1:
            raise ValueError(
                f"zipped axes must have equal lengths; got {dict(zip(axes, sizes, strict=True))}"
            )
        columns.update(encoded)
        return columns, sizes[0] if sizes else 1
    n = math.prod(sizes)
    inner = n
    for (name, values), size in zip(encoded.items(), sizes, strict=True):
        inner //= size
        columns[name] = np.tile(np.repeat(values, inner), n // (inner * size))
    return columns, n


def _resolved(c: dict, name: str, gpu_code, catalog: Catalog):
    default = catalog.arrays[f"gpu.{name}"][gpu_code]
    value = c[name]
    return np.where(np.isnan(value), default, value)


def compute(c: dict, catalog: Catalog) -> dict:
    """Every output column from the field arrays of ``grid`` (see ``OUTPUT_COLUMNS``)."""
    A = catalog.arrays
    m, g, f, kvf = c["model"], c["gpu"], c["weight_format"], c["kv_format"]
    arch = {
        k: A[f"model.{k}"][m]
        for k in (
            "n_layers",
            "hidden_size",
            "n_heads",
            "head_dim",
            "n_experts",
            "experts_per_token",
            "attention_params",
            "expert_params",
            "router_params",
            "lm_head_params",
            "norm_params",
            "quantizable_params",
            "sixteen_bit_params",
            "n_kv_heads",
        )
    }
    arch["routing_skew"] = c["routing_skew"]
    arch["kv_bytes_per_token"] = kv_bytes_per_token(
        arch["n_layers"], arch["n_kv_heads"], arch["head_dim"], A["format.weight_bits"][kvf] / 8.0
    )
    eff = {name: _resolved(c, name, g, catalog) for name in FAMILY_DEFAULT_FIELDS}
    eff["moe_kernel_efficiency"] = c["moe_kernel_efficiency"]
    n = c["n_gpus"]
    hw = {
        "n_gpus": n,
        "bandwidth_tb_s": A["gpu.bandwidth_tb_s"][g],
        "peak_tflops": A["peak_tflops"][g, f],
        "bf16_tflops": A["gpu.bf16_dense_tflops"][g],
        "bus_gb_s": bus_bandwidth_gb_s(
            A["gpu.scale_up_gb_s"][g], eff["link_efficiency"], n, A["gpu.mesh_links"][g]
        ),
    }
    fmt = {
        "bytes_per_weight": A["format.bytes_per_weight"][f],
        "bandwidth_factor": A["format.bandwidth_efficiency_factor"][f],
        "compute_factor": A["format.compute_efficiency_factor"][f],
    }
    B, P, O = c["batch_size"], c["prompt_tokens"], c["output_tokens"]
    context = P + O / 2.0
    score_flops_per_token = 4.0 * arch["n_layers"] * arch["n_heads"] * arch["head_dim"] * context
    shared = {"arch": arch, "hw": hw, "fmt": fmt, "eff": eff}

    plain = forward_ms(
        tokens=B,
        logit_tokens=B,
        kv_tokens_read=B * context,
        attention_flops=score_flops_per_token * B,
        **shared,
    )
    speculative = np.asarray(c["speculative"], bool)
    acceptance = acceptance_rate(c["temperature"], c["acceptance_at_t0"], c["acceptance_at_t1"])
    tokens_per_step = np.where(
        speculative, expected_tokens_per_step(acceptance, c["draft_tokens"]), 1.0
    )
    step = plain
    step_ms = plain["total_ms"]
    if speculative.any():
        verified = B * (c["draft_tokens"] + 1.0)
        verify = forward_ms(
            tokens=verified,
            logit_tokens=verified,
            kv_tokens_read=B * context,
            attention_flops=score_flops_per_token * verified,
            **shared,
        )
        draft_ms = c["draft_tokens"] * c["draft_cost_ratio"] * plain["total_ms"]
        step_ms = np.where(speculative, verify["total_ms"] + draft_ms, plain["total_ms"])
        step = {
            k: np.where(speculative, verify[k], plain[k])
            for k in ("experts_touched", "weight_bytes_read", "kv_bytes_read")
        }
    decode_ms_per_token = step_ms / tokens_per_step

    prompt_score_flops = 2.0 * arch["n_layers"] * arch["n_heads"] * arch["head_dim"] * P * P
    prefill = forward_ms(
        tokens=B * P,
        logit_tokens=B,
        kv_tokens_read=0.0,
        attention_flops=prompt_score_flops * B,
        **shared,
    )["total_ms"]
    ttft = (
        forward_ms(
            tokens=P,
            logit_tokens=1.0,
            kv_tokens_read=0.0,
            attention_flops=prompt_score_flops,
            **shared,
        )["total_ms"]
        + step_ms
    )
    cycle_ms = O * decode_ms_per_token + prefill
    tpot_ms = cycle_ms / O

    bpw = fmt["bytes_per_weight"]
    weights_gb = weight_bytes(arch["quantizable_params"], arch["sixteen_bit_params"], bpw) / 1e9
    kv_gb_per_sequence = (P + O) * arch["kv_bytes_per_token"] / 1e9
    overhead_gb = c["memory_overhead_gb_per_gpu"] * n
    required = weights_gb + B * kv_gb_per_sequence + overhead_gb
    hbm = A["gpu.hbm_gb"][g]
    available = memory_available_gb(n, hbm, c["usable_memory_fraction"])

    price = c["usd_per_gpu_hour"]
    usd_per_s = n * price / 3600.0 / c["utilization"]
    return {
        "fits": required <= available,
        "memory_required_gb": required,
        "memory_available_gb": available,
        "memory_headroom_gb": available - required,
        "weights_gb": weights_gb,
        "kv_cache_gb": B * kv_gb_per_sequence,
        "max_batch_size": max_batch_size(available, weights_gb, overhead_gb, kv_gb_per_sequence),
        "min_gpus": min_gpus_to_fit(
            weights_gb,
            B * kv_gb_per_sequence,
            hbm,
            c["usable_memory_fraction"],
            c["memory_overhead_gb_per_gpu"],
        ),
        "experts_read_per_layer": step["experts_touched"],
        "bytes_read_per_step_gb": (step["weight_bytes_read"] + step["kv_bytes_read"]) / 1e9,
        "weight_bytes_read_per_step_gb": step["weight_bytes_read"] / 1e9,
        "kv_bytes_read_per_step_gb": step["kv_bytes_read"] / 1e9,
        "acceptance_rate": acceptance,
        "tokens_per_step": tokens_per_step,
        "speculative_speedup": plain["total_ms"] / decode_ms_per_token,
        "decode_step_ms": step_ms,
        "memory_time_ms": plain["memory_ms"],
        "compute_time_ms": plain["compute_ms"],
        "allreduce_time_ms": plain["allreduce_ms"],
        "overhead_time_ms": plain["overhead_ms"],
        "prefill_ms": prefill,
        "tpot_ms": tpot_ms,
        "ttft_ms": ttft,
        "tokens_per_s_per_user": 1e3 / tpot_ms,
        "output_tokens_per_s": B * 1e3 / tpot_ms,
        "output_tokens_per_s_per_gpu": B * 1e3 / tpot_ms / n,
        "usd_per_million_output_tokens": usd_per_s * decode_ms_per_token / 1e3 / B * 1e6,
        "usd_per_million_input_tokens": usd_per_s * prefill / 1e3 / (B * P) * 1e6,
        "usd_per_request": usd_per_s * cycle_ms / 1e3 / B,
        "bandwidth_tb_s_per_usd_hour": np.where(
            price > 0, hw["bandwidth_tb_s"] / np.where(price > 0, price, 1.0), np.inf
        ),
        **{name: eff[name] for name in FAMILY_DEFAULT_FIELDS},
    }


def _frame(columns: dict, results: dict, n: int, catalog: Catalog) -> pd.DataFrame:
    data = {}
    for name in FIELD_NAMES:
        value = results.get(name, columns[name])
        table = CATEGORICAL_FIELDS.get(name)
        if table:
            codes = np.broadcast_to(np.asarray(value, np.int64), (n,))
            data[name] = pd.Categorical.from_codes(codes, getattr(catalog, table).index)
        else:
            data[name] = np.broadcast_to(value, (n,))
    for name in OUTPUT_COLUMNS:
        data[name] = np.broadcast_to(results[name], (n,))
    return pd.DataFrame(data, copy=False)


def _run(base: Scenario | None, catalog: Catalog | None, axes: dict, product: bool):
    base = base or Scenario()
    catalog = catalog or load_catalog()
    fields, n = grid(base, catalog, axes, product)
    return _frame(fields, compute(fields, catalog), n, catalog)


def sweep(base: Scenario | None = None, catalog: Catalog | None = None, **axes) -> pd.DataFrame:
    """Evaluate the grid of ``base`` with each field in ``axes`` taking a list of values.

    ``sweep(Scenario(), batch_size=[1, 8, 64], gpu=["h100-sxm", "a100-80gb-sxm"])`` gives
    6 rows; columns are every ``Scenario`` field (efficiency defaults resolved to the
    GPU family's values) and every key of ``OUTPUT_COLUMNS``. Invalid values raise
    ``ValueError`` naming the field.
    """
    return _run(base, catalog, axes, product=True)


def scan(base: Scenario | None = None, catalog: Catalog | None = None, **columns) -> pd.DataFrame:
    """Like ``sweep`` but the lists are zipped, not crossed: row i takes the i-th value of each.

    ``scan(s, batch_size=[8, 64], usd_per_gpu_hour=[2.0, 1.5])`` gives 2 rows.
    """
    return _run(base, catalog, columns, product=False)


def evaluate(scenario: Scenario | None = None, catalog: Catalog | None = None) -> dict:
    """All outputs for one scenario: ``sweep(scenario)``'s single row as a dict."""
    row = sweep(scenario, catalog).iloc[0]
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
