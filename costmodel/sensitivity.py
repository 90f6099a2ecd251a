"""Which assumption a headline figure hangs on: tornado sensitivity and a low/high range."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.evaluation import evaluate, scan, tensor_parallel_sizes
from costmodel.fields import (
    EXPERT_PARALLEL_SENSITIVITY_FIELDS,
    FIELD_NAMES,
    FIELD_RANGES,
    INTEGER_FIELDS,
    SENSITIVITY_FIELDS,
    SPECULATIVE_SENSITIVITY_FIELDS,
)
from costmodel.scenario import Scenario

#: Assumptions a tornado moves by default (``fields.SENSITIVITY_FIELDS``: price,
#: utilisation, batch and lengths, every efficiency); with speculative decoding also
#: ``fields.SPECULATIVE_SENSITIVITY_FIELDS`` (acceptance rates, draft cost), under expert
#: parallelism ``fields.EXPERT_PARALLEL_SENSITIVITY_FIELDS`` (the all-to-all's network
#: efficiency and latency).
TORNADO_FIELDS = SENSITIVITY_FIELDS

#: A field's move may not cross another field of the base: (field, direction) -> bound.
_ORDERED = {
    ("acceptance_at_t0", "down"): ("acceptance_at_t1", max),
    ("acceptance_at_t1", "up"): ("acceptance_at_t0", min),
}


def _moved(field: str, value: float, factor: float, resolved: dict | None = None):
    """``value * factor`` clipped to the field's range (rounded for integer fields).

    With ``resolved`` (the base's values) an acceptance rate also stays on its side of
    the other one (``acceptance_at_t1 <= acceptance_at_t0``).
    """
    low, high = FIELD_RANGES[field]
    moved = min(max(value * factor, low), high)
    other = _ORDERED.get((field, "down" if factor < 1 else "up"))
    if other and resolved is not None:
        moved = other[1](moved, resolved[other[0]])
    return max(int(round(moved)), int(low)) if field in INTEGER_FIELDS else float(moved)


#: Token fields whose sum must stay within the model's context window: field -> the other.
_WINDOW_FIELDS = {"prompt_tokens": "output_tokens", "output_tokens": "prompt_tokens"}


def _moves(field: str, resolved: dict, factors, catalog: Catalog) -> list:
    """The low and high value of ``field``; ``n_gpus`` takes the neighbouring allowed
    tensor-parallel sizes (Mixtral 8x7B at 2 GPUs: 1 and 4), whatever the percentage, or
    under expert parallelism the neighbouring counts up to the experts (8 of 8: 7 and 8);
    prompt and output tokens stop at the model's context window."""
    value = resolved[field]
    if field in _WINDOW_FIELDS:
        window = int(catalog.models.loc[resolved["model"], "context_window"])
        room = window - int(resolved[_WINDOW_FIELDS[field]])
        return [min(_moved(field, value, factor, resolved), room) for factor in factors]
    if field != "n_gpus":
        return [_moved(field, value, factor, resolved) for factor in factors]
    if resolved["expert_parallel"]:  # at least one expert per GPU (check_consistency)
        most = (
            int(catalog.models.loc[resolved["model"], "n_experts"]) + resolved["redundant_experts"]
        )
        sizes = list(range(1, most + 1))
    else:
        sizes = tensor_parallel_sizes(resolved["model"], catalog)
    below, above = [n for n in sizes if n < value], [n for n in sizes if n > value]
    return [below[-1] if below else value, above[0] if above else value]


def _checked_pct(change_pct: float) -> float:
    if not 0 < change_pct < 100:
        raise ValueError(f"change_pct must be in (0, 100); got {change_pct!r}")
    return change_pct


def tornado_call(
    base: Scenario,
    resolved: dict,
    change_pct: float = 20.0,
    fields: tuple[str, ...] | None = None,
    catalog: Catalog | None = None,
) -> tuple[Scenario, dict]:
    """The ``scan`` call ``(base, columns)`` of :func:`tornado`, from ``resolved`` (the
    base's evaluated row: ``evaluate(base)`` or its row of a sweep): rows ``2 i`` and
    ``2 i + 1`` move field i (the columns' i-th key) down and up, every other field of
    ``fields`` at its resolved value."""
    _checked_pct(change_pct)
    catalog = catalog or load_catalog()
    if fields is None:
        fields = (
            TORNADO_FIELDS
            + (SPECULATIVE_SENSITIVITY_FIELDS if base.speculative else ())
            + (EXPERT_PARALLEL_SENSITIVITY_FIELDS if base.expert_parallel else ())
        )
    factors = (1 - change_pct / 100, 1 + change_pct / 100)
    moves = {f: _moves(f, resolved, factors, catalog) for f in fields}
    columns = {f: [] for f in fields}
    for field in fields:
        for moved_field in fields:
            for end in (0, 1):
                value = moves[field][end] if moved_field == field else resolved[moved_field]
                columns[moved_field].append(value)
    return base, columns


def tornado_table(columns: dict, resolved: dict, output: str, rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`tornado`'s table from the ``columns`` of :func:`tornado_call` and the
    ``rows`` its scan gave."""
    fields = list(columns)
    values = rows[output].to_numpy()
    low, high, base = values[0::2], values[1::2], resolved[output]
    swing = np.abs(high - low)
    order = largest_first(swing)
    with np.errstate(divide="ignore", invalid="ignore"):  # a base of 0 (a free GPU): inf, NaN
        change_low, change_high = 100 * (low / base - 1), 100 * (high / base - 1)
    table = {
        "field": fields,
        "value_base": [resolved[f] for f in fields],
        "value_low": columns_at(columns, fields, 0),
        "value_high": columns_at(columns, fields, 1),
    }
    return pd.DataFrame(
        {
            **{name: [values[i] for i in order] for name, values in table.items()},
            "output_low": low[order],
            "output_high": high[order],
            "output_base": base,
            "change_low_pct": change_low[order],
            "change_high_pct": change_high[order],
            "swing": swing[order],
        }
    )


def largest_first(values: np.ndarray) -> np.ndarray:
    """The row order of ``values`` largest first, NaN last: the order (ties included) of
    pandas' ``sort_values(ascending=False)``, which reverses the values, sorts them with
    numpy's default (quicksort) and reverses the result."""
    missing = np.isnan(values)
    rows = np.flatnonzero(~missing)[::-1]
    return np.concatenate(
        [rows[values[rows].argsort(kind="quicksort")][::-1], np.flatnonzero(missing)]
    )


def tornado(
    base: Scenario,
    change_pct: float = 20.0,
    output: str = "usd_per_million_output_tokens",
    fields: tuple[str, ...] | None = None,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Move each assumption down and up by ``change_pct`` percent, one at a time.

    All 2 * len(fields) scenarios are evaluated in one vectorised ``scan``
    (:func:`tornado_call`, :func:`tornado_table`). Efficiency
    fields left at their GPU-family default are moved from that default. Values are
    clipped to the field's range, so a move can be smaller than asked (utilisation
    1.0 cannot go up). Returns one row per field, sorted by ``swing`` (largest first):
    ``value_low``, ``value_high``, ``output_low``, ``output_high``, ``output_base``,
    ``change_low_pct``, ``change_high_pct`` (change of the output in percent) and
    ``swing`` = ``|output_high - output_low|``.

    Price moves cost in proportion (+20% price: +20% cost); utilisation in inverse
    proportion (-20% utilisation: 1/0.8 - 1 = +25% cost). Any numeric field may be
    moved; ``n_gpus`` moves to the neighbouring allowed tensor-parallel sizes, prompt and
    output tokens at most to the model's context window.
    """
    _checked_pct(change_pct)
    catalog = catalog or load_catalog()
    resolved = evaluate(base, catalog)
    _, columns = tornado_call(base, resolved, change_pct, fields, catalog)
    return tornado_table(columns, resolved, output, scan(base, catalog, **columns))


def columns_at(columns: dict, fields, offset: int) -> list:
    """The moved value of each field: row ``2 i + offset`` of field i's own column."""
    return [columns[f][2 * i + offset] for i, f in enumerate(fields)]


def scenario_columns(scenarios, **extra) -> tuple[Scenario, dict]:
    """The ``scan`` call ``(base, columns)`` of :func:`scan_scenarios`."""
    base, n = scenarios[0], len(scenarios)
    repeat = len(next(iter(extra.values()))) // n if extra else 1
    columns = {
        name: np.repeat(values, repeat).tolist()
        for name in FIELD_NAMES
        if name not in extra and len(set(values := [getattr(s, name) for s in scenarios])) > 1
    }
    return base, {**columns, **extra}


def scan_scenarios(scenarios, catalog: Catalog, **extra) -> pd.DataFrame:
    """One ``scan`` row per scenario (each field that differs among them as a column),
    each row repeated ``len(v)`` times when ``extra`` gives columns of length
    ``len(v) * len(scenarios)`` (scenario i's rows first)."""
    base, columns = scenario_columns(scenarios, **extra)
    return scan(base, catalog, **columns)


#: The efficiencies a headline range moves together.
_RANGE_FIELDS = ("bandwidth_efficiency", "compute_efficiency")


def ranges_call(bases, central: pd.DataFrame, catalog: Catalog) -> tuple[Scenario, dict]:
    """The ``scan`` call of :func:`headline_ranges`' ends: rows ``2 i`` and ``2 i + 1``
    are base i with both efficiencies (resolved in ``central``, base i's evaluated row
    i) times ``1 - u`` and ``1 + u``, u the GPU family's ``efficiency_uncertainty``."""
    at = catalog.gpus.index.get_indexer([b.gpu for b in bases])
    spreads = catalog.gpus["efficiency_uncertainty"].to_numpy(float)[at]
    moved = {
        name: [
            _moved(name, value, factor)
            for value, spread in zip(central[name].tolist(), spreads, strict=True)
            for factor in (1 - spread, 1 + spread)
        ]
        for name in _RANGE_FIELDS
    }
    return scenario_columns(list(bases), **moved)


def ranges_from(
    bases, central: pd.DataFrame, ends: pd.DataFrame, output: str, catalog: Catalog
) -> list[dict]:
    """:func:`headline_ranges` from the bases' ``central`` rows and the ``ends`` rows of
    :func:`ranges_call`."""
    at = catalog.gpus.index.get_indexer([b.gpu for b in bases])
    pairs = ends[output].to_numpy().reshape(len(at), 2)
    return [
        {
            "low": low,
            "central": mid,
            "high": high,
            "uncertainty": spread,
            "calibrated_on": "" if pd.isna(calibrated) else str(calibrated),
        }
        for low, mid, high, spread, calibrated in zip(
            pairs.min(axis=1).tolist(),
            central[output].to_numpy(float).tolist(),
            pairs.max(axis=1).tolist(),
            catalog.gpus["efficiency_uncertainty"].to_numpy(float)[at].tolist(),
            catalog.gpus["calibrated_on"].to_numpy()[at],
            strict=True,
        )
    ]


def headline_ranges(
    bases, output: str = "usd_per_million_output_tokens", catalog: Catalog | None = None
) -> list[dict]:
    """:func:`headline_range` of each scenario of ``bases``, in two ``scan`` calls in all
    (:func:`ranges_call`, :func:`ranges_from`)."""
    catalog = catalog or load_catalog()
    bases = list(bases)
    if not bases:
        return []
    central = scan_scenarios(bases, catalog)
    base, columns = ranges_call(bases, central, catalog)
    return ranges_from(bases, central, scan(base, catalog, **columns), output, catalog)


def headline_range(
    base: Scenario, output: str = "usd_per_million_output_tokens", catalog: Catalog | None = None
) -> dict:
    """Low / central / high of ``output`` as the GPU family's efficiencies are uncertain.

    Bandwidth and compute efficiency move together by the family's
    ``efficiency_uncertainty`` (relative, from ``assets/gpu_families.csv``) unless the
    scenario overrides them. Returns ``low``, ``central``, ``high`` (sorted),
    ``uncertainty`` and ``calibrated_on`` (the measurements the central value rests on).
    """
    return headline_ranges([base], output, catalog)[0]
