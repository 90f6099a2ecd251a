"""Everything the pages share: the scenario sidebar, URL parameters, presets, charts.

How the URL works
-----------------
Every input is bound to the URL (``bind="query-params"``, ``key=`` the parameter name,
default in ``value=``/``index=``), so a link reproduces the page.

- The shared scenario inputs are drawn once, in ``app.py`` before ``pg.run()``, by
  :func:`scenario_sidebar`. Bound widgets created there stay in the URL on every page;
  pages read the result with :func:`scenario`.
- A page's own bound widgets drop out of the URL when the user moves to another page.
  Each page declares them with :func:`declare_params` (a Scenario field takes its
  default from ``costmodel.Scenario()``), so that Reset and the warning below know them.
  Do not give a bound selectbox a ``format_func``: the URL would then hold the label.
- Streamlit silently drops an invalid URL value and uses the default. ``app.py`` calls
  :func:`snapshot_query_params` first and :func:`warn_invalid_params` after ``pg.run()``;
  the latter compares the snapshot with what the widgets hold and names, in one warning,
  each parameter that is unknown on this page or was rejected.
"""

from __future__ import annotations

import dataclasses
import math
import runpy
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

import costmodel
from costmodel import presets
from costmodel.fields import KV_FORMATS

ROOT = Path(__file__).resolve().parent.parent

# Pages besides Home, in menu order: (path relative to app.py, title, icon).
# app.py lists a page only once its file exists.
PAGES = [
    ("pages/gpu_comparison.py", "GPU comparison", ":material/memory:"),
    ("pages/moe_batch_scaling.py", "MoE batch scaling", ":material/hub:"),
    ("pages/speculative_decoding.py", "Speculative decoding", ":material/bolt:"),
    ("pages/quantization_fit.py", "Quantization & memory fit", ":material/compress:"),
    ("pages/price_war.py", "Price-war margins", ":material/sell:"),
    ("pages/validation.py", "Validation", ":material/fact_check:"),
]

DEFAULT = costmodel.Scenario()
SHARED_FIELDS = (
    "model",
    "gpu",
    "n_gpus",
    "weight_format",
    "kv_format",
    "batch_size",
    "prompt_tokens",
    "output_tokens",
    "usd_per_gpu_hour",
    "utilization",
)
# Labels of the shared inputs; their help texts (with units) are costmodel.FIELD_HELP.
_LABELS = {
    "model": "Model",
    "gpu": "GPU",
    "n_gpus": "GPUs per replica",
    "weight_format": "Weight format",
    "kv_format": "KV-cache format",
    "batch_size": "Batch size",
    "prompt_tokens": "Prompt length",
    "output_tokens": "Output length",
    "usd_per_gpu_hour": "GPU price",
    "utilization": "Utilization",
}
_CATALOG_TABLE = {
    "model": "models",
    "gpu": "gpus",
    "weight_format": "formats",
    "kv_format": "formats",
}
_FLOAT_STEP = {"usd_per_gpu_hour": 0.05, "utilization": 0.01}

PRESETS = {p.name: p for p in (presets.DECEMBER_2023_BASELINE,)}

# Private session-state keys: URL at the start of the run, bound keys and defaults,
# the scenario drawn by the sidebar.
_URL = "_ui_url_snapshot"
_BOUND = "_ui_bound_defaults"
_SCENARIO = "_ui_scenario"
_URL_IGNORED = {"embed", "embed_options"}


@st.cache_resource(show_spinner=False)
def catalog() -> costmodel.Catalog:
    """The data catalogs, loaded once per server process."""
    return costmodel.load_catalog()


def run_inside_app() -> None:
    """Call first in every page: run app.py instead if a link started this file on its own.

    A folder named ``pages/`` beside app.py makes a fresh Streamlit server treat the app
    as a legacy pages-folder app until app.py has called ``st.navigation`` once: a shared
    link that is the server's first request (Community Cloud wakes sleeping apps that
    way) would run the page file without app.py's sidebar and ignore the URL. Here such a
    run executes app.py, whose navigation runs this page properly, and then stops.
    tests/test_browser_deep_link.py checks it on a fresh server.
    """
    if PagesManager.uses_pages_directory:
        runpy.run_path(str(ROOT / "app.py"))
        st.stop()


def page_exists(path: str) -> bool:
    """Whether a page file (path relative to app.py) exists yet."""
    return (ROOT / path).exists()


# --- URL parameters ----------------------------------------------------------------


def snapshot_query_params() -> None:
    """Record the URL before any bound widget exists; call first in app.py on every run."""
    st.session_state[_URL] = {k: st.query_params.get_all(k) for k in st.query_params}
    st.session_state[_BOUND] = {}


def declare_params(*scenario_fields: str, **defaults: Any) -> None:
    """Declare this page's bound widget keys with their defaults.

    Positional names are Scenario fields (default from ``costmodel.Scenario()``);
    keyword arguments give other keys and their widget defaults.
    """
    unknown = [f for f in scenario_fields if not hasattr(DEFAULT, f)]
    if unknown:
        raise ValueError(f"not Scenario fields: {unknown}; pass them as key=default instead")
    bound = st.session_state.setdefault(_BOUND, {})
    bound.update({f: getattr(DEFAULT, f) for f in scenario_fields}, **defaults)


def _same(text: str, value: Any) -> bool:
    """Whether one URL value denotes the widget value."""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return math.isclose(float(text), value, rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False
    return text == str(value)


def _matches(raw: list[str], value: Any) -> bool:
    """Whether the URL values of one parameter denote the widget value (lists repeat)."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    return len(raw) == len(values) and all(map(_same, raw, values))


def invalid_params() -> dict[str, str]:
    """URL parameters of this run that no widget on the page took: name -> reason."""
    bound = st.session_state.get(_BOUND, {})
    bad = {}
    for key, raw in st.session_state.get(_URL, {}).items():
        if key in _URL_IGNORED:
            continue
        if key not in bound:
            bad[key] = "not a setting on this page"
        elif not _matches(raw, st.session_state.get(key, bound[key])):
            bad[key] = "out of range or not an option"
    return bad


def warn_invalid_params(container: Any = st) -> None:
    """Show one warning naming every URL parameter that was unknown or rejected."""
    bad = invalid_params()
    if bad:
        url = st.session_state[_URL]
        listed = "; ".join(f"`{k}={','.join(url[k])}` ({why})" for k, why in bad.items())
        container.warning(f"Ignored URL parameters: {listed}. The default was used instead.")


def _set_state(values: dict[str, Any]) -> None:
    """Callback: set widget values (the URL follows)."""
    for key, value in values.items():
        st.session_state[key] = value


def reset_params() -> None:
    """Callback: restore every bound key declared on this page to its default."""
    _set_state(st.session_state.get(_BOUND, {}))


def preset_buttons(
    presets: dict[str, dict[str, Any]], *, key: str = "preset", reset: bool = True
) -> None:
    """One button per preset (sets its fields) and, if ``reset``, a Reset button.

    Drawn in the current container; ``key`` keeps several groups apart. The sidebar
    already has a Reset for every setting on the page.
    """
    for name, values in presets.items():
        st.button(name, key=f"{key}:{name}", on_click=_set_state, args=(values,), width="stretch")
    if reset:
        st.button(
            "Reset",
            key=f"{key}:reset",
            on_click=reset_params,
            help="Restore every setting on this page to its default.",
            width="stretch",
        )


def share_link() -> None:
    """Show the link to this page with its current settings (st.code has a copy button).

    Only parameters of this page's inputs are kept: an unknown one is not passed on.
    """
    bound = st.session_state.get(_BOUND, {})
    pairs = [(k, v) for k in st.query_params if k in bound for v in st.query_params.get_all(k)]
    base = st.context.url or ""
    if base and not urlsplit(base).path:
        base += "/"
    url = base + (f"?{urlencode(pairs)}" if pairs else "")
    with st.expander("Share this view", icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)


# --- Scenario ----------------------------------------------------------------------


def _options(field: str, cat: costmodel.Catalog) -> tuple[list[str], str]:
    """Choices of a categorical field, and a help suffix naming catalog ids."""
    if field == "kv_format":
        return list(KV_FORMATS), ""
    table = getattr(cat, _CATALOG_TABLE[field])
    names = table["name"].items() if "name" in table else ()
    return list(table.index), " ".join(f"`{i}`: {n}." for i, n in names)


def field_input(field: str, label: str, step: float, container: Any = st, **kwargs: Any) -> Any:
    """A URL-bound number input (or ``slider=True``) for a ``costmodel.Scenario`` field.

    Its URL key is the field's name, its range ``costmodel.FIELD_RANGES``, its default
    ``Scenario()``'s and its help text (with the unit) ``costmodel.FIELD_HELP``; ``kwargs``
    override or extend (``format=``, ``help=``).
    """
    low, high = costmodel.FIELD_RANGES[field]
    widget = container.slider if kwargs.pop("slider", False) else container.number_input
    params = {"key": field, "bind": "query-params", "help": costmodel.FIELD_HELP[field]}
    return widget(label, low, high, getattr(DEFAULT, field), step, **{**params, **kwargs})


def _scenario_input(field: str, cat: costmodel.Catalog) -> Any:
    """Draw one shared input bound to the URL; its default is Scenario()'s."""
    label, default = _LABELS[field], getattr(DEFAULT, field)
    if field == "kv_format" or field in _CATALOG_TABLE:
        options, ids = _options(field, cat)
        return st.selectbox(
            label,
            options,
            index=options.index(default),
            key=field,
            bind="query-params",
            help=f"{costmodel.FIELD_HELP[field]}. {ids}",
        )
    if isinstance(default, int):
        return field_input(field, label, 1)
    return field_input(
        field, label, _FLOAT_STEP[field], format="%.2f", slider=field == "utilization"
    )


def _build(base: costmodel.Scenario, changes: dict[str, Any]) -> costmodel.Scenario:
    """``base`` with ``changes``; on ValueError show it and return the default Scenario."""
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as err:
        st.error(f"Invalid scenario: {err} Showing the default scenario instead.")
        return DEFAULT


def scenario_sidebar(fields: Iterable[str] | None = None) -> costmodel.Scenario:
    """Draw the shared scenario inputs in the sidebar and return the Scenario they define.

    Called once per run by app.py, before ``pg.run()``; pages use :func:`scenario`.
    Fields not drawn keep ``costmodel.Scenario()``'s defaults.
    """
    fields = list(SHARED_FIELDS if fields is None else fields)
    cat = catalog()
    with st.sidebar:
        st.header("Scenario")
        values = {field: _scenario_input(field, cat) for field in fields}
    declare_params(*fields)
    st.session_state[_SCENARIO] = _build(DEFAULT, values)
    return st.session_state[_SCENARIO]


def scenario(**changes: Any) -> costmodel.Scenario:
    """The sidebar's Scenario for this run, with page-specific ``changes`` applied."""
    base = st.session_state.get(_SCENARIO, DEFAULT)
    return _build(base, changes) if changes else base


@st.cache_data(show_spinner=False, max_entries=512)
def cached_evaluate(scenario: costmodel.Scenario) -> dict[str, Any]:
    """``costmodel.evaluate`` cached by the scenario's fields."""
    return costmodel.evaluate(scenario)


@st.cache_data(show_spinner=False, max_entries=128)
def _sweep(scenario: costmodel.Scenario, axes: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return costmodel.sweep(scenario, **{k: list(v) if isinstance(v, tuple) else v for k, v in axes})


def cached_sweep(scenario: costmodel.Scenario, **axes: Any) -> pd.DataFrame:
    """``costmodel.sweep`` cached by the scenario and the axes (sequences become tuples)."""
    frozen = ((k, v if isinstance(v, str) else tuple(v)) for k, v in axes.items())
    return _sweep(scenario, tuple(sorted(frozen)))


# --- Output ------------------------------------------------------------------------


def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    tooltip: list[Any] | None = None,
    log_x: bool = False,
) -> alt.Chart:
    """A line chart with points, titled axes (put the unit in the title) and tooltips.

    ``x``, ``y`` and ``color`` are Altair shorthands (``"batch_size:Q"``). The default
    tooltip shows x, y and color under their titles.
    """
    enc = {
        "x": alt.X(x, title=x_title, scale=alt.Scale(type="log") if log_x else alt.Undefined),
        "y": alt.Y(y, title=y_title),
    }
    default_tip = [alt.Tooltip(x, title=x_title), alt.Tooltip(y, title=y_title, format=",.4~g")]
    if color:
        enc["color"] = alt.Color(color, title=color_title or color.split(":")[0])
        default_tip.append(alt.Tooltip(color, title=color_title or color.split(":")[0]))
    enc["tooltip"] = tooltip or default_tip
    return alt.Chart(df).mark_line(point=True).encode(**enc)


def show_chart(chart: alt.TopLevelMixin) -> None:
    """Show an Altair chart at full width."""
    st.altair_chart(chart, width="stretch")


def download_csv(df: pd.DataFrame, filename: str, label: str = "Download CSV") -> None:
    """A download button for ``df`` as CSV (the index is kept unless it is a plain range)."""
    keep_index = not isinstance(df.index, pd.RangeIndex)
    st.download_button(
        label,
        df.to_csv(index=keep_index).encode(),
        file_name=filename,
        mime="text/csv",
        key=f"download:{filename}",
        icon=":material/download:",
    )


def show_table(df: pd.DataFrame, filename: str, **dataframe_kwargs: Any) -> None:
    """``df`` as a table (``st.dataframe``) and, under it, a CSV download of exactly it."""
    st.dataframe(df, **dataframe_kwargs)
    download_csv(df, filename)


def formula_expander(title: str, markdown: str) -> None:
    """A closed expander holding the formulas or reasoning behind a result."""
    with st.expander(title, icon=":material/functions:"):
        st.markdown(markdown)


# --- Sensitivity: tornado and headline range (GPU comparison and price-war pages) ---


@st.cache_data(show_spinner=False, max_entries=128)
def cached_tornado(scenario: costmodel.Scenario, change_pct: float, output: str) -> pd.DataFrame:
    """``costmodel.sensitivity.tornado`` cached by its arguments."""
    from costmodel import sensitivity

    return sensitivity.tornado(scenario, change_pct, output)


@st.cache_data(show_spinner=False, max_entries=512)
def cached_headline_range(scenario: costmodel.Scenario, output: str) -> dict[str, Any]:
    """``costmodel.sensitivity.headline_range`` cached by its arguments."""
    from costmodel import sensitivity

    return sensitivity.headline_range(scenario, output)


def headline_range_text(scenario: costmodel.Scenario, output: str, unit: str) -> str:
    """One sentence: low / central / high of ``output`` and what the central value rests on."""
    r = cached_headline_range(scenario, output)
    family = catalog().gpus.loc[scenario.gpu, "family"]
    rests = (
        f"calibrated on measurements {r['calibrated_on']} (see the Validation page)"
        if r["calibrated_on"]
        else "not calibrated on any measurement: the family's efficiencies are assumptions"
    )
    return (
        f"**\\${r['low']:,.3f} / \\${r['central']:,.3f} / \\${r['high']:,.3f}** {unit} "
        f"(low / central / high, bandwidth and compute efficiency moved by "
        f"±{r['uncertainty']:.0%}, the uncertainty of the {family} family). "
        f"The central value is {rests}."
    )


def tornado_section(
    scenario: costmodel.Scenario,
    output: str = "usd_per_million_output_tokens",
    output_title: str = "$ per million output tokens",
    key: str = "change_pct",
    default_pct: float = 20.0,
) -> pd.DataFrame:
    """A bound ``change_pct`` input, the tornado chart and its table (with CSV) for ``scenario``.

    The page must ``declare_params(change_pct=default_pct)``. Returns the table shown.
    """
    pct = st.number_input(
        "Move each assumption by ± [%]",
        1.0,
        90.0,
        default_pct,
        5.0,
        format="%.0f",
        key=key,
        bind="query-params",
        help="Each assumption is moved down and up by this many percent, one at a time [%]",
    )
    try:
        table = cached_tornado(scenario, float(pct), output)
    except ValueError as err:
        st.error(f"Sensitivity not available: {err}")
        return pd.DataFrame()
    bars = pd.concat(
        [
            table.assign(
                move=f"−{pct:g}%",
                value=table["value_low"],
                result=table["output_low"],
                change_pct=table["change_low_pct"],
            ),
            table.assign(
                move=f"+{pct:g}%",
                value=table["value_high"],
                result=table["output_high"],
                change_pct=table["change_high_pct"],
            ),
        ]
    )[["field", "move", "value", "result", "change_pct"]]
    chart = (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("change_pct:Q", title=f"Change of {output_title} [%]"),
            y=alt.Y(
                "field:N",
                title="Assumption (library field)",
                sort=list(table["field"]),
                axis=alt.Axis(labelLimit=220),
            ),
            color=alt.Color(
                "move:N",
                title="Assumption moved",
                scale=alt.Scale(range=["#1f77b4", "#ff7f0e"]),
                sort=[f"−{pct:g}%", f"+{pct:g}%"],
                legend=alt.Legend(orient="bottom"),
            ),
            yOffset=alt.YOffset("move:N", sort=[f"−{pct:g}%", f"+{pct:g}%"]),
            tooltip=[
                alt.Tooltip("field:N", title="Assumption"),
                alt.Tooltip("move:N", title="Moved by"),
                alt.Tooltip("value:Q", title="Assumption value", format=",.4~g"),
                alt.Tooltip("result:Q", title=output_title, format=",.4~g"),
                alt.Tooltip("change_pct:Q", title="Change [%]", format="+.1f"),
            ],
        )
    )
    show_chart(chart)
    st.caption(
        "Sorted by impact (largest swing first). Values are clipped to each field's range, "
        "so a move can be smaller than asked (utilization 1.0 cannot go up)."
    )
    show_table(table, f"tornado_{output}.csv", hide_index=True)
    return table
