"""Every dollar formula: cost from GPU time, margins against provider prices, break-even.

Cost: a replica of n GPUs busy for t ms uses ``n * t / 3.6e6`` GPU-hours of serving; at
``usd_per_gpu_hour`` and a utilisation u (share of paid time spent serving) it costs
``gpu_hours * usd_per_gpu_hour / u`` dollars. The GPU-hours are physics, computed once
per physical row; price and utilisation only scale them (``dollars``).

Revenue of one request of P prompt and O output tokens at a provider's prices, with a
share h of the prompt found in its prefix cache (``prefix_cache_hit_rate``), is
``((1 - h) P * input + h P * cached_input + O * output) / 1e6`` (prices per million
tokens; a provider that publishes no cached-input price bills cached tokens at its input
price); its cost is the model's ``usd_per_request`` (GPU time of its prefill of the
uncached tokens and its decode, at the utilisation).
"""

from __future__ import annotations

import numpy as np

from costmodel.fields import FIELD_RANGES

#: Milliseconds per hour.
MS_PER_HOUR = 3.6e6

#: Physics results that ``dollars`` reads (GPU-hours per unit of work, bandwidth).
PHYSICAL_INPUTS = (
    "gpu_hours_per_million_output_tokens",
    "gpu_hours_per_million_input_tokens",
    "gpu_hours_per_million_uncached_input_tokens",
    "gpu_hours_per_request",
    "bandwidth_tb_s",
)


def gpu_hours(
    n_gpus, batch_size, prompt_tokens, prefilled_tokens, decode_ms_per_token, prefill_ms, cycle_ms
):
    """GPU-hours of serving per unit of work (no price yet) [GPU-hours].

    - per million output tokens: ``n * t_token / 3.6e6 / B * 1e6`` (one decode step per
      token of each of B sequences);
    - per million prompt tokens, cached ones included: ``n * prefill_ms / 3.6e6 / (B P) *
      1e6`` (what a provider's input price is set against);
    - per million uncached prompt tokens (those actually prefilled): the same over ``B u``,
      ``u`` the prefilled tokens of a prompt (``P`` without prefix-cache hits;
      ``evaluation.prefilled_tokens``); a cached token costs only its share of reading the
      prefix, inside that prefill;
    - per request: ``n * cycle_ms / 3.6e6 / B`` (its prefill and its O decode steps).

    2 GPUs, 27 ms per token at batch 32: 2 * 27 / 3.6e6 / 32 * 1e6 = 0.469 GPU-hours.
    """
    per_ms = np.asarray(n_gpus, float) / MS_PER_HOUR
    prefill_per_request = per_ms * prefill_ms / batch_size
    return {
        "gpu_hours_per_million_output_tokens": per_ms * decode_ms_per_token / batch_size * 1e6,
        "gpu_hours_per_million_input_tokens": prefill_per_request
        / np.asarray(prompt_tokens, float)
        * 1e6,
        "gpu_hours_per_million_uncached_input_tokens": prefill_per_request
        / np.asarray(prefilled_tokens, float)
        * 1e6,
        "gpu_hours_per_request": per_ms * cycle_ms / batch_size,
    }


def bandwidth_per_dollar(bandwidth_tb_s, usd_per_gpu_hour):
    """Memory bandwidth per GPU-hour price [TB/s per $/GPU-hour]; NaN at a price of 0.

    A free GPU has no finite bandwidth per dollar: NaN, never infinity.
    H100 SXM at $1.95: 3.35 / 1.95 = 1.72.
    """
    price = np.asarray(usd_per_gpu_hour, float)
    return np.where(price > 0, bandwidth_tb_s / np.where(price > 0, price, 1.0), np.nan)


def dollars(physics: dict, usd_per_gpu_hour, utilization) -> dict:
    """Cost columns: ``gpu_hours * usd_per_gpu_hour / utilization`` [$], bandwidth per $.

    ``physics`` holds ``PHYSICAL_INPUTS``. A price of 0 gives $0 (and bandwidth per
    dollar NaN).
    """
    rate = np.asarray(usd_per_gpu_hour, float) / utilization
    return {
        "usd_per_million_output_tokens": physics["gpu_hours_per_million_output_tokens"] * rate,
        "usd_per_million_input_tokens": physics["gpu_hours_per_million_input_tokens"] * rate,
        "usd_per_million_uncached_input_tokens": physics[
            "gpu_hours_per_million_uncached_input_tokens"
        ]
        * rate,
        "usd_per_request": physics["gpu_hours_per_request"] * rate,
        "bandwidth_tb_s_per_usd_hour": bandwidth_per_dollar(
            physics["bandwidth_tb_s"], usd_per_gpu_hour
        ),
    }


def billed_cached_input_price(usd_per_million_input, usd_per_million_cached_input=np.nan):
    """The price cached prompt tokens are billed at: the cached-input price, or the input
    price where none is published (NaN) [$ per million tokens]."""
    cached = np.asarray(usd_per_million_cached_input, float)
    return np.where(np.isnan(cached), usd_per_million_input, cached)


def revenue_per_request(
    prompt_tokens,
    output_tokens,
    usd_per_million_input,
    usd_per_million_output,
    usd_per_million_cached_input=np.nan,
    prefix_cache_hit_rate=0.0,
):
    """Price of one request [$]: ``((1 - h) P in + h P cached + O out) / 1e6``.

    ``cached`` is ``billed_cached_input_price`` (the input price where NaN). DeepSeek-R1
    (2025-01-20: $0.55 in, $0.14 cached, $2.19 out), P = 1,000, h = 0.5, O = 100:
    (500 x 0.55 + 500 x 0.14 + 100 x 2.19) / 1e6 = $564e-6.
    """
    h = np.asarray(prefix_cache_hit_rate, float)
    prompt = np.asarray(prompt_tokens, float)
    cached = billed_cached_input_price(usd_per_million_input, usd_per_million_cached_input)
    return (
        (1.0 - h) * prompt * usd_per_million_input
        + h * prompt * cached
        + np.asarray(output_tokens, float) * usd_per_million_output
    ) / 1e6


def break_even_utilization(utilization, usd_per_request, revenue):
    """Utilisation at which cost equals revenue: cost scales as ``1 / utilization``.

    ``u_be = u * cost / revenue``; above 1 means no utilisation breaks even; infinite
    when the price is zero.
    """
    cost = np.asarray(utilization, float) * usd_per_request
    with np.errstate(over="ignore"):  # a near-zero price: infinite, as a zero one
        return np.where(revenue > 0, cost / np.where(revenue > 0, revenue, 1.0), np.inf)


def batch_grid(max_batch: int = FIELD_RANGES["batch_size"][1]) -> list[int]:
    """Batch sizes 1, 2, 3, 4, 6, 8, 12, 16, ... (powers of two and 1.5x between)."""
    sizes = {1}
    power = 1
    while power <= max_batch:
        sizes.update({power, int(power * 1.5)})
        power *= 2
    return sorted(s for s in sizes if s <= max_batch)
