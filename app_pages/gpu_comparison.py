"""GPU comparison: every catalog GPU serving the sidebar's model and workload (C4, C5, C14).

A thin view of ``costmodel.analyses.gpu_comparison.run``: inputs from its ``Options``,
your own GPU prices (``gpu_prices=<gpu id>:<$/GPU-hour>``, repeated) and your own GPU
(``custom_gpu_*`` keys, added with ``Catalog.with_gpu``), one cached call, drawn.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, gate, params, tables, verdicts
from app_pages.ui.text import escape, literal
from costmodel import pricing
from costmodel.analyses import gpu_comparison as analysis

COST = analysis.COST
PRICE_LOW, PRICE_HIGH = analysis._PRICE_RANGE
CUSTOM_ID, CUSTOM_NAME = "custom-gpu", "Your GPU"
EXAMPLE_PRICE = 2.0  # [$/GPU-hour] the price in the examples of a gpu_prices entry
#: Your GPU's specs: URL key suffix -> (label, low, high, default; None: must be typed).
#: Defaults are an H100 SXM's links (NVLink 900 GB/s in an 8-GPU node, 400 Gb/s NIC).
CUSTOM_SPECS = {
    "hbm_gb": ("Memory [GB]", 1.0, 4096.0, None),
    "bandwidth_tb_s": ("Bandwidth [TB/s]", 0.05, 100.0, None),
    "bf16_dense_tflops": ("BF16 dense [TFLOPS]", 1.0, 100000.0, None),
    "fp8_dense_tflops": ("FP8 dense [TFLOPS] (empty: none)", 1.0, 100000.0, None),
    "fp4_dense_tflops": ("FP4 dense [TFLOPS] (empty: none)", 1.0, 100000.0, None),
    "scale_up_gb_s": ("Scale-up [GB/s]", 1.0, 100000.0, 900.0),
    "scale_up_domain_gpus": ("Scale-up domain [GPUs]", 1, 576, 8),
    "scale_out_gb_s": ("Scale-out [GB/s]", 1.0, 10000.0, 50.0),
    "usd_per_gpu_hour": ("Price [$/GPU-hour]", PRICE_LOW, PRICE_HIGH, None),
}
#: Typed specs without which there is no GPU to add.
CUSTOM_NEEDED = ("hbm_gb", "bandwidth_tb_s", "bf16_dense_tflops", "usd_per_gpu_hour")

#: What ``gpu_prices`` may price: the catalog's GPUs, the rows of the price table (your own
#: GPU's price is ``custom_gpu_usd_per_gpu_hour``).
GPU_IDS = list(cache.catalog().gpus.index)
PRICE = gate.number("usd_per_gpu_hour", None, PRICE_LOW, PRICE_HIGH)
CUSTOM_PARAMS = tuple(
    gate.number(f"custom_gpu_{k}", d, lo, hi, integer=isinstance(lo, int))
    for k, (_, lo, hi, d) in CUSTOM_SPECS.items()
)
FAMILY = gate.choice("custom_gpu_family", "hopper", list(cache.catalog().gpu_families.index))
PRICES = gate.Param(
    "gpu_prices", [], str, choices=gate.IdNumbers(GPU_IDS, PRICE, EXAMPLE_PRICE), many=True
)
#: The other GPUs' price tier (the library's ``price_rule``; the sidebar's rule replaces it
#: when the pages share one).
TIER = gate.choice(
    "price_tier", pricing.PriceRule().tier, [t for t in pricing.RULE_TIERS if t != pricing.OWN]
)
PARAMS = (*params.options_params(analysis.Options, skip=("price_rule",)), TIER, PRICES, FAMILY)
PARAMS += CUSTOM_PARAMS
OWN = ("optimize_batch", "min_tokens_per_s_per_user")
WIDGET_ARGS = {"min_tokens_per_s_per_user": {"format": "%.0f"}}
DEFAULTS = {p.key: p.default for p in PARAMS if p.key != "gpu_prices"}
PRESETS = {
    "December 2023 baseline": {**params.PRESETS["December 2023 baseline"], **DEFAULTS},
    "Chat: ≥ 30 tokens/s": {"optimize_batch": True, "min_tokens_per_s_per_user": 30.0},
    "Owners' all-in cost": {"price_tier": "all_in_cost"},
}
CLAIM_IDS = ("C4", "C5", "C14")


def user_prices() -> tuple[tuple[str, float], ...]:
    """The URL's ``gpu_prices`` (after the gate) as (gpu id, $/GPU-hour) pairs, last wins."""
    return gate.IdNumbers.parse(st.query_params.get_all("gpu_prices"))


def custom_gpu(values: dict) -> tuple:
    """``Catalog.with_gpu`` keyword items of your GPU, or () while a needed spec is empty."""
    if any(values[k] is None for k in CUSTOM_NEEDED):
        return ()
    specs = {k: v for k, v in values.items() if v is not None}
    return ((("gpu_id", CUSTOM_ID), ("name", CUSTOM_NAME), *sorted(specs.items())),)


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
params.declare(*PARAMS)
scen = params.scenario()


@params.fragment
def comparison() -> None:
    """The page's own inputs and everything drawn from them (a change of them reruns only
    this: ``params.fragment``; a preset that sets sidebar fields reruns the app)."""
    controls, presets = st.columns([3, 1])
    with controls:
        columns = st.columns(3)
        tier = params.selectbox(
            TIER.key,
            "Price of the other GPUs",
            columns[0],
            help="Which catalog price each other GPU gets [$/GPU-hour]: its newest of this "
            "tier (assets/gpu_prices.csv); a GPU without one is left out. The scenario's GPU "
            "gets the scenario's price, your prices win.",
        )
        values = params.options_inputs(analysis.Options, OWN, columns[1:], **WIDGET_ARGS)
    with presets:
        params.preset_buttons(PRESETS, key="gpu_preset", reset=list(DEFAULTS))
    with st.expander("Your GPU prices and your own GPU", icon=":material/edit:"):
        prices = price_editor(scen)
        custom = custom_inputs()
    try:
        rule = pricing.PriceRule(tier=tier, own=prices)
        options = analysis.Options(**values, price_rule=rule)
        result = cache.analysis("gpu_comparison", scen, options, custom)
    except ValueError as err:
        st.error(f"Cannot compare GPUs: {literal(str(err))}. Showing the defaults.")
        result = cache.analysis("gpu_comparison", params.DEFAULT, analysis.Options())
    draw(result, values)


def price_editor(scen) -> tuple[tuple[str, float], ...]:
    """Your price per GPU (empty: the catalog's); writes ``gpu_prices`` into the URL."""
    mine = dict(user_prices())
    gpus = cache.catalog().gpus
    table = pd.DataFrame(
        {"gpu": gpus.index, "name": gpus["name"].to_numpy(), "usd_per_gpu_hour": None}
    )
    table["usd_per_gpu_hour"] = table["gpu"].map(mine).astype(float)
    edited = st.data_editor(
        table,
        key=f"gpu_prices_editor:{sorted(mine.items())}",
        hide_index=True,
        disabled=["gpu", "name"],
        column_config={
            "gpu": st.column_config.Column("GPU id"),
            "name": st.column_config.Column("GPU"),
            "usd_per_gpu_hour": st.column_config.NumberColumn(
                "Your price [$/GPU-hour]",
                min_value=PRICE_LOW,
                max_value=PRICE_HIGH,
                format="$%.2f",
                help="Empty: the catalog's price (or the sidebar's, for its GPU)",
            ),
        },
    )
    pairs = tuple(
        (g, float(p))
        for g, p in zip(edited["gpu"], edited["usd_per_gpu_hour"], strict=True)
        if p is not None and not math.isnan(p)
    )
    if dict(pairs) != mine:
        st.query_params["gpu_prices"] = [f"{g}:{PRICES.text(p)}" for g, p in pairs]
    # Mirrored in the session as a widget's value would be (Back restores it, params._remember).
    st.session_state["gpu_prices"] = st.query_params.get_all("gpu_prices")
    st.caption(
        "Kept in the URL as `gpu_prices=<gpu id>:<$/GPU-hour>`, once per GPU. Your price "
        "replaces the catalog's and the sidebar's."
    )
    return pairs


def custom_inputs() -> tuple:
    """Your GPU's specs (URL-bound ``custom_gpu_*`` inputs); its ``with_gpu`` items or ()."""
    st.markdown(f"**{CUSTOM_NAME}** — compared beside the others once the specs marked * are set.")
    columns = st.columns(5)
    values = {
        "family": params.selectbox(
            "custom_gpu_family",
            "Efficiencies of the family",
            columns[0],
            help="Its bandwidth and compute efficiencies, all-reduce latency and uncertainty "
            "come from this family (assets/gpu_families.csv)",
        )
    }
    for i, (key, (label, *_rest)) in enumerate(CUSTOM_SPECS.items(), start=1):
        star = " *" if key in CUSTOM_NEEDED else ""
        step = 1 if key == "scale_up_domain_gpus" else 0.05 if key == "usd_per_gpu_hour" else 1.0
        values[key] = params.number_input(f"custom_gpu_{key}", label + star, step, columns[i % 5])
    return custom_gpu(values)


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
    skipped = result.skipped
    st.caption(
        "**GPU count:** each GPU runs on the fewest GPUs (a power of two, for tensor "
        "parallelism) that hold the weights, the KV cache of the sidebar's batch and the "
        "overhead (`min_gpus`); the sidebar's GPU on at least the sidebar's GPU count."
        + (f" Not compared (no fit or no price): {escape(', '.join(skipped))}." if skipped else "")
    )
    st.subheader("Who wins")
    st.markdown(escape(result.winner_text))
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
            "gpu": {"label": "GPU id"},
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
