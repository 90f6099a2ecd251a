"""The price war over time: providers' prices against each model's cost floor at that date.

The cost floor of a model at a date is the cheapest GPU cost per million output tokens
over the GPUs launched by then (the ``date`` of ``assets/gpus.csv``), each at its newest
rental price of the chosen tier dated on or before that date (``assets/gpu_prices.csv``),
over tensor-parallel counts ``GPU_COUNTS`` and the chosen weight formats, keeping only
setups that fit in memory, at the scenario's batch size or, with ``target =
"interactivity"``, at the cheapest batch of ``batch_grid()`` that still gives each user
``min_tokens_per_s_per_user``. The other serving assumptions (prompt and output length,
utilisation, KV format, efficiencies) are the scenario's.

A catalog date stands for the last day of its period ('2024' is 2024-12-31, '2024-03' is
2024-03-31), as in ``catalog.date_key``: a GPU launched in 2024-03 is available from
2024-03-31, a price of '2024' counts from 2024-12-31.

The $ outputs are proportional to the GPU-hour price (``n p / 3600 / u`` dollars per
second of GPU time), so the physics is swept once, at $1 per GPU-hour, for every model,
GPU, GPU count, format (and batch), and each date's price multiplies it; the best setup
of a GPU does not depend on its price.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses.options import AnalysisOptions
from costmodel.catalog import Catalog, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import sweep
from costmodel.scenario import Scenario
from costmodel.spec import choice, number

#: First date of the timeline: the December 2023 Mixtral price war of the seed document.
START_DATE = "2023-12"

#: GPUs per replica tried for the floor: tensor parallelism within one 8-GPU node.
GPU_COUNTS = (1, 2, 4, 8)

#: How the floor's batch is chosen: the scenario's ``batch_size``, or the cheapest batch
#: that keeps ``tokens_per_s_per_user`` at or above ``min_tokens_per_s_per_user``.
TARGETS = ("batch_size", "interactivity")

#: ``price_tier`` that takes each GPU's newest price of any kind.
ANY_TIER = "latest"

#: Tiers a page may offer besides ``ANY_TIER``: text found in ``kind`` of gpu_prices.csv.
PRICE_TIERS = ("on-demand", "neocloud", "hyperscaler", "3-year")

#: The $ outputs that scale with the GPU-hour price.
_PRICED = ("usd_per_million_output_tokens", "usd_per_million_input_tokens")

#: Columns of ``Result.floor`` and ``Result.floor_by_gpu``.
FLOOR_COLUMNS = (
    "model",
    "date",
    "gpu",
    "family",
    "n_gpus",
    "weight_format",
    "batch_size",
    "usd_per_gpu_hour",
    "price_kind",
    "price_date",
    "usd_per_million_output_tokens",
    "usd_per_million_input_tokens",
    "tokens_per_s_per_user",
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The timeline's own inputs; names are its URL keys."""

    model: str | None = choice(
        None,
        label="Model",
        help="Model id with provider prices; empty = every model with prices",
        catalog_table="models",
        empty="every model with prices",
    )
    target: str = choice(
        "batch_size",
        label="Floor at",
        help="batch_size: the scenario's batch; interactivity: the cheapest batch "
        "that still gives each user min_tokens_per_s_per_user",
        choices=TARGETS,
    )
    min_tokens_per_s_per_user: float = number(
        20.0,
        1.0,
        1000.0,
        1.0,
        unit="tokens/s per user",
        label="Interactivity target",
        help="Least decode speed each user sees, with target = interactivity [tokens/s]",
    )
    price_tier: str = choice(
        ANY_TIER,
        label="GPU price tier",
        help="'latest': each GPU's newest price of any kind; other text picks the "
        "prices whose kind contains it (e.g. 'on-demand', 'neocloud', 'hyperscaler')",
    )
    weight_formats: tuple[str, ...] = choice(
        ("bf16", "fp8"),
        label="Weight formats",
        help="Weight formats the floor may use (assets/formats.csv)",
        catalog_table="formats",
        many=True,
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.price_tier.strip():
            raise ValueError(
                f"price_tier must be '{ANY_TIER}' or text in a price kind; got {self.price_tier!r}"
            )
        if not self.weight_formats:
            raise ValueError(
                f"weight_formats must be a non-empty list of formats; got {self.weight_formats!r}"
            )

    def replace(self, **changes) -> Options:
        """A copy with some options changed (checked)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Result:
    """The timeline.

    ``prices``: every provider price row of the models from ``START_DATE`` on, with the
    floor at its date: ``model``, ``provider``, ``date`` (Timestamp, end of the catalog
    period), ``catalog_date`` (as written), ``usd_per_million_input``,
    ``usd_per_million_output``, ``source``, ``floor_usd_per_million_output_tokens``,
    ``floor_usd_per_million_input_tokens``, ``floor_gpu``, ``floor_n_gpus``,
    ``floor_weight_format`` (missing where no GPU had a price yet) and ``below_floor`` (the
    output price is under the floor: the provider sells below the cost of the cheapest
    setup).
    ``floor``: one row per model and date (``start``, every provider, GPU-price and launch
    date up to ``end``) with the cheapest setup, columns ``FLOOR_COLUMNS``.
    ``floor_by_gpu``: the same per GPU too (its best setup at its price then), for bands
    per GPU ``family``.
    ``cheapest``: per model and provider-price date, the lowest output price on offer
    (each provider's newest price on or before it; free tiers, price 0, left out):
    ``model``, ``date``, ``usd_per_million_output``, ``provider``.
    ``trend``: per model the log-linear fit of ``cheapest`` over time: ``model``,
    ``n_dates``, ``first_date``, ``last_date``, ``first_usd_per_million_output``,
    ``last_usd_per_million_output``, ``factor_per_year`` (the price is multiplied by it
    each year), ``fold_drop_per_year`` (1 / factor: "10x cheaper a year") and ``text``.
    """

    options: Options
    start: pd.Timestamp
    end: pd.Timestamp
    prices: pd.DataFrame
    floor: pd.DataFrame
    floor_by_gpu: pd.DataFrame
    cheapest: pd.DataFrame
    trend: pd.DataFrame


def period_end(dates) -> pd.Series:
    """Catalog dates ('2024', '2024-03', '2026-03-17') as the last day of their period."""
    return pd.Series(
        [pd.Period(str(d)).end_time.normalize() for d in dates], dtype="datetime64[ns]"
    )


def price_tiers(catalog: Catalog | None = None) -> list[str]:
    """``ANY_TIER`` and each of ``PRICE_TIERS`` that some GPU price's ``kind`` contains."""
    kinds = (catalog or load_catalog()).gpu_prices["kind"].str.lower()
    return [
        ANY_TIER,
        *(tier for tier in PRICE_TIERS if kinds.str.contains(tier, regex=False).any()),
    ]


def _models(catalog: Catalog, options: Options) -> list[str]:
    priced = [m for m in catalog.models.index if (catalog.provider_prices["model"] == m).any()]
    if options.model is None:
        return priced
    if options.model not in priced:
        raise ValueError(f"model must be one of {', '.join(priced)}; got {options.model!r}")
    return [options.model]


def _offers(catalog: Catalog, dates: pd.Series, tier: str) -> pd.DataFrame:
    """Per date and GPU: its newest price of the tier on or before the date, if launched."""
    rows = catalog.gpu_prices.reset_index(drop=True)
    if tier != ANY_TIER:
        rows = rows[rows["kind"].str.contains(tier, case=False, regex=False)]
        if rows.empty:
            kinds = "; ".join(dict.fromkeys(catalog.gpu_prices["kind"]))
            raise ValueError(
                f"price_tier must be '{ANY_TIER}' or text in a kind ({kinds}); got {tier!r}"
            )
    rows = rows[rows["gpu"].isin(catalog.gpus.index)]
    offers = pd.DataFrame(
        {
            "gpu": rows["gpu"].to_numpy(),
            "usd_per_gpu_hour": rows["usd_per_gpu_hour"].to_numpy(float),
            "price_kind": rows["kind"].to_numpy(),
            "price_date": period_end(rows["date"]).to_numpy(),
            "launch": period_end(catalog.gpus.loc[rows["gpu"], "date"]).to_numpy(),
        }
    ).merge(pd.DataFrame({"date": dates}), how="cross")
    offers = offers[(offers["price_date"] <= offers["date"]) & (offers["launch"] <= offers["date"])]
    newest = offers.groupby(["date", "gpu"])["price_date"].transform("max")
    offers = offers[offers["price_date"] == newest].sort_values("usd_per_gpu_hour", kind="stable")
    return offers.drop_duplicates(["date", "gpu"]).drop(columns="launch")


def _best_setups(scenario, catalog, models, gpus, options) -> pd.DataFrame:
    """Per model and GPU, its cheapest fitting setup at $1 per GPU-hour (one sweep)."""
    axes = {
        "model": models,
        "gpu": gpus,
        "n_gpus": list(GPU_COUNTS),
        "weight_format": list(options.weight_formats),
    }
    if options.target == "interactivity":
        axes["batch_size"] = batch_grid()
    base = scenario.replace(model=models[0], usd_per_gpu_hour=1.0)
    grid = sweep(base, catalog, **axes)
    ok = grid["fits"].to_numpy(bool)
    if options.target == "interactivity":
        ok = ok & (grid["tokens_per_s_per_user"].to_numpy() >= options.min_tokens_per_s_per_user)
    grid = grid[ok].astype({"model": str, "gpu": str, "weight_format": str})
    best = grid.sort_values("usd_per_million_output_tokens", kind="stable")
    best = best.drop_duplicates(["model", "gpu"])
    return best[
        ["model", "gpu", "n_gpus", "weight_format", "batch_size", *_PRICED, "tokens_per_s_per_user"]
    ]


def _floors(scenario, catalog, models, dates, options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model, date and GPU its best setup at its price then; and the cheapest per date.

    A model has no floor before its release (the ``date`` of ``assets/models.csv``).
    """
    offers = _offers(catalog, dates, options.price_tier)
    if offers.empty:
        raise ValueError(
            f"price_tier {options.price_tier!r}: no launched GPU has a price of it dated "
            f"on or before {dates.max():%Y-%m-%d}"
        )
    best = _best_setups(scenario, catalog, models, sorted(offers["gpu"].unique()), options)
    by_gpu = offers.merge(best, on="gpu")
    released = period_end(catalog.models.loc[by_gpu["model"], "date"]).to_numpy()
    by_gpu = by_gpu[by_gpu["date"].to_numpy() >= released]
    for column in _PRICED:
        by_gpu[column] = by_gpu[column] * by_gpu["usd_per_gpu_hour"]
    by_gpu["family"] = catalog.gpus.loc[by_gpu["gpu"], "family"].to_numpy()
    by_gpu = by_gpu[list(FLOOR_COLUMNS)].sort_values(["model", "date", "gpu"], ignore_index=True)
    floor = by_gpu.sort_values("usd_per_million_output_tokens", kind="stable")
    floor = floor.drop_duplicates(["model", "date"]).sort_values(
        ["model", "date"], ignore_index=True
    )
    return floor, by_gpu


def _cheapest(prices: pd.DataFrame) -> pd.DataFrame:
    """Per model and price date, the lowest nonzero output price on offer then."""
    paid = prices[prices["usd_per_million_output"] > 0]
    dates = prices[["model", "date"]].drop_duplicates()
    on_offer = dates.merge(paid, on="model", suffixes=("", "_row"))
    on_offer = on_offer[on_offer["date_row"] <= on_offer["date"]]
    newest = on_offer.groupby(["model", "date", "provider"])["date_row"].transform("max")
    on_offer = on_offer[on_offer["date_row"] == newest]
    cheapest = on_offer.sort_values("usd_per_million_output", kind="stable")
    cheapest = cheapest.drop_duplicates(["model", "date"]).sort_values(["model", "date"])
    return cheapest[["model", "date", "usd_per_million_output", "provider"]].reset_index(drop=True)


def _trend(cheapest: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Least-squares fit ``ln(price) = a + b * years`` per model; factor per year ``e^b``."""
    data = cheapest.assign(
        years=(cheapest["date"] - cheapest["date"].min()).dt.days / 365.25,
        log_price=np.log(cheapest["usd_per_million_output"]),
    )
    groups = data.groupby("model", sort=True)
    x_mean, y_mean = groups["years"].transform("mean"), groups["log_price"].transform("mean")
    data = data.assign(
        sxy=(data["years"] - x_mean) * (data["log_price"] - y_mean),
        sxx=(data["years"] - x_mean) ** 2,
    )
    fit = data.groupby("model", sort=True).agg(
        n_dates=("date", "size"),
        first_date=("date", "min"),
        last_date=("date", "max"),
        first_usd_per_million_output=("usd_per_million_output", "first"),
        last_usd_per_million_output=("usd_per_million_output", "last"),
        sxy=("sxy", "sum"),
        sxx=("sxx", "sum"),
    )
    slope = np.where(fit["sxx"] > 0, fit["sxy"] / fit["sxx"].where(fit["sxx"] > 0, 1.0), np.nan)
    fit["factor_per_year"] = np.exp(slope)
    fit["fold_drop_per_year"] = np.exp(-slope)
    fit = fit.drop(columns=["sxy", "sxx"]).reset_index()
    fit["text"] = [_trend_text(row, catalog) for row in fit.itertuples()]
    return fit


def _trend_text(row, catalog: Catalog) -> str:
    name = catalog.models.loc[row.model, "name"]
    span = (
        f"{row.first_date:%Y-%m} to {row.last_date:%Y-%m}, ${row.first_usd_per_million_output:.3g} "
        f"to ${row.last_usd_per_million_output:.3g} per million output tokens"
    )
    if not np.isfinite(row.factor_per_year):
        return f"{name}: one price date only ({span}), no trend."
    verb, fold = (
        ("fell", row.fold_drop_per_year)
        if row.factor_per_year <= 1
        else ("rose", row.factor_per_year)
    )
    return (
        f"{name}: the cheapest output price {verb} {fold:.2g}x a year "
        f"(log-linear fit over {row.n_dates} dates, {span})."
    )


def _price_rows(catalog: Catalog, models: list[str], start: pd.Timestamp) -> pd.DataFrame:
    """The provider price rows of ``models`` dated from ``start`` on, with Timestamp dates."""
    rows = catalog.provider_prices
    rows = rows[rows["model"].isin(models)].reset_index(drop=True)
    rows = rows.assign(catalog_date=rows["date"], date=period_end(rows["date"]))
    rows = rows[rows["date"] >= start]
    return rows.sort_values(["model", "date"], kind="stable", ignore_index=True)


def _with_floor(rows: pd.DataFrame, floor: pd.DataFrame) -> pd.DataFrame:
    """Each price row with the floor at its date (``floor_*`` columns) and ``below_floor``."""
    renamed = {
        "usd_per_million_output_tokens": "floor_usd_per_million_output_tokens",
        "usd_per_million_input_tokens": "floor_usd_per_million_input_tokens",
        "gpu": "floor_gpu",
        "n_gpus": "floor_n_gpus",
        "weight_format": "floor_weight_format",
    }
    at_date = floor[["model", "date", *renamed]].rename(columns=renamed)
    shown = ["model", "provider", "date", "catalog_date", "usd_per_million_input"]
    shown += ["usd_per_million_output", "source"]
    prices = rows[shown].merge(at_date, on=["model", "date"], how="left")
    prices["floor_n_gpus"] = prices["floor_n_gpus"].astype("Int64")
    prices["below_floor"] = (
        prices["usd_per_million_output"] < prices["floor_usd_per_million_output_tokens"]
    )
    return prices


def run(
    scenario: Scenario | None = None, options: Options | None = None, catalog: Catalog | None = None
) -> Result:
    """Providers' prices and each model's cost floor from ``START_DATE`` to the newest price.

    The floor is evaluated at the start, at every provider-price, GPU-price and GPU-launch
    date up to the newest provider price of any catalog model (``end``). ``run()`` covers
    every catalog model with provider prices at the default scenario's batch (32) and
    prompt/output lengths, each GPU at its newest price of any kind.
    """
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    unknown = [f for f in options.weight_formats if f not in catalog.formats.index]
    if unknown:
        raise ValueError(
            f"weight_formats must hold only {', '.join(catalog.formats.index)}; got {unknown}"
        )
    models = _models(catalog, options)
    start = period_end([START_DATE])[0]
    end = _price_rows(catalog, list(catalog.models.index), start)["date"].max()
    rows = _price_rows(catalog, models, start)
    candidates = pd.concat(
        [
            pd.Series([start]),
            rows["date"],
            period_end(catalog.gpu_prices["date"]),
            period_end(catalog.gpus["date"]),
        ]
    )
    dates = pd.Series(np.sort(candidates[(candidates >= start) & (candidates <= end)].unique()))
    floor, by_gpu = _floors(scenario, catalog, models, dates, options)
    cheapest = _cheapest(rows)
    return Result(
        options=options,
        start=start,
        end=end,
        prices=_with_floor(rows, floor),
        floor=floor,
        floor_by_gpu=by_gpu,
        cheapest=cheapest,
        trend=_trend(cheapest, catalog),
    )


def price_steps(prices: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The paid prices of ``prices`` (a Result's; free tiers, price 0, left out) with each
    provider's last price repeated at ``end``: a step line holds every price until the
    provider's next one and its last to the timeline's end. Sorted by provider, date."""
    paid = prices[prices["usd_per_million_output"] > 0]
    last = paid.sort_values("date").groupby("provider").tail(1).assign(date=end)
    return pd.concat([paid, last], ignore_index=True).sort_values(["provider", "date"])


def floor_bands(floor_by_gpu: pd.DataFrame) -> pd.DataFrame:
    """Per GPU ``family`` and ``date``: ``low`` and ``high``, the cheapest and the dearest
    of its GPUs' floors (``usd_per_million_output_tokens`` of a Result's ``floor_by_gpu``)."""
    by = floor_by_gpu.groupby(["family", "date"])["usd_per_million_output_tokens"]
    return by.agg(low="min", high="max").reset_index()
