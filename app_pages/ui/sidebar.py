"""The shared scenario in the sidebar, the menu that carries it from page to page.

``app.py`` calls :func:`draw` on every page, before the page runs: the custom-model box,
the scenario's inputs (``SHARED_FIELDS``) and efficiencies (``EFFICIENCY_FIELDS``), each
from its ``Spec`` through the URL gate, the preset and Reset, then the menu. Pages read
the result with :func:`scenario`.

Fields that must fit together are adapted before the inputs are drawn
(``costmodel.adapt.adapted``): a change of model that makes expert parallelism, the GPU
count or the lengths invalid moves them to the nearest valid value, and a warning says
what changed; a link holding such a combination gets the same treatment. The GPU count
is chosen among the counts the model allows, and expert parallelism is offered for
mixture-of-experts models only, so the inputs never offer what the library refuses.

The menu (:func:`menu`) is a list of page links that carry the sidebar's values, so the
scenario follows the user from page to page, and Back and Forward bring each page back
with the values it had.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

import costmodel
from app_pages.ui import cache, gate, models, url, widgets
from app_pages.ui.text import escape, literal
from costmodel import presets
from costmodel.adapt import adapted
from costmodel.evaluation import tensor_parallel_sizes
from costmodel.fields import EFFICIENCY_FIELDS

DEFAULT = costmodel.Scenario()
#: The scenario's inputs in the sidebar, in the order drawn.
SHARED_FIELDS = (
    "model",
    "gpu",
    "n_gpus",
    "weight_format",
    "attention_format",
    "kv_format",
    "batch_size",
    "prompt_tokens",
    "output_tokens",
    "prefix_cache_hit_rate",
    "expert_parallel",
    "redundant_experts",
    "usd_per_gpu_hour",
    "utilization",
)
PRESETS = {p.name: p for p in (presets.DECEMBER_2023_BASELINE,)}

_SCENARIO = "_ui_scenario"
_ADAPTED = "_ui_adapted"  # field -> its adaptation in words, until a run shows it
_UPLOADED = "_ui_uploaded"  # file_id of the upload last turned into the URL's custom model


def _adapt(names: Iterable[str]) -> None:
    """Move inputs that do not fit together to valid values before they are drawn
    (``costmodel.adapt``): their state and the URL take the new value, and the change is
    said at the top of the page (:func:`adaptations`)."""
    try:
        made = adapted(DEFAULT, cache.catalog(), **{n: url.value(n) for n in names})
    except ValueError:
        return  # an id the catalog lacks: the gate already named it
    for change in made.changes:
        spec = url.spec(change.field)
        st.session_state[change.field] = change.now
        url.write(change.field, gate.url_values(spec, change.now))
        st.session_state.setdefault(_ADAPTED, {})[change.field] = change.text


def pop_adaptations() -> str:
    """What the sidebar changed to keep the scenario valid since the last completed run
    (kept across the gate's reruns), in words; "" when nothing. Call once per run."""
    return "; ".join(st.session_state.pop(_ADAPTED, {}).values())


def draw(ignored: Iterable[str] = ()) -> costmodel.Scenario:
    """Declare and draw the shared scenario inputs in the sidebar; return their Scenario.

    ``ignored``: fields the page does not use (it sweeps them): they are drawn disabled,
    saying so. First the custom model (:func:`custom_model`, so the model selectbox can
    offer it), then the fields and, in an "Efficiencies" expander, the efficiencies.
    """
    with st.sidebar:
        st.header("Scenario")
        custom_model()
    fields = list(SHARED_FIELDS)
    url.declare(*(costmodel.FIELDS[n] for n in [*fields, *EFFICIENCY_FIELDS]), shared=True)
    _adapt(fields)
    ignored = set(ignored)
    with st.sidebar:
        values = {name: _input(name, name in ignored) for name in fields}
        # Open on the page that is about them (Validation), folded elsewhere.
        about = url.page_path() == "validation"
        with st.expander("Efficiencies", icon=":material/speed:", expanded=about):
            st.caption(
                "Achieved shares of peak and fixed latencies, on every page. Empty = the "
                "GPU family's default (the Validation page lists them)."
            )
            values.update({name: widgets.widget(name) for name in EFFICIENCY_FIELDS})
        widgets.preset_buttons(PRESETS, key="preset", reset=[*fields, *EFFICIENCY_FIELDS])
    st.session_state[_SCENARIO] = _build(DEFAULT, values)
    return st.session_state[_SCENARIO]


def _input(name: str, ignored: bool) -> Any:
    """One shared input; the GPU count among the model's allowed counts, expert
    parallelism only for a mixture-of-experts model; ``ignored`` ones disabled."""
    extra: dict[str, Any] = {}
    if ignored:
        extra = {"disabled": True, "help": "Not used on this page: it sweeps this input."}
    model = cache.catalog().models.loc[url.value("model")]
    if name == "n_gpus":
        if url.value("expert_parallel"):
            most = int(model["n_experts"]) + int(url.value("redundant_experts"))
            counts = list(range(1, min(most, int(url.spec(name).high)) + 1))
        else:
            counts = tensor_parallel_sizes(url.value("model"), cache.catalog())
        return widgets.widget(name, options=counts, **extra)
    if name in ("expert_parallel", "redundant_experts") and int(model["n_experts"]) <= 1:
        extra = {"disabled": True, "help": f"{model['name']} is dense: it has no experts."}
    return widgets.widget(name, **extra)


def _build(base: costmodel.Scenario, changes: dict[str, Any]) -> costmodel.Scenario:
    """``base`` with ``changes``, adapted to fit together (``costmodel.adapt``); on a
    ValueError (an id the catalog lacks) the library's message and the default Scenario."""
    try:
        return adapted(base, cache.catalog(), **changes).scenario
    except ValueError as err:
        st.error(f"Invalid scenario: {literal(str(err))}. Showing the default scenario instead.")
        return DEFAULT


def scenario(**changes: Any) -> costmodel.Scenario:
    """The sidebar's Scenario for this run, with a page's ``changes`` applied (adapted to
    fit together: what moved is said on the page)."""
    base = st.session_state.get(_SCENARIO, DEFAULT)
    if not changes:
        return base
    try:
        made = adapted(base, cache.catalog(), **changes)
    except ValueError as err:
        st.error(f"Invalid scenario: {literal(str(err))}. Showing the sidebar's scenario.")
        return base
    if made.changes:
        st.warning(f"Changed to fit together: {escape(made.text)}.", icon=":material/tune:")
    return made.scenario


def shown_value(name: str, value: Any) -> str:
    """Scenario field ``name``'s ``value`` in words: None says what it means."""
    if value is None and costmodel.FIELDS[name].empty:
        return costmodel.FIELDS[name].empty
    return str(value)


def link_query() -> dict[str, list[str]]:
    """The sidebar's values that Streamlit does not carry itself, as a link's query: what
    every menu link and every link to a page adds, so the scenario follows the user.

    On a change of page Streamlit keeps the URL values of the widgets bound to it (numbers,
    toggles) and merges a link's own query in; a value given twice would be a repeated
    key. So a link carries the rest: the choices that show names and keep ids
    (``widgets.named_keys``: model, GPU, formats) and the uploaded model.
    """
    query = {models.KEY: st.query_params.get_all(models.KEY)}  # read by its own parser
    for name in widgets.named_keys() & url.shared_keys():
        values = gate.url_values(url.spec(name), url.value(name))
        if values is not None:
            query[name] = values
    return {k: v for k, v in query.items() if v}


def menu(pages: Iterable[Any], slot: Any) -> None:
    """The menu: one link per page (``st.Page``) in ``slot``, each carrying
    :func:`link_query`."""
    query = link_query()
    with slot:
        for page in pages:
            st.page_link(page, query_params=query, width="stretch")


def custom_model() -> models.CustomModel | None:
    """The sidebar's "Your own model" box: upload a config.json; it travels in the URL.

    A new upload writes ``custom_model`` (``models.encode``) and ``model`` into the URL.
    The URL's ``custom_model`` is read as an upload is (``models.from_url``); a bad one is
    named in the warning and dropped. Sets the session's catalog (``cache.catalog``).
    """
    st.session_state[cache.CUSTOM] = None
    url.declared()[models.KEY] = models.SPEC  # read here (models.from_url), not by the gate
    url.shared_keys().add(models.KEY)
    with st.expander("Your own model: upload a config.json", icon=":material/upload:"):
        uploaded = st.file_uploader(
            "config.json",
            type="json",
            key="hf_config",
            help="A Hugging Face config.json (Llama 2-4, Mistral, Mixtral, Qwen2/3/3.5, DBRX, "
            "DeepSeek-V2/V3/V3.2, Kimi K2, gpt-oss, GLM-4.5, MiniMax-M2); at most "
            f"{costmodel.hf_config.MAX_CONFIG_BYTES:,} bytes [file]",
        )
        st.caption(
            "The model joins the Model list on every page, and the share link carries its "
            "config (compressed), so the link reproduces it; the file itself is not kept."
        )
        if uploaded is not None and st.session_state.get(_UPLOADED) != uploaded.file_id:
            try:
                made = models.from_upload(uploaded.getvalue(), uploaded.name, cache.base_catalog())
            except ValueError as err:
                st.error(f"Could not use {literal(uploaded.name)}: {escape(str(err))}")
            else:
                st.session_state[_UPLOADED] = uploaded.file_id
                url.write(models.KEY, [made.url])
                url.write("model", [made.model_id])
        found = st.query_params.get_all(models.KEY)
        if not found:
            return None
        try:
            made = models.from_url(found[-1], cache.base_catalog())
        except ValueError as err:
            url.note(models.KEY, found[-1], f"{err}; the catalog's models were used")
            url.write(models.KEY, None)
            return None
        st.session_state[cache.CUSTOM] = made.url
        st.caption(f"In the Model list: {literal(made.model_id)}.")
    return made
