"""Altair helpers: line charts, one colour per series across the app, the tornado section.

Pages build each chart in a function decorated with :func:`cached` and draw what it
returns (a Vega-Lite spec) with :func:`show_chart`: the chart is built and its data turned
into Arrow once per distinct data, not on every rerun; the tests validate every spec
against Vega-Lite's schema (:data:`VALIDATE`), the app does not.

Colours: :func:`colour` maps a series name to one colour wherever it is drawn
("dense, same active params" is the same in every chart). A name not in
:data:`SERIES_COLOURS` takes, in this order: a :data:`PREFIX_COLOURS` colour; the colour
of a known name it starts with before a comma ("dense, same active params, speculative";
a dash or shape tells those apart); its catalog GPU's colour; else a palette colour
picked by a hash of the name, so it is stable too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

import costmodel
from app_pages.ui import cache, tables, url, widgets
from app_pages.ui.text import literal

# Tableau 10, the palette Vega-Lite uses by default.
PALETTE = (
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
)  # fmt: skip
#: Tableau 20 (Vega's category20), for GPUs by catalog order: today's catalog has 16, so
#: no two share a colour.
GPU_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
SERIES_COLOURS = {
    "MoE": "#4c78a8",
    "dense, same active params": "#f58518",
    "dense, same total params": "#54a24b",
    "profit": "#54a24b",
    "loss": "#e45756",
    "Weights": "#4c78a8",
    "KV cache": "#f58518",
    "Overhead": "#bab0ac",
    "MoE as built": "#4c78a8",
    # The model before and after a calibration (and the sidebar's values it sets).
    "as shipped": "#bab0ac",
    "fitted": "#4c78a8",
    "your scenario": "#4c78a8",
}
#: Series named by a prefix: every MoE routing skew above 0 is one "skewed" colour.
PREFIX_COLOURS = {"MoE, skew": "#b279a2"}


def colour(name: str) -> str:
    """The one colour of series ``name`` across the app."""
    name = str(name)
    if name in SERIES_COLOURS:
        return SERIES_COLOURS[name]
    for prefix, value in PREFIX_COLOURS.items():
        if name.startswith(prefix):
            return value
    known = [k for k in SERIES_COLOURS if name.startswith(f"{k},")]
    if known:
        return SERIES_COLOURS[max(known, key=len)]
    gpus = list(cache.catalog().gpus["name"])
    for i, gpu in enumerate(gpus):  # a GPU (or a setup named after one) by catalog order
        if gpu in name:
            return GPU_PALETTE[i % len(GPU_PALETTE)]
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def color_encoding(shorthand: str, values: Iterable[Any], title: str, **kwargs: Any) -> alt.Color:
    """An ``alt.Color`` whose series ``values`` take their app-wide colours."""
    domain = list(dict.fromkeys(str(v) for v in values))
    scale = alt.Scale(domain=domain, range=[colour(v) for v in domain])
    return alt.Color(shorthand, title=title, scale=scale, **kwargs)


def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    tooltip: list[Any] | None = None,
    log_x: bool = False,
    log_y: bool = False,
) -> alt.Chart:
    """A line chart with points, titled axes (put the unit in the title) and tooltips.

    ``x``, ``y`` and ``color`` are Altair shorthands (``"batch_size:Q"``); series take
    their app-wide colours. The default tooltip shows x, y and color under their titles.
    ``log_x``, ``log_y``: a log scale on that axis.
    """
    log = alt.Scale(type="log")
    enc = {
        "x": alt.X(x, title=x_title, scale=log if log_x else alt.Undefined),
        "y": alt.Y(y, title=y_title, scale=log if log_y else alt.Undefined),
    }
    default_tip = [alt.Tooltip(x, title=x_title), alt.Tooltip(y, title=y_title, format=",.4~g")]
    if color:
        column, title = color.split(":")[0], color_title or color.split(":")[0]
        enc["color"] = color_encoding(color, df[column].unique(), title)
        default_tip.append(alt.Tooltip(color, title=title))
    enc["tooltip"] = tooltip or default_tip
    return alt.Chart(df).mark_line(point=True).encode(**enc)


#: Room left either side of the points on a measured-against-modelled chart [x].
IDENTITY_MARGIN = 1.3


def identity_ends(values: pd.Series) -> tuple[float, float]:
    """The ends of a measured-against-modelled chart's axes: ``IDENTITY_MARGIN`` below
    the least of ``values`` and as far above the largest (missing values left out)."""
    values = values.dropna()
    return values.min() / IDENTITY_MARGIN, values.max() * IDENTITY_MARGIN


def identity_line(values: pd.Series) -> tuple[alt.Scale, alt.Chart]:
    """A log scale over ``values`` (:func:`identity_ends`) and the dashed line where both
    axes are equal: the frame of a measured-against-modelled chart."""
    low, high = identity_ends(values)
    scale = alt.Scale(type="log", domain=[low, high])
    line = (
        alt.Chart(pd.DataFrame({"x": [low, high], "y": [low, high]}))
        .mark_line(color="gray", strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale))
    )
    return scale, line


# --- Vega-Lite specs, built once per distinct data ------------------------------------------

#: A Vega-Lite spec (a dict) whose ``datasets`` are Arrow tables, as :func:`vega_lite` makes it.
Spec = dict[str, Any]
#: Altair's data transformer and theme are process-wide: one conversion at a time.
_ALTAIR_GLOBALS = threading.Lock()


def _held(data: pd.DataFrame, frames: list[pd.DataFrame]) -> dict[str, str]:
    """Altair data transformer: hold ``data`` in ``frames`` and refer to it by a
    placeholder name (:func:`vega_lite` turns it into an Arrow table once the spec says
    which of its columns the chart uses)."""
    frames.append(data)
    return {"name": _placeholder(len(frames) - 1)}


def _placeholder(i: int) -> str:
    return f"held-frame-{i}"


def _arrow_named(data: pd.DataFrame, columns: list[str]) -> tuple[str, pa.Table]:
    """``data``'s ``columns`` as an Arrow table, named by a hash of its contents."""
    table = pa.Table.from_pandas(data, columns=columns, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return f"data-{hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:20]}", table


@functools.lru_cache(maxsize=4096)
def _in_json(name: str) -> str:
    """``name`` as it appears inside a JSON string (quotes and backslashes escaped)."""
    return json.dumps(name)[1:-1]


def _used(data: pd.DataFrame, spec_text: str) -> list[str]:
    """The columns of ``data`` whose names the spec's text holds (as a field, a tooltip,
    a sort or an expression): a chart is handed an analysis's whole frame (80 columns)
    and draws a few, and turning every column into Arrow took four fifths of a chart's
    build. A name found by chance inside another only keeps a column more."""
    return [c for c in data.columns if _in_json(str(c)) in spec_text]


alt.data_transformers.register("held_frames", _held)


#: Validate each spec against Vega-Lite's JSON schema as it is built. The spec is the same
#: either way (validation only raises); it takes about half of a chart's build (4 of 8.5
#: ms for a three-layer line chart on this project's 2-core machine), paid on every new
#: value, so the app leaves it to the tests (tests/conftest.py sets it True: every chart
#: of every page test is validated).
VALIDATE = False


def vega_lite(chart: alt.TopLevelMixin) -> Spec:
    """The Vega-Lite spec of ``chart``, with no theme (Altair's default one sizes the view
    at 300 px), each dataset an Arrow table; validated against the schema where
    :data:`VALIDATE`.

    What ``st.altair_chart`` does on every run; :func:`cached` does it once per data.
    """
    frames: list[pd.DataFrame] = []
    with (
        _ALTAIR_GLOBALS,
        alt.theme.enable("none"),
        alt.data_transformers.enable("held_frames", frames=frames),
    ):
        spec = chart.to_dict(validate=VALIDATE)
    text = json.dumps(spec)
    datasets: dict[str, pa.Table] = {}
    for i, data in enumerate(frames):
        name, datasets[name] = _arrow_named(data, _used(data, text))
        text = text.replace(f'"{_placeholder(i)}"', f'"{name}"')
    return {**json.loads(text), "datasets": datasets}


P = ParamSpec("P")


def cached(build: Callable[P, alt.TopLevelMixin]) -> Callable[P, Spec]:
    """``build`` (arguments -> Altair chart) as a function giving the chart's
    :func:`vega_lite` spec, built once per distinct arguments (:func:`cache.by_contents`).

    Building a chart, validating it and converting its data took most of a page's
    rerun (about 90 % of the MoE page's, which draws 7 charts). ``build`` must be pure:
    its arguments (data frames, strings, numbers) are the cache key. The spec is shared:
    change a copy (:func:`with_legend`).
    """

    @functools.wraps(build)
    def spec(*args: P.args, **kwargs: P.kwargs) -> Spec:
        return vega_lite(build(*args, **kwargs))

    return cache.by_contents(spec)


#: :func:`line_chart` as a cached spec, for a page that shows it as it is.
line_spec = cached(line_chart)


def show_chart(spec: Spec) -> None:
    """Draw a chart's spec (:func:`cached`) at full width."""
    st.vega_lite_chart(spec, width="stretch")


#: Height of a plot without its legend [px], and what each legend line adds [px].
PLOT_HEIGHT_PX, LEGEND_LINE_PX = 320, 30


def with_legend(spec: Spec, legend_rows: int = 0) -> Spec:
    """``spec`` with its legend (``legend_rows`` entries) below the plot.

    Narrow columns and phones keep the plot's width. The height given to Vega-Lite holds
    the axes and the legend too: :data:`PLOT_HEIGHT_PX` plus one :data:`LEGEND_LINE_PX`
    per legend entry and one for its title.
    """
    legend = {"orient": "bottom", "direction": "vertical", "labelLimit": 0}
    return {
        **spec,
        "height": PLOT_HEIGHT_PX + LEGEND_LINE_PX * (legend_rows + 1),
        "config": {**spec.get("config", {}), "legend": legend},
    }


def show_with_legend(spec: Spec, legend_rows: int = 0) -> None:
    """Draw ``spec`` :func:`with_legend` below it, at full width."""
    show_chart(with_legend(spec, legend_rows))


def show_side_by_side(*shown: Spec, legend_rows: int = 0) -> None:
    """Charts ``shown`` in as many columns, each with its legend below it
    (:func:`show_with_legend`, ``legend_rows`` entries each)."""
    for column, spec in zip(st.columns(len(shown)), shown, strict=True):
        with column:
            show_with_legend(spec, legend_rows)


#: Waterfall bar colours: the two scenarios' totals from zero, each step by its sign.
STEP_KINDS = {"scenario": "#4c78a8", "increase": "#e45756", "decrease": "#54a24b"}


#: Height of the waterfall's plot [px].
WATERFALL_HEIGHT_PX = 380


@cached
def waterfall(
    steps: pd.Series, start: tuple[str, float], end: tuple[str, float], y_title: str, title: str
) -> alt.Chart:
    """Floating bars from ``start`` (name, value) through each of ``steps`` (name ->
    change, in order) to ``end``; the totals stand on zero. The running total before
    step i is start + the changes before it, so a bar spans [total before, total after].
    """
    totals = start[1] + steps.cumsum()
    data = pd.DataFrame(
        {
            "step": [start[0], *steps.index, end[0]],
            "start": [0.0, *(totals - steps), 0.0],
            "end": [start[1], *totals, end[1]],
            "delta": [start[1], *steps, end[1]],
            "kind": [
                "scenario",
                *steps.gt(0).map({True: "increase", False: "decrease"}),
                "scenario",
            ],
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "step:N",
                title="Scenario or field changed",
                sort=list(data["step"]),
                axis=alt.Axis(labelAngle=-30, labelLimit=240),
            ),
            y=alt.Y("start:Q", title=y_title),
            y2=alt.Y2("end:Q"),
            color=alt.Color(
                "kind:N",
                title="Bar",
                scale=alt.Scale(domain=list(STEP_KINDS), range=list(STEP_KINDS.values())),
            ),
            tooltip=[
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("delta:Q", title="Value or share", format="+,.4~g"),
                alt.Tooltip("end:Q", title="Running total", format=",.4~g"),
            ],
        )
        .properties(height=WATERFALL_HEIGHT_PX, title=title)
    )


# --- Sensitivity: tornado and headline range (GPU comparison and price-war pages) ---------


def headline_range_text(scenario: costmodel.Scenario, output: str, unit: str) -> str:
    """One sentence: low / central / high of ``output`` and what the central value rests on."""
    r = cache.headline_range(scenario, output)
    family = cache.catalog().gpus.loc[scenario.gpu, "family"]
    rests = (
        f"calibrated on measurements {r['calibrated_on']} (see the Validation page)"
        if r["calibrated_on"]
        else "not calibrated on any measurement: the family's efficiencies are assumptions"
    )
    return (
        f"**\\${r['low']:,.3f} / \\${r['central']:,.3f} / \\${r['high']:,.3f}** {unit} "
        f"(low / central / high, bandwidth and compute efficiency moved by "
        f"±{r['uncertainty']:.0%}, the uncertainty of the {family} family). "
        f"The central value is {rests}."
    )


@url.fragment
def tornado_section(
    scenario: costmodel.Scenario,
    output: str = "usd_per_million_output_tokens",
    output_title: str = "$ per million output tokens",
) -> None:
    """A bound ``change_pct`` input, the tornado chart and its table (with CSV) for ``scenario``.

    The page must declare ``change_pct`` (its analysis's ``Options.change_pct``). A
    fragment: changing ``change_pct`` reruns only this section.
    """
    pct = widgets.widget("change_pct", format="%.0f")
    try:
        table = cache.tornado(scenario, float(pct), output)
    except ValueError as err:
        st.error(f"Sensitivity not available: {literal(str(err))}")
        return
    show_chart(tornado_chart(table, float(pct), output_title))
    st.caption(
        "Sorted by impact (largest swing first). Values are clipped to each field's range, "
        "so a move can be smaller than asked (utilization 1.0 cannot go up)."
    )
    tables.show_table(table, f"tornado_{output}.csv", hide_index=True)


@cached
def tornado_chart(table: pd.DataFrame, pct: float, output_title: str) -> alt.Chart:
    """Bars of each assumption's change of the output, moved down and up by ``pct`` %
    (``table``: :func:`costmodel.sensitivity.tornado`'s rows, largest swing first)."""
    moves = [f"−{pct:g}%", f"+{pct:g}%"]
    bars = pd.concat(
        [
            table.assign(
                move=move,
                value=table[f"value_{side}"],
                result=table[f"output_{side}"],
                change_pct=table[f"change_{side}_pct"],
            )
            for move, side in zip(moves, ("low", "high"), strict=True)
        ]
    )[["field", "move", "value", "result", "change_pct"]]
    return (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("change_pct:Q", title=f"Change of {output_title} [%]"),
            y=alt.Y(
                "field:N",
                title="Assumption (library field)",
                sort=list(table["field"]),
                axis=alt.Axis(labelLimit=220),
            ),
            color=alt.Color(
                "move:N",
                title="Assumption moved",
                scale=alt.Scale(domain=moves, range=["#4c78a8", "#f58518"]),
                sort=moves,
                legend=alt.Legend(orient="bottom"),
            ),
            yOffset=alt.YOffset("move:N", sort=moves),
            tooltip=[
                alt.Tooltip("field:N", title="Assumption"),
                alt.Tooltip("move:N", title="Moved by"),
                alt.Tooltip("value:Q", title="Assumption value", format=",.4~g"),
                alt.Tooltip("result:Q", title=output_title, format=",.4~g"),
                alt.Tooltip("change_pct:Q", title="Change [%]", format="+.1f"),
            ],
        )
    )
