"""MoE batch scaling: experts touched, bytes read, step time and cost versus batch (C7, C8, C11)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, gate, params, tables
from costmodel import comparisons, presets
from costmodel.economics import batch_grid

BATCHES = batch_grid(512)
PROMPTS = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
PARAMS = (
    params.field("routing_skew"),
    gate.number("n_experts", 16, 1, 256, integer=True),
    gate.number("top_k", 2, 1, 64, integer=True),
    gate.choice("keep_fixed", comparisons.KEEP_FIXED[0], comparisons.KEEP_FIXED),
)
DEFAULTS = {p.key: p.default for p in PARAMS}
PRESETS = {
    **{p.name: p for p in (presets.UNIFORM_ROUTING, presets.SKEWED_ROUTING)},
    "16 experts, same size (C8)": {"n_experts": 16, "top_k": 2, "keep_fixed": "expert size"},
    "64 experts, top-8 (C8)": {"n_experts": 64, "top_k": 8, "keep_fixed": "total size"},
}
MOE, ACTIVE, TOTAL = (
    "MoE",
    comparisons.DENSE_KINDS["same_active"],
    comparisons.DENSE_KINDS["same_total"],
)
BATCH_TITLE = "Batch size [sequences, log scale]"
COST_TITLE = "Cost [$/M output tokens, log scale]"
TABLE_COLUMNS = [
    "variant",
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
**Experts touched per layer** by $B$ tokens, each routed to the top $k$ of $E$ experts:
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


@st.cache_data(show_spinner=False, max_entries=64)
def batch_table(scen: costmodel.Scenario, skews: tuple[float, ...]) -> pd.DataFrame:
    """The MoE model (each skew) and its dense equivalents over ``BATCHES``."""
    catalog = comparisons.dense_equivalents(cache.catalog(), scen.model)
    ids = comparisons.dense_model_ids(scen.model)
    moe = comparisons.compare_models(
        scen, catalog, {MOE: scen.model}, batch_size=BATCHES, routing_skew=list(skews)
    )
    dense = comparisons.compare_models(
        scen, catalog, {ACTIVE: ids["same_active"], TOTAL: ids["same_total"]}, batch_size=BATCHES
    )
    return pd.concat([moe, dense], ignore_index=True)


@st.cache_data(show_spinner=False, max_entries=64)
def point_table(scen: costmodel.Scenario) -> pd.DataFrame:
    """The MoE model and its dense equivalents at the scenario, and at batch 1, by variant."""
    catalog = comparisons.dense_equivalents(cache.catalog(), scen.model)
    ids = comparisons.dense_model_ids(scen.model)
    models = {MOE: scen.model, ACTIVE: ids["same_active"], TOTAL: ids["same_total"]}
    table = comparisons.compare_models(scen, catalog, models).set_index("variant")
    ones = comparisons.compare_models(scen.replace(batch_size=1), catalog, models)
    table["usd_at_batch_1"] = ones.set_index("variant")["usd_per_million_output_tokens"]
    return table


@st.cache_data(show_spinner=False, max_entries=64)
def experts_table(
    scen: costmodel.Scenario, n_experts: int, top_k: int, keep_fixed: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model and its ``more_experts`` variant over ``BATCHES``, and their parameters."""
    catalog, variant = comparisons.more_experts(
        cache.catalog(), scen.model, n_experts, top_k, keep_fixed
    )
    label = f"{n_experts} experts, top-{top_k}, same {keep_fixed}"
    models = {f"{MOE} as built": scen.model, label: variant}
    summary = comparisons.model_summary(catalog, models).reset_index()
    table = comparisons.compare_models(scen, catalog, models, batch_size=BATCHES)
    return table, summary


@st.cache_data(show_spinner=False, max_entries=64)
def prefill_table(scen: costmodel.Scenario) -> pd.DataFrame:
    """Prefill of one prompt (batch 1) over ``PROMPTS`` within the model's context window,
    MoE beside its dense equivalents."""
    catalog = comparisons.dense_equivalents(cache.catalog(), scen.model)
    ids = comparisons.dense_model_ids(scen.model)
    models = {MOE: scen.model, ACTIVE: ids["same_active"], TOTAL: ids["same_total"]}
    window = catalog.models.loc[scen.model, "context_window"]
    prompts = [p for p in PROMPTS if p + scen.output_tokens <= window]
    return comparisons.compare_models(
        scen.replace(batch_size=1), catalog, models, prompt_tokens=prompts
    )


def versus_batch(df: pd.DataFrame, y: str, y_title: str, *, log_y: bool = False) -> alt.Chart:
    """``y`` against batch (log) per variant; crosses mark batches that do not fit."""
    tips = [
        alt.Tooltip("variant:N", title="Model"),
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
        color="variant:N",
        color_title="Model",
        tooltip=tips,
        log_x=True,
    )
    if log_y:
        line = line.encode(y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(type="log")))
    unfit = (
        alt.Chart(df[~df["fits"]])
        .mark_point(shape="cross", size=90, color="#b42318", filled=True)
        .encode(x="batch_size:Q", y=f"{y}:Q", tooltip=tips)
    )
    return line + unfit


def show(chart: alt.TopLevelMixin, legend_rows: int = 0) -> None:
    """Show a chart with its legend (``legend_rows`` entries) below the plot.

    Narrow columns and phones keep the plot's width. The height given to Vega-Lite holds
    the axes and the legend too, so it grows by one line per legend entry and its title.
    """
    chart = chart.properties(height=320 + 30 * (legend_rows + 1))
    charts.show_chart(chart.configure_legend(orient="bottom", direction="vertical", labelLimit=0))


def show_table(df: pd.DataFrame, filename: str) -> None:
    """Show ``df`` and a CSV download of exactly it."""
    df = df.reset_index(drop=True)
    tables.show_table(df, filename, hide_index=True, width="stretch")


# --- Inputs ------------------------------------------------------------------------

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

params.declare(*PARAMS)
scen = params.scenario()
controls, presets = st.columns([2, 1], gap="large")
with controls:
    left, right = st.columns(2)
    routing_skew = params.number_input(
        "routing_skew",
        "Routing skew",
        0.1,
        left,
        help="Zipf exponent of expert popularity: expert i is chosen in proportion to "
        "(i+1)^-skew; 0 = uniform routing [-]. Applies to the MoE model (and the what-if).",
    )
    keep_fixed = params.radio(
        "keep_fixed",
        "What if more experts: keep fixed",
        right,
        horizontal=True,
        help="'expert size': each expert keeps its width, so total parameters grow with the "
        "expert count. 'total size': experts narrow so total parameters stay the same.",
    )
    n_experts = params.number_input(
        "n_experts",
        "What if: experts per layer",
        1,
        left,
        help="Experts per layer E' of the what-if model [experts]; Mixtral 8x7B has 8.",
    )
    top_k = params.number_input(
        "top_k",
        "What if: experts per token",
        1,
        right,
        help="Experts each token is routed to (top-k) in the what-if model [experts]; "
        "Mixtral has 2. At most the expert count.",
    )
with presets:
    st.caption("Presets")
    params.preset_buttons(PRESETS, key="moe_preset", reset=list(DEFAULTS))

if top_k > n_experts:
    st.error(
        f"Experts per token ({top_k}) must be at most the experts per layer ({n_experts}); "
        f"showing the what-if with the defaults ({DEFAULTS['n_experts']} experts, "
        f"top-{DEFAULTS['top_k']})."
    )
    n_experts, top_k = DEFAULTS["n_experts"], DEFAULTS["top_k"]

try:
    scen = scen.replace(routing_skew=routing_skew)
    skews = tuple(sorted({0.0, float(routing_skew)}))
    table = batch_table(scen, skews)
    prefill = prefill_table(scen)
    point = point_table(scen)
except ValueError as err:
    st.error(f"Could not evaluate this scenario: {err} Showing the defaults instead.")
    scen, routing_skew = params.DEFAULT, params.DEFAULT.routing_skew
    skews = (0.0,)
    table = batch_table(scen, skews)
    prefill = prefill_table(scen)
    point = point_table(scen)

arch = cache.catalog().models.loc[scen.model]
E, k = int(arch["n_experts"]), int(arch["experts_per_token"])
if E == 1:
    st.info(
        f"The sidebar's model ({arch['name']}) is dense: it reads all its weights at every "
        "batch, and its dense equivalents are itself. Pick a mixture-of-experts model "
        "(Mixtral, DBRX) to see C7."
    )


def skew_label(s: float) -> str:
    return "MoE, uniform routing" if s == 0 else f"MoE, skew {s:g}"


table["variant"] = [
    skew_label(s) if v == MOE else v
    for v, s in zip(table["variant"], table["routing_skew"], strict=True)
]
at_skew = table[(table["routing_skew"] == routing_skew) | (~table["variant"].str.startswith(MOE))]

# --- C7: experts touched and bytes read ----------------------------------------------

st.header("Experts touched and weights read per step (C7)")
B = scen.batch_size
here = point.loc[MOE]
dense_here = point.loc[ACTIVE]
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
    f"{here['decode_step_ms'] / dense_here['decode_step_ms']:.2f}x",
    help=f"Decode step time of the MoE model over the dense same-active model's, batch {B}.",
)

touched = table[table["variant"].str.startswith(MOE)]
chart_left, chart_right = st.columns(2)
with chart_left:
    show(
        charts.line_chart(
            touched,
            "batch_size:Q",
            "experts_read_per_layer:Q",
            x_title=BATCH_TITLE,
            y_title="Experts read per layer per step [experts]",
            color="variant:N",
            color_title="Routing",
            log_x=True,
        ),
        legend_rows=len(skews) + 2,
    )
with chart_right:
    show(
        versus_batch(table, "weight_bytes_read_per_step_gb", "Weights read per step [GB]"),
        legend_rows=len(skews) + 2,
    )
st.caption(
    f"Each token uses {k} of {E} experts whatever the batch; the weights read per step climb "
    "from the dense same-active level towards the dense same-total level as the batch grows. "
    "Skewed routing (popular experts) slows the climb. Red crosses: the weights and the "
    "batch's KV cache do not fit in the replica's memory."
)

# --- C7: time and cost ---------------------------------------------------------------

st.header("Step time and cost per token versus batch (C7)")
ratio = point["usd_per_million_output_tokens"] / point["usd_at_batch_1"]
st.markdown(
    f"From batch 1 to the sidebar's batch {B} the cost per output token falls to "
    + ", ".join(f"**{100 * v:.0f}%** ({name})" for name, v in ratio.items())
    + " of its batch-1 value."
)
chart_left, chart_right = st.columns(2)
with chart_left:
    show(versus_batch(at_skew, "decode_step_ms", "Decode step time [ms]"), legend_rows=3)
with chart_right:
    show(
        versus_batch(at_skew, "usd_per_million_output_tokens", COST_TITLE, log_y=True),
        legend_rows=3,
    )
with st.expander("Table: MoE and dense models versus batch"):
    show_table(table[TABLE_COLUMNS], "moe_batch_scaling.csv")

# --- C8: more experts ------------------------------------------------------------------

st.header("What if the model had more experts? (C8)")
try:
    what_if, summary = experts_table(scen, int(n_experts), int(top_k), keep_fixed)
except ValueError as err:
    st.error(f"Could not build the what-if model: {err} Showing the defaults instead.")
    what_if, summary = experts_table(
        scen, DEFAULTS["n_experts"], DEFAULTS["top_k"], DEFAULTS["keep_fixed"]
    )
tables.show_table(
    summary,
    "moe_what_if_models.csv",
    hide_index=True,
    width="stretch",
    column_config={
        "total_params_b": st.column_config.NumberColumn("total params [B]", format="%.2f"),
        "active_params_b": st.column_config.NumberColumn("active params [B]", format="%.2f"),
    },
)
chart_left, chart_right = st.columns(2)
with chart_left:
    show(
        versus_batch(what_if, "weight_bytes_read_per_step_gb", "Weights read per step [GB]"),
        legend_rows=2,
    )
with chart_right:
    show(
        versus_batch(what_if, "usd_per_million_output_tokens", COST_TITLE, log_y=True),
        legend_rows=2,
    )
st.caption(
    "With the same expert size, more experts cost nothing at batch 1 (the same experts per "
    "token are read) but at serving batches every expert is read, so bytes and cost per "
    "token grow with the expert count, and the weights may no longer fit (red crosses). "
    "With the same total size, finer experts cut the active work per token but the bytes read "
    "at a large batch stay those of the whole model."
)
with st.expander("Table: the what-if model versus batch"):
    show_table(what_if[TABLE_COLUMNS], "moe_more_experts.csv")

# --- C11: prefill ----------------------------------------------------------------------

st.header("Prefill is dearer per token for MoE (C11)")
moe_pf = here["prefill_ms_per_prompt_token"]
dense_pf = dense_here["prefill_ms_per_prompt_token"]
st.markdown(
    f"At the sidebar's batch ({B}) and prompt length ({scen.prompt_tokens} tokens), prefill "
    f"takes **{1e3 * moe_pf:.1f} µs per prompt token** for the MoE model against "
    f"**{1e3 * dense_pf:.1f} µs** for the dense model with the same active parameters "
    f"(**{moe_pf / dense_pf:.2f}x**). The chart shows one prompt (batch 1) of growing length."
)
prefill_chart = charts.line_chart(
    prefill,
    "prompt_tokens:Q",
    "prefill_ms_per_prompt_token:Q",
    x_title="Prompt length [tokens, log scale]",
    y_title="Prefill time per prompt token [ms]",
    color="variant:N",
    color_title="Model",
    log_x=True,
).encode(
    y=alt.Y(
        "prefill_ms_per_prompt_token:Q",
        title="Prefill per prompt token [ms, log scale]",
        scale=alt.Scale(type="log"),
    )
)
show(prefill_chart, legend_rows=3)
with st.expander("Table: prefill per prompt token (batch 1)"):
    show_table(
        prefill[
            [
                "variant",
                "prompt_tokens",
                "prefill_ms",
                "prefill_ms_per_prompt_token",
                "usd_per_million_input_tokens",
            ]
        ],
        "moe_prefill.csv",
    )

tables.formula_expander("Formulas and assumptions", FORMULAS)
