"""A discrete-event simulation of the prefill queues, to check ``latency``'s queueing model.

The same system as :func:`costmodel.planning.latency.fleet_state`: Poisson arrivals,
first come first served, the model's own service times. Each request draws its class by
share and a probability p ~ U(0, 1); its service times are the model's at that quantile of
its prompt length (linear between the quadrature nodes, whose probabilities are
``(k + 0.5) / n``). Aggregated configurations: one server per replica, service
``queue_service_ms``; disaggregated ones: ``prefill_instances`` servers, service
``prefill_work_ms``. TTFT = wait + ``own_prefill_ms`` + overhead, and on disaggregated
configurations the model's mean wait for a batched prefill pass
(``latency.prefill_pass_wait_ms``, a fixed time here: the simulation checks the queue).

Vectorised over the configurations and rates simulated together: single-server queues
by Lindley's recursion in closed form (cumulative sums, no loop over requests); the
others in one pass over the requests, each step an operation on arrays of all queues.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.planning.latency import (
    MS_PER_S,
    QUANTILES,
    ServiceTimes,
    latency_table,
    prefill_pass_wait_ms,
    service_times,
)
from costmodel.planning.workloads import Workload
from costmodel.scenario import Scenario

#: Requests simulated per stream by default, the first ones left out (warm-up), and
#: independent streams per configuration (near saturation a queue forgets its past
#: slowly: 200,000 requests in all keep the p90's sampling error at a few percent).
REQUESTS = 20_000
WARM_UP = 2_000
REPLICATIONS = 10


def _at_quantile(service: ServiceTimes, values, cls, p):
    """``values`` (configs x nodes) at each request's class and quantile p, linear between
    the class's nodes (constant beyond the outer ones) (configs x requests)."""
    m = service.nodes_per_class
    pos = np.clip(p * m - 0.5, 0.0, m - 1.0)
    low = np.minimum(np.floor(pos), max(m - 2, 0)).astype(np.int64)
    frac = pos - low
    rows = np.arange(values.shape[0])[:, None]
    first = values[rows, cls * m + low]
    second = values[rows, cls * m + np.minimum(low + 1, m - 1)]
    return first + (second - first) * frac


def simulate_ttft_ms(
    service: ServiceTimes,
    arrival_rate,
    prefill_instances=1,
    overhead_ms=0.0,
    requests: int = REQUESTS,
    warm_up: int = WARM_UP,
    replications: int = REPLICATIONS,
    seed: int = 0,
) -> np.ndarray:
    """Simulated TTFTs of each configuration of ``service`` at ``arrival_rate`` [ms].

    ``arrival_rate``: requests/s of each configuration's queue (one replica when
    aggregated, the whole pool when disaggregated), an array over the configurations.
    Each configuration runs ``replications`` independent streams of ``requests``
    requests, the first ``warm_up`` of each left out. Returns shape ``(configs,
    replications * (requests - warm_up))``.
    """
    rng = np.random.default_rng(seed)
    n0 = len(service.fits)
    rep = np.repeat(np.arange(n0), replications)  # each configuration, replicated
    n = rep.size
    lam = (np.asarray(arrival_rate, float) * np.ones(n0))[rep]
    split = service.disaggregated[rep]
    servers = np.where(split, (np.asarray(prefill_instances) * np.ones(n0, np.int64))[rep], 1)
    gaps = rng.exponential(1.0, (n, requests)) / (lam[:, None] / MS_PER_S)
    arrivals = np.cumsum(gaps, axis=1)
    shares = service.prompt_weight.reshape(-1, service.nodes_per_class).sum(axis=1)
    cls = rng.choice(len(shares), size=(n, requests), p=shares / shares.sum())
    p = rng.uniform(0.0, 1.0, (n, requests))
    queue_service = np.where(
        service.disaggregated[:, None], service.prefill_work_ms, service.queue_service_ms
    )[rep]
    work = _at_quantile(service, queue_service, cls, p)
    own = _at_quantile(service, service.own_prefill_ms[rep], cls, p)
    wait = np.empty((n, requests))
    one = servers == 1
    # One server: Lindley's recursion W(i+1) = max(0, W(i) + S(i) - gap(i+1)) in closed
    # form, W(i) = U(i) - min(0, min over k <= i of U(k)), U the running sum of S - gap.
    steps = np.concatenate([np.zeros((n, 1)), work[:, :-1] - gaps[:, 1:]], axis=1)
    running = np.cumsum(steps, axis=1)
    wait[one] = (running - np.minimum(np.minimum.accumulate(running, axis=1), 0.0))[one]
    # Several: each request takes the server free first.
    many = np.flatnonzero(~one)
    if many.size:
        slots = np.arange(servers.max())[None, :] < servers[many, None]
        free = np.where(slots, 0.0, np.inf)
        rows = np.arange(many.size)
        for i in range(requests):
            k = free.argmin(axis=1)
            start = np.maximum(arrivals[many, i], free[rows, k])
            wait[many, i] = start - arrivals[many, i]
            free[rows, k] = start + work[many, i]
    passes = prefill_pass_wait_ms(service, arrival_rate, prefill_instances)[rep, None]
    ttft = (wait + own + overhead_ms + passes)[:, warm_up:]
    return ttft.reshape(n0, -1)


#: The queues :func:`check_against_simulation` checks by default: Llama 3.1 70B in FP8 on
#: 4x H100, one aggregated replica (an M/G/1 prefill queue) and a disaggregated pool of
#: four prefill instances of 4 GPUs (M/G/4).
CHECK_SCENARIO = Scenario(
    model="llama-3.1-70b", gpu="h100-sxm", n_gpus=4, weight_format="fp8", kv_format="fp8"
)
CHECK_CONFIGS = pd.DataFrame(
    {
        "gpu": ["h100-sxm"] * 2,
        "n_gpus": [4, 4],
        "expert_parallel": [False, False],
        "batch_size": [64, 64],
        "disaggregated": [False, True],
        "prefill_gpus": [4, 4],
    }
)
CHECK_SERVERS = (1, 4)
#: Loads checked: 10 % to 90 % of each queue's capacity.
CHECK_LOADS = tuple(np.round(np.arange(0.1, 0.91, 0.1), 1))


def check_against_simulation(
    workload: Workload,
    loads=CHECK_LOADS,
    quantiles=QUANTILES,
    seed: int = 0,
    scenario: Scenario = CHECK_SCENARIO,
    configs: pd.DataFrame = CHECK_CONFIGS,
    servers=CHECK_SERVERS,
) -> pd.DataFrame:
    """The queueing model's TTFT quantiles against :func:`simulate_ttft_ms` [ms, %].

    Each configuration of ``configs`` (its queue has ``servers`` servers) at each load,
    a share of its capacity: one row per (queue, load, quantile) with ``model_ms``,
    ``simulated_ms`` and ``error_pct = 100 (model / simulated - 1)``.
    """
    service = service_times(scenario, workload, configs)
    loads = np.asarray(loads, float)
    rows = []
    for i, count in enumerate(servers):
        queue = service.take(np.full(loads.size, i))
        capacity = 1 / latency_table(queue, 1.0, prefill_instances=count)["utilization"][0]
        model = latency_table(queue, loads * capacity, prefill_instances=count, quantiles=quantiles)
        simulated = simulate_ttft_ms(
            queue, loads * capacity, prefill_instances=count, seed=seed + i
        )
        for q in quantiles:
            sim = np.quantile(simulated, q, axis=1)
            predicted = model[f"ttft_p{100 * q:g}_ms"].to_numpy()
            rows.append(
                pd.DataFrame(
                    {
                        "workload": workload.name,
                        "queue": f"M/G/{count}",
                        "load": loads,
                        "quantile": q,
                        "model_ms": predicted,
                        "simulated_ms": sim,
                        "error_pct": 100 * (predicted / sim - 1),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
