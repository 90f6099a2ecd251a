"""Energy: watts per GPU, joules per token, tokens per megawatt, electricity per token.

Power per GPU (``assets/gpu_power.csv``): ``board_power_w`` (the GPU's rated board
power) and ``all_in_power_w`` (the GPU's share of its whole system at full load: CPUs,
memory, NICs, switches, fans), where a vendor publishes the system's maximum. Where none
does, the all-in power is the board power times ``host_power_factor``, the median ratio
of all-in to board power over the GPUs that have both (DGX A100 2.03, DGX H100 and H200
1.82, DGX B200 1.79, GB200 NVL72 1.39: 1.82). The facility draws ``PUE`` times the IT
power (cooling, power conversion).

For a fleet of N GPUs serving X output tokens/s, drawing a share f of its all-in power
(``load_power_fraction``; 1, the nameplate maximum, is an upper bound):

- facility power ``P = N * all_in_power_w * f * PUE`` [W];
- ``joules_per_output_token = P / X`` [J];
- ``output_tokens_per_s_per_mw = X / (P / 1e6)``;
- ``electricity_usd_per_million_output_tokens = P / 1e3 * usd_per_kwh / (3600 X) * 1e6``;
- the electricity share of the fleet's cost per million output tokens: for a bought
  fleet electricity is a cost line of its own; for a rented one it is inside the rental
  price (the share says how much of the rent pays for power).

16 H100 at 1,275 W, PUE 1.3, $0.08/kWh, 10,000 output tokens/s: P = 26.52 kW, 2.652 J a
token, 377,074 tokens/s per MW, $0.0589 per million output tokens.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.catalog import ASSETS_DIR, read_table

#: Power usage effectiveness, facility over IT power [-]: 1.56, the average its
#: respondents reported for 2024 (Uptime Institute Global Data Center Survey 2024; new
#: large facilities reach about 1.3, hyperscalers 1.1-1.2).
PUE = 1.56

#: Electricity price [$/kWh]: about 8.1 cents, the average US retail price to industrial
#: customers in 2024 (EIA Electric Power Monthly, Table 5.3).
USD_PER_KWH = 0.081

#: Share of the all-in power a serving fleet draws, by default [0-1]: 1, the systems'
#: maximum input (an upper bound; DGX H100 draws 6.5-8.5 kW typically against 10.2 kW).
LOAD_POWER_FACTOR = 1.0

#: The GPU power catalog.
GPU_POWER_CSV = ASSETS_DIR / "gpu_power.csv"

#: Columns of :func:`fleet_energy`'s result.
ENERGY_COLUMNS = (
    "gpu",
    "total_gpus",
    "all_in_power_w",
    "all_in_basis",
    "it_power_kw",
    "facility_power_kw",
    "joules_per_output_token",
    "output_tokens_per_s_per_mw",
    "electricity_usd_per_month",
    "electricity_usd_per_million_output_tokens",
    "electricity_share_pct",
    "electricity_is",
)

HOURS_PER_MONTH = 730.0


@functools.lru_cache(maxsize=2)
def gpu_power(path: str | Path = GPU_POWER_CSV) -> pd.DataFrame:
    """Power per GPU, indexed by GPU id: ``board_power_w``, ``all_in_power_w`` (filled
    where unpublished: board power x ``host_power_factor``), ``all_in_basis`` (the
    system it comes from, or how it was estimated), ``host_power_factor``, ``source``."""
    table = read_table(Path(path)).set_index("gpu")
    published = table["all_in_power_w"].notna()
    factor = float((table["all_in_power_w"] / table["board_power_w"])[published].median())
    table["host_power_factor"] = factor
    table["all_in_basis"] = table["all_in_system"].where(
        published, f"estimated: board power x {factor:.2f} (median all-in / board)"
    )
    table["all_in_power_w"] = table["all_in_power_w"].fillna(table["board_power_w"] * factor)
    return table


def _checked(name, value, low, high):
    v = np.asarray(value, float)
    if np.any(~((v >= low) & (v <= high))):
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value!r}")
    return v


def fleet_energy(
    gpu,
    total_gpus,
    output_tokens_per_s,
    fleet_usd_per_month=None,
    *,
    owned: bool = False,
    pue: float = PUE,
    usd_per_kwh: float = USD_PER_KWH,
    load_power_fraction: float = LOAD_POWER_FACTOR,
) -> pd.DataFrame:
    """Energy of fleets: power, joules per output token, tokens/s per MW, electricity.

    ``gpu``, ``total_gpus``, ``output_tokens_per_s`` [tokens/s served]: arrays (or
    scalars) of equal length, one fleet each. ``fleet_usd_per_month``: each fleet's cost
    a month [$] (a rental bill, or an owner's costs with electricity included), for the
    electricity share; ``owned``: whether electricity is a cost line (bought fleet) or
    inside the price (rented). ``pue`` [1-3], ``usd_per_kwh`` [0-2],
    ``load_power_fraction`` [0.05-1]: see the module. Returns ``ENERGY_COLUMNS``.
    """
    pue = _checked("pue", pue, 1.0, 3.0)
    price = _checked("usd_per_kwh", usd_per_kwh, 0.0, 2.0)
    share = _checked("load_power_fraction", load_power_fraction, 0.05, 1.0)
    gpus = np.atleast_1d(np.asarray(gpu, dtype=object))
    power = gpu_power()
    unknown = sorted(set(gpus) - set(power.index))
    if unknown:
        raise ValueError(f"gpu must be one of {', '.join(power.index)}; got {unknown}")
    n = _checked("total_gpus", total_gpus, 0, 1e9) * np.ones(gpus.size)
    tokens = _checked("output_tokens_per_s", output_tokens_per_s, 0, 1e12) * np.ones(gpus.size)
    picked = power.loc[gpus]
    watts = picked["all_in_power_w"].to_numpy(float)
    it_kw = n * watts * share / 1e3
    facility_kw = it_kw * pue
    served = np.where(tokens > 0, tokens, np.nan)
    usd_per_hour = facility_kw * price
    electricity_per_month = usd_per_hour * HOURS_PER_MONTH
    if fleet_usd_per_month is None:
        electricity_share = np.full(gpus.size, np.nan)
    else:
        bill = np.asarray(fleet_usd_per_month, float) * np.ones(gpus.size)
        with np.errstate(divide="ignore", invalid="ignore"):  # a $0 bill: inf (or NaN) %
            electricity_share = 100 * electricity_per_month / bill
    table = pd.DataFrame(
        {
            "gpu": gpus,
            "total_gpus": n,
            "all_in_power_w": watts,
            "all_in_basis": picked["all_in_basis"].to_numpy(),
            "it_power_kw": it_kw,
            "facility_power_kw": facility_kw,
            "joules_per_output_token": facility_kw * 1e3 / served,
            "output_tokens_per_s_per_mw": tokens / (facility_kw / 1e3),
            "electricity_usd_per_month": electricity_per_month,
            "electricity_usd_per_million_output_tokens": usd_per_hour / (3600 * served) * 1e6,
            "electricity_share_pct": electricity_share,
            "electricity_is": pd.Series(  # a text column, even with no row
                [
                    "a cost line of the bought fleet"
                    if owned
                    else "inside the rental price (implied share)"
                ]
                * gpus.size,
                dtype="str",
            ),
        }
    )
    return table  # its columns: ENERGY_COLUMNS, in order
