"""Calibrate to your benchmark: upload a result file, see it fitted, apply the fit.

A thin view of ``costmodel.analyses.calibration.run`` (one cached call on the file's
bytes, the sidebar's scenario and the page's option). The file does not travel in the
URL; the fitted efficiencies do, once applied: they are the sidebar's "Efficiencies"
inputs, so the share link reproduces the calibrated scenario.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel.analyses import calibration as analysis
from costmodel.fields import EFFICIENCY_FIELDS

METRICS = analysis.METRIC_NAMES
UPLOAD_TYPES = ["json", "jsonl", "csv"]
LEGEND = alt.Legend(orient="bottom")
ROW_PX = 40  # height of a row of the ranges chart [px]
PER = {"tokens_per_s_per_user": "per user", "output_tokens_per_s_per_gpu": "per GPU"}
TABLE_CONFIG = {
    "run": st.column_config.NumberColumn("Run", pinned=True),
    "model": st.column_config.TextColumn("Model"),
    "gpu": st.column_config.TextColumn("GPU"),
    "serving_stack": st.column_config.TextColumn("Serving stack"),
    "parallelism": st.column_config.TextColumn("Parallelism"),
    "concurrency": st.column_config.NumberColumn("Concurrency [requests]", format="%.0f"),
    "batch_size": st.column_config.NumberColumn("Decode batch [sequences]"),
    "prompt_tokens": st.column_config.NumberColumn("Prompt [tokens]"),
    "output_tokens": st.column_config.NumberColumn("Output [tokens]"),
    **{
        f"{kind}{m}": st.column_config.NumberColumn(
            f"{title} {PER[m]} [{'%' if 'error' in kind else 'tokens/s'}]",
            format="%+.1f" if "error" in kind else "%.1f",
        )
        for m in METRICS
        for kind, title in (
            ("measured_", "Measured"),
            ("shipped_", "Modelled, as shipped,"),
            ("fitted_", "Modelled, fitted,"),
            ("shipped_error_", "Error as shipped"),
            ("fitted_error_", "Error fitted"),
        )
    },
    "fits": st.column_config.CheckboxColumn("Fits in memory"),
    "assumed": st.column_config.TextColumn("From the sidebar"),
    "date": st.column_config.TextColumn("Date"),
    "source": st.column_config.TextColumn("Source", width="medium"),
}
VALUE_CONFIG = {
    "label": st.column_config.TextColumn("Fitted value", pinned=True),
    "family": st.column_config.TextColumn("GPU family", help="any: every family"),
    "serving_stack": st.column_config.TextColumn("Serving stack", help="all: every stack"),
    "shipped": st.column_config.NumberColumn("As shipped", format="%.3g"),
    "value": st.column_config.NumberColumn("Fitted", format="%.3g"),
    "std_error": st.column_config.NumberColumn("± standard error", format="%.2g"),
    "low": st.column_config.NumberColumn("Physical range: low", format="%.3g"),
    "high": st.column_config.NumberColumn("high", format="%.3g"),
    "at_bound": st.column_config.CheckboxColumn("At the range's edge"),
    "rows": st.column_config.NumberColumn("Runs"),
}
VALUE_COLUMNS = list(VALUE_CONFIG)  # the fit's columns shown, in order
ERROR_CONFIG = {
    "rows": st.column_config.NumberColumn("Runs"),
    "within_25_pct": st.column_config.NumberColumn(
        "Within 25 % on both [% of runs]", format="%.0f"
    ),
    **{
        f"median_abs_error_{m}_pct": st.column_config.NumberColumn(
            f"Median |error| {PER[m]} [%]", format="%.1f"
        )
        for m in METRICS
    },
    **{
        f"median_error_{m}_pct": st.column_config.NumberColumn(
            f"Median error {PER[m]} [%]", format="%+.1f", help="Positive: the model is faster"
        )
        for m in METRICS
    },
}

url.declare(*url.option_specs(analysis.Options))


@cache.shared(max_entries=8)
def calibrated(
    data: bytes, scenario: costmodel.Scenario, options: analysis.Options, custom: str | None
) -> analysis.Result:
    """``analysis.run`` on the session's catalog, shared by the file's bytes, the sidebar's
    scenario, the options and the uploaded model (``custom``)."""
    return analysis.run(data, scenario, options, cache.catalog())


@cache.shared(max_entries=64)
def scenario_ranges(scenario: costmodel.Scenario, custom: str | None) -> pd.DataFrame:
    """``analysis.ranges`` of the sidebar's scenario on the session's catalog, shared."""
    return analysis.ranges(scenario, cache.catalog())


@charts.cached
def ranges_chart(ranges: pd.DataFrame) -> alt.LayerChart:
    """Each value a fit may move: its physical range (a bar from low to high), the value
    as shipped for the sidebar's GPU family and stack, and the sidebar's own."""
    marks = pd.concat(
        [
            ranges.assign(
                which="as shipped", position=ranges["shipped_position"], value=ranges["shipped"]
            ),
            ranges.assign(
                which="your scenario", position=ranges["current_position"], value=ranges["current"]
            ),
        ]
    )
    axis = alt.Axis(labelLimit=260, labelOverlap=False)
    y = alt.Y("label:N", title=None, sort=list(ranges["label"]), axis=axis)
    x_scale = alt.Scale(domain=[-0.1, 1.1], clamp=True)
    band = (
        alt.Chart(ranges.assign(start=0.0, end=1.0))
        .mark_bar(height=8, color="#e0e0e0")
        .encode(
            x=alt.X(
                "start:Q", scale=x_scale, title="Position in the physical range [low = 0, high = 1]"
            ),
            x2="end:Q",
            y=y,
            tooltip=[
                alt.Tooltip("label:N", title="Value"),
                alt.Tooltip("low:Q", title="Physical range: low", format=",.3~g"),
                alt.Tooltip("high:Q", title="high", format=",.3~g"),
            ],
        )
    )
    stages = ["as shipped", "your scenario"]
    points = (
        alt.Chart(marks)
        .mark_point(filled=True, size=110)
        .encode(
            x=alt.X("position:Q", scale=x_scale),
            y=y,
            color=charts.color_encoding("which:N", stages, None, legend=LEGEND),
            shape=alt.Shape("which:N", title=None, scale=alt.Scale(domain=stages)),
            tooltip=[
                alt.Tooltip("label:N", title="Value"),
                alt.Tooltip("which:N", title="Of"),
                alt.Tooltip("value:Q", title="Value", format=",.3~g"),
                alt.Tooltip("low:Q", title="Physical range: low", format=",.3~g"),
                alt.Tooltip("high:Q", title="high", format=",.3~g"),
            ],
        )
    )
    return alt.layer(band, points).properties(height=ROW_PX * len(ranges))


@charts.cached
def measured_chart(points: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Modelled against measured, log-log, as shipped and fitted, with the 1:1 line."""
    data = points[points["metric"] == metric]
    scale, line = charts.identity_line(pd.concat([data["measured"], data["modelled"]]))
    stages = list(analysis.STAGES)
    points_layer = (
        alt.Chart(data)
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("measured:Q", title=f"Measured {metric.lower()} [tokens/s]", scale=scale),
            y=alt.Y("modelled:Q", title=f"Modelled {metric.lower()} [tokens/s]", scale=scale),
            color=charts.color_encoding("stage:N", stages, "Model", legend=LEGEND),
            shape=alt.Shape("stage:N", title="Model", scale=alt.Scale(domain=stages)),
            tooltip=[
                alt.Tooltip("run:Q", title="Run"),
                alt.Tooltip("gpu:N", title="GPU"),
                alt.Tooltip("serving_stack:N", title="Serving stack"),
                alt.Tooltip("stage:N", title="Model"),
                alt.Tooltip("measured:Q", title="Measured [tokens/s]", format=",.4~g"),
                alt.Tooltip("modelled:Q", title="Modelled [tokens/s]", format=",.4~g"),
                alt.Tooltip("error_pct:Q", title="Error [%]", format="+.1f"),
            ],
        )
    )
    return alt.layer(line, points_layer).properties(
        title=alt.Title(metric, anchor="start"), height=360
    )


def draw_settings(result: analysis.Result) -> None:
    """Per GPU family and stack: the fitted values as the sidebar takes them, a button
    that sets them (the URL and the share link follow), and whether they are set."""
    st.subheader("Use the fit")
    st.markdown(
        "**Apply** sets the sidebar's efficiencies to the fitted values (rounded to the "
        "inputs' steps), and its GPU and serving stack to the ones fitted, on every page. "
        "They live in the URL, so the share link reproduces the calibrated scenario; the "
        "file itself does not travel in the link."
    )
    for i, setting in enumerate(result.settings):
        with st.container(border=True):
            shown = ", ".join(
                f"{costmodel.FIELDS[k].label} {v:g}"
                + (f" {costmodel.FIELDS[k].unit}" if costmodel.FIELDS[k].unit == "us" else "")
                for k, v in setting.fields.items()
                if k in EFFICIENCY_FIELDS
            )
            left, right = st.columns([4, 1])
            left.markdown(
                f"**{escape(setting.label)}** ({setting.rows} run"
                f"{'s' * (setting.rows != 1)}): {escape(shown) or 'no efficiency fitted'}."
            )
            right.button(
                "Apply",
                key=f"calibration_apply_{i}",
                icon=":material/tune:",
                on_click=widgets.set_values,
                args=(setting.fields,),
                disabled=setting.applied,
                help="Set these values in the sidebar (and so in the URL)",
            )
            if setting.applied:
                left.success(
                    "Applied: the sidebar holds these values; the share link carries them.",
                    icon=":material/check:",
                )
            if setting.workload:
                left.caption(
                    "Also fitted, not a sidebar input: "
                    + ", ".join(
                        f"{costmodel.FIELDS[k].label} {v:g}" for k, v in setting.workload.items()
                    )
                    + " (the Speculative decoding page takes the acceptance)."
                )


def draw(result: analysis.Result, name: str) -> None:
    """What the file holds, the fit and its verdict, and the buttons that apply it."""
    st.success(
        f"Read {literal(name)} as **{escape(result.format_name)}**: {len(result.table)} "
        f"run{'s' * (len(result.table) != 1)}.",
        icon=":material/check:",
    )
    if result.assumed:
        st.info(
            f"The file does not say {escape(result.assumed_text)}: taken from the sidebar. "
            "Set them there to your run's setup.",
            icon=":material/info:",
        )
    if not result.table["fits"].all():
        st.warning(
            "Some runs do not fit in the GPUs' memory as read (no prediction: a dash); "
            "check the sidebar's GPU count.",
            icon=":material/memory:",
        )
    st.markdown(f"**Verdict.** {escape(result.verdict)}")

    st.subheader("Runs read from the file")
    tables.show_table(
        result.table,
        "calibration_runs.csv",
        hide_index=True,
        width="stretch",
        column_config=TABLE_CONFIG,
    )
    st.caption(
        "Error = 100 × (modelled − measured) / measured. Decode batch: the requests in "
        "flight less those waiting for their first token (Little's law on the medians)."
    )

    st.subheader("The fit")
    tables.show_table(
        result.values[VALUE_COLUMNS],
        "calibration_fit.csv",
        hide_index=True,
        width="stretch",
        column_config=VALUE_CONFIG,
    )
    counts = result.parameter_counts
    st.caption(
        "Bounded robust least squares on log(modelled / measured) of both metrics; at most "
        "4 values per GPU family and stack (here: "
        + ", ".join(f"{f} on {s}: {n}" for (f, s), n in counts.items())
        + "), each within the physical range that assets/serving_stack_parameters.csv states."
    )
    tables.show_table(
        result.errors, "calibration_errors.csv", width="stretch", column_config=ERROR_CONFIG
    )
    charts.show_side_by_side(*(measured_chart(result.points, m) for m in METRICS.values()))
    st.caption("Dashed line: model equals measurement. Log-log axes; hover for the run.")
    draw_settings(result)


@url.fragment
def calibration() -> None:
    """The upload, the page's option and everything drawn from them."""
    uploaded = st.file_uploader(
        "Benchmark result file",
        type=UPLOAD_TYPES,
        key="benchmark_file",
        help="InferenceX CSV or JSON, vLLM or SGLang serving benchmark JSON, AIPerf or "
        f"GenAI-Perf profile export; at most {analysis.MAX_FILE_BYTES:,} bytes [file]",
    )
    widgets.widget("latest_only")
    if uploaded is None:
        st.info(
            "Upload a result file to see it read, compared and fitted.", icon=":material/upload:"
        )
        return
    options = analysis.Options(latest_only=url.value("latest_only"))
    try:
        with st.spinner("Reading and fitting the runs (a few seconds per hundred runs)..."):
            result = calibrated(
                uploaded.getvalue(), sidebar.scenario(), options, cache.custom_url()
            )
    except ValueError as err:
        st.error(f"Could not use {literal(uploaded.name)}: {escape(str(err))}")
        return
    draw(result, uploaded.name)


# --- Page ----------------------------------------------------------------------------

st.title("Calibrate to your benchmark")
st.markdown(
    "Upload the result file of a serving benchmark you ran: each run becomes a scenario, "
    "the model predicts it as shipped, and a few named efficiencies (the fixed time per "
    "kernel, the MoE kernels' streaming rate, the all-reduce latency, ...) are fitted to "
    "your runs, each within its physical range. Apply the fit and every page uses it."
)
with st.expander("Which files, and what they must say", icon=":material/description:"):
    st.markdown(
        "- **vLLM**: `vllm bench serve --save-result` (or `benchmark_serving.py "
        "--save-result`); add `--metadata gpu=h200-sxm n_gpus=8` to say the setup.\n"
        "- **SGLang**: `python -m sglang.bench_serving --output-file out.jsonl` (one line "
        "per run).\n"
        "- **NVIDIA AIPerf / GenAI-Perf**: `profile_export_aiperf.json` or "
        "`profile_export_genai_perf.json`.\n"
        "- **InferenceX**: the results CSV, or the API's JSON rows.\n\n"
        "What a file does not say (the GPU, how many, the serving stack, the model when "
        "the catalog does not know its name) comes from the sidebar, and the page says so. "
        "Weight and KV formats are the checkpoint's own unless a vLLM run states them "
        "(`--metadata weight_format=fp8`)."
    )
efficiencies = sidebar.scenario()
st.markdown(
    "Your scenario's efficiencies: "
    + escape(
        "; ".join(
            f"{costmodel.FIELDS[f].labelled} {sidebar.shown_value(f, getattr(efficiencies, f))}"
            for f in EFFICIENCY_FIELDS
            if getattr(efficiencies, f) != getattr(sidebar.DEFAULT, f)
        )
        or "the defaults (of the sidebar's GPU family under its serving stack)"
    )
    + "."
)
charts.show_chart(ranges_chart(scenario_ranges(efficiencies, cache.custom_url())))
st.caption(
    "What a fit may move, each within the physical range the catalog states "
    "(assets/serving_stack_parameters.csv): the value as shipped for the sidebar's GPU family "
    "on its serving stack, and the sidebar's own. A value left of the range is a term the "
    "shipped calibration leaves off (0). Hover for the numbers."
)
calibration()
