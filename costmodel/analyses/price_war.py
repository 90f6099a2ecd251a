"""Who makes money serving a model at the providers' prices of a date? (claims C1-C4, C6)

The providers' prices of the scenario's model as of a date (``catalog.price_sheet``;
``"today"``: the newest date the catalog prices that model at) against our cost of
serving it, at the scenario's batch, utilisation, request lengths and prefix-cache hit
rate (cached prompt tokens skip prefill and are billed at each provider's cached-input
price, or its input price where it publishes none), on:

- for the seed's model (Mixtral 8x7B) only: the seed's setup (2x H100 SXM, bf16,
  $1.95/GPU-hour: ``Scenario()``'s defaults) and 2x A100 80GB at
  ``a100_usd_per_gpu_hour`` (claims C4 and C6);
- market setups: each of ``market_gpus`` launched by the date at its newest price of
  ``gpu_price_tier`` dated on or before it (``catalog.gpu_price``), in its cheapest
  fitting tensor-parallel size (up to ``MAX_MARKET_GPUS`` and its scale-up domain) and
  weight format of ``weight_formats`` (``CHECKPOINT``: the formats the model was
  released in);
- the scenario's own setup.

A model the catalog has no prices for is not priced with another model's prices: the
sheet is empty and ``verdict_text`` says so. With the default scenario and options the
result is the seed's December 2023 comparison (no market GPU has an all-in price then).

Words: a margin within ``EVEN_BAND_PCT`` (±10 %) of revenue *roughly breaks even*,
above it *profits*, below it *loses money*; a free price loses money whenever the cost
is above zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import sensitivity
from costmodel.analyses.options import AnalysisOptions, change_pct, scenario_field
from costmodel.catalog import (
    GPU_PRICE_TIERS,
    date_key,
    gpu_price,
    load_catalog,
    price_dates,
    price_sheet,
)
from costmodel.evaluation import check_ids, scan, sweep, tensor_parallel_sizes
from costmodel.margins import provider_margins
from costmodel.scenario import Scenario
from costmodel.spec import choice, entries

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
#: ``gpu_price_tier`` taking each GPU's newest price of any tier.
ANY_TIER = "any"
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
    "price_date",
    "note",
    "n_gpus",
    "weight_format",
    "attention_format",
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
    gpu_price_tier: str = choice(
        GPU_PRICE_TIERS[0],
        label="GPU price tier of the market setups",
        help="Which GPU-hour prices the market setups pay (tier of assets/gpu_prices.csv): "
        "all_in_cost (an owner's cost, SemiAnalysis; the cheapest of the newest, as "
        "optimistic as the seed's $1.95), on_demand, contract_1y, contract_3y, ... or "
        f"'{ANY_TIER}' (the newest price of any tier)",
        choices=(*GPU_PRICE_TIERS, ANY_TIER),
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


@dataclass(frozen=True)
class Result:
    """Prices, our costs and the margins, who makes money, and the C4 and C6 verdicts.

    ``priced_model`` is always the scenario's model (``has_prices``: whether the catalog
    prices it at all); ``price_date``: the date of the sheet (``"today"`` and the
    default resolved); ``price_dates``: the dates ``price_date`` may take (``"today"``
    last). ``costs``: one row per setup (unit-named). ``market``: one row per
    ``market_gpus`` entry: its price, best setup, or ``note`` why it has none.
    ``margins``: every provider on every setup (``MARGIN_COLUMNS``; ``verdict`` one of
    ``VERDICTS``); ``margin_column``: the one to draw in ``options.margin_unit``.
    ``cheapest_setup``: the fitting setup with the lowest cost per request (None if none
    fits); ``verdict_text``: who makes money on it, in words with the numbers.
    ``seed_setup`` / ``a100_setup``: the seed's setups, None unless the model is
    ``SEED_MODEL``. ``c4_status`` and ``c6_status``: "holds", "partly", "does not hold"
    (rules ``C4_RULE``, ``C6_RULE``) or "not applicable" for another model.
    """

    sheet: pd.DataFrame
    priced_model: str
    has_prices: bool
    price_date: str
    price_dates: list
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
    mistral_margin_pct: float | None
    mistral_break_even_batch_size: float | None
    mistral_break_even_utilization: float | None
    c4_status: str
    c4_text: str
    c6_status: str
    c6_text: str
    sidebar_range: dict
    tornado: pd.DataFrame


def verdicts(margins: pd.DataFrame) -> np.ndarray:
    """'profits' / 'roughly breaks even' / 'loses money' per row, from ``margin_pct``.

    A free price (revenue 0): 'loses money' if the cost is above 0, else 'roughly breaks
    even'. Otherwise above +10 % profits, within ±10 % roughly breaks even.
    """
    revenue, cost, pct = (
        margins[c].to_numpy(float)
        for c in ("revenue_per_request_usd", "usd_per_request", "margin_pct")
    )
    free = revenue <= 0
    return np.select(
        [free & (cost > 0), free, pct > EVEN_BAND_PCT, pct >= -EVEN_BAND_PCT],
        [VERDICTS[2], VERDICTS[1], VERDICTS[0], VERDICTS[1]],
        VERDICTS[2],
    )


def describe(row: pd.Series) -> str:
    """A provider with its margin, e.g. 'Together (-69%)' or 'OpenRouter (free)'."""
    if row["revenue_per_request_usd"] <= 0:
        return f"{row['provider']} (free)"
    return f"{row['provider']} ({row['margin_pct']:+.0f}%)"


def break_even_text(row: pd.Series) -> str:
    """Where a provider's price breaks even: batch (at this utilisation) and utilisation."""
    batch, util = row["break_even_batch_size"], row["break_even_utilization"]
    parts = [
        f"batch ≥ {batch:.0f}" if np.isfinite(batch) else "no batch that fits",
        f"utilisation ≥ {util:.0%}" if util <= 1 else "no utilisation ≤ 100%",
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


def _market_price(gpu: str, date: str, tier: str, catalog):
    """``gpu``'s newest price of ``tier`` (any tier for ``ANY_TIER``) on or before ``date``."""
    return gpu_price(gpu, "latest", catalog, tier=None if tier == ANY_TIER else tier, as_of=date)


def market_setups(scenario, date: str, options: Options, catalog) -> tuple[dict, pd.DataFrame]:
    """Label -> Scenario of each market GPU's cheapest fitting setup, and a table of them.

    Each GPU of ``options.market_gpus`` launched by ``date`` (``assets/gpus.csv`` date)
    with a price of ``options.gpu_price_tier`` on or before it: one sweep over those GPUs,
    the model's tensor-parallel sizes up to ``MAX_MARKET_GPUS`` (and the GPU's scale-up
    domain) and ``options.weight_formats`` at $1/GPU-hour (cost is proportional to the
    price, so the best setup does not depend on it), keeping the lowest cost per request
    that fits. The table has a row per GPU with ``note`` saying why one was left out.
    """
    cutoff = date_key(date)
    rows = []
    for gpu in options.market_gpus:
        price = _market_price(gpu, date, options.gpu_price_tier, catalog)
        launched = date_key(catalog.gpus.loc[gpu, "date"]) <= cutoff
        note = (
            f"launched after {date}"
            if not launched
            else f"no {options.gpu_price_tier} price on or before {date}"
            if price is None
            else ""
        )
        rows.append(
            {
                "gpu": gpu,
                "name": catalog.gpus.loc[gpu, "name"],
                "usd_per_gpu_hour": price.usd_per_gpu_hour if price else np.nan,
                "price_kind": price.kind if price else "",
                "price_date": price.date if price else "",
                "note": note,
            }
        )
    table = pd.DataFrame(rows, columns=list(MARKET_COLUMNS[:6]))
    offered = table[table["note"] == ""]
    chosen = ["gpu", "n_gpus", "weight_format", "attention_format", "usd_per_request"]
    best = pd.DataFrame(columns=chosen)
    sizes = [n for n in tensor_parallel_sizes(scenario.model, catalog) if n <= MAX_MARKET_GPUS]
    if len(offered):
        grid = sweep(
            scenario.replace(usd_per_gpu_hour=1.0),
            catalog,
            gpu=list(offered["gpu"]),
            n_gpus=sizes,
            weight_format=[None if f == CHECKPOINT else f for f in options.weight_formats],
        ).astype({"gpu": str, "weight_format": str, "attention_format": str})
        domain = catalog.gpus.loc[grid["gpu"], "scale_up_domain_gpus"].to_numpy(float)
        grid = grid[grid["fits"].to_numpy(bool) & ~(grid["n_gpus"].to_numpy() > domain)]
        best = grid.sort_values("usd_per_request", kind="stable").drop_duplicates("gpu")
        best = best[chosen]
    table = table.merge(best, on="gpu", how="left")[list(MARKET_COLUMNS)]
    table["usd_per_request"] = table["usd_per_request"] * table["usd_per_gpu_hour"]
    unfit = (table["note"] == "") & table["n_gpus"].isna()
    table.loc[unfit, "note"] = (
        f"does not fit on up to {MAX_MARKET_GPUS} GPUs in {', '.join(options.weight_formats)}"
    )
    setups = {
        f"Market: {int(r.n_gpus)}x {r.name}, {_formats(r)} @ ${r.usd_per_gpu_hour:.2f}": (
            scenario.replace(
                gpu=r.gpu,
                n_gpus=int(r.n_gpus),
                weight_format=r.weight_format,
                attention_format=r.attention_format,
                usd_per_gpu_hour=float(r.usd_per_gpu_hour),
            )
        )
        for r in table[table["note"] == ""].itertuples()
    }
    return setups, table


def _formats(row) -> str:
    """'fp8', or 'mxfp4 experts + bf16' where the experts' format differs from the rest's."""
    if row.attention_format == row.weight_format:
        return row.weight_format
    return f"{row.weight_format} experts + {row.attention_format}"


def _setups(scenario, a100_price: float, date: str, options: Options, catalog):
    """Label -> Scenario (the seed's two for its model, the market's, the scenario's) and
    the market table."""
    result = _seed_setups(scenario, a100_price) if scenario.model == SEED_MODEL else {}
    market, table = market_setups(scenario, date, options, catalog)
    result.update({k: v for k, v in market.items() if v not in result.values()})
    if scenario not in result.values():
        name = catalog.gpus.loc[scenario.gpu, "name"]
        result[f"Sidebar: {scenario.n_gpus}x {name} @ ${scenario.usd_per_gpu_hour:.2f}"] = scenario
    return result, table


def _costs(setups: dict, catalog) -> tuple[pd.DataFrame, list[dict]]:
    """Our cost per token and per request on each setup (one ``scan`` over the setups),
    and each setup's headline range (``sensitivity.headline_ranges``, one call)."""
    base = next(iter(setups.values()))
    fields = (*SEED_FIELDS, "attention_format", "model")
    rows = scan(base, catalog, **{f: [getattr(s, f) for s in setups.values()] for f in fields})
    spreads = sensitivity.headline_ranges(setups.values(), COST, catalog)
    table = pd.DataFrame(
        {
            "setup": list(setups),
            "gpu": rows["gpu"].astype(str),
            "n_gpus": rows["n_gpus"],
            "usd_per_gpu_hour": rows["usd_per_gpu_hour"],
            "weight_format": rows["weight_format"].astype(str),
            "batch_size": rows["batch_size"],
            "utilization": rows["utilization"],
            "fits": rows["fits"].astype(bool),
            "usd_per_million_input_tokens": rows["usd_per_million_input_tokens"],
            COST: rows[COST],
            f"{COST}_low": [s["low"] for s in spreads],
            f"{COST}_high": [s["high"] for s in spreads],
            "usd_per_request": rows["usd_per_request"],
            "tokens_per_s_per_user": rows["tokens_per_s_per_user"],
        }
    )
    return table, spreads


def resolved_price_date(model: str, price_date: str | None, catalog) -> str:
    """The sheet's date: ``price_date`` as given, ``TODAY`` as the newest date the catalog
    prices ``model`` at (the newest of any model when it has none), None as ``SEED_DATE``
    when the model is priced then, else as ``TODAY``. ``ValueError`` for another date."""
    dates = price_dates(catalog)
    if price_date is not None and price_date not in (*dates, TODAY):
        raise ValueError(
            f"price_date must be one of {', '.join(dates)}, {TODAY}; got {price_date!r}"
        )
    rows = catalog.provider_prices[catalog.provider_prices["model"] == model]
    own = sorted(rows["date"].astype(str), key=date_key) or dates
    if price_date is None:
        price_date = SEED_DATE if date_key(own[0]) <= date_key(SEED_DATE) else TODAY
    return own[-1] if price_date == TODAY else price_date


def _sheet(model: str, date: str, options: Options, catalog) -> pd.DataFrame:
    """The price sheet of ``model`` as of ``date`` with the user's edits (OpenAI's price
    bar beside the seed's model)."""
    reference = REFERENCE if model == SEED_MODEL else None
    sheet = price_sheet(model, date, catalog, reference=reference)
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


def _margins(setups: dict, sheet: pd.DataFrame, catalog) -> pd.DataFrame:
    """Every provider's margin on every setup (long), with its verdict."""
    if sheet.empty:
        return pd.DataFrame(columns=list(MARGIN_COLUMNS))
    frames = [
        provider_margins(s, sheet, catalog).assign(setup=label) for label, s in setups.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    table["margin_usd_per_request"] = table["margin_usd_per_million_requests"] / 1e6
    table["verdict"] = verdicts(table)
    return table[list(MARGIN_COLUMNS)]


def _status(all_of: bool, some: bool) -> str:
    return "holds" if all_of else "partly" if some else "does not hold"


def _losers(rows: pd.DataFrame) -> tuple[str, str]:
    """'k of the n' and the list of who loses and who does not."""
    lose = rows[rows["verdict"] == VERDICTS[2]]
    keep = rows[rows["verdict"] != VERDICTS[2]]
    text = f"{len(lose)} of the {len(rows)}"
    tail = f": {', '.join(lose.apply(describe, axis=1))}" if len(lose) else ""
    if len(keep):
        tail += f"; not losing: {', '.join(keep.apply(describe, axis=1))}"
    return text, tail


def _c4(margins: pd.DataFrame, costs: pd.DataFrame, label: str, scenario) -> tuple:
    """C4 in words: Mistral's margin and the other providers' on the seed's setup."""
    ours = costs.set_index("setup").loc[label]
    rows = margins[(margins["setup"] == label) & ~margins["model"].str.startswith(REFERENCE)]
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
    mistral, others = rows[rows["provider"] == "Mistral"], rows[rows["provider"] != "Mistral"]
    numbers = {"mistral_margin_pct": None, "mistral_break_even_batch_size": None}
    numbers["mistral_break_even_utilization"] = None
    even = False
    if len(mistral):
        m = mistral.iloc[0]
        even = m["verdict"] == VERDICTS[1]
        numbers = {
            "mistral_margin_pct": float(m["margin_pct"]),
            "mistral_break_even_batch_size": float(m["break_even_batch_size"]),
            "mistral_break_even_utilization": float(m["break_even_utilization"]),
        }
        text += (
            f" At Mistral's own price (${m['usd_per_million_input']:.2f} in / "
            f"${m['usd_per_million_output']:.2f} out) the margin is {m['margin_pct']:+.0f}% of "
            f"revenue: Mistral {m['verdict']}; {break_even_text(m)}."
        )
    all_lose = len(others) > 0 and (others["verdict"] == VERDICTS[2]).all()
    if len(others):
        count, tail = _losers(others)
        text += f" {count} other providers lose money{tail}."
    return _status(even and all_lose, even or all_lose), text, numbers


def _c6(margins: pd.DataFrame, costs: pd.DataFrame, label: str) -> tuple[str, str]:
    """C6 in words: 2x A100 against the collapsed (non-Mistral) Mixtral prices."""
    ours = costs.set_index("setup").loc[label]
    rows = margins[
        (margins["setup"] == label)
        & ~margins["model"].str.startswith(REFERENCE)
        & (margins["provider"] != "Mistral")
    ]
    text = (
        f"On {label.split(' @ ')[0]} at ${ours['usd_per_gpu_hour']:.2f}/GPU-hour (same batch and "
        f"utilisation) our cost is ${ours[COST]:.3f} per million output tokens."
    )
    if not ours["fits"]:
        text += " This setup does not fit the model in memory at this batch."
    if rows.empty:
        return "does not hold", text + " The sheet has no collapsed prices to compare."
    lose = rows["verdict"] == VERDICTS[2]
    count, tail = _losers(rows)
    text += f" At the collapsed prices {count} providers lose money{tail}."
    return _status(lose.all(), lose.any()), text


#: How ``verdict_text`` names each verdict's group.
VERDICT_GROUPS = dict(
    zip(VERDICTS, ("make money", "roughly break even", "lose money"), strict=True)
)


def _verdict_text(
    scenario, date: str, sheet, margins, costs, market, options, catalog
) -> tuple[str | None, str]:
    """Who makes money serving the model on ``date``: each provider's margin on the
    cheapest fitting setup, with the numbers; and that setup's label."""
    name = (
        catalog.models.loc[scenario.model, "name"]
        if scenario.model in catalog.models.index
        else scenario.model
    )
    head = f"Who makes money serving {name} at the prices of {date}?"
    priced = catalog.provider_prices["model"] == scenario.model
    if not priced.any():
        models = sorted(set(catalog.provider_prices["model"]) & set(catalog.models.index))
        return None, (
            f"{head} The catalog has no provider prices for {name}, so no margin is shown "
            f"(it is not priced with another model's prices); models with prices: "
            f"{', '.join(models)}."
        )
    own = sheet[sheet["model"] == scenario.model]
    if own.empty:
        first = min(catalog.provider_prices.loc[priced, "date"].astype(str), key=date_key)
        return (
            None,
            f"{head} No provider priced {name} on or before {date}; its prices begin {first}.",
        )
    fitting = costs[costs["fits"]]
    left_out = market[market["note"] != ""].groupby("note", sort=False)["name"]
    gone = "; ".join(f"{', '.join(names)} ({note})" for note, names in left_out)
    gone = f" Market GPUs left out: {gone}." if gone else ""
    if fitting.empty:
        return None, f"{head} No setup fits {name} in memory at batch {scenario.batch_size}.{gone}"
    best = fitting.loc[fitting["usd_per_request"].idxmin()]
    rows = margins[(margins["setup"] == best["setup"]) & (margins["model"] == scenario.model)]
    groups = [
        f"{VERDICT_GROUPS[v]}: {', '.join(rows[rows['verdict'] == v].apply(describe, axis=1))}"
        for v in VERDICTS
        if (rows["verdict"] == v).any()
    ]
    losers = rows[(rows["verdict"] == VERDICTS[2]) & np.isfinite(rows["break_even_batch_size"])]
    if len(losers):
        groups.append(
            "at this price the losers would break even from batch "
            + ", ".join(
                f"{r.break_even_batch_size:.0f} ({r.provider})" for r in losers.itertuples()
            )
        )
    text = (
        f"{head} On the cheapest setup that fits, {best['setup']}, at batch "
        f"{scenario.batch_size}, {scenario.utilization:.0%} utilisation and "
        f"{scenario.prefix_cache_hit_rate:.0%} prefix-cache hits, our cost is "
        f"${best['usd_per_request'] * 1000:.3f} per 1,000 requests of "
        f"{scenario.prompt_tokens} + {scenario.output_tokens} tokens "
        f"(${best[COST]:.3f} per million output tokens). Margins: {'; '.join(groups)}."
    )
    unpublished = rows[~rows["cached_price_published"].astype(bool)]
    if scenario.prefix_cache_hit_rate > 0 and len(unpublished):
        text += (
            f" {', '.join(unpublished['provider'])} publish no cached-input price: their "
            "cached tokens are billed at their input price."
        )
    return str(best["setup"]), text + gone


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Prices of the scenario's model as of ``options.price_date`` against our cost on the
    setups (module docstring); ``run()`` is the seed's December 2023 comparison."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    for name, ids, table in (
        ("market_gpus", options.market_gpus, catalog.gpus),
        ("weight_formats", options.weight_formats, catalog.formats),
    ):
        allowed = [*table.index, CHECKPOINT] if name == "weight_formats" else list(table.index)
        unknown = [i for i in ids if i not in allowed]
        if unknown:
            raise ValueError(f"{name} must hold only {', '.join(allowed)}; got {unknown}")
    check_ids(scenario, catalog)
    date = resolved_price_date(scenario.model, options.price_date, catalog)
    sheet = _sheet(scenario.model, date, options, catalog)
    a100_price = options.a100_usd_per_gpu_hour
    if a100_price is None:
        a100_price = gpu_price(A100, "lowest", catalog).usd_per_gpu_hour
    setups, market = _setups(scenario, a100_price, date, options, catalog)
    labels = list(setups)
    costs, spreads = _costs(setups, catalog)
    margins = _margins(setups, sheet, catalog)
    seeded = scenario.model == SEED_MODEL
    if seeded:
        c4_status, c4_text, mistral = _c4(margins, costs, labels[0], setups[labels[0]])
        c6_status, c6_text = _c6(margins, costs, labels[1])
    else:
        seed_name = catalog.models.loc[SEED_MODEL, "name"]
        about = f"is about {seed_name} on the seed's setups; the scenario's model is"
        c4_status, c4_text = "not applicable", f"C4 {about} {scenario.model}."
        c6_status, c6_text = "not applicable", f"C6 {about} {scenario.model}."
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
    sidebar = next(label for label, s in setups.items() if s == scenario)
    return Result(
        sheet=sheet,
        priced_model=scenario.model,
        has_prices=bool((catalog.provider_prices["model"] == scenario.model).any()),
        price_date=date,
        price_dates=[*price_dates(catalog), TODAY],
        a100_usd_per_gpu_hour=a100_price,
        setups=setups,
        seed_setup=labels[0] if seeded else None,
        a100_setup=labels[1] if seeded else None,
        sidebar_setup=sidebar,
        costs=costs,
        market=market,
        margins=margins,
        margin_column=UNIT_COLUMN[options.margin_unit],
        cheapest_setup=cheapest,
        verdict_text=verdict_text,
        c4_status=c4_status,
        c4_text=c4_text,
        c6_status=c6_status,
        c6_text=c6_text,
        sidebar_range=spreads[labels.index(sidebar)],
        tornado=sensitivity.tornado(scenario, options.change_pct, COST, catalog=catalog),
        **mistral,
    )
