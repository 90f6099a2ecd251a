"""Call an API, rent GPUs or buy them: the monthly bill of each at a token volume.

For a workload and a monthly volume V of tokens (prompt + output):

- **API**: ``requests = V / (E[P] + E[O])`` a month, each class billed at the provider's
  prices with its prefix-cache hits at the cached-input price
  (``economics.revenue_per_request``; a price sheet row, ``catalog.price_sheet``).
- **Rent**: the cheapest fleet meeting the latency targets (``fleet.cheapest_fleets_at``:
  sized once, priced twice) at the rental prices given [$/GPU-hour]: GPUs x price x
  730 h. Electricity is inside the rental price.
- **Buy**: the same sizing at each GPU's cost of ownership per GPU-hour
  (:func:`ownership_cost`): the server's purchase price (``assets/gpu_purchase_prices.csv``)
  repaid as an annuity over ``depreciation_years`` at ``cost_of_capital``, hosting per
  kW of IT load a month, and electricity (``energy``: all-in power x PUE x $/kWh), a
  cost line of its own.

:func:`compare` evaluates the three over a vectorised grid of volumes (one sizing of every
configuration at every volume) and states in words the volumes where the cheapest answer
changes (interpolated between grid points in log volume).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.catalog import ASSETS_DIR, read_table
from costmodel.economics import revenue_per_request
from costmodel.planning.energy import LOAD_POWER_FACTOR, PUE, USD_PER_KWH, gpu_power
from costmodel.planning.fleet import HOURS_PER_MONTH, cheapest_fleets_at
from costmodel.planning.latency import ServiceTimes
from costmodel.planning.workloads import Workload

#: Years a bought server is written off over [years]: 5, as Amazon set for part of its
#: servers from 2025, shortened from 6 for the pace of AI hardware (Amazon 2024 annual
#: report; Microsoft and Alphabet use 6).
DEPRECIATION_YEARS = 5.0

#: Annual cost of capital of a GPU buyer [-]: 10 %, an assumption (GPU-backed loans to
#: neoclouds were priced around SOFR + 5-6 % in 2024-2025, about 10 %; equity costs more).
COST_OF_CAPITAL = 0.10

#: Colocation: space, power and cooling capacity per kW of IT load a month [$]: about
#: $184 (CBRE North America Data Center Trends H2 2024, average asking rent for 250-500
#: kW in primary markets); electricity is billed apart.
HOSTING_USD_PER_KW_MONTH = 184.0

#: The purchase price catalog.
PURCHASE_PRICES_CSV = ASSETS_DIR / "gpu_purchase_prices.csv"

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0

#: The answers compared, and their names on screen.
OPTIONS = ("api", "rent", "buy")
OPTION_NAMES = {"api": "API", "rent": "Rent", "buy": "Buy"}


@functools.lru_cache(maxsize=2)
def purchase_prices(path: str | Path = PURCHASE_PRICES_CSV) -> pd.DataFrame:
    """Purchase price per server, indexed by GPU id: ``usd_per_server``,
    ``gpus_per_server``, ``system``, ``date``, ``source``."""
    return read_table(Path(path)).set_index("gpu")


def annuity_per_month(principal, annual_rate, years):
    """Monthly payment repaying ``principal`` over ``years`` at ``annual_rate`` [$/month]:
    ``P r / (1 - (1 + r)^-n)``, r the monthly rate, n the months (``P / n`` at r = 0).
    $270,000 over 5 years at 10 %: r = 0.10/12, n = 60, $5,736.71 a month."""
    r = np.asarray(annual_rate, float) / 12.0
    n = np.asarray(years, float) * 12.0
    p = np.asarray(principal, float)
    safe = np.where(r > 0, r, 1.0)
    return np.where(r > 0, p * safe / (1 - (1 + safe) ** -n), p / n)


def ownership_cost(
    gpus=None,
    *,
    depreciation_years: float = DEPRECIATION_YEARS,
    cost_of_capital: float = COST_OF_CAPITAL,
    hosting_usd_per_kw_month: float = HOSTING_USD_PER_KW_MONTH,
    pue: float = PUE,
    usd_per_kwh: float = USD_PER_KWH,
    load_power_fraction: float = LOAD_POWER_FACTOR,
) -> pd.DataFrame:
    """Cost of owning one GPU an hour, by part [$/GPU-hour], for the GPUs with a purchase
    price (``gpus``: a subset of them; default all).

    ``capital = annuity_per_month(price per server) / gpus per server / 730``;
    ``hosting = all-in kW x hosting_usd_per_kw_month / 730``; ``electricity = all-in kW x
    load_power_fraction x PUE x usd_per_kwh``; ``owning_usd_per_gpu_hour`` their sum. DGX H100,
    defaults: capital 5,736.71 / 8 / 730 = $0.982, hosting 1.275 x 184 / 730 = $0.321,
    electricity 1.275 x 1.56 x 0.081 = $0.161: $1.465 per GPU-hour.
    """
    for name, value, low, high in (
        ("depreciation_years", depreciation_years, 0.5, 30),
        ("cost_of_capital", cost_of_capital, 0.0, 1.0),
        ("hosting_usd_per_kw_month", hosting_usd_per_kw_month, 0.0, 10_000),
        ("pue", pue, 1.0, 3.0),
        ("usd_per_kwh", usd_per_kwh, 0.0, 2.0),
        ("load_power_fraction", load_power_fraction, 0.05, 1.0),
    ):
        if isinstance(value, bool) or not (isinstance(value, int | float) and low <= value <= high):
            raise ValueError(f"{name} must be in [{low}, {high}]; got {value!r}")
    prices = purchase_prices()
    gpus = list(prices.index) if gpus is None else [g for g in gpus if g in prices.index]
    rows = prices.loc[gpus]
    kw = gpu_power().loc[gpus, "all_in_power_w"].to_numpy(float) / 1e3
    capital = (
        annuity_per_month(rows["usd_per_server"], cost_of_capital, depreciation_years)
        / rows["gpus_per_server"].to_numpy(float)
        / HOURS_PER_MONTH
    )
    capital = np.asarray(capital, float)
    hosting = kw * hosting_usd_per_kw_month / HOURS_PER_MONTH
    electricity = kw * load_power_fraction * pue * usd_per_kwh
    return pd.DataFrame(
        {
            "capital_usd_per_gpu_hour": capital,
            "hosting_usd_per_gpu_hour": hosting,
            "electricity_usd_per_gpu_hour": electricity,
            "owning_usd_per_gpu_hour": capital + hosting + electricity,
            "system": rows["system"].array,
            "source": rows["source"].array,
        },
        index=pd.Index(gpus, name="gpu"),
    )


def api_bill(workload: Workload, tokens_per_month, price_row) -> np.ndarray:
    """The monthly API bill of ``tokens_per_month`` (prompt + output tokens) [$].

    ``price_row``: a mapping with ``usd_per_million_input``, ``usd_per_million_output``
    and ``usd_per_million_cached_input`` (NaN or missing: the input price); arrays of
    prices give one bill per price (broadcast with ``tokens_per_month``). Each class c
    is ``share_c`` of the requests, ``revenue_per_request(E[P_c], E[O_c], ..., h_c)`` each.
    """
    volume = np.asarray(tokens_per_month, float)
    nodes = workload.nodes()
    means = workload.mean_tokens()
    per_request = 0.0
    for i, c in enumerate(workload.classes):
        prompt = nodes["prompt"][nodes["prompt"]["request_class"] == i]["tokens"].mean()
        output = nodes["output"][nodes["output"]["request_class"] == i]["tokens"].mean()
        per_request += c.share * revenue_per_request(
            prompt,
            output,
            np.asarray(price_row["usd_per_million_input"], float),
            np.asarray(price_row["usd_per_million_output"], float),
            np.asarray(price_row.get("usd_per_million_cached_input", np.nan), float),
            c.prefix_cache_hit_rate,
        )
    return volume / (means["prompt"] + means["output"]) * per_request


#: Said after the verdict when no provider prices the model (an uploaded one, say).
NO_API_PRICES = " The catalog has no provider prices for this model: the API is not compared."


def tokens_in_words(tokens: float) -> str:
    """``"91.8 billion"``, ``"100 million"``, ``"10 trillion"``, ``"5,000"``."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if tokens >= size:
            return f"{tokens / size:,.3g} {word}"
    return f"{tokens:,.0f}"


def _crossings(volumes, costs: pd.DataFrame, cheapest: pd.Series, names: dict) -> str:
    """The cheapest answer over the volumes, and where it changes, in words."""
    if cheapest.isna().all():
        return "No answer is available at these volumes."
    parts = []
    start = None
    for i in range(len(volumes)):
        now = cheapest.iloc[i]
        before = cheapest.iloc[i - 1] if i else None
        if i and now != before and isinstance(now, str) and isinstance(before, str):
            # Where the two bills cross, linear in log volume between the grid points.
            with np.errstate(invalid="ignore", divide="ignore"):
                a = np.log(costs[before].iloc[i - 1]) - np.log(costs[now].iloc[i - 1])
                b = np.log(costs[before].iloc[i]) - np.log(costs[now].iloc[i])
            t = a / (a - b) if np.isfinite(a) and np.isfinite(b) and a != b else 0.5
            low, high = np.log(volumes[i - 1]), np.log(volumes[i])
            parts.append((np.exp(low + np.clip(t, 0, 1) * (high - low)), now))
        elif start is None and isinstance(now, str):
            start = now
    text = f"At {tokens_in_words(volumes[0])} tokens a month {names[start]} is cheapest"
    for v, now in parts:
        text += f"; from about {tokens_in_words(v)} tokens a month, {names[now]}"
    return text + f" (up to {tokens_in_words(volumes[-1])} tokens a month)."


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found.

    ``table``: one row per volume: ``tokens_per_month``, ``requests_per_s``,
    ``api_usd_per_month``, ``rent_usd_per_month`` (``rent_gpu``, ``rent_gpus``),
    ``buy_usd_per_month`` (``buy_gpu``, ``buy_gpus``), their $ per million tokens and
    ``cheapest``. ``ownership``: the cost of owning each GPU an hour by part.
    ``verdict``: where the cheapest answer changes, in words; ``electricity``: how each
    answer pays for power.
    """

    table: pd.DataFrame
    ownership: pd.DataFrame
    verdict: str
    electricity: str


def compare(
    service: ServiceTimes,
    workload: Workload,
    tokens_per_month,
    targets,
    *,
    api_price,
    api_label: str,
    rent_usd_per_gpu_hour,
    rent_label: str,
    headroom: float = 0.2,
    overhead_ms: float = 0.0,
    **ownership,
) -> Comparison:
    """API vs rent vs buy over ``tokens_per_month`` (an array of volumes, prompt + output).

    ``service``: the candidate configurations' service times (``latency.service_times``;
    those of GPUs without a rental price or a purchase price drop out of that answer).
    ``targets``: the fleets' latency targets (``fleet.TARGETS``). ``api_price``: a price
    sheet row (:func:`api_bill`; None: no provider prices the model, the API is left
    out), ``api_label`` its provider; ``rent_usd_per_gpu_hour``:
    gpu -> $/GPU-hour, ``rent_label`` where from; ``ownership``: :func:`ownership_cost`'s
    keywords. Returns a :class:`Comparison`.
    """
    volumes = np.atleast_1d(np.asarray(tokens_per_month, float))
    if np.any(~(volumes > 0)):
        raise ValueError(f"tokens_per_month must be > 0; got {tokens_per_month!r}")
    means = workload.mean_tokens()
    rates = volumes / (means["prompt"] + means["output"]) / SECONDS_PER_MONTH
    owned = ownership_cost(sorted(service.gpu_codes[1]), **ownership)  # the GPUs sized
    priced = {"rent": rent_usd_per_gpu_hour, "buy": owned["owning_usd_per_gpu_hour"]}
    cheapest = cheapest_fleets_at(service, rates, targets, priced, headroom, overhead_ms)
    rent, buy = cheapest["rent"], cheapest["buy"]  # sized once, priced twice
    table = pd.DataFrame(
        {
            "tokens_per_month": volumes,
            "requests_per_s": rates,
            "api_usd_per_month": (
                np.full(volumes.size, np.nan)
                if api_price is None
                else api_bill(workload, volumes, api_price)
            ),
            "rent_usd_per_month": rent["usd_per_month"],
            "rent_gpu": rent["gpu"],
            "rent_gpus": rent["total_gpus"],
            "buy_usd_per_month": buy["usd_per_month"],
            "buy_gpu": buy["gpu"],
            "buy_gpus": buy["total_gpus"],
        }
    )
    costs = table[[f"{o}_usd_per_month" for o in OPTIONS]].set_axis(list(OPTIONS), axis=1)
    for option in OPTIONS:
        table[f"{option}_usd_per_million_tokens"] = costs[option] / volumes * 1e6
    table["cheapest"] = costs.idxmin(axis=1, skipna=True).where(costs.notna().any(axis=1))
    names = {
        "api": f"the API ({api_label})",
        "rent": f"renting ({rent_label})",
        "buy": "buying",
    }
    electricity = (
        "Renting: electricity is inside the rental price. Buying: electricity is a cost line "
        f"({owned['electricity_usd_per_gpu_hour'].round(3).to_dict()} $/GPU-hour). "
        "API: inside the token price."
    )
    return Comparison(
        table=table,
        ownership=owned,
        verdict=_crossings(volumes, costs, table["cheapest"], names)
        + ("" if api_price is not None else NO_API_PRICES),
        electricity=electricity,
    )
