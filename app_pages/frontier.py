"""Throughput against interactivity: every GPU's front, its cost, and the cheapest setup
meeting latency targets (``costmodel.analyses.frontier``; issue 11 item 6)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import cache, charts, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel import presets
from costmodel.analyses import frontier as analysis
from costmodel.frontier import DEFAULT_MAX_GPUS

COST = analysis.COST
#: GPUs compared by default: those today's large models are served on.
PAGE_GPUS = ("h100-sxm", "h200-sxm", "b200", "gb200", "mi355x")
#: Page rules that differ from the analysis's: its default GPUs, and at most one NVL72
#: rack per pool (more GPUs multiply the candidates and the time to redraw).
PARAMS = url.option_specs(
    analysis.Options, gpus={"default": PAGE_GPUS}, max_gpus={"high": DEFAULT_MAX_GPUS}
)
PRESET = presets.DEEPSEEK_R1_MTP_B200
#: Sidebar fields the sweep sets itself (each GPU of ``gpus``, its GPU counts, batches,
#: each GPU's price under the price rule).
SWEPT_FIELDS = ("gpu", "n_gpus", "batch_size", "usd_per_gpu_hour")
#: InferenceX read-off (reference/serving-disclosures.md): DeepSeek-R1 FP8, 8k in / 1k out,
#: output tokens/s per GPU at 75 tokens/s per user.
INFERENCEX_TOKENS_PER_S_PER_USER = 75.0
INFERENCEX = {"b200": 2558.0, "gb200": 5790.0}
INFERENCEX_WORKLOAD = {"prompt_tokens": 8192, "output_tokens": 1024, "weight_format": "fp8"}
X_TITLE = "Tokens/s per user [tokens/s, log scale]"
Y_TITLE = "Output tokens/s per GPU [tokens/s, log scale]"
COST_TITLE = "$ per million output tokens, all-in [$/M, log scale]"
SHOWN_COLUMNS = [
    "setup",
    "gpu_name",
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    COST,
    "ttft_ms",
    "tpot_ms",
    "batch_size",
    "n_gpus",
    "prefill_gpus",
    "gpus_per_replica",
    "usd_per_gpu_hour",
]
COLUMN_LABELS = {
    "gpu_name": "GPU",
    COST: "$/M output tokens, all-in",
    "output_tokens_per_s_per_gpu": "Output tokens/s per GPU",
    "ttft_ms": "TTFT [ms]",
    "tpot_ms": "TPOT [ms]",
    "prefill_gpus": "Prefill GPUs",
    "gpus_per_replica": "GPUs per replica (both pools)",
    "rank": "Rank",
}


#: A point's configuration, latencies and cost.
TOOLTIP = [
    alt.Tooltip("gpu_name:N", title="GPU"),
    alt.Tooltip("setup:N", title="Setup"),
    alt.Tooltip("batch_size:Q", title="Batch [sequences]"),
    alt.Tooltip("parallelism:N", title="Parallelism"),
    alt.Tooltip("tokens_per_s_per_user:Q", title="Tokens/s per user", format=",.1f"),
    alt.Tooltip("output_tokens_per_s_per_gpu:Q", title="Output tokens/s per GPU", format=",.0f"),
    alt.Tooltip("ttft_ms:Q", title="TTFT [ms]", format=",.0f"),
    alt.Tooltip("tpot_ms:Q", title="TPOT [ms]", format=",.2f"),
    alt.Tooltip(f"{COST}:Q", title="$/M output tokens, all-in", format=",.3f"),
]


st.title("Throughput vs interactivity")
st.markdown(
    "Every way of serving the model (batch size, GPUs per replica, tensor or expert "
    "parallelism, prefill on the same GPUs or on a pool of its own) is one point: how fast "
    "each user is served (tokens/s per user) against how much one GPU produces (output "
    "tokens/s per GPU, hence the cost). The **front** of each GPU is the set of setups no "
    "other setup beats on both. Faster users cost throughput: along a front, each step to "
    "the right gives up tokens per GPU. The model, formats and workload come from the "
    "sidebar (its GPU, GPU count and batch are swept here, so they do not matter); each GPU "
    "is priced by the sidebar's price rule, and a GPU it does not price is left out."
)
url.declare(*PARAMS)
# The page sweeps the GPU, the GPUs per replica and the batch: the sidebar's values of
# those do not change the result, so they are set aside (a change of them reuses the run).
scen = sidebar.scenario().replace(**{k: getattr(sidebar.DEFAULT, k) for k in SWEPT_FIELDS})
with st.sidebar:
    st.caption(
        "Preset: the workload and GPUs of NVIDIA's DeepSeek-R1 MTP run (sidebar fields only; "
        "this page does not price MTP itself)"
    )
    widgets.preset_buttons(
        {
            "DeepSeek-R1 MTP on 8x B200": {
                k: PRESET[k] for k in PRESET if k in sidebar.SHARED_FIELDS
            }
        },
        key="frontier_preset",
    )
if scen.model == sidebar.DEFAULT.model:
    st.info(
        f"The sidebar's model is {scen.model}, a 2023 model served on a few GPUs. Pick "
        "**deepseek-r1** (or another of today's large MoE models) in the sidebar to see wide "
        "expert parallelism and disaggregated serving at work.",
        icon=":material/lightbulb:",
    )


@charts.cached
def front_chart(
    fronts: pd.DataFrame,
    y: str,
    y_title: str,
    ttft_ms_max: float,
    tpot_ms_max: float,
    prices: pd.DataFrame | None = None,
) -> alt.LayerChart:
    """Each GPU's front, ``y`` against tokens/s per user; faded where TTFT misses its
    target; the TPOT target as a vertical rule at 1000 / TPOT tokens/s per user; with
    ``prices``, the providers' prices as labelled horizontal rules (the $/M view)."""
    log = alt.Scale(type="log")
    colour = charts.color_encoding("gpu_name:N", fronts["gpu_name"], "GPU")
    base = alt.Chart(fronts).encode(
        x=alt.X("tokens_per_s_per_user:Q", title=X_TITLE, scale=log),
        y=alt.Y(f"{y}:Q", title=y_title, scale=log),
        color=colour,
        tooltip=TOOLTIP,
    )
    lines = base.mark_line(opacity=0.6)
    points = base.mark_point(filled=True, size=50).encode(
        opacity=alt.Opacity(
            "meets_ttft:N",
            title=f"TTFT ≤ {ttft_ms_max:,.0f} ms",
            scale=alt.Scale(domain=[True, False], range=[1.0, 0.25]),
        ),
        shape=alt.Shape("parallelism:N", title="Parallelism"),
    )
    target = pd.DataFrame({"tokens_per_s_per_user": [1000.0 / tpot_ms_max]})
    target["label"] = f"TPOT ≤ {tpot_ms_max:,.1f} ms"
    rule = alt.Chart(target).encode(x=alt.X("tokens_per_s_per_user:Q"))
    layers = [
        rule.mark_rule(strokeDash=[6, 4], color="#555"),
        rule.mark_text(align="left", dx=4, dy=8, color="#555").encode(
            y=alt.YValue(0), text=alt.Text("label:N")
        ),
        lines,
        points,
    ]
    if prices is not None and len(prices):
        sheet = prices.drop_duplicates("provider")
        sheet = sheet.rename(columns={"usd_per_million_output_tokens_equivalent": COST})
        sheet["label"] = sheet["provider"] + " $" + sheet[COST].map("{:,.2f}".format)
        price = alt.Chart(sheet[["provider", COST, "label"]]).encode(
            y=alt.Y(f"{COST}:Q"),
            tooltip=[
                alt.Tooltip("provider:N", title="Provider"),
                alt.Tooltip(f"{COST}:Q", title="Price, $/M output-token equivalent", format=",.3f"),
            ],
        )
        layers[:0] = [
            price.mark_rule(color="#888", strokeDash=[2, 3]),
            price.mark_text(align="left", baseline="bottom", dx=4, dy=-2, color="#666").encode(
                x=alt.XValue(0), text=alt.Text("label:N")
            ),
        ]
    chart = alt.layer(*layers).properties(height=420)
    return chart.configure_legend(orient="bottom", columns=2, labelLimit=0)


def table(df: pd.DataFrame, filename: str, first: list[str]) -> None:
    """``df``'s key columns (``first``, then :data:`SHOWN_COLUMNS`) labelled for people;
    the CSV keeps every column."""
    config = {c: COLUMN_LABELS.get(c, tables.label(c)) for c in df}
    order = first + [c for c in SHOWN_COLUMNS if c in df and c not in first]
    tables.show_table(df, filename, hide_index=True, column_config=config, column_order=order)


@url.fragment
def frontier_section(scenario) -> None:
    """The page's own inputs, one cached run, and everything drawn from it."""
    top = st.columns([3, 1, 1, 1])
    values = widgets.inputs(
        ("gpus", "ttft_ms_max", "tpot_ms_max", "min_tokens_per_s_per_user"), top
    )
    with st.expander("What is swept", icon=":material/tune:"):
        values |= widgets.inputs(("batch_min", "batch_max", "max_gpus"), st.columns(3))
        values |= widgets.inputs(("parallelisms", "serving"), st.columns(2))
        widgets.reset_button(
            [p.name for p in PARAMS], key="frontier", help="Restore this page's inputs."
        )
    try:
        options = analysis.Options(**values, price_rule=sidebar.price_rule())
    except ValueError as err:
        st.warning(f"{literal(str(err))}. Showing the page's defaults instead.")
        options = analysis.Options(gpus=PAGE_GPUS, price_rule=sidebar.price_rule())
    try:
        with st.spinner("Sweeping the setups…"):
            res = cache.analysis(analysis, scenario, options)
    except ValueError as err:
        st.error(f"Could not sweep this scenario: {literal(str(err))}")
        return
    if res.fronts.empty:
        catalog = cache.catalog()
        gpus = ", ".join(catalog.names("gpus", options.gpus))
        st.warning(
            f"No setup of {escape(catalog.names('models', [scenario.model])[0])} fits on "
            f"{escape(gpus)} with the parallelism and serving chosen on at most "
            f"{options.max_gpus} GPUs (expert parallelism needs two or more): widen "
            "*What is swept*."
        )
        return
    draw(res)


def draw(res: analysis.Result) -> None:
    """Verdict, both views of the fronts, the cheapest setups, the ranking, InferenceX."""
    options = res.options
    catalog_names = cache.catalog().gpus["name"]
    names = {g: str(catalog_names.get(g, g)) for g in options.gpus}
    fronts = res.fronts.assign(
        gpu_name=res.fronts["gpu"].map(names),
        parallelism=res.fronts["expert_parallel"].map({True: "EP", False: "TP"}),
        meets_ttft=res.fronts["ttft_ms"] <= options.ttft_ms_max,
    )
    st.markdown(f"**Verdict.** {escape(res.verdict)}")
    targets = (options.ttft_ms_max, options.tpot_ms_max)
    left, right = st.columns(2)
    with left:
        st.subheader("Throughput against interactivity")
        charts.show_chart(front_chart(fronts, "output_tokens_per_s_per_gpu", Y_TITLE, *targets))
    with right:
        st.subheader("Cost against interactivity")
        charts.show_chart(front_chart(fronts, COST, COST_TITLE, *targets, res.prices))
    date = f" (newest prices, {res.price_date})" if res.price_date else ""
    st.caption(
        "Points are the fronts' setups; faded: TTFT above its target. The dashed vertical "
        f"line is the TPOT target as tokens/s per user, 1000 / {options.tpot_ms_max:,.1f} ms "
        f"= {1000 / options.tpot_ms_max:,.1f}; setups right of it meet it. Dotted horizontal "
        f"lines: providers' prices for the model{date}, as (prompt x input price + output x "
        "output price) / output tokens, so they sit on the same all-in cost axis. Cost is the "
        "whole GPU time of a request (prefill and decode, both pools) over its output tokens."
    )
    st.subheader("Cheapest setup per GPU meeting the targets")
    st.caption(
        f"TTFT ≤ {options.ttft_ms_max:,.0f} ms and TPOT ≤ {options.tpot_ms_max:,.1f} ms, "
        "over every fitting setup (not only the front: TTFT is not an axis of the front)."
    )
    cheapest = res.cheapest.reset_index()
    cheapest["gpu_name"] = cheapest["gpu"].map(names)
    if cheapest.empty:
        st.warning("No GPU has a setup that meets both targets; loosen them above.")
    else:
        table(cheapest, "frontier_cheapest.csv", ["gpu_name", "setup"])
    st.subheader(f"GPUs ranked at {options.min_tokens_per_s_per_user:,.0f} tokens/s per user")
    st.caption("Each GPU's cheapest setup that fast which also meets both targets above.")
    ranking = res.ranking.reset_index()
    if ranking.empty:
        st.warning("No GPU serves a user that fast within both targets.")
    else:
        ranking["gpu_name"] = ranking["gpu"].map(names)
        table(ranking, "frontier_ranking.csv", ["rank", "gpu_name", "setup"])
    inferencex(res, fronts, names)


def inferencex(res: analysis.Result, fronts: pd.DataFrame, names: dict) -> None:
    """The fronts at 75 tokens/s per user beside InferenceX's B200 and GB200 read-off."""
    if res.scenario.model != "deepseek-r1":
        return
    fast = fronts[fronts["tokens_per_s_per_user"] >= INFERENCEX_TOKENS_PER_S_PER_USER]
    best = fast.groupby("gpu")["output_tokens_per_s_per_gpu"].max()
    ratios = {g: best[g] / published for g, published in INFERENCEX.items() if g in best}
    parts = [
        f"{names[g]} {best[g]:,.0f} against {INFERENCEX[g]:,.0f} ({ratio:.2f}x)"
        for g, ratio in ratios.items()
    ]
    if not parts:
        return
    where = (
        "above"
        if min(ratios.values()) > 1
        else "below"
        if max(ratios.values()) < 1
        else "on both sides of"
    )
    s = res.scenario
    same = all(getattr(s, k) == v for k, v in INFERENCEX_WORKLOAD.items())
    workload = (
        "the same workload"
        if same
        else f"this page's workload ({s.prompt_tokens:,} in / {s.output_tokens:,} out, "
        f"{s.weight_format}; InferenceX's is 8,192 / 1,024, fp8)"
    )
    st.caption(
        "**Beside InferenceX** (SemiAnalysis, DeepSeek-R1 FP8, 8k in / 1k out, read off at "
        f"{INFERENCEX_TOKENS_PER_S_PER_USER:.0f} tokens/s per user): at least that fast, "
        f"the model's fronts give output tokens/s per GPU {'; '.join(parts)} on {workload}. "
        f"The model's fronts lie {where} those measured serving stacks; this page prices no "
        "MTP (which lifts tokens/s per user about 2.3x on 8x B200, measurements R4/R5)."
    )


frontier_section(scen)
