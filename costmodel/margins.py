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
    cost = np.where(grid["fits"], grid["usd_per_request"], np.inf)
    ok = cost[None, :] <= np.atleast_1d(np.asarray(revenue, float))[:, None]
    first = grid["batch_size"].to_numpy(float)[ok.argmax(axis=1)]
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
    table = prices.copy()
    usd_in = table["usd_per_million_input"].to_numpy(float)
    cached = table.get("usd_per_million_cached_input", pd.Series(np.nan, table.index))
    cached = cached.to_numpy(float)
    revenue = revenue_per_request(
        scenario.prompt_tokens,
        scenario.output_tokens,
        usd_in,
        table["usd_per_million_output"].to_numpy(float),
        cached,
        scenario.prefix_cache_hit_rate,
    )
    table["usd_per_million_cached_input_billed"] = billed_cached_input_price(usd_in, cached)
    table["cached_price_published"] = ~np.isnan(cached)
    cost = float(ours["usd_per_request"])
    table["revenue_per_request_usd"] = revenue
    table["usd_per_request"] = cost
    table["margin_usd_per_million_requests"] = (revenue - cost) * 1e6
    with np.errstate(over="ignore"):  # a near-zero price: a loss of -inf % (said in words)
        table["margin_pct"] = np.where(
            revenue > 0, 100 * (revenue - cost) / np.where(revenue > 0, revenue, 1.0), np.nan
        )
    table["break_even_utilization"] = break_even_utilization(scenario.utilization, cost, revenue)
    table["break_even_batch_size"] = break_even_batch_size(scenario, revenue, catalog)
    return table
