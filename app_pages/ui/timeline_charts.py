"""The price-war timeline's charts: one model's providers over its floor; several models.

Built once per result (``charts.cached``) from ``costmodel.analyses.timeline``'s tables
(``price_steps`` holds each price until the next; ``floor_bands`` shades each GPU
generation's floors); log price axis, dates as year-month.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from app_pages.ui import cache, charts
from costmodel.analyses import timeline

PRICE = "usd_per_million_output"
FLOOR = "usd_per_million_output_tokens"
#: Room left and right of the dates [px], so that prices of the first or last date show
#: as points clear of the plot's edge.
PAD_PX = 16
#: Most month ticks on the date axis (a tick every month over a year, every 3 over 3).
MOST_TICKS = 12
Y_TITLE = "$ per million output tokens (log)"
#: Price rises, in the app's "rise" orange; prices under the floor in red.
RISE_COLOUR, BELOW_COLOUR = "#f58518", "#d62728"


def date_axis(dates: pd.Series, end: pd.Timestamp) -> alt.Axis:
    """Year-month labels, one tick every so many whole months that at most ``MOST_TICKS``
    show (a tick per week would repeat each month's label)."""
    first = dates.min() if len(dates) else end
    months = (end.year - first.year) * 12 + end.month - first.month + 1
    step = max(1, -(-months // MOST_TICKS))
    return alt.Axis(format="%Y-%m", title="Date", tickCount={"interval": "month", "step": step})


def _trend_line(trend: pd.DataFrame) -> alt.Chart:
    """The fitted trend of a ``trend`` table's rows: a straight segment on the log axis
    from the fitted first price to the fitted last."""
    ends = pd.DataFrame(
        {
            "date": [*trend["first_date"], *trend["last_date"]],
            PRICE: [
                *trend["fit_first_usd_per_million_output"],
                *trend["fit_last_usd_per_million_output"],
            ],
            "trend": [*trend["text"]] * 2,
        }
    ).dropna()
    return (
        alt.Chart(ends)
        .mark_line(strokeDash=[2, 3], strokeWidth=2)
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{PRICE}:Q", scale=alt.Scale(type="log")),
            detail="trend:N",
            tooltip=[alt.Tooltip("trend:N", title="Trend")],
        )
    )


#: What a marker's tooltip adds to its name, date and price: a rise's step, the floor.
MARK_TIPS = {
    "Price rise": [
        alt.Tooltip("previous_usd_per_million_output:Q", title="From [$/M]", format=",.4~g"),
        alt.Tooltip("change_pct:Q", title="Change [%]", format="+,.0f"),
    ],
    "Below the floor": [
        alt.Tooltip("floor_usd_per_million_output_tokens:Q", title="Floor", format=",.4~g")
    ],
}


PROVIDER_TIP = alt.Tooltip("provider:N", title="Provider")


def _tips(who: str, whose: str, when: str, *more: alt.Tooltip) -> list:
    """A price's tooltip: column ``who`` titled ``whose``, the date titled ``when``, the
    price, then ``more``."""
    return [
        alt.Tooltip(f"{who}:N", title=whose),
        alt.Tooltip("date:T", title=when),
        alt.Tooltip(f"{PRICE}:Q", title="Price [$/M output]", format=",.4~g"),
        *more,
    ]


def _marks(data: pd.DataFrame, shape: str, colour: str, who: str, what: str) -> alt.Chart:
    """Filled ``shape`` points in ``colour`` on the prices of ``data`` (its rises, or the
    prices under the floor); the tooltip names column ``who`` under ``what``."""
    return (
        alt.Chart(data)
        .mark_point(shape=shape, size=160, filled=True, color=colour)
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{PRICE}:Q", scale=alt.Scale(type="log")),
            tooltip=_tips(who, what, "Date", *MARK_TIPS[what]),
        )
    )


@charts.cached
def timeline_chart(
    prices: pd.DataFrame,
    end: pd.Timestamp,
    floor_by_gpu: pd.DataFrame,
    floor: pd.DataFrame,
    below: pd.DataFrame,
    rises: pd.DataFrame,
    trend: pd.DataFrame,
    name: str,
) -> alt.LayerChart:
    """Providers' price steps (``timeline.price_steps``) over the floor of each GPU
    generation (shaded, ``timeline.floor_bands``) and the floor itself (dashed), with the
    prices under the floor (``below``), the rises and the trend marked; log price axis."""
    steps, band = timeline.price_steps(prices, end), timeline.floor_bands(floor_by_gpu)
    generations = cache.catalog().gpu_families["name"]  # the families in words
    band = band.assign(family=band["family"].map(lambda f: generations.get(f, f)))
    axis = date_axis(pd.concat([band["date"], floor["date"], steps["date"]]), end)
    padded = alt.Scale(padding=PAD_PX)  # the last date's prices clear of the plot's edge
    families = list(dict.fromkeys(band["family"]))
    y_log = alt.Scale(type="log")
    bands = (
        alt.Chart(band)
        .mark_area(opacity=0.25, interpolate="step-after")
        .encode(
            x=alt.X("date:T", axis=axis, scale=padded),
            y=alt.Y("low:Q", title=Y_TITLE, scale=y_log),
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
            x=alt.X("date:T", axis=axis),
            y=alt.Y(f"{FLOOR}:Q", title=Y_TITLE, scale=y_log),
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
            tooltip=_tips("series", "Provider", "Date"),
        )
    )
    markers = _marks(below, "triangle-down", BELOW_COLOUR, "provider", "Below the floor")
    rise_marks = _marks(rises, "triangle-up", RISE_COLOUR, "series", "Price rise")
    trend_line = _trend_line(trend).encode(color=alt.value("#7f7f7f"))
    return (
        alt.layer(
            bands,
            floor_line,
            *([price_lines] if len(steps) else []),
            trend_line,
            markers,
            rise_marks,
        )
        .resolve_scale(color="independent")
        .properties(height=460, title=f"{name}: provider prices and the cost floor")
    )


@charts.cached
def group_chart(
    cheapest: pd.DataFrame,
    floor: pd.DataFrame,
    group: pd.DataFrame,
    group_trend: pd.DataFrame,
    end: pd.Timestamp,
    names: dict,
) -> alt.LayerChart:
    """Each model's cheapest price (steps, one colour per model) and floor (dashed), the
    cheapest of all (thick black) and its trend (dotted); log price axis."""
    shown = list(names.values())
    colour = alt.Color(
        "name:N",
        title="Model",
        scale=alt.Scale(
            domain=shown, range=[charts.GPU_PALETTE[i % 20] for i in range(len(shown))]
        ),
    )
    y = alt.Y(f"{PRICE}:Q", title=Y_TITLE, scale=alt.Scale(type="log"))
    steps = timeline.price_steps(
        cheapest.assign(series=cheapest["model"].map(names), name=cheapest["model"].map(names)),
        end,
    )
    axis = date_axis(pd.concat([steps["date"], floor["date"]]), end)
    padded = alt.Scale(padding=PAD_PX)
    lines = (
        alt.Chart(steps)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("date:T", axis=axis, scale=padded),
            y=y,
            color=colour,
            tooltip=_tips("name", "Model", "From", PROVIDER_TIP),
        )
    )
    floors = (
        alt.Chart(floor.assign(name=floor["model"].map(names)))
        .mark_line(interpolate="step-after", strokeDash=[4, 3], opacity=0.7)
        .encode(
            x=alt.X("date:T"),
            y=alt.Y(f"{FLOOR}:Q", scale=alt.Scale(type="log")),
            color=colour,
            tooltip=[
                alt.Tooltip("name:N", title="Floor of"),
                alt.Tooltip("date:T", title="From"),
                alt.Tooltip(f"{FLOOR}:Q", title="Floor [$/M output]", format=",.4~g"),
                alt.Tooltip("gpu:N", title="GPU"),
            ],
        )
    )
    best = timeline.price_steps(group.assign(series="all", name=group["model"].map(names)), end)
    cheapest_of_all = (
        alt.Chart(best)
        .mark_line(interpolate="step-after", color="black", strokeWidth=3)
        .encode(
            x=alt.X("date:T"),
            y=y,
            tooltip=_tips("name", "Cheapest of all", "From", PROVIDER_TIP),
        )
    )
    trend_line = _trend_line(group_trend).encode(color=alt.value("black"))
    return alt.layer(floors, lines, cheapest_of_all, trend_line).properties(
        height=460, title="The cheapest price of each model, and of all of them"
    )
