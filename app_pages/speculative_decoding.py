"""Speculative decoding versus temperature and batch, MoE beside dense (C9, C10, C11)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, params, tables
from costmodel import comparisons, presets
from costmodel.economics import batch_grid

SPEC_FIELDS = (
    "temperature",
    "draft_tokens",
    "draft_cost_ratio",
    "acceptance_at_t0",
    "acceptance_at_t1",
)
TEMPERATURES = [round(float(t), 2) for t in np.linspace(0.0, 2.0, 21)]
BATCHES = batch_grid(512)
MOE, DENSE = "MoE", comparisons.DENSE_KINDS["same_active"]
TOGETHER = presets.TOGETHER_C9.name
#: Together's reported tokens/s per sequence at temperature 0 and 2 (seed claim C9).
C9_REPORTED = {0.0: 170.0, 2.0: 80.0}
PRESETS = {p.name: p for p in (presets.TOGETHER_C9, presets.LEVIATHAN_T5)}
T_TITLE = "Sampling temperature [-]"
BATCH_TITLE = "Batch size [sequences, log scale]"
TEMPERATURE_COLUMNS = [
    "setup",
    "temperature",
    "acceptance_rate",
    "tokens_per_step",
    "decode_step_ms",
    "speculative_speedup",
    "tokens_per_s_per_user",
    "usd_per_million_output_tokens",
]
BATCH_COLUMNS = [
    "setup",
    "batch_size",
    "experts_read_per_layer",
    "bytes_read_per_step_gb",
    "decode_step_ms",
    "tokens_per_step",
    "speculative_speedup",
    "tokens_per_s_per_user",
    "fits",
]
FORMULAS = r"""
**Acceptance versus temperature** (a geometric model through two anchors):
$a(T) = a_0\,(a_1/a_0)^T$, with $a_0$, $a_1$ the draft-token acceptance rates at $T=0$ and
$T=1$. Leviathan et al. (arXiv 2211.17192, Table 3, T5-XXL with a T5-small draft) measured
0.75 and 0.62. Above $T=1$ the curve is an **extrapolation** (shaded on the charts).

**Tokens per verification step** with $g$ draft tokens: $(1-a^{g+1})/(1-a)$ [tokens].

**Ideal speed-up** (Leviathan et al.): $(1-a^{g+1}) / ((1-a)(g\,c+1))$, with $c$ the draft's
cost relative to one target step; 3.2x at $a=0.75$, $g=7$, $c=0.02$. The explorer instead
prices the verification pass itself: one forward pass over $B\,(g+1)$ tokens, plus
$g\cdot c$ plain steps of drafting:

$t_\text{spec} = t_\text{verify}(B(g+1)\ \text{tokens}) + g\,c\,t_\text{plain}(B)$,
speed-up $= t_\text{plain} \cdot \text{tokens per step} / t_\text{spec}$.

**Why MoE gains less (C11).** A dense model reads the same weights whether it verifies
$B$ or $B(g+1)$ tokens, so at a small batch verification is almost free. A mixture of
experts routes the draft tokens to other experts: the verification pass reads the experts
that $B(g+1)$ tokens touch, $E(1-(1-k/E)^{B(g+1)})$, not those of $B$ tokens. At batch 1 with
$g=4$ Mixtral reads 6.1 of 8 experts instead of 2.

**Tokens/s per user** $= 1000 / t_\text{token}$, where the time per output token includes a
share of the batch's prefill: $(O\,t_\text{step}/\text{tokens per step} + t_\text{prefill})/O$.
"""


def model_set(scen: costmodel.Scenario) -> tuple[costmodel.Catalog, dict[str, str]]:
    """The catalog with the dense same-active model, and label -> model id."""
    catalog = comparisons.dense_equivalents(cache.catalog(), scen.model)
    return catalog, {MOE: scen.model, DENSE: comparisons.dense_model_ids(scen.model)["same_active"]}


def setup_labels(table: pd.DataFrame) -> pd.DataFrame:
    """Insert ``setup``: the variant and whether it decodes speculatively."""
    table = table.copy()
    kind = np.where(table["speculative"], "speculative", "no speculation")
    table.insert(0, "setup", table["variant"] + ", " + kind)
    return table


@st.cache_data(show_spinner=False, max_entries=64)
def speculation_table(scen: costmodel.Scenario, axis: str, values: tuple) -> pd.DataFrame:
    """MoE and dense same-active, with and without speculation, over ``axis = values``."""
    catalog, models = model_set(scen)
    table = comparisons.compare_models(
        scen, catalog, models, speculative=[False, True], **{axis: list(values)}
    )
    return setup_labels(table)


@st.cache_data(show_spinner=False, max_entries=64)
def c9_results(scen: costmodel.Scenario) -> dict[float, float]:
    """Tokens/s per user of the speculative MoE model at temperature 0 and 2."""
    table = costmodel.sweep(scen.replace(speculative=True), temperature=list(C9_REPORTED))
    return dict(zip(table["temperature"], table["tokens_per_s_per_user"], strict=True))


def c9_table(current: costmodel.Scenario) -> pd.DataFrame:
    """Settings the C9 preset takes beside the current ones, and the speculative MoE model's
    tokens/s per user at T = 0 and 2 under each, beside Together's (all as strings)."""
    preset = PRESETS[TOGETHER]
    preset_scen = params.DEFAULT.replace(**preset)
    ours, theirs = c9_results(preset_scen), c9_results(current)
    rows = [
        (name, str(getattr(preset_scen, name)), str(getattr(current, name)), "") for name in preset
    ]
    for t, reported in C9_REPORTED.items():
        rows.append(
            (
                f"tokens/s per user at T={t:g} [tokens/s]",
                f"{ours[t]:.1f}",
                f"{theirs[t]:.1f}",
                f"{reported:g}",
            )
        )
    return pd.DataFrame(rows, columns=["setting", "preset", "current page", "Together (C9)"])


def extrapolation_band() -> alt.LayerChart:
    """A shaded band over T in (1, 2]: the acceptance model is extrapolated there."""
    band = pd.DataFrame({"start": [1.0], "end": [2.0], "label": ["extrapolation (T > 1)"]})
    rect = (
        alt.Chart(band)
        .mark_rect(color="#f2c94c", opacity=0.18)
        .encode(x=alt.X("start:Q", title=T_TITLE), x2="end:Q", tooltip=alt.value(None))
    )
    text = (
        alt.Chart(band)
        .transform_calculate(mid="(datum.start + datum.end) / 2")
        .mark_text(align="center", baseline="top", dy=4, color="#8a6d00")
        .encode(x=alt.X("mid:Q", title=T_TITLE), y=alt.value(0), text="label:N")
    )
    return rect + text


def current_rule(value: float, field: str, title: str) -> alt.Chart:
    """A dashed vertical rule at the page's current value of ``field``."""
    return (
        alt.Chart(pd.DataFrame({field: [value]}))
        .mark_rule(strokeDash=[4, 4], color="#555")
        .encode(
            x=alt.X(f"{field}:Q", title=title), tooltip=[alt.Tooltip(f"{field}:Q", title=title)]
        )
    )


def versus(df, x, y, *, x_title, y_title, log_x=False, band=False, rule=None) -> alt.LayerChart:
    """``y`` against ``x`` per setup, dashed where not speculative; optional band and rule."""
    line = charts.line_chart(
        df,
        f"{x}:Q",
        f"{y}:Q",
        x_title=x_title,
        y_title=y_title,
        color="setup:N",
        color_title="Model and decoding",
        log_x=log_x,
    ).encode(
        strokeDash=alt.StrokeDash(
            "speculative:N",
            scale=alt.Scale(domain=[True, False], range=[[1, 0], [5, 4]]),
            legend=None,
        )
    )
    layers = [extrapolation_band()] if band else []
    layers.append(line)
    if rule is not None:
        layers.append(current_rule(rule, x, x_title))
    return alt.layer(*layers)


def show(chart: alt.TopLevelMixin, legend_rows: int = 0) -> None:
    """Show a chart with its legend (``legend_rows`` entries) below the plot.

    Narrow columns and phones keep the plot's width. The height given to Vega-Lite holds
    the axes and the legend too, so it grows by one line per legend entry and its title.
    """
    chart = chart.properties(height=320 + 30 * (legend_rows + 1))
    charts.show_chart(chart.configure_legend(orient="bottom", direction="vertical", labelLimit=0))


def show_table(df: pd.DataFrame, filename: str, *, full_height: bool = False) -> None:
    """Show ``df`` (every row at once with ``full_height``) and a CSV download of exactly it."""
    df = df.reset_index(drop=True)
    height = 35 * (len(df) + 1) + 3 if full_height else "auto"
    tables.show_table(df, filename, hide_index=True, width="stretch", height=height)


# --- Inputs ----------------------------------------------------------------------------

st.title("Speculative decoding versus temperature")
st.markdown(
    "In speculative decoding a small draft model proposes a few tokens and the large model "
    "checks them all in one pass, so each pass over the weights yields more than one token "
    "(**C10**). Drafts are accepted more often at low temperature, so the gain shrinks as "
    "the temperature rises: Together served Mixtral at about 170 tokens/s per sequence at "
    "temperature 0 and about 80 at temperature 2 on harder prompts (**C9**). For a mixture "
    "of experts the draft tokens are routed to other experts, so the checking pass reads "
    "more weights and the gain is smaller (**C11**). The dense model has the MoE's active "
    "parameters (same layers, width and heads); the other settings come from the sidebar."
)

params.declare(*map(params.field, SPEC_FIELDS))
controls, presets = st.columns([2, 1], gap="large")
with controls:
    temperature = params.slider(
        "temperature",
        "Temperature",
        0.05,
        help=costmodel.FIELD_HELP["temperature"]
        + ". Sets the speed-up-versus-batch chart and the figures below; above 1 the "
        "acceptance model is extrapolated.",
    )
    c1, c2 = st.columns(2)
    draft_tokens = params.number_input("draft_tokens", "Draft tokens per step (g)", 1, c1)
    draft_cost_ratio = params.number_input("draft_cost_ratio", "Draft cost ratio (c)", 0.01, c2)
    acceptance_at_t0 = params.number_input("acceptance_at_t0", "Acceptance at T = 0", 0.01, c1)
    acceptance_at_t1 = params.number_input("acceptance_at_t1", "Acceptance at T = 1", 0.01, c2)
with presets:
    st.caption("Presets (the C9 one also sets the sidebar); Reset restores this box")
    params.preset_buttons(PRESETS, key="spec_preset", reset=SPEC_FIELDS)

try:
    scen = params.scenario(
        temperature=temperature,
        draft_tokens=draft_tokens,
        draft_cost_ratio=draft_cost_ratio,
        acceptance_at_t0=acceptance_at_t0,
        acceptance_at_t1=acceptance_at_t1,
    )
    by_t = speculation_table(scen, "temperature", tuple(TEMPERATURES))
    by_batch = speculation_table(scen, "batch_size", tuple(BATCHES))
except ValueError as err:
    st.error(f"Could not evaluate this scenario: {err} Showing the defaults instead.")
    scen = params.DEFAULT
    by_t = speculation_table(scen, "temperature", tuple(TEMPERATURES))
    by_batch = speculation_table(scen, "batch_size", tuple(BATCHES))

# --- Figures at the current settings ------------------------------------------------------

catalog, models = model_set(scen)
now = comparisons.compare_models(scen, catalog, models, speculative=[False, True])
now = now.set_index(["variant", "speculative"])
moe_plain, moe_spec = now.loc[(MOE, False)], now.loc[(MOE, True)]
dense_spec = now.loc[(DENSE, True)]
st.subheader(f"At temperature {scen.temperature:g} and batch {scen.batch_size}")
m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Acceptance rate",
    f"{moe_spec['acceptance_rate']:.3f}",
    help="a(T) for the draft tokens (the same for both models).",
)
m2.metric(
    "MoE tokens/s per user",
    f"{moe_spec['tokens_per_s_per_user']:.1f}",
    delta=f"{moe_spec['tokens_per_s_per_user'] - moe_plain['tokens_per_s_per_user']:+.1f} "
    "vs no speculation",
    help="Tokens/s each user sees with speculative decoding [tokens/s]; the delta is the "
    "change from decoding without it.",
)
m3.metric(
    "MoE speed-up",
    f"{moe_spec['speculative_speedup']:.2f}x",
    help="Decode speed with speculation over without, same batch, MoE model.",
)
m4.metric(
    "Dense speed-up",
    f"{dense_spec['speculative_speedup']:.2f}x",
    help="The same for the dense model with the MoE's active parameters.",
)
if scen.temperature > 1:
    st.warning(
        f"Temperature {scen.temperature:g} is above 1: the acceptance rate is extrapolated "
        "from the anchors at T = 0 and T = 1."
    )

# --- C9, C10: temperature -------------------------------------------------------------------

st.header("Acceptance and speed versus temperature (C9, C10)")
left, right = st.columns(2)
with left:
    acc = by_t[by_t["speculative"] & (by_t["variant"] == MOE)]
    show(
        alt.layer(
            extrapolation_band(),
            charts.line_chart(
                acc,
                "temperature:Q",
                "acceptance_rate:Q",
                x_title=T_TITLE,
                y_title="Draft-token acceptance rate [0-1]",
            ),
            current_rule(scen.temperature, "temperature", T_TITLE),
        ),
        legend_rows=4,
    )
with right:
    show(
        versus(
            by_t,
            "temperature",
            "tokens_per_s_per_user",
            x_title=T_TITLE,
            y_title="Tokens/s per user [tokens/s]",
            band=True,
            rule=scen.temperature,
        ),
        legend_rows=4,
    )
st.caption(
    "Dashed lines: no speculation (temperature does not matter). Shaded: T > 1, where the "
    "acceptance model a(T) = a0 (a1/a0)^T is extrapolated beyond its two anchors."
)
with st.expander("Table: speed versus temperature"):
    show_table(by_t[TEMPERATURE_COLUMNS], "speculative_vs_temperature.csv")

st.subheader("The C9 preset: which assumptions reproduce Together's numbers")
st.markdown(
    "The seed document gives only the two speeds. These assumptions, with the catalog's "
    "efficiencies, give them; other combinations would too (fewer draft tokens with a "
    "higher acceptance, a smaller batch with slower GPUs). *Current page* is what the "
    "sidebar and the inputs above hold now."
)
c9 = c9_table(scen)
show_table(c9, "c9_preset.csv", full_height=True)

# --- C11: batch -----------------------------------------------------------------------------

st.header("How the gain changes with batch, MoE versus dense (C11)")
spec_rows = by_batch[by_batch["speculative"]]
left, right = st.columns(2)
with left:
    show(
        versus(
            spec_rows,
            "batch_size",
            "speculative_speedup",
            x_title=BATCH_TITLE,
            y_title="Speed-up from speculation [x]",
            log_x=True,
            rule=scen.batch_size,
        ),
        legend_rows=2,
    )
with right:
    moe_rows = by_batch[by_batch["variant"] == MOE]
    show(
        versus(
            moe_rows,
            "batch_size",
            "experts_read_per_layer",
            x_title=BATCH_TITLE,
            y_title="MoE experts read per layer per step [experts]",
            log_x=True,
            rule=scen.batch_size,
        ),
        legend_rows=2,
    )
gain = spec_rows.pivot_table(
    index="batch_size", columns="variant", values="speculative_speedup", observed=True
)
moe_touched = moe_rows.pivot_table(
    index="batch_size", columns="speculative", values="experts_read_per_layer", observed=True
)
last = BATCHES[-1]
st.caption(
    f"At batch 1 speculation speeds the dense model up {gain.loc[1, DENSE]:.2f}x but the MoE "
    f"model only {gain.loc[1, MOE]:.2f}x: checking {scen.draft_tokens + 1} tokens per sequence "
    f"reads {moe_touched.loc[1, True]:.1f} experts per layer instead of the plain step's "
    f"{moe_touched.loc[1, False]:.0f}. Once a plain MoE step already reads every expert "
    "(larger batches) its gain recovers, while the dense model, which reads fewer bytes per "
    "FLOP, turns compute-bound sooner and loses its gain first: at batch "
    f"{last} the speed-ups are {gain.loc[last, DENSE]:.2f}x (dense) and "
    f"{gain.loc[last, MOE]:.2f}x (MoE)."
)
with st.expander("Table: speed-up versus batch"):
    show_table(by_batch[BATCH_COLUMNS], "speculative_vs_batch.csv")

tables.formula_expander("Formulas and assumptions", FORMULAS)
