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

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

import costmodel
from app_pages.ui import cache, gate, models, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel import presets, pricing
from costmodel.adapt import adapted
from costmodel.evaluation import tensor_parallel_sizes
from costmodel.fields import EFFICIENCY_FIELDS
from costmodel.hf_defaults import TRANSFORMERS_VERSION
from costmodel.spec import specs

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
    "utilization",
    "serving_stack",
    "serving_stack_as_of",
)
#: The price rule's fields (``pricing.PriceRule``) -> their URL keys.
RULE_KEYS = {"tier": "price_tier", "as_of": "price_as_of", "own": "gpu_prices"}
#: The sidebar's GPU price: a view of the rule's own price of the sidebar's GPU (empty:
#: the rule's price); ``usd_per_gpu_hour`` in a link is read into ``gpu_prices``.
PRICE = dataclasses.replace(
    costmodel.FIELDS["usd_per_gpu_hour"],
    default=None,
    empty="the price tier's price of this GPU",
    help="Your price of the sidebar's GPU; empty: the price tier's (below it, with its "
    "source). It is kept with the GPU (gpu_prices in the URL) and used on every page that "
    "prices this GPU [$/GPU-hour]",
)


def app_preset(preset: Mapping[str, Any]) -> dict[str, Any]:
    """A library preset as the sidebar sets it: its GPU price becomes its GPU's own price
    (``gpu_prices``), the sidebar's GPU price being a view of the rule."""
    values = dict(preset)
    price = values.pop("usd_per_gpu_hour", None)
    if price is not None:
        gpu = values.get("gpu", DEFAULT.gpu)
        values[RULE_KEYS["own"]] = ((gpu, float(price)),)
    return values


PRESETS = {p.name: app_preset(p) for p in (presets.DECEMBER_2023_BASELINE,)}

_SCENARIO = "_ui_scenario"
_RULE = "_ui_price_rule"
_PRICE = "_ui_price"  # the sidebar GPU's pricing.ScenarioPrice
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
    url.declare(*_rule_specs(), PRICE, shared=True)
    _adapt(fields)
    ignored = set(ignored)
    with st.sidebar:
        values = {name: _input(name, name in ignored) for name in fields}
        values["usd_per_gpu_hour"] = _price_inputs("usd_per_gpu_hour" in ignored)
        # Open on the pages that are about them (Validation, Calibrate), folded elsewhere.
        about = url.page_path() in ("validation", "calibration")
        with st.expander("Efficiencies", icon=":material/speed:", expanded=about):
            st.caption(
                "Achieved shares of peak and fixed latencies, on every page. Empty = the "
                "default of the GPU family under the serving stack (the Validation page "
                "lists them)."
            )
            values.update({name: widgets.widget(name) for name in EFFICIENCY_FIELDS})
        reset = [*fields, *EFFICIENCY_FIELDS, *RULE_KEYS.values()]
        widgets.preset_buttons(PRESETS, key="preset", reset=reset)
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


def _rule_specs() -> list:
    """The price rule's specs under their URL keys; the dates its catalog has to choose."""
    made = []
    for name, spec in specs(pricing.PriceRule).items():
        spec = dataclasses.replace(spec, name=RULE_KEYS[name])
        if name == "as_of":
            dates = tuple(reversed(pricing.gpu_price_dates(cache.catalog())))
            spec = dataclasses.replace(spec, choices=(pricing.TODAY, *dates))
        made.append(spec)
    return made


def _own_prices() -> dict[str, float]:
    """GPU -> your own price (``gpu_prices``), with a link's ``usd_per_gpu_hour`` (the URL's
    older form) read as the sidebar GPU's, then dropped from the URL."""
    own = dict(url.value(RULE_KEYS["own"]))
    typed = url.value(PRICE.name)
    if typed is not None:  # a link of the older form
        own[url.value("gpu")] = typed
        st.session_state[RULE_KEYS["own"]] = tuple(sorted(own.items()))
        url.write(
            RULE_KEYS["own"],
            gate.url_values(url.spec(RULE_KEYS["own"]), tuple(sorted(own.items()))),
        )
        url.write(PRICE.name, None)
        st.session_state.pop(PRICE.name, None)
    return own


def _price_inputs(ignored: bool) -> float:
    """The price rule (tier, date) and the sidebar GPU's price: yours, or the rule's with
    its source said; returns the sidebar GPU's $/GPU-hour."""
    st.markdown("**GPU price**")
    tier_col, date_col = st.columns(2)
    tier = widgets.widget(RULE_KEYS["tier"], tier_col, names=pricing.RULE_TIERS)
    as_of = widgets.widget(RULE_KEYS["as_of"], date_col)
    own = _own_prices()
    gpu = url.value("gpu")
    rule = pricing.PriceRule(tier, as_of, tuple(own.items()))
    st.session_state[_RULE] = rule
    try:
        found = pricing.scenario_price(gpu, rule, cache.catalog())
    except ValueError as err:
        found = None
        st.warning(escape(str(err)), icon=":material/sell:")
    st.session_state[_PRICE] = found
    extra: dict[str, Any] = {"disabled": True, "help": "Not used on this page."} if ignored else {}
    st.number_input(
        PRICE.labelled,
        float(PRICE.low),
        float(PRICE.high),
        own.get(gpu),
        float(PRICE.step),
        format="%.2f",
        placeholder=f"{found.usd_per_gpu_hour:.2f}" if found else "type a price",
        key=(key := f"_ui_price:{gpu}:{own.get(gpu)}"),  # new when the own price changes
        on_change=_set_own_price,
        args=(gpu, key),
        help=extra.get("help", PRICE.help),
        disabled=ignored,
    )
    if found is not None and gpu not in own:
        st.caption(
            f"{escape(found.label)}" + (f". {escape(found.text)}." if found.fallback else "")
        )
    return own.get(gpu, found.usd_per_gpu_hour if found else DEFAULT.usd_per_gpu_hour)


def _set_own_price(gpu: str, key: str) -> None:
    """Callback of the GPU price input ``key``: your price of ``gpu`` into ``gpu_prices``."""
    own = dict(url.value(RULE_KEYS["own"]))
    typed = st.session_state.get(key)
    if typed is None:
        own.pop(gpu, None)
    else:
        own[gpu] = float(typed)
    pairs = tuple(sorted(own.items()))
    st.session_state[RULE_KEYS["own"]] = pairs
    url.write(RULE_KEYS["own"], gate.url_values(url.spec(RULE_KEYS["own"]), pairs))


def price_rule() -> pricing.PriceRule:
    """The sidebar's price rule for this run: every page prices GPUs by it."""
    return st.session_state.get(_RULE, pricing.PriceRule())


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
    say_adapted(made.text)
    return made.scenario


def say_adapted(text: str) -> None:
    """One warning naming what was changed to fit together (``Adapted.text``, or an
    analysis's ``adaptations``); nothing when ``text`` is empty."""
    if text:
        st.warning(f"Changed to fit together: {escape(text)}.", icon=":material/tune:")


def shown_value(name: str, value: Any) -> str:
    """Scenario field ``name``'s ``value`` in words: None says what it means, an id is
    named (a model, a GPU, a choice: :func:`tables.words`)."""
    if value is None and costmodel.FIELDS[name].empty:
        return costmodel.FIELDS[name].empty
    return tables.words(cache.catalog()).get(str(value), str(value))


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
        if made.defaults:  # keys the file leaves out: each named with what it took
            taken = ", ".join(literal(f"{key} = {value}") for key, value in made.defaults)
            st.caption(
                f"Not in the file, so taken from its model type's configuration class in "
                f"transformers {escape(TRANSFORMERS_VERSION)}: {taken}."
            )
    return made
