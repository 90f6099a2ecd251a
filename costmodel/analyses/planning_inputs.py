"""What the planning analyses share: the workload, traffic, targets, GPUs and their prices.

:class:`PlanningOptions` is the base of ``fleet_sizing.Options`` and
``buy_or_rent.Options`` (their common inputs, as URL keys); the functions turn them into
the library's arguments: :func:`workload_of`, :func:`targets_of`, :func:`rental_prices`
and :func:`service_of` (the candidates' service times, one ``scan``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses.options import AnalysisOptions, count
from costmodel.economics import batch_grid
from costmodel.frontier import PARALLELISMS, SERVING
from costmodel.planning import Workload, catalog_workloads, request_class, workload
from costmodel.planning.fleet import DEFAULT_MAX_GPUS, TARGETS, fleet_candidates
from costmodel.planning.latency import service_times
from costmodel.pricing import PriceRule, price_gpus
from costmodel.spec import choice, integer, nested, number

#: Workloads one may pick: the catalog's, or the scenario's own lengths ("scenario").
WORKLOADS = (*catalog_workloads(), "scenario")
#: A latency target [ms]: 1 ms to 10 minutes, in steps of 10 ms.
TARGET_RANGE = (1.0, 600_000.0, 10.0)
#: What an empty target means.
NO_TARGET = "no target"


def _target(default, label: str, help: str):
    return number(default, *TARGET_RANGE, unit="ms", label=label, help=help, empty=NO_TARGET)


@dataclass(frozen=True)
class PlanningOptions(AnalysisOptions):
    """Inputs both planning analyses take; names are the pages' URL keys."""

    workload: str = choice(
        "chat",
        label="Workload",
        help="A workload of assets/workloads.csv (its request classes, length distributions "
        "and prefix-cache hits), or 'scenario': the sidebar's prompt and output lengths and "
        "hit rate, spread by length_cv",
        choices=WORKLOADS,
    )
    length_cv: float = number(
        0.0,
        0.0,
        3.0,
        0.1,
        unit="-",
        label="Length spread (scenario workload)",
        help="Coefficient of variation of the scenario workload's lognormal prompt and output "
        "lengths; 0: every request has the sidebar's lengths [-]",
    )
    ttft_p50_ms: float | None = _target(
        None, "TTFT p50 target", "Median time to first token, at most [ms]"
    )
    ttft_p90_ms: float | None = _target(
        2000.0, "TTFT p90 target", "90th percentile time to first token, at most [ms]"
    )
    ttft_p99_ms: float | None = _target(
        None, "TTFT p99 target", "99th percentile time to first token, at most [ms]"
    )
    tpot_p50_ms: float | None = _target(
        None, "TPOT p50 target", "Median time per output token, at most [ms]"
    )
    tpot_p90_ms: float | None = _target(
        50.0,
        "TPOT p90 target",
        "90th percentile time per output token (50 ms = 20 tokens/s per user) [ms]",
    )
    tpot_p99_ms: float | None = _target(
        None, "TPOT p99 target", "99th percentile time per output token, at most [ms]"
    )
    headroom: float = number(
        0.2,
        0.0,
        10.0,
        0.05,
        unit="-",
        label="Headroom",
        help="Extra traffic the fleet must also take, as a share of the traffic (0.2: 20 % "
        "more) [-]",
    )
    gpus: tuple = choice(
        ("h100-sxm", "h200-sxm", "b200", "mi300x"),
        label="GPUs",
        help="GPU types sized, each at its price under the price rule (a GPU it does not "
        "price is left out)",
        catalog_table="gpus",
        many=True,
    )
    price_rule: PriceRule = nested(PriceRule())
    batch_max: int = integer(
        1024,
        1,
        65536,
        unit="sequences",
        label="Largest batch cap",
        help="Batch caps tried: powers of two and 1.5x between, from 1 to this [sequences]",
    )
    max_gpus: int = count(
        DEFAULT_MAX_GPUS,
        most=64,
        unit="GPUs",
        label="Most GPUs per replica",
        help="Most GPUs per replica and per prefill instance tried [GPUs]",
    )
    parallelisms: tuple = choice(
        tuple(PARALLELISMS),
        label="Parallelism",
        help="tp: tensor parallelism inside one scale-up domain; ep: experts over the GPUs",
        choices=tuple(PARALLELISMS),
        names=PARALLELISMS,
        many=True,
    )
    serving: tuple = choice(
        tuple(SERVING),
        label="Serving",
        help="aggregated: prefill and decode on the same GPUs; disaggregated: a prefill pool "
        "of its own",
        choices=tuple(SERVING),
        many=True,
    )
    overhead_ms: float = number(
        0.0,
        0.0,
        10_000.0,
        10.0,
        unit="ms",
        label="Overhead per request",
        help="Time outside the GPUs added to every TTFT (HTTP, tokenizer, routing) [ms]",
    )

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
    """Each GPU's price under ``options.price_rule`` (the scenario's GPU at the scenario's
    price unless the rule's own prices name it) and its label; GPUs with none left out."""
    table = price_gpus(options.gpus, options.price_rule, catalog)
    gpu = table["gpu"].to_numpy()
    price = table["usd_per_gpu_hour"].to_numpy(float, copy=True)
    label = table["label"].to_numpy(object, copy=True)
    mine = (gpu == scenario.gpu) & (table["tier"].to_numpy() != "own")
    price[mine], label[mine] = scenario.usd_per_gpu_hour, "scenario price"
    kept = np.isfinite(price)
    return pd.DataFrame(
        {"usd_per_gpu_hour": price[kept], "price_label": label[kept]},
        index=pd.Index(gpu[kept], name="gpu"),
    )


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
