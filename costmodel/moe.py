"""How many experts a step of T tokens reads in a mixture-of-experts layer."""

from __future__ import annotations

import numpy as np
import pandas as pd


def routing_probabilities(n_experts, experts_per_token, routing_skew):
    """Selection probability of each expert (rows = scenarios, columns = experts).

    Expert i (0-based) gets a weight ``(i + 1) ** -routing_skew`` (Zipf; skew 0 is
    uniform); probabilities are ``k * w_i / sum(w)`` so they add up to the top-k, with
    any probability above 1 capped at 1 and the excess shared among the others.
    Columns past a row's expert count are 0.
    """
    E = np.atleast_1d(np.asarray(n_experts, int))
    k = np.atleast_1d(np.asarray(experts_per_token, float))
    s = np.atleast_1d(np.asarray(routing_skew, float))
    E, k, s = np.broadcast_arrays(E, k, s)
    rank = np.arange(1, E.max() + 1, dtype=float)
    active = rank[None, :] <= E[:, None]
    weights = np.where(active, rank[None, :] ** -s[:, None], 0.0)
    p = k[:, None] * weights / weights.sum(axis=1, keepdims=True)
    for _ in range(int(E.max())):  # each round caps at least one more expert, or stops
        capped = p >= 1.0
        free_mass = k - capped.sum(axis=1)
        free_weights = np.where(capped, 0.0, weights)
        total = free_weights.sum(axis=1, keepdims=True)
        share = free_mass[:, None] * free_weights / np.where(total > 0, total, 1.0)
        p = np.where(capped, 1.0, share)
        if not (p > 1.0).any():
            break
    return np.minimum(p, 1.0)


def experts_read(tokens, n_experts, experts_per_token, routing_skew=0.0):
    """Expected distinct experts per layer read for ``tokens`` tokens routed top-k of E.

    ``sum_i 1 - (1 - p_i) ** T`` with ``p_i`` from :func:`routing_probabilities`; for
    uniform routing this is ``E * (1 - (1 - k/E) ** T)``, computed as
    ``-E * expm1(T * log1p(-k/E))`` (one log per row, no power): for Mixtral (E=8, k=2) 2, 3.5,
    5.47, 7.20, 7.92, 8.00 at T = 1, 2, 4, 8, 16, 32. A dense model (E=1, k=1) gives 1.
    Skewed rows (``routing_skew > 0``) are evaluated expert by expert, once per distinct
    (E, k, skew, T); uniform rows use the closed form.
    """
    T, E, k, s = np.broadcast_arrays(
        np.asarray(tokens, float),
        np.asarray(n_experts, float),
        np.asarray(experts_per_token, float),
        np.asarray(routing_skew, float),
    )
    shape = T.shape
    with np.errstate(divide="ignore"):  # k = E (dense): log1p(-1) = -inf, E * 1 = E read
        read = np.array(-E * np.expm1(T * np.log1p(-k / E)), ndmin=1)
    skewed = np.array(s > 0, ndmin=1)
    if skewed.any():
        T, E, k, s = (np.array(v, ndmin=1) for v in (T, E, k, s))
        read[skewed] = _skewed_read(T[skewed], E[skewed], k[skewed], s[skewed])
    return read.reshape(shape)


def _skewed_read(T, E, k, s):
    """``sum_i 1 - (1 - p_i) ** T`` row by row, computed once per distinct (E, k, skew, T).

    Rows are grouped with hash-based ``pandas.factorize`` (linear time, no sort).
    """
    group = np.zeros(len(T), np.int64)
    for column in (E, k, s, T):
        codes, uniques = pd.factorize(column)
        group = pd.factorize(group * len(uniques) + codes)[0]
    first = np.empty(group.max() + 1, np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    p = routing_probabilities(E[first], k[first], s[first])
    per_group = (1.0 - (1.0 - p) ** T[first][:, None]).sum(axis=1)
    return per_group[group]


#: Gain in achieved weight-streaming bandwidth of a fused-MoE kernel when each expert gets
#: many tokens rather than one. vLLM's tuned Triton ``fused_moe_kernel`` on Mixtral 8x7B's
#: shape (E=8, N=14336, K=4096, top-2, bf16; vllm-project/vllm PR 44152, H20, 4.0 TB/s):
#: batch 1 reads 2 experts (234.9 MB) in 76 us = 3.09 TB/s (77.3 %), batch 32 all 8
#: (939.5 MB) in 279 us = 3.37 TB/s (84.2 %): 84.2 / 77.3 = 1.09 at 8 tokens per expert.
MOE_STREAMING_GAIN = 1.09

#: Tokens per expert beyond the first at which half of ``MOE_STREAMING_GAIN`` is reached
#: [tokens]. 1 puts 92 % of the gain at 8 tokens per expert, where the kernel data above
#: have it whole; the shape in between is not measured.
MOE_STREAMING_HALF_TOKENS = 1.0


def moe_kernel_efficiency(
    tokens_per_expert,
    at_one_token,
    gain=MOE_STREAMING_GAIN,
    half_tokens=MOE_STREAMING_HALF_TOKENS,
):
    """Weight-streaming efficiency of MoE expert kernels relative to dense ones [0-1].

    ``e(t) = min(1, e1 * (g - (g - 1) * h / (h + t - 1)))`` with ``t`` the mean tokens per
    expert read (``tokens * k / experts_read``, at least 1), ``e1 = at_one_token``
    (the scenario's ``moe_kernel_efficiency``, 0.65 from the batch-1 measurements P1 and
    P2), ``g = gain`` and ``h = half_tokens``. It rises monotonically from ``e1`` at one
    token to ``e1 * g`` (0.65 x 1.09 = 0.709) as the kernel's tiles fill; the compute side
    stays at ``e1``, which MLPerf P3/P4 (tens of thousands of prefill tokens per expert)
    pin at the same 0.65 (tests/test_calibration.py).
    """
    t = np.maximum(np.asarray(tokens_per_expert, float), 1.0)
    rise = gain - (gain - 1.0) * half_tokens / (half_tokens + t - 1.0)
    return np.minimum(np.asarray(at_one_token, float) * rise, 1.0)


def expert_parallelism(experts_per_gpu, half_experts):
    """Share of a grouped expert GEMM's streaming rate its work reaches [0-1]:
    ``w / (w + h)``, w = ``experts_per_gpu`` (experts whose weights one GPU streams in
    one MoE layer), h = ``half_experts`` (the serving stack's ``moe_half_experts``).

    A grouped GEMM gives each expert (each GPU's slice of it, under tensor parallelism)
    its own thread blocks; with few experts in a step most of the GPU's SMs have no
    tiles, and the achieved bandwidth falls. DeepSeek-R1 at batch 1 reads 8 of 256
    experts per layer: with h = 16, 8 / 24 = 0.33 of the rate at many experts; at batch
    64 (about 222 experts) 0.93. h = 0 turns the term off (1 at any w): the 2024
    calibration folds it into ``moe_kernel_efficiency``.
    """
    w = np.asarray(experts_per_gpu, float)
    h = np.asarray(half_experts, float)
    return np.where(h > 0, w / (w + np.where(h > 0, h, 1.0)), 1.0)
