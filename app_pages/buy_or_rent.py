"""API, rent or buy: the monthly bill of each over a range of token volumes, and the volumes
where the cheapest answer changes (``costmodel.analyses.buy_or_rent``; issue 20).

A thin view: the page's inputs are the analysis's ``Options`` (URL keys; the API
providers offered are those that price the sidebar's model), one cached call
(``planning.run``), drawn.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, planning, sidebar, tables, url, widgets
from app_pages.ui.text import escape
from costmodel import pricing
from costmodel.analyses import buy_or_rent as analysis
from costmodel.analyses.price_war import TODAY, resolved_price_date
from costmodel.planning.buy_rent_api import OPTION_NAMES, purchase_prices, tokens_in_words

#: Most volumes compared on the page: a cold run grows with them (on a busy two-core
#: machine: 10 volumes about 8 s, 25 (the default) 8-20 s, 40 about 33 s, 100 over 90 s).
MOST_POINTS = 40
VOLUMES = ("tokens_min", "tokens_max", "points")
BUYING = ("depreciation_years", "cost_of_capital", "hosting_usd_per_kw_month", "pue", "usd_per_kwh")
#: The answers, as the analysis names them -> as shown, and their colours.
COLOURS = {"API": charts.PALETTE[0], "Rent": charts.PALETTE[1], "Buy": charts.PALETTE[4]}
X_TITLE = "Tokens a month, prompt + output [tokens, log scale]"
#: Axis labels in words: 100M, 10B, 1T.
VOLUME_LABELS = (
    "datum.value >= 1e12 ? format(datum.value / 1e12, '~g') + 'T' : "
    "datum.value >= 1e9 ? format(datum.value / 1e9, '~g') + 'B' : "
    "format(datum.value / 1e6, '~g') + 'M'"
)
#: ... and dollars a month: $100, $10k, $1M.
MONTHLY_LABELS = (
    "datum.value >= 1e6 ? '$' + format(datum.value / 1e6, '~g') + 'M' : "
    "datum.value >= 1e3 ? '$' + format(datum.value / 1e3, '~g') + 'k' : "
    "'$' + format(datum.value, '~g')"
)
TABLE_CONFIG = {
    "tokens_per_month": planning.number("Tokens a month", "compact"),
    "cheapest": {"label": "Cheapest"},
    "requests_per_s": planning.number("Requests/s", "%.3g"),
    "api_usd_per_month": planning.number("API [$ a month]", "dollar"),
    "rent_usd_per_month": planning.number("Rent [$ a month]", "dollar"),
    "rent_gpu": {"label": "Rented GPU"},
    "rent_gpus": {"label": "Rented GPUs"},
    "buy_usd_per_month": planning.number("Buy [$ a month]", "dollar"),
    "buy_gpu": {"label": "Bought GPU"},
    "buy_gpus": {"label": "Bought GPUs"},
    "api_usd_per_million_tokens": planning.number("API [$/M tokens]", "$%.4f"),
    "rent_usd_per_million_tokens": planning.number("Rent [$/M tokens]", "$%.4f"),
    "buy_usd_per_million_tokens": planning.number("Buy [$/M tokens]", "$%.4f"),
}
API_SHOWN = [
    "provider",
    "date",
    "usd_per_million_input",
    "usd_per_million_cached_input",
    "usd_per_million_output",
    "source",
]
OWNERSHIP_CONFIG = {
    "gpu": {"label": "GPU"},
    "system": {"label": "System bought"},
    "usd_per_server": planning.number("Purchase price [$ a server]", "dollar"),
    "gpus_per_server": {"label": "GPUs a server"},
    "date": {"label": "Price date"},
    "capital_usd_per_gpu_hour": planning.number("Capital [$/GPU-hour]", "$%.3f"),
    "hosting_usd_per_gpu_hour": planning.number("Hosting [$/GPU-hour]", "$%.3f"),
    "electricity_usd_per_gpu_hour": planning.number("Electricity [$/GPU-hour]", "$%.3f"),
    "owning_usd_per_gpu_hour": planning.number("Owning [$/GPU-hour]", "$%.3f"),
    "source": {"label": "Purchase price: source"},
}


def providers(model: str) -> tuple[str, ...]:
    """The providers with a price for ``model`` in the newest price sheet (the analysis's)."""
    cat = cache.catalog()
    date = resolved_price_date(model, TODAY, cat)
    return tuple(pricing.price_sheet(model, date, cat)["provider"])


st.title("API, rent or buy")
st.markdown(
    "Should you call an API, rent GPUs or buy them, at your volume? For the sidebar's model "
    "and a workload, over a range of monthly token volumes: the **API** bill at a provider's "
    "newest prices (cached prompt tokens at its cached price), the cheapest **rented** fleet "
    "meeting your latency targets at the sidebar's price rule, and the cheapest **bought** "
    "fleet at its cost of ownership (purchase price paid off with interest, hosting, "
    "electricity). Fleets are sized as on the *Fleet sizing* page; the sidebar's GPU, GPU "
    "count and batch are not used here."
)
#: At most 100 trillion tokens a month (about 38,000 chat requests/s): a cold run to 1e14
#: takes about 20 s, one to 1e15 minutes (the prefill pools' searches grow with the traffic).
MOST_TOKENS = 1e14
SPECS = planning.option_specs(
    analysis.Options,
    points={"high": MOST_POINTS},
    tokens_min={"high": MOST_TOKENS},
    tokens_max={"high": MOST_TOKENS},
    api_provider={"choices": providers(sidebar.scenario().model)},
)
PARAMS = [s.name for s in SPECS]
url.declare(*SPECS)


@url.fragment
def comparison() -> None:
    """The page's inputs, one cached run, and everything drawn from it."""
    inputs, side = st.columns([4, 1])
    with inputs:
        top = st.columns([3, 1, 2])
        values = planning.workload_inputs(top[0], top[1])
        values["api_provider"] = widgets.widget("api_provider", top[2])
        row = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
        volume = {"format": "%.2e"}
        values |= widgets.inputs(VOLUMES, row[:3], tokens_min=volume, tokens_max=volume)
        row[3].caption(
            f"From {tokens_in_words(values['tokens_min'])} to "
            f"{tokens_in_words(values['tokens_max'])} tokens a month (prompt + output), "
            f"{values['points']} volumes evenly spaced on a log scale. Type 1e10 for 10 billion."
        )
        values |= planning.target_inputs()
        values |= planning.fleet_inputs()
        with st.expander(
            "Buying and power: depreciation, interest, hosting", icon=":material/bolt:"
        ):
            values |= widgets.inputs(BUYING, st.columns(5), usd_per_kwh={"format": "%.3f"})
    with side:
        widgets.reset_button(PARAMS, key="buy_or_rent", help="Restore this page's inputs.")
    found = planning.run(analysis, values, "Sizing the fleets at each volume")
    if found is not None:
        draw(*found)


def draw(result: analysis.Result, options: analysis.Options) -> None:
    """The answer, the three bills over volume, how each pays for power, the tables."""
    st.markdown(f"**Answer.** {escape(result.verdict)}")
    api, names = result.api_price, cache.catalog().gpus["name"]
    labels = {
        "API": "no provider prices"
        if api is None
        else f"{api['provider']} prices of {api['date']}",
        "Rent": f"{sidebar.price_rule().tier_text} prices",
        "Buy": f"{options.depreciation_years:g} years at {options.cost_of_capital:.0%}",
    }
    for column, (y, title) in zip(
        st.columns(2),
        (("usd_per_month", "$ a month"), ("usd_per_million_tokens", "$ per million tokens")),
        strict=True,
    ):
        with column:
            charts.show_chart(bills_chart(result.table, labels, y, title, names.to_dict()))
    st.caption(
        "Each line is one answer's bill at each volume (log-log); rings mark the cheapest "
        "answer at each volume. A fleet has whole GPUs, so its bill steps where the traffic "
        "needs one more replica: rent and buy can trade places more than once. Rent: "
        f"{escape(labels['Rent'])}; buy: {escape(labels['Buy'])}; API: {escape(labels['API'])}."
    )
    owned = result.ownership
    per_gpu = ", ".join(
        f"{names.get(g, g)} \\${v:.3f}" for g, v in owned["electricity_usd_per_gpu_hour"].items()
    )
    st.markdown(
        "**Electricity.** *API*: inside the token price. *Renting*: inside the rental price "
        "(the *Fleet sizing* page says how much of the rent it is). *Buying*: a cost line of "
        f"its own, all-in power x PUE ({options.pue:.2f}) x "
        f"\\${options.usd_per_kwh:.3f}/kWh: {per_gpu} per GPU-hour."
    )

    st.subheader("The bills at each volume")
    tables.show_table(
        result.table,
        "api_rent_buy.csv",
        hide_index=True,
        column_config=TABLE_CONFIG,
        column_order=list(TABLE_CONFIG),
    )
    st.caption(
        "Volumes are prompt + output tokens a month; requests/s follow from the workload's "
        "mean lengths over a 730-hour month. Fleets are sized for the traffic x (1 + "
        f"headroom, {options.headroom:.0%})."
    )

    st.subheader("What owning a GPU costs an hour")
    bought = owned.join(purchase_prices()[["usd_per_server", "gpus_per_server", "date"]])
    tables.show_table(
        planning.gpu_rows(bought),
        "ownership_cost.csv",
        hide_index=True,
        column_config=OWNERSHIP_CONFIG,
        column_order=list(OWNERSHIP_CONFIG),
    )
    st.caption(
        f"Capital: the server's purchase price paid off over {options.depreciation_years:g} "
        f"years at {options.cost_of_capital:.0%} a year (a monthly annuity), per GPU over "
        f"730 hours; hosting: \\${options.hosting_usd_per_kw_month:,.0f} per kW of all-in "
        "power a month; electricity: all-in power x PUE x \\$/kWh. Only GPUs with a purchase "
        "price in the catalog can be bought."
    )

    left, right = st.columns(2)
    with left:
        st.subheader("API price compared")
        if api is None:
            st.info("The catalog has no provider prices for this model.")
        else:
            tables.show_table(
                result.api_price.to_frame().T,
                "api_price.csv",
                hide_index=True,
                column_config={
                    "usd_per_million_input": planning.number("Input [$/M]", "$%.3f"),
                    "usd_per_million_output": planning.number("Output [$/M]", "$%.3f"),
                    "usd_per_million_cached_input": {"label": "Cached input [$/M]"},
                },
                column_order=API_SHOWN,
            )
            st.caption("Cached input: a dash where the provider has no cached price (input price).")
    with right:
        st.subheader("Rental prices")
        planning.prices_table(result.rent_prices, "rental_prices.csv")
    planning.workload_section(options)


@charts.cached
def bills_chart(
    table: pd.DataFrame, labels: dict, y: str, title: str, names: dict
) -> alt.LayerChart:
    """Each answer's bill (``y``: ``usd_per_month`` or ``usd_per_million_tokens``) against
    the monthly volume, log-log; rings where the answer is the cheapest."""
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "answer": shown,
                    "terms": labels[shown],
                    "tokens_per_month": table["tokens_per_month"],
                    "volume": table["tokens_per_month"].map(tokens_in_words),
                    "value": table[f"{key}_{y}"],
                    "fleet": "—"
                    if key == "api"
                    else (
                        table[f"{key}_gpus"].map("{:,.0f} x ".format)
                        + table[f"{key}_gpu"].map(names)
                    ).where(table[f"{key}_gpus"].notna(), "no fleet meets the targets"),
                    "cheapest": table["cheapest"] == key,
                }
            )
            for key, shown in OPTION_NAMES.items()
        ],
        ignore_index=True,
    ).dropna(subset=["value"])
    log = alt.Scale(type="log")
    volumes = table["tokens_per_month"]
    money = MONTHLY_LABELS if y == "usd_per_month" else "'$' + format(datum.value, '~g')"
    base = alt.Chart(rows).encode(
        x=alt.X(
            "tokens_per_month:Q",
            title=X_TITLE,
            scale=log,
            axis=alt.Axis(labelExpr=VOLUME_LABELS, values=planning.decades(volumes)),
        ),
        y=alt.Y(
            "value:Q",
            title=f"{title} [log scale]",
            scale=log,
            axis=alt.Axis(labelExpr=money, values=planning.decades(rows["value"])),
        ),
        color=alt.Color(
            "answer:N",
            title="Answer",
            scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("answer:N", title="Answer"),
            alt.Tooltip("terms:N", title="At"),
            alt.Tooltip("volume:N", title="Tokens a month"),
            alt.Tooltip("value:Q", title=title, format="$,.4~g"),
            alt.Tooltip("fleet:N", title="Fleet"),
            alt.Tooltip("cheapest:N", title="Cheapest here"),
        ],
    )
    lines = base.mark_line(point=True)
    rings = base.transform_filter("datum.cheapest").mark_point(size=200, strokeWidth=2)
    return alt.layer(lines, rings).properties(height=380, title=title)


comparison()
