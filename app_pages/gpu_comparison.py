"""GPU comparison: every catalog GPU serving the sidebar's model and workload (C4, C5, C14).

A thin view of ``costmodel.analyses.gpu_comparison.run``: inputs from its ``Options``,
the sidebar's price rule (your own GPU prices, ``gpu_prices=<gpu id>:<$/GPU-hour>``,
edited here too) and your own GPU
(``custom_gpu_*`` keys: ``costmodel.custom_gpu.CustomGpu``), one cached call, drawn.
"""

from __future__ import annotations

import dataclasses
import math

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, sidebar, tables, url, verdicts, widgets
from app_pages.ui.text import escape, literal
from costmodel import pricing
from costmodel.analyses import gpu_comparison as analysis
from costmodel.custom_gpu import CustomGpu
from costmodel.spec import specs

COST = analysis.COST
PRICE_LOW, PRICE_HIGH = analysis._PRICE_RANGE
CUSTOM_ID, CUSTOM_NAME = cache.CUSTOM_GPU_ID, cache.CUSTOM_GPU_NAME
#: Your GPU's inputs: ``custom_gpu_<spec>`` in the URL.
CUSTOM_PREFIX = "custom_gpu_"
CUSTOM_SPECS = {
    name: dataclasses.replace(spec, name=CUSTOM_PREFIX + name)
    for name, spec in specs(CustomGpu).items()
}
PARAMS = (*url.option_specs(analysis.Options), *CUSTOM_SPECS.values())
OWN = ("optimize_batch", "min_tokens_per_s_per_user")
WIDGET_ARGS = {"min_tokens_per_s_per_user": {"format": "%.0f"}}
DEFAULTS = {p.name: p.default for p in PARAMS}
PRESETS = {
    "December 2023 baseline": {**sidebar.PRESETS["December 2023 baseline"], **DEFAULTS},
    "Chat: ≥ 30 tokens/s": {"optimize_batch": True, "min_tokens_per_s_per_user": 30.0},
    "Owners' all-in cost": {"price_tier": "all_in_cost"},
}
CLAIM_IDS = ("C4", "C5", "C14")


def custom_gpu() -> CustomGpu | None:
    """Your GPU from its inputs, or None while a needed spec is empty (or one is bad)."""
    try:
        gpu = CustomGpu(**{n: url.value(s.name) for n, s in CUSTOM_SPECS.items()})
    except ValueError:
        return None
    return gpu if gpu.complete else None


# --- Page -------------------------------------------------------------------------------

st.title("GPU comparison")
st.markdown(
    "Which GPU serves the sidebar's model most cheaply? Every GPU in the catalog runs the "
    "sidebar's model, formats and request lengths on as few GPUs as hold it, each at a "
    "catalog rental price or yours. This page shows claims **C4** (the seed's 2x H100 at "
    "\\$1.95 is an optimistic setup), **C5** (2x A100 80GB gives about 32% more memory "
    "bandwidth per dollar than 2x H100) and **C14** (H200 and MI300X, with more memory and "
    "bandwidth, beat A100 and H100 on cost per token, partly by dropping tensor parallelism)."
)
url.declare(*PARAMS)
scen = sidebar.scenario()


@url.fragment
def comparison() -> None:
    """The page's own inputs and everything drawn from them (a change of them reruns only
    this: ``url.fragment``; a preset that sets sidebar fields reruns the app)."""
    controls, presets = st.columns([3, 1])
    with controls:
        values = {
            name: widgets.widget(name, column, **WIDGET_ARGS.get(name, {}))
            for name, column in zip(OWN, st.columns(2), strict=True)
        }
    with presets:
        widgets.preset_buttons(PRESETS, key="gpu_preset", reset=list(DEFAULTS))
    rule = sidebar.price_rule()
    st.caption(f"GPU prices: {escape(rule.text)} (the sidebar's price rule).")
    with st.expander("Your GPU prices and your own GPU", icon=":material/edit:"):
        price_editor(rule)
        custom = custom_inputs()
    try:
        options = analysis.Options(**values, price_rule=rule)
        result = cache.analysis(analysis, scen, options, custom)
    except ValueError as err:
        st.error(f"Cannot compare GPUs: {literal(str(err))}. Showing the defaults.")
        result = cache.analysis(analysis, sidebar.DEFAULT, analysis.Options())
    draw(result, values)


def price_editor(rule: pricing.PriceRule) -> None:
    """Each GPU's price under the sidebar's rule and yours (empty: the rule's); a change
    writes ``gpu_prices`` (the sidebar's rule) and reruns the whole app."""
    mine = dict(rule.own)
    listed = pricing.price_gpus(None, rule.replace(own=()), cache.catalog())
    gpus = cache.catalog().gpus
    table = pd.DataFrame(
        {
            "gpu": listed["gpu"],
            "name": gpus.loc[listed["gpu"], "name"].to_numpy(),
            "rule": listed["usd_per_gpu_hour"],
            "label": listed["label"],
            "usd_per_gpu_hour": listed["gpu"].map(mine).astype(float),
        }
    )
    edited = st.data_editor(
        table,
        key=f"gpu_prices_editor:{sorted(mine.items())}",
        hide_index=True,
        disabled=["gpu", "name", "rule", "label"],
        column_order=["name", "rule", "label", "usd_per_gpu_hour"],
        column_config={
            "name": st.column_config.Column("GPU"),
            "rule": st.column_config.NumberColumn("Tier's price [$/GPU-hour]", format="$%.2f"),
            "label": st.column_config.Column("Tier's price: source"),
            "usd_per_gpu_hour": st.column_config.NumberColumn(
                "Your price [$/GPU-hour]",
                min_value=PRICE_LOW,
                max_value=PRICE_HIGH,
                format="$%.2f",
                help="Empty: the price tier's",
            ),
        },
    )
    pairs = tuple(
        (g, float(p))
        for g, p in zip(edited["gpu"], edited["usd_per_gpu_hour"], strict=True)
        if p is not None and not math.isnan(p)
    )
    st.caption(
        "Kept in the URL as `gpu_prices=<gpu id>:<$/GPU-hour>`, once per GPU, and used on "
        "every page (the sidebar's price rule); your price of the sidebar's GPU is its "
        "GPU price there."
    )
    if dict(pairs) != mine:
        widgets.set_values({"gpu_prices": tuple(sorted(pairs))})
        st.rerun(scope="app")


def custom_inputs() -> CustomGpu | None:
    """Your GPU's specs (URL-bound ``custom_gpu_*`` inputs); the GPU, or None until the
    specs marked * are typed."""
    st.markdown(f"**{CUSTOM_NAME}** — compared beside the others once the specs marked * are set.")
    columns = st.columns(5)
    for i, (name, spec) in enumerate(CUSTOM_SPECS.items()):
        star = " *" if name in CustomGpu.NEEDED else ""
        widgets.widget(spec.name, columns[i % 5], label=spec.labelled + star)
    return custom_gpu()


@charts.cached
def cost_chart(curves: pd.DataFrame, compared: pd.DataFrame) -> alt.Chart:
    """Cost per million output tokens against batch (both log) per setup, with a ring at
    the batch each setup is compared at (``compared``: the table's rows)."""
    chart = charts.line_chart(
        curves,
        "batch_size:Q",
        f"{COST}:Q",
        x_title="Batch size [sequences, log]",
        y_title="$ per million output tokens (log)",
        color="setup:N",
        color_title="Setup",
        tooltip=[
            alt.Tooltip("setup:N", title="Setup"),
            alt.Tooltip("batch_size:Q", title="Batch [sequences]"),
            alt.Tooltip(f"{COST}:Q", title="$ per million output tokens", format=",.3f"),
            alt.Tooltip("tokens_per_s_per_user:Q", title="Tokens/s per user", format=",.1f"),
        ],
        log_x=True,
    ).encode(
        y=alt.Y(
            f"{COST}:Q", title="$ per million output tokens (log)", scale=alt.Scale(type="log")
        ),
        color=charts.color_encoding(
            "setup:N",
            curves["setup"].unique(),
            "Setup",
            legend=alt.Legend(orient="bottom", columns=3, labelLimit=300),
        ),
    )
    marks = (
        alt.Chart(compared)
        .mark_point(size=160, filled=False, strokeWidth=2, color="black")
        .encode(
            x=alt.X("batch_size:Q", scale=alt.Scale(type="log")),
            y=alt.Y(f"{COST}:Q", scale=alt.Scale(type="log")),
            tooltip=[
                alt.Tooltip("setup:N", title="Setup"),
                alt.Tooltip("batch_size:Q", title="Compared at batch [sequences]"),
                alt.Tooltip(f"{COST}:Q", title="$ per million output tokens", format=",.3f"),
            ],
        )
    )
    return alt.layer(chart, marks).properties(height=640)


@charts.cached
def bandwidth_chart(bandwidth: pd.DataFrame) -> alt.Chart:
    """Peak bandwidth per dollar per GPU (C5; the GPUs with a price), the user's own
    prices in their colour."""
    finite = bandwidth[bandwidth["bandwidth_tb_s_per_usd_hour"].map(math.isfinite)]
    finite = finite.assign(yours=finite["price_source"] == "your price")
    bars = (
        alt.Chart(finite)
        .mark_bar()
        .encode(
            x=alt.X(
                "bandwidth_tb_s_per_usd_hour:Q", title="Peak bandwidth per $ [TB/s per $/GPU-hour]"
            ),
            y=alt.Y("name:N", title="GPU", sort="-x", axis=alt.Axis(labelLimit=260)),
            color=alt.Color(
                "yours:N",
                title="Your price",
                scale=alt.Scale(domain=[False, True], range=["#4c78a8", "#f58518"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("name:N", title="GPU"),
                alt.Tooltip("bandwidth_tb_s:Q", title="Bandwidth [TB/s]"),
                alt.Tooltip("usd_per_gpu_hour:Q", title="$/GPU-hour", format="$.2f"),
                alt.Tooltip("price_source:N", title="Price"),
                alt.Tooltip("vs_h100_pct:Q", title="Against the H100 SXM [%]", format="+.0f"),
            ],
        )
    )
    return bars.properties(height=alt.Step(20))


def draw(result: analysis.Result, values: dict) -> None:
    """The winner, the table, the cost curves, bandwidth per dollar, the claims, the tornado."""
    st.subheader("Who wins")
    st.markdown(escape(result.winner_text))
    skipped = result.skipped
    st.caption(
        escape(result.scope_text)
        + (f" Not compared (no fit or no price): {escape(', '.join(skipped))}." if skipped else "")
    )
    table = result.table
    if values["optimize_batch"] and table["batch_size"].isna().any():
        missed = ", ".join(table.loc[table["batch_size"].isna(), "setup"])
        st.warning(
            f"No fitting batch gives {values['min_tokens_per_s_per_user']:.0f} tokens/s per "
            f"user on: {escape(missed)}."
        )
    tables.show_table(
        table.drop(columns=["memory_time_ms", "compute_time_ms"]),
        "gpu_comparison.csv",
        hide_index=True,
        column_config={
            **tables.COST_CONFIG,
            "bandwidth_tb_s_per_usd_hour": {"label": "Bandwidth per $ [TB/s per $/GPU-h]"},
            "allreduce_share_pct": {"label": "All-reduce share of step [%]"},
        },
    )
    st.caption(
        "Low and high: the cost when bandwidth and compute efficiency are moved by the GPU "
        "family's uncertainty (`headline_range`). Speeds and headroom are per replica at the "
        "batch shown."
    )
    st.subheader("Cost versus batch size")
    if result.curves.empty:
        st.warning(
            "No GPU setup in the comparison holds this scenario (weights and the batch's KV "
            "cache exceed even the largest replica): lower the batch or the lengths."
        )
        return
    shown = ["setup", "gpu", "n_gpus", "usd_per_gpu_hour", "batch_size", COST]
    curves = result.curves[[*shown, "tokens_per_s_per_user"]]
    charts.show_chart(cost_chart(curves, table.dropna(subset=["batch_size"])[shown]))
    st.caption(
        "Only batches that fit in memory are drawn. Black rings: the batch each setup "
        "is compared at in the table."
    )
    tables.download_csv(
        curves,
        "gpu_cost_vs_batch.csv",
        label="Download chart data (CSV)",
    )

    st.subheader("C5: memory bandwidth per dollar, at the prices compared")
    charts.show_chart(bandwidth_chart(result.bandwidth_per_dollar))
    st.markdown(escape(result.c5_text))
    st.caption("Set your own prices above to try C5 at them: the bars and the sentence follow.")

    st.subheader("The claims on this page")
    verdicts.show_all(CLAIM_IDS, scen)
    st.caption(
        "Verdicts at the sidebar's scenario and the analyses' default options (catalog "
        "prices), from `costmodel.claims.check_all`; the sentences above use your settings."
    )
    tables.formula_expander(
        "Formulas: cost per token, bandwidth per dollar, batch choice",
        r"""
- **Cost per million output tokens** = $n \cdot p / 3600 / u \cdot t_\text{token} / B \cdot 10^6$,
  with $n$ GPUs at $p$ \$/GPU-hour, utilisation $u$, batch $B$ and $t_\text{token}$ the
  decode step time [s] per generated token (`costmodel.evaluate`).
- **Bandwidth per dollar** = peak memory bandwidth [TB/s] / price [\$/GPU-hour], per GPU.
  The A100's advantage = $(\text{bw}_A / p_A) / (\text{bw}_H / p_H) - 1$; the A100 price that
  gives +32% is $p_A = \text{bw}_A \, p_H / (1.32\, \text{bw}_H)$.
- **GPU count** $n$ = `min_gpus` at the sidebar's batch; for the sidebar's GPU
  $\max(\text{min\_gpus}, n_\text{sidebar})$.
- **Best batch at a speed target**: over `costmodel.batch_grid()`, the fitting batch with the
  largest replica throughput whose tokens/s per user ≥ the target.
- **Low / high**: `costmodel.sensitivity.headline_range`, efficiencies moved by the family's
  `efficiency_uncertainty`.
""",
    )
    st.subheader("What the cheapest setup's cost hangs on")
    if result.winner and result.best_range:
        best = result.scenarios[result.winner]
        if best.gpu != CUSTOM_ID:
            st.markdown(
                f"{escape(result.winner)} at batch {best.batch_size}: "
                + charts.headline_range_text(best, COST, "per million output tokens")
            )
            charts.tornado_section(best, COST, "$ per million output tokens")
        else:
            st.markdown(f"{CUSTOM_NAME} wins; its sensitivity is in the CSV below.")
            tables.show_table(result.tornado, f"tornado_{COST}.csv", hide_index=True)


comparison()
