"""GPU comparison: every catalog GPU serving the sidebar's model and workload (C4, C5, C14)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, gate, params, tables

COST = "usd_per_million_output_tokens"
PRICE_CHOICES = ("latest", "lowest", "highest")
PARAMS = (
    gate.choice("gpu_price", "latest", PRICE_CHOICES),
    gate.flag("optimize_batch", False),
    gate.number("min_tokens_per_s_per_user", 20.0, 1.0, 500.0),
    charts.CHANGE_PCT,
)
DEFAULTS = {p.key: p.default for p in PARAMS}
PRESETS = {
    "December 2023 baseline": {**params.PRESETS["December 2023 baseline"], **DEFAULTS},
    "Chat: ≥ 30 tokens/s": {"optimize_batch": True, "min_tokens_per_s_per_user": 30.0},
    "Lowest catalog prices": {"gpu_price": "lowest"},
}
COLUMNS = [
    "Setup",
    "GPU id",
    "GPUs",
    "$/GPU-hour",
    "Price source",
    "Batch",
    "Fits",
    "$/M output tokens",
    "$/M output, low",
    "$/M output, high",
    "$/M input tokens",
    "Tokens/s per user",
    "Tokens/s per GPU",
    "Bandwidth per $ [TB/s per $/GPU-h]",
    "Memory headroom [GB]",
    "Max batch",
    "All-reduce share of step [%]",
    "_memory_ms",
    "_compute_ms",
]
C5_ADVANTAGE = 0.32  # the seed's "about 32% more memory bandwidth per dollar"


def catalog_price(prices: pd.DataFrame, gpu: str, choice: str) -> tuple[float, str] | None:
    """The GPU's catalog price by ``choice`` (latest / lowest / highest) and where it is from."""
    rows = prices[prices["gpu"] == gpu]
    if rows.empty:
        return None
    if choice == "latest":
        keys = rows["date"].map(costmodel.date_key)
        rows = rows[keys == keys.max()]  # ties on the same date: the lowest of them
        row = rows.loc[rows["usd_per_gpu_hour"].idxmin()]
    elif choice == "lowest":
        row = rows.loc[rows["usd_per_gpu_hour"].idxmin()]
    else:
        row = rows.loc[rows["usd_per_gpu_hour"].idxmax()]
    return float(row["usd_per_gpu_hour"]), f"{row['kind']} ({row['date']})"


def operating_batch(curve: pd.DataFrame, base_batch: int, optimize: bool, target: float):
    """The batch to compare at: the sidebar's, or the fitting batch of most throughput whose
    users still get ``target`` tokens/s; None when no fitting batch reaches the target."""
    if not optimize:
        return base_batch
    ok = curve[curve["fits"] & (curve["tokens_per_s_per_user"] >= target)]
    if ok.empty:
        return None
    return int(ok.loc[ok["output_tokens_per_s"].idxmax(), "batch_size"])


def compare(scen: costmodel.Scenario, choice: str, optimize: bool, target: float):
    """Table of setups (one per GPU), the cost-versus-batch curves and each setup's Scenario."""
    cat = cache.catalog()
    at_batch = cache.sweep(scen, gpu=list(cat.gpus.index))
    rows, curves, scenarios, skipped = [], [], {}, []
    for gpu, need in zip(at_batch["gpu"].astype(str), at_batch["min_gpus"], strict=True):
        if np.isnan(need):
            skipped.append(cat.gpus.loc[gpu, "name"])
            continue
        n = max(int(need), scen.n_gpus) if gpu == scen.gpu else int(need)
        if gpu == scen.gpu:
            price, source = scen.usd_per_gpu_hour, "sidebar price"
        else:
            found = catalog_price(cat.gpu_prices, gpu, choice)
            if found is None:
                skipped.append(cat.gpus.loc[gpu, "name"])
                continue
            price, source = found
        label = f"{cat.gpus.loc[gpu, 'name']} ×{n}" + (" (sidebar)" if gpu == scen.gpu else "")
        setup = scen.replace(gpu=gpu, n_gpus=n, usd_per_gpu_hour=price)
        curve = cache.sweep(setup, batch_size=costmodel.batch_grid())
        curves.append(curve[curve["fits"]].assign(setup=label))
        batch = operating_batch(curve, scen.batch_size, optimize, target)
        row = {"Setup": label, "GPU id": gpu, "GPUs": n, "$/GPU-hour": price}
        row["Price source"] = source
        if batch is None:
            rows.append({**row, "Batch": np.nan, "Fits": False})
            continue
        point = setup.replace(batch_size=batch)
        scenarios[label] = point
        out = cache.evaluate(point)
        spread = cache.headline_range(point, COST)
        rows.append(
            {
                **row,
                "Batch": batch,
                "Fits": bool(out["fits"]),
                "$/M output tokens": out[COST],
                "$/M output, low": spread["low"],
                "$/M output, high": spread["high"],
                "$/M input tokens": out["usd_per_million_input_tokens"],
                "Tokens/s per user": out["tokens_per_s_per_user"],
                "Tokens/s per GPU": out["output_tokens_per_s_per_gpu"],
                "Bandwidth per $ [TB/s per $/GPU-h]": out["bandwidth_tb_s_per_usd_hour"],
                "Memory headroom [GB]": out["memory_headroom_gb"],
                "Max batch": out["max_batch_size"],
                "All-reduce share of step [%]": 100
                * out["allreduce_time_ms"]
                / out["decode_step_ms"],
                "_memory_ms": out["memory_time_ms"],
                "_compute_ms": out["compute_time_ms"],
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(COLUMNS[7], ignore_index=True)
    return table, pd.concat(curves, ignore_index=True), scenarios, skipped


def pct_cheaper(cost: float, other: float) -> float:
    """How much cheaper ``cost`` is than ``other`` [%]."""
    return 100 * (1 - cost / other)


def winner_text(table: pd.DataFrame) -> str:
    """Which setup is cheapest per million output tokens, and by how much."""
    ok = table[table["Fits"] & table["$/M output tokens"].notna()]
    if ok.empty:
        return "No GPU setup fits and meets the target at these settings."
    best = ok.iloc[0]
    text = (
        f"**{best['Setup']}** at \\${best['$/GPU-hour']:.2f}/GPU-hour is the cheapest: "
        f"**\\${best['$/M output tokens']:.3f}** per million output tokens at batch "
        f"{int(best['Batch'])}"
    )
    sidebar = ok[ok["GPU id"] == params.scenario().gpu]
    if len(sidebar) and sidebar.index[0] != best.name:
        other = sidebar.iloc[0]
        name = other["Setup"].removesuffix(" (sidebar)")
        text += (
            f", **{pct_cheaper(best['$/M output tokens'], other['$/M output tokens']):.0f}% "
            f"cheaper** per million output tokens than your sidebar setup {name} "
            f"(\\${other['$/M output tokens']:.3f})"
        )
    elif len(sidebar):
        text += " — your sidebar setup is already the cheapest"
    if len(ok) > 1:
        runner = ok.iloc[1]
        margin = pct_cheaper(best["$/M output tokens"], runner["$/M output tokens"])
        if len(sidebar) and sidebar.index[0] == runner.name:
            text += ", which is also the runner-up"
        else:
            text += (
                f". The runner-up, {runner['Setup']}, costs "
                f"\\${runner['$/M output tokens']:.3f}: the winner is {margin:.0f}% cheaper"
            )
        if best["$/M output, high"] < runner["$/M output, low"]:
            text += ". The win holds even at the ends of both uncertainty ranges"
        else:
            text += (
                ". The uncertainty ranges of the two cheapest (low to high in the table) "
                "overlap, so their order could flip"
            )
    return text + "."


def c14_text(table: pd.DataFrame) -> str:
    """C14: H200 and MI300X against A100 80GB and H100 SXM, per million output tokens."""
    rows = table.dropna(subset=["$/M output tokens"]).set_index("GPU id")
    big, old = ["h200-sxm", "mi300x"], ["h100-sxm", "a100-80gb-sxm"]
    if not set(big + old) <= set(rows.index):
        return "C14 needs the H200, MI300X, H100 SXM and A100 80GB in the comparison."
    cost = rows["$/M output tokens"]
    parts = []
    for gpu in big:
        versus = ", ".join(
            f"{abs(pct_cheaper(cost[gpu], cost[o])):.0f}% "
            f"{'cheaper' if cost[gpu] < cost[o] else 'dearer'} than {rows.loc[o, 'Setup']}"
            for o in old
        )
        parts.append(f"{rows.loc[gpu, 'Setup']} is {versus}")
    wins = all(cost[g] < cost[o] for g in big for o in old)
    verdict = "holds" if wins else "does not hold in every pair"
    share = rows.loc["h100-sxm", "All-reduce share of step [%]"]
    return (
        f"**C14 {verdict}** here: " + "; ".join(parts) + ". "
        f"On {rows.loc['h100-sxm', 'Setup']} the tensor-parallel all-reduces take {share:.1f}% "
        "of each decode step; a setup on one GPU needs none."
    )


def c5_text(table: pd.DataFrame) -> str:
    """C5: bandwidth per dollar of A100 80GB versus H100 SXM at the prices used."""
    rows = table.set_index("GPU id")
    if not {"a100-80gb-sxm", "h100-sxm"} <= set(rows.index):
        return "C5 needs both the A100 80GB and the H100 SXM in the comparison."
    a100, h100 = rows.loc["a100-80gb-sxm"], rows.loc["h100-sxm"]
    gpus = cache.catalog().gpus
    bw_a, bw_h = gpus.loc["a100-80gb-sxm", "bandwidth_tb_s"], gpus.loc["h100-sxm", "bandwidth_tb_s"]
    if min(a100["$/GPU-hour"], h100["$/GPU-hour"]) <= 0:
        return "C5 compares bandwidth per dollar: it is unbounded at a price of \\$0/GPU-hour."
    per_usd_a, per_usd_h = bw_a / a100["$/GPU-hour"], bw_h / h100["$/GPU-hour"]
    advantage = 100 * (per_usd_a / per_usd_h - 1)
    price_32 = bw_a * h100["$/GPU-hour"] / (bw_h * (1 + C5_ADVANTAGE))
    verdict = "more" if advantage >= 0 else "less"
    text = (
        f"At \\${a100['$/GPU-hour']:.2f}/GPU-hour the A100 80GB gives {per_usd_a:.2f} TB/s per "
        f"\\$/hour; the H100 SXM at \\${h100['$/GPU-hour']:.2f} gives {per_usd_h:.2f}. The A100 "
        f"has **{abs(advantage):.0f}% {verdict} bandwidth per dollar**. It would have the "
        f"document's +32% at **\\${price_32:.2f}/GPU-hour** (with the H100 at "
        f"\\${h100['$/GPU-hour']:.2f}). Both families reach the same share of peak bandwidth "
        "(0.80 in the catalog)."
    )
    if "_memory_ms" in rows and not np.isnan(a100.get("_memory_ms", np.nan)):
        share = 100 * a100["_compute_ms"] / a100["_memory_ms"]
        text += (
            f" At batch {int(a100['Batch'])} an A100 decode step spends "
            f"{a100['_memory_ms']:.1f} ms reading memory and {a100['_compute_ms']:.1f} ms "
            f"computing ({share:.0f}% of the memory time), so its lower FLOPS "
            + ("barely matter for decode." if share < 50 else "do matter at this batch.")
        )
    return text


# --- Page -------------------------------------------------------------------------------

st.title("GPU comparison")
st.markdown(
    "Which GPU serves the sidebar's model most cheaply? Every GPU in the catalog runs the "
    "sidebar's model, formats and request lengths on as few GPUs as hold it, each at a "
    "catalog rental price. This page shows claims **C4** (the seed's 2x H100 at \\$1.95 is "
    "an optimistic setup), **C5** (2x A100 80GB gives about 32% more memory bandwidth per "
    "dollar than 2x H100) and **C14** (H200 and MI300X, with more memory and bandwidth, "
    "beat A100 and H100 on cost per token, partly by dropping tensor parallelism)."
)

params.declare(*PARAMS)
controls, presets = st.columns([3, 1])
with controls:
    left, middle, right = st.columns(3)
    choice = params.selectbox(
        "gpu_price",
        "Price of the other GPUs",
        left,
        help="Which catalog rental price each GPU gets [$/GPU-hour]: the latest listed "
        "(assets/gpu_prices.csv), the lowest or the highest. The sidebar's GPU always gets "
        "the sidebar's price.",
    )
    optimize = params.toggle(
        "optimize_batch",
        "Best batch for speed",
        middle,
        help="Off: every GPU at the sidebar's batch [sequences]. On: each GPU at the batch "
        "that maximises its throughput while every user still gets the speed on the right.",
    )
    target = params.number_input(
        "min_tokens_per_s_per_user",
        "Min tokens/s per user",
        5.0,
        right,
        format="%.0f",
        disabled=not optimize,
        help="Tokens per second each user must still see when the batch is chosen for "
        "throughput [tokens/s]. Used only with 'Best batch for speed'.",
    )
with presets:
    params.preset_buttons(PRESETS, key="gpu_preset", reset=list(DEFAULTS))

scen = params.scenario()
try:
    table, curves, scenarios, skipped = compare(scen, choice, optimize, float(target))
except ValueError as err:
    st.error(f"Cannot compare GPUs for this scenario: {err} Showing the default scenario.")
    scen = params.DEFAULT
    table, curves, scenarios, skipped = compare(scen, choice, optimize, float(target))

st.caption(
    "**GPU count:** each GPU runs on the fewest GPUs (a power of two, for tensor "
    "parallelism) that hold the weights, the KV cache of the sidebar's batch and the "
    "overhead (`min_gpus`); the sidebar's GPU uses the sidebar's GPU count if that is "
    "larger, so your own setup is compared as you configured it. Fewer GPUs means less "
    "all-reduce traffic (C14)."
    + (f" Not compared (no fit on 64 GPUs or no price): {', '.join(skipped)}." if skipped else "")
)

st.subheader("Who wins")
st.markdown(winner_text(table))
if optimize and table["Batch"].isna().any():
    missed = ", ".join(table.loc[table["Batch"].isna(), "Setup"])
    st.warning(f"No fitting batch gives {target:.0f} tokens/s per user on: {missed}.")

shown = table.drop(columns=["_memory_ms", "_compute_ms"])
tables.show_table(
    shown,
    "gpu_comparison.csv",
    hide_index=True,
    column_config={
        "$/GPU-hour": st.column_config.NumberColumn(format="$%.2f"),
        "$/M output tokens": st.column_config.NumberColumn(format="$%.3f"),
        "$/M output, low": st.column_config.NumberColumn(format="$%.3f"),
        "$/M output, high": st.column_config.NumberColumn(format="$%.3f"),
        "$/M input tokens": st.column_config.NumberColumn(format="$%.4f"),
        "Tokens/s per user": st.column_config.NumberColumn(format="%.1f"),
        "Tokens/s per GPU": st.column_config.NumberColumn(format="%.0f"),
        "Bandwidth per $ [TB/s per $/GPU-h]": st.column_config.NumberColumn(format="%.2f"),
        "Memory headroom [GB]": st.column_config.NumberColumn(format="%.1f"),
        "Max batch": st.column_config.NumberColumn(format="%d"),
        "All-reduce share of step [%]": st.column_config.NumberColumn(format="%.1f"),
    },
)
st.caption(
    "Low and high: the cost when bandwidth and compute efficiency are moved by the GPU "
    "family's uncertainty (`headline_range`). Speeds and headroom are per replica at the "
    "batch shown; bandwidth per \\$ is per GPU (peak TB/s over \\$/GPU-hour)."
)

st.subheader("Cost versus batch size")
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
        alt.Tooltip("memory_headroom_gb:Q", title="Memory headroom [GB]", format=",.1f"),
    ],
    log_x=True,
).encode(
    y=alt.Y(f"{COST}:Q", title="$ per million output tokens (log)", scale=alt.Scale(type="log")),
    color=charts.color_encoding(
        "setup:N",
        curves["setup"].unique(),
        "Setup",
        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300),
    ),
)
points = table.dropna(subset=["Batch"])
marks = (
    alt.Chart(points)
    .mark_point(size=160, filled=False, strokeWidth=2, color="black")
    .encode(
        x="Batch:Q",
        y="$/M output tokens:Q",
        tooltip=[
            alt.Tooltip("Setup:N"),
            alt.Tooltip("Batch:Q", title="Compared at batch [sequences]"),
            alt.Tooltip("$/M output tokens:Q", title="$ per million output tokens", format=",.3f"),
        ],
    )
)
charts.show_chart(alt.layer(chart, marks).properties(height=640))
st.caption(
    "Only batches that fit in memory are drawn. Black rings: the batch each setup is "
    "compared at in the table."
)
tables.download_csv(
    curves[
        ["setup", "gpu", "n_gpus", "usd_per_gpu_hour", "batch_size", COST, "tokens_per_s_per_user"]
    ],
    "gpu_cost_vs_batch.csv",
    label="Download chart data (CSV)",
)

st.subheader("C14: bigger GPUs, less tensor parallelism")
st.markdown(c14_text(table))

st.subheader("C5: memory bandwidth per dollar, A100 80GB versus H100")
st.markdown(c5_text(table))

tables.formula_expander(
    "Formulas: cost per token, bandwidth per dollar, batch choice",
    r"""
- **Cost per million output tokens** = $n \cdot p / 3600 / u \cdot t_\text{token} / B \cdot 10^6$,
  with $n$ GPUs at $p$ \$/GPU-hour, utilisation $u$, batch $B$ and $t_\text{token}$ the
  decode step time [s] per generated token (`costmodel.evaluate`, `usd_per_million_output_tokens`).
  The decode step is memory-bound: bytes read (weights of the experts touched + KV cache)
  over achieved bandwidth, plus compute, all-reduce and per-layer overhead.
- **Bandwidth per dollar** = peak memory bandwidth [TB/s] / price [\$/GPU-hour], per GPU.
  The A100's advantage = $(\text{bw}_A / p_A) / (\text{bw}_H / p_H) - 1$; the A100 price that
  gives +32% is $p_A = \text{bw}_A \, p_H / (1.32\, \text{bw}_H)$.
- **GPU count** $n$ = `min_gpus` at the sidebar's batch (smallest power of two with
  weights + KV cache + overhead ≤ $n \cdot$ HBM $\cdot$ usable fraction); for the sidebar's
  GPU $\max(\text{min\_gpus}, n_\text{sidebar})$.
- **Best batch at a speed target**: over `costmodel.batch_grid()`, the fitting batch with the
  largest replica throughput whose tokens/s per user ≥ the target.
- **Low / high**: `costmodel.sensitivity.headline_range`, efficiencies moved by the family's
  `efficiency_uncertainty`.
""",
)

st.subheader("What the cheapest setup's cost hangs on")
if scenarios:
    best_label = next(s for s in table["Setup"] if s in scenarios)
    best = scenarios[best_label]
    st.markdown(
        f"{best_label} at batch {best.batch_size}: "
        + charts.headline_range_text(best, COST, "per million output tokens")
    )
    charts.tornado_section(best, COST, "$ per million output tokens")
