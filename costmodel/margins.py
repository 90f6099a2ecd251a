"""Provider margins and break-even points: the dollar formulas of ``economics`` applied to
evaluated scenarios (this module sits above ``evaluation``; ``economics`` below it).

A provider's margin on one request is its revenue (``economics.revenue_per_request``)
minus our cost (``evaluation``'s ``usd_per_request``); it breaks even at the smallest
batch, or the lowest utilisation, at which the cost is at most the revenue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog
from costmodel.economics import (
    batch_grid,
    billed_cached_input_price,
    break_even_utilization,
    revenue_per_request,
)
from costmodel.evaluation import sweep
from costmodel.scenario import Scenario


def break_even_batch_size(
    scenario: Scenario, revenue, catalog: Catalog | None = None, batch_sizes=None
):
    """Smallest batch (that fits in memory) whose cost per request is at most ``revenue``.

    ``revenue`` may be an array (one per provider); NaN where no batch in
    ``batch_sizes`` (default ``batch_grid()``) breaks even.
    """
    grid = sweep(
        scenario, catalog, batch_size=batch_grid() if batch_sizes is None else list(batch_sizes)
    )
    return first_break_even(grid, revenue)


def first_break_even(grid: pd.DataFrame, revenue) -> np.ndarray:
    """The first ``batch_size`` of ``grid`` (a sweep over batches, smallest first: a frame
    or column -> array) that fits and costs at most ``revenue`` per request [$]; NaN where
    none does. One value per ``revenue`` (a number or an array).

    >>> grid = pd.DataFrame({"batch_size": [1, 8], "fits": [True, True],
    ...                      "usd_per_request": [0.02, 0.004]})
    >>> first_break_even(grid, [0.01, 0.001]).tolist()
    [8.0, nan]
    """
    cost = np.where(grid["fits"], grid["usd_per_request"], np.inf)
    ok = cost[None, :] <= np.atleast_1d(np.asarray(revenue, float))[:, None]
    first = np.asarray(grid["batch_size"], float)[ok.argmax(axis=1)]
    return np.where(ok.any(axis=1), first, np.nan)


def provider_margins(
    scenario: Scenario, prices: pd.DataFrame, catalog: Catalog | None = None
) -> pd.DataFrame:
    """Each provider price row with our cost, its margin and what breaks even.

    Revenue counts the scenario's ``prefix_cache_hit_rate`` of the prompt at the row's
    ``usd_per_million_cached_input`` (a column ``prices`` may lack: then, as where it is
    empty, at the input price). Columns added: ``usd_per_million_cached_input_billed``
    (the price cached tokens are billed at), ``cached_price_published`` (False where that
    is the input price), ``revenue_per_request_usd``, ``usd_per_request``,
    ``margin_usd_per_million_requests``, ``margin_pct`` (of revenue; -100 or below
    means a loss as large as the revenue or larger; NaN at a zero price),
    ``break_even_utilization`` and ``break_even_batch_size``.
    """
    ours = sweep(scenario, catalog).iloc[0]
    grid = sweep(scenario, catalog, batch_size=batch_grid())
    return margins_table(scenario, prices, float(ours["usd_per_request"]), grid)


def margins_table(
    scenario: Scenario, prices: pd.DataFrame, usd_per_request: float, grid: pd.DataFrame
) -> pd.DataFrame:
    """:func:`provider_margins` from our cost per request on ``scenario`` [$] and its
    sweep over ``batch_grid()`` (``grid``, for the break-even batch): an analysis that
    evaluated both with its other rows (``scans.scan_many``) passes them here."""
    return prices.assign(**margin_columns(scenario, prices, usd_per_request, grid))


def margin_columns(
    scenario: Scenario, prices: pd.DataFrame, usd_per_request: float, grid: pd.DataFrame
) -> dict:
    """The columns :func:`margins_table` adds to ``prices``, in its order, as arrays (one
    value per price row): for an analysis that stacks several setups' margins itself
    (``grid`` may then be column -> array)."""
    usd_in = prices["usd_per_million_input"].to_numpy(float)
    if "usd_per_million_cached_input" in prices:
        cached = prices["usd_per_million_cached_input"].to_numpy(float)
    else:
        cached = np.full(len(prices), np.nan)
    revenue = revenue_per_request(
        scenario.prompt_tokens,
        scenario.output_tokens,
        usd_in,
        prices["usd_per_million_output"].to_numpy(float),
        cached,
        scenario.prefix_cache_hit_rate,
    )
    with np.errstate(over="ignore"):  # a near-zero price: a loss of -inf % (said in words)
        margin_pct = np.where(
            revenue > 0,
            100 * (revenue - usd_per_request) / np.where(revenue > 0, revenue, 1.0),
            np.nan,
        )
    return {
        "usd_per_million_cached_input_billed": billed_cached_input_price(usd_in, cached),
        "cached_price_published": ~np.isnan(cached),
        "revenue_per_request_usd": revenue,
        "usd_per_request": np.full(len(prices), float(usd_per_request)),
        "margin_usd_per_million_requests": (revenue - usd_per_request) * 1e6,
        "margin_pct": margin_pct,
        "break_even_utilization": break_even_utilization(
            scenario.utilization, usd_per_request, revenue
        ),
        "break_even_batch_size": first_break_even(grid, revenue),
    }
