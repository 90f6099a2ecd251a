"""Quantization & memory fit: weights, KV cache and overhead against GPU memory (C12-C14).

Every number comes from ``costmodel.sweep``; this page only picks the grids, draws them
and puts the C13 boundary into words. An uploaded Hugging Face ``config.json`` sizes a
model that is not in the catalog (``Catalog.with_model`` with a ``custom:`` id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, gate, params, tables
from app_pages.ui.text import escape, literal
from costmodel.hf_config import model_name

CATALOG = cache.catalog()
FORMATS = list(CATALOG.formats.index)
GPUS = list(CATALOG.gpus.index)
DEFAULT_GPUS = ["a100-80gb-sxm", "h100-sxm", "h200-sxm", "mi300x"]
DEFAULT_USERS = 40
DEFAULT_CONTEXT = 32768
ROW_CHOICES = ["format", "GPU"]
PARAMS = (
    gate.choice("gpus", DEFAULT_GPUS, GPUS),
    gate.number("users", DEFAULT_USERS, 1, 4096, integer=True),
    gate.number("context_tokens", DEFAULT_CONTEXT, 1024, 131072, integer=True),
    gate.choice("heatmap_rows", ROW_CHOICES[0], ROW_CHOICES),
)
PRESETS = {
    **params.PRESETS,
    "FP8 on one H100": {
        "gpu": "h100-sxm",
        "n_gpus": 1,
        "weight_format": "fp8",
        "kv_format": "bf16",
        "prompt_tokens": 4096,
        "output_tokens": 1024,
        "users": DEFAULT_USERS,
        "heatmap_rows": "format",
    },
    "One H200 or MI300X": {
        "n_gpus": 1,
        "weight_format": "bf16",
        "gpus": ["h100-sxm", "h200-sxm", "mi300x"],
        "heatmap_rows": "GPU",
    },
}
# Heatmap columns: context lengths (prompt + output) from 512 tokens, steps of 1.5x / 1.33x.
CONTEXT_STEPS = [512 * 2**i * m for i in range(9) for m in (1, 1.5)]
COMPONENTS = {
    "weights_gb": "Weights",
    "kv_cache_gb": "KV cache",
    "overhead_gb": "Overhead",
}


@dataclass(frozen=True)
class Upload:
    """A model sized from an uploaded config.json."""

    model_id: str
    config_text: str
    arch: dict


def read_upload(data: bytes, file_name: str | None = None) -> Upload:
    """Check an uploaded ``config.json`` and turn it into a custom model.

    Raises ``ValueError`` with a message for the user when the file is too large, not
    JSON, or not a supported decoder (``costmodel.load_hf_config`` says which).
    """
    arch = costmodel.load_hf_config(data)
    config = json.loads(data)
    model_id = costmodel.CUSTOM_PREFIX + model_name(config, file_name)
    CATALOG.with_model(model_id, config)  # raises ValueError if the catalog cannot take it
    return Upload(model_id, json.dumps(config, sort_keys=True), arch)


@st.cache_data(show_spinner=False, max_entries=32)
def _custom_sweep(
    config_text: str, scenario: costmodel.Scenario, axes: tuple[tuple[str, tuple], ...]
) -> pd.DataFrame:
    catalog = CATALOG.with_model(scenario.model, json.loads(config_text))
    return costmodel.sweep(scenario, catalog, **{k: list(v) for k, v in axes})


def run_sweep(scenario: costmodel.Scenario, upload: Upload | None, **axes) -> pd.DataFrame:
    """``costmodel.sweep`` (cached), with the uploaded model's catalog when there is one."""
    if upload is None:
        return cache.sweep(scenario, **axes)
    frozen = tuple(sorted((k, tuple(v)) for k, v in axes.items()))
    return _custom_sweep(upload.config_text, scenario, frozen)


def catalog_for(upload: Upload | None) -> costmodel.Catalog:
    if upload is None:
        return CATALOG
    return CATALOG.with_model(upload.model_id, json.loads(upload.config_text))


def longest_context_for(
    scenario: costmodel.Scenario, users: int, catalog: costmodel.Catalog | None = None
) -> int:
    """Longest context per user (prompt + output tokens) at which ``users`` sequences fit.

    At most the model's context window.
    Found by bisection with ``costmodel.evaluate`` (memory grows with context, though not
    linearly: sliding windows, fixed linear-attention states). 0 if not even ``users``
    two-token sequences fit.
    """

    def fits(context: int) -> bool:
        s = scenario.replace(prompt_tokens=context - 1, output_tokens=1, batch_size=1)
        return costmodel.evaluate(s, catalog)["max_batch_size"] >= users

    window = (catalog or CATALOG).models.loc[scenario.model, "context_window"]
    limit = min(costmodel.FIELD_RANGES["prompt_tokens"][1], int(window))
    if not fits(2):
        return 0
    if fits(limit):
        return limit
    low, high = 2, limit  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def context_grid(longest: int) -> list[int]:
    """Heatmap context lengths up to ``longest`` (always included)."""
    grid = [int(c) for c in CONTEXT_STEPS if c < longest]
    return [*grid, int(longest)]


def memory_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Long table for the stacked bars: one row per GPU, format and memory component."""
    df = df.assign(overhead_gb=df["memory_required_gb"] - df["weights_gb"] - df["kv_cache_gb"])
    df = df.assign(replica=df["gpu"].astype(str) + " · " + df["weight_format"].astype(str))
    long = df.melt(
        id_vars=["replica", "gpu", "weight_format", "memory_available_gb", "fits"],
        value_vars=list(COMPONENTS),
        var_name="component",
        value_name="gb",
    )
    long["component"] = long["component"].map(COMPONENTS)
    long["order"] = long["component"].map({c: i for i, c in enumerate(COMPONENTS.values())})
    return long


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
                COMPONENTS.values(),
                "Memory use",
                sort=list(COMPONENTS.values()),
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


def verdict_labels(users: int) -> list[str]:
    """Heatmap colour classes: no room, fewer than the target, the target or more."""
    return ["does not fit", f"< {users} users", f"≥ {users} users"]


def heatmap_frame(df: pd.DataFrame, rows: str, users: int) -> pd.DataFrame:
    """Heatmap cells: row label, context, most users, and whether the target is met."""
    out = pd.DataFrame(
        {
            "row": df[rows].astype(str),
            "context_tokens": df["prompt_tokens"] + df["output_tokens"],
            "max_users": df["max_batch_size"].astype(int),
            "weights_gb": df["weights_gb"],
            "kv_gb_per_user": df["kv_cache_gb"] / df["batch_size"],
            "memory_available_gb": df["memory_available_gb"],
        }
    )
    users_held = out["max_users"].to_numpy()
    out["verdict"] = np.select(
        [users_held <= 0, users_held < users], verdict_labels(users)[:2], verdict_labels(users)[2]
    )
    return out


def heatmap_chart(cells: pd.DataFrame, rows_title: str, users: int) -> alt.LayerChart:
    verdicts = verdict_labels(users)
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
    return alt.layer(rect, text).properties(height=alt.Step(30))


def quality_table() -> pd.DataFrame:
    formats = CATALOG.formats
    return pd.DataFrame(
        {
            "weight_bits": formats["weight_bits"],
            "bytes_per_weight": CATALOG.arrays["format.bytes_per_weight"].round(4),
            "quality_note": formats["quality_note"],
            "accuracy_change": formats["accuracy_change"].fillna("reference"),
            "source": formats["source"],
        },
        index=formats.index,
    )


@st.cache_data(show_spinner=False, max_entries=64)
def cached_longest_context(
    scenario: costmodel.Scenario, users: int, config_text: str | None = None
) -> int:
    """``longest_context_for`` cached; ``config_text`` is the uploaded model's config."""
    catalog = CATALOG
    if config_text is not None:
        catalog = CATALOG.with_model(scenario.model, json.loads(config_text))
    return longest_context_for(scenario, users, catalog)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_max_users(scenario: costmodel.Scenario, config_text: str | None = None) -> int:
    """Most concurrent users of ``scenario`` (``max_batch_size``), cached."""
    catalog = CATALOG
    if config_text is not None:
        catalog = CATALOG.with_model(scenario.model, json.loads(config_text))
    return int(costmodel.evaluate(scenario, catalog)["max_batch_size"])


def c13_scenario(scenario: costmodel.Scenario, **changes) -> costmodel.Scenario:
    """The C13 setup: FP8 weights on one H100 (bf16 KV cache), with ``changes``."""
    fields = {"gpu": "h100-sxm", "n_gpus": 1, "weight_format": "fp8", "kv_format": "bf16"}
    return scenario.replace(**{**fields, **changes})


def c13_sentence(scenario: costmodel.Scenario, users: int, upload: Upload | None) -> str:
    """The C13 boundary in words: FP8 weights on one 80 GB GPU, from the memory model."""
    text = upload.config_text if upload else None

    def longest(n_users: int = users, **changes) -> int:
        return cached_longest_context(c13_scenario(scenario, **changes), n_users, text)

    h100, two = longest(), longest(n_gpus=2)
    label = "C13 in numbers" if scenario.model == "mixtral-8x7b" else f"C13 for {scenario.model}"
    if h100 == 0:
        headline = (
            f"**{label}.** FP8 weights and overhead leave **no room for {users} users** on one "
            f"H100 80GB; two H100s hold {users} users up to {two:,} tokens of context each."
        )
    else:
        headline = (
            f"**{label}.** With FP8 weights on **one H100 80GB**, {users} concurrent users "
            f"fit only up to **{h100:,} tokens of context each** (bf16 KV cache). Beyond that "
            f"one GPU holds fewer than the {users} users a chat service needs, and FP8 needs "
            f"2 GPUs; two H100s hold {users} users up to {two:,} tokens each."
        )
    details = [f"With an FP8 KV cache the limit is {longest(kv_format='fp8'):,} tokens."]
    if users < 50:
        details.append(f"For 50 users it is {longest(50):,} tokens (bf16 KV).")
    here = scenario.replace(gpu="h100-sxm", n_gpus=1, weight_format="fp8")
    details.append(
        f"At the sidebar's {here.prompt_tokens + here.output_tokens:,} tokens per user one "
        f"H100 holds {cached_max_users(here, text):,} users in FP8 ({here.kv_format} KV)."
    )
    a100 = longest(gpu="a100-80gb-sxm")
    details.append(
        f"An A100 80GB stores FP8 weights in the same bytes (limit {a100:,} tokens) but has "
        "no FP8 tensor cores to compute in FP8."
    )
    return headline + "\n\n" + " ".join(details)


def c14_sentence(table: pd.DataFrame, users: int, context: int) -> str:
    """Which GPUs hold the model in bf16 on one GPU (no tensor parallelism)."""
    bf16 = table.loc["bf16"] if "bf16" in table.index else pd.Series(dtype=float)
    single = [g for g, n in bf16.items() if pd.notna(n) and n == 1]
    multi = [g for g, n in bf16.items() if pd.notna(n) and n != 1]
    if not single:
        return (
            f"**C14.** No GPU selected holds the model in bf16 on one GPU for {users} users "
            f"at {context:,} tokens each."
        )
    text = (
        f"**C14.** In bf16, for {users} users at {context:,} tokens each, "
        f"{', '.join(single)} hold the model on **one GPU**: no tensor parallelism and no "
        f"all-reduce."
    )
    if multi:
        text += f" {', '.join(multi)} need more than one."
    return text


def min_gpus_table(df: pd.DataFrame) -> pd.DataFrame:
    """Fewest GPUs per format (rows) and GPU (columns); NaN where even 64 do not hold it."""
    table = df.pivot(index="weight_format", columns="gpu", values="min_gpus")
    table = table.reindex(index=[f for f in FORMATS if f in table.index])
    table.columns = table.columns.astype(str)
    table.index = table.index.astype(str)
    table.columns.name = None
    return table.astype("Int64")


# --- Page ----------------------------------------------------------------------------

st.title("Quantization and memory fit")
st.markdown(
    "Does the model fit on one GPU, and how many users can it serve there? Weights, KV "
    "cache and runtime overhead against each GPU's usable memory, for every weight format. "
    "Claims: **C12** (FP8 keeps quality, INT4 does not), **C13** (FP8 still needs 2 GPUs "
    "for the 40-50+ concurrent users of a chat service) and **C14** (H200 141 GB and "
    "MI300X 192 GB hold the model on one GPU, without tensor parallelism)."
)
params.declare(*PARAMS)

with st.container(border=True):
    left, right = st.columns([3, 1])
    with left:
        gpus = params.multiselect(
            "gpus",
            "GPUs to compare",
            help="GPU ids from assets/gpus.csv, compared side by side [GPU ids]",
        )
        c1, c2, c3 = st.columns(3)
        users = params.number_input(
            "users",
            "Concurrent users (target)",
            1,
            c1,
            help="Sequences a replica must hold at once; a chat service needs 40-50+ "
            "(seed claim C13) [users]",
        )
        context_tokens = params.number_input(
            "context_tokens",
            "Longest context in the heatmap [tokens]",
            1024,
            c2,
            help="Right end of the heatmap: prompt + output tokens per user; Mixtral's "
            "window is 32,768 [tokens]",
        )
        heatmap_rows = params.radio(
            "heatmap_rows",
            "Heatmap rows",
            c3,
            horizontal=True,
            help="format: every weight format on the sidebar's GPU; GPU: every GPU above "
            "in the sidebar's weight format [-]",
        )
    with right:
        st.caption("Presets")
        params.preset_buttons(PRESETS, key="quant_preset", reset=[p.key for p in PARAMS])

with st.expander(
    "Size your own model: upload a Hugging Face config.json", icon=":material/upload:"
):
    uploaded = st.file_uploader(
        "config.json",
        type="json",
        key="hf_config",
        help="The model's config.json from Hugging Face (Llama 2-4, Mistral, Mixtral, "
        "Qwen2/3/3.5, DBRX, DeepSeek-V2/V3/V3.2, Kimi K2, gpt-oss, GLM-4.5, MiniMax-M2); "
        "at most 200,000 bytes [file]",
    )
    st.caption(
        "An upload replaces the sidebar's model on this page only. Uploads cannot live in "
        "the URL, so a shared link shows the catalog model: send the config.json along."
    )
upload = None
if uploaded is not None:
    try:
        upload = read_upload(uploaded.getvalue(), uploaded.name)
    except ValueError as err:
        st.error(
            f"Could not use {literal(uploaded.name)}: {escape(str(err))} "
            "Showing the catalog model instead."
        )

scenario = params.scenario(model=upload.model_id) if upload else params.scenario()
if upload:
    total = catalog_for(upload).models.loc[upload.model_id, "total_params"]
    a = upload.arch
    st.success(
        f"Sizing the uploaded model {literal(upload.model_id)}: {total / 1e9:,.1f} B parameters, "
        f"{a['n_layers']} layers, {a['n_kv_heads']} KV heads of {a['head_dim']}, "
        f"{a['n_experts']} expert(s) with {a['experts_per_token']} per token."
    )
if not gpus:
    st.info(f"No GPU picked above: showing the sidebar's GPU, {scenario.gpu}.")
    gpus = [scenario.gpu]
context = scenario.prompt_tokens + scenario.output_tokens
st.caption(
    f"Model **{scenario.model}**, KV cache in **{scenario.kv_format}**, "
    f"**{scenario.n_gpus}** GPU(s) per replica, {users} users of {scenario.prompt_tokens:,} "
    f"prompt + {scenario.output_tokens:,} output = {context:,} tokens each "
    "(from the sidebar and the controls above)."
)

# 1. What takes the memory.
st.subheader(f"Memory of {users} users at {context:,} tokens each")
fit = run_sweep(scenario.replace(batch_size=users), upload, gpu=gpus, weight_format=FORMATS)
long = memory_frame(fit)
order = list(dict.fromkeys(long.sort_values(["gpu", "weight_format"])["replica"]))
charts.show_chart(memory_chart(long, order, scenario.n_gpus))
st.caption(
    "Black tick: usable memory of the replica (GPUs × memory × usable fraction "
    f"{scenario.usable_memory_fraction:.0%}). A bar past the tick does not fit."
)

# 2. Fewest GPUs.
st.subheader("Fewest GPUs that hold it")
min_table = min_gpus_table(fit)
tables.show_table(min_table, "min_gpus.csv", width="stretch")
st.caption(
    f"Fewest GPUs (a power of two, as tensor parallelism needs) whose memory holds the "
    f"weights, {users} users' KV cache at {context:,} tokens and the overhead. A dash: even "
    "64 GPUs do not."
)
st.markdown(c14_sentence(min_table, users, context))

# 3. Users versus context.
st.subheader("Most concurrent users versus context length")
st.info(c13_sentence(scenario, users, upload))
row_field = "weight_format" if heatmap_rows == "format" else "gpu"
# The heatmap stops at the model's context window (longer requests are refused).
grid = context_grid(
    min(context_tokens, int(catalog_for(upload).models.loc[scenario.model, "context_window"]))
)
out_tokens = min(scenario.output_tokens, grid[0] // 2)
rows_axis = {"weight_format": FORMATS} if row_field == "weight_format" else {"gpu": gpus}
heat = run_sweep(
    scenario.replace(batch_size=1, output_tokens=out_tokens),
    upload,
    **rows_axis,
    prompt_tokens=[c - out_tokens for c in grid],
)
if row_field == "weight_format":
    rows_title, setup = "Weight format", f"{scenario.n_gpus}× {scenario.gpu}"
else:
    rows_title, setup = "GPU", f"{scenario.n_gpus} GPU(s), {scenario.weight_format} weights"
setup += f", {scenario.kv_format} KV cache, {scenario.model}"
cells = heatmap_frame(heat, row_field, users)
charts.show_chart(heatmap_chart(cells, rows_title, users).properties(title=setup))
heat_table = cells.pivot(index="row", columns="context_tokens", values="max_users")
heat_table = heat_table.reindex(list(dict.fromkeys(cells["row"])))
heat_table.index.name = row_field
heat_table.columns = [f"{c}_tokens" for c in heat_table.columns]
with st.expander("Table: most concurrent users per context length"):
    tables.show_table(heat_table, "max_users_by_context.csv", width="stretch")

# 4. Quality.
st.subheader("What each format costs in quality (C12)")
quality = quality_table()
st.table(quality)
tables.download_csv(quality, "format_quality.csv")
st.caption(
    "FP8 keeps quality; weight-only INT4 loses measurable quality on models this large; a "
    "format that saves memory is only worth it if its quality holds (from assets/formats.csv)."
)

catalog = catalog_for(upload)
m = catalog.models.loc[scenario.model]
kv_bytes = (
    2 * m["n_layers"] * m["n_kv_heads"] * m["head_dim"] * (2 if scenario.kv_format == "bf16" else 1)
)
tables.formula_expander(
    "How the memory is computed",
    f"""
- **Weights** = quantizable parameters × bytes per weight + 16-bit parameters × 2 bytes.
  {scenario.model}: {m["quantizable_params"] / 1e9:,.2f} B quantizable (attention and experts),
  {m["sixteen_bit_params"] / 1e9:,.2f} B kept in 16 bits (embeddings, router, norms).
- **Bytes per weight** = bits / 8 + (scale bits + zero bits) / 8 / group size
  (INT4 group 128: 0.5 + 20 / 8 / 128 = 0.5195).
- **KV cache per token** = 2 (K and V) × layers × KV heads × head dim × bytes
  = 2 × {m["n_layers"]:.0f} × {m["n_kv_heads"]:.0f} × {m["head_dim"]:.0f} ×
  {2 if scenario.kv_format == "bf16" else 1} = {kv_bytes:,.0f} bytes ({scenario.kv_format}).
- **KV cache** = users × (prompt + output tokens) × KV per token.
- **Usable memory** = GPUs × memory per GPU × usable fraction
  ({scenario.usable_memory_fraction:.2f}); **overhead** = GPUs ×
  {scenario.memory_overhead_gb_per_gpu:.1f} GB (activations, CUDA context).
- **Most concurrent users** = floor((usable − weights − overhead) / KV per user).
- **Fewest GPUs** = smallest power of two n with weights + KV ≤ n × (memory × usable
  fraction − overhead per GPU).
- **Longest context for N users** (C13) = floor((usable − weights − overhead) /
  (N × KV per token)), checked against the model on both sides.
""",
)
