"""What the planning analyses share: the workload, traffic, targets, GPUs and their prices.

:class:`PlanningOptions` is the base of ``fleet_sizing.Options`` and
``buy_or_rent.Options`` (their common inputs, as URL keys); the functions turn them into
the library's arguments: :func:`workload_of`, :func:`targets_of`, :func:`rental_prices`
and :func:`service_of` (the candidates' service times, one ``scan``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import costmodel
from costmodel.analyses.options import AnalysisOptions, Bounds, count_option, option
from costmodel.catalog import GPU_PRICE_CHOICES, gpu_price
from costmodel.economics import batch_grid
from costmodel.planning import Workload, catalog_workloads, request_class, workload
from costmodel.planning.fleet import DEFAULT_MAX_GPUS, TARGETS, fleet_candidates
from costmodel.planning.latency import service_times

#: Workloads one may pick: the catalog's, or the scenario's own lengths ("scenario").
WORKLOADS = (*catalog_workloads(), "scenario")
_GPUS = tuple(costmodel.load_catalog().gpus.index)
PARALLELISMS = ("tp", "ep")
SERVING = ("aggregated", "disaggregated")
#: A latency target [ms]: 1 ms to 10 minutes.
TARGET_BOUNDS = Bounds(1.0, 600_000.0, 10.0)

TEXTS = {
    "workload": (
        "Workload",
        "A workload of assets/workloads.csv (its request classes, length distributions and "
        "prefix-cache hits), or 'scenario': the sidebar's prompt and output lengths and "
        "hit rate, spread by length_cv",
    ),
    "length_cv": (
        "Length spread (scenario workload) [-]",
        "Coefficient of variation of the scenario workload's lognormal prompt and output "
        "lengths; 0: every request has the sidebar's lengths [-]",
    ),
    "ttft_p50_ms": ("TTFT p50 target [ms]", "Median time to first token, at most [ms]"),
    "ttft_p90_ms": ("TTFT p90 target [ms]", "90th percentile time to first token [ms]"),
    "ttft_p99_ms": ("TTFT p99 target [ms]", "99th percentile time to first token [ms]"),
    "tpot_p50_ms": ("TPOT p50 target [ms]", "Median time per output token [ms]"),
    "tpot_p90_ms": (
        "TPOT p90 target [ms]",
        "90th percentile time per output token (50 ms = 20 tokens/s per user) [ms]",
    ),
    "tpot_p99_ms": ("TPOT p99 target [ms]", "99th percentile time per output token [ms]"),
    "headroom": (
        "Headroom [-]",
        "Extra traffic the fleet must also take, as a share of the traffic (0.2: 20 % more) [-]",
    ),
    "gpus": ("GPUs", "GPU types sized, each at its own price [GPU ids]"),
    "gpu_price": (
        "Rental price",
        "Which catalog rental price each GPU gets [$/GPU-hour] (assets/gpu_prices.csv): the "
        "latest listed, the lowest or the highest; the scenario's GPU gets the scenario's price",
    ),
    "batch_max": (
        "Largest batch cap [sequences]",
        "Batch caps tried: powers of two and 1.5x between, from 1 to this [sequences]",
    ),
    "max_gpus": (
        "Most GPUs per replica",
        "Most GPUs per replica and per prefill instance tried [GPUs]",
    ),
    "parallelisms": (
        "Parallelism",
        "tp: tensor parallelism inside one scale-up domain; ep: experts over the GPUs",
    ),
    "serving": (
        "Serving",
        "aggregated: prefill and decode on the same GPUs; disaggregated: a prefill pool of its own",
    ),
    "overhead_ms": (
        "Overhead per request [ms]",
        "Time outside the GPUs added to every TTFT (HTTP, tokenizer, routing) [ms]",
    ),
}


def _target(default):
    return option(default, TARGET_BOUNDS, optional=True)


@dataclass(frozen=True)
class PlanningOptions(AnalysisOptions, texts=TEXTS):
    """Inputs both planning analyses take; names are the pages' URL keys."""

    workload: str = option("chat", choices=WORKLOADS)
    length_cv: float = option(0.0, Bounds(0.0, 3.0, 0.1))
    ttft_p50_ms: float | None = _target(None)
    ttft_p90_ms: float | None = _target(2000.0)
    ttft_p99_ms: float | None = _target(None)
    tpot_p50_ms: float | None = _target(None)
    tpot_p90_ms: float | None = _target(50.0)
    tpot_p99_ms: float | None = _target(None)
    headroom: float = option(0.2, Bounds(0.0, 10.0, 0.05))
    gpus: tuple = option(("h100-sxm", "h200-sxm", "b200", "mi300x"), choices=_GPUS)
    gpu_price: str = option("latest", choices=GPU_PRICE_CHOICES)
    batch_max: int = option(1024, Bounds(1, 65536, 1), integer=True)
    max_gpus: int = count_option(DEFAULT_MAX_GPUS, most=64)
    parallelisms: tuple = option(PARALLELISMS, choices=PARALLELISMS)
    serving: tuple = option(SERVING, choices=SERVING)
    overhead_ms: float = option(0.0, Bounds(0.0, 10_000.0, 10.0))

    def __post_init__(self):
        super().__post_init__()
        for name in ("gpus", "parallelisms", "serving"):
            if not getattr(self, name):
                raise ValueError(f"{name} must hold at least one value")
        if not targets_of(self):
            raise ValueError(f"set one or more targets of {', '.join(TARGETS)}")


def targets_of(options: PlanningOptions) -> dict[str, float]:
    """The targets set (None: not a target) [ms]."""
    return {k: getattr(options, k) for k in TARGETS if getattr(options, k) is not None}


def workload_of(scenario, options: PlanningOptions) -> Workload:
    """The workload picked: a catalog one, or the scenario's lengths and hit rate."""
    if options.workload != "scenario":
        return catalog_workloads()[options.workload]
    cv = options.length_cv
    return workload(
        "scenario",
        request_class(
            "scenario",
            1,
            (scenario.prompt_tokens, cv),
            (scenario.output_tokens, cv),
            scenario.prefix_cache_hit_rate,
        ),
        source="the scenario's prompt and output lengths and prefix-cache hit rate",
    )


def rental_prices(scenario, options: PlanningOptions, catalog) -> pd.DataFrame:
    """Each GPU's rental price and its label; GPUs with none left out."""
    rows = {}
    for gpu in options.gpus:
        if gpu == scenario.gpu:
            rows[gpu] = (scenario.usd_per_gpu_hour, "scenario price")
            continue
        found = gpu_price(gpu, options.gpu_price, catalog)
        if found is not None:
            rows[gpu] = (found.usd_per_gpu_hour, found.label)
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["usd_per_gpu_hour", "price_label"]
    ).rename_axis("gpu")


def service_of(scenario, options: PlanningOptions, gpus, catalog):
    """The candidate configurations of ``gpus`` and their service times (one ``scan``)."""
    configs = fleet_candidates(
        scenario,
        list(gpus),
        batch_sizes=batch_grid(options.batch_max),
        parallelisms=options.parallelisms,
        serving=options.serving,
        max_gpus=options.max_gpus,
        catalog=catalog,
    )
    if configs.empty:
        raise ValueError(f"no configuration of {scenario.model} fits on {list(gpus)}")
    return service_times(scenario, workload_of(scenario, options), configs, catalog)
