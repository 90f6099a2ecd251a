"""The price war over time: providers' prices against each model's cost floor at that date.

The cost floor of a model at a date is the cheapest GPU cost per million output tokens
over the GPUs launched by then (the ``date`` of ``assets/gpus.csv``; announced GPUs only
with ``include_announced``), each at its price under ``price_rule`` as of that date (the
rule's tier and own prices; its own date is not used: every date of the timeline is one),
over tensor-parallel counts ``GPU_COUNTS`` and the chosen weight formats, keeping only
setups that fit in memory, at the scenario's batch size or, with ``target =
"interactivity"``, at the cheapest batch of ``batch_grid()`` that still gives each user
``min_tokens_per_s_per_user``. The other serving assumptions (prompt and output length,
utilisation, KV format, efficiencies) are the scenario's.

Prices: each provider's rows from ``START_DATE`` to the newest price in the catalog
(``end``). A provider that bills by time of day has two series, '<provider> (peak)' and
'<provider> (off-peak)', each holding its all-day prices too; a row without a price ends
its series (the offer was withdrawn). ``changes`` lists every step of a series, rises as
well as falls. Several models go on one chart (``model`` with ``models``, or a band of
active parameters, ``active_params_b``): ``group`` is the cheapest price of any of them at
each date, and ``group_text`` how far it moved since the first date. A model without
provider prices gets its floor and ``notes`` says that no prices are in the catalog.

A catalog date stands for the last day of its period ('2024' is 2024-12-31, '2024-03' is
2024-03-31), as in ``catalog.date_key``: a GPU launched in 2024-03 is available from
2024-03-31, a price of '2024' counts from 2024-12-31.

The $ outputs are proportional to the GPU-hour price (``n p / 3600 / u`` dollars per
second of GPU time), so the physics is swept once, at $1 per GPU-hour, for every model,
GPU, GPU count, format (and batch), and each date's price multiplies it; the best setup
of a GPU does not depend on its price.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses.options import AnalysisOptions
from costmodel.catalog import Catalog, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import scan, sweep, valid_rows
from costmodel.pricing import TIME_OF_DAY_NAMES, TIMES_OF_DAY, PriceRule, price_gpus
from costmodel.scans import product_columns
from costmodel.scenario import Scenario
from costmodel.spec import choice, flag, nested, number

#: First date of the timeline: the December 2023 Mixtral price war of the seed document.
START_DATE = "2023-12"

#: GPUs per replica tried for the floor: tensor parallelism within one 8-GPU node.
GPU_COUNTS = (1, 2, 4, 8)

#: How the floor's batch is chosen: the scenario's ``batch_size``, or the cheapest batch
#: that keeps ``tokens_per_s_per_user`` at or above ``min_tokens_per_s_per_user``.
TARGETS = ("batch_size", "interactivity")
#: Active parameters a size band may span [B]: from 0.1 B to Kimi K3's scale.
ACTIVE_PARAMS_RANGE_B = (0.0, 2000.0, 1.0)

#: The floor's GPU prices by default: on-demand rental, the tier with the longest
#: history in the catalog (from 2024-06).
DEFAULT_PRICE_RULE = PriceRule()

#: A price step within this share of the price before it is no change [-]; smaller
#: steps are rounding in the sources (a provider's price re-listed to the cent).
UNCHANGED_SHARE = 0.005

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
    "price_basis",
    "price_date",
    "usd_per_million_output_tokens",
    "usd_per_million_input_tokens",
    "tokens_per_s_per_user",
)
#: Columns of ``Result.changes``.
CHANGE_COLUMNS = (
    "model",
    "series",
    "date",
    "previous_usd_per_million_output",
    "usd_per_million_output",
    "change_pct",
    "direction",
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The timeline's own inputs; names are its URL keys."""

    model: str | None = choice(
        None,
        label="Model",
        help="Catalog model id; empty = every model with prices",
        catalog_table="models",
        empty="every model with prices",
    )
    models: tuple[str, ...] = choice(
        (),
        label="More models on the chart",
        help="Catalog model ids drawn beside the model (their prices, floors and the "
        "cheapest price of all of them)",
        catalog_table="models",
        many=True,
    )
    active_params_min_b: float | None = number(
        None,
        *ACTIVE_PARAMS_RANGE_B,
        unit="B",
        label="Models of this size, from",
        help="Also every catalog model with at least this many active parameters (and at "
        "most the upper bound), e.g. 10 to 20 for Mixtral 8x7B's size [B]",
        empty="no size band",
    )
    active_params_max_b: float | None = number(
        None,
        *ACTIVE_PARAMS_RANGE_B,
        unit="B",
        label="Models of this size, to",
        help="Upper bound of the size band of active parameters [B]",
        empty="no size band",
    )
    target: str = choice(
        "batch_size",
        label="Floor at",
        help="The scenario's batch, or the cheapest batch that still gives each user "
        "min_tokens_per_s_per_user",
        choices=TARGETS,
        names={
            "batch_size": "The sidebar's batch",
            "interactivity": "The cheapest batch at the interactivity target",
        },
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
    price_rule: PriceRule = nested(DEFAULT_PRICE_RULE)
    time_of_day: str = choice(
        "peak",
        label="Time of day",
        help="Which price of a provider that bills by time of day counts for the cheapest "
        "price, its trend and 'below the floor': peak or off_peak (both are drawn)",
        choices=TIMES_OF_DAY,
        names=TIME_OF_DAY_NAMES,
    )
    weight_formats: tuple[str, ...] = choice(
        ("bf16", "fp8"),
        label="Weight formats",
        help="Weight formats the floor may use (assets/formats.csv)",
        catalog_table="formats",
        many=True,
    )
    include_announced: bool = flag(
        False,
        label="Announced GPUs too",
        help="Let the floor use announced GPUs (assets/gpus.csv status 'announced'); they "
        "have no rental price, so only your own prices put them in",
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.weight_formats:
            raise ValueError(
                f"weight_formats must be a non-empty list of formats; got {self.weight_formats!r}"
            )
        low, high = self.active_params_min_b, self.active_params_max_b
        if (low is None) != (high is None) or (low is not None and low > high):
            raise ValueError(
                "active_params_min_b and active_params_max_b must both be empty or give a "
                f"band low <= high [B]; got {low!r} and {high!r}"
            )

    @property
    def active_params_b(self) -> tuple[float, ...]:
        """The size band (low, high) of active parameters [B], or () for none."""
        low, high = self.active_params_min_b, self.active_params_max_b
        return () if low is None else (low, high)


@dataclass(frozen=True)
class Result:
    """The timeline.

    ``models``: the models drawn. ``prices``: every provider price row of the models
    from ``START_DATE`` on, with the floor at its date: ``model``, ``provider``,
    ``series`` (the provider, or '<provider> (peak)' / '(off-peak)'), ``time_of_day``,
    ``date`` (Timestamp, end of the catalog period), ``catalog_date`` (as written),
    ``usd_per_million_input``, ``usd_per_million_output`` (NaN: the offer withdrawn),
    ``source``, ``floor_usd_per_million_output_tokens``,
    ``floor_usd_per_million_input_tokens``, ``floor_gpu``, ``floor_n_gpus``,
    ``floor_weight_format`` (missing where no GPU had a price yet) and ``below_floor``
    (the output price is under the floor: the provider sells below the cost of the
    cheapest setup).
    ``floor``: one row per model and date (``start``, every provider, GPU-price and launch
    date up to ``end``, and ``end``) with the cheapest setup, columns ``FLOOR_COLUMNS``.
    ``floor_by_gpu``: the same per GPU too (its best setup at its price then), for bands
    per GPU ``family``.
    ``cheapest``: per model and provider-price date, the lowest output price on offer at
    ``options.time_of_day`` (each series' newest price on or before it; free tiers, price
    0, left out): ``model``, ``date``, ``usd_per_million_output``, ``provider``.
    ``trend``: per model the log-linear fit of ``cheapest`` over time: ``model``,
    ``n_dates``, ``first_date``, ``last_date``, ``first_usd_per_million_output``,
    ``last_usd_per_million_output``, ``factor_per_year`` (the price is multiplied by it
    each year), ``fold_drop_per_year`` (1 / factor: "10x cheaper a year"),
    ``fit_first_usd_per_million_output`` and ``fit_last_usd_per_million_output`` (the
    fitted price at the first and last date: the trend line's ends) and ``text`` (a rate
    per year only over ``MIN_TREND_DAYS`` or more).
    ``changes``: every price step of every series (``CHANGE_COLUMNS``; ``direction``
    'rise' or 'fall', steps within ``UNCHANGED_SHARE`` left out); ``changes_text``: the
    rises in words. ``group``: per date, the lowest output price of any drawn model
    (``model``, ``provider``); ``group_text``: how far it moved from its first date to
    its last ('' for one model); ``group_trend``: the trend of ``group`` (one row, model
    ``GROUP``; empty for one model). ``notes``: what the chart cannot show, in words.
    """

    options: Options
    start: pd.Timestamp
    end: pd.Timestamp
    models: tuple
    prices: pd.DataFrame
    floor: pd.DataFrame
    floor_by_gpu: pd.DataFrame
    cheapest: pd.DataFrame
    trend: pd.DataFrame
    changes: pd.DataFrame
    changes_text: str
    group: pd.DataFrame
    group_text: str
    group_trend: pd.DataFrame
    notes: str


def period_end(dates) -> pd.Series:
    """Catalog dates ('2024', '2024-03', '2026-03-17') as the last day of their period; a
    missing date (an uploaded model's release) as NaT."""
    dates = pd.Series(list(dates), dtype=object)
    codes, distinct = pd.factorize(dates)  # a few dates repeated over many rows: each once
    ends = np.append(_period_ends(tuple(distinct)), np.datetime64("NaT", "ns"))
    return pd.Series(ends[codes], dtype="datetime64[ns]")  # code -1 (missing): the NaT


@functools.lru_cache(maxsize=256)
def _period_ends(dates: tuple) -> np.ndarray:
    """:func:`period_end` of distinct dates (none missing), as datetime64[ns] values."""
    text = pd.Series([str(d) for d in dates], dtype=object)
    size = text.str.len()
    day = pd.to_datetime(text.where(size == 10), format="%Y-%m-%d", errors="coerce")
    month = pd.to_datetime(text.where(size == 7) + "-01", format="%Y-%m-%d", errors="coerce")
    year = pd.to_datetime(text.where(size == 4) + "-12-31", format="%Y-%m-%d", errors="coerce")
    ends = day.fillna(month + pd.offsets.MonthEnd(0)).fillna(year)
    bad = ends.isna() & text.notna()
    if bad.any():
        raise ValueError(f"dates must be YYYY, YYYY-MM or YYYY-MM-DD; got {list(text[bad])}")
    return ends.astype("datetime64[ns]").to_numpy()


def _models(catalog: Catalog, options: Options) -> list[str]:
    """The models drawn: every model with prices (no model asked for), else ``model``,
    ``models`` and the models of the ``active_params_b`` band, in that order."""
    band = options.active_params_b
    if options.model is None and not options.models and not band:
        return list(catalog.prepared(_priced_models))
    wanted = [m for m in (options.model, *options.models) if m is not None]
    unknown = [m for m in wanted if m not in catalog.models.index]
    if unknown:
        raise ValueError(f"model must be one of {', '.join(catalog.models.index)}; got {unknown}")
    if band:
        active = catalog.models["active_params"] / 1e9
        wanted += list(catalog.models.index[(active >= band[0]) & (active <= band[1])])
    return list(dict.fromkeys(wanted))


def _priced_models(catalog: Catalog) -> tuple[str, ...]:
    """The catalog's models with a provider price, in its order (``Catalog.prepared``)."""
    priced = set(catalog.provider_prices["model"])
    return tuple(m for m in catalog.models.index if m in priced)


def _offers(catalog: Catalog, dates: pd.Series, rule: PriceRule) -> pd.DataFrame:
    """Per date and GPU launched by then: its price under ``rule`` as of the date (one
    ``pricing.price_gpus`` call for all dates); unpriced GPUs left out."""
    gpus = list(catalog.gpus.index)
    table = price_gpus(gpus, rule, catalog, dates=[d.strftime("%Y-%m-%d") for d in dates])
    launch = np.tile(period_end(catalog.gpus["date"]).to_numpy(), len(dates))
    when = np.repeat(dates.to_numpy(), len(gpus))
    keep = table["usd_per_gpu_hour"].notna().to_numpy() & (launch <= when)
    table = table[keep]
    return pd.DataFrame(
        {
            "gpu": table["gpu"].to_numpy(),
            "usd_per_gpu_hour": table["usd_per_gpu_hour"].to_numpy(float),
            "price_kind": table["kind"].to_numpy(),
            "price_basis": table["basis"].to_numpy(),
            "price_date": period_end(table["date"]).to_numpy(),
            "date": when[keep],
        }
    )


def _released(catalog: Catalog, models: list[str], rows: pd.DataFrame, dates) -> np.ndarray:
    """Per model, the first date it has a floor: its release (the ``date`` of
    ``assets/models.csv``; a release dated by its year alone, '2026', stands for the year's
    end), or its first provider price in ``rows`` where that is earlier (a model sold is
    released); an uploaded model without a release date from the first of ``dates``."""
    released = period_end(catalog.models.loc[models, "date"]).fillna(dates.min())
    first_priced = rows.groupby("model")["date"].min()
    sold = pd.to_datetime(pd.Series(first_priced.reindex(models).to_numpy()))
    return released.where(~(sold < released), sold).to_numpy()


def _best_setups(scenario, catalog, models, gpus, options) -> dict:
    """Per model and GPU, its cheapest fitting setup at $1 per GPU-hour (one scan of the
    setups each model allows: the scenario's expert parallelism on mixtures of experts
    only, GPU counts that split the model's heads or experts): column -> array, one entry
    per (model, GPU) pair with a setup, ``pair`` its position ``i * len(gpus) + j`` of
    ``models[i]`` on ``gpus[j]`` (ascending); the first in scan order on a tie. With no
    row to scan (every one breaks a rule) the columns are empty and of dtype object."""
    axes = {
        "model": models,
        "gpu": gpus,
        "n_gpus": list(GPU_COUNTS),
        "weight_format": list(options.weight_formats),
    }
    if options.target == "interactivity":
        axes["batch_size"] = batch_grid()
    base = scenario.replace(model=models[0], usd_per_gpu_hour=1.0)
    columns = product_columns(**axes)
    n_pairs = len(models) * len(gpus)
    per_pair = len(columns["model"]) // n_pairs
    at = catalog.models.index.get_indexer(models)
    parallel = scenario.expert_parallel & (catalog.models["n_experts"].to_numpy()[at] > 1)
    columns["expert_parallel"] = np.repeat(parallel, len(columns["model"]) // len(models)).tolist()
    pair = np.repeat(np.arange(n_pairs), per_pair)
    ok = valid_rows(base, catalog, **columns)
    shown = ["n_gpus", "weight_format", "batch_size", *_PRICED, "tokens_per_s_per_user"]
    if not ok.any():  # no setup any model allows (every row breaks a rule)
        return {"pair": pair[:0], **{name: np.array([], object) for name in ["model", *shown]}}
    if ok.all() and len(set(parallel)) == 1:
        # the same rows as one sweep over the axes, which computes each stage once per
        # combination of the axes it depends on (cheaper than the zipped scan)
        grid = sweep(base.replace(expert_parallel=bool(parallel[0])), catalog, **axes)
    else:
        grid = scan(
            base, catalog, **{name: list(np.compress(ok, v)) for name, v in columns.items()}
        )
        pair = pair[ok]
    keep = grid["fits"].to_numpy(bool)
    if options.target == "interactivity":
        keep = keep & (
            grid["tokens_per_s_per_user"].to_numpy() >= options.min_tokens_per_s_per_user
        )
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(grid["usd_per_million_output_tokens"].to_numpy()[rows], kind="stable")]
    rows = rows[np.unique(pair[rows], return_index=True)[1]]
    best = {"pair": pair[rows], "model": pd.array(models, dtype=str).take(pair[rows] // len(gpus))}
    best.update({name: grid[name].to_numpy()[rows] for name in shown})
    best["weight_format"] = pd.array(best["weight_format"].astype(str), dtype=str)
    return best


def _floors(
    scenario, catalog, models, options, released: np.ndarray, offers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model, date and GPU its best setup at its price then; and the cheapest per date.

    A model has no floor before its release (``released``, one date per model:
    :func:`_released`); no GPU priced by the rule in time: no floor (empty tables).
    """
    if offers.empty:
        empty = pd.DataFrame(columns=list(FLOOR_COLUMNS))
        return empty, empty
    gpus = sorted(offers["gpu"].unique())
    best = _best_setups(scenario, catalog, models, gpus, options)
    # every (offer, model) pair: the model's best setup on the offer's GPU, once released
    slot = np.full(len(models) * len(gpus), -1)
    slot[best["pair"]] = np.arange(len(best["pair"]))
    on_gpu = np.searchsorted(gpus, offers["gpu"].to_numpy())
    offer = np.repeat(np.arange(len(offers)), len(models))
    model = np.tile(np.arange(len(models)), len(offers))
    at = slot[model * len(gpus) + on_gpu[offer]]
    when = offers["date"].to_numpy()
    kept = (at >= 0) & (when[offer] >= released[model])
    offer, model, at = offer[kept], model[kept], at[kept]
    name_rank = np.argsort(np.argsort(np.array(models, str), kind="stable"))
    order = np.lexsort((on_gpu[offer], when[offer], name_rank[model]))
    offer, model, at = offer[order], model[order], at[order]
    price = offers["usd_per_gpu_hour"].to_numpy()[offer]
    family = catalog.gpus["family"].to_numpy()[catalog.gpus.index.get_indexer(gpus)]
    # ``take`` of typed arrays (strings, dates): no values converted again
    by_gpu = {
        "model": best["model"].take(at),
        "date": offers["date"].array.take(offer),
        "gpu": pd.array(gpus, dtype=str).take(on_gpu[offer]),
        "family": family[on_gpu[offer]],  # object: no rows, no str dtype
        "n_gpus": best["n_gpus"][at],
        "weight_format": best["weight_format"].take(at),
        "batch_size": best["batch_size"][at],
        "usd_per_gpu_hour": price,
        "price_kind": offers["price_kind"].array.take(offer),
        "price_basis": offers["price_basis"].array.take(offer),
        "price_date": offers["price_date"].array.take(offer),
        **{column: best[column][at] * price for column in _PRICED},
        "tokens_per_s_per_user": best["tokens_per_s_per_user"][at],
    }
    # the cheapest of each (model, date): the first on a tie, by GPU
    first = np.ones(len(offer), bool)
    first[1:] = (model[1:] != model[:-1]) | (when[offer][1:] != when[offer][:-1])
    cheapest = np.lexsort((by_gpu["usd_per_million_output_tokens"], np.cumsum(first)))[first]
    floor = {name: values.take(cheapest) for name, values in by_gpu.items()}
    return pd.DataFrame(floor), pd.DataFrame(by_gpu)


def _on_offer(prices: pd.DataFrame, dates: pd.DataFrame, time_of_day: str) -> pd.DataFrame:
    """For each (``model``, ``date``) of ``dates``: every provider's newest price on or
    before it at ``time_of_day`` (all-day prices count at any time), paid ones only (a
    free tier, price 0, and a withdrawn offer, no price, left out)."""
    rows = prices[prices["time_of_day"].isin(("all_day", time_of_day))]
    rows = rows.drop_duplicates(["model", "provider", "date", "time_of_day"], keep="last")
    on_offer = dates.merge(rows, on="model", suffixes=("", "_row"))
    on_offer = on_offer[on_offer["date_row"] <= on_offer["date"]]
    newest = on_offer.groupby(["model", "date", "provider"])["date_row"].transform("max")
    on_offer = on_offer[on_offer["date_row"] == newest]
    return on_offer[on_offer["usd_per_million_output"] > 0]


def _cheapest(prices: pd.DataFrame, time_of_day: str) -> pd.DataFrame:
    """Per model and price date, the lowest paid output price on offer then."""
    dates = prices[["model", "date"]].drop_duplicates()
    cheapest = _on_offer(prices, dates, time_of_day)
    cheapest = cheapest.sort_values("usd_per_million_output", kind="stable")
    cheapest = cheapest.drop_duplicates(["model", "date"]).sort_values(["model", "date"])
    return cheapest[["model", "date", "usd_per_million_output", "provider"]].reset_index(drop=True)


#: A fold change per year (or a step) beyond this is said in words, not as a number a
#: near-zero price blows up to infinity [-].
FOLD_IN_WORDS = 1e6


def _fold_text(fold: float) -> str:
    """'4.7x', '83x', '1,234x', or 'more than a million-fold' beyond ``FOLD_IN_WORDS``
    (never 'infx' or '1e+02x')."""
    if not (np.isfinite(fold) and fold <= FOLD_IN_WORDS):
        return "more than a million-fold"
    return f"{fold:.2g}x" if fold < 10 else f"{fold:,.0f}x"


def _step_text(change_pct: float) -> str:
    """A price step in words: '+12%' below a doubling, else the factor ('4.7x')."""
    return f"{change_pct:+.0f}%" if change_pct < 100 else _fold_text(1 + change_pct / 100)


#: A cheapest price followed for fewer days than this (a calendar year) is not turned into
#: a rate per year [days]: a month of one provider's cuts (DeepSeek-V4.1-Flash: $1.20 to
#: $0.30 from 2026-10-27 to 2026-11-20) would read as "more than a million-fold a year".
MIN_TREND_DAYS = 365
#: The model id of ``Result.group_trend``'s one row: the cheapest of the drawn models.
GROUP = "all drawn models"
#: Columns of ``Result.trend`` and ``Result.group_trend``.
TREND_COLUMNS = (
    "model",
    "n_dates",
    "first_date",
    "last_date",
    "first_usd_per_million_output",
    "last_usd_per_million_output",
    "factor_per_year",
    "fold_drop_per_year",
    "fit_first_usd_per_million_output",
    "fit_last_usd_per_million_output",
    "text",
)


def _trend(cheapest: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Least-squares fit ``ln(price) = a + b * years`` per model; factor per year ``e^b``,
    the fitted price at the first and last date ``e^(a + b * years)``."""
    if cheapest.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    data = cheapest.assign(
        years=(cheapest["date"] - cheapest["date"].min()).dt.days / 365.25,
        log_price=np.log(cheapest["usd_per_million_output"]),
    )
    groups = data.groupby("model", sort=True)
    x_mean, y_mean = groups["years"].transform("mean"), groups["log_price"].transform("mean")
    data = data.assign(
        sxy=(data["years"] - x_mean) * (data["log_price"] - y_mean),
        sxx=(data["years"] - x_mean) ** 2,
        x_mean=x_mean,
        y_mean=y_mean,
    )
    fit = data.groupby("model", sort=True).agg(
        n_dates=("date", "size"),
        first_date=("date", "min"),
        last_date=("date", "max"),
        first_usd_per_million_output=("usd_per_million_output", "first"),
        last_usd_per_million_output=("usd_per_million_output", "last"),
        first_years=("years", "min"),
        last_years=("years", "max"),
        x_mean=("x_mean", "first"),
        y_mean=("y_mean", "first"),
        sxy=("sxy", "sum"),
        sxx=("sxx", "sum"),
    )
    slope = np.where(fit["sxx"] > 0, fit["sxy"] / fit["sxx"].where(fit["sxx"] > 0, 1.0), np.nan)
    with np.errstate(over="ignore", under="ignore"):
        fit["factor_per_year"] = np.exp(slope)
        fit["fold_drop_per_year"] = np.exp(-slope)
        for end in ("first", "last"):
            fitted = fit["y_mean"] + slope * (fit[f"{end}_years"] - fit["x_mean"])
            fit[f"fit_{end}_usd_per_million_output"] = np.exp(fitted)
    fit = fit.reset_index()
    fit["text"] = [_trend_text(row, catalog) for row in fit.itertuples()]
    return fit[list(TREND_COLUMNS)]


def _name(model: str, catalog: Catalog) -> str:
    if model == GROUP:
        return "The cheapest of the drawn models"
    return catalog.models.loc[model, "name"] if model in catalog.models.index else model


def _moved(ratio: float) -> str:
    """A price's move by ``ratio`` (new / old) in words: 'fell 1.6x', 'rose 4.7x', or
    'held' within ``UNCHANGED_SHARE``."""
    if abs(ratio - 1) <= UNCHANGED_SHARE:
        return "held"
    return f"fell {_fold_text(1 / ratio)}" if ratio < 1 else f"rose {_fold_text(ratio)}"


def _trend_text(row, catalog: Catalog) -> str:
    """The trend in words: the rate per year of the fit over at least ``MIN_TREND_DAYS``,
    else the move from the first to the last price and over how many months."""
    span = (
        f"{row.first_date:%Y-%m} to {row.last_date:%Y-%m}, ${row.first_usd_per_million_output:.3g} "
        f"to ${row.last_usd_per_million_output:.3g} per million output tokens"
    )
    name = _name(row.model, catalog)
    if np.isnan(row.factor_per_year):
        return (
            f"{name}: one price date only ({row.first_date:%Y-%m-%d}, cheapest "
            f"${row.first_usd_per_million_output:.3g} per million output tokens), no trend."
        )
    days = (row.last_date - row.first_date).days
    if days < MIN_TREND_DAYS:
        moved = _moved(row.last_usd_per_million_output / row.first_usd_per_million_output)
        months = max(1, round(12 * days / 365.25))
        return (
            f"{name}: the cheapest output price {moved} in {months} month{'s' * (months != 1)} "
            f"({span}); too short a time for a rate per year."
        )
    moved = _moved(row.factor_per_year)
    rate = " a year" if moved != "held" else " steady"
    return (
        f"{name}: the cheapest output price {moved}{rate} (log-linear fit over {row.n_dates} "
        f"dates, {span})."
    )


def _price_rows(catalog: Catalog, models: list[str], start: pd.Timestamp) -> pd.DataFrame:
    """The provider price rows of ``models`` dated from ``start`` on, with Timestamp dates
    and their ``series``: the provider, or, for a provider that bills the model by time of
    day, '<provider> (peak)' and '<provider> (off-peak)', each with the all-day rows."""
    rows = catalog.provider_prices
    rows = rows[rows["model"].isin(models)].reset_index(drop=True)
    rows = rows.assign(
        catalog_date=rows["date"].astype(str),
        date=period_end(rows["date"]),
        time_of_day=rows.get("time_of_day", pd.Series("all_day", rows.index)).fillna("all_day"),
    )
    rows = rows[rows["date"] >= start]
    pairs = pd.MultiIndex.from_frame(rows[["model", "provider"]])
    timed = pairs.isin(pairs[(rows["time_of_day"] != "all_day").to_numpy()])
    series = [rows[~timed].assign(series=rows.loc[~timed, "provider"])]
    for when, words in (("peak", "peak"), ("off_peak", "off-peak")):
        part = rows[timed & rows["time_of_day"].isin(("all_day", when)).to_numpy()]
        series.append(part.assign(series=part["provider"] + f" ({words})"))
    rows = pd.concat(series, ignore_index=True)
    return rows.sort_values(["model", "date", "series"], kind="stable", ignore_index=True)


def _grid_positions(table: pd.DataFrame, models: list[str], dates: pd.Series) -> np.ndarray:
    """The position of each row's ``model`` and ``date`` in the grid ``models`` x
    ``dates`` (model outer; every date of ``table`` is one of ``dates``, sorted)."""
    model = pd.Index(models).get_indexer(table["model"])
    return model * len(dates) + np.searchsorted(dates.to_numpy(), table["date"].to_numpy())


def _with_floor(
    rows: pd.DataFrame, floor: pd.DataFrame, models: list[str], dates: pd.Series
) -> pd.DataFrame:
    """Each price row with the floor at its date (``floor_*`` columns) and ``below_floor``;
    ``models`` and ``dates``: the timeline's (every row's model and date among them)."""
    renamed = {
        "usd_per_million_output_tokens": "floor_usd_per_million_output_tokens",
        "usd_per_million_input_tokens": "floor_usd_per_million_input_tokens",
        "gpu": "floor_gpu",
        "n_gpus": "floor_n_gpus",
        "weight_format": "floor_weight_format",
    }
    shown = ["model", "provider", "series", "time_of_day", "date", "catalog_date"]
    shown += ["usd_per_million_input", "usd_per_million_output", "source"]
    prices = {name: rows[name].array for name in shown}
    # the floor row of each price row's (model, date), -1 where none: missing values
    slot = np.full(len(models) * len(dates), -1)
    slot[_grid_positions(floor, models, dates)] = np.arange(len(floor))
    at = slot[_grid_positions(rows, models, dates)]
    for column, name in renamed.items():
        prices[name] = floor[column].array.take(at, allow_fill=True)
    prices["floor_n_gpus"] = pd.array(prices["floor_n_gpus"], dtype="Int64")
    for column in ("floor_usd_per_million_output_tokens", "floor_usd_per_million_input_tokens"):
        prices[column] = np.asarray(prices[column], float)  # an empty floor is NaN, not object
    prices["below_floor"] = (
        prices["usd_per_million_output"].to_numpy(float)
        < prices["floor_usd_per_million_output_tokens"]
    )
    return pd.DataFrame(prices)


def _changes(prices: pd.DataFrame) -> pd.DataFrame:
    """Every step of every series' paid output price: the price before, after, the change
    [%] and 'rise' or 'fall' (steps within ``UNCHANGED_SHARE`` left out)."""
    paid = prices[prices["usd_per_million_output"] > 0].sort_values(
        ["model", "series", "date"], kind="stable"
    )
    paid = paid.drop_duplicates(["model", "series", "date"], keep="last")
    before = paid.groupby(["model", "series"])["usd_per_million_output"].shift()
    ratio = paid["usd_per_million_output"] / before
    step = before.notna() & ((ratio - 1).abs() > UNCHANGED_SHARE)
    changes = paid[step].assign(
        previous_usd_per_million_output=before[step],
        change_pct=100 * (ratio[step] - 1),
        direction=np.where(ratio[step] > 1, "rise", "fall"),
    )
    return changes[list(CHANGE_COLUMNS)].reset_index(drop=True)


def _changes_text(changes: pd.DataFrame, models: list[str], catalog: Catalog) -> str:
    """The rises in words and how many steps fell, per model."""
    parts = []
    for model in models:
        mine = changes[changes["model"] == model]
        if mine.empty:
            continue
        rises = mine[mine["direction"] == "rise"]
        name = _name(model, catalog)
        told = "; ".join(
            f"{r.series} raised it {_step_text(r.change_pct)} on {r.date:%Y-%m-%d} "
            f"(${r.previous_usd_per_million_output:.3g} to ${r.usd_per_million_output:.3g} "
            "per million output tokens)"
            for r in rises.itertuples()
        )
        falls = int((mine["direction"] == "fall").sum())
        parts.append(
            f"{name}: {len(rises)} price rise{'s' * (len(rises) != 1)} and {falls} "
            f"fall{'s' * (falls != 1)}" + (f" ({told})" if told else "") + "."
        )
    return " ".join(parts)


def _group(prices: pd.DataFrame, time_of_day: str) -> pd.DataFrame:
    """Per date of any model's price: the lowest paid output price of any model then."""
    dates = pd.DataFrame({"date": np.sort(prices["date"].unique())})
    models = pd.DataFrame({"model": prices["model"].unique()})
    on_offer = _on_offer(prices, dates.merge(models, how="cross"), time_of_day)
    group = on_offer.sort_values("usd_per_million_output", kind="stable")
    group = group.drop_duplicates("date").sort_values("date", ignore_index=True)
    return group[["date", "usd_per_million_output", "model", "provider"]]


def _group_text(group: pd.DataFrame, models: list[str], catalog: Catalog) -> str:
    """How far the cheapest price of the drawn models moved, first date to last."""
    if len(models) < 2 or group.empty:
        return ""
    first, last = group.iloc[0], group.iloc[-1]
    ratio = first["usd_per_million_output"] / last["usd_per_million_output"]
    moved = f"{_fold_text(ratio)} lower" if ratio >= 1 else f"{_fold_text(1 / ratio)} higher"
    names = ", ".join(_name(m, catalog) for m in models)
    return (
        f"Across {names}: the cheapest output price of any of them went from "
        f"${first['usd_per_million_output']:.3g} ({_name(first['model'], catalog)}, "
        f"{first['provider']}, {first['date']:%Y-%m-%d}) to ${last['usd_per_million_output']:.3g} "
        f"({_name(last['model'], catalog)}, {last['provider']}, {last['date']:%Y-%m-%d}): {moved}."
    )


#: Price histories kept per catalog (:func:`_history`): one per set of models, time of
#: day and price rule asked for; the oldest dropped beyond this.
HISTORIES_KEPT = 32


@dataclass(frozen=True)
class _History:
    """What the timeline takes from the catalog alone, whatever the scenario: the dates,
    the price rows, the GPUs' offers, and the Result's fields drawn from prices only
    (``shown``: cheapest, trend, changes and their text, the group's)."""

    start: pd.Timestamp
    end: pd.Timestamp
    rows: pd.DataFrame
    dates: pd.Series
    released: np.ndarray
    first_release: pd.Timestamp
    offers: pd.DataFrame
    notes: tuple
    shown: dict


def _histories(catalog: Catalog) -> dict:
    """The catalog's kept histories (``Catalog.prepared``): key -> :class:`_History`."""
    return {}


def _history(catalog: Catalog, models: list[str], options: Options) -> _History:
    """:class:`_History` of ``models`` at ``options``' time of day and price rule, built
    once per catalog and kept (``HISTORIES_KEPT``): a new sidebar value redraws the floor
    only."""
    kept = catalog.prepared(_histories)
    key = (tuple(models), options.time_of_day, options.price_rule)
    if key not in kept:
        if len(kept) >= HISTORIES_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = _build_history(catalog, models, options)
    return kept[key]


def _build_history(catalog: Catalog, models: list[str], options: Options) -> _History:
    """:class:`_History` from the catalog's prices (:func:`_history` keeps it)."""
    start = period_end([START_DATE])[0]
    end = max(period_end(catalog.provider_prices["date"]).max(), start)
    rows = _price_rows(catalog, models, start)
    candidates = pd.concat(
        [
            pd.Series([start, end]),
            rows["date"],
            period_end(catalog.gpu_prices["date"]),
            period_end(catalog.gpus["date"]),
        ]
    )
    dates = pd.Series(np.sort(candidates[(candidates >= start) & (candidates <= end)].unique()))
    cheapest = _cheapest(rows, options.time_of_day)
    changes = _changes(rows)
    unpriced = [m for m in models if m not in set(rows["model"])]
    notes = ()
    if unpriced:
        notes = (
            "The catalog has no provider prices for "
            + ", ".join(_name(m, catalog) for m in unpriced)
            + " from "
            + START_DATE
            + ": only the cost floor is shown.",
        )
    group = _group(rows, options.time_of_day) if len(models) > 1 else cheapest.iloc[:0]
    shown = {
        "cheapest": cheapest,
        "trend": _trend(cheapest, catalog),
        "changes": changes,
        "changes_text": _changes_text(changes, models, catalog),
        "group": group,
        "group_text": _group_text(group, models, catalog),
        "group_trend": _trend(group.assign(model=GROUP), catalog),
    }
    return _History(
        start=start,
        end=end,
        rows=rows,
        dates=dates,
        released=_released(catalog, models, rows, dates),
        first_release=period_end(catalog.models.loc[models, "date"]).min(),
        offers=_offers(catalog, dates, options.price_rule),
        notes=notes,
        shown=shown,
    )


def run(
    scenario: Scenario | None = None, options: Options | None = None, catalog: Catalog | None = None
) -> Result:
    """Providers' prices and each model's cost floor from ``START_DATE`` to the newest price.

    The floor is evaluated at the start, at every provider-price, GPU-price and GPU-launch
    date up to the newest provider price of any catalog model (``end``), and at ``end``
    (so every floor runs to the last date). ``run()`` covers
    every catalog model with provider prices at the default scenario's batch (32) and
    prompt/output lengths, each GPU at its on-demand price then.
    """
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    if options.include_announced:
        catalog = catalog.with_announced_gpus()
    unknown = [f for f in options.weight_formats if f not in catalog.formats.index]
    if unknown:
        raise ValueError(
            f"weight_formats must hold only {', '.join(catalog.formats.index)}; got {unknown}"
        )
    models = _models(catalog, options)
    if not models:
        raise ValueError("no model to draw: the catalog has no provider prices")
    history = _history(catalog, models, options)
    start, end, rows = history.start, history.end, history.rows
    floor, by_gpu = _floors(scenario, catalog, models, options, history.released, history.offers)
    notes = list(history.notes)
    if floor.empty:
        notes.append(
            f"No GPU launched by {end:%Y-%m-%d} has a price of tier "
            f"{options.price_rule.tier_text}: no floor."
        )
    elif floor["date"].min() > max(start, history.first_release):
        notes.append(
            f"The floor starts on {floor['date'].min():%Y-%m-%d}: no GPU that holds the "
            f"model{'s' * (len(models) > 1)} had a price of tier {options.price_rule.tier_text} in "
            "the catalog before."
        )
    return Result(
        options=options,
        start=start,
        end=end,
        models=tuple(models),
        prices=_with_floor(rows, floor, models, history.dates),
        floor=floor,
        floor_by_gpu=by_gpu,
        # the catalog's history is kept (:func:`_history`): each Result its own frames
        **{
            k: v.copy(deep=False) if isinstance(v, pd.DataFrame) else v
            for k, v in history.shown.items()
        },
        notes=" ".join(notes),
    )


def price_steps(prices: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The paid prices of ``prices`` (a Result's; free tiers, price 0, left out) with each
    series' last price repeated at ``end``, or at the date its offer was withdrawn: a step
    line holds every price until the series' next one. Sorted by series, date."""
    ordered = prices.sort_values("date", kind="stable")
    last = ordered.groupby("series").tail(1)
    gone = last[last["usd_per_million_output"].isna()]
    paid = prices[prices["usd_per_million_output"] > 0]
    held = paid.sort_values("date", kind="stable").groupby("series").tail(1)
    stop = pd.Series(gone.set_index("series")["date"].reindex(held["series"]).to_numpy())
    held = held.assign(date=pd.to_datetime(stop).fillna(end).to_numpy())
    return pd.concat([paid, held], ignore_index=True).sort_values(["series", "date"])


def floor_bands(floor_by_gpu: pd.DataFrame) -> pd.DataFrame:
    """Per GPU ``family`` and ``date``: ``low`` and ``high``, the cheapest and the dearest
    of its GPUs' floors (``usd_per_million_output_tokens`` of a Result's ``floor_by_gpu``)."""
    by = floor_by_gpu.groupby(["family", "date"])["usd_per_million_output_tokens"]
    return by.agg(low="min", high="max").reset_index()
