"""Disaggregated prefill and decode: two pools of GPUs, their latencies, cost and ratio.

A request of P prompt and O output tokens is prefilled on the prefill pool, its KV cache
is sent over the scale-out network to the decode pool, which then generates its tokens.
Each pool is described by its throughput per GPU: ``prefill_tokens_per_s_per_gpu``
(prompt tokens) and ``decode_tokens_per_s_per_gpu`` (output tokens), each measured or
modelled at the pool's own batch, with no interference from the other phase.

- Pool ratio that keeps both busy: ``prefill_gpus / decode_gpus = (P / prefill) / (O /
  decode)`` (the request rate cancels).
- Requests per second of given pools: the slower pool's ``min(N_p prefill / P, N_d
  decode / O)``; the other pool idles for the rest.
- Cost per request: both pools' GPU-hours per request times their prices, over the
  ``utilization`` (share of paid time spent serving).
- TTFT: waiting in the prefill queue + the prompt's share of the prefill instance's
  throughput + the KV transfer; TPOT: the decode pool's own step.
"""

from __future__ import annotations

import numpy as np

from costmodel.queueing import mgc_wait

SECONDS_PER_HOUR = 3600.0


def _positive(name, value):
    v = np.asarray(value, float)
    if np.any(~(v > 0)):
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return v


def balanced_pool_ratio(
    *, prompt_tokens, output_tokens, prefill_tokens_per_s_per_gpu, decode_tokens_per_s_per_gpu
):
    """Prefill GPUs per decode GPU that keeps both pools busy [-].

    ``(P / prefill_tokens_per_s_per_gpu) / (O / decode_tokens_per_s_per_gpu)``: GPU-seconds
    of prefill per request over GPU-seconds of decode per request.
    """
    P = _positive("prompt_tokens", prompt_tokens)
    O = _positive("output_tokens", output_tokens)
    prefill = _positive("prefill_tokens_per_s_per_gpu", prefill_tokens_per_s_per_gpu)
    decode = _positive("decode_tokens_per_s_per_gpu", decode_tokens_per_s_per_gpu)
    return (P / prefill) / (O / decode)


def disaggregated_cost(
    *,
    prefill_gpus,
    decode_gpus,
    prompt_tokens,
    output_tokens,
    prefill_tokens_per_s_per_gpu,
    decode_tokens_per_s_per_gpu,
    usd_per_gpu_hour,
    prefill_usd_per_gpu_hour=None,
    utilization=1.0,
) -> dict:
    """Throughput and cost of a prefill pool and a decode pool serving one workload.

    ``requests_per_s = min(N_p * prefill / P, N_d * decode / O)``; each pool costs
    ``N * price / 3600`` per second whether busy or not, so
    ``prefill_usd_per_request = N_p * price_p / 3600 / (requests_per_s * utilization)``
    and likewise for decode. ``prefill_usd_per_gpu_hour`` defaults to
    ``usd_per_gpu_hour`` (the decode pool's price). Returns ``requests_per_s``,
    ``prefill_busy_share`` and ``decode_busy_share`` (each pool's busy time [0-1]),
    ``prefill_usd_per_request``, ``decode_usd_per_request``, ``usd_per_request``,
    ``prefill_cost_share`` [0-1], ``usd_per_million_output_tokens`` (whole cost over the
    output tokens) and ``output_tokens_per_s_per_gpu`` (over both pools' GPUs).
    """
    Np = _positive("prefill_gpus", prefill_gpus)
    Nd = _positive("decode_gpus", decode_gpus)
    P = _positive("prompt_tokens", prompt_tokens)
    O = _positive("output_tokens", output_tokens)
    prefill = _positive("prefill_tokens_per_s_per_gpu", prefill_tokens_per_s_per_gpu)
    decode = _positive("decode_tokens_per_s_per_gpu", decode_tokens_per_s_per_gpu)
    price_d = np.asarray(usd_per_gpu_hour, float)
    price_p = price_d if prefill_usd_per_gpu_hour is None else prefill_usd_per_gpu_hour
    price_p = np.asarray(price_p, float)
    if np.any(price_d < 0) or np.any(price_p < 0):
        raise ValueError(
            f"usd_per_gpu_hour and prefill_usd_per_gpu_hour must be >= 0; "
            f"got {usd_per_gpu_hour!r}, {prefill_usd_per_gpu_hour!r}"
        )
    u = np.asarray(utilization, float)
    if np.any(~((u > 0) & (u <= 1))):
        raise ValueError(f"utilization must be in (0, 1]; got {utilization!r}")
    prefill_capacity = Np * prefill / P  # requests/s the prefill pool can take
    decode_capacity = Nd * decode / O
    requests_per_s = np.minimum(prefill_capacity, decode_capacity)
    served_per_s = requests_per_s * u
    prefill_usd = Np * price_p / SECONDS_PER_HOUR / served_per_s
    decode_usd = Nd * price_d / SECONDS_PER_HOUR / served_per_s
    total = prefill_usd + decode_usd
    return {
        "requests_per_s": requests_per_s,
        "prefill_busy_share": requests_per_s / prefill_capacity,
        "decode_busy_share": requests_per_s / decode_capacity,
        "prefill_usd_per_request": prefill_usd,
        "decode_usd_per_request": decode_usd,
        "usd_per_request": total,
        "prefill_cost_share": np.divide(
            prefill_usd, total, out=np.zeros_like(total), where=total > 0
        ),
        "usd_per_million_output_tokens": total / O * 1e6,
        "output_tokens_per_s_per_gpu": requests_per_s * O / (Np + Nd),
    }


def ttft_ms(
    *,
    prompt_tokens,
    prefill_tokens_per_s_per_gpu,
    prefill_gpus,
    prefill_busy_share,
    kv_bytes_per_token,
    scale_out_gb_s,
    network_efficiency,
    kv_transfer_gpus=1,
    pass_tokens=None,
) -> dict:
    """Time to first token of a disaggregated request and its parts [ms].

    - ``service_ms = max(P, pass_tokens) / (prefill_gpus * prefill_tokens_per_s_per_gpu)``:
      the forward pass the prompt rides in, on one prefill instance (``prefill_gpus``
      GPUs) at its throughput; ``pass_tokens`` None: the prompt alone (its share of the
      instance's throughput).
    - ``queueing_ms = rho / (2 (1 - rho)) * service_ms``: the mean wait of an M/D/1
      queue (Poisson arrivals, equal prompts) at ``prefill_busy_share`` rho in [0, 1)
      (``queueing.mgc_wait`` with one server and no service spread).
    - ``kv_transfer_ms``: :func:`kv_transfer_ms`, not overlapped with the prefill (an
      upper bound).
    - ``ttft_ms``: their sum. The decode pool emits the first token once the cache has
      arrived; its step is left out, as in theory-2025.md.
    """
    P = _positive("prompt_tokens", prompt_tokens)
    prefill = _positive("prefill_tokens_per_s_per_gpu", prefill_tokens_per_s_per_gpu)
    n = _positive("prefill_gpus", prefill_gpus)
    rho = np.asarray(prefill_busy_share, float)
    if np.any(~((rho >= 0) & (rho < 1))):
        raise ValueError(f"prefill_busy_share must be in [0, 1); got {prefill_busy_share!r}")
    transfer = kv_transfer_ms(
        prompt_tokens=P,
        kv_bytes_per_token=kv_bytes_per_token,
        scale_out_gb_s=scale_out_gb_s,
        network_efficiency=network_efficiency,
        kv_transfer_gpus=kv_transfer_gpus,
    )
    served = P if pass_tokens is None else np.maximum(P, _positive("pass_tokens", pass_tokens))
    service = served / (n * prefill) * 1e3
    queueing = mgc_wait(rho / service, service, 0.0, 1)["mean_wait_s"]
    return {
        "service_ms": service,
        "queueing_ms": queueing,
        "kv_transfer_ms": transfer,
        "ttft_ms": service + queueing + transfer,
    }


def kv_transfer_ms(
    *, prompt_tokens, kv_bytes_per_token, scale_out_gb_s, network_efficiency, kv_transfer_gpus=1
):
    """Time to send one prompt's KV cache to the decode pool over the scale-out network [ms].

    ``P * kv_bytes_per_token / (kv_transfer_gpus * scale_out_gb_s * network_efficiency)``:
    the cache of all layers over the NICs of the ``kv_transfer_gpus`` GPUs that hold it (1
    under data-parallel attention, where one GPU holds a sequence). DeepSeek-R1, 8,192
    tokens of 35,136 B (FP8 MLA) from one GPU at 50 GB/s x 0.8: 7.2 ms.
    """
    P = _positive("prompt_tokens", prompt_tokens)
    kv = np.asarray(kv_bytes_per_token, float)
    if np.any(kv < 0):
        raise ValueError(f"kv_bytes_per_token must be >= 0; got {kv_bytes_per_token!r}")
    net = _positive("scale_out_gb_s", scale_out_gb_s)
    eff = np.asarray(network_efficiency, float)
    if np.any(~((eff > 0) & (eff <= 1))):
        raise ValueError(f"network_efficiency must be in (0, 1]; got {network_efficiency!r}")
    senders = _positive("kv_transfer_gpus", kv_transfer_gpus)
    return P * kv / (senders * net * eff * 1e9) * 1e3


def tpot_ms(decode_step_ms, tokens_per_step=1.0):
    """Time per output token on the decode pool alone [ms]: ``step / tokens_per_step``.

    No share of other requests' prefill (that runs on the other pool); with speculative
    decoding or MTP, ``tokens_per_step`` is the mean tokens a step yields.
    """
    step = _positive("decode_step_ms", decode_step_ms)
    tokens = np.asarray(tokens_per_step, float)
    if np.any(~(tokens >= 1)):
        raise ValueError(f"tokens_per_step must be >= 1; got {tokens_per_step!r}")
    return step / tokens
