"""Price-war margins: who makes money serving the sidebar's model at a date's prices (C1-C6).

A thin view of ``costmodel.analyses.price_war.run`` (inputs from its ``Options``, one
cached call; a second only when the price sheet is edited), with DeepSeek's published
economics beside the model (``costmodel.analyses.disclosures.run``) under its preset.
The sheet is the catalog's, or your price list's (``ui.price_list``: a LiteLLM or
OpenRouter file, carried in the URL).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import (
    cache,
    charts,
    margin_charts,
    price_list,
    sidebar,
    tables,
    url,
    verdicts,
    widgets,
)
from app_pages.ui.text import escape, literal
from costmodel import presets, pricing, status
from costmodel.analyses import disclosures
from costmodel.analyses import price_war as analysis

COST = analysis.COST
CLAIM_IDS = ("C1", "C2", "C3", "C4", "C6")
DEEPSEEK = presets.DEEPSEEK_2025
OWN = ("price_date", "time_of_day", "a100_usd_per_gpu_hour", "margin_unit")
POINT = ("operating_point", "min_tokens_per_s_per_user")
MARKET = ("market_gpus", "weight_formats", "include_announced")
#: The UTC hours a link may name as the time of day, besides peak and off-peak.
HOURS = tuple(f"{h:02d}:00" for h in range(24))
#: Choices shown in words (the URL keeps the ids).
NAMES = {
    "time_of_day": pricing.TIME_OF_DAY_NAMES | {h: f"{h} UTC on a weekday" for h in HOURS},
}
WIDGET_ARGS = {"a100_usd_per_gpu_hour": {"format": "%.2f"}} | {
    key: {"names": names} for key, names in NAMES.items()
}
#: The sheet's columns, labelled (the editable prices are configured in the editor).
SHEET_LABELS = {"provider": "Provider", "model": "Model", "date": "Date", "billed": "Billed"}
TIMES = {"all_day": "all day", **analysis.TIME_WORDS}


def page_defaults(model: str) -> dict:
    """Defaults that depend on the catalog and the sidebar's model: the date (the seed's
    sheet for a model priced then, else today) and the A100's lowest catalog price."""
    cat = cache.catalog()
    date = analysis.resolved_price_date(model, None, cat)
    lowest = cat.gpu_prices.loc[cat.gpu_prices["gpu"] == analysis.A100, "usd_per_gpu_hour"]
    return {
        "price_date": date if date == analysis.SEED_DATE else analysis.TODAY,
        "a100_usd_per_gpu_hour": float(lowest.min()),
    }


def preset_split(declared: dict) -> tuple[dict, dict]:
    """DeepSeek's preset as (fields the sidebar's button sets, fields the page applies).

    The page applies what the sidebar has no input for (prefix-cache hits, expert
    parallelism) and, without ``expert_parallel`` there, the GPU count too (144 GPUs need
    expert parallelism); it applies them while the sidebar's fields match the preset.
    """
    held = {k: v for k, v in DEEPSEEK.items() if k in declared}
    if "expert_parallel" not in declared:
        held.pop("n_gpus", None)
    matched = all(url.value(k) == v for k, v in held.items())
    return held, ({k: v for k, v in DEEPSEEK.items() if k not in held} if matched else {})


# --- Page -------------------------------------------------------------------------------

st.title("Price-war margins")
st.markdown(
    "Who makes money serving the sidebar's model at the providers' prices of a date? In "
    "December 2023 Mixtral 8x7B went on sale at prices that fell within hours: this page "
    "puts the providers' prices (claims **C1** OpenAI's GPT-3.5 Turbo, **C2** Mistral's own "
    "API, **C3** the cut prices of Together, Perplexity, Anyscale, DeepInfra and OpenRouter) "
    "against our cost of serving it on the seed's 2x H100 at \\$1.95, on 2x A100 80GB, on "
    "today's GPUs at a price tier of the date and on the sidebar's setup, and checks **C4** "
    "(even optimistically Mistral barely breaks even, all others lose money) and **C6** (even "
    "2x A100 cannot profit at the collapsed prices). Any model with prices works: pick it in "
    "the sidebar and the date here ('today': the newest prices)."
)
cat = cache.catalog()
DEFAULTS = page_defaults(sidebar.scenario().model)
PARAMS = tuple(
    p
    for p in url.option_specs(
        analysis.Options,
        price_date={
            "choices": (*pricing.price_dates(cat), analysis.TODAY),
            "default": DEFAULTS["price_date"],
        },
        time_of_day={"choices": (*pricing.TIMES_OF_DAY, *HOURS)},
        a100_usd_per_gpu_hour={"default": DEFAULTS["a100_usd_per_gpu_hour"]},
        weight_formats={"choices": (analysis.CHECKPOINT, *cat.formats.index)},
    )
    if p.name != "provider_prices"
)
PAGE_DEFAULTS = {p.name: p.default for p in PARAMS}
SEED = sidebar.PRESETS["December 2023 baseline"]
PRESETS = {
    "December 2023 baseline": {**SEED, **PAGE_DEFAULTS, **page_defaults(SEED["model"])},
    "Large batch (256), 24/7": {"batch_size": 256, "utilization": 1.0},
    "Today's prices": {"price_date": analysis.TODAY},
}
url.declare(*PARAMS)
price_list.declare()
PRESET_SET, PRESET_APPLIED = preset_split(url.declared())
scen = sidebar.scenario(**PRESET_APPLIED)


@url.fragment
def margins_view() -> None:
    """The page's own inputs and everything drawn from them (a fragment, as
    ``gpu_comparison.comparison``)."""
    controls, buttons = st.columns([3, 1])
    with controls:
        own, point = st.columns(4), st.columns(2)
        with st.expander("Market setups: GPUs and weight formats", icon=":material/tune:"):
            values = widgets.inputs(MARKET)
        name = cat.models.loc[scen.model, "name"] if scen.model in cat.models.index else scen.model
        prices = price_list.box(scen.model, name)
        listed = {"disabled": True, "help": "Your price list's date is the sheet's date."}
        args = WIDGET_ARGS | ({"price_date": listed} if prices is not None else {})
        values |= widgets.inputs(OWN, own, **args) | widgets.inputs(POINT, point, **args)
        rule = sidebar.price_rule()
        explained = st.empty()  # the operating point in words, once the analysis ran
    with buttons:
        widgets.preset_buttons(PRESETS, key="price_preset", reset=list(PAGE_DEFAULTS))
        st.button(
            "DeepSeek's published economics",
            on_click=widgets.set_values,
            args=(PRESET_SET,),
            width="stretch",
            help=escape(DEEPSEEK.description),
        )
    try:
        options = analysis.Options(**values, price_rule=rule)
        if prices is not None:  # the list's newest prices are its own date's
            options = options.replace(price_date=analysis.TODAY)
        first = cache.analysis_at_prices(analysis, scen, options, prices)
    except ValueError as err:
        st.error(f"Cannot cost this scenario: {literal(str(err))}. Showing the defaults.")
        options, prices = analysis.Options(), None
        first = cache.analysis(analysis, sidebar.DEFAULT, options)
    explained.caption(
        f"GPU prices of the market setups: {escape(rule.tier_text)} (the sidebar's price "
        f"rule) as of the sheet's date. Who makes money is decided "
        f"{escape(first.operating_point_text)}."
    )
    draw(sheet_and_result(first, options, prices))


def sheet_and_result(
    first: analysis.Result, options: analysis.Options, prices: pd.DataFrame | None
) -> analysis.Result:
    """The editable price sheet (the catalog's, or your list's: ``prices``); the result
    again at the edited prices (when edited)."""
    yours = prices is not None
    st.subheader(f"Provider prices as of {first.price_date}" + (" (your list)" if yours else ""))
    for note in (first.price_date_note, first.sheet_note):
        if note:
            st.info(escape(note), icon=":material/info:")
    if first.sheet.empty:
        st.info(escape(first.verdict_text))
        return first
    columns = ["provider", "model", "billed", "usd_per_million_input", "usd_per_million_output"]
    columns += ["usd_per_million_cached_input", "date"]
    money = {"min_value": 0.0, "max_value": analysis.MAX_USD_PER_MILLION_TOKENS}
    cached = first.sheet["usd_per_million_cached_input"]  # read-only: shown as text
    shown = first.sheet.assign(
        usd_per_million_cached_input=tables.dashed(cached),
        billed=first.sheet["time_of_day"].map(TIMES),
        model=tables.in_words(first.sheet[["model"]])["model"],
    )
    edited = st.data_editor(
        shown[columns],
        key=f"price_editor:{first.priced_model}:{first.price_date}:{yours}",
        hide_index=True,
        disabled=[c for c in columns if not c.startswith("usd_per_million_")]
        + ["usd_per_million_cached_input"],
        column_config=SHEET_LABELS
        | {
            f"usd_per_million_{kind}": st.column_config.NumberColumn(
                f"$/M {kind} tokens",
                format="$%.2f",
                help=f"Price [$ per million {kind} tokens]",
                **money,
            )
            for kind in ("input", "output")
        }
        | {
            "usd_per_million_cached_input": st.column_config.TextColumn(
                "$/M cached input",
                help=f"Price of a cached prompt token [$ per million]; {tables.DASH}: none "
                "listed, the input price applies",
            ),
        },
    )
    edited = edited.fillna({"usd_per_million_input": 0.0, "usd_per_million_output": 0.0})
    tables.download_csv(
        edited.assign(usd_per_million_cached_input=cached, model=first.sheet["model"]),
        "provider_prices.csv",
    )
    st.caption(
        "Double-click a price to try another. Edited prices are **not** kept in the URL: a "
        "shared link shows "
        + ("your price list's prices." if yours else "the catalog's prices for the chosen date.")
        + (
            " OpenAI's GPT-3.5 Turbo is the quality bar Mixtral competes with, not a Mixtral host."
            if first.seed_setup
            else ""
        )
    )
    changed = tuple(
        (r.provider, float(r.usd_per_million_input), float(r.usd_per_million_output))
        for r, o in zip(edited.itertuples(), first.sheet.itertuples(), strict=True)
        if (r.usd_per_million_input, r.usd_per_million_output)
        != (o.usd_per_million_input, o.usd_per_million_output)
    )
    if not changed:
        return first
    try:
        return cache.analysis_at_prices(
            analysis, scen, options.replace(provider_prices=changed), prices
        )
    except ValueError as err:
        st.error(f"Cannot use the edited prices: {literal(str(err))}")
        return first


def draw(result: analysis.Result) -> None:
    """Our costs, who makes money, the margin charts and table, the claims, the tornado."""
    st.subheader("Our cost on each setup")
    tables.show_table(
        result.costs,
        "cost_per_setup.csv",
        hide_index=True,
        column_config=tables.COST_CONFIG,
    )
    misfits = result.costs.loc[~result.costs["fits"], "setup"]
    if len(misfits):
        st.warning(
            "Does not fit in memory at this batch: "
            + escape(", ".join(misfits))
            + ". Its cost is shown, but it could not serve this batch."
        )
    if len(result.market):
        with st.expander("Market setups: price and size of each of today's GPUs"):
            tables.show_table(result.market, "market_setups.csv", hide_index=True)

    st.subheader("Who makes money")
    if result.cheapest_setup:
        margins = result.margins
        deciding = margins[
            (margins["setup"] == result.cheapest_setup) & (margins["model"] == result.priced_model)
        ]
        cost = result.costs.set_index("setup").loc[result.cheapest_setup, COST]
        cells = st.columns(1 + len(analysis.VERDICTS))
        cells[0].metric(
            "Our cost [$/M output tokens]",
            f"${cost:,.3f}",
            help=f"On the setup that decides: {escape(result.cheapest_setup)}",
        )
        for cell, verdict in zip(cells[1:], analysis.VERDICTS, strict=True):
            group = analysis.VERDICT_GROUPS[verdict]
            cell.metric(f"Providers that {group}", int((deciding["verdict"] == verdict).sum()))
    st.markdown(escape(result.verdict_text))
    if result.disclosure_text:
        st.markdown(f"**Beside their own numbers.** {escape(result.disclosure_text)}")
    for claim_id in ("C4", "C6"):  # at the page's options: the analysis's own status
        if getattr(result, f"{claim_id.lower()}_status") != status.NOT_APPLICABLE:
            verdicts.show_result(claim_id, result)
    margins = result.margins
    if len(margins):
        margin_charts.show_all(margins, result.margin_column)
        if result.margin_column == "margin_pct" and (margins["revenue_per_request_usd"] <= 0).any():
            st.caption(
                "A free provider has no margin in % of revenue (no bar); switch to "
                "'\\$ per million requests' to see its loss."
            )
        tables.show_table(margins, "provider_margins.csv", hide_index=True)
    if result.seed_setup:
        st.subheader("The claims on this page")
        verdicts.show_all(CLAIM_IDS, scen)
        st.caption(
            "Verdicts at the sidebar's scenario and the analyses' default options, from "
            "`costmodel.claims.check_all`; the margins above use your settings."
        )
    if PRESET_APPLIED:
        applied = ", ".join(f"{k} = {v}" for k, v in PRESET_APPLIED.items())
        st.info(f"DeepSeek's preset: the page also applies {escape(applied)} (no sidebar input).")
    if scen.model == DEEPSEEK["model"]:
        disclosure_section()
    tables.formula_expander(
        "Formulas: revenue, cost, margin, break-even",
        r"""
- **Revenue per request** = $(P_\text{new} \cdot \text{price}_\text{in} + P_\text{cached}
  \cdot \text{price}_\text{cached} + O \cdot \text{price}_\text{out}) / 10^6$ for the prompt's
  new and cached tokens (`prefix_cache_hit_rate`) and $O$ output tokens.
- **Cost per request** =
  $n \cdot p / 3600 / u \cdot (O \cdot t_\text{token} + t_\text{prefill}) / B$:
  GPU time of the request's share of the batch's prefill and decode (cached tokens skip
  prefill), for $n$ GPUs at $p$ \$/GPU-hour, utilisation $u$, batch $B$.
- **Margin** = revenue − cost; in % of revenue = $100 (\text{revenue} - \text{cost}) /
  \text{revenue}$. **Break-even utilisation** = $u \cdot \text{cost} / \text{revenue}$;
  **break-even batch**: the smallest fitting batch of `costmodel.batch_grid()` whose cost
  per request is at most the revenue.
- Words: within ±10% of revenue *roughly breaks even*; above *profits*; below *loses money*.
""",
    )
    st.subheader("What the sidebar setup's cost hangs on")
    r = result.sidebar_range
    st.markdown(
        f"{escape(result.sidebar_setup)} at batch {scen.batch_size}: "
        f"**\\${r['low']:,.3f} / \\${r['central']:,.3f} / \\${r['high']:,.3f}** per million "
        "output tokens (low / central / high, efficiencies moved by the family's uncertainty)."
    )
    charts.tornado_section(scen, COST, "$ per million output tokens")


def disclosure_section() -> None:
    """DeepSeek's published serving economics beside the model's numbers (with ratios)."""
    st.subheader("DeepSeek's published economics, and the model's")
    try:
        shown = cache.analysis(disclosures, scen, disclosures.Options())
    except ValueError as err:
        st.error(f"Cannot restate the disclosure: {literal(str(err))}")
        return
    st.markdown(escape(shown.text))
    tables.show_table(shown.comparison, "deepseek_disclosure.csv", hide_index=True)
    st.caption(
        "Their numbers: DeepSeek's open-infra-index (2025-03-01); ours: this scenario. A "
        "ratio is the model's value over theirs. The button *DeepSeek's published economics* "
        "sets their setup."
    )


margins_view()
