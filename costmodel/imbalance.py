"""Load imbalance of expert parallelism: how much more the busiest GPU gets than the mean.

A step of B tokens routed top-k makes N = B k token-expert assignments; over G GPUs the
mean load is N / G. The step waits for the busiest GPU, so what matters is

    busiest_gpu_factor = E[max_g load_g] / (N / G)   (>= 1)

**Placement.** The E routed experts and ``redundant_experts`` R extra copies fill
S = E + R slots, at most ceil(S / G) per GPU. As DeepSeek's EPLB does
(deepseek-ai/EPLB), the R copies go one at a time to the expert with the highest load
per copy ``p_i / r_i`` (``p_i`` from ``moe.routing_probabilities``, adding up to k; r_i
its copies), a token's assignment to expert i picks one of its copies at random, and
the slots are packed greedily, heaviest first, onto the least-loaded GPU with room.
So slot s of expert i is in a token's top-k with probability ``pi_s = p_i / r_i``.

**Load of one GPU.** Per token, the copies landing on GPU g are a sum of slot
indicators with mean ``m_g = sum_{s on g} pi_s`` and, were the slots drawn independently
(Poisson sampling), variance ``v_g = sum_{s on g} pi_s (1 - pi_s)``. A router draws
exactly k distinct experts: that is Poisson sampling conditioned on the total (Hajek
1964), which makes the GPUs' loads independent normals N(B m_g, B v_g) conditioned on
their sum being B k (central limit over the B tokens). For equal v_g conditioning on
the sum leaves E[max] unchanged (the residuals ``X - mean(X)`` are independent of the
mean), so

    E[max_g load_g] = E[max_g X_g],  X_g ~ N(B m_g, B v_g) independent,

computed by integrating ``1 - prod_g Phi((x - B m_g) / sqrt(B v_g))`` over x. With equal
means (uniform routing, S divisible by G) it is ``N/G + sqrt(B v) e_G``: uniform routing
without copies has ``B v = N/G (1 - k/E)``, the multinomial variance ``N/G (1 - 1/G)``
of theory-2025.md with its ``1 - 1/G`` cancelled by the fixed sum, and ``e_G`` the
expected maximum of G standard normals (:func:`expected_max_standard_normal`). The
asymptotic ``e_G ~ sqrt(2 ln G)`` overstates it at serving sizes (2.04 against 1.42 at
G = 8, 3.33 against 2.83 at G = 256), so the exact value is used.

Limits: the normal approximation needs a mean load of a few tens of assignments per GPU
(below that the counts' right skew makes the maximum larger); routers that activate
experts together (co-activation) or group-limited routing onto whole nodes correlate
slots beyond this model. tests/test_imbalance.py checks it against sampled routings.
"""

from __future__ import annotations

import collections
import functools
import math
import threading

import numpy as np

from costmodel.moe import routing_probabilities

#: Half-width of the standard normal table behind :func:`normal_cdf` [standard deviations].
_CDF_TABLE_Z = 12.0
#: Points of that table: linear interpolation between them errs by under 1e-8.
_CDF_TABLE_POINTS = 48_001
#: Integration range for E[max], in the largest GPU's standard deviations around the
#: largest mean: the CDF of the maximum is below Phi(-8) at the lower end and above
#: 1 - G Phi(-9) at the upper end (negligible for any G up to 10^6).
_MAX_RANGE_SIGMAS = (-8.0, 9.0)
#: Integration points over that range (step 0.13 standard deviations at most): the
#: integrand is smooth and flat at both ends, so the trapezoid rule converges fast; 65
#: points already give e_G to 1e-7.
_MAX_GRID_POINTS = 129
#: Most array elements (rows x GPUs x points) one block of the integration holds: its
#: arrays (256 KiB each) stay in the CPU's cache through the integration's dozens of
#: passes. 3,000 rows of 16 GPUs: 2**15 took 95 ms, 2**14 115, 2**16 and 2**22 over
#: 200 (memory-bound), 2**12 (a row or two) 290 (numpy's per-call cost).
_MAX_BLOCK_ELEMENTS = 2**15

#: Distinct sets of expert-parallel configurations whose GPU loads are kept: an
#: evaluation asks for the same ones at each pass (decode, verification, prefill).
_PLACEMENT_CACHE_SIZE = 64
#: Configurations ``(E, k, G, R, skew)`` whose busiest-GPU loads are kept, each for at
#: most ``_KEPT_TOKENS`` token counts: the load depends on neither efficiencies nor
#: prices, so a page re-run with a new efficiency finds every integration done. 64 x
#: 4,096 pairs of floats: 4 MiB at most.
_KEPT_CONFIGURATIONS = 64
_KEPT_TOKENS = 4096

_z_table = np.linspace(-_CDF_TABLE_Z, _CDF_TABLE_Z, _CDF_TABLE_POINTS)
_cdf_table = 0.5 * np.frompyfunc(math.erfc, 1, 1)(-_z_table / math.sqrt(2.0)).astype(float)
#: Slope of each interval of the table, as ``np.interp`` computes it.
_cdf_slopes = np.diff(_cdf_table) / np.diff(_z_table)
#: Intervals per standard deviation (the table is evenly spaced).
_per_z = (_CDF_TABLE_POINTS - 1) / (2.0 * _CDF_TABLE_Z)


def normal_cdf(z):
    """Standard normal CDF Phi(z), vectorised (table of ``math.erfc``, interpolated).

    ``np.interp(z, _z_table, _cdf_table)`` bit for bit, with the interval found by
    arithmetic on the even table (and corrected by one where rounding puts it off)
    instead of a binary search: ``Phi(z) = c_j + s_j (z - z_j)`` for ``z_j <= z < z_j+1``,
    ``c_0`` below the table and ``c_last`` from its end on; NaN stays NaN.
    """
    z = np.asarray(z, float)
    last = _CDF_TABLE_POINTS - 2
    # fmin/fmax send NaN (and +-inf) to a valid interval; the result stays NaN (or is
    # replaced by the ends below).
    j = np.fmax(np.fmin((z + _CDF_TABLE_Z) * _per_z, last), 0.0).astype(np.intp)
    j -= z < _z_table[j]
    j += z >= _z_table[j + 1]
    j = np.clip(j, 0, last)
    with np.errstate(invalid="ignore"):  # +-inf times a zero slope, replaced below
        cdf = _cdf_slopes[j] * (z - _z_table[j]) + _cdf_table[j]
    cdf = np.where(z <= _z_table[0], _cdf_table[0], cdf)
    return np.where(z >= _z_table[-1], _cdf_table[-1], cdf)


def expected_max_of_normals(mean, std):
    """E[max_g X_g] for independent X_g ~ N(mean_g, std_g^2), along the last axis.

    ``low + integral_low^high (1 - prod_g Phi((x - mean_g) / std_g)) dx`` by the
    trapezoid rule (range: ``_MAX_RANGE_SIGMAS``), in blocks of rows. Entries with a NaN
    mean are absent (padding); a zero std is a constant.
    """
    mean = np.asarray(mean, float)
    std = np.broadcast_to(np.asarray(std, float), mean.shape)
    shape = mean.shape[:-1]
    mean2, std2 = mean.reshape(-1, mean.shape[-1]), std.reshape(-1, mean.shape[-1])
    block = max(1, _MAX_BLOCK_ELEMENTS // (mean.shape[-1] * _MAX_GRID_POINTS))
    parts = [
        _expected_max_block(mean2[i : i + block], std2[i : i + block])
        for i in range(0, len(mean2), block)
    ]
    return np.concatenate(parts).reshape(shape)


def _expected_max_block(mean, std):
    present = ~np.isnan(mean)
    top = np.nanmax(mean, axis=-1)
    spread = np.max(np.where(present, std, 0.0), axis=-1)
    width = np.where(spread > 0, spread, 1.0)
    # Below the largest constant the maximum's CDF is 0: start there if it is higher.
    constant_floor = np.max(np.where(present & (std == 0), mean, -np.inf), axis=-1)
    low, high = (top + width * sigmas for sigmas in _MAX_RANGE_SIGMAS)
    low = np.maximum(low, constant_floor)
    x = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, _MAX_GRID_POINTS)
    safe_std = np.where(std > 0, std, 1.0)
    z = (x[:, None, :] - np.where(present, mean, 0.0)[..., None]) / safe_std[..., None]
    cdf = normal_cdf(z)
    if not np.all(present & (std > 0)):  # constants (a step at their value) and padding
        cdf = np.where((std > 0)[..., None], cdf, (z >= 0).astype(float))
        cdf = np.where(present[..., None], cdf, 1.0)
    survival = 1.0 - cdf.prod(axis=1)
    dx = (high - low) / (_MAX_GRID_POINTS - 1)
    integral = dx * (survival.sum(axis=-1) - 0.5 * (survival[:, 0] + survival[:, -1]))
    return np.where(spread > 0, low + integral, top)


def expected_max_standard_normal(n):
    """Expected maximum of ``n`` independent standard normals, e_n.

    0 at n = 1, 1/sqrt(pi) = 0.5642 at 2, 1.4236 at 8, 2.0697 at 32, 2.3879 at 72,
    2.8269 at 256; the asymptotic sqrt(2 ln n) gives 1.18, 2.04, 2.63, 2.92, 3.33.
    """
    n = np.atleast_1d(np.asarray(n, int))
    if np.any(n < 1):
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    columns = np.arange(n.max())
    mean = np.where(columns[None, :] < n[:, None], 0.0, np.nan)
    return expected_max_of_normals(mean, np.ones_like(mean))


def replica_counts(expert_probabilities, redundant_experts):
    """Copies of each expert after EPLB's replication (rows x experts, ints >= 1).

    Start with one copy each; ``redundant_experts`` times, give one more copy to the
    expert with the highest ``p_i / r_i``. Padding columns (probability 0) get none.
    """
    p = np.atleast_2d(np.asarray(expert_probabilities, float))
    R = np.broadcast_to(np.asarray(redundant_experts, int), p.shape[:1])
    r = np.where(p > 0, 1, 0)
    rows = np.arange(len(p))
    for step in range(int(R.max(initial=0))):
        hottest = np.argmax(np.where(r > 0, p / np.maximum(r, 1), -1.0), axis=1)
        r[rows, hottest] += step < R
    return r


def place_experts(
    *, n_experts, experts_per_token, n_gpus, redundant_experts=0, routing_skew=0.0
) -> dict:
    """EPLB-style placement of E experts plus R copies on G GPUs (rows = scenarios).

    Returns ``slot_probability`` (rows x slots: ``pi_s = p_i / r_i``, the chance a token
    routes to this copy; NaN padding), ``slot_expert`` and ``slot_gpu`` (ints, -1
    padding), and per GPU (rows x GPUs, NaN padding) ``gpu_mean`` (expected copies of a
    token's k landing on the GPU, ``sum pi_s``) and ``gpu_variance`` (``sum pi_s (1 -
    pi_s)``). See the module docstring.
    """
    E = np.atleast_1d(np.asarray(n_experts, int))
    k = np.atleast_1d(np.asarray(experts_per_token, float))
    G = np.atleast_1d(np.asarray(n_gpus, int))
    R = np.atleast_1d(np.asarray(redundant_experts, int))
    skew = np.atleast_1d(np.asarray(routing_skew, float))
    E, k, G, R, skew = np.broadcast_arrays(E, k, G, R, skew)
    if np.any(G < 1):
        raise ValueError(f"n_gpus must be an integer >= 1; got {n_gpus!r}")
    if np.any(R < 0):
        raise ValueError(f"redundant_experts must be an integer >= 0; got {redundant_experts!r}")
    if np.any(E + R < G):
        raise ValueError(
            f"n_experts + redundant_experts must be >= n_gpus (every GPU holds an expert); "
            f"got {n_experts!r} + {redundant_experts!r} < {n_gpus!r}"
        )
    p = routing_probabilities(E, k, skew)
    r = replica_counts(p, R)
    rows = np.arange(len(E))
    # One column per slot: expert i repeated r_i times, heaviest copies first.
    n_slots = int((E + R).max())
    copy_load = np.where(r > 0, p / np.maximum(r, 1), -1.0)
    order = np.argsort(-copy_load, axis=1, kind="stable")
    r_max = int(r.max())
    copies = np.repeat(order, r_max, axis=1)  # (rows, E * r_max), expert-major
    copy_index = np.tile(np.arange(r_max), order.shape[1])
    real = copy_index[None, :] < np.repeat(np.take_along_axis(r, order, 1), r_max, axis=1)
    first_real = np.argsort(~real, axis=1, kind="stable")[:, :n_slots]
    slot_expert = np.where(
        np.take_along_axis(real, first_real, 1), np.take_along_axis(copies, first_real, 1), -1
    )
    valid = slot_expert >= 0
    slot_probability = np.where(
        valid, np.take_along_axis(copy_load, np.maximum(slot_expert, 0), 1), np.nan
    )
    # Greedy packing: each slot, heaviest first, onto the least-loaded GPU with room.
    n_gpu_cols = int(G.max())
    capacity = -(-(E + R) // G)
    gpu_exists = np.arange(n_gpu_cols)[None, :] < G[:, None]
    gpu_load = np.where(gpu_exists, 0.0, np.inf)
    gpu_slots = np.zeros((len(E), n_gpu_cols), int)
    slot_gpu = np.full_like(slot_expert, -1)
    for s in range(n_slots):
        full = gpu_slots >= capacity[:, None]
        target = np.argmin(np.where(full, np.inf, gpu_load), axis=1)
        placed = valid[:, s]
        slot_gpu[:, s] = np.where(placed, target, -1)
        gpu_load[rows, target] += np.where(placed, slot_probability[:, s], 0.0)
        gpu_slots[rows, target] += placed
    pi = np.nan_to_num(slot_probability)
    cell = (rows[:, None] * n_gpu_cols + slot_gpu)[valid]
    per_gpu = {
        name: np.bincount(cell, weights=w[valid], minlength=len(E) * n_gpu_cols).reshape(
            len(E), n_gpu_cols
        )
        for name, w in (("mean", pi), ("variance", pi * (1.0 - pi)))
    }
    gpu_mean = np.where(gpu_exists, per_gpu["mean"], np.nan)
    gpu_variance = np.where(gpu_exists, per_gpu["variance"], np.nan)
    return {
        "slot_probability": slot_probability,
        "slot_expert": slot_expert,
        "slot_gpu": slot_gpu,
        "gpu_mean": gpu_mean,
        "gpu_variance": gpu_variance,
    }


def busiest_gpu_factor(
    *, tokens, n_experts, experts_per_token, n_gpus, redundant_experts=0, routing_skew=0.0
):
    """Expected load of the busiest GPU over the mean under expert parallelism (>= 1).

    ``E[max_g X_g] / (B k / G)`` with ``X_g ~ N(B m_g, B v_g)`` from
    :func:`place_experts` and B = ``tokens`` routed in one step on the G GPUs (see the
    module docstring for the derivation). DeepSeek-V3 (E = 256, k = 8), uniform, 256
    tokens per GPU on 32 GPUs without copies: mean 2048, sqrt(2048 * 248/256) = 44.54,
    e_32 = 2.0697: factor 1 + 2.0697 * 44.54 / 2048 = 1.0450.
    """
    B = np.asarray(tokens, float)
    if np.any(~(B > 0)):
        raise ValueError(f"tokens must be > 0; got {tokens!r}")
    arrays = np.broadcast_arrays(
        B,
        np.asarray(n_experts),
        np.asarray(experts_per_token),
        np.asarray(n_gpus),
        np.asarray(redundant_experts),
        np.asarray(routing_skew),
    )
    shape = arrays[0].shape
    B, E, k, G, R, skew = (a.reshape(-1) for a in arrays)
    # One placement per distinct (E, k, G, R, skew); the batch only scales it.
    configs, which = unique_rows(np.stack([E, k, G, R, skew], axis=1))
    # One integration per distinct (configuration, tokens): sweeps repeat them often.
    pairs, row = unique_rows(np.stack([which, B], axis=1))
    at, tokens_at = pairs[:, 0].astype(int), pairs[:, 1]
    busiest = _expected_busiest_load(configs, at, tokens_at)[row.reshape(-1)]
    # The busiest GPU carries at least the mean; the clip absorbs rounding (one GPU:
    # 0.9999999999999991 from the integration would trip comm's factor >= 1 check).
    return np.maximum(busiest / (B * k / G), 1.0).reshape(shape)


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` of a 2-D array: the distinct rows
    in lexicographic order (first column first) and each row's position among them.

    One ``np.lexsort`` of the columns, where ``np.unique`` sorts the rows as records
    (several times slower: a frontier's expert-parallel rows spent a tenth of their
    physics there). ``[[2, 1], [1, 5], [2, 1]]`` gives ``[[1, 5], [2, 1]]`` and
    ``[1, 0, 1]``.
    """
    order = np.lexsort(rows.T[::-1])
    ranked = rows[order]
    first = np.ones(len(rows), bool)
    first[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    inverse = np.empty(len(rows), np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ranked[first], inverse


class _KeptLoads:
    """E[max_g load_g] per configuration (its row's bytes) and token count, the
    ``_KEPT_CONFIGURATIONS`` used last, each with its token counts sorted (``tokens``)
    beside the loads (``busiest``); a lock keeps concurrent page runs apart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kept: collections.OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = (
            collections.OrderedDict()
        )

    def look_up(self, key: bytes, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kept loads at ``tokens`` and where one was found (NaN, False elsewhere)."""
        with self.lock:
            known = self.kept.get(key)
            if known is not None:
                self.kept.move_to_end(key)
        if known is None:
            return np.full(len(tokens), np.nan), np.zeros(len(tokens), bool)
        at = np.minimum(np.searchsorted(known[0], tokens), len(known[0]) - 1)
        found = known[0][at] == tokens
        return np.where(found, known[1][at], np.nan), found

    def keep(self, key: bytes, tokens: np.ndarray, busiest: np.ndarray) -> None:
        """Add the loads at new ``tokens`` (none of them kept yet): beyond
        ``_KEPT_TOKENS`` the configuration starts anew with these."""
        with self.lock:
            known = self.kept.pop(key, None)
            if known is not None and len(known[0]) + len(tokens) <= _KEPT_TOKENS:
                tokens = np.concatenate([known[0], tokens])
                busiest = np.concatenate([known[1], busiest])
            order = np.argsort(tokens[:_KEPT_TOKENS], kind="stable")
            self.kept[key] = (tokens[order], busiest[order])
            while len(self.kept) > _KEPT_CONFIGURATIONS:
                self.kept.popitem(last=False)


_kept_loads = _KeptLoads()


def _expected_busiest_load(configs, at, tokens):
    """E[max_g X_g] for the (configuration ``configs[at]``, ``tokens``) pairs (sorted
    by configuration, none twice), integrating only those not kept in ``_kept_loads``.

    One look-up per distinct configuration; a pair's value does not depend on the
    others integrated with it (``expected_max_of_normals`` works row by row), so a kept
    value is the one a fresh integration gives, bit for bit.
    """
    bounds = np.searchsorted(at, np.arange(len(configs) + 1))
    segments = [
        (c.tobytes(), slice(a, b)) for c, a, b in zip(configs, bounds[:-1], bounds[1:], strict=True)
    ]
    found = [_kept_loads.look_up(key, tokens[rows]) for key, rows in segments]
    busiest = np.concatenate([f[0] for f in found])
    new = ~np.concatenate([f[1] for f in found])
    if new.any():
        gpu_mean, gpu_variance = _gpu_moments(configs.tobytes())
        mean = tokens[new, None] * gpu_mean[at[new]]
        std = np.sqrt(tokens[new, None] * gpu_variance[at[new]])
        busiest[new] = expected_max_of_normals(mean, std)
        for key, rows in segments:
            if new[rows].any():
                _kept_loads.keep(key, tokens[rows][new[rows]], busiest[rows][new[rows]])
    return busiest


@functools.lru_cache(maxsize=_PLACEMENT_CACHE_SIZE)
def _gpu_moments(configs: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``gpu_mean`` and ``gpu_variance`` of :func:`place_experts` for the rows
    ``(E, k, G, R, skew)`` of the float array whose bytes are ``configs`` (read-only;
    kept, as an evaluation's passes share their configurations)."""
    E, k, G, R, skew = np.frombuffer(configs).reshape(-1, 5).T
    placement = place_experts(
        n_experts=E.astype(int),
        experts_per_token=k,
        n_gpus=G.astype(int),
        redundant_experts=R.astype(int),
        routing_skew=skew,
    )
    moments = placement["gpu_mean"], placement["gpu_variance"]
    for array in moments:
        array.flags.writeable = False
    return moments


def busiest_rank_factor(sequences, ranks):
    """Load of the busiest data-parallel attention rank over the mean [-] (1 to n).

    Under data-parallel attention each of the B = ``sequences`` requests of a pass (a
    decode batch, the prompts of a prefill) lives on one of n = ``ranks`` GPUs, and the
    expert-parallel group waits at every MoE layer for the rank with the most. Serving
    engines deal requests round-robin over the ranks (SGLang's data-parallel controller,
    ``load_balance_method`` round_robin; TensorRT-LLM's attention-DP balancer), so the
    busiest holds ``ceil(B / n)`` against a mean of ``B / n``:

        factor = ceil(B / n) / (B / n)

    1 when n divides B; n for one request (a prompt prefilled alone: its attention and
    dense layers on one GPU while the others wait at the all-to-all); 12 requests over
    8 ranks: 2 / 1.5 = 1.33.
    """
    b = np.maximum(np.asarray(sequences, float), 1.0)
    n = np.maximum(np.asarray(ranks, float), 1.0)
    return np.ceil(b / n) / (b / n)
