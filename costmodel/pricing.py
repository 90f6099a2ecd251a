"""Prices: a GPU-hour price under one rule, and the providers' price sheet of a date.

Both are answered from tables prepared once per catalog (``Catalog.prepared``): sorted
numpy keys searched with ``np.searchsorted`` (an as-of join), never a frame filtered per
GPU or per call.

**GPU prices** (``assets/gpu_prices.csv``). A GPU's price comes from one
:class:`PriceRule`: a ``tier`` (``RULE_TIERS``: on-demand rental, a 1- or 3-year
contract, SemiAnalysis's all-in cost of an owner, or ``"own"``: the user's numbers) as
of a date. The price of a GPU under a rule is its newest price of that tier dated on or
before the rule's date; several of that tier at that date (SemiAnalysis's hyperscaler
and neocloud all-in costs, two sellers listed the same day): the lowest. A GPU with no
price of the tier is **left unpriced** (NaN, with the reason in ``note``): no result
takes a price from another tier, since a ratio between tiers differs by GPU and by date
(H100 on-demand over all-in cost: 2.99 / 1.30 = 2.3 in 2026-05, B200 3.75 / 1.95 = 1.9).
The rule's ``own`` prices replace the tier's for the GPUs they name (tier ``"own"`` in
the result); with ``tier="own"`` only they are used. Every result row says how its price
was made (``basis``): ``listed`` (as its source published it, a node price divided by
its GPUs included), ``derived`` (computed by us from other published figures, the
formula in ``kind``), ``placeholder`` (the source's own stand-in, e.g. SemiAnalysis's
"1.2x B200" for B300), ``your price`` or ``unpriced``.

**Provider prices** (``assets/provider_prices.csv``). A sheet is each provider's newest
price for a model dated on or before a date. A provider that bills by time of day has
``peak`` and ``off_peak`` rows (``time_of_day``; ``all_day`` otherwise) with its peak
hours (``peak_hours_utc``); the sheet is that of one time of day (``TIMES_OF_DAY`` or a
UTC time ``"HH:MM"`` on a weekday). A row without prices withdraws the provider's offer
from its date on (DeepSeek's own V4-Flash, retired in 2026-09).
"""

from __future__ import annotations

import calendar
import datetime
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.catalog import PROVIDER_PRICE_COLUMNS, Catalog, date_key, load_catalog
from costmodel.fields import FIELD_RANGES
from costmodel.spec import Checked, choice, entries

#: ``as_of`` meaning "the newest price in the catalog, whatever its date".
TODAY = "today"
#: ``PriceRule.tier`` taking only the user's own numbers (``PriceRule.own``).
OWN = "own"
#: Values of the ``tier`` column of ``assets/gpu_prices.csv``: an owner's all-in cost
#: (SemiAnalysis hyperscaler / neocloud), on-demand rental, 1- and 3-year contracts, spot
#: (interruptible) rental, a market index, a managed deployment, and stated assumptions
#: (the seed's $1.95, DeepSeek's $2); README, "Data catalogs".
GPU_PRICE_TIERS = (
    "all_in_cost",
    "on_demand",
    "contract_1y",
    "contract_3y",
    "spot",
    "market_index",
    "managed",
    "assumption",
)
#: The tiers a rule may name, in words: what renting (or owning) a GPU for serving costs.
RULE_TIERS = {
    "on_demand": "on-demand rental",
    "contract_1y": "1-year contract",
    "contract_3y": "3-year contract",
    "all_in_cost": "all-in cost of an owner (SemiAnalysis)",
    OWN: "your own prices",
}
#: Values of the ``basis`` column of ``assets/gpu_prices.csv`` (module docstring).
PRICE_BASES = ("listed", "derived", "placeholder")
#: ``basis`` of a result row priced by ``PriceRule.own``, and of an unpriced one.
YOUR_PRICE, UNPRICED = "your price", "unpriced"
#: Columns of :func:`price_gpus` (``as_of`` too when dates are given).
GPU_PRICE_COLUMNS = (
    "gpu",
    "usd_per_gpu_hour",
    "tier",
    "kind",
    "date",
    "source",
    "basis",
    "note",
    "label",
)

#: Values of ``time_of_day`` in ``assets/provider_prices.csv`` (``all_day``: the price at
#: any hour) and the times of day a sheet may be asked for besides a UTC ``"HH:MM"``.
PRICE_TIMES = ("all_day", "peak", "off_peak")
TIMES_OF_DAY = ("peak", "off_peak")
#: The times of day in words.
TIME_OF_DAY_NAMES = {"peak": "Peak", "off_peak": "Off-peak"}
#: How a table names each of ``PRICE_TIMES``: a flat price, the peak or the off-peak one.
PRICE_TIME_NAMES = {"all_day": "All day", **TIME_OF_DAY_NAMES}
#: Columns of :func:`price_sheet`.
PRICE_SHEET_COLUMNS = (*PROVIDER_PRICE_COLUMNS[:6], "date", "source")

_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_WINDOW = re.compile(r"([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
#: Day numbers are ``yyyymmdd``; a key is ``group * DAY_SPAN + day`` (groups: tier x GPU).
_DAY_SPAN = 10**8
#: The day number of ``TODAY``: after every catalog date.
_LAST_DAY = 99_991_231


def check_date(name: str, value) -> str:
    """``value`` as catalog date text ('2024', '2024-03', '2026-03-17'), a
    ``datetime.date`` as its ISO text, or ``TODAY``; else ``ValueError`` naming ``name``."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and (value == TODAY or _DATE.fullmatch(value)):
        return value
    raise ValueError(
        f"{name} must be {TODAY!r} or a date YYYY, YYYY-MM or YYYY-MM-DD; got {value!r}"
    )


def day_numbers(dates) -> np.ndarray:
    """Catalog dates as day numbers ``yyyymmdd`` of the last day of their period ('2024'
    -> 20241231, '2024-02' -> 20240229, '2026-03-17' -> 20260317; ``TODAY``: after every
    date), so that a month's prices compare with a day's as the timeline's dates do."""
    values, inverse = np.unique(
        np.asarray([str(d) for d in dates], dtype=object), return_inverse=True
    )
    days = np.empty(len(values), np.int64)
    for i, text in enumerate(values):  # each distinct date once: a few dozen per catalog
        if text == TODAY:
            days[i] = _LAST_DAY
            continue
        parts = [int(p) for p in str(text).split("-")]
        year, month = parts[0], parts[1] if len(parts) > 1 else 12
        day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
        days[i] = year * 10_000 + month * 100 + day
    return days[inverse.ravel()] if len(days) else days


@dataclass(frozen=True)
class PriceRule(Checked):
    """Where every GPU-hour price comes from: one ``tier`` as of one date, and the
    user's ``own`` prices.

    ``tier``: a key of ``RULE_TIERS``. ``as_of``: ``TODAY`` (the newest price of the
    tier) or a date ('2025', '2025-10', '2026-03-17', a ``datetime.date``); a year or
    month stands for its last day. ``own``: {gpu id: $/GPU-hour} (or pairs), the user's
    prices, in ``FIELD_RANGES["usd_per_gpu_hour"]``; they replace the tier's price of
    those GPUs. ``PriceRule("all_in_cost", "2026-08")`` prices a B200 at SemiAnalysis's
    hyperscaler $1.95 of 2026-04. Each field carries its ``Spec``; the app's sidebar
    draws them (URL keys ``RULE_KEYS``).
    """

    tier: str = choice(
        "on_demand",
        label="Price tier",
        help="Which catalog price every GPU gets (assets/gpu_prices.csv): on-demand rental, "
        "a 1- or 3-year contract, an owner's all-in cost (SemiAnalysis), or only your own "
        "prices. A GPU without a price of the tier is left unpriced, never priced from "
        "another tier",
        choices=tuple(RULE_TIERS),
    )
    as_of: str = choice(
        TODAY,
        label="Prices as of",
        help="Each GPU's newest price of the tier dated on or before this (YYYY, YYYY-MM or "
        "YYYY-MM-DD); 'today': the newest in the catalog",
    )
    own: tuple[tuple[str, float], ...] = entries(
        ("usd_per_gpu_hour",),
        *FIELD_RANGES["usd_per_gpu_hour"],
        0.05,
        unit="$/GPU-hour",
        label="Your GPU prices",
        help="Your own price of any GPU, as (gpu id, $/GPU-hour) rows; it replaces the "
        "tier's price of that GPU on every page [$/GPU-hour]",
        catalog_table="gpus",
    )

    def __post_init__(self):
        if isinstance(self.own, Mapping):
            object.__setattr__(self, "own", tuple(self.own.items()))
        if isinstance(self.as_of, datetime.date):
            object.__setattr__(self, "as_of", self.as_of.isoformat())
        super().__post_init__()
        object.__setattr__(self, "as_of", check_date("as_of", self.as_of))
        gpus = [gpu for gpu, _ in self.own]
        if len(set(gpus)) < len(gpus):
            raise ValueError(f"own names a GPU twice: {gpus}")
        object.__setattr__(self, "own", tuple(sorted(self.own)))

    @property
    def tier_text(self) -> str:
        """The tier and your prices in words: 'on-demand rental (your prices for h100-sxm)'."""
        text = RULE_TIERS[self.tier]
        if self.own and self.tier != OWN:
            text += f" (your prices for {', '.join(g for g, _ in self.own)})"
        return text

    @property
    def text(self) -> str:
        """The rule in words: 'on-demand rental (your prices for h100-sxm) as of today'."""
        return f"{self.tier_text} as of {self.as_of}"


#: Tiers of the prepared table: the catalog's, and ``OWN`` for a price typed with a GPU
#: of the user's (``Catalog.with_gpu``), which counts under every rule.
_TABLE_TIERS = (*GPU_PRICE_TIERS, OWN)


def _gpu_table(catalog: Catalog) -> dict:
    """The GPU prices sorted by (tier, GPU, day), the lowest of each (tier, GPU, day)."""
    prices = catalog.gpu_prices.reset_index(drop=True)
    unknown = sorted(set(prices["tier"]) - set(_TABLE_TIERS))
    if unknown:
        raise ValueError(f"gpu_prices.csv: tier {unknown} not one of {', '.join(GPU_PRICE_TIERS)}")
    basis = (
        prices["basis"].fillna("listed") if "basis" in prices else pd.Series("listed", prices.index)
    )
    if not basis.isin(PRICE_BASES).all():
        raise ValueError(
            f"gpu_prices.csv: basis {sorted(set(basis) - set(PRICE_BASES))} not one of "
            f"{', '.join(PRICE_BASES)}"
        )
    n_gpus = len(catalog.gpus)
    gpu = catalog.gpus.index.get_indexer(prices["gpu"])
    tier = pd.Index(_TABLE_TIERS).get_indexer(prices["tier"])
    day = day_numbers(prices["date"].astype(str))
    usd = prices["usd_per_gpu_hour"].to_numpy(float)
    order = np.lexsort((usd, day, gpu, tier))
    order = order[gpu[order] >= 0]  # prices of GPUs not in this catalog (announced ones)
    group = tier[order].astype(np.int64) * n_gpus + gpu[order]
    key = group * _DAY_SPAN + day[order]
    lowest = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    rows = order[lowest]
    return {
        "key": key[lowest],
        "group": group[lowest],
        "n_gpus": n_gpus,
        "usd_per_gpu_hour": usd[rows],
        "tier": prices["tier"].to_numpy(object)[rows],
        "kind": prices["kind"].to_numpy(object)[rows],
        "date": prices["date"].astype(str).to_numpy(object)[rows],
        "source": prices["source"].to_numpy(object)[rows],
        "basis": basis.to_numpy(object)[rows],
    }


def _gpu_codes(gpus, catalog: Catalog) -> tuple[list, np.ndarray]:
    gpus = list(gpus)
    codes = catalog.gpus.index.get_indexer(gpus)
    if (codes < 0).any():
        unknown = [g for g, c in zip(gpus, codes, strict=True) if c < 0]
        raise ValueError(f"gpus must be among {', '.join(catalog.gpus.index)}; got {unknown}")
    return gpus, codes


def _lookup(table: dict, tier: str, codes: np.ndarray, days: np.ndarray):
    """Whether each (GPU code, day) has a price of ``tier`` on or before the day, and the
    position of the newest in ``table`` (0 where none): one ``np.searchsorted``."""
    if not len(table["key"]):
        return np.zeros(len(codes), bool), np.zeros(len(codes), np.int64)
    group = _TABLE_TIERS.index(tier) * table["n_gpus"] + codes.astype(np.int64)
    pos = np.searchsorted(table["key"], group * _DAY_SPAN + days, side="right") - 1
    pos = np.maximum(pos, 0)
    return (table["group"][pos] == group) & (table["key"][pos] <= group * _DAY_SPAN + days), pos


def _taken(table: dict, column: str, found: np.ndarray, pos: np.ndarray, fill) -> np.ndarray:
    """``table[column]`` at ``pos`` where ``found``, else ``fill``."""
    if not len(table["key"]):
        return np.full(len(found), fill, object if isinstance(fill, str) else float)
    return np.where(found, table[column][pos], fill)


def price_gpus(
    gpus: Iterable[str] | None = None,
    rule: PriceRule | None = None,
    catalog: Catalog | None = None,
    *,
    dates: Iterable | None = None,
) -> pd.DataFrame:
    """Each GPU's price under ``rule`` (default ``PriceRule()``): one vectorised as-of join.

    ``gpus``: catalog GPU ids (default every catalog GPU), in the order wanted. Without
    ``dates`` one row per GPU at ``rule.as_of``; with ``dates`` (catalog dates or
    ``TODAY``) one row per date and GPU, dates outer, and a column ``as_of``. Columns
    ``GPU_PRICE_COLUMNS``: ``usd_per_gpu_hour`` (NaN: unpriced), ``tier``, ``kind`` (the
    seller or index in words), ``date`` and ``source`` of the price, ``basis`` (module
    docstring), ``note`` (why a GPU is unpriced) and ``label`` (e.g. 'Lambda on-demand
    (2026-05-18)', 'SemiAnalysis hyperscaler all-in cost (placeholder: 1.2x B200)
    (2026-04), placeholder'). ``ValueError`` names a GPU not in the catalog.

    >>> price_gpus(["b200"], PriceRule("all_in_cost", "2026-08"))["usd_per_gpu_hour"][0]
    1.95
    """
    rule = rule or PriceRule()
    catalog = catalog or load_catalog()
    gpus = tuple(catalog.gpus.index if gpus is None else gpus)
    key = (gpus, rule, None if dates is None else tuple(dates))
    kept = catalog.prepared(_kept_prices)
    if key not in kept:
        if len(kept) >= PRICE_TABLES_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = _price_gpus(gpus, rule, catalog, dates)
    return kept[key].copy()


#: GPU price tables kept per catalog by :func:`price_gpus` (GPUs, rule and dates as the
#: key): a page's rerun asks for the same prices; the oldest dropped beyond this.
PRICE_TABLES_KEPT = 64


def _kept_prices(catalog: Catalog) -> dict:
    """The catalog's kept :func:`price_gpus` tables (``Catalog.prepared``)."""
    return {}


def _price_gpus(gpus: tuple, rule: PriceRule, catalog: Catalog, dates) -> pd.DataFrame:
    """:func:`price_gpus`, computed (it keeps the result)."""
    gpus, codes = _gpu_codes(gpus, catalog)
    as_of = [rule.as_of] if dates is None else [check_date("dates", d) for d in dates]
    days = np.repeat(day_numbers(as_of), len(gpus))
    codes = np.tile(codes, len(as_of))
    table = catalog.prepared(_gpu_table)
    found, pos = _lookup(table, rule.tier, codes, days)
    out = {"gpu": np.tile(np.array(gpus, object), len(as_of))}
    for column in ("usd_per_gpu_hour", "tier", "kind", "date", "source", "basis"):
        out[column] = _taken(table, column, found, pos, np.nan if column[0] == "u" else "")
    out["basis"] = np.where(found, out["basis"], UNPRICED)
    when = np.repeat(np.array(as_of, object), len(gpus))
    before = np.where(when == TODAY, "in the catalog", "dated on or before " + when.astype(str))
    out["note"] = np.where(
        found, "", "no price of yours" if rule.tier == OWN else f"no {rule.tier} price " + before
    )
    typed, typed_pos = _lookup(table, OWN, codes, np.full(len(codes), _LAST_DAY))
    own = dict(rule.own)
    mine = np.isin(out["gpu"], list(own))
    for column in ("usd_per_gpu_hour", "kind", "date", "source"):
        out[column] = np.where(typed, _taken(table, column, typed, typed_pos, ""), out[column])
    yours_usd = pd.Series(own, dtype=float).reindex(out["gpu"]).to_numpy()
    out["usd_per_gpu_hour"] = np.where(mine, yours_usd, out["usd_per_gpu_hour"]).astype(float)
    out["kind"] = np.where(mine, YOUR_PRICE, out["kind"])
    out["date"] = np.where(mine, when, out["date"])
    out["source"] = np.where(mine, "your input", out["source"])
    yours = mine | typed
    out["tier"] = np.where(yours, OWN, out["tier"])
    out["basis"] = np.where(yours, YOUR_PRICE, out["basis"])
    out["note"] = np.where(yours, "", out["note"])
    result = pd.DataFrame(out)
    shown = result["basis"].isin(("derived", "placeholder"))
    result["label"] = np.select(
        [result["basis"] == UNPRICED, result["basis"] == YOUR_PRICE],
        ["no price (" + result["note"] + ")", YOUR_PRICE],
        result["kind"] + " (" + result["date"] + ")" + np.where(shown, ", " + result["basis"], ""),
    )
    if dates is not None:
        result.insert(0, "as_of", when)
    return result


# --- Provider prices ------------------------------------------------------------------


def _sheet_table(catalog: Catalog) -> dict:
    """Provider prices sorted by (model, provider's first row in the file, day)."""
    rows = catalog.provider_prices.reset_index(drop=True)
    times = rows["time_of_day"].fillna("all_day") if "time_of_day" in rows else None
    if times is None:
        times = pd.Series("all_day", rows.index)
    if not times.isin(PRICE_TIMES).all():
        raise ValueError(
            f"provider_prices.csv: time_of_day {sorted(set(times) - set(PRICE_TIMES))} not "
            f"one of {', '.join(PRICE_TIMES)}"
        )
    windows = rows.get("peak_hours_utc", pd.Series(np.nan, rows.index))
    timed = (times != "all_day").to_numpy()
    parsed = [_windows(w) if t else () for w, t in zip(windows, timed, strict=True)]
    if any(t and not w for w, t in zip(parsed, timed, strict=True)):
        raise ValueError("provider_prices.csv: a peak or off_peak row needs its peak_hours_utc")
    models, model = np.unique(rows["model"].astype(str).to_numpy(), return_inverse=True)
    provider = pd.factorize(rows["provider"])[0]
    day = day_numbers(rows["date"].astype(str))
    order = np.lexsort((day, provider, model))
    return {
        "rows": rows,
        "models": models,
        "model": model[order],
        "order": order,
        "provider": provider,
        "day": day,
        "time": times.to_numpy(object),
        "windows": parsed,
    }


def _windows(text) -> tuple:
    """'01:00-04:00;06:00-10:00 Mon-Fri (remark)' -> ((60, 240), (360, 600)) [minutes of
    the day]: the windows before any parenthesis (which is a remark)."""
    found = _WINDOW.findall(text.split("(")[0]) if isinstance(text, str) else []
    return tuple((60 * int(a) + int(b), 60 * int(c) + int(d)) for a, b, c, d in found)


def _is_peak(windows: tuple, minute: int) -> bool:
    """Whether a minute of the day falls in a peak window (a window may wrap midnight)."""
    return any(
        start <= minute < end if start <= end else minute >= start or minute < end
        for start, end in windows
    )


def check_time_of_day(value) -> str:
    """``value`` if one of ``TIMES_OF_DAY`` or a UTC time 'HH:MM'; else ``ValueError``."""
    if isinstance(value, str) and (value in TIMES_OF_DAY or _CLOCK.fullmatch(value)):
        return value
    raise ValueError(
        f"time_of_day must be one of {', '.join(TIMES_OF_DAY)} or a UTC time HH:MM; got {value!r}"
    )


def price_sheet(
    model: str,
    as_of="2023-12",
    catalog: Catalog | None = None,
    reference: str | None = None,
    time_of_day: str = "peak",
) -> pd.DataFrame:
    """Each provider's newest price for ``model`` dated on or before ``as_of``.

    ``as_of``: a catalog date ('2023-12', '2024', '2024-03-15'), a ``datetime.date`` or
    ``TODAY``; a year or month stands for its last day. ``reference``: also the rows of
    models whose id starts with it (``"gpt-3.5"``: OpenAI's price bar, claim C1).
    ``time_of_day``: ``"peak"``, ``"off_peak"`` or a UTC time ``"HH:MM"`` on a weekday
    (peak or off-peak by the provider's ``peak_hours_utc`` of its newest timed price);
    rows priced ``all_day`` count at any time. A provider whose newest row has no price
    has withdrawn the offer and is left out. Providers keep the order of their first row
    in the catalog; columns ``PRICE_SHEET_COLUMNS``. Empty if none is priced.
    """
    catalog = catalog or load_catalog()
    time_of_day = check_time_of_day(time_of_day)
    key = (model, as_of, reference, time_of_day)
    kept = catalog.prepared(_kept_sheets)
    if key not in kept:
        if len(kept) >= PRICE_TABLES_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = _price_sheet(model, as_of, catalog, reference, time_of_day)
    return kept[key].copy()


def _kept_sheets(catalog: Catalog) -> dict:
    """The catalog's kept :func:`price_sheet` tables (``Catalog.prepared``): a page's rerun
    on a new scenario asks for the same sheet."""
    return {}


def _price_sheet(model: str, as_of, catalog: Catalog, reference, time_of_day: str):
    """:func:`price_sheet`, computed (it keeps the result)."""
    table = catalog.prepared(_sheet_table)
    wanted = table["models"] == model
    if reference:
        wanted |= np.char.startswith(table["models"].astype(str), reference)
    picked = table["order"][np.isin(table["model"], np.flatnonzero(wanted))]
    picked = picked[table["day"][picked] <= day_numbers([check_date("as_of", as_of)])[0]]
    picked = picked[np.lexsort((table["day"][picked], table["provider"][picked]))]
    times = table["time"][picked]
    if time_of_day in TIMES_OF_DAY:
        wanted_time = np.full(len(picked), time_of_day, object)
    else:
        wanted_time = _times_at(table, picked, time_of_day)
    picked = picked[(times == "all_day") | (times == wanted_time)]
    provider = table["provider"][picked]
    newest = picked[np.r_[provider[1:] != provider[:-1], True]] if len(picked) else picked
    sheet = table["rows"].iloc[newest]
    sheet = sheet[sheet["usd_per_million_output"].notna()]
    columns = {"time_of_day": table["time"][sheet.index]}
    return sheet.assign(**columns)[list(PRICE_SHEET_COLUMNS)].reset_index(drop=True)


def _times_at(table: dict, picked: np.ndarray, clock: str) -> np.ndarray:
    """Per row of ``picked`` (sorted by provider, day): 'peak' or 'off_peak' at UTC
    ``clock``, by the peak hours of its provider's newest timed row among them (a
    provider without one: 'peak', which none of its all-day rows is matched against)."""
    hours, minutes = (int(part) for part in clock.split(":"))
    provider = table["provider"][picked]
    timed = picked[table["time"][picked] != "all_day"]
    owner = table["provider"][timed]
    newest = timed[np.r_[owner[1:] != owner[:-1], True]] if len(timed) else timed
    off_peak = {
        table["provider"][i]
        for i in newest
        if not _is_peak(table["windows"][i], 60 * hours + minutes)
    }
    return np.where(np.isin(provider, list(off_peak)), "off_peak", "peak").astype(object)


def price_dates(catalog: Catalog | None = None) -> list[str]:
    """The provider-price dates of the catalog, oldest first (as written: '2023-12', '2024')."""
    return list((catalog or load_catalog()).prepared(_price_dates))


def _price_dates(catalog: Catalog) -> tuple[str, ...]:
    """:func:`price_dates`, computed once per catalog."""
    return tuple(sorted(catalog.provider_prices["date"].astype(str).unique(), key=date_key))


def model_price_dates(model: str, catalog: Catalog | None = None) -> list[str]:
    """The dates the catalog prices ``model`` at, oldest first; [] if it has no price."""
    return list((catalog or load_catalog()).prepared(_model_price_dates).get(model, ()))


def _model_price_dates(catalog: Catalog) -> dict:
    """Model -> :func:`model_price_dates` (models with a price), computed once per catalog."""
    table = catalog.prepared(_sheet_table)
    dates = table["rows"]["date"].astype(str).to_numpy()
    return {
        str(model): tuple(sorted(set(dates[table["order"][table["model"] == code]]), key=date_key))
        for code, model in enumerate(table["models"])
    }


def withdrawn_offers(model: str, as_of, catalog: Catalog | None = None) -> list[tuple]:
    """The providers whose newest ``model`` row dated on or before ``as_of`` has no price
    (the offer withdrawn, so :func:`price_sheet` leaves them out), as (provider, that row's
    date as written), ordered by that date (the file's order on a tie)."""
    table = (catalog or load_catalog()).prepared(_sheet_table)
    code = np.flatnonzero(table["models"] == model)
    picked = table["order"][table["model"] == code[0]] if len(code) else table["order"][:0]
    picked = picked[table["day"][picked] <= day_numbers([check_date("as_of", as_of)])[0]]
    provider = table["provider"][picked]
    newest = picked[np.r_[provider[1:] != provider[:-1], True]] if len(picked) else picked
    newest = newest[np.lexsort((newest, table["day"][newest]))]
    rows = table["rows"]
    gone = newest[np.isnan(rows["usd_per_million_output"].to_numpy(float)[newest])]
    return list(zip(rows["provider"].to_numpy()[gone], rows["date"].to_numpy()[gone], strict=True))


def gpu_price_dates(catalog: Catalog | None = None) -> list[str]:
    """The GPU-price dates of the catalog, oldest first: what ``PriceRule.as_of`` may
    usefully name besides ``TODAY``."""
    prices = (catalog or load_catalog()).gpu_prices
    return sorted(prices["date"].astype(str).unique(), key=date_key)


#: Tiers tried, in order, for a scenario's GPU that the rule's tier does not price.
FALLBACK_TIERS = ("on_demand", "contract_1y", "contract_3y", "all_in_cost")


@dataclass(frozen=True)
class ScenarioPrice:
    """The price of a scenario's GPU under a rule: ``usd_per_gpu_hour``, ``label`` (where
    it is from) and ``fallback``: the rule's tier has none, so the first tier of
    ``FALLBACK_TIERS`` that prices it was used (said in words: ``text``)."""

    gpu: str
    usd_per_gpu_hour: float
    label: str
    fallback: bool
    text: str


def scenario_price(gpu: str, rule: PriceRule, catalog: Catalog | None = None) -> ScenarioPrice:
    """What one GPU costs per hour under ``rule``, for a single scenario that needs a number.

    The rule's price (the user's own first); where the rule's tier has none, the first tier
    of ``FALLBACK_TIERS`` with one, marked ``fallback`` and said in ``text`` (a table of
    several GPUs never does this: ``price_gpus`` leaves them unpriced). ``ValueError`` when
    no tier prices the GPU (an announced one): the user must give a price.
    """
    catalog = catalog or load_catalog()
    row = price_gpus([gpu], rule, catalog).iloc[0]
    if not math.isnan(row["usd_per_gpu_hour"]):
        return ScenarioPrice(gpu, float(row["usd_per_gpu_hour"]), row["label"], False, "")
    for tier in FALLBACK_TIERS:
        other = price_gpus([gpu], rule.replace(tier=tier), catalog).iloc[0]
        if not math.isnan(other["usd_per_gpu_hour"]):
            name = catalog.gpus.loc[gpu, "name"]
            text = (
                f"{name} has no {RULE_TIERS[rule.tier]} price in the catalog; its "
                f"{RULE_TIERS[tier]} price is used ({other['label']}): type your own price "
                "or choose another tier"
            )
            return ScenarioPrice(gpu, float(other["usd_per_gpu_hour"]), other["label"], True, text)
    raise ValueError(
        f"usd_per_gpu_hour: {catalog.gpus.loc[gpu, 'name']} ({gpu}) has no price of any tier "
        f"in the catalog as of {rule.as_of}; give your own"
    )


def priced(scenario, rule: PriceRule, catalog: Catalog | None = None):
    """``scenario`` with its GPU's price under ``rule`` (:func:`scenario_price`): what the
    app's sidebar does, for a notebook user who sets the rule once."""
    return scenario.replace(
        usd_per_gpu_hour=scenario_price(scenario.gpu, rule, catalog).usd_per_gpu_hour
    )
