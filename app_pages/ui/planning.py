"""What the two planning pages (Fleet sizing; API, rent or buy) share.

Both take ``costmodel.analyses.planning_inputs.PlanningOptions``: a workload, latency
targets with headroom, and the fleets tried (GPU types, batch caps, GPUs per replica,
parallelism, serving). This module draws those inputs from their specs, runs the page's
analysis once (cached, with a spinner: a cold sizing takes seconds), and shows the
workload's request classes.

The fleets are sized by the page's own inputs, not by the sidebar's GPU, GPU count, batch
or expert parallelism (``ui.PLANNING_IGNORED``): the analysis gets those at the sidebar's
defaults, so a change of them elsewhere reuses the cached run. The sidebar's GPU keeps
its price (the analysis prices it at the sidebar's price: ``planning_inputs.rental_prices``).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.ui import PLANNING_IGNORED, cache, gate, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel.analyses.planning_inputs import workload_of
from costmodel.planning import catalog_workloads
from costmodel.planning.fleet import DEFAULT_MAX_GPUS, TARGETS

#: The sidebar fields the pages do not use (``ui.PLANNING_IGNORED``) that the analysis gets
#: at the sidebar's defaults; the GPU stays, as the analysis prices it at the sidebar's price.
RESET = tuple(f for f in PLANNING_IGNORED if f != "gpu")
#: The scenario's lengths: used by the "scenario" workload only.
LENGTHS = ("prompt_tokens", "output_tokens", "prefix_cache_hit_rate")

#: Page limits on what is tried, tighter than the library's: each GPU type, GPU count and
#: batch cap multiplies the configurations sized (the defaults, 4 GPU types up to 16 GPUs
#: and batch caps to 1,024, take about 0.4 s of CPU on a cold run; 8 types about 1 s).
LIMITS = {"max_gpus": {"high": DEFAULT_MAX_GPUS}, "batch_max": {"high": 4096}}
#: Most GPU types sized at once (about 0.1-0.2 s of CPU each on a cold run).
MOST_GPU_TYPES = 6

#: Workloads in words (the URL keeps the id; a workload added to the catalog shows its id).
WORKLOAD_NAMES = {
    "chat": "Chat: Kimi's production conversations (long prompts)",
    "rag": "RAG: long documents, short answers (MLPerf Llama 3.1 405B)",
    "reasoning": "Reasoning: short questions, long answers (MLPerf DeepSeek-R1)",
    "agentic-coding": "Agentic coding: 12K-80K contexts, 94 % cached (Codex traces)",
    "mlperf-llama2-70b": "MLPerf Llama 2 70B (OpenOrca)",
    "mlperf-mixtral-8x7b": "MLPerf Mixtral 8x7B (OpenOrca, GSM8K, MBXP)",
    "inferencex-1k1k": "InferenceX 1k in / 1k out",
    "inferencex-8k1k": "InferenceX 8k in / 1k out",
    "inferencex-1k8k": "InferenceX 1k in / 8k out",
    "scenario": "The sidebar's prompt and output lengths",
}
TARGET_KEYS = tuple(TARGETS)
_ABSENT = object()
FLEET_KEYS = ("gpus", "batch_max", "max_gpus", "parallelisms", "serving", "overhead_ms")


def number(label: str, format: str) -> dict:
    """A table column's config: a number shown in ``format`` (Streamlit's "dollar",
    "localized", "compact", or printf-style) under ``label``."""
    return st.column_config.NumberColumn(label, format=format)


def gpu_rows(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its GPU ids (its index or its ``gpu`` column) in a ``gpu`` column, for
    ``tables.show_table`` (which shows their names; the CSV keeps the ids)."""
    return table.reset_index() if table.index.name == "gpu" else table


#: ``column_config`` of :func:`gpu_rows`'s column.
GPU_COLUMN = {"gpu": {"label": "GPU"}}


def decades(values: pd.Series) -> list[float]:
    """The powers of ten from below the smallest of ``values`` to above the largest: a log
    axis's ticks (positive values; NaN left out)."""
    low, high = np.log10(values[values > 0].agg(["min", "max"]).to_numpy(float))
    return [10.0**k for k in range(int(np.floor(low)), int(np.ceil(high)) + 1)]


def option_specs(options_class: type, **changes: dict[str, Any]) -> tuple:
    """The specs of a planning analysis's ``Options`` with the page :data:`LIMITS` and the
    workloads' names."""
    names = {"workload": {"names": tuple(WORKLOAD_NAMES.items())}}
    return url.option_specs(options_class, **{**LIMITS, **names, **changes})


def planning_scenario(workload: str):
    """The sidebar's scenario as the analysis takes it: :data:`RESET` fields (and the
    lengths, unless the workload is the scenario's) at the sidebar's defaults."""
    unused = RESET if workload == "scenario" else (*RESET, *LENGTHS)
    return sidebar.scenario().replace(**{k: getattr(sidebar.DEFAULT, k) for k in unused})


def workload_inputs(name_column: Any, spread_column: Any) -> dict[str, Any]:
    """The workload (by name) and the scenario workload's length spread."""
    values = {"workload": widgets.widget("workload", name_column)}
    mine = values["workload"] == "scenario"
    extra = (
        {} if mine else {"disabled": True, "help": "Used by the sidebar's-lengths workload only"}
    )
    values["length_cv"] = widgets.widget("length_cv", spread_column, **extra)
    return values


def target_inputs() -> dict[str, Any]:
    """The six latency targets (empty: no target) and the headroom, in one row."""
    columns = st.columns(len(TARGET_KEYS) + 1)
    values = {
        key: target_input(key, column) for key, column in zip(TARGET_KEYS, columns, strict=False)
    }
    values["headroom"] = widgets.widget("headroom", columns[-1])
    return values


def target_input(key: str, container: Any) -> float | None:
    """A latency target that the user can empty (no target), though its default may be a
    number (the p90 targets: 2,000 ms and 50 ms).

    Streamlit lets a number input be emptied only when its default is empty, so this one
    is drawn with none, and not bound to the URL: like ``widgets``' named selectboxes it
    takes the URL's value (through the gate) when the URL changes (a link, Back, the menu),
    and otherwise writes its value into the URL (the default: none; empty: ``key=``) when
    the user, a preset or Reset changed it. It joins their session-state record
    (``widgets._SYNCED``), so ``widgets.set_values`` sets it as it sets them.
    """
    spec = url.spec(key)
    synced = st.session_state.setdefault(widgets._SYNCED, {})
    found = tuple(st.query_params.get_all(key)) or None  # after the gate: a number, "" or none
    if key not in st.session_state or synced.get(key, _ABSENT) != found:
        st.session_state[key] = (
            spec.default if found is None else gate.check(spec, list(found)).value
        )
        synced[key] = found
    else:
        values = gate.url_values(spec, st.session_state[key])
        if (None if values is None else tuple(values)) != found:
            url.write(key, values)
            synced[key] = None if values is None else tuple(values)
    return container.number_input(
        spec.labelled,
        float(spec.low),
        float(spec.high),
        None,
        float(spec.step),
        key=key,
        format="%.0f",
        placeholder="none",
        help=spec.help,
    )


def fleet_inputs() -> dict[str, Any]:
    """What is tried: GPU types, batch caps, GPUs per replica, parallelism, serving, the
    overhead per request (in an expander)."""
    with st.expander("Fleets tried: GPU types, batch caps, parallelism", icon=":material/tune:"):
        values = widgets.inputs(("gpus",), st.columns(1))
        values |= widgets.inputs(FLEET_KEYS[1:], st.columns(5), overhead_ms={"format": "%.0f"})
        st.caption(
            f"GPU types are priced by the sidebar's price rule: {escape(sidebar.price_rule().text)}"
            "; one it does not price is left out. At most "
            f"{MOST_GPU_TYPES} GPU types at once (each adds a fraction of a second to a cold run)."
        )
    return values


def run(
    module: types.ModuleType, values: dict[str, Any], doing: str, retry: bool = False
) -> tuple | None:
    """``module.run`` (cached) on the sidebar's scenario with the page's ``values`` and the
    sidebar's price rule: (its Result, the options it ran with), or None after saying why
    it cannot run. Options that do not fit together are named, and the defaults shown.
    ``retry``: the second run, on the sidebar's lengths, after a catalog workload the model
    cannot take (its defaults, when the values do not fit together, keep those lengths)."""
    if len(values["gpus"]) > MOST_GPU_TYPES:
        st.warning(
            f"{len(values['gpus'])} GPU types chosen: size at most {MOST_GPU_TYPES} at once "
            "(each adds to the time a cold run takes). Remove some under *Fleets tried*.",
            icon=":material/memory:",
        )
        return None
    rule = sidebar.price_rule()
    try:
        options = module.Options(**values, price_rule=rule)
    except ValueError as err:  # e.g. a link's tokens_min above its tokens_max: named
        if not retry:
            st.warning(f"{literal(str(err))}. Showing the page's defaults.", icon=":material/tune:")
        defaults = module.Options(price_rule=rule)
        options = dataclasses.replace(defaults, workload="scenario") if retry else defaults
    try:
        with st.spinner(f"{doing}…"):
            return cache.analysis(module, planning_scenario(options.workload), options), options
    except ValueError as err:
        if options.workload != "scenario":
            # A catalog workload the model cannot take (longer than its window): the
            # sidebar's lengths instead, and the change named.
            label = url.spec("workload").label
            sidebar.say_adapted(f"{label}: {options.workload} → the sidebar's lengths ({err})")
            return run(module, {**values, "workload": "scenario"}, doing, retry=True)
        st.warning(
            f"Cannot answer for these settings: {literal(str(err))}.", icon=":material/tune:"
        )
        return None


def prices_table(prices: pd.DataFrame, filename: str) -> None:
    """Each GPU's $/GPU-hour and where it comes from (``planning_inputs.rental_prices``)."""
    tables.show_table(
        gpu_rows(prices),
        filename,
        hide_index=True,
        column_config={
            **GPU_COLUMN,
            "usd_per_gpu_hour": number("$/GPU-hour", "$%.2f"),
            "price_label": {"label": "Source"},
        },
    )
    st.caption(
        f"The sidebar's price rule: {escape(sidebar.price_rule().text)}. *scenario price*: the "
        "sidebar's GPU at the sidebar's price. Type your own price of any GPU on the GPU "
        "comparison page (it travels in the link)."
    )


def workload_section(options: Any, classes: pd.DataFrame | None = None) -> None:
    """The workload's request classes (``classes``: the Result's, if it has them), with its
    description and source."""
    st.subheader("The workload")
    workload = options.workload
    if classes is None:
        classes = workload_of(planning_scenario(workload), options).describe()
    if workload == "scenario":
        st.caption(
            "The sidebar's prompt and output lengths and prefix-cache hit rate, each length "
            "lognormal around the sidebar's value with the length spread chosen above."
        )
    else:
        found = catalog_workloads()[workload]
        st.caption(f"{escape(found.description)}. Source: {escape(found.source)} ({found.date}).")
    tables.show_table(
        classes,
        f"workload_{workload}.csv",
        hide_index=True,
        column_config={
            "request_class": {"label": "Request class"},
            "share": number("Share of requests [0-1]", "%.2f"),
            "prompt_tokens": {"label": "Prompt length [tokens]"},
            "output_tokens": {"label": "Output length [tokens]"},
            "prefix_cache_hit_rate": number("Prefix-cache hits [0-1]", "%.3f"),
        },
    )
    st.caption(
        "Every time and cost is computed over 32 quantiles of each length distribution, not "
        "at its mean."
    )
