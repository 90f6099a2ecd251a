"""Quantization & memory fit: weights, KV cache and overhead against GPU memory (C12-C14).

A thin view of ``costmodel.analyses.memory_fit.run`` (one cached call on the session's
catalog, which holds an uploaded model: see the sidebar's "Your own model"): it draws the
Result and shows claims C12-C14's verdicts from ``costmodel.claims`` next to their charts.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, url, verdicts, widgets
from app_pages.ui.text import escape, literal
from costmodel.analyses import memory_fit

CATALOG = cache.catalog()
PARAMS = url.option_specs(memory_fit.Options)
#: Inputs under the GPU list, in three columns.
ROW_INPUTS = ("users", "context_tokens", "heatmap_rows")
WIDGET_ARGS = {"heatmap_rows": {"horizontal": True}}
PRESETS = {
    **sidebar.PRESETS,
    "FP8 on one H100": {
        **memory_fit.C13_SETUP,
        "prompt_tokens": 4096,
        "output_tokens": 1024,
        "users": memory_fit.CHAT_USERS[0],
        "heatmap_rows": "format",
    },
    "One H200 or MI300X": {
        "n_gpus": 1,
        "weight_format": "bf16",
        "gpus": ["h100-sxm", "h200-sxm", "mi300x"],
        "heatmap_rows": "GPU",
    },
}


@charts.cached
def memory_chart(long: pd.DataFrame, order: list[str], n_gpus: int) -> alt.LayerChart:
    """Horizontal stacked bars of memory per GPU and format, a tick at usable memory."""
    y = alt.Y(
        "replica:N",
        sort=order,
        title=f"{n_gpus}× GPU · weight format",
        axis=alt.Axis(labelLimit=180),
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("sum(gb):Q", title="Memory per replica [GB]"),
            color=charts.color_encoding(
                "component:N",
                memory_fit.COMPONENTS.values(),
                "Memory use",
                sort=list(memory_fit.COMPONENTS.values()),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("replica:N", title="GPU · format"),
                alt.Tooltip("component:N", title="Part"),
                alt.Tooltip("gb:Q", title="Memory [GB]", format=",.1f"),
                alt.Tooltip("memory_available_gb:Q", title="Usable memory [GB]", format=",.1f"),
                alt.Tooltip("fits:N", title="Fits"),
            ],
        )
    )
    usable = long.drop_duplicates("replica")
    ticks = (
        alt.Chart(usable)
        .mark_tick(color="black", thickness=3, size=22)
        .encode(
            y=y,
            x=alt.X("memory_available_gb:Q"),
            tooltip=[
                alt.Tooltip("replica:N", title="GPU · format"),
                alt.Tooltip("memory_available_gb:Q", title="Usable memory [GB]", format=",.1f"),
            ],
        )
    )
    return alt.layer(bars, ticks).properties(height=alt.Step(26))


@charts.cached
def heatmap_chart(cells: pd.DataFrame, rows_title: str, users: int, title: str) -> alt.LayerChart:
    verdicts = memory_fit.verdict_labels(users)
    x = alt.X(
        "context_tokens:O",
        title="Context per user: prompt + output [tokens; k = 1,024]",
        axis=alt.Axis(
            labelAngle=0,
            labelExpr="datum.value >= 1024 ? datum.value / 1024 + 'k' : datum.value",
        ),
    )
    y = alt.Y("row:N", title=rows_title, sort=list(dict.fromkeys(cells["row"])))
    tooltip = [
        alt.Tooltip("row:N", title=rows_title),
        alt.Tooltip("context_tokens:Q", title="Context per user [tokens]", format=","),
        alt.Tooltip("max_users:Q", title="Most concurrent users", format=","),
        alt.Tooltip("kv_gb_per_user:Q", title="KV cache per user [GB]", format=",.2f"),
        alt.Tooltip("weights_gb:Q", title="Weights [GB]", format=",.1f"),
        alt.Tooltip("memory_available_gb:Q", title="Usable memory [GB]", format=",.1f"),
    ]
    base = alt.Chart(cells).encode(x=x, y=y, tooltip=tooltip)
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "verdict:N",
            title=f"Holds {users} users?",
            scale=alt.Scale(domain=verdicts, range=["#c9c9c9", "#f4a261", "#2a9d8f"]),
            legend=alt.Legend(orient="bottom"),
        )
    )
    text = base.mark_text(fontSize=10).encode(text=alt.Text("max_users:Q", format="d"))
    return alt.layer(rect, text).properties(height=alt.Step(30), title=title)


def option_inputs() -> memory_fit.Options:
    """The page's own inputs (labels and help from ``memory_fit.Options``)."""
    values = widgets.inputs(["gpus"])
    values |= widgets.inputs(ROW_INPUTS, st.columns(3), **WIDGET_ARGS)
    return memory_fit.Options(**values)


@url.fragment
def results(scenario: costmodel.Scenario) -> None:
    """The page's controls and everything drawn from their Result (a change of them
    reruns only this: ``url.fragment``)."""
    with st.container(border=True):
        options = option_inputs()
    fallback = scenario, memory_fit.Options()
    result, options = cache.analysis_or_defaults(
        memory_fit, scenario, options, "Cannot size this setup", fallback
    )
    if not options.gpus:
        st.info(f"No GPU picked above: showing the sidebar's GPU, {literal(scenario.gpu)}.")
    users, context = options.users, scenario.prompt_tokens + scenario.output_tokens
    model_name = CATALOG.models.loc[scenario.model, "name"]
    st.caption(
        f"Model **{escape(str(model_name))}**, KV cache in **{scenario.kv_format}**, "
        f"**{scenario.n_gpus}** GPU(s) per replica, {users} users of "
        f"{scenario.prompt_tokens:,} prompt + {scenario.output_tokens:,} output = "
        f"{context:,} tokens each (from the sidebar and the controls above)."
    )

    # 1. What takes the memory.
    st.subheader(f"Memory of {users} users at {context:,} tokens each")
    parts = result.memory_parts
    order = list(dict.fromkeys(parts.sort_values(["gpu", "weight_format"])["replica"]))
    charts.show_chart(memory_chart(parts, order, scenario.n_gpus))
    st.caption(
        "Black tick: usable memory of the replica (GPUs × memory × usable fraction "
        f"{scenario.usable_memory_fraction:.0%}). A bar past the tick does not fit."
    )

    # 2. Fewest GPUs.
    st.subheader("Fewest GPUs that hold it")
    tables.show_table(result.min_gpus, "min_gpus.csv", width="stretch")
    st.caption(
        f"Fewest GPUs (a power of two, as tensor parallelism needs) whose memory holds the "
        f"weights, {users} users' KV cache at {context:,} tokens and the overhead. A dash: "
        "even 64 GPUs do not."
    )
    verdicts.show("C14", scenario)

    # 3. Users versus context.
    st.subheader("Most concurrent users versus context length")
    verdicts.show_result("C13", result)
    if options.heatmap_rows == "format":
        rows_title, setup = "Weight format", f"{scenario.n_gpus}× {scenario.gpu}"
    else:
        rows_title, setup = "GPU", f"{scenario.n_gpus} GPU(s), {scenario.weight_format} weights"
    setup += f", {scenario.kv_format} KV cache, {model_name}"
    charts.show_chart(heatmap_chart(result.heatmap, rows_title, users, setup))
    with st.expander("Table: most concurrent users per context length"):
        tables.show_table(result.heatmap_table, "max_users_by_context.csv", width="stretch")

    # 4. Quality.
    st.subheader("What each format costs in quality (C12)")
    verdicts.show("C12", scenario)
    st.table(result.quality)
    tables.download_csv(result.quality, "format_quality.csv")
    formulas(scenario, result)


def formulas(scenario: costmodel.Scenario, result: memory_fit.Result) -> None:
    """How the memory is computed, with the scenario's model's numbers."""
    m = CATALOG.models.loc[scenario.model]
    tables.formula_expander(
        "How the memory is computed",
        f"""
- **Weights** = quantizable parameters × bytes per weight + 16-bit parameters × 2 bytes.
  This model: {m["quantizable_params"] / 1e9:,.2f} B quantizable (attention and experts),
  {m["sixteen_bit_params"] / 1e9:,.2f} B kept in 16 bits (embeddings, router, norms).
- **Bytes per weight** = bits / 8 + (scale bits + zero bits) / 8 / group size
  (INT4 group 128: 0.5 + 20 / 8 / 128 = 0.5195).
- **KV cache per token** = 2 (K and V) × layers × KV heads × head dim × bytes for
  full-attention layers (MLA layers: latent + RoPE key; sliding-window layers capped at
  the window) = **{result.kv_bytes_per_token:,.0f} bytes** here ({scenario.kv_format}).
- **KV cache** = users × (prompt + output tokens) × KV per token.
- **Usable memory** = GPUs × memory per GPU × usable fraction
  ({scenario.usable_memory_fraction:.2f}); **overhead** = GPUs ×
  {scenario.memory_overhead_gb_per_gpu:.1f} GB (activations, CUDA context).
- **Most concurrent users** = floor((usable − weights − overhead) / KV per user).
- **Fewest GPUs** = smallest power of two n with weights + KV ≤ n × (memory × usable
  fraction − overhead per GPU).
- **Longest context for N users** (C13) = the longest context at which N sequences fit,
  bisected on the memory model (``memory_fit.longest_context``).
""",
    )


# --- Page ----------------------------------------------------------------------------

st.title("Quantization and memory fit")
st.markdown(
    "Does the model fit on one GPU, and how many users can it serve there? Weights, KV "
    "cache and runtime overhead against each GPU's usable memory, for every weight format. "
    "Claims: **C12** (FP8 keeps quality, INT4 does not), **C13** (FP8 still needs 2 GPUs "
    "for the 40-50+ concurrent users of a chat service) and **C14** (H200 141 GB and "
    "MI300X 192 GB hold the model on one GPU, without tensor parallelism). Your own model: "
    "upload its config.json in the sidebar."
)
url.declare(*PARAMS)
# Presets outside the fragment: one may set sidebar fields, so the whole page reruns.
with st.container(border=True, horizontal=True, vertical_alignment="center"):
    widgets.preset_buttons(PRESETS, key="quant_preset", reset=[p.name for p in PARAMS])
results(sidebar.scenario())
