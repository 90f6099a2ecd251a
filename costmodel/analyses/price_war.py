"""Could anyone make money at the December 2023 prices? (claims C1-C4, C6)

The providers' prices as of a date (``catalog.price_sheet``) against our cost of serving
the scenario's model on three setups: the seed's (2x H100 SXM, bf16, $1.95/GPU-hour:
``Scenario()``'s defaults), 2x A100 80GB at ``a100_usd_per_gpu_hour``, and the scenario's
own, all at the scenario's batch, utilisation and request lengths.

Words: a margin within ``EVEN_BAND_PCT`` (±10 %) of revenue *roughly breaks even*,
above it *profits*, below it *loses money*; a free price loses money whenever the cost
is above zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import costmodel
from costmodel import sensitivity
from costmodel.analyses.options import AnalysisOptions, check_number, option
from costmodel.catalog import gpu_price, price_dates, price_sheet

COST = "usd_per_million_output_tokens"
A100 = "a100-80gb-sxm"
SEED_DATE = "2023-12"
#: OpenAI's model ids start with this: the price bar Mixtral competes with (C1).
REFERENCE = "gpt-3.5"
#: Model whose prices are shown when the catalog has none for the scenario's model.
FALLBACK_MODEL = "mixtral-8x7b"
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

    price_date: str = option(
        SEED_DATE,
        label="Provider prices as of",
        help="Each provider's newest catalog price (assets/provider_prices.csv) dated at or "
        "before this [YYYY-MM]; 2023-12 is the seed's sheet. A year alone (2024) means an "
        "undated snapshot of that year, taken as its end.",
    )
    a100_usd_per_gpu_hour: float | None = option(
        None,
        label="2x A100 80GB price [$/GPU-hour]",
        help="Rental price of one A100 80GB SXM [$/GPU-hour]; empty: the lowest in the "
        "catalog (assets/gpu_prices.csv), as optimistic as the seed's $1.95 for an H100.",
        low=costmodel.FIELD_RANGES["usd_per_gpu_hour"][0],
        high=costmodel.FIELD_RANGES["usd_per_gpu_hour"][1],
        step=0.05,
        optional=True,
    )
    margin_unit: str = option(
        MARGIN_UNITS[0],
        label="Margin shown in",
        help="Chart unit: margin in percent of the provider's revenue [%], or in dollars "
        "per million requests of the scenario's prompt + output length [$].",
        choices=MARGIN_UNITS,
    )
    change_pct: float = option(
        20.0,
        label="Move each assumption by ± [%]",
        help="Tornado of the scenario's setup: each assumption moved down and up by this "
        "many percent, one at a time [%]",
        low=1.0,
        high=90.0,
        step=5.0,
    )
    provider_prices: tuple[tuple[str, float, float], ...] = option(
        (),
        label="Edited prices",
        help="(provider, $/M input, $/M output) replacing that provider's price on the "
        "sheet; not kept in the URL [$ per million tokens]",
    )

    def __post_init__(self):
        super().__post_init__()
        rows = []
        for i, row in enumerate(self.provider_prices):
            if not isinstance(row, list | tuple) or len(row) != 3 or not isinstance(row[0], str):
                raise ValueError(
                    f"provider_prices[{i}] must be (provider, $/M input, $/M output); got {row!r}"
                )
            prices = [
                _non_negative(f"provider_prices[{row[0]}].{k}", v)
                for k, v in zip(
                    ("usd_per_million_input", "usd_per_million_output"), row[1:], strict=True
                )
            ]
            rows.append((row[0], *prices))
        object.__setattr__(self, "provider_prices", tuple(rows))


def _non_negative(name: str, value) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return 0.0  # an emptied cell in the price editor: free
    return check_number(name, value, 0.0, MAX_USD_PER_MILLION_TOKENS)


@dataclass(frozen=True)
class Result:
    """Prices, our costs and the margins, with the C4 and C6 verdicts.

    ``costs``: one row per setup (unit-named). ``margins``: every provider on every setup
    (``MARGIN_COLUMNS``; ``verdict`` one of ``VERDICTS``); ``margin_column``: the one to
    draw in ``options.margin_unit``. ``c4_status`` and
    ``c6_status``: "holds", "partly" or "does not hold" (rules ``C4_RULE``, ``C6_RULE``).
    """

    sheet: pd.DataFrame
    priced_model: str
    price_dates: list
    a100_usd_per_gpu_hour: float
    setups: dict
    seed_setup: str
    a100_setup: str
    sidebar_setup: str
    costs: pd.DataFrame
    margins: pd.DataFrame
    margin_column: str
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


def _setups(scenario, a100_price: float, catalog) -> dict:
    """Label -> Scenario: the seed's setup, 2x A100 80GB at ``a100_price``, the scenario's."""
    seed_values = costmodel.Scenario()
    seed = scenario.replace(**{k: getattr(seed_values, k) for k in SEED_FIELDS})
    a100 = seed.replace(gpu=A100, usd_per_gpu_hour=a100_price)
    result = {
        f"Seed: {seed.n_gpus}x H100 SXM @ ${seed.usd_per_gpu_hour:.2f}": seed,
        f"{a100.n_gpus}x A100 80GB @ ${a100_price:.2f}": a100,
    }
    if scenario not in result.values():
        name = catalog.gpus.loc[scenario.gpu, "name"]
        result[f"Sidebar: {scenario.n_gpus}x {name} @ ${scenario.usd_per_gpu_hour:.2f}"] = scenario
    return result


def _costs(setups: dict, catalog) -> tuple[pd.DataFrame, list[dict]]:
    """Our cost per token and per request on each setup (one ``scan`` over the setups),
    and each setup's ``sensitivity.headline_range``."""
    base = next(iter(setups.values()))
    fields = (*SEED_FIELDS, "model")
    rows = costmodel.scan(
        base, catalog, **{f: [getattr(s, f) for s in setups.values()] for f in fields}
    )
    spreads = [sensitivity.headline_range(s, COST, catalog) for s in setups.values()]
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


def _sheet(model: str, options: Options, catalog) -> tuple[pd.DataFrame, str]:
    """The price sheet as of ``price_date`` with the user's edits, and the model priced."""
    dates = price_dates(catalog)
    if options.price_date not in dates:
        raise ValueError(
            f"price_date must be one of {', '.join(dates)}; got {options.price_date!r}"
        )
    priced = model if (catalog.provider_prices["model"] == model).any() else FALLBACK_MODEL
    sheet = price_sheet(priced, options.price_date, catalog, reference=REFERENCE)
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
    return sheet, priced


def _margins(setups: dict, sheet: pd.DataFrame, catalog) -> pd.DataFrame:
    """Every provider's margin on every setup (long), with its verdict."""
    frames = [
        costmodel.provider_margins(s, sheet, catalog).assign(setup=label)
        for label, s in setups.items()
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


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Prices as of ``options.price_date`` against our cost on the three setups."""
    scenario = scenario or costmodel.Scenario()
    options = options or Options()
    catalog = catalog or costmodel.load_catalog()
    sheet, priced = _sheet(scenario.model, options, catalog)
    a100_price = options.a100_usd_per_gpu_hour
    if a100_price is None:
        a100_price = gpu_price(A100, "lowest", catalog).usd_per_gpu_hour
    setups = _setups(scenario, a100_price, catalog)
    labels = list(setups)
    costs, spreads = _costs(setups, catalog)
    margins = _margins(setups, sheet, catalog)
    c4_status, c4_text, mistral = _c4(margins, costs, labels[0], setups[labels[0]])
    c6_status, c6_text = _c6(margins, costs, labels[1])
    sidebar = next(label for label, s in setups.items() if s == scenario)
    return Result(
        sheet=sheet,
        priced_model=priced,
        price_dates=price_dates(catalog),
        a100_usd_per_gpu_hour=a100_price,
        setups=setups,
        seed_setup=labels[0],
        a100_setup=labels[1],
        sidebar_setup=sidebar,
        costs=costs,
        margins=margins,
        margin_column=UNIT_COLUMN[options.margin_unit],
        c4_status=c4_status,
        c4_text=c4_text,
        c6_status=c6_status,
        c6_text=c6_text,
        sidebar_range=spreads[labels.index(sidebar)],
        tornado=sensitivity.tornado(scenario, options.change_pct, COST, catalog=catalog),
        **mistral,
    )
