"""Price-war margins: provider prices against our cost on a few GPU setups (C1-C6)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, gate, params, tables

COST = "usd_per_million_output_tokens"
SEED = params.PRESETS["December 2023 baseline"]  # 2x H100 SXM, bf16, $1.95 per GPU-hour
SEED_DATE = "2023-12"
A100 = "a100-80gb-sxm"
REFERENCE = "gpt-3.5"  # OpenAI's model: the price bar Mixtral competes with (C1)
EVEN_BAND = 10.0  # a margin within ±10% of revenue "roughly breaks even"
MARGIN_UNITS = ("% of revenue", "$ per million requests")
C4 = "**C4** (even optimistically Mistral barely breaks even; all others lose money)"
C6 = "**C6** (at the collapsed prices even 2x A100 cannot make a profit)"
VERDICT_ICONS = {"success": ":material/check_circle:", "info": ":material/info:"}
PRICE_COLUMNS = ["provider", "model", "usd_per_million_input", "usd_per_million_output", "date"]


def md(text: str) -> str:
    """Text with dollar signs escaped for Markdown (a bare $ starts a formula)."""
    return text.replace("$", "\\$")


def price_dates(prices: pd.DataFrame) -> list[str]:
    """The catalog's price dates, oldest first."""
    return sorted(prices["date"].astype(str).unique(), key=costmodel.date_key)


def price_sheet(prices: pd.DataFrame, model: str, date: str) -> tuple[pd.DataFrame, str]:
    """Each provider's latest price for ``model`` (and OpenAI's reference) as of ``date``.

    Falls back to Mixtral 8x7B's prices when the catalog has none for ``model``; returns
    the sheet and the model whose prices it holds.
    """
    priced = model if (prices["model"] == model).any() else "mixtral-8x7b"
    rows = prices[(prices["model"] == priced) | prices["model"].str.startswith(REFERENCE)]
    rows = rows[rows["date"].map(costmodel.date_key) <= costmodel.date_key(date)]
    order = list(dict.fromkeys(rows["provider"]))
    latest = rows.assign(_key=rows["date"].map(costmodel.date_key)).sort_values(
        "_key", kind="stable"
    )
    latest = latest.groupby("provider", sort=False).tail(1).set_index("provider").loc[order]
    return latest.reset_index()[PRICE_COLUMNS], priced


def lowest_price(gpu: str) -> float:
    """The lowest catalog rental price of ``gpu`` [$/GPU-hour] (the seed's own choice for H100
    was an optimistic one too)."""
    prices = cache.catalog().gpu_prices
    return float(prices.loc[prices["gpu"] == gpu, "usd_per_gpu_hour"].min())


def setups(scen: costmodel.Scenario, a100_price: float) -> dict[str, costmodel.Scenario]:
    """The seed's 2x H100 at $1.95, 2x A100 80GB at ``a100_price``, and the sidebar's setup.

    All take the sidebar's model, batch, utilisation and request lengths; the first two
    the seed's bf16 formats.
    """
    seed = scen.replace(
        **{k: SEED[k] for k in ("gpu", "n_gpus", "weight_format", "kv_format")},
        usd_per_gpu_hour=SEED["usd_per_gpu_hour"],
    )
    a100 = seed.replace(gpu=A100, usd_per_gpu_hour=a100_price)
    names = cache.catalog().gpus["name"]
    result = {
        f"Seed: 2x H100 SXM @ ${seed.usd_per_gpu_hour:.2f}": seed,
        f"2x A100 80GB @ ${a100_price:.2f}": a100,
    }
    if scen not in result.values():
        label = f"Sidebar: {scen.n_gpus}x {names[scen.gpu]} @ ${scen.usd_per_gpu_hour:.2f}"
        result[label] = scen
    return result


@st.cache_data(show_spinner=False, max_entries=256)
def margins(scen: costmodel.Scenario, prices: pd.DataFrame) -> pd.DataFrame:
    """``costmodel.economics.provider_margins`` cached by the scenario and the prices."""
    return costmodel.provider_margins(scen, prices)


def cost_table(all_setups: dict[str, costmodel.Scenario]) -> pd.DataFrame:
    """Our cost per token and per request on each setup."""
    rows = []
    for label, scen in all_setups.items():
        out = cache.evaluate(scen)
        spread = cache.headline_range(scen, COST)
        rows.append(
            {
                "Setup": label,
                "GPU id": scen.gpu,
                "GPUs": scen.n_gpus,
                "$/GPU-hour": scen.usd_per_gpu_hour,
                "Weights": scen.weight_format,
                "Batch": scen.batch_size,
                "Utilization": scen.utilization,
                "Fits": bool(out["fits"]),
                "$/M input tokens": out["usd_per_million_input_tokens"],
                "$/M output tokens": out[COST],
                "$/M output, low": spread["low"],
                "$/M output, high": spread["high"],
                "$/request": out["usd_per_request"],
                "Tokens/s per user": out["tokens_per_s_per_user"],
            }
        )
    return pd.DataFrame(rows)


def margin_table(all_setups: dict[str, costmodel.Scenario], sheet: pd.DataFrame) -> pd.DataFrame:
    """Every provider's margin on every setup (long format)."""
    frames = [margins(scen, sheet).assign(setup=label) for label, scen in all_setups.items()]
    table = pd.concat(frames, ignore_index=True)
    table["margin_usd_per_request"] = table["margin_usd_per_million_requests"] / 1e6
    return table[
        [
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
        ]
    ]


def verdict(row: pd.Series) -> str:
    """'profits', 'roughly breaks even' or 'loses money', from the margin."""
    if row["revenue_per_request_usd"] <= 0:
        return "loses money" if row["usd_per_request"] > 0 else "roughly breaks even"
    if row["margin_pct"] > EVEN_BAND:
        return "profits"
    return "roughly breaks even" if row["margin_pct"] >= -EVEN_BAND else "loses money"


def describe(row: pd.Series) -> str:
    """Provider with its margin, e.g. 'Together (−69%)' or 'OpenRouter (free)'."""
    if row["revenue_per_request_usd"] <= 0:
        return f"{row['provider']} (free)"
    return f"{row['provider']} ({row['margin_pct']:+.0f}%)"


def break_even_text(row: pd.Series) -> str:
    """Where a provider's price breaks even: batch and utilisation."""
    batch, util = row["break_even_batch_size"], row["break_even_utilization"]
    parts = [
        f"batch ≥ {batch:.0f}" if np.isfinite(batch) else "no batch that fits",
        f"utilisation ≥ {util:.0%}" if util <= 1 else "no utilisation ≤ 100%",
    ]
    return f"break-even needs {parts[0]} (at this utilisation) or {parts[1]} (at this batch)"


def c4_text(table: pd.DataFrame, label: str, scen: costmodel.Scenario, out: dict) -> tuple:
    """C4 in words, computed: Mistral's margin and the others' on the seed's setup."""
    rows = table[(table["setup"] == label) & ~table["model"].str.startswith(REFERENCE)]
    head = (
        f"On the seed's setup ({scen.n_gpus}x H100 SXM, {scen.weight_format}, "
        f"\\${scen.usd_per_gpu_hour:.2f}/GPU-hour) at batch {scen.batch_size} and "
        f"{scen.utilization:.0%} utilisation our cost is **\\${out[COST]:.3f} per million output "
        f"tokens** and \\${out['usd_per_million_input_tokens']:.3f} per million input tokens, "
        f"\\${out['usd_per_request'] * 1000:.3f} per 1,000 requests of {scen.prompt_tokens} + "
        f"{scen.output_tokens} tokens."
    )
    if not out["fits"]:
        head += " **This setup does not fit the model in memory at this batch.**"
    mistral = rows[rows["provider"] == "Mistral"]
    others = rows[rows["provider"] != "Mistral"]
    lose = others[others.apply(verdict, axis=1) == "loses money"]
    parts = [head]
    mistral_even = False
    if len(mistral):
        m = mistral.iloc[0]
        mistral_even = verdict(m) == "roughly breaks even"
        parts.append(
            f"At Mistral's own price (\\${m['usd_per_million_input']:.2f} in / "
            f"\\${m['usd_per_million_output']:.2f} out) the margin is "
            f"**{m['margin_pct']:+.0f}% of revenue**: Mistral {verdict(m)}; "
            f"{break_even_text(m)}."
        )
    if len(others):
        gain = others[others.apply(verdict, axis=1) != "loses money"]
        text = f"{len(lose)} of the {len(others)} other providers lose money"
        text += f": {', '.join(lose.apply(describe, axis=1))}" if len(lose) else ""
        if len(gain):
            text += f"; not losing: {', '.join(gain.apply(describe, axis=1))}"
        parts.append(text + ".")
    all_lose = len(others) > 0 and len(lose) == len(others)
    if mistral_even and all_lose:
        status = ("success", f"{C4} — holds under these assumptions.")
    elif mistral_even or all_lose:
        status = ("info", f"{C4} — holds only in part under these assumptions.")
    else:
        status = ("info", f"{C4} — does not hold under these assumptions.")
    return " ".join(parts), status


def c6_text(table: pd.DataFrame, label: str, scen: costmodel.Scenario, out: dict) -> tuple:
    """C6 in words, computed: the A100 setup against the collapsed (non-Mistral) prices."""
    rows = table[
        (table["setup"] == label)
        & ~table["model"].str.startswith(REFERENCE)
        & (table["provider"] != "Mistral")
    ]
    head = (
        f"On 2x A100 80GB at \\${scen.usd_per_gpu_hour:.2f}/GPU-hour (same batch and "
        f"utilisation) our cost is **\\${out[COST]:.3f} per million output tokens**."
    )
    if not out["fits"]:
        head += " **This setup does not fit the model in memory at this batch.**"
    if rows.empty:
        return head + " The sheet has no collapsed prices to compare.", ("info", "")
    lose = rows[rows.apply(verdict, axis=1) == "loses money"]
    text = f"{head} At the collapsed prices {len(lose)} of {len(rows)} providers lose money" + (
        f": {', '.join(lose.apply(describe, axis=1))}" if len(lose) else ""
    )
    keep = rows[rows.apply(verdict, axis=1) != "loses money"]
    if len(keep):
        text += f"; not losing: {', '.join(keep.apply(describe, axis=1))}"
    if len(lose) == len(rows):
        status = ("success", f"{C6} — holds under these assumptions.")
    else:
        status = ("info", f"{C6} — does not hold for every collapsed price here.")
    return text + ".", status


def margin_chart(rows: pd.DataFrame, unit: str, title: str) -> alt.Chart:
    """Green/red horizontal bars: each provider's margin on one setup."""
    value = "margin_pct" if unit == MARGIN_UNITS[0] else "margin_usd_per_million_requests"
    x_title = (
        "Margin [% of revenue]" if unit == MARGIN_UNITS[0] else "Margin [$ per million requests]"
    )
    data = rows.assign(
        result=np.where(rows["margin_usd_per_million_requests"] >= 0, "profit", "loss"),
        label=np.where(
            (rows["revenue_per_request_usd"] <= 0) & (value == "margin_pct"), "free: no %", ""
        ),
    )
    notes = (
        alt.Chart(data[data["label"] != ""])
        .mark_text(align="left", dx=4, color="#d62728")
        .encode(x=alt.datum(0), y=alt.Y("provider:N", sort=list(data["provider"])), text="label:N")
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=x_title),
            y=alt.Y("provider:N", title="Provider", sort=list(data["provider"])),
            color=charts.color_encoding(
                "result:N",
                ["profit", "loss"],
                "Result",
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("provider:N", title="Provider"),
                alt.Tooltip("model:N", title="Model priced"),
                alt.Tooltip("revenue_per_request_usd:Q", title="Revenue [$/request]", format=".6f"),
                alt.Tooltip("usd_per_request:Q", title="Our cost [$/request]", format=".6f"),
                alt.Tooltip(
                    "margin_usd_per_million_requests:Q",
                    title="Margin [$ per million requests]",
                    format=",.0f",
                ),
                alt.Tooltip("margin_pct:Q", title="Margin [% of revenue]", format="+.1f"),
                alt.Tooltip("break_even_batch_size:Q", title="Break-even batch", format=".0f"),
                alt.Tooltip(
                    "break_even_utilization:Q", title="Break-even utilisation", format=".0%"
                ),
            ],
        )
    )
    return alt.layer(bars, notes, title=title).properties(height=alt.Step(24))


# --- Page -------------------------------------------------------------------------------

st.title("Price-war margins")
st.markdown(
    "In December 2023 Mixtral 8x7B went on sale at prices that fell within hours. This page "
    "puts the providers' prices (claims **C1** OpenAI's GPT-3.5 Turbo, **C2** Mistral's own "
    "API, **C3** the cut prices of Together, Perplexity, Anyscale, DeepInfra and OpenRouter) "
    "against our cost of serving the sidebar's model on the seed's 2x H100 at \\$1.95, on "
    "2x A100 80GB and on the sidebar's setup, at the sidebar's batch and utilisation, and "
    "checks **C4** (even optimistically Mistral barely breaks even, all others lose money), "
    "**C5** (the A100's bandwidth per dollar; see the GPU comparison) and **C6** (even 2x A100 "
    "cannot profit at the collapsed prices)."
)

cat = cache.catalog()
dates = price_dates(cat.provider_prices)
a100_default = lowest_price(A100)
PARAMS = (
    gate.choice("price_date", SEED_DATE, dates),
    gate.number("a100_usd_per_gpu_hour", a100_default, 0.0, 100.0),
    gate.choice("margin_unit", MARGIN_UNITS[0], MARGIN_UNITS),
    charts.CHANGE_PCT,
)
DEFAULTS = {p.key: p.default for p in PARAMS}
PRESETS = {
    "December 2023 baseline": {**SEED, **DEFAULTS},
    "Large batch (256), 24/7": {"batch_size": 256, "utilization": 1.0},
    "Later prices (2024)": {"price_date": dates[-1]},
}
params.declare(*PARAMS)

controls, presets = st.columns([3, 1])
with controls:
    left, middle, right = st.columns(3)
    price_date = params.selectbox(
        "price_date",
        "Provider prices as of",
        left,
        help="Each provider's latest catalog price (assets/provider_prices.csv) dated at or "
        "before this [YYYY-MM]; 2023-12 is the seed's sheet. A year alone (2024) means an "
        "undated 2024 snapshot, taken as the end of that year.",
    )
    a100_price = params.number_input(
        "a100_usd_per_gpu_hour",
        "2x A100 80GB price [$/GPU-hour]",
        0.05,
        middle,
        format="%.2f",
        help="Rental price of one A100 80GB SXM [$/GPU-hour]; default: the lowest in the "
        "catalog (assets/gpu_prices.csv), as optimistic as the seed's \\$1.95 for an H100.",
    )
    unit = params.radio(
        "margin_unit",
        "Margin shown in",
        right,
        help="Chart unit: margin in percent of the provider's revenue [%], or in dollars "
        "per million requests of the sidebar's prompt + output length [$].",
    )
with presets:
    params.preset_buttons(PRESETS, key="price_preset", reset=list(DEFAULTS))

scen = params.scenario()
try:
    all_setups = setups(scen, float(a100_price))
    costs = cost_table(all_setups)
except ValueError as err:
    st.error(f"Cannot cost this scenario: {err} Showing the default scenario.")
    scen = params.DEFAULT
    all_setups = setups(scen, float(a100_price))
    costs = cost_table(all_setups)

st.subheader("Provider prices")
sheet, priced = price_sheet(cat.provider_prices, scen.model, price_date)
if priced != scen.model:
    st.info(
        f"The catalog has no provider prices for `{scen.model}`; the sheet shows the prices "
        f"for `{priced}` for comparison."
    )
edited = st.data_editor(
    sheet,
    key=f"price_editor:{priced}:{price_date}",
    hide_index=True,
    disabled=["provider", "model", "date"],
    column_config={
        "usd_per_million_input": st.column_config.NumberColumn(
            "$/M input tokens",
            min_value=0.0,
            format="$%.2f",
            help="Price [$ per million input tokens]",
        ),
        "usd_per_million_output": st.column_config.NumberColumn(
            "$/M output tokens",
            min_value=0.0,
            format="$%.2f",
            help="Price [$ per million output tokens]",
        ),
    },
)
edited = edited.fillna({"usd_per_million_input": 0.0, "usd_per_million_output": 0.0})
tables.download_csv(edited, "provider_prices.csv")
st.caption(
    "Double-click a price to try another. Edited prices are **not** kept in the URL: a "
    "shared link shows the catalog's prices for the chosen date. OpenAI's GPT-3.5 Turbo is "
    "the quality bar Mixtral competes with, not a Mixtral host."
)

st.subheader("Our cost on each setup")
tables.show_table(
    costs,
    "cost_per_setup.csv",
    hide_index=True,
    column_config={
        "$/GPU-hour": st.column_config.NumberColumn(format="$%.2f"),
        "Utilization": st.column_config.NumberColumn(format="%.2f"),
        "$/M input tokens": st.column_config.NumberColumn(format="$%.4f"),
        "$/M output tokens": st.column_config.NumberColumn(format="$%.3f"),
        "$/M output, low": st.column_config.NumberColumn(format="$%.3f"),
        "$/M output, high": st.column_config.NumberColumn(format="$%.3f"),
        "$/request": st.column_config.NumberColumn(format="$%.6f"),
        "Tokens/s per user": st.column_config.NumberColumn(format="%.1f"),
    },
)
if not costs["Fits"].all():
    st.warning(
        "Does not fit in memory at this batch: "
        + ", ".join(map(md, costs.loc[~costs["Fits"], "Setup"]))
        + ". Its cost is shown, but it could not serve this batch."
    )

try:
    table = margin_table(all_setups, edited)
except ValueError as err:
    st.error(f"Cannot compute margins: {err}")
    st.stop()

st.subheader("Who makes money")
labels = list(all_setups)
seed_label, a100_label = labels[0], labels[1]
for text, (kind, message) in (
    c4_text(table, seed_label, all_setups[seed_label], cache.evaluate(all_setups[seed_label])),
    c6_text(table, a100_label, all_setups[a100_label], cache.evaluate(all_setups[a100_label])),
):
    if message:  # a verdict, not a problem: success or info, never a warning
        getattr(st, kind)(message, icon=VERDICT_ICONS[kind])
    st.markdown(text)

chart_columns = st.columns(len(labels))
for column, label in zip(chart_columns, labels, strict=True):
    with column:
        charts.show_chart(margin_chart(table[table["setup"] == label], unit, label))
if unit == MARGIN_UNITS[0] and (table["revenue_per_request_usd"] <= 0).any():
    st.caption(
        "A free provider has no margin in % of revenue (no bar); switch to "
        "'\\$ per million requests' to see its loss."
    )

tables.show_table(
    table,
    "provider_margins.csv",
    hide_index=True,
    column_config={
        "usd_per_million_input": st.column_config.NumberColumn(format="$%.2f"),
        "usd_per_million_output": st.column_config.NumberColumn(format="$%.2f"),
        "revenue_per_request_usd": st.column_config.NumberColumn(format="%.3g"),
        "usd_per_request": st.column_config.NumberColumn(format="%.3g"),
        "margin_usd_per_request": st.column_config.NumberColumn(format="%.3g"),
        "margin_usd_per_million_requests": st.column_config.NumberColumn(format="$%.0f"),
        "margin_pct": st.column_config.NumberColumn(format="%+.1f"),
        "break_even_utilization": st.column_config.NumberColumn(format="%.2f"),
        "break_even_batch_size": st.column_config.NumberColumn(format="%.0f"),
    },
)
st.caption(
    "Columns are `costmodel.provider_margins`'s: margin per request and per million "
    "requests [\\$], in % of revenue; break-even utilisation [0-1] at this batch (above 1: "
    "none) and break-even batch [sequences] at this utilisation (a dash: none, or no batch "
    "that fits)."
)

tables.formula_expander(
    "Formulas: revenue, cost, margin, break-even",
    r"""
- **Revenue per request** =
  $(P \cdot \text{price}_\text{in} + O \cdot \text{price}_\text{out}) / 10^6$
  for $P$ prompt and $O$ output tokens (the sidebar's lengths).
- **Cost per request** =
  $n \cdot p / 3600 / u \cdot (O \cdot t_\text{token} + t_\text{prefill}) / B$:
  GPU time of the request's share of the batch's prefill and decode, for $n$ GPUs at $p$
  \$/GPU-hour, utilisation $u$, batch $B$ (`usd_per_request`).
- **Cost per million output tokens** counts decode time only; **per million input tokens**
  counts prefill time only.
- **Margin** = revenue − cost; in % of revenue =
  $100 \cdot (\text{revenue} - \text{cost}) / \text{revenue}$.
- **Break-even utilisation** = $u \cdot \text{cost} / \text{revenue}$ (cost scales as $1/u$);
  **break-even batch** = the smallest batch in `costmodel.batch_grid()` that fits and whose
  cost per request is at most the revenue.
- Words: a margin within ±10% of revenue *roughly breaks even*; above it *profits*; below it
  *loses money*. C4 holds when Mistral roughly breaks even and every other Mixtral provider
  loses money; C6 when every non-Mistral Mixtral provider loses money on 2x A100.
""",
)

st.subheader("What the sidebar setup's cost hangs on")
sidebar_label = next(label for label, s in all_setups.items() if s == scen)
st.markdown(
    f"{md(sidebar_label)} at batch {scen.batch_size}: "
    + charts.headline_range_text(scen, COST, "per million output tokens")
)
charts.tornado_section(scen, COST, "$ per million output tokens")
