"""Price-war timeline: each provider's price over time against the model's cost floor.

A view of ``costmodel.analyses.timeline.run``: the sidebar's model and serving
assumptions, the page's target, interactivity, time of day and weight formats, and more
models on one chart (``models``, or a size band of active parameters); the GPU prices
are the sidebar's rule (the ``Options`` field names are the URL keys; labels, ranges and
choices come from their specs). One cached library call; the charts
(``ui.timeline_charts``, built once per result) draw ``timeline.price_steps`` /
``floor_bands``.
"""

from __future__ import annotations

import streamlit as st

from app_pages.ui import cache, charts, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from app_pages.ui.timeline_charts import group_chart, timeline_chart
from costmodel.analyses import timeline

#: The page's floor default: at batch 32 (the library's default target) the floor is the
#: cost of a small batch, dearer than what providers serving hundreds of users at once pay,
#: so about half of all prices sit "below the floor". The cheapest batch that still gives
#: every user 20 tokens/s is the fairer floor (see the caption on the page).
DEFAULT_TARGET = "interactivity"
PRICE = "usd_per_million_output"
#: The page's own inputs (the model is the sidebar's, the GPU prices the sidebar's rule):
#: three columns, then the formats and the other models.
INPUTS = ("target", "min_tokens_per_s_per_user", "time_of_day", "weight_formats")
MORE = ("models", "active_params_min_b", "active_params_max_b", "include_announced")
BAND = ("active_params_min_b", "active_params_max_b")
WIDGET_ARGS = {
    "min_tokens_per_s_per_user": {"format": "%.0f"},
    "target": {"style": "selectbox"},  # long names
}
#: One question the several-models chart answers: Mixtral 8x7B's size (12.9 B active).
SIZE_PRESETS = {
    "Models of 10 to 20 B active parameters": dict(zip(BAND, (10.0, 20.0), strict=True))
}
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
    "below the cost of the cheapest setup this model knows. Rises show as well as falls; "
    "put more models on one chart to see how far prices of models of a size have fallen."
)

url.declare(*PARAMS)
catalog = cache.catalog()
scen = sidebar.scenario()


@url.fragment
def timeline_view() -> None:
    """The page's own inputs and everything drawn from them (a change of them reruns only
    this: ``url.fragment``)."""
    with st.container(border=True):
        values = widgets.inputs(INPUTS, (*st.columns(3), st.container()), **WIDGET_ARGS)
        chosen = bool(url.value("models")) or any(url.value(k) is not None for k in BAND)
        with st.expander(
            "More models on the chart", icon=":material/stacked_line_chart:", expanded=chosen
        ):
            values |= widgets.inputs(MORE[:1]) | widgets.inputs(MORE[1:3], st.columns(2))
            values |= widgets.inputs(MORE[3:])
            with st.columns(3)[0]:
                widgets.preset_buttons(SIZE_PRESETS, key="size_band", reset=MORE)
        rule = sidebar.price_rule()
        st.caption(f"GPU prices: {escape(rule.tier_text)} (the sidebar's price rule) at each date.")
    if (values[BAND[0]] is None) != (values[BAND[1]] is None):
        st.info("Give both ends of the size band (from and to) to add the models of that size.")
        values |= dict.fromkeys(BAND)
    # No format picked: the library's default formats.
    values["weight_formats"] = values["weight_formats"] or timeline.Options().weight_formats
    try:
        options = timeline.Options(model=scen.model, price_rule=rule, **values)
    except ValueError as err:  # e.g. a link's size band from 975 B down to 0 B: named
        st.warning(f"{literal(str(err))}. Showing the page's defaults.", icon=":material/tune:")
        options = timeline.Options(model=scen.model, price_rule=rule)
    try:
        result = cache.analysis(timeline, scen, options)
    except ValueError as err:
        st.error(f"No timeline for these settings: {literal(str(err))}")
        url.stop_page()
    if result.notes:
        st.info(escape(result.notes))
    names = {m: catalog.models.loc[m, "name"] for m in result.models}
    if len(result.models) > 1:
        group_section(result, names)
    model_section(result, options, names[scen.model])
    tables_section(result)


def group_section(result: timeline.Result, names: dict) -> None:
    """Several models: each one's cheapest price and floor, the cheapest of all and its
    trend; how far it moved, in words."""
    st.subheader(f"{len(names)} models on one chart")
    st.markdown(f"**How far prices moved.** {escape(result.group_text)}")
    if len(result.group_trend):
        st.markdown(f"**Trend.** {escape(result.group_trend.iloc[0]['text'])}")
    if result.changes_text:
        st.markdown(f"**Price changes.** {escape(result.changes_text)}")
    with st.expander("Each model's trend"):
        st.markdown("\n".join(f"- {escape(text)}" for text in result.trend["text"]))
    charts.show_chart(
        group_chart(
            result.cheapest, result.floor, result.group, result.group_trend, result.end, names
        )
    )
    st.caption(
        "Solid steps: each model's cheapest paid output price on offer at the time of day "
        "(any provider's), held until it changes; dashed, in the model's colour: its cost "
        "floor. Thick black: the cheapest price of any of these models; dotted black: its "
        "log-linear trend. Hover a line for the provider and the numbers."
    )


def model_section(result: timeline.Result, options: timeline.Options, name: str) -> None:
    """The sidebar's model: every provider's steps over its floor, rises and the trend."""
    mine = result.prices[result.prices["model"] == scen.model]
    if len(result.models) > 1:
        st.subheader(f"{name}: every provider")
    trend = result.trend[result.trend["model"] == scen.model]
    below = mine[mine["below_floor"] & (mine[PRICE] > 0)]
    free = mine[mine[PRICE] <= 0]
    changes = result.changes[result.changes["model"] == scen.model]
    at = (
        "the cheapest batch giving each user at least "
        f"{options.min_tokens_per_s_per_user:g} tokens/s"
        if options.target == "interactivity"
        else f"the sidebar's batch of {scen.batch_size}"
    )
    if len(trend):
        st.markdown(f"**Trend.** {escape(trend.iloc[0]['text'])}")
    if result.changes_text and len(result.models) == 1:
        st.markdown(f"**Price changes.** {escape(result.changes_text)}")
    if len(mine):
        paid = len(mine) - len(free)
        st.markdown(
            f"**Below the floor.** {len(below)} of {paid} paid prices of {escape(name)} are "
            f"under the floor at {escape(at)}"
            + (f": {escape(', '.join(dict.fromkeys(below['provider'])))}." if len(below) else ".")
            + (
                " Free tiers (\\$0, not counted): "
                f"{escape(', '.join(dict.fromkeys(free['provider'])))}."
                if len(free)
                else ""
            )
        )
    charts.show_chart(
        timeline_chart(
            mine,
            result.end,
            result.floor_by_gpu[result.floor_by_gpu["model"] == scen.model],
            result.floor[result.floor["model"] == scen.model],
            below,
            changes[changes["direction"] == "rise"],
            trend,
            name,
        )
    )
    st.caption(
        "Steps: each provider's output price, held until its next price (and to the last date); "
        "a provider that bills by time of day has a peak and an off-peak line. Orange triangles: "
        "a price rise; red triangles: prices under the floor; dotted grey: the cheapest "
        "price's log-linear trend. Shaded: the floor of each GPU generation (its cheapest to its "
        "dearest GPU); dashed: the floor, the cheapest of all. Free tiers (\\$0) are in the "
        "table, not on the log axis. The sidebar's GPU, GPU count, formats and GPU price are "
        "not used: the floor searches them. Below the floor does not prove a loss: the floor "
        f"stays within one 8-GPU node ({_parallelism(scen)}), while DeepSeek-V3/R1 and Kimi "
        "K2 are served with expert parallelism over many nodes at larger batches, and the "
        f"floor is the cost at {escape(at)}: a provider batching more users, each slower, "
        "pays less per token."
    )


def _parallelism(scenario) -> str:
    """How the floor's replicas split a model, in words (the sidebar's expert parallelism)."""
    if scenario.expert_parallel:
        return "expert parallelism for a mixture of experts, as the sidebar sets it"
    return "tensor parallelism; the sidebar's expert parallelism is off"


def tables_section(result: timeline.Result) -> None:
    """The prices with their floor, every price step, the floor; full precision in CSV."""
    date = {"date": st.column_config.DateColumn("Date", format="YYYY-MM-DD")}
    if len(result.prices):
        tables.show_table(
            result.prices, f"timeline_{scen.model}.csv", hide_index=True, column_config=date
        )
    if len(result.changes):
        st.caption("Every price step (rises and falls) of every provider:")
        tables.show_table(
            result.changes,
            f"timeline_changes_{scen.model}.csv",
            hide_index=True,
            column_config=date,
        )
    tables.show_table(
        result.floor,
        f"timeline_floor_{scen.model}.csv",
        hide_index=True,
        column_config={
            **date,
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
        "The trend is the least-squares fit of $\\ln(\\text{cheapest price})$ on years; a rate "
        "per year is given for a year of prices or more.",
    )


timeline_view()
