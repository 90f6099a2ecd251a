"""Speculative decoding versus temperature and batch, MoE beside dense (C9, C10, C11).

A thin view of ``costmodel.analyses.speculative.run`` (one cached call on the session's
catalog): it draws the Result and the verdicts of C9, C10 (from the Result, with the
claims' rules) and C11 (``costmodel.claims``) next to their charts. The presets are
``costmodel.presets``' (they also set the sidebar): TOGETHER_C9, LEVIATHAN_T5 and
DEEPSEEK_R1_MTP_B200, each with the fields this page has inputs for.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, url, verdicts, widgets
from app_pages.ui.text import escape
from costmodel import presets
from costmodel.analyses import speculative

PARAMS = url.option_specs(speculative.Options)
SPEC_FIELDS = tuple(p.name for p in PARAMS)
MOE, DENSE = speculative.MOE, speculative.DENSE
PRESETS = {
    p.name: p for p in (presets.TOGETHER_C9, presets.LEVIATHAN_T5, presets.DEEPSEEK_R1_MTP_B200)
}
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


def option_inputs() -> dict:
    """The page's own inputs (labels, steps and help from ``speculative.Options``)."""
    values = {
        "temperature": widgets.widget(
            "temperature",
            style="slider",
            help=url.spec("temperature").help + ". Sets the speed-up-versus-batch chart and "
            "the figures below; above 1 the acceptance model is extrapolated.",
        )
    }
    return values | widgets.inputs(SPEC_FIELDS[1:], st.columns(2))


@url.fragment
def results(scenario: costmodel.Scenario) -> None:
    """The page's controls and everything drawn from their Result (a change of them
    reruns only this: ``url.fragment``)."""
    with st.container(border=True):
        values = option_inputs()
    try:
        options = speculative.Options(**values)
    except ValueError as err:
        st.error(f"Could not evaluate this scenario: {escape(str(err))} Showing the defaults.")
        scenario, options = sidebar.DEFAULT, speculative.Options()
    result, _ = cache.analysis_or_defaults(
        speculative, scenario, options, "Could not evaluate this scenario"
    )
    # Out-of-order acceptance rates, GPU counts under tensor parallelism: adapted, named.
    sidebar.say_adapted(result.adaptations)
    scen = result.scenario

    st.subheader(f"At temperature {scen.temperature:g} and batch {scen.batch_size}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Acceptance rate",
        f"{result.acceptance_rate:.3f}",
        help="a(T) for the draft tokens (the same for both models).",
    )
    m2.metric(
        "MoE tokens/s per user",
        f"{result.moe_tokens_per_s_per_user:.1f}",
        delta=f"{result.moe_tokens_per_s_per_user - result.moe_plain_tokens_per_s_per_user:+.1f} "
        "vs no speculation",
        help="Tokens/s each user sees with speculative decoding [tokens/s]; the delta is the "
        "change from decoding without it.",
    )
    m3.metric(
        "MoE speed-up",
        f"{result.moe_speedup:.2f}x",
        help="Decode speed with speculation over without, same batch, MoE model.",
    )
    m4.metric(
        "Dense speed-up",
        f"{result.dense_speedup:.2f}x",
        help="The same for the dense model with the MoE's active parameters.",
    )
    if result.extrapolated:
        st.warning(
            f"Temperature {scen.temperature:g} is above 1: the acceptance rate is "
            "extrapolated from the anchors at T = 0 and T = 1."
        )

    st.header("Acceptance and speed versus temperature (C9, C10)")
    verdicts.show_result("C10", result)
    by_t = result.by_temperature
    acc = by_t[by_t["speculative"] & (by_t["model_label"] == MOE)]
    charts.show_side_by_side(
        acceptance_chart(acc, scen.temperature),
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
        tables.show_rows(by_t[TEMPERATURE_COLUMNS], "speculative_vs_temperature.csv")

    st.subheader("The C9 preset: which assumptions reproduce Together's numbers")
    verdicts.show_result("C9", result)
    st.markdown(
        "The seed document gives only the two speeds. These assumptions, with the catalog's "
        "efficiencies, give them; other combinations would too (fewer draft tokens with a "
        "higher acceptance, a smaller batch with slower GPUs). *Current page* is what the "
        "sidebar and the inputs above hold now."
    )
    c9 = result.c9.rename(columns={"current": "current page", "together": "Together (C9)"})
    tables.show_rows(c9, "c9_preset.csv", full_height=True)

    st.header("How the gain changes with batch, MoE versus dense (C11)")
    verdicts.show("C11", scen)
    by_batch = result.by_batch
    panels = (  # (rows, y column, y title) against batch
        (by_batch[by_batch["speculative"]], "speculative_speedup", "Speed-up from speculation [x]"),
        (
            by_batch[by_batch["model_label"] == MOE],
            "experts_read_per_layer",
            "MoE experts read per layer per step [experts]",
        ),
    )
    charts.show_side_by_side(
        *(
            versus(
                rows,
                "batch_size",
                y,
                x_title=BATCH_TITLE,
                y_title=title,
                log_x=True,
                rule=scen.batch_size,
            )
            for rows, y, title in panels
        ),
        legend_rows=2,
    )
    st.caption(escape(result.c11_text))
    with st.expander("Table: speed-up versus batch"):
        tables.show_rows(by_batch[BATCH_COLUMNS], "speculative_vs_batch.csv")


@charts.cached
def acceptance_chart(acc: pd.DataFrame, temperature: float) -> alt.LayerChart:
    """The draft-token acceptance rate against temperature, the page's temperature marked."""
    line = charts.line_chart(
        acc,
        "temperature:Q",
        "acceptance_rate:Q",
        x_title=T_TITLE,
        y_title="Draft-token acceptance rate [0-1]",
    )
    return alt.layer(extrapolation_band(), line, current_rule(temperature, "temperature", T_TITLE))


def extrapolation_band() -> alt.LayerChart:
    """A shaded band over T in (1, 2]: the acceptance model is extrapolated there."""
    band = pd.DataFrame({"start": [1.0], "end": [2.0], "label": ["extrapolation (T > 1)"]})
    rect = (
        alt.Chart(band)
        .mark_rect(color="#f2c94c", opacity=0.18)
        .encode(
            x=alt.X("start:Q", title=T_TITLE), x2=alt.X2("end:Q"), tooltip=alt.TooltipValue(None)
        )
    )
    text = (
        alt.Chart(band)
        .transform_calculate(mid="(datum.start + datum.end) / 2")
        .mark_text(align="center", baseline="top", dy=4, color="#8a6d00")
        .encode(x=alt.X("mid:Q", title=T_TITLE), y=alt.YValue(0), text=alt.Text("label:N"))
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


@charts.cached
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


# --- Page --------------------------------------------------------------------------------

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
url.declare(*PARAMS)
# Presets outside the fragment: one may set sidebar fields, so the whole page reruns.
with st.container(border=True, horizontal=True, vertical_alignment="center"):
    widgets.preset_buttons(
        {name: widgets.settable(p) for name, p in PRESETS.items()},
        key="spec_preset",
        reset=SPEC_FIELDS,
    )
st.caption(
    f"*{presets.DEEPSEEK_R1_MTP_B200.name}*: NVIDIA's run with the model's own "
    "multi-token-prediction layers as the draft. The draft's cost here is the draft cost "
    "ratio above, not the MTP layers' share of the model."
)
results(sidebar.scenario())
tables.formula_expander("Formulas and assumptions", FORMULAS)
