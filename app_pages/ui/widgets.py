"""One spec, one widget: :func:`widget` draws a declared input from its ``Spec``; presets, Reset.

Every input is bound to the URL under its name. Numbers are number inputs (or sliders),
flags toggles, lists multiselects, and a choice a selectbox; a choice whose options have
names (a catalog's models, GPUs, formats) or that may be empty is a selectbox that shows
names and keeps ids in the URL (:func:`_named_selectbox`). Label, unit, help, range, step
and default all come from the spec.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import streamlit as st

from app_pages.ui import cache, gate, url
from app_pages.ui.url import NONE_OPTION
from costmodel.spec import BOOL, CHOICE, ENTRIES, INT, Spec

_SYNCED = "_ui_url_synced"  # named selectbox key -> the URL id it last read or wrote
_ABSENT = object()


def _names(spec: Spec) -> dict[str, str]:
    """Option -> shown name of a choice where it differs from the option: the spec's own
    ``names``, a catalog table's ``name`` column, and the None option
    (:data:`url.NONE_OPTION`) saying what it means."""
    shown = dict(spec.names)
    if spec.optional:
        shown[NONE_OPTION] = spec.empty[0].upper() + spec.empty[1:]
    if spec.catalog_table:
        table = getattr(cache.catalog(), spec.catalog_table)
        found = dict(table["name"]) if "name" in table else {}
        shown.update({i: found[i] for i in spec.choices if found.get(i, i) != i})
    return shown


def _help(spec: Spec, help: str | None) -> str:
    """The help text; ``$`` escaped, as Streamlit reads help as Markdown with formulas."""
    return (spec.help if help is None else help).replace("$", "\\$")


def _step_format(step: float) -> str:
    """A number format showing the step's decimals: 0.5 -> %.1f, 0.01 -> %.2f."""
    return f"%.{max(1, -math.floor(math.log10(step)))}f"


def widget(
    key: str,
    container: Any = st,
    *,
    label: str | None = None,
    help: str | None = None,
    style: str | None = None,
    options: Sequence[Any] | None = None,
    names: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw declared input ``key`` (``url.declare``) from its spec; return its value as the
    library takes it (None for an empty choice, tuples for lists).

    ``style``: ``"slider"`` for a number, ``"radio"`` or ``"selectbox"`` for a choice (a
    radio by default for two options);
    ``options``: the only values a number may take (a selectbox of them, e.g. the GPU
    counts a model allows); ``names``: option -> the name shown for a choice (the URL keeps
    the option). ``kwargs`` go to the Streamlit widget (``format=``, ...).
    """
    spec = url.spec(key)
    label = label or spec.labelled
    common = {"key": key, "help": _help(spec, help), **kwargs}
    shown = {**_names(spec), **(names or {})} if spec.kind == CHOICE else {}
    if spec.kind == BOOL:
        drawn = container.toggle(label, value=spec.default, bind="query-params", **common)
    elif spec.kind == CHOICE and (shown or spec.optional or spec.catalog_table and not spec.many):
        drawn = _named(spec, label, container, shown, style, **common)
    elif spec.kind == CHOICE and spec.many:
        drawn = container.multiselect(
            label, spec.choices, default=list(spec.default), bind="query-params", **common
        )
    elif spec.kind == CHOICE:
        radio = style == "radio" or (style is None and len(spec.choices) <= 2)
        draw = container.radio if radio else container.selectbox
        index = spec.choices.index(spec.default)
        drawn = draw(label, spec.choices, index=index, bind="query-params", **common)
    elif options is not None:
        index = options.index(spec.default) if spec.default in options else 0
        drawn = container.selectbox(label, options, index=index, bind="query-params", **common)
    else:
        integer = spec.kind == INT
        cast = int if integer else float
        if not integer:
            common.setdefault("format", _step_format(spec.step))
        if spec.optional:
            common.setdefault("placeholder", spec.empty)
        draw = container.slider if style == "slider" else container.number_input
        drawn = draw(
            label,
            cast(spec.low),
            cast(spec.high),
            spec.default,
            cast(spec.step),
            bind="query-params",
            **common,
        )
    return url.widget_value(key, drawn)


def inputs(
    keys: Iterable[str], containers: Sequence[Any] = (st,), **kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Draw declared inputs ``keys`` with :func:`widget`, one per container in turn;
    ``kwargs``: per key, the widget's extra arguments. Returns key -> value."""
    return {
        key: widget(key, containers[i % len(containers)], **kwargs.get(key, {}))
        for i, key in enumerate(keys)
    }


def _named(
    spec: Spec,
    label: str,
    container: Any,
    shown: Mapping[str, str],
    style: str | None,
    **common: Any,
):
    """A selectbox (a multiselect for a list) that shows names but keeps ids in the URL.

    A bound widget with ``format_func`` would write the shown name into the URL (and
    reject an id there), so this one is not bound: it takes the URL's ids when the URL
    changes (a link, Back or Forward, a menu link) and writes its ids into the URL when
    the user picks (:func:`_sync`; unlike a bound widget's change, that makes a history
    entry). The None option is the empty URL value.
    """
    key = common.pop("key")
    synced = st.session_state.setdefault(_SYNCED, {})
    found = tuple(st.query_params.get_all(key)) or None  # after the gate: valid ids, or ""
    if key not in st.session_state or synced.get(key, _ABSENT) != found:
        value = spec.default if found is None else gate.check(spec, list(found)).value
        st.session_state[key] = _widget_default(dataclasses.replace(spec, default=value))
        synced[key] = found
    show = {"format_func": lambda i: shown.get(i, i), "key": key, "on_change": _sync}
    if spec.many:  # ids a catalog lost (an upload) leave the list
        st.session_state[key] = [v for v in st.session_state[key] if v in spec.choices]
        return container.multiselect(label, spec.choices, args=(key,), **show, **common)
    options = ([NONE_OPTION] if spec.optional else []) + list(spec.choices)
    if st.session_state[key] not in options:  # a catalog that lost the id (an upload)
        st.session_state[key] = _widget_default(spec)
    radio = style == "radio" or (style is None and len(options) <= 2 and not spec.catalog_table)
    draw = container.radio if radio else container.selectbox
    return draw(label, options, args=(key,), **show, **common)


def named_keys() -> set[str]:
    """The keys of the named inputs drawn in this session (not bound to the URL: they write
    their ids themselves)."""
    return set(st.session_state.get(_SYNCED, {}))


def _sync(key: str) -> None:
    """Callback: write a named input's ids into the URL (none for the default)."""
    values = gate.url_values(url.spec(key), url.widget_value(key, st.session_state[key]))
    url.write(key, values)
    st.session_state.setdefault(_SYNCED, {})[key] = None if values is None else tuple(values)


# --- Reset and presets ------------------------------------------------------------------------


def set_values(values: Mapping[str, Any]) -> None:
    """Callback: set widgets' values (the URL follows); a sidebar one makes the
    ``url.fragment`` that drew the button rerun the whole app."""
    for key, value in values.items():
        spec = url.spec(key)
        if key in st.session_state.get(_SYNCED, {}):  # a named input: as its widget holds it
            st.session_state[key] = _widget_default(dataclasses.replace(spec, default=value))
            _sync(key)
            continue
        st.session_state[key] = value
        if spec.kind == ENTRIES:  # rows no widget binds: written here
            url.write(key, gate.url_values(spec, tuple(value)))
    if not url.shared_keys().isdisjoint(values):
        st.session_state[url.APP_RERUN] = True


def defaults(keys: Iterable[str]) -> dict[str, Any]:
    """Key -> default of declared parameters ``keys`` (lists for multiselects)."""
    return {key: _widget_default(url.spec(key)) for key in keys}


def _widget_default(spec: Spec) -> Any:
    """A spec's default as its widget holds it: a list for a list, the None option for a
    choice's None."""
    if spec.many:
        return list(spec.default)
    return NONE_OPTION if spec.default is None and spec.kind == CHOICE else spec.default


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


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


def preset_buttons(
    presets: Mapping[str, Mapping[str, Any]], *, key: str, reset: Sequence[str] = ()
) -> None:
    """One button per preset (it sets exactly its fields) and, with ``reset``, a Reset
    button for those keys. Under them: which preset the inputs now match, if any."""
    for name, values in presets.items():
        st.button(
            name,
            key=f"{key}:{name}",
            on_click=set_values,
            args=(dict(values),),
            width="stretch",
            help=f"Sets {_describe(values)}; every other input keeps its value.",
        )
    if reset:
        reset_button(reset, key=key, help="Restore the inputs in this box to their defaults.")
    matching = [
        name
        for name, values in presets.items()
        if all(url.value(k) == _as_value(v) for k, v in values.items() if k in url.declared())
    ]
    if matching:
        st.caption(f"The inputs match the preset *{matching[0]}*.")


def _as_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def settable(preset: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``preset`` declared in this run (sidebar and page): those a preset
    button on this page can set."""
    known = url.declared()
    return {key: value for key, value in preset.items() if key in known}
