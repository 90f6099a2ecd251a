"""Fleet sizing: how many GPUs, of which type, serve my traffic within my latency targets,
and what do they and their power cost (``costmodel.analyses.fleet_sizing``; issue 20).

A thin view: the page's inputs are the analysis's ``Options`` (URL keys), one cached
call (``planning.run``), drawn.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, planning, tables, url, widgets
from app_pages.ui.text import escape
from costmodel.analyses import fleet_sizing as analysis

#: The page's traffic at most 100,000 requests/s (10 trillion tokens a day): a cold sizing
#: takes seconds up to 10,000 requests/s, about 17 s at 100,000, minutes at 1,000,000 (the
#: prefill pools' searches grow with their size).
PARAMS = planning.option_specs(
    analysis.Options, requests_per_s={"high": 1e5}, tokens_per_day={"high": 1e13}
)
TRAFFIC = ("requests_per_s", "tokens_per_day")
ENERGY = ("pue", "usd_per_kwh", "load_power_fraction")
QUANTILES = (50, 90, 99)
LATENCIES = {"ttft": "TTFT, time to first token", "tpot": "TPOT, time per output token"}
#: Latency targets (TTFT, TPOT) for three uses; each sets all six targets.
PRESETS = {
    "Chat (p90: 2 s, 50 ms)": {
        "ttft_p50_ms": None,
        "ttft_p90_ms": 2000.0,
        "ttft_p99_ms": None,
        "tpot_p50_ms": None,
        "tpot_p90_ms": 50.0,
        "tpot_p99_ms": None,
    },
    "Snappy (p99: 1 s, 25 ms)": {
        "ttft_p50_ms": None,
        "ttft_p90_ms": None,
        "ttft_p99_ms": 1000.0,
        "tpot_p50_ms": None,
        "tpot_p90_ms": None,
        "tpot_p99_ms": 25.0,
    },
    "Batch jobs (60 s, 200 ms)": {
        "ttft_p50_ms": None,
        "ttft_p90_ms": 60000.0,
        "ttft_p99_ms": None,
        "tpot_p50_ms": 200.0,
        "tpot_p90_ms": None,
        "tpot_p99_ms": None,
    },
}
LATENCY_SHOWN = [
    "setup",
    *(f"{m}_p{q}_ms" for m in LATENCIES for q in QUANTILES),
    "utilization",
    "slot_overflow_probability",
    "meets_targets",
]
#: The fleet table's columns as shown, in order, and their labels (the CSV keeps every
#: column of the plan).
FLEET_CONFIG = {
    "setup": {"label": "Fleet"},
    "total_gpus": planning.number("GPUs", "localized"),
    "usd_per_month": planning.number("$ a month", "dollar"),
    "usd_per_million_output_tokens": planning.number("$/M output tokens", "$%.3f"),
    "usd_per_million_tokens": planning.number("$/M tokens (prompt + output)", "$%.4f"),
    "binding": {"label": "What binds"},
    "serving": {"label": "Serving"},
    "parallelism": {"label": "Parallelism"},
    "gpus_per_replica": {"label": "GPUs per decode replica"},
    "batch_cap": {"label": "Batch cap [sequences]"},
    "replicas": {"label": "Decode replicas"},
    "prefill_gpus_per_instance": {"label": "GPUs per prefill instance"},
    "prefill_instances": {"label": "Prefill instances"},
    "prefill_to_decode_gpu_ratio": planning.number("Prefill : decode GPUs", "%.2f"),
    "usd_per_gpu_hour": planning.number("$/GPU-hour", "$%.2f"),
    "price_label": {"label": "Price: source"},
    "utilization": planning.number("Busiest queue's load [0-1]", "%.2f"),
    "slot_overflow_probability": planning.number("P(all batch slots taken)", "%.4f"),
    "meets_targets": {"label": "Meets every target"},
}
FLEET_SHOWN = [c for c in FLEET_CONFIG if c not in LATENCY_SHOWN[-2:]]
ENERGY_CONFIG = {
    "gpu": {"label": "GPU"},
    "total_gpus": planning.number("GPUs", "%d"),
    "joules_per_output_token": planning.number("Energy per output token [J]", "%.2f"),
    "output_tokens_per_s_per_mw": planning.number("Output tokens/s per MW", "localized"),
    "electricity_usd_per_million_output_tokens": planning.number(
        "Electricity [$/M output tokens]", "$%.4f"
    ),
    "electricity_share_pct": planning.number("Share of the rent [%]", "%.1f"),
    "electricity_usd_per_month": planning.number("Electricity [$ a month]", "dollar"),
    "facility_power_kw": planning.number("Facility power [kW]", "%.1f"),
    "it_power_kw": planning.number("IT power [kW]", "%.1f"),
    "all_in_power_w": planning.number("All-in power per GPU [W]", "%.0f"),
    "all_in_basis": {"label": "All-in power: source"},
    "electricity_is": {"label": "Electricity is"},
}


st.title("Fleet sizing")
st.markdown(
    "How many GPUs serve **your traffic** within **your latency targets**, and what do they "
    "and their power cost a month? For the sidebar's model and formats, every GPU type "
    "chosen below is sized: GPUs per replica, tensor or expert parallelism, batch cap, and "
    "prefill on the same GPUs (aggregated) or on a pool of its own (disaggregated), each "
    "sized with a queueing model that gives p50, p90 and p99 of the time to first token "
    "(TTFT) and the time per output token (TPOT). GPUs are priced by the sidebar's price "
    "rule; the sidebar's GPU, GPU count and batch are not used here."
)
url.declare(*PARAMS)


@url.fragment
def sizing() -> None:
    """The page's inputs, one cached run, and everything drawn from it."""
    inputs, presets = st.columns([4, 1])
    with inputs:
        top = st.columns([3, 1, 1, 1])
        values = planning.workload_inputs(top[0], top[3])
        per_day = url.value("tokens_per_day") is not None
        locked = {"disabled": True, "help": "The traffic in tokens a day is set: it counts"}
        values |= widgets.inputs(
            TRAFFIC,
            top[1:3],
            requests_per_s=locked if per_day else {},
            tokens_per_day={"format": "%.2e", "placeholder": "not set"},
        )
        values |= planning.target_inputs()
        values |= planning.fleet_inputs()
        with st.expander("Energy: PUE, electricity price, power drawn", icon=":material/bolt:"):
            values |= widgets.inputs(ENERGY, st.columns(3), usd_per_kwh={"format": "%.3f"})
    with presets:
        widgets.preset_buttons(PRESETS, key="fleet_preset", reset=[p.name for p in PARAMS])
    found = planning.run(analysis, values, "Sizing fleets")
    if found is not None:
        draw(*found)


def draw(result: analysis.Result, options: analysis.Options) -> None:
    """The answer, the fleets, their latencies and energy, the workload."""
    plan = result.plan
    st.markdown(f"**Answer.** {escape(result.verdict)}")
    if plan.best is None:
        st.warning("No GPU type meets every target: loosen a target or try other GPU types.")
        infeasible(plan.infeasible)
        planning.workload_section(options, result.workload)
        return
    best, power = plan.best, result.energy.iloc[0]
    names = cache.catalog().gpus["name"]
    row = st.columns(5)
    row[0].metric(f"Cheapest: {names.get(best['gpu'])}", f"{best['total_gpus']:,} GPUs")
    row[1].metric("Cost a month", f"${best['usd_per_month']:,.0f}")
    row[2].metric("Per million output tokens", f"${best['usd_per_million_output_tokens']:,.3f}")
    row[3].metric("Energy per output token", f"{power['joules_per_output_token']:,.2f} J")
    row[4].metric("Output tokens/s per MW", f"{power['output_tokens_per_s_per_mw']:,.0f}")
    st.caption(
        f"Traffic: {plan.requests_per_s:,.3g} requests/s, sized for "
        f"{plan.requests_per_s * (1 + plan.headroom):,.3g} with {plan.headroom:.0%} headroom; "
        "costs per token at the traffic itself. Rent = GPUs x $/GPU-hour x 730 h a month."
    )

    st.subheader("Cheapest fleet per GPU type")
    charts.show_chart(cost_chart(plan.cheapest, names.to_dict()))
    tables.show_table(
        plan.cheapest,
        "fleet.csv",
        hide_index=True,
        column_config=FLEET_CONFIG,
        column_order=FLEET_SHOWN,
    )
    st.caption(
        "**What binds**: the limit the fleet meets with least to spare as traffic grows: "
        "*memory* (a replica's batch slots: at most 1 % of the time all taken), a latency "
        "target, or, disaggregated, the decode pool's slots and the prefill pool's target "
        "(*prefill capacity*: the fewest prefill instances that keep up already meet it). "
        "The CSV holds every column, at full precision."
    )
    infeasible(plan.infeasible)

    st.subheader("Latency at the design traffic against the targets")
    for column, (metric, title) in zip(st.columns(2), LATENCIES.items(), strict=True):
        with column:
            charts.show_chart(latency_chart(plan.cheapest, plan.targets, metric, title))
    st.caption(
        "Each GPU type's cheapest fleet evaluated back through the queueing model at the "
        "design traffic (traffic x (1 + headroom)); red ticks: the targets set."
    )
    tables.show_table(
        plan.cheapest,
        "fleet_latency.csv",
        hide_index=True,
        column_config={**FLEET_CONFIG, **latency_labels(plan.targets)},
        column_order=LATENCY_SHOWN,
    )

    st.subheader("Runner-ups: the next cheapest setups")
    if plan.runner_ups.empty:
        st.caption("No other setup meets the targets.")
    else:
        tables.show_table(
            plan.runner_ups,
            "fleet_runner_ups.csv",
            hide_index=True,
            column_config=FLEET_CONFIG,
            column_order=FLEET_SHOWN,
        )
        st.caption(
            "The cheapest fleet of each other setup (GPU type, serving, parallelism, GPUs "
            "per replica and per prefill instance), whatever its batch cap."
        )

    st.subheader("Energy")
    tables.show_table(
        planning.gpu_rows(result.energy),
        "fleet_energy.csv",
        hide_index=True,
        column_config=ENERGY_CONFIG,
        column_order=list(ENERGY_CONFIG),
    )
    st.caption(
        f"Facility power = GPUs x all-in power per GPU x power drawn "
        f"({options.load_power_fraction:.2f}) x PUE ({options.pue:.2f}); all-in: the "
        "GPU's share of its system at full load (CPUs, memory, network, fans). **These fleets "
        "are rented: their electricity is inside the rental price**, not added to it; the "
        f"share says how much of the rent pays for power at ${options.usd_per_kwh:.3f}/kWh. "
        "For a bought fleet, electricity is a cost line: see the *API, rent or buy* page."
    )
    planning.workload_section(options, result.workload)
    with st.expander("GPU prices used", icon=":material/sell:"):
        planning.prices_table(result.prices, "fleet_gpu_prices.csv")


def latency_labels(targets: dict) -> dict:
    """Column labels of the latency quantiles, each with its target where one is set."""
    labels = {}
    for metric in LATENCIES:
        for q in QUANTILES:
            key = f"{metric}_p{q}_ms"
            target = f" (≤ {targets[key]:,.0f})" if key in targets else ""
            labels[key] = planning.number(f"{metric.upper()} p{q} [ms]{target}", "%.1f")
    return labels


def infeasible(why: pd.DataFrame) -> None:
    """The GPU types without a fleet meeting the targets, and why (candidates per reason)."""
    if why.empty:
        return
    st.markdown("**GPU types with no fleet meeting the targets**")
    tables.show_table(
        planning.gpu_rows(why),
        "fleet_infeasible.csv",
        hide_index=True,
        column_config={
            "gpu": {"label": "GPU"},
            "why": {"label": "Why (reason x configurations tried)"},
        },
    )


@charts.cached
def cost_chart(cheapest: pd.DataFrame, names: dict) -> alt.LayerChart:
    """Each GPU type's cheapest fleet: its monthly rent as a bar, labelled with its GPU
    count and what binds."""
    rows = cheapest.assign(
        gpu_name=cheapest["gpu"].map(names),
        label=cheapest["total_gpus"].map("{:,} GPUs".format) + " · " + cheapest["binding"],
    )
    order = list(rows["gpu_name"])
    room = alt.Scale(domain=[0, 1.8 * rows["usd_per_month"].max()])  # for the labels
    base = alt.Chart(rows).encode(
        y=alt.Y("gpu_name:N", title="GPU type", sort=order, axis=alt.Axis(labelLimit=240)),
        x=alt.X("usd_per_month:Q", title="Rent of the fleet [$ a month]", scale=room),
        tooltip=[
            alt.Tooltip("setup:N", title="Fleet"),
            alt.Tooltip("total_gpus:Q", title="GPUs", format=","),
            alt.Tooltip("usd_per_month:Q", title="$ a month", format="$,.0f"),
            alt.Tooltip(
                "usd_per_million_output_tokens:Q", title="$/M output tokens", format="$.3f"
            ),
            alt.Tooltip("binding:N", title="What binds"),
            alt.Tooltip("ttft_p90_ms:Q", title="TTFT p90 [ms]", format=",.0f"),
            alt.Tooltip("tpot_p90_ms:Q", title="TPOT p90 [ms]", format=",.1f"),
        ],
    )
    bars = base.mark_bar().encode(
        color=charts.color_encoding("gpu_name:N", order, "GPU type", legend=None)
    )
    text = base.mark_text(align="left", dx=4, color="#333").encode(text="label:N")
    return alt.layer(bars, text).properties(height=alt.Step(34))


@charts.cached
def latency_chart(cheapest: pd.DataFrame, targets: dict, metric: str, title: str) -> alt.LayerChart:
    """``metric`` ("ttft" or "tpot") at p50, p90 and p99 of each GPU type's cheapest fleet,
    with its targets as red ticks."""
    columns = {f"{metric}_p{q}_ms": f"p{q}" for q in QUANTILES}
    rows = cheapest.assign(gpu_name=cheapest["gpu"].map(cache.catalog().gpus["name"])).melt(
        id_vars=["gpu_name", "setup"],
        value_vars=list(columns),
        var_name="quantile",
        value_name="ms",
    )
    rows["quantile"] = rows["quantile"].map(columns)
    goals = pd.DataFrame(
        {"quantile": [columns[k] for k in columns if k in targets]},
    ).assign(ms=[targets[k] for k in columns if k in targets])
    x = alt.X(
        "quantile:N", title="Quantile", sort=list(columns.values()), axis=alt.Axis(labelAngle=0)
    )
    y = alt.Y("ms:Q", title=f"{metric.upper()} [ms]")
    lines = (
        alt.Chart(rows)
        .mark_line(point=True)
        .encode(
            x=x,
            y=y,
            color=charts.color_encoding(
                "gpu_name:N",
                rows["gpu_name"],
                "GPU type",
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=0),
            ),
            tooltip=[
                alt.Tooltip("setup:N", title="Fleet"),
                alt.Tooltip("quantile:N", title="Quantile"),
                alt.Tooltip("ms:Q", title=f"{title} [ms]", format=",.1f"),
            ],
        )
    )
    ticks = (
        alt.Chart(goals)
        .mark_tick(color="#d62728", thickness=3, size=40)
        .encode(
            x=x,
            y=y,
            tooltip=[
                alt.Tooltip("quantile:N", title="Target on"),
                alt.Tooltip("ms:Q", title="Target [ms]", format=",.0f"),
            ],
        )
    )
    return alt.layer(lines, ticks).properties(height=300)


sizing()
