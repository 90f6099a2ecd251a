"""Validation: every catalog measurement beside the model's prediction ("How far to trust").

A thin view of ``costmodel.validation.compare`` and ``summary`` (one cached call). The
efficiencies are the sidebar's "Efficiencies" box (Scenario fields, URL-bound on every
page); empty means the GPU family's default from assets/gpu_families.csv. Each
measurement brings its own setup, so the sidebar's other fields are not used here.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, widgets
from app_pages.ui.text import escape
from costmodel import presets, validation
from costmodel.fields import EFFICIENCY_FIELDS

CATALOG = cache.catalog()
DEFAULT = costmodel.Scenario()
EFFICIENCY = EFFICIENCY_FIELDS
FAMILY_COLUMNS = [
    *(f for f in EFFICIENCY if getattr(DEFAULT, f) is None),
    "efficiency_uncertainty",
    "calibrated_on",
    "date",
    "source",
    "note",
]
PRESETS = {p.name: p for p in (presets.FAMILY_DEFAULTS, presets.IDEAL_HARDWARE)}
METRICS = {
    "tokens_per_s_per_user": "Tokens/s per user [tokens/s]",
    "output_tokens_per_s_per_gpu": "Output tokens/s per GPU [tokens/s]",
    "decode_tokens_per_s_per_gpu": "Decode tokens/s per GPU [tokens/s]",
    "usd_per_million_output_tokens": "$ per million output tokens [$]",
    "tpot_ms": "Time per output token [ms]",
    "ttft_ms": "Time to first token [ms]",
}
TABLE_COLUMNS = [
    "id",
    "metric",
    "measured",
    "predicted",
    "error_pct",
    "setup",
    "predicted_at_batch_size",
    "predicted_at_n_gpus",
    "software",
    "date",
    "source",
    "note",
]


#: The columns of a measurement the scatter plot reads.
POINT_COLUMNS = ["id", "setup", "measured", "predicted", "error_pct", "software", "source"]
#: Names of the scatter plot's datasets: its frame (:func:`scatter_frame`) is built once
#: per metric, and each run hands it the points and the 1:1 line (:func:`scatter`).
POINTS, LINE = "validation_points", "identity_line"


@cache.shared(max_entries=64)
def compared_table(overrides: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    """``validation.compare(**overrides)`` with ``setup`` in words and ``value`` named
    ``measured``, cached; with overrides, also the error at the family defaults (the
    setups are the defaults' too: an efficiency changes no measurement's setup)."""
    table = validation.compare(**dict(overrides))
    if overrides:
        defaults = compared_table(())
        table = table.assign(setup=defaults["setup"].to_numpy())
    else:
        table = table.assign(setup=table.apply(validation.setup_text, axis=1))
    table = table.rename(columns={"value": "measured"})
    if overrides:
        table["error_pct_at_family_defaults"] = defaults["error_pct"].to_numpy()
    return table.reset_index(drop=True)


@charts.cached
def scatter_frame(metric: str, software: tuple[str, ...]) -> alt.LayerChart:
    """Predicted versus measured on log-log axes with the 1:1 line, reading the datasets
    ``POINTS`` (``POINT_COLUMNS``) and ``LINE`` (``x`` = ``y`` at both ends): the scales
    span the line, which spans the points with room either side."""
    title = METRICS[metric]
    unit = title.rsplit("[", 1)[1].rstrip("]")
    scale = alt.Scale(type="log", nice=False)
    line = (
        alt.Chart(alt.NamedData(LINE))
        .mark_line(color="gray", strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale))
    )
    points = (
        alt.Chart(alt.NamedData(POINTS))
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("measured:Q", title=f"Measured [{unit}]", scale=scale),
            y=alt.Y("predicted:Q", title=f"Predicted [{unit}]", scale=scale),
            color=charts.color_encoding(
                "software:N",
                software,
                "Software",
                legend=alt.Legend(orient="bottom", direction="horizontal", columns=3),
            ),
            tooltip=[
                alt.Tooltip("id:N", title="Id"),
                alt.Tooltip("setup:N", title="Setup"),
                alt.Tooltip("measured:Q", title=f"Measured {title}", format=",.4~g"),
                alt.Tooltip("predicted:Q", title=f"Predicted {title}", format=",.4~g"),
                alt.Tooltip("error_pct:Q", title="Error [%]", format="+.1f"),
                alt.Tooltip("software:N", title="Software"),
                alt.Tooltip("source:N", title="Source"),
            ],
        )
    )
    labels = points.mark_text(align="left", dx=7, fontSize=10).encode(
        text=alt.Text("id:N"), color=alt.ColorValue("#444")
    )
    return alt.layer(line, points, labels).properties(
        title=alt.Title(title.rsplit(" [", 1)[0], anchor="start"), height=440
    )


@cache.by_contents
def scatter(table: pd.DataFrame, metric: str) -> charts.Spec:
    """:func:`scatter_frame` of ``metric`` with the measurements of ``table`` and the 1:1
    line between ``charts.identity_ends`` of the values, measured or predicted, as Arrow
    tables (once per distinct table: a new efficiency builds no chart, and going back
    converts no data again)."""
    data = table[table["metric"] == metric]
    ends = list(charts.identity_ends(pd.concat([data["measured"], data["predicted"]])))
    datasets = {POINTS: data[POINT_COLUMNS], LINE: pd.DataFrame({"x": ends, "y": ends})}
    return {
        **scatter_frame(metric, tuple(data["software"].unique())),
        "datasets": {k: pa.Table.from_pandas(v, preserve_index=False) for k, v in datasets.items()},
    }


# --- Page ----------------------------------------------------------------------------

st.title("Validation: how far to trust the numbers")
st.markdown(
    "Every published measurement in the catalog beside what the model predicts for the "
    "same setup. The claims on the other pages (**C4-C14**) rest on the same step-time and "
    "memory model; where it misses these measurements, read their numbers with the same "
    "margin. Change the efficiencies in the sidebar (**Efficiencies**) and watch the "
    "errors move: the same values apply on every page."
)
with st.container(border=True):
    st.caption("Presets for the sidebar's efficiencies")
    widgets.preset_buttons(PRESETS, key="validation_preset", reset=list(EFFICIENCY))
    st.caption("Ideal hardware: peak bandwidth and FLOPS, no latency, no overhead.")

scenario = sidebar.scenario()
overrides = {f: getattr(scenario, f) for f in EFFICIENCY if getattr(scenario, f) is not None}
changed = {k: v for k, v in overrides.items() if v != getattr(DEFAULT, k)}
try:
    compared = compared_table(tuple(sorted(changed.items())))
except ValueError as err:
    st.error(
        f"These parameters give no valid prediction: {escape(str(err))} Showing the family "
        "defaults."
    )
    compared, changed = compared_table(()), {}
table = compared[
    TABLE_COLUMNS[:5] + (["error_pct_at_family_defaults"] if changed else []) + TABLE_COLUMNS[5:]
]

st.subheader("Summary: median error per metric")
summary = validation.summary(compared).round(1)
tables.show_table(
    summary,
    "validation_summary.csv",
    width="stretch",
    column_config={
        "metric": st.column_config.TextColumn("Metric"),
        "measurements": st.column_config.NumberColumn("Measurements"),
        "median_abs_error_pct": st.column_config.NumberColumn("Median |error| [%]", format="%.1f"),
        "median_error_pct": st.column_config.NumberColumn(
            "Median error [%]",
            help="Positive: the model predicts more than measured",
            format="%+.1f",
        ),
        "largest_error_id": st.column_config.TextColumn("Largest miss"),
    },
)
st.markdown(
    "- **TTFT** measurements include queueing, batching delay and the network; the "
    "model's `ttft_ms` is the prefill of one prompt plus one decode step, with no "
    "queueing, so it should come out below a served measurement.\n"
    "- **MLPerf Offline** rows (batch free) are predicted at the best fitting batch and "
    "tensor-parallel size: see the `predicted_at_batch_size` and `predicted_at_n_gpus` "
    "columns.\n"
    "- Error = 100 × (predicted − measured) / measured."
)
if changed:
    st.caption(
        "Overridden in the sidebar: "
        + ", ".join(f"`{k}={v:g}`" for k, v in changed.items())
        + ". The "
        "column *error at family defaults* shows where each error started."
    )

st.subheader("Predicted versus measured")
cols = st.columns(2)
for i, metric in enumerate(m for m in METRICS if m in set(table["metric"])):
    with cols[i % 2]:
        charts.show_chart(scatter(table, metric))
st.caption("Dashed line: prediction equals measurement. Log-log axes; hover for the source.")

st.subheader("Every measurement")
tables.show_table(
    table,
    "validation.csv",
    width="stretch",
    hide_index=True,
    column_config={
        "id": st.column_config.TextColumn("Id", pinned=True),
        "metric": st.column_config.TextColumn("Metric"),
        "measured": st.column_config.NumberColumn("Measured", format="%.4g"),
        "predicted": st.column_config.NumberColumn("Predicted", format="%.4g"),
        "error_pct": st.column_config.NumberColumn("Error [%]", format="%+.1f"),
        "error_pct_at_family_defaults": st.column_config.NumberColumn(
            "Error at family defaults [%]", format="%+.1f"
        ),
        "setup": st.column_config.TextColumn("Setup", width="large"),
        "predicted_at_batch_size": st.column_config.NumberColumn("Predicted at batch"),
        "predicted_at_n_gpus": st.column_config.NumberColumn("Predicted at GPUs"),
        "source": st.column_config.TextColumn("Source", width="medium"),
        "note": st.column_config.TextColumn("Note", width="medium"),
    },
)

st.subheader("GPU-family efficiency defaults")
families = CATALOG.gpu_families[[c for c in FAMILY_COLUMNS if c in CATALOG.gpu_families]]
tables.show_table(families, "gpu_families.csv", width="stretch")
st.caption(
    "`efficiency_uncertainty`: the relative spread to expect around the defaults; "
    "`calibrated_on`: the measurement ids the defaults were fitted to (a dash: an assumption)."
)

tables.formula_expander(
    "How each prediction is made",
    """
- Each measurement row becomes a `Scenario` (model, GPU, GPUs, formats, batch, prompt and
  output tokens) with the sidebar's efficiencies; `costmodel.sweep` gives the metric.
- Step time = max(bytes read / (GPUs × bandwidth × `bandwidth_efficiency`),
  FLOPs / (GPUs × peak × `compute_efficiency`)) + 2 all-reduces per layer, each
  `allreduce_latency_us` × log2(GPUs) + 2 (GPUs − 1) / GPUs × message / (link bandwidth ×
  `link_efficiency`), + layers × `layer_overhead_us`. Expert weights of a mixture of
  experts are read and multiplied at `moe_kernel_efficiency` on top.
- `tpot_ms` = (output tokens × decode step + the batch's prefill) / output tokens.
- `tokens_per_s_per_user` = 1000 / `tpot_ms`; `output_tokens_per_s_per_gpu` = batch ×
  1000 / `tpot_ms` / GPUs; `ttft_ms` = prefill of one prompt + one decode step.
- Rows with a free batch (MLPerf Offline): the best `output_tokens_per_s_per_gpu` over
  batches that fit and tensor-parallel sizes 1, 2, 4, ... up to the system's GPUs.
- Error = 100 × (predicted − measured) / measured; the summary takes medians per metric.
""",
)
