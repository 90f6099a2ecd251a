"""URL parameters: the gate, bound widgets, the sidebar scenario, Reset, presets, share link.

How a page uses it
------------------
1. Declare every URL parameter of the page first, before any of its widgets::

       params.declare(params.field("draft_tokens"), gate.number("users", 40, 1, 4096, integer=True))

   :func:`declare` checks each parameter's URL value by its rules (``gate.check``):
   a bad value is removed from ``st.query_params`` (a repeated one reduced to its
   last value, a fraction rounded) and noted; if the URL changed, the run restarts
   (``st.rerun``) so the bound widgets start from the cleaned URL. ``app.py`` declares
   the sidebar's parameters the same way before drawing it.
2. Draw each declared parameter with one call: :func:`number_input`, :func:`slider`,
   :func:`selectbox`, :func:`radio`, :func:`toggle`, :func:`multiselect` take the key
   and draw a widget bound to the URL (``bind="query-params"``) with the declared
   range/choices/default.
3. ``app.py`` calls :func:`begin` first, :func:`link_slot` after the sidebar and
   :func:`finish` after the page: it drops parameters no page declared, shows one
   warning naming every parameter not taken as it stood, and draws the share link.
4. The page's own inputs and what is drawn from them go in a function decorated with
   :func:`fragment`: a change of them reruns only that function, which then redraws
   the share link (in the sidebar, outside the fragment) with their new values.

Back and Forward: Streamlit writes a widget change into the URL with
``history.replaceState`` (no history entry), and leaving a page drops the page's own
parameters from its history entry. So this module remembers each page's own values for
the session and puts them back when the page is entered with none of them in the URL
(Back to the page, or its menu link); a link that holds any of them is taken as it is.

Reset and presets: :func:`reset_button` restores the parameters it is given (a page's
own or the sidebar's), :func:`preset_buttons` sets exactly the fields of a preset.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import streamlit as st

import costmodel
from app_pages.ui import cache, gate, models
from app_pages.ui.gate import Param
from app_pages.ui.text import escape, literal
from costmodel import presets

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
    "attention_format",
    "prefix_cache_hit_rate",
    "expert_parallel",
    "redundant_experts",
)
#: Every efficiency and latency the cost depends on: the sidebar's "Efficiencies" box.
#: An empty family-default field (``FIELDS[f].kind == "family_float"``) means the GPU
#: family's value (``assets/gpu_families.csv``); a number overrides it on every page.
EFFICIENCY_FIELDS = costmodel.fields.EFFICIENCY_FIELDS
#: A choice field whose None has a meaning (``FIELDS[f].none_means``) is "same" in the URL
#: and the widget; the option's shown name says what it means.
_SAME = "same"
#: Sidebar labels (with units) and number steps: the library states each field once.
LABELS = costmodel.FIELD_LABELS
_STEP = costmodel.FIELD_STEPS
_CATALOG_TABLE = {
    "model": "models",
    "gpu": "gpus",
    "weight_format": "formats",
    "attention_format": "formats",
}

PRESETS = {p.name: p for p in (presets.DECEMBER_2023_BASELINE,)}

# Private session-state keys.
_DECLARED = "_ui_declared"  # key -> Param, this run
_NOTES = "_ui_notes"  # key -> (URL text, note), kept across the gate's rerun
_RERUNS = "_ui_gate_reruns"  # consecutive reruns by the gate (a guard against loops)
_SCENARIO = "_ui_scenario"
_SHARED = "_ui_shared"  # keys declared by the sidebar, this run
_PAGE = "_ui_page"  # URL path of this run's page
_PAGE_OBJECT = "_ui_page_object"  # ... as st.navigation returned it
_MEMORY = "_ui_page_memory"  # page -> its own non-default values (URL text)
_SYNCED = "_ui_url_synced"  # named_selectbox key -> the URL id it last read or wrote
_LINK_SLOT = "_ui_link_slot"  # the sidebar's st.empty that holds the share link
_APP_RERUN = "_ui_app_rerun"  # a callback set a sidebar value: a fragment reruns the app
_RUNNING = "_ui_fragments_running"  # params.fragment calls under way (nested ones count)
_ABSENT = object()
_MAX_GATE_RERUNS = 3


# --- Rules --------------------------------------------------------------------------------


def choices(field: str) -> list[str]:
    """The ids a text Scenario field may hold: catalog rows, or the KV formats
    ``costmodel.Scenario`` accepts (tried one by one, so the library stays the judge)."""
    cat = cache.catalog()
    if field == "kv_format":
        return [f for f in cat.formats.index if _scenario_accepts(kv_format=f)]
    if _none_choice(field):
        return [_SAME, *cat.formats.index]
    return list(getattr(cat, _CATALOG_TABLE[field]).index)


def _none_choice(field: str) -> bool:
    """A choice field that may be None (empty in the URL), e.g. ``attention_format``."""
    spec = costmodel.FIELDS.get(field)
    return spec is not None and spec.kind == "choice" and spec.default is None


def _scenario_accepts(**values: Any) -> bool:
    try:
        costmodel.Scenario(**values)
    except ValueError:
        return False
    return True


def field(name: str) -> Param:
    """The URL rules of Scenario field ``name`` (from the library; see ``gate.scenario_param``)."""
    if _none_choice(name):
        return gate.choice(name, _SAME, choices(name))
    return gate.scenario_param(name, choices)


# --- The gate -----------------------------------------------------------------------------


class PageStopped(Exception):
    """Raised by :func:`stop_page`; app.py catches it and still ends the run."""


def stop_page() -> None:
    """Stop drawing the page (after it said why), but keep the URL warning and share link.

    ``st.stop()`` would also discard what app.py draws after the page.
    """
    raise PageStopped


def begin(page: Any) -> None:
    """Start a run on ``page`` (what ``st.navigation`` returned): forget last run's
    declarations. Call first in app.py, right after ``st.navigation``.

    On a new page, the last page's own values leave the session state (they are
    remembered for Back: :func:`_restore`), so an input of the same name, such as
    ``min_tokens_per_s_per_user`` on the frontier and GPU comparison pages, starts at
    this page's value, not at the last page's.
    """
    if st.session_state.get(_PAGE, page.url_path) != page.url_path:
        for key in set(declared()) - st.session_state.get(_SHARED, set()):
            if key in st.session_state:
                del st.session_state[key]
    st.session_state[_DECLARED] = {}
    st.session_state[_SHARED] = set()
    st.session_state[_APP_RERUN] = False
    st.session_state[_RUNNING] = 0
    st.session_state[_PAGE] = page.url_path
    st.session_state[_PAGE_OBJECT] = page


def declared() -> dict[str, Param]:
    """Every parameter declared so far in this run: key -> Param."""
    return st.session_state.setdefault(_DECLARED, {})


def declare(*specs: Param, shared: bool = False) -> None:
    """Declare URL parameters and pass their URL values through the gate.

    Call before any of their widgets exists. A value not taken as it stands is noted
    and corrected in ``st.query_params``; then the run restarts once so the widgets
    start from the corrected URL (Streamlit seeds bound widgets from the URL the run
    began with). ``shared``: the sidebar's parameters, kept on every page; a page's own
    (not shared) come back as the user left them when the page is entered again with
    none of them in the URL (:func:`_restore`).
    """
    declared().update((spec.key, spec) for spec in specs)
    if shared:
        st.session_state.setdefault(_SHARED, set()).update(spec.key for spec in specs)
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    changed, refused = False, False
    verdicts = gate.review(specs, query)
    for key, verdict in verdicts.items():
        for text, what in verdict.notes:
            _note(key, text, what)
        if verdict.url != query[key]:
            if _write(key, verdict.url):
                changed = True
            else:  # bound already; only a bad value (not mere spelling, "30.0") matters
                refused |= bool(verdict.notes)
    if refused:
        _reopen({key: verdict.value for key, verdict in verdicts.items()})
    if not shared and not any(spec.key in query for spec in specs):
        changed |= _restore(specs)
    if changed and st.session_state.get(_RERUNS, 0) < _MAX_GATE_RERUNS:
        st.session_state[_RERUNS] = st.session_state.get(_RERUNS, 0) + 1
        st.rerun()


def _reopen(values: dict[str, Any]) -> None:
    """Reopen the page when Streamlit will not let the gate correct a URL value.

    Back to a bad link in the same session: its keys are already bound, so
    ``st.query_params`` refuses to change them and the widgets would meet the bad value.
    ``st.switch_page`` with the URL's undeclared parameters starts the page again; the
    declared ones' widgets take the gate's ``values`` from ``st.session_state``.
    """
    if st.session_state.get(_RERUNS, 0) >= _MAX_GATE_RERUNS:
        return
    st.session_state[_RERUNS] = st.session_state.get(_RERUNS, 0) + 1
    for key, value in values.items():
        st.session_state[key] = value
    known = declared()
    kept = {k: st.query_params.get_all(k) for k in st.query_params if k not in known}
    page = st.session_state.get(_PAGE_OBJECT)
    if page is not None:
        try:
            st.switch_page(page, query_params=kept)
        except st.errors.StreamlitAPIException:
            return  # another key is bound too: Streamlit drops the bad value itself


def _restore(specs: Sequence[Param]) -> bool:
    """When the URL lacks all of a page's own parameters: put back the values the user
    left there in this session (browser Back to the page, or its menu link); True if any.

    The page's values are all defaults after its Reset, so nothing is kept then.
    """
    kept = st.session_state.get(_MEMORY, {}).get(st.session_state.get(_PAGE), {})
    return any([_write(spec.key, kept[spec.key]) for spec in specs if spec.key in kept])


def _remember() -> None:
    """Keep this page's own non-default values (URL text) for :func:`_restore`."""
    shared = st.session_state.get(_SHARED, set())
    own = {k: p for k, p in declared().items() if k not in shared and k in st.session_state}
    values = {k: st.session_state[k] for k in own}
    st.session_state.setdefault(_MEMORY, {})[st.session_state.get(_PAGE)] = {
        k: [own[k].text(v) for v in value] if own[k].many else [own[k].text(value)]
        for k, value in values.items()
        if value != own[k].default and value is not None
    }


def _note(key: str, text: str, what: str) -> None:
    st.session_state.setdefault(_NOTES, {})[(key, text)] = what


def _write(key: str, url: list[str] | None) -> bool:
    """Set (or, with None, remove) one URL parameter; False if Streamlit refuses (a key
    already bound in this session: see :func:`_reopen`)."""
    try:
        if url is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = url
    except st.errors.StreamlitAPIException:
        return False
    return True


def finish(container: Any = st) -> None:
    """End a run: drop undeclared parameters, show the one warning (in ``container``)
    and draw the share link in its slot (:func:`link_slot`)."""
    for key in gate.unknown(declared(), list(st.query_params)):
        _note(key, "&".join(st.query_params.get_all(key)), gate.UNKNOWN)
        _write(key, None)
    found = st.session_state.pop(_NOTES, {})
    st.session_state[_RERUNS] = 0
    _remember()
    if found:
        container.warning(gate.warning(found))
    _draw_link()


# --- Fragments and the share link ------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., None])


def link_slot() -> None:
    """Reserve the sidebar's place for the share link; app.py calls it before the page.

    An ``st.empty``: each write replaces the last, so the run's end (:func:`finish`) and
    a fragment's rerun (:func:`fragment`) draw the one link in the same place.
    """
    st.session_state[_LINK_SLOT] = st.sidebar.empty()


def _draw_link() -> None:
    slot = st.session_state.get(_LINK_SLOT)
    with slot if slot is not None else st.sidebar:
        share_link()


def fragment(func: F) -> F:
    """``st.fragment`` for a page's own inputs and what is drawn from them.

    A change of an input inside ``func`` reruns only ``func``; at its start and its end,
    as :func:`finish` does at a run's end, the page's values are remembered for Back
    (:func:`_remember`; at the start because a click on another page stops the rerun
    where it is), and at its end the share link is redrawn in its sidebar slot, so it
    holds the new values. Declare the parameters at the page's top, outside ``func`` (the
    gate may rerun the app). :func:`stop_page` inside ``func`` ends ``func`` only. A
    button inside whose callback :func:`set_values` sets a sidebar field (a preset,
    "Swap A and B") reruns the whole app, so the sidebar shows the new values.

    Streamlit lets a fragment rerun write outside itself only where it wrote in the
    last full run. A nested fragment that its parent's rerun drew at a new place (so
    with a new id) cannot: its parent draws the link then; and if it later reruns
    alone, it reruns the whole app once rather than leave the link stale.
    """

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> None:
        if st.session_state.get(_APP_RERUN):  # only a fragment rerun sees it (begin() clears it)
            st.rerun(scope="app")
        _remember()  # now too: leaving the page mid-rerun stops it before its end
        st.session_state[_RUNNING] = st.session_state.get(_RUNNING, 0) + 1
        try:
            with contextlib.suppress(PageStopped):
                func(*args, **kwargs)
        finally:
            st.session_state[_RUNNING] -= 1
        _remember()
        try:
            _draw_link()
        except st.errors.StreamlitInvalidLayoutContextError:
            if not st.session_state[_RUNNING]:  # not nested: nobody else will draw it
                st.rerun(scope="app")

    return st.fragment(run)


# --- Bound widgets --------------------------------------------------------------------------


def _spec(key: str) -> Param:
    spec = declared().get(key)
    if spec is None:
        raise KeyError(f"declare {key!r} with params.declare(...) before drawing it")
    return spec


def _help(key: str, help: str | None) -> str | None:
    return help if help is not None else costmodel.FIELD_HELP.get(key)


def number_input(
    key: str, label: str | None = None, step: float = 1, container: Any = st, **kwargs: Any
) -> Any:
    """A URL-bound number input for declared parameter ``key`` (range and default from it).

    ``label`` defaults to the Scenario field's label, ``help`` to ``costmodel.FIELD_HELP``.
    """
    return _number(container.number_input, key, label, step, **kwargs)


def slider(
    key: str, label: str | None = None, step: float = 1, container: Any = st, **kwargs: Any
) -> Any:
    """A URL-bound slider for declared number parameter ``key`` (as :func:`number_input`)."""
    return _number(container.slider, key, label, step, **kwargs)


def _number(widget: Any, key: str, label: str | None, step: float, **kwargs: Any) -> Any:
    spec = _spec(key)
    cast = int if spec.kind is int else float
    help = _help(key, kwargs.pop("help", None))
    low, high = cast(spec.low), cast(spec.high)
    return widget(
        label or LABELS[key],
        low,
        high,
        spec.default,
        cast(step),
        key=key,
        bind="query-params",
        help=help,
        **kwargs,
    )


def _options(key: str, widget: Any, label: str | None, help: str | None, **kwargs: Any) -> Any:
    spec = _spec(key)
    return widget(
        label or LABELS[key],
        spec.choices,
        index=spec.choices.index(spec.default),
        key=key,
        bind="query-params",
        help=_help(key, help),
        **kwargs,
    )


def named_selectbox(
    key: str, names: dict[str, str], label: str | None = None, container: Any = st, **kwargs: Any
) -> str:
    """A selectbox for declared parameter ``key`` that shows ``names`` but keeps ids in the URL.

    A bound selectbox with ``format_func`` would write the shown name into the URL (and
    reject an id there), so this one is not bound: it takes the URL's id when the URL
    changes (a link, Back or Forward) and writes its id into the URL when the user picks
    one (:func:`_sync`; unlike a bound widget's change, that makes a history entry).
    """
    spec = _spec(key)
    synced = st.session_state.setdefault(_SYNCED, {})
    url = st.query_params.get(key)  # after the gate: a valid id, or absent
    if key not in st.session_state or synced.get(key, _ABSENT) != url:
        st.session_state[key] = spec.default if url is None else url
        synced[key] = url
    return container.selectbox(
        label or LABELS[key],
        spec.choices,
        format_func=lambda i: names.get(i, i),
        key=key,
        on_change=_sync,
        args=(key,),
        help=_help(key, kwargs.pop("help", None)),
        **kwargs,
    )


def _sync(key: str) -> None:
    """Callback: write a :func:`named_selectbox`'s id into the URL (none for the default)."""
    value = st.session_state[key]
    url = None if value == _spec(key).default else value
    _write(key, None if url is None else [url])
    st.session_state.setdefault(_SYNCED, {})[key] = url


def selectbox(key: str, label: str | None = None, container: Any = st, **kwargs: Any) -> Any:
    """A URL-bound selectbox over declared parameter ``key``'s choices."""
    return _options(key, container.selectbox, label, kwargs.pop("help", None), **kwargs)


def radio(key: str, label: str | None = None, container: Any = st, **kwargs: Any) -> Any:
    """A URL-bound radio over declared parameter ``key``'s choices."""
    return _options(key, container.radio, label, kwargs.pop("help", None), **kwargs)


def toggle(key: str, label: str, container: Any = st, **kwargs: Any) -> bool:
    """A URL-bound toggle for declared boolean parameter ``key``."""
    spec = _spec(key)
    return container.toggle(label, value=spec.default, key=key, bind="query-params", **kwargs)


def multiselect(key: str, label: str, container: Any = st, **kwargs: Any) -> list[str]:
    """A URL-bound multiselect over declared list parameter ``key``'s choices."""
    spec = _spec(key)
    return container.multiselect(
        label, spec.choices, default=spec.default, key=key, bind="query-params", **kwargs
    )


# --- Reset and presets ------------------------------------------------------------------------


def set_values(values: dict[str, Any]) -> None:
    """Callback: set widgets' values (the URL follows); a sidebar one makes the
    :func:`fragment` that drew the button rerun the whole app."""
    for key, value in values.items():
        st.session_state[key] = value
        if key in st.session_state.get(_SYNCED, {}):
            _sync(key)
    if not st.session_state.get(_SHARED, set()).isdisjoint(values):
        st.session_state[_APP_RERUN] = True


def defaults(keys: Iterable[str]) -> dict[str, Any]:
    """Key -> default of declared parameters ``keys``."""
    return {key: _spec(key).default for key in keys}


def reset_button(keys: Iterable[str], *, key: str, help: str) -> None:
    """A Reset button that restores exactly ``keys`` (declared parameters) to their defaults."""
    st.button(
        "Reset",
        key=f"{key}:reset",
        on_click=set_values,
        args=(defaults(keys),),
        help=help,
        width="stretch",
        icon=":material/restart_alt:",
    )


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


def preset_buttons(
    presets: dict[str, dict[str, Any]], *, key: str, reset: Sequence[str] = ()
) -> None:
    """One button per preset (it sets exactly its fields) and, with ``reset``, a Reset
    button for those keys. Under them: which preset the inputs now match, if any."""
    for name, values in presets.items():
        st.button(
            name,
            key=f"{key}:{name}",
            on_click=set_values,
            args=(values,),
            width="stretch",
            help=f"Sets {_describe(values)}; every other input keeps its value.",
        )
    if reset:
        reset_button(reset, key=key, help="Restore the inputs in this box to their defaults.")
    now = {k: st.session_state.get(k) for values in presets.values() for k in values}
    matching = [n for n, values in presets.items() if all(now[k] == v for k, v in values.items())]
    if matching:
        st.caption(f"The inputs match the preset *{matching[0]}*.")


def settable(preset: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``preset`` declared in this run (sidebar and page): those a preset
    button on this page can set."""
    known = declared()
    return {key: value for key, value in preset.items() if key in known}


def share_link() -> None:
    """Show the link to this page with its current settings (st.code has a copy button).

    Only declared parameters are kept: an unknown one is not passed on. Drawn in the
    sidebar's slot by :func:`finish` and by each :func:`fragment` rerun.
    """
    known = declared()
    pairs = [(k, v) for k in st.query_params if k in known for v in st.query_params.get_all(k)]
    base = st.context.url or ""
    if base and not urlsplit(base).path:
        base += "/"
    url = base + (f"?{urlencode(pairs)}" if pairs else "")
    with st.expander("Share this view", icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)


# --- Scenario ---------------------------------------------------------------------------------


def shown_value(name: str, value: Any) -> str:
    """Scenario field ``name``'s ``value`` as a table shows it: None of an optional choice
    (``attention_format``) says what it means, "same (as weight_format)"."""
    if value is None and costmodel.FIELDS[name].none_means:
        return f"{_SAME} ({costmodel.FIELDS[name].none_means})"
    return str(value)


def names_of(field: str) -> dict[str, str]:
    """Catalog id -> display name for a categorical field (the id where there is none)."""
    if field not in _CATALOG_TABLE:
        return {}
    table = getattr(cache.catalog(), _CATALOG_TABLE[field])
    names = dict(table["name"]) if "name" in table else {i: i for i in table.index}
    if _none_choice(field):
        return {_SAME: f"Same as {LABELS['weight_format'].lower()}", **names}
    return names


def _scenario_input(name: str) -> Any:
    """Draw one shared input bound to the URL; its default is Scenario()'s."""
    spec = _spec(name)
    if spec.kind is str:
        names = names_of(name)
        if not names:
            return selectbox(name)
        ids = " ".join(f"{n}: `{i}`." for i, n in names.items())
        help = f"{costmodel.FIELD_HELP[name]}. Ids in the URL: {ids}"
        return named_selectbox(name, names, help=help)
    if spec.kind is bool:
        return toggle(name, LABELS[name], help=costmodel.FIELD_HELP[name])
    if spec.kind is int:
        return number_input(name)
    fmt = f"%.{max(1, -math.floor(math.log10(_STEP[name])))}f"  # step 0.5: %.1f, 0.01: %.2f
    if name == "utilization":
        return slider(name, step=_STEP[name], format=fmt)
    if spec.optional:  # a family default: empty keeps the GPU family's value
        return number_input(name, step=_STEP[name], format=fmt, placeholder="family default")
    return number_input(name, step=_STEP[name], format=fmt)


def field_value(name: str, value: Any) -> Any:
    """A widget's value as the Scenario field holds it ("" of a None choice -> None)."""
    return None if _none_choice(name) and value == _SAME else value


def _build(base: costmodel.Scenario, changes: dict[str, Any]) -> costmodel.Scenario:
    """``base`` with ``changes``, checked as ``evaluate`` would check it (fields that do not
    fit together, such as a prompt beyond the model's context window); on ValueError show
    it and return the default Scenario."""
    try:
        built = dataclasses.replace(base, **changes)
        cache.check_scenario(built)  # with the custom model, if any
        return built
    except ValueError as err:
        st.error(f"Invalid scenario: {literal(str(err))}. Showing the default scenario instead.")
        return DEFAULT


def scenario_sidebar(
    fields: Iterable[str] = SHARED_FIELDS, efficiencies: Iterable[str] = EFFICIENCY_FIELDS
) -> costmodel.Scenario:
    """Declare and draw the shared scenario inputs in the sidebar; return their Scenario.

    Called once per run by app.py, before ``pg.run()``; pages use :func:`scenario`.
    First the custom model (:func:`custom_model`: an upload, or the URL's
    ``custom_model``), so the model selectbox can offer it; then ``fields``, and
    ``efficiencies`` in an "Efficiencies" expander. Fields not drawn keep
    ``costmodel.Scenario()``'s defaults.
    """
    with st.sidebar:
        st.header("Scenario")
        custom_model()
    fields, efficiencies = list(fields), list(efficiencies)
    declare(*(field(name) for name in fields + efficiencies), shared=True)
    with st.sidebar:
        values = {name: field_value(name, _scenario_input(name)) for name in fields}
        # Open on the page that is about them (Validation), folded elsewhere.
        about = st.session_state.get(_PAGE) == "validation"
        with st.expander("Efficiencies", icon=":material/speed:", expanded=about):
            st.caption(
                "Achieved shares of peak and fixed latencies, on every page. Empty = the "
                "GPU family's default (the Validation page lists them)."
            )
            values.update({name: _scenario_input(name) for name in efficiencies})
        preset_buttons(PRESETS, key="preset", reset=fields + efficiencies)
    st.session_state[_SCENARIO] = _build(DEFAULT, values)
    return st.session_state[_SCENARIO]


_UPLOADED = "_ui_uploaded"  # file_id of the upload last turned into the URL's custom model


def custom_model() -> models.CustomModel | None:
    """The sidebar's "Your own model" box: upload a config.json; it travels in the URL.

    A new upload writes ``custom_model`` (``models.encode``) and ``model`` into the URL.
    The URL's ``custom_model`` is read as an upload is (``models.from_url``); a bad one is
    named in the warning and dropped. Sets the session's catalog (``cache.catalog``).
    """
    st.session_state[cache.CUSTOM] = None
    declared()[models.KEY] = gate.Param(models.KEY, "", str)  # read here, not by the gate
    st.session_state.setdefault(_SHARED, set()).add(models.KEY)
    with st.expander("Your own model: upload a config.json", icon=":material/upload:"):
        uploaded = st.file_uploader(
            "config.json",
            type="json",
            key="hf_config",
            help="A Hugging Face config.json (Llama 2-4, Mistral, Mixtral, Qwen2-3.6, DBRX, "
            "DeepSeek-V2-V4.1, Kimi K2-K3, gpt-oss, GLM-4.5/5, MiniMax-M2/M3); at most "
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
                _write(models.KEY, [made.url])
                _write("model", [made.model_id])
        url = st.query_params.get_all(models.KEY)
        if not url:
            return None
        try:
            made = models.from_url(url[-1], cache.base_catalog())
        except ValueError as err:
            _note(models.KEY, url[-1], f"{err}; the catalog's models were used")
            _write(models.KEY, None)
            return None
        st.session_state[cache.CUSTOM] = made.url
        st.caption(f"In the Model list: {literal(made.model_id)}.")
    return made


def scenario(**changes: Any) -> costmodel.Scenario:
    """The sidebar's Scenario for this run, with page-specific ``changes`` applied."""
    base = st.session_state.get(_SCENARIO, DEFAULT)
    return _build(base, changes) if changes else base


# --- Analysis options -------------------------------------------------------------------------


def options_params(
    options_class: type,
    *,
    skip: Iterable[str] = (),
    choices: dict[str, Sequence[str]] | None = None,
    defaults: dict[str, Any] | None = None,
) -> tuple[Param, ...]:
    """Gate Params of an analysis's ``Options`` (``costmodel.analyses.options.specs``).

    One per option not in ``skip``: a flag for a bool, a choice for ``choices`` (a list
    for a tuple-valued option; ``choices`` here add or replace the metadata's, e.g.
    catalog ids), a number in ``[low, high]`` otherwise (empty allowed when optional).
    ``defaults`` replace the metadata's default (e.g. one resolved for the scenario).
    """
    from costmodel.analyses.options import specs

    choices, defaults, made = choices or {}, defaults or {}, []
    for key, meta in specs(options_class).items():
        if key in skip:
            continue
        default = defaults.get(key, meta["default"])
        allowed = choices.get(key, meta.get("choices"))
        if isinstance(meta["default"], bool):
            made.append(gate.flag(key, default))
        elif allowed is not None:
            made.append(
                gate.choice(key, list(default) if isinstance(default, tuple) else default, allowed)
            )
        else:
            made.append(
                gate.number(
                    key, default, meta["low"], meta["high"], integer=meta.get("integer", False)
                )
            )
    return tuple(made)


def options_inputs(
    options_class: type, keys: Iterable[str], containers: Sequence[Any] = (st,), **kwargs: Any
) -> dict[str, Any]:
    """Draw declared options ``keys`` of ``options_class`` (label, help and step from its
    metadata), one per container in turn; return key -> value. A toggle for a flag, a
    multiselect for a list, a radio for two choices, a selectbox for more, else a number.

    ``kwargs``: per key, extra widget arguments (e.g. ``{"change_pct": {"format": "%.0f"}}``).
    """
    from costmodel.analyses.options import specs

    meta_of, values = specs(options_class), {}
    for i, key in enumerate(keys):
        meta, spec, where = meta_of[key], _spec(key), containers[i % len(containers)]
        extra = {"help": meta["help"].replace("$", "\\$"), **kwargs.get(key, {})}
        label = meta["label"]  # as given: it is also the accessible name
        if spec.kind is bool:
            values[key] = toggle(key, label, where, **extra)
        elif spec.many:
            values[key] = multiselect(key, label, where, **extra)
        elif spec.kind is str and len(spec.choices) <= 2:
            values[key] = radio(key, label, where, **extra)
        elif spec.kind is str:
            values[key] = selectbox(key, label, where, **extra)
        else:
            values[key] = number_input(key, label, meta.get("step", 1), where, **extra)
    return values
