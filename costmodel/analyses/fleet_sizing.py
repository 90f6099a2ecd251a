"""How many GPUs for my traffic at my latency targets, and what do they and their power cost?

For the scenario's model and formats, a workload (``assets/workloads.csv`` or the
scenario's own lengths), a traffic (requests/s or tokens a day) and targets on quantiles
of TTFT and TPOT, every GPU of ``Options.gpus`` is sized at its rental price
(``costmodel.planning.size_fleet``: counts, TP/EP, batch cap, aggregated or
disaggregated with its pool ratio, headroom) and its cheapest fleet's energy is worked
out (``costmodel.planning.energy``: joules per output token, tokens/s per MW,
electricity per million output tokens and its share of the rent, which includes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from costmodel.analyses import planning_inputs as inputs
from costmodel.catalog import load_catalog
from costmodel.planning import energy
from costmodel.planning.fleet import FleetPlan, plan_from_service, request_rate
from costmodel.scenario import Scenario
from costmodel.spec import number


@dataclass(frozen=True)
class Options(inputs.PlanningOptions):
    """The fleet-sizing page's own inputs (and ``PlanningOptions``'); names are URL keys."""

    requests_per_s: float = number(
        10.0,
        0.001,
        1e6,
        1.0,
        unit="requests/s",
        label="Traffic",
        help="Requests per second the fleet serves (used unless tokens_per_day is set) [1/s]",
    )
    tokens_per_day: float | None = number(
        None,
        1e3,
        1e15,
        1e6,
        unit="tokens/day",
        label="Traffic in tokens",
        help="Prompt + output tokens a day; empty: requests_per_s [tokens]",
        empty="the traffic in requests/s",
    )
    pue: float = number(
        energy.PUE,
        1.0,
        3.0,
        0.01,
        unit="-",
        label="PUE",
        help="Facility power over IT power (Uptime Institute 2024 average: 1.56) [-]",
    )
    usd_per_kwh: float = number(
        energy.USD_PER_KWH,
        0.0,
        2.0,
        0.005,
        unit="$/kWh",
        label="Electricity price",
        help="Price of a kWh (EIA 2024 US industrial average: about $0.081) [$/kWh]",
    )
    load_power_fraction: float = number(
        energy.LOAD_POWER_FACTOR,
        0.05,
        1.0,
        0.05,
        unit="0-1",
        label="Power drawn",
        help="Share of the systems' all-in maximum power a serving fleet draws; 1 is an upper "
        "bound [0-1]",
    )


@dataclass(frozen=True)
class Result:
    """The sized fleets, their energy and the answer in words.

    ``plan``: ``costmodel.planning.fleet.FleetPlan`` (``cheapest``: one fleet per GPU,
    cheapest first, ready for CSV; ``runner_ups``; ``fleets``: every feasible candidate;
    ``infeasible``: why a GPU has none). ``energy``: per GPU's cheapest fleet,
    ``energy.ENERGY_COLUMNS`` (rented: electricity inside the price). ``workload``: its
    classes in words; ``prices``: each GPU's price and label; ``unpriced``: GPUs left out
    for want of a price. ``verdict``: the answer in words.
    """

    plan: FleetPlan
    energy: pd.DataFrame
    workload: pd.DataFrame
    prices: pd.DataFrame
    unpriced: tuple[str, ...]
    verdict: str


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Size a fleet of every GPU of ``options.gpus`` for ``scenario``'s model."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    prices = inputs.rental_prices(scenario, options, catalog)
    unpriced = tuple(g for g in options.gpus if g not in prices.index)
    if prices.empty:
        names = ", ".join(catalog.names("gpus", options.gpus))
        raise ValueError(
            f"gpus: none of {names} has a price under the rule {options.price_rule.text}; "
            "choose other GPU types, another price tier or type your own prices"
        )
    work = inputs.workload_of(scenario, options)
    service = inputs.service_of(scenario, options, prices.index, catalog)
    rate = request_rate(
        work,
        None if options.tokens_per_day else options.requests_per_s,
        options.tokens_per_day,
    )
    plan = plan_from_service(
        service,
        work,
        rate,
        inputs.targets_of(options),
        prices["usd_per_gpu_hour"],
        prices["price_label"].to_dict(),
        options.headroom,
        options.overhead_ms,
        catalog,
    )
    cheapest = plan.cheapest
    served = rate * work.mean_tokens()["output"]
    power = energy.fleet_energy(
        cheapest["gpu"].to_numpy(),
        cheapest["total_gpus"].to_numpy(),
        served,
        cheapest["usd_per_month"].to_numpy(),
        pue=options.pue,
        usd_per_kwh=options.usd_per_kwh,
        load_power_fraction=options.load_power_fraction,
    )
    verdict = plan.verdict
    if len(power):
        best = power.iloc[0]
        verdict += (
            f" It draws {best['facility_power_kw']:,.0f} kW at PUE {options.pue:.2f}: "
            f"{best['joules_per_output_token']:,.2f} J per output token, "
            f"{best['output_tokens_per_s_per_mw']:,.0f} output tokens/s per MW; electricity "
            f"at ${options.usd_per_kwh:.3f}/kWh is "
            f"${best['electricity_usd_per_million_output_tokens']:,.3f} per million output "
            f"tokens, {best['electricity_share_pct']:.0f}% of the rent, which includes it."
        )
    if unpriced:
        verdict += (
            f" Left out for want of a {options.price_rule.tier_text} price: "
            f"{', '.join(catalog.names('gpus', unpriced))}."
        )
    if service.clipped_share > 0:
        verdict += (
            f" {100 * service.clipped_share:.1f}% of the workload's prompts are longer than "
            f"{catalog.names('models', [scenario.model])[0]}'s context window and were cut to it."
        )
    return Result(
        plan=plan,
        energy=power,
        workload=work.describe(),
        prices=prices,
        unpriced=unpriced,
        verdict=verdict,
    )
