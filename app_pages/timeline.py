"""Price-war timeline: each provider's price over time against the model's cost floor.

A view of ``costmodel.analyses.timeline.run``: the sidebar's model and serving
assumptions, the page's target, interactivity, GPU price tier and weight formats (the
``Options`` field names are the URL keys; labels, ranges and choices come from their
specs). One cached library call; the chart (built once per result) draws
``timeline.price_steps`` / ``floor_bands``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel.analyses import timeline

#: The page's floor default: at batch 32 (the library's default target) the floor is the
#: cost of a small batch, dearer than what providers serving hundreds of users at once pay,
#: so about half of all prices sit "below the floor". The cheapest batch that still gives
#: every user 20 tokens/s is the fairer floor (see the caption on the page).
DEFAULT_TARGET = "interactivity"
PRICE = "usd_per_million_output"
FLOOR = "usd_per_million_output_tokens"
#: The page's own inputs (the model is the sidebar's, the GPU prices the sidebar's rule):
#: three columns, then the formats and the other models.
INPUTS = ("target", "min_tokens_per_s_per_user", "time_of_day", "weight_formats")
MORE = ("models", "active_params_min_b", "active_params_max_b", "include_announced")
WIDGET_ARGS = {"target": {"horizontal": True}, "min_tokens_per_s_per_user": {"format": "%.0f"}}
PARAMS = tuple(
    p
    for p in url.option_specs(timeline.Options, target={"default": DEFAULT_TARGET})
    if p.name != "model"
)


st.title("Price-war timeline")
st.markdown(
    "The December 2023 question (*could anyone make money at these prices?*) asked again at "
    "every date since: each provider's output price for the sidebar's model beside the "
    "**cost floor**, the cheapest cost per million output tokens over the GPUs launched by "
    "then at their rental price then (1, 2, 4 or 8 GPUs per replica, the weight formats "
    "below, the sidebar's request lengths and utilisation). A price under the floor is sold "
    "below the cost of the cheapest setup this model knows."
)

url.declare(*PARAMS)
catalog = cache.catalog()
priced = [m for m in catalog.models.index if m in set(catalog.provider_prices["model"])]
scen = sidebar.scenario()


@url.fragment
def timeline_view() -> None:
    """The page's own inputs and everything drawn from them (a change of them reruns only
    this: ``url.fragment``)."""
    with st.container(border=True):
        values = widgets.inputs(INPUTS, (*st.columns(3), st.container()), **WIDGET_ARGS)
        with st.expander("More models on the chart", icon=":material/stacked_line_chart:"):
            values |= widgets.inputs(MORE)
        rule = sidebar.price_rule()
        st.caption(f"GPU prices: {escape(rule.tier_text)} (the sidebar's price rule) at each date.")

    try:
        # No format picked: the library's default formats.
        values["weight_formats"] = values["weight_formats"] or timeline.Options().weight_formats
        options = timeline.Options(model=scen.model, price_rule=rule, **values)
        result = cache.analysis(timeline, scen, options)
    except ValueError as err:
        st.error(f"No timeline for these settings: {literal(str(err))}")
        url.stop_page()

    name = catalog.models.loc[scen.model, "name"]
    if result.notes:
        st.info(escape(result.notes))
    if scen.model not in priced:
        charts.show_chart(
            timeline_chart(
                result.prices,
                result.end,
                result.floor_by_gpu,
                result.floor,
                result.prices.iloc[:0],
                name,
            )
        )
        url.stop_page()
    trend = result.trend.set_index("model").loc[scen.model]
    below = result.prices[result.prices["below_floor"] & (result.prices[PRICE] > 0)]
    free = result.prices[result.prices[PRICE] <= 0]
    at = (
        "the cheapest batch giving each user at least "
        f"{options.min_tokens_per_s_per_user:g} tokens/s"
        if options.target == "interactivity"
        else f"the sidebar's batch of {scen.batch_size}"
    )
    st.markdown(f"**Trend.** {escape(trend['text'])}")
    if result.changes_text:
        st.markdown(f"**Price changes.** {escape(result.changes_text)}")
    paid = len(result.prices) - len(free)
    st.markdown(
        f"**Below the floor.** {len(below)} of {paid} paid prices of {escape(name)} are under "
        f"the floor at {escape(at)}"
        + (f": {escape(', '.join(dict.fromkeys(below['provider'])))}." if len(below) else ".")
        + (
            " Free tiers (\\$0, not counted): "
            f"{escape(', '.join(dict.fromkeys(free['provider'])))}."
            if len(free)
            else ""
        )
    )

    charts.show_chart(
        timeline_chart(result.prices, result.end, result.floor_by_gpu, result.floor, below, name)
    )
    st.caption(
        "Steps: each provider's output price, held until its next price (and to the last date). "
        "Shaded: the floor of each GPU generation (its cheapest to its dearest GPU); dashed: the "
        "floor, the cheapest of all. Red triangles: prices under the floor. Free tiers (\\$0) "
        "are in the table, not on the log axis. The sidebar's GPU, GPU count, formats and GPU "
        "price are not used: the floor searches them. Below the floor does not prove a loss: "
        "the floor stays within one 8-GPU node (tensor parallelism), while DeepSeek-V3/R1 and "
        "Kimi K2 are served with expert parallelism over many nodes at larger batches; at the "
        "sidebar's batch of 32 the floor is a small batch's cost, which most providers beat."
    )

    DATE = {"date": st.column_config.DateColumn("Date", format="YYYY-MM-DD")}
    tables.show_table(
        result.prices, f"timeline_{scen.model}.csv", hide_index=True, column_config=DATE
    )
    tables.show_table(
        result.floor,
        f"timeline_floor_{scen.model}.csv",
        hide_index=True,
        column_config={
            **DATE,
            "price_date": st.column_config.DateColumn("GPU price dated", format="YYYY-MM-DD"),
        },
    )
    tables.formula_expander(
        "How the floor is found",
        "At each date (the start, every provider price, GPU price and GPU launch): every GPU "
        "launched by then at its newest rental price of the tier, 1, 2, 4 or 8 GPUs, each "
        "weight format; the setups that fit; at the target's batch. Cost per million output "
        "tokens $= n \\cdot p / 3600 / u \\cdot t_\\text{step} / B \\cdot 10^6$ for $n$ GPUs at "
        "$p$ \\$/GPU-hour, utilisation $u$, decode step $t_\\text{step}$ [s] and batch $B$. "
        "The trend is the least-squares fit of $\\ln(\\text{cheapest price})$ on years.",
    )


@charts.cached
def timeline_chart(
    prices: pd.DataFrame,
    end: pd.Timestamp,
    floor_by_gpu: pd.DataFrame,
    floor: pd.DataFrame,
    below: pd.DataFrame,
    name: str,
) -> alt.LayerChart:
    """Providers' price steps (``timeline.price_steps``) over the floor of each GPU
    generation (shaded, ``timeline.floor_bands``) and the floor itself (dashed), with the
    prices under the floor (``below``) marked; log price axis."""
    steps, band = timeline.price_steps(prices, end), timeline.floor_bands(floor_by_gpu)
    families = list(dict.fromkeys(band["family"]))
    y_log = alt.Scale(type="log")
    bands = (
        alt.Chart(band)
        .mark_area(opacity=0.25, interpolate="step-after")
        .encode(
            x=alt.X("date:T", title="Date"),
            y=alt.Y("low:Q", title="$ per million output tokens (log)", scale=y_log),
            y2=alt.Y2("high:Q"),
            color=charts.color_encoding("family:N", families, "Floor by GPU generation"),
            tooltip=[
                alt.Tooltip("family:N", title="GPU generation"),
                alt.Tooltip("date:T", title="From"),
                alt.Tooltip("low:Q", title="Cheapest GPU [$/M output]", format=",.4~g"),
                alt.Tooltip("high:Q", title="Dearest GPU [$/M output]", format=",.4~g"),
            ],
        )
    )
    floor_line = (
        alt.Chart(floor)
        .mark_line(interpolate="step-after", color="black", strokeDash=[4, 3])
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{FLOOR}:Q", scale=y_log),
            tooltip=[
                alt.Tooltip("date:T", title="From"),
                alt.Tooltip(f"{FLOOR}:Q", title="Floor [$/M output]", format=",.4~g"),
                alt.Tooltip("gpu:N", title="GPU"),
                alt.Tooltip("n_gpus:Q", title="GPUs"),
                alt.Tooltip("weight_format:N", title="Weights"),
                alt.Tooltip("batch_size:Q", title="Batch"),
            ],
        )
    )
    providers = list(dict.fromkeys(steps["series"]))
    price_lines = (
        alt.Chart(steps)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{PRICE}:Q", scale=y_log),
            color=alt.Color("series:N", title="Provider", scale=alt.Scale(domain=providers)),
            tooltip=[
                alt.Tooltip("series:N", title="Provider"),
                alt.Tooltip("date:T", title="Date"),
                alt.Tooltip(f"{PRICE}:Q", title="Price [$/M output]", format=",.4~g"),
            ],
        )
    )
    markers = (
        alt.Chart(below)
        .mark_point(shape="triangle-down", size=140, filled=True, color="#d62728")
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{PRICE}:Q", scale=y_log),
            tooltip=[
                alt.Tooltip("provider:N", title="Below the floor"),
                alt.Tooltip("date:T", title="Date"),
                alt.Tooltip(f"{PRICE}:Q", title="Price [$/M output]", format=",.4~g"),
                alt.Tooltip("floor_usd_per_million_output_tokens:Q", title="Floor", format=",.4~g"),
            ],
        )
    )
    return (
        alt.layer(bands, floor_line, price_lines, markers)
        .resolve_scale(color="independent")
        .properties(height=460, title=f"{name}: provider prices and the cost floor")
    )


timeline_view()
