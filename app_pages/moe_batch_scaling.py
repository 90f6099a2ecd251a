"""MoE batch scaling: experts touched, bytes read, step time and cost versus batch (C7, C8, C11).

A thin view of ``costmodel.analyses.moe_scaling.run`` (one cached call on the session's
catalog): it draws the Result and the verdicts of C7, C8 (from the Result, with the
claims' rules) and C11 (``costmodel.claims``) next to their charts.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, url, verdicts, widgets
from app_pages.ui.text import escape
from costmodel import presets
from costmodel.analyses import moe_scaling

PARAMS = url.option_specs(moe_scaling.Options)
#: The page's own inputs in drawing order, two columns: skew | keep fixed, experts | top-k.
INPUTS = ("routing_skew", "keep_fixed", "n_experts", "top_k")
WIDGET_ARGS = {"keep_fixed": {"horizontal": True}}
DEFAULTS = {p.name: p.default for p in PARAMS}
PRESETS = {
    **{p.name: p for p in (presets.UNIFORM_ROUTING, presets.SKEWED_ROUTING)},
    "16 experts, same size (C8)": {"n_experts": 16, "top_k": 2, "keep_fixed": "expert size"},
    "64 experts, top-8 (C8)": {"n_experts": 64, "top_k": 8, "keep_fixed": "total size"},
}
MOE, ACTIVE = moe_scaling.MOE, moe_scaling.ACTIVE
BATCH_TITLE = "Batch size [sequences, log scale]"
COST_TITLE = "Cost [$/M output tokens, log scale]"
TABLE_COLUMNS = [
    "setup",
    "batch_size",
    "routing_skew",
    "experts_read_per_layer",
    "weight_bytes_read_per_step_gb",
    "bytes_read_per_step_gb",
    "decode_step_ms",
    "tokens_per_s_per_user",
    "usd_per_million_output_tokens",
    "cost_vs_batch_1",
    "fits",
]
FORMULAS = r"""
**Experts read per layer** by $B$ tokens, each routed to the top $k$ of $E$ experts:
$\sum_i 1-(1-p_i)^B$ with $p_i$ expert $i$'s selection probability ($\sum_i p_i = k$).
Uniform routing, $p_i = k/E$: $E\,(1-(1-k/E)^B)$ = 2, 3.5, 5.47, 7.20, 7.92, 8.00 for
Mixtral ($E=8$, $k=2$) at $B$ = 1, 2, 4, 8, 16, 32. Skewed routing (`routing_skew` $s$):
$p_i \propto (i+1)^{-s}$ (Zipf), capped at 1.

**Weight bytes read per decode step** [GB]:
$(N_\text{attention} + N_\text{experts}\cdot\text{touched}/E)\cdot b + (N_\text{router} +
N_\text{lm head} + N_\text{norms})\cdot 2$, with $b$ the format's bytes per weight. The step
also reads the batch's KV cache, $B\,(P + O/2 + 1)$ tokens $\times$ bytes per token.

**Step time** [ms]: $\max(t_\text{memory}, t_\text{compute}) + t_\text{all-reduce} +
t_\text{overhead}$; expert weights stream at `moe_kernel_efficiency` of the dense rate.
**Cost** [\$/M output tokens]: $n\cdot\text{price}/3600/u \cdot t_\text{step}/1000 / B
\cdot 10^6$. *Cost vs batch 1* divides by the same model's cost at batch 1.

**Dense equivalents**: same layers $L$, hidden size $h$, heads and vocabulary; the SwiGLU
width $F = \mathrm{round}((N^* - N_\text{other}) / (3Lh))$ matches the MoE's active (or
total) parameter count $N^*$, where $N_\text{other}$ = attention + embeddings + lm head +
norms. For Mixtral 8x7B: $F$ = 28,675 (12.88 B) and 114,691 (46.70 B).

**More experts**: *same expert size* keeps each expert's width $F$ (expert parameters
scale by $E'/E$); *same total size* narrows each expert to $F\cdot E/E'$.

**Prefill per prompt token** [ms]: prefill time of the batch's prompts over $B\cdot P$.
A prompt's tokens are routed to all experts at once, so MoE prefill reads (nearly) every
expert while computing only the active ones, at the lower MoE kernel efficiency.
"""


def option_inputs() -> moe_scaling.Options:
    """The page's own inputs, as Options; the library's message and the defaults if bad."""
    values = widgets.inputs(INPUTS, st.columns(2), **WIDGET_ARGS)
    try:
        return moe_scaling.Options(**values)
    except ValueError as err:
        st.warning(f"{escape(str(err))}. Showing the what-if with the page's defaults.")
        return moe_scaling.Options(routing_skew=values["routing_skew"])


@url.fragment
def results(scenario: costmodel.Scenario) -> None:
    """The page's controls and everything drawn from their Result (a change of them
    reruns only this: ``url.fragment``)."""
    with st.container(border=True):
        options = option_inputs()
    result, _ = cache.analysis_or_defaults(
        moe_scaling, scenario, options, "Could not evaluate this scenario"
    )
    sidebar.say_adapted(result.adaptations)  # compared under tensor parallelism
    scen = result.scenario
    E, k, B = result.n_experts, result.experts_per_token, scen.batch_size
    legend_rows = len({0.0, scen.routing_skew}) + 2
    if result.is_dense:
        st.info(
            "The sidebar's model is dense: it reads all its weights at every batch, and its "
            "dense equivalents are itself. Pick a mixture-of-experts model to see C7."
        )

    st.header("Experts and weights read per step (C7)")
    verdicts.show_result("C7", result)
    here, dense_here = result.point.loc[MOE], result.point.loc[ACTIVE]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Experts read / layer",
        f"{here['experts_read_per_layer']:.2f} of {E}",
        help=f"Expected distinct experts per layer read by one decode step at batch {B}.",
    )
    m2.metric(
        "MoE weights / step",
        f"{here['weight_bytes_read_per_step_gb']:.1f} GB",
        help=f"Weight bytes one decode step of the MoE model reads at batch {B} [GB].",
    )
    m3.metric(
        "Dense weights / step",
        f"{dense_here['weight_bytes_read_per_step_gb']:.1f} GB",
        help=f"The same for the dense model with the MoE's active parameters, batch {B} [GB].",
    )
    m4.metric(
        "Step time, MoE ÷ dense",
        f"{result.step_time_vs_dense:.2f}x",
        help=f"Decode step time of the MoE model over the dense same-active model's, batch {B}.",
    )
    table = result.batch
    touched = table[table["setup"].str.startswith(MOE)]
    charts.show_side_by_side(
        charts.line_spec(
            touched,
            "batch_size:Q",
            "experts_read_per_layer:Q",
            x_title=BATCH_TITLE,
            y_title="Experts read per layer per step [experts]",
            color="setup:N",
            color_title="Routing",
            log_x=True,
        ),
        versus_batch(table, "weight_bytes_read_per_step_gb", "Weights read per step [GB]"),
        legend_rows=legend_rows,
    )
    st.caption(
        f"Each token uses {k} of {E} experts whatever the batch; the weights read per step "
        "climb from the dense same-active level towards the dense same-total level as the "
        "batch grows. Skewed routing (popular experts) slows the climb. Red crosses: the "
        "weights and the batch's KV cache do not fit in the replica's memory."
    )

    st.header("Step time and cost per token versus batch (C7)")
    st.markdown(
        f"From batch 1 to the sidebar's batch {B} the cost per output token falls to "
        + ", ".join(f"**{100 * v:.0f}%** ({name})" for name, v in result.cost_vs_batch_1.items())
        + " of its batch-1 value."
    )
    charts.show_side_by_side(
        versus_batch(result.at_skew, "decode_step_ms", "Decode step time [ms]"),
        versus_batch(result.at_skew, "usd_per_million_output_tokens", COST_TITLE, log_y=True),
        legend_rows=3,
    )
    with st.expander("Table: MoE and dense models versus batch"):
        tables.show_rows(table[TABLE_COLUMNS], "moe_batch_scaling.csv")

    st.header("What if the model had more experts? (C8)")
    verdicts.show_result("C8", result)
    tables.show_table(
        result.what_if_models,
        "moe_what_if_models.csv",
        hide_index=True,
        width="stretch",
        column_config={
            "total_params_b": st.column_config.NumberColumn("total params [B]", format="%.2f"),
            "active_params_b": st.column_config.NumberColumn("active params [B]", format="%.2f"),
        },
    )
    charts.show_side_by_side(
        versus_batch(result.what_if, "weight_bytes_read_per_step_gb", "Weights read per step [GB]"),
        versus_batch(result.what_if, "usd_per_million_output_tokens", COST_TITLE, log_y=True),
        legend_rows=2,
    )
    st.caption(
        "With the same expert size, more experts cost nothing at batch 1 (the same experts "
        "per token are read) but at serving batches every expert is read, so bytes and cost "
        "per token grow with the expert count, and the weights may no longer fit (red "
        "crosses). With the same total size, finer experts cut the active work per token but "
        "the bytes read at a large batch stay those of the whole model."
    )
    with st.expander("Table: the what-if model versus batch"):
        tables.show_rows(result.what_if[TABLE_COLUMNS], "moe_more_experts.csv")

    st.header("Prefill is dearer per token for MoE (C11)")
    verdicts.show("C11", scen)
    st.markdown(
        escape(result.prefill_text) + " The chart shows one prompt (batch 1) of growing length."
    )
    prefill_chart = charts.line_spec(
        result.prefill,
        "prompt_tokens:Q",
        "prefill_ms_per_prompt_token:Q",
        x_title="Prompt length [tokens, log scale]",
        y_title="Prefill per prompt token [ms, log scale]",
        color="setup:N",
        color_title="Model",
        log_x=True,
        log_y=True,
    )
    charts.show_with_legend(prefill_chart, legend_rows=3)
    with st.expander("Table: prefill per prompt token (batch 1)"):
        columns = [
            "setup",
            "prompt_tokens",
            "prefill_ms",
            "prefill_ms_per_prompt_token",
            "usd_per_million_input_tokens",
        ]
        tables.show_rows(result.prefill[columns], "moe_prefill.csv")


@charts.cached
def versus_batch(df: pd.DataFrame, y: str, y_title: str, *, log_y: bool = False) -> alt.Chart:
    """``y`` against batch (log) per setup; crosses mark batches that do not fit."""
    tips = [
        alt.Tooltip("setup:N", title="Model"),
        alt.Tooltip("batch_size:Q", title="Batch [sequences]"),
        alt.Tooltip(f"{y}:Q", title=y_title, format=",.4~g"),
        alt.Tooltip("fits:N", title="Fits in memory"),
    ]
    line = charts.line_chart(
        df,
        "batch_size:Q",
        f"{y}:Q",
        x_title=BATCH_TITLE,
        y_title=y_title,
        color="setup:N",
        color_title="Model",
        tooltip=tips,
        log_x=True,
        log_y=log_y,
    )
    unfit = (
        alt.Chart(df[~df["fits"]])
        .mark_point(shape="cross", size=90, color="#b42318", filled=True)
        .encode(x=alt.X("batch_size:Q"), y=alt.Y(f"{y}:Q"), tooltip=tips)
    )
    return line + unfit


# --- Page ---------------------------------------------------------------------------

st.title("MoE batch scaling")
st.markdown(
    "A mixture-of-experts model reads only the experts its tokens are routed to. At batch 1 "
    "Mixtral reads 2 of its 8 experts per layer; as the batch grows the tokens hit more "
    "experts until every step reads all the weights, while each token still uses only 2 "
    "(**C7**). So MoE needs more memory bandwidth than a dense model of the same active "
    "size, and batching cuts its cost per token less. Adding experts makes this worse, one "
    "reason models cannot just grow their expert count (**C8**); and MoE prefill is dearer "
    "per token than dense prefill (**C11**). The MoE model is the sidebar's; the dense "
    "models are built from it with the same layers, width and heads."
)
url.declare(*PARAMS)
# Presets outside the fragment: one may set sidebar fields, so the whole page reruns.
with st.container(border=True, horizontal=True, vertical_alignment="center"):
    widgets.preset_buttons(PRESETS, key="moe_preset", reset=list(DEFAULTS))
results(sidebar.scenario())
tables.formula_expander("Formulas and assumptions", FORMULAS)
