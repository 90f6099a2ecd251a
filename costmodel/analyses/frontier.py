"""Throughput against interactivity: which GPU and setup serves a model cheapest at a target?

For the scenario's model and workload, each GPU of ``Options.gpus`` is swept over batch
sizes, GPU counts, TP/EP and aggregated/disaggregated serving in one evaluation
(``costmodel.frontier.frontier_for_gpus``, each GPU at its newest catalog price); the
result holds every GPU's front (tokens/s per user against output tokens/s per GPU), the
cheapest setup per GPU that meets the TTFT and TPOT targets, the GPUs ranked at a target
interactivity, and the providers' prices for the model where they sit on the cost axis.

Cost is the all-in ``usd_per_million_output_tokens_all_in`` (prefill and decode, both
pools). A provider's price is put on the same axis as its revenue per request over the
request's output tokens, ``(P in + O out) / O`` [$ per million output tokens], and as the
output tokens/s per GPU each GPU needs to break even at its price:
``usd_per_gpu_hour * 1e6 / (3600 * that price)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses.options import AnalysisOptions, count, scenario_field
from costmodel.catalog import load_catalog
from costmodel.economics import batch_grid
from costmodel.fields import FIELD_RANGES
from costmodel.frontier import (
    DEFAULT_MAX_GPUS,
    PARALLELISMS,
    SERVING,
    cheapest_meeting_position,
    frontier_for_gpus,
    gpu_groups,
)
from costmodel.pricing import PriceRule, model_price_dates, price_gpus, price_sheet
from costmodel.scenario import Scenario
from costmodel.spec import choice, nested, number

#: The cost every comparison here uses [$ per million output tokens].
COST = "usd_per_million_output_tokens_all_in"
_GPUS = tuple(load_catalog().gpus.index)
#: Sweeps of the shipped catalog kept by :func:`run` (scenario and swept axes as the key).
SWEEPS_KEPT = 16
#: The batch of the scenario a kept sweep is keyed by: every row takes a batch of the
#: sweep's own (``batch_grid``), so the scenario's does not change it [sequences].
SWEPT_BATCH = 1
#: TTFT targets one may set: 1 ms to 10 minutes, in steps of 100 ms [ms].
TTFT_MS_RANGE = (1.0, 600_000.0, 100.0)
#: TPOT targets one may set, in steps of 1 ms [ms].
TPOT_MS_RANGE = (0.1, 10_000.0, 1.0)
#: Interactivity a GPU ranking may ask for [tokens/s per user].
SPEED_RANGE = (0.1, 10_000.0, 1.0)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The page's own inputs; names are its URL keys."""

    gpus: tuple = choice(
        ("h200-sxm", "b200", "gb200"),
        label="GPUs",
        help="GPUs whose fronts are compared, each at its price under the price rule (a GPU "
        "the rule does not price is left out)",
        choices=_GPUS,
        many=True,
    )
    ttft_ms_max: float = number(
        2000.0,
        *TTFT_MS_RANGE,
        unit="ms",
        label="TTFT target",
        help="Longest acceptable time to first token [ms]",
    )
    tpot_ms_max: float = number(
        50.0,
        *TPOT_MS_RANGE,
        unit="ms",
        label="TPOT target",
        help="Longest acceptable time per output token (50 ms = 20 tokens/s per user) [ms]",
    )
    min_tokens_per_s_per_user: float = number(
        50.0,
        *SPEED_RANGE,
        unit="tokens/s per user",
        label="Interactivity for the GPU ranking",
        help="GPUs are ranked by their cheapest setup at least this fast per user",
    )
    batch_min: int = scenario_field(
        "batch_size",
        default=1,
        label="Smallest batch",
        help="Smallest batch size per replica swept [sequences]",
    )
    batch_max: int = scenario_field(
        "batch_size",
        default=8192,
        label="Largest batch",
        help="Largest batch size per replica swept (powers of two and 1.5x between) [sequences]",
    )
    max_gpus: int = count(
        DEFAULT_MAX_GPUS,
        most=int(FIELD_RANGES["n_gpus"][1]),
        unit="GPUs",
        label="Most GPUs per pool",
        help="Most GPUs per replica and per prefill pool swept (multiples of the scale-up "
        "domain past it) [GPUs]",
    )
    price_rule: PriceRule = nested(PriceRule())
    parallelisms: tuple = choice(
        tuple(PARALLELISMS),
        label="Parallelism",
        help="tp: tensor parallelism inside one scale-up domain; ep: experts over the GPUs, "
        "attention data-parallel",
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

    def __post_init__(self):
        super().__post_init__()
        for name in ("gpus", "parallelisms", "serving"):
            if not getattr(self, name):
                raise ValueError(f"{name} must hold at least one value")
        if self.batch_min > self.batch_max:
            raise ValueError(
                f"batch_min ({self.batch_min}) must be at most batch_max ({self.batch_max})"
            )


@dataclass(frozen=True)
class Result:
    """Fronts, the cheapest setups meeting the targets, the ranking and provider prices.

    ``fronts``: every GPU's front (``costmodel.frontier.FRONTIER_COLUMNS``), sorted by
    GPU and tokens/s per user; ``sweep``: every fitting configuration (``on_front``
    marks the front). ``cheapest``: per GPU (index) the cheapest row meeting
    ``ttft_ms_max`` and ``tpot_ms_max``, GPUs with none left out; ``ranking``: per GPU
    the cheapest row at ``min_tokens_per_s_per_user`` or faster, cheapest first.
    ``prices``: per provider price and GPU, ``usd_per_million_output_tokens_equivalent``
    and ``break_even_output_tokens_per_s_per_gpu``; ``price_date`` the newest date of
    the model's prices (None without any). ``best``: the cheapest row of ``cheapest``
    (None if no GPU meets the targets); ``unpriced``: the GPUs of ``options.gpus`` the
    price rule does not price, left out; ``verdict``: the answer in words.
    """

    scenario: Scenario
    options: Options
    fronts: pd.DataFrame
    sweep: pd.DataFrame
    cheapest: pd.DataFrame
    ranking: pd.DataFrame
    prices: pd.DataFrame
    price_date: str | None
    best: pd.Series | None
    unpriced: tuple[str, ...]
    verdict: str


def _per_gpu(table: pd.DataFrame, picked: dict) -> pd.DataFrame:
    """The rows of ``table`` at ``picked`` (GPU -> a row position or None), as a frame
    indexed by GPU (GPUs with None left out)."""
    found = {gpu: table.iloc[at] for gpu, at in picked.items() if at is not None}
    frame = pd.DataFrame(list(found.values()), index=pd.Index(list(found), name="gpu"))
    return frame.drop(columns="gpu", errors="ignore")


def rank_gpus(
    sweep: pd.DataFrame,
    min_tokens_per_s_per_user: float,
    ttft_ms_max: float = np.inf,
    tpot_ms_max: float = np.inf,
) -> pd.DataFrame:
    """Each GPU's cheapest row at ``min_tokens_per_s_per_user`` or faster that also meets
    the TTFT and TPOT targets drawn beside it, cheapest first.

    ``sweep``: rows of ``frontier_for_gpus`` (a front or the whole sweep); a GPU with no
    such row is left out. Indexed by GPU, with a ``rank`` column (1 = cheapest).
    """
    if not min_tokens_per_s_per_user > 0:
        raise ValueError(
            f"min_tokens_per_s_per_user must be > 0; got {min_tokens_per_s_per_user!r}"
        )
    fast = (sweep["tokens_per_s_per_user"].to_numpy(float) >= min_tokens_per_s_per_user) & (
        sweep["ttft_ms"].to_numpy(float) <= ttft_ms_max
    )
    fast &= sweep["tpot_ms"].to_numpy(float) <= tpot_ms_max
    cost = sweep[COST].to_numpy(float)
    picked = []  # (first fast row, GPU, its first cheapest fast row as idxmin finds it)
    for gpu, rows in gpu_groups(sweep).items():
        rows = rows[fast[rows]]
        if len(rows):
            picked.append((rows[0], gpu, rows[np.nanargmin(cost[rows])]))
    if not picked:
        return pd.DataFrame(columns=["rank", *sweep.columns.drop("gpu", errors="ignore")])
    # GPUs in order of their first fast row, then cheapest first (a stable sort)
    picked = sorted(sorted(picked), key=lambda p: cost[p[2]])
    ranked = _per_gpu(sweep, {gpu: at for _, gpu, at in picked})
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def provider_prices(
    scenario: Scenario, gpu_prices: dict, catalog
) -> tuple[pd.DataFrame, str | None]:
    """The model's provider prices at their newest date, on the all-in cost axis.

    Returns one row per provider and GPU (``gpu_prices``: gpu -> $/GPU-hour) with
    ``usd_per_million_output_tokens_equivalent = (P in + O out) / O`` and
    ``break_even_output_tokens_per_s_per_gpu = price_gpu * 1e6 / (3600 * equivalent)``,
    and that date (None if the model has no price).
    """
    dates = model_price_dates(scenario.model, catalog)
    if not dates:
        return pd.DataFrame(), None
    newest = dates[-1]
    sheet = price_sheet(scenario.model, newest, catalog)
    P, O = scenario.prompt_tokens, scenario.output_tokens
    usd_in = sheet["usd_per_million_input"].to_numpy()
    sheet["usd_per_million_output_tokens_equivalent"] = (
        P * usd_in + O * sheet["usd_per_million_output"].to_numpy()
    ) / O
    # Each GPU's rows together; no GPU drawn (no setup fits): no rows, every column.
    table = sheet.iloc[np.tile(np.arange(len(sheet)), len(gpu_prices))].reset_index(drop=True)
    table["gpu"] = pd.Series(np.repeat(list(gpu_prices), len(sheet)), dtype=str)
    price = np.repeat(np.array(list(gpu_prices.values()), float), len(sheet))
    table["usd_per_gpu_hour"] = price
    equivalent = table["usd_per_million_output_tokens_equivalent"].to_numpy(float)
    table["break_even_output_tokens_per_s_per_gpu"] = np.where(
        equivalent > 0, price * 1e6 / (3600 * np.where(equivalent > 0, equivalent, 1)), np.inf
    )
    return table, newest


def _verdict(scenario, options, best, prices, unpriced, catalog) -> str:
    (model,) = catalog.names("models", [scenario.model])
    work = f"{model} at {scenario.prompt_tokens:,} in / {scenario.output_tokens:,} out"
    targets = f"TTFT <= {options.ttft_ms_max:,.0f} ms and TPOT <= {options.tpot_ms_max:,.1f} ms"
    rule = options.price_rule.tier_text
    left_out = (
        f" Left out, no {rule} price: {', '.join(catalog.names('gpus', unpriced))}."
        if unpriced
        else ""
    )
    if best is None:
        gpus = ", ".join(catalog.names("gpus", options.gpus))
        return f"For {work}, no setup on {gpus} meets {targets}." + left_out
    (gpu,) = catalog.names("gpus", [best.name])
    text = (
        f"For {work} with {targets}, the cheapest setup is {best['setup']} on {gpu} "
        f"at ${best[COST]:,.3f} per million output tokens (at "
        f"${best['usd_per_gpu_hour']:,.2f}/GPU-hour, {rule}): "
        f"{best['output_tokens_per_s_per_gpu']:,.0f} "
        f"tokens/s per GPU, {best['tokens_per_s_per_user']:,.0f} tokens/s per user, "
        f"TTFT {best['ttft_ms']:,.0f} ms."
    )
    if len(prices):
        first = ~prices["provider"].duplicated().to_numpy()  # each provider's first row
        equivalent = prices["usd_per_million_output_tokens_equivalent"].to_numpy()[first]
        above = int((equivalent > best[COST]).sum())
        text += f" {above} of {first.sum()} provider prices for the model are above that cost."
    return text + left_out


def _sweep(scenario, axes: tuple, catalog) -> pd.DataFrame:
    """Every GPU's fitting setups (``frontier_for_gpus``, ``front_only=False``) over
    ``axes = (gpus, batch_min, batch_max, parallelisms, serving, max_gpus, price_rule)``."""
    gpus, batch_min, batch_max, parallelisms, serving, max_gpus, rule = axes
    batches = [b for b in batch_grid(batch_max) if b >= batch_min]
    return frontier_for_gpus(
        scenario,
        gpus,
        front_only=False,
        catalog=catalog,
        price_rule=rule,
        batch_size=batches or [batch_min],
        expert_parallel=tuple(p == "ep" for p in parallelisms),
        disaggregated=tuple(s == "disaggregated" for s in serving),
        max_gpus=max_gpus,
    )


@functools.lru_cache(maxsize=SWEEPS_KEPT)
def _default_catalog_sweep(scenario, axes: tuple) -> pd.DataFrame:
    """:func:`_sweep` on the shipped catalog, kept: a change of the targets alone (TTFT,
    TPOT, ranking interactivity) reuses it instead of sweeping again."""
    return _sweep(scenario, axes, load_catalog())


def _fronts(whole: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``whole`` on their GPU's front, sorted by GPU id and tokens/s per user
    (ties in their order in ``whole``)."""
    on = np.flatnonzero(whole["on_front"].to_numpy(bool))
    gpus = whole["gpu"].to_numpy()[on]
    order = np.lexsort((whole["tokens_per_s_per_user"].to_numpy(float)[on], gpus))
    return whole.iloc[on[order]].reset_index(drop=True)


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """The fronts, cheapest setups, ranking and prices for ``scenario``'s model and workload."""
    options = options or Options()
    scenario = scenario or Scenario()
    axes = (options.gpus, options.batch_min, options.batch_max)
    axes += (options.parallelisms, options.serving, options.max_gpus, options.price_rule)
    if catalog is None or catalog is load_catalog():  # shipped: kept for other targets
        # the sweep sets every row's batch: the sidebar's batch is no part of the key;
        # pandas copies on write, so a change to the result's frames never reaches the kept
        # sweep and a shallow copy protects it
        kept = _default_catalog_sweep(scenario.replace(batch_size=SWEPT_BATCH), axes)
        whole = kept.copy(deep=False)
    else:
        whole = _sweep(scenario, axes, catalog)
    catalog = catalog or load_catalog()
    groups = gpu_groups(whole) if len(whole) else {}
    if whole.empty:
        fronts = cheapest = ranking = whole
    else:
        fronts = _fronts(whole)
        picked = cheapest_meeting_position(
            whole, options.ttft_ms_max, options.tpot_ms_max, COST, list(groups.values())
        )
        cheapest = _per_gpu(whole, dict(zip(groups, picked, strict=True)))
        ranking = rank_gpus(
            whole, options.min_tokens_per_s_per_user, options.ttft_ms_max, options.tpot_ms_max
        )
    price = whole["usd_per_gpu_hour"].to_numpy() if len(whole) else None
    gpu_prices = {gpu: price[rows[0]].item() for gpu, rows in groups.items()}
    prices, price_date = provider_prices(scenario, gpu_prices, catalog)
    # the first of the cheapest (idxmin)
    best = cheapest.iloc[int(np.argmin(cheapest[COST].to_numpy(float)))] if len(cheapest) else None
    listed = price_gpus(options.gpus, options.price_rule, catalog)
    unpriced = tuple(listed["gpu"].to_numpy()[np.isnan(listed["usd_per_gpu_hour"].to_numpy())])
    return Result(
        scenario=scenario,
        options=options,
        fronts=fronts,
        sweep=whole,
        cheapest=cheapest,
        ranking=ranking,
        prices=prices,
        price_date=price_date,
        best=best,
        unpriced=unpriced,
        verdict=_verdict(scenario, options, best, prices, unpriced, catalog),
    )
