"""Should we call an API, rent GPUs or buy them, at our volume?

For the scenario's model and a workload, over a grid of monthly token volumes (prompt +
output, geometric from ``tokens_min`` to ``tokens_max``): the API bill at a provider's
newest prices for the model (cached input at its cached price), the cheapest rented
fleet meeting the latency targets at the catalog's rental prices, and the cheapest bought
fleet at each GPU's cost of ownership (``costmodel.planning.buy_rent_api``: purchase
price, depreciation, cost of capital, hosting, electricity), with the volumes where the
cheapest answer changes in words. All fleets at all volumes are one sizing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses import planning_inputs as inputs
from costmodel.analyses.options import count
from costmodel.analyses.price_war import TODAY, resolved_price_date
from costmodel.catalog import load_catalog
from costmodel.planning import buy_rent_api, energy
from costmodel.pricing import price_sheet
from costmodel.scenario import Scenario
from costmodel.spec import choice, number

#: The price sheet's columns an API bill reads (``buy_rent_api.api_bill``).
API_PRICE_COLUMNS = (
    "usd_per_million_input",
    "usd_per_million_output",
    "usd_per_million_cached_input",
)

#: Monthly volumes one may compare [tokens/month].
VOLUME_RANGE = (1e6, 1e15, 1e6)


@dataclass(frozen=True)
class Options(inputs.PlanningOptions):
    """The API/rent/buy page's own inputs (and ``PlanningOptions``'); names are URL keys."""

    tokens_min: float = number(
        1e8,
        *VOLUME_RANGE,
        unit="tokens/month",
        label="Smallest volume",
        help="Left end of the volume grid: prompt + output tokens a month [tokens]",
    )
    tokens_max: float = number(
        1e13,
        *VOLUME_RANGE,
        unit="tokens/month",
        label="Largest volume",
        help="Right end of the volume grid: prompt + output tokens a month [tokens]",
    )
    points: int = count(
        25, most=100, label="Volumes compared", help="Volumes on the grid, geometrically spaced"
    )
    api_provider: str | None = choice(
        None,
        label="API provider",
        help="Provider whose newest price for the model is compared "
        "(assets/provider_prices.csv); empty: the one with the lowest bill for this workload",
        empty="the provider with the lowest bill",
    )
    depreciation_years: float = number(
        buy_rent_api.DEPRECIATION_YEARS,
        0.5,
        30.0,
        0.5,
        unit="years",
        label="Depreciation",
        help="Years a bought server is paid off over (Amazon: 5 for part of its servers from "
        "2025) [years]",
    )
    cost_of_capital: float = number(
        buy_rent_api.COST_OF_CAPITAL,
        0.0,
        1.0,
        0.01,
        unit="-",
        label="Cost of capital",
        help="Annual interest on the purchase (0.10: 10 %, an assumption) [-]",
    )
    hosting_usd_per_kw_month: float = number(
        buy_rent_api.HOSTING_USD_PER_KW_MONTH,
        0.0,
        10_000.0,
        5.0,
        unit="$/kW-month",
        label="Hosting",
        help="Colocation per kW of IT load a month, electricity apart (CBRE H2 2024: about "
        "$184) [$/kW-month]",
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

    def __post_init__(self):
        super().__post_init__()
        if self.tokens_min >= self.tokens_max:
            raise ValueError(
                f"tokens_min ({self.tokens_min:g}) must be below tokens_max ({self.tokens_max:g})"
            )


@dataclass(frozen=True)
class Result:
    """The three bills over volume, what owning a GPU costs, and the answer in words.

    ``table``: per volume, ``buy_rent_api.Comparison.table`` (each answer's $ a month and
    per million tokens, the GPUs of the rented and bought fleets, ``cheapest``);
    ``ownership``: each buyable GPU's cost per GPU-hour by part; ``api_price``: the
    price sheet row compared (None when the catalog has no provider prices for the
    model, an uploaded one say: then only rent and buy are compared); ``rent_prices``:
    each GPU's rental price and label; ``verdict``: where the cheapest answer changes;
    ``electricity``: how each pays for power.
    """

    table: pd.DataFrame
    ownership: pd.DataFrame
    api_price: pd.Series | None
    rent_prices: pd.DataFrame
    verdict: str
    electricity: str


def api_price_row(scenario, options: Options, work, catalog) -> pd.Series | None:
    """The newest price sheet row of the provider compared (the cheapest for the workload
    when ``options.api_provider`` is empty); None when no provider prices the model."""
    date = resolved_price_date(scenario.model, TODAY, catalog)
    sheet = price_sheet(scenario.model, date, catalog)
    if sheet.empty:
        return None
    if options.api_provider:
        rows = sheet[sheet["provider"] == options.api_provider]
        if rows.empty:
            raise ValueError(
                f"api_provider must be one of {', '.join(sheet['provider'])}; "
                f"got {options.api_provider!r}"
            )
        return rows.iloc[0]
    prices = {name: sheet[name].to_numpy(float) for name in API_PRICE_COLUMNS if name in sheet}
    bills = buy_rent_api.api_bill(work, 1e9, prices)  # one bill per row of the sheet
    return sheet.iloc[int(np.argmin(bills))]


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """API vs rent vs buy for ``scenario``'s model over ``options``' volumes."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    work = inputs.workload_of(scenario, options)
    api = api_price_row(scenario, options, work, catalog)
    rent = inputs.rental_prices(scenario, options, catalog)
    buyable = set(buy_rent_api.purchase_prices().index)
    gpus = [g for g in options.gpus if g in set(rent.index) | buyable]
    if not gpus:
        raise ValueError(f"none of {list(options.gpus)} has a rental or a purchase price")
    service = inputs.service_of(scenario, options, gpus, catalog)
    compared = buy_rent_api.compare(
        service,
        work,
        np.geomspace(options.tokens_min, options.tokens_max, options.points),
        inputs.targets_of(options),
        api_price=api,
        api_label="" if api is None else f"{api['provider']}, {api['date']}",
        rent_usd_per_gpu_hour=rent["usd_per_gpu_hour"],
        rent_label=f"{options.price_rule.tier_text} prices",
        headroom=options.headroom,
        overhead_ms=options.overhead_ms,
        depreciation_years=options.depreciation_years,
        cost_of_capital=options.cost_of_capital,
        hosting_usd_per_kw_month=options.hosting_usd_per_kw_month,
        pue=options.pue,
        usd_per_kwh=options.usd_per_kwh,
    )
    return Result(
        table=compared.table,
        ownership=compared.ownership,
        api_price=api,
        rent_prices=rent,
        verdict=compared.verdict,
        electricity=compared.electricity,
    )
