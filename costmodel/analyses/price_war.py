"""Who makes money serving a model at the providers' prices of a date? (claims C1-C4, C6)

The providers' prices of the scenario's model as of a date and a time of day
(``pricing.price_sheet``; ``"today"``: the newest date the catalog prices that model at;
a date before its first price: its newest, said in ``price_date_note``) against our cost
of serving it, at the scenario's utilisation, request lengths and prefix-cache hit rate
(cached prompt tokens skip prefill and are billed at each provider's cached-input price,
or its input price where it publishes none), on:

- for the seed's model (Mixtral 8x7B) only: the seed's setup (2x H100 SXM, bf16,
  $1.95/GPU-hour: ``Scenario()``'s defaults) and 2x A100 80GB at
  ``a100_usd_per_gpu_hour`` (claims C4 and C6), at the scenario's batch;
- market setups: each of ``market_gpus`` launched by the date, priced by ``price_rule``
  (its tier and own prices, as of the sheet's date: ``pricing.price_gpus``), in its
  cheapest fitting tensor-parallel size (up to ``MAX_MARKET_GPUS`` and its scale-up
  domain), weight format of ``weight_formats`` (``CHECKPOINT``: the formats the model
  was released in) and batch: with ``operating_point = "interactivity"`` (the default)
  the cheapest batch of ``batch_grid()`` that still gives every user
  ``min_tokens_per_s_per_user``, with ``"batch_size"`` the scenario's;
- the scenario's own setup, at its batch.

Who makes money is decided on the cheapest setup at the operating point (meeting the
target, with ``"interactivity"``), and ``verdict_text`` names it: GPUs, format, batch.
Where a provider of the sheet has published its own serving economics (DeepSeek,
``analyses.disclosures``), ``disclosure_text`` says how that differs from this comparison
(parallelism, batch per GPU, prefix-cache hits, GPU price, the prices and their date).

A model the catalog has no prices for is not priced with another model's prices: the
sheet is empty and ``verdict_text`` says so. With the default scenario and options the
result is the seed's December 2023 comparison (no market GPU has a price then).

Words: a margin within ``EVEN_BAND_PCT`` (±10 %) of revenue *roughly breaks even*,
above it *profits*, below it *loses money*; a free price loses money whenever the cost
is above zero; a loss beyond ``LOSS_IN_WORDS_PCT`` is said in words, never as a number
that rounds to infinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import presets, sensitivity
from costmodel.analyses import disclosures
from costmodel.analyses.options import AnalysisOptions, change_pct, scenario_field
from costmodel.catalog import date_key, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import check_ids, sweep, tensor_parallel_sizes
from costmodel.margins import margin_columns
from costmodel.pricing import (
    PriceRule,
    check_time_of_day,
    day_numbers,
    model_price_dates,
    price_dates,
    price_gpus,
    price_sheet,
    withdrawn_offers,
)
from costmodel.scans import evaluated_row, scan_many
from costmodel.scenario import Scenario
from costmodel.spec import choice, entries, flag, nested, number
from costmodel.status import FAILS, NOT_APPLICABLE, decide

COST = "usd_per_million_output_tokens"
A100 = "a100-80gb-sxm"
SEED_DATE = "2023-12"
#: ``price_date`` meaning the newest date the catalog prices the model at.
TODAY = "today"
#: The seed's model: the only one with the seed's setups (C4, C6) and OpenAI's price bar.
SEED_MODEL = Scenario().model
#: OpenAI's model ids start with this: the price bar Mixtral competes with (C1).
REFERENCE = "gpt-3.5"
#: Today's GPUs a market setup is sought on (``market_gpus``' default).
MARKET_GPUS = ("h100-sxm", "h200-sxm", "b200", "b300", "gb200", "mi355x")
#: Most GPUs of a market setup: tensor parallelism within one 8-GPU node (or NVL domain).
MAX_MARKET_GPUS = 8
#: In ``weight_formats``: the formats the model was released in (``weight_format`` None:
#: its ``quantization_config``, e.g. gpt-oss's MXFP4 experts with BF16 attention).
CHECKPOINT = "checkpoint"
#: How the setup that decides who makes money is chosen (``operating_point``): the
#: cheapest batch meeting ``min_tokens_per_s_per_user``, or the scenario's batch.
OPERATING_POINTS = ("interactivity", "batch_size")
#: Interactivity targets one may set [tokens/s per user].
SPEED_RANGE = (1.0, 1000.0, 1.0)
#: The market setups' GPU prices by default: an owner's all-in cost (SemiAnalysis), as
#: optimistic for a provider as the seed's $1.95 was.
DEFAULT_PRICE_RULE = PriceRule(tier="all_in_cost")
#: A loss larger than this share of revenue is said in words ("loses over 100x its
#: revenue"), not as a percentage that a near-zero price blows up to infinity [%].
LOSS_IN_WORDS_PCT = 10_000.0
#: A margin within this many percent of revenue "roughly breaks even" [%].
EVEN_BAND_PCT = 10.0
VERDICTS = ("profits", "roughly breaks even", "loses money")
MARGIN_UNITS = ("% of revenue", "$ per million requests")
#: Highest price an edited sheet may hold [$ per million tokens]; today's dearest is $6.
MAX_USD_PER_MILLION_TOKENS = 1000.0
#: The ``margins`` column each margin unit is drawn from.
UNIT_COLUMN = dict(
    zip(MARGIN_UNITS, ("margin_pct", "margin_usd_per_million_requests"), strict=True)
)
#: Columns of ``Result.market``.
MARKET_COLUMNS = (
    "gpu",
    "name",
    "usd_per_gpu_hour",
    "price_kind",
    "price_basis",
    "price_date",
    "note",
    "n_gpus",
    "weight_format",
    "attention_format",
    "batch_size",
    "tokens_per_s_per_user",
    "usd_per_request",
)
#: The setup fields the seed fixes (its values are ``Scenario()``'s defaults).
SEED_FIELDS = ("gpu", "n_gpus", "weight_format", "kv_format", "usd_per_gpu_hour")
C4_RULE = (
    "C4 holds when Mistral roughly breaks even (margin within ±10% of revenue) and every "
    "other Mixtral provider loses money on the seed's setup; partly when one of the two."
)
C6_RULE = (
    "C6 holds when every non-Mistral Mixtral provider loses money on 2x A100 80GB; partly "
    "when some do."
)
MARGIN_COLUMNS = (
    "setup",
    "provider",
    "model",
    "usd_per_million_input",
    "usd_per_million_output",
    "usd_per_million_cached_input_billed",
    "cached_price_published",
    "revenue_per_request_usd",
    "usd_per_request",
    "margin_usd_per_request",
    "margin_usd_per_million_requests",
    "margin_pct",
    "break_even_utilization",
    "break_even_batch_size",
    "verdict",
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The price-war page's own inputs; names are its URL keys."""

    price_date: str | None = choice(
        None,
        label="Provider prices as of",
        help="Each provider's newest catalog price (assets/provider_prices.csv) dated at or "
        "before this [YYYY-MM]; 2023-12 is the seed's sheet; 'today': the newest date the "
        "model is priced at. A year alone (2024) means an undated snapshot of that year, "
        "taken as its end. Empty: 2023-12 for a model priced then (Mixtral 8x7B), else today.",
        empty="2023-12 for a model priced then, else today",
    )
    a100_usd_per_gpu_hour: float | None = scenario_field(
        "usd_per_gpu_hour",
        default=None,
        label="2x A100 80GB price",
        help="Rental price of one A100 80GB SXM [$/GPU-hour]; empty: the lowest in the "
        "catalog (assets/gpu_prices.csv), as optimistic as the seed's $1.95 for an H100.",
        empty="the lowest A100 80GB price in the catalog",
    )
    time_of_day: str = choice(
        "peak",
        label="Time of day",
        help="Which price of a provider that bills by time of day (DeepSeek since "
        "2026-08-16; its off-peak discount of 2025): 'peak', 'off_peak', or a UTC time "
        "HH:MM on a weekday, peak or off-peak by the provider's peak hours then",
    )
    price_rule: PriceRule = nested(DEFAULT_PRICE_RULE)
    operating_point: str = choice(
        OPERATING_POINTS[0],
        label="Who makes money, decided at",
        help="interactivity: each market GPU at the cheapest batch that still gives every "
        "user min_tokens_per_s_per_user, and the cheapest such setup decides; batch_size: "
        "every setup at the scenario's batch",
        choices=OPERATING_POINTS,
        names={
            "interactivity": "The cheapest setup at the interactivity target",
            "batch_size": "Every setup at the sidebar's batch",
        },
    )
    min_tokens_per_s_per_user: float = number(
        20.0,
        *SPEED_RANGE,
        unit="tokens/s per user",
        label="Interactivity target",
        help="Least decode speed every user must see at the operating point "
        "(operating_point = interactivity) [tokens/s]",
    )
    include_announced: bool = flag(
        False,
        label="Announced GPUs too",
        help="Let market_gpus name announced GPUs (assets/gpus.csv status 'announced', "
        "e.g. Vera Rubin): they have no rental price, so only your own prices price them",
    )
    market_gpus: tuple[str, ...] = choice(
        MARKET_GPUS,
        label="Market GPUs",
        help="GPUs (assets/gpus.csv ids) a market setup is sought on, each in its cheapest "
        f"fitting size of up to {MAX_MARKET_GPUS} GPUs and format",
        catalog_table="gpus",
        many=True,
    )
    weight_formats: tuple[str, ...] = choice(
        (CHECKPOINT, "bf16", "fp8"),
        label="Market weight formats",
        help="Weight formats (assets/formats.csv) a market setup may use, and "
        f"'{CHECKPOINT}': the formats the model was released in (gpt-oss: MXFP4 experts, "
        "BF16 attention; DeepSeek: FP8); these keep the released model's quality",
        many=True,
    )
    margin_unit: str = choice(
        MARGIN_UNITS[0],
        label="Margin shown in",
        help="Chart unit: margin in percent of the provider's revenue [%], or in dollars "
        "per million requests of the scenario's prompt + output length [$].",
        choices=MARGIN_UNITS,
    )
    change_pct: float = change_pct("the scenario's setup")
    provider_prices: tuple[tuple[str, float, float], ...] = entries(
        ("usd_per_million_input", "usd_per_million_output"),
        0.0,
        MAX_USD_PER_MILLION_TOKENS,
        0.01,
        unit="$ per million tokens",
        label="Edited prices",
        help="(provider, $/M input, $/M output) replacing that provider's price on the "
        "sheet; not kept in the URL [$ per million tokens]",
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.weight_formats:
            raise ValueError("weight_formats must hold at least one format; got ()")
        check_time_of_day(self.time_of_day)


@dataclass(frozen=True)
class Result:
    """Prices, our costs and the margins, who makes money, and the C4 and C6 verdicts.

    ``priced_model`` is always the scenario's model (``has_prices``: whether the catalog
    prices it at all); ``price_date``: the date of the sheet (``"today"`` and the
    default resolved, or the model's newest when it had no price at the date asked:
    ``price_date_note`` says so, else ''); ``sheet_note``: which providers bill the model
    by time of day and which withdrew it by the date, in words (''
    when neither); ``price_dates``: the dates ``price_date`` may
    take (``"today"`` last); ``time_of_day`` of the sheet; ``price_rule``: the market's,
    as of the sheet's date. ``costs``: one row per setup (unit-named; ``meets_target``:
    it gives every user ``min_tokens_per_s_per_user``). ``market``: one row per
    ``market_gpus`` entry: its price, best setup, or ``note`` why it has none.
    ``operating_point_text``: where who makes money is decided, in words.
    ``margins``: every provider on every setup (``MARGIN_COLUMNS``; ``verdict`` one of
    ``VERDICTS``); ``margin_column``: the one to draw in ``options.margin_unit``.
    ``cheapest_setup``: the fitting setup with the lowest cost per request at the
    operating point (None if none); ``verdict_text``: who makes money on it, in words
    with the numbers; ``disclosure_text``: how a provider's own published economics
    differ from this comparison ('' where no provider of the sheet published any).
    ``seed_setup`` / ``a100_setup``: the seed's setups, None unless the model is
    ``SEED_MODEL``. ``c4_status`` and ``c6_status``: "holds", "partly", "does not hold"
    (rules ``C4_RULE``, ``C6_RULE``) or "not applicable" for another model.
    """

    sheet: pd.DataFrame
    priced_model: str
    has_prices: bool
    price_date: str
    price_date_note: str
    sheet_note: str
    price_dates: list
    time_of_day: str
    price_rule: PriceRule
    operating_point_text: str
    a100_usd_per_gpu_hour: float
    setups: dict
    seed_setup: str | None
    a100_setup: str | None
    sidebar_setup: str
    costs: pd.DataFrame
    market: pd.DataFrame
    margins: pd.DataFrame
    margin_column: str
    cheapest_setup: str | None
    verdict_text: str
    disclosure_text: str
    mistral_margin_pct: float | None
    mistral_break_even_batch_size: float | None
    mistral_break_even_utilization: float | None
    c4_status: str
    c4_text: str
    c6_status: str
    c6_text: str
    sidebar_range: dict
    tornado: pd.DataFrame


def verdicts(margins: pd.DataFrame | dict) -> np.ndarray:
    """'profits' / 'roughly breaks even' / 'loses money' per row, from ``margin_pct`` (of a
    frame or a dict of column arrays).

    A free price (revenue 0): 'loses money' if the cost is above 0, else 'roughly breaks
    even'. Otherwise above +10 % profits, within ±10 % roughly breaks even.
    """
    revenue, cost, pct = (
        np.asarray(margins[c], float)
        for c in ("revenue_per_request_usd", "usd_per_request", "margin_pct")
    )
    free = revenue <= 0
    return np.select(
        [free & (cost > 0), free, pct > EVEN_BAND_PCT, pct >= -EVEN_BAND_PCT],
        [VERDICTS[2], VERDICTS[1], VERDICTS[0], VERDICTS[1]],
        VERDICTS[2],
    )


def margin_words(revenue: float, margin_pct: float, short: bool = False) -> str:
    """A margin in a sentence: '+69% of revenue' ('+69%' when ``short``); at a price of 0
    'nothing: the price is free' ('free'); below ``-LOSS_IN_WORDS_PCT``, or where a
    near-zero price makes it infinite, 'a loss of over 100x the revenue' ('a loss over
    100x revenue'): never 'inf%' or 'nan%'."""
    times = f"{LOSS_IN_WORDS_PCT / 100:.0f}x"
    if not revenue > 0:
        return "free" if short else "nothing: the price is free"
    if not np.isfinite(margin_pct) or margin_pct < -LOSS_IN_WORDS_PCT:
        return f"a loss over {times} revenue" if short else f"a loss of over {times} the revenue"
    return f"{margin_pct:+.0f}%" + ("" if short else " of revenue")


def describe(row: pd.Series) -> str:
    """A provider with its margin, e.g. 'Together (-69%)' or 'OpenRouter (free)'."""
    words = margin_words(row["revenue_per_request_usd"], row["margin_pct"], short=True)
    return f"{row['provider']} ({words})"


def _described(rows: dict) -> list[str]:
    """:func:`describe` of each row of ``rows`` (column -> array)."""
    return [describe(_row(rows, i)) for i in range(len(rows["provider"]))]


def _row(columns: dict, i: int) -> dict:
    """Row ``i`` of ``columns`` (column -> array) as column -> value."""
    return {name: values[i] for name, values in columns.items()}


def _where(columns: dict, mask) -> dict:
    """The rows of ``columns`` (column -> array) where ``mask`` holds."""
    return {name: values[mask] for name, values in columns.items()}


def _at(columns: dict, setup: str) -> dict:
    """The row of ``columns`` (a table of setups: column -> array) of ``setup``."""
    return _row(columns, int(np.flatnonzero(columns["setup"] == setup)[0]))


def _is_reference(models: np.ndarray) -> np.ndarray:
    """Whether each model id is one of OpenAI's price bar (``REFERENCE``)."""
    return np.char.startswith(models.astype(str), REFERENCE)


def break_even_text(row: pd.Series) -> str:
    """Where a provider's price breaks even: batch (at this utilisation) and utilisation."""
    batch, util = row["break_even_batch_size"], row["break_even_utilization"]
    parts = [
        f"batch ≥ {batch:.0f}" if np.isfinite(batch) else "no batch that fits",
        f"utilisation ≥ {util:.0%}" if np.isfinite(util) and util <= 1 else "no utilisation ≤ 100%",
    ]
    return f"break-even needs {parts[0]} (at this utilisation) or {parts[1]} (at this batch)"


def _seed_setups(scenario, a100_price: float) -> dict:
    """Label -> Scenario: the seed's setup and 2x A100 80GB at ``a100_price``."""
    seed_values = Scenario()
    seed = scenario.replace(**{k: getattr(seed_values, k) for k in SEED_FIELDS})
    a100 = seed.replace(gpu=A100, usd_per_gpu_hour=a100_price)
    return {
        f"Seed: {seed.n_gpus}x H100 SXM @ ${seed.usd_per_gpu_hour:.2f}": seed,
        f"{a100.n_gpus}x A100 80GB @ ${a100_price:.2f}": a100,
    }


def market_setups(scenario, date: str, options: Options, catalog) -> tuple[dict, pd.DataFrame]:
    """Label -> Scenario of each market GPU's cheapest setup at the operating point, and
    a table of them.

    Each GPU of ``options.market_gpus`` launched by ``date`` (``assets/gpus.csv`` date)
    with a price under ``options.price_rule`` as of ``date``: one sweep over those GPUs,
    the model's tensor-parallel sizes up to ``MAX_MARKET_GPUS`` (and the GPU's scale-up
    domain), ``options.weight_formats`` and, with ``operating_point = "interactivity"``,
    the batches of ``batch_grid()``, at $1/GPU-hour (cost is proportional to the price,
    so the best setup does not depend on it), keeping the lowest cost per request that
    fits (and gives every user ``min_tokens_per_s_per_user``). The table has a row per
    GPU with ``note`` saying why one was left out.
    """
    gpus = list(options.market_gpus)
    prices = price_gpus(gpus, options.price_rule.replace(as_of=date), catalog)
    at = catalog.gpus.index.get_indexer(gpus)
    launched = day_numbers(catalog.gpus["date"].to_numpy()[at]) <= day_numbers([date])[0]
    note = np.where(
        ~launched,
        f"launched after {date}",
        np.where(prices["basis"].to_numpy() == "unpriced", prices["note"].to_numpy(), ""),
    ).astype(object)  # a longer note goes in below
    names = catalog.gpus["name"].to_numpy()[at]
    usd_per_gpu_hour = prices["usd_per_gpu_hour"].to_numpy()
    table = {
        "gpu": gpus,
        "name": names,
        "usd_per_gpu_hour": usd_per_gpu_hour,
        "price_kind": prices["kind"].to_numpy(),
        "price_basis": prices["basis"].to_numpy(),
        "price_date": prices["date"].to_numpy(),
    }
    offered = note == ""
    interactive = options.operating_point == "interactivity"
    best = _best_market_setups(scenario, gpus, offered, options, catalog)
    best["usd_per_request"] = best["usd_per_request"] * usd_per_gpu_hour
    found = offered & ~pd.isna(best["n_gpus"])
    formats = ", ".join(options.weight_formats)
    note[offered & ~found] = (
        f"no setup of up to {MAX_MARKET_GPUS} GPUs in {formats} gives every user "
        f"{options.min_tokens_per_s_per_user:g} tokens/s"
        if interactive
        else f"does not fit on up to {MAX_MARKET_GPUS} GPUs in {formats}"
    )
    table = pd.DataFrame({**table, "note": note, **best})
    setups = {}
    for i in np.flatnonzero(found):
        r = {name: column[i] for name, column in best.items()}
        price = float(usd_per_gpu_hour[i])
        label = f"Market: {int(r['n_gpus'])}x {names[i]}, {_formats(r)} @ ${price:.2f}"
        setups[label] = scenario.replace(
            gpu=gpus[i],
            n_gpus=int(r["n_gpus"]),
            weight_format=r["weight_format"],
            attention_format=r["attention_format"],
            usd_per_gpu_hour=price,
            batch_size=int(r["batch_size"]),
        )
    return setups, table


#: Columns of a market GPU's best setup (``Result.market``'s after the price columns).
_BEST_COLUMNS = MARKET_COLUMNS[MARKET_COLUMNS.index("n_gpus") :]


def _best_market_setups(scenario, gpus: list, offered, options: Options, catalog) -> dict:
    """Column -> array (one row per GPU of ``gpus``, NaN where none) of each offered GPU's
    cheapest setup at $1/GPU-hour (:func:`market_setups`): the lowest ``usd_per_request``,
    the first in sweep order on a tie. Dtypes as a left join of the GPUs on a table of the
    setups gives: an integer column with a missing row is float, with no setup at all
    every column is object."""
    missing = np.full(len(gpus), np.nan, object)
    if not offered.any():
        return {name: missing.copy() for name in _BEST_COLUMNS}
    sizes = [n for n in tensor_parallel_sizes(scenario.model, catalog) if n <= MAX_MARKET_GPUS]
    axes = {
        "gpu": [g for g, o in zip(gpus, offered, strict=True) if o],
        "n_gpus": sizes,
        "weight_format": [None if f == CHECKPOINT else f for f in options.weight_formats],
    }
    if options.operating_point == "interactivity":
        axes["batch_size"] = batch_grid()
    grid = sweep(scenario.replace(usd_per_gpu_hour=1.0), catalog, **axes)
    grid_gpu = grid["gpu"].astype(str).to_numpy()
    at = catalog.gpus.index.get_indexer(grid_gpu)
    domain = catalog.gpus["scale_up_domain_gpus"].to_numpy(float)[at]
    ok = grid["fits"].to_numpy(bool) & ~(grid["n_gpus"].to_numpy() > domain)
    if options.operating_point == "interactivity":
        ok &= grid["tokens_per_s_per_user"].to_numpy() >= options.min_tokens_per_s_per_user
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(grid["usd_per_request"].to_numpy()[rows], kind="stable")]
    distinct, first = np.unique(grid_gpu[rows], return_index=True)
    row_of = dict(zip(distinct, rows[first], strict=True))
    pick = np.array([row_of.get(g, -1) for g in gpus])
    has = pick >= 0
    best = {}
    for name in _BEST_COLUMNS:
        column = grid[name].astype(str) if name.endswith("format") else grid[name]
        values = column.to_numpy()[pick]
        dtype = column.dtype
        if not has.all():
            dtype = np.dtype(float) if dtype.kind in "iu" else dtype
            values = np.where(has, values, np.nan)
        best[name] = pd.array(values, dtype=dtype)
    return best


def _formats(row) -> str:
    """'fp8', or 'mxfp4 experts + bf16' where the experts' format differs from the rest's."""
    if row["attention_format"] == row["weight_format"]:
        return row["weight_format"]
    return f"{row['weight_format']} experts + {row['attention_format']}"


def _setups(scenario, a100_price: float, date: str, options: Options, catalog):
    """Label -> Scenario (the seed's two for its model, the market's, the scenario's), the
    labels of the seed's two setups (None for another model) and of the scenario's, and
    the market table."""
    result = _seed_setups(scenario, a100_price) if scenario.model == SEED_MODEL else {}
    seeds = tuple(result) or (None, None)
    market, table = market_setups(scenario, date, options, catalog)
    result.update({k: v for k, v in market.items() if v not in result.values()})
    if scenario not in result.values():
        name = catalog.gpus.loc[scenario.gpu, "name"]
        result[f"Sidebar: {scenario.n_gpus}x {name} @ ${scenario.usd_per_gpu_hour:.2f}"] = scenario
    sidebar = next(label for label, s in result.items() if s == scenario)
    return result, (*seeds, sidebar), table


def _costs(setups: dict, rows: pd.DataFrame, spreads: list, options: Options) -> dict:
    """Our cost per token and per request on each setup (``rows``: one scan row per
    setup) with its headline range (``spreads``), and whether it meets the target: column
    -> array."""
    column = {name: rows[name].to_numpy() for name in COST_COLUMNS}
    return {
        "setup": np.array(list(setups), object),
        "gpu": rows["gpu"].astype(str).to_numpy(),
        "n_gpus": column["n_gpus"],
        "usd_per_gpu_hour": column["usd_per_gpu_hour"],
        "weight_format": rows["weight_format"].astype(str).to_numpy(),
        "batch_size": column["batch_size"],
        "utilization": column["utilization"],
        "fits": rows["fits"].to_numpy(bool),
        "usd_per_million_input_tokens": column["usd_per_million_input_tokens"],
        COST: column[COST],
        f"{COST}_low": np.array([s["low"] for s in spreads]),
        f"{COST}_high": np.array([s["high"] for s in spreads]),
        "usd_per_request": column["usd_per_request"],
        "tokens_per_s_per_user": column["tokens_per_s_per_user"],
        "meets_target": column["tokens_per_s_per_user"] >= options.min_tokens_per_s_per_user,
    }


#: The scan's columns ``_costs`` takes as they are.
COST_COLUMNS = (
    "n_gpus",
    "usd_per_gpu_hour",
    "batch_size",
    "utilization",
    "usd_per_million_input_tokens",
    COST,
    "usd_per_request",
    "tokens_per_s_per_user",
)


def _evaluated(scenario, setups: dict, sheet: pd.DataFrame, options: Options, catalog):
    """Our costs on the setups with their headline ranges (``sensitivity``), every
    provider's margin on each (``margins.margin_columns``, its break-even batch from the
    setup's sweep over ``batch_grid()``), both as column -> array, and the scenario's
    tornado, in two ``scans.scan_many`` calls: the setups and their batch sweeps, then the
    moves of the ranges and the tornado from the setups' evaluated rows."""
    bases = list(setups.values())
    # every setup's sweep over ``batch_grid()`` as one call: setup i's batches in turn
    grids = (
        []
        if sheet.empty
        else [sensitivity.scenario_columns(bases, batch_size=batch_grid() * len(bases))]
    )
    rows, *sweeps = scan_many([sensitivity.scenario_columns(bases), *grids], catalog)
    resolved = evaluated_row(rows, bases.index(scenario))
    ranges, tornado = (
        sensitivity.ranges_call(bases, rows, catalog),
        sensitivity.tornado_call(scenario, resolved, options.change_pct, None, catalog),
    )
    ends, moved = scan_many([ranges, tornado], catalog)
    spreads = sensitivity.ranges_from(bases, rows, ends, COST, catalog)
    costs = _costs(setups, rows, spreads, options)
    margins = _margins(setups, sheet, rows["usd_per_request"].to_numpy(), *sweeps)
    return costs, spreads, margins, sensitivity.tornado_table(tornado[1], resolved, COST, moved)


def resolved_price_date(model: str, price_date: str | None, catalog) -> str:
    """The sheet's date: ``price_date`` as given, ``TODAY`` as the newest date the catalog
    prices ``model`` at (the newest of any model when it has none), None as ``SEED_DATE``
    when the model is priced then, else as ``TODAY``; a date before the model's first
    price as its newest (:func:`price_date_note` says so). ``ValueError`` for another
    date."""
    dates = price_dates(catalog)
    if price_date is not None and price_date not in (*dates, TODAY):
        raise ValueError(
            f"price_date must be one of {', '.join(dates)}, {TODAY}; got {price_date!r}"
        )
    own = model_price_dates(model, catalog) or dates
    if price_date is None:
        price_date = SEED_DATE if date_key(own[0]) <= date_key(SEED_DATE) else TODAY
    if price_date == TODAY or date_key(price_date) < date_key(own[0]):
        return own[-1]
    return price_date


def price_date_note(model: str, price_date: str | None, date: str, catalog) -> str:
    """Why the sheet's ``date`` is not the ``price_date`` asked for ('' when it is)."""
    if price_date in (None, TODAY, date):
        return ""
    name = catalog.models.loc[model, "name"] if model in catalog.models.index else model
    first = model_price_dates(model, catalog)[0]
    return (
        f"No provider priced {name} on or before {price_date} (its prices begin {first}): "
        f"shown at its newest prices, of {date}."
    )


#: How a time of day reads in a sentence.
TIME_WORDS = {"peak": "peak", "off_peak": "off-peak"}


def time_words(time_of_day: str) -> str:
    """'peak', 'off-peak', or '03:00 UTC' for a UTC time."""
    return TIME_WORDS.get(time_of_day, f"{time_of_day} UTC")


def sheet_note(model: str, date: str, sheet: pd.DataFrame, time_of_day: str, catalog) -> str:
    """Which providers on ``sheet`` bill ``model`` by time of day (and so differ between
    peak and off-peak), or that none does; and which providers had withdrawn the model by
    ``date`` (their newest catalog row on or before it has no price), with the day."""
    name = catalog.models.loc[model, "name"] if model in catalog.models.index else model
    times = sheet["time_of_day"].to_numpy()
    is_timed = (sheet["model"].to_numpy() == model) & (times != "all_day")
    providers, times = sheet["provider"].to_numpy()[is_timed], times[is_timed]
    if len(providers):
        one = len(providers) == 1
        head = f"bill{'s' * one} {name} by time of day: the sheet holds"
        if time_of_day in TIME_WORDS:
            names = ", ".join(providers)
            tail = f"{'its' if one else 'their'} {time_words(time_of_day)} price{'s' * (not one)}"
        else:
            names = ", ".join(
                f"{p} ({time_words(t)})" for p, t in zip(providers, times, strict=True)
            )
            tail = f"the price{'s' * (not one)} of {time_words(time_of_day)} on a weekday"
        parts = [f"{names} {head} {tail}."]
    elif time_of_day != "peak" and len(sheet):
        parts = [
            f"No provider on this sheet bills {name} by time of day: peak and off-peak give "
            "the same prices."
        ]
    else:
        parts = []
    gone = withdrawn_offers(model, date, catalog)
    if gone:
        parts.append(
            f"Withdrawn by {date}: "
            + ", ".join(f"{provider} (on {day})" for provider, day in gone)
            + f"; {'it is' if len(gone) == 1 else 'they are'} not on the sheet."
        )
    return " ".join(parts)


def _sheet(model: str, date: str, options: Options, catalog) -> pd.DataFrame:
    """The price sheet of ``model`` as of ``date`` at ``options.time_of_day`` with the
    user's edits (OpenAI's price bar beside the seed's model)."""
    reference = REFERENCE if model == SEED_MODEL else None
    sheet = price_sheet(model, date, catalog, reference=reference, time_of_day=options.time_of_day)
    for provider, usd_in, usd_out in options.provider_prices:
        if provider not in set(sheet["provider"]):
            raise ValueError(
                f"provider_prices: provider must be one of {', '.join(sheet['provider'])}; "
                f"got {provider!r}"
            )
        sheet.loc[
            sheet["provider"] == provider, ["usd_per_million_input", "usd_per_million_output"]
        ] = (
            usd_in,
            usd_out,
        )
    return sheet


def _margins(setups: dict, sheet: pd.DataFrame, usd_per_request, sweeps=None) -> dict:
    """Every provider's margin on every setup (long: ``MARGIN_COLUMNS`` -> array, each
    setup's rows in turn), with its verdict, from our cost per request on each setup and
    ``sweeps``: each setup's sweep over ``batch_grid()`` in turn (None: the sheet is empty)."""
    if sheet.empty:
        return {name: np.array([], object) for name in MARGIN_COLUMNS}
    size = len(batch_grid())
    sweep_columns = {
        name: sweeps[name].to_numpy() for name in ("batch_size", "fits", "usd_per_request")
    }
    parts = [
        margin_columns(
            s,
            sheet,
            float(cost),
            {name: values[i * size : (i + 1) * size] for name, values in sweep_columns.items()},
        )
        for i, (s, cost) in enumerate(zip(setups.values(), usd_per_request, strict=True))
    ]
    table = {"setup": np.repeat(np.array(list(setups), object), len(sheet))}
    for name in MARGIN_COLUMNS[1:5]:
        table[name] = np.tile(sheet[name].to_numpy(), len(setups))
    table.update({name: np.concatenate([p[name] for p in parts]) for name in parts[0]})
    table["margin_usd_per_request"] = table["margin_usd_per_million_requests"] / 1e6
    table["verdict"] = verdicts(table)
    return {name: table[name] for name in MARGIN_COLUMNS}


def _margin_frame(margins: dict) -> pd.DataFrame:
    """``Result.margins`` from :func:`_margins`' columns."""
    if len(margins["setup"]) == 0:
        return pd.DataFrame(columns=list(MARGIN_COLUMNS))
    return pd.DataFrame(margins)


def _losers(rows: dict) -> tuple[str, str]:
    """'k of the n' and the list of who loses and who does not."""
    lose = rows["verdict"] == VERDICTS[2]
    text = f"{lose.sum()} of the {len(lose)}"
    tail = f": {', '.join(_described(_where(rows, lose)))}" if lose.any() else ""
    if not lose.all():
        tail += f"; not losing: {', '.join(_described(_where(rows, ~lose)))}"
    return text, tail


def _c4(margins: dict, costs: dict, label: str, scenario) -> tuple:
    """C4 in words: Mistral's margin and the other providers' on the seed's setup."""
    ours = _at(costs, label)
    rows = _where(margins, (margins["setup"] == label) & ~_is_reference(margins["model"]))
    text = (
        f"On the seed's setup ({scenario.n_gpus}x H100 SXM, {scenario.weight_format}, "
        f"${scenario.usd_per_gpu_hour:.2f}/GPU-hour) at batch {scenario.batch_size} and "
        f"{scenario.utilization:.0%} utilisation our cost is ${ours[COST]:.3f} per million "
        f"output tokens and ${ours['usd_per_million_input_tokens']:.3f} per million input "
        f"tokens, ${ours['usd_per_request'] * 1000:.3f} per 1,000 requests of "
        f"{scenario.prompt_tokens} + {scenario.output_tokens} tokens."
    )
    if not ours["fits"]:
        text += " This setup does not fit the model in memory at this batch."
    is_mistral = rows["provider"] == "Mistral"
    others = _where(rows, ~is_mistral)
    numbers = {"mistral_margin_pct": None, "mistral_break_even_batch_size": None}
    numbers["mistral_break_even_utilization"] = None
    even = False
    if is_mistral.any():
        m = _row(rows, int(np.flatnonzero(is_mistral)[0]))
        even = m["verdict"] == VERDICTS[1]
        numbers = {
            "mistral_margin_pct": float(m["margin_pct"]),
            "mistral_break_even_batch_size": float(m["break_even_batch_size"]),
            "mistral_break_even_utilization": float(m["break_even_utilization"]),
        }
        text += (
            f" At Mistral's own price (${m['usd_per_million_input']:.2f} in / "
            f"${m['usd_per_million_output']:.2f} out) the margin is "
            f"{margin_words(m['revenue_per_request_usd'], m['margin_pct'])}: "
            f"Mistral {m['verdict']}; {break_even_text(m)}."
        )
    all_lose = len(others["verdict"]) > 0 and bool((others["verdict"] == VERDICTS[2]).all())
    if len(others["verdict"]):
        count, tail = _losers(others)
        text += f" {count} other providers lose money{tail}."
    return decide(even and all_lose, even or all_lose), text, numbers


def _c6(margins: dict, costs: dict, label: str, setup: Scenario, catalog) -> tuple[str, str]:
    """C6 in words: 2x A100 (setup ``label``) against the collapsed (non-Mistral) Mixtral
    prices."""
    ours = _at(costs, label)
    rows = _where(
        margins,
        (margins["setup"] == label)
        & ~_is_reference(margins["model"])
        & (margins["provider"] != "Mistral"),
    )
    text = (
        f"On {setup.n_gpus}x {catalog.gpus.loc[setup.gpu, 'name']} at "
        f"${ours['usd_per_gpu_hour']:.2f}/GPU-hour (same batch and "
        f"utilisation) our cost is ${ours[COST]:.3f} per million output tokens."
    )
    if not ours["fits"]:
        text += " This setup does not fit the model in memory at this batch."
    if len(rows["verdict"]) == 0:
        return FAILS, text + " The sheet has no collapsed prices to compare."
    lose = rows["verdict"] == VERDICTS[2]
    count, tail = _losers(rows)
    text += f" At the collapsed prices {count} providers lose money{tail}."
    return decide(bool(lose.all()), bool(lose.any())), text


#: How ``verdict_text`` names each verdict's group.
VERDICT_GROUPS = dict(
    zip(VERDICTS, ("make money", "roughly break even", "lose money"), strict=True)
)


def operating_point_text(options: Options) -> str:
    """Where who makes money is decided, in words."""
    if options.operating_point == "interactivity":
        return (
            "on the cheapest setup that gives every user at least "
            f"{options.min_tokens_per_s_per_user:g} tokens/s (each market GPU at its "
            "cheapest such batch; the seed's and the sidebar's setups at the sidebar's batch)"
        )
    return "on the cheapest setup that fits, every setup at the sidebar's batch"


def _verdict_text(
    scenario, date: str, sheet, margins, costs, market, options, catalog
) -> tuple[str | None, str]:
    """Who makes money serving the model on ``date``: each provider's margin on the
    cheapest setup at the operating point, with the numbers; and that setup's label."""
    name = (
        catalog.models.loc[scenario.model, "name"]
        if scenario.model in catalog.models.index
        else scenario.model
    )
    when = (
        date
        if options.time_of_day == "peak"
        else f"{date} ({time_words(options.time_of_day)} prices)"
    )
    head = f"Who makes money serving {name} at the prices of {when}?"
    priced = model_price_dates(scenario.model, catalog)
    if not priced:
        models = sorted(set(catalog.provider_prices["model"]) & set(catalog.models.index))
        return None, (
            f"{head} The catalog has no provider prices for {name}, so no margin is shown "
            f"(it is not priced with another model's prices); models with prices: "
            f"{', '.join(models)}."
        )
    if not (sheet["model"].to_numpy() == scenario.model).any():
        return None, (
            f"{head} No provider sells {name} on {date} at this time of day; its prices "
            f"run from {priced[0]} to {priced[-1]}."
        )
    fitting = costs["fits"].copy()
    if options.operating_point == "interactivity":
        fitting &= costs["meets_target"]
    notes, names = market["note"].to_numpy(), market["name"].to_numpy()
    gone = "; ".join(
        f"{', '.join(names[notes == note])} ({note})" for note in dict.fromkeys(notes) if note != ""
    )
    gone = f" Market GPUs left out: {gone}." if gone else ""
    if not fitting.any():
        return None, (
            f"{head} No setup fits {name} in memory {operating_point_text(options)}.{gone}"
        )
    candidates = np.flatnonzero(fitting)
    best = _row(costs, candidates[np.nanargmin(costs["usd_per_request"][candidates])])
    rows = _where(
        margins, (margins["setup"] == best["setup"]) & (margins["model"] == scenario.model)
    )
    groups = [
        f"{VERDICT_GROUPS[v]}: {', '.join(_described(_where(rows, rows['verdict'] == v)))}"
        for v in VERDICTS
        if (rows["verdict"] == v).any()
    ]
    losers = (rows["verdict"] == VERDICTS[2]) & np.isfinite(rows["break_even_batch_size"])
    if losers.any():
        groups.append(
            "at this price the losers would break even from batch "
            + ", ".join(
                f"{batch:.0f} ({provider})"
                for batch, provider in zip(
                    rows["break_even_batch_size"][losers], rows["provider"][losers], strict=True
                )
            )
        )
    text = (
        f"{head} Decided {operating_point_text(options)}: {best['setup']}, at batch "
        f"{int(best['batch_size'])} ({best['tokens_per_s_per_user']:,.0f} tokens/s per user), "
        f"{scenario.utilization:.0%} utilisation and {scenario.prefix_cache_hit_rate:.0%} "
        f"prefix-cache hits, our cost is ${best['usd_per_request'] * 1000:.3f} per 1,000 "
        f"requests of {scenario.prompt_tokens} + {scenario.output_tokens} tokens "
        f"(${best[COST]:.3f} per million output tokens). Margins: {'; '.join(groups)}."
    )
    unpublished = rows["provider"][~rows["cached_price_published"]]
    if scenario.prefix_cache_hit_rate > 0 and len(unpublished):
        text += (
            f" {', '.join(unpublished)} publish no cached-input price: their "
            "cached tokens are billed at their input price."
        )
    return str(best["setup"]), text + gone


def disclosure_text(scenario, date: str, margins, costs, setup: str | None, catalog) -> str:
    """How a provider's own published serving economics (``analyses.disclosures``) differ
    from this comparison, for each provider of the sheet that published some; '' if none.

    Their cost-profit ratio is profit over cost, ``r = (revenue - cost) / cost``; as a
    margin of revenue it is ``r / (1 + r)`` (DeepSeek's 545 %: 5.45 / 6.45 = 84.5 %). The
    disclosure is restated at ``catalog``'s prices of its day, or at the project's catalog's
    where ``catalog`` holds none then (a price list of the user's own).
    """
    if setup is None or margins.empty:
        return ""
    table = disclosures.load_disclosures()
    on_setup = margins["setup"].to_numpy() == setup
    providers = margins["provider"].to_numpy()
    found = []
    for key, provider in table["provider"].items():
        mine = np.flatnonzero(on_setup & (providers == provider))
        if not len(mine):
            continue
        m = margins.iloc[mine[0]]
        ours = costs.loc[costs["setup"] == setup].iloc[0]
        row = table.loc[key]
        try:
            said = disclosures.restate(key, catalog)
        except ValueError:  # a sheet of the user's own lacks the disclosure day's prices:
            said = disclosures.restate(key)  # the project's catalog has them
        ratio = said["disclosed_cost_profit_ratio_pct"] / 100
        work = disclosures.workload(key)
        preset = presets.DEEPSEEK_2025 if key == disclosures.DEEPSEEK else {}
        n_gpus = preset.get("n_gpus", row["gpus_per_node"])
        parallel = "expert-parallel" if preset.get("expert_parallel") else "tensor-parallel"
        gpu = (
            catalog.gpus.loc[row["gpu"], "name"] if row["gpu"] in catalog.gpus.index else row["gpu"]
        )
        found.append(
            f"{row['provider']}'s own published economics ({row['date']}, "
            f"{row['models'].replace(';', ' and ')}) give a cost-profit ratio of "
            f"{100 * ratio:.0f}% (profit over cost; as a margin, {100 * ratio / (1 + ratio):.1f}% "
            f"of revenue), where this comparison finds {row['provider']} at "
            f"{margin_words(m['revenue_per_request_usd'], m['margin_pct'])} on {setup}. What "
            f"differs: they decoded on {n_gpus}-GPU {parallel} units at about "
            f"{work['sequences_per_gpu']:.0f} sequences per GPU, here {int(ours['n_gpus'])} "
            f"GPUs, tensor-parallel, at batch {int(ours['batch_size'])} "
            f"({ours['batch_size'] / ours['n_gpus']:.0f} per GPU); "
            f"{row['prefix_cache_hit_rate']:.1%} of their prompt tokens hit the prefix cache, "
            f"here {scenario.prefix_cache_hit_rate:.1%}; they paid "
            f"${row['usd_per_gpu_hour']:.2f} per {gpu}-hour, here "
            f"${ours['usd_per_gpu_hour']:.2f} per {catalog.gpus.loc[ours['gpu'], 'name']}-hour; "
            f"their revenue is their day's tokens at {row['priced_as']}'s prices of "
            f"{said['price_date']}, here {scenario.model}'s of {date} for "
            f"{scenario.prompt_tokens:,} + {scenario.output_tokens:,} tokens a request."
        )
    return " ".join(found)


def _lowest_a100_price(catalog) -> float:
    """The lowest A100 80GB price of the catalog [$/GPU-hour] (``Catalog.prepared``)."""
    prices = catalog.gpu_prices
    return float(prices.loc[prices["gpu"] == A100, "usd_per_gpu_hour"].min())


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Prices of the scenario's model as of ``options.price_date`` against our cost on the
    setups (module docstring); ``run()`` is the seed's December 2023 comparison."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    if options.include_announced:
        catalog = catalog.with_announced_gpus()
    announced = [] if catalog.announced_gpus is None else list(catalog.announced_gpus.index)
    for name, ids, table in (
        ("market_gpus", options.market_gpus, catalog.gpus),
        ("weight_formats", options.weight_formats, catalog.formats),
    ):
        allowed = [*table.index, CHECKPOINT] if name == "weight_formats" else list(table.index)
        unknown = [i for i in ids if i not in allowed]
        if unknown:
            why = (
                " (announced GPUs need include_announced)" if set(unknown) & set(announced) else ""
            )
            raise ValueError(f"{name} must hold only {', '.join(allowed)}; got {unknown}{why}")
    check_ids(scenario, catalog)
    date = resolved_price_date(scenario.model, options.price_date, catalog)
    sheet = _sheet(scenario.model, date, options, catalog)
    a100_price = options.a100_usd_per_gpu_hour
    if a100_price is None:
        a100_price = catalog.prepared(_lowest_a100_price)
    setups, (seed, a100, sidebar), market = _setups(scenario, a100_price, date, options, catalog)
    costs, spreads, margins, tornado = _evaluated(scenario, setups, sheet, options, catalog)
    costs_frame, margins_frame = pd.DataFrame(costs), _margin_frame(margins)
    if seed is not None:
        c4_status, c4_text, mistral = _c4(margins, costs, seed, setups[seed])
        c6_status, c6_text = _c6(margins, costs, a100, setups[a100], catalog)
    else:
        seed_name = catalog.models.loc[SEED_MODEL, "name"]
        about = f"is about {seed_name} on the seed's setups; the scenario's model is"
        c4_status, c4_text = NOT_APPLICABLE, f"C4 {about} {scenario.model}."
        c6_status, c6_text = NOT_APPLICABLE, f"C6 {about} {scenario.model}."
        mistral = dict.fromkeys(
            (
                "mistral_margin_pct",
                "mistral_break_even_batch_size",
                "mistral_break_even_utilization",
            )
        )
    cheapest, verdict_text = _verdict_text(
        scenario, date, sheet, margins, costs, market, options, catalog
    )
    return Result(
        sheet=sheet,
        priced_model=scenario.model,
        has_prices=bool(model_price_dates(scenario.model, catalog)),
        price_date=date,
        price_date_note=price_date_note(scenario.model, options.price_date, date, catalog),
        sheet_note=sheet_note(scenario.model, date, sheet, options.time_of_day, catalog),
        price_dates=[*price_dates(catalog), TODAY],
        time_of_day=options.time_of_day,
        price_rule=options.price_rule.replace(as_of=date),
        operating_point_text=operating_point_text(options),
        a100_usd_per_gpu_hour=a100_price,
        setups=setups,
        seed_setup=seed,
        a100_setup=a100,
        sidebar_setup=sidebar,
        costs=costs_frame,
        market=market,
        margins=margins_frame,
        margin_column=UNIT_COLUMN[options.margin_unit],
        cheapest_setup=cheapest,
        verdict_text=verdict_text,
        disclosure_text=disclosure_text(
            scenario, date, margins_frame, costs_frame, cheapest, catalog
        ),
        c4_status=c4_status,
        c4_text=c4_text,
        c6_status=c6_status,
        c6_text=c6_text,
        sidebar_range=spreads[list(setups).index(sidebar)],
        tornado=tornado,
        **mistral,
    )
