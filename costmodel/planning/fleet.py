"""The fleet sizer: the cheapest fleet per GPU type that meets latency targets at a traffic.

:func:`size_fleet` builds every candidate configuration of each priced GPU (GPUs per
replica, tensor or expert parallelism, batch cap, aggregated or disaggregated with the
prefill instance's size: ``costmodel.frontier.candidates``), evaluates their service
times in one ``scan`` (``latency.service_times``) and sizes each one for the traffic
with the queueing model (:func:`plan_fleets`, vectorised over the candidates):

- aggregated: the largest request rate one replica takes while meeting every target
  and keeping its batch slots (``SLOT_OVERFLOW_PROBABILITY``), by bisection; then
  ``replicas = ceil(design rate / that rate)``;
- disaggregated: decode instances by their batch slots (their TPOT, the step at the
  batch cap, meets its targets at any load or never), prefill instances as the fewest
  c of the M/G/c pool meeting the TTFT targets (a doubling search, then bisection).

A target is a quantile of TTFT or TPOT (``TARGETS``: ``ttft_p90_ms=2000``, ...). The
design rate is the traffic times ``1 + headroom``. What binds is the constraint that
fails first as the load rises (aggregated) or that sets the pool sizes (disaggregated):
``memory`` (batch slots), ``TTFT p90``, ``TPOT p50``, ... (disaggregated: ``decode:
memory; prefill: TTFT p90``, or ``prefill capacity`` where the fewest stable pool meets
the targets); a candidate that cannot meet a target at any load says which. Cost: GPUs x
``usd_per_gpu_hour`` x ``HOURS_PER_MONTH``; per million output tokens at the traffic
itself (not the design rate). Every fleet is evaluated back through the same model at the
design rate (``latency.latency_table``) and its quantiles reported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.frontier import PARALLELISMS, SERVING, candidates, default_gpu_counts
from costmodel.planning.latency import (
    CONFIG_COLUMNS,
    MS_PER_S,
    QUANTILES,
    ServiceTimes,
    fleet_state,
    holding_ms,
    latency_quantiles,
    service_times,
    slot_overflow_probability,
    tpot_cdf,
    ttft_cdf,
)
from costmodel.planning.workloads import Workload
from costmodel.queueing import gamma_quantile
from costmodel.scenario import Scenario

#: Largest probability that all of a replica's batch slots are taken (then a request
#: waits for one, a wait the TTFT leaves out) [0-1].
SLOT_OVERFLOW_PROBABILITY = 0.01

#: Hours in a month: 8,760 / 12 [h].
HOURS_PER_MONTH = 730.0

#: Seconds in a day [s].
SECONDS_PER_DAY = 86_400.0

#: Targets a fleet may be given: quantiles of TTFT and TPOT [ms].
TARGETS = {
    "ttft_p50_ms": ("ttft", 0.5),
    "ttft_p90_ms": ("ttft", 0.9),
    "ttft_p99_ms": ("ttft", 0.99),
    "tpot_p50_ms": ("tpot", 0.5),
    "tpot_p90_ms": ("tpot", 0.9),
    "tpot_p99_ms": ("tpot", 0.99),
}

#: Candidate axes by default: powers of two from 1 to 1,024 sequences; GPUs per replica
#: (and per prefill instance) up to one 16-GPU pair of HGX nodes.
DEFAULT_BATCH_SIZES = tuple(2**i for i in range(11))
DEFAULT_MAX_GPUS = 16

#: Iterations of :func:`_slots_bracket`'s guess at the rate where the slots overflow.
SLOTS_ITERATIONS = 6

#: Bisection steps on the rate; doublings of the prefill pool before giving up.
RATE_STEPS = 40
POOL_DOUBLINGS = 24

#: What binds in a disaggregated fleet whose prefill pool was left unsized: its least
#: cost is above every fleet it could rank with.
NOT_SIZED = "not sized: dearer than a fleet found"

#: What :func:`plan_fleets` reports of each fleet evaluated back at the design rate.
EVALUATED_COLUMNS = (
    *(f"{m}_p{100 * q:g}_ms" for m in ("ttft", "tpot") for q in QUANTILES),
    "mean_ttft_ms",
    "tpot_mean_ms",
    "utilization",
    "slot_overflow_probability",
)

#: What tells two setups apart (runner-ups differ from the best in one of these).
SETUP_KEYS = ("gpu", "serving", "parallelism", "gpus_per_replica", "prefill_gpus_per_instance")

#: Columns of a sized fleet (units in the names), in order.
FLEET_COLUMNS = (
    "gpu",
    "setup",
    "serving",
    "parallelism",
    "gpus_per_replica",
    "batch_cap",
    "replicas",
    "prefill_gpus_per_instance",
    "prefill_instances",
    "prefill_to_decode_gpu_ratio",
    "total_gpus",
    "usd_per_gpu_hour",
    "price_label",
    "usd_per_month",
    "usd_per_million_output_tokens",
    "usd_per_million_tokens",
    "requests_per_s",
    "design_requests_per_s",
    "utilization",
    "ttft_p50_ms",
    "ttft_p90_ms",
    "ttft_p99_ms",
    "tpot_p50_ms",
    "tpot_p90_ms",
    "tpot_p99_ms",
    "slot_overflow_probability",
    "binding",
    "meets_targets",
)


def checked_targets(targets: Mapping) -> dict[str, float]:
    """``targets`` with known keys (``TARGETS``) and positive finite values [ms]."""
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError(f"targets must name one or more of {', '.join(TARGETS)}")
    out = {}
    for key, value in targets.items():
        if key not in TARGETS:
            raise ValueError(f"targets: {key!r} is not one of {', '.join(TARGETS)}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
            raise ValueError(f"targets[{key}] must be a time in (0, 1e9) ms; got {value!r}")
        out[key] = float(value)
    if not out:
        raise ValueError(f"targets must set one or more of {', '.join(TARGETS)}")
    return out


def _label(key: str) -> str:
    metric, q = TARGETS[key]
    return f"{metric.upper()} p{100 * q:g}"


def _checks(service: ServiceTimes, state, targets: dict, slots: bool) -> dict[str, np.ndarray]:
    """Constraint name -> whether each configuration meets it in ``state``."""
    out = {}
    if slots:
        out["memory"] = state.slot_overflow_probability <= SLOT_OVERFLOW_PROBABILITY
    for key, limit in targets.items():
        metric, q = TARGETS[key]
        cdf = ttft_cdf if metric == "ttft" else tpot_cdf
        out[_label(key)] = state.stable & (cdf(state, limit) >= q)
    return out


def _all(checks: dict) -> np.ndarray:
    return np.logical_and.reduce(list(checks.values()))


def _binding(checks: dict, order) -> np.ndarray:
    """The first failing constraint of each configuration ("" where all pass)."""
    names = np.full(len(next(iter(checks.values()))), "", dtype=object)
    for name in reversed(order):
        names = np.where(~checks[name], name, names)
    return names


def _tree_depth(rows: int) -> int:
    """Bisection steps :func:`_aggregated_capacity` takes per evaluation for ``rows``
    rows still searching: an evaluation costs about ``a + b x points`` with a fixed
    ``a`` of about 240 ``b`` (measured), and d steps take ``2^d - 1`` points per row, so
    d is the one with the least cost per step."""
    return 1 if rows > 240 else 2 if rows > 48 else 3 if rows > 12 else 4


def _slots_bracket(service: ServiceTimes, overhead_ms, stable_rate) -> tuple:
    """Rates below and above the one at which one aggregated replica's batch slots
    overflow with probability ``SLOT_OVERFLOW_PROBABILITY`` [requests/s] (the top at
    most ``stable_rate``): a guess for :func:`_aggregated_capacity`, which checks it.

    The slots overflow where ``lambda D(lambda) / 1000 = m``, ``D`` the time a request
    holds its slot (``latency.holding_ms``, rising with the load) and ``2 m`` the
    chi-square quantile of ``slot_overflow_probability`` at that probability
    (``queueing.gamma_quantile``). As D rises, ``g(lambda) = 1000 m / D(lambda)`` maps
    a rate above the root to one below and back, so the iterates ``g(0), g(g(0)), ...``
    bracket it, closer each time where D rises slowly (``SLOTS_ITERATIONS`` of them).
    """
    cap = service.batch_cap
    occupancy = 0.5 * gamma_quantile(SLOT_OVERFLOW_PROBABILITY, 2 * (cap + 1), 4 * (cap + 1))
    low, high = np.zeros(len(cap)), stable_rate
    rate = np.zeros(len(cap))
    for i in range(SLOTS_ITERATIONS):
        with np.errstate(divide="ignore"):  # an unstable rate holds a slot for ever
            rate = occupancy * MS_PER_S / holding_ms(service, rate, overhead_ms)
        if i % 2:
            low = np.maximum(low, rate)
        else:
            high = np.minimum(high, rate)
    return low, high


def _aggregated_capacity(service: ServiceTimes, targets, overhead_ms, rates, named=True):
    """The largest rate one aggregated replica takes meeting every target and keeping its
    batch slots [requests/s], by bisection; what binds (None unless ``named``); whether
    any rate does.

    What callers use of the capacity is the replicas ``ceil(rate / capacity)`` at each of
    ``rates`` [requests/s], so a row stops searching once those can no longer change:
    the same at both ends of its bracket, and a single constraint failing at the
    bracket's top (every constraint tightens as the load rises, so that one binds at
    any capacity within). The capacity returned is then the bracket's low end (a rate
    that meets every constraint); the replicas, what binds and feasibility are those of
    ``RATE_STEPS`` bisection steps on [0, the stable rate].

    The batch slots bind most replicas, so the search first tries the bracket around the
    rate where they overflow (:func:`_slots_bracket`, both ends in one evaluation): a
    row that meets every constraint at its low end and fails only the slots at its top,
    with the same replicas at both, is done; the others bisect from what that told
    (only the feasible rows still searching are evaluated, several steps at once when
    few rows are left: :func:`_tree_depth`, the ``2^d - 1`` rates the next d steps can
    try, every one of them in one evaluation, then the d steps taken in turn).
    """
    mean_s, mean_wp = service.queue_moments[0], service.work_moments[0]
    stable_rate = MS_PER_S / np.maximum(mean_s, mean_wp)
    order = ["memory", *[_label(k) for k in targets]]
    at_zero = _checks(service, fleet_state(service, 0.0, 1, 1, overhead_ms), targets, False)
    feasible = _all(at_zero)
    n = len(mean_s)
    low, high = np.zeros(n), stable_rate.copy()
    binding = _binding(at_zero, order[1:]) if named else None
    failing = np.zeros(n, np.int64)  # constraints failing at high (0: high not tried)
    rates = np.asarray(rates, float)[None, :]

    def evaluate(rows, tries):
        """Whether each row meets every constraint at each of its ``tries`` (rows x
        rates), how many fail, and the first that does."""
        part = service.take(np.repeat(rows, tries.shape[1]))
        with np.errstate(divide="ignore"):  # at the stable rate the queue waits for ever
            state = fleet_state(part, tries.ravel(), 1, 1, overhead_ms)
        checks = _checks(part, state, targets, True)
        ok = _all(checks).reshape(tries.shape)
        count = np.sum([~c for c in checks.values()], axis=0).reshape(tries.shape)
        names = _binding(checks, order).reshape(tries.shape) if named else None
        return ok, count, names

    def settle(rows, passed, rate, count, names):
        """Move each row's bracket end to ``rate`` by whether it passed there."""
        low[rows] = np.where(passed, rate, low[rows])
        high[rows] = np.where(passed, high[rows], rate)
        failing[rows] = np.where(passed, failing[rows], count)
        if named:
            binding[rows] = np.where(passed, binding[rows], names)

    def searching(rows):
        lo, hi = low[rows], high[rows]
        replicas_known = np.all(
            np.ceil(rates / np.where(lo > 0, lo, 1.0)[:, None]) == np.ceil(rates / hi[:, None]),
            axis=1,
        )
        return rows[~((lo > 0) & (failing[rows] == 1) & replicas_known)]

    rows = np.flatnonzero(feasible)
    if rows.size:
        tries = np.stack(_slots_bracket(service.take(rows), overhead_ms, stable_rate[rows]), axis=1)
        ok, count, names = evaluate(rows, tries)
        for end, kept in ((0, slice(None)), (1, np.flatnonzero(ok[:, 0]))):
            # The top only tells where the low end passed (else it fails as well).
            settle(
                rows[kept],
                ok[kept, end],
                tries[kept, end],
                count[kept, end],
                names[kept, end] if named else None,
            )
        rows = searching(rows)
    steps = 0
    while rows.size and steps < RATE_STEPS:
        depth = min(_tree_depth(rows.size), RATE_STEPS - steps)
        # The tree of the next steps' rates, node i's children 2i + 1 (low half) and
        # 2i + 2 (high half), each the bisection's own midpoint of its bracket.
        ends = [(low[rows], high[rows])]
        tries = []
        for node in range(2**depth - 1):
            a, b = ends[node]
            mid = 0.5 * (a + b)
            tries.append(mid)
            ends += [(a, mid), (mid, b)]
        tries = np.stack(tries, axis=1)  # rows x nodes
        ok, count, names = evaluate(rows, tries)
        node, every = np.zeros(rows.size, np.int64), np.arange(rows.size)
        for _ in range(depth):
            settle(
                rows,
                ok[every, node],
                tries[every, node],
                count[every, node],
                names[every, node] if named else None,
            )
            node = 2 * node + np.where(ok[every, node], 2, 1)
        steps += depth
        rows = searching(rows)
    untried = np.flatnonzero(feasible & (failing == 0))  # high still the stable rate
    if named and untried.size:
        part = service.take(untried)
        above = fleet_state(part, high[untried], 1, 1, overhead_ms)
        binding[untried] = _binding(_checks(part, above, targets, True), order)
    return low, binding, feasible & (low > 0)


def _decode_capacity(service: ServiceTimes):
    """The largest rate one decode instance takes keeping its batch slots [requests/s]
    (its TPOT, the step at the batch cap, does not depend on the rate; a request holds
    its slot ``E[O] t_d``, whatever the load): the bracket doubled from 1 until the
    slots overflow at ``2^j``, then ``RATE_STEPS`` bisection steps.

    Those steps land on the grid ``h = 2^(j - RATE_STEPS)``: the answer is ``K h``, K
    the largest k whose ``k h`` keeps the slots. Where the rate at which they overflow,
    ``1000 m / (E[O] t_d)`` (``2 m`` the chi-square quantile at the limit,
    ``queueing.gamma_quantile``), gives j and K checked by one evaluation (``2^j`` and
    ``2^(j - 1)``, ``(K + 1) h`` and ``K h``), that is the answer; the other rows take
    the steps."""
    n = len(service.fits)
    holding = service.mean_output_tokens * service.decode_ms_per_token
    cap = service.batch_cap
    limit = SLOT_OVERFLOW_PROBABILITY
    occupancy = 0.5 * gamma_quantile(limit, 2 * (cap + 1), 4 * (cap + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        root = occupancy * MS_PER_S / holding
        top = 2.0 ** np.clip(np.ceil(np.log2(root)), 0, RATE_STEPS)
    step = top * 2.0**-RATE_STEPS
    k = np.floor(np.where(np.isfinite(root), root, 0.0) / step)
    tries = np.stack([top, 0.5 * top, (k + 1) * step, k * step], axis=1)
    over = slot_overflow_probability(np.repeat(cap, 4), tries.ravel(), np.repeat(holding, 4))
    over = over.reshape(n, 4) > limit
    low = k * step
    guessed = over[:, 0] & (~over[:, 1] | (top == 1)) & over[:, 2] & ~over[:, 3] & (k >= 1)
    rows = np.flatnonzero(~guessed)
    if not rows.size:
        return low
    cap, holding = cap[rows], holding[rows]
    low[rows], high = 0.0, np.ones(rows.size)
    for _ in range(RATE_STEPS):  # grow the bracket until the slots overflow
        over = slot_overflow_probability(cap, high, holding)
        if np.all(over > limit):
            break
        high = np.where(over > limit, high, 2 * high)
    fallback = low[rows]
    for _ in range(RATE_STEPS):
        mid = 0.5 * (fallback + high)
        ok = slot_overflow_probability(cap, mid, holding) <= limit
        fallback, high = np.where(ok, mid, fallback), np.where(ok, high, mid)
    low[rows] = fallback
    return low


def _fewest_stable(part: ServiceTimes, design_rates) -> np.ndarray:
    """The fewest prefill instances that keep each pool's queue stable at each rate,
    ``floor(rate * W_p / 1000) + 1`` (``W_p``: prefill work per request [ms]): shape
    (configurations, rates)."""
    return (
        np.floor(
            np.asarray(design_rates, float)[None, :] * part.work_moments[0][:, None] / MS_PER_S
        )
        + 1
    )


def _prefill_pool(part: ServiceTimes, design_rates, targets, overhead_ms, search=None, named=True):
    """The fewest prefill instances meeting the TTFT targets, for each configuration of
    ``part`` at each of ``design_rates`` (only the pairs ``search`` marks, a boolean
    array of shape (configurations, rates), where given: the others come back
    infeasible, ``NOT_SIZED``); what binds (None unless ``named``); whether any number
    does (arrays of shape (configurations, rates)).

    The search starts at the fewest instances that keep the pool's queue stable,
    ``floor(rate * W_p / 1000) + 1`` (``W_p``: prefill work per request [ms]), where most
    configurations already meet the targets (an M/G/c queue with many servers waits
    little); those that do not try 1, 2, 4, ... more instances and then bisect, each step
    evaluating only the configurations still searching.
    """
    n, v = len(part.fits), np.size(design_rates)
    searched = np.ones((n, v), bool) if search is None else np.asarray(search, bool)
    tried = np.flatnonzero(searched.any(axis=1))  # the targets at no load: where searched
    at_zero = {name: np.zeros(n, bool) for name in map(_label, targets)}
    if tried.size:
        some = part.take(tried)
        zero = _checks(some, fleet_state(some, 0.0, 1, 1, overhead_ms), targets, False)
        for name, met in zero.items():
            at_zero[name][tried] = met
    tpot_names = [_label(k) for k in targets if TARGETS[k][0] == "tpot"]
    ttft_keys = {k: v for k, v in targets.items() if TARGETS[k][0] == "ttft"}
    config = np.repeat(np.arange(n), v)  # rows: (configuration, rate) pairs
    rate = np.tile(np.asarray(design_rates, float), n)
    feasible = np.repeat(_all(at_zero), v) & searched.ravel()
    fewest = _fewest_stable(part, design_rates).ravel()  # fewer: unstable

    # What binds where a pool is found: the TTFT target that asks the most prefill
    # instances, the first failing with one instance fewer (the search's last failing
    # try, noted as it goes), or the pool's capacity where the fewest stable pool meets
    # the targets; beside the decode instances' slots.
    failing = np.full(n * v, "prefill capacity", dtype=object) if named else None

    def ok(rows, k):
        state = fleet_state(part.take(config[rows]), rate[rows], 1, k, overhead_ms)
        if not ttft_keys:
            return state.stable
        checks = _checks(part, state, ttft_keys, False)
        passing = _all(checks)
        if named:
            failing[rows[~passing]] = _binding(checks, list(map(_label, ttft_keys)))[~passing]
        return passing

    upper = fewest.copy()
    lower = fewest - 1  # fails (unstable) or is 0
    rows = np.flatnonzero(feasible)
    step = np.ones(rows.size)
    for _ in range(POOL_DOUBLINGS):  # grow the failing rows' bracket: +1, +2, +4, ...
        if not rows.size:
            break
        passing = ok(rows, upper[rows])
        lower[rows[~passing]] = upper[rows[~passing]]
        upper[rows[~passing]] += step[~passing]
        rows, step = rows[~passing], 2 * step[~passing]
    feasible[rows] = False  # no pool up to the last doubling meets the targets
    rows = np.flatnonzero(feasible & (upper - lower > 1))
    while rows.size:
        mid = np.floor(0.5 * (lower[rows] + upper[rows]))
        passing = ok(rows, mid)
        upper[rows[passing]], lower[rows[~passing]] = mid[passing], mid[~passing]
        rows = rows[upper[rows] - lower[rows] > 1]
    shape = (n, v)
    instances = np.where(feasible, upper, np.nan).reshape(shape)
    if not named:
        return instances, None, feasible.reshape(shape)
    # What binds where no pool is found: an unmeetable target.
    binding = np.where(
        feasible,
        "decode: memory; prefill: " + failing.astype(str),
        np.repeat(_binding(at_zero, [*tpot_names, *map(_label, ttft_keys)]), v),
    )
    return instances, np.where(searched, binding.reshape(shape), NOT_SIZED), feasible.reshape(shape)


def _size(
    service: ServiceTimes, design_rates, targets, overhead_ms, prices=(), named=True, pools=None
):
    """Replicas, prefill instances, what binds (None unless ``named``: its texts cost
    more than the numbers where many rates are sized) and feasibility of each
    configuration at each design rate: arrays of shape (configurations, rates).

    ``prices``: per-configuration $/GPU-hour arrays (NaN: unpriced); where given, only
    the cheapest fleet under each matters (:func:`cheapest_fleets_at`), so the prefill
    pools are sized only where they can be it (:func:`_worth_sizing`); the other
    disaggregated pairs come back infeasible (``NOT_SIZED``). ``pools``, else:
    ``pools(found, rows, bound)``, the (disaggregated configuration ``rows``, rate)
    pairs whose pool to size, given the aggregated fleets' GPUs ``found``
    (configurations x rates, NaN where none) and each pair's fewest GPUs ``bound``
    (:func:`_worth_sizing`); the others come back infeasible (``NOT_SIZED``)."""
    rates = np.atleast_1d(np.asarray(design_rates, float))
    n, v = len(service.fits), rates.size
    split, fits = service.disaggregated, service.fits
    replicas = np.full((n, v), np.nan)
    instances = np.zeros((n, v))
    binding = np.full((n, v), "memory (does not fit)", dtype=object) if named else None
    feasible = np.zeros((n, v), bool)
    rows = np.flatnonzero(~split & fits)
    if rows.size:
        cap, why, ok = _aggregated_capacity(service.take(rows), targets, overhead_ms, rates, named)
        per_replica = np.where(ok, cap, 1.0)[:, None]
        replicas[rows] = np.where(ok[:, None], np.ceil(rates[None, :] / per_replica), np.nan)
        feasible[rows] = ok[:, None]
        if named:
            binding[rows] = why[:, None]
    rows = np.flatnonzero(split & fits)
    if rows.size:
        part = service.take(rows)
        per_instance = _decode_capacity(part)
        per_decode = np.where(per_instance > 0, per_instance, 1.0)[:, None]
        decode = np.ceil(rates[None, :] / per_decode)
        ok_decode = (per_instance > 0)[:, None]
        if len(prices):
            configs = service.configs
            found = _gpus(replicas, instances, feasible, configs)  # aggregated so far
            k, why, ok = _worth_sizing(
                part,
                rates,
                targets,
                overhead_ms,
                np.where(ok_decode, decode * configs["n_gpus"].to_numpy()[rows, None], np.nan),
                configs["prefill_gpus"].to_numpy()[rows],
                [np.asarray(p, float)[rows] for p in prices],
                [_lowest_cost(found, p) for p in prices],
                named,
            )
        else:
            search = None
            if pools is not None:
                configs = service.configs
                decode_gpus = decode * configs["n_gpus"].to_numpy()[rows, None]
                bound = (
                    np.where(ok_decode, decode_gpus, np.nan)
                    + _fewest_stable(part, rates) * configs["prefill_gpus"].to_numpy()[rows, None]
                )
                search = pools(_gpus(replicas, instances, feasible, configs), rows, bound)
            k, why, ok = _prefill_pool(part, rates, targets, overhead_ms, search, named)
        ok = ok & ok_decode
        replicas[rows] = np.where(ok, decode, np.nan)
        instances[rows] = np.where(ok, k, np.nan)
        feasible[rows] = ok
        if named:
            binding[rows] = why
    if not named:
        return replicas, instances, None, feasible
    # Where a configuration fits but cannot meet a target at any load, say so (worked
    # out once per distinct text).
    codes, texts = pd.factorize(binding.ravel())
    memory = np.array([t.startswith(("memory", NOT_SIZED)) for t in texts], bool)
    memory = memory[codes].reshape(n, v)
    said = np.array(["cannot meet " + t for t in texts], dtype=object)[codes].reshape(n, v)
    unmet = ~feasible & fits[:, None] & ~memory
    return replicas, instances, np.where(unmet, said, binding), feasible


def _gpus(replicas, instances, feasible, configs) -> np.ndarray:
    """GPUs of each sized fleet, ``replicas * n_gpus + prefill_instances *
    prefill_gpus`` (NaN where infeasible): shape (configurations, rates)."""
    gpus = replicas * configs["n_gpus"].to_numpy()[:, None]
    gpus = gpus + np.nan_to_num(instances) * configs["prefill_gpus"].to_numpy()[:, None]
    return np.where(feasible, gpus, np.nan)


def _month_cost(gpus, price) -> np.ndarray:
    """$ a month of fleets of ``gpus`` at per-configuration ``price``, as
    :func:`cheapest_at` works it out (inf where either is NaN)."""
    price = np.asarray(price, float)[:, None]
    cost = np.where(~np.isnan(gpus) & ~np.isnan(price), gpus * price, np.inf)
    return cost * HOURS_PER_MONTH


def _lowest_cost(gpus, price) -> np.ndarray:
    """The lowest :func:`_month_cost` at each rate (inf where none)."""
    return _month_cost(gpus, price).min(axis=0, initial=np.inf)


def _worth_sizing(
    part, rates, targets, overhead_ms, decode_gpus, prefill_gpus, prices, best, named=True
):
    """:func:`_prefill_pool` of the disaggregated pairs (configuration, rate) of ``part``
    that can be the cheapest under one of ``prices`` (per configuration of ``part``), the
    others infeasible (what binds: None unless ``named``).

    A pair's fleet has at least ``decode_gpus + fewest * prefill_gpus`` GPUs
    (:func:`_fewest_stable`); it is sized only where that bound costs no more than the
    cheapest fleet found under some price: ``best`` (per price, per rate: the aggregated
    fleets') and, sized first, the pair with the lowest bound at each rate under each
    price. A pair left out costs strictly more than a fleet found, so the cheapest and
    its ties are as with every pool sized.
    """
    n, v = decode_gpus.shape
    bound = decode_gpus + _fewest_stable(part, rates) * prefill_gpus[:, None]
    first = np.zeros((n, v), bool)
    for price in prices:
        cost = _month_cost(bound, price)
        lowest = np.argmin(cost, axis=0) if n else np.zeros(v, np.int64)
        first[lowest, np.arange(v)] |= np.isfinite(cost[lowest, np.arange(v)])
    k, why, ok = _prefill_pool(part, rates, targets, overhead_ms, first, named)
    sized = np.where(ok, decode_gpus + np.nan_to_num(k) * prefill_gpus[:, None], np.nan)
    worth = np.zeros((n, v), bool)
    for price, lowest in zip(prices, best, strict=True):
        upper = np.minimum(lowest, _lowest_cost(sized, price))
        worth |= _month_cost(bound, price) <= upper[None, :]
    worth &= ~first
    k2, why2, ok2 = _prefill_pool(part, rates, targets, overhead_ms, worth, named)
    if named:
        why = np.where(first, why, why2)
    return np.where(first, k, k2), why, np.where(first, ok, ok2)


def plan_fleets(
    service: ServiceTimes,
    requests_per_s: float,
    targets: Mapping,
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
) -> pd.DataFrame:
    """Size every configuration of ``service`` for ``requests_per_s`` (no prices yet).

    Returns one row per configuration (``config``: its row in ``service.configs``), the
    feasible ones first: ``feasible``, ``replicas``, ``prefill_instances`` (0
    aggregated), ``total_gpus``, ``binding``, the design rate ``requests_per_s * (1 +
    headroom)`` and the fleet evaluated back at it (``latency.latency_table``'s quantiles
    and ``utilization``), ``meets_targets``; where a configuration cannot meet the
    targets, ``binding`` says why. :func:`evaluate_back` of :func:`sized_fleets`.
    """
    sized = sized_fleets(
        service, requests_per_s, targets, headroom=headroom, overhead_ms=overhead_ms
    )
    return evaluate_back(sized, service, targets, overhead_ms)


def _design_rate(requests_per_s, headroom) -> float:
    """``requests_per_s * (1 + headroom)``, both checked [requests/s]."""
    if not (isinstance(requests_per_s, int | float) and 0 < requests_per_s < 1e9):
        raise ValueError(f"requests_per_s must be in (0, 1e9); got {requests_per_s!r}")
    if not (isinstance(headroom, int | float) and 0 <= headroom <= 10):
        raise ValueError(f"headroom must be in [0, 10] (a share of the traffic); got {headroom!r}")
    return requests_per_s * (1 + headroom)


def _sized_table(
    service: ServiceTimes, design, replicas, instances, binding, feasible, feasible_only=False
):
    """:func:`sized_fleets`' table of :func:`_size`'s arrays at one design rate (its
    feasible rows alone, the table's first, where ``feasible_only``)."""
    if feasible_only:
        rows = np.flatnonzero(feasible)
        replicas, instances, binding, feasible = (
            a[rows] for a in (replicas, instances, binding, feasible)
        )
        split, configs = service.disaggregated[rows], service.configs.iloc[rows]
    else:
        rows = np.arange(len(feasible))
        split, configs = service.disaggregated, service.configs
    table = configs.assign(
        config=rows,
        replicas=replicas,
        prefill_instances=np.where(split, instances, 0),
        binding=binding,
        feasible=feasible,
        total_gpus=np.nan,
        design_requests_per_s=design,
        meets_targets=False,
        **dict.fromkeys(EVALUATED_COLUMNS, np.nan),
    )
    if not feasible.any():
        return table
    n_decode = configs["n_gpus"].to_numpy() * replicas
    n_prefill = configs["prefill_gpus"].to_numpy() * table["prefill_instances"].to_numpy()
    table = table.assign(
        total_gpus=np.where(feasible, n_decode + n_prefill, np.nan),
        prefill_to_decode_gpu_ratio=np.where(feasible, n_prefill / n_decode, np.nan),
    )
    if feasible_only:
        return table.reset_index(drop=True)
    feasible_first = np.r_[np.flatnonzero(feasible), np.flatnonzero(~feasible)]
    return table.iloc[feasible_first].reset_index(drop=True)


def sized_fleets(
    service: ServiceTimes, requests_per_s: float, targets: Mapping, *, headroom=0.2, overhead_ms=0.0
) -> pd.DataFrame:
    """:func:`plan_fleets`' table before the fleets are evaluated back: the evaluated
    columns (``EVALUATED_COLUMNS``) NaN and ``meets_targets`` False."""
    targets = checked_targets(targets)
    design = _design_rate(requests_per_s, headroom)
    sized = _size(service, design, targets, overhead_ms)
    return _sized_table(service, design, *(a[:, 0] for a in sized))


def evaluate_back(
    sized: pd.DataFrame, service: ServiceTimes, targets: Mapping, overhead_ms=0.0, rows=None
) -> pd.DataFrame:
    """``sized`` (:func:`sized_fleets`) with the fleets at ``rows`` (positions; default
    every feasible one) evaluated back at the design rate (``latency.latency_table``):
    ``EVALUATED_COLUMNS`` and ``meets_targets`` (every target met, the slots kept)."""
    targets = checked_targets(targets)
    table = sized
    rows = np.flatnonzero(table["feasible"].to_numpy(bool)) if rows is None else np.asarray(rows)
    if not rows.size:
        return table.copy()
    part = service.take(table["config"].to_numpy()[rows])
    replicas = table["replicas"].to_numpy()[rows]
    state = fleet_state(
        part,
        table["design_requests_per_s"].to_numpy()[rows]
        / np.where(part.disaggregated, 1.0, replicas),
        np.where(part.disaggregated, replicas, 1),
        np.maximum(table["prefill_instances"].to_numpy()[rows], 1).astype(np.int64),
        overhead_ms,
    )
    back = {  # latency_table's columns of these fleets, without its frame
        **latency_quantiles(state, QUANTILES),
        "mean_ttft_ms": state.mean_ttft_ms,
        "tpot_mean_ms": state.tpot_mean_ms,
        "utilization": state.utilization,
        "slot_overflow_probability": state.slot_overflow_probability,
    }
    met = back["slot_overflow_probability"] <= SLOT_OVERFLOW_PROBABILITY
    for key, limit in targets.items():
        met &= back[key] <= limit * (1 + 1e-9)
    back["meets_targets"] = met
    columns = {}
    for name, values in back.items():
        column = table[name].to_numpy(copy=True)
        column[rows] = values
        columns[name] = column
    return table.assign(**columns)


def fleet_gpus(
    service: ServiceTimes,
    requests_per_s,
    targets: Mapping,
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
) -> np.ndarray:
    """GPUs of every configuration's fleet at each of ``requests_per_s`` (an array):
    shape (configurations, rates), NaN where a configuration cannot meet ``targets``.

    One sizing of every configuration at every design rate ``requests_per_s * (1 +
    headroom)`` (``_size``: the aggregated and decode capacities once, the prefill pools
    per rate): ``replicas * n_gpus + prefill_instances * prefill_gpus``. Sizing needs no
    price: price it as many ways as wanted with :func:`cheapest_at`.
    """
    targets = checked_targets(targets)
    rates = np.atleast_1d(np.asarray(requests_per_s, float))
    if np.any(~(rates > 0)):
        raise ValueError(f"requests_per_s must be > 0; got {requests_per_s!r}")
    replicas, instances, _, feasible = _size(
        service, rates * (1 + headroom), targets, overhead_ms, named=False
    )
    return _gpus(replicas, instances, feasible, service.configs)


def cheapest_at(service: ServiceTimes, requests_per_s, gpus, usd_per_gpu_hour) -> pd.DataFrame:
    """The cheapest of the fleets ``gpus`` (:func:`fleet_gpus` at ``requests_per_s``) at
    ``usd_per_gpu_hour`` (a mapping or Series gpu -> $/GPU-hour; unpriced GPUs are left
    out). One row per rate: ``requests_per_s``, ``config`` (row of ``service.configs``, -1
    where no configuration meets the targets), ``gpu``, ``total_gpus`` and
    ``usd_per_month = total_gpus * $/GPU-hour * HOURS_PER_MONTH`` (NaN where none does).
    """
    return _cheapest(service, requests_per_s, gpus, _config_prices(service, usd_per_gpu_hour))


def _cheapest(service: ServiceTimes, requests_per_s, gpus, price) -> pd.DataFrame:
    """:func:`cheapest_at` at per-configuration prices ``price`` [$/GPU-hour]."""
    rates = np.atleast_1d(np.asarray(requests_per_s, float))
    configs = service.configs
    cost = _month_cost(gpus, price)
    best = np.argmin(cost, axis=0) if len(configs) else np.zeros(rates.size, np.int64)
    found = np.isfinite(cost[best, np.arange(rates.size)]) if len(configs) else best < 0
    return pd.DataFrame(
        {
            "requests_per_s": rates,
            "config": np.where(found, best, -1),
            "gpu": np.where(found, configs["gpu"].to_numpy()[best], ""),
            "total_gpus": np.where(found, gpus[best, np.arange(rates.size)], np.nan),
            "usd_per_month": np.where(found, cost[best, np.arange(rates.size)], np.nan),
        }
    )


def _config_prices(service: ServiceTimes, usd_per_gpu_hour) -> np.ndarray:
    """Each configuration's GPU price [$/GPU-hour] (NaN: unpriced)."""
    prices = pd.Series(usd_per_gpu_hour, dtype=float)
    codes, gpus = service.gpu_codes  # a look-up per GPU
    return prices.reindex(gpus).to_numpy(float)[codes]


def cheapest_fleets_at(
    service: ServiceTimes,
    requests_per_s,
    targets: Mapping,
    usd_per_gpu_hour: Mapping,
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
) -> dict[str, pd.DataFrame]:
    """:func:`cheapest_at` of :func:`fleet_gpus` under each price list of
    ``usd_per_gpu_hour`` (name -> gpu -> $/GPU-hour), sizing once and only the prefill
    pools that can be the cheapest under one of them (``_worth_sizing``): the same
    answers, ties included, as sizing every fleet."""
    targets = checked_targets(targets)
    rates = np.atleast_1d(np.asarray(requests_per_s, float))
    if np.any(~(rates > 0)):
        raise ValueError(f"requests_per_s must be > 0; got {requests_per_s!r}")
    prices = {name: _config_prices(service, p) for name, p in usd_per_gpu_hour.items()}
    replicas, instances, _, feasible = _size(
        service, rates * (1 + headroom), targets, overhead_ms, list(prices.values()), False
    )
    gpus = _gpus(replicas, instances, feasible, service.configs)
    return {name: _cheapest(service, rates, gpus, p) for name, p in prices.items()}


def cheapest_fleets(
    service: ServiceTimes,
    requests_per_s,
    targets: Mapping,
    usd_per_gpu_hour,
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
) -> pd.DataFrame:
    """The cheapest configuration of ``service`` at each of ``requests_per_s`` (an array),
    priced at ``usd_per_gpu_hour``: :func:`cheapest_at` of :func:`fleet_gpus`."""
    gpus = fleet_gpus(service, requests_per_s, targets, headroom, overhead_ms)
    return cheapest_at(service, requests_per_s, gpus, usd_per_gpu_hour)


@dataclass(frozen=True)
class FleetPlan:
    """What :func:`size_fleet` found.

    ``fleets``: every feasible candidate sized, evaluated back and priced
    (``FLEET_COLUMNS``), cheapest first, worked out when first read (by ``complete``:
    the ranking itself evaluates back only the fleets that can come first);
    ``cheapest``: each GPU's cheapest fleet (one row per GPU, cheapest first), ready for
    ``to_csv``; ``best``: the cheapest of all (None if no GPU can meet the targets);
    ``runner_ups``: the next cheapest fleets of other setups; ``infeasible``: per GPU the
    candidates left out and why (``binding`` counts); ``verdict``: the answer in words.
    ``requests_per_s``, ``targets``, ``headroom``: the inputs.
    """

    cheapest: pd.DataFrame
    best: pd.Series | None
    runner_ups: pd.DataFrame
    infeasible: pd.DataFrame
    verdict: str
    requests_per_s: float
    targets: dict
    headroom: float
    complete: Callable[[], pd.DataFrame] = field(repr=False, compare=False)

    @functools.cached_property
    def fleets(self) -> pd.DataFrame:
        """Every feasible candidate, evaluated back and priced, cheapest first."""
        return self.complete()


def _prices(usd_per_gpu_hour, catalog: Catalog) -> pd.Series:
    prices = pd.Series(usd_per_gpu_hour, dtype=float) if usd_per_gpu_hour is not None else None
    if prices is None or prices.empty:
        raise ValueError("usd_per_gpu_hour must map one or more GPU ids to $/GPU-hour")
    unknown = [g for g in prices.index if g not in catalog.gpus.index]
    if unknown:
        raise ValueError(
            f"usd_per_gpu_hour: GPU ids must be one of {', '.join(catalog.gpus.index)}; "
            f"got {unknown}"
        )
    bad = prices[~((prices >= 0) & (prices < 1e4))]
    if len(bad):
        raise ValueError(f"usd_per_gpu_hour must be in [0, 1e4) $/GPU-hour; got {bad.to_dict()}")
    return prices


def request_rate(workload: Workload, requests_per_s=None, tokens_per_day=None) -> float:
    """Requests/s from a rate or from ``tokens_per_day`` (prompt + output tokens a day):
    ``tokens_per_day / 86,400 / (E[P] + E[O])``. 1e9 tokens a day of 1,000 + 250-token
    requests: 1e9 / 86,400 / 1,250 = 9.26 requests/s."""
    if (requests_per_s is None) == (tokens_per_day is None):
        raise ValueError("give either requests_per_s or tokens_per_day")
    if requests_per_s is not None:
        return float(requests_per_s)
    if not (isinstance(tokens_per_day, int | float) and 0 < tokens_per_day < 1e18):
        raise ValueError(f"tokens_per_day must be in (0, 1e18); got {tokens_per_day!r}")
    means = workload.mean_tokens()
    return tokens_per_day / SECONDS_PER_DAY / (means["prompt"] + means["output"])


def fleet_candidates(
    scenario: Scenario,
    gpus,
    *,
    batch_sizes=DEFAULT_BATCH_SIZES,
    n_gpus=None,
    parallelisms=tuple(PARALLELISMS),
    serving=tuple(SERVING),
    max_gpus: int = DEFAULT_MAX_GPUS,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Every configuration tried for ``gpus`` (``frontier.candidates`` per GPU)."""
    catalog = catalog or load_catalog()
    found = {}  # gpu -> its candidates' columns
    for gpu in gpus:
        domain = int(catalog.gpus.loc[gpu, "scale_up_domain_gpus"])
        counts = default_gpu_counts(domain, max_gpus) if n_gpus is None else list(n_gpus)
        rows = candidates(
            scenario.replace(gpu=gpu),
            batch_size=list(batch_sizes),
            n_gpus=counts,
            expert_parallel=tuple(p == "ep" for p in parallelisms),
            disaggregated=tuple(s == "disaggregated" for s in serving),
            prefill_gpus=counts,
            max_gpus=max_gpus,
            catalog=catalog,
        )
        if rows:
            found[gpu] = rows
    if not found:
        return pd.DataFrame(columns=["gpu", *CONFIG_COLUMNS[1:]])
    columns = {k: np.concatenate([rows[k] for rows in found.values()]) for k in rows}
    sizes = [len(rows["batch_size"]) for rows in found.values()]
    return pd.DataFrame({**columns, "gpu": np.repeat(np.array(list(found), object), sizes)})


#: Columns :func:`price_fleets` takes from the sized table as they are.
_KEPT_COLUMNS = (
    "gpu",
    "prefill_to_decode_gpu_ratio",
    "design_requests_per_s",
    *EVALUATED_COLUMNS[:6],
    "utilization",
    "slot_overflow_probability",
    "binding",
    "meets_targets",
)


def _setups(names, split, replicas, n_gpus, instances, prefill_gpus, parallelism, batch) -> list:
    """Each fleet in words: ``"H100 SXM: 3 x 8 GPUs, TP, batch cap 64"``, or
    ``"... disaggregated: 2 x 4 prefill + 3 x 8 decode GPUs, ..."``."""
    out = []
    for name, s, r, g, k, p, par, b in zip(
        names, split, replicas, n_gpus, instances, prefill_gpus, parallelism, batch, strict=True
    ):
        pools = f" disaggregated: {k} x {p} prefill + {r} x {g} decode" if s else f": {r} x {g}"
        out.append(f"{name}{pools} GPUs, {par.upper()}, batch cap {b}")
    return out


def price_fleets(
    sized: pd.DataFrame,
    requests_per_s: float,
    workload: Workload,
    prices: pd.Series,
    labels,
    catalog,
) -> pd.DataFrame:
    """Cost columns of sized fleets: a month of their GPUs, per million tokens served."""
    rows = np.flatnonzero(sized["feasible"].to_numpy(bool))
    if not rows.size:
        return pd.DataFrame(columns=list(FLEET_COLUMNS))
    column = {name: sized[name].to_numpy()[rows] for name in _KEPT_COLUMNS}
    gpu = pd.Series(column["gpu"])
    means = workload.mean_tokens()
    price = gpu.map(prices).to_numpy(float)
    month = sized["total_gpus"].to_numpy(float)[rows] * price * HOURS_PER_MONTH
    seconds = HOURS_PER_MONTH * 3600.0
    out_tokens = requests_per_s * means["output"] * seconds
    all_tokens = requests_per_s * (means["prompt"] + means["output"]) * seconds
    split = sized["disaggregated"].to_numpy(bool)[rows]
    whole = {  # the integer columns
        name: sized[source].to_numpy()[rows].astype(np.int64)
        for name, source in (
            ("gpus_per_replica", "n_gpus"),
            ("batch_cap", "batch_size"),
            ("replicas", "replicas"),
            ("prefill_instances", "prefill_instances"),
            ("total_gpus", "total_gpus"),
            ("prefill_gpus", "prefill_gpus"),
        )
    }
    parallelism = np.where(sized["expert_parallel"].to_numpy(bool)[rows], "ep", "tp")
    column.update(
        whole,
        usd_per_gpu_hour=price,
        price_label=gpu.map(labels).to_numpy() if isinstance(labels, Mapping) else labels,
        usd_per_month=month,
        usd_per_million_output_tokens=month / out_tokens * 1e6,
        usd_per_million_tokens=month / all_tokens * 1e6,
        requests_per_s=requests_per_s,
        serving=np.where(split, "disaggregated", "aggregated"),
        parallelism=parallelism,
        prefill_gpus_per_instance=np.where(split, whole["prefill_gpus"], 0),
        setup=_setups(
            gpu.map(catalog.gpus["name"]),
            split,
            whole["replicas"],
            whole["gpus_per_replica"],
            whole["prefill_instances"],
            whole["prefill_gpus"],
            parallelism,
            whole["batch_cap"],
        ),
    )
    table = pd.DataFrame({name: column[name] for name in FLEET_COLUMNS})
    order = ["usd_per_month", "total_gpus", "tpot_p90_ms", "ttft_p90_ms"]
    return table.sort_values(order, kind="stable", ignore_index=True)


def _verdict(best, cheapest, runner_ups, requests_per_s, targets, headroom, infeasible) -> str:
    want = ", ".join(f"{_label(k)} <= {v:,.0f} ms" for k, v in targets.items())
    if best is None:
        return (
            f"No priced GPU can serve {requests_per_s:,.2f} requests/s with {want}: "
            + "; ".join(f"{gpu}: {why}" for gpu, why in infeasible["why"].items())
            + "."
        )
    text = (
        f"The cheapest fleet for {requests_per_s:,.2f} requests/s ({headroom:.0%} headroom) "
        f"with {want} is {best['setup']}: {int(best['total_gpus']):,} GPUs, "
        f"${best['usd_per_month']:,.0f} a month at ${best['usd_per_gpu_hour']:.2f}/GPU-hour "
        f"({best['price_label']}), ${best['usd_per_million_output_tokens']:,.3f} per million "
        f"output tokens; {best['binding']} binds (TTFT p90 {best['ttft_p90_ms']:,.0f} ms, "
        f"TPOT p90 {best['tpot_p90_ms']:,.1f} ms)."
    )
    others = cheapest.iloc[1:]
    if len(others):
        second = others.iloc[0]
        more = second["usd_per_month"] - best["usd_per_month"]
        text += (
            f" The next GPU, {second['setup']}, costs ${second['usd_per_month']:,.0f} a month "
            + (  # the best fleet is free at a price of $0
                f"({100 * more / best['usd_per_month']:+.0f}%)."
                if best["usd_per_month"] > 0
                else f"(${more:,.0f} more)."
            )
        )
    return text


def size_fleet(
    scenario: Scenario,
    workload: Workload,
    *,
    targets: Mapping,
    usd_per_gpu_hour,
    price_label="",
    requests_per_s: float | None = None,
    tokens_per_day: float | None = None,
    headroom: float = 0.2,
    batch_sizes=DEFAULT_BATCH_SIZES,
    n_gpus=None,
    parallelisms=tuple(PARALLELISMS),
    serving=tuple(SERVING),
    max_gpus: int = DEFAULT_MAX_GPUS,
    overhead_ms: float = 0.0,
    runner_ups: int = 5,
    catalog: Catalog | None = None,
) -> FleetPlan:
    """The cheapest fleet per GPU type that serves ``workload`` within ``targets``.

    ``scenario``: the model, formats, speculative decoding and efficiencies (its GPU,
    batch and lengths are replaced by the candidates and the workload). ``targets``:
    e.g. ``{"ttft_p90_ms": 2000, "tpot_p90_ms": 50}`` (``TARGETS``). The traffic:
    ``requests_per_s`` or ``tokens_per_day`` (:func:`request_rate`); ``headroom``: the
    share of extra traffic the fleet must also take [0-10]. ``usd_per_gpu_hour``: gpu id
    -> $/GPU-hour (a mapping or a Series; the GPUs compared are those priced);
    ``price_label``: where the prices come from, a text or a mapping gpu -> text,
    passed through for display. Candidate axes: ``batch_sizes`` (batch caps),
    ``n_gpus`` (default ``frontier.default_gpu_counts`` up to ``max_gpus``, for replicas
    and prefill instances alike), ``parallelisms`` ("tp", "ep"), ``serving``
    ("aggregated", "disaggregated"). ``overhead_ms``: time outside the GPUs added to
    every TTFT. Returns a :class:`FleetPlan`.

    >>> plan = size_fleet(Scenario(), get_workload("chat"), requests_per_s=5,
    ...     targets={"ttft_p90_ms": 2000}, usd_per_gpu_hour={"h100-sxm": 2.0})  # doctest: +SKIP
    """
    catalog = catalog or load_catalog()
    prices = _prices(usd_per_gpu_hour, catalog)
    checked_targets(targets)
    rate = request_rate(workload, requests_per_s, tokens_per_day)
    configs = fleet_candidates(
        scenario,
        list(prices.index),
        batch_sizes=batch_sizes,
        n_gpus=n_gpus,
        parallelisms=parallelisms,
        serving=serving,
        max_gpus=max_gpus,
        catalog=catalog,
    )
    if configs.empty:
        raise ValueError(f"no configuration of {scenario.model} fits on {list(prices.index)}")
    service = service_times(scenario, workload, configs, catalog)
    return plan_from_service(
        service,
        workload,
        rate,
        targets,
        prices,
        price_label,
        headroom,
        overhead_ms,
        catalog,
        runner_ups,
    )


def _group_min(codes, values) -> np.ndarray:
    """The least of ``values`` (integers or floats) in each group of ``codes`` (integers
    0 .. groups - 1; a group without values: the type's largest, inf for floats)."""
    values = np.asarray(values)
    top = np.inf if values.dtype.kind == "f" else np.iinfo(values.dtype).max
    out = np.full(codes.max(initial=-1) + 1, top, dtype=values.dtype)
    np.minimum.at(out, codes, values)
    return out


def _setup_codes(table: pd.DataFrame, rows) -> np.ndarray:
    """One integer per setup (``SETUP_KEYS``: GPU, serving, parallelism, GPUs per replica
    and per prefill instance) of the configurations at ``rows`` of ``table`` (a sized
    table or ``service.configs``), 0 .. setups - 1."""
    split = table["disaggregated"].to_numpy(bool)[rows]
    setup = np.zeros(split.size, np.int64)
    for values in (
        table["gpu"].to_numpy()[rows],
        split,
        table["expert_parallel"].to_numpy(bool)[rows],
        table["n_gpus"].to_numpy()[rows],
        np.where(split, table["prefill_gpus"].to_numpy()[rows], 0),
    ):
        codes, uniques = pd.factorize(values)
        setup = setup * len(uniques) + codes
    return np.unique(setup, return_inverse=True)[1]


def _ranked_rows(sized: pd.DataFrame, prices: pd.Series, runner_ups: int) -> np.ndarray:
    """Positions of the feasible fleets of ``sized`` whose latencies can decide each GPU's
    cheapest fleet and the first ``runner_ups`` other setups (:func:`price_fleets` ranks
    by $ a month, GPUs, then TPOT and TTFT p90): every fleet at or below the key ($ a
    month, GPUs) of the (1 + runner_ups)-th setup, and each GPU's fleets at its own
    lowest key, ties included. Increasing positions."""
    feasible = np.flatnonzero(sized["feasible"].to_numpy(bool))
    gpu = pd.factorize(sized["gpu"].to_numpy()[feasible])
    gpus = sized["total_gpus"].to_numpy(float)[feasible]
    usd = gpus * prices.reindex(gpu[1]).to_numpy(float)[gpu[0]] * HOURS_PER_MONTH
    order = np.lexsort((gpus, usd))  # by $ a month, then GPUs
    new = np.r_[True, (usd[order][1:] != usd[order][:-1]) | (gpus[order][1:] != gpus[order][:-1])]
    dense = np.empty(order.size, np.int64)
    dense[order] = np.cumsum(new)  # equal keys, equal ids
    firsts = np.sort(_group_min(_setup_codes(sized, feasible), dense))
    threshold = firsts[min(runner_ups, firsts.size - 1)] if firsts.size else 0
    own_lowest = dense == _group_min(gpu[0], dense)[gpu[0]]
    return feasible[(dense <= threshold) | own_lowest]


def _pools_worth(service: ServiceTimes, prices: pd.Series, runner_ups: int):
    """``_size``'s ``pools`` for :func:`plan_from_service`: the disaggregated pairs
    whose fewest GPUs (their ``bound``) cost at most the dearer of their GPU's cheapest
    aggregated fleet and the first key of the (1 + runner_ups)-th aggregated setup
    (every pair where fewer setups are found). Each threshold only falls as the pools
    are sized, so a pair left out costs more than every fleet :func:`_ranked_rows` picks:
    the plan is as with every pool sized."""
    price = _config_prices(service, prices)
    gpu = service.gpu_codes[0]
    setup = _setup_codes(service.configs, slice(None))

    def worth(found, rows, bound):
        cost = _month_cost(found, price)[:, 0]  # inf where none
        found_setups = _group_min(setup, cost)
        firsts = np.sort(found_setups[np.isfinite(found_setups)])
        runner = firsts[runner_ups] if firsts.size > runner_ups else np.inf
        limit = np.maximum(runner, _group_min(gpu, cost)[gpu[rows]])
        return _month_cost(bound, price[rows]) <= limit[:, None]

    return worth


def _complete_fleets(
    service, design, sized, first, targets, overhead_ms, rate, workload, prices, labels, catalog
) -> pd.DataFrame:
    """:func:`price_fleets` of every feasible fleet of :func:`_size`'s arrays ``sized``
    (one rate), the pools left unsized (``NOT_SIZED``) sized first; evaluated back the
    configurations ``first`` (as the plan did), then the others."""
    replicas, instances, binding, feasible = (a.copy() for a in sized)
    rows = np.flatnonzero(binding == NOT_SIZED)
    if rows.size:
        more = _size(service.take(rows), design, targets, overhead_ms)
        replicas[rows], instances[rows], binding[rows], feasible[rows] = (a[:, 0] for a in more)
    table = _sized_table(service, design, replicas, instances, binding, feasible)
    position = np.argsort(table["config"].to_numpy())  # of each configuration
    first = np.sort(position[first])
    rest = np.setdiff1d(np.flatnonzero(table["feasible"].to_numpy(bool)), first)
    for rows in (first, rest):
        table = evaluate_back(table, service, targets, overhead_ms, rows)
    return price_fleets(table, rate, workload, prices, labels, catalog)


def plan_from_service(
    service: ServiceTimes,
    workload: Workload,
    requests_per_s: float,
    targets: Mapping,
    usd_per_gpu_hour,
    price_label="",
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
    catalog: Catalog | None = None,
    runner_ups: int = 5,
) -> FleetPlan:
    """:func:`size_fleet` on service times already evaluated (``latency.service_times``
    of its ``workload``): sized (:func:`plan_fleets`), priced (:func:`price_fleets`), the
    cheapest per GPU, runner-ups, what leaves GPUs out, the verdict."""
    catalog = catalog or load_catalog()
    prices = _prices(usd_per_gpu_hour, catalog)
    targets = checked_targets(targets)
    rate = requests_per_s
    design = _design_rate(rate, headroom)
    # The prefill pools sized only where they can rank (_pools_worth); the others when
    # every fleet is first read (complete).
    arrays = _size(
        service, design, targets, overhead_ms, pools=_pools_worth(service, prices, runner_ups)
    )
    arrays = [a[:, 0] for a in arrays]
    sized = _sized_table(service, design, *arrays, feasible_only=True)
    first = _ranked_rows(sized, prices, runner_ups)
    sized = evaluate_back(sized, service, targets, overhead_ms, first)
    fleets = price_fleets(sized.iloc[first], rate, workload, prices, price_label, catalog)
    complete = functools.partial(
        _complete_fleets,
        service,
        design,
        arrays,
        sized["config"].to_numpy()[first],
        targets,
        overhead_ms,
        rate,
        workload,
        prices,
        price_label,
        catalog,
    )
    cheapest = fleets.drop_duplicates("gpu").reset_index(drop=True)
    best = cheapest.iloc[0] if len(cheapest) else None
    # Runner-ups: the cheapest fleet of each other setup (GPU, serving, parallelism and
    # instance sizes), whatever its batch cap.
    others = fleets.drop_duplicates(list(SETUP_KEYS)).iloc[1:]
    # Why a GPU without a fleet has none (counted over its candidates alone).
    served = set(cheapest["gpu"])
    gpu = service.configs["gpu"].to_numpy()
    lost = np.flatnonzero(~arrays[3] & ~np.isin(gpu, list(served)))
    lost = pd.DataFrame(  # the sized table's types, even with no row
        {
            "gpu": pd.Series(gpu[lost], dtype=service.configs["gpu"].dtype),
            "binding": pd.Series(arrays[2][lost], dtype=service.configs["gpu"].dtype),
        }
    )
    why = lost.groupby("gpu")["binding"].agg(
        lambda b: "; ".join(f"{n} x {k}" for k, n in b.value_counts().items())
    )
    unserved = [g for g in prices.index if g not in served and g in why.index]
    infeasible = why.rename("why").to_frame().loc[unserved]
    return FleetPlan(
        complete=complete,
        cheapest=cheapest,
        best=best,
        runner_ups=others.head(runner_ups).reset_index(drop=True),
        infeasible=infeasible,
        verdict=_verdict(best, cheapest, others, rate, targets, headroom, infeasible),
        requests_per_s=rate,
        targets=targets,
        headroom=headroom,
    )
