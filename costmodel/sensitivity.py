"""Which assumption a headline figure hangs on: tornado sensitivity and a low/high range."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.scenario import FIELD_RANGES, Scenario
from costmodel.sweep import evaluate, scan

#: Assumptions a tornado moves by default (acceptance rates are added when speculative).
TORNADO_FIELDS = (
    "usd_per_gpu_hour",
    "utilization",
    "bandwidth_efficiency",
    "compute_efficiency",
    "batch_size",
    "prompt_tokens",
    "output_tokens",
)
_INTEGER_FIELDS = ("batch_size", "prompt_tokens", "output_tokens")


def _moved(field: str, value: float, factor: float) -> float | int:
    """``value * factor`` clipped to the field's range (rounded for integer fields)."""
    low, high = FIELD_RANGES[field]
    moved = min(max(value * factor, low), high)
    return max(int(round(moved)), int(low)) if field in _INTEGER_FIELDS else float(moved)


def tornado(
    base: Scenario,
    change_pct: float = 20.0,
    output: str = "usd_per_million_output_tokens",
    fields: tuple[str, ...] | None = None,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Move each assumption down and up by ``change_pct`` percent, one at a time.

    All 2 * len(fields) scenarios are evaluated in one vectorised ``scan``. Efficiency
    fields left at their GPU-family default are moved from that default. Values are
    clipped to the field's range, so a move can be smaller than asked (utilisation
    1.0 cannot go up). Returns one row per field, sorted by ``swing`` (largest first):
    ``value_low``, ``value_high``, ``output_low``, ``output_high``, ``output_base``,
    ``change_low_pct``, ``change_high_pct`` (change of the output in percent) and
    ``swing`` = ``|output_high - output_low|``.

    Price moves cost in proportion (+20% price: +20% cost); utilisation in inverse
    proportion (-20% utilisation: 1/0.8 - 1 = +25% cost).
    """
    if not 0 < change_pct < 100:
        raise ValueError(f"change_pct must be in (0, 100); got {change_pct!r}")
    catalog = catalog or load_catalog()
    if fields is None:
        fields = TORNADO_FIELDS + (
            ("acceptance_at_t0", "acceptance_at_t1") if base.speculative else ()
        )
    resolved = evaluate(base, catalog)
    factors = (1 - change_pct / 100, 1 + change_pct / 100)
    columns = {f: [] for f in fields}
    for field in fields:
        for moved_field in fields:
            for factor in factors:
                value = resolved[moved_field]
                if moved_field == field:
                    value = _moved(field, value, factor)
                columns[moved_field].append(value)
    rows = scan(base, catalog, **columns)[output].to_numpy()
    low, high = rows[0::2], rows[1::2]
    table = pd.DataFrame(
        {
            "field": list(fields),
            "value_base": [resolved[f] for f in fields],
            "value_low": columns_at(columns, fields, 0),
            "value_high": columns_at(columns, fields, 1),
            "output_low": low,
            "output_high": high,
            "output_base": resolved[output],
        }
    )
    table["change_low_pct"] = 100 * (table["output_low"] / table["output_base"] - 1)
    table["change_high_pct"] = 100 * (table["output_high"] / table["output_base"] - 1)
    table["swing"] = np.abs(table["output_high"] - table["output_low"])
    return table.sort_values("swing", ascending=False, ignore_index=True)


def columns_at(columns: dict, fields, offset: int) -> list:
    """The moved value of each field: row ``2 i + offset`` of field i's own column."""
    return [columns[f][2 * i + offset] for i, f in enumerate(fields)]


def headline_range(
    base: Scenario, output: str = "usd_per_million_output_tokens", catalog: Catalog | None = None
) -> dict:
    """Low / central / high of ``output`` as the GPU family's efficiencies are uncertain.

    Bandwidth and compute efficiency move together by the family's
    ``efficiency_uncertainty`` (relative, from ``assets/gpu_families.csv``) unless the
    scenario overrides them. Returns ``low``, ``central``, ``high`` (sorted),
    ``uncertainty`` and ``calibrated_on`` (the measurements the central value rests on).
    """
    catalog = catalog or load_catalog()
    family = catalog.gpus.loc[base.gpu]
    spread = float(family["efficiency_uncertainty"])
    central = evaluate(base, catalog)
    efficiencies = [central["bandwidth_efficiency"], central["compute_efficiency"]]
    moved = {
        name: [_moved(name, value, 1 - spread), _moved(name, value, 1 + spread)]
        for name, value in zip(
            ("bandwidth_efficiency", "compute_efficiency"), efficiencies, strict=True
        )
    }
    ends = scan(base, catalog, **moved)[output].to_numpy()
    calibrated = family["calibrated_on"]
    return {
        "low": float(ends.min()),
        "central": float(central[output]),
        "high": float(ends.max()),
        "uncertainty": spread,
        "calibrated_on": "" if pd.isna(calibrated) else str(calibrated),
    }
